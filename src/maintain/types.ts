/**
 * Table maintenance (`floe maintain`, and the background task of `floe run`): the steps it runs on a table and
 * what each reports. A room beside the data path: it reads and commits tables through the same catalog and
 * Transaction as the committer, with the conflict rules of Iceberg's own actions (RewriteDataFiles,
 * RewritePositionDeleteFiles, RewriteManifests, ExpireSnapshots, DeleteOrphanFiles), so streaming commits keep
 * landing while it runs and nothing is lost or resurrected.
 */
import type { Catalog, TableIdentifier } from '../catalog/catalog.js';

/** The steps, in the order one maintenance run takes them. */
export const MAINTAIN_STEPS = [
  'convert-equality-deletes',
  'rewrite-data-files',
  'rewrite-position-deletes',
  'rewrite-manifests',
  'expire-snapshots',
  'remove-orphan-files',
] as const;
export type MaintainStep = (typeof MAINTAIN_STEPS)[number];

export interface MaintainProgress {
  readonly table: string;
  readonly step: MaintainStep;
  readonly done: number;
  readonly total: number;
  readonly unit: 'files' | 'groups' | 'bytes' | 'snapshots';
}

export interface MaintainContext {
  readonly catalog: Catalog;
  readonly id: TableIdentifier;
  /** Plan and report, write and commit nothing. */
  readonly dryRun: boolean;
  /** The clock (ms since the epoch): expiry and orphan ages are measured against it. */
  readonly nowMs: number;
  readonly progress?: (p: MaintainProgress) => void;
  /** Aborted when the run's time budget is spent: a step stops between groups, never inside a commit. */
  readonly signal?: AbortSignal;
}

export interface StepResult {
  readonly step: MaintainStep;
  /** Snapshots this step committed (none under dry-run). */
  readonly snapshotIds: readonly bigint[];
  /** Files read and replaced (data, delete or manifest files, by step), and the files written instead. */
  readonly filesIn: number;
  readonly filesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Snapshots expired, files deleted from storage (expiry, orphans). */
  readonly snapshotsExpired?: number;
  readonly filesDeleted?: number;
  /** Groups planned, committed, and dropped because a concurrent commit conflicted with them (retried next run). */
  readonly groupsPlanned?: number;
  readonly groupsCommitted?: number;
  readonly groupsConflicted?: number;
  /** Under dry-run: what would be done, one line each. */
  readonly plan?: readonly string[];
}

export interface RewriteDataOptions {
  /** Output files roll at this size (the table's write.target-file-size-bytes, else floe's). */
  readonly targetFileSizeBytes: number;
  /** A file smaller than this is rewritten (default 0.75 × target). */
  readonly minFileSizeBytes: number;
  /** A file whose deleted fraction (position deletes, vectors, equality deletes) reaches this is rewritten. */
  readonly deleteRatioMin: number;
  /** A partition's group is rewritten only when it has at least this many candidate files, or any deletes. */
  readonly minInputFiles: number;
  /** One group (one commit) reads at most this many bytes. */
  readonly groupBytesMax: number;
  /** One run rewrites at most this many input bytes (the budget), largest win first. */
  readonly runBytesMax: number;
  /** Attempts of one group's commit against concurrent commits before the group is dropped for this run. */
  readonly commitAttemptsMax: number;
}

export interface RewriteDeletesOptions {
  /** A partition's position delete files are merged into one when it has at least this many. */
  readonly minInputFiles: number;
}

export interface RewriteManifestsOptions {
  readonly targetManifestBytes: number;
  /** Rewrite when the current snapshot has at least this many manifests. */
  readonly minManifests: number;
}

export interface ExpireOptions {
  /** Snapshots older than this age (ms) are expired, keeping at least `keepLast` and always the current one. */
  readonly olderThanMs: number;
  readonly keepLast: number;
}

export interface OrphanOptions {
  /** Only files older than this (ms) are removed: never a file of a commit still in flight. */
  readonly olderThanMs: number;
}

export type MaintainStepFn<O> = (ctx: MaintainContext, opts: O) => Promise<StepResult>;
