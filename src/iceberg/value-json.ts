/**
 * Iceberg "JSON single-value serialization" (spec Appendix D), the form of a field's `initial-default` and
 * `write-default` in schema JSON:
 *
 *   boolean                     JSON boolean                 true
 *   int, long                   JSON number                  34 (a long beyond 2^53 as an exact literal: a bigint for stringifyJsonExact)
 *   float, double               JSON number                  1.5 (NaN and infinities have no JSON form)
 *   decimal(P,S)                JSON string, S digits after the point       "14.20"
 *   date                        ISO-8601 date                "2017-11-16"
 *   time                        ISO-8601 time, microseconds  "22:31:08.123456"
 *   timestamp                   no zone                      "2017-11-16T22:31:08.123456"
 *   timestamptz                 zone +00:00                  "2017-11-16T22:31:08.123456+00:00"
 *   timestamp_ns, timestamptz_ns  the same with 9 fraction digits
 *   string                      JSON string
 *   uuid                        lowercase 8-4-4-4-12         "f79c3e09-677c-4bbd-a479-3f349cb785e7"
 *   fixed(L), binary            hexadecimal string           "000102ff"
 *
 * Years outside 0000..9999 are written as java.time does (`+10000-01-01`, `-0001-01-01`). Reading accepts
 * what other writers produce: fewer fraction digits (Java drops trailing zeros), upper-case hex, a `Z` zone.
 */
import { FloeError } from '../errors.js';
import { typeToString, type PrimitiveType } from './types.js';
import { valueMatchesType, type IcebergValue } from './values.js';

/** A single value as JSON: what JSON.parse / parseJsonExact give (bigint: an integer literal beyond 2^53). */
export type JsonSingleValue = boolean | number | bigint | string;

const MICROS_PER_DAY = 86_400_000_000n;

function pad(n: number | bigint, width: number): string {
  return n.toString().padStart(width, '0');
}

/** Howard Hinnant's days-from-civil and civil-from-days (proleptic Gregorian, day 0 = 1970-01-01). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** A year as java.time prints it: 4 digits, '-' before negative years, '+' before years over 9999. */
function isoYear(y: number): string {
  if (y < 0) return `-${pad(-y, 4)}`;
  return y > 9999 ? `+${y}` : pad(y, 4);
}

function isoDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${isoYear(y)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Time of day from units since midnight (`perSecond` units a second), with `digits` fraction digits. */
function isoTime(units: bigint, perSecond: bigint, digits: number): string {
  const sec = units / perSecond;
  return `${pad(sec / 3600n, 2)}:${pad((sec / 60n) % 60n, 2)}:${pad(sec % 60n, 2)}.${pad(units % perSecond, digits)}`;
}

function isoTimestamp(v: bigint, nanos: boolean): string {
  const perSecond = nanos ? 1_000_000_000n : 1_000_000n;
  const perDay = MICROS_PER_DAY * (nanos ? 1000n : 1n);
  let days = v / perDay;
  if (v % perDay < 0n) days -= 1n;
  return `${isoDate(Number(days))}T${isoTime(v - days * perDay, perSecond, nanos ? 9 : 6)}`;
}

function decimalString(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const sign = neg ? '-' : '';
  return scale === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function uuidString(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The double with the fewest significant digits that is still the same 32-bit float. */
function shortestFloat(v: number): number {
  for (let p = 1; p < 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return x;
  }
  return v;
}

function invalid(t: PrimitiveType, what: string, v: unknown): never {
  const shown = typeof v === 'bigint' ? `${v}` : v instanceof Uint8Array ? `bytes[${v.length}]` : JSON.stringify(v);
  throw new FloeError('value_invalid', `${what} for ${typeToString(t)}: ${shown}`);
}

/** The JSON single value of `v`, a valid value of type `t`. Throws value_invalid for NaN and infinities. */
export function valueToJson(t: PrimitiveType, v: IcebergValue): JsonSingleValue {
  if (!valueMatchesType(v, t)) invalid(t, 'not a value', v);
  switch (t.kind) {
    case 'boolean':
    case 'int':
    case 'string':
      return v as boolean | number | string;
    case 'long': {
      const b = v as bigint;
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    case 'float':
    case 'double':
      if (!Number.isFinite(v)) invalid(t, 'no JSON form', v);
      // A float as its shortest float digits (1.1, not 1.100000023841858): reads back as the same float.
      return t.kind === 'float' ? shortestFloat(v as number) : (v as number);
    case 'decimal':
      return decimalString(v as bigint, t.scale);
    case 'date':
      return isoDate(v as number);
    case 'time':
      return isoTime(v as bigint, 1_000_000n, 6);
    case 'timestamp':
      return isoTimestamp(v as bigint, false);
    case 'timestamptz':
      return `${isoTimestamp(v as bigint, false)}+00:00`;
    case 'timestamp_ns':
      return isoTimestamp(v as bigint, true);
    case 'timestamptz_ns':
      return `${isoTimestamp(v as bigint, true)}+00:00`;
    case 'uuid':
      return uuidString(v as Uint8Array);
    case 'fixed':
    case 'binary':
      return hex(v as Uint8Array);
  }
}

const DATE_RE = /^([+-]?\d{4,})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

function parseDate(t: PrimitiveType, s: string): number {
  const m = DATE_RE.exec(s);
  if (m === null) return invalid(t, 'not an ISO-8601 date', s);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) invalid(t, 'not an ISO-8601 date', s);
  const days = daysFromCivil(y, mo, d);
  const [y2, mo2, d2] = civilFromDays(days);
  if (y2 !== y || mo2 !== mo || d2 !== d) invalid(t, 'not a calendar date', s);
  return days;
}

/** Units since midnight of "HH:MM[:SS[.f]]" at `digits` fraction digits (finer digits are cut). */
function parseTime(t: PrimitiveType, s: string, digits: number): bigint {
  const m = TIME_RE.exec(s);
  if (m === null) return invalid(t, 'not an ISO-8601 time', s);
  const [h, mi, se] = [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
  if (h > 23 || mi > 59 || se > 59) invalid(t, 'not an ISO-8601 time', s);
  const frac = BigInt((m[4] ?? '').padEnd(digits, '0').slice(0, digits));
  return (BigInt(h * 3600 + mi * 60 + se) * 10n ** BigInt(digits)) + frac;
}

function parseTimestamp(t: PrimitiveType, s: string, nanos: boolean, zoned: boolean): bigint {
  const m = /^(.+?)T(.+?)(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (m === null) return invalid(t, 'not an ISO-8601 timestamp', s);
  const zone = m[3];
  if (zoned ? zone !== '+00:00' && zone !== 'Z' && zone !== '-00:00' : zone !== undefined) {
    invalid(t, zoned ? 'needs the zone offset +00:00' : 'must not have a zone offset', s);
  }
  const digits = nanos ? 9 : 6;
  const perDay = MICROS_PER_DAY * (nanos ? 1000n : 1n);
  return BigInt(parseDate(t, m[1] as string)) * perDay + parseTime(t, m[2] as string, digits);
}

/** A decimal string ("14.20", "-0.5", "1.420E+1") as the unscaled value at the type's scale (which must match). */
function parseDecimal(t: Extract<PrimitiveType, { kind: 'decimal' }>, s: string): bigint {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m === null) return invalid(t, 'not a decimal', s);
  const frac = m[3] ?? '';
  const scale = frac.length - Number(m[4] ?? '0');
  if (scale !== t.scale) invalid(t, `scale ${scale} differs from the type's`, s);
  const u = BigInt(`${m[2]}${frac}`);
  return m[1] === '-' ? -u : u;
}

function parseHex(t: PrimitiveType, s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) invalid(t, 'not a hexadecimal string', s);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** The value of type `t` a JSON single value stands for (throws value_invalid, naming `where`, if it is not one). */
export function valueFromJson(t: PrimitiveType, j: unknown, where = 'value'): IcebergValue {
  try {
    const v = parseValue(t, j);
    if (!valueMatchesType(v, t)) invalid(t, 'out of range', j);
    return v;
  } catch (e) {
    if (e instanceof FloeError) throw new FloeError('value_invalid', `${where}: ${e.message}`, { where }, e);
    throw e;
  }
}

function parseValue(t: PrimitiveType, j: unknown): IcebergValue {
  const str = (): string => (typeof j === 'string' ? j : invalid(t, 'expected a JSON string', j));
  switch (t.kind) {
    case 'boolean':
      return typeof j === 'boolean' ? j : invalid(t, 'expected a JSON boolean', j);
    case 'int':
      return typeof j === 'number' && Number.isInteger(j) ? j : invalid(t, 'expected an integer', j);
    case 'long':
      if (typeof j === 'bigint') return j;
      return typeof j === 'number' && Number.isSafeInteger(j) ? BigInt(j) : invalid(t, 'expected an exact integer', j);
    case 'float':
    case 'double':
      if (typeof j === 'number') return t.kind === 'float' ? Math.fround(j) : j;
      if (typeof j === 'string' && /^(NaN|-?Infinity)$/.test(j)) return Number(j);
      return invalid(t, 'expected a JSON number', j);
    case 'decimal':
      return parseDecimal(t, str());
    case 'date':
      return parseDate(t, str());
    case 'time':
      return parseTime(t, str(), 6);
    case 'timestamp':
      return parseTimestamp(t, str(), false, false);
    case 'timestamptz':
      return parseTimestamp(t, str(), false, true);
    case 'timestamp_ns':
      return parseTimestamp(t, str(), true, false);
    case 'timestamptz_ns':
      return parseTimestamp(t, str(), true, true);
    case 'string':
      return str();
    case 'uuid': {
      const s = str();
      if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) invalid(t, 'not a UUID', s);
      return parseHex(t, s.replace(/-/g, ''));
    }
    case 'fixed':
    case 'binary':
      return parseHex(t, str());
  }
}
