/**
 * The primary-key index of one table: key → (data file, row position) for every live row, so an update or a
 * delete becomes a position delete (spec: "Position Delete Files": `file_path`, `pos`) instead of an equality
 * delete that every reader must join against.
 *
 * Memory: a single integer key whose value fits a signed 64-bit integer lives in an open-addressing table on
 * typed arrays (BigInt64 key, Int32 file id, Uint32 position, 16 bytes a slot, load ≤ 0.7: about 23 bytes a
 * key). Every other key is exact too, in a Map from the key's canonical text (`valuesKey`) to the packed
 * location (about 60 bytes plus the key text): strings, binary, composite keys, and integer values the
 * typed array cannot hold, which floe's type mapping does produce: a BIGINT UNSIGNED key in Debezium's
 * precise mode is decimal(20,0) up to 2^64 − 1, a DECIMAL(38,s) key's unscaled value reaches ±(10^38 − 1).
 * A BigInt64Array would wrap those (2^63 reads back as −2^63), and the key would never be found again: its
 * updates and deletes would be lost. Which side a key lives on depends only on its value, so a key is
 * always looked up where it was stored. Files are interned: each location holds a file id, not a path.
 * Bounded: `keysMax` keys; beyond it `set` throws and the table falls back to equality deletes.
 */
import { FloeError, assert } from '../errors.js';
import { parseJsonExact, stringifyJsonExact } from '../iceberg/json.js';
import { readPuffin, writePuffin } from '../iceberg/puffin.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';

/** A key's values in the table's key order. */
type Values = readonly (IcebergValue | null)[];

export interface IndexedFile {
  readonly path: string;
  readonly specId: number;
  readonly partition: readonly (IcebergValue | null)[];
}

export interface Location {
  readonly file: IndexedFile;
  readonly pos: number;
}

/** The file-table slot of a released file (no entry points to it; its id is free for reuse). */
const RELEASED: IndexedFile = Object.freeze({ path: '', specId: -1, partition: [] });
const EMPTY = -1;
const TOMBSTONE = -2;
const LOAD_MAX = 0.7;
const CAPACITY_START = 1024;
/** Positions are u32 and file ids < 2^21 so a location packs into one exact double (2^21 · 2^32 = 2^53). */
const FILES_MAX = 2 ** 21;
const POS_MAX = 2 ** 32 - 1;
/** The values a BigInt64Array slot holds exactly. */
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The key as a 64-bit integer when the typed-array table can hold it exactly: one integer column whose value
 * is in [−2^63, 2^63). Null for every other key (they go to the exact text map).
 */
export function int64Key(key: Values): bigint | null {
  if (key.length !== 1) return null;
  const v = key[0];
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? v : null;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return null;
}

/**
 * A 32-bit hash of a 64-bit key: its two halves mixed with murmur3's fmix32 in plain int32 arithmetic
 * (64-bit BigInt multiplications cost ~4x more per key on the seal path).
 */
function hash64(k: bigint): number {
  const lo = Number(BigInt.asUintN(32, k)) | 0;
  const hi = Number(BigInt.asIntN(32, k >> 32n)) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class PkIndex {
  private keys = new BigInt64Array(CAPACITY_START);
  private fileIds = new Int32Array(CAPACITY_START).fill(EMPTY);
  private positions = new Uint32Array(CAPACITY_START);
  private used = 0; // live + tombstones (probe length)
  private live = 0;
  private readonly other = new Map<string, number>();
  private readonly files: IndexedFile[] = [];
  private readonly fileIdByPath = new Map<string, number>();
  /** Live rows per file id: a file the table no longer has is released once none of its rows is indexed. */
  private fileRows: number[] = [];
  /** Ids of released files, reused before new ones (compactions replace files for as long as floe runs). */
  private freeIds: number[] = [];

  constructor(readonly keysMax = 50_000_000) {}

  get size(): number {
    return this.live + this.other.size;
  }

  /** Approximate bytes held (typed arrays, the text-key map, the file table). */
  get bytes(): number {
    let n = this.keys.byteLength + this.fileIds.byteLength + this.positions.byteLength;
    for (const k of this.other.keys()) n += 60 + k.length * 2;
    for (const f of this.files) n += 64 + f.path.length * 2;
    return n;
  }

  private fileId(file: IndexedFile): number {
    let id = this.fileIdByPath.get(file.path);
    if (id === undefined) {
      id = this.freeIds.pop();
      if (id !== undefined) {
        this.files[id] = file;
      } else {
        id = this.files.length;
        if (id >= FILES_MAX) throw new FloeError('index_full', `primary-key index: more than ${FILES_MAX} data files`);
        this.files.push(file);
      }
      this.fileRows[id] = 0;
      this.fileIdByPath.set(file.path, id);
    }
    return id;
  }

  private bump(id: number, by: number): void {
    this.fileRows[id] = (this.fileRows[id] ?? 0) + by;
  }

  /** Rows of the file `path` the index holds (0 for a file it does not know). */
  rowsIn(path: string): number {
    const id = this.fileIdByPath.get(path);
    return id === undefined ? 0 : (this.fileRows[id] as number);
  }

  /** The data files the index knows (some may hold no row any more until released). */
  filePaths(): string[] {
    return [...this.fileIdByPath.keys()];
  }

  /** Forgets a file none of whose rows is indexed (the table removed it); its id is reused. */
  releaseFile(path: string): void {
    const id = this.fileIdByPath.get(path);
    if (id === undefined) return;
    assert(this.fileRows[id] === 0, 'a released file holds no indexed row', { path, rows: this.fileRows[id] });
    this.fileIdByPath.delete(path);
    this.files[id] = RELEASED;
    this.freeIds.push(id);
  }

  /**
   * Drops every entry that points into `path` by sweeping the whole index (memory only, no I/O): for a file the
   * table removed whose keys cannot be read any more (expired and deleted). Returns the entries dropped.
   */
  deleteRowsOf(path: string): number {
    const id = this.fileIdByPath.get(path);
    if (id === undefined) return 0;
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.fileIds[i] !== id) continue;
      this.fileIds[i] = TOMBSTONE;
      this.live--;
      n++;
    }
    for (const [t, packed] of this.other) {
      if (Math.floor(packed / 2 ** 32) !== id) continue;
      this.other.delete(t);
      n++;
    }
    this.fileRows[id] = (this.fileRows[id] as number) - n;
    assert(this.fileRows[id] === 0, 'a swept file holds no indexed row', { path, rows: this.fileRows[id] });
    return n;
  }

  /**
   * The slot holding `k` (≥ 0), or, when absent, -(slot + 1) for the slot to insert it at (the first tombstone
   * on the probe path, else the empty slot that ended it). No allocation: this runs for every row sealed.
   */
  private probe(k: bigint): number {
    const mask = this.keys.length - 1;
    let i = hash64(k) & mask;
    let firstFree = -1;
    for (;;) {
      const f = this.fileIds[i] as number;
      if (f === EMPTY) return -((firstFree >= 0 ? firstFree : i) + 1);
      if (f === TOMBSTONE) {
        if (firstFree < 0) firstFree = i;
      } else if (this.keys[i] === k) return i;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldFiles = this.fileIds;
    const oldPos = this.positions;
    const capacity = this.live * 2 >= oldKeys.length * LOAD_MAX ? oldKeys.length * 2 : oldKeys.length;
    this.keys = new BigInt64Array(capacity);
    this.fileIds = new Int32Array(capacity).fill(EMPTY);
    this.positions = new Uint32Array(capacity);
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const f = oldFiles[i] as number;
      if (f < 0) continue;
      const at = -this.probe(oldKeys[i] as bigint) - 1;
      assert(at >= 0, 'a key is stored once', { key: String(oldKeys[i]) });
      this.keys[at] = oldKeys[i] as bigint;
      this.fileIds[at] = f;
      this.positions[at] = oldPos[i] as number;
      this.used++;
      this.live++;
    }
  }

  get(key: Values): Location | undefined {
    const k = int64Key(key);
    if (k !== null) {
      const at = this.probe(k);
      if (at < 0) return undefined;
      return { file: this.files[this.fileIds[at] as number] as IndexedFile, pos: this.positions[at] as number };
    }
    const packed = this.other.get(valuesKey(key));
    if (packed === undefined) return undefined;
    return { file: this.files[Math.floor(packed / 2 ** 32)] as IndexedFile, pos: packed % 2 ** 32 };
  }

  set(key: Values, file: IndexedFile, pos: number): void {
    assert(pos >= 0 && pos <= POS_MAX, 'row position fits u32', { pos });
    const id = this.fileId(file);
    const k = int64Key(key);
    if (k !== null) {
      let at = this.probe(k);
      if (at < 0) {
        at = -at - 1;
        if (this.size >= this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
        if (this.fileIds[at] === EMPTY) this.used++;
        this.live++;
        this.keys[at] = k;
        assert(this.keys[at] === k, 'the typed-array table holds the key exactly', { key: String(k) });
      } else {
        this.bump(this.fileIds[at] as number, -1);
      }
      this.bump(id, 1);
      this.fileIds[at] = id;
      this.positions[at] = pos;
      if (this.used >= this.keys.length * LOAD_MAX) this.grow();
      return;
    }
    const t = valuesKey(key);
    const prev = this.other.get(t);
    if (prev === undefined && this.size >= this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
    if (prev !== undefined) this.bump(Math.floor(prev / 2 ** 32), -1);
    this.bump(id, 1);
    this.other.set(t, id * 2 ** 32 + pos);
  }

  delete(key: Values): boolean {
    const k = int64Key(key);
    if (k !== null) {
      const at = this.probe(k);
      if (at < 0) return false;
      this.bump(this.fileIds[at] as number, -1);
      this.fileIds[at] = TOMBSTONE;
      this.live--;
      return true;
    }
    const t = valuesKey(key);
    const prev = this.other.get(t);
    if (prev === undefined) return false;
    this.bump(Math.floor(prev / 2 ** 32), -1);
    return this.other.delete(t);
  }

  /** The index as bytes (live entries only); see `indexToBytes`. */
  serialize(meta: IndexSnapshotMeta): Buffer {
    const header = Buffer.from(stringifyJsonExact({ ...meta, files: this.files.map((f) => ({ path: f.path, specId: f.specId, partition: partitionToJson(f.partition) })) }) ?? '{}');
    const n = this.live;
    const keys = new BigInt64Array(n);
    const fileIds = new Int32Array(n);
    const positions = new Uint32Array(n);
    let j = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const f = this.fileIds[i] as number;
      if (f < 0) continue;
      keys[j] = this.keys[i] as bigint;
      fileIds[j] = f;
      positions[j] = this.positions[i] as number;
      j++;
    }
    assert(j === n, 'live slots match the live count', { j, n });
    const others: Buffer[] = [];
    for (const [text, packed] of this.other) {
      const t = Buffer.from(text);
      const b = Buffer.alloc(4 + t.length + 8);
      b.writeUInt32LE(t.length, 0);
      t.copy(b, 4);
      b.writeDoubleLE(packed, 4 + t.length);
      others.push(b);
    }
    const u32 = (x: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(x, 0);
      return b;
    };
    return Buffer.concat([
      MAGIC, u32(FORMAT_VERSION), u32(header.length), header,
      u32(n), Buffer.from(keys.buffer), Buffer.from(fileIds.buffer), Buffer.from(positions.buffer),
      u32(this.other.size), ...others,
    ]);
  }

  static deserialize(b: Buffer, keysMax?: number): { index: PkIndex; meta: IndexSnapshotMeta } {
    const bad = (why: string): never => {
      throw new FloeError('metadata_invalid', `saved primary-key index: ${why}`);
    };
    if (b.length < 16 || !b.subarray(0, 4).equals(MAGIC)) bad('not an index file');
    if (b.readUInt32LE(4) !== FORMAT_VERSION) bad(`format version ${b.readUInt32LE(4)}`);
    const headerLength = b.readUInt32LE(8);
    let at = 12 + headerLength;
    if (at + 4 > b.length) bad('truncated header');
    const header = parseJsonExact(b.toString('utf8', 12, at)) as IndexSnapshotMeta & { files: { path: string; specId: number; partition: unknown[] }[] };
    const index = new PkIndex(keysMax);
    const files: IndexedFile[] = header.files.map((f) => ({ path: f.path, specId: Number(f.specId), partition: partitionFromJson(f.partition) }));
    const n = b.readUInt32LE(at);
    at += 4;
    if (at + n * 16 + 4 > b.length) bad('truncated keys');
    // Copies: the typed arrays need aligned offsets.
    const keys = new BigInt64Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + n * 8));
    at += n * 8;
    const fileIds = new Int32Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + n * 4));
    at += n * 4;
    const positions = new Uint32Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + n * 4));
    at += n * 4;
    for (let i = 0; i < n; i++) {
      const f = files[fileIds[i] as number];
      if (f === undefined) bad(`file id ${fileIds[i]} out of range`);
      index.set([keys[i] as bigint], f as IndexedFile, positions[i] as number);
    }
    const m = b.readUInt32LE(at);
    at += 4;
    for (let i = 0; i < m; i++) {
      const len = b.readUInt32LE(at);
      const text = b.toString('utf8', at + 4, at + 4 + len);
      const packed = b.readDoubleLE(at + 4 + len);
      at += 4 + len + 8;
      const f = files[Math.floor(packed / 2 ** 32)];
      if (f === undefined) bad('file id out of range');
      index.setText(text, f as IndexedFile, packed % 2 ** 32);
    }
    if (at !== b.length) bad(`${b.length - at} trailing bytes`);
    return { index, meta: { tableUuid: String(header.tableUuid), snapshotId: String(header.snapshotId), keyIds: header.keyIds.map(Number) } };
  }

  /** Sets a text key by its `valuesKey` form (loading a saved index). */
  private setText(text: string, file: IndexedFile, pos: number): void {
    const prev = this.other.get(text);
    if (prev === undefined && this.size >= this.keysMax) throw new FloeError('index_full', `primary-key index holds ${this.keysMax} keys (its budget)`);
    if (prev !== undefined) this.bump(Math.floor(prev / 2 ** 32), -1);
    const id = this.fileId(file);
    this.bump(id, 1);
    this.other.set(text, id * 2 ** 32 + pos);
  }

  clear(): void {
    this.keys = new BigInt64Array(CAPACITY_START);
    this.fileIds = new Int32Array(CAPACITY_START).fill(EMPTY);
    this.positions = new Uint32Array(CAPACITY_START);
    this.used = 0;
    this.live = 0;
    this.other.clear();
    this.files.length = 0;
    this.fileIdByPath.clear();
    this.fileRows = [];
    this.freeIds = [];
  }
}

/** What a saved index describes: one table, one snapshot, one key. */
export interface IndexSnapshotMeta {
  readonly tableUuid: string;
  readonly snapshotId: string;
  readonly keyIds: readonly number[];
}

const MAGIC = Buffer.from('FLPK');
/**
 * 2: integer keys outside [−2^63, 2^63) are in the text section. Version 1 files were written by floe
 * versions that stored such keys wrapped in the int64 section; they are refused, so the index is rebuilt
 * from the table (which also finds and repairs the duplicate rows those versions left).
 */
const FORMAT_VERSION = 2;

/** Partition values as exact JSON (bigint as bare integers, bytes as {"$hex": …}). */
function partitionToJson(values: readonly (IcebergValue | null)[]): unknown[] {
  return values.map((v) => (v instanceof Uint8Array ? { $hex: Buffer.from(v).toString('hex') } : v));
}

function partitionFromJson(values: readonly unknown[]): (IcebergValue | null)[] {
  return values.map((v) => {
    if (v !== null && typeof v === 'object' && '$hex' in v) return Uint8Array.from(Buffer.from(String((v as { $hex: string }).$hex), 'hex'));
    return v as IcebergValue | null;
  });
}

/**
 * A saved index (see README, "Merge-on-write"):
 *   "FLPK" | u32 version | u32 header length | header JSON {tableUuid, snapshotId, keyIds, files}
 *   | u32 n | n × i64 key | n × i32 file | n × u32 position        (int/long keys, little-endian)
 *   | u32 m | m × (u32 length | utf-8 key text | f64 packed location) (other keys)
 */
/** Puffin blob type of a saved index (floe's own: readers that do not know it skip it, as the spec says). */
export const INDEX_BLOB_TYPE = 'floe-pk-index-v1';

/**
 * The index as a Puffin file (Iceberg's container for statistics and indexes, saved with the `.stats`
 * extension Iceberg uses for statistics files; S3 Tables and SeaweedFS accept only Iceberg file types).
 */
export function indexToBytes(index: PkIndex, meta: IndexSnapshotMeta): Buffer {
  return writePuffin([{ type: INDEX_BLOB_TYPE, fields: meta.keyIds, snapshotId: BigInt(meta.snapshotId), sequenceNumber: 0n, data: index.serialize(meta) }], { 'created-by': 'floe' });
}

export function indexFromBytes(bytes: Uint8Array, keysMax?: number): { index: PkIndex; meta: IndexSnapshotMeta } {
  try {
    const blob = readPuffin(bytes).blobs.find((b) => b.type === INDEX_BLOB_TYPE);
    if (blob === undefined) throw new FloeError('metadata_invalid', `saved primary-key index: no ${INDEX_BLOB_TYPE} blob`);
    return PkIndex.deserialize(Buffer.from(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength), keysMax);
  } catch (e) {
    // Reads past the end of a truncated file, or a header that is not JSON: a damaged file, not a bug.
    if (e instanceof RangeError || e instanceof SyntaxError) throw new FloeError('metadata_invalid', `saved primary-key index: damaged (${e.message})`, {}, e);
    throw e;
  }
}
