/**
 * `floe demo`: floe's main job on an embedded default, with no services to install. An embedded
 * Kafka-protocol broker (librdkafka's mock cluster) receives a realistic Debezium change stream (inserts,
 * updates, deletes over three tables, hot keys, tombstones) while `floe run`'s pipeline streams it into
 * Iceberg tables in a local warehouse with the embedded SQL catalog (SQLite). At the end the demo reads the
 * tables back and checks them against the source state, and prints how to query them.
 */
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SqlCatalog } from '../catalog/sql-catalog.js';
import { validateConfig } from '../config/config.js';
import { DebeziumGenerator, type SourceRow } from '../demo/debezium-generator.js';
import { scanTable } from '../iceberg/scan.js';
import { currentSnapshot } from '../iceberg/table-metadata.js';
import { LocalFileIO } from '../io/local-file-io.js';
import { MockCluster } from '../kafka/mock-cluster.js';
import { createLogger, silentLogger } from '../log.js';
import { startPipeline } from './run.js';

export interface DemoOptions {
  readonly warehouseDir: string;
  readonly steps: number;
  readonly seed?: number;
  readonly verbose?: boolean;
  readonly out: (line: string) => void;
}

const BURSTS = 4;
const CATCH_UP_TIMEOUT_MS = 180_000;

function norm(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
}

export async function runDemo(opts: DemoOptions): Promise<{ ok: boolean }> {
  const dir = resolve(opts.warehouseDir);
  // A demo run starts from a clean warehouse: its embedded broker is new, so old offsets mean nothing.
  await rm(`${dir}/catalog.db`, { force: true });
  await rm(`${dir}/catalog.db-wal`, { force: true });
  await rm(`${dir}/catalog.db-shm`, { force: true });
  await rm(`${dir}/data`, { recursive: true, force: true });
  await mkdir(`${dir}/data`, { recursive: true });

  const t0 = Date.now();
  const cluster = await MockCluster.start();
  const gen = new DebeziumGenerator({ topicPrefix: 'demo', seed: opts.seed ?? 2026, withSchema: true, keySpace: Math.max(100, Math.floor(opts.steps / 10)) });
  let produced = 0;
  let seq = 0;
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      for (const ev of gen.next(seq++)) {
        cluster.produce(ev.topic, ev.key, ev.value);
        produced++;
      }
    }
    await cluster.flush();
  };
  opts.out(`embedded Kafka at ${cluster.bootstrap}; producing Debezium change events for shop.customers, shop.orders, shop.order_items`);
  await burst(Math.ceil(opts.steps / BURSTS));

  const cfg = validateConfig({
    kafka: {
      brokers: cluster.bootstrap,
      groupId: 'floe-demo',
      topicPattern: '^demo\\.shop\\..*',
      deadLetterTopic: 'demo.dead-letter',
      properties: { 'session.timeout.ms': '6000', 'topic.metadata.refresh.interval.ms': '1000' },
    },
    catalog: { type: 'sql', name: 'floe', path: `${dir}/catalog.db`, warehouse: `${dir}/data` },
    route: { pattern: '{db}.{table}' },
    tables: { overrides: { 'shop.orders': { partitionBy: ['region'] } } },
    commit: { intervalMs: 1000 },
    shutdown: { timeoutMs: 30_000 },
  });
  await cluster.createTopic(cfg.kafka.deadLetterTopic);
  const handle = await startPipeline(cfg, opts.verbose === true ? createLogger('info') : silentLogger);
  let failure: unknown = null;
  handle.done.catch((e: unknown) => {
    failure = e;
  });
  for (let b = 1; b < BURSTS; b++) {
    await new Promise((r) => setTimeout(r, 500));
    await burst(Math.ceil(opts.steps / BURSTS));
  }
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  while (failure === null && handle.pipeline.stats.consumed < produced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  handle.stop();
  await handle.done;
  await cluster.stop();
  const s = handle.pipeline.stats;
  opts.out(`streamed ${s.consumed} events (${s.applied} changes applied, ${s.skippedIgnored} tombstones ignored) in ${s.commits} commit cycles, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Read back and check against the source state.
  const catalog = new SqlCatalog({ name: 'floe', path: `${dir}/catalog.db`, warehouse: `file://${dir}/data`, io: new LocalFileIO() });
  let ok = true;
  try {
    for (const t of gen.tables) {
      const table = await catalog.loadTable({ namespace: [t.db], name: t.table });
      const rows = await scanTable(table);
      const want = new Map<string, SourceRow>();
      for (const r of gen.state.get(t.table)?.values() ?? []) want.set(norm(t.key.map((k) => r[k])), r);
      let mismatched = rows.length !== want.size ? Math.abs(rows.length - want.size) : 0;
      for (const r of rows) {
        const w = want.get(norm(t.key.map((k) => r[k])));
        if (w === undefined || t.columns.some((c) => norm(w[c.name] ?? null) !== norm(r[c.name] ?? null))) mismatched++;
      }
      ok &&= mismatched === 0;
      const snap = currentSnapshot(table.metadata);
      opts.out(
        `  ${t.db}.${t.table}: ${rows.length} rows, ${table.metadata.snapshots.length} snapshots, ${snap?.summary['total-data-files'] ?? 0} data files, ${snap?.summary['total-delete-files'] ?? 0} delete files — ${mismatched === 0 ? 'equals the source table' : `${mismatched} rows differ from the source`}`,
      );
    }
    const orders = await catalog.loadTable({ namespace: ['shop'], name: 'orders' });
    opts.out('');
    opts.out(`warehouse: ${dir}`);
    opts.out('query it:');
    opts.out(`  duckdb -c "INSTALL iceberg; LOAD iceberg; SELECT region, count(*) FROM iceberg_scan('${orders.metadataLocation.replace(/^file:\/\//, '')}') GROUP BY 1"`);
    opts.out(`  python -c "from pyiceberg.catalog.sql import SqlCatalog; c = SqlCatalog('floe', uri='sqlite:///${dir}/catalog.db', warehouse='file://${dir}/data'); print(c.load_table('shop.orders').scan().to_arrow().num_rows)"`);
    opts.out('  (updates and deletes are position deletes through floe\'s key index: DuckDB, Spark and pyiceberg all read them)');
  } finally {
    await catalog.close();
  }
  return { ok };
}
