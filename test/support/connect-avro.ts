// Re-encodes Debezium JSON-converter records (schema block + payload) as Confluent's AvroConverter would write them: the writer schema Kafka Connect's AvroData derives from the Connect schema, and the datum in Avro binary framed as 0x00 | schema id | datum.
import type { AvroSchema, AvroValue } from '../../src/avro/avro.js';
import type { ConnectField } from '../../src/decode/connect-schema.js';
import { frame } from './avro-debezium.js';

/**
 * AvroData's mapping (io.confluent.connect.avro.AvroData.fromConnectSchema), for the types Debezium emits:
 *   int8/int16 → {"type":"int","connect.type":"int16"}; int32 → int; int64 → long; float → float; double → double
 *   Decimal → {"type":"bytes","logicalType":"decimal","precision":P,"scale":S, connect.* attributes}
 *   struct → record named by the Connect schema name; a record name seen before is referenced by name
 *   optional → ["null", T] with default null
 * Every named Connect schema keeps "connect.name", "connect.version" and "connect.parameters".
 */
export function connectToAvro(root: ConnectField): AvroSchema {
  const seen = new Set<string>();
  let anonymous = 0;
  const convert = (f: ConnectField): unknown => {
    const attrs: Record<string, unknown> = {};
    if (f.name !== undefined) attrs['connect.name'] = f.name;
    const version = (f as { version?: number }).version;
    if (version !== undefined) attrs['connect.version'] = version;
    if (f.parameters !== undefined) attrs['connect.parameters'] = f.parameters;
    let t: unknown;
    switch (f.type) {
      case 'int8':
      case 'int16':
        t = { type: 'int', 'connect.type': f.type, ...attrs };
        break;
      case 'int32':
        t = Object.keys(attrs).length > 0 ? { type: 'int', ...attrs } : 'int';
        break;
      case 'int64':
        t = Object.keys(attrs).length > 0 ? { type: 'long', ...attrs } : 'long';
        break;
      case 'float':
      case 'double':
      case 'boolean':
      case 'string':
        t = Object.keys(attrs).length > 0 ? { type: f.type, ...attrs } : f.type;
        break;
      case 'bytes':
        if (f.name === 'org.apache.kafka.connect.data.Decimal') {
          const scale = Number(f.parameters?.scale ?? '0');
          t = { type: 'bytes', scale, precision: Number(f.parameters?.['connect.decimal.precision'] ?? '64'), ...attrs, logicalType: 'decimal' };
        } else t = Object.keys(attrs).length > 0 ? { type: 'bytes', ...attrs } : 'bytes';
        break;
      case 'struct': {
        const full = f.name ?? `io.confluent.connect.avro.ConnectDefault${++anonymous}`;
        if (seen.has(full)) {
          t = full;
          break;
        }
        seen.add(full);
        const dot = full.lastIndexOf('.');
        t = {
          type: 'record',
          name: dot >= 0 ? full.slice(dot + 1) : full,
          ...(dot >= 0 ? { namespace: full.slice(0, dot) } : {}),
          fields: (f.fields ?? []).map((x) => ({ name: x.field, type: convert(x), ...(x.optional === true ? { default: null } : {}) })),
          ...attrs,
        };
        break;
      }
      default:
        throw new Error(`connect-avro: Connect type ${f.type} not handled`);
    }
    return f.optional === true ? ['null', t] : t;
  };
  return convert({ ...root, optional: false }) as AvroSchema;
}

/** A JSON-converter value (bytes as base64, int64 as number or exact bigint) as an Avro datum of `f`. */
export function jsonToAvro(f: ConnectField, v: unknown): AvroValue {
  if (v === null || v === undefined) return null;
  switch (f.type) {
    case 'int64':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'float':
    case 'double':
      return Number(v);
    case 'boolean':
    case 'string':
      return v as AvroValue;
    case 'bytes':
      return Uint8Array.from(Buffer.from(v as string, 'base64'));
    case 'struct': {
      const o = v as Record<string, unknown>;
      const out: Record<string, AvroValue> = {};
      for (const x of f.fields ?? []) out[x.field ?? ''] = jsonToAvro(x, o[x.field ?? '']);
      return out;
    }
    default:
      throw new Error(`connect-avro: Connect type ${f.type} not handled`);
  }
}

/**
 * The writer schema with every named record inlined (our encoder resolves no references), and the
 * registry form (references by name, as AvroData writes it).
 */
export function encodeRecord(schemaId: number, root: ConnectField, value: unknown): Buffer {
  const inline = connectToAvroInline(root);
  return frame(schemaId, inline, jsonToAvro(root, value));
}

function connectToAvroInline(root: ConnectField): AvroSchema {
  // Unique names per occurrence, so nothing is referenced by name (the datum layout is the same).
  let n = 0;
  const rename = (f: ConnectField): ConnectField => ({
    ...f,
    ...(f.type === 'struct' ? { name: `${f.name ?? 'Anon'}${n++ === 0 ? '' : `_${n}`}`, fields: (f.fields ?? []).map(rename) } : {}),
  });
  return connectToAvro(rename(root));
}
