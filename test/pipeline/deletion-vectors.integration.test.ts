// Proves deletion vectors against Iceberg's own writer and readers: Spark creates a v3 table and deletes and updates rows merge-on-read (its own deletion vectors); floe's key index bootstraps through them, floe streams upserts and deletes from Kafka into the table (merging its vectors with Spark's, one per data file, with row lineage), Spark writes more deletes on top of floe's vectors, and Spark, DuckDB and pyiceberg read the table equal to the expected state. (Local files with a SQL catalog: SeaweedFS refuses .puffin files, so Spark cannot write vectors there.)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { startPipeline } from '../../src/cli/run.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { validateConfig } from '../../src/config/config.js';
import { DataFileContent, isDeletionVector } from '../../src/iceberg/data-file.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { silentLogger } from '../../src/log.js';
import { integration, readWithEngine, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers, withProducer } from '../support/kafka.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const topic = `dv${run}.bank.accounts`;
const KEYS = 2000;
const skip = integration && kafkaBrokers !== undefined ? false : 'integration harness not running (run `npm test`)';

interface Account { id: number; name: string; score: number; region: string }
const line = (a: Account): string => `{"id":${a.id},"name":${JSON.stringify(a.name)},"region":${JSON.stringify(a.region)},"score":${Number.isInteger(a.score) ? `${a.score}.0` : String(a.score)}}`;

describe('deletion vectors: a Spark-written v3 table with Spark\'s vectors, upserted by floe, read by every engine', { skip }, () => {
  const brokers = kafkaBrokers ?? '';
  const model = new Map<number, Account>();
  let dir = '';
  let sqlUri = '';
  let warehouse = '';
  const reads: Record<string, EngineOutput> = {};
  let vectorsPerFile = 0;
  let dataFiles = 0;
  let floeVectors = 0;

  const python = join(process.env.FLOE_VENV ?? join(homedir(), '.cache/floe/venv'), 'bin/python');
  async function spark(args: string[]): Promise<void> {
    await exec(python, ['test/harness/readers/make_fixture.py', '--catalog', 'sql', '--sql-uri', sqlUri, '--warehouse', warehouse, '--catalog-name', 'cat', '--table', 'bank.accounts', ...args], {
      timeout: 300_000, maxBuffer: 64 << 20,
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-dv-it-'));
    sqlUri = `sqlite:///${join(dir, 'catalog.db')}`;
    warehouse = `file://${dir}/wh`;
    // Spark: v3 table, rows 1..KEYS, then merge-on-read DELETE and UPDATE (deletion vectors written by Iceberg's Java writer).
    const region = (id: number): string => (id % 2 === 0 ? 'eu' : 'us');
    await spark([
      '--schema', 'id bigint NOT NULL, name string, score double, region string', '--partitioned-by', 'region',
      '--prop', 'format-version=3', '--prop', 'write.delete.mode=merge-on-read', '--prop', 'write.update.mode=merge-on-read',
      '--insert', Array.from({ length: KEYS }, (_, i) => `(${i + 1}, 'n${i + 1}', ${i + 1}.5, '${region(i + 1)}')`).join(', '),
      '--sql', 'ALTER TABLE cat.bank.accounts SET IDENTIFIER FIELDS id',
      '--sql', 'DELETE FROM cat.bank.accounts WHERE id % 10 = 0',
      '--sql', "UPDATE cat.bank.accounts SET name = concat(name, '-spark') WHERE id % 7 = 0",
    ]);
    for (let id = 1; id <= KEYS; id++) {
      if (id % 10 !== 0) model.set(id, { id, name: id % 7 === 0 ? `n${id}-spark` : `n${id}`, score: id + 0.5, region: region(id) });
    }

    // floe: upserts (some moving partitions), deletes, inserts of new keys, in several commits.
    await createTopics(brokers, [topic, `${topic}-dlq`], 1);
    const cfg = validateConfig({
      kafka: { brokers, groupId: `g${run}`, topics: [topic], deadLetterTopic: `${topic}-dlq` },
      catalog: { type: 'sql', name: 'cat', path: join(dir, 'catalog.db'), warehouse },
      route: { pattern: 'bank.{table}' },
      commit: { intervalMs: 300 },
      workers: { count: 0 },
      shutdown: { timeoutMs: 60_000 },
    });
    const handle = await startPipeline(cfg, silentLogger);
    let failed: unknown = null;
    handle.done.catch((e: unknown) => {
      failed = e;
    });
    let produced = 0;
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 6; round++) {
      await withProducer(brokers, (p) => {
        for (let i = 0; i < 300; i++) {
          const id = 1 + rnd(KEYS + 200);
          const old = model.get(id);
          const op = old !== undefined && rnd(5) === 0 ? 'd' : old === undefined ? 'c' : 'u';
          const after: Account | null = op === 'd' ? null : { id, name: `f${round}-${id}`, score: round * 1000 + id + 0.25, region: rnd(3) === 0 ? 'apac' : region(id) };
          if (after === null) model.delete(id);
          else model.set(id, after);
          const value = { before: old ?? null, after, source: { db: 'bank', table: 'accounts' }, op };
          p.produce(topic, 0, Buffer.from(JSON.stringify(value)), Buffer.from(JSON.stringify({ id })), Date.now());
          produced++;
        }
      });
      const deadline = Date.now() + 60_000;
      while (handle.pipeline.stats.consumed < produced && Date.now() < deadline && failed === null) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 700)); // let the window commit: the next round updates committed rows
    }
    handle.stop();
    await handle.done;
    assert.equal(failed, null);

    const catalog = new SqlCatalog({ name: 'cat', path: join(dir, 'catalog.db'), warehouse, io: new LocalFileIO() });
    const t = await catalog.loadTable({ namespace: ['bank'], name: 'accounts' });
    const byFile = new Map<string, number>();
    for (const e of await liveEntries(t)) {
      if (e.dataFile.content === DataFileContent.DATA) dataFiles++;
      else {
        assert.ok(isDeletionVector(e.dataFile), `only deletion vectors: ${e.dataFile.filePath}`);
        byFile.set(e.dataFile.referencedDataFile!, (byFile.get(e.dataFile.referencedDataFile!) ?? 0) + 1);
        if (e.snapshotId !== null && t.metadata.snapshots.find((s) => s.snapshotId === e.snapshotId)?.summary['engine-name'] === undefined) floeVectors++;
      }
    }
    vectorsPerFile = Math.max(0, ...byFile.values());
    await catalog.close();

    // Spark deletes again, on top of floe's vectors (it must merge them).
    await spark(['--existing', '--sql', 'DELETE FROM cat.bank.accounts WHERE id % 13 = 0']);
    for (const id of [...model.keys()]) if (id % 13 === 0) model.delete(id);

    for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
      reads[engine] = await readWithEngine(engine, ['bank.accounts'], { catalog: 'sql', sqlUri, warehouse, catalogName: 'cat' });
    }
  });

  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('floe merged its deletes into deletion vectors: at most one per data file, none of them position or equality delete files', () => {
    assert.ok(dataFiles > 2, `data files: ${dataFiles}`);
    assert.ok(floeVectors > 0, 'floe wrote deletion vectors');
    assert.equal(vectorsPerFile, 1);
  });

  for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
    it(`${engine} reads the table equal to the expected state`, () => {
      const out = reads[engine]!;
      assert.equal(out.failure, undefined, out.failure);
      const got = out.tables.get('bank.accounts');
      assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
      const want = [...model.values()].map(line).sort();
      assert.equal(got.length, want.length);
      assert.deepEqual(got, want);
    });
  }
});
