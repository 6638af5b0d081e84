// Proves Debezium records written by Confluent's AvroConverter decode like the JSON converter's: writer schemas come from the Schema Registry (fetched once per id), named references resolve, Connect semantics (decimal, MicroTimestamp, ZonedTimestamp, int16, exact longs) map to the same Iceberg types and values.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
