// Proves table maintenance on real services (Kafka, SeaweedFS REST catalog + S3, Spark, DuckDB, pyiceberg): floe streams upserts and deletes with 2-s commits and its background maintenance on, while Spark runs rewrite_data_files and expire_snapshots on the same table; no floe commit fails for good, the key index follows every foreign commit by catching up (0 rebuilds beyond the first open), floe's own maintenance rewrites the small files, and the three engines read the table equal to the source. Then `floe maintain` compacts that table and a table Spark wrote (merge-on-read deletes and updates) down to one file per partition and no delete file, the engines reading the same rows before and after.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type RunHandle } from '../../src/cli/run.js';
import { validateConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { harnessCatalogSections, integration, readWithEngine, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers, produceOne, withProducer } from '../support/kafka.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const ns = `mt${run}`;
const topic = `mt${run}.bank.accounts`;
const table = `${ns}.accounts`;
const sparkTable = `${ns}.ledger`;
const KEYS = 6000;
const PARTITIONS = 4;
const skip = integration && kafkaBrokers !== undefined ? false : 'integration harness not running (run `npm test`)';
const engines = ['spark', 'duckdb', 'pyiceberg'] as const;

interface Account { id: number; name: string; score: number; region: string | null }
const regions = ['eu', 'us', null] as const;

function line(a: Account): string {
  const score = Number.isInteger(a.score) ? `${a.score}.0` : String(a.score);
  return `{"id":${a.id},"name":${JSON.stringify(a.name)},"region":${a.region === null ? 'null' : JSON.stringify(a.region)},"score":${score}}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Data and delete files of a table's current snapshot, as Spark's `files` metadata table lists them. */
async function fileCounts(name: string): Promise<{ data: number; deletes: number; failure?: string }> {
  const out = await readWithEngine('spark', [], { sql: [`SELECT content, count(*) AS n FROM cat.${name}.files GROUP BY content`] });
  if (out.failure !== undefined) return { data: -1, deletes: -1, failure: out.failure };
  let data = 0;
  let deletes = 0;
  for (const r of out.sql[0]?.rows ?? []) {
    const { content, n } = JSON.parse(r) as { content: number; n: number };
    if (content === 0) data += n;
    else deletes += n;
  }
  return { data, deletes };
}

/** Runs `floe maintain` on one table; its JSON report. */
async function floeMaintain(configPath: string, name: string): Promise<{ code: number; report: unknown; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['dist/src/cli/main.js', 'maintain', '--config', configPath, '--table', name, '--json'], { maxBuffer: 64 << 20, timeout: 600_000 });
    return { code: 0, report: JSON.parse(stdout) as unknown, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, report: err.stdout !== undefined && err.stdout !== '' ? (JSON.parse(err.stdout) as unknown) : null, stderr: err.stderr ?? '' };
  }
}

describe('maintenance: floe streams with background maintenance while Spark compacts and expires; floe maintain on floe and Spark tables', { skip }, () => {
  const brokers = kafkaBrokers ?? '';
  const model = new Map<number, Account>();
  const reads: Record<string, EngineOutput> = {};
  const spark: string[] = [];
  const logs: string[] = [];
  let handle: RunHandle | null = null;
  let failure: unknown = null;
  let produced = 0;
  let consumed = 0;
  let metricsText = '';
  let filesAfterStream = { data: -1, deletes: -1 };
  let dir = '';
  let configPath = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'floe-maint-it-'));
    await createTopics(brokers, [topic], PARTITIONS);
    await createTopics(brokers, [`${topic}-dlq`], 1);
    const raw = {
      kafka: { brokers, groupId: `g${run}`, topics: [topic], deadLetterTopic: `${topic}-dlq` },
      ...harnessCatalogSections(),
      route: { pattern: `${ns}.{table}` },
      tables: { defaults: { partitionBy: ['region'] } },
      commit: { intervalMs: 2000 },
      consume: { batchMax: 500 },
      shutdown: { timeoutMs: 60_000 },
      // Small files on purpose (targets of 1 MiB, the minimum), a short interval: several runs in a minute.
      maintenance: { intervalMs: 4000, budgetMs: 20_000, rewriteData: { targetFileSizeBytes: 1024 * 1024, minInputFiles: 3 }, manifests: { minManifests: 8 } },
    };
    configPath = join(dir, 'floe.json');
    writeFileSync(configPath, JSON.stringify(raw));
    const cfg = validateConfig(raw);
    const h = await startPipeline(cfg, createLogger('info', (l) => {
      logs.push(l);
      if (process.env.FLOE_TEST_LOG !== undefined) process.stderr.write(l);
    }));
    handle = h;
    h.done.catch((e: unknown) => {
      failure = e;
    });

    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const change = (): [Buffer, Buffer] => {
      const id = 1 + rnd(KEYS);
      const old = model.get(id) ?? null;
      let op: 'c' | 'u' | 'd';
      let next: Account | null;
      if (old !== null && rnd(10) < 2) {
        op = 'd';
        next = null;
        model.delete(id);
      } else {
        op = old === null ? 'c' : 'u';
        next = { id, name: `v${rnd(1000)}-${id}`, score: rnd(100_000) + 0.5, region: regions[rnd(3)] ?? null };
        model.set(id, next);
      }
      return [Buffer.from(JSON.stringify({ id })), Buffer.from(JSON.stringify({ before: old, after: next, source: { db: 'bank', table: 'accounts' }, op }))];
    };
    /** `perSecond` changes a second for `seconds`. */
    const stream = async (perSecond: number, seconds: number) => {
      await withProducer(brokers, async (p) => {
        for (let s = 0; s < seconds * 10 && failure === null; s++) {
          for (let i = 0; i < perSecond / 10; i++) {
            const [k, v] = change();
            await produceOne(p, topic, k, v);
            produced++;
          }
          p.poll();
          await sleep(100);
        }
      });
    };
    const sparkCall = async (label: string, sql: string) => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const out = await readWithEngine('spark', [], { sql: [sql] });
        spark.push(out.failure === undefined ? `${label}: ${out.sql[0]?.rows.join(' ') ?? ''}` : `${label} failed: ${out.failure.split('\n').slice(-3).join(' ')}`);
        if (out.failure === undefined) return;
      }
    };

    try {
      await stream(1500, 8);
      // Spark compacts and expires while floe streams (its own maintenance runs between its cycles meanwhile).
      const foreign = (async () => {
        await sparkCall('rewrite_data_files', `CALL cat.system.rewrite_data_files(table => '${table}', options => map('rewrite-all', 'true'))`);
        await sparkCall('expire_snapshots', `CALL cat.system.expire_snapshots(table => '${table}', older_than => current_timestamp(), retain_last => 1)`);
      })();
      await Promise.all([foreign, stream(1000, 30)]);
      await stream(500, 12); // after the foreign commits: floe's index must follow them, and its maintenance runs again
      const until = Date.now() + 180_000;
      while (h.pipeline.stats.consumed < produced && Date.now() < until && failure === null) await sleep(100);
      await sleep(6000); // the last window commits, and a maintenance run may follow
      metricsText = await h.metrics.registry.metrics();
    } finally {
      h.stop();
      await h.done.catch(() => undefined);
      handle = null;
    }
    consumed = h.pipeline.stats.consumed;
    filesAfterStream = await fileCounts(table);

    // A table Spark wrote: many small inserts, merge-on-read deletes and updates.
    const created = await readWithEngine('spark', [], {
      sql: [
        `CREATE TABLE cat.${sparkTable} (id BIGINT, name STRING, score DOUBLE, region STRING) USING iceberg PARTITIONED BY (region)
           TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read')`,
        ...Array.from({ length: 8 }, (_v, b) => `INSERT INTO cat.${sparkTable} SELECT id, concat('n', id), CAST(id AS DOUBLE) + 0.25, CASE WHEN id % 3 = 0 THEN 'eu' WHEN id % 3 = 1 THEN 'us' END FROM range(${b * 500 + 1}, ${b * 500 + 501})`),
        `DELETE FROM cat.${sparkTable} WHERE id % 7 = 0`,
        `UPDATE cat.${sparkTable} SET score = score + 1000 WHERE id % 5 = 0`,
      ],
    });
    assert.equal(created.failure, undefined, created.failure);
  });

  after(async () => {
    if (handle !== null) {
      handle.stop();
      await handle.done.catch(() => undefined);
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('floe consumed every change without failing while Spark compacted and expired the table', () => {
    assert.equal(failure, null, String(failure));
    assert.equal(consumed, produced);
    assert.ok(spark.some((s) => s.startsWith('rewrite_data_files:')), `spark: ${spark.join(' | ')}`);
    assert.ok(spark.some((s) => s.startsWith('expire_snapshots:')), `spark: ${spark.join(' | ')}`);
  });

  it('the key index followed every foreign commit incrementally: catch-ups, and no rebuild beyond the first open', () => {
    const value = (name: string, match: RegExp = /.*/): number =>
      metricsText.split('\n').filter((l) => l.startsWith(name) && match.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    assert.ok(value('floe_index_catchups_total') >= 1, 'catch-ups');
    assert.equal(value('floe_index_rebuilds_total', /reason="(?!open)/), 0, metricsText.split('\n').filter((l) => l.startsWith('floe_index_rebuilds_total')).join('\n'));
    assert.ok(!logs.some((l) => l.includes('"msg":"key index rebuilt')));
  });

  it('floe\'s background maintenance ran and rewrote the small files', () => {
    const runs = metricsText.split('\n').filter((l) => l.startsWith('floe_maintenance_runs_total{') && l.includes('step="rewrite-data-files"') && l.includes('outcome="ok"'));
    assert.ok(runs.reduce((a, l) => a + Number(l.split(' ').pop()), 0) >= 2, runs.join('\n'));
    const rewritten = metricsText.split('\n').filter((l) => l.startsWith('floe_maintenance_files_rewritten_total{') && l.includes('rewrite-data-files'));
    assert.ok(rewritten.reduce((a, l) => a + Number(l.split(' ').pop()), 0) > 0, rewritten.join('\n'));
    const commits = Number(metricsText.split('\n').find((l) => l.startsWith('floe_commit_cycles_total'))?.split(' ').pop() ?? 0);
    // Without maintenance every cycle leaves a data file per partition written (and a delete file).
    assert.ok(filesAfterStream.data >= 1 && filesAfterStream.data < commits, `data files ${filesAfterStream.data} after ${commits} commit cycles`);
  });

  it('Spark, DuckDB and pyiceberg read the streamed table equal to the source', async () => {
    const expected = [...model.values()].map(line).sort();
    for (const engine of engines) {
      const out = await readWithEngine(engine, [table]);
      assert.equal(out.failure, undefined, out.failure);
      reads[engine] = out;
      assert.deepEqual(out.tables.get(table), expected, engine);
    }
  });

  for (const [label, name] of [['the streamed table', table], ['a table Spark wrote with merge-on-read deletes and updates', sparkTable]] as const) {
    it(`floe maintain compacts ${label} to one file per partition and no delete file; the engines read the same rows`, async () => {
      const before = await readWithEngine('spark', [name]);
      assert.equal(before.failure, undefined, before.failure);
      const res = await floeMaintain(configPath, name);
      assert.equal(res.code, 0, `${res.stderr}\n${JSON.stringify(res.report)}`);
      const counts = await fileCounts(name);
      // region: eu, us, null.
      assert.deepEqual({ data: counts.data, deletes: counts.deletes }, { data: 3, deletes: 0 }, JSON.stringify(res.report));
      for (const engine of engines) {
        const out = await readWithEngine(engine, [name]);
        assert.equal(out.failure, undefined, out.failure);
        assert.deepEqual(out.tables.get(name), before.tables.get(name), engine);
      }
    });
  }
});
