/**
 * Iceberg partition transforms (spec "Partition Transforms", "Bucket Transform Details", "Truncate
 * Transform Details", "Appendix B: 32-bit Hash Requirements"), on floe's value representation
 * (see values.ts).
 *
 * Result types follow the spec table with one deliberate choice: `day` yields `date`, not `int`. The spec
 * table says `int`, but the Java reference implementation (`Days.getResultType`, also `Timestamps` at DAYS
 * granularity) and PyIceberg (`DayTransform.result_type`) both return `date`, so Spark/Trino/PyIceberg write
 * the manifest partition field as Avro `int` with logicalType `date`. The stored value is the same either
 * way (days since 1970-01-01 as a 32-bit int; 4-byte little-endian in bounds), so this changes only the
 * type annotation, and it makes floe's manifests match what the other engines write and expect.
 *
 * Partition directory names follow Java's `PartitionSpec.partitionToPath`: the transform's "human string"
 * of the value, escaped like `java.net.URLEncoder.encode(s, UTF_8)`.
 */
import { FloeError } from '../errors.js';
import type { IcebergType, PrimitiveType } from './types.js';
import { T, isPrimitive, typeToString } from './types.js';
import type { IcebergValue } from './values.js';
import { decimalByteLength, truncateStringCodePoints, writeDecimalBytes } from './conversions.js';
import { murmur3Bytes, murmur3Int, murmur3Long, murmur3LongParts, murmur3String } from './murmur3.js';

export type Transform =
  | { readonly kind: 'identity' }
  | { readonly kind: 'bucket'; readonly numBuckets: number }
  | { readonly kind: 'truncate'; readonly width: number }
  | { readonly kind: 'year' }
  | { readonly kind: 'month' }
  | { readonly kind: 'day' }
  | { readonly kind: 'hour' }
  | { readonly kind: 'void' };

export type TransformKind = Transform['kind'];

/** A transform resolved for one source type: maps a source value (or null) to the partition value. */
export type BoundTransform = (value: IcebergValue | null) => IcebergValue | null;

const INT_MAX = 2147483647;

// ---------------------------------------------------------------------------------------------------------
// Parsing and printing

const simpleTransforms: Readonly<Record<string, Transform>> = Object.freeze({
  identity: Object.freeze({ kind: 'identity' }),
  year: Object.freeze({ kind: 'year' }),
  month: Object.freeze({ kind: 'month' }),
  day: Object.freeze({ kind: 'day' }),
  hour: Object.freeze({ kind: 'hour' }),
  void: Object.freeze({ kind: 'void' }),
});

const withWidthRe = /^(bucket|truncate)\[(\d+)\]$/;

/**
 * Parses a transform as serialized in partition specs and sort orders: "identity", "bucket[N]",
 * "truncate[W]", "year", "month", "day", "hour", "void". Names are matched case-insensitively, as Java's
 * `Transforms.fromString` does. N and W must be integers in 1..2147483647. Anything else throws
 * FloeError('schema_invalid') (floe never writes with a transform it does not know).
 */
export function parseTransform(s: string): Transform {
  const lower = s.toLowerCase();
  const simple = simpleTransforms[lower];
  if (simple !== undefined) return simple;
  const m = withWidthRe.exec(lower);
  if (m) {
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1 || n > INT_MAX) {
      throw new FloeError('schema_invalid', `transform "${s}": ${m[1]} width must be 1..${INT_MAX}, got ${m[2]}`, {
        transform: s,
      });
    }
    return m[1] === 'bucket' ? { kind: 'bucket', numBuckets: n } : { kind: 'truncate', width: n };
  }
  throw new FloeError(
    'schema_invalid',
    `unknown partition transform "${s}" (expected identity, bucket[N], truncate[W], year, month, day, hour or void)`,
    { transform: s },
  );
}

/** The canonical serialized form: "identity", "bucket[16]", "truncate[10]", "day", ... */
export function transformToString(t: Transform): string {
  switch (t.kind) {
    case 'bucket':
      return `bucket[${t.numBuckets}]`;
    case 'truncate':
      return `truncate[${t.width}]`;
    default:
      return t.kind;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Types

/**
 * Whether transform `t` accepts source type `sourceType` (spec "Partition Transforms" table). Partition
 * sources must be primitive, so nested types are rejected by every transform.
 */
export function canTransform(t: Transform, sourceType: IcebergType): boolean {
  if (!isPrimitive(sourceType)) return false;
  const k = sourceType.kind;
  switch (t.kind) {
    case 'identity':
    case 'void':
      return true;
    case 'bucket':
      return k !== 'boolean' && k !== 'float' && k !== 'double';
    case 'truncate':
      return k === 'int' || k === 'long' || k === 'decimal' || k === 'string' || k === 'binary';
    case 'year':
    case 'month':
    case 'day':
      return k === 'date' || isTimestampKind(k);
    case 'hour':
      return isTimestampKind(k);
  }
}

function isTimestampKind(k: PrimitiveType['kind']): boolean {
  return k === 'timestamp' || k === 'timestamptz' || k === 'timestamp_ns' || k === 'timestamptz_ns';
}

function isNanosKind(k: PrimitiveType['kind']): boolean {
  return k === 'timestamp_ns' || k === 'timestamptz_ns';
}

function cannotTransform(t: Transform, sourceType: IcebergType): FloeError {
  return new FloeError(
    'schema_invalid',
    `transform ${transformToString(t)} cannot be applied to source type ${typeToString(sourceType)}`,
    { transform: transformToString(t), sourceType: typeToString(sourceType) },
  );
}

/**
 * The partition field type `t` produces from `sourceType`: identity, truncate and void keep the source
 * type; bucket, year, month and hour give `int`; day gives `date` (see the note at the top of this file).
 * Throws FloeError('schema_invalid') when `t` cannot transform `sourceType`.
 */
export function transformResultType(t: Transform, sourceType: PrimitiveType): PrimitiveType {
  if (!canTransform(t, sourceType)) throw cannotTransform(t, sourceType);
  switch (t.kind) {
    case 'identity':
    case 'truncate':
    case 'void':
      return sourceType;
    case 'bucket':
    case 'year':
    case 'month':
    case 'hour':
      return T.int;
    case 'day':
      return T.date;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Hashing (Appendix B)

let hashScratch = new Uint8Array(32);
const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function valueError(sourceType: PrimitiveType, v: unknown, what: string): FloeError {
  const shown = typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `Uint8Array(${v.length})` : String(v);
  return new FloeError('value_invalid', `${what}: ${shown} (${typeof v}) is not a valid ${typeToString(sourceType)} value`, {
    type: typeToString(sourceType),
  });
}

function expectNumber(sourceType: PrimitiveType, v: IcebergValue, what: string): number {
  if (typeof v !== 'number') throw valueError(sourceType, v, what);
  return v;
}

function expectBigint(sourceType: PrimitiveType, v: IcebergValue, what: string): bigint {
  if (typeof v !== 'bigint') throw valueError(sourceType, v, what);
  return v;
}

function expectBytes(sourceType: PrimitiveType, v: IcebergValue, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw valueError(sourceType, v, what);
  return v;
}

function expectString(sourceType: PrimitiveType, v: IcebergValue, what: string): string {
  if (typeof v !== 'string') throw valueError(sourceType, v, what);
  return v;
}

function hashDouble(d: number): number {
  // doubleToLongBits with NaN canonicalized to 0x7ff8000000000000 and -0.0 to 0.0 (Appendix B note 5).
  if (Number.isNaN(d)) return murmur3LongParts(0, 0x7ff80000);
  f64[0] = d === 0 ? 0 : d;
  const lo = f64Words[littleEndianHost ? 0 : 1] as number;
  const hi = f64Words[littleEndianHost ? 1 : 0] as number;
  return murmur3LongParts(lo, hi);
}

/**
 * The 32-bit hash of a non-null value per spec Appendix B (signed, as Java's int): int and date hashed as a
 * long; long, time and micro timestamps as 8 little-endian bytes; nanosecond timestamps converted to micros
 * (floor) first; decimal as the minimum-length big-endian two's-complement unscaled value; string as UTF-8;
 * uuid, fixed and binary as their bytes. Also boolean, float and double as Appendix B defines them,
 * although bucket does not accept those types.
 */
export function bucketHash(sourceType: PrimitiveType, v: IcebergValue): number {
  switch (sourceType.kind) {
    case 'int':
    case 'date':
      return murmur3Int(expectNumber(sourceType, v, 'bucket'));
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return murmur3Long(expectBigint(sourceType, v, 'bucket'));
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return murmur3Long(floorDivBig(expectBigint(sourceType, v, 'bucket'), 1000n));
    case 'decimal': {
      const d = expectBigint(sourceType, v, 'bucket');
      const n = decimalByteLength(d);
      if (n > hashScratch.length) hashScratch = new Uint8Array(n * 2);
      writeDecimalBytes(d, hashScratch, 0, n);
      return murmur3Bytes(hashScratch, 0, n);
    }
    case 'string':
      return murmur3String(expectString(sourceType, v, 'bucket'));
    case 'uuid':
    case 'fixed':
    case 'binary':
      return murmur3Bytes(expectBytes(sourceType, v, 'bucket'));
    case 'boolean':
      if (typeof v !== 'boolean') throw valueError(sourceType, v, 'bucket');
      return murmur3Int(v ? 1 : 0);
    case 'float':
    case 'double':
      return hashDouble(expectNumber(sourceType, v, 'bucket'));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Integer helpers

const MAX_SAFE_BIG = 9007199254740991n;

function floorDivBig(a: bigint, d: bigint): bigint {
  const q = a / d;
  return a % d < 0n ? q - 1n : q;
}

/** floor(n / d) for safe integers n and positive integer d, exactly. */
function floorDivNum(n: number, d: number): number {
  const r = n % d;
  return (n - r) / d - (r < 0 ? 1 : 0);
}

/** floor(v / d) as a number, for bigint v and positive d (d and the quotient must be safe integers). */
function floorDivToNumber(v: bigint, d: number, dBig: bigint): number {
  if (v >= -MAX_SAFE_BIG && v <= MAX_SAFE_BIG) return floorDivNum(Number(v), d);
  return Number(floorDivBig(v, dBig));
}

// ---------------------------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, UTC), days since 1970-01-01

let civilYear = 1970;
let civilMonth = 1; // 1..12
let civilDay = 1; // 1..31

/** Sets civilYear/civilMonth/civilDay from a day count (Howard Hinnant's days-to-civil algorithm). */
function civilFromDays(days: number): void {
  const z = days + 719468; // shift the epoch to 0000-03-01
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097; // [0, 146096]
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100)); // [0, 365]
  const mp = Math.floor((5 * doy + 2) / 153); // [0, 11], March-based
  civilDay = doy - Math.floor((153 * mp + 2) / 5) + 1;
  civilMonth = mp < 10 ? mp + 3 : mp - 9;
  civilYear = yoe + era * 400 + (civilMonth <= 2 ? 1 : 0);
}

function yearsFromDays(days: number): number {
  civilFromDays(days);
  return civilYear - 1970;
}

function monthsFromDays(days: number): number {
  civilFromDays(days);
  return (civilYear - 1970) * 12 + civilMonth - 1;
}

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_HOUR = 3_600_000_000;
const NANOS_PER_DAY_BIG = 86_400_000_000_000n;
const NANOS_PER_HOUR_BIG = 3_600_000_000_000n;

/** Days since the epoch (floor) of a micro- or nanosecond timestamp. */
function timestampDays(v: bigint, nanos: boolean): number {
  return nanos
    ? Number(floorDivBig(v, NANOS_PER_DAY_BIG))
    : floorDivToNumber(v, MICROS_PER_DAY, 86_400_000_000n);
}

function timestampHours(v: bigint, nanos: boolean): number {
  return nanos
    ? Number(floorDivBig(v, NANOS_PER_HOUR_BIG))
    : floorDivToNumber(v, MICROS_PER_HOUR, 3_600_000_000n);
}

// ---------------------------------------------------------------------------------------------------------
// Applying transforms

function truncateValue(t: Transform & { kind: 'truncate' }, sourceType: PrimitiveType, v: IcebergValue): IcebergValue {
  const w = t.width;
  switch (sourceType.kind) {
    case 'int': {
      const x = expectNumber(sourceType, v, 'truncate');
      // Java int arithmetic: wraps at the int range edges exactly as the reference implementation does.
      return (x - (((x % w) + w) % w)) | 0;
    }
    case 'long': {
      const x = expectBigint(sourceType, v, 'truncate');
      const wb = BigInt(w);
      return BigInt.asIntN(64, x - (((x % wb) + wb) % wb));
    }
    case 'decimal': {
      const x = expectBigint(sourceType, v, 'truncate');
      const wb = BigInt(w);
      return x - (((x % wb) + wb) % wb);
    }
    case 'string':
      return truncateStringCodePoints(expectString(sourceType, v, 'truncate'), w);
    case 'binary': {
      const b = expectBytes(sourceType, v, 'truncate');
      return b.length <= w ? b : b.slice(0, w);
    }
    default:
      throw cannotTransform(t, sourceType);
  }
}

function temporalValue(kind: 'year' | 'month' | 'day' | 'hour', sourceType: PrimitiveType, v: IcebergValue): number {
  if (sourceType.kind === 'date') {
    const days = expectNumber(sourceType, v, kind);
    switch (kind) {
      case 'year':
        return yearsFromDays(days);
      case 'month':
        return monthsFromDays(days);
      case 'day':
        return days;
      case 'hour':
        break;
    }
    throw cannotTransform({ kind }, sourceType);
  }
  if (!isTimestampKind(sourceType.kind)) throw cannotTransform({ kind }, sourceType);
  const x = expectBigint(sourceType, v, kind);
  const nanos = isNanosKind(sourceType.kind);
  switch (kind) {
    case 'year':
      return yearsFromDays(timestampDays(x, nanos));
    case 'month':
      return monthsFromDays(timestampDays(x, nanos));
    case 'day':
      return timestampDays(x, nanos) | 0;
    case 'hour':
      // Java casts the hour count to int; so do we (only matters beyond year 246,953).
      return timestampHours(x, nanos) | 0;
  }
}

/**
 * Applies `t` to a value of `sourceType`: null gives null; identity returns the value; void returns null;
 * bucket gives `(hash & Integer.MAX_VALUE) % N` with the Appendix B hash; truncate gives
 * `v - (((v % W) + W) % W)` for int/long/decimal (unscaled), the first W code points of a string, the
 * first W bytes of a binary; year/month/day/hour give the number of whole units since 1970-01-01 00:00
 * UTC, rounded down (so 1969-12-31 is day -1, month -1, year -1). Throws FloeError('schema_invalid') when
 * `t` cannot transform `sourceType`, FloeError('value_invalid') when the value's JS type is wrong.
 * For per-row use prefer `bindTransform`, which checks the types once.
 */
export function applyTransform(t: Transform, sourceType: PrimitiveType, value: IcebergValue | null): IcebergValue | null {
  if (!canTransform(t, sourceType)) throw cannotTransform(t, sourceType);
  if (value === null) return null;
  switch (t.kind) {
    case 'identity':
      return value;
    case 'void':
      return null;
    case 'bucket':
      return (bucketHash(sourceType, value) & INT_MAX) % t.numBuckets;
    case 'truncate':
      return truncateValue(t, sourceType, value);
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
      return temporalValue(t.kind, sourceType, value);
  }
}

/**
 * Resolves `t` for `sourceType` once and returns a function applying it (same results as
 * `applyTransform`). Throws FloeError('schema_invalid') when `t` cannot transform `sourceType`.
 */
export function bindTransform(t: Transform, sourceType: PrimitiveType): BoundTransform {
  if (!canTransform(t, sourceType)) throw cannotTransform(t, sourceType);
  switch (t.kind) {
    case 'identity':
      return (v) => v;
    case 'void':
      return () => null;
    case 'bucket': {
      const n = t.numBuckets;
      switch (sourceType.kind) {
        case 'int':
        case 'date':
          return (v) => (v === null ? null : (murmur3Int(expectNumber(sourceType, v, 'bucket')) & INT_MAX) % n);
        case 'long':
        case 'time':
        case 'timestamp':
        case 'timestamptz':
          return (v) => (v === null ? null : (murmur3Long(expectBigint(sourceType, v, 'bucket')) & INT_MAX) % n);
        case 'string':
          return (v) => (v === null ? null : (murmur3String(expectString(sourceType, v, 'bucket')) & INT_MAX) % n);
        default:
          return (v) => (v === null ? null : (bucketHash(sourceType, v) & INT_MAX) % n);
      }
    }
    case 'truncate':
      return (v) => (v === null ? null : truncateValue(t, sourceType, v));
    case 'year':
    case 'month':
    case 'day':
    case 'hour': {
      const kind = t.kind;
      if (sourceType.kind === 'date' && kind === 'day') {
        return (v) => (v === null ? null : expectNumber(sourceType, v, 'day'));
      }
      if (kind === 'day' && (sourceType.kind === 'timestamp' || sourceType.kind === 'timestamptz')) {
        return (v) =>
          v === null ? null : floorDivToNumber(expectBigint(sourceType, v, 'day'), MICROS_PER_DAY, 86_400_000_000n) | 0;
      }
      if (kind === 'hour' && (sourceType.kind === 'timestamp' || sourceType.kind === 'timestamptz')) {
        return (v) =>
          v === null ? null : floorDivToNumber(expectBigint(sourceType, v, 'hour'), MICROS_PER_HOUR, 3_600_000_000n) | 0;
      }
      return (v) => (v === null ? null : temporalValue(kind, sourceType, v));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Human strings (Java's Transform.toHumanString) and partition paths

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Java's String.format("%04d", n): zero-padded to width 4, the sign counting toward the width. */
function javaPad4(n: number): string {
  if (n < 0) return `-${String(-n).padStart(3, '0')}`;
  return String(n).padStart(4, '0');
}

/** Year as java.time's ISO_LOCAL_DATE prints it: 4+ digits, '-' when negative, '+' when over 9999. */
function isoYear(y: number): string {
  if (y < 0) return `-${String(-y).padStart(4, '0')}`;
  if (y > 9999) return `+${y}`;
  return String(y).padStart(4, '0');
}

/** Java TransformUtil.humanYear. */
export function humanYear(yearOrdinal: number): string {
  return javaPad4(1970 + yearOrdinal);
}

/** Java TransformUtil.humanMonth: "yyyy-MM". */
export function humanMonth(monthOrdinal: number): string {
  return `${javaPad4(1970 + Math.floor(monthOrdinal / 12))}-${pad2(1 + (((monthOrdinal % 12) + 12) % 12))}`;
}

/** Java TransformUtil.humanDay: "yyyy-MM-dd". */
export function humanDay(dayOrdinal: number): string {
  civilFromDays(dayOrdinal);
  return `${javaPad4(civilYear)}-${pad2(civilMonth)}-${pad2(civilDay)}`;
}

/** Java TransformUtil.humanHour: "yyyy-MM-dd-HH". */
export function humanHour(hourOrdinal: number): string {
  const days = Math.floor(hourOrdinal / 24);
  const hour = hourOrdinal - days * 24;
  return `${humanDay(days)}-${pad2(hour)}`;
}

/** Fraction digits as java.time's ISO formatters print them: none for 0, else trailing zeros dropped. */
function isoFraction(frac: number, digits: number): string {
  if (frac === 0) return '';
  return `.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** ISO_LOCAL_DATE_TIME of a timestamp (micros or nanos since the epoch): "2017-11-16T22:31:08.123456". */
function isoLocalDateTime(v: bigint, nanos: boolean): string {
  const perDay = nanos ? NANOS_PER_DAY_BIG : 86_400_000_000n;
  const days = floorDivBig(v, perDay);
  const within = Number(v - days * perDay); // [0, perDay) fits a double exactly
  const unitsPerSecond = nanos ? 1_000_000_000 : 1_000_000;
  const secOfDay = Math.floor(within / unitsPerSecond);
  const frac = within - secOfDay * unitsPerSecond;
  civilFromDays(Number(days));
  const h = Math.floor(secOfDay / 3600);
  const m = Math.floor((secOfDay % 3600) / 60);
  const s = secOfDay % 60;
  return (
    `${isoYear(civilYear)}-${pad2(civilMonth)}-${pad2(civilDay)}` +
    `T${pad2(h)}:${pad2(m)}:${pad2(s)}${isoFraction(frac, nanos ? 9 : 6)}`
  );
}

/** java.time.LocalTime.toString of microseconds since midnight: "HH:mm", "HH:mm:ss", "HH:mm:ss.SSS[SSS]". */
function humanTime(micros: bigint): string {
  const total = Number(micros);
  const secOfDay = Math.floor(total / 1_000_000);
  const micro = total - secOfDay * 1_000_000;
  const h = Math.floor(secOfDay / 3600);
  const m = Math.floor((secOfDay % 3600) / 60);
  const s = secOfDay % 60;
  let out = `${pad2(h)}:${pad2(m)}`;
  if (s > 0 || micro > 0) {
    out += `:${pad2(s)}`;
    if (micro > 0) {
      out += micro % 1000 === 0 ? `.${String(micro / 1000).padStart(3, '0')}` : `.${String(micro).padStart(6, '0')}`;
    }
  }
  return out;
}

/** java.math.BigDecimal.toString of unscaled value `u` with scale `scale` (>= 0). */
export function decimalToString(u: bigint, scale: number): string {
  const neg = u < 0n;
  const digits = (neg ? -u : u).toString();
  const sign = neg ? '-' : '';
  if (scale === 0) return sign + digits;
  const adjusted = digits.length - 1 - scale;
  if (adjusted >= -6) {
    if (digits.length > scale) {
      return `${sign}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    }
    return `${sign}0.${digits.padStart(scale, '0')}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}E${adjusted}`;
}

/** Java's Double.toString / Float.toString (shortest round-trip digits, JDK 19+ rules). */
export function javaFloatingToString(v: number, isFloat: boolean): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  if (isFloat) v = Math.fround(v);
  // Shortest decimal that rounds back to the value. Java (JDK 19+) has one twist: when one digit suffices
  // it still picks the closest decimal of at most two digits (Double.MIN_VALUE prints as 4.9E-324, not 5E-324).
  const roundTrips = isFloat
    ? (c: string): boolean => Math.fround(Number(c)) === v
    : (c: string): boolean => Number(c) === v;
  let exp = '';
  for (let p = 0; p <= (isFloat ? 8 : 16); p++) {
    const candidate = v.toExponential(p);
    if (roundTrips(candidate)) {
      exp = candidate;
      if (p === 0) {
        const two = v.toExponential(1);
        // "d.0e±x" is the same decimal as the one-digit candidate; anything else is closer to v.
        if (roundTrips(two) && two.replace('.0e', 'e') !== candidate) exp = two;
      }
      break;
    }
  }
  if (exp === '') exp = v.toExponential();
  const ePos = exp.indexOf('e');
  let mant = exp.slice(0, ePos);
  const e = Number(exp.slice(ePos + 1));
  const neg = mant.startsWith('-');
  if (neg) mant = mant.slice(1);
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  const sign = neg ? '-' : '';
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e7) {
    // Plain notation: digits with the point after (e + 1) digits; at least one digit after the point.
    const pointPos = e + 1;
    if (pointPos <= 0) return `${sign}0.${'0'.repeat(-pointPos)}${digits}`;
    if (digits.length <= pointPos) return `${sign}${digits.padEnd(pointPos, '0')}.0`;
    return `${sign}${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`;
  }
  const frac = digits.length > 1 ? digits.slice(1) : '0';
  return `${sign}${digits[0]}.${frac}E${e}`;
}

function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/** java.util.UUID.toString of 16 big-endian bytes: lowercase 8-4-4-4-12. */
export function uuidToString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += hex2(b[i] as number);
  }
  return s;
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function humanValueOfType(type: PrimitiveType, v: IcebergValue): string {
  switch (type.kind) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'int':
    case 'long':
      return String(v);
    case 'float':
      return javaFloatingToString(v as number, true);
    case 'double':
      return javaFloatingToString(v as number, false);
    case 'decimal':
      return decimalToString(v as bigint, type.scale);
    case 'date':
      return humanDay(v as number);
    case 'time':
      return humanTime(v as bigint);
    case 'timestamp':
      return isoLocalDateTime(v as bigint, false);
    case 'timestamptz':
      return `${isoLocalDateTime(v as bigint, false)}+00:00`;
    case 'timestamp_ns':
      return isoLocalDateTime(v as bigint, true);
    case 'timestamptz_ns':
      return `${isoLocalDateTime(v as bigint, true)}+00:00`;
    case 'string':
      return v as string;
    case 'uuid':
      return uuidToString(v as Uint8Array);
    case 'fixed':
    case 'binary':
      return base64(v as Uint8Array);
  }
}

/**
 * Java's `Transform.toHumanString(resultType, value)` for a partition value (the transform's output):
 * "null" for null; year "2024", month "2024-03", day "2024-03-07", hour "2024-03-07-13"; bucket the number;
 * identity/truncate by the result type: dates "yyyy-MM-dd", times as LocalTime prints them, timestamps ISO
 * (timestamptz with "+00:00"), decimals as BigDecimal.toString, uuid hyphenated, fixed/binary base64.
 */
export function partitionHumanString(t: Transform, resultType: PrimitiveType, value: IcebergValue | null): string {
  if (value === null) return 'null';
  switch (t.kind) {
    case 'void':
      return 'null';
    case 'bucket':
      return String(value);
    case 'year':
      return humanYear(value as number);
    case 'month':
      return humanMonth(value as number);
    case 'day':
      return humanDay(value as number);
    case 'hour':
      return humanHour(value as number);
    case 'identity':
    case 'truncate':
      return humanValueOfType(resultType, value);
  }
}

const HEX_UPPER = '0123456789ABCDEF';

function pctByte(b: number): string {
  return `%${HEX_UPPER[b >> 4]}${HEX_UPPER[b & 15]}`;
}

/**
 * `java.net.URLEncoder.encode(s, UTF_8)`: letters, digits and `.-*_` stay, space becomes `+`, every other
 * character is its UTF-8 bytes as `%XX` (uppercase hex). A lone surrogate encodes as `?` (`%3F`), as Java's
 * UTF-8 encoder replaces it.
 */
export function javaUrlEncode(s: string): string {
  let out = '';
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2e ||
      c === 0x2d ||
      c === 0x2a ||
      c === 0x5f
    ) {
      out += s[i];
    } else if (c === 0x20) {
      out += '+';
    } else if (c < 0x80) {
      out += pctByte(c);
    } else if (c < 0x800) {
      out += pctByte(0xc0 | (c >> 6)) + pctByte(0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out +=
            pctByte(0xf0 | (c >> 18)) +
            pctByte(0x80 | ((c >> 12) & 0x3f)) +
            pctByte(0x80 | ((c >> 6) & 0x3f)) +
            pctByte(0x80 | (c & 0x3f));
          continue;
        }
        out += '%3F';
        continue;
      }
      out += pctByte(0xe0 | (c >> 12)) + pctByte(0x80 | ((c >> 6) & 0x3f)) + pctByte(0x80 | (c & 0x3f));
    }
  }
  return out;
}

/**
 * The value part of a partition directory name, as Java's `PartitionSpec.partitionToPath` writes it: the
 * human string (see `partitionHumanString`) URL-encoded with `javaUrlEncode`. The full segment is
 * `${javaUrlEncode(fieldName)}=${partitionPathValue(...)}`, segments joined with "/".
 */
export function partitionPathValue(t: Transform, resultType: PrimitiveType, value: IcebergValue | null): string {
  return javaUrlEncode(partitionHumanString(t, resultType, value));
}
