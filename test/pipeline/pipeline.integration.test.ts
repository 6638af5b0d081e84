// Proves floe's main job end to end on a real Kafka broker and the REST catalog: generated Debezium events for several tables (hot keys, deletes of old rows, a partition column outside the key, key-only deletes, tombstones) become Iceberg tables that Spark, DuckDB and pyiceberg read equal to the source state (position deletes through the key index on v2, deletion vectors on a v3 table; one table in equality mode, which pyiceberg refuses), and malformed records land in the dead-letter topic with reasons while the rest flows.
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline } from '../../src/cli/run.js';
import { validateConfig } from '../../src/config/config.js';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { silentLogger } from '../../src/log.js';
import { expectedLines } from '../support/cdc-expected.js';
import { assertEngineRows, harnessCatalogSections, integration, readWithEngine, skipReason, type EngineOutput } from '../support/harness.js';
import { createTopics, endOffsets, kafkaBrokers, produceEvents, readTopic, withProducer } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const prefix = `gen${run}`;
const ns = `p${run}_shop`;
const tables = ['customers', 'orders', 'order_items'];
const partitions = 4;
const steps = 6000;

export function pipelineConfig(brokers: string, extra: { groupId: string; deadLetterTopic: string; intervalMs?: number; batchMax?: number; bufferBytesMax?: number }) {
  return validateConfig({
    kafka: { brokers, groupId: extra.groupId, topicPattern: `^${prefix}\\..*`, deadLetterTopic: extra.deadLetterTopic },
    ...harnessCatalogSections(),
    route: { pattern: `p${run}_{db}.{table}` },
    // A low merge threshold makes manifest merging run many times under the engines' eyes.
    tables: {
      defaults: { properties: { 'commit.manifest.min-count-to-merge': '3' } },
      overrides: { [`${ns}.customers`]: { formatVersion: 3 }, [`${ns}.orders`]: { partitionBy: ['region'] }, [`${ns}.order_items`]: { deleteMode: 'equality' } },
    },
    commit: {
      intervalMs: extra.intervalMs ?? 1000,
      targetFileSizeBytes: 8 * 1024 * 1024,
      // SeaweedFS accepts only Iceberg's metadata file types under a table: deletion vectors go to metadata/*.stats.
      deletionVectorFiles: 'metadata/*.stats',
      ...(extra.bufferBytesMax !== undefined ? { bufferBytesMax: extra.bufferBytesMax } : {}),
    },
    ...(extra.batchMax !== undefined ? { consume: { batchMax: extra.batchMax } } : {}),
    // Two worker threads: exercises the piscina path (on 2 cores the default keeps windows in the main thread).
    workers: { count: 2 },
    shutdown: { timeoutMs: 60_000 },
  });
}

describe('pipeline: Debezium topics in Kafka → upserted Iceberg tables', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 7, withSchema: true, keySpace: 400 });
  const dlq = `${prefix}-dlq`;
  let spark: EngineOutput;
  let duckdb: EngineOutput;
  let pyiceberg: EngineOutput;
  let consumed = 0;
  let commits = 0;
  /** Delete file content per table (1 position, 2 equality), from Spark's files metadata table. */
  const deleteKinds = new Map<string, string[]>();
  const bad: { key: string | null; value: string; why: RegExp }[] = [
    { key: '{"id":1}', value: '{"payload": not json', why: /unparseable JSON/ },
    { key: null, value: JSON.stringify({ before: null, after: { id: 5, name: 'x' }, source: { db: 'shop', table: 'customers' }, op: 'c' }), why: /no key/ },
    { key: '{"id":2}', value: JSON.stringify({ before: null, after: { id: 2 }, source: { db: 'shop', table: 'customers' }, op: 'x' }), why: /unknown op "x"/ },
  ];

  before(async () => {
    await createTopics(brokers, [...tables.map((t) => `${prefix}.shop.${t}`), dlq], partitions);
    const first = await produceEvents(brokers, gen, steps / 2);
    await withProducer(brokers, (p) => {
      for (const b of bad) p.produce(`${prefix}.shop.customers`, 0, Buffer.from(b.value), b.key === null ? null : Buffer.from(b.key), Date.now());
    });

    // Small batches and frequent commits: the backlog spreads over many snapshots. The second half of the
    // workload is produced only after the first half is committed, so it updates and deletes committed rows of
    // every table (position deletes / deletion vectors through the key index), however fast floe consumes.
    const handle = await startPipeline(pipelineConfig(brokers, { groupId: `g${run}`, deadLetterTopic: dlq, intervalMs: 200, batchMax: 200 }), silentLogger);
    const deadline = Date.now() + 240_000;
    let failed: unknown = null;
    handle.done.catch((e: unknown) => {
      failed = e;
    });
    const waitFor = async (cond: () => boolean): Promise<void> => {
      while (!cond() && Date.now() < deadline && failed === null) await new Promise((r) => setTimeout(r, 100));
    };
    await waitFor(() => handle.pipeline.stats.consumed >= first.length + bad.length);
    const commitsBefore = handle.pipeline.stats.commits;
    await waitFor(() => handle.pipeline.stats.commits > commitsBefore);
    await new Promise((r) => setTimeout(r, 1000)); // a window sealed just before the last of the first half commits too
    const second = await produceEvents(brokers, gen, steps / 2, steps / 2);
    const total = first.length + second.length + bad.length;
    let sum = 0;
    for (const t of tables) sum += await endOffsets(brokers, `${prefix}.shop.${t}`, partitions);
    assert.equal(sum, total, 'all events are in Kafka');
    await waitFor(() => handle.pipeline.stats.consumed >= total);
    handle.stop();
    await handle.done;
    consumed = handle.pipeline.stats.consumed;
    commits = handle.pipeline.stats.commits;
    const names = tables.map((t) => `${ns}.${t}`);
    [spark, duckdb, pyiceberg] = await Promise.all([
      // all_delete_files: every delete file of the retained snapshots; floe's background maintenance may have
      // rewritten them out of the current one (`files`) by the time the engines read.
      readWithEngine('spark', names, { sql: tables.map((t) => `SELECT DISTINCT content, file_format FROM cat.${ns}.${t}.all_delete_files ORDER BY content`) }),
      readWithEngine('duckdb', names),
      readWithEngine('pyiceberg', names),
    ]);
    tables.forEach((t, i) => deleteKinds.set(t, spark.sql[i]?.rows ?? []));
  });

  it('commits spread over many snapshots; customers (v3) has only deletion vectors, orders only position delete files, order_items (equality mode) only equality deletes', () => {
    assert.ok(commits >= 3, `commits: ${commits}`);
    assert.deepEqual(deleteKinds.get('customers'), ['{"content":1,"file_format":"PUFFIN"}']);
    assert.deepEqual(deleteKinds.get('orders'), ['{"content":1,"file_format":"PARQUET"}']);
    assert.deepEqual(deleteKinds.get('order_items'), ['{"content":2,"file_format":"PARQUET"}']);
  });

  it('pyiceberg reads the position and deletion-vector tables equal to the source, and refuses the equality-mode table', () => {
    assert.equal(pyiceberg.failure, undefined, pyiceberg.failure);
    for (const t of ['customers', 'orders']) assert.deepEqual(pyiceberg.tables.get(`${ns}.${t}`), expectedLines(gen, t), t);
    const refused = pyiceberg.tables.get(`${ns}.order_items`);
    assert.ok(refused !== undefined && !Array.isArray(refused), 'pyiceberg must not return rows for a table with equality deletes');
    assert.match(refused.unsupported, /equality/i);
  });

  after(() => undefined);

  it('consumed every record', () => {
    assert.ok(consumed >= steps, `consumed ${consumed}`);
  });

  for (const t of tables) {
    for (const engine of ['spark', 'duckdb'] as const) {
      it(`${engine} reads ${t} equal to the source table`, () => {
        const want = expectedLines(gen, t);
        assert.ok(want.length > 50, 'the workload leaves rows');
        assertEngineRows(engine, engine === 'spark' ? spark : duckdb, `${ns}.${t}`, want);
      });
    }
  }

  it('malformed records are in the dead-letter topic with their reasons', async () => {
    const recs = await readTopic(brokers, dlq, bad.length);
    assert.equal(recs.length, bad.length);
    for (const b of bad) {
      const r = recs.find((x) => x.value === b.value);
      assert.ok(r !== undefined, `dead letter for ${b.value}`);
      assert.match(r.headers['floe.error.reason'] ?? '', b.why);
      assert.equal(r.headers['floe.source.topic'], `${prefix}.shop.customers`);
      assert.equal(r.headers['floe.source.partition'], '0');
      assert.match(r.headers['floe.source.offset'] ?? '', /^\d+$/);
    }
  });
});
