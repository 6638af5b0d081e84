// Proves a key index larger than its memory budget spills to local disk instead of deleting by equality (issue 15): one floe process with index.memoryBytesMax of 1 MiB upserts three tables of tens of thousands of keys (inserts, updates and deletes spread over every key), is SIGKILLed mid-stream and restarted (its indexes rebuilt over the budget), logs and reports (floe_index_state) the tables as spilled, adds no equality delete to any snapshot, and Spark, DuckDB and pyiceberg read every table equal to the source.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { expectedLines } from '../support/cdc-expected.js';
import { FloeProcess, groupProgress, producePaced } from '../support/floe-process.js';
import { assertEngineRows, env, integration, readWithEngine, restCatalog, skipReason, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const prefix = `budget${run}`;
const ns = `b${run}_shop`;
const tables = ['customers', 'orders', 'order_items'] as const;
const partitions = 2;
const groupId = `g${run}`;
const MEMORY_BYTES_MAX = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function say(line: string): void {
  process.stdout.write(`# [index-budget] ${line}\n`);
}

describe('a key index past its memory budget spills to disk: exact, no equality deletes', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'floe-budget-'));
  const spillDir = join(dir, 'spill');
  const procs: FloeProcess[] = [];
  const engines = new Map<string, EngineOutput>();
  let behind = Infinity;
  let page = '';
  let runFilesSeen = 0;
  const equalityDeletes = new Map<string, number>();
  // Uniform keys over a large key space: every key is inserted, then updated or deleted later, so lookups hit keys
  // in every run on disk, not only the newest.
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 15, withSchema: true, keySpace: 50_000, skew: 'uniform', opMix: { insert: 0.45, delete: 0.1 } });
  const topics = tables.map((t) => `${prefix}.shop.${t}`);

  function start(): FloeProcess {
    const cfg = {
      kafka: { brokers, groupId, topicPattern: `^${prefix}\\.shop\\..*`, deadLetterTopic: `${prefix}-dlq` },
      catalog: {
        type: 'rest', uri: env('FLOE_REST_URI'), warehouse: env('FLOE_REST_WAREHOUSE'),
        auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      },
      s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      route: { pattern: `b${run}_{db}.{table}` },
      tables: { overrides: { [`${ns}.orders`]: { formatVersion: 3 } } },
      commit: { intervalMs: 1000, deletionVectorFiles: 'metadata/*.stats' },
      index: { memoryBytesMax: MEMORY_BYTES_MAX, spillDir },
      maintenance: { enabled: false },
      metrics: { port: 0 },
      shutdown: { timeoutMs: 30_000 },
    };
    const path = join(dir, 'floe.json');
    writeFileSync(path, JSON.stringify(cfg));
    const p = new FloeProcess(path);
    procs.push(p);
    return p;
  }

  const caughtUp = async (): Promise<void> => {
    const deadline = Date.now() + 240_000;
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
      await producePaced(brokers, gen, steps, seq, { chunk: 1000, pauseMs });
      seq += steps;
    };
    await produce(120_000, 0);
    const first = start();
    // Killed once its indexes spilled and it committed: the restart rebuilds them over the budget.
    assert.ok(await first.until(() => first.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('key index: past its memory budget')), 240_000), first.tail());
    const countRuns = (): number => readdirSync(spillDir, { recursive: true }).filter((f) => String(f).endsWith('.run')).length;
    runFilesSeen = countRuns();
    first.kill('SIGKILL');
    await first.exited;
    say(`first process killed after its indexes spilled (${runFilesSeen} run files)`);
    const second = start();
    await produce(40_000, 0);
    await caughtUp();
    await sleep(2_500);
    const port = second.metricsPort;
    assert.ok(port !== undefined, second.tail());
    page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    second.kill('SIGTERM');
    await second.exited;
    const catalog = restCatalog();
    for (const t of tables) {
      const loaded = await catalog.loadTable({ namespace: [ns], name: t });
      equalityDeletes.set(t, loaded.metadata.snapshots.reduce((n, s) => n + Number(s.summary['added-equality-delete-files'] ?? '0'), 0));
    }
    const names = tables.map((t) => `${ns}.${t}`);
    const [spark, duckdb, pyiceberg] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names), readWithEngine('pyiceberg', names)]);
    engines.set('spark', spark);
    engines.set('duckdb', duckdb);
    engines.set('pyiceberg', pyiceberg);
  });

  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('caught up; the indexes spilled to run files, and the restarted process says so in its log and metrics', () => {
    assert.equal(behind, 0);
    assert.ok(runFilesSeen > 0, 'run files in index.spillDir');
    const second = procs[1] as FloeProcess;
    assert.deepEqual(second.lines.filter((l) => l.level === 'error'), [], 'the restarted process logged errors');
    const spilled = page.split('\n').filter((l) => l.startsWith('floe_index_state{') && l.includes('state="spilled"') && l.endsWith(' 1'));
    say(`spilled tables: ${spilled.join('; ')}`);
    assert.ok(spilled.length >= 1, `floe_index_state reports a spilled table:\n${page.split('\n').filter((l) => l.startsWith('floe_index_')).join('\n')}`);
    for (const t of tables) {
      const keys = gen.state.get(t)?.size ?? 0;
      say(`${t}: ${keys} live keys`);
    }
  });

  it('no snapshot of any table added an equality delete (the spilled indexes deleted by position)', () => {
    for (const t of tables) assert.equal(equalityDeletes.get(t), 0, `${t}: equality delete files`);
  });

  for (const t of tables) {
    for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
      it(`${engine} reads ${t} equal to the source table`, () => {
        assertEngineRows(engine, engines.get(engine) as EngineOutput, `${ns}.${t}`, expectedLines(gen, t));
      });
    }
  }
});
