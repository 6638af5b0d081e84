// Proves bad configuration meeting data stops one table with one clear error: a partition transform that cannot apply to a schemaless-inferred column type (month() of a `long`) and an incompatible schema change each stop only their table, log once, set floe_table_failed{table,reason}, and dead-letter every record of that table with the table's reason, without a catalog call per record, while other tables keep flowing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer, type CommitterConfig } from '../../src/commit/committer.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { DeadLetterSink } from '../../src/kafka/dead-letter.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import type { Logger } from '../../src/log.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { InProcessWorkers, ThreadWorkers, type Workers } from '../../src/worker/pool.js';
import { ArraySource } from '../support/array-source.js';

type Json = Record<string, unknown>;


/** The embedded catalog, counting table loads per table (a stopped table must not cost a catalog call per record). */
class CountingCatalog extends SqlCatalog {
  readonly loads = new Map<string, number>();
  override loadTable(id: TableIdentifier) {
    const name = [...id.namespace, id.name].join('.');
    this.loads.set(name, (this.loads.get(name) ?? 0) + 1);
    return super.loadTable(id);
  }
}

interface Line { level: string; msg: string; fields: Json }

function capture(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (msg: string, fields: Json = {}) => void lines.push({ level, msg, fields });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Kafka's JsonConverter with schemas.enable=false: the bare Debezium envelope, the key as a JSON object. */
function schemaless(topic: string, table: string): (offset: number, after: Json) => SourceMessage {
  return (offset, after) => ({
    topic,
    partition: 0,
    offset,
    key: Buffer.from(JSON.stringify({ id: after.id })),
    value: Buffer.from(JSON.stringify({ before: null, after, source: { connector: 'mysql', db: 'shop', table }, op: 'c', ts_ms: 1_767_225_600_000 })),
    timestamp: undefined,
  });
}

/** The JsonConverter with schemas: column `v` declared as `vType` (a Connect type). */
function withSchema(topic: string, table: string): (offset: number, id: number, vType: string, v: unknown) => SourceMessage {
  return (offset, id, vType, v) => {
    const row = { type: 'struct', optional: true, fields: [{ type: 'int64', optional: false, field: 'id' }, { type: vType, optional: true, field: 'v' }] };
    const schema = {
      type: 'struct',
      fields: [{ ...row, field: 'before' }, { ...row, field: 'after' }, { type: 'struct', optional: false, field: 'source', fields: [{ type: 'string', optional: true, field: 'db' }, { type: 'string', optional: true, field: 'table' }] }, { type: 'string', optional: false, field: 'op' }],
    };
    const key = { schema: { type: 'struct', fields: [{ type: 'int64', optional: false, field: 'id' }] }, payload: { id } };
    return { topic, partition: 0, offset, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify({ schema, payload: { before: null, after: { id, v }, source: { db: 'shop', table }, op: 'c' } })), timestamp: undefined };
  };
}

describe('a table stopped by bad configuration meeting its data', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-table-failure-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(name: string, messages: SourceMessage[], tables: CommitterConfig['tables'], threads = 0) {
    const catalog = new CountingCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io: new LocalFileIO() });
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {}, tables });
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const workers: Workers = threads === 0 ? new InProcessWorkers(init) : new ThreadWorkers(threads, init, { queueMax: 4, heapMb: 512 });
    const dead: { topic: string; offset: number; reason: string }[] = [];
    const dlq: DeadLetterSink = { send: (m, reason) => dead.push({ topic: m.topic, offset: m.offset, reason }), flush: async () => {}, reset: async () => {}, close: async () => {}, sent: 0 };
    const metrics = new Metrics({ processMetrics: false });
    const { log, lines } = capture();
    const source = new ArraySource(messages);
    // Small batches: the stopped table's records arrive before and after it stopped.
    const p = new Pipeline(source, workers, committer, dlq, { commitIntervalMs: 60_000, bufferBytesMax: 1 << 30, consumeBatchMax: 7, consumeTimeoutMs: 5, inFlightMax: 2 }, log, null, metrics);
    const running = p.run();
    while (p.stats.consumed < messages.length) await new Promise((r) => setTimeout(r, 5));
    p.stop();
    await running;
    await workers.close();
    const text = await metrics.registry.metrics();
    return { catalog, dead, lines, text, stats: p.stats };
  }

  for (const threads of [0, 1]) it(`month() of a column schemaless JSON carries as a number: the table fails once, with a reason naming table, column, type, transform and fix (${threads === 0 ? 'in-process' : 'worker thread'})`, async () => {
    const orders = schemaless('cdc.shop.orders', 'orders');
    const customers = schemaless('cdc.shop.customers', 'customers');
    const messages: SourceMessage[] = [];
    for (let i = 0; i < 30; i++) {
      // created_date: Debezium's io.debezium.time.Date (days since the epoch), a bare number without the schema
      messages.push(orders(i, { id: i, created_date: 20_454 + i, amount: i * 10 }));
      messages.push(customers(i, { id: i, name: `c${i}` }));
    }
    const { catalog, dead, lines, text, stats } = await run(`transform${threads}`, messages, { 'shop.orders': { partitionBy: ['month(created_date)'] } }, threads);

    // Every orders record is dead-lettered, all with the same table-level reason; no customers record is.
    assert.deepEqual(dead.map((d) => d.topic), new Array<string>(30).fill('cdc.shop.orders'));
    assert.deepEqual(dead.map((d) => d.offset), [...Array(30).keys()]);
    const reasons = new Set(dead.map((d) => d.reason));
    assert.equal(reasons.size, 1, [...reasons].join('\n'));
    const reason = [...reasons][0] ?? '';
    for (const part of [/table shop\.orders/, /partitionBy "month\(created_date\)"/, /column "created_date"/, /\blong\b/, /month\(\) applies to date and timestamp columns/, /declare the column's type|schemas\.enable=true/, /change tables\.overrides\."shop\.orders"\.partitionBy/]) assert.match(reason, part);
    assert.equal(stats.deadLettered, 30);

    // One log line for the table (error level), none per record above debug.
    const stopped = lines.filter((l) => l.msg.startsWith('table stopped'));
    assert.equal(stopped.length, 1, JSON.stringify(lines.filter((l) => l.level !== 'debug' && l.level !== 'info')));
    assert.equal(stopped[0]?.level, 'error');
    assert.equal(stopped[0]?.fields.table, 'shop.orders');
    assert.equal(stopped[0]?.fields.reason, 'partition_transform');
    assert.deepEqual(lines.filter((l) => l.level === 'warn'), []);

    // The gauge, and the per-record dead-letter counter as before.
    assert.ok(text.includes('floe_table_failed{table="shop.orders",reason="partition_transform"} 1'), text);
    assert.ok(text.includes('floe_dead_letter_records_total{topic="cdc.shop.orders"} 30'));
    assert.ok(!/floe_table_failed\{table="shop\.customers"/.test(text));

    // The catalog was asked about shop.orders once, not once per record; shop.customers has every row.
    assert.equal(catalog.loads.get('shop.orders'), 1);
    await assert.rejects(catalog.loadTable({ namespace: ['shop'], name: 'orders' }), /not found|does not exist/i);
    const rows = await scanTable(await catalog.loadTable({ namespace: ['shop'], name: 'customers' }));
    assert.equal(rows.length, 30);
    await catalog.close();
  });

  it('an incompatible schema change (policy fail) reports through the same log line and gauge', async () => {
    const t = withSchema('cdc.shop.t', 't');
    const u = withSchema('cdc.shop.u', 'u');
    const messages: SourceMessage[] = [];
    for (let i = 0; i < 5; i++) messages.push(t(i, i, 'string', `s${i}`), u(i, i, 'string', `u${i}`));
    for (let i = 5; i < 20; i++) messages.push(t(i, i, 'int32', i), u(i, i, 'string', `u${i}`)); // t.v: string → int, no promotion
    const { catalog, dead, lines, text } = await run('incompatible', messages, {});

    assert.deepEqual(dead.map((d) => `${d.topic}@${d.offset}`), [...Array(15).keys()].map((i) => `cdc.shop.t@${i + 5}`));
    assert.equal(new Set(dead.map((d) => d.reason)).size, 1);
    assert.match(dead[0]?.reason ?? '', /column "v" is string in the table but int in the source/);
    const stopped = lines.filter((l) => l.msg.startsWith('table stopped'));
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0]?.fields.table, 'shop.t');
    assert.equal(stopped[0]?.fields.reason, 'incompatible_schema');
    assert.deepEqual(lines.filter((l) => l.level === 'warn'), []);
    assert.ok(text.includes('floe_table_failed{table="shop.t",reason="incompatible_schema"} 1'), text);
    // The rows before the change were committed; the other table has all of its rows.
    assert.equal((await scanTable(await catalog.loadTable({ namespace: ['shop'], name: 't' }))).length, 5);
    assert.equal((await scanTable(await catalog.loadTable({ namespace: ['shop'], name: 'u' }))).length, 20);
    await catalog.close();
  });
});
