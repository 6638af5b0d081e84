// Proves DebeziumDecoder on JSON-converter messages with and without the schema block: every op, column defaults from the block, tombstones, schema-change and heartbeat skips, keys (struct, schemaless, composite, id columns), flattened cdc-field records, the per-topic schema cache, and rejection reasons.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrecisionLost } from '../../src/decode/connect-schema.js';
import { DebeziumDecoder, type Change, type Decoded } from '../../src/decode/debezium.js';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { T } from '../../src/iceberg/types.js';

type Json = Record<string, unknown>;

const TOPIC = 'cdc.shop.orders';
const ID = { type: 'int64', optional: false, field: 'id' };
const NAME = { type: 'string', optional: true, field: 'name' };
const PRICE = { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '12' }, field: 'price' };
const EMAIL = { type: 'string', optional: true, field: 'email' };

/** A Debezium MySQL envelope schema, as the JSON converter writes it. */
function envelope(columns: readonly Json[], table = 'orders'): Json {
  const row = { type: 'struct', fields: columns, optional: true, name: `cdc.shop.${table}.Value` };
  return {
    type: 'struct',
    fields: [
      { ...row, field: 'before' },
      { ...row, field: 'after' },
      {
        type: 'struct',
        fields: [
          { type: 'string', optional: false, field: 'connector' },
          { type: 'string', optional: true, field: 'db' },
          { type: 'string', optional: true, field: 'table' },
        ],
        optional: false,
        name: 'io.debezium.connector.mysql.Source',
        field: 'source',
      },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
    ],
    optional: false,
    name: `cdc.shop.${table}.Envelope`,
    version: 2,
  };
}

const source = (table = 'orders'): Json => ({ connector: 'mysql', db: 'shop', table });
const event = (op: string, before: Json | null, after: Json | null, table = 'orders'): Json => ({ before, after, source: source(table), op, ts_ms: 1_767_225_600_123 });

/** `{"schema":...,"payload":...}` exactly as Kafka's JsonConverter writes it (compact). */
function framed(schema: Json, payload: unknown): Buffer {
  return Buffer.from(`{"schema":${JSON.stringify(schema)},"payload":${JSON.stringify(payload)}}`);
}
const plain = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const keySchema = (fields: readonly Json[]): Json => ({ type: 'struct', fields, optional: false, name: `${TOPIC}.Key` });
const idKey = (id: number): Buffer => framed(keySchema([ID]), { id });

function change(d: Decoded): Change {
  if (d.kind !== 'change') assert.fail(`expected a change, got ${JSON.stringify(d)}`);
  return d;
}
function rejected(d: Decoded): string {
  if (d.kind !== 'reject') assert.fail(`expected a reject, got ${d.kind}`);
  return d.reason;
}
const columnsOf = (c: Change): [string, string, boolean][] => c.shape.columns.map((m) => [m.name, m.type.kind, m.required]);

describe('DebeziumDecoder: envelopes with the schema block', () => {
  const schema = envelope([ID, NAME, PRICE]);

  it('decodes an insert: db/table from source, row from after, key and column types from the schemas', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode(TOPIC, idKey(7), framed(schema, event('c', null, { id: 7, name: 'Ann', price: 'EtaH' }))));
    assert.equal(c.op, 'c');
    assert.equal(c.db, 'shop');
    assert.equal(c.table, 'orders');
    assert.deepEqual(c.row, { id: 7, name: 'Ann', price: 'EtaH' });
    assert.deepEqual(c.key, [7]);
    assert.deepEqual(c.shape.keyColumns, ['id']);
    assert.equal(c.shape.declared, true);
    assert.equal(c.tsMs, 1_767_225_600_123);
    assert.deepEqual(columnsOf(c), [['id', 'long', true], ['name', 'string', false], ['price', 'decimal', false]]);
    assert.deepEqual(c.shape.byName.get('price')?.type, T.decimal(12, 2));
    assert.equal(c.shape.byName.get('price')?.convert(c.row?.price), 1234567n);
  });

  it('decodes r (snapshot read) and u from after, d from before', () => {
    const d = new DebeziumDecoder();
    const r = change(d.decode(TOPIC, idKey(1), framed(schema, event('r', null, { id: 1, name: 'snap', price: null }))));
    assert.equal(r.op, 'r');
    assert.deepEqual(r.row, { id: 1, name: 'snap', price: null });
    const u = change(d.decode(TOPIC, idKey(1), framed(schema, event('u', { id: 1, name: 'old', price: null }, { id: 1, name: 'new', price: 'AA==' }))));
    assert.equal(u.op, 'u');
    assert.deepEqual(u.row, { id: 1, name: 'new', price: 'AA==' });
    const del = change(d.decode(TOPIC, idKey(1), framed(schema, event('d', { id: 1, name: 'new', price: 'AA==' }, null))));
    assert.equal(del.op, 'd');
    assert.deepEqual(del.row, { id: 1, name: 'new', price: 'AA==' });
    assert.deepEqual(del.key, [1]);
  });

  it('a delete with before: null is a key-only delete', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode(TOPIC, idKey(9), framed(schema, event('d', null, null))));
    assert.equal(c.op, 'd');
    assert.equal(c.row, null);
    assert.deepEqual(c.key, [9]);
    assert.deepEqual(c.shape.keyColumns, ['id']);
  });

  it('schemaless: a key-only delete that is the first record of its topic still has its key columns (from the key)', () => {
    const d = new DebeziumDecoder();
    const value = Buffer.from(JSON.stringify({ before: null, after: null, source: { db: 'shop', table: 'order_items' }, op: 'd' }));
    const c = change(d.decode('cdc.shop.order_items', Buffer.from('{"order_id":5,"line_no":0}'), value));
    assert.deepEqual(c.key, [5, 0]);
    assert.deepEqual(c.shape.columns.map((x) => [x.name, x.required]), [['order_id', true], ['line_no', true]]);
    // a later full row adds its other columns to the same topic's shape
    const row = { order_id: 6, line_no: 1, sku: 'x' };
    const later = change(d.decode('cdc.shop.order_items', Buffer.from('{"order_id":6,"line_no":1}'), Buffer.from(JSON.stringify({ before: null, after: row, source: { db: 'shop', table: 'order_items' }, op: 'c' }))));
    assert.deepEqual(later.shape.columns.map((x) => x.name), ['order_id', 'line_no', 'sku']);
  });

  it('a truncate is a change with no row and no key', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode(TOPIC, null, framed(schema, event('t', null, null))));
    assert.equal(c.op, 't');
    assert.equal(c.row, null);
    assert.deepEqual(c.key, []);
    assert.equal(c.db, 'shop');
    assert.equal(c.table, 'orders');
  });

  it('skips tombstones (null or empty value, null payload)', () => {
    const d = new DebeziumDecoder();
    assert.deepEqual(d.decode(TOPIC, idKey(1), null), { kind: 'skip', reason: 'tombstone' });
    assert.deepEqual(d.decode(TOPIC, idKey(1), Buffer.alloc(0)), { kind: 'skip', reason: 'tombstone' });
    assert.deepEqual(d.decode(TOPIC, idKey(1), framed(schema, null)), { kind: 'skip', reason: 'tombstone' });
  });

  it('skips schema-change events and heartbeats', () => {
    const d = new DebeziumDecoder();
    const ddl = { source: source(), databaseName: 'shop', schemaName: null, ddl: 'ALTER TABLE orders ADD COLUMN email VARCHAR(255)', tableChanges: [] };
    assert.deepEqual(d.decode('cdc', plain({ databaseName: 'shop' }), plain(ddl)), { kind: 'skip', reason: 'schema-change' });
    const ddlSchema = { type: 'struct', fields: [{ type: 'string', optional: false, field: 'databaseName' }, { type: 'string', optional: true, field: 'ddl' }], optional: false, name: 'io.debezium.connector.mysql.SchemaChangeValue' };
    assert.deepEqual(d.decode('cdc', null, framed(ddlSchema, ddl)), { kind: 'skip', reason: 'schema-change' });
    const hbSchema = { type: 'struct', fields: [{ type: 'int64', optional: false, field: 'ts_ms' }], optional: false, name: 'io.debezium.connector.common.Heartbeat' };
    assert.deepEqual(d.decode('__debezium-heartbeat.cdc', plain({ serverName: 'cdc' }), framed(hbSchema, { ts_ms: 1_588_252_618_953 })), { kind: 'skip', reason: 'heartbeat' });
    assert.deepEqual(d.decode('__debezium-heartbeat.cdc', null, plain({ ts_ms: 1_588_252_618_953 })), { kind: 'skip', reason: 'heartbeat' });
  });

  it('takes the table from `collection` (MongoDB) when `table` is absent', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode('m.inv.users', plain({ id: 1 }), plain({ before: null, after: { id: 1 }, source: { db: 'inv', collection: 'users' }, op: 'c' })));
    assert.equal(c.db, 'inv');
    assert.equal(c.table, 'users');
    assert.equal(c.tsMs, null);
  });

  it('re-decodes with exact integers beyond 2^53 (decodeExact), with and without the schema cache', () => {
    const max = '9223372036854775807';
    const value = Buffer.from(`{"schema":${JSON.stringify(schema)},"payload":{"before":null,"after":{"id":${max},"name":"big","price":null},"source":{"connector":"mysql","db":"shop","table":"orders"},"op":"c","ts_ms":1}}`);
    const key = Buffer.from(`{"schema":${JSON.stringify(keySchema([ID]))},"payload":{"id":${max}}}`);
    for (const warm of [false, true]) {
      const d = new DebeziumDecoder();
      if (warm) {
        // the plain decode rounds: converting the row asks for the exact re-decode
        const fast = change(d.decode(TOPIC, key, value));
        assert.equal(fast.row?.id, 9_223_372_036_854_775_807);
        assert.throws(() => fast.shape.byName.get('id')!.convert(fast.row?.id), (e: unknown) => e instanceof PrecisionLost && e.column === 'id');
      }
      const exact = change(d.decodeExact(TOPIC, key, value));
      assert.equal(exact.row?.id, 9_223_372_036_854_775_807n);
      assert.deepEqual(exact.key, [9_223_372_036_854_775_807n]);
      assert.equal(exact.row?.name, 'big');
      assert.equal(exact.shape.byName.get('id')!.convert(exact.row?.id), 9_223_372_036_854_775_807n);
      assert.equal(exact.table, 'orders');
    }
    const d = new DebeziumDecoder();
    assert.deepEqual(d.decodeExact(TOPIC, key, null), { kind: 'skip', reason: 'tombstone' });
    assert.match(rejected(d.decodeExact(TOPIC, key, Buffer.from('{"payload":'))), /^unparseable JSON/);
  });

  it('decodes int64 values up to 2^53 - 1 exactly', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode(TOPIC, idKey(1), framed(schema, event('c', null, { id: 9_007_199_254_740_991, name: null, price: null }))));
    assert.equal(c.shape.byName.get('id')?.convert(c.row?.id), 9_007_199_254_740_991n);
    const n = change(d.decode(TOPIC, idKey(1), framed(schema, event('c', null, { id: -9_007_199_254_740_991, name: null, price: null }))));
    assert.equal(n.shape.byName.get('id')?.convert(n.row?.id), -9_007_199_254_740_991n);
  });
});

describe('DebeziumDecoder: column defaults', () => {
  it('a column added with DEFAULT 7 carries it: the default is in the field schema JsonConverter writes', () => {
    const qty = { type: 'int32', optional: false, default: 7, field: 'qty' };
    const d = new DebeziumDecoder();
    const c = change(d.decode(TOPIC, idKey(1), framed(envelope([ID, NAME, qty]), event('c', null, { id: 1, name: 'a', qty: 7 }))));
    assert.equal(c.shape.byName.get('qty')?.default, 7);
    assert.equal(c.shape.byName.get('name')?.default, undefined);
    // the cached schema prefix keeps the shape, defaults included
    const again = change(d.decode(TOPIC, idKey(2), framed(envelope([ID, NAME, qty]), event('c', null, { id: 2, name: 'b', qty: 3 }))));
    assert.equal(again.shape.byName.get('qty')?.default, 7);
  });
});

describe('DebeziumDecoder: the schema-prefix cache', () => {
  it('reuses the parsed schema for the same schema and decodes a changed schema with its own columns', () => {
    const d = new DebeziumDecoder();
    const a = envelope([ID, NAME]);
    const b = envelope([ID, NAME, EMAIL]);
    const first = change(d.decode(TOPIC, idKey(1), framed(a, event('c', null, { id: 1, name: 'one' }))));
    const second = change(d.decode(TOPIC, idKey(2), framed(a, event('c', null, { id: 2, name: 'two' }))));
    // cache hit: only the payload was parsed, the mapped columns are the very same objects
    assert.equal(second.shape.columns, first.shape.columns);
    assert.deepEqual(second.row, { id: 2, name: 'two' });
    assert.deepEqual(second.key, [2]);

    const evolved = change(d.decode(TOPIC, idKey(3), framed(b, event('c', null, { id: 3, name: 'three', email: 'x@y.z' }))));
    assert.notEqual(evolved.shape.columns, first.shape.columns);
    assert.deepEqual(columnsOf(evolved), [['id', 'long', true], ['name', 'string', false], ['email', 'string', false]]);
    assert.deepEqual(evolved.row, { id: 3, name: 'three', email: 'x@y.z' });

    const back = change(d.decode(TOPIC, idKey(4), framed(a, event('u', null, { id: 4, name: 'four' }))));
    assert.deepEqual(columnsOf(back), [['id', 'long', true], ['name', 'string', false]]);
    assert.deepEqual(back.row, { id: 4, name: 'four' });
    assert.equal(back.op, 'u');
  });

  it('keeps the cache per topic', () => {
    const d = new DebeziumDecoder();
    const orders = change(d.decode(TOPIC, idKey(1), framed(envelope([ID, NAME]), event('c', null, { id: 1, name: 'o' }))));
    const items = change(d.decode('cdc.shop.items', idKey(1), framed(envelope([ID, PRICE], 'items'), event('c', null, { id: 1, price: 'AA==' }, 'items'))));
    const orders2 = change(d.decode(TOPIC, idKey(2), framed(envelope([ID, NAME]), event('c', null, { id: 2, name: 'p' }))));
    assert.deepEqual(columnsOf(items), [['id', 'long', true], ['price', 'decimal', false]]);
    assert.equal(items.table, 'items');
    assert.equal(orders2.shape.columns, orders.shape.columns);
  });

  it('decodes a schemaless message on a topic whose earlier messages carried a schema', () => {
    const d = new DebeziumDecoder();
    change(d.decode(TOPIC, idKey(1), framed(envelope([ID, NAME]), event('c', null, { id: 1, name: 'a' }))));
    const c = change(d.decode(TOPIC, plain({ id: 2 }), plain(event('c', null, { id: 2, name: 'b', score: 1.5 }))));
    assert.equal(c.shape.declared, false);
    assert.deepEqual(c.row, { id: 2, name: 'b', score: 1.5 });
    assert.deepEqual(columnsOf(c), [['id', 'long', true], ['name', 'string', false], ['score', 'double', false]]);
  });

  it('decodes schema-framed keys from the cache with their own values', () => {
    const d = new DebeziumDecoder();
    const schema = envelope([ID, NAME]);
    const values = [5, 6, 7].map((id) => change(d.decode(TOPIC, idKey(id), framed(schema, event('c', null, { id, name: null })))).key);
    assert.deepEqual(values, [[5], [6], [7]]);
  });
});

describe('DebeziumDecoder: schemaless messages', () => {
  it('infers columns from values, adding columns as they first appear non-null', () => {
    const d = new DebeziumDecoder();
    const c1 = change(d.decode(TOPIC, plain({ id: 1 }), plain(event('c', null, { id: 1, name: 'a', email: null, price: 9.5, vip: true }))));
    assert.equal(c1.shape.declared, false);
    assert.deepEqual(c1.key, [1]);
    assert.deepEqual(c1.shape.keyColumns, ['id']);
    // the key column is required; the others optional; email (null) is not known yet
    assert.deepEqual(columnsOf(c1), [['id', 'long', true], ['name', 'string', false], ['price', 'double', false], ['vip', 'boolean', false]]);
    const c2 = change(d.decode(TOPIC, plain({ id: 2 }), plain(event('u', null, { id: 2, name: 'b', email: 'b@x', price: 3, vip: false }))));
    // price stays double although 3 is an integer; email is added at the end
    assert.deepEqual(columnsOf(c2), [['id', 'long', true], ['name', 'string', false], ['price', 'double', false], ['vip', 'boolean', false], ['email', 'string', false]]);
    assert.equal(c2.shape.byName.get('price')?.convert(3), 3);
  });
});

describe('DebeziumDecoder: keys', () => {
  const schema = envelope([
    { type: 'int64', optional: false, field: 'order_id' },
    { type: 'int32', optional: false, field: 'line_no' },
    { type: 'string', optional: true, field: 'sku' },
  ], 'order_items');
  const row = { order_id: 7, line_no: 2, sku: 'SKU-1' };

  it('composite keys follow the key schema order, not the payload order', () => {
    const d = new DebeziumDecoder();
    const key = framed(keySchema([{ type: 'int64', optional: false, field: 'order_id' }, { type: 'int32', optional: false, field: 'line_no' }]), { line_no: 2, order_id: 7 });
    const c = change(d.decode('cdc.shop.order_items', key, framed(schema, event('c', null, row, 'order_items'))));
    assert.deepEqual(c.shape.keyColumns, ['order_id', 'line_no']);
    assert.deepEqual(c.key, [7, 2]);
  });

  it('schemaless composite keys follow the key object order', () => {
    const d = new DebeziumDecoder();
    const c = change(d.decode('cdc.shop.order_items', plain({ order_id: 7, line_no: 2 }), framed(schema, event('c', null, row, 'order_items'))));
    assert.deepEqual(c.shape.keyColumns, ['order_id', 'line_no']);
    assert.deepEqual(c.key, [7, 2]);
  });

  it('uses the configured id columns when the Kafka key is absent or not a struct', () => {
    const d = new DebeziumDecoder({ idColumns: ['order_id', 'line_no'] });
    for (const key of [null, Buffer.alloc(0), plain('7-2'), plain(7)]) {
      const c = change(d.decode('cdc.shop.order_items', key, framed(schema, event('u', null, row, 'order_items'))));
      assert.deepEqual(c.shape.keyColumns, ['order_id', 'line_no']);
      assert.deepEqual(c.key, [7, 2]);
    }
    // the Kafka key struct wins over configured id columns
    const k = change(d.decode('cdc.shop.order_items', plain({ sku: 'SKU-1' }), framed(schema, event('u', null, row, 'order_items'))));
    assert.deepEqual(k.shape.keyColumns, ['sku']);
    assert.deepEqual(k.key, ['SKU-1']);
  });

  it('id columns come from before for a delete', () => {
    const d = new DebeziumDecoder({ idColumns: ['order_id', 'line_no'] });
    const c = change(d.decode('cdc.shop.order_items', null, framed(schema, event('d', row, null, 'order_items'))));
    assert.equal(c.op, 'd');
    assert.deepEqual(c.key, [7, 2]);
  });
});

describe('DebeziumDecoder: rejections', () => {
  const schema = envelope([ID, NAME]);

  it('unparseable JSON', () => {
    const d = new DebeziumDecoder();
    assert.match(rejected(d.decode(TOPIC, idKey(1), Buffer.from('{"schema":{"type":"struct"'))), /^unparseable JSON: /);
    assert.match(rejected(d.decode(TOPIC, idKey(1), Buffer.from('not json'))), /^unparseable JSON: /);
    assert.match(rejected(d.decode(TOPIC, Buffer.from('{bad key'), plain(event('c', null, { id: 1 })))), /^unparseable JSON: /);
  });

  it('no key: no Kafka key struct and no id columns', () => {
    const d = new DebeziumDecoder();
    const reason = 'record has no key: no Kafka key struct and no id columns configured';
    assert.equal(rejected(d.decode(TOPIC, null, framed(schema, event('c', null, { id: 1, name: 'a' })))), reason);
    assert.equal(rejected(d.decode(TOPIC, plain('1'), framed(schema, event('c', null, { id: 1, name: 'a' })))), reason);
    // a key-only delete (before: null) cannot fall back to id columns
    const withIds = new DebeziumDecoder({ idColumns: ['id'] });
    assert.equal(rejected(withIds.decode(TOPIC, null, framed(schema, event('d', null, null)))), reason);
  });

  it('unknown op', () => {
    const d = new DebeziumDecoder();
    assert.equal(rejected(d.decode(TOPIC, idKey(1), framed(schema, event('x', null, { id: 1, name: 'a' })))), 'unknown op "x"');
  });

  it('null or missing key column', () => {
    const d = new DebeziumDecoder();
    assert.equal(rejected(d.decode(TOPIC, framed(keySchema([ID]), { id: null }), framed(schema, event('c', null, { id: null, name: 'a' })))), 'key column is null or missing (id)');
    const withIds = new DebeziumDecoder({ idColumns: ['id', 'name'] });
    assert.equal(rejected(withIds.decode(TOPIC, null, framed(schema, event('c', null, { id: 1 })))), 'key column is null or missing (id, name)');
  });

  it('other malformed values', () => {
    const d = new DebeziumDecoder();
    assert.equal(rejected(d.decode(TOPIC, idKey(1), plain([1, 2]))), 'value is not a JSON object');
    assert.equal(rejected(d.decode(TOPIC, idKey(1), plain('text'))), 'value is not a JSON object');
    assert.equal(rejected(d.decode(TOPIC, idKey(1), framed(schema, event('c', null, null)))), 'op "c" without an "after" row');
    assert.match(rejected(d.decode(TOPIC, idKey(1), plain({ id: 1, name: 'flat' }))), /^not a Debezium change event/);
  });
});

describe('DebeziumDecoder: flattened records with a cdc field', () => {
  it('reads ExtractNewRecordState `__op` (c/u/d)', () => {
    const d = new DebeziumDecoder({ cdcField: '__op', idColumns: ['id'] });
    const c = change(d.decode('cdc.shop.orders', null, plain({ id: 1, name: 'a', __op: 'c' })));
    assert.equal(c.op, 'c');
    assert.deepEqual(c.row, { id: 1, name: 'a', __op: 'c' });
    assert.deepEqual(c.key, [1]);
    assert.equal(c.db, '');
    assert.equal(c.table, '');
    assert.equal(change(d.decode('cdc.shop.orders', null, plain({ id: 1, name: 'b', __op: 'u' }))).op, 'u');
    const del = change(d.decode('cdc.shop.orders', plain({ id: 1 }), plain({ id: 1, name: 'b', __op: 'd' })));
    assert.equal(del.op, 'd');
    assert.deepEqual(del.row, { id: 1, name: 'b', __op: 'd' });
  });

  it('reads DebeziumTransform `_cdc.op` (I/U/D) from a nested field', () => {
    const d = new DebeziumDecoder({ cdcField: '_cdc.op', idColumns: ['id'] });
    const rec = (op: string): Buffer => plain({ id: 5, name: 'n', _cdc: { op, target: 'shop.orders', source: { db: 'shop', table: 'orders' } } });
    assert.deepEqual(['I', 'U', 'D', 'R', 'T'].map((op) => change(d.decode('t', null, rec(op))).op), ['c', 'u', 'd', 'r', 't']);
    assert.deepEqual(change(d.decode('t', null, rec('U'))).key, [5]);
    assert.equal(rejected(d.decode('t', null, rec('X'))), 'unknown op "X" in field _cdc.op');
    assert.equal(rejected(d.decode('t', null, plain({ id: 5 }))), 'unknown op undefined in field _cdc.op');
  });

  it('maps a flattened record schema (the row struct itself) to columns', () => {
    const d = new DebeziumDecoder({ cdcField: '__op' });
    const schema = { type: 'struct', fields: [ID, NAME, { type: 'string', optional: true, field: '__op' }], optional: false, name: 'cdc.shop.orders.Value' };
    const c = change(d.decode(TOPIC, framed(keySchema([ID]), { id: 3 }), framed(schema, { id: 3, name: 'x', __op: 'u' })));
    assert.equal(c.op, 'u');
    assert.equal(c.shape.declared, true);
    assert.deepEqual(columnsOf(c), [['id', 'long', true], ['name', 'string', false], ['__op', 'string', false]]);
    assert.deepEqual(c.key, [3]);
  });

  it('still decodes full envelopes when a cdc field is configured', () => {
    const d = new DebeziumDecoder({ cdcField: '__op' });
    const c = change(d.decode(TOPIC, idKey(1), framed(envelope([ID, NAME]), event('u', null, { id: 1, name: 'z' }))));
    assert.equal(c.op, 'u');
    assert.equal(c.table, 'orders');
  });
});

describe('DebeziumDecoder on DebeziumGenerator streams', () => {
  /** Folds decoded, converted changes by key; the result must equal the generator's source tables. */
  function replay(withSchema: boolean): { gen: DebeziumGenerator; tables: Map<string, Map<string, Record<string, unknown>>>; changes: Change[] } {
    const gen = new DebeziumGenerator({ topicPrefix: 'cdc', seed: 42, withSchema, keySpace: 40 });
    const d = new DebeziumDecoder();
    const tables = new Map<string, Map<string, Record<string, unknown>>>();
    const changes: Change[] = [];
    for (let seq = 0; seq < 3000; seq++) {
      for (const ev of gen.next(seq)) {
        const got = d.decode(ev.topic, ev.key, ev.value);
        if (ev.op === 'tombstone') {
          assert.deepEqual(got, { kind: 'skip', reason: 'tombstone' });
          continue;
        }
        const c = change(got);
        changes.push(c);
        assert.equal(c.op, ev.op);
        assert.equal(c.db, 'shop');
        assert.equal(c.table, ev.table.table);
        assert.deepEqual(c.shape.keyColumns, ev.table.key);
        const t = tables.get(c.table) ?? new Map<string, Record<string, unknown>>();
        tables.set(c.table, t);
        const keyText = c.key.map((v, i) => String(c.shape.byName.get(c.shape.keyColumns[i]!)!.convert(v))).join('|');
        if (c.op === 'd') {
          t.delete(keyText);
          continue;
        }
        const row: Record<string, unknown> = {};
        for (const m of c.shape.columns) {
          const v = c.row?.[m.name];
          row[m.name] = v === null || v === undefined ? null : m.convert(v);
        }
        t.set(keyText, row);
      }
    }
    return { gen, tables, changes };
  }

  it('with the schema block: converted rows equal the source tables', () => {
    const { gen, tables, changes } = replay(true);
    assert.ok(changes.some((c) => c.op === 'd' && c.row === null), 'some deletes carry only the key');
    assert.ok(changes.some((c) => c.op === 'd' && c.row !== null), 'some deletes carry the before image');
    for (const def of gen.tables) {
      const want = gen.state.get(def.table)!;
      const got = tables.get(def.table) ?? new Map();
      assert.ok(want.size > 5, `${def.table} has rows`);
      assert.deepEqual(got, want, def.table);
    }
    const customers = changes.find((c) => c.table === 'customers')!;
    assert.deepEqual(columnsOf(customers), [['id', 'long', true], ['name', 'string', false], ['email', 'string', false], ['balance', 'decimal', false], ['created_at', 'timestamp', false]]);
    const orders = changes.find((c) => c.table === 'orders')!;
    assert.deepEqual(orders.shape.byName.get('updated_at')?.type, T.timestamptz);
    const items = changes.find((c) => c.table === 'order_items')!;
    assert.deepEqual(columnsOf(items), [['order_id', 'long', true], ['line_no', 'int', true], ['sku', 'string', false], ['qty', 'int', false]]);
  });

  it('without the schema block: same keys and ops, columns inferred', () => {
    const { gen, tables, changes } = replay(false);
    assert.ok(changes.every((c) => !c.shape.declared));
    for (const def of gen.tables) assert.deepEqual([...(tables.get(def.table) ?? new Map()).keys()].sort(), [...gen.state.get(def.table)!.keys()].sort(), def.table);
    const customers = changes.filter((c) => c.table === 'customers').at(-1)!;
    // no schema: the decimal arrives as its base64 text, the timestamp as a plain integer
    assert.deepEqual(customers.shape.byName.get('balance')?.type, T.string);
    assert.deepEqual(customers.shape.byName.get('created_at')?.type, T.long);
    assert.deepEqual(customers.shape.byName.get('id')?.required, true);
  });
});

describe('DebeziumDecoder with a cdc field', () => {
  it('still skips schema-change events and heartbeats', () => {
    const d = new DebeziumDecoder({ cdcField: '__op', idColumns: ['id'] });
    const ddl = d.decode('cdc', null, Buffer.from(JSON.stringify({ databaseName: 'shop', ddl: 'ALTER TABLE t ADD c INT', source: {} })));
    assert.deepEqual(ddl, { kind: 'skip', reason: 'schema-change' });
    const hb = d.decode('__debezium-heartbeat.cdc', null, Buffer.from(JSON.stringify({ ts_ms: 1 })));
    assert.deepEqual(hb, { kind: 'skip', reason: 'heartbeat' });
  });
});
