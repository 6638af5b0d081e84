// Proves WorkerCore end to end without a catalog: Kafka messages are decoded, routed and applied; an unknown table stops the batch with `need`; replayed offsets are skipped; bad records are rejected with their index and reason; new columns evolve the schema; seal() writes the windows' files and hands back windows/expected offsets; drop() forgets a revoked partition.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OffsetMap } from '../../src/commit/offsets.js';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import type { DataFile } from '../../src/iceberg/data-file.js';
import { PartitionSpec } from '../../src/iceberg/partition-spec.js';
import { Schema } from '../../src/iceberg/schema.js';
import { T, isPrimitive, type NestedField, type PrimitiveType } from '../../src/iceberg/types.js';
import { typeFromJson } from '../../src/iceberg/type-json.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import { quietNodeVersionNotice } from '../../src/node-warnings.js';
import { arrowValue } from '../../src/writer/column-builder.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import { WorkerCore, type ApplyResult, type SealedTable, type TableLayoutMsg, type WorkerInit } from '../../src/worker/worker-core.js';

quietNodeVersionNotice();

const io = new LocalFileIO();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-core-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Need = NonNullable<ApplyResult['need']>;

const init = (extra: Partial<WorkerInit> = {}): WorkerInit => ({ decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024, s3: {}, ...extra });

/** The layout the committer would hand over for a table it just created from `need` (see Committer.createTable/layoutMsg). */
function layoutFor(need: Need, opts: { stored?: OffsetMap; lastColumnId?: number; sub?: string; onIncompatibleChange?: 'fail' | 'new-column' } = {}): TableLayoutMsg {
  const keys = new Set(need.shape.keyColumns);
  let id = 1;
  const fields: NestedField[] = need.shape.columns.map((c) => ({ id: id++, name: c.name, required: keys.has(c.name), type: typeFromJson(c.type) }));
  const schema = new Schema(0, fields, need.shape.keyColumns.map((k) => fields.find((f) => f.name === k)!.id));
  return {
    name: need.name,
    schema: schema.toJSON(),
    spec: PartitionSpec.unpartitioned().toJSON(),
    deleteSpec: PartitionSpec.unpartitioned().toJSON(),
    keyIds: schema.identifierFieldIds,
    lastColumnId: opts.lastColumnId ?? schema.highestFieldId,
    location: `file://${dir}/${opts.sub ?? 'wh'}/${need.name.replace('.', '/')}`,
    ioProps: {},
    stored: opts.stored ?? {},
    ...(opts.onIncompatibleChange !== undefined ? { onIncompatibleChange: opts.onIncompatibleChange } : {}),
  };
}

interface Drained {
  needs: Need[];
  rejects: { index: number; reason: string }[];
  applied: number;
  skippedReplayed: number;
  skippedIgnored: number;
}

/** Applies a batch as the pipeline does: on `need`, open the table and continue from `done`. */
function drain(core: WorkerCore, messages: readonly SourceMessage[], open: (need: Need) => TableLayoutMsg): Drained {
  const out: Drained = { needs: [], rejects: [], applied: 0, skippedReplayed: 0, skippedIgnored: 0 };
  let rest = messages;
  let base = 0;
  for (let guard = 0; guard < 100; guard++) {
    const r = core.apply(rest);
    out.rejects.push(...r.rejects.map((x) => ({ index: x.index + base, reason: x.reason })));
    out.applied += r.applied;
    out.skippedReplayed += r.skippedReplayed;
    out.skippedIgnored += r.skippedIgnored;
    if (r.need === undefined) {
      assert.equal(r.done, rest.length);
      return out;
    }
    out.needs.push(r.need);
    core.openTable(open(r.need));
    rest = rest.slice(r.done);
    base += r.done;
  }
  throw new Error('apply did not finish');
}

async function readRows(files: readonly DataFile[], fields: readonly NestedField[]): Promise<(IcebergValue | null)[][]> {
  const rows: (IcebergValue | null)[][] = [];
  for (const f of files) {
    const t = decodeParquet(await io.read(f.filePath));
    for (let r = 0; r < t.numRows; r++) rows.push(fields.map((fd, c) => arrowValue(fd.type as PrimitiveType, t.getChildAt(c)!, r)));
  }
  return rows;
}
const count = (files: readonly DataFile[]): number => files.reduce((n, f) => n + Number(f.recordCount), 0);

// Hand-written messages: cdc.shop.<table>, key {"id":N} with its schema, envelope with the given columns.
const COL = {
  id: { type: 'int64', optional: false, field: 'id' },
  name: { type: 'string', optional: true, field: 'name' },
  qty: { type: 'int64', optional: true, field: 'qty' },
  qtyText: { type: 'string', optional: true, field: 'qty' },
  email: { type: 'string', optional: true, field: 'email' },
};
/** A message with the payload and key id as JSON text (so integers beyond 2^53 can be written). */
function rawMessage(table: string, partition: number, offset: number, columns: readonly object[], idText: string, payloadText: string): SourceMessage {
  const struct = { type: 'struct', fields: columns, optional: true, name: `cdc.shop.${table}.Value` };
  const schema = { type: 'struct', fields: [{ ...struct, field: 'before' }, { ...struct, field: 'after' }, { type: 'string', optional: false, field: 'op' }], optional: false, name: `cdc.shop.${table}.Envelope` };
  const keySchema = { type: 'struct', fields: [COL.id], optional: false, name: `cdc.shop.${table}.Key` };
  return {
    topic: `cdc.shop.${table}`,
    partition,
    offset,
    key: Buffer.from(`{"schema":${JSON.stringify(keySchema)},"payload":{"id":${idText}}}`),
    value: Buffer.from(`{"schema":${JSON.stringify(schema)},"payload":${payloadText}}`),
    timestamp: undefined,
  };
}
function message(table: string, partition: number, offset: number, columns: readonly object[], op: 'c' | 'u' | 'd', id: number, row: Record<string, unknown> | null): SourceMessage {
  const payload = { before: op === 'd' ? row : null, after: op === 'd' ? null : row, source: { db: 'shop', table }, op };
  return rawMessage(table, partition, offset, columns, String(id), JSON.stringify(payload));
}

describe('WorkerCore on a generated Debezium stream', () => {
  const gen = new DebeziumGenerator({ topicPrefix: 'cdc', seed: 7, withSchema: true, keySpace: 30 });
  const messages: SourceMessage[] = [];
  const lastChange = new Map<string, number>();
  let tombstones = 0;
  {
    const offsets = new Map<string, number>();
    for (let seq = 0; seq < 1500; seq++) {
      for (const ev of gen.next(seq)) {
        const offset = offsets.get(ev.topic) ?? 0;
        offsets.set(ev.topic, offset + 1);
        messages.push({ topic: ev.topic, partition: 0, offset, key: ev.key, value: ev.value, timestamp: 1_767_225_600_000 + seq });
        if (ev.op === 'tombstone') tombstones++;
        else lastChange.set(`${ev.topic}/0`, offset + 1);
      }
    }
  }

  it('stops at the first record of an unknown table with its shape, then continues after openTable', () => {
    const core = new WorkerCore(init());
    const first = core.apply(messages);
    assert.equal(first.done, 0);
    assert.deepEqual(first.rejects, []);
    assert.equal(first.applied, 0);
    const firstTable = messages[0]!.topic.split('.')[2]!;
    assert.deepEqual(first.need?.id, { namespace: ['shop'], name: firstTable });
    assert.equal(first.need?.name, `shop.${firstTable}`);

    core.openTable(layoutFor(first.need, { sub: 'need' }));
    const second = core.apply(messages);
    // everything up to the first record of another table applies
    const nextOther = messages.findIndex((m) => m.topic !== messages[0]!.topic && m.value !== null);
    assert.equal(second.done, nextOther);
    assert.equal(second.applied + second.skippedIgnored, nextOther);
    assert.equal(second.skippedIgnored, messages.slice(0, nextOther).filter((m) => m.value === null).length);
    assert.ok(second.bufferedBytes > 0);
    assert.notEqual(second.need?.name, first.need?.name);
  });

  it('describes each new table with its key and column types', () => {
    const core = new WorkerCore(init());
    const { needs } = drain(core, messages, (n) => layoutFor(n, { sub: 'shapes' }));
    const byName = new Map(needs.map((n) => [n.name, n.shape]));
    assert.deepEqual([...byName.keys()].sort(), ['shop.customers', 'shop.order_items', 'shop.orders']);
    assert.deepEqual(byName.get('shop.customers'), {
      columns: [
        { name: 'id', type: 'long', required: true },
        { name: 'name', type: 'string', required: false },
        { name: 'email', type: 'string', required: false },
        { name: 'balance', type: 'decimal(12, 2)', required: false },
        { name: 'created_at', type: 'timestamp', required: false },
      ],
      keyColumns: ['id'],
    });
    assert.deepEqual(byName.get('shop.orders')?.columns.find((c) => c.name === 'updated_at'), { name: 'updated_at', type: 'timestamptz', required: false });
    assert.deepEqual(byName.get('shop.order_items')?.keyColumns, ['order_id', 'line_no']);
  });

  it('seals every table into files holding exactly the source tables', async () => {
    const core = new WorkerCore(init());
    const layouts = new Map<string, TableLayoutMsg>();
    const d = drain(core, messages, (n) => {
      const l = layoutFor(n, { sub: 'seal' });
      layouts.set(n.name, l);
      return l;
    });
    assert.deepEqual(d.rejects, []);
    assert.equal(d.skippedReplayed, 0);
    assert.equal(d.skippedIgnored, tombstones);
    assert.equal(d.applied, messages.length - tombstones);

    const sealed = await core.seal();
    assert.deepEqual(sealed.map((s) => s.name).sort(), ['shop.customers', 'shop.order_items', 'shop.orders']);
    for (const s of sealed) {
      const table = s.name.split('.')[1]!;
      const state = gen.state.get(table)!;
      const tp = `cdc.shop.${table}/0`;
      assert.equal(s.rows, state.size, s.name);
      assert.equal(count(s.dataFiles), state.size, s.name);
      // one equality delete per key touched: the live ones and the deleted ones
      assert.equal(count(s.deleteFiles), s.rows + s.deletedKeys, s.name);
      assert.ok(s.deletedKeys > 0, `${s.name} saw deletes`);
      assert.equal(s.truncated, false);
      assert.equal(s.evolvedSchema, null);
      assert.deepEqual(s.window, [[tp, lastChange.get(tp)]]);
      assert.deepEqual(s.expected, [[tp, null]]);
      for (const f of [...s.dataFiles, ...s.deleteFiles]) assert.ok(f.filePath.startsWith(`${layouts.get(s.name)!.location}/data/`), f.filePath);

      const schema = Schema.fromJSON(layouts.get(s.name)!.schema);
      assert.ok(schema.fields.every((f) => isPrimitive(f.type)));
      const rows = await readRows(s.dataFiles, schema.fields);
      const keyIdx = schema.identifierFieldIds.map((id) => schema.fields.findIndex((f) => f.id === id));
      const got = new Map(rows.map((r) => [keyIdx.map((i) => String(r[i])).join('|'), Object.fromEntries(schema.fields.map((f, i) => [f.name, r[i]]))]));
      assert.deepEqual(got, state, s.name);
    }
    assert.equal(core.bufferedBytes, 0);
    assert.deepEqual(await core.seal(), []);
  });
});

describe('WorkerCore', () => {
  const cols = [COL.id, COL.name, COL.qty];
  const rows = (from: number, to: number, partition = 0, table = 't'): SourceMessage[] =>
    Array.from({ length: to - from }, (_, i) => message(table, partition, from + i, cols, 'c', from + i, { id: from + i, name: `r${from + i}`, qty: i }));

  it('skips records below the stored offsets (replay after a restart)', async () => {
    const core = new WorkerCore(init());
    const batch = [...rows(0, 10), ...rows(0, 3, 1)];
    const d = drain(core, batch, (n) => layoutFor(n, { stored: { 'cdc.shop.t': { '0': 5 } }, sub: 'replay' }));
    assert.equal(d.skippedReplayed, 5);
    assert.equal(d.applied, 8);
    assert.equal(core.holds('shop.t', 'cdc.shop.t/0', 4), true);
    assert.equal(core.holds('shop.t', 'cdc.shop.t/0', 5), false);
    assert.equal(core.holds('shop.t', 'cdc.shop.t/1', 0), false);
    assert.equal(core.holds('shop.other', 'cdc.shop.t/0', 0), false);
    const [s] = await core.seal();
    assert.equal(s?.rows, 8);
    assert.deepEqual(new Map(s?.window), new Map([['cdc.shop.t/0', 10], ['cdc.shop.t/1', 3]]));
    // the offsets this window started from: 5 stored, none for partition 1
    assert.deepEqual(new Map(s?.expected), new Map<string, number | null>([['cdc.shop.t/0', 5], ['cdc.shop.t/1', null]]));

    // after a commit the main thread refreshes the stored offsets; the same records are replays now
    core.refresh('shop.t', { 'cdc.shop.t': { '0': 10, '1': 3 } });
    const again = core.apply(batch);
    assert.deepEqual([again.applied, again.skippedReplayed], [0, 13]);
    assert.deepEqual(await core.seal(), []);
  });

  it('rejects values that do not fit, with the index and reason, and moves the window past them', async () => {
    const core = new WorkerCore(init());
    const batch = [
      ...rows(0, 2),
      // qty is declared int64 but the value is not a number
      message('t', 0, 2, cols, 'u', 1, { id: 1, name: 'x', qty: 'many' }),
      { ...rows(3, 4)[0]!, value: Buffer.from('{"schema":{"type":"struct","fields":[') },
      message('t', 0, 4, cols, 'u', 0, { id: 0, name: 'r0 v2', qty: 9 }),
    ];
    const d = drain(core, batch, (n) => layoutFor(n, { sub: 'reject' }));
    assert.equal(d.rejects.length, 2);
    assert.deepEqual(d.rejects[0], { index: 2, reason: 'column "qty": expected an integer, got "many"' });
    assert.equal(d.rejects[1]?.index, 3);
    assert.match(d.rejects[1].reason, /^unparseable JSON: /);
    assert.equal(d.applied, 3);
    const [s] = await core.seal();
    assert.deepEqual(s?.window, [['cdc.shop.t/0', 5]]);
    const schema = Schema.fromJSON(layoutFor(d.needs[0]!).schema);
    const got = await readRows(s.dataFiles, schema.fields);
    assert.deepEqual(got.sort((a, b) => Number(a[0]) - Number(b[0])), [[0n, 'r0 v2', 9n], [1n, 'r1', 1n]]);
  });

  it('an incompatible type change under policy "fail" stops that table: its later changes are rejected, other tables go on', async () => {
    const core = new WorkerCore(init());
    const batch = [
      message('t', 0, 0, cols, 'c', 1, { id: 1, name: 'a', qty: 1 }),
      message('other', 0, 0, cols, 'c', 1, { id: 1, name: 'o', qty: 1 }),
      message('t', 0, 1, [COL.id, COL.name, COL.qtyText], 'u', 1, { id: 1, name: 'x', qty: 'many' }), // qty became text
      message('t', 0, 2, cols, 'c', 2, { id: 2, name: 'b', qty: 2 }), // compatible again, but the table has stopped
      message('other', 0, 1, cols, 'c', 2, { id: 2, name: 'o2', qty: 2 }),
    ];
    const d = drain(core, batch, (n) => layoutFor(n, { sub: 'failed' }));
    assert.deepEqual(d.rejects.map((r) => r.index), [2, 3]);
    assert.match(d.rejects[0]!.reason, /^table stopped by an incompatible schema change \(policy "fail"\): column "qty" is long in the table but string in the source/);
    assert.equal(d.rejects[1]!.reason, d.rejects[0]!.reason);
    assert.equal(d.applied, 3);
    const sealed = await core.seal();
    // the window before the change still commits; the window covers the rejected offsets (they are dead-lettered)
    const t = sealed.find((x) => x.name === 'shop.t')!;
    assert.equal(t.rows, 1);
    assert.deepEqual(t.window, [['cdc.shop.t/0', 3]]);
    assert.equal(sealed.find((x) => x.name === 'shop.other')!.rows, 2);
  });

  it('an incompatible type change under policy "new-column" writes the new values to <column>__<type>', async () => {
    const core = new WorkerCore(init());
    const batch = [
      message('t', 0, 0, cols, 'c', 1, { id: 1, name: 'a', qty: 1 }),
      message('t', 0, 1, [COL.id, COL.name, COL.qtyText], 'c', 2, { id: 2, name: 'b', qty: 'many' }),
    ];
    const d = drain(core, batch, (n) => layoutFor(n, { sub: 'newcol', onIncompatibleChange: 'new-column' }));
    assert.deepEqual(d.rejects, []);
    const [s] = await core.seal();
    const schema = Schema.fromJSON(s!.evolvedSchema!);
    assert.deepEqual(schema.fields.map((f) => `${f.id}:${f.name}:${f.type.kind}`), ['1:id:long', '2:name:string', '3:qty:long', '4:qty__string:string']);
    const got = await readRows(s!.dataFiles, schema.fields);
    assert.deepEqual(got.sort((a, b) => Number(a[0]) - Number(b[0])), [[1n, 'a', 1n, null], [2n, 'b', null, 'many']]);
  });

  it('rejects a schemaless value of the wrong type', async () => {
    const core = new WorkerCore(init());
    const plain = (offset: number, id: number, n: unknown): SourceMessage => ({
      topic: 'cdc.shop.s',
      partition: 0,
      offset,
      key: Buffer.from(JSON.stringify({ id })),
      value: Buffer.from(JSON.stringify({ before: null, after: { id, n }, source: { db: 'shop', table: 's' }, op: 'c' })),
      timestamp: undefined,
    });
    const d = drain(core, [plain(0, 1, 5), plain(1, 2, 'abc'), plain(2, 3, 7)], (n) => layoutFor(n, { sub: 'schemaless' }));
    assert.deepEqual(d.needs[0]?.shape, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'n', type: 'long', required: false }], keyColumns: ['id'] });
    assert.deepEqual(d.rejects, [{ index: 1, reason: 'column "n": expected an integer, got "abc"' }]);
    const [s] = await core.seal();
    assert.equal(s?.rows, 2);
    assert.deepEqual(s?.window, [['cdc.shop.s/0', 3]]);
  });

  it('keeps BIGINTs beyond 2^53 exact, in keys and values (exact re-decode)', async () => {
    const core = new WorkerCore(init());
    const bigCols = [COL.id, { type: 'int64', optional: true, field: 'big' }, { type: 'int64', optional: true, name: 'io.debezium.time.NanoTimestamp', field: 'ns' }];
    const ev = (op: string, before: string, after: string): string => `{"before":${before},"after":${after},"source":{"db":"shop","table":"big"},"op":"${op}"}`;
    const batch = [
      rawMessage('big', 0, 0, bigCols, '9223372036854775807', ev('c', 'null', '{"id":9223372036854775807,"big":9007199254740993,"ns":1709806530123456789}')),
      rawMessage('big', 0, 1, bigCols, '2', ev('c', 'null', '{"id":2,"big":-9007199254740993,"ns":null}')),
      rawMessage('big', 0, 2, bigCols, '9007199254740995', ev('c', 'null', '{"id":9007199254740995,"big":1,"ns":null}')),
      // a key-only delete of a key beyond 2^53
      rawMessage('big', 0, 3, bigCols, '9007199254740995', ev('d', 'null', 'null')),
    ];
    const d = drain(core, batch, (n) => layoutFor(n, { sub: 'big' }));
    assert.deepEqual(d.rejects, []);
    assert.equal(d.applied, 4);
    const [s] = await core.seal();
    assert.deepEqual([s?.rows, s?.deletedKeys], [2, 1]);
    const fields = Schema.fromJSON(layoutFor(d.needs[0]!).schema).fields;
    assert.deepEqual(fields.map((f) => f.type), [T.long, T.long, T.timestamp]);
    const got = await readRows(s!.dataFiles, fields);
    assert.deepEqual(got.sort((a, b) => (a[0]! < b[0]! ? -1 : 1)), [
      [2n, -9_007_199_254_740_993n, null],
      [9_223_372_036_854_775_807n, 9_007_199_254_740_993n, 1_709_806_530_123_456n],
    ]);
    const deleted = await readRows(s!.deleteFiles, fields.slice(0, 1));
    assert.deepEqual(deleted.map((r) => r[0]).sort((a, b) => (a! < b! ? -1 : 1)), [2n, 9_007_199_254_740_995n, 9_223_372_036_854_775_807n]);
  });

  it('evolves the schema when the source gains a column', async () => {
    const core = new WorkerCore(init());
    const batch = [...rows(0, 2), message('t', 0, 2, [COL.id, COL.name, COL.qty, COL.email], 'c', 2, { id: 2, name: 'r2', qty: 2, email: 'r2@shop' })];
    // last-column-id 10: columns 4..10 existed once and were dropped
    const d = drain(core, batch, (n) => layoutFor(n, { lastColumnId: 10, sub: 'evolve' }));
    assert.deepEqual(d.rejects, []);
    const [s] = await core.seal();
    assert.deepEqual(s?.evolvedSchema, {
      type: 'struct',
      'schema-id': 0,
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long' },
        { id: 2, name: 'name', required: false, type: 'string' },
        { id: 3, name: 'qty', required: false, type: 'long' },
        { id: 11, name: 'email', required: false, type: 'string' },
      ],
    });
    const got = await readRows(s.dataFiles, Schema.fromJSON(s.evolvedSchema).fields);
    assert.deepEqual(got.sort((a, b) => Number(a[0]) - Number(b[0])), [[0n, 'r0', 0n, null], [1n, 'r1', 1n, null], [2n, 'r2', 2n, 'r2@shop']]);
  });

  it('drop() forgets a revoked partition’s keys, window and expected offset', async () => {
    const core = new WorkerCore(init());
    // Debezium keys records: each key lives in one partition
    const batch = [...rows(0, 4, 0), ...rows(4, 8, 1).map((m, i) => ({ ...m, offset: i }))];
    drain(core, batch, (n) => layoutFor(n, { sub: 'drop' }));
    const before = core.bufferedBytes;
    core.drop(['cdc.shop.t/1']);
    assert.ok(core.bufferedBytes < before && core.bufferedBytes > 0);
    const [s] = await core.seal();
    assert.equal(s?.rows, 4);
    assert.equal(count(s.deleteFiles), 4);
    assert.deepEqual(s?.window, [['cdc.shop.t/0', 4]]);
    assert.deepEqual(s?.expected, [['cdc.shop.t/0', null]]);
    const got = await readRows(s.dataFiles, Schema.fromJSON(layoutFor({ id: { namespace: ['shop'], name: 't' }, name: 'shop.t', shape: { columns: [{ name: 'id', type: 'long', required: true }], keyColumns: ['id'] } }).schema).fields);
    assert.deepEqual(got.map((r) => r[0]).sort(), [0n, 1n, 2n, 3n]);
  });

  it('skips tombstones, heartbeats and tables the router excludes', () => {
    const core = new WorkerCore(init({ route: { pattern: '{db}.{table}', exclude: ['shop\\.skipme'] } }));
    const r = core.apply([
      { ...rows(0, 1)[0]!, value: null },
      { topic: '__debezium-heartbeat.cdc', partition: 0, offset: 0, key: null, value: Buffer.from('{"ts_ms":1}'), timestamp: undefined },
      ...rows(0, 2, 0, 'skipme'),
    ]);
    assert.deepEqual({ done: r.done, need: r.need, applied: r.applied, skippedIgnored: r.skippedIgnored, rejects: r.rejects }, { done: 4, need: undefined, applied: 0, skippedIgnored: 4, rejects: [] });
  });

  it('routes records without source db/table by their topic name', async () => {
    const core = new WorkerCore(init({ decoder: { cdcField: '__op', idColumns: ['id'] }, route: { pattern: 'flat.{db}_{table}' } }));
    const flat = (offset: number, op: string, id: number): SourceMessage => ({ topic: 'cdc.Shop.Flat', partition: 0, offset, key: null, value: Buffer.from(JSON.stringify({ id, v: `v${offset}`, __op: op })), timestamp: undefined });
    const d = drain(core, [flat(0, 'c', 1), flat(1, 'c', 2), flat(2, 'u', 1), flat(3, 'd', 2)], (n) => layoutFor(n, { sub: 'flat' }));
    assert.deepEqual(d.needs.map((n) => n.id), [{ namespace: ['flat'], name: 'shop_flat' }]);
    const [s]: SealedTable[] = await core.seal();
    assert.equal(s?.name, 'flat.shop_flat');
    assert.deepEqual([s?.rows, s?.deletedKeys], [1, 1]);
  });
});
