/**
 * The saved primary-key index's bytes (see README, "Merge-on-write"), version 3, little-endian:
 *   "FLPK" | u32 version | u32 header length | header JSON {tableUuid, snapshotId, keyIds, files, shard?}
 *   | u32 n | n × i64 key | n × i32 file | n × u32 position                     (integer keys, pk-key-bytes.ts)
 *   | u32 m | m × (u32 length | canonical key bytes | i32 file | u32 position)   (every other key)
 * `files` is the file table by id ({path, specId, partition}, a released id as path ""); an entry's file is an
 * index into it. Canonical key bytes are defined in pk-key-bytes.ts.
 *
 * Versions: 1 stored integer keys beyond int64 wrapped in the i64 section; 2 stored other keys as `valuesKey`
 * text and an f64 packed location. Both are refused (FloeError 'metadata_invalid'), so the index is rebuilt from
 * the table (which also finds and repairs the duplicate rows version-1 writers left).
 *
 * This module knows bytes only; pk-index.ts gives it the entries and takes them back.
 */
import { FloeError, assert } from '../errors.js';
import { parseJsonExact, stringifyJsonExact } from '../iceberg/json.js';
import type { IcebergValue } from '../iceberg/values.js';
import type { IndexedFile } from './pk-locations.js';

/** What a saved index describes: one table, one snapshot, one key. */
export interface IndexSnapshotMeta {
  readonly tableUuid: string;
  readonly snapshotId: string;
  readonly keyIds: readonly number[];
  /**
   * The keys the index holds when it is one replica's share (key-shard.ts `identity`: topic, partition count,
   * partitions, key template); absent: every key. Loaded only where the same keys are wanted.
   */
  readonly shard?: string;
}

/** An index's entries as the saved format reads them. */
export interface IndexEntries {
  readonly files: readonly IndexedFile[];
  readonly intCount: number;
  /** Every integer entry: the key's signed high and unsigned low 32 bits, file id, position. */
  forEachInt(put: (hi: number, lo: number, fileId: number, pos: number) => void): void;
  readonly otherCount: number;
  /** Every other entry: its canonical key bytes, file id, position. */
  forEachOther(put: (key: Uint8Array, fileId: number, pos: number) => void): void;
}

/** Where a saved index's entries go as they are read. */
export interface IndexSink {
  int(hi: number, lo: number, file: IndexedFile, pos: number): void;
  other(key: Uint8Array, file: IndexedFile, pos: number): void;
}

const MAGIC = Buffer.from('FLPK');
const FORMAT_VERSION = 3;
/** Bytes of an integer entry (i64 key, i32 file, u32 position) and of an other entry beyond its key bytes. */
const INT_ENTRY_BYTES = 16;
const OTHER_ENTRY_BYTES = 12;

export function encodeIndex(meta: IndexSnapshotMeta, entries: IndexEntries): Buffer {
  const header = Buffer.from(stringifyJsonExact({ ...meta, files: entries.files.map((f) => ({ path: f.path, specId: f.specId, partition: partitionToJson(f.partition) })) }) ?? '{}');
  let otherBytes = 0;
  entries.forEachOther((key) => {
    otherBytes += OTHER_ENTRY_BYTES + key.length;
  });
  const n = entries.intCount;
  const out = Buffer.alloc(12 + header.length + 4 + n * INT_ENTRY_BYTES + 4 + otherBytes);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 4);
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let at = 12 + header.length;
  out.writeUInt32LE(n, at);
  at += 4;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const keysAt = at;
  const filesAt = keysAt + n * 8;
  const positionsAt = filesAt + n * 4;
  let i = 0;
  entries.forEachInt((hi, lo, fileId, pos) => {
    view.setUint32(keysAt + i * 8, lo, true);
    view.setInt32(keysAt + i * 8 + 4, hi, true);
    view.setInt32(filesAt + i * 4, fileId, true);
    view.setUint32(positionsAt + i * 4, pos, true);
    i++;
  });
  assert(i === n, 'every integer entry counted is written', { i, n });
  at += n * INT_ENTRY_BYTES;
  out.writeUInt32LE(entries.otherCount, at);
  at += 4;
  let m = 0;
  entries.forEachOther((key, fileId, pos) => {
    view.setUint32(at, key.length, true);
    out.set(key, at + 4);
    at += 4 + key.length;
    view.setInt32(at, fileId, true);
    view.setUint32(at + 4, pos, true);
    at += 8;
    m++;
  });
  assert(m === entries.otherCount && at === out.length, 'every other entry counted is written', { m, count: entries.otherCount });
  return out;
}

/** Reads a saved index into `sink`, file by file table entry; returns what it describes. */
export function decodeIndex(b: Buffer, sink: IndexSink): IndexSnapshotMeta {
  const bad = (why: string): never => {
    throw new FloeError('metadata_invalid', `saved primary-key index: ${why}`);
  };
  if (b.length < 16 || !b.subarray(0, 4).equals(MAGIC)) bad('not an index file');
  if (b.readUInt32LE(4) !== FORMAT_VERSION) bad(`format version ${b.readUInt32LE(4)}`);
  const headerLength = b.readUInt32LE(8);
  let at = 12 + headerLength;
  if (at + 4 > b.length) bad('truncated header');
  const header = parseJsonExact(b.toString('utf8', 12, at)) as IndexSnapshotMeta & { files: { path: string; specId: number; partition: unknown[] }[] };
  const files: IndexedFile[] = header.files.map((f) => ({ path: f.path, specId: Number(f.specId), partition: partitionFromJson(f.partition) }));
  const fileOf = (id: number): IndexedFile => {
    const f = files[id];
    if (f === undefined || f.path === '') return bad(`file id ${id} names no file`);
    return f;
  };
  const n = b.readUInt32LE(at);
  at += 4;
  if (at + n * INT_ENTRY_BYTES + 4 > b.length) bad('truncated keys');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const keysAt = at;
  const filesAt = keysAt + n * 8;
  const positionsAt = filesAt + n * 4;
  for (let i = 0; i < n; i++) {
    sink.int(view.getInt32(keysAt + i * 8 + 4, true), view.getUint32(keysAt + i * 8, true), fileOf(view.getInt32(filesAt + i * 4, true)), view.getUint32(positionsAt + i * 4, true));
  }
  at += n * INT_ENTRY_BYTES;
  const m = b.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < m; i++) {
    const len = b.readUInt32LE(at);
    if (at + 4 + len + 8 > b.length) bad('truncated key bytes');
    const key = b.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    sink.other(key, fileOf(b.readInt32LE(at)), b.readUInt32LE(at + 4));
    at += 8;
  }
  if (at !== b.length) bad(`${b.length - at} trailing bytes`);
  return { tableUuid: String(header.tableUuid), snapshotId: String(header.snapshotId), keyIds: header.keyIds.map(Number), ...(typeof header.shard === 'string' ? { shard: header.shard } : {}) };
}

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
