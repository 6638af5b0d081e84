// Proves Debezium records written by Confluent's AvroConverter decode like the JSON converter's: writer schemas come from the Schema Registry (fetched once per id), named references resolve, Connect semantics (decimal, MicroTimestamp, ZonedTimestamp, int16, exact longs) map to the same Iceberg types and values, and column defaults (AvroData's field default / connect.default) become the same column defaults.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toConnect } from '../../src/decode/avro-converter.js';
import { mapConnectField } from '../../src/decode/connect-schema.js';
import { DebeziumDecoder } from '../../src/decode/debezium.js';
import { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import { FloeError } from '../../src/errors.js';
import { envelope, envelopeSchema, key, keySchema } from '../support/avro-debezium.js';

const VALUE_ID = 7;
const KEY_ID = 8;

describe('Avro with Schema Registry', () => {
  let url = '';
  let fetches = 0;
  const server = createServer((req, res) => {
    fetches++;
    const m = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
    const id = Number(m?.[1]);
    const schema = id === VALUE_ID ? envelopeSchema : id === KEY_ID ? keySchema : null;
    if (schema === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":40403,"message":"Schema not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: JSON.stringify(schema) }));
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('fetches writer schemas once per id and reports unknown ids', async () => {
    const c = new SchemaRegistryClient({ url });
    fetches = 0;
    const [a, b] = await Promise.all([c.schema(VALUE_ID), c.schema(VALUE_ID)]);
    assert.equal(a, b);
    await c.schema(VALUE_ID);
    assert.equal(fetches, 1);
    await assert.rejects(c.schema(99), (e: unknown) => e instanceof FloeError && e.code === 'record_invalid' && /99/.test(e.message));
  });

  it('decodes an update envelope after its schemas are registered', async () => {
    const d = new DebeziumDecoder();
    const reg = new SchemaRegistryClient({ url });
    const row = { id: 42n, name: 'café 🧊', qty: 3, amount: -12345n, created_at: 1_767_225_600_123_456n, updated_at: '2026-01-01T00:00:00.123456Z', big: 9_007_199_254_740_993n };
    const value = envelope('u', { ...row, name: 'old' }, row, VALUE_ID);
    const k = key(42n, KEY_ID);
    let decoded = d.decode('cdc.shop.orders', k, value);
    // First the value's writer schema, then the key's: each is asked for once.
    for (let i = 0; i < 3 && decoded.kind === 'need-schema'; i++) {
      d.registerSchema(decoded.id, await reg.schema(decoded.id));
      decoded = d.decode('cdc.shop.orders', k, value);
    }
    assert.equal(decoded.kind, 'change', decoded.kind === 'reject' ? decoded.reason : decoded.kind);
    const c = decoded;
    assert.equal(c.op, 'u');
    assert.equal(c.db, 'shop');
    assert.equal(c.table, 'orders');
    assert.deepEqual(c.shape.keyColumns, ['id']);
    assert.deepEqual(c.key, [42]);
    const types = Object.fromEntries(c.shape.columns.map((col) => [col.name, col.type]));
    assert.deepEqual(types.amount, { kind: 'decimal', precision: 12, scale: 2 });
    assert.equal(types.created_at?.kind, 'timestamp');
    assert.equal(types.updated_at?.kind, 'timestamptz');
    assert.equal(types.qty?.kind, 'int');
    assert.equal(types.big?.kind, 'long');
    const conv = (name: string) => c.shape.byName.get(name)!.convert(c.row![name]);
    assert.equal(conv('amount'), -12345n);
    assert.equal(conv('created_at'), 1_767_225_600_123_456n);
    assert.equal(conv('updated_at'), 1_767_225_600_123_456n);
    assert.equal(conv('name'), 'café 🧊');
    assert.equal(conv('qty'), 3);
    assert.equal(conv('big'), 9_007_199_254_740_993n, 'longs beyond 2^53 stay exact');
  });

  it('a delete carries the before row', async () => {
    const d = new DebeziumDecoder();
    const reg = new SchemaRegistryClient({ url });
    d.registerSchema(VALUE_ID, await reg.schema(VALUE_ID));
    d.registerSchema(KEY_ID, await reg.schema(KEY_ID));
    const row = { id: 5n, name: null, qty: null, amount: null, created_at: null, updated_at: null, big: null };
    const decoded = d.decode('cdc.shop.orders', key(5n, KEY_ID), envelope('d', row, null, VALUE_ID));
    assert.equal(decoded.kind, 'change');
    assert.equal((decoded).op, 'd');
    assert.deepEqual((decoded).key, [5]);
  });
});

describe('Avro column defaults', () => {
  // As AvroData writes a Connect struct whose fields have defaults: the field's "default" (for the union's first
  // branch: AvroData puts the type before null when there is a default) and "connect.default" on the type.
  const record = {
    type: 'record', name: 'Value', namespace: 'cdc.shop.t',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'qty', type: { type: 'int', 'connect.default': 7 }, default: 7 },
      { name: 'note', type: [{ type: 'string', 'connect.default': 'n/a' }, 'null'], default: 'n/a' },
      { name: 'price', type: { type: 'bytes', scale: 2, precision: 10, 'connect.version': 1, 'connect.parameters': { scale: '2', 'connect.decimal.precision': '10' }, 'connect.default': '\u0000\u0096', 'connect.name': 'org.apache.kafka.connect.data.Decimal', logicalType: 'decimal' }, default: '\u0000\u0096' },
      { name: 'plain', type: 'int', default: 3 },
      { name: 'opt', type: ['null', 'int'], default: null },
    ],
  };

  it('maps each field default to the JSON converter\'s value form, then to the column default', () => {
    const connect = toConnect(record as never);
    const byName = new Map((connect.fields ?? []).map((f) => [f.field, mapConnectField(f)]));
    assert.equal(byName.get('id')?.default, undefined);
    assert.equal(byName.get('qty')?.default, 7);
    assert.equal(byName.get('note')?.default, 'n/a');
    assert.equal(byName.get('price')?.default, 150n); // bytes 00 96 (ISO-8859-1 in Avro JSON) = unscaled 150
    assert.equal(byName.get('plain')?.default, 3); // a field default without connect.default (connect.meta.data off)
    assert.equal(byName.get('opt')?.default, undefined);
  });
});
