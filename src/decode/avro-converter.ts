/**
 * Debezium records written by Confluent's AvroConverter: the wire format is
 *   0x00 | schema id (int32, big-endian) | Avro binary datum
 * with the writer schema in the Schema Registry. Kafka Connect's AvroData keeps the Connect semantics in
 * schema attributes, e.g.
 *   {"type":"long","connect.name":"io.debezium.time.MicroTimestamp","connect.version":1}
 *   {"type":"bytes","logicalType":"decimal","precision":12,"scale":2,"connect.name":"org.apache.kafka.connect.data.Decimal",
 *    "connect.parameters":{"scale":"2","connect.decimal.precision":"12"}}
 *   {"type":"int","connect.type":"int16"}
 * so an Avro schema maps onto the same Connect schema (and the same Iceberg types) as the JSON converter's
 * schema block, and datums are turned into the JSON converter's value forms (bytes as base64, longs as
 * numbers or exact bigints) so one set of converters serves both. Column defaults come the same way (AvroData's
 * field `default` and `connect.default`, bytes turned from ISO-8859-1 text into base64).
 */
import { FloeError } from '../errors.js';
import { AvroReader, decodeValue, type AvroSchema, type AvroValue } from '../avro/avro.js';
import type { ConnectField } from './connect-schema.js';

export const CONFLUENT_MAGIC = 0;

export function isConfluentAvro(b: Buffer | null): boolean {
  return b !== null && b.length >= 5 && b[0] === CONFLUENT_MAGIC;
}

export function schemaIdOf(b: Buffer): number {
  return b.readInt32BE(1);
}

type Named = Record<string, unknown> & { type: string; name?: string; namespace?: string };

/** Replaces named-type references ("cdc.shop.orders.Value") by the types they name, per Avro's naming rules. */
export function resolveNames(schema: unknown): AvroSchema {
  const named = new Map<string, unknown>();
  const visit = (s: unknown, ns: string | undefined): unknown => {
    if (typeof s === 'string') {
      const hit = named.get(s) ?? (ns !== undefined ? named.get(`${ns}.${s}`) : undefined);
      return hit ?? s;
    }
    if (Array.isArray(s)) return s.map((x) => visit(x, ns));
    if (s === null || typeof s !== 'object') return s;
    const o = s as Named;
    if (o.type === 'record' || o.type === 'error' || o.type === 'enum' || o.type === 'fixed') {
      const name = String(o.name ?? '');
      const space = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : (o.namespace ?? ns);
      const full = name.includes('.') || space === undefined || space === '' ? name : `${space}.${name}`;
      const out: Record<string, unknown> = { ...o };
      named.set(full, out);
      if (!named.has(name)) named.set(name, out);
      if (o.type === 'record' || o.type === 'error') {
        out.fields = (o.fields as Record<string, unknown>[]).map((f) => ({ ...f, type: visit(f.type, space) }));
      }
      return out;
    }
    if (o.type === 'array') return { ...o, items: visit(o.items, ns) };
    if (o.type === 'map') return { ...o, values: visit(o.values, ns) };
    return o;
  };
  return visit(schema, undefined) as AvroSchema;
}

/**
 * A column default as AvroData writes it (`connect.default` on the type, and the record field's `default`),
 * in the JSON converter's value form: Avro JSON writes bytes as a string of ISO-8859-1 code points, the JSON
 * converter as base64.
 */
function defaultOf(o: Record<string, unknown>, fieldDefault: unknown, nullFirst: boolean): unknown {
  // A union's field default is for its first branch: ["null", T] defaults to null.
  const d = o['connect.default'] ?? (nullFirst ? undefined : fieldDefault);
  if (d === undefined || d === null) return undefined;
  if ((o.type === 'bytes' || o.type === 'fixed') && typeof d === 'string') return Buffer.from(d, 'latin1').toString('base64');
  return d;
}

/** The Connect schema an Avro schema stands for (AvroData's mapping, read backwards). */
export function toConnect(s: AvroSchema, field?: string, fieldDefault?: unknown): ConnectField {
  let schema: unknown = s;
  let optional = false;
  let nullFirst = false;
  if (Array.isArray(schema)) {
    const branches = schema.filter((b) => b !== 'null');
    optional = branches.length < schema.length;
    nullFirst = schema[0] === 'null';
    if (branches.length !== 1) throw new FloeError('type_unsupported', `Avro union ${JSON.stringify(schema).slice(0, 80)} has several non-null branches`, { field });
    schema = branches[0];
  }
  const o: Record<string, unknown> = typeof schema === 'string' ? { type: schema } : (schema as Record<string, unknown>);
  const dflt = defaultOf(o, fieldDefault, nullFirst);
  const base = {
    ...(field !== undefined ? { field } : {}),
    optional,
    ...(typeof o['connect.name'] === 'string' ? { name: o['connect.name'] } : {}),
    ...(o['connect.parameters'] !== undefined ? { parameters: o['connect.parameters'] as Record<string, string> } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
  };
  switch (o.type) {
    case 'int':
      return { ...base, type: typeof o['connect.type'] === 'string' ? o['connect.type'] : 'int32' };
    case 'long':
      return { ...base, type: 'int64' };
    case 'float':
      return { ...base, type: 'float32' };
    case 'double':
      return { ...base, type: 'float64' };
    case 'boolean':
    case 'string':
      return { ...base, type: o.type };
    case 'enum':
      return { ...base, type: 'string' };
    case 'bytes':
    case 'fixed':
      return { ...base, type: 'bytes' };
    case 'record':
      return { ...base, type: 'struct', fields: (o.fields as { name: string; type: AvroSchema; default?: unknown }[]).map((f) => toConnect(f.type, f.name, f.default)) };
    case 'array':
      return { ...base, type: 'array', items: toConnect(o.items as AvroSchema) };
    case 'map':
      return { ...base, type: 'map' };
    default:
      throw new FloeError('type_unsupported', `Avro type ${JSON.stringify(o.type)} is not supported`, { field });
  }
}

/** An Avro datum in the JSON converter's value forms. */
export function toJsonForm(v: AvroValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJsonForm);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toJsonForm(x);
  return out;
}

export interface AvroWriterSchema {
  readonly avro: AvroSchema;
  readonly connect: ConnectField;
}

export function parseWriterSchema(text: string): AvroWriterSchema {
  const avro = resolveNames(JSON.parse(text));
  return { avro, connect: toConnect(avro) };
}

export function decodeDatum(schema: AvroWriterSchema, b: Buffer): unknown {
  const r = new AvroReader(b.subarray(5));
  const v = decodeValue(schema.avro, r);
  if (r.pos !== b.length - 5) throw new FloeError('record_invalid', `Avro datum has ${b.length - 5 - r.pos} trailing bytes: wrong writer schema?`);
  return toJsonForm(v);
}
