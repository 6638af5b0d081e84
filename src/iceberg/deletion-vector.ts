/**
 * Deletion vectors (spec v3: "Deletion Vectors"; Puffin spec: "deletion-vector-v1"): the deleted row positions
 * of one data file, as a bitmap stored in a Puffin blob. The blob is
 *
 *   length (4 bytes, big-endian: bytes of magic + vector) | magic D1 D3 39 64 | vector | CRC-32 (4 bytes,
 *   big-endian, of magic + vector)
 *
 * and the vector is a 64-bit Roaring bitmap in the "portable" serialization: an 8-byte little-endian count of
 * 32-bit bitmaps, then for each (ascending by key) its 4-byte little-endian key (the positions' high 32 bits)
 * and the 32-bit bitmap in the standard Roaring format (RoaringFormatSpec):
 *
 *   cookie 12346 (u32) | container count (u32) | per container: key (u16), cardinality - 1 (u16)
 *   | per container: byte offset (u32) | containers
 *   or, with run containers: cookie 12347 | (count - 1) << 16 (in the cookie's high half) | run flags bitset
 *   | key/cardinality pairs | offsets (only when count >= 4) | containers
 *
 * An array container holds up to 4096 sorted u16 values; a bitmap container 65536 bits as 1024 u64 words; a run
 * container a u16 run count then (start, length - 1) u16 pairs. All integers little-endian. floe writes array
 * and bitmap containers (no runs) and reads all three kinds.
 */
import { crc32 } from 'node:zlib';
import { FloeError } from '../errors.js';
import type { FileIO } from '../io/file-io.js';
import type { DataFile } from './data-file.js';

export const DELETION_VECTOR_BLOB_TYPE = 'deletion-vector-v1';
/** Puffin blob `fields` of a deletion vector: the `_pos` metadata column (Integer.MAX_VALUE - 2). */
export const ROW_POSITION_FIELD_ID = 2147483645;
const DV_MAGIC = [0xd1, 0xd3, 0x39, 0x64] as const;
const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
const ARRAY_CONTAINER_MAX = 4096;
/** A data file has fewer rows than this (positions fit a double exactly); Iceberg's own limit is a 63-bit long. */
const POSITION_MAX = Number.MAX_SAFE_INTEGER;

const bad = (why: string): never => {
  throw new FloeError('metadata_invalid', `deletion vector: ${why}`);
};

/** Sorted, de-duplicated copy of positions (row numbers in one data file). */
export function normalizePositions(positions: Iterable<number>): Float64Array {
  const a = Float64Array.from(positions);
  a.sort();
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] as number;
    if (!(Number.isInteger(p) && p >= 0 && p <= POSITION_MAX)) bad(`position ${p} is not a row number`);
    if (n === 0 || p !== a[n - 1]) a[n++] = p;
  }
  return a.subarray(0, n);
}

/** The portable 64-bit Roaring serialization of sorted, distinct positions. */
export function serializeRoaring64(sorted: Float64Array): Buffer {
  const chunks: Buffer[] = [];
  const count = Buffer.alloc(8);
  chunks.push(count);
  let buckets = 0;
  let i = 0;
  while (i < sorted.length) {
    const high = Math.floor((sorted[i] as number) / 0x1_0000_0000);
    let j = i;
    while (j < sorted.length && Math.floor((sorted[j] as number) / 0x1_0000_0000) === high) j++;
    const key = Buffer.alloc(4);
    key.writeUInt32LE(high, 0);
    chunks.push(key, serializeRoaring32(sorted.subarray(i, j), high * 0x1_0000_0000));
    buckets++;
    i = j;
  }
  count.writeBigUInt64LE(BigInt(buckets), 0);
  return Buffer.concat(chunks);
}

function serializeRoaring32(sorted: Float64Array, base: number): Buffer {
  // Split the low 32 bits into containers by their high 16 bits.
  const containers: { key: number; values: Uint16Array }[] = [];
  let i = 0;
  while (i < sorted.length) {
    const low = (sorted[i] as number) - base;
    const key = low >>> 16;
    let j = i;
    while (j < sorted.length && ((sorted[j] as number) - base) >>> 16 === key) j++;
    const values = new Uint16Array(j - i);
    for (let k = i; k < j; k++) values[k - i] = ((sorted[k] as number) - base) & 0xffff;
    containers.push({ key, values });
    i = j;
  }
  const n = containers.length;
  const header = Buffer.alloc(8 + 4 * n + 4 * n);
  header.writeUInt32LE(SERIAL_COOKIE_NO_RUNCONTAINER, 0);
  header.writeUInt32LE(n, 4);
  const bodies: Buffer[] = [];
  let offset = header.length;
  containers.forEach((c, k) => {
    header.writeUInt16LE(c.key, 8 + 4 * k);
    header.writeUInt16LE(c.values.length - 1, 8 + 4 * k + 2);
    header.writeUInt32LE(offset, 8 + 4 * n + 4 * k);
    let body: Buffer;
    if (c.values.length <= ARRAY_CONTAINER_MAX) {
      body = Buffer.alloc(2 * c.values.length);
      c.values.forEach((v, x) => body.writeUInt16LE(v, 2 * x));
    } else {
      const words = new Uint32Array(2048); // 1024 u64 words as little-endian u32 pairs
      for (const v of c.values) words[v >>> 5] = ((words[v >>> 5] as number) | (1 << (v & 31))) >>> 0;
      body = Buffer.alloc(8192);
      words.forEach((w, x) => body.writeUInt32LE(w, 4 * x));
    }
    bodies.push(body);
    offset += body.length;
  });
  return Buffer.concat([header, ...bodies]);
}

/** Positions of a portable 64-bit Roaring bitmap, ascending. */
export function deserializeRoaring64(bytes: Uint8Array): Float64Array {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8) bad('truncated bitmap');
  const buckets = b.readBigUInt64LE(0);
  if (buckets > 0xffffn) bad(`${buckets} 32-bit bitmaps`);
  let at = 8;
  const out: number[] = [];
  let lastKey = -1;
  for (let k = 0; k < Number(buckets); k++) {
    if (at + 4 > b.length) bad('truncated bitmap key');
    const key = b.readUInt32LE(at);
    if (key <= lastKey) bad('bitmap keys are not ascending');
    lastKey = key;
    at = readRoaring32(b, at + 4, key * 0x1_0000_0000, out);
  }
  return Float64Array.from(out);
}

function readRoaring32(b: Buffer, start: number, base: number, out: number[]): number {
  const need = (end: number): void => {
    if (end > b.length) bad('truncated 32-bit bitmap');
  };
  need(start + 4);
  const cookie = b.readUInt32LE(start);
  let at = start + 4;
  let n: number;
  let runFlags: Buffer | null = null;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    n = (cookie >>> 16) + 1;
    const flagBytes = (n + 7) >>> 3;
    need(at + flagBytes);
    runFlags = b.subarray(at, at + flagBytes);
    at += flagBytes;
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    need(at + 4);
    n = b.readUInt32LE(at);
    at += 4;
  } else {
    return bad(`unknown Roaring cookie ${cookie}`);
  }
  if (n > 65536) bad(`${n} containers`);
  need(at + 4 * n);
  const keys: number[] = [];
  const cards: number[] = [];
  for (let k = 0; k < n; k++) {
    keys.push(b.readUInt16LE(at + 4 * k));
    cards.push(b.readUInt16LE(at + 4 * k + 2) + 1);
  }
  at += 4 * n;
  if (runFlags === null || n >= NO_OFFSET_THRESHOLD) at += 4 * n; // offset header; containers follow in order
  for (let k = 0; k < n; k++) {
    const high = base + (keys[k] as number) * 65536;
    const card = cards[k] as number;
    const isRun = runFlags !== null && ((runFlags[k >>> 3] as number) & (1 << (k & 7))) !== 0;
    if (isRun) {
      need(at + 2);
      const runs = b.readUInt16LE(at);
      at += 2;
      need(at + 4 * runs);
      for (let r = 0; r < runs; r++) {
        const s = b.readUInt16LE(at + 4 * r);
        const len = b.readUInt16LE(at + 4 * r + 2);
        for (let v = s; v <= s + len; v++) out.push(high + v);
      }
      at += 4 * runs;
    } else if (card <= ARRAY_CONTAINER_MAX) {
      need(at + 2 * card);
      for (let x = 0; x < card; x++) out.push(high + b.readUInt16LE(at + 2 * x));
      at += 2 * card;
    } else {
      need(at + 8192);
      for (let w = 0; w < 2048; w++) {
        let word = b.readUInt32LE(at + 4 * w);
        while (word !== 0) {
          const bit = 31 - Math.clz32(word & -word);
          out.push(high + w * 32 + bit);
          word &= word - 1;
        }
      }
      at += 8192;
    }
  }
  return at;
}

/** The `deletion-vector-v1` blob of sorted, distinct positions. */
export function serializeDeletionVector(sorted: Float64Array): Buffer {
  const vector = serializeRoaring64(sorted);
  const body = Buffer.concat([Buffer.from(DV_MAGIC), vector]);
  const out = Buffer.alloc(4 + body.length + 4);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 4 + body.length);
  return out;
}

/** Positions of a `deletion-vector-v1` blob; checks its length, magic and CRC. */
export function deserializeDeletionVector(blob: Uint8Array): Float64Array {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 12) bad('blob shorter than its framing');
  const len = b.readUInt32BE(0);
  if (len + 8 !== b.length) bad(`length field ${len} does not match the blob (${b.length} bytes)`);
  const body = b.subarray(4, 4 + len);
  if (!DV_MAGIC.every((x, i) => body[i] === x)) bad('wrong magic');
  if (crc32(body) !== b.readUInt32BE(4 + len)) bad('CRC mismatch');
  return deserializeRoaring64(body.subarray(4));
}

/** Union of sorted, distinct position arrays. */
export function unionPositions(...sets: readonly Float64Array[]): Float64Array {
  const nonEmpty = sets.filter((s) => s.length > 0);
  if (nonEmpty.length === 0) return new Float64Array(0);
  if (nonEmpty.length === 1) return nonEmpty[0] as Float64Array;
  const all = new Float64Array(nonEmpty.reduce((a, s) => a + s.length, 0));
  let o = 0;
  for (const s of nonEmpty) {
    all.set(s, o);
    o += s.length;
  }
  return normalizePositions(all);
}

/**
 * The positions of a deletion vector manifest entry (`file_path` a Puffin file; `content_offset` and
 * `content_size_in_bytes` locate the blob). Its cardinality must equal the entry's `record_count`. `files` caches
 * whole Puffin files by path, for vectors that share one.
 */
export async function readDeletionVector(io: FileIO, f: DataFile, files?: Map<string, Promise<Uint8Array>>): Promise<Float64Array> {
  if (f.contentOffset === undefined || f.contentSizeInBytes === undefined) bad(`${f.filePath} has no content_offset / content_size_in_bytes`);
  let bytes = files?.get(f.filePath);
  if (bytes === undefined) {
    bytes = io.read(f.filePath);
    files?.set(f.filePath, bytes);
  }
  const whole = await bytes;
  const start = Number(f.contentOffset);
  const end = start + Number(f.contentSizeInBytes);
  if (end > whole.length) bad(`${f.filePath}: blob at ${start}+${Number(f.contentSizeInBytes)} is outside the file (${whole.length} bytes)`);
  const positions = deserializeDeletionVector(whole.subarray(start, end));
  if (BigInt(positions.length) !== f.recordCount) {
    bad(`${f.filePath} (for ${f.referencedDataFile ?? '?'}): ${positions.length} positions, the manifest says ${f.recordCount}`);
  }
  return positions;
}
