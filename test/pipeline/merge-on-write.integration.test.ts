// Proves merge-on-write on real services: floe upserts into a table Spark created and filled (with Spark's own position deletes), its key index bootstrapped from that table; Spark compacts the table (rewrite_data_files) while floe streams and floe's index catches up through the rewritten files (no rebuild); a graceful stop saves the index to S3 and a restart loads it; Spark, DuckDB and pyiceberg then read the table equal to the expected state, with no row lost or resurrected.
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type RunHandle } from '../../src/cli/run.js';
import type { TableCommitReport } from '../../src/commit/committer.js';
import { validateConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { harnessCatalogSections, integration, readWithEngine, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers, produceOne, withProducer } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const ns = `m${run}`;
const topic = `mow${run}.bank.accounts`;
const KEYS = 3000;
const skip = integration && kafkaBrokers !== undefined ? false : 'integration harness not running (run `npm test`)';

interface Account { id: number; name: string; score: number; region: string | null }
const regions = ['eu', 'us', null] as const;

/** The canonical line the readers print for a row (keys sorted; doubles as Python prints them). */
function line(a: Account): string {
  const score = Number.isInteger(a.score) ? `${a.score}.0` : String(a.score);
  return `{"id":${a.id},"name":${JSON.stringify(a.name)},"region":${a.region === null ? 'null' : JSON.stringify(a.region)},"score":${score}}`;
}

describe('merge-on-write: a Spark-written table, upserted by floe while Spark compacts it', { skip }, () => {
  const brokers = kafkaBrokers ?? '';
  const model = new Map<number, Account>();
  const reads: Record<string, EngineOutput> = {};
  const compactions: string[] = [];
  const reports: TableCommitReport[] = [];
  let handle: RunHandle | null = null;
  let failure: unknown = null;
  let consumed = 0;
  let produced = 0;
  const logs = { first: [] as string[], second: [] as string[], third: [] as string[] };

  before(async () => {
    // Spark creates and fills the table, then deletes every tenth row (merge-on-read: position delete files).
    const created = await readWithEngine('spark', [], {
      sql: [
        `CREATE NAMESPACE IF NOT EXISTS cat.${ns}`,
        `CREATE TABLE cat.${ns}.accounts (id BIGINT, name STRING, score DOUBLE, region STRING) USING iceberg PARTITIONED BY (region)
           TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read')`,
        `INSERT INTO cat.${ns}.accounts SELECT id, concat('n', id), CAST(id AS DOUBLE) + 0.25, CASE WHEN id % 3 = 0 THEN 'eu' WHEN id % 3 = 1 THEN 'us' END FROM range(1, ${KEYS + 1})`,
        `DELETE FROM cat.${ns}.accounts WHERE id % 10 = 0`,
        `SELECT count(*) AS n FROM cat.${ns}.accounts`,
      ],
    });
    assert.equal(created.failure, undefined, created.failure);
    for (let id = 1; id <= KEYS; id++) if (id % 10 !== 0) model.set(id, { id, name: `n${id}`, score: id + 0.25, region: id % 3 === 0 ? 'eu' : id % 3 === 1 ? 'us' : null });
    assert.deepEqual(created.sql[4]?.rows, [`{"n":${model.size}}`]);

    await createTopics(brokers, [topic, `${topic}-dlq`], 1);
    const cfg = validateConfig({
      kafka: { brokers, groupId: `g${run}`, topics: [topic], deadLetterTopic: `${topic}-dlq` },
      ...harnessCatalogSections(),
      route: { pattern: `${ns}.{table}` },
      commit: { intervalMs: 300, targetFileSizeBytes: 8 * 1024 * 1024 },
      consume: { batchMax: 300 },
      shutdown: { timeoutMs: 60_000 },
    });
    const logger = (lines: string[]) => createLogger('info', (l) => {
      lines.push(l);
      if (process.env.FLOE_TEST_LOG !== undefined) process.stderr.write(l);
    });
    const h = await startPipeline(cfg, logger(logs.first));
    handle = h;
    h.done.catch((e: unknown) => {
      failure = e;
    });
    const onCommit = setInterval(() => {
      for (const r of h.pipeline.stats.lastCommit ?? []) if (!reports.includes(r)) reports.push(r);
    }, 20);

    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    /** One change on a random key: update (moving partitions too), delete, or insert of a deleted/new key. */
    const change = (): [Buffer, Buffer] => {
      const id = 1 + rnd(KEYS + 200);
      const old = model.get(id) ?? null;
      const roll = rnd(10);
      let op: 'c' | 'u' | 'd';
      let after: Account | null;
      if (old !== null && roll < 2) {
        op = 'd';
        after = null;
        model.delete(id);
      } else {
        op = old === null ? 'c' : 'u';
        after = { id, name: `v${rnd(1000)}-${id}`, score: rnd(100_000) + 0.5, region: regions[rnd(3)] ?? null };
        model.set(id, after);
      }
      const value = { before: old, after, source: { db: 'bank', table: 'accounts' }, op };
      return [Buffer.from(JSON.stringify({ id })), Buffer.from(JSON.stringify(value))];
    };
    const produce = async (n: number, pauseMs: number, chunk: number) => {
      for (let done = 0; done < n; done += chunk) {
        await withProducer(brokers, async (p) => {
          for (let i = 0; i < chunk; i++) {
            const [k, v] = change();
            await produceOne(p, topic, k, v);
            produced++;
          }
        });
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    };
    const caughtUp = async () => {
      const until = Date.now() + 120_000;
      while (h.pipeline.stats.consumed < produced && Date.now() < until && failure === null) await new Promise((r) => setTimeout(r, 100));
      // The last records may still be in a window: a commit cycle follows within the interval (none if already committed).
      const c0 = h.pipeline.stats.commits;
      const settle = Date.now() + 3000;
      while (h.pipeline.stats.commits === c0 && Date.now() < settle && failure === null) await new Promise((r) => setTimeout(r, 50));
    };

    try {
      await produce(3000, 0, 1000);
      await caughtUp();
      // Compaction and streaming at once: Spark rewrites every data file while floe keeps committing.
      const compacting = (async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const out = await readWithEngine('spark', [], { sql: [`CALL cat.system.rewrite_data_files(table => '${ns}.accounts', options => map('rewrite-all', 'true'))`] });
          compactions.push(out.failure ?? `rewrote: ${out.sql[0]?.rows.join(' ') ?? ''}`);
          if (out.failure === undefined) return;
        }
      })();
      const streaming = produce(3000, 400, 150);
      await Promise.all([compacting, streaming]);
      await produce(1500, 200, 150); // after the compaction: the index must know the rewritten files
      await caughtUp();
    } finally {
      clearInterval(onCommit);
      h.stop();
      await h.done.catch(() => undefined);
      handle = null;
    }
    consumed = h.pipeline.stats.consumed;

    // Two restarts: the second run makes only its own commits and saves its index at its graceful stop; the third
    // loads that file.
    for (const lines of [logs.second, logs.third]) {
      if (failure !== null) break;
      const h2 = await startPipeline(cfg, logger(lines));
      handle = h2;
      h2.done.catch((e: unknown) => {
        failure = e;
      });
      try {
        await produce(600, 0, 300);
        const until = Date.now() + 120_000;
        while (consumed + h2.pipeline.stats.consumed < produced && Date.now() < until && failure === null) await new Promise((r) => setTimeout(r, 100));
      } finally {
        h2.stop();
        await h2.done.catch(() => undefined);
        handle = null;
      }
      consumed += h2.pipeline.stats.consumed;
    }
    const names = [`${ns}.accounts`];
    [reads.spark, reads.duckdb, reads.pyiceberg] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names), readWithEngine('pyiceberg', names)]);
  });

  after(async () => {
    if (handle !== null) {
      handle.stop();
      await handle.done.catch(() => undefined);
    }
  });

  it('floe consumed every change without failing, and a compaction landed while it streamed', () => {
    assert.equal(failure, null, String(failure));
    if (process.env.FLOE_TEST_LOG !== undefined) console.log(JSON.stringify({ compactions, repositioned: reports.filter((r) => r.repositioned !== undefined).length, fellBack: reports.filter((r) => r.fellBackToEquality === true).length }));
    assert.equal(consumed, produced);
    assert.ok(compactions.some((c) => c.startsWith('rewrote')), `compactions: ${compactions.join(' | ')}`);
    assert.ok(reports.length >= 5, `commits: ${reports.length}`);
  });

  it('a graceful stop saves the key index (caught up with the compaction), and the next start loads it instead of reading key columns', () => {
    const opened = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'table opened' && l.table === `${ns}.accounts`);
    const saved = (lines: string[]) => lines.some((l) => l.includes('"msg":"saved key indexes"'));
    assert.equal(opened(logs.first)[0]?.index, 'built');
    // Spark's compaction moved every row: the index followed it through the rewritten files (never a rebuild),
    // so it describes the last snapshot exactly and is saved.
    assert.ok(logs.first.some((l) => l.includes('"msg":"key index caught up')), 'the index caught up with the compaction');
    assert.ok(!logs.first.some((l) => l.includes('"msg":"key index rebuilt')), 'no full rebuild');
    assert.equal(saved(logs.first), true, 'the first run saved its caught-up index');
    assert.equal(opened(logs.second)[0]?.index, 'saved');
    assert.equal(saved(logs.second), true, 'the second run (no foreign commits) saved its index');
    assert.equal(opened(logs.third)[0]?.index, 'saved');
    assert.ok(Number(opened(logs.third)[0]?.keys) > 2000);
  });

  for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
    it(`${engine} reads the table equal to the expected state`, () => {
      const out = reads[engine]!;
      assert.equal(out.failure, undefined, out.failure);
      const got = out.tables.get(`${ns}.accounts`);
      assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
      const want = [...model.values()].map(line).sort();
      assert.equal(got.length, want.length, 'row count');
      assert.deepEqual(got, want);
    });
  }
});
