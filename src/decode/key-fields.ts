/**
 * The fields of a learned key template (src/decode/key-serializer.ts): which Connect key types floe writes back
 * (JsonConverter / AvroData value forms), and the checks that a table value fits the field it is written as.
 */
import type { IcebergValue } from '../iceberg/values.js';
import { mapConnectField, type ConnectField, type Converter } from './connect-schema.js';

export type KeyFormat = 'json-schema' | 'json' | 'confluent-avro';
export type Kind = 'int8' | 'int16' | 'int32' | 'int64' | 'string' | 'bytes' | 'decimal' | 'boolean';

/** Why a key cannot be reproduced: the caller stops relying on partitions for that table. */
export interface KeyRefused {
  readonly kind: 'refused';
  readonly reason: string;
}

export interface KeyField {
  readonly name: string;
  readonly kind: Kind;
  readonly optional: boolean;
  /** Decimal scale (0 for other kinds). */
  readonly scale: number;
  /** The decoder's converter for this field: decoded (JSON-form) value → Iceberg value. */
  readonly convert: Converter;
  /** Avro: the union branch of null and of the value (-1: not a union). */
  readonly nullBranch: number;
  readonly valueBranch: number;
}

const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = { int8: [-0x80, 0x7f], int16: [-0x8000, 0x7fff], int32: [-0x80000000, 0x7fffffff] };
const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
/** Connect names on strings that floe maps to plain text (connect-schema.ts): the value is the string itself. */
const TEXT_NAMES = new Set(['io.debezium.data.Uuid', 'io.debezium.data.Enum', 'io.debezium.data.Json', 'io.debezium.data.Xml', 'io.debezium.data.Ltree', 'io.debezium.time.ZonedTime']);
const TEXT_SCALE_MAX = 1000;

/**
 * toIceberg's answer when a decoded integer beyond 2^53 was rounded by JSON.parse (the decoder parses exactly
 * only when a converter asks, DebeziumDecoder.decodeExact): retry with `exactValues` of the raw key.
 */
export const PRECISION_LOST: KeyRefused = Object.freeze({ kind: 'refused', reason: 'a key integer beyond 2^53 was rounded by JSON.parse' });

export function refused(reason: string): KeyRefused {
  return { kind: 'refused', reason };
}

export function isRefused(x: unknown): x is KeyRefused {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'refused';
}

/** A Connect field of a key struct as a KeyField, or why floe does not reproduce it. */
export function keyField(f: ConnectField, avroType: unknown): KeyField | KeyRefused {
  const name = f.field ?? '';
  const what = `key column "${name}" (${f.type}${f.name !== undefined ? ` ${f.name}` : ''})`;
  let kind: Kind;
  let scale = 0;
  if (f.name === DECIMAL && f.type === 'bytes') {
    kind = 'decimal';
    scale = Number(f.parameters?.scale ?? '0');
    if (!Number.isInteger(scale) || scale < 0 || scale > TEXT_SCALE_MAX) return refused(`${what}: decimal scale ${String(f.parameters?.scale)}`);
  } else if (f.name !== undefined && !(f.type === 'string' && TEXT_NAMES.has(f.name))) {
    return refused(`${what}: floe does not re-serialize this semantic type`);
  } else if (['int8', 'int16', 'int32', 'int64', 'string', 'bytes', 'boolean'].includes(f.type)) {
    kind = f.type as Kind;
  } else {
    return refused(`${what}: floe does not re-serialize this type`);
  }
  let nullBranch = -1;
  let valueBranch = -1;
  if (avroType !== undefined) {
    let t = avroType;
    if (Array.isArray(avroType)) {
      nullBranch = avroType.indexOf('null');
      valueBranch = avroType.findIndex((b) => b !== 'null');
      t = avroType[valueBranch];
    }
    const base = typeof t === 'string' ? t : (t as { type?: unknown }).type;
    const want = kind === 'int64' ? 'long' : kind.startsWith('int') ? 'int' : kind === 'decimal' ? 'bytes' : kind;
    if (base !== want) return refused(`${what}: Avro type ${JSON.stringify(t)}`);
  }
  // JsonConverter and AvroData write a null field's default instead (replace.null.with.default): null is
  // only ever written for an optional field without one.
  const optional = f.optional === true && (f.default === undefined || f.default === null);
  return { name, kind, optional, scale, convert: mapConnectField(f).convert, nullBranch, valueBranch };
}

/** Plain decimal text at `scale` ("-12.340", as decimalText writes it) → the unscaled value. */
export function unscaledOfText(s: string, scale: number): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (m === null || (m[3] ?? '').length !== scale) return null;
  const v = BigInt(`${m[2] as string}${m[3] ?? ''}`);
  return m[1] === '-' ? -v : v;
}

/** An integer key value in its Connect type's range: int8-int32 as numbers, int64 as a bigint (or a reason). */
export function integerOf(f: KeyField, v: IcebergValue): number | bigint | string {
  if (f.kind === 'int64') {
    const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : null;
    if (b === null || b < LONG_MIN || b > LONG_MAX) return mismatch(f, v);
    return b;
  }
  const range = INT_RANGE[f.kind] as readonly [number, number];
  const n = typeof v === 'number' ? v : typeof v === 'bigint' && v >= BigInt(range[0]) && v <= BigInt(range[1]) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < range[0] || n > range[1]) return mismatch(f, v);
  return n;
}

export function mismatch(f: KeyField, v: IcebergValue): string {
  const shown = v instanceof Uint8Array ? `${v.length} bytes` : `${typeof v} ${String(v).slice(0, 40)}`;
  return `key column "${f.name}" (${f.kind}): cannot write ${shown}`;
}
