/**
 * Merge-on-write benchmark: the same upserted table built three ways, then read by DuckDB and Spark.
 *   equality   every touched key gets an equality delete (what the Kafka Connect sink writes)
 *   position   floe's default on v2: position deletes through the primary-key index
 *   dv         floe's default on v3: one deletion vector per data file, merged commit after commit
 *   compacted  the final state written once, no deletes (what a full compaction leaves)
 * Workload: <rows> inserts, then <commits> commits of 1 % updates (some moving partitions) and 0.1 % deletes.
 * Reports build time, files, DuckDB/Spark full-scan and point-query medians, index bytes per key and the
 * index bootstrap time per million keys.
 * Run: `npm run build && node dist/native-bench/merge-on-write.bench.js [rows=1000000] [commits=20] [--no-spark] [--modes=equality,position,dv]`
 * (needs the harness venv: `bash test/harness/install.sh`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { SqlCatalog } from '../src/catalog/sql-catalog.js';
import { Committer } from '../src/commit/committer.js';
import { Transaction } from '../src/commit/transaction.js';
import { liveEntries } from '../src/iceberg/snapshot-files.js';
import { DataFileContent, isDeletionVector } from '../src/iceberg/data-file.js';
import { scanLive, scanTable } from '../src/iceberg/scan.js';
import { currentSchema, defaultSpec } from '../src/iceberg/table-metadata.js';
import { LocalFileIO } from '../src/io/local-file-io.js';
import type { SourceMessage } from '../src/kafka/source.js';
import { PkIndex, type IndexedFile } from '../src/worker/pk-index.js';
import { InProcessWorkers } from '../src/worker/pool.js';
import { DataWriter } from '../src/writer/partitioned-writer.js';

const exec = promisify(execFile);
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const ROWS = Number(args[0] ?? 1_000_000);
const COMMITS = Number(args[1] ?? 20);
const SPARK = !process.argv.includes('--no-spark');
const MODES = (process.argv.find((a) => a.startsWith('--modes='))?.slice('--modes='.length) ?? 'equality,position,dv').split(',') as ('equality' | 'position' | 'dv')[];
const BATCH = 20_000;
const regions = ['eu', 'us', 'apac', 'latam'];

let seed = 7;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
}

interface Row { id: number; name: string; score: number; region: string; updated: number }

function message(table: string, offset: number, op: 'c' | 'u' | 'd', id: number, after: Row | null): SourceMessage {
  return {
    topic: `bench.bank.${table}`,
    partition: 0,
    offset,
    key: Buffer.from(`{"id":${id}}`),
    value: Buffer.from(JSON.stringify({ before: null, after, source: { db: 'bank', table }, op })),
    timestamp: undefined,
  };
}

async function build(catalog: SqlCatalog, table: string, mode: 'equality' | 'position' | 'dv') {
  const options = { deleteMode: mode, partitionBy: ['region'], ...(mode === 'dv' ? { formatVersion: 3 as const } : {}) };
  const committer = new Committer(catalog, { groupId: 'bench', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: { [`bench.${table}`]: options } });
  const workers = new InProcessWorkers({ decoder: {}, route: { pattern: 'bench.{table}' }, codec: 'zstd', targetFileSizeBytes: 128 << 20, s3: {} });
  let offset = 0;
  const apply = async (msgs: SourceMessage[]) => {
    let rest = msgs;
    for (;;) {
      const res = await workers.apply(0, rest);
      if (res.rejects.length > 0) throw new Error(`rejected: ${res.rejects[0]?.reason}`);
      if (res.need === undefined) return;
      await workers.openTable(0, await committer.table(res.need.id, res.need.shape));
      rest = rest.slice(res.done);
    }
  };
  const commitMs: number[] = [];
  const commit = async () => {
    const t0 = performance.now();
    const { reports, layouts, failed } = await committer.commit(await workers.seal());
    await workers.confirm(reports.map((r) => ({ name: r.table, landed: true })));
    if (failed.length > 0) throw failed[0]?.error;
    await workers.update(layouts);
    commitMs.push(performance.now() - t0);
  };
  seed = 7;
  const live = new Set<number>();
  // score is never integral: schemaless JSON infers a column's type from its first value
  const row = (id: number, v: number): Row => ({ id, name: `name-${id}-${v}`, score: (id % 1000) + 0.1 + v / 1024, region: regions[(id + v) % regions.length] ?? 'eu', updated: v });
  const t0 = performance.now();
  for (let start = 1; start <= ROWS; start += BATCH) {
    const batch: SourceMessage[] = [];
    for (let id = start; id < start + BATCH && id <= ROWS; id++) {
      batch.push(message(table, offset++, 'c', id, row(id, 0)));
      live.add(id);
    }
    await apply(batch);
  }
  await commit();
  const ids = [...live];
  for (let c = 1; c <= COMMITS; c++) {
    const batch: SourceMessage[] = [];
    for (let i = 0; i < ROWS / 100; i++) {
      const id = ids[rnd(ids.length)] as number;
      if (live.has(id)) batch.push(message(table, offset++, 'u', id, row(id, c)));
    }
    for (let i = 0; i < ROWS / 1000; i++) {
      const id = ids[rnd(ids.length)] as number;
      if (live.delete(id)) batch.push(message(table, offset++, 'd', id, null));
    }
    for (let i = 0; i < batch.length; i += BATCH) await apply(batch.slice(i, i + BATCH));
    await commit();
  }
  const buildMs = performance.now() - t0;
  const loaded = await catalog.loadTable({ namespace: ['bench'], name: table });
  const entries = await liveEntries(loaded);
  const files = { data: 0, position: 0, dv: 0, equality: 0 };
  for (const e of entries) {
    if (e.dataFile.content === DataFileContent.DATA) files.data++;
    else if (isDeletionVector(e.dataFile)) files.dv++;
    else if (e.dataFile.content === DataFileContent.POSITION_DELETES) files.position++;
    else files.equality++;
  }
  commitMs.sort((a, b) => a - b);
  return { buildMs, live: live.size, files, commitP50: commitMs[Math.floor(commitMs.length / 2)] ?? 0, commitP99: commitMs[Math.min(commitMs.length - 1, Math.floor(commitMs.length * 0.99))] ?? 0 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'floe-mow-bench-'));
  const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
  try {
    console.log(`merge-on-write bench: ${ROWS} rows, ${COMMITS} commits of 1% updates + 0.1% deletes, partitioned by region`);
    for (const mode of MODES) console.log(JSON.stringify({ table: mode, ...(await build(catalog, mode, mode)) }));
    // Index bootstrap from the last table built: key column of every live row, deletes applied.
    const loaded = await catalog.loadTable({ namespace: ['bench'], name: MODES[MODES.length - 1] ?? 'dv' });
    const schema = currentSchema(loaded.metadata);
    const keyField = schema.findField('id');
    if (keyField === undefined) throw new Error('no id column');
    const t0 = performance.now();
    const index = new PkIndex();
    const files = new Map<string, IndexedFile>();
    await scanLive(loaded, [keyField], (file, p, key) => {
      let f = files.get(file.filePath);
      if (f === undefined) {
        f = { path: file.filePath, specId: file.specId, partition: file.partition };
        files.set(file.filePath, f);
      }
      index.set(key, f, p);
    });
    const bootstrapMs = performance.now() - t0;
    console.log(JSON.stringify({ index: { keys: index.size, bytesPerKey: +(index.bytes / index.size).toFixed(1), bootstrapMsPerMillionKeys: Math.round((bootstrapMs / index.size) * 1e6) } }));

    // The fully compacted table: the final state in one write.
    const rows = await scanTable(loaded);
    const created = await catalog.createTable({ namespace: ['bench'], name: 'compacted' }, { schema, spec: defaultSpec(loaded.metadata), formatVersion: 2, properties: {} });
    const w = new DataWriter({ io: created.io, dataLocation: `${created.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 128 << 20 }, currentSchema(created.metadata), defaultSpec(created.metadata));
    for (const r of rows) w.write(schema.fields.map((f) => r[f.name] ?? null));
    await new Transaction(catalog, created).addDataFiles(await w.close()).commit();

    const py = join(homedir(), '.cache/floe/venv/bin/python');
    const qargs = ['native-bench/mow_queries.py', '--catalog', 'sql', '--sql-uri', `sqlite:///${join(dir, 'c.db')}`, '--warehouse', `file://${dir}/wh`,
      ...MODES.flatMap((m) => ['--table', `bench.${m}`]), '--table', 'bench.compacted', '--point-id', String(Math.floor(ROWS / 2) + 1), '--engine', 'duckdb'];
    if (SPARK) qargs.push('--engine', 'spark');
    const { stdout } = await exec(py, qargs, { maxBuffer: 16 << 20, timeout: 1_800_000 });
    console.log('\n| engine | table | rows | full scan ms (median) | point query ms (median) |\n|---|---|---|---|---|');
    for (const l of stdout.split('\n').filter((x) => x.startsWith('{'))) {
      const r = JSON.parse(l) as { engine: string; table: string; rows: number; full_scan_ms: number; point_ms: number };
      console.log(`| ${r.engine} | ${r.table} | ${r.rows} | ${r.full_scan_ms} | ${r.point_ms} |`);
    }
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
