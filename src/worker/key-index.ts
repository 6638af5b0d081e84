/**
 * A table's key index and everything that decides what it describes: the one owner of that state.
 *
 * Invariant: the index holds exactly one location (data file, position) for every live row of snapshot
 * `snapshotId` (for a duplicate key, its newest row, the others listed in `repair`). It changes hands at
 * four places, each asserting the invariant's precondition:
 *   - `stage` / `confirm`: a sealed window's changes wait for its commit; applied only once it landed, so the
 *     index never describes a commit that may still fail;
 *   - `advance`: a commit of that window landed directly on `snapshotId` (its parent): the index now
 *     describes the new snapshot;
 *   - `catchUp`: the table moved on without this index (a compaction by Spark or S3 Tables, an expiry, another
 *     replica's commits, floe's own maintenance, a commit that re-found its deletes): the index follows the
 *     changed files only (see `catchUp`), never by re-reading the table;
 *   - `build`: a full read of the table's keys, only for a table this process has never indexed.
 */
import type { LoadedTable } from '../catalog/catalog.js';
import { FloeError, assert } from '../errors.js';
import { DataFileContent, ManifestEntryStatus, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { readDeletionVector } from '../iceberg/deletion-vector.js';
import { ManifestContent, readManifest, type ManifestFile } from '../iceberg/manifest.js';
import { deletesFor, readColumns, readPositionDeletes, scanEntries } from '../iceberg/scan.js';
import { readManifestFiles } from '../iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';
import type { NestedField } from '../iceberg/types.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { buildKeyIndex, describeDuplicate, isNewerRow, keyText, type Repair, type RowAt } from './index-build.js';
import { PkIndex, type IndexedFile, type Location, type PkIndexOptions } from './pk-index.js';
import type { KeyShard } from './key-shard.js';

type Values = readonly (IcebergValue | null)[];

/** What a sealed window changes in the key index once its commit lands. */
export interface PendingSeal {
  /** A truncate: the index starts over. */
  readonly clear: boolean;
  /** Keys whose old row this window deletes. */
  readonly deletes: readonly Values[];
  /** Rows this window writes: key, file, position. */
  readonly sets: readonly (readonly [Values, IndexedFile, number])[];
  /** The index would exceed its budget: the table deletes by equality from the next window on. */
  readonly overflow: boolean;
  /** The duplicate-key repair this window carries: pending again if its commit does not land. */
  readonly repair: PendingRepair | null;
}

/** Rows found beyond one per key (index-build.ts), deleted by the next window. */
export interface PendingRepair {
  readonly repairs: readonly Repair[];
  readonly keys: number;
  readonly examples: readonly string[];
}

/** What a catch-up read and did: its cost is these files, never the table. */
export interface CatchUp {
  readonly fromSnapshot: string | null;
  readonly toSnapshot: string | null;
  readonly manifestsRead: number;
  readonly dataFilesAdded: number;
  readonly dataFilesRemoved: number;
  readonly deleteFilesAdded: number;
  /** Files whose key columns were read: added data files, removed ones still indexed, targets of new deletes. */
  readonly filesRead: number;
  readonly rowsRead: number;
  /** Removed files no longer readable (expired and deleted): their entries were dropped by a sweep of the index. */
  readonly sweeps: number;
  readonly duplicateKeys: number;
  readonly ms: number;
}

/** What a reshard (the replica's partitions changed, or the table is indexed whole from now on) read and did. */
export interface Reshard {
  /** Partitions indexed before and after (null: every key). */
  readonly fromPartitions: number | null;
  readonly toPartitions: number | null;
  readonly keysDropped: number;
  readonly keysAdded: number;
  /** Live rows whose keys were read to find the newly owned ones (0 when only keys left). */
  readonly rowsRead: number;
  readonly ms: number;
}

export interface KeyIndexOptions {
  readonly table: string;
  readonly keyFields: readonly NestedField[];
  readonly keysMax?: number;
  readonly onDuplicateKeys: 'repair' | 'fail';
  /** The keys this replica indexes (its Kafka partitions': key-shard.ts); null or absent: every key. */
  readonly shard?: KeyShard | null;
  /** Threads of a bootstrap (index-bootstrap.ts; 0 or absent: by size and cores). */
  readonly threads?: number;
  /** How the index is held: its spill directory and memory budget (pk-index.ts). */
  readonly pk?: PkIndexOptions;
}

/** The 'duplicate_keys' stop of a table under `onDuplicateKeys: fail`. */
function duplicateKeysError(table: string, keys: number, rowsTooMany: number, names: readonly string[], firstKey: Values | null, example: string): FloeError {
  return new FloeError(
    'duplicate_keys',
    `table ${table} has ${keys} key(s) with several live rows (${rowsTooMany} row(s) too many), e.g. ${example}; ` +
      `\`floe verify --table ${table}\` lists them; tables.overrides."${table}".onDuplicateKeys: repair keeps each key's newest row and deletes the others`,
    { table, key: firstKey === null ? null : keyText(names, firstKey) },
  );
}

export class TableKeyIndex {
  private pending: PendingSeal | null = null;
  /** A catch-up failed after it began changing the index: only a rebuild can tell what it holds now. */
  private broken = false;

  /** The keys indexed: those of this replica's partitions (key-shard.ts), or every key (null). */
  private shardOf: KeyShard | null;

  private constructor(
    private readonly opts: KeyIndexOptions,
    private readonly index: PkIndex,
    /** The snapshot the index describes (null: the table had none), and its sequence number. */
    private base: bigint | null,
    private baseSequence: bigint,
    private repair: PendingRepair | null,
  ) {
    this.shardOf = opts.shard ?? null;
  }

  /** The sharding the index follows (null: the whole table). */
  get shard(): KeyShard | null {
    return this.shardOf;
  }

  /**
   * The index of a table this process has never indexed: every live row's key (index-build.ts). A key with
   * several live rows is kept at its newest row and the others wait in `repair`, or, under `fail`, the table
   * stops with an error naming it and a key.
   */
  static async build(table: LoadedTable, opts: KeyIndexOptions): Promise<TableKeyIndex> {
    const shard = opts.shard ?? null;
    const built = await buildKeyIndex(table, opts.keyFields, {
      ...(opts.keysMax !== undefined ? { keysMax: opts.keysMax } : {}),
      ...(shard !== null ? { keep: (k: Values) => shard.keeps(k) } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.pk !== undefined ? { index: opts.pk } : {}),
    });
    const names = opts.keyFields.map((f) => f.name);
    const examples = built.examples.map((d) => describeDuplicate(names, d));
    if (built.duplicateKeys > 0 && opts.onDuplicateKeys === 'fail') {
      throw duplicateKeysError(opts.table, built.duplicateKeys, built.repairs.length, names, built.examples[0]?.key ?? null, examples[0] ?? '');
    }
    const repair = built.duplicateKeys > 0 ? { repairs: built.repairs, keys: built.duplicateKeys, examples } : null;
    const snap = currentSnapshot(table.metadata);
    return new TableKeyIndex(opts, built.index, snap?.snapshotId ?? null, snap?.sequenceNumber ?? 0n, repair);
  }

  /** An index saved for `snapshotId` of `table` (worker-core checks it describes this table and key). */
  static fromSaved(table: LoadedTable, index: PkIndex, opts: KeyIndexOptions): TableKeyIndex {
    const snap = currentSnapshot(table.metadata);
    assert(snap !== null, 'a saved index describes a snapshot', { table: opts.table });
    return new TableKeyIndex(opts, index, snap.snapshotId, snap.sequenceNumber, null);
  }

  /** An index that describes `snapshotId` (null: an empty table), e.g. one built elsewhere (tests). */
  static wrap(index: PkIndex, opts: KeyIndexOptions, snapshotId: bigint | null = null, sequenceNumber = 0n): TableKeyIndex {
    return new TableKeyIndex(opts, index, snapshotId, sequenceNumber, null);
  }

  /** Deletes the index's spill files (a replaced or dropped index). */
  close(): void {
    this.index.close();
  }

  /** The snapshot the index describes. */
  get snapshotId(): bigint | null {
    return this.base;
  }

  get size(): number {
    return this.index.size;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  /** Bytes of its spill runs on local disk (0 while it fits its memory budget). */
  get diskBytes(): number {
    return this.index.diskBytes;
  }

  get spilled(): boolean {
    return this.index.spilled;
  }

  get keysMax(): number {
    return this.index.keysMax;
  }

  /** The index itself, to save it (worker-core) and for tests; changed only through this class. */
  get pk(): PkIndex {
    return this.index;
  }

  get(key: Values): Location | undefined {
    return this.index.get(key);
  }

  /** A catch-up failed half-way: the next one rebuilds. */
  get needsRebuild(): boolean {
    return this.broken;
  }

  get repairPending(): boolean {
    return this.repair !== null;
  }

  get sealPending(): boolean {
    return this.pending !== null;
  }

  /** The repair the next seal carries (it deletes those rows); it stays with the sealed window until confirmed. */
  takeRepair(): PendingRepair | null {
    const r = this.repair;
    this.repair = null;
    return r;
  }

  /** A sealed window's index changes, applied by `confirm` once its commit landed. */
  stage(p: PendingSeal): void {
    assert(this.pending === null, 'a sealed window is confirmed (landed or not) before the next seal', { table: this.opts.table });
    this.pending = p;
  }

  /**
   * The outcome of the sealed window's commit. Landed: its changes enter the index (returns 'overflow' when they
   * exceed the budget: the caller drops the index and deletes by equality). Not landed: the records come again,
   * the index stays, and the repair the window carried waits for the next one.
   */
  confirm(landed: boolean): 'ok' | 'overflow' {
    const p = this.pending;
    if (p === null) return 'ok';
    this.pending = null;
    if (!landed) {
      this.repair ??= p.repair;
      return 'ok';
    }
    if (p.overflow) return 'overflow';
    if (p.clear) this.index.clear();
    try {
      for (const k of p.deletes) this.index.delete(k);
      for (const [k, f, pos] of p.sets) this.index.set(k, f, pos);
    } catch (e) {
      // Full below its key budget (its key bytes or row pages ran out, pk-index.ts): over budget all the same.
      if (e instanceof FloeError && e.code === 'index_full') return 'overflow';
      throw e;
    }
    return 'ok';
  }

  /**
   * The window's commit landed as `snapshotId` right on the snapshot the index describes (`parentId`) and
   * changed nothing else: after `confirm`, the index describes it.
   */
  advance(snapshotId: bigint, parentId: bigint | null, sequenceNumber: bigint): void {
    assert(this.pending === null, 'a window is confirmed before the index advances', { table: this.opts.table });
    assert(parentId === this.base, 'a commit advances the index only from the snapshot it describes', { table: this.opts.table, base: String(this.base), parent: String(parentId), snapshot: String(snapshotId) });
    this.base = snapshotId;
    this.baseSequence = sequenceNumber;
  }

  /**
   * The index moves to the keys `next` keeps (null: every key), at the snapshot it describes, which must be
   * `table`'s current one (the caller catches up first): keys no longer kept leave it (a sweep of the index, no
   * I/O); keys kept now and not before are read from the table, only theirs inserted. The partitions that stayed
   * are not read into the index again. Pending repairs of keys that left go with them (their new owner finds them).
   */
  async reshard(table: LoadedTable, next: KeyShard | null): Promise<Reshard> {
    const t0 = Date.now();
    assert(this.pending === null, 'a window is confirmed before the index reshards', { table: this.opts.table });
    const current = currentSnapshot(table.metadata);
    assert((current?.snapshotId ?? null) === this.base, 'an index reshards at the snapshot it describes', { table: this.opts.table, base: String(this.base), current: String(current?.snapshotId ?? null) });
    const prev = this.shardOf;
    const keysDropped = next === null ? 0 : this.index.removeKeysWhere((k) => !next.keeps(k));
    if (next !== null && this.repair !== null) {
      const repairs = this.repair.repairs.filter((r) => next.keeps(r.key));
      this.repair = repairs.length === 0 ? null : { ...this.repair, repairs, keys: new Set(repairs.map((r) => valuesKey(r.key))).size };
    }
    let keysAdded = 0;
    let rowsRead = 0;
    if (prev !== null) {
      const built = await buildKeyIndex(table, this.opts.keyFields, { keep: (k) => (next === null || next.keeps(k)) && !prev.keeps(k), ...(this.opts.pk !== undefined ? { index: this.opts.pk } : {}) });
      rowsRead = built.rows;
      const names = this.opts.keyFields.map((f) => f.name);
      if (built.duplicateKeys > 0 && this.opts.onDuplicateKeys === 'fail') {
        throw duplicateKeysError(this.opts.table, built.duplicateKeys, built.repairs.length, names, built.examples[0]?.key ?? null, built.examples[0] === undefined ? '' : describeDuplicate(names, built.examples[0]));
      }
      try {
        built.index.forEachKey((key, at) => {
          assert(this.index.get(key) === undefined, 'a newly owned key was not indexed', { table: this.opts.table });
          this.index.set(key, at.file, at.pos);
          keysAdded++;
        });
      } finally {
        built.index.close();
      }
      if (built.repairs.length > 0) {
        const repairs = [...(this.repair?.repairs ?? []), ...built.repairs];
        this.repair = { repairs, keys: new Set(repairs.map((r) => valuesKey(r.key))).size, examples: [...(this.repair?.examples ?? []), ...built.examples.map((d) => describeDuplicate(names, d))] };
      }
    }
    this.shardOf = next;
    const parts = (s: KeyShard | null): number | null => (s === null ? null : s.assignment.partitions.length);
    return { fromPartitions: parts(prev), toPartitions: parts(next), keysDropped, keysAdded, rowsRead, ms: Date.now() - t0 };
  }

  /**
   * Follows the table from the snapshot the index describes to `table`'s current one, reading only what
   * changed (spec: "Manifests", "Sequence Numbers", "Scan Planning"):
   *   - the manifests of the current snapshot that the indexed one did not list (unchanged manifests are shared
   *     by path and skipped); their entries whose file sequence number is above the indexed snapshot's were
   *     added since: data files and delete files. Data files the indexed snapshot had and the current one has
   *     not were removed (a compaction, an overwrite, an expiry of nothing live never removes one);
   *   - added data files: their key columns are read with the deletes that apply to them, and each live row is
   *     indexed at its new place (a compaction moves every row of the files it removed this way);
   *   - removed data files still holding indexed rows (rows deleted, not moved: a copy-on-write delete): their
   *     keys are read and dropped; a file no longer readable is swept from the index in memory;
   *   - added position deletes and deletion vectors on files the index keeps: the keys at those positions
   *     are read from the target file and dropped where the index still points there; added equality deletes
   *     on the key columns drop the keys whose indexed row is older than the delete;
   *   - rows a pending repair names that were removed or deleted leave it; a key whose kept row went keeps the
   *     newest of its repaired rows still live.
   * Returns null when only a full read can tell (an equality delete on other columns); the caller rebuilds.
   */
  async catchUp(table: LoadedTable): Promise<CatchUp | null> {
    assert(this.pending === null, 'a window is confirmed before the index catches up', { table: this.opts.table });
    if (this.broken) return null;
    try {
      return await this.follow(table);
    } catch (e) {
      this.broken = true;
      // A file of the snapshot we follow is gone: another writer expired it (and moved the table on) meanwhile.
      if (e instanceof FloeError && e.code === 'io_not_found') {
        throw new FloeError('index_table_moved', `table ${this.opts.table} moved on while its key index caught up: ${e.message}`, { table: this.opts.table }, e);
      }
      throw e;
    }
  }

  private async follow(table: LoadedTable): Promise<CatchUp | null> {
    const t0 = Date.now();
    const meta = table.metadata;
    const current = currentSnapshot(meta);
    if (current === null) {
      assert(this.base === null, 'a table with an indexed snapshot has a current one', { table: this.opts.table });
      return this.noChange(null, t0);
    }
    if (current.snapshotId === this.base) return this.noChange(current.snapshotId, t0);
    const baseSnap = this.base === null ? null : (meta.snapshots.find((s) => s.snapshotId === this.base) ?? null);
    const schema = currentSchema(meta);
    const specs = specsById(meta);
    const baseSeq = this.base === null ? -1n : this.baseSequence;
    const curList = await readManifestFiles(table, current);
    const baseList = baseSnap === null ? null : await readManifestFiles(table, baseSnap).catch((e: unknown) => {
      if (e instanceof FloeError && e.code === 'io_not_found') return null; // expired and deleted
      throw e;
    });
    const basePaths = new Set((baseList ?? []).map((m) => m.manifestPath));
    const curPaths = new Set(curList.map((m) => m.manifestPath));
    let manifestsRead = 0;
    const entriesOf = async (m: ManifestFile): Promise<ManifestEntry[]> => {
      manifestsRead++;
      return readManifest(await table.io.read(m.manifestPath), m, specs, schema).filter((e) => e.status !== ManifestEntryStatus.DELETED);
    };
    // Entries of manifests the indexed snapshot did not list (all of them when its manifest list is gone).
    const changed: ManifestEntry[] = [];
    for (const m of curList) if (baseList === null || !basePaths.has(m.manifestPath)) changed.push(...(await entriesOf(m)));
    const isNew = (e: ManifestEntry): boolean => (e.fileSequenceNumber ?? e.sequenceNumber ?? 0n) > baseSeq;
    const addedData = changed.filter((e) => e.dataFile.content === DataFileContent.DATA && isNew(e));
    const addedDeletes = changed.filter((e) => e.dataFile.content !== DataFileContent.DATA && isNew(e));
    const changedDataPaths = new Set(changed.filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath));
    // Removed data files: those of the indexed snapshot's own manifests not listed any more, or, without its
    // manifest list, the files the index knows that the current snapshot does not have (all were read above).
    let removed: string[];
    if (baseList !== null) {
      const gone: string[] = [];
      for (const m of baseList) {
        if (curPaths.has(m.manifestPath)) continue;
        for (const e of await entriesOf(m)) if (e.dataFile.content === DataFileContent.DATA && !changedDataPaths.has(e.dataFile.filePath)) gone.push(e.dataFile.filePath);
      }
      removed = gone;
    } else {
      removed = this.index.filePaths().filter((p) => !changedDataPaths.has(p));
    }
    const removedSet = new Set(removed);
    const keyIds = this.opts.keyFields.map((f) => f.id);
    const eqAdded = addedDeletes.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES);
    const sameKey = (ids: readonly number[] | undefined): boolean => ids !== undefined && ids.length === keyIds.length && ids.every((id) => keyIds.includes(id));
    if (eqAdded.some((e) => !sameKey(e.dataFile.equalityIds))) return null;

    // Sequence numbers of files not read here, only when a duplicate or an equality delete needs them.
    let seqOfAll: Map<string, bigint> | null = null;
    const seqOf = async (path: string): Promise<bigint> => {
      const known = changed.find((e) => e.dataFile.filePath === path);
      if (known !== undefined) return known.sequenceNumber ?? 0n;
      if (seqOfAll === null) {
        const all = new Map<string, bigint>();
        for (const m of curList) {
          if (baseList === null || !basePaths.has(m.manifestPath)) continue; // already in `changed`
          for (const e of await entriesOf(m)) all.set(e.dataFile.filePath, e.sequenceNumber ?? 0n);
        }
        seqOfAll = all;
      }
      return seqOfAll.get(path) ?? 0n;
    };

    let filesRead = 0;
    let rowsRead = 0;
    let sweeps = 0;
    const repairs: Repair[] = [];
    const duplicated = new Map<string, { key: Values; kept: RowAt; dropped: RowAt[] }>();

    // 1. New deletes of rows in files the index keeps. Before the added files: a key whose old row a new delete
    // removed and that an added file holds again (an upsert by position or by equality) has one live row, not two.
    // The rows a pending repair names die the same ways: their positions and keys are noted for them below.
    const addedPaths = new Set(addedData.map((e) => e.dataFile.filePath));
    const pendingRepairs = this.repair?.repairs ?? [];
    const repairFiles = new Set(pendingRepairs.map((r) => r.file.path));
    const deletedInRepairFiles = new Map<string, Set<number>>();
    const byTarget = new Map<string, number[]>();
    const puffins = new Map<string, Promise<Uint8Array>>();
    for (const d of addedDeletes) {
      if (d.dataFile.content !== DataFileContent.POSITION_DELETES) continue;
      const put = (path: string, positions: readonly number[]): void => {
        if (repairFiles.has(path)) {
          const set = deletedInRepairFiles.get(path) ?? new Set<number>();
          for (const p of positions) set.add(p);
          deletedInRepairFiles.set(path, set);
        }
        if (addedPaths.has(path) || removedSet.has(path) || this.index.rowsIn(path) === 0) return;
        const list = byTarget.get(path) ?? [];
        for (const p of positions) list.push(p);
        byTarget.set(path, list);
      };
      if (isDeletionVector(d.dataFile)) {
        const target = d.dataFile.referencedDataFile ?? '';
        if (repairFiles.has(target) || (!addedPaths.has(target) && !removedSet.has(target) && this.index.rowsIn(target) > 0)) put(target, [...(await readDeletionVector(table.io, d.dataFile, puffins))].map(Number));
        continue;
      }
      filesRead++;
      for (const [path, list] of await readPositionDeletes(table, d.dataFile.filePath)) put(path, list);
    }
    for (const [path, positions] of byTarget) {
      const keys = await readColumns(table, path, this.opts.keyFields);
      filesRead++;
      for (const pos of positions) {
        const key = keys[pos];
        if (key === undefined) continue;
        rowsRead++;
        const at = this.index.get(key);
        if (at !== undefined && at.file.path === path && at.pos === pos) this.index.delete(key);
      }
    }
    const eqDeleted: { keys: Set<string>; inScope: (f: IndexedFile) => boolean; sequenceNumber: bigint }[] = [];
    for (const d of eqAdded) {
      const ids = d.dataFile.equalityIds ?? [];
      const order = keyIds.map((id) => ids.indexOf(id));
      const eqFields = ids.map((id) => schema.fieldOrThrow(id));
      const eqSeq = d.sequenceNumber ?? 0n;
      const spec = specs.get(d.dataFile.specId);
      const inScope = (f: IndexedFile): boolean => spec === undefined || spec.isUnpartitioned || (f.specId === d.dataFile.specId && valuesKey(f.partition) === valuesKey(d.dataFile.partition));
      const keys = new Set<string>();
      filesRead++;
      for (const row of await readColumns(table, d.dataFile.filePath, eqFields)) {
        const key = order.map((i) => row[i] ?? null);
        keys.add(valuesKey(key));
        const at = this.index.get(key);
        if (at === undefined || addedPaths.has(at.file.path)) continue; // added files were read with it applied
        if (inScope(at.file) && (await seqOf(at.file.path)) < eqSeq) this.index.delete(key);
      }
      eqDeleted.push({ keys, inScope, sequenceNumber: eqSeq });
    }

    // 2. Added data files, with every delete of the current snapshot that can apply to them. Equality deletes
    // older than the indexed snapshot still apply to a file whose data sequence number is older still (a
    // compaction keeps its starting sequence number): those are in the changed manifests already read (a
    // rewritten or merged manifest, or all of them when the indexed snapshot's manifest list is gone) and in the
    // unchanged ones, read only if the table has any.
    if (addedData.length > 0) {
      let deletes = addedDeletes;
      const eqTotal = current.summary['total-equality-deletes'];
      if (eqTotal === undefined || eqTotal !== '0') {
        const older: ManifestEntry[] = changed.filter((e) => !isNew(e));
        for (const m of curList) if (m.content === ManifestContent.DELETES && baseList !== null && basePaths.has(m.manifestPath)) older.push(...(await entriesOf(m)));
        deletes = [...addedDeletes, ...older.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES)];
      }
      const paths = new Set(addedData.map((e) => e.dataFile.filePath));
      const minSeq = addedData.reduce((a, e) => (e.sequenceNumber !== null && e.sequenceNumber < a ? e.sequenceNumber : a), addedData[0]?.sequenceNumber ?? 0n);
      const pending: { key: Values; file: DataFile; pos: number; seq: bigint }[] = [];
      filesRead += addedData.length;
      const shard = this.shardOf;
      await scanEntries(table, this.opts.keyFields, addedData, deletesFor(deletes, paths, minSeq), (file, pos, key, seq) => {
        rowsRead++;
        // Keys of other replicas' partitions stay out, as they did from the build (key-shard.ts).
        if (shard === null || shard.keeps(key)) pending.push({ key: [...key], file, pos, seq });
      });
      const files = new Map<string, IndexedFile>();
      for (const r of pending) {
        let f = files.get(r.file.filePath);
        if (f === undefined) files.set(r.file.filePath, (f = { path: r.file.filePath, specId: r.file.specId, partition: r.file.partition }));
        const held = this.index.get(r.key);
        if (held === undefined || removedSet.has(held.file.path) || (held.file.path === f.path && held.pos === r.pos)) {
          this.index.set(r.key, f, r.pos);
          continue;
        }
        // The key has a live row elsewhere too: keep the newer, repair the other (index-build.ts).
        const row: RowAt = { file: f, pos: r.pos, sequenceNumber: r.seq };
        const other: RowAt = { file: held.file, pos: held.pos, sequenceNumber: paths.has(held.file.path) ? (pending.find((x) => x.file.filePath === held.file.path)?.seq ?? 0n) : await seqOf(held.file.path) };
        const keep = isNewerRow(row, other) ? row : other;
        const drop = keep === row ? other : row;
        if (keep === row) this.index.set(r.key, f, r.pos);
        repairs.push({ key: r.key, ...drop });
        const text = valuesKey(r.key);
        const d = duplicated.get(text);
        duplicated.set(text, d === undefined ? { key: r.key, kept: keep, dropped: [drop] } : { key: d.key, kept: keep, dropped: [...d.dropped, drop] });
      }
    }

    // 3. Removed data files whose rows were not moved into an added file: their keys leave the index.
    for (const path of removed) {
      if (this.index.rowsIn(path) > 0) {
        let rows: (IcebergValue | null)[][] | null = null;
        try {
          rows = await readColumns(table, path, this.opts.keyFields);
          filesRead++;
        } catch (e) {
          if (!(e instanceof FloeError) || e.code !== 'io_not_found') throw e;
        }
        if (rows === null) {
          this.index.deleteRowsOf(path);
          sweeps++;
        } else {
          rows.forEach((key, pos) => {
            rowsRead++;
            const at = this.index.get(key);
            if (at !== undefined && at.file.path === path && at.pos === pos) this.index.delete(key);
          });
          if (this.index.rowsIn(path) > 0) {
            // Rows the file does not hold at those positions: a file rewritten in place is not Iceberg.
            this.index.deleteRowsOf(path);
            sweeps++;
          }
        }
      }
      this.index.releaseFile(path);
    }

    // A pending repair names live rows of the indexed snapshot; those in removed files (without the indexed
    // snapshot's manifest list: in files the current snapshot does not have), at positions new deletes name, or
    // deleted by a new equality delete are gone. A key whose kept row went while rows a repair names are still
    // live keeps the newest of those, as a build would (index-build.ts): it leaves the repair and enters the index.
    const gone = (path: string): boolean => (baseList === null ? !changedDataPaths.has(path) : removedSet.has(path));
    const live = pendingRepairs.filter((r) =>
      !gone(r.file.path) &&
      !(deletedInRepairFiles.get(r.file.path)?.has(r.pos) ?? false) &&
      !eqDeleted.some((e) => e.sequenceNumber > r.sequenceNumber && e.keys.has(valuesKey(r.key)) && e.inScope(r.file)));
    const promoted = new Map<string, Repair>();
    for (const r of live) {
      if (this.index.get(r.key) !== undefined) continue;
      const held = promoted.get(valuesKey(r.key));
      if (held === undefined || isNewerRow(r, held)) promoted.set(valuesKey(r.key), r);
    }
    for (const r of promoted.values()) this.index.set(r.key, r.file, r.pos);
    const kept = live.filter((r) => promoted.get(valuesKey(r.key)) !== r);
    const allRepairs = [...kept, ...repairs];
    if (duplicated.size > 0 && this.opts.onDuplicateKeys === 'fail') {
      const names = this.opts.keyFields.map((f) => f.name);
      const first = [...duplicated.values()][0] ?? null;
      throw duplicateKeysError(this.opts.table, duplicated.size, repairs.length, names, first?.key ?? null, first === null ? '' : describeDuplicate(names, first));
    }
    const names = this.opts.keyFields.map((f) => f.name);
    this.repair = allRepairs.length === 0 ? null : {
      repairs: allRepairs,
      keys: new Set(allRepairs.map((r) => valuesKey(r.key))).size,
      examples: [...(this.repair?.examples ?? []), ...[...duplicated.values()].slice(0, 5).map((d) => describeDuplicate(names, d))],
    };
    const from = this.base;
    this.base = current.snapshotId;
    this.baseSequence = current.sequenceNumber;
    return {
      fromSnapshot: from === null ? null : String(from), toSnapshot: String(current.snapshotId), manifestsRead,
      dataFilesAdded: addedData.length, dataFilesRemoved: removed.length, deleteFilesAdded: addedDeletes.length,
      filesRead, rowsRead, sweeps, duplicateKeys: duplicated.size, ms: Date.now() - t0,
    };
  }

  private noChange(snapshotId: bigint | null, t0: number): CatchUp {
    const id = snapshotId === null ? null : String(snapshotId);
    return {
      fromSnapshot: id, toSnapshot: id, manifestsRead: 0, dataFilesAdded: 0, dataFilesRemoved: 0,
      deleteFilesAdded: 0, filesRead: 0, rowsRead: 0, sweeps: 0, duplicateKeys: 0, ms: Date.now() - t0,
    };
  }
}
