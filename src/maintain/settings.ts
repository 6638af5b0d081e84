/**
 * What a maintenance run needs from the config (the `maintenance` section and each table's `maintenance`
 * option), and each table's options after its own properties are applied: Iceberg's actions read their defaults
 * from the table (write.target-file-size-bytes, commit.manifest.target-size-bytes, history.expire.*, gc.enabled),
 * and a table written by Spark carries what its owner chose; a table's own setting wins over floe's config.
 */
import type { FloeConfig, MaintenanceMode } from '../config/config.js';
import type { ExpireOptions, MaintainStep, OrphanOptions, RewriteDataOptions, RewriteDeletesOptions, RewriteManifestsOptions } from './types.js';

export interface MaintenanceSettings {
  /** Whether `floe run` maintains tables in the background (`floe maintain` runs when asked). */
  readonly enabled: boolean;
  /** The background task maintains a table again once its last run is this old. */
  readonly intervalMs: number;
  /** Time a run may take (ms), its steps aborted between groups when spent; null: no budget. */
  readonly budgetMs: number | null;
  /** Which steps run. */
  readonly steps: Readonly<Record<MaintainStep, boolean>>;
  readonly rewriteData: Omit<RewriteDataOptions, 'minFileSizeBytes'> & { readonly minFileSizeRatio: number };
  readonly rewriteDeletes: RewriteDeletesOptions;
  readonly manifests: RewriteManifestsOptions;
  readonly expire: ExpireOptions;
  readonly orphans: OrphanOptions;
  /** Who maintains a table (`namespace.table`): floe, or its own service (`managed`: floe never touches it). */
  readonly mode: (table: string) => MaintenanceMode;
}

/** The settings of a validated config; `budgetMs` is the background run's (`floe maintain` replaces it). */
export function maintenanceSettings(cfg: FloeConfig): MaintenanceSettings {
  const m = cfg.maintenance;
  return {
    enabled: m.enabled,
    intervalMs: m.intervalMs,
    budgetMs: m.budgetMs,
    steps: {
      'convert-equality-deletes': m.rewriteDeletes.enabled && m.rewriteDeletes.convertEqualityDeletes,
      'rewrite-data-files': m.rewriteData.enabled,
      'rewrite-position-deletes': m.rewriteDeletes.enabled,
      'rewrite-manifests': m.manifests.enabled,
      'expire-snapshots': m.expire.enabled,
      'remove-orphan-files': m.orphans.enabled,
    },
    rewriteData: {
      targetFileSizeBytes: m.rewriteData.targetFileSizeBytes,
      minFileSizeRatio: m.rewriteData.minFileSizeRatio,
      deleteRatioMin: m.rewriteData.deleteRatioMin,
      minInputFiles: m.rewriteData.minInputFiles,
      groupBytesMax: m.rewriteData.groupBytesMax,
      runBytesMax: m.rewriteData.runBytesMax,
      commitAttemptsMax: m.rewriteData.commitAttemptsMax,
    },
    rewriteDeletes: { minInputFiles: m.rewriteDeletes.minInputFiles },
    manifests: { targetManifestBytes: m.manifests.targetManifestBytes, minManifests: m.manifests.minManifests },
    expire: { olderThanMs: m.expire.olderThanMs, keepLast: m.expire.keepLast },
    orphans: { olderThanMs: m.orphans.olderThanMs },
    mode: (table) => cfg.tables.overrides[table]?.maintenance ?? cfg.tables.defaults.maintenance,
  };
}

/** The options each step gets for one table. */
export interface TableStepOptions {
  readonly rewriteData: RewriteDataOptions;
  readonly rewriteDeletes: RewriteDeletesOptions;
  readonly manifests: RewriteManifestsOptions;
  readonly expire: ExpireOptions;
  readonly orphans: OrphanOptions;
  /**
   * Iceberg's `gc.enabled` (default true). False: the table's files may be shared with other tables (a table
   * registered over another's files, a snapshot of a branch elsewhere), so Iceberg's ExpireSnapshots and
   * DeleteOrphanFiles refuse to run, and so does floe.
   */
  readonly gcEnabled: boolean;
}

/** Table properties Iceberg's actions take their defaults from. */
export const TABLE_PROPERTIES = Object.freeze({
  targetFileSizeBytes: 'write.target-file-size-bytes',
  targetManifestBytes: 'commit.manifest.target-size-bytes',
  maxSnapshotAgeMs: 'history.expire.max-snapshot-age-ms',
  minSnapshotsToKeep: 'history.expire.min-snapshots-to-keep',
  gcEnabled: 'gc.enabled',
});

/** A property holding a positive integer, else undefined (an unparsable value is ignored: the config's applies). */
function positiveInt(properties: Readonly<Record<string, string>>, key: string): number | undefined {
  const v = properties[key]?.trim();
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The settings with the table's own properties applied. */
export function tableStepOptions(settings: MaintenanceSettings, properties: Readonly<Record<string, string>>): TableStepOptions {
  const rd = settings.rewriteData;
  const target = positiveInt(properties, TABLE_PROPERTIES.targetFileSizeBytes) ?? rd.targetFileSizeBytes;
  return {
    rewriteData: {
      targetFileSizeBytes: target,
      minFileSizeBytes: Math.floor(target * rd.minFileSizeRatio),
      deleteRatioMin: rd.deleteRatioMin,
      minInputFiles: rd.minInputFiles,
      // A group still fills at least one output file when the table's target is above the configured group size.
      groupBytesMax: Math.max(rd.groupBytesMax, target),
      runBytesMax: Math.max(rd.runBytesMax, rd.groupBytesMax, target),
      commitAttemptsMax: rd.commitAttemptsMax,
    },
    rewriteDeletes: settings.rewriteDeletes,
    manifests: { ...settings.manifests, targetManifestBytes: positiveInt(properties, TABLE_PROPERTIES.targetManifestBytes) ?? settings.manifests.targetManifestBytes },
    expire: {
      olderThanMs: positiveInt(properties, TABLE_PROPERTIES.maxSnapshotAgeMs) ?? settings.expire.olderThanMs,
      keepLast: positiveInt(properties, TABLE_PROPERTIES.minSnapshotsToKeep) ?? settings.expire.keepLast,
    },
    orphans: settings.orphans,
    gcEnabled: (properties[TABLE_PROPERTIES.gcEnabled] ?? 'true').trim().toLowerCase() !== 'false',
  };
}
