// Proves a table stops once, not per record: checkTransforms names table, column, type, transform and fix for every transform that cannot apply to its column's type (and leaves columns the record lacks to the table's creation); WorkerCore reports an incompatible schema change once in `stops` and marks that table's later rejects `stopped`, and after stopTable rejects a table's records without asking for it again while other tables open and apply.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { PartitionSpec } from '../../src/iceberg/partition-spec.js';
import { Schema } from '../../src/iceberg/schema.js';
import { T, type NestedField } from '../../src/iceberg/types.js';
import { typeFromJson } from '../../src/iceberg/type-json.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import { quietNodeVersionNotice } from '../../src/node-warnings.js';
import { checkTransforms, tableStopOf, type TransformCheck } from '../../src/worker/table-stop.js';
import { WorkerCore, type ApplyResult, type TableLayoutMsg } from '../../src/worker/worker-core.js';

quietNodeVersionNotice();

const schema = new Schema(0, [
  { id: 1, name: 'id', required: true, type: T.long },
  { id: 2, name: 'created_date', required: false, type: T.long },
  { id: 3, name: 'created_at', required: false, type: T.string },
  { id: 4, name: 'price', required: false, type: T.double },
  { id: 5, name: 'day', required: false, type: T.date },
  { id: 6, name: 'ok', required: false, type: T.boolean },
], [1]);

const check = (c: Partial<TransformCheck>) => checkTransforms({ table: 'shop.orders', partitionBy: [], sortBy: [], partitionByFrom: 'tables.overrides."shop.orders"', sortByFrom: 'tables.defaults', ...c }, schema);

function stopsWith(fn: () => void, stop: string, details: Record<string, unknown>, ...message: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FloeError, String(e));
    assert.equal(tableStopOf(e), stop);
    for (const [k, v] of Object.entries(details)) assert.equal(e.details[k], v, k);
    for (const m of message) assert.match(e.message, m);
    return true;
  });
}

describe('checkTransforms', () => {
  it('month() of a long (a schemaless date): names table, column, type, transform, and both fixes', () => {
    stopsWith(() => check({ partitionBy: ['region', 'month(created_date)'] }), 'partition_transform', { table: 'shop.orders', column: 'created_date', type: 'long', transform: 'month' },
      /^table shop\.orders stopped: partitionBy "month\(created_date\)" cannot apply to column "created_date", which is long in the source records; month\(\) applies to date and timestamp columns\./,
      /schemas\.enable=false/, /Fix: declare the column's type .* or change tables\.overrides\."shop\.orders"\.partitionBy, and restart floe/, /dead-letter topic/);
  });

  it('every transform that cannot apply to its column stops the table', () => {
    const cases: [string, string, RegExp][] = [
      ['day(created_at)', 'string', /day\(\) applies to date and timestamp columns/],
      ['year(price)', 'double', /year\(\) applies to date and timestamp columns/],
      ['hour(day)', 'date', /hour\(\) applies to timestamp columns/],
      ['bucket(16, price)', 'double', /bucket\(\) applies to columns of every type but boolean, float and double/],
      ['bucket(8, ok)', 'boolean', /bucket\(\)/],
      ['truncate(4, day)', 'date', /truncate\(\) applies to int, long, decimal, string and binary columns/],
    ];
    for (const [expr, type, applies] of cases) stopsWith(() => check({ partitionBy: [expr] }), 'partition_transform', { type, expression: expr }, applies);
    // the type hint is only for temporal transforms, and only for types schemaless inference produces
    stopsWith(() => check({ partitionBy: ['bucket(16, price)'] }), 'partition_transform', {}, /^(?!.*schemas\.enable=false).*$/s);
    stopsWith(() => check({ partitionBy: ['hour(day)'] }), 'partition_transform', {}, /^(?!.*schemas\.enable=false).*$/s);
  });

  it('sortBy too, with the key it came from', () => {
    stopsWith(() => check({ sortBy: ['day(created_date) desc nulls last'] }), 'sort_transform', { column: 'created_date' },
      /sortBy "day\(created_date\) desc nulls last" cannot apply/, /change tables\.defaults\.sortBy \(or set tables\.overrides\."shop\.orders"\.sortBy\)/);
  });

  it('passes transforms that apply, and leaves unknown columns and transforms to the table creation', () => {
    check({ partitionBy: ['day(day)', 'bucket(16, id)', 'truncate(4, created_at)', 'created_date', 'void(ok)'], sortBy: ['month(day) desc', 'id'] });
    check({ partitionBy: ['month(not_yet_seen)', 'months(day)'] });
  });
});

// Hand-written messages: cdc.shop.<table>, key {"id":N} with its schema, envelope with column `v` of a Connect type.
function message(table: string, offset: number, id: number, vType: string, v: unknown): SourceMessage {
  const struct = { type: 'struct', optional: true, fields: [{ type: 'int64', optional: false, field: 'id' }, { type: vType, optional: true, field: 'v' }] };
  const schemaJson = { type: 'struct', fields: [{ ...struct, field: 'before' }, { ...struct, field: 'after' }, { type: 'string', optional: false, field: 'op' }] };
  const key = { schema: { type: 'struct', fields: [{ type: 'int64', optional: false, field: 'id' }] }, payload: { id } };
  return { topic: `cdc.shop.${table}`, partition: 0, offset, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify({ schema: schemaJson, payload: { before: null, after: { id, v }, source: { db: 'shop', table }, op: 'c' } })), timestamp: undefined };
}

function layoutFor(need: NonNullable<ApplyResult['need']>): TableLayoutMsg {
  let id = 1;
  const fields: NestedField[] = need.shape.columns.map((c) => ({ id: id++, name: c.name, required: need.shape.keyColumns.includes(c.name), type: typeFromJson(c.type) }));
  const s = new Schema(0, fields, need.shape.keyColumns.map((k) => fields.find((f) => f.name === k)!.id));
  return { name: need.name, schema: s.toJSON(), spec: PartitionSpec.unpartitioned().toJSON(), deleteSpec: PartitionSpec.unpartitioned().toJSON(), keyIds: s.identifierFieldIds, lastColumnId: s.highestFieldId, location: 'file:///nowhere', ioProps: {}, stored: {} };
}

const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;

describe('WorkerCore: stopped tables', () => {
  it('reports an incompatible schema change once, then marks the table\'s rejects stopped', async () => {
    const core = new WorkerCore(init);
    const first = core.apply([message('t', 0, 1, 'string', 'a')]);
    await core.openTable(layoutFor(first.need!));
    const a = core.apply([message('t', 0, 1, 'string', 'a'), message('t', 1, 2, 'int32', 2), message('t', 2, 3, 'string', 'c')]);
    assert.equal(a.applied, 1);
    assert.deepEqual(a.stops?.map((s) => [s.table, s.reason, s.index]), [['shop.t', 'incompatible_schema', 1]]);
    assert.match(a.stops?.[0]?.message ?? '', /column "v" is string in the table but int in the source/);
    assert.deepEqual(a.rejects.map((r) => [r.index, r.stopped]), [[1, 'shop.t'], [2, 'shop.t']]);
    assert.equal(a.rejects[1]?.reason, a.stops?.[0]?.message);
    // a later batch: rejected as stopped, the stop is not reported again
    const b = core.apply([message('t', 3, 4, 'string', 'd')]);
    assert.equal(b.stops, undefined);
    assert.deepEqual(b.rejects.map((r) => [r.index, r.stopped]), [[0, 'shop.t']]);
  });

  it('after stopTable, the table\'s records are rejected in one pass; other tables still open and apply', async () => {
    const core = new WorkerCore(init);
    core.stopTable('shop.orders', 'table shop.orders stopped: partitionBy ...');
    const batch = [message('orders', 0, 1, 'string', 'a'), message('orders', 1, 2, 'string', 'b'), message('customers', 0, 1, 'string', 'c'), message('orders', 2, 3, 'string', 'd')];
    const a = core.apply(batch);
    assert.equal(a.done, 2);
    assert.equal(a.need?.name, 'shop.customers');
    assert.deepEqual(a.rejects.map((r) => [r.index, r.reason, r.stopped]), [[0, 'table shop.orders stopped: partitionBy ...', 'shop.orders'], [1, 'table shop.orders stopped: partitionBy ...', 'shop.orders']]);
    assert.equal(a.stops, undefined, 'a stop from the main thread is not reported back');
    await core.openTable(layoutFor(a.need));
    const b = core.apply(batch.slice(2));
    assert.equal(b.done, 2);
    assert.equal(b.applied, 1);
    assert.deepEqual(b.rejects.map((r) => r.index), [1]);
  });
});
