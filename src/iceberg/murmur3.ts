/**
 * MurmurHash3, x86 32-bit variant, seed 0: the hash Iceberg's bucket transform uses ("Bucket Transform
 * Details" and "Appendix B: 32-bit Hash Requirements" of the spec). Results are signed 32-bit integers, as
 * Java's `int` would hold them, so they can be compared with the spec's test values directly.
 *
 * Written from the published algorithm description; no allocation per call.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hash of `length` bytes of `bytes` starting at `offset`. */
export function murmur3Bytes(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  let h = 0;
  const end = offset + length;
  const blocksEnd = offset + (length & ~3);
  let i = offset;
  for (; i < blocksEnd; i += 4) {
    const k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    h = mixH(h, k);
  }
  const rest = end - i;
  if (rest > 0) {
    let k = bytes[i] as number;
    if (rest > 1) k |= (bytes[i + 1] as number) << 8;
    if (rest > 2) k |= (bytes[i + 2] as number) << 16;
    h ^= mixK(k);
  }
  return finish(h, length);
}

/** Hash of the 8 little-endian bytes of a long given as its low and high 32-bit halves. */
export function murmur3LongParts(lo: number, hi: number): number {
  let h = mixH(0, lo | 0);
  h = mixH(h, hi | 0);
  return finish(h, 8);
}

/**
 * Iceberg's hash of an int-valued number: the value widened to a long and hashed as 8 little-endian bytes
 * (spec note: int and long hashes must agree). Used for int and date. `v` must be a safe integer.
 */
export function murmur3Int(v: number): number {
  // ToInt32 (`| 0`) keeps the low 32 bits exactly for any safe integer; the high half is floor(v / 2^32).
  return murmur3LongParts(v | 0, Math.floor(v / 0x100000000) | 0);
}

const scratch = new DataView(new ArrayBuffer(8));

/** Hash of a long (bigint in the int64 range; wider values are wrapped to 64 bits) as 8 LE bytes. */
export function murmur3Long(v: bigint): number {
  scratch.setBigInt64(0, v, true);
  return murmur3LongParts(scratch.getInt32(0, true), scratch.getInt32(4, true));
}

/**
 * Hash of the UTF-8 encoding of `s`, computed while encoding (no buffer). Lone surrogates encode as U+FFFD,
 * as TextEncoder (and so the Parquet writer) encodes them, so the hash matches what readers see in files.
 */
export function murmur3String(s: string): number {
  let h = 0;
  let k = 0; // pending bytes, little-endian
  let n = 0; // number of pending bytes (0..3)
  let total = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      k |= c << (n << 3);
      if (++n === 4) {
        h = mixH(h, k);
        k = 0;
        n = 0;
      }
      total += 1;
      continue;
    }
    let bytes: number; // up to 4 UTF-8 bytes packed little-endian (first byte lowest)
    let count: number;
    if (c < 0x800) {
      bytes = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      if (c < 0x10000) {
        bytes = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
        count = 3;
      } else {
        bytes =
          (0xf0 | (c >> 18)) |
          ((0x80 | ((c >> 12) & 0x3f)) << 8) |
          ((0x80 | ((c >> 6) & 0x3f)) << 16) |
          ((0x80 | (c & 0x3f)) << 24);
        count = 4;
      }
    }
    total += count;
    for (let j = 0; j < count; j++) {
      k |= ((bytes >>> (j << 3)) & 0xff) << (n << 3);
      if (++n === 4) {
        h = mixH(h, k);
        k = 0;
        n = 0;
      }
    }
  }
  if (n > 0) h ^= mixK(k);
  return finish(h, total);
}
