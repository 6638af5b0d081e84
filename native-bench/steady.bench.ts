/**
 * floe under a steady produce rate, as in production: the generator writes Debezium events at RATE events/s
 * (event time = now) while floe streams them, and the bench reports what users watch:
 *   - commit cycle latency p50/p99 (pause, seal into Parquet, upload, catalog commits, offsets), files and bytes
 *     per commit;
 *   - freshness as a query sees it: the age of the newest committed event of each table (floe_freshness_seconds),
 *     sampled every 100 ms from the first commit on: p50/p99/max.
 *   FLOE_KAFKA_BOOTSTRAP=... node dist/native-bench/steady.bench.js [rate=5000] [seconds=60] [local|rest] [--json]
 * The commit interval is 5 s here (`FLOE_COMMIT_INTERVAL_MS`), so a minute gives a dozen cycles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { startPipeline } from '../src/cli/run.js';
import { validateConfig } from '../src/config/config.js';
import { benchTarget } from './targets.js';
import { createTopics } from './workload.js';
import { DebeziumGenerator, benchTables } from '../src/demo/debezium-generator.js';
import type { Logger } from '../src/log.js';
import { Metrics } from '../src/metrics/metrics.js';

const RATE = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 60);
const TARGET = process.argv[4] ?? 'local';
const JSON_OUT = process.argv.includes('--json');
const INTERVAL_MS = Number(process.env.FLOE_COMMIT_INTERVAL_MS ?? 5000);
const TICK_MS = 20;
const SAMPLE_MS = 100;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP ?? '';
if (brokers === '') throw new Error('set FLOE_KAFKA_BOOTSTRAP');

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number);
};

interface Commit {
  ms: number;
  files: number;
  bytes: number;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36).slice(-5);
  const prefix = `steady${run}`;
  const tables = benchTables(3);
  await createTopics(brokers, [...tables.map((t) => ({ topic: `${prefix}.${t.db}.${t.table}`, partitions: 4 })), { topic: `${prefix}-dlq`, partitions: 1 }]);

  const dir = await mkdtemp(join(tmpdir(), 'floe-steady-'));
  const cfg = validateConfig({
    kafka: { brokers, groupId: `steady-${run}`, topicPattern: `^${prefix}\\..*`, deadLetterTopic: `${prefix}-dlq` },
    ...benchTarget(TARGET, dir),
    route: { pattern: `s${run}_{db}.{table}` },
    commit: { intervalMs: INTERVAL_MS },
    metrics: { enabled: false },
  });

  const commits: Commit[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (msg, fields) => {
      if (msg !== 'committed' || fields === undefined) return;
      const ts = fields.tables as { files: number; bytes: number }[];
      commits.push({ ms: fields.ms as number, files: ts.reduce((a, t) => a + t.files, 0), bytes: ts.reduce((a, t) => a + t.bytes, 0) });
    },
    warn: (msg, fields) => process.stderr.write(`[steady] warn: ${msg} ${JSON.stringify(fields ?? {})}\n`),
    error: (msg, fields) => process.stderr.write(`[steady] error: ${msg} ${JSON.stringify(fields ?? {})}\n`),
  };
  const metrics = new Metrics({ processMetrics: false });
  const handle = await startPipeline(cfg, log, metrics);
  let failure: unknown = null;
  handle.done.catch((e: unknown) => {
    failure = e;
  });

  // The producer: RATE events/s in ticks, event time = the wall clock, so freshness is measured against it.
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 3, withSchema: true, keySpace: Math.max(1000, RATE * 10), tables, tombstones: false, skew: 'zipf', keyOnlyDeletes: false, clock: () => Date.now() });
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 5, 'queue.buffering.max.messages': 1_000_000 });
  await new Promise<void>((res, rej) => p.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  p.setPollInterval(50);
  const t0 = Date.now();
  let produced = 0;
  const freshness: number[] = [];
  let nextSample = t0;
  while (failure === null && Date.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
    for (; produced < due; produced++) {
      for (const ev of gen.next(produced)) p.produce(ev.topic, null, ev.value, ev.key, Date.now());
    }
    if (Date.now() >= nextSample && commits.length > 0) {
      nextSample += SAMPLE_MS;
      // the gauge a Prometheus scrape reads (computed at collection from the newest committed event time)
      for (const v of (await metrics.freshness.get()).values) freshness.push(v.value);
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await new Promise<void>((res) => p.flush(30_000, () => res()));
  await new Promise<void>((res) => p.disconnect(() => res()));
  handle.stop();
  await handle.done;
  await rm(dir, { recursive: true, force: true });
  if (failure !== null) throw failure as Error;

  const lat = commits.map((c) => c.ms);
  const out = {
    rate: RATE,
    seconds: SECONDS,
    target: TARGET,
    commitIntervalMs: INTERVAL_MS,
    events: produced,
    consumed: handle.pipeline.stats.consumed,
    commits: commits.length,
    commitCycleMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: Math.max(...lat) },
    filesPerCommit: quantile(commits.map((c) => c.files), 0.5),
    bytesPerCommit: Math.round(quantile(commits.map((c) => c.bytes), 0.5)),
    freshnessSeconds: { p50: quantile(freshness, 0.5), p99: quantile(freshness, 0.99), max: Math.max(...freshness), samples: freshness.length },
  };
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  process.stdout.write(
    `steady ${RATE} events/s for ${SECONDS} s (${TARGET}, commit.intervalMs ${INTERVAL_MS}): ${out.commits} commit cycles, cycle latency p50 ${out.commitCycleMs.p50} ms p99 ${out.commitCycleMs.p99} ms; ` +
      `${out.filesPerCommit} files and ${(out.bytesPerCommit / 1e6).toFixed(2)} MB per commit (median); freshness p50 ${out.freshnessSeconds.p50.toFixed(2)} s p99 ${out.freshnessSeconds.p99.toFixed(2)} s max ${out.freshnessSeconds.max.toFixed(2)} s\n`,
  );
}

await main();
