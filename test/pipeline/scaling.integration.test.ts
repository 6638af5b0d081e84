// Proves scaling by partitions: three floe processes in one consumer group (static membership, as the StatefulSet runs them) share 12-partition topics while Debezium events flow; one is killed (SIGKILL) and a fourth joins; every replica commits to the same tables (concurrent commits all land, conflicts re-applied), and at the end Spark and DuckDB read every table equal to the source state: no row lost, none twice.
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
const prefix = `scale${run}`;
const ns = `s${run}_shop`;
const tables = ['customers', 'orders', 'order_items'] as const;
const partitions = 12;
const groupId = `g${run}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function say(line: string): void {
  process.stdout.write(`# [scaling] ${line}\n`);
}

describe('scaling: replicas in one group share the partitions; one killed, one added', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'floe-scale-'));
  const procs = new Map<string, FloeProcess>();
  let spark: EngineOutput;
  let duckdb: EngineOutput;
  let behind = Infinity;
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 21, withSchema: true, keySpace: 600 });

  function start(name: string): FloeProcess {
    const cfg = {
      kafka: {
        brokers, groupId, groupInstanceId: name, topicPattern: `^${prefix}\\..*`, deadLetterTopic: `${prefix}-dlq`,
        // A killed static member keeps its partitions until its session expires: 6 s here.
        properties: { 'session.timeout.ms': 6000 },
      },
      catalog: {
        type: 'rest', uri: env('FLOE_REST_URI'), warehouse: env('FLOE_REST_WAREHOUSE'),
        auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      },
      s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      route: { pattern: `s${run}_{db}.{table}` },
      tables: { overrides: { [`${ns}.orders`]: { partitionBy: ['region'] }, [`${ns}.customers`]: { formatVersion: 3 } } },
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

  before(async () => {
    await createTopics(brokers, [...tables.map((t) => `${prefix}.shop.${t}`), `${prefix}-dlq`], partitions);
    let seq = 0;
    const produce = async (steps: number, pauseMs: number): Promise<void> => {
      await producePaced(brokers, gen, steps, seq, { chunk: 100, pauseMs });
      seq += steps;
    };
    await produce(2000, 0);
    const [a, b, c] = [start('floe-0'), start('floe-1'), start('floe-2')];
    // Each member holds partitions (the group settled over three members) before the events that matter flow.
    const holds = (p: FloeProcess): boolean => p.lines.some((l) => l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0);
    for (const p of [a, b, c]) assert.ok(await p.until(() => holds(p), 90_000), `${p.tail()}`);
    await produce(3000, 20);
    for (const p of [a, b, c]) assert.ok(await p.until(() => p.commits.length > 0, 60_000), `${p.tail()}`);
    say(`three replicas committing; assignments: ${[a, b, c].map((p) => p.lines.filter((l) => l.msg === 'partitions assigned').length).join(',')}`);
    b.kill('SIGKILL');
    await b.exited;
    say('floe-1 killed');
    await produce(3000, 20); // its partitions move to floe-0 and floe-2 once its session expires
    const d = start('floe-3');
    assert.ok(await d.until(() => holds(d), 90_000), d.tail());
    say('floe-3 joined and holds partitions');
    await produce(3000, 20);
    const topics = tables.map((t) => `${prefix}.shop.${t}`);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const progress = await groupProgress(brokers, groupId, topics, partitions);
      behind = [...progress.values()].reduce((n, x) => n + (x.end - x.committed), 0);
      if (behind === 0) break;
      await sleep(500);
    }
    for (const p of [a, c, d]) p.kill('SIGTERM');
    await Promise.all([a, c, d].map((p) => p.exited));
    const names = tables.map((t) => `${ns}.${t}`);
    [spark, duckdb] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names)]);
  });

  after(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the group caught up: committed offsets at the end of every partition', () => {
    assert.equal(behind, 0);
  });

  it('every replica committed snapshots; the survivors took over the killed one\'s partitions, and the stops were clean', () => {
    for (const [name, p] of procs) {
      const withTables = p.commits.filter((l) => Array.isArray(l.tables) && (l.tables as unknown[]).length > 0);
      assert.ok(withTables.length > 0, `${name} committed no table snapshot:\n${p.tail()}`);
    }
    for (const name of ['floe-0', 'floe-2']) {
      const p = procs.get(name)!;
      assert.ok(p.lines.filter((l) => l.msg === 'partitions assigned').length >= 2, `${name} was never reassigned:\n${p.tail()}`);
    }
    for (const name of ['floe-0', 'floe-2', 'floe-3']) {
      const p = procs.get(name)!;
      assert.deepEqual({ code: p.exit?.code, signal: p.exit?.signal }, { code: 0, signal: null }, p.tail());
      assert.deepEqual(p.lines.filter((l) => l.level === 'error'), [], `${name} logged errors`);
    }
    const attempts = [...procs.values()].flatMap((p) => p.commits.flatMap((l) => (l.tables as { attempts: number }[] | undefined) ?? [])).map((t) => t.attempts);
    say(`${attempts.length} table commits, ${attempts.filter((n) => n > 1).length} of them re-applied after a concurrent commit (max attempts ${Math.max(...attempts)})`);
  });

  for (const t of tables) {
    for (const engine of ['spark', 'duckdb'] as const) {
      it(`${engine} reads ${t} equal to the source table`, () => {
        const want = expectedLines(gen, t);
        assertEngineRows(engine, engine === 'spark' ? spark : duckdb, `${ns}.${t}`, want);
      });
    }
  }
});
