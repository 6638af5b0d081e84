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
 */
import { FloeError, assert } from '../errors.js';
import { readPuffin, writePuffin } from '../iceberg/puffin.js';
import type { IcebergValue } from '../iceberg/values.js';
import { KeyArena } from './pk-arena.js';
import { decodeIndex, encodeIndex, type IndexSnapshotMeta } from './pk-index-format.js';
import { KeyBytes, intKey, intKeyParts, mixInt64, mixed, unmixInt64 } from './pk-key-bytes.js';
import { FileLocations, POS_MAX, type IndexedFile, type Location } from './pk-locations.js';
import { SlotTable, type ExportedSegments } from './pk-slots.js';

export type { IndexSnapshotMeta } from './pk-index-format.js';
export type { IndexedFile, Location } from './pk-locations.js';

/** A key's values in the table's key order. */
type Values = readonly (IcebergValue | null)[];

export interface PkIndexOptions {
  /**
   * Tests only: the 64-bit fingerprint (hi, lo) of a key's canonical bytes, instead of the index's own. A weak one
   * makes different keys share fingerprints, to prove they stay distinct.
   */
  readonly fingerprint?: (keyBytes: Uint8Array) => readonly [number, number];
}

/** The index object's own fields and the key scratch's views, approximately. */
const INDEX_OVERHEAD_BYTES = 1024;

export class PkIndex {
  private readonly locs = new FileLocations();
  private ints = new SlotTable(3, null);
  private others: SlotTable;
  private arena = new KeyArena();
  /** The canonical bytes of the other key being looked up, and its fingerprint. */
  private readonly key = new KeyBytes();
  private readonly fp = { hi: 0, lo: 0 };
  private readonly weakFingerprint: ((keyBytes: Uint8Array) => readonly [number, number]) | null;

  constructor(readonly keysMax = 50_000_000, options: PkIndexOptions = {}) {
    this.weakFingerprint = options.fingerprint ?? null;
    this.others = this.otherTable();
  }

  private otherTable(): SlotTable {
    return new SlotTable(4, (words, at) => this.arena.equals(words[at + 3] as number, this.key.bytes, this.key.length));
  }

  get size(): number {
    return this.ints.size + this.others.size;
  }

  /** Bytes held: every typed array, arena chunk and file-table structure (JS objects estimated). */
  get bytes(): number {
    return this.ints.bytes + this.others.bytes + this.arena.bytes + this.locs.bytes + this.key.bytes.byteLength + INDEX_OVERHEAD_BYTES;
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
   * Drops every entry that points into `path` by sweeping the whole index (memory only, no I/O): for a file the
   * table removed whose keys cannot be read any more (expired and deleted). Returns the entries dropped.
   */
  deleteRowsOf(path: string): number {
    const id = this.locs.idOf(path);
    if (id === undefined) return 0;
    const locs = this.locs;
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

  /** The fingerprint of `this.key` into `this.fp`. */
  private fingerprint(): void {
    if (this.weakFingerprint === null) {
      this.key.fingerprint(this.fp);
      return;
    }
    const [hi, lo] = this.weakFingerprint(this.key.bytes.slice(0, this.key.length));
    this.fp.hi = hi >>> 0;
    this.fp.lo = lo >>> 0;
  }

  /** The table of the key `find` looked up last. */
  private found: SlotTable = this.ints;

  /** The ref of `key` in its table (set as `found`: `ints` for an integer key, else `others`), or -1. */
  private find(key: Values): number {
    if (intKeyParts(key)) {
      mixInt64(intKey.hi, intKey.lo);
      this.found = this.ints;
      return this.ints.find(mixed.hi, mixed.lo);
    }
    this.key.encode(key);
    this.fingerprint();
    this.found = this.others;
    return this.others.find(this.fp.hi, this.fp.lo);
  }

  get(key: Values): Location | undefined {
    const ref = this.find(key);
    return ref < 0 ? undefined : this.locs.locationOf(this.found.loc(ref));
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
    (integerKeys ? this.ints : this.others).reserve(this.size + keys);
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
    const dups: number[] = [];
    const locs = this.locs;
    const ints = this.ints;
    let inserted = 0;
    let lastLoc = -1;
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
      if (ints.size + this.others.size >= this.keysMax) this.checkBudget();
      const loc = locs.locate(file, i);
      if (ints.insertIfAbsent(mixed.hi, mixed.lo, loc)) {
        inserted++;
        lastLoc = loc;
      } else {
        dups.push(i);
      }
    }
    if (inserted > 0) locs.bump(lastLoc, inserted);
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

  /** Sets the integer key whose mix is in `mixed` at `loc`. */
  private setInt(loc: number): void {
    const ref = this.ints.find(mixed.hi, mixed.lo);
    if (ref >= 0) {
      this.locs.bump(this.ints.loc(ref), -1);
      this.ints.setLoc(ref, loc);
    } else {
      this.checkBudget();
      this.ints.insert(mixed.hi, mixed.lo, loc, 0);
    }
    this.locs.bump(loc, 1);
  }

  /** Sets the other key whose canonical bytes are in `key`, fingerprint in `fp`, at `loc`. */
  private setOther(loc: number): void {
    const ref = this.others.find(this.fp.hi, this.fp.lo);
    if (ref >= 0) {
      this.locs.bump(this.others.loc(ref), -1);
      this.others.setLoc(ref, loc);
    } else {
      this.checkBudget();
      this.others.insert(this.fp.hi, this.fp.lo, loc, this.arena.append(this.key.bytes, this.key.length));
    }
    this.locs.bump(loc, 1);
  }

  private checkBudget(): void {
    if (this.size >= this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
  }

  delete(key: Values): boolean {
    const ref = this.find(key);
    if (ref < 0) return false;
    const table = this.found;
    this.locs.bump(table.loc(ref), -1);
    if (table === this.ints) {
      table.remove(ref);
      return true;
    }
    this.arena.release(table.payload(ref));
    table.remove(ref);
    this.compactIfWasteful();
    return true;
  }

  /** Copies the live key bytes into a fresh arena once deleted keys' bytes outweigh them (pk-arena.ts). */
  private compactIfWasteful(): void {
    if (!this.arena.wantsCompaction) return;
    const old = this.arena;
    const fresh = new KeyArena();
    this.others.mapPayloads((ref) => {
      const bytes = old.view(ref);
      return fresh.append(bytes, bytes.length);
    });
    this.arena = fresh;
  }

  /** The index as bytes (pk-index-format.ts); see `indexToBytes`. */
  serialize(meta: IndexSnapshotMeta): Buffer {
    const locs = this.locs;
    return encodeIndex(meta, {
      files: locs.fileTable(),
      intCount: this.ints.size,
      forEachInt: (put) => this.ints.forEach((hi, lo, loc) => {
        unmixInt64(hi, lo);
        put(mixed.hi, mixed.lo, locs.fileIdOf(loc), locs.posOf(loc));
      }),
      otherCount: this.others.size,
      forEachOther: (put) => this.others.forEach((_hi, _lo, loc, payload) => put(this.arena.view(payload), locs.fileIdOf(loc), locs.posOf(loc))),
    });
  }

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

  clear(): void {
    this.locs.clear();
    this.ints = new SlotTable(3, null);
    this.others = this.otherTable();
    this.arena.clear();
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
