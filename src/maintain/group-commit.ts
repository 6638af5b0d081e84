/**
 * How a rewrite step commits one group: validate, then commit exactly on the snapshot validated.
 *
 * A group is read from snapshot S and replaces files of S. Before each commit round the table is reloaded and
 * everything committed since S is checked against the group (table-files.ts `changesSince`, the step's
 * `conflict` rule: Iceberg's validateNoNewDeletesForDataFiles and kin). The transaction's attempt hook then
 * refuses any base other than the one validated, so a commit that lands between validation and our CAS sends
 * the group back to validation instead of being committed unchecked; a 409 does the same. A conflict drops the
 * group for this run (its files are deleted, the next run plans again); it is never committed with a concurrent
 * delete lost. Rounds are bounded by `attemptsMax`.
 */
import type { LoadedTable } from '../catalog/catalog.js';
import type { DeletionVectorFiles } from '../config/config.js';
import { COMMIT_DEFAULTS, Transaction } from '../commit/transaction.js';
import { FloeError } from '../errors.js';
import type { DataFile } from '../iceberg/data-file.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import type { TableMetadata } from '../iceberg/table-metadata.js';
import { backoffSleep } from '../retry.js';
import type { WriterSettings } from '../writer/file-writer.js';
import { parseCodec, PARQUET_DEFAULTS, type ParquetCodec } from '../writer/parquet.js';
import { deleteFiles } from './reachability.js';
import { changesSince, type Changes, type TableFiles } from './table-files.js';
import type { MaintainContext, MaintainStep, StepResult } from './types.js';

/** Iceberg table properties a rewrite honours when writing (spec: "Table Properties", write.*). */
const PROP_CODEC = 'write.parquet.compression-codec';
const PROP_TARGET_FILE_SIZE = 'write.target-file-size-bytes';
/** Written files of a dropped group deleted at once. */
const CLEANUP_DELETES_IN_FLIGHT_MAX = 8;
/** Target size of the delete files a step writes when the table sets none (floe's data file default). */
export const TARGET_FILE_SIZE_BYTES_DEFAULT = 512 * 1024 * 1024;
/** Validation rounds of a delete step's group commit (RewriteDeletesOptions has no setting for it). */
export const DELETE_COMMIT_ATTEMPTS_MAX = 4;
/** Summary property naming the maintenance step that committed a snapshot. */
export const SUMMARY_STEP_KEY = 'floe.maintain.step';

export type GroupOutcome =
  | { readonly kind: 'committed'; readonly snapshot: Snapshot }
  | { readonly kind: 'conflict'; readonly reason: string };

export interface GroupCommit {
  readonly ctx: MaintainContext;
  readonly step: MaintainStep;
  /** The snapshot the group was planned on and read from. */
  readonly readSnapshotId: bigint;
  /** Validation rounds before the group is dropped. */
  readonly attemptsMax: number;
  /** Files the group wrote (data or delete files): deleted when it is dropped. */
  readonly written: readonly string[];
  /** Adds the group's changes to a transaction (operation `replace`). */
  readonly build: (tx: Transaction) => void;
  /** Why what was committed since the read snapshot conflicts with the group, or null. */
  readonly conflict: (changes: Changes, table: LoadedTable) => Promise<string | null>;
}

export async function commitGroup(g: GroupCommit): Promise<GroupOutcome> {
  let last = '';
  for (let round = 1; round <= g.attemptsMax; round++) {
    if (round > 1) await backoffSleep(round - 1, { baseMs: COMMIT_DEFAULTS.backoffBaseMs, maxMs: COMMIT_DEFAULTS.backoffMaxMs });
    const table = await g.ctx.catalog.loadTable(g.ctx.id);
    const changes = await changesSince(table, g.readSnapshotId);
    const reason = changes.ancestor ? await g.conflict(changes, table) : `snapshot ${g.readSnapshotId} the group was read from is no longer in main's history`;
    if (reason !== null) {
      await removeWritten(table, g.written);
      return { kind: 'conflict', reason };
    }
    const validated = table.metadata.currentSnapshotId;
    const tx = new Transaction(g.ctx.catalog, table).setOperation('replace').setSummary(SUMMARY_STEP_KEY, g.step);
    g.build(tx);
    tx.onAttempt((base: TableMetadata) => {
      if (base.currentSnapshotId !== validated) {
        throw new FloeError('commit_conflict', `main moved from snapshot ${String(validated)} to ${String(base.currentSnapshotId)} after the group was validated`);
      }
      return {};
    });
    try {
      const res = await tx.commit();
      if (res.snapshot === null) throw new FloeError('assertion_failed', 'a rewrite group commit produced no snapshot');
      return { kind: 'committed', snapshot: res.snapshot };
    } catch (e) {
      // Refused (409, our hook, a file no longer live): validate again on the new state. Anything else (commit
      // state unknown above all: the snapshot may have landed with our files) goes up, the files kept.
      if (!(e instanceof FloeError) || !(e.retry === 'conflict' || e.code === 'commit_retries_exhausted' || e.code === 'commit_targets_gone')) throw e;
      last = e.message;
    }
  }
  await removeWritten(await g.ctx.catalog.loadTable(g.ctx.id), g.written);
  return { kind: 'conflict', reason: `still refused after ${g.attemptsMax} validated attempts: ${last}` };
}

/** Deletes the files of a dropped group (best effort: what is left is an orphan for remove-orphan-files). */
async function removeWritten(table: LoadedTable, paths: readonly string[]): Promise<void> {
  const out = await deleteFiles(table.io, paths, { inFlightMax: CLEANUP_DELETES_IN_FLIGHT_MAX });
  if (out.failed > 0) process.emitWarning(`maintenance: ${out.failed} file(s) of a dropped rewrite group could not be deleted (orphans), e.g. ${out.firstFailure ?? ''}`);
}

/** Where and how a rewrite writes: the table's write.* properties over the given defaults. */
export function writerSettingsFor(table: LoadedTable, targetFileSizeBytes: number): WriterSettings {
  const props = table.metadata.properties;
  const codecProp = props[PROP_CODEC];
  const codec: ParquetCodec = codecProp !== undefined ? parseCodec(codecProp, `table property ${PROP_CODEC}`) : PARQUET_DEFAULTS.codec;
  const sizeProp = props[PROP_TARGET_FILE_SIZE];
  const target = sizeProp !== undefined && /^\d+$/.test(sizeProp) && Number(sizeProp) > 0 ? Number(sizeProp) : targetFileSizeBytes;
  return { io: table.io, dataLocation: `${table.metadata.location}/data`, codec, targetFileSizeBytes: target };
}

/**
 * Where a step writes deletion vectors: where the table's vectors already are. floe's committer puts them under
 * `metadata/` (as `.stats`) for stores that refuse other file types there (commit.deletionVectorFiles), and
 * maintenance is not told that setting: the vectors of the table say it.
 */
export function vectorPlacement(files: TableFiles): DeletionVectorFiles {
  return files.vectors.some((e) => e.dataFile.filePath.includes('/metadata/')) ? 'metadata/*.stats' : 'data/*.puffin';
}

/** A partition for plan lines: `name=value/...`, or `unpartitioned`. */
export function partitionLabel(spec: PartitionSpec | undefined, f: DataFile): string {
  if (spec === undefined || spec.isUnpartitioned) return 'unpartitioned';
  return spec.fields
    .map((pf, i) => {
      const v = f.partition[i] ?? null;
      return `${pf.name}=${v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v)}`;
    })
    .join('/');
}

/** Sum of file sizes. */
export function bytesOf(files: readonly DataFile[]): number {
  return files.reduce((a, f) => a + Number(f.fileSizeInBytes), 0);
}

/** Accumulates a step's result. */
export class StepTally {
  readonly snapshotIds: bigint[] = [];
  readonly plan: string[] = [];
  filesIn = 0;
  filesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  groupsPlanned = 0;
  groupsCommitted = 0;
  groupsConflicted = 0;

  constructor(readonly step: MaintainStep, readonly dryRun: boolean) {}

  result(): StepResult {
    return {
      step: this.step,
      snapshotIds: [...this.snapshotIds],
      filesIn: this.filesIn,
      filesOut: this.filesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      groupsPlanned: this.groupsPlanned,
      groupsCommitted: this.groupsCommitted,
      groupsConflicted: this.groupsConflicted,
      ...(this.dryRun || this.plan.length > 0 ? { plan: [...this.plan] } : {}),
    };
  }

  /** Counts a committed snapshot's added and removed files from its summary (the deletion vectors the transaction wrote included). */
  committed(snapshot: Snapshot): void {
    const n = (k: string): number => Number(snapshot.summary[k] ?? '0');
    this.snapshotIds.push(snapshot.snapshotId);
    this.groupsCommitted++;
    this.filesIn += n('deleted-data-files') + n('removed-delete-files');
    this.filesOut += n('added-data-files') + n('added-delete-files');
    this.bytesIn += n('removed-files-size');
    this.bytesOut += n('added-files-size');
  }
}
