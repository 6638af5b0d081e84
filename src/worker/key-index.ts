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
import { currentSnapshot } from '../iceberg/table-metadata.js';
import type { NestedField } from '../iceberg/types.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { buildKeyIndex, describeDuplicate, duplicateKeysError } from './index-build.js';
import { followTable, type CatchUp, type PendingRepair } from './index-catch-up.js';
import { PkIndex, type IndexedFile, type Location, type PkIndexOptions } from './pk-index.js';
import type { KeyShard } from './key-shard.js';

export type { CatchUp, PendingRepair };

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
    const followed = await followTable(table, this.index, { opts: this.opts, shard: this.shardOf, base: this.base, baseSequence: this.baseSequence, repair: this.repair });
    if (followed === null) return null;
    this.base = followed.base;
    this.baseSequence = followed.baseSequence;
    this.repair = followed.repair;
    return followed.catchUp;
  }

}
