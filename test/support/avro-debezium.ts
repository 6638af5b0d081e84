// Debezium change events as Confluent's AvroConverter writes them (0x00 | schema id | Avro datum), with the writer schemas Kafka Connect's AvroData derives from Debezium's Connect schemas.
import { AvroWriter, encodeValue, type AvroSchema, type AvroValue } from '../../src/avro/avro.js';

export const valueRecord = {
  type: 'record',
  name: 'Value',
  namespace: 'cdc.shop.orders',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: ['null', 'string'], default: null },
    { name: 'qty', type: ['null', { type: 'int', 'connect.type': 'int16' }], default: null },
    {
      name: 'amount',
      type: ['null', { type: 'bytes', scale: 2, precision: 12, 'connect.version': 1, 'connect.parameters': { scale: '2', 'connect.decimal.precision': '12' }, 'connect.name': 'org.apache.kafka.connect.data.Decimal', logicalType: 'decimal' }],
      default: null,
    },
    { name: 'created_at', type: ['null', { type: 'long', 'connect.version': 1, 'connect.name': 'io.debezium.time.MicroTimestamp' }], default: null },
    { name: 'updated_at', type: ['null', { type: 'string', 'connect.version': 1, 'connect.name': 'io.debezium.time.ZonedTimestamp' }], default: null },
    { name: 'big', type: ['null', 'long'], default: null },
  ],
  'connect.name': 'cdc.shop.orders.Value',
};

/** The envelope refers to the Value record by name the second time, as AvroData writes it. */
export const envelopeSchema = {
  type: 'record',
  name: 'Envelope',
  namespace: 'cdc.shop.orders',
  fields: [
    { name: 'before', type: ['null', valueRecord], default: null },
    { name: 'after', type: ['null', 'Value'], default: null },
    {
      name: 'source',
      type: { type: 'record', name: 'Source', namespace: 'io.debezium.connector.mysql', fields: [{ name: 'db', type: 'string' }, { name: 'table', type: ['null', 'string'], default: null }] },
    },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
  ],
  'connect.name': 'cdc.shop.orders.Envelope',
};

export const keySchema = { type: 'record', name: 'Key', namespace: 'cdc.shop.orders', fields: [{ name: 'id', type: 'long' }], 'connect.name': 'cdc.shop.orders.Key' };

/** The writer schema with the Value record inlined in both places, as our encoder needs it. */
const envelopeForEncoding = { ...envelopeSchema, fields: envelopeSchema.fields.map((f) => (f.name === 'after' ? { ...f, type: ['null', valueRecord] } : f)) } as unknown as AvroSchema;

export function frame(schemaId: number, schema: AvroSchema, datum: AvroValue): Buffer {
  const w = new AvroWriter();
  encodeValue(schema, datum, w);
  const body = w.bytes();
  const out = Buffer.alloc(5 + body.length);
  out[0] = 0;
  out.writeInt32BE(schemaId, 1);
  Buffer.from(body).copy(out, 5);
  return out;
}

export function decimalBytes(unscaled: bigint): Uint8Array {
  const bytes: number[] = [];
  let n = unscaled;
  do {
    bytes.unshift(Number(BigInt.asUintN(8, n)));
    n >>= 8n;
  } while (!((n === 0n && (bytes[0] as number) < 0x80) || (n === -1n && (bytes[0] as number) >= 0x80)));
  return Uint8Array.from(bytes);
}

export interface OrderRow {
  id: bigint;
  name: string | null;
  qty: number | null;
  amount: bigint | null;
  created_at: bigint | null;
  updated_at: string | null;
  big: bigint | null;
}

export function avroRow(r: OrderRow): AvroValue {
  return { ...r, amount: r.amount === null ? null : decimalBytes(r.amount) };
}

export function envelope(op: 'c' | 'u' | 'd', before: OrderRow | null, after: OrderRow | null, valueId: number): Buffer {
  return frame(valueId, envelopeForEncoding, { before: before === null ? null : avroRow(before), after: after === null ? null : avroRow(after), source: { db: 'shop', table: 'orders' }, op, ts_ms: 1n });
}

export function key(id: bigint, keyId: number): Buffer {
  return frame(keyId, keySchema as unknown as AvroSchema, { id });
}
