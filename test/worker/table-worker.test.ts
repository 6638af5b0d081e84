// Proves TableState turns decoded changes into one window per table: values converted to the table's types, keys mapped to the table's key order, records that cannot apply rejected, new source columns added with fresh ids (with the source default as initial-default/write-default on v3 tables, and reported as not kept on v2), and seal() writing Parquet data and equality delete files (partitioned or global) with the right rows.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { mapConnectField, type ConnectField } from '../../src/decode/connect-schema.js';
import type { Change, Op, TableShape } from '../../src/decode/debezium.js';
import { DataFileContent, type DataFile } from '../../src/iceberg/data-file.js';
import { PartitionSpec, partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { Schema } from '../../src/iceberg/schema.js';
import { SortOrder } from '../../src/iceberg/sort-order.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { arrowValue } from '../../src/writer/column-builder.js';
import type { WriterSettings } from '../../src/writer/file-writer.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import { Partitioner } from '../../src/writer/partitioned-writer.js';
import { TableState, type TableLayout } from '../../src/worker/table-worker.js';
import { readParquetCodecs } from '../support/parquet-meta.js';
import { TableKeyIndex } from '../../src/worker/key-index.js';
import { PkIndex } from '../../src/worker/pk-index.js';

const io = new LocalFileIO();
let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-ts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const settings = (): WriterSettings => ({ io, dataLocation: `file://${dir}/t${n++}/data`, codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024 });
/** Seals a window and reports its commit as landed (the index takes the window's changes). */
const sealLanded = async (st: TableState) => {
  const sealed = await st.seal(settings());
  st.confirm(true);
  return sealed;
};

const F = {
  id: { type: 'int64', optional: false, field: 'id' },
  name: { type: 'string', optional: true, field: 'name' },
  amount: { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '12' }, field: 'amount' },
  region: { type: 'string', optional: true, field: 'region' },
  updatedAt: { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', field: 'updated_at' },
  email: { type: 'string', optional: true, field: 'email' },
} satisfies Record<string, ConnectField>;

function shape(fields: readonly ConnectField[], keyColumns: readonly string[]): TableShape {
  const columns = fields.map((f) => mapConnectField(f));
  return { columns, byName: new Map(columns.map((c) => [c.name, c])), keyColumns, declared: true };
}

function change(s: TableShape, op: Op, key: unknown[], row: Record<string, unknown> | null): Change {
  return { kind: 'change', op, db: 'shop', table: 'orders', row, key, shape: s, tsMs: null };
}

/** orders(id long key, name, amount decimal(12,2), region, updated_at timestamptz) as the committer would create it. */
function ordersSchema(): Schema {
  return new Schema(0, [
    { id: 1, name: 'id', required: true, type: T.long },
    { id: 2, name: 'name', required: false, type: T.string },
    { id: 3, name: 'amount', required: false, type: T.decimal(12, 2) },
    { id: 4, name: 'region', required: false, type: T.string },
    { id: 5, name: 'updated_at', required: false, type: T.timestamptz },
  ], [1]);
}
/** Layout settings the committer hands workers for a table with floe's defaults. */
const defaults = { sortOrder: SortOrder.unsorted(), codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024, onIncompatibleChange: 'fail', outOfRange: 'dead-letter' } as const;
const unpartitioned = (schema: Schema, lastColumnId = schema.highestFieldId): TableLayout => ({
  ...defaults,
  schema,
  spec: PartitionSpec.unpartitioned(),
  deleteSpec: PartitionSpec.unpartitioned(),
  keyIds: schema.identifierFieldIds,
  lastColumnId,
});

async function readRows(file: DataFile, types: readonly PrimitiveType[]): Promise<(IcebergValue | null)[][]> {
  const t = decodeParquet(await io.read(file.filePath));
  const rows: (IcebergValue | null)[][] = [];
  for (let r = 0; r < t.numRows; r++) {
    rows.push(types.map((ty, c) => {
      const v = arrowValue(ty, t.getChildAt(c)!, r);
      return v instanceof Uint8Array ? Uint8Array.from(v) : v;
    }));
  }
  return rows;
}
async function readAll(files: readonly DataFile[], types: readonly PrimitiveType[]): Promise<(IcebergValue | null)[][]> {
  const out: (IcebergValue | null)[][] = [];
  for (const f of files) out.push(...(await readRows(f, types)));
  const text = (r: (IcebergValue | null)[]): string => r.map((v) => String(v).padStart(20, '0')).join('|');
  return out.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}
const ORDER_TYPES = [T.long, T.string, T.decimal(12, 2), T.string, T.timestamptz];

/** The key index as TableState takes it (its key fields matter only to catch-ups, not exercised here). */
const wrap = (index: PkIndex): TableKeyIndex => TableKeyIndex.wrap(index, { table: 't', keyFields: [], onDuplicateKeys: 'repair' });

describe('TableState', () => {
  const s = shape([F.id, F.name, F.amount, F.region, F.updatedAt], ['id']);
  const row = (id: number, name: string, amount: string | null, region: string) => ({ id, name, amount, region, updated_at: '2026-01-01T00:00:00.000001Z' });

  it('collapses c/u/d by key and seals data and equality delete files', async () => {
    const st = new TableState(unpartitioned(ordersSchema()));
    st.apply(change(s, 'c', [1], row(1, 'one', 'EtaH', 'eu')), 'cdc.shop.orders/0');
    st.apply(change(s, 'c', [2], row(2, 'two', '7Sl5', 'us')), 'cdc.shop.orders/0');
    st.apply(change(s, 'u', [1], row(1, 'one v2', null, 'eu')), 'cdc.shop.orders/0');
    st.apply(change(s, 'c', [3], row(3, 'three', 'AA==', 'ap')), 'cdc.shop.orders/0');
    st.apply(change(s, 'd', [3], row(3, 'three', 'AA==', 'ap')), 'cdc.shop.orders/0');
    st.apply(change(s, 'd', [4], null), 'cdc.shop.orders/0'); // key-only delete of a row from an earlier window
    assert.equal(st.buffer.size, 4);
    assert.equal(st.pendingSchema, null);

    const sealed = await sealLanded(st);
    assert.equal(sealed.truncated, false);
    assert.equal(sealed.rows, 2);
    assert.equal(sealed.deletedKeys, 2);
    assert.equal(sealed.dataFiles.length, 1);
    assert.equal(sealed.dataFiles[0]!.content, DataFileContent.DATA);
    assert.equal(sealed.dataFiles[0]!.recordCount, 2n);
    assert.equal(sealed.deleteFiles.length, 1);
    const del = sealed.deleteFiles[0]!;
    assert.equal(del.content, DataFileContent.EQUALITY_DELETES);
    assert.deepEqual(del.equalityIds, [1]);
    // every key touched in the window is deleted from earlier snapshots
    assert.equal(del.recordCount, 4n);
    assert.deepEqual(await readAll(sealed.deleteFiles, [T.long]), [[1n], [2n], [3n], [4n]]);
    assert.deepEqual(await readAll(sealed.dataFiles, ORDER_TYPES), [
      [1n, 'one v2', null, 'eu', 1_767_225_600_000_001n],
      [2n, 'two', -1234567n, 'us', 1_767_225_600_000_001n],
    ]);
    // the window starts over
    assert.equal(st.buffer.isEmpty, true);
    const empty = await sealLanded(st);
    assert.deepEqual([empty.dataFiles.length, empty.deleteFiles.length, empty.rows, empty.deletedKeys], [0, 0, 0, 0]);
  });

  it('maps the source key order to the table key order', async () => {
    const schema = new Schema(0, [
      { id: 1, name: 'order_id', required: true, type: T.long },
      { id: 2, name: 'line_no', required: true, type: T.int },
      { id: 3, name: 'sku', required: false, type: T.string },
    ], [1, 2]);
    const st = new TableState(unpartitioned(schema));
    const items = shape([{ type: 'int32', optional: false, field: 'line_no' }, { type: 'int64', optional: false, field: 'order_id' }, { type: 'string', optional: true, field: 'sku' }], ['line_no', 'order_id']);
    st.apply(change(items, 'c', [2, 7], { line_no: 2, order_id: 7, sku: 'A' }), 'items/0');
    st.apply(change(items, 'u', [2, 7], { line_no: 2, order_id: 7, sku: 'B' }), 'items/0');
    st.apply(change(items, 'c', [1, 7], { line_no: 1, order_id: 7, sku: 'C' }), 'items/0');
    st.apply(change(items, 'd', [1, 8], null), 'items/0');
    const sealed = await sealLanded(st);
    assert.deepEqual(await readAll(sealed.dataFiles, [T.long, T.int, T.string]), [[7n, 1, 'C'], [7n, 2, 'B']]);
    assert.deepEqual(sealed.deleteFiles[0]!.equalityIds, [1, 2]);
    const deletes = await readAll(sealed.deleteFiles, [T.long, T.int]);
    assert.deepEqual(deletes.map((d) => `${d[0]}/${d[1]}`).sort(), ['7/1', '7/2', '8/1']);
  });

  it('takes key values from the row when the Kafka key lacks a table key column', async () => {
    const st = new TableState(unpartitioned(ordersSchema()));
    // a shape keyed by another column (e.g. a Kafka key on name): the table key "id" comes from the row
    const byName = shape([F.id, F.name, F.amount, F.region, F.updatedAt], ['name']);
    st.apply(change(byName, 'c', ['one'], row(11, 'one', null, 'eu')), 'p/0');
    const sealed = await sealLanded(st);
    assert.deepEqual(await readAll(sealed.deleteFiles, [T.long]), [[11n]]);
    assert.throws(() => st.apply(change(byName, 'd', ['one'], null), 'p/0'), (e: unknown) => e instanceof FloeError && e.code === 'record_invalid' && e.message === 'key column "id" is null');
  });

  it('truncate drops the window; the sealed window is marked truncated and needs no equality deletes', async () => {
    const st = new TableState(unpartitioned(ordersSchema()));
    st.apply(change(s, 'c', [1], row(1, 'gone', null, 'eu')), 'p/0');
    st.apply(change(s, 't', [], null), 'p/0');
    st.apply(change(s, 'c', [2], row(2, 'kept', null, 'eu')), 'p/0');
    const sealed = await sealLanded(st);
    assert.equal(sealed.truncated, true);
    assert.equal(sealed.rows, 1);
    assert.deepEqual(sealed.deleteFiles, []);
    assert.deepEqual((await readAll(sealed.dataFiles, ORDER_TYPES)).map((r) => r[1]), ['kept']);
  });

  it('rejects values and records that cannot apply, leaving the window unchanged', () => {
    const st = new TableState(unpartitioned(ordersSchema()));
    st.apply(change(s, 'c', [1], row(1, 'ok', null, 'eu')), 'p/0');
    const bytes = st.buffer.bytes;
    const failsWith = (c: Change, code: string, message: string): void => {
      assert.throws(() => st.apply(c, 'p/0'), (e: unknown) => e instanceof FloeError && e.code === code && e.message === message);
    };
    failsWith(change(s, 'u', [1], { ...row(1, 'x', null, 'eu'), amount: 12.5 }), 'value_invalid', 'column "amount": expected base64 decimal bytes, got 12.5');
    failsWith(change(s, 'u', [1], { ...row(1, 'x', null, 'eu'), updated_at: 'soon' }), 'value_invalid', 'column "updated_at": expected an ISO-8601 timestamp, got "soon"');
    failsWith(change(s, 'u', ['abc'], row(1, 'x', null, 'eu')), 'value_invalid', 'column "id": expected an integer, got "abc"');
    failsWith(change(s, 'u', [null], row(1, 'x', null, 'eu')), 'record_invalid', 'key column "id" is null');
    // the source lost the key column
    const keyless = shape([F.name], ['name']);
    failsWith(change(keyless, 'u', ['x'], { name: 'x' }), 'record_invalid', 'key column "id" is missing from the source record');
    assert.equal(st.buffer.size, 1);
    assert.equal(st.buffer.bytes, bytes);
    // a rejected shape leaves no half-done binding behind: the good shape applies again
    st.apply(change(s, 'u', [1], row(1, 'still ok', 'AA==', 'eu')), 'p/0');
    assert.equal(st.buffer.size, 1);
    assert.deepEqual(st.buffer.take().slots[0]!.row, [1n, 'still ok', 0n, 'eu', 1_767_225_600_000_001n]);
  });

  it('rejects a null in a required column', () => {
    const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 'name', required: true, type: T.string }], [1]);
    const st = new TableState(unpartitioned(schema));
    const requiredName = { type: 'string', optional: false, field: 'name' };
    assert.throws(() => st.apply(change(shape([F.id, requiredName], ['id']), 'c', [1], { id: 1, name: null }), 'p/0'), (e: unknown) => e instanceof FloeError && e.code === 'record_invalid' && e.message === 'required column "name" is null');
    assert.equal(st.buffer.size, 0);
  });

  it('adds new source columns as optional fields with ids above last-column-id', async () => {
    const schema = new Schema(3, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 'name', required: false, type: T.string }], [1]);
    // a column with id 3..5 was dropped earlier: its ids must not be reused
    const st = new TableState(unpartitioned(schema, 5));
    st.apply(change(shape([F.id, F.name], ['id']), 'c', [1], { id: 1, name: 'before' }), 'p/0');
    st.apply(change(shape([F.id, F.name, F.email, F.amount], ['id']), 'c', [2], { id: 2, name: 'after', email: 'a@b.c', amount: 'AIA=' }), 'p/0');
    const evolved = st.pendingSchema;
    assert.ok(evolved !== null);
    assert.deepEqual(evolved.toJSON(), {
      type: 'struct',
      'schema-id': 3,
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long' },
        { id: 2, name: 'name', required: false, type: 'string' },
        { id: 6, name: 'email', required: false, type: 'string' },
        { id: 7, name: 'amount', required: false, type: 'decimal(12, 2)' },
      ],
    });
    assert.equal(st.schema, evolved);
    const sealed = await sealLanded(st);
    // the row applied before the column existed is padded with nulls
    assert.deepEqual(await readAll(sealed.dataFiles, [T.long, T.string, T.string, T.decimal(12, 2)]), [
      [1n, 'before', null, null],
      [2n, 'after', 'a@b.c', 128n],
    ]);
    // after the commit the table layout carries the columns
    st.setLayout(unpartitioned(evolved.withSchemaId(4), 7));
    assert.equal(st.pendingSchema, null);
    st.apply(change(shape([F.id, F.name, F.email, F.amount], ['id']), 'u', [2], { id: 2, name: 'again', email: null, amount: null }), 'p/0');
    assert.equal(st.pendingSchema, null);
  });

  it('writes data by the table spec and global equality deletes when the partition is not part of the key', async () => {
    const schema = ordersSchema();
    const spec = partitionSpecFromExprs(['region'], schema);
    const globalDeletes = new PartitionSpec(1, []);
    const st = new TableState({ ...defaults, schema, spec, deleteSpec: globalDeletes, keyIds: [1], lastColumnId: 5 });
    st.apply(change(s, 'c', [1], row(1, 'a', null, 'eu')), 'p/0');
    st.apply(change(s, 'c', [2], row(2, 'b', null, 'us')), 'p/0');
    st.apply(change(s, 'u', [1], row(1, 'a moved', null, 'us')), 'p/0'); // the update moves the row to another partition
    st.apply(change(s, 'c', [3], row(3, 'c', null, 'eu')), 'p/0');
    const sealed = await sealLanded(st);
    const byPartition = new Map(sealed.dataFiles.map((f) => [String(f.partition[0]), f]));
    assert.deepEqual([...byPartition.keys()].sort(), ['eu', 'us']);
    assert.equal(byPartition.get('eu')!.recordCount, 1n);
    assert.equal(byPartition.get('us')!.recordCount, 2n);
    assert.ok(byPartition.get('us')!.filePath.includes('/data/region=us/'));
    assert.equal(sealed.deleteFiles.length, 1);
    assert.equal(sealed.deleteFiles[0]!.specId, 1);
    assert.deepEqual(sealed.deleteFiles[0]!.partition, []);
    assert.equal(sealed.deleteFiles[0]!.recordCount, 3n);
  });

  it('partitions equality deletes by the key when the partition source is the key', async () => {
    const schema = ordersSchema();
    const spec = partitionSpecFromExprs(['bucket(4, id)'], schema);
    const st = new TableState({ ...defaults, schema, spec, deleteSpec: spec, keyIds: [1], lastColumnId: 5 });
    const ids = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const id of ids) st.apply(change(s, id % 3 === 0 ? 'd' : 'c', [id], id % 3 === 0 ? null : row(id, `r${id}`, null, 'eu')), 'p/0');
    const sealed = await sealLanded(st);
    const part = new Partitioner(schema, spec);
    const bucketOf = (id: number): number => part.partition([BigInt(id), null, null, null, null])[0] as number;
    const wantDeletes = new Map<number, number>();
    for (const id of ids) wantDeletes.set(bucketOf(id), (wantDeletes.get(bucketOf(id)) ?? 0) + 1);
    assert.ok(wantDeletes.size > 1, 'the keys spread over several buckets');
    assert.deepEqual(new Map(sealed.deleteFiles.map((f) => [f.partition[0] as number, Number(f.recordCount)])), wantDeletes);
    for (const f of sealed.deleteFiles) {
      assert.equal(f.specId, 0);
      for (const [k] of await readRows(f, [T.long])) assert.equal(bucketOf(Number(k)), f.partition[0]);
    }
    assert.equal(sealed.rows, 6);
    assert.equal(sealed.deletedKeys, 2);
  });

  describe('schema evolution', () => {
    const I = {
      id32: { type: 'int32', optional: false, field: 'id' },
      id64: { type: 'int64', optional: false, field: 'id' },
      n32: { type: 'int32', optional: true, field: 'n' },
      n64: { type: 'int64', optional: true, field: 'n' },
      f32: { type: 'float', optional: true, field: 'f' },
      f64: { type: 'double', optional: true, field: 'f' },
      d10: { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '10' }, field: 'd' },
      d20: { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '20' }, field: 'd' },
      d20s3: { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '3', 'connect.decimal.precision': '20' }, field: 'd' },
      req: { type: 'string', optional: false, field: 'req' },
      reqOpt: { type: 'string', optional: true, field: 'req' },
    };
    const narrow = (): Schema => new Schema(0, [
      { id: 1, name: 'id', required: true, type: T.int },
      { id: 2, name: 'n', required: false, type: T.int },
      { id: 3, name: 'f', required: false, type: T.float },
      { id: 4, name: 'd', required: false, type: T.decimal(10, 2) },
      { id: 5, name: 'req', required: true, type: T.string },
    ], [1]);
    const oldShape = shape([I.id32, I.n32, I.f32, I.d10, I.req], ['id']);

    it('promotes int → long (key included), float → double, decimal(10,2) → decimal(20,2); rows buffered before the change are converted', async () => {
      const st = new TableState(unpartitioned(narrow()));
      st.apply(change(oldShape, 'c', [1], { id: 1, n: 7, f: 1.5, d: 'ewA=', req: 'a' }), 'p/0'); // d = 314.88
      st.apply(change(oldShape, 'c', [2], { id: 2, n: null, f: null, d: null, req: 'b' }), 'p/0');
      const wide = shape([I.id64, I.n64, I.f64, I.d20, I.req], ['id']);
      // the same key under the promoted type still collapses with the buffered row
      st.apply(change(wide, 'u', [2], { id: 2, n: 2 ** 40, f: 0.1, d: 'AIrHIwSJ6AAA', req: 'b2' }), 'p/0');
      st.apply(change(wide, 'c', [3], { id: 3, n: 3, f: null, d: null, req: 'c' }), 'p/0');
      assert.equal(st.buffer.size, 3);
      const evolved = st.pendingSchema!;
      assert.deepEqual(evolved.fields.map((f) => [f.id, f.name, f.type]), [[1, 'id', T.long], [2, 'n', T.long], [3, 'f', T.double], [4, 'd', T.decimal(20, 2)], [5, 'req', T.string]]);
      assert.deepEqual(evolved.identifierFieldIds, [1]);
      const sealed = await sealLanded(st);
      assert.deepEqual(await readAll(sealed.dataFiles, [T.long, T.long, T.double, T.decimal(20, 2), T.string]), [
        [1n, 7n, 1.5, 31488n, 'a'],
        [2n, 1099511627776n, 0.1, 10000000000000000000n, 'b2'],
        [3n, 3n, null, null, 'c'],
      ]);
      assert.deepEqual(await readAll(sealed.deleteFiles, [T.long]), [[1n], [2n], [3n]]);
    });

    it('a narrower source type binds to a wider table column without changing the schema', () => {
      const st = new TableState(unpartitioned(narrow()));
      st.apply(change(shape([I.id64, I.n64, I.f64, I.d20, I.req], ['id']), 'c', [1], { id: 1, n: 1, f: 1, d: null, req: 'x' }), 'p/0');
      st.buffer.take();
      st.setLayout(unpartitioned(st.pendingSchema!.withSchemaId(1)));
      st.apply(change(oldShape, 'c', [2], { id: 2, n: 2, f: 2, d: 'ewA=', req: 'y' }), 'p/0');
      assert.equal(st.pendingSchema, null);
      assert.deepEqual(st.buffer.take().slots.map((x) => x.row), [[2n, 2n, 2, 31488n, 'y']]);
    });

    it('required → optional when the source makes a column nullable or drops it; the dropped column receives nulls', () => {
      const st = new TableState(unpartitioned(narrow()));
      st.apply(change(shape([I.id32, I.reqOpt], ['id']), 'c', [1], { id: 1, req: null }), 'p/0');
      assert.equal(st.pendingSchema!.findField('req')!.required, false);
      const dropped = new TableState(unpartitioned(narrow()));
      dropped.apply(change(shape([I.id32, I.n32], ['id']), 'c', [1], { id: 1, n: 5 }), 'p/0');
      assert.equal(dropped.pendingSchema!.findField('req')!.required, false);
      assert.equal(dropped.pendingSchema!.findField('id')!.required, true);
      assert.deepEqual(dropped.buffer.take().slots[0]!.row, [1, 5, null, null, null]);
    });

    it('a decimal scale change is incompatible: policy fail stops the table, policy new-column adds d__decimal', () => {
      const failing = new TableState(unpartitioned(narrow()));
      const scaled = shape([I.id32, I.d20s3, I.req], ['id']);
      assert.throws(() => failing.apply(change(scaled, 'c', [1], { id: 1, d: 'AQ==', req: 'x' }), 'p/0'), (e: unknown) => e instanceof FloeError && e.code === 'record_invalid' && /column "d" is decimal\(10, 2\) in the table but decimal\(20, 3\) in the source/.test(e.message));
      assert.match(failing.failed ?? '', /policy "fail"/);
      // every later change of this table is refused with the same reason, even a compatible one
      assert.throws(() => failing.apply(change(oldShape, 'c', [2], { id: 2, n: null, f: null, d: null, req: 'y' }), 'p/0'), (e: unknown) => e instanceof FloeError && e.message === failing.failed);
      const adding = new TableState({ ...unpartitioned(narrow()), onIncompatibleChange: 'new-column' });
      adding.apply(change(scaled, 'c', [1], { id: 1, d: 'AQ==', req: 'x' }), 'p/0');
      assert.deepEqual(adding.pendingSchema!.fields.slice(5).map((f) => [f.id, f.name, f.type, f.required]), [[6, 'd__decimal', T.decimal(20, 3), false]]);
      assert.deepEqual(adding.buffer.take().slots[0]!.row, [1, null, null, null, 'x', 1n]);
    });

    it('a key column changing incompatibly stops the table whatever the policy', () => {
      const st = new TableState({ ...unpartitioned(narrow()), onIncompatibleChange: 'new-column' });
      const textKey = shape([{ type: 'string', optional: false, field: 'id' }, I.req], ['id']);
      assert.throws(() => st.apply(change(textKey, 'c', ['k'], { id: 'k', req: 'x' }), 'p/0'), (e: unknown) => e instanceof FloeError && /column "id" is int in the table but string in the source/.test(e.message));
      assert.notEqual(st.failed, null);
    });
  });

  describe('out-of-range values', () => {
    const timeSchema = (): Schema => new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 't', required: false, type: T.time }], [1]);
    const timeShape = shape([F.id, { type: 'int64', optional: true, name: 'io.debezium.time.MicroTime', field: 't' }], ['id']);
    const maxTime = 838 * 3_600_000_000 + 59 * 60_000_000 + 59_000_000; // MySQL TIME '838:59:59'

    it('dead-letter (default): the record is refused, naming the column and type', () => {
      const st = new TableState(unpartitioned(timeSchema()));
      assert.throws(() => st.apply(change(timeShape, 'c', [1], { id: 1, t: maxTime }), 'p/0'), (e: unknown) => e instanceof FloeError && e.code === 'value_invalid' && e.message === `column "t": value ${maxTime} is out of range for time`);
      assert.equal(st.buffer.size, 0);
    });

    it('null: the row lands with null in that column, and the count says so', () => {
      const st = new TableState({ ...unpartitioned(timeSchema()), outOfRange: 'null' });
      st.apply(change(timeShape, 'c', [1], { id: 1, t: maxTime }), 'p/0');
      st.apply(change(timeShape, 'c', [2], { id: 2, t: -1 }), 'p/0');
      st.apply(change(timeShape, 'c', [3], { id: 3, t: 45_296_789_012 }), 'p/0');
      assert.equal(st.nulledValues, 2);
      assert.deepEqual(st.buffer.take().slots.map((x) => x.row), [[1n, null], [2n, null], [3n, 45_296_789_012n]]);
    });
  });

  it('writes rows in the table sort order, stamps sort_order_id, and honours the table codec and file size', async () => {
    const schema = ordersSchema();
    const order = new SortOrder(1, [
      { sourceId: 4, transform: { kind: 'identity' }, direction: 'asc', nullOrder: 'nulls-last' },
      { sourceId: 1, transform: { kind: 'identity' }, direction: 'desc', nullOrder: 'nulls-first' },
    ]);
    const st = new TableState({ ...unpartitioned(schema), sortOrder: order, codec: 'snappy' });
    for (const [id, region] of [[1, 'us'], [2, null], [3, 'eu'], [4, 'us'], [5, 'eu'], [6, null]] as const) st.apply(change(s, 'c', [id], { ...row(id, `r${id}`, null, 'x'), region }), 'p/0');
    st.apply(change(s, 'd', [7], null), 'p/0');
    const sealed = await sealLanded(st);
    assert.equal(sealed.dataFiles.length, 1);
    assert.equal(sealed.dataFiles[0]!.sortOrderId, 1);
    const rows = await readRows(sealed.dataFiles[0]!, ORDER_TYPES);
    assert.deepEqual(rows.map((r) => [r[0], r[3]]), [[5n, 'eu'], [3n, 'eu'], [4n, 'us'], [1n, 'us'], [6n, null], [2n, null]]);
    const footer = (await io.read(sealed.dataFiles[0]!.filePath)).subarray(-8);
    assert.equal(Buffer.from(footer.subarray(4)).toString(), 'PAR1');
    assert.deepEqual(await readParquetCodecs(sealed.dataFiles[0]!.filePath), ['SNAPPY']);
  });

  describe('delete mode position (primary-key index)', () => {
    it('updates and deletes of indexed rows become position deletes; unknown keys need none; new rows are indexed', async () => {
      const st = new TableState(unpartitioned(ordersSchema()));
      const index = new PkIndex();
      st.useIndex(wrap(index));
      st.apply(change(s, 'c', [1], row(1, 'one', null, 'eu')), 'p/0');
      st.apply(change(s, 'c', [2], row(2, 'two', null, 'eu')), 'p/0');
      st.apply(change(s, 'c', [3], row(3, 'three', null, 'eu')), 'p/0');
      const first = await sealLanded(st);
      assert.deepEqual(first.deleteFiles, []); // nothing earlier to delete
      assert.deepEqual(first.targetDataFiles, []);
      assert.equal(index.size, 3);
      const file1 = first.dataFiles[0]!.filePath;
      const rows1 = await readRows(first.dataFiles[0]!, ORDER_TYPES);
      for (const id of [1n, 2n, 3n]) assert.equal(rows1[index.get([id])!.pos]![0], id);
      assert.equal(index.get([1n])!.file.path, file1);

      st.apply(change(s, 'u', [2], row(2, 'two v2', null, 'us')), 'p/0');
      st.apply(change(s, 'd', [3], null), 'p/0');
      st.apply(change(s, 'd', [99], null), 'p/0'); // never existed
      st.apply(change(s, 'c', [4], row(4, 'four', null, 'eu')), 'p/0');
      const second = await sealLanded(st);
      assert.deepEqual(second.targetDataFiles, [file1]);
      assert.equal(second.deleteFiles.length, 1);
      assert.equal(second.deleteFiles[0]!.content, DataFileContent.POSITION_DELETES);
      const deleted = await readRows(second.deleteFiles[0]!, [T.string, T.long]);
      assert.deepEqual(deleted, [[file1, BigInt(rows1.findIndex((r) => r[0] === 2n))], [file1, BigInt(rows1.findIndex((r) => r[0] === 3n))]]);
      assert.equal(index.size, 3); // 1, 2 (moved), 4
      assert.equal(index.get([3n]), undefined);
      assert.equal(index.get([2n])!.file.path, second.dataFiles[0]!.filePath);
    });

    it('over its key budget the index is dropped and the table writes equality deletes from the next window', async () => {
      const st = new TableState(unpartitioned(ordersSchema()));
      st.useIndex(wrap(new PkIndex(2)));
      for (const id of [1, 2, 3]) st.apply(change(s, 'c', [id], row(id, `r${id}`, null, 'eu')), 'p/0');
      const sealed = await sealLanded(st);
      assert.match(sealed.indexOverflow ?? '', /holds 2 keys/);
      assert.equal(sealed.rows, 3);
      assert.equal(st.keyIndex, null);
      st.apply(change(s, 'd', [1], null), 'p/0');
      const next = await sealLanded(st);
      assert.equal(next.deleteFiles[0]!.content, DataFileContent.EQUALITY_DELETES);
    });

    it('the index changes only once the window\'s commit lands: a commit that did not land leaves it as it was', async () => {
      const st = new TableState(unpartitioned(ordersSchema()));
      const index = new PkIndex();
      st.useIndex(wrap(index));
      for (const id of [1, 2]) st.apply(change(s, 'c', [id], row(id, `r${id}`, null, 'eu')), 'p/0');
      const first = await sealLanded(st);
      const at1 = index.get([1n]);
      st.apply(change(s, 'u', [1], row(1, 'r1 v2', null, 'eu')), 'p/0');
      st.apply(change(s, 'd', [2], null), 'p/0');
      st.apply(change(s, 'c', [3], row(3, 'r3', null, 'eu')), 'p/0');
      const failed = await st.seal(settings());
      assert.deepEqual(failed.targetDataFiles, [first.dataFiles[0]!.filePath]);
      // Sealed, not yet committed: the index still describes the last landed snapshot.
      assert.deepEqual(index.get([1n]), at1);
      assert.notEqual(index.get([2n]), undefined);
      assert.equal(index.get([3n]), undefined);
      await assert.rejects(st.seal(settings()), /confirmed \(landed or not\) before the next seal/);
      st.confirm(false);
      assert.deepEqual(index.get([1n]), at1);
      assert.equal(index.size, 2);
      // The same changes consumed again, and this time the commit lands.
      st.apply(change(s, 'u', [1], row(1, 'r1 v2', null, 'eu')), 'p/0');
      st.apply(change(s, 'd', [2], null), 'p/0');
      st.apply(change(s, 'c', [3], row(3, 'r3', null, 'eu')), 'p/0');
      const landed = await sealLanded(st);
      assert.equal(index.get([1n])!.file.path, landed.dataFiles[0]!.filePath);
      assert.equal(index.get([2n]), undefined);
      assert.equal(index.size, 2);
    });

    it('a truncate clears the index: earlier rows are gone with their files', async () => {
      const st = new TableState(unpartitioned(ordersSchema()));
      const index = new PkIndex();
      st.useIndex(wrap(index));
      st.apply(change(s, 'c', [1], row(1, 'a', null, 'eu')), 'p/0');
      await sealLanded(st);
      st.apply(change(s, 't', [], null), 'p/0');
      st.apply(change(s, 'c', [2], row(2, 'b', null, 'eu')), 'p/0');
      const sealed = await sealLanded(st);
      assert.equal(sealed.truncated, true);
      assert.deepEqual(sealed.deleteFiles, []);
      assert.equal(index.size, 1);
      assert.equal(index.get([1n]), undefined);
    });
  });
});

describe('TableState: a column the source added with a DEFAULT', () => {
  // ALTER TABLE orders ADD COLUMN qty INT NOT NULL DEFAULT 7: Debezium's schema block carries "default": 7.
  const QTY = { type: 'int32', optional: false, default: 7, field: 'qty' } satisfies ConnectField;
  const before = shape([F.id, F.name], ['id']);
  const after = shape([F.id, F.name, QTY], ['id']);
  const base = (): Schema => new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 'name', required: false, type: T.string }], [1]);

  it('on a v3 table: initial-default and write-default 7; rows buffered before the change are written with 7', async () => {
    const st = new TableState({ ...unpartitioned(base()), formatVersion: 3 });
    st.apply(change(before, 'c', [1], { id: 1, name: 'old' }), 'p/0');
    st.apply(change(after, 'c', [2], { id: 2, name: 'new', qty: 3 }), 'p/0');
    const evolved = st.pendingSchema!;
    assert.deepEqual(evolved.toJSON().fields, [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'name', required: false, type: 'string' },
      { id: 3, name: 'qty', required: false, type: 'int', 'initial-default': 7, 'write-default': 7 },
    ]);
    assert.deepEqual(st.pendingDefaultsNotKept, []);
    const sealed = await st.seal(settings());
    // row 1 predates the column: the source gave it the default, as initial-default gives rows of older files
    assert.deepEqual(await readAll(sealed.dataFiles, [T.long, T.string, T.int]), [[1n, 'old', 7], [2n, 'new', 3]]);
  });

  it('on a v3 table a <column>__<type> column (incompatible change, policy new-column) gets only write-default', () => {
    const st = new TableState({ ...unpartitioned(base()), formatVersion: 3, onIncompatibleChange: 'new-column' });
    st.apply(change(shape([F.id, { type: 'int32', optional: false, default: 5, field: 'name' }], ['id']), 'c', [1], { id: 1, name: 9 }), 'p/0');
    const alt = st.pendingSchema!.findField('name__int')!;
    assert.equal(alt.initialDefault, undefined, 'existing rows had values in "name", not the default');
    assert.equal(alt.writeDefault, 5);
  });

  it('on a v2 table: no default values (the spec has none before v3); the column is reported once, with the source default', async () => {
    const st = new TableState({ ...unpartitioned(base()), formatVersion: 2 });
    st.apply(change(before, 'c', [1], { id: 1, name: 'old' }), 'p/0');
    st.apply(change(after, 'c', [2], { id: 2, name: 'new', qty: 3 }), 'p/0');
    st.apply(change(after, 'c', [3], { id: 3, name: 'newer', qty: 4 }), 'p/0');
    const qty = st.pendingSchema!.findField('qty')!;
    assert.equal(qty.initialDefault, undefined);
    assert.equal(qty.writeDefault, undefined);
    assert.equal('initial-default' in (st.pendingSchema!.toJSON().fields as Record<string, unknown>[])[2]!, false);
    assert.deepEqual(st.pendingDefaultsNotKept, [{ column: 'qty', sourceDefault: '7' }]);
    const sealed = await st.seal(settings());
    assert.deepEqual(await readAll(sealed.dataFiles, [T.long, T.string, T.int]), [[1n, 'old', null], [2n, 'new', 3], [3n, 'newer', 4]]);
    // after the commit the notice is gone with the pending schema
    st.setLayout(unpartitioned(st.schema.withSchemaId(1), 3));
    assert.deepEqual(st.pendingDefaultsNotKept, []);
  });

  it('a layout without a format version is treated as v2', () => {
    const st = new TableState(unpartitioned(base()));
    st.apply(change(after, 'c', [2], { id: 2, name: 'new', qty: 3 }), 'p/0');
    assert.equal(st.pendingSchema!.findField('qty')!.initialDefault, undefined);
  });
});
