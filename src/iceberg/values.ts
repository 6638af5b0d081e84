/**
 * Iceberg "internal" values as floe holds them in JS. One representation per Iceberg primitive type:
 *
 *   boolean                     boolean
 *   int                         number (a 32-bit signed integer)
 *   long                        bigint (64-bit signed)
 *   float, double               number (float values are whatever Math.fround gives)
 *   decimal(P,S)                bigint: the unscaled value; the scale comes from the type
 *   date                        number: days since 1970-01-01
 *   time                        bigint: microseconds since midnight
 *   timestamp, timestamptz      bigint: microseconds since 1970-01-01T00:00:00 (UTC for tz)
 *   timestamp_ns, timestamptz_ns bigint: nanoseconds since the epoch
 *   string                      string
 *   uuid                        Uint8Array of 16 bytes, big-endian (RFC 4122 byte order)
 *   fixed(L), binary            Uint8Array
 *
 * Byte arrays are treated as immutable once they are handed over: nothing in floe writes into a value.
 */
import type { PrimitiveType } from './types.js';

export type { IcebergValue } from './types.js';
import type { IcebergValue } from './types.js';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const MICROS_PER_DAY = 86_400_000_000n;

/** 10^p for p = 0..38, for decimal precision checks. */
const POW10: readonly bigint[] = (() => {
  const out: bigint[] = [];
  let x = 1n;
  for (let i = 0; i <= 38; i++) {
    out.push(x);
    x *= 10n;
  }
  return out;
})();

function isInt32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX;
}

function isInt64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= LONG_MIN && v <= LONG_MAX;
}

/**
 * Whether `v` is a valid floe value of Iceberg type `t` (representation and range: int32 range for int and
 * date, int64 for long and timestamps, 0 <= time < 24h, |unscaled| < 10^P for decimal, exact length for
 * uuid and fixed). Any JS number is accepted for float and double, NaN and infinities included.
 */
/**
 * The exact text form of a tuple of values (a key, a partition), for hashing and equality: length-prefixed
 * parts, so no string content can make two different tuples collide. An integral number and the bigint of the
 * same value share a form: a key column promoted int → long must still match the keys written before.
 */
export function valuesKey(values: readonly (IcebergValue | null)[]): string {
  let s = '';
  for (const v of values) {
    const part =
      v === null ? '\u0000'
        : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}`
          : typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)) ? `i:${String(v)}`
            : `${typeof v}:${String(v)}`;
    s += `${part.length}:${part}`;
  }
  return s;
}

export function valueMatchesType(v: IcebergValue, t: PrimitiveType): boolean {
  switch (t.kind) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'int':
    case 'date':
      return isInt32(v);
    case 'long':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return isInt64(v);
    case 'time':
      return typeof v === 'bigint' && v >= 0n && v < MICROS_PER_DAY;
    case 'float':
    case 'double':
      return typeof v === 'number';
    case 'decimal': {
      if (typeof v !== 'bigint') return false;
      const limit = POW10[t.precision];
      if (limit === undefined) return false;
      return v < limit && v > -limit;
    }
    case 'string':
      return typeof v === 'string';
    case 'uuid':
      return v instanceof Uint8Array && v.length === 16;
    case 'fixed':
      return v instanceof Uint8Array && v.length === t.length;
    case 'binary':
      return v instanceof Uint8Array;
  }
}

/**
 * Compares two strings by Unicode code point, which is the order of their UTF-8 bytes (the order Iceberg
 * uses for string bounds). JS `<` compares UTF-16 code units, which puts U+E000..U+FFFF after the
 * surrogate pairs that encode U+10000 and above; this fixes that up at the first differing unit.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800..DFFF) go above E000..FFFF; both shifted by the same rule otherwise.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Unsigned lexicographic comparison of byte arrays (a proper prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) {
    // Java's Float/Double.compare order: -0.0 < 0.0.
    const na = Object.is(a, -0);
    const nb = Object.is(b, -0);
    return na === nb ? 0 : na ? -1 : 1;
  }
  return 0;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two non-null values of type `t` (used for lower/upper bounds): signed numeric order for numbers
 * (with -0 < 0 as Java does; NaN must be excluded by the caller), false < true, code-point order for
 * strings, unsigned lexicographic order for uuid/fixed/binary. Both values must match `t`.
 */
export function compareValues(t: PrimitiveType, a: IcebergValue, b: IcebergValue): number {
  switch (t.kind) {
    case 'boolean':
      return a === b ? 0 : a === false ? -1 : 1;
    case 'int':
    case 'date':
    case 'float':
    case 'double':
      return compareNumbers(a as number, b as number);
    case 'long':
    case 'decimal':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return compareBigints(a as bigint, b as bigint);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'uuid':
    case 'fixed':
    case 'binary':
      return compareBytes(a as Uint8Array, b as Uint8Array);
  }
}
