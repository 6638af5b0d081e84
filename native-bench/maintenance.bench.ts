/**
 * Table maintenance on the real path (Kafka, the SeaweedFS REST catalog with SigV4 and S3, Spark, DuckDB):
 * a stream of EVENTS upserts and deletes at RATE events/s over KEYS keys, committed every 2 s, into
 *   maintained  floe with its background maintenance on (interval MAINT_INTERVAL_MS, default 60 s)
 *   raw         the same topic, a second floe with maintenance off (what the stream alone leaves)
 * while Spark runs `rewrite_data_files` and `expire_snapshots` on the maintained table halfway through (as users
 * do next to a sink), then, once both caught up and floe's next maintenance run is over,
 *   compacted   the maintained table's rows written by Spark into a fresh table and rewritten whole (what a full
 *               compaction leaves: one file per partition at this size)
 * and reports:
 *   - the data-file size distribution of each table (the raw table's are the stream's files: before; the
 *     maintained table's: after), files per partition, delete files;
 *   - DuckDB and Spark full-scan medians of the three tables side by side in one run, and their ratios to compacted;
 *   - the key index: rebuilds and catch-ups from floe's metrics, each catch-up's changed files and time (ms per
 *     changed file, µs per key read), and a full build of the final table for comparison;
 *   - rows and sum(score) of every table in both engines against the source model (a failed check exits 1).
 * Run, with the harness's Kafka and SeaweedFS up (`scripts/harness.sh` or `npm test`'s services):
 *   npm run build && eval "$(bash test/harness/seaweed.sh env)" && eval "$(bash test/harness/kafka.sh env)" \
 *     && node dist/native-bench/maintenance.bench.js [events=2000000] [rate=5000] [keys=300000] [--no-raw] [--no-spark]
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import Kafka from 'node-rdkafka';
import { startPipeline, type RunHandle } from '../src/cli/run.js';
import { validateConfig } from '../src/config/config.js';
import { DataFileContent } from '../src/iceberg/data-file.js';
import { liveEntries, readManifestFiles } from '../src/iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/table-metadata.js';
import type { Logger } from '../src/log.js';
import { Metrics } from '../src/metrics/metrics.js';
import { buildKeyIndex } from '../src/worker/index-build.js';
import { harnessCatalogSections, restCatalog } from '../test/support/harness.js';
import { metricSum, quantile } from './stats.js';
import { createTopics } from './workload.js';

const exec = promisify(execFile);
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const EVENTS = Number(args[0] ?? 2_000_000);
const RATE = Number(args[1] ?? 5000);
const KEYS = Number(args[2] ?? 300_000);
const RAW = !process.argv.includes('--no-raw');
const SPARK_FOREIGN = !process.argv.includes('--no-spark');
const COMMIT_INTERVAL_MS = 2000;
const MAINT_INTERVAL_MS = Number(process.env.MAINT_INTERVAL_MS ?? 60_000);
const MAINT_BUDGET_MS = 45_000;
const PARTITIONS = 4;
const TICK_MS = 20;
const SCAN_RUNS = 15;
/** DuckDB's scans of these tables take ~10 ms: more rounds for a stable median (15 gave 1.07× and 1.40× on equal tables). */
const DUCKDB_SCAN_RUNS = 61;
const CATCH_UP_WAIT_MS = 20 * 60_000;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP ?? '';
if (brokers === '') throw new Error('set FLOE_KAFKA_BOOTSTRAP (eval "$(bash test/harness/kafka.sh env)")');
if (process.env.FLOE_REST_URI === undefined) throw new Error('set FLOE_REST_URI (eval "$(bash test/harness/seaweed.sh env)")');

const regions = ['eu', 'us', 'apac', 'latam'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => process.stderr.write(`[maintenance-bench] ${s}\n`);

interface Row { id: number; name: string; score: number; region: string; updated: number }

/** The source: live rows by key, with the count and sum(score) every engine must read. */
class Model {
  readonly rows = new Map<number, Row>();
  private seed = 11;
  sum = 0;

  /** A uniform integer in [0, n): mulberry32 (a linear congruential generator's low bits cycle, skewing keys and regions). */
  private rnd(n: number): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  }

  /** One change as Debezium's JSON converter without schemas writes it (key, value). */
  change(i: number): [Buffer, Buffer] {
    const id = 1 + this.rnd(KEYS);
    const old = this.rows.get(id) ?? null;
    let op: 'c' | 'u' | 'd';
    let next: Row | null = null;
    if (old !== null && this.rnd(100) < 15) op = 'd';
    else {
      op = old === null ? 'c' : 'u';
      // a region change moves the row to another partition (a delete there, an insert here)
      const region = old !== null && this.rnd(10) !== 0 ? old.region : (regions[this.rnd(regions.length)] as string);
      next = { id, name: `customer ${id} ${'abcdefghij'.slice(0, this.rnd(10))} v${this.rnd(1_000_000)}`, score: this.rnd(100_000) + 0.5, region, updated: 1_767_225_600_000 + i };
    }
    if (old !== null) {
      this.sum -= old.score;
      this.rows.delete(id);
    }
    if (next !== null) {
      this.sum += next.score;
      this.rows.set(id, next);
    }
    return [Buffer.from(`{"id":${id}}`), Buffer.from(JSON.stringify({ before: old, after: next, source: { db: 'bank', table: 'accounts' }, op, ts_ms: 1_767_225_600_000 + i }))];
  }
}

interface Captured {
  commits: { at: number; ms: number; rows: number; files: number; bytes: number }[];
  maintained: { at: number; fields: Record<string, unknown> }[];
  catchUps: { at: number; fields: Record<string, unknown> }[];
  rebuilds: Record<string, unknown>[];
  problems: string[];
}

function capture(label: string): { log: Logger; c: Captured } {
  const c: Captured = { commits: [], maintained: [], catchUps: [], rebuilds: [], problems: [] };
  const log: Logger = {
    debug: () => undefined,
    info: (msg, f) => {
      if (msg === 'committed' && f !== undefined) {
        const ts = f.tables as { rows: number; files: number; bytes: number }[];
        c.commits.push({ at: Date.now(), ms: f.ms as number, rows: ts.reduce((a, t) => a + t.rows, 0), files: ts.reduce((a, t) => a + t.files, 0), bytes: ts.reduce((a, t) => a + t.bytes, 0) });
      } else if (msg === 'maintained' && f !== undefined) c.maintained.push({ at: Date.now(), fields: f });
      else if (msg.startsWith('key index caught up') && f !== undefined) c.catchUps.push({ at: Date.now(), fields: f });
    },
    warn: (msg, f) => {
      if (msg.startsWith('key index rebuilt')) c.rebuilds.push(f ?? {});
      c.problems.push(`${label} warn: ${msg} ${JSON.stringify(f ?? {})}`);
      say(`${label} warn: ${msg} ${JSON.stringify(f ?? {}).slice(0, 400)}`);
    },
    error: (msg, f) => {
      c.problems.push(`${label} error: ${msg} ${JSON.stringify(f ?? {})}`);
      say(`${label} error: ${msg} ${JSON.stringify(f ?? {}).slice(0, 400)}`);
    },
  };
  return { log, c };
}

interface FileStats { manifests: number; snapshots: number; dataFiles: number; deleteFiles: number; partitions: number; maxFilesPerPartition: number; mb: { min: number; p10: number; p50: number; p90: number; max: number; total: number }; rows: number }

async function fileStats(name: string): Promise<FileStats> {
  const catalog = restCatalog();
  try {
    const [ns, t] = name.split('.') as [string, string];
    const table = await catalog.loadTable({ namespace: [ns], name: t });
    const entries = await liveEntries(table);
    const manifests = (await readManifestFiles(table, currentSnapshot(table.metadata))).length;
    const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA);
    const perPartition = new Map<string, number>();
    for (const e of data) {
      const k = JSON.stringify(e.dataFile.partition, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      perPartition.set(k, (perPartition.get(k) ?? 0) + 1);
    }
    const mb = data.map((e) => Number(e.dataFile.fileSizeInBytes) / 1e6);
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      manifests,
      snapshots: table.metadata.snapshots.length,
      dataFiles: data.length,
      deleteFiles: entries.length - data.length,
      partitions: perPartition.size,
      maxFilesPerPartition: Math.max(0, ...perPartition.values()),
      mb: { min: r(Math.min(...mb)), p10: r(quantile(mb, 0.1)), p50: r(quantile(mb, 0.5)), p90: r(quantile(mb, 0.9)), max: r(Math.max(...mb)), total: r(mb.reduce((a, b) => a + b, 0)) },
      rows: data.reduce((a, e) => a + Number(e.dataFile.recordCount), 0),
    };
  } finally {
    await catalog.close();
  }
}

/**
 * One Spark session running `sql`, tried up to `attempts` times (a rewrite loses to floe's concurrent position
 * deletes on the same files as Iceberg's validation says it must; users' jobs retry). The first exception line
 * of a failure is kept.
 */
async function spark(label: string, sql: readonly string[], attempts = 1): Promise<{ ok: boolean; ms: number; out: string; tries: number }> {
  const t0 = Date.now();
  let out = '';
  for (let tries = 1; tries <= attempts; tries++) {
    try {
      const { stdout } = await exec(python(), ['test/harness/readers/spark_read.py', '--catalog', 'rest', ...sql.flatMap((q) => ['--sql', q])], { maxBuffer: 64 << 20, timeout: 900_000 });
      out = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('# ')).join(' | ');
      say(`spark ${label}: ok in ${Math.round((Date.now() - t0) / 1000)} s (try ${tries}): ${out.slice(0, 300)}`);
      return { ok: true, ms: Date.now() - t0, out, tries };
    } catch (e) {
      // Spark logs a CATALOG_NOT_FOUND for `ns.table` before it resolves the name in `cat`: not the failure.
      const lines = String((e as { stderr?: string }).stderr ?? (e as Error).message).split('\n');
      out = lines.filter((l) => /(Exception|Error)\b/.test(l) && !/^\s*at /.test(l) && !l.includes('CATALOG_NOT_FOUND')).pop() ?? lines.slice(-3).join(' ');
      say(`spark ${label}: try ${tries} failed: ${out.slice(0, 500)}`);
    }
  }
  return { ok: false, ms: Date.now() - t0, out, tries: attempts };
}

function python(): string {
  return join(process.env.FLOE_VENV ?? join(homedir(), '.cache/floe/venv'), 'bin/python');
}

async function main(): Promise<void> {
  const run = Date.now().toString(36).slice(-5);
  const ns = `mb${run}`;
  const topic = `mb${run}.bank.accounts`;
  const maintained = `${ns}.accounts`;
  const raw = `${ns}raw.accounts`;
  const compacted = `${ns}.accounts_compacted`;
  await createTopics(brokers, [{ topic, partitions: PARTITIONS }, { topic: `${topic}-dlq`, partitions: 1 }]);

  const base = (group: string, route: string) => ({
    kafka: { brokers, groupId: group, topics: [topic], deadLetterTopic: `${topic}-dlq` },
    ...harnessCatalogSections(),
    route: { pattern: route },
    tables: { defaults: { partitionBy: ['region'] } },
    commit: { intervalMs: COMMIT_INTERVAL_MS },
    metrics: { enabled: false },
  });
  const { log: aLog, c: a } = capture('maintained');
  const aMetrics = new Metrics({ processMetrics: false });
  const handles: RunHandle[] = [];
  const failures: unknown[] = [];
  const start = async (cfg: Record<string, unknown>, log: Logger, metrics: Metrics) => {
    const h = await startPipeline(validateConfig(cfg), log, metrics);
    h.done.catch((e: unknown) => failures.push(e));
    handles.push(h);
    return h;
  };
  const hA = await start({ ...base(`mb-${run}`, `${ns}.{table}`), maintenance: { intervalMs: MAINT_INTERVAL_MS, budgetMs: MAINT_BUDGET_MS } }, aLog, aMetrics);
  const { log: bLog } = capture('raw');
  const hB = RAW ? await start({ ...base(`mb-raw-${run}`, `${ns}raw.{table}`), maintenance: { enabled: false } }, bLog, new Metrics({ processMetrics: false })) : null;

  // The producer: RATE events/s in ticks.
  const model = new Model();
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 5, 'queue.buffering.max.messages': 1_000_000, 'compression.codec': 'lz4' });
  await new Promise<void>((res, rej) => p.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  p.setPollInterval(50);
  const t0 = Date.now();
  let produced = 0;
  let foreign: Promise<{ ok: boolean; ms: number; out: string; tries: number }[]> | null = null;
  let foreignAt = 0;
  let nextReport = t0 + 30_000;
  while (produced < EVENTS && failures.length === 0) {
    const due = Math.min(EVENTS, Math.floor(((Date.now() - t0) / 1000) * RATE));
    for (; produced < due; produced++) {
      const [k, v] = model.change(produced);
      p.produce(topic, null, v, k, Date.now());
    }
    if (SPARK_FOREIGN && foreign === null && produced >= EVENTS / 2) {
      foreignAt = Date.now();
      say(`halfway (${produced} events): Spark rewrite_data_files and expire_snapshots on ${maintained} while floe streams`);
      foreign = (async () => [
        await spark('rewrite_data_files', [`CALL cat.system.rewrite_data_files(table => '${maintained}', options => map('min-input-files', '2'))`], 5),
        await spark('expire_snapshots', [`CALL cat.system.expire_snapshots(table => '${maintained}', older_than => current_timestamp(), retain_last => 5)`], 3),
      ])();
    }
    if (Date.now() >= nextReport) {
      nextReport += 30_000;
      say(`${produced} produced, consumed ${hA.pipeline.stats.consumed} maintained / ${hB?.pipeline.stats.consumed ?? '-'} raw, ${a.commits.length} commits, ${a.maintained.length} maintenance runs, ${a.catchUps.length} catch-ups`);
    }
    await sleep(TICK_MS);
  }
  await new Promise<void>((res) => p.flush(60_000, () => res()));
  await new Promise<void>((res) => p.disconnect(() => res()));
  const streamS = (Date.now() - t0) / 1000;
  say(`produced ${produced} events in ${streamS.toFixed(0)} s; waiting for both floes to catch up`);
  const foreignResults = foreign !== null ? await foreign : [];

  const until = Date.now() + CATCH_UP_WAIT_MS;
  while (failures.length === 0 && Date.now() < until && handles.some((h) => h.pipeline.stats.consumed < produced)) await sleep(200);
  // The last window commits, then floe's next background run (due MAINT_INTERVAL_MS after the previous one; it runs
  // while the stream is idle too) must finish after that commit: the table as maintenance leaves it.
  await sleep(COMMIT_INTERVAL_MS * 2);
  const lastData = Math.max(0, ...a.commits.filter((c) => c.rows > 0).map((c) => c.at));
  const maintUntil = Date.now() + MAINT_INTERVAL_MS + MAINT_BUDGET_MS + 60_000;
  while (failures.length === 0 && Date.now() < maintUntil && !a.maintained.some((m) => m.at > lastData)) await sleep(500);
  const finalRun = a.maintained.find((m) => m.at > lastData);
  const aMetricsText = await aMetrics.registry.metrics();
  for (const h of handles) h.stop();
  await Promise.all(handles.map((h) => h.done.catch(() => undefined)));
  if (failures.length > 0) throw failures[0] as Error;
  const consumed = { maintained: hA.pipeline.stats.consumed, raw: hB?.pipeline.stats.consumed ?? null };

  // The compacted reference: the same rows, written once by Spark and rewritten whole.
  const cols = 'id BIGINT, name STRING, score DOUBLE, region STRING, updated BIGINT';
  const made = await spark('compacted copy', [
    `CREATE TABLE cat.${compacted} (${cols}) USING iceberg PARTITIONED BY (region) TBLPROPERTIES ('format-version'='2')`,
    `INSERT INTO cat.${compacted} SELECT id, name, score, region, updated FROM cat.${maintained}`,
    `CALL cat.system.rewrite_data_files(table => '${compacted}', options => map('rewrite-all', 'true'))`,
  ]);
  if (!made.ok) throw new Error(`could not build the compacted table: ${made.out}`);

  const tables = [maintained, compacted, ...(RAW ? [raw] : [])];
  const stats = new Map<string, FileStats>();
  for (const t of tables) stats.set(t, await fileStats(t));

  // A full build of the final table's index, for comparison with the catch-ups.
  const cat = restCatalog();
  let fullBuild = { ms: 0, keys: 0 };
  try {
    const table = await cat.loadTable({ namespace: [ns], name: 'accounts' });
    const schema = currentSchema(table.metadata);
    const keyFields = schema.fields.filter((f) => schema.identifierFieldIds.includes(f.id));
    const tb = performance.now();
    const built = await buildKeyIndex(table, keyFields);
    fullBuild = { ms: Math.round(performance.now() - tb), keys: built.index.size };
  } finally {
    await cat.close();
  }

  // The two tables compared, round-robin; the raw table apart: its scans, 50-60x longer, perturbed the timing of
  // whichever table followed them in the rotation (DuckDB: 1.27x measured in the rotation, 1.00x without).
  const scans: { engine: string; table: string; rows: number; sum: number; full_scan_ms: number }[] = [];
  for (const set of [[maintained, compacted], ...(RAW ? [[raw]] : [])]) {
    const { stdout } = await exec(python(), ['native-bench/mow_queries.py', '--catalog', 'rest', ...set.flatMap((t) => ['--table', t]), '--engine', 'duckdb', '--engine', 'spark', '--runs', String(SCAN_RUNS), '--duckdb-runs', String(DUCKDB_SCAN_RUNS)], { maxBuffer: 16 << 20, timeout: 1_800_000 });
    for (const l of stdout.split('\n')) if (l.startsWith('{')) scans.push(JSON.parse(l) as (typeof scans)[number]);
  }

  // Checks: every table, in both engines, holds the source's rows.
  const checks: string[] = [];
  if (consumed.maintained !== produced || (consumed.raw !== null && consumed.raw !== produced)) checks.push(`consumed ${JSON.stringify(consumed)} of ${produced}`);
  for (const s of scans) {
    if (s.rows !== model.rows.size) checks.push(`${s.engine} reads ${s.rows} rows of ${s.table}, the source holds ${model.rows.size}`);
    if (Math.abs(s.sum - model.sum) > 1e-6 * Math.abs(model.sum)) checks.push(`${s.engine} reads sum(score) ${s.sum} of ${s.table}, the source ${model.sum}`);
  }
  // Spark's rewrite may lose every try to floe's commits: Iceberg's validation refuses it, as it must, when floe
  // deleted rows by position in the files it replaces ("found new position delete for replaced data file") or
  // floe's maintenance rewrote them first ("Missing required files to delete"). Any other failure is one.
  for (const f of foreignResults) if (!f.ok && !f.out.includes('org.apache.iceberg.exceptions.ValidationException')) checks.push(`a Spark call failed ${f.tries} times: ${f.out.slice(0, 300)}`);
  const rebuildsBeyondOpen = metricSum(aMetricsText, 'floe_index_rebuilds_total', /reason="(?!open)/);
  if (rebuildsBeyondOpen > 0) checks.push(`${rebuildsBeyondOpen} key-index rebuilds beyond the first open`);
  if (metricSum(aMetricsText, 'floe_commit_failures_total') > 0) checks.push(`commit failures: ${metricSum(aMetricsText, 'floe_commit_failures_total')} (retried)`);

  const catchUps = a.catchUps.map((c) => c.fields as { dataFilesAdded: number; dataFilesRemoved: number; deleteFilesAdded: number; filesRead: number; rowsRead: number; sweeps: number; ms: number; manifestsRead: number });
  const changed = (c: (typeof catchUps)[number]) => c.dataFilesAdded + c.dataFilesRemoved + c.deleteFilesAdded;
  const withChanges = catchUps.filter((c) => changed(c) > 0);
  const afterSpark = a.catchUps.filter((c) => foreignAt > 0 && c.at > foreignAt).map((c) => c.fields as (typeof catchUps)[number]).sort((x, y) => changed(y) - changed(x))[0];
  const totalMs = withChanges.reduce((s, c) => s + c.ms, 0);
  const totalFiles = withChanges.reduce((s, c) => s + changed(c), 0);
  const totalRows = withChanges.reduce((s, c) => s + c.rowsRead, 0);
  const runs = a.maintained.map((m) => m.fields as { ms: number; steps: { step: string; outcome: string; filesIn?: number; filesOut?: number }[] });
  const rewrites = runs.flatMap((r) => r.steps.filter((s) => s.step === 'rewrite-data-files' && s.outcome === 'ok'));

  const scan = (engine: string, t: string) => scans.find((s) => s.engine === engine && s.table === t)?.full_scan_ms ?? Number.NaN;
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  out(`## Table maintenance: ${produced.toLocaleString('en')} upserts and deletes at ${RATE}/s, commits every ${COMMIT_INTERVAL_MS / 1000} s, background maintenance every ${MAINT_INTERVAL_MS / 1000} s`);
  out();
  out(`Source: ${KEYS.toLocaleString('en')} keys, ${model.rows.size.toLocaleString('en')} live rows at the end, ${PARTITIONS} Kafka partitions, the table partitioned by region (4 values). Streamed in ${streamS.toFixed(0)} s; ${a.commits.length} floe commit cycles (maintained), ${a.maintained.length} maintenance runs (${rewrites.length} with a data-file rewrite, ${rewrites.reduce((s, r) => s + (r.filesIn ?? 0), 0)} files in, ${rewrites.reduce((s, r) => s + (r.filesOut ?? 0), 0)} out), the last ${finalRun !== undefined ? `${Math.round((finalRun.fields.ms as number) / 100) / 10} s long` : 'NOT finished after the stream'}.${SPARK_FOREIGN ? ` Spark halfway: rewrite_data_files ${foreignResults[0]?.ok === true ? 'ok' : 'failed'} (try ${foreignResults[0]?.tries ?? 0}, ${Math.round((foreignResults[0]?.ms ?? 0) / 1000)} s${foreignResults[0]?.ok === true ? `: ${foreignResults[0].out}` : ''}), expire_snapshots(retain_last 5) ${foreignResults[1]?.ok === true ? 'ok' : 'failed'}; failed tries: ${foreignResults.filter((f) => f.tries > 1 || !f.ok).map((f) => f.out.slice(0, 200)).join(' / ') || 'none'}.` : ''}`);
  out();
  out('| table | data files | partitions | max files / partition | MB min / p10 / p50 / p90 / max | MB total | delete files | manifests | snapshots | DuckDB full scan ms | Spark full scan ms | DuckDB × compacted | Spark × compacted |');
  out('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of tables) {
    const s = stats.get(t)!;
    const label = t === maintained ? 'maintained (floe, background maintenance)' : t === compacted ? 'compacted (Spark, rewrite-all)' : 'raw (floe, maintenance off)';
    const d = scan('duckdb', t);
    const sp = scan('spark', t);
    out(`| ${label} | ${s.dataFiles} | ${s.partitions} | ${s.maxFilesPerPartition} | ${s.mb.min} / ${s.mb.p10} / ${s.mb.p50} / ${s.mb.p90} / ${s.mb.max} | ${s.mb.total} | ${s.deleteFiles} | ${s.manifests} | ${s.snapshots} | ${d} | ${sp} | ${(d / scan('duckdb', compacted)).toFixed(2)} | ${(sp / scan('spark', compacted)).toFixed(2)} |`);
  }
  out();
  out(`Key index (maintained): ${metricSum(aMetricsText, 'floe_index_rebuilds_total')} builds (${rebuildsBeyondOpen} beyond the first open), ${metricSum(aMetricsText, 'floe_index_catchups_total')} catch-ups; ${withChanges.length} with changed files: ${totalFiles} files changed (${withChanges.reduce((s, c) => s + c.dataFilesAdded, 0)} data added, ${withChanges.reduce((s, c) => s + c.dataFilesRemoved, 0)} removed, ${withChanges.reduce((s, c) => s + c.deleteFilesAdded, 0)} delete files added), ${totalRows.toLocaleString('en')} keys read, ${totalMs} ms in all: ${(totalMs / Math.max(1, totalFiles)).toFixed(1)} ms per changed file, ${((totalMs * 1000) / Math.max(1, totalRows)).toFixed(2)} µs per key read (median catch-up ${quantile(withChanges.map((c) => c.ms), 0.5)} ms).`);
  if (afterSpark !== undefined) out(`Largest catch-up after halfway: ${changed(afterSpark)} files changed (${afterSpark.dataFilesAdded} added, ${afterSpark.dataFilesRemoved} removed, ${afterSpark.deleteFilesAdded} deletes), ${afterSpark.rowsRead.toLocaleString('en')} keys read, ${afterSpark.sweeps} sweeps, ${afterSpark.ms} ms.`);
  out(`A full build of the final table's index: ${fullBuild.keys.toLocaleString('en')} keys in ${fullBuild.ms} ms (${((fullBuild.ms * 1000) / Math.max(1, fullBuild.keys)).toFixed(2)} µs per key).`);
  out(`The raw table's files are what the stream alone leaves (a data file and a delete file per commit and partition). Commit cycle p50 ${quantile(a.commits.map((c) => c.ms), 0.5)} ms, p99 ${quantile(a.commits.map((c) => c.ms), 0.99)} ms (maintained).`);
  out();
  out(checks.length === 0 ? `Checks: every table reads ${model.rows.size.toLocaleString('en')} rows and the source's sum(score) in DuckDB and Spark; 0 rebuilds beyond open; 0 failed Spark calls.` : `CHECKS FAILED:\n${checks.map((c) => `- ${c}`).join('\n')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (a.problems.length > 0) say(`${a.problems.length} warnings/errors in the maintained floe's log (first: ${a.problems[0]?.slice(0, 300)})`);
  if (checks.length > 0) process.exitCode = 1;
}

await main();
