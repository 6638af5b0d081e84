/**
 * The primary-key index of one table: key → (data file, row position) for every live row, so an update or a
 * delete becomes a position delete (spec: "Position Delete Files": `file_path`, `pos`) instead of an equality
 * delete that every reader must join against.
 *
 * Two tables of packed slots (pk-slots.ts), each entry exact:
 *   - an integer key (one integer column, value in [−2^63, 2^63): pk-key-bytes.ts) is stored as a bijective mix
 *     of its 64 bits, so the stored hash is the key: 12 bytes a slot with its 38-bit location;
 *   - every other key (strings, binary, composite keys, integers beyond int64 such as a decimal(20,0) BIGINT
 *     UNSIGNED ≥ 2^63 or a decimal(38,s) unscaled value) as a 64-bit fingerprint of its canonical bytes, 16 bytes
 *     a slot with the location and a ref to those bytes in an arena (pk-arena.ts); a fingerprint match is
 *     confirmed against the bytes, so two keys that share a fingerprint are two entries, never one.
 * Which table holds a key depends only on its value, so a key is always looked up where it was stored.
 * Locations are row numbers over paged data files (pk-locations.ts), which also interns the files and counts each
 * file's indexed rows.
 *
 * Memory (native-bench/index.bench.ts: random-order keys, files of 1 M rows, 1 M keys): 14.9 bytes a long key
 * (12.125-byte slots at a load that stays near 0.81: pk-slots.ts), 62 a 36-character string key, 45 a
 * (long, short string) key; `bytes` counts every array, arena chunk and file-table structure. Bounded: `keysMax`
 * keys; beyond it `set` throws and the table falls back to equality deletes.
 *
 * With `spill`, the memory part is bounded in bytes instead: once `bytes` passes `memoryBytesMax()` (checked every
 * `BUDGET_CHECK_INSERTS` new entries), the in-memory entries are written to local disk as a sorted run and the slot
 * tables start empty (pk-spill.ts, pk-spill-runs.ts). The newest entry of a key is its truth: memory, then runs
 * newest to oldest. An update of a key held only on disk shadows it with a memory entry; a delete of a key whose
 * newest entry is on disk writes a tombstone (location TOMBSTONE) that masks it. `size` and the per-file row counts
 * stay exact because a key's older entries are always masked: an entry is dropped only by a merge that keeps the
 * key's newest one, or by a full rewrite (`deleteRowsOf`). So a released file's id and pages, reused for another
 * file, can only be named by masked entries, never by a visible one.
 */
import { FloeError, assert } from '../errors.js';
import { readPuffin, writePuffin } from '../iceberg/puffin.js';
import { IndexMemory, type Values } from './pk-index-memory.js';
import { decodeIndex, encodeIndex, type IndexEntries, type IndexSnapshotMeta } from './pk-index-format.js';
import { decodeKeyBytes, int64Of, intKeyParts, intKey, mixInt64, mixed, unmixInt64 } from './pk-key-bytes.js';
import { FileLocations, POS_MAX, TOMBSTONE, type IndexedFile, type Location } from './pk-locations.js';
import { InsertBatch } from './pk-insert-batch.js';
import type { ExportedSegments } from './pk-slots.js';
import { KIND_INT, KIND_OTHER } from './pk-spill.js';
import { SpillRuns } from './pk-spill-runs.js';

export type { IndexSnapshotMeta } from './pk-index-format.js';
export type { IndexedFile, Location } from './pk-locations.js';

export interface PkIndexOptions {
  /**
   * Tests only: the 64-bit fingerprint (hi, lo) of a key's canonical bytes, instead of the index's own. A weak one
   * makes different keys share fingerprints, to prove they stay distinct.
   */
  readonly fingerprint?: (keyBytes: Uint8Array) => readonly [number, number];
  /**
   * Spill to local disk: when the memory part (`bytes`) passes `memoryBytesMax()`, write it to a sorted run under
   * `dir` (created if missing) and go on. `memoryBytesMax` is called once every `BUDGET_CHECK_INSERTS` new entries.
   */
  readonly spill?: { readonly dir: string; readonly memoryBytesMax: () => number };
}

/**
 * No budget in keys by default: memory is budgeted in bytes (`spill`), and the structures' own limits (row pages,
 * key-byte chunks, segment refs) throw `index_full` long before this.
 */
const KEYS_MAX_DEFAULT = 2 ** 40;
/** Bytes an integer key takes in memory, slots at their load and file table included (native-bench/index.bench.ts: 13.9–15). */
const INT_KEY_BYTES_ESTIMATE = 16;
/** The index object's own fields and the key scratch's views, approximately. */
const INDEX_OVERHEAD_BYTES = 1024;
/** New memory entries between two checks of the memory part against the spill budget. */
const BUDGET_CHECK_INSERTS = 1024;
/** No spill of fewer memory entries: when the runs' fences and filters alone fill a tiny budget, runs stay sizable. */
const SPILL_ENTRIES_MIN = 512;
const NO_BYTES = new Uint8Array(0);

export class PkIndex extends IndexMemory {
  private readonly locs = new FileLocations();
  private readonly spillTo: NonNullable<PkIndexOptions['spill']> | null;
  /** The runs on disk, once the index spilled. */
  private disk: SpillRuns | null = null;
  /** By kind ([integer keys, other keys]): tombstones in memory; live keys whose newest entry is on disk. */
  private readonly tombs = [0, 0];
  private readonly diskLive = [0, 0];
  /** New memory entries since the last budget check. */
  private unchecked = 0;

  constructor(readonly keysMax = KEYS_MAX_DEFAULT, options: PkIndexOptions = {}) {
    super(options.fingerprint ?? null);
    this.spillTo = options.spill ?? null;
  }

  /** Live keys, in memory and on disk. */
  get size(): number {
    return this.liveOf(KIND_INT) + this.liveOf(KIND_OTHER);
  }

  private liveOf(kind: number): number {
    return (kind === KIND_INT ? this.ints.size : this.others.size) - (this.tombs[kind] as number) + (this.diskLive[kind] as number);
  }

  /**
   * Bytes held in memory (what the spill budget bounds): every typed array, arena chunk and file-table structure
   * (JS objects estimated), and the runs' fences and filters.
   */
  get bytes(): number {
    return this.tablesBytes + this.locs.bytes + INDEX_OVERHEAD_BYTES + (this.disk?.memoryBytes ?? 0);
  }

  /** Bytes of the run files on local disk (0 until the index spills). */
  get diskBytes(): number {
    return this.disk?.diskBytes ?? 0;
  }

  /** Runs on local disk. */
  get runs(): number {
    return this.disk?.count ?? 0;
  }

  get spilled(): boolean {
    return this.runs > 0;
  }

  /** Rows of the file `path` the index holds (0 for a file it does not know). */
  rowsIn(path: string): number {
    return this.locs.rowsIn(path);
  }

  /** The data files the index knows (some may hold no row any more until released). */
  filePaths(): string[] {
    return this.locs.filePaths();
  }

  /** Forgets a file none of whose rows is indexed (the table removed it); its id is reused. */
  releaseFile(path: string): void {
    this.locs.release(path);
  }

  /**
   * Drops every entry that points into `path` by sweeping the whole index: for a file the table removed whose
   * keys cannot be read any more (expired and deleted). Returns the entries dropped. No I/O unless the index
   * spilled; then memory and every run are merged into one run without them (a rewrite: this is rare).
   */
  deleteRowsOf(path: string): number {
    const id = this.locs.idOf(path);
    if (id === undefined) return 0;
    const locs = this.locs;
    if (this.disk !== null && this.disk.count > 0) {
      if (locs.rowsIn(path) === 0) return 0;
      let dropped = 0;
      const live = this.disk.rewriteAll(this.sortedTables(), (c) => {
        if (locs.fileIdOf(c.loc) !== id) return false;
        dropped++;
        return true;
      });
      this.clearMemory();
      this.diskLive[KIND_INT] = live[KIND_INT] as number;
      this.diskLive[KIND_OTHER] = live[KIND_OTHER] as number;
      locs.dropRows(id, dropped);
      assert(locs.rowsIn(path) === 0, 'a swept file holds no indexed row', { path, rows: locs.rowsIn(path) });
      return dropped;
    }
    let n = this.ints.removeWhere((loc) => locs.fileIdOf(loc) === id);
    n += this.others.removeWhere((loc, payload) => {
      if (locs.fileIdOf(loc) !== id) return false;
      this.arena.release(payload);
      return true;
    });
    locs.dropRows(id, n);
    assert(locs.rowsIn(path) === 0, 'a swept file holds no indexed row', { path, rows: locs.rowsIn(path) });
    this.compactIfWasteful();
    return n;
  }

  /** The location of the key `find` looked up last in the runs (TOMBSTONE: deleted there), or -1. */
  private diskFind(): number {
    if (this.disk === null) return -1;
    if (this.found === this.ints) return this.disk.find(mixed.hi >>> 0, mixed.lo >>> 0, KIND_INT, NO_BYTES, 0);
    return this.disk.find(this.fp.hi >>> 0, this.fp.lo >>> 0, KIND_OTHER, this.key.bytes, this.key.length);
  }

  get(key: Values): Location | undefined {
    const ref = this.find(key);
    const loc = ref >= 0 ? this.found.loc(ref) : this.diskFind();
    return loc < 0 || loc === TOMBSTONE ? undefined : this.locs.locationOf(loc);
  }

  set(key: Values, file: IndexedFile, pos: number): void {
    if (!(pos >= 0 && pos <= POS_MAX)) assert(false, 'row position fits u32', { pos });
    const loc = this.locs.locate(file, pos);
    if (intKeyParts(key)) {
      mixInt64(intKey.hi, intKey.lo);
      this.setInt(loc);
    } else {
      this.key.encode(key);
      this.fingerprint();
      this.setOther(loc);
    }
  }

  /** Sizes the index for `keys` more keys of one kind (integer keys or not), before a bootstrap inserts them. */
  reserve(keys: number, integerKeys: boolean): void {
    if (!this.fitsInMemory(keys)) return; // the slots grow as keys come, and spill at the budget
    (integerKeys ? this.ints : this.others).reserve(this.size + keys);
  }

  /**
   * Whether `keys` more integer keys fit in the memory budget (always without spilling), estimated at
   * `INT_KEY_BYTES_ESTIMATE` each: a bootstrap builds in threads only what fits (they know no budget).
   */
  fitsInMemory(keys: number): boolean {
    return this.spillTo === null || this.bytes + keys * INT_KEY_BYTES_ESTIMATE <= this.spillTo.memoryBytesMax();
  }

  /**
   * Bootstrap's fast path for a key of one integer column: rows `[0, count)` of a decoded key column, row `i` at
   * position `i` of `file`, its value given as two's complement halves — `halves[2i]` the low, `halves[2i + 1]`
   * the high word (an Int32Array over a BigInt64Array column's buffer, little-endian) or, with `int32`, `halves[i]`
   * the value of an int column. Rows at the positions in `deleted` (ascending) are skipped. Each key the index
   * does not hold yet is inserted; the rows whose key it already holds (duplicate keys: the caller resolves them
   * through `get`/`set`) are returned. No key array and no bigint is made.
   */
  insertIntsIfAbsent(halves: Int32Array, count: number, int32: boolean, file: IndexedFile, deleted: readonly number[] | null): number[] {
    if (!(count - 1 <= POS_MAX)) assert(false, 'row positions fit u32', { count });
    assert(halves.length >= (int32 ? count : 2 * count), 'a key column holds its rows', { count, length: halves.length });
    // Not spilled and the file fits the budget: the live rows' mixed keys are sorted in the table's memory order
    // first, then inserted in one sweep (pk-insert-batch.ts).
    if (this.runs === 0 && this.fitsInMemory(count)) {
      const dups = this.insertSorted(halves, count, int32, file, deleted);
      this.checkSpill();
      return dups;
    }
    // Spilled, or past the budget with this file: per key, the runs, their tombstones and the budget checked as
    // the keys go in (the index may spill on the way).
    const dups: number[] = [];
    let d = 0;
    for (let i = 0; i < count; i++) {
      if (deleted !== null && d < deleted.length && deleted[d] === i) {
        d++;
        continue;
      }
      const hi = int32 ? ((halves[i] as number) < 0 ? -1 : 0) : (halves[2 * i + 1] as number);
      const lo = int32 ? (halves[i] as number) : (halves[2 * i] as number);
      if (!this.insertIntIfAbsent(hi, lo, file, i)) dups.push(i);
    }
    return dups;
  }

  private insertSorted(halves: Int32Array, count: number, int32: boolean, file: IndexedFile, deleted: readonly number[] | null): number[] {
    // Per call: a scratch of 24 bytes a row, not held between files.
    const batch = new InsertBatch(count);
    let d = 0;
    let nextDeleted = deleted !== null && deleted.length > 0 ? (deleted[0] as number) : -1;
    for (let i = 0; i < count; i++) {
      if (i === nextDeleted) {
        d++;
        nextDeleted = deleted !== null && d < deleted.length ? (deleted[d] as number) : -1;
        continue;
      }
      if (int32) {
        const v = halves[i] as number;
        mixInt64(v < 0 ? -1 : 0, v >>> 0);
      } else {
        mixInt64(halves[2 * i + 1] as number, (halves[2 * i] as number) >>> 0);
      }
      batch.push(mixed.hi, mixed.lo, i);
    }
    batch.sort();
    const n = batch.size;
    const hi = batch.hi;
    const lo = batch.lo;
    const pos = batch.pos;
    const dups: number[] = [];
    const locs = this.locs;
    const ints = this.ints;
    let inserted = 0;
    let lastLoc = -1;
    for (let j = 0; j < n; j++) {
      if (ints.size + this.others.size >= this.keysMax) {
        if (inserted > 0) locs.bump(lastLoc, inserted);
        this.checkBudget();
      }
      const loc = locs.locate(file, pos[j] as number);
      if (ints.insertIfAbsent(hi[j] as number, lo[j] as number, loc)) {
        inserted++;
        lastLoc = loc;
      } else {
        dups.push(pos[j] as number);
      }
    }
    if (inserted > 0) locs.bump(lastLoc, inserted);
    dups.sort((a, b) => a - b);
    return dups;
  }

  /**
   * A parallel bootstrap's plan of one data file: the page ids of its rows (pk-locations.ts), so a thread can
   * compute the locations of its rows without the file table.
   */
  planFile(file: IndexedFile, rows: number): Int32Array {
    return this.locs.pagesFor(file, rows);
  }

  /**
   * Takes over the integer-key segments a bootstrap thread built (index-bootstrap-thread.ts) over files planned
   * here (`planFile`), with its inserted rows per page id. Only into an index that holds no integer key yet.
   */
  adoptInts(part: ExportedSegments, pageRows: Uint32Array): void {
    this.ints.adopt(part);
    this.locs.addRowsByPage(pageRows);
    if (this.size > this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
  }

  /** The file and position of a location a bootstrap thread reported. */
  locationAt(loc: number): Location {
    return this.locs.locationOf(loc);
  }

  /**
   * Bootstrap's per-key path for an integer key given as its two's complement halves: inserts it at (file, pos)
   * unless the index holds it (in memory or on disk); true when inserted.
   */
  insertIntIfAbsent(hi: number, lo: number, file: IndexedFile, pos: number): boolean {
    mixInt64(hi | 0, lo >>> 0);
    return this.insertFoundIfAbsent(KIND_INT, mixed.hi, mixed.lo, file, pos);
  }

  /**
   * Bootstrap's path for every other key given as its canonical bytes `src[start, end)` (key-columns.ts
   * `readKeyRows`; never a one-integer key, which lives in the integer table): inserts it at (file, pos) unless
   * the index holds it, in memory or on disk; true when inserted.
   */
  insertKeyBytesIfAbsent(src: Uint8Array, start: number, end: number, file: IndexedFile, pos: number): boolean {
    this.key.load(src.subarray(start, end));
    this.fingerprint();
    return this.insertFoundIfAbsent(KIND_OTHER, this.fp.hi, this.fp.lo, file, pos);
  }

  /**
   * Inserts the key whose hash is `(hi, lo)` (an integer key's mix; another key's fingerprint, its bytes in `key`)
   * at (file, pos) unless its table holds it live or the runs on disk do; true when inserted.
   */
  private insertFoundIfAbsent(kind: number, hi: number, lo: number, file: IndexedFile, pos: number): boolean {
    if (!(pos >= 0 && pos <= POS_MAX)) assert(false, 'row position fits u32', { pos });
    const table = kind === KIND_INT ? this.ints : this.others;
    this.found = table;
    const ref = table.find(hi, lo);
    if (ref >= 0) {
      if (table.loc(ref) !== TOMBSTONE) return false;
      this.replace(ref, kind, this.locs.locate(file, pos));
      return true;
    }
    const old = this.diskFind();
    if (old >= 0 && old !== TOMBSTONE) return false;
    this.checkBudget();
    const loc = this.locs.locate(file, pos);
    table.insert(hi, lo, loc, kind === KIND_INT ? 0 : this.arena.append(this.key.bytes, this.key.length));
    this.locs.bump(loc, 1);
    this.afterInsert();
    return true;
  }

  /** Sets the integer key whose mix is in `mixed` at `loc`. */
  private setInt(loc: number): void {
    this.found = this.ints;
    const ref = this.ints.find(mixed.hi, mixed.lo);
    if (ref >= 0) {
      this.replace(ref, KIND_INT, loc);
      return;
    }
    this.shadowDisk(KIND_INT);
    this.ints.insert(mixed.hi, mixed.lo, loc, 0);
    this.locs.bump(loc, 1);
    this.afterInsert();
  }

  /** Sets the other key whose canonical bytes are in `key`, fingerprint in `fp`, at `loc`. */
  private setOther(loc: number): void {
    this.found = this.others;
    const ref = this.others.find(this.fp.hi, this.fp.lo);
    if (ref >= 0) {
      this.replace(ref, KIND_OTHER, loc);
      return;
    }
    this.shadowDisk(KIND_OTHER);
    this.others.insert(this.fp.hi, this.fp.lo, loc, this.arena.append(this.key.bytes, this.key.length));
    this.locs.bump(loc, 1);
    this.afterInsert();
  }

  /** Points the memory entry `ref` of `found` (live or a tombstone) at `loc`. */
  private replace(ref: number, kind: number, loc: number): void {
    const old = this.found.loc(ref);
    if (old === TOMBSTONE) {
      this.checkBudget();
      this.tombs[kind] = (this.tombs[kind] as number) - 1;
    } else {
      this.locs.bump(old, -1);
    }
    this.found.setLoc(ref, loc);
    this.locs.bump(loc, 1);
  }

  /**
   * Before the key `find` looked up (absent from memory) gets a memory entry: a live entry of it on disk leaves the
   * counts (the memory entry shadows it); otherwise the key is new and must fit the budget in keys.
   */
  private shadowDisk(kind: number): void {
    const old = this.diskFind();
    if (old >= 0 && old !== TOMBSTONE) {
      this.locs.bump(old, -1);
      this.diskLive[kind] = (this.diskLive[kind] as number) - 1;
    } else {
      this.checkBudget();
    }
  }

  /** After a new memory entry: spills the memory part when it passed the budget (checked now and then). */
  private afterInsert(): void {
    if (this.spillTo === null || ++this.unchecked < BUDGET_CHECK_INSERTS) return;
    this.checkSpill();
  }

  /** Spills now if the memory part passed the budget. */
  private checkSpill(): void {
    this.unchecked = 0;
    if (this.spillTo === null) return;
    if (this.ints.size + this.others.size >= SPILL_ENTRIES_MIN && this.bytes > this.spillTo.memoryBytesMax()) this.spill();
  }

  /** Writes the memory entries to a new run and empties the slot tables. */
  private spill(): void {
    const spillTo = this.spillTo;
    assert(spillTo !== null, 'only an index with a spill directory spills');
    this.disk ??= new SpillRuns(spillTo.dir, spillTo.memoryBytesMax);
    const memory = this.sortedTables();
    this.disk.add(memory.cursor(), memory.size);
    this.diskLive[KIND_INT] = (this.diskLive[KIND_INT] as number) + (memory.live[KIND_INT] as number);
    this.diskLive[KIND_OTHER] = (this.diskLive[KIND_OTHER] as number) + (memory.live[KIND_OTHER] as number);
    this.clearMemory();
  }

  /** Empties the slot tables and the arena (their entries are on disk now). */
  private clearMemory(): void {
    this.resetTables();
    this.tombs[KIND_INT] = 0;
    this.tombs[KIND_OTHER] = 0;
  }

  private checkBudget(): void {
    if (this.size >= this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
  }

  delete(key: Values): boolean {
    const ref = this.find(key);
    const table = this.found;
    const kind = table === this.ints ? KIND_INT : KIND_OTHER;
    if (ref < 0) return this.deleteOnDisk(kind);
    const loc = table.loc(ref);
    if (loc === TOMBSTONE) return false;
    this.locs.bump(loc, -1);
    const old = this.diskFind();
    if (old >= 0 && old !== TOMBSTONE) {
      // An older entry on disk would show again: mask it.
      table.setLoc(ref, TOMBSTONE);
      this.tombs[kind] = (this.tombs[kind] as number) + 1;
      return true;
    }
    if (table === this.ints) {
      table.remove(ref);
      return true;
    }
    this.arena.release(table.payload(ref));
    table.remove(ref);
    this.compactIfWasteful();
    return true;
  }

  /** Deletes the key `find` looked up (absent from memory) when its newest entry is on disk: a tombstone masks it. */
  private deleteOnDisk(kind: number): boolean {
    const old = this.diskFind();
    if (old < 0 || old === TOMBSTONE) return false;
    this.locs.bump(old, -1);
    this.diskLive[kind] = (this.diskLive[kind] as number) - 1;
    this.tombs[kind] = (this.tombs[kind] as number) + 1;
    if (kind === KIND_INT) this.ints.insert(mixed.hi, mixed.lo, TOMBSTONE, 0);
    else this.others.insert(this.fp.hi, this.fp.lo, TOMBSTONE, this.arena.append(this.key.bytes, this.key.length));
    this.afterInsert();
    return true;
  }

  /** Every live entry (memory and runs merged when spilled), as the saved format reads them. */
  private liveEntries(): IndexEntries {
    if (this.disk !== null && this.disk.count > 0) return this.disk.liveEntries(this.sortedTables(), this.locs, this.liveOf(KIND_INT), this.liveOf(KIND_OTHER));
    const locs = this.locs;
    return {
      files: locs.fileTable(),
      intCount: this.ints.size,
      forEachInt: (put) => this.ints.forEach((hi, lo, loc) => {
        unmixInt64(hi, lo);
        put(mixed.hi, mixed.lo, locs.fileIdOf(loc), locs.posOf(loc));
      }),
      otherCount: this.others.size,
      forEachOther: (put) => this.others.forEach((_hi, _lo, loc, payload) => put(this.arena.view(payload), locs.fileIdOf(loc), locs.posOf(loc))),
    };
  }

  /**
   * Calls `fn` with every live key (integers as bigint, other keys decoded from their canonical bytes:
   * pk-key-bytes.ts) and its location. `fn` must not change the index.
   */
  forEachKey(fn: (key: Values, at: Location) => void): void {
    const e = this.liveEntries();
    e.forEachInt((hi, lo, fileId, pos) => fn([int64Of(hi, lo)], { file: e.files[fileId] as IndexedFile, pos }));
    e.forEachOther((key, fileId, pos) => fn(decodeKeyBytes(key), { file: e.files[fileId] as IndexedFile, pos }));
  }

  /** Deletes every key `drop` accepts (a replica's partitions that moved away: key-shard.ts); returns how many. */
  removeKeysWhere(drop: (key: Values) => boolean): number {
    // Collected first (the entries cannot change while they are read): integer keys as 8 bytes each.
    let ints = new Int32Array(1024);
    let n = 0;
    const others: Values[] = [];
    const e = this.liveEntries();
    e.forEachInt((hi, lo) => {
      if (!drop([int64Of(hi, lo)])) return;
      if (2 * n + 2 > ints.length) {
        const grown = new Int32Array(ints.length * 2);
        grown.set(ints);
        ints = grown;
      }
      ints[2 * n] = hi;
      ints[2 * n + 1] = lo;
      n++;
    });
    e.forEachOther((bytes) => {
      const key = decodeKeyBytes(bytes);
      if (drop(key)) others.push(key);
    });
    for (let i = 0; i < n; i++) assert(this.delete([int64Of(ints[2 * i] as number, ints[2 * i + 1] as number)]), 'a key read from the index is in it');
    for (const key of others) assert(this.delete(key), 'a key read from the index is in it');
    return n + others.length;
  }

  /** The index as bytes (pk-index-format.ts); see `indexToBytes`. */
  serialize(meta: IndexSnapshotMeta): Buffer {
    return encodeIndex(meta, this.liveEntries());
  }

  /** A saved index (see `indexFromBytes`); with `options.spill`, one larger than the budget loads spilled. */
  static deserialize(b: Buffer, keysMax?: number, options: PkIndexOptions = {}): { index: PkIndex; meta: IndexSnapshotMeta } {
    const index = new PkIndex(keysMax, options);
    const meta = decodeIndex(b, {
      int: (hi, lo, file, pos) => {
        mixInt64(hi, lo);
        index.setInt(index.locs.locate(file, pos));
      },
      other: (key, file, pos) => {
        index.key.load(key);
        index.fingerprint();
        index.setOther(index.locs.locate(file, pos));
      },
    });
    return { index, meta };
  }

  /** Forgets every entry and file; deletes the run files. */
  clear(): void {
    this.locs.clear();
    this.clearMemory();
    this.diskLive[KIND_INT] = 0;
    this.diskLive[KIND_OTHER] = 0;
    this.unchecked = 0;
    const disk = this.disk;
    this.disk = null;
    disk?.clear();
  }

  /** Deletes the index's files (the owner drops the table); the index is empty after, and may be used again. */
  close(): void {
    this.clear();
  }
}

/** Puffin blob type of a saved index (floe's own: readers that do not know it skip it, as the spec says). */
export const INDEX_BLOB_TYPE = 'floe-pk-index-v1';

/**
 * The index as a Puffin file (Iceberg's container for statistics and indexes, saved with the `.stats`
 * extension Iceberg uses for statistics files; S3 Tables and SeaweedFS accept only Iceberg file types).
 */
export function indexToBytes(index: PkIndex, meta: IndexSnapshotMeta): Buffer {
  return writePuffin([{ type: INDEX_BLOB_TYPE, fields: meta.keyIds, snapshotId: BigInt(meta.snapshotId), sequenceNumber: 0n, data: index.serialize(meta) }], { 'created-by': 'floe' });
}

export function indexFromBytes(bytes: Uint8Array, keysMax?: number, options?: PkIndexOptions): { index: PkIndex; meta: IndexSnapshotMeta } {
  try {
    const blob = readPuffin(bytes).blobs.find((b) => b.type === INDEX_BLOB_TYPE);
    if (blob === undefined) throw new FloeError('metadata_invalid', `saved primary-key index: no ${INDEX_BLOB_TYPE} blob`);
    return PkIndex.deserialize(Buffer.from(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength), keysMax, options);
  } catch (e) {
    // Reads past the end of a truncated file, or a header that is not JSON: a damaged file, not a bug.
    if (e instanceof RangeError || e instanceof SyntaxError) throw new FloeError('metadata_invalid', `saved primary-key index: damaged (${e.message})`, {}, e);
    throw e;
  }
}
