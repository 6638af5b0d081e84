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
 *   io.debezium.data.Json / Enum / EnumSet / Xml / Uuid, io.debezium.time.ZonedTime → string
 *   io.debezium.data.Bits → binary; io.debezium.time.Year → int
 *   io.debezium.data.VariableScaleDecimal ({scale, value}) → decimal(38, 10) (rounded to 10 digits)
 *   io.debezium.data.geometry.Geometry/Point ({wkb, srid}) → binary (WKB)
 */
import { FloeError } from '../errors.js';
import { stringifyJsonExact } from '../iceberg/json.js';
import { T, type PrimitiveType } from '../iceberg/types.js';
import type { IcebergValue } from '../iceberg/values.js';

export interface ConnectField {
  readonly type: string;
  readonly optional?: boolean;
  readonly field?: string;
  readonly name?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fields?: readonly ConnectField[];
  readonly items?: ConnectField;
}

export type Converter = (v: unknown) => IcebergValue | null;

export interface ColumnMapping {
  readonly name: string;
  readonly type: PrimitiveType;
  readonly required: boolean;
  readonly convert: Converter;
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

/** Maps one Connect field to an Iceberg column with its value converter. */
export function mapConnectField(f: ConnectField, opts: { readonly column?: string } = {}): ColumnMapping {
  const column = opts.column ?? f.field ?? '?';
  const required = f.optional !== true;
  const m = (type: PrimitiveType, convert: Converter): ColumnMapping => ({ name: column, type, required, convert });
  switch (f.name) {
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return m(T.date, int(column));
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return m(T.time, long(column, 1n, 1000n));
    case 'io.debezium.time.MicroTime':
      return m(T.time, long(column));
    case 'io.debezium.time.NanoTime':
      return m(T.time, long(column, 1000n));
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
      const precision = Math.min(38, Number(f.parameters?.['connect.decimal.precision'] ?? '38'));
      return m(T.decimal(Math.max(precision, scale, 1), scale), (v) =>
        typeof v === 'string' ? decimalFromBase64(v) : bad(column, 'expected base64 decimal bytes', v),
      );
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return m(T.decimal(38, VARIABLE_SCALE_DECIMAL_SCALE), (v) => {
        const o = v as { scale?: number; value?: string };
        if (o === null || typeof o !== 'object' || typeof o.value !== 'string') return bad(column, 'expected {scale, value}', v);
        return rescale(decimalFromBase64(o.value), Number(o.scale ?? 0), VARIABLE_SCALE_DECIMAL_SCALE);
      });
    case 'io.debezium.data.Bits':
      return m(T.binary, (v) => (typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : bad(column, 'expected base64 bytes', v)));
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

/** Columns inferred from a schemaless JSON row (`schemas.enable=false`): integers → long, other numbers → double. */
export function inferColumn(name: string, v: unknown): ColumnMapping | null {
  const col = (type: PrimitiveType, convert: Converter): ColumnMapping => ({ name, type, required: false, convert });
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return col(T.boolean, (x) => (typeof x === 'boolean' ? x : bad(name, 'expected a boolean', x)));
  if (typeof v === 'number') {
    return Number.isInteger(v) ? col(T.long, long(name)) : col(T.double, (x) => (typeof x === 'number' ? x : bad(name, 'expected a number', x)));
  }
  if (typeof v === 'string') return col(T.string, (x) => (typeof x === 'string' ? x : stringifyJsonExact(x)));
  return col(T.string, (x) => (typeof x === 'string' ? x : stringifyJsonExact(x)));
}

