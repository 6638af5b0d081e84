// Proves the metrics reach a real Prometheus (Debian package): floe runs as a process streaming paced Debezium events, Prometheus scrapes its /metrics every second, and the test reads consumer lag, freshness, commit latency and events-by-op series back through Prometheus's query API; /readyz turns ready after the group join and /healthz answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { CatalogProxy } from '../support/fault-proxy.js';
import { FloeProcess } from '../support/floe-process.js';
import { env, integration, skipReason } from '../support/harness.js';
import { createTopics, kafkaBrokers, produceEvents } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const prefix = `prom${run}`;
const ns = `q${run}_shop`;
const tables = ['customers', 'orders', 'order_items'];
const prometheusBin = process.env.FLOE_PROMETHEUS ?? 'prometheus';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

interface PromResult { metric: Record<string, string>; value: [number, string] }
async function query(base: string, q: string): Promise<PromResult[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data?: { result: PromResult[] }; error?: string };
  assert.equal(body.status, 'success', `${q}: ${body.error ?? ''}`);
  return body.data?.result ?? [];
}

describe('Prometheus scrapes floe', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'floe-prom-'));
  let floe: FloeProcess | null = null;
  // A slow catalog (each table commit held 1.5 s): partitions stay paused through a commit cycle while events
  // keep arriving, so the lag is high for several scrapes whatever the machine's speed.
  const proxy = new CatalogProxy(new URL(env('FLOE_REST_URI')), () => ({ delayMs: 1500 }));
  let prom: ChildProcess | null = null;
  let promBase = '';
  let floeBase = '';
  const seen = { lagMax: 0, readyBefore: 0, readyAfter: 0, health: 0 };
  const results: Record<string, PromResult[]> = {};
  const dashboardResults: { panel: string; expr: string; series: number }[] = [];

  before(async () => {
    const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 3, withSchema: false, keySpace: 300, clock: Date.now });
    await createTopics(brokers, [...tables.map((t) => `${prefix}.shop.${t}`), `${prefix}-dlq`], 3);
    await produceEvents(brokers, gen, 20_000); // a backlog: lag is visible at the first scrapes
    const cfg = {
      kafka: { brokers, groupId: `g${run}`, topicPattern: `^${prefix}\\..*`, deadLetterTopic: `${prefix}-dlq` },
      catalog: {
        type: 'rest', uri: await proxy.start(), warehouse: env('FLOE_REST_WAREHOUSE'),
        auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      },
      s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      route: { pattern: `q${run}_{db}.{table}` },
      // Small batches: the backlog takes several commit cycles, so scrapes see it shrink.
      commit: { intervalMs: 500 },
      consume: { batchMax: 100 },
      metrics: { host: '127.0.0.1', port: 0 }, // the port is chosen below
      shutdown: { timeoutMs: 30_000 },
    };
    // Prometheus first, scraping the port floe will listen on: it sees the backlog drain from the start.
    const port = await freePort();
    const promPort = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 500ms, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: floe',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
      '',
    ].join('\n'));
    prom = spawn(prometheusBin, [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    promBase = `http://127.0.0.1:${promPort}`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${promBase}/-/ready`).catch(() => null))?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    writeFileSync(join(dir, 'floe.json'), JSON.stringify({ ...cfg, metrics: { host: '127.0.0.1', port } }));
    floe = new FloeProcess(join(dir, 'floe.json'));
    assert.ok(await floe.until(() => floe!.lines.some((l) => l.msg === 'metrics and probes listening'), 30_000), `floe did not listen: ${floe.other.join('\n')}`);
    floeBase = `http://127.0.0.1:${port}`;
    seen.readyBefore = (await fetch(`${floeBase}/readyz`)).status;

    // More events while Prometheus watches (about 10 s), then until the lag is scraped back at 0.
    const deadline = Date.now() + 90_000;
    let produced = 20_000;
    while (Date.now() < deadline) {
      if (produced < 23_000) {
        await produceEvents(brokers, gen, 300, produced);
        produced += 300;
      }
      const lag = await query(promBase, 'sum(floe_consumer_lag_records)').catch(() => []);
      const now = Number(lag[0]?.value[1] ?? NaN);
      seen.lagMax = Math.max(seen.lagMax, Number.isFinite(now) ? now : 0);
      if (produced >= 23_000 && now === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 2500)); // two more scrapes after the last commit
    for (const [name, q] of Object.entries({
      lag: 'floe_consumer_lag_records',
      freshness: 'floe_freshness_seconds',
      commitP50: 'histogram_quantile(0.5, sum by (le) (rate(floe_commit_duration_seconds_bucket[1m])))',
      commitCount: 'sum(floe_commit_duration_seconds_count)',
      byOp: 'sum by (op) (floe_events_applied_total)',
      ready: 'floe_ready',
      lagMax: 'max(max_over_time(floe_consumer_lag_records[10m]))',
      up: 'up{job="floe"}',
    })) results[name] = await query(promBase, q);
    // Every query of the Grafana dashboard, as Grafana would send it ($job: all jobs).
    const dashboard = JSON.parse(readFileSync('k8s/grafana-dashboard.json', 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    for (const p of dashboard.panels) {
      for (const t of p.targets) dashboardResults.push({ panel: p.title, expr: t.expr, series: (await query(promBase, t.expr.replaceAll('$job', '.*'))).length });
    }
    seen.readyAfter = (await fetch(`${floeBase}/readyz`)).status;
    seen.health = (await fetch(`${floeBase}/healthz`)).status;
  });

  after(async () => {
    if (floe !== null && floe.exit === null) {
      floe.child.kill('SIGTERM');
      await floe.exited;
    }
    if (prom !== null && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Prometheus scraped floe (up = 1) and floe reports ready and healthy', () => {
    assert.deepEqual(results.up?.map((r) => r.value[1]), ['1']);
    assert.deepEqual(results.ready?.map((r) => r.value[1]), ['1']);
    assert.equal(seen.readyAfter, 200);
    assert.equal(seen.health, 200);
    assert.ok(seen.readyBefore === 503 || seen.readyBefore === 200);
  });

  it('consumer lag per partition: a series for every assigned partition, non-zero while the backlog drained', () => {
    const lag = results.lag ?? [];
    assert.equal(lag.length, tables.length * 3, JSON.stringify(lag.map((r) => r.metric)));
    for (const r of lag) assert.match(r.metric.topic ?? '', new RegExp(`^${prefix}\\.shop\\.`));
    assert.ok(Number(results.lagMax?.[0]?.value[1] ?? 0) > 0, `lag was scraped above 0 while the backlog drained (max ${results.lagMax?.[0]?.value[1]})`);
  });

  it('freshness per table: the age of the newest committed event, seconds', () => {
    const f = results.freshness ?? [];
    assert.deepEqual(f.map((r) => r.metric.table).sort(), tables.map((t) => `${ns}.${t}`).sort());
    for (const r of f) assert.ok(Number(r.value[1]) >= 0 && Number(r.value[1]) < 120, `freshness ${r.value[1]}`);
  });

  it('commit latency histogram: commits counted, p50 from the buckets', () => {
    assert.ok(Number(results.commitCount?.[0]?.value[1] ?? 0) >= 3);
    const p50 = Number(results.commitP50?.[0]?.value[1] ?? NaN);
    assert.ok(Number.isFinite(p50) && p50 >= 1.5 && p50 < 60, `p50 ${p50} (each commit is held 1.5 s)`);
  });

  it('every Grafana dashboard query runs on Prometheus, and all but the incident panels (dead letters, conflicts) return series', () => {
    assert.ok(dashboardResults.length >= 14);
    const empty = dashboardResults.filter((r) => r.series === 0).map((r) => r.panel);
    for (const panel of new Set(empty)) assert.match(panel, /Dead-lettered|conflicts/, `no series for "${panel}"`);
  });

  it('events by Debezium op', () => {
    const ops = new Map((results.byOp ?? []).map((r) => [r.metric.op, Number(r.value[1])]));
    for (const op of ['c', 'u', 'd']) assert.ok((ops.get(op) ?? 0) > 0, `op ${op}: ${JSON.stringify([...ops])}`);
  });
});
