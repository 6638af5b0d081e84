/**
 * How the primary-key index sees a key: as a 64-bit integer, or as canonical bytes with a 64-bit fingerprint.
 *
 * Integer keys: one integer column (a bigint, or an integral number) whose value is in [−2^63, 2^63). Which
 * side a key lives on depends only on its value: `5`, `5n` are one key (a key column promoted int → long), and
 * an integral double (never a key type floe produces, but a value) is placed by its exact value too. The table
 * stores `mixInt64` of the key: a 4-round Feistel network over its two 32-bit halves, a bijection, so the mixed
 * value is the key (nothing to compare beyond it, and `unmixInt64` gives the key back to save it).
 *
 * Every other key (strings, binary, composite keys, integers beyond int64 such as a decimal(20,0) BIGINT
 * UNSIGNED ≥ 2^63 or a decimal(38,s) unscaled value) is written as canonical bytes, a concatenation of one
 * self-delimiting encoding per value (so two different keys never share bytes):
 *   0x00                                  null
 *   0x01 varint(zigzag(v))                an integer, bigint or integral number, any size: one value, one encoding
 *   0x02 varint(n) n bytes                a string, UTF-8 (a string with lone surrogates: 0x07 below)
 *   0x03 varint(n) n bytes                binary, fixed, uuid
 *   0x04 8 bytes                          a non-integral number: float64 little-endian, NaN as 0x7ff8000000000000
 *   0x05 / 0x06                           false / true
 *   0x07 varint(n) n × u16 little-endian  a string that is not well-formed UTF-16 (UTF-8 would merge its lone surrogates)
 * varint: unsigned LEB128. zigzag(v) = 2v for v ≥ 0, −2v − 1 below. The saved index stores these bytes: a
 * change to them is a new FORMAT_VERSION (pk-index-format.ts).
 */
import { assert } from '../errors.js';
import type { IcebergValue } from '../iceberg/values.js';

type Values = readonly (IcebergValue | null)[];

const TAG_NULL = 0x00;
const TAG_INTEGER = 0x01;
const TAG_STRING = 0x02;
const TAG_BYTES = 0x03;
const TAG_FLOAT = 0x04;
const TAG_FALSE = 0x05;
const TAG_TRUE = 0x06;
const TAG_STRING_UTF16 = 0x07;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Strings written by hand when ASCII (their length a one-byte varint); longer ones through `Buffer.write`. */
const SHORT_STRING_UNITS = 127;
const SCRATCH_START_BYTES = 256;
const NAN_BYTES = [0, 0, 0, 0, 0, 0, 0xf8, 0x7f];

/** One int64 in memory, read as its two halves in the platform's byte order. */
const I64 = new BigInt64Array(1);
const I32 = new Int32Array(I64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/** The halves of the last integer key `intKeyParts` accepted: signed high 32 bits, unsigned low 32 bits. */
export const intKey = { hi: 0, lo: 0 };

/** Splits an int64-range bigint into `intKey`. */
function splitBigint(v: bigint): void {
  I64[0] = v;
  intKey.hi = I32[HI] as number;
  intKey.lo = (I32[LO] as number) >>> 0;
}

/** Splits an integral number in (−2^53, 2^53) into `intKey` without a bigint. */
function splitSafe(v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  intKey.hi = hi | 0;
  intKey.lo = (v - hi * 2 ** 32) >>> 0;
}

/** Whether an integer value is in int64 range, its halves then in `intKey`. */
function splitInteger(v: number | bigint): boolean {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      splitSafe(v);
      return true;
    }
    if (!Number.isInteger(v) || v < -(2 ** 63) || v >= 2 ** 63) return false;
    splitBigint(BigInt(v));
    return true;
  }
  if (v < INT64_MIN || v > INT64_MAX) return false;
  splitBigint(v);
  return true;
}

/**
 * Whether `key` is an integer key (one integer column, value in [−2^63, 2^63)); its halves are then in `intKey`.
 * No allocation for a number or an int64 bigint: this runs for every row sealed.
 */
export function intKeyParts(key: Values): boolean {
  if (key.length !== 1) return false;
  const v = key[0];
  return (typeof v === 'bigint' || typeof v === 'number') && splitInteger(v);
}

/** The key `(hi, lo)` as a bigint (saving the index). */
export function int64Of(hi: number, lo: number): bigint {
  I32[HI] = hi;
  I32[LO] = lo;
  return I64[0] as bigint;
}

/** Round keys of the Feistel network (arbitrary odd constants). */
const ROUND_KEYS = [0x9e3779b9, 0x7f4a7c15, 0x94d049bb, 0xbf58476d] as const;

/** The round function: murmur3's fmix32 of the half and the round key. */
function round(x: number, k: number): number {
  let h = x ^ k;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The mixed value of a key, written by `mixInt64`/`unmixInt64`: `hi` as unsigned, `lo` unsigned. */
export const mixed = { hi: 0, lo: 0 };

/**
 * Mixes the 64-bit key `(hi, lo)` into `mixed`: 4 Feistel rounds (L, R) → (R, L ^ F(R)), a bijection whose every
 * output bit depends on every input bit, so table positions are uniform for sequential or structured ids.
 */
export function mixInt64(hi: number, lo: number): void {
  let l = hi | 0;
  let r = lo | 0;
  let t = l ^ round(r, ROUND_KEYS[0]);
  l = r;
  r = t;
  t = l ^ round(r, ROUND_KEYS[1]);
  l = r;
  r = t;
  t = l ^ round(r, ROUND_KEYS[2]);
  l = r;
  r = t;
  t = l ^ round(r, ROUND_KEYS[3]);
  l = r;
  r = t;
  mixed.hi = l >>> 0;
  mixed.lo = r >>> 0;
}

/** The inverse of `mixInt64`: the key `(hi signed, lo unsigned)` into `mixed`. */
export function unmixInt64(hi: number, lo: number): void {
  let l = hi | 0;
  let r = lo | 0;
  for (let i = ROUND_KEYS.length - 1; i >= 0; i--) {
    const t = r ^ round(l, ROUND_KEYS[i] as number);
    r = l;
    l = t;
  }
  mixed.hi = l | 0;
  mixed.lo = r >>> 0;
}

/** A growable byte buffer that canonical keys are written into (one per index: no sharing across calls). */
export class KeyBytes {
  bytes = new Uint8Array(SCRATCH_START_BYTES);
  private buf = Buffer.from(this.bytes.buffer);
  private words = new Int32Array(this.bytes.buffer);
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);
  /** Bytes of the last key written. */
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let n = this.bytes.length * 2;
    while (n < this.length + extra) n *= 2;
    const grown = new Uint8Array(n);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.buf = Buffer.from(grown.buffer);
    this.words = new Int32Array(grown.buffer);
  }

  private varint(n: number): void {
    this.ensure(10);
    let x = n;
    while (x >= 0x80) {
      this.bytes[this.length++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.bytes[this.length++] = x;
  }

  /** Writes `key`'s canonical bytes (module comment) into `bytes[0, length)`; returns the length. */
  encode(key: Values): number {
    this.length = 0;
    for (const v of key) this.value(v);
    return this.length;
  }

  /** Copies canonical bytes read from a saved index. */
  load(src: Uint8Array): number {
    this.length = 0;
    this.ensure(src.length);
    this.bytes.set(src);
    this.length = src.length;
    return this.length;
  }

  /**
   * Appends one value's canonical bytes from a decoded column, as `encode` writes that value (for a bootstrap that
   * reads key columns without making values): an integer given as its two's complement halves.
   */
  appendInt64(hi: number, lo: number): void {
    this.ensure(1);
    this.bytes[this.length++] = TAG_INTEGER;
    this.zigzag64(hi | 0, lo >>> 0);
  }

  /** A string given as UTF-8 bytes `src[start, end)`, which must be well-formed (`encode` of its decoded string). */
  appendUtf8(src: Uint8Array, start: number, end: number): void {
    this.ensure(1);
    this.bytes[this.length++] = TAG_STRING;
    this.varint(end - start);
    this.ensure(end - start);
    this.bytes.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** Starts a key to be written by the `append*` methods. */
  reset(): void {
    this.length = 0;
  }

  private value(v: IcebergValue | null): void {
    this.ensure(1);
    if (v === null) {
      this.bytes[this.length++] = TAG_NULL;
    } else if (typeof v === 'string') {
      this.string(v);
    } else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
      this.bytes[this.length++] = TAG_INTEGER;
      if (splitInteger(v)) this.zigzag64(intKey.hi, intKey.lo);
      else this.zigzagBig(BigInt(v));
    } else if (typeof v === 'number') {
      this.bytes[this.length++] = TAG_FLOAT;
      this.ensure(8);
      this.f64[0] = v;
      // Every NaN is one value: one encoding (NaN payloads differ in their bits).
      if (Number.isNaN(v)) this.bytes.set(NAN_BYTES, this.length);
      else for (let i = 0; i < 8; i++) this.bytes[this.length + i] = this.f64Bytes[LITTLE_ENDIAN ? i : 7 - i] as number;
      this.length += 8;
    } else if (typeof v === 'boolean') {
      this.bytes[this.length++] = v ? TAG_TRUE : TAG_FALSE;
    } else {
      assert(v instanceof Uint8Array, 'a key value is null, a string, a number, a bigint, a boolean or bytes', { type: typeof v });
      this.bytes[this.length++] = TAG_BYTES;
      this.varint(v.length);
      this.ensure(v.length);
      this.bytes.set(v, this.length);
      this.length += v.length;
    }
  }

  private string(s: string): void {
    const units = s.length;
    if (units <= SHORT_STRING_UNITS && this.ascii(s)) return;
    if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) {
      this.bytes[this.length++] = TAG_STRING_UTF16;
      this.varint(units);
      this.ensure(2 * units);
      for (let i = 0; i < units; i++) {
        const u = s.charCodeAt(i);
        this.bytes[this.length++] = u & 0xff;
        this.bytes[this.length++] = u >>> 8;
      }
      return;
    }
    this.bytes[this.length++] = TAG_STRING;
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /**
   * Writes a short ASCII string (its UTF-8 bytes are its code units: one length byte, no surrogates to check)
   * by hand, a few times faster than `Buffer.write` for key-sized strings; false, writing nothing, for any other.
   */
  private ascii(s: string): boolean {
    const units = s.length;
    this.ensure(2 + units);
    const bytes = this.bytes;
    const start = this.length;
    for (let i = 0; i < units; i++) {
      const u = s.charCodeAt(i);
      if (u >= 0x80) return false;
      bytes[start + 2 + i] = u;
    }
    bytes[start] = TAG_STRING;
    bytes[start + 1] = units;
    this.length = start + 2 + units;
    return true;
  }

  /** varint(zigzag(v)) of the int64 `(hi, lo)`, in 32-bit halves (no bigint). */
  private zigzag64(hi: number, lo: number): void {
    const sign = hi >> 31;
    let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
    let zlo = ((lo << 1) ^ sign) >>> 0;
    this.ensure(10);
    while (zhi !== 0 || zlo >= 0x80) {
      this.bytes[this.length++] = (zlo & 0x7f) | 0x80;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi >>>= 7;
    }
    this.bytes[this.length++] = zlo;
  }

  /** varint(zigzag(v)) of an integer beyond int64 (the same function as `zigzag64`, on a bigint). */
  private zigzagBig(v: bigint): void {
    let z = v >= 0n ? v << 1n : ((-v) << 1n) - 1n;
    while (z >= 0x80n) {
      this.ensure(1);
      this.bytes[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.ensure(1);
    this.bytes[this.length++] = Number(z);
  }

  /**
   * A 64-bit fingerprint of `bytes[0, length)` into `out` (hi, lo): two 32-bit lanes over the key's 4-byte
   * words (murmur3-style mixing, each lane with its own constants), crossed at the end. Not persisted.
   */
  fingerprint(out: { hi: number; lo: number }): void {
    const len = this.length;
    const words = this.words;
    let h1 = 0x1b873593 ^ len;
    let h2 = 0x7ed55d16 ^ Math.imul(len, 0x9e3779b1);
    const n = len >>> 2;
    for (let i = 0; i < n; i++) {
      const w = words[i] as number;
      let k = Math.imul(w, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h1 ^= k;
      h1 = (h1 << 13) | (h1 >>> 19);
      h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
      let j = Math.imul(w ^ (w >>> 15), 0x2c1b3c6d);
      j = (j << 19) | (j >>> 13);
      h2 = Math.imul(h2 ^ j, 0x297a2d39);
      h2 = ((h2 << 11) | (h2 >>> 21)) + 0x85ebca6b | 0;
    }
    let tail = 0;
    for (let i = len - 1; i >= n * 4; i--) tail = (tail << 8) | (this.bytes[i] as number);
    h1 ^= Math.imul(tail, 0xcc9e2d51);
    h2 ^= Math.imul(tail ^ 0x5bd1e995, 0x2c1b3c6d);
    h1 = fmix32(h1 ^ Math.imul(h2, 0x9e3779b1));
    h2 = fmix32(h2 + h1);
    out.hi = h1 >>> 0;
    out.lo = h2 >>> 0;
  }
}

function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The key values whose canonical bytes are `b` (the inverse of `KeyBytes.encode`): integers come back as bigint
 * (the encoding does not say whether an int or a long column held them), strings, bytes, numbers, booleans and
 * nulls as themselves. For the index's sweeps by key (a replica's partitions: key-shard.ts).
 */
export function decodeKeyBytes(b: Uint8Array): (IcebergValue | null)[] {
  const out: (IcebergValue | null)[] = [];
  let at = 0;
  const varint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      const x = b[at++] as number;
      n += (x & 0x7f) * scale;
      if (x < 0x80) return n;
      scale *= 0x80;
    }
  };
  while (at < b.length) {
    const tag = b[at++];
    switch (tag) {
      case TAG_NULL:
        out.push(null);
        break;
      case TAG_INTEGER: {
        let z = 0n;
        let shift = 0n;
        for (;;) {
          const x = b[at++] as number;
          z |= BigInt(x & 0x7f) << shift;
          if (x < 0x80) break;
          shift += 7n;
        }
        out.push((z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n));
        break;
      }
      case TAG_STRING: {
        const n = varint();
        out.push(Buffer.from(b.buffer, b.byteOffset + at, n).toString('utf8'));
        at += n;
        break;
      }
      case TAG_BYTES: {
        const n = varint();
        out.push(b.slice(at, at + n));
        at += n;
        break;
      }
      case TAG_FLOAT: {
        const f = new Float64Array(1);
        const fb = new Uint8Array(f.buffer);
        for (let i = 0; i < 8; i++) fb[LITTLE_ENDIAN ? i : 7 - i] = b[at + i] as number;
        out.push(f[0] as number);
        at += 8;
        break;
      }
      case TAG_FALSE:
      case TAG_TRUE:
        out.push(tag === TAG_TRUE);
        break;
      case TAG_STRING_UTF16: {
        const units = varint();
        let s = '';
        for (let i = 0; i < units; i++) s += String.fromCharCode((b[at + 2 * i] as number) | ((b[at + 2 * i + 1] as number) << 8));
        out.push(s);
        at += 2 * units;
        break;
      }
      default:
        assert(false, 'canonical key bytes start each value with a known tag', { tag });
    }
  }
  return out;
}
