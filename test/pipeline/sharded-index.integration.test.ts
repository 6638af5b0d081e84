// Proves the key index is sharded by Kafka partition across replicas (issue 15): three floe processes in one group (static members, range assignor: each holds two partitions of every topic) consume 6-partition topics whose Debezium keys (JsonConverter with schema) were placed by Kafka's default partitioner (murmur2); every replica's index holds only its partitions' keys (floe_index_partitions, floe_index_keys: the replicas' keys add up to the tables' live keys, each key once), no key ever failed the partition check; one replica leaves, the survivors' indexes take over its partitions' keys by a reshard (floe_index_reshards_total) and stay exact: Spark, DuckDB and pyiceberg read every table equal to the source.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { expectedLines } from '../support/cdc-expected.js';
import { FloeProcess, groupProgress, producePaced } from '../support/floe-process.js';
import { assertEngineRows, env, integration, readWithEngine, skipReason, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const prefix = `shard${run}`;
const ns = `h${run}_shop`;
const tables = ['customers', 'orders', 'order_items'] as const;
const partitions = 6;
const groupId = `g${run}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function say(line: string): void {
  process.stdout.write(`# [sharded-index] ${line}\n`);
}

/** One series of a Prometheus text page: value by the `table` label. */
function byTable(page: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of page.split('\n')) {
    const m = new RegExp(`^${name}\\{[^}]*table="([^"]+)"[^}]*\\} (\\S+)$`).exec(line);
    if (m !== null) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

describe('sharded key index: each replica indexes its partitions\' keys', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'floe-shard-'));
  const procs = new Map<string, FloeProcess>();
  const engines = new Map<string, EngineOutput>();
  let behind = Infinity;
  const pages = new Map<string, string>();
  /** Live keys per table when the three replicas' metrics were read. */
  const liveThen = new Map<string, number>();
  let afterLeave = new Map<string, string>();
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 15, withSchema: true, keySpace: 1500 });
  const topics = tables.map((t) => `${prefix}.shop.${t}`);

  function start(name: string): FloeProcess {
    const cfg = {
      kafka: { brokers, groupId, groupInstanceId: name, topicPattern: `^${prefix}\\.shop\\..*`, deadLetterTopic: `${prefix}-dlq`, properties: { 'session.timeout.ms': 6000, 'partition.assignment.strategy': 'range' } },
      catalog: {
        type: 'rest', uri: env('FLOE_REST_URI'), warehouse: env('FLOE_REST_WAREHOUSE'),
        auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      },
      s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      route: { pattern: `h${run}_{db}.{table}` },
      tables: { overrides: { [`${ns}.customers`]: { formatVersion: 3 } } },
      commit: { intervalMs: 700, deletionVectorFiles: 'metadata/*.stats' },
      metrics: { port: 0 },
      shutdown: { timeoutMs: 30_000 },
    };
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(cfg));
    const p = new FloeProcess(path);
    procs.set(name, p);
    return p;
  }

  const scrape = async (p: FloeProcess): Promise<string> => {
    const port = p.metricsPort;
    assert.ok(port !== undefined, p.tail());
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };

  const caughtUp = async (): Promise<void> => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const progress = await groupProgress(brokers, groupId, topics, partitions);
      behind = [...progress.values()].reduce((n, x) => n + (x.end - x.committed), 0);
      if (behind === 0) return;
      await sleep(500);
    }
  };

  before(async () => {
    await createTopics(brokers, [...topics, `${prefix}-dlq`], partitions);
    let seq = 0;
    const produce = async (steps: number, pauseMs: number): Promise<void> => {
      await producePaced(brokers, gen, steps, seq, { chunk: 100, pauseMs, partitioner: 'murmur2_random' });
      seq += steps;
    };
    await produce(3000, 0);
    const three = [start('floe-0'), start('floe-1'), start('floe-2')];
    const holds = (p: FloeProcess): boolean => p.lines.some((l) => l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0);
    for (const p of three) assert.ok(await p.until(() => holds(p), 90_000), p.tail());
    await produce(3000, 10);
    await caughtUp();
    await sleep(2_000); // a commit cycle after the last records: every replica's metrics are current
    for (const [name, p] of procs) pages.set(name, await scrape(p));
    for (const t of tables) liveThen.set(t, gen.state.get(t)?.size ?? 0);
    say(`three replicas caught up; index partitions per replica: ${[...pages.values()].map((pg) => JSON.stringify(Object.fromEntries(byTable(pg, 'floe_index_partitions')))).join(' ')}`);
    const leaving = procs.get('floe-1') as FloeProcess;
    leaving.kill('SIGTERM');
    await leaving.exited;
    await produce(3000, 10);
    await caughtUp();
    await sleep(2_000);
    afterLeave = new Map();
    for (const name of ['floe-0', 'floe-2']) afterLeave.set(name, await scrape(procs.get(name) as FloeProcess));
    for (const name of ['floe-0', 'floe-2']) (procs.get(name) as FloeProcess).kill('SIGTERM');
    await Promise.all([...procs.values()].map((p) => p.exited));
    const names = tables.map((t) => `${ns}.${t}`);
    const [spark, duckdb, pyiceberg] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names), readWithEngine('pyiceberg', names)]);
    engines.set('spark', spark);
    engines.set('duckdb', duckdb);
    engines.set('pyiceberg', pyiceberg);
  });

  after(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the group caught up, every stop was clean, and no key failed the partition check', () => {
    assert.equal(behind, 0);
    for (const [name, p] of procs) {
      assert.deepEqual({ code: p.exit?.code, signal: p.exit?.signal }, { code: 0, signal: null }, p.tail());
      assert.deepEqual(p.lines.filter((l) => l.level === 'error'), [], `${name} logged errors`);
      assert.deepEqual(p.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('key index: a topic')), [], `${name}: a topic's keys did not match`);
    }
  });

  const liveKeys = (t: string): number => gen.state.get(t)?.size ?? 0;

  it('three replicas: each index holds its partitions\' keys only, together every live key once', () => {
    for (const t of tables) {
      const name = `${ns}.${t}`;
      const parts = [...pages.values()].map((pg) => byTable(pg, 'floe_index_partitions').get(name) ?? 0);
      const keys = [...pages.values()].map((pg) => byTable(pg, 'floe_index_keys').get(name) ?? 0);
      const live = liveThen.get(t) ?? 0;
      say(`${t}: partitions ${parts.join('+')}, keys ${keys.join('+')} of ${live} live`);
      const sharded = [...pages.values()].map((pg) => byTable(pg, 'floe_index_sharded').get(name) ?? 0);
      assert.deepEqual(sharded, [1, 1, 1], `${t}: every replica's index is sharded`);
      for (const n of parts) assert.equal(n, partitions / 3, `${t}: each replica indexes its ${partitions / 3} partitions (${parts.join(', ')})`);
      assert.equal(parts.reduce((a, b) => a + b, 0), partitions, `${t}: the replicas' partitions cover the topic once`);
      assert.equal(keys.reduce((a, b) => a + b, 0), live, `${t}: the replicas' keys add up to the live keys`);
      for (const k of keys) assert.ok(k > 0 && k < live / 2, `${t}: each replica indexes about a third of the keys (${keys.join(', ')})`);
    }
  });

  it('one replica left: the survivors took over its partitions\' keys by resharding, and stay exact', () => {
    for (const t of tables) {
      const name = `${ns}.${t}`;
      const parts = [...afterLeave.values()].map((pg) => byTable(pg, 'floe_index_partitions').get(name) ?? 0);
      const keys = [...afterLeave.values()].map((pg) => byTable(pg, 'floe_index_keys').get(name) ?? 0);
      say(`${t} after a replica left: partitions ${parts.join('+')}, keys ${keys.join('+')} of ${liveKeys(t)} live`);
      assert.equal(parts.reduce((a, b) => a + b, 0), partitions, `${t}: the survivors' partitions cover the topic once`);
      assert.equal(keys.reduce((a, b) => a + b, 0), liveKeys(t), `${t}: the survivors' keys add up to the live keys`);
    }
    const reshards = [...afterLeave.values()].map((pg) => [...byTable(pg, 'floe_index_reshards_total').values()].reduce((a, b) => a + b, 0));
    assert.ok(reshards.some((n) => n > 0), `a survivor resharded: ${reshards.join(', ')}`);
  });

  for (const t of tables) {
    for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
      it(`${engine} reads ${t} equal to the source table`, () => {
        assertEngineRows(engine, engines.get(engine) as EngineOutput, `${ns}.${t}`, expectedLines(gen, t));
      });
    }
  }
});
