/**
 * Iceberg "Binary single-value serialization" (spec Appendix D), used for column lower/upper bounds in
 * manifests and for partition summaries in manifest lists:
 *
 *   boolean          1 byte, 0x00 false, anything else true (written as 0x01)
 *   int, date        4-byte little-endian
 *   long, time, timestamp(tz), timestamp(tz)_ns   8-byte little-endian
 *   float, double    IEEE 754 little-endian, 4 / 8 bytes
 *   string           UTF-8 bytes, no length
 *   uuid             16 bytes big-endian
 *   fixed, binary    the bytes
 *   decimal(P,S)     unscaled value, two's-complement big-endian, minimum number of bytes
 *
 * Also the bound truncation of Iceberg's default metrics mode `truncate(16)`: lower bounds are prefixes,
 * upper bounds are prefixes with the last code point (string) or byte (binary) incremented so they stay
 * greater than every value they bound.
 */
import { FloeError } from '../errors.js';
import type { PrimitiveType } from './types.js';
import { typeToString } from './types.js';
import { type IcebergValue, valueMatchesType } from './values.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

const MICROS_PER_DAY = 86_400_000_000n;
const NANOS_PER_DAY = 86_400_000_000_000n;

// ---------------------------------------------------------------------------------------------------------
// Decimal: minimum-length two's-complement big-endian

/**
 * Number of bytes in the minimum two's-complement representation of `v` (what Java's
 * `BigInteger.toByteArray()` produces): 0 and -1 take one byte, 128 takes two, -129 two, and so on.
 */
export function decimalByteLength(v: bigint): number {
  // Magnitude bits that must fit below the sign bit: for negative v, those of ~v = -v - 1.
  if (v >= -9007199254740991n && v <= 9007199254740991n) {
    let x = Number(v);
    if (x < 0) x = -x - 1;
    let n = 1;
    while (x >= 128) {
      x = Math.floor(x / 256);
      n++;
    }
    return n;
  }
  let x = v < 0n ? -v - 1n : v;
  let n = 1;
  x >>= 7n;
  while (x > 0n) {
    x >>= 8n;
    n++;
  }
  return n;
}

/**
 * Writes `v` as two's-complement big-endian into `out[offset .. offset+length)`, sign-extended to `length`
 * bytes. `length` must be at least `decimalByteLength(v)`.
 */
export function writeDecimalBytes(v: bigint, out: Uint8Array, offset: number, length: number): void {
  if (v >= -9007199254740991n && v <= 9007199254740991n) {
    let x = Number(v);
    for (let i = offset + length - 1; i >= offset; i--) {
      const b = x % 256;
      out[i] = b < 0 ? b + 256 : b;
      x = Math.floor(x / 256);
    }
    return;
  }
  let x = v;
  for (let i = offset + length - 1; i >= offset; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** The unscaled value `v` as minimum-length two's-complement big-endian bytes. */
export function decimalToMinBytes(v: bigint): Uint8Array {
  const n = decimalByteLength(v);
  const out = new Uint8Array(n);
  writeDecimalBytes(v, out, 0, n);
  return out;
}

/** Reads a two's-complement big-endian integer of any length >= 1. */
export function decimalFromBytes(bytes: Uint8Array): bigint {
  const n = bytes.length;
  if (n === 0) throw new FloeError('metadata_invalid', 'decimal value has no bytes');
  if (n <= 6) {
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 256 + (bytes[i] as number);
    if ((bytes[0] as number) >= 0x80) x -= 2 ** (8 * n);
    return BigInt(x);
  }
  let x = 0n;
  for (let i = 0; i < n; i++) x = (x << 8n) | BigInt(bytes[i] as number);
  if ((bytes[0] as number) >= 0x80) x -= 1n << BigInt(8 * n);
  return x;
}

// ---------------------------------------------------------------------------------------------------------
// toBinary / fromBinary

function invalid(t: PrimitiveType, v: unknown): FloeError {
  const shown = typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `Uint8Array(${v.length})` : String(v);
  return new FloeError('value_invalid', `value ${shown} (${typeof v}) is not a valid ${typeToString(t)}`, {
    type: typeToString(t),
  });
}

/**
 * Binary single-value serialization of `v` (spec Appendix D). Byte-array values (uuid, fixed, binary) are
 * returned as they are, not copied. Throws FloeError('value_invalid') when `v` does not match `t`.
 */
export function toBinary(t: PrimitiveType, v: IcebergValue): Uint8Array {
  if (!valueMatchesType(v, t)) throw invalid(t, v);
  switch (t.kind) {
    case 'boolean':
      return Uint8Array.of(v === true ? 1 : 0);
    case 'int':
    case 'date': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, v as number, true);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, v as bigint, true);
      return out;
    }
    case 'float': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setFloat32(0, v as number, true);
      return out;
    }
    case 'double': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, v as number, true);
      return out;
    }
    case 'decimal':
      return decimalToMinBytes(v as bigint);
    case 'string':
      return encoder.encode(v as string);
    case 'uuid':
    case 'fixed':
    case 'binary':
      return v as Uint8Array;
  }
}

function badLength(t: PrimitiveType, n: number, expected: string): FloeError {
  return new FloeError('metadata_invalid', `${typeToString(t)} value has ${n} bytes, expected ${expected}`, {
    type: typeToString(t),
    length: n,
  });
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Inverse of `toBinary`. Byte-array results are copies (the input may be a view into a larger buffer).
 * Bounds written before a type promotion are read as the spec's promotion table says: a 4-byte `long` is
 * an `int`, a 4-byte `double` a `float`, a 4-byte `timestamp`/`timestamp_ns` a `date` (converted to
 * micros/nanos at midnight). Throws FloeError('metadata_invalid') on a length that fits none of these.
 */
export function fromBinary(t: PrimitiveType, bytes: Uint8Array): IcebergValue {
  const n = bytes.length;
  switch (t.kind) {
    case 'boolean':
      if (n !== 1) throw badLength(t, n, '1');
      return bytes[0] !== 0;
    case 'int':
    case 'date':
      if (n !== 4) throw badLength(t, n, '4');
      return view(bytes).getInt32(0, true);
    case 'long':
      if (n === 8) return view(bytes).getBigInt64(0, true);
      if (n === 4) return BigInt(view(bytes).getInt32(0, true));
      throw badLength(t, n, '8 (or 4 for a promoted int)');
    case 'time':
      if (n !== 8) throw badLength(t, n, '8');
      return view(bytes).getBigInt64(0, true);
    case 'timestamp':
    case 'timestamptz':
      if (n === 8) return view(bytes).getBigInt64(0, true);
      if (n === 4) return BigInt(view(bytes).getInt32(0, true)) * MICROS_PER_DAY;
      throw badLength(t, n, '8 (or 4 for a promoted date)');
    case 'timestamp_ns':
    case 'timestamptz_ns':
      if (n === 8) return view(bytes).getBigInt64(0, true);
      if (n === 4) return BigInt(view(bytes).getInt32(0, true)) * NANOS_PER_DAY;
      throw badLength(t, n, '8 (or 4 for a promoted date)');
    case 'float':
      if (n !== 4) throw badLength(t, n, '4');
      return view(bytes).getFloat32(0, true);
    case 'double':
      if (n === 8) return view(bytes).getFloat64(0, true);
      if (n === 4) return view(bytes).getFloat32(0, true);
      throw badLength(t, n, '8 (or 4 for a promoted float)');
    case 'decimal':
      return decimalFromBytes(bytes);
    case 'string':
      return decoder.decode(bytes);
    case 'uuid':
      if (n !== 16) throw badLength(t, n, '16');
      return bytes.slice();
    case 'fixed':
      if (n !== t.length) throw badLength(t, n, String(t.length));
      return bytes.slice();
    case 'binary':
      return bytes.slice();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bound truncation (metrics mode truncate(N))

/**
 * The first `n` code points of `s` (the whole string when it has no more). A surrogate pair counts as one
 * code point and is never split. This is also the `truncate[W]` transform on strings.
 */
export function truncateStringCodePoints(s: string, n: number): string {
  if (s.length <= n) return s; // UTF-16 length >= code point count
  let count = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    if (count === n) return s.slice(0, i);
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return s;
}

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new FloeError('config_invalid', `truncate length must be a positive integer, got ${n}`);
  }
}

/** Lower bound of at most `n` code points / bytes that is <= the input: its prefix. */
export function truncateLowerBound(v: string, n: number): string;
export function truncateLowerBound(v: Uint8Array, n: number): Uint8Array;
export function truncateLowerBound(v: string | Uint8Array, n: number): string | Uint8Array;
export function truncateLowerBound(v: string | Uint8Array, n: number): string | Uint8Array {
  checkLength(n);
  if (typeof v === 'string') return truncateStringCodePoints(v, n);
  return v.length <= n ? v : v.slice(0, n);
}

/**
 * Upper bound of at most `n` code points / bytes that is >= the input (compared by code point / unsigned
 * byte). Returns the input itself when it is short enough; otherwise its prefix with the last code point
 * (byte) that can be incremented incremented and everything after it dropped. Code points skip the
 * surrogate range (U+D7FF + 1 = U+E000) so the result is valid UTF-8; U+10FFFF and 0xFF cannot be
 * incremented. Returns null when no such bound exists (e.g. the prefix is all U+10FFFF / all 0xFF): the
 * caller then writes no upper bound.
 */
export function truncateUpperBound(v: string, n: number): string | null;
export function truncateUpperBound(v: Uint8Array, n: number): Uint8Array | null;
export function truncateUpperBound(v: string | Uint8Array, n: number): string | Uint8Array | null;
export function truncateUpperBound(v: string | Uint8Array, n: number): string | Uint8Array | null {
  checkLength(n);
  if (typeof v !== 'string') {
    if (v.length <= n) return v;
    for (let i = n - 1; i >= 0; i--) {
      const b = v[i] as number;
      if (b !== 0xff) {
        const out = v.slice(0, i + 1);
        out[i] = b + 1;
        return out;
      }
    }
    return null;
  }
  const prefix = truncateStringCodePoints(v, n);
  if (prefix.length === v.length) return v;
  // Walk code points of the prefix from the end.
  let end = prefix.length;
  while (end > 0) {
    let start = end - 1;
    let cp = prefix.charCodeAt(start);
    if (cp >= 0xdc00 && cp <= 0xdfff && start > 0) {
      const hi = prefix.charCodeAt(start - 1);
      if (hi >= 0xd800 && hi <= 0xdbff) {
        start--;
        cp = 0x10000 + ((hi - 0xd800) << 10) + (cp - 0xdc00);
      }
    }
    let next = cp + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return prefix.slice(0, start) + String.fromCodePoint(next);
    end = start;
  }
  return null;
}
