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
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FloeError, assert } from '../errors.js';
import { backoffMs, sleep } from '../retry.js';
import { DataFileContent, ManifestEntryStatus, deleteFileKey, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import {
  ManifestContent,
  readManifest,
  writeManifest,
  writeManifestListWithRowIds,
  type ManifestFile,
} from '../iceberg/manifest.js';
import {
  DELETION_VECTOR_BLOB_TYPE,
  ROW_POSITION_FIELD_ID,
  normalizePositions,
  readDeletionVector,
  serializeDeletionVector,
  unionPositions,
} from '../iceberg/deletion-vector.js';
import { writePuffin } from '../iceberg/puffin.js';
import { readPositionDeletes } from '../iceberg/scan.js';
import { readManifestFiles } from '../iceberg/snapshot-files.js';
import { valuesKey } from '../iceberg/values.js';
import type { DeletionVectorFiles } from '../config/config.js';
import type { Schema } from '../iceberg/schema.js';
import { MAIN_BRANCH, SummaryKey, type Snapshot, type SnapshotOperation } from '../iceberg/snapshot.js';
import {
  currentSchema,
  currentSnapshot,
  specsById,
  type TableMetadata,
  type TableRequirement,
  type TableUpdate,
} from '../iceberg/table-metadata.js';
import type { Catalog, LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';

export const COMMIT_DEFAULTS = Object.freeze({
  commitAttemptsMax: 10,
  backoffBaseMs: 100,
  backoffMaxMs: 10_000,
  /** Attempts to reload the table to resolve an unknown commit state. */
  stateCheckAttemptsMax: 5,
});

/** Deletion vector files a commit reads or uploads at once. */
const DV_UPLOADS_IN_FLIGHT_MAX = 16;
/** Files of failed attempts deleted at once. */
const CLEANUP_DELETES_IN_FLIGHT_MAX = 8;
/** A commit waits this long at most for its cleanup (the store may be what failed); the deletes go on after. */
const CLEANUP_WAIT_MAX_MS = 5_000;
/**
 * Errors by which the catalog said it did not apply a commit: 409 / failed CAS, 400 / 422, 401 / 403, 404. Any
 * other failure of `commitTable` (5xx, a lost response, a response that cannot be read after the commit was
 * applied, an unclassified error) leaves the outcome unknown.
 */
const REFUSED: ReadonlySet<string> = new Set(['commit_conflict', 'catalog_bad_request', 'catalog_auth_failed', 'catalog_not_found']);

/** One commit attempt: the files it wrote and what is known of its fate. */
interface Attempt {
  /** Main's snapshot it committed on top of (its CAS). */
  readonly parent: bigint | null;
  readonly files: string[];
  manifestList: string | null;
  /** `dead`: cannot land (never sent, refused, or proved not to have landed); `unknown`: may land. */
  fate: 'dead' | 'unknown';
}

/** Iceberg's defaults for `commit.manifest.min-count-to-merge` and `commit.manifest.target-size-bytes`. */
export const MANIFEST_DEFAULTS = Object.freeze({ minCountToMerge: 100, targetSizeBytes: 8 * 1024 * 1024 });

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
}

/** Reads manifests through the table's FileIO with a bounded cache (manifests are immutable). */
class ManifestCache {
  private readonly entries = new Map<string, ManifestEntry[]>();
  constructor(private readonly max = 256) {}
  async get(table: LoadedTable, m: ManifestFile, schema: Schema): Promise<ManifestEntry[]> {
    const hit = this.entries.get(m.manifestPath);
    if (hit !== undefined) return hit;
    const bytes = await table.io.read(m.manifestPath);
    const e = readManifest(bytes, m, specsById(table.metadata), schema);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(m.manifestPath, e);
    return e;
  }
}

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
  /** Every attempt that produced a snapshot, and the one writing now. */
  private readonly attempts: Attempt[] = [];
  private current: Attempt | null = null;
  /** Manifests of the added files: written once, used by every attempt. */
  private readonly sharedFiles: string[] = [];

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
      await this.removeFiles(this.garbage(null));
      throw e;
    }
    await this.removeFiles(this.garbage(res.snapshot));
    return res;
  }

  private async commitAttempts(opts: CommitOptions, snapshotId: bigint): Promise<CommitResult> {
    const attemptsMax = opts.commitAttemptsMax ?? COMMIT_DEFAULTS.commitAttemptsMax;
    let newManifests: ManifestFile[] | null = null;
    let stateUnknown = false;
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= attemptsMax; attempt++) {
      if (attempt > 1) {
        await sleep(backoff(attempt - 1, opts));
        this.table = await this.reload();
        if (stateUnknown) {
          const landed = this.table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
          if (landed !== undefined) {
            this.committed = true;
            return { table: this.table, snapshot: landed, attempts: attempt - 1 };
          }
          this.settleUnknown();
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
        this.current = { parent: currentSnapshot(base)?.snapshotId ?? null, files: [], manifestList: null, fate: 'dead' };
        this.attempts.push(this.current);
      }
      const extra: AttemptChanges = this.producesSnapshot && this.attemptHook !== null ? this.attemptHook(base) : {};
      const properties = { ...this.propertyUpdates, ...(extra.properties ?? {}) };
      if (Object.keys(properties).length > 0) updates.push({ action: 'set-properties', updates: properties });
      if (this.propertyRemovals.size > 0) updates.push({ action: 'remove-properties', removals: [...this.propertyRemovals] });
      let snapshot: Snapshot | null = null;
      if (this.producesSnapshot) {
        newManifests ??= await this.writeAddedManifests(snapshotId, schema);
        snapshot = await this.produceSnapshot(snapshotId, attempt, newManifests, schema, extra.summary ?? {});
        (this.current as Attempt).manifestList = snapshot.manifestList;
        const parent = currentSnapshot(base);
        requirements.push({ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent === null ? null : parent.snapshotId });
        updates.push({ action: 'add-snapshot', snapshot });
        updates.push({ action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId });
      }
      if (updates.length === 0) {
        this.committed = true;
        return { table: this.table, snapshot: null, attempts: 0 };
      }
      const sent = this.current;
      if (sent !== null) sent.fate = 'unknown';
      try {
        this.table = await this.catalog.commitTable(this.table, requirements, updates);
        this.committed = true;
        return { table: this.table, snapshot, attempts: attempt };
      } catch (e) {
        lastError = e;
        if (sent !== null && e instanceof FloeError && REFUSED.has(e.code)) sent.fate = 'dead';
        if (e instanceof FloeError && e.code === 'commit_state_unknown') {
          stateUnknown = true;
          continue;
        }
        if (e instanceof FloeError && e.retry === 'conflict') continue;
        throw e;
      }
    }
    if (stateUnknown) {
      // Final check: it may have landed after all.
      this.table = await this.reload();
      const landed = this.table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
      if (landed !== undefined) {
        this.committed = true;
        return { table: this.table, snapshot: landed, attempts: attemptsMax };
      }
      this.settleUnknown();
    }
    throw new FloeError(
      stateUnknown ? 'commit_state_unknown' : 'commit_retries_exhausted',
      `commit to ${identifierToString(this.table.identifier)} failed after ${attemptsMax} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { table: identifierToString(this.table.identifier) },
      lastError,
    );
  }

  /**
   * After a reload that did not find our snapshot: an attempt whose outcome was unknown can no longer land once
   * main has moved past the parent its CAS names (main only moves forward: to our snapshot, which is not there,
   * or to someone else's).
   */
  private settleUnknown(): void {
    const main = this.table.metadata.currentSnapshotId;
    for (const a of this.attempts) if (a.fate === 'unknown' && a.parent !== main) a.fate = 'dead';
  }

  /**
   * Files no snapshot of the table can ever reference. After a success (`landed`: the snapshot in the table),
   * every other attempt's files: they carry the same snapshot id, which is taken now, and a CAS on a parent main
   * has left. After a failure (`null`), the files of the attempts that cannot land, and the shared manifests
   * once none of them may land.
   */
  private garbage(landed: Snapshot | null): string[] {
    if (this.committed) {
      if (landed === null) return [];
      return this.attempts.filter((a) => a.manifestList !== landed.manifestList).flatMap((a) => a.files);
    }
    const dead = this.attempts.filter((a) => a.fate === 'dead').flatMap((a) => a.files);
    return this.attempts.every((a) => a.fate === 'dead') ? [...dead, ...this.sharedFiles] : dead;
  }

  /**
   * Best effort, CLEANUP_DELETES_IN_FLIGHT_MAX at a time; a file already gone is fine, other failures are reported.
   * Waits CLEANUP_WAIT_MAX_MS at most: the commit's outcome must not wait for a slow or failing store.
   */
  private async removeFiles(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLEANUP_WAIT_MAX_MS);
      timer.unref();
    });
    await Promise.race([this.deleteAll(paths), bound]);
    clearTimeout(timer);
  }

  /** Never rejects. */
  private async deleteAll(paths: readonly string[]): Promise<void> {
    const failed: string[] = [];
    for (let i = 0; i < paths.length; i += CLEANUP_DELETES_IN_FLIGHT_MAX) {
      await Promise.all(paths.slice(i, i + CLEANUP_DELETES_IN_FLIGHT_MAX).map(async (p) => {
        try {
          await this.table.io.delete(p);
        } catch (e) {
          if (!(e instanceof FloeError && e.code === 'io_not_found')) failed.push(`${p}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }));
    }
    if (failed.length > 0) {
      process.emitWarning(`${identifierToString(this.table.identifier)}: ${failed.length} file(s) of failed commit attempts could not be deleted (orphans), e.g. ${failed[0]}`);
    }
  }

  /** Writes a file of this transaction, remembered (before the write: a failed write may leave an object) for cleanup. */
  private async writeFile(path: string, bytes: Uint8Array, shared = false): Promise<void> {
    if (shared) this.sharedFiles.push(path);
    else {
      assert(this.current !== null, 'files are written by an attempt');
      this.current.files.push(path);
    }
    await this.table.io.write(path, bytes);
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

  private manifestPath(): string {
    return `${this.table.metadata.location}/metadata/${randomUUID()}-m0.avro`;
  }

  /** Writes one manifest per (content, spec id) of the added files. */
  private async writeAddedManifests(snapshotId: bigint, schema: Schema): Promise<ManifestFile[]> {
    const meta = this.table.metadata;
    const specs = specsById(meta);
    const groups = new Map<string, { content: ManifestContent; specId: number; files: DataFile[] }>();
    for (const f of [...this.addedData, ...this.addedDeletes]) {
      const content = f.content === DataFileContent.DATA ? ManifestContent.DATA : ManifestContent.DELETES;
      const key = `${content}/${f.specId}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { content, specId: f.specId, files: [] }));
      g.files.push(f);
    }
    const out: ManifestFile[] = [];
    for (const g of groups.values()) {
      const spec = specs.get(g.specId);
      if (spec === undefined) throw new FloeError('field_id_mismatch', `file uses partition spec ${g.specId}, which table ${identifierToString(this.table.identifier)} does not have`);
      const path = this.manifestPath();
      const w = writeManifest({
        path,
        formatVersion: meta.formatVersion,
        schema,
        spec,
        content: g.content,
        snapshotId,
        entries: g.files.map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
      });
      await this.writeFile(path, w.bytes, true);
      out.push(w.manifestFile);
    }
    return out;
  }

  private async produceSnapshot(
    snapshotId: bigint,
    attempt: number,
    added: readonly ManifestFile[],
    schema: Schema,
    extraSummary: Readonly<Record<string, string>>,
  ): Promise<Snapshot> {
    const meta: TableMetadata = this.table.metadata;
    const parent = currentSnapshot(meta);
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const existing = await readManifestFiles(this.table, parent);
    const kept: ManifestFile[] = [];
    const removedFiles: DataFile[] = [];
    const needRemove = new Set(this.removedDataPaths);
    const needLive = new Set(this.requiredDataPaths);
    const needRemoveDeletes = new Set(this.removedDeleteKeys);
    const removesDelete = (e: ManifestEntry): boolean => e.dataFile.content !== DataFileContent.DATA && this.removedDeleteKeys.has(deleteFileKey(e.dataFile));
    const removedDeletes: DataFile[] = [];
    const vectors = this.deletedPositions.size > 0;
    assert(!(vectors && this.removeAll), 'a truncate removes every file: no deletion vectors with it');
    /** Live entries of the data files the deletion vectors target. */
    const targets = new Map<string, ManifestEntry>();
    /** Delete manifests, checked for the targets' vectors and position deletes once every target is found. */
    const deleteManifests: ManifestFile[] = [];
    for (const m of existing) {
      if (this.removeAll) {
        // Truncate: every live entry of every manifest becomes DELETED in a rewritten manifest.
        const entries = await this.manifestCache.get(this.table, m, schema);
        const live = entries.filter((e) => e.status !== ManifestEntryStatus.DELETED);
        if (live.length === 0) continue;
        const spec = specsById(meta).get(m.partitionSpecId);
        assert(spec !== undefined, 'manifest spec must exist', { manifest: m.manifestPath });
        for (const e of live) (e.dataFile.content === DataFileContent.DATA ? removedFiles : removedDeletes).push(e.dataFile);
        const path = this.manifestPath();
        const w = writeManifest({
          path, formatVersion: meta.formatVersion, schema, spec, content: m.content, snapshotId,
          entries: live.map((e) => ({ ...e, status: ManifestEntryStatus.DELETED, snapshotId })),
        });
        await this.writeFile(path, w.bytes);
        kept.push({ ...w.manifestFile, sequenceNumber: -1n, minSequenceNumber: -1n });
        continue;
      }
      if (vectors && m.content === ManifestContent.DELETES) {
        deleteManifests.push(m);
        continue;
      }
      if (needRemoveDeletes.size > 0 && m.content === ManifestContent.DELETES) {
        const entries = await this.manifestCache.get(this.table, m, schema);
        const live = entries.filter((e) => e.status !== ManifestEntryStatus.DELETED && removesDelete(e));
        for (const e of live) needRemoveDeletes.delete(deleteFileKey(e.dataFile));
        kept.push(live.length === 0 ? m : await this.rewriteManifest(m, entries, snapshotId, schema, removesDelete, removedDeletes));
        continue;
      }
      const mustScan = m.content === ManifestContent.DATA && (needRemove.size > 0 || needLive.size > 0);
      if (!mustScan) {
        kept.push(m);
        continue;
      }
      const entries = await this.manifestCache.get(this.table, m, schema);
      let touched = false;
      for (const e of entries) {
        if (e.status === ManifestEntryStatus.DELETED) continue;
        needLive.delete(e.dataFile.filePath);
        if (this.deletedPositions.has(e.dataFile.filePath)) targets.set(e.dataFile.filePath, e);
        if (this.removedDataPaths.has(e.dataFile.filePath)) {
          touched = true;
          needRemove.delete(e.dataFile.filePath);
        }
      }
      if (!touched) {
        kept.push(m);
        continue;
      }
      // Rewrite this manifest: removed files become DELETED entries, the rest stay EXISTING with their sequence numbers.
      kept.push(await this.rewriteManifest(m, entries, snapshotId, schema, (e) => this.removedDataPaths.has(e.dataFile.filePath), removedFiles));
    }
    if (needRemove.size > 0) {
      throw new FloeError('commit_conflict', `cannot remove ${needRemove.size} data file(s) that are no longer live (e.g. ${[...needRemove][0]}); rewritten by a concurrent commit?`);
    }
    if (needLive.size > 0) {
      throw new FloeError('commit_targets_gone', `position deletes target ${needLive.size} data file(s) that are no longer live (e.g. ${[...needLive][0]}); rewritten by a concurrent commit?`, { files: [...needLive].slice(0, 10) });
    }
    let addedDvs: DataFile[] = [];
    let addedDvManifests: ManifestFile[] = [];
    if (vectors) {
      const dv = await this.writeDeletionVectors(targets, deleteManifests, snapshotId, schema, removesDelete);
      kept.push(...dv.kept);
      addedDvManifests = dv.added;
      addedDvs = dv.addedDvs;
      removedDeletes.push(...dv.removedDvs);
      for (const f of dv.removedDvs) needRemoveDeletes.delete(deleteFileKey(f));
    }
    if (needRemoveDeletes.size > 0) {
      throw new FloeError('commit_conflict', `cannot remove ${needRemoveDeletes.size} delete file(s) that are no longer live (e.g. ${[...needRemoveDeletes][0]}); removed by a concurrent commit?`);
    }
    const manifests = [...added, ...addedDvManifests, ...(await this.mergeManifests(kept, snapshotId, schema))];
    const listPath = `${meta.location}/metadata/snap-${snapshotId}-${attempt}-${randomUUID()}.avro`;
    // v3 row lineage: the snapshot's rows get ids from the table's next-row-id (spec: "Snapshot Row IDs").
    const firstRowId = meta.formatVersion >= 3 ? (meta.nextRowId ?? 0n) : undefined;
    const list = writeManifestListWithRowIds({
      formatVersion: meta.formatVersion, snapshotId, parentSnapshotId: parent?.snapshotId ?? null, sequenceNumber, manifests,
      ...(firstRowId !== undefined ? { firstRowId } : {}),
    });
    await this.writeFile(listPath, list.bytes);
    return {
      snapshotId,
      parentSnapshotId: parent?.snapshotId ?? null,
      sequenceNumber,
      timestampMs: Math.max(Date.now(), meta.lastUpdatedMs + 1),
      manifestList: listPath,
      summary: { ...this.summary(parent, removedFiles, removedDeletes, addedDvs), ...this.summaryExtra, ...extraSummary, operation: this.operation() },
      schemaId: schema.schemaId === currentSchema(meta).schemaId ? schema.schemaId : null,
      ...(firstRowId !== undefined ? { firstRowId, addedRows: list.addedRows } : {}),
    };
  }

  /**
   * Writes this attempt's deletion vectors (spec v3: "Deletion Vectors"): for each target data file, the new
   * positions merged with the file's current vector and with the v2 position delete files that apply to it
   * (readers ignore position delete files once a file has a vector), one `deletion-vector-v1` blob per file in
   * one Puffin file. The old vectors become DELETED entries of their rewritten manifests, in this same snapshot.
   */
  private async writeDeletionVectors(
    targets: ReadonlyMap<string, ManifestEntry>,
    deleteManifests: readonly ManifestFile[],
    snapshotId: bigint,
    schema: Schema,
    removesDelete: (e: ManifestEntry) => boolean,
  ): Promise<{ kept: ManifestFile[]; added: ManifestFile[]; addedDvs: DataFile[]; removedDvs: DataFile[] }> {
    const meta = this.table.metadata;
    const specs = specsById(meta);
    assert(targets.size === this.deletedPositions.size, 'every deletion vector target was found live', { targets: targets.size, wanted: this.deletedPositions.size });
    const partitionKeys = new Set([...targets.values()].map((e) => `${e.dataFile.specId}/${valuesKey(e.dataFile.partition)}`));
    const oldVectors = new Map<string, ManifestEntry>();
    const positionFiles: ManifestEntry[] = [];
    const kept: ManifestFile[] = [];
    const touched: { m: ManifestFile; entries: ManifestEntry[] }[] = [];
    for (const m of deleteManifests) {
      const entries = await this.manifestCache.get(this.table, m, schema);
      let hasOld = false;
      for (const e of entries) {
        const f = e.dataFile;
        if (e.status === ManifestEntryStatus.DELETED) continue;
        // Removed explicitly (removeDeleteFiles): neither merged nor kept.
        if (removesDelete(e)) {
          hasOld = true;
          continue;
        }
        if (f.content !== DataFileContent.POSITION_DELETES) continue;
        if (isDeletionVector(f)) {
          if (f.referencedDataFile !== undefined && targets.has(f.referencedDataFile)) {
            assert(!oldVectors.has(f.referencedDataFile), 'a data file has at most one deletion vector', { file: f.referencedDataFile });
            oldVectors.set(f.referencedDataFile, e);
            hasOld = true;
          }
        } else if (f.referencedDataFile !== undefined ? targets.has(f.referencedDataFile) : partitionKeys.has(`${f.specId}/${valuesKey(f.partition)}`)) {
          positionFiles.push(e);
        }
      }
      if (hasOld) touched.push({ m, entries });
      else kept.push(m);
    }
    // Positions already deleted by v2 position delete files that apply (delete sequence number >= the file's).
    // A target that has a vector already carries them (its first vector merged them): only the others need reading.
    const earlier = new Map<string, number[]>();
    const firstVector = new Set([...targets.keys()].filter((p) => !oldVectors.has(p)));
    for (const d of firstVector.size === 0 ? [] : positionFiles) {
      if (d.dataFile.referencedDataFile !== undefined && !firstVector.has(d.dataFile.referencedDataFile)) continue;
      for (const [path, list] of await readPositionDeletes(this.table, d.dataFile.filePath)) {
        const target = targets.get(path);
        if (target === undefined || !firstVector.has(path) || (d.sequenceNumber ?? 0n) < (target.sequenceNumber ?? 0n)) continue;
        earlier.set(path, [...(earlier.get(path) ?? []), ...list]);
      }
    }
    // The targets' current vectors, read DV_UPLOADS_IN_FLIGHT_MAX at a time (one small object each).
    const previousOf = new Map<string, Float64Array>();
    const puffins = new Map<string, Promise<Uint8Array>>();
    const olds = [...oldVectors];
    for (let i = 0; i < olds.length; i += DV_UPLOADS_IN_FLIGHT_MAX) {
      await Promise.all(olds.slice(i, i + DV_UPLOADS_IN_FLIGHT_MAX).map(async ([path, e]) => previousOf.set(path, await readDeletionVector(this.table.io, e.dataFile, puffins))));
    }
    const blobs: { path: string; entry: ManifestEntry; blob: Buffer; cardinality: number }[] = [];
    for (const [path, fresh] of this.deletedPositions) {
      const entry = targets.get(path) as ManifestEntry;
      const previous = previousOf.get(path) ?? new Float64Array(0);
      const merged = unionPositions(fresh, previous, normalizePositions(earlier.get(path) ?? []));
      assert(merged.length <= Number(entry.dataFile.recordCount), 'a deletion vector deletes at most the rows of its file', { file: path, deleted: merged.length, rows: entry.dataFile.recordCount });
      blobs.push({ path, entry, blob: serializeDeletionVector(merged), cardinality: merged.length });
    }
    const addedDvs: DataFile[] = [];
    const uploads: { path: string; bytes: Buffer }[] = [];
    for (let start = 0; start < blobs.length; start += this.dvsPerFileMax) {
      const group = blobs.slice(start, start + this.dvsPerFileMax);
      const puffinPath = this.dvFiles === 'metadata/*.stats'
        ? `${meta.location}/metadata/${randomUUID()}-dv.stats`
        : `${meta.location}/data/${randomUUID()}-deletes.puffin`;
      const bytes = writePuffin(
        group.map((b) => ({
          type: DELETION_VECTOR_BLOB_TYPE,
          fields: [ROW_POSITION_FIELD_ID],
          snapshotId: -1n,
          sequenceNumber: -1n,
          data: b.blob,
          properties: { 'referenced-data-file': b.path, cardinality: String(b.cardinality) },
        })),
        { 'created-by': 'floe' },
      );
      uploads.push({ path: puffinPath, bytes });
      let offset = 4; // blobs follow the leading magic, in order (writePuffin)
      for (const b of group) {
        addedDvs.push({
          content: DataFileContent.POSITION_DELETES,
          filePath: puffinPath,
          fileFormat: 'PUFFIN',
          specId: b.entry.dataFile.specId,
          partition: b.entry.dataFile.partition,
          recordCount: BigInt(b.cardinality),
          fileSizeInBytes: BigInt(bytes.length),
          referencedDataFile: b.path,
          contentOffset: BigInt(offset),
          contentSizeInBytes: BigInt(b.blob.length),
        });
        offset += b.blob.length;
      }
    }
    for (let i = 0; i < uploads.length; i += DV_UPLOADS_IN_FLIGHT_MAX) {
      await Promise.all(uploads.slice(i, i + DV_UPLOADS_IN_FLIGHT_MAX).map((u) => this.writeFile(u.path, u.bytes)));
    }
    const added: ManifestFile[] = [];
    for (const specId of new Set(addedDvs.map((f) => f.specId))) {
      const spec = specs.get(specId);
      assert(spec !== undefined, 'a data file has a known spec', { spec: specId });
      const path = this.manifestPath();
      const w = writeManifest({
        path, formatVersion: meta.formatVersion, schema, spec, content: ManifestContent.DELETES, snapshotId,
        entries: addedDvs.filter((f) => f.specId === specId).map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
      });
      await this.writeFile(path, w.bytes);
      added.push(w.manifestFile);
    }
    const removedDvs: DataFile[] = [];
    const replaced = new Set([...oldVectors.values()]);
    for (const { m, entries } of touched) kept.push(await this.rewriteManifest(m, entries, snapshotId, schema, (e) => replaced.has(e) || removesDelete(e), removedDvs));
    return { kept, added, addedDvs, removedDvs };
  }

  /**
   * Rewrites a manifest for this snapshot: live entries `remove` picks become DELETED (and are collected in
   * `removed`), the others stay as EXISTING with their sequence numbers; entries deleted earlier are dropped.
   */
  private async rewriteManifest(
    m: ManifestFile,
    entries: readonly ManifestEntry[],
    snapshotId: bigint,
    schema: Schema,
    remove: (e: ManifestEntry) => boolean,
    removed: DataFile[],
  ): Promise<ManifestFile> {
    const meta = this.table.metadata;
    const spec = specsById(meta).get(m.partitionSpecId);
    assert(spec !== undefined, 'manifest spec must exist', { manifest: m.manifestPath });
    const rewritten: ManifestEntry[] = [];
    for (const e of entries) {
      if (e.status === ManifestEntryStatus.DELETED) continue;
      if (remove(e)) {
        removed.push(e.dataFile);
        rewritten.push({ ...e, status: ManifestEntryStatus.DELETED, snapshotId });
      } else {
        rewritten.push({ ...e, status: ManifestEntryStatus.EXISTING });
      }
    }
    const path = this.manifestPath();
    const w = writeManifest({ path, formatVersion: meta.formatVersion, schema, spec, content: m.content, snapshotId, entries: rewritten });
    await this.writeFile(path, w.bytes);
    return { ...w.manifestFile, sequenceNumber: -1n, minSequenceNumber: minSeq(rewritten) ?? -1n };
  }

  /**
   * Manifest merging (Iceberg's `commit.manifest-merge.enabled`): a streaming table adds a manifest or two per
   * commit, and readers open every manifest of a snapshot. When one (content, spec) group holds more than
   * `commit.manifest.min-count-to-merge` manifests, the ones committed earlier are rewritten into manifests of
   * up to `commit.manifest.target-size-bytes`. Live entries keep their snapshot ids and *explicit* data and
   * file sequence numbers (deletes depend on them); entries deleted by earlier snapshots are dropped.
   */
  private async mergeManifests(kept: readonly ManifestFile[], snapshotId: bigint, schema: Schema): Promise<ManifestFile[]> {
    const meta = this.table.metadata;
    const props = meta.properties;
    if ((props['commit.manifest-merge.enabled'] ?? 'true') !== 'true') return [...kept];
    const minCount = Number(props['commit.manifest.min-count-to-merge'] ?? MANIFEST_DEFAULTS.minCountToMerge);
    const targetBytes = BigInt(props['commit.manifest.target-size-bytes'] ?? MANIFEST_DEFAULTS.targetSizeBytes);
    const groups = new Map<string, ManifestFile[]>();
    for (const m of kept) {
      const k = `${m.content}/${m.partitionSpecId}`;
      groups.set(k, [...(groups.get(k) ?? []), m]);
    }
    const out: ManifestFile[] = [];
    for (const group of groups.values()) {
      // Manifests this snapshot rewrote (sequence number still unassigned) are never merged again here.
      const candidates = group.filter((m) => m.sequenceNumber !== -1n && m.manifestLength < targetBytes);
      if (group.length <= minCount || candidates.length < 2) {
        out.push(...group);
        continue;
      }
      out.push(...group.filter((m) => !candidates.includes(m)));
      const first = candidates[0] as ManifestFile;
      const spec = specsById(meta).get(first.partitionSpecId);
      assert(spec !== undefined, 'manifest spec must exist', { manifest: first.manifestPath });
      let bin: ManifestEntry[] = [];
      let binBytes = 0n;
      const flush = async (): Promise<void> => {
        if (bin.length === 0) return;
        const path = this.manifestPath();
        const w = writeManifest({ path, formatVersion: meta.formatVersion, schema, spec, content: first.content, snapshotId, entries: bin });
        await this.writeFile(path, w.bytes);
        out.push({ ...w.manifestFile, sequenceNumber: -1n });
        bin = [];
        binBytes = 0n;
      };
      for (const m of candidates) {
        const entries = await this.manifestCache.get(this.table, m, schema);
        for (const e of entries) {
          if (e.status === ManifestEntryStatus.DELETED) continue;
          assert(e.sequenceNumber !== null && e.fileSequenceNumber !== null, 'merged entries need explicit sequence numbers', { manifest: m.manifestPath });
          bin.push({ ...e, status: ManifestEntryStatus.EXISTING });
        }
        binBytes += m.manifestLength;
        if (binBytes >= targetBytes) await flush();
      }
      await flush();
    }
    return out;
  }

  private operation(): SnapshotOperation {
    if (this.operationOverride !== null) return this.operationOverride;
    const adds = this.addedData.length > 0;
    const deletes = this.addedDeletes.length > 0 || this.deletedPositions.size > 0 || this.removedDataPaths.size > 0 || this.removedDeleteKeys.size > 0 || this.removeAll;
    if (adds && !deletes) return 'append';
    if (!adds && deletes) return 'delete';
    return 'overwrite';
  }

  private summary(parent: Snapshot | null, removed: readonly DataFile[], removedDeletes: readonly DataFile[], addedDvs: readonly DataFile[]): Record<string, string> {
    const sum = (files: readonly DataFile[], f: (d: DataFile) => bigint): bigint => files.reduce((a, d) => a + f(d), 0n);
    const addedDeletes = [...this.addedDeletes, ...addedDvs];
    const pos = addedDeletes.filter((d) => d.content === DataFileContent.POSITION_DELETES && !isDeletionVector(d));
    const eq = addedDeletes.filter((d) => d.content === DataFileContent.EQUALITY_DELETES);
    const addedRecords = sum(this.addedData, (d) => d.recordCount);
    const deletedRecords = sum(removed, (d) => d.recordCount);
    // A Puffin file's size counts once, however many vectors it holds (Java's summary does the same per file).
    const sizeOf = (files: readonly DataFile[]): bigint => sum(files.filter((d, i) => files.findIndex((x) => x.filePath === d.filePath) === i), (d) => d.fileSizeInBytes);
    const addedSize = sizeOf([...this.addedData, ...addedDeletes]);
    const removedSize = sizeOf([...removed, ...removedDeletes]);
    const removedPos = sum(removedDeletes.filter((d) => d.content === DataFileContent.POSITION_DELETES), (d) => d.recordCount);
    const removedEq = sum(removedDeletes.filter((d) => d.content === DataFileContent.EQUALITY_DELETES), (d) => d.recordCount);
    const posDeletes = sum([...pos, ...addedDvs], (d) => d.recordCount);
    const eqDeletes = sum(eq, (d) => d.recordCount);
    const removedDvs = removedDeletes.filter(isDeletionVector).length;
    const partitions = new Set([...this.addedData, ...addedDeletes, ...removed].map((d) => `${d.specId}:${JSON.stringify(d.partition, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`));
    const s: Record<string, string> = {};
    const put = (k: string, v: bigint | number): void => {
      if (BigInt(v) !== 0n) s[k] = String(v);
    };
    put(SummaryKey.addedDataFiles, this.addedData.length);
    put(SummaryKey.deletedDataFiles, removed.length);
    put(SummaryKey.addedDeleteFiles, addedDeletes.length);
    put(SummaryKey.addedPositionDeleteFiles, pos.length);
    put(SummaryKey.addedDvs, addedDvs.length);
    put(SummaryKey.removedDvs, removedDvs);
    put(SummaryKey.addedEqualityDeleteFiles, eq.length);
    put(SummaryKey.addedRecords, addedRecords);
    put(SummaryKey.deletedRecords, deletedRecords);
    put(SummaryKey.addedPositionDeletes, posDeletes);
    put(SummaryKey.addedEqualityDeletes, eqDeletes);
    put(SummaryKey.removedDeleteFiles, removedDeletes.length);
    put(SummaryKey.removedPositionDeletes, removedPos);
    put(SummaryKey.removedEqualityDeletes, removedEq);
    put(SummaryKey.addedFilesSize, addedSize);
    put(SummaryKey.removedFilesSize, removedSize);
    s[SummaryKey.changedPartitionCount] = String(partitions.size);
    const prev = (k: string): bigint => {
      const v = parent?.summary[k];
      return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : 0n;
    };
    s[SummaryKey.totalRecords] = String(prev(SummaryKey.totalRecords) + addedRecords - deletedRecords);
    s[SummaryKey.totalFilesSize] = String(prev(SummaryKey.totalFilesSize) + addedSize - removedSize);
    s[SummaryKey.totalDataFiles] = String(prev(SummaryKey.totalDataFiles) + BigInt(this.addedData.length) - BigInt(removed.length));
    s[SummaryKey.totalDeleteFiles] = String(prev(SummaryKey.totalDeleteFiles) + BigInt(addedDeletes.length) - BigInt(removedDeletes.length));
    s[SummaryKey.totalPositionDeletes] = String(prev(SummaryKey.totalPositionDeletes) + posDeletes - removedPos);
    s[SummaryKey.totalEqualityDeletes] = String(prev(SummaryKey.totalEqualityDeletes) + eqDeletes - removedEq);
    return s;
  }
}

function minSeq(entries: readonly ManifestEntry[]): bigint | null {
  let m: bigint | null = null;
  for (const e of entries) if (e.status !== ManifestEntryStatus.DELETED && e.sequenceNumber !== null && (m === null || e.sequenceNumber < m)) m = e.sequenceNumber;
  return m;
}

function backoff(n: number, opts: CommitOptions): number {
  return backoffMs(n, { baseMs: opts.backoffBaseMs ?? COMMIT_DEFAULTS.backoffBaseMs, maxMs: opts.backoffMaxMs ?? COMMIT_DEFAULTS.backoffMaxMs });
}
