/**
 * Commits per table as replicas are added (issue 16), on the real path: REPLICAS floe processes in one consumer
 * group (the harness's Kafka, the SeaweedFS REST catalog with SigV4 and S3) share TABLES topics of PARTITIONS
 * partitions each, 1-s commits, under a steady RATE events/s of upserts in Debezium's JSON without schemas
 * (`ts_ms` = the moment each event is produced). Every replica holds partitions of every table, so with today's
 * committer each one commits each table every interval: REPLICAS commits per table per interval, racing.
 *
 * Prints one JSON line: commits per table per interval (mean over the steady part, and the largest count in any
 * 1-s window), commit attempts and the share of table commits that needed more than one, conflicts by cause
 * (`floe_commit_conflicts_total`), snapshots per table, and freshness: for each event, the time from its
 * production to the first commit of its replica that made it readable (from each commit's `newestEventMs`, events
 * spread evenly between two commits of one replica and table), p50 / p99 / max.
 *
 * Run, with the harness's Kafka and SeaweedFS up:
 *   npm run build && eval "$(bash test/harness/seaweed.sh env)" && eval "$(bash test/harness/kafka.sh env)" \
 *     && node dist/native-bench/commit-storm.bench.js [replicas=8] [tables=20] [partitions=16] [rate=2000] [seconds=90]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { FloeProcess, groupProgress } from '../test/support/floe-process.js';
import { harnessCatalogSections } from '../test/support/harness.js';
import { metricSum, quantile } from './stats.js';
import { createTopics } from './workload.js';

const args = process.argv.slice(2);
const REPLICAS = Number(args[0] ?? 8);
const TABLES = Number(args[1] ?? 20);
const PARTITIONS = Number(args[2] ?? 16);
const RATE = Number(args[3] ?? 2000);
const SECONDS = Number(args[4] ?? 90);
const COMMIT_INTERVAL_MS = 1000;
const KEYS_PER_TABLE = 50_000;
/** The first and last seconds of the stream are left out of the per-interval figures (the group settles, drains). */
const SETTLE_MS = 10_000;
const TICK_MS = 20;
const STARTUP_WAIT_MS = 240_000;
const DRAIN_WAIT_MS = 300_000;
/** Freshness is sampled at this spacing between two commits of one replica and table. */
const FRESHNESS_STEP_MS = 25;

const brokers = process.env.FLOE_KAFKA_BOOTSTRAP ?? '';
if (brokers === '') throw new Error('set FLOE_KAFKA_BOOTSTRAP (eval "$(bash test/harness/kafka.sh env)")');
if (process.env.FLOE_REST_URI === undefined) throw new Error('set FLOE_REST_URI (eval "$(bash test/harness/seaweed.sh env)")');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => process.stderr.write(`[commit-storm] ${s}\n`);

interface TableCommit {
  readonly replica: string;
  readonly table: string;
  readonly atMs: number;
  readonly attempts: number;
  readonly newestEventMs: number | null;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36).slice(-5);
  const prefix = `cs${run}`;
  const topics = Array.from({ length: TABLES }, (_, i) => `${prefix}.db.t${String(i).padStart(2, '0')}`);
  await createTopics(brokers, [...topics.map((topic) => ({ topic, partitions: PARTITIONS })), { topic: `${prefix}-dlq`, partitions: 1 }]);
  const dir = mkdtempSync(join(tmpdir(), 'floe-commit-storm-'));
  const groupId = `cs-${run}`;
  const procs: FloeProcess[] = [];
  try {
    for (let r = 0; r < REPLICAS; r++) {
      const cfg = {
        kafka: { brokers, groupId, groupInstanceId: `floe-${r}`, topicPattern: `^${prefix}\\.db\\..*`, deadLetterTopic: `${prefix}-dlq`, properties: { 'session.timeout.ms': 10_000 } },
        ...harnessCatalogSections(),
        route: { pattern: `${prefix}_{db}.{table}` },
        commit: { intervalMs: COMMIT_INTERVAL_MS },
        // One worker a replica: REPLICAS processes share this machine's cores.
        workers: { count: 1 },
        maintenance: { enabled: false },
        metrics: { port: 0 },
      };
      const path = join(dir, `floe-${r}.json`);
      writeFileSync(path, JSON.stringify(cfg));
      procs.push(new FloeProcess(path));
    }
    const holds = (p: FloeProcess): boolean => p.lines.some((l) => l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0);
    for (const p of procs) if (!(await p.until(() => holds(p), STARTUP_WAIT_MS))) throw new Error(`a replica holds no partition:\n${p.tail()}`);
    say(`${REPLICAS} replicas hold partitions; producing ${RATE} events/s for ${SECONDS} s into ${TABLES} tables of ${PARTITIONS} partitions`);

    const producer = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 5, 'queue.buffering.max.messages': 1_000_000 }, { partitioner: 'murmur2_random' });
    await new Promise<void>((res, rej) => producer.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
    producer.setPollInterval(50);
    const t0 = Date.now();
    let produced = 0;
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0;
      return ((seed >>> 8) % n + n) % n;
    };
    while (Date.now() - t0 < SECONDS * 1000) {
      const gone = procs.find((p) => p.exit !== null);
      if (gone !== undefined) throw new Error(`a replica exited (${JSON.stringify(gone.exit)}):\n${[...gone.lines.filter((l) => l.level !== 'info').map((l) => JSON.stringify(l)), ...gone.other.slice(0, 40)].join('\n')}`);
      const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
      for (; produced < due; produced++) {
        const t = rnd(TABLES);
        const id = 1 + rnd(KEYS_PER_TABLE);
        const now = Date.now();
        const after = { id, name: `row ${id} v${produced}`, amount: rnd(1_000_000) / 100, updated: now };
        producer.produce(topics[t] as string, null, Buffer.from(JSON.stringify({ before: null, after, source: { db: 'db', table: `t${String(t).padStart(2, '0')}` }, op: 'u', ts_ms: now })), Buffer.from(`{"id":${id}}`), now);
      }
      await sleep(TICK_MS);
    }
    const streamEnd = Date.now();
    await new Promise<void>((res) => producer.flush(60_000, () => res()));
    await new Promise<void>((res) => producer.disconnect(() => res()));
    say(`produced ${produced} events; waiting for the group to commit them all`);
    const deadline = Date.now() + DRAIN_WAIT_MS;
    let behind = Infinity;
    while (Date.now() < deadline) {
      const gone = procs.find((p) => p.exit !== null);
      if (gone !== undefined) throw new Error(`a replica exited (${JSON.stringify(gone.exit)}):\n${[...gone.lines.filter((l) => l.level !== 'info').map((l) => JSON.stringify(l)), ...gone.other.slice(0, 40)].join('\n')}`);
      const progress = await groupProgress(brokers, groupId, topics, PARTITIONS);
      behind = [...progress.values()].reduce((n, x) => n + (x.end - x.committed), 0);
      if (behind === 0) break;
      await sleep(1000);
    }
    if (behind !== 0) throw new Error(`the group is ${behind} records behind after ${DRAIN_WAIT_MS / 1000} s`);
    const metrics = await Promise.all(procs.map(async (p) => (p.metricsPort === undefined ? '' : await (await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)).text())));

    const commits: TableCommit[] = [];
    for (const [r, p] of procs.entries()) {
      for (const line of p.commits) {
        for (const t of (line.tables as { table: string; attempts: number; snapshot: unknown; newestEventMs?: number | null }[] | undefined) ?? []) {
          if (t.snapshot === null) continue;
          commits.push({ replica: `floe-${r}`, table: t.table, atMs: p.t0 + (line.at), attempts: t.attempts, newestEventMs: t.newestEventMs ?? null });
        }
      }
    }
    // Commits per table per 1-s interval over the steady part of the stream.
    const from = t0 + SETTLE_MS;
    const to = streamEnd;
    const steady = commits.filter((c) => c.atMs >= from && c.atMs < to);
    const intervals = Math.max(1, Math.floor((to - from) / COMMIT_INTERVAL_MS));
    const perWindow = new Map<string, number>();
    for (const c of steady) {
      const k = `${c.table}@${Math.floor((c.atMs - from) / COMMIT_INTERVAL_MS)}`;
      perWindow.set(k, (perWindow.get(k) ?? 0) + 1);
    }
    const tables = new Set(commits.map((c) => c.table));
    // Freshness: events of one replica and table produced between two of its commits' newest events became
    // readable at the second commit.
    const fresh: number[] = [];
    const series = new Map<string, TableCommit[]>();
    for (const c of commits) if (c.newestEventMs !== null) series.set(`${c.replica}/${c.table}`, [...(series.get(`${c.replica}/${c.table}`) ?? []), c]);
    for (const list of series.values()) {
      list.sort((a, b) => a.atMs - b.atMs);
      for (let k = 1; k < list.length; k++) {
        const prev = (list[k - 1] as TableCommit).newestEventMs as number;
        const cur = list[k] as TableCommit;
        if (cur.atMs < from || cur.atMs >= to) continue;
        for (let t = prev + FRESHNESS_STEP_MS; t <= (cur.newestEventMs as number); t += FRESHNESS_STEP_MS) fresh.push(cur.atMs - t);
      }
    }
    const sum = (name: string, labels?: RegExp) => metrics.reduce((a, m) => a + metricSum(m, name, labels), 0);
    const retried = steady.filter((c) => c.attempts > 1).length;
    console.log(JSON.stringify({
      design: 'per-replica committers',
      replicas: REPLICAS, tables: TABLES, partitions: PARTITIONS, rate: RATE, seconds: SECONDS, commitIntervalMs: COMMIT_INTERVAL_MS,
      produced,
      tablesCommitted: tables.size,
      commitsPerTablePerInterval: Number((steady.length / (tables.size * intervals)).toFixed(2)),
      commitsPerTablePerIntervalMax: Math.max(0, ...perWindow.values()),
      tableCommits: commits.length,
      retriedShare: Number((retried / Math.max(1, steady.length)).toFixed(4)),
      attempts: sum('floe_commit_attempts_total'),
      conflicts: {
        concurrent_commit: sum('floe_commit_conflicts_total', /cause="concurrent_commit"/),
        schema_changed: sum('floe_commit_conflicts_total', /cause="schema_changed"/),
        base_expired: sum('floe_commit_conflicts_total', /cause="base_expired"/),
      },
      stateUnknown: sum('floe_commit_state_unknown_total'),
      snapshotsPerTable: Number((commits.length / Math.max(1, tables.size)).toFixed(1)),
      freshnessMs: { p50: Math.round(quantile(fresh, 0.5)), p99: Math.round(quantile(fresh, 0.99)), max: Math.round(quantile(fresh, 1)) },
    }));
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exited, sleep(60_000)])));
    for (const p of procs) if (p.exit === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
