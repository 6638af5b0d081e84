/**
 * remove-orphan-files: deletes the objects under the table's location that nothing of the table reaches
 * (after Iceberg Java's DeleteOrphanFiles): files of commit attempts that never landed, of writers that
 * crashed before committing, of expiries that stopped before their deletes were done, old metadata files.
 *
 * Reached, and so kept:
 *   - every snapshot's manifest list, the manifests it lists and the files they hold as live entries (data
 *     files, position and equality delete files, Puffin deletion-vector files): reachability.ts;
 *   - the current metadata file and those of its metadata log, and `metadata/version-hint.text`;
 *   - the statistics and partition statistics files the metadata lists;
 *   - floe's saved key index for the current snapshot (`floe-pk-index-<snapshot id>.stats`, next to the metadata:
 *     src/worker/worker-core.ts). An index saved for any other snapshot is never loaded again (a worker only
 *     loads the one of the current snapshot), so it is an orphan like any other file.
 *
 * Only objects older than `olderThanMs` go: a commit in flight has written files no snapshot reaches yet (its
 * manifests, its data files, a metadata file the catalog is about to point at), so the margin must exceed the
 * longest commit (Iceberg's default is 3 days). After the listing the table is loaded again and whatever the
 * snapshots committed meanwhile reach is kept too. Paths compare in normalizeLocation's form (s3a:// = s3://).
 */
import { FloeError } from '../errors.js';
import type { LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { statisticsFiles } from '../iceberg/table-metadata.js';
import { normalizeLocation, type FileInfo } from '../io/file-io.js';
import { indexSnapshotPath } from '../worker/worker-core.js';
import { PLAN_LINES_MAX, deleteFiles, filesOf, manifestsOf } from './reachability.js';
import type { MaintainContext, MaintainStepFn, OrphanOptions, StepResult } from './types.js';

/** Deletes in flight at once. */
export const ORPHAN_DELETES_IN_FLIGHT_MAX = 16;
/** Orphans one run collects at most (the next run takes the rest): bounds the memory of a neglected table. */
export const ORPHAN_CANDIDATES_MAX = 1_000_000;

/** What the table reaches, normalized; the snapshots already walked, so a reload only reads the new ones. */
interface Reached {
  readonly paths: Set<string>;
  readonly snapshots: Set<bigint>;
  readonly manifests: Set<string>;
}

async function addReached(table: LoadedTable, into: Reached): Promise<void> {
  const meta = table.metadata;
  const add = (p: string): void => {
    into.paths.add(normalizeLocation(p));
  };
  add(table.metadataLocation);
  for (const e of meta.metadataLog) add(e.metadataFile);
  add(`${meta.location}/metadata/version-hint.text`);
  for (const f of statisticsFiles(meta)) add(f.path);
  if (meta.currentSnapshotId !== null) add(indexSnapshotPath(meta.location, String(meta.currentSnapshotId)));
  const fresh = meta.snapshots.filter((s) => !into.snapshots.has(s.snapshotId));
  for (const s of fresh) add(s.manifestList);
  const manifests = [...(await manifestsOf(table.io, fresh))].filter(([k]) => !into.manifests.has(k));
  const live = new Map<string, string>();
  await filesOf(table.io, manifests.map(([, m]) => m), live);
  for (const [k] of manifests) {
    into.manifests.add(k);
    into.paths.add(k);
  }
  for (const k of live.keys()) into.paths.add(k);
  for (const s of fresh) into.snapshots.add(s.snapshotId);
}

export const removeOrphanFiles: MaintainStepFn<OrphanOptions> = async (ctx: MaintainContext, opts: OrphanOptions): Promise<StepResult> => {
  const name = identifierToString(ctx.id);
  const result = { step: 'remove-orphan-files', snapshotIds: [], filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0, snapshotsExpired: 0 } as const;
  if (!(opts.olderThanMs >= 0)) throw new FloeError('config_invalid', `remove-orphan-files: olderThanMs must be a non-negative age, got ${opts.olderThanMs}`);
  const table = await ctx.catalog.loadTable(ctx.id);
  const location = table.metadata.location.replace(/\/+$/, '');
  if (location === '') throw new FloeError('metadata_invalid', `table ${name} has no location: nothing to list`);
  const reached: Reached = { paths: new Set(), snapshots: new Set(), manifests: new Set() };
  await addReached(table, reached);

  const cutoffMs = ctx.nowMs - opts.olderThanMs;
  const candidates: FileInfo[] = [];
  let truncated = false;
  for await (const f of table.io.list(`${location}/`)) {
    if (ctx.signal?.aborted === true) return { ...result, filesDeleted: 0 };
    if (f.path.endsWith('/') || !(f.lastModifiedMs < cutoffMs) || reached.paths.has(normalizeLocation(f.path))) continue;
    if (candidates.length >= ORPHAN_CANDIDATES_MAX) {
      truncated = true;
      break;
    }
    candidates.push(f);
  }
  // Commits that landed while the listing ran: what their snapshots reach is no orphan either.
  await addReached(await ctx.catalog.loadTable(ctx.id), reached);
  const orphans = candidates.filter((f) => !reached.paths.has(normalizeLocation(f.path)));
  const bytes = orphans.reduce((a, f) => a + f.sizeBytes, 0);

  if (ctx.dryRun) {
    const lines = [`${name}: ${orphans.length} orphan file(s), ${bytes} bytes, older than ${new Date(cutoffMs).toISOString()}${truncated ? ` (the first ${ORPHAN_CANDIDATES_MAX}; more next run)` : ''}`];
    for (const f of orphans) {
      if (lines.length >= PLAN_LINES_MAX - 1) {
        lines.push(`... and ${orphans.length - (PLAN_LINES_MAX - 2)} more`);
        break;
      }
      lines.push(`delete ${f.path} (${f.sizeBytes} bytes, ${new Date(f.lastModifiedMs).toISOString()})`);
    }
    return { ...result, filesDeleted: 0, plan: lines };
  }
  ctx.progress?.({ table: name, step: 'remove-orphan-files', done: 0, total: orphans.length, unit: 'files' });
  const out = await deleteFiles(table.io, orphans.map((f) => f.path), {
    inFlightMax: ORPHAN_DELETES_IN_FLIGHT_MAX,
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
    ...(ctx.progress !== undefined ? { onDone: (done: number) => ctx.progress?.({ table: name, step: 'remove-orphan-files', done, total: orphans.length, unit: 'files' }) } : {}),
  });
  if (out.failed > 0) process.emitWarning(`${name}: remove-orphan-files could not delete ${out.failed} file(s), e.g. ${out.firstFailure ?? ''}`);
  return { ...result, filesDeleted: out.deleted };
};
