/**
 * A table transaction: one snapshot that adds data files and delete files (append / overwrite / delete),
 * removes data files, and carries schema and property updates in the same atomic catalog commit.
 *
 * Commit loop (after iceberg-go and Java's SnapshotProducer):
 *   - manifests of the added files are written once; ADDED entries inherit the sequence number, so they are
 *     reused on every attempt; only the manifest list is rewritten with the new sequence number;
 *   - requirement `assert-ref-snapshot-id(main = parent)` makes the commit a compare-and-set;
 *   - 409 → reload, re-validate (removed files and data files referenced by position deletes must still be
 *     live), re-apply, retry with backoff, bounded by `commitAttemptsMax`;
 *   - commit state unknown (5xx, timeout) → reload and look for our snapshot id: if it landed we are done;
 *     if not, the retry carries the same snapshot id and a CAS on the parent, so at most one of the two
 *     attempts can ever land: never a duplicate snapshot;
 *   - files of attempts that cannot land are deleted (best effort): after a success, every other attempt's
 *     (they carry the same snapshot id, now taken); after a failure, those of attempts the catalog refused or
 *     that can no longer land, and the manifests all attempts share once none may land. An attempt whose
 *     outcome is unknown keeps its files until a reload proves it did not land (main moved past its parent
 *     and our snapshot is not in the table): deleting the files of a snapshot that lands would break the table.
 *
 * This module holds the transaction's builder and the attempt loop; each attempt's parts are made by
 * commit-validation (re-validation against the base), deletion-vector-merge, manifest-writes (added, rewritten
 * and merged manifests), snapshot-summary (operation and summary) and attempt-files (which files to clean up).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FloeError, assert } from '../errors.js';
import { backoffMs, sleep } from '../retry.js';
import { DataFileContent, deleteFileKey, type DataFile } from '../iceberg/data-file.js';
import { writeManifestListWithRowIds, type ManifestFile } from '../iceberg/manifest.js';
import { normalizePositions, unionPositions } from '../iceberg/deletion-vector.js';
import type { DeletionVectorFiles } from '../config/config.js';
import type { Schema } from '../iceberg/schema.js';
import { MAIN_BRANCH, type Snapshot, type SnapshotOperation } from '../iceberg/snapshot.js';
import {
  currentSchema,
  currentSnapshot,
  type TableMetadata,
  type TableRequirement,
  type TableUpdate,
} from '../iceberg/table-metadata.js';
import type { Catalog, LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { AttemptFiles, removeFiles, type Attempt } from './attempt-files.js';
import { ManifestCache, mergeManifests, writeAddedManifests, type AttemptWriter } from './manifest-writes.js';
import { applyToBase, assertDeletesFound, removesDeleteOf } from './commit-validation.js';
import { writeDeletionVectors } from './deletion-vector-merge.js';
import { snapshotOperation, snapshotSummary } from './snapshot-summary.js';

export { MANIFEST_DEFAULTS } from './manifest-writes.js';

export const COMMIT_DEFAULTS = Object.freeze({
  commitAttemptsMax: 10,
  backoffBaseMs: 100,
  backoffMaxMs: 10_000,
  /** Attempts to reload the table to resolve an unknown commit state. */
  stateCheckAttemptsMax: 5,
});

/**
 * Errors by which the catalog said it did not apply a commit: 409 / failed CAS, 400 / 422, 401 / 403, 404. Any
 * other failure of `commitTable` (5xx, a lost response, a response that cannot be read after the commit was
 * applied, an unclassified error) leaves the outcome unknown.
 */
const REFUSED: ReadonlySet<string> = new Set(['commit_conflict', 'catalog_bad_request', 'catalog_auth_failed', 'catalog_not_found']);

export interface CommitOptions {
  readonly commitAttemptsMax?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** What an attempt hook adds to the commit on top of the base it was given. */
export interface AttemptChanges {
  /** Snapshot summary properties. */
  readonly summary?: Readonly<Record<string, string>>;
  /** Table properties, set in the same commit (over those of setProperties). */
  readonly properties?: Readonly<Record<string, string>>;
}

export interface CommitResult {
  readonly table: LoadedTable;
  readonly snapshot: Snapshot | null;
  readonly attempts: number;
  /** Attempts that did not land and were made again, by why. */
  readonly retries: Readonly<Partial<Record<RetryCause, number>>>;
}

/**
 * Why a commit attempt was made again:
 *   - `concurrent_commit`: the catalog refused it (409) because another writer moved main first (another floe
 *     replica, a compaction, Spark);
 *   - `schema_changed`: refused (409) because the table's schema changed meanwhile;
 *   - `base_expired`: the snapshot it was built on was expired and its files deleted before it was sent;
 *   - `state_unknown`: its answer was lost (5xx, timeout): the next attempt first looks whether it landed.
 */
export type RetryCause = 'concurrent_commit' | 'schema_changed' | 'base_expired' | 'state_unknown';

export function newSnapshotId(): bigint {
  // Positive 63-bit ids, as Java generates them.
  return BigInt.asUintN(63, randomBytes(8).readBigUInt64BE());
}

export class Transaction {
  private readonly addedData: DataFile[] = [];
  private readonly addedDeletes: DataFile[] = [];
  private readonly removedDataPaths = new Set<string>();
  /** Delete files to remove, by deleteFileKey (a Puffin file may hold several vectors). */
  private readonly removedDeleteKeys = new Set<string>();
  private readonly requiredDataPaths = new Set<string>();
  private readonly propertyUpdates: Record<string, string> = {};
  private readonly propertyRemovals = new Set<string>();
  private schemaChange: ((current: Schema) => Schema | null) | null = null;
  private readonly summaryExtra: Record<string, string> = {};
  private readonly manifestCache = new ManifestCache();
  private operationOverride: SnapshotOperation | null = null;
  private removeAll = false;
  private force = false;
  private attemptHook: ((base: TableMetadata) => AttemptChanges) | null = null;
  private committed = false;
  /** Deleted row positions per data file, committed as deletion vectors (v3). */
  private readonly deletedPositions = new Map<string, Float64Array>();
  private dvFiles: DeletionVectorFiles = 'data/*.puffin';
  private dvsPerFileMax = 1;
  /** The files every attempt wrote, and what is known of each attempt's fate. */
  private readonly files = new AttemptFiles();

  /**
   * The id every attempt of this transaction commits its snapshot under: whoever sees it in the table later
   * knows this transaction landed (the way an unknown commit state is resolved, here and after an outage).
   */
  readonly snapshotId = newSnapshotId();

  constructor(
    private readonly catalog: Catalog,
    private table: LoadedTable,
  ) {}

  get base(): LoadedTable {
    return this.table;
  }

  addDataFiles(files: readonly DataFile[]): this {
    for (const f of files) {
      if (f.content !== DataFileContent.DATA) throw new FloeError('value_invalid', `addDataFiles: ${f.filePath} is a delete file`);
      this.addedData.push(f);
    }
    return this;
  }

  /** Position and equality delete files. Position deletes should name the data files they touch via `requireDataFiles`. */
  addDeleteFiles(files: readonly DataFile[]): this {
    for (const f of files) {
      if (f.content === DataFileContent.DATA) throw new FloeError('value_invalid', `addDeleteFiles: ${f.filePath} is a data file`);
      if (f.content === DataFileContent.EQUALITY_DELETES && (f.equalityIds === undefined || f.equalityIds.length === 0)) {
        throw new FloeError('value_invalid', `equality delete file ${f.filePath} has no equality_ids`);
      }
      this.addedDeletes.push(f);
    }
    return this;
  }

  /** Removes data files (overwrite / delete of whole files). They must be live at commit time. */
  removeDataFiles(paths: Iterable<string>): this {
    for (const p of paths) this.removedDataPaths.add(p);
    return this;
  }

  /**
   * Removes delete files (position delete files, deletion vectors, equality delete files): those a rewrite made
   * dangling or replaced with others. They must be live at commit time. A data file's vector removed here is not
   * merged into a new vector for it (addDeletionVectors then carries every position the file keeps).
   */
  removeDeleteFiles(files: readonly DataFile[]): this {
    for (const f of files) {
      if (f.content === DataFileContent.DATA) throw new FloeError('value_invalid', `removeDeleteFiles: ${f.filePath} is a data file`);
      this.removedDeleteKeys.add(deleteFileKey(f));
    }
    return this;
  }

  /**
   * Deletes rows by position through deletion vectors (v3 tables; spec: "Deletion Vectors"). At commit time each
   * target file's vector is merged with the one the table already has for it (and with any v2 position delete
   * files that apply to it), and the old vector is removed in the same snapshot, so a data file has at most one.
   * The target files must still be live.
   */
  addDeletionVectors(positions: Iterable<readonly [string, Float64Array]>): this {
    for (const [path, p] of positions) {
      const prev = this.deletedPositions.get(path);
      this.deletedPositions.set(path, prev === undefined ? normalizePositions(p) : unionPositions(prev, normalizePositions(p)));
      this.requiredDataPaths.add(path);
    }
    return this;
  }

  /**
   * Where deletion vector Puffin files are written (see DeletionVectorFiles), and how many vectors one Puffin file
   * holds at most (1: a file per vector, which every reader handles; DuckDB 1.5.5 misreads files holding several).
   */
  deletionVectorFiles(where: DeletionVectorFiles, perFileMax = 1): this {
    assert(Number.isInteger(perFileMax) && perFileMax >= 1, 'deletion vectors per file must be a positive integer', { perFileMax });
    this.dvFiles = where;
    this.dvsPerFileMax = perFileMax;
    return this;
  }

  /** Data files that must still be live when the commit lands (targets of position deletes). */
  requireDataFiles(paths: Iterable<string>): this {
    for (const p of paths) this.requiredDataPaths.add(p);
    return this;
  }

  setProperties(updates: Readonly<Record<string, string>>): this {
    Object.assign(this.propertyUpdates, updates);
    return this;
  }

  removeProperties(keys: Iterable<string>): this {
    for (const k of keys) this.propertyRemovals.add(k);
    return this;
  }

  /** Schema evolution, re-applied to the current schema on every attempt; return null for "no change". */
  updateSchema(change: (current: Schema) => Schema | null): this {
    this.schemaChange = change;
    return this;
  }

  setSummary(key: string, value: string): this {
    this.summaryExtra[key] = value;
    return this;
  }

  /** Commit a snapshot even with no file changes (it carries summary properties, e.g. Kafka offsets). */
  forceSnapshot(): this {
    this.force = true;
    return this;
  }

  /** Removes every live data and delete file (a source TRUNCATE); files added by this transaction stay. */
  truncateAll(): this {
    this.removeAll = true;
    return this;
  }

  /**
   * Runs before every attempt that produces a snapshot, against the table state it will commit on top of;
   * returns summary properties for the snapshot and table properties for the same commit (e.g. the Kafka
   * offsets it covers, merged with what the base holds), or throws to abort (e.g. fenced by another writer).
   */
  onAttempt(hook: (base: TableMetadata) => AttemptChanges): this {
    this.attemptHook = hook;
    return this;
  }

  setOperation(op: SnapshotOperation): this {
    this.operationOverride = op;
    return this;
  }

  private get producesSnapshot(): boolean {
    return this.addedData.length > 0 || this.addedDeletes.length > 0 || this.deletedPositions.size > 0 || this.removedDataPaths.size > 0 || this.removedDeleteKeys.size > 0 || this.removeAll || this.force;
  }

  async commit(opts: CommitOptions = {}): Promise<CommitResult> {
    assert(!this.committed, 'a transaction commits once');
    const snapshotId = this.snapshotId;
    let res: CommitResult;
    try {
      res = await this.commitAttempts(opts, snapshotId);
    } catch (e) {
      await removeFiles(this.table, this.files.garbage(this.committed, null));
      throw e;
    }
    await removeFiles(this.table, this.files.garbage(this.committed, res.snapshot));
    return res;
  }

  private async commitAttempts(opts: CommitOptions, snapshotId: bigint): Promise<CommitResult> {
    const attemptsMax = opts.commitAttemptsMax ?? COMMIT_DEFAULTS.commitAttemptsMax;
    let newManifests: ManifestFile[] | null = null;
    let stateUnknown = false;
    let lastError: unknown = null;
    const retries: Partial<Record<RetryCause, number>> = {};
    const retried = (cause: RetryCause): void => {
      retries[cause] = (retries[cause] ?? 0) + 1;
    };
    /** The metadata an attempt the catalog refused (409) was built on: what changed tells why, after the reload. */
    let refusedOn: TableMetadata | null = null;
    for (let attempt = 1; attempt <= attemptsMax; attempt++) {
      if (attempt > 1) {
        await sleep(backoff(attempt - 1, opts));
        this.table = await this.reload();
        if (refusedOn !== null) {
          retried(this.table.metadata.currentSchemaId !== refusedOn.currentSchemaId ? 'schema_changed' : 'concurrent_commit');
          refusedOn = null;
        }
        if (stateUnknown) {
          const landed = this.table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
          if (landed !== undefined) {
            this.committed = true;
            return { table: this.table, snapshot: landed, attempts: attempt - 1, retries };
          }
          this.files.settleUnknown(this.table.metadata.currentSnapshotId);
        }
      }
      const base = this.table.metadata;
      const requirements: TableRequirement[] = [{ type: 'assert-table-uuid', uuid: base.tableUuid }];
      const updates: TableUpdate[] = [];
      let schema = currentSchema(base);
      if (this.schemaChange !== null) {
        const next = this.schemaChange(schema);
        if (next !== null && !next.sameStructure(schema)) {
          requirements.push({ type: 'assert-current-schema-id', 'current-schema-id': base.currentSchemaId });
          requirements.push({ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': base.lastColumnId });
          updates.push({ action: 'add-schema', schema: next, 'last-column-id': Math.max(base.lastColumnId, next.highestFieldId) });
          updates.push({ action: 'set-current-schema', 'schema-id': -1 });
          schema = next;
        }
      }
      if (this.producesSnapshot) {
        this.files.begin(currentSnapshot(base)?.snapshotId ?? null);
      }
      const extra: AttemptChanges = this.producesSnapshot && this.attemptHook !== null ? this.attemptHook(base) : {};
      const properties = { ...this.propertyUpdates, ...(extra.properties ?? {}) };
      if (Object.keys(properties).length > 0) updates.push({ action: 'set-properties', updates: properties });
      if (this.propertyRemovals.size > 0) updates.push({ action: 'remove-properties', removals: [...this.propertyRemovals] });
      let snapshot: Snapshot | null = null;
      if (this.producesSnapshot) {
        newManifests ??= await writeAddedManifests(this.writer(), [...this.addedData, ...this.addedDeletes], snapshotId, schema);
        try {
          snapshot = await this.produceSnapshot(snapshotId, attempt, newManifests, schema, extra.summary ?? {});
        } catch (e) {
          // A manifest list or manifest of the base is gone: another writer moved the table on and expired the
          // snapshot this attempt was built on (Spark's expire_snapshots deletes its files at once). A conflict:
          // the next attempt reloads and re-applies on the new current snapshot.
          if (!(e instanceof FloeError && e.code === 'io_not_found') || !(await this.baseMovedOn())) throw e;
          const current = this.files.current;
          if (current !== null) current.fate = 'dead';
          lastError = new FloeError('commit_conflict', `the snapshot this commit was built on was expired meanwhile (${e.message})`, { table: identifierToString(this.table.identifier) }, e);
          retried('base_expired');
          continue;
        }
        (this.files.current as Attempt).manifestList = snapshot.manifestList;
        const parent = currentSnapshot(base);
        requirements.push({ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent === null ? null : parent.snapshotId });
        updates.push({ action: 'add-snapshot', snapshot });
        updates.push({ action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId });
      }
      if (updates.length === 0) {
        this.committed = true;
        return { table: this.table, snapshot: null, attempts: 0, retries };
      }
      const sent = this.files.current;
      if (sent !== null) sent.fate = 'unknown';
      try {
        this.table = await this.catalog.commitTable(this.table, requirements, updates);
        this.committed = true;
        return { table: this.table, snapshot, attempts: attempt, retries };
      } catch (e) {
        lastError = e;
        if (sent !== null && e instanceof FloeError && REFUSED.has(e.code)) sent.fate = 'dead';
        if (e instanceof FloeError && e.code === 'commit_state_unknown') {
          stateUnknown = true;
          retried('state_unknown');
          continue;
        }
        if (e instanceof FloeError && e.retry === 'conflict') {
          refusedOn = base;
          continue;
        }
        throw e;
      }
    }
    if (stateUnknown) {
      // Final check: it may have landed after all.
      this.table = await this.reload();
      const landed = this.table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
      if (landed !== undefined) {
        this.committed = true;
        return { table: this.table, snapshot: landed, attempts: attemptsMax, retries };
      }
      this.files.settleUnknown(this.table.metadata.currentSnapshotId);
    }
    throw new FloeError(
      stateUnknown ? 'commit_state_unknown' : 'commit_retries_exhausted',
      `commit to ${identifierToString(this.table.identifier)} failed after ${attemptsMax} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { table: identifierToString(this.table.identifier) },
      lastError,
    );
  }

  private async reload(): Promise<LoadedTable> {
    let last: unknown = null;
    for (let i = 0; i < COMMIT_DEFAULTS.stateCheckAttemptsMax; i++) {
      try {
        return await this.catalog.loadTable(this.table.identifier);
      } catch (e) {
        last = e;
        if (!(e instanceof FloeError) || e.retry !== 'transient') throw e;
        await sleep(backoff(i + 1, {}));
      }
    }
    throw last;
  }

  /** The current attempt's view of the base and its file log (files written through it are cleaned up if it cannot land). */
  private writer(): AttemptWriter {
    return {
      table: this.table,
      manifestCache: this.manifestCache,
      writeFile: (path, bytes, shared = false) => this.files.write(this.table.io, path, bytes, shared),
    };
  }

  private async produceSnapshot(
    snapshotId: bigint,
    attempt: number,
    added: readonly ManifestFile[],
    schema: Schema,
    extraSummary: Readonly<Record<string, string>>,
  ): Promise<Snapshot> {
    const w = this.writer();
    const meta: TableMetadata = this.table.metadata;
    const parent = currentSnapshot(meta);
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const changes = { removedDataPaths: this.removedDataPaths, requiredDataPaths: this.requiredDataPaths, deletedPositions: this.deletedPositions, removeAll: this.removeAll, removedDeleteKeys: this.removedDeleteKeys };
    const { kept, removedFiles, removedDeletes, targets, deleteManifests, deletesToFind } = await applyToBase(w, parent, changes, snapshotId, schema);
    let addedDvs: DataFile[] = [];
    let addedDvManifests: ManifestFile[] = [];
    if (this.deletedPositions.size > 0) {
      const dv = await writeDeletionVectors(w, { positions: this.deletedPositions, files: this.dvFiles, perFileMax: this.dvsPerFileMax }, targets, deleteManifests, snapshotId, schema, removesDeleteOf(changes));
      kept.push(...dv.kept);
      addedDvManifests = dv.added;
      addedDvs = dv.addedDvs;
      removedDeletes.push(...dv.removedDvs);
      for (const f of dv.removedDvs) deletesToFind.delete(deleteFileKey(f));
      assertDeletesFound(deletesToFind);
    }
    const manifests = [...added, ...addedDvManifests, ...(await mergeManifests(w, kept, snapshotId, schema))];
    const listPath = `${meta.location}/metadata/snap-${snapshotId}-${attempt}-${randomUUID()}.avro`;
    // v3 row lineage: the snapshot's rows get ids from the table's next-row-id (spec: "Snapshot Row IDs").
    const firstRowId = meta.formatVersion >= 3 ? (meta.nextRowId ?? 0n) : undefined;
    const list = writeManifestListWithRowIds({
      formatVersion: meta.formatVersion, snapshotId, parentSnapshotId: parent?.snapshotId ?? null, sequenceNumber, manifests,
      ...(firstRowId !== undefined ? { firstRowId } : {}),
    });
    await w.writeFile(listPath, list.bytes);
    return {
      snapshotId,
      parentSnapshotId: parent?.snapshotId ?? null,
      sequenceNumber,
      timestampMs: Math.max(Date.now(), meta.lastUpdatedMs + 1),
      manifestList: listPath,
      summary: { ...snapshotSummary(parent, this.addedData, this.addedDeletes, removedFiles, removedDeletes, addedDvs), ...this.summaryExtra, ...extraSummary, operation: this.operation() },
      schemaId: schema.schemaId === currentSchema(meta).schemaId ? schema.schemaId : null,
      ...(firstRowId !== undefined ? { firstRowId, addedRows: list.addedRows } : {}),
    };
  }

  /** Whether the table's main branch moved past the snapshot the current attempt was built on. */
  private async baseMovedOn(): Promise<boolean> {
    const latest = await this.reload();
    return latest.metadata.currentSnapshotId !== this.table.metadata.currentSnapshotId;
  }

  private operation(): SnapshotOperation {
    const deletes = this.addedDeletes.length > 0 || this.deletedPositions.size > 0 || this.removedDataPaths.size > 0 || this.removedDeleteKeys.size > 0 || this.removeAll;
    return snapshotOperation(this.operationOverride, this.addedData.length > 0, deletes);
  }
}

function backoff(n: number, opts: CommitOptions): number {
  return backoffMs(n, { baseMs: opts.backoffBaseMs ?? COMMIT_DEFAULTS.backoffBaseMs, maxMs: opts.backoffMaxMs ?? COMMIT_DEFAULTS.backoffMaxMs });
}
