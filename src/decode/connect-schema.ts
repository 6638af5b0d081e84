/**
 * Kafka Connect schemas as Debezium's JSON converter writes them (`value.converter.schemas.enable=true`):
 *   {"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},
 *     {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,
 *      "parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price"}, ...],
 *    "optional":false,"name":"shop.orders.Envelope"}
 * and their mapping to Iceberg types plus a converter per column from the JSON value to floe's IcebergValue.
 * Semantic types (field `name`) decide the mapping, as Debezium documents them:
 *   io.debezium.time.Date (int32 days)             → date
 *   io.debezium.time.Time (int32 ms)               → time
 *   io.debezium.time.MicroTime / NanoTime          → time
 *   io.debezium.time.Timestamp (int64 ms, no zone) → timestamp
 *   io.debezium.time.MicroTimestamp / NanoTimestamp→ timestamp
 *   io.debezium.time.ZonedTimestamp (ISO string)   → timestamptz
 *   org.apache.kafka.connect.data.Date/Time/Timestamp (time.precision.mode=connect) → date/time/timestamp
 *   org.apache.kafka.connect.data.Decimal (base64 two's complement unscaled, "scale" param) → decimal(P,S)
 *     with "connect.decimal.precision" above 38 (MySQL DECIMAL(65,30)), Iceberg's limit → string, exact text
 *   io.debezium.data.Json / Enum / EnumSet / Xml / Uuid / Ltree, io.debezium.time.ZonedTime / Interval → string
 *   io.debezium.data.Bits (little-endian bytes, "length" bits) → binary, big-endian as MySQL shows BIT values
 *   io.debezium.time.Year → int; io.debezium.time.MicroDuration (int64 µs) → long
 *   io.debezium.time.IsoDate / IsoTime / IsoTimestamp (time.precision.mode=isostring) → date / time / timestamp
 *   io.debezium.data.VariableScaleDecimal ({scale, value}) → decimal(38, 10) (rounded half up to 10 digits)
 *   io.debezium.data.geometry.Geometry/Point/Geography ({wkb, srid}) → binary (WKB)
 * Time-of-day columns follow `timeAs`: Iceberg `time` (default; 00:00 ≤ t < 24:00, other values are out of
 * range), `micros` (long, signed microseconds: all of MySQL's TIME range, -838:59:59 … 838:59:59) or `string`
 * ("[-]HHH:MM:SS.ffffff"). A field's `"default"` (the column's DEFAULT) goes through the same converter into
 * ColumnMapping.default. The full rule list for users is docs/types.md.
 */
import { FloeError } from '../errors.js';
import { stringifyJsonExact } from '../iceberg/json.js';
import { T, type PrimitiveType } from '../iceberg/types.js';
import { valueMatchesType, type IcebergValue } from '../iceberg/values.js';

export interface ConnectField {
  readonly type: string;
  readonly optional?: boolean;
  readonly field?: string;
  readonly name?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fields?: readonly ConnectField[];
  readonly items?: ConnectField;
  /**
   * The column's default, in the same JSON form as its values: JsonConverter writes the Connect schema's
   * default value as `"default"`, and Debezium sets that from the column's DEFAULT. Null or absent: none.
   */
  readonly default?: unknown;
}

export type Converter = (v: unknown) => IcebergValue | null;

/** How time-of-day source columns land (docs/types.md): Spark cannot read Iceberg `time` columns yet. */
export type TimeAs = 'time' | 'micros' | 'string';

export interface MappingOptions {
  readonly timeAs?: TimeAs;
}

/** Iceberg's decimal precision limit (spec: "decimal(P,S): P must be 38 or less"). */
export const DECIMAL_PRECISION_MAX = 38;

export interface ColumnMapping {
  readonly name: string;
  readonly type: PrimitiveType;
  readonly required: boolean;
  readonly convert: Converter;
  /** The source column's default converted into `type` (absent: none, or one floe cannot trust; see sourceDefault). */
  readonly default?: IcebergValue;
}

const VARIABLE_SCALE_DECIMAL_SCALE = 10;

function bad(column: string, what: string, v: unknown): never {
  throw new FloeError('value_invalid', `column "${column}": ${what}, got ${stringifyJsonExact(v)?.slice(0, 80)}`, { column });
}

/** Base64 two's-complement big-endian bytes → bigint (Connect Decimal). */
export function decimalFromBase64(s: string): bigint {
  const b = Buffer.from(s, 'base64');
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return BigInt.asIntN(b.length * 8, v);
}

/** Rescales an unscaled decimal from one scale to another, rounding half up (used for VariableScaleDecimal). */
function rescale(unscaled: bigint, from: number, to: number): bigint {
  if (from === to) return unscaled;
  if (from < to) return unscaled * 10n ** BigInt(to - from);
  const div = 10n ** BigInt(from - to);
  const q = unscaled / div;
  const r = unscaled % div;
  const half = div / 2n;
  if (r >= half) return q + 1n;
  if (r <= -half) return q - 1n;
  return q;
}

/** An unscaled decimal as plain text at `scale` ("-12.340"), for decimals wider than Iceberg allows. */
export function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return `${neg ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
}

/** Signed microseconds as MySQL TIME text: "[-]HH:MM:SS.ffffff" (hours may exceed 24: TIME is a duration). */
export function durationText(micros: bigint): string {
  const neg = micros < 0n;
  let m = neg ? -micros : micros;
  const us = m % 1_000_000n;
  m /= 1_000_000n;
  const sec = m % 60n;
  m /= 60n;
  const min = m % 60n;
  const h = m / 60n;
  const p = (x: bigint, w: number) => x.toString().padStart(w, '0');
  return `${neg ? '-' : ''}${p(h, 2)}:${p(min, 2)}:${p(sec, 2)}.${p(us, 6)}`;
}

/** Debezium Bits (little-endian) → big-endian bytes of ceil(length / 8), as MySQL renders BIT(n) values. */
export function bitsBigEndian(littleEndian: Uint8Array, lengthBits: number | null): Uint8Array {
  const n = lengthBits === null ? littleEndian.length : Math.ceil(lengthBits / 8);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[n - 1 - i] = littleEndian[i] ?? 0;
  return out;
}

/** ISO-8601 with zone (ZonedTimestamp: "2024-03-07T10:15:30.123456Z") → micros since epoch, keeping micros. */
export function isoToMicros(s: string, column: string): bigint {
  const m = /^([+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m === null) bad(column, 'expected an ISO-8601 timestamp', s);
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) bad(column, 'expected an ISO-8601 timestamp', s);
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(ms) * 1000n + BigInt(frac);
}

function int(column: string): Converter {
  return (v) => {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n) return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return bad(column, 'expected an integer', v);
  };
}

function long(column: string, scaleDown = 1n, scaleUp = 1n): Converter {
  return (v) => {
    let b: bigint;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) bad(column, 'expected an integer', v);
      if (!Number.isSafeInteger(v)) throw new PrecisionLost(column);
      b = BigInt(v);
    } else if (typeof v === 'bigint') b = v;
    else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
    else return bad(column, 'expected an integer', v);
    if (scaleDown !== 1n) b = b >= 0n ? b / scaleDown : -((-b + scaleDown - 1n) / scaleDown);
    return scaleUp !== 1n ? b * scaleUp : b;
  };
}

/**
 * Thrown when a JSON number exceeded 2^53 and JSON.parse rounded it: the decoder re-parses that one message
 * with exact integers (rare: BIGINT values beyond 2^53).
 */
export class PrecisionLost extends Error {
  constructor(readonly column: string) {
    super(`integer in column ${column} exceeds 2^53`);
  }
}

/** A time-of-day column (source value in signed microseconds) in the configured form. */
function timeColumn(m: (type: PrimitiveType, convert: Converter) => ColumnMapping, micros: Converter, timeAs: TimeAs): ColumnMapping {
  if (timeAs === 'time') return m(T.time, micros);
  if (timeAs === 'micros') return m(T.long, micros);
  return m(T.string, (v) => {
    const x = micros(v);
    return typeof x === 'bigint' ? durationText(x) : x;
  });
}

/** "HH:MM:SS[.f]" (IsoTime, optionally with a zone suffix that is ignored) → micros of the day. */
function isoTimeToMicros(s: string, column: string): bigint {
  const t = /^(-?)(\d{2,3}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (t === null) bad(column, 'expected an ISO-8601 time', s);
  const v = ((BigInt(t[2] as string) * 60n + BigInt(t[3] as string)) * 60n + BigInt(t[4] as string)) * 1_000_000n + BigInt((t[5] ?? '').padEnd(6, '0').slice(0, 6));
  return t[1] === '-' ? -v : v;
}

/** Semantic types of timestamp columns: Debezium sends DEFAULT CURRENT_TIMESTAMP (and zero dates) as the epoch. */
const TIMESTAMP_NAMES = new Set([
  'io.debezium.time.Timestamp', 'io.debezium.time.MicroTimestamp', 'io.debezium.time.NanoTimestamp', 'io.debezium.time.ZonedTimestamp',
  'io.debezium.time.IsoTimestamp', 'org.apache.kafka.connect.data.Timestamp',
]);

/**
 * A column's source default as a value of its Iceberg type, or undefined: no default, a default the converter
 * or the type cannot take (a TIME beyond 24 h as `time`, a BIGINT beyond 2^53 rounded by JSON.parse), or a
 * timestamp default at the epoch. Debezium's MySQL parser turns DEFAULT CURRENT_TIMESTAMP into
 * 1970-01-01 00:00:00, while MySQL fills existing rows with the time of the ALTER: the epoch would be wrong.
 */
function sourceDefault(f: ConnectField, c: ColumnMapping): IcebergValue | undefined {
  if (f.default === undefined || f.default === null) return undefined;
  try {
    const v = c.convert(f.default);
    if (v === null || !valueMatchesType(v, c.type)) return undefined;
    if (f.name !== undefined && TIMESTAMP_NAMES.has(f.name) && v === 0n) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** Maps one Connect field to an Iceberg column with its value converter (and its source default, if any). */
export function mapConnectField(f: ConnectField, opts: { readonly column?: string } & MappingOptions = {}): ColumnMapping {
  const c = mapType(f, opts);
  const d = sourceDefault(f, c);
  return d === undefined ? c : { ...c, default: d };
}

function mapType(f: ConnectField, opts: { readonly column?: string } & MappingOptions): ColumnMapping {
  const column = opts.column ?? f.field ?? '?';
  const required = f.optional !== true;
  const timeAs = opts.timeAs ?? 'time';
  const m = (type: PrimitiveType, convert: Converter): ColumnMapping => ({ name: column, type, required, convert });
  switch (f.name) {
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return m(T.date, int(column));
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return timeColumn(m, long(column, 1n, 1000n), timeAs);
    case 'io.debezium.time.MicroTime':
      return timeColumn(m, long(column), timeAs);
    case 'io.debezium.time.NanoTime':
      return timeColumn(m, long(column, 1000n), timeAs);
    case 'io.debezium.time.IsoTime':
      return timeColumn(m, (v) => (typeof v === 'string' ? isoTimeToMicros(v, column) : bad(column, 'expected an ISO-8601 time', v)), timeAs);
    case 'io.debezium.time.IsoDate':
      return m(T.date, (v) => (typeof v === 'string' ? Number((isoToMicros(`${v.slice(0, 10)}T00:00:00Z`, column) / 86_400_000_000n)) : bad(column, 'expected an ISO-8601 date', v)));
    case 'io.debezium.time.IsoTimestamp':
      return m(T.timestamp, (v) => (typeof v === 'string' ? isoToMicros(v.replace(/(Z|[+-]\d{2}:?\d{2})$/, ''), column) : bad(column, 'expected an ISO-8601 timestamp', v)));
    case 'io.debezium.time.MicroDuration':
      return m(T.long, long(column));
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return m(T.timestamp, long(column, 1n, 1000n));
    case 'io.debezium.time.MicroTimestamp':
      return m(T.timestamp, long(column));
    case 'io.debezium.time.NanoTimestamp':
      return m(T.timestamp, long(column, 1000n));
    case 'io.debezium.time.ZonedTimestamp':
      return m(T.timestamptz, (v) => (typeof v === 'string' ? isoToMicros(v, column) : bad(column, 'expected an ISO-8601 string', v)));
    case 'io.debezium.time.Year':
      return m(T.int, int(column));
    case 'org.apache.kafka.connect.data.Decimal': {
      const scale = Number(f.parameters?.scale ?? '0');
      // Connect's Decimal has no precision of its own; Debezium adds "connect.decimal.precision" (absent:
      // assume the widest Iceberg decimal).
      const declared = Number(f.parameters?.['connect.decimal.precision'] ?? String(DECIMAL_PRECISION_MAX));
      const unscaled: Converter = (v) => (typeof v === 'string' ? decimalFromBase64(v) : bad(column, 'expected base64 decimal bytes', v));
      if (declared > DECIMAL_PRECISION_MAX || scale > DECIMAL_PRECISION_MAX || scale < 0) {
        // Iceberg decimals stop at 38 digits: a wider column (MySQL DECIMAL(65,30)) keeps every digit as text.
        return m(T.string, (v) => decimalText(unscaled(v) as bigint, scale));
      }
      return m(T.decimal(Math.max(declared, scale, 1), scale), unscaled);
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return m(T.decimal(38, VARIABLE_SCALE_DECIMAL_SCALE), (v) => {
        const o = v as { scale?: number; value?: string };
        if (o === null || typeof o !== 'object' || typeof o.value !== 'string') return bad(column, 'expected {scale, value}', v);
        return rescale(decimalFromBase64(o.value), Number(o.scale ?? 0), VARIABLE_SCALE_DECIMAL_SCALE);
      });
    case 'io.debezium.data.Bits': {
      const bits = f.parameters?.length !== undefined ? Number(f.parameters.length) : null;
      return m(T.binary, (v) => (typeof v === 'string' ? bitsBigEndian(Buffer.from(v, 'base64'), bits) : bad(column, 'expected base64 bytes', v)));
    }
    case 'io.debezium.data.geometry.Geometry':
    case 'io.debezium.data.geometry.Point':
    case 'io.debezium.data.geometry.Geography':
      return m(T.binary, (v) => {
        const o = v as { wkb?: string };
        return o !== null && typeof o === 'object' && typeof o.wkb === 'string' ? new Uint8Array(Buffer.from(o.wkb, 'base64')) : bad(column, 'expected {wkb, srid}', v);
      });
    default:
      break;
  }
  switch (f.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      return m(T.int, int(column));
    case 'int64':
      return m(T.long, long(column));
    case 'float':
    case 'float32':
      return m(T.float, (v) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^(NaN|-?Infinity)$/.test(v) ? Number(v) : bad(column, 'expected a number', v)));
    case 'double':
    case 'float64':
      return m(T.double, (v) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^(NaN|-?Infinity)$/.test(v) ? Number(v) : bad(column, 'expected a number', v)));
    case 'boolean':
      return m(T.boolean, (v) => (typeof v === 'boolean' ? v : bad(column, 'expected a boolean', v)));
    case 'string':
      return m(T.string, (v) => (typeof v === 'string' ? v : bad(column, 'expected a string', v)));
    case 'bytes':
      return m(T.binary, (v) => (typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : bad(column, 'expected base64 bytes', v)));
    case 'struct':
    case 'array':
    case 'map':
      // Nested values are kept as JSON text until nested types are supported.
      return m(T.string, (v) => stringifyJsonExact(v));
    default:
      throw new FloeError('type_unsupported', `column "${column}": unknown Kafka Connect type "${f.type}"${f.name !== undefined ? ` (${f.name})` : ''}`, { column });
  }
}

/**
 * Columns inferred from a schemaless JSON row (`schemas.enable=false`): integers → long, other numbers →
 * double, strings → string, booleans → boolean, objects and arrays → string (JSON text). `literal` is the
 * number as the producer wrote it: JSON.parse turns Kafka Connect's `1.0` (a DOUBLE column) into 1, which
 * must not make the column a long.
 */
export function inferColumn(name: string, v: unknown, literal?: string): ColumnMapping | null {
  const col = (type: PrimitiveType, convert: Converter): ColumnMapping => ({ name, type, required: false, convert });
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return col(T.boolean, (x) => (typeof x === 'boolean' ? x : bad(name, 'expected a boolean', x)));
  if (typeof v === 'number' || typeof v === 'bigint') {
    const integral = literal !== undefined ? /^-?\d+$/.test(literal) : typeof v === 'bigint' || Number.isInteger(v);
    return integral ? col(T.long, long(name)) : col(T.double, (x) => (typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : bad(name, 'expected a number', x)));
  }
  if (typeof v === 'string') return col(T.string, (x) => (typeof x === 'string' ? x : stringifyJsonExact(x)));
  return col(T.string, (x) => (typeof x === 'string' ? x : stringifyJsonExact(x)));
}

