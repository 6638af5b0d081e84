/**
 * The side-by-side comparison (issue 7): the same Debezium topics, on the same broker and machine, loaded into
 * Iceberg tables on the same REST catalog and S3 by floe and by its peers, each measured as the OS sees it
 * (CPU seconds and peak RSS of the process tree, wall time from launch to the last committed snapshot), and each
 * final table checked against the source state by an independent reader, so a fast wrong answer cannot win.
 *
 *   node dist/native-bench/compare.bench.js [--events N] [--systems floe,flink,kafka-connect] [--out FILE.md]
 * (scripts/compare.sh starts the services and installs the peers; `npm run bench:compare`).
 *
 * Workloads: `cdc` (30/60/10 % c/u/d, Zipf keys: floe and Flink SQL) and `insert` (new keys only: floe and the
 * Iceberg Kafka Connect sink, which cannot upsert). Messages carry the JsonConverter schema block.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Kafka from 'node-rdkafka';
import { readWithEngine, restCatalog, harnessCatalogSections } from '../test/support/harness.js';
import { currentSnapshot } from '../src/iceberg/table-metadata.js';
import { createTopics, loadWorkload, type Workload, type WorkloadTable } from './workload.js';
import { measure, type TreeUsage } from './measure.js';
import { fetchCeiling } from './fetch.bench.js';
import { compareTable } from './correctness.js';

const execFileP = promisify(execFile);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const EVENTS = Number(arg('events', '400000'));
const SYSTEMS = arg('systems', 'floe,flink,kafka-connect').split(',');
const OUT = arg('out', `native-bench/results/${new Date().toISOString().slice(0, 10)}.md`);
const RUN_TIMEOUT_S = Number(arg('timeout', '900'));
const JUDGE = arg('judge', 'duckdb') as 'duckdb' | 'spark';
const OFFSET_POLL_MS = 500;
const STOP_TIMEOUT_MS = 60_000;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP ?? '';
if (brokers === '') throw new Error('set FLOE_KAFKA_BOOTSTRAP and the catalog env (scripts/compare.sh does)');

interface PeerReport {
  readonly system: string;
  readonly version?: string;
  readonly config?: string;
  readonly columns?: Record<string, string>;
  readonly notes?: string;
}

interface TableStats {
  readonly snapshots: number;
  readonly dataFiles: number;
  readonly deleteFiles: number;
  readonly bytes: number;
}

interface RunResult {
  readonly system: string;
  readonly mix: Workload['mix'];
  /** `small` runs (a quarter of the events) give, with the `full` run, the steady-state cost: ΔCPU / Δevents. */
  readonly size: 'small' | 'full';
  readonly namespace: string;
  readonly ok: boolean;
  readonly failure?: string;
  readonly wallSeconds: number;
  readonly usage: TreeUsage;
  readonly report: PeerReport;
  readonly tables: Record<string, TableStats>;
  correct?: { passed: boolean; detail: string };
}

const run = Date.now().toString(36).slice(-5);
const work = join(tmpdir(), `floe-compare-${run}`);

/** High watermarks of every partition of the workload's topics. */
async function endOffsets(w: Workload): Promise<{ topic: string; partition: number; offset: number }[]> {
  const c = new Kafka.KafkaConsumer({ 'group.id': `compare-probe-${run}`, 'metadata.broker.list': brokers, 'enable.auto.commit': false }, {});
  await new Promise<void>((res, rej) => c.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  const out: { topic: string; partition: number; offset: number }[] = [];
  for (const t of w.tables) {
    for (let p = 0; p < w.partitions; p++) {
      const wm = await new Promise<{ highOffset: number }>((res, rej) => {
        c.queryWatermarkOffsets(t.topic, p, 10_000, (e, o: { highOffset: number }) => {
          if (e) rej(new Error(e.message));
          else res(o);
        });
      });
      out.push({ topic: t.topic, partition: p, offset: wm.highOffset });
    }
  }
  await new Promise<void>((res) => c.disconnect(() => res()));
  return out;
}

/**
 * True once `group` has committed every partition's end offset: floe commits Kafka offsets only after the Iceberg
 * snapshot holding them landed, so this is "everything is in the tables". The probe only reads offsets (it assigns
 * nothing and never joins the group), so it cannot trigger a rebalance.
 */
async function groupCaughtUp(probe: Kafka.KafkaConsumer, ends: readonly { topic: string; partition: number; offset: number }[]): Promise<boolean> {
  const committed = await new Promise<Kafka.TopicPartitionOffset[]>((res, rej) =>
    probe.committed(ends.map((e) => ({ topic: e.topic, partition: e.partition })), 10_000, (e, tp) => (e ? rej(new Error(e.message)) : res(tp))),
  );
  return ends.every((e) => (committed.find((c) => c.topic === e.topic && c.partition === e.partition)?.offset ?? -1) >= e.offset);
}

async function runFloe(w: Workload, ns: string, dir: string): Promise<Omit<RunResult, 'tables' | 'size'>> {
  const group = `floe-${ns}`;
  const dlq = `${ns}-dlq`;
  await createTopics(brokers, [{ topic: dlq, partitions: 1 }]);
  const cfgFile = join(dir, 'floe.json');
  await writeFile(
    cfgFile,
    JSON.stringify({
      kafka: { brokers, groupId: group, topics: w.tables.map((t) => t.topic), deadLetterTopic: dlq },
      ...harnessCatalogSections(),
      route: { pattern: `${ns}.{table}` },
      commit: { intervalMs: 10_000 },
      metrics: { enabled: false },
    }),
  );
  const ends = await endOffsets(w);
  const probe = new Kafka.KafkaConsumer({ 'group.id': group, 'metadata.broker.list': brokers, 'enable.auto.commit': false }, {});
  await new Promise<void>((res, rej) => probe.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  const m = measure(process.execPath, [resolve('dist/src/cli/main.js'), 'run', '--config', cfgFile], { env: { ...process.env, FLOE_LOG_LEVEL: 'warn' } });
  let exited = false;
  void m.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + RUN_TIMEOUT_S * 1000;
  let caughtUp = false;
  while (!exited && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, OFFSET_POLL_MS));
    if (await groupCaughtUp(probe, ends)) {
      caughtUp = true;
      break;
    }
  }
  await new Promise<void>((res) => probe.disconnect(() => res()));
  // the wall time ends at the last commit; the graceful stop after it is still counted in CPU
  const t1 = process.hrtime.bigint();
  if (!exited) m.signal('SIGTERM');
  const killer = setTimeout(() => m.kill(), STOP_TIMEOUT_MS);
  const r = await m.exited;
  clearTimeout(killer);
  const stopSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  await writeFile(join(dir, 'floe.stderr'), m.stderr());
  const failure = caughtUp ? undefined : exited ? `floe exited (${r.code ?? r.signal}) before committing everything: ${m.stderr().slice(-2000)}` : `timed out after ${RUN_TIMEOUT_S} s`;
  return {
    system: 'floe',
    mix: w.mix,
    namespace: ns,
    ok: caughtUp,
    ...(failure !== undefined ? { failure } : {}),
    wallSeconds: r.wallSeconds - stopSeconds,
    usage: r.usage,
    report: { system: 'floe', version: `floe ${await gitRev()}`, config: 'defaults: 1 process, commit.intervalMs 10 s, merge-on-write position deletes (format v2)' },
  };
}

async function gitRev(): Promise<string> {
  try {
    return (await execFileP('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
  } catch (e) {
    return `(no git: ${(e as Error).message.slice(0, 40)})`;
  }
}

async function runPeer(system: string, w: Workload, ns: string, dir: string, workloadFile: string): Promise<Omit<RunResult, 'tables' | 'size'>> {
  const script = resolve('native-bench/peers', system, 'run.sh');
  const pidFile = join(dir, 'pids');
  const m = measure('bash', [script], {
    pidFile,
    env: { ...process.env, BENCH_WORKLOAD: workloadFile, BENCH_KAFKA_BOOTSTRAP: brokers, BENCH_NAMESPACE: ns, BENCH_WORK_DIR: dir, BENCH_TIMEOUT_S: String(RUN_TIMEOUT_S) },
  });
  const killer = setTimeout(() => m.kill(), (RUN_TIMEOUT_S + 120) * 1000);
  const r = await m.exited;
  clearTimeout(killer);
  await writeFile(join(dir, 'run.stderr'), m.stderr());
  const last = m.stdout().trim().split('\n').pop() ?? '';
  let report: PeerReport = { system };
  try {
    report = JSON.parse(last) as PeerReport;
  } catch {
    // no report line: the run failed before it could print one; the failure below says why
  }
  const ok = r.code === 0;
  return {
    system,
    mix: w.mix,
    namespace: ns,
    ok,
    ...(ok ? {} : { failure: `exit ${r.code ?? r.signal}: ${m.stderr().trim().split('\n').slice(-8).join(' | ')}` }),
    wallSeconds: r.wallSeconds,
    usage: r.usage,
    report,
  };
}

async function tableStats(ns: string, tables: readonly WorkloadTable[]): Promise<Record<string, TableStats>> {
  const catalog = restCatalog();
  const out: Record<string, TableStats> = {};
  for (const t of tables) {
    try {
      const lt = await catalog.loadTable({ namespace: [ns], name: t.table });
      let dataFiles = 0;
      let deleteFiles = 0;
      for (const s of lt.metadata.snapshots) {
        dataFiles += Number(s.summary['added-data-files'] ?? 0);
        deleteFiles += Number(s.summary['added-delete-files'] ?? 0);
      }
      out[t.table] = { snapshots: lt.metadata.snapshots.length, dataFiles, deleteFiles, bytes: Number(currentSnapshot(lt.metadata)?.summary['total-files-size'] ?? 0) };
    } catch (e) {
      out[t.table] = { snapshots: 0, dataFiles: 0, deleteFiles: 0, bytes: 0 };
      process.stderr.write(`[compare] ${ns}.${t.table}: ${(e as Error).message}\n`);
    }
  }
  return out;
}

async function checkTables(results: RunResult[], workloads: Map<string, Workload>): Promise<void> {
  for (const r of results) {
    if (!r.ok) {
      r.correct = { passed: false, detail: 'did not finish' };
      continue;
    }
    const w = workloads.get(`${r.mix}/${r.size}`) as Workload;
    const problems: string[] = [];
    let rows = 0;
    for (const t of w.tables) {
      // one reader process per table: a whole run's rows in one process outgrew the reader's output buffer
      const name = `${r.namespace}.${t.table}`;
      const out = await readWithEngine(JUDGE, [name]);
      const got = out.tables.get(name);
      if (out.failure !== undefined || !Array.isArray(got)) {
        problems.push(`${t.table}: ${out.failure ?? (got === undefined ? 'not read' : (got as { unsupported: string }).unsupported)}`);
        continue;
      }
      rows += got.length;
      const expected = (await readFile(t.expectedFile, 'utf8')).split('\n').filter((l) => l !== '');
      const d = compareTable(t, expected, got, r.report.columns ?? {});
      if (d.missing + d.wrong + d.extra > 0) problems.push(`${t.table}: ${d.missing} missing, ${d.extra} extra or duplicate, ${d.wrong} differing${d.example !== '' ? ` (${d.example})` : ''}`);
    }
    r.correct = { passed: problems.length === 0, detail: problems.length === 0 ? `${rows} rows equal the source (${JUDGE})` : problems.join('; ') };
  }
}

// ------------------------------------------------------------------------------------------ report ---

const perM = (cpu: number, events: number): number => (cpu / events) * 1e6;

/** CPU seconds per million events once started: the difference between the full and the small run. */
function steady(full: RunResult, small: RunResult | undefined, workloads: Map<string, Workload>): number | null {
  const wf = workloads.get(`${full.mix}/full`);
  const ws = workloads.get(`${full.mix}/small`);
  if (small === undefined || !small.ok || !full.ok || wf === undefined || ws === undefined || wf.events <= ws.events) return null;
  return ((full.usage.cpuSeconds - small.usage.cpuSeconds) / (wf.events - ws.events)) * 1e6;
}

interface Stages {
  readonly withSchema: boolean;
  readonly usPerEvent: Record<string, number>;
  readonly stageSumUsPerEvent: number;
}

function markdown(results: RunResult[], workloads: Map<string, Workload>, stages: Stages | null, fetchUs: number | null): string {
  const lines: string[] = [];
  lines.push(`# floe vs peers, ${new Date().toISOString().slice(0, 16)}Z`, '');
  lines.push(`Command: \`npm run bench:compare\` (EVENTS=${EVENTS}). One broker (Kafka 3.9, KRaft), one REST catalog + S3 (SeaweedFS), one machine: ${process.env.BENCH_MACHINE ?? ''}.`);
  lines.push('Each system is measured as a process tree from launch (startup included) to its last committed snapshot: CPU = user + system seconds of every process, RSS = the tree\'s peak. Each system runs the workload twice, at a quarter of the events and at all of them (separate topics, the same generator): **steady-state CPU** = (CPU of the full run − CPU of the small run) / (the difference in events), the cost per event once started, which is what a long-running deployment pays; **total** includes startup (JVM, planning, connector start). Every final table of both runs is read back by an independent reader and compared, row by row and column by column, with the source state.', '');
  for (const [key, w] of workloads) {
    if (!key.endsWith('/full')) continue;
    lines.push(`- \`${w.mix}\` workload: ${w.events.toLocaleString('en-US')} Debezium events (c/u/d ${w.ops.c ?? 0}/${w.ops.u ?? 0}/${w.ops.d ?? 0}) into 3 tables of 13 columns, ${(w.bytes / w.events).toFixed(0)} bytes per event with the schema block, ${w.partitions} partitions per topic, uncompressed batches.`);
  }
  lines.push('', '| system | workload | events/s | MB/s | CPU s per M events, steady state | CPU s per M events, total | peak RSS MB | wall s | snapshots | files written (data + delete) | correct |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    if (r.size !== 'full') continue;
    const w = workloads.get(`${r.mix}/full`) as Workload;
    const small = results.find((x) => x.system === r.system && x.mix === r.mix && x.size === 'small');
    const marginal = steady(r, small, workloads);
    const snaps = Object.values(r.tables).reduce((a, t) => a + t.snapshots, 0);
    const data = Object.values(r.tables).reduce((a, t) => a + t.dataFiles, 0);
    const del = Object.values(r.tables).reduce((a, t) => a + t.deleteFiles, 0);
    const cells = r.ok
      ? [(w.events / r.wallSeconds).toFixed(0), (w.bytes / 1e6 / r.wallSeconds).toFixed(1), marginal !== null ? marginal.toFixed(1) : '—', perM(r.usage.cpuSeconds, w.events).toFixed(1), (r.usage.peakRssBytes / 1048576).toFixed(0), r.wallSeconds.toFixed(1), String(snaps), `${data} + ${del}`]
      : ['—', '—', '—', '—', '—', '—', '—', '—'];
    const bad = [r, small].filter((x) => x !== undefined && x.correct?.passed !== true).map((x) => `${x?.size ?? ''} run: ${x?.correct?.detail ?? x?.failure ?? ''}`);
    lines.push(`| ${r.system} | ${r.mix} | ${cells.join(' | ')} | ${bad.length === 0 ? 'yes' : `**no**: ${bad.join('; ')}`} |`);
  }
  const find = (s: string, mix: string) => results.find((r) => r.system === s && r.mix === mix && r.size === 'full' && r.ok && r.correct?.passed === true);
  const ratios: string[] = [];
  for (const [peer, mix] of [['flink', 'cdc'], ['kafka-connect', 'insert'], ['spark', 'cdc']] as const) {
    const f = find('floe', mix);
    const p = find(peer, mix);
    const w = workloads.get(`${mix}/full`);
    if (f === undefined || p === undefined || w === undefined) continue;
    const fs = steady(f, results.find((x) => x.system === 'floe' && x.mix === mix && x.size === 'small'), workloads);
    const ps = steady(p, results.find((x) => x.system === peer && x.mix === mix && x.size === 'small'), workloads);
    ratios.push(
      `- ${mix}: ${peer} uses ${fs !== null && ps !== null ? `${(ps / fs).toFixed(1)}× floe's CPU per event in steady state (${ps.toFixed(1)} vs ${fs.toFixed(1)} CPU s per M events) and ` : ''}${(p.usage.cpuSeconds / f.usage.cpuSeconds).toFixed(1)}× in total for ${w.events.toLocaleString('en-US')} events (${perM(p.usage.cpuSeconds, w.events).toFixed(1)} vs ${perM(f.usage.cpuSeconds, w.events).toFixed(1)}); floe finished ${(p.wallSeconds / f.wallSeconds).toFixed(1)}× sooner.`,
    );
  }
  if (ratios.length > 0) lines.push('', '## Ratios', '', ...ratios);
  lines.push('', '## How each system was configured', '');
  for (const r of results.filter((x) => x.size === 'full')) lines.push(`- **${r.system}** (${r.mix}): ${r.report.version ?? ''}. ${r.report.config ?? ''}${r.report.notes !== undefined ? ` ${r.report.notes}` : ''}${r.failure !== undefined ? ` Failure: ${r.failure}` : ''}`);
  lines.push('', '## Where floe\'s time goes', '');
  if (stages !== null) {
    lines.push(`Stage ceilings (\`native-bench/stages.bench.ts\`, the same generator and column mix, ${stages.withSchema ? 'with' : 'without'} the schema block; CPU µs per event, median of 3), and the Kafka fetch ceiling (\`native-bench/fetch.bench.ts\`: floe's KafkaSource reading the cdc topics and doing nothing else):`, '');
    lines.push('| stage | CPU µs per event |', '|---|---|');
    for (const [k, v] of Object.entries(stages.usPerEvent)) lines.push(`| ${k} | ${v} |`);
    lines.push(`| **stage sum** (decode + window + seal zstd) | **${stages.stageSumUsPerEvent}** |`);
    if (fetchUs !== null) lines.push(`| kafka fetch (node-rdkafka) | ${fetchUs.toFixed(2)} |`);
    const f = results.find((r) => r.system === 'floe' && r.mix === 'cdc' && r.size === 'full' && r.ok);
    const e2e = f !== undefined ? steady(f, results.find((x) => x.system === 'floe' && x.mix === 'cdc' && x.size === 'small'), workloads) : null;
    if (e2e !== null) {
      lines.push('', `floe end to end on the cdc workload, steady state: ${e2e.toFixed(1)} CPU µs per event = ${(e2e / stages.stageSumUsPerEvent).toFixed(2)}× the stage sum${fetchUs !== null ? `; stage sum + fetch = ${(stages.stageSumUsPerEvent + fetchUs).toFixed(1)} µs, leaving ${(e2e - stages.stageSumUsPerEvent - fetchUs).toFixed(1)} µs for routing, commits (uploads, manifests) and garbage collection of the long-lived heap` : ''}.`);
    }
  } else {
    lines.push('(stage ceilings not measured in this run)');
  }
  lines.push('');
  lines.push('![chart](' + OUT.replace(/^.*\//, '').replace(/\.md$/, '.png') + ')', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  const mixes = new Map<Workload['mix'], string[]>([
    ['cdc', SYSTEMS.filter((s) => s === 'floe' || s === 'flink' || s === 'spark')],
    ['insert', SYSTEMS.filter((s) => s === 'floe' || s === 'kafka-connect')],
  ]);
  const workloads = new Map<string, Workload>();
  const results: RunResult[] = [];
  for (const [mix, systems] of mixes) {
    if (systems.length === 0) continue;
    for (const size of ['small', 'full'] as const) {
      const dir = join(work, `${mix}-${size}`);
      const t0 = Date.now();
      const events = size === 'full' ? EVENTS : Math.max(1000, Math.floor(EVENTS / 4));
      const w = await loadWorkload({ brokers, prefix: `cmp${run}${mix}${size}`, events, mix, withSchema: true, out: dir });
      workloads.set(`${mix}/${size}`, w);
      process.stderr.write(`[compare] ${mix}/${size}: loaded ${w.events} events (${(w.bytes / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      for (const system of systems) {
        const ns = `${system.replace(/-/g, '_')}_${mix}_${size}_${run}`;
        const runDir = join(work, `${system}-${mix}-${size}`);
        await mkdir(runDir, { recursive: true });
        if (system !== 'floe' && !existsSync(resolve('native-bench/peers', system, 'run.sh'))) throw new Error(`no peer ${system}: native-bench/peers/${system}/run.sh`);
        process.stderr.write(`[compare] ${system} × ${mix}/${size} → ${ns} ...\n`);
        const r = system === 'floe' ? await runFloe(w, ns, runDir) : await runPeer(system, w, ns, runDir, join(dir, 'workload.json'));
        results.push({ ...r, size, tables: await tableStats(ns, w.tables) });
        process.stderr.write(`[compare] ${system} × ${mix}/${size}: ${r.ok ? 'done' : `FAILED: ${r.failure ?? ''}`} in ${r.wallSeconds.toFixed(1)} s, ${r.usage.cpuSeconds.toFixed(1)} CPU s, ${(r.usage.peakRssBytes / 1048576).toFixed(0)} MB\n`);
      }
    }
  }
  await checkTables(results, workloads);
  const stagesFile = process.env.BENCH_STAGES_JSON;
  const stages = stagesFile !== undefined && existsSync(stagesFile) ? (JSON.parse((await readFile(stagesFile, 'utf8')).trim().split('\n').pop() ?? 'null') as Stages | null) : null;
  const cdc = workloads.get('cdc/full');
  let fetchUs: number | null = null;
  if (cdc !== undefined && SYSTEMS.includes('floe')) {
    fetchUs = (await fetchCeiling(brokers, cdc.tables.map((t) => t.topic), cdc.events)).cpuMicrosPerEvent;
  }
  await mkdir(resolve(OUT, '..'), { recursive: true });
  await writeFile(OUT, markdown(results, workloads, stages, fetchUs));
  const json = OUT.replace(/\.md$/, '.json');
  await writeFile(
    json,
    JSON.stringify(
      results
        .filter((r) => r.size === 'full')
        .map((r) => {
          const w = workloads.get(`${r.mix}/full`) as Workload;
          const small = results.find((x) => x.system === r.system && x.mix === r.mix && x.size === 'small');
          return {
            system: r.system,
            mix: r.mix,
            ok: r.ok,
            correct: r.correct?.passed === true && small?.correct?.passed === true,
            events: w.events,
            wallSeconds: r.wallSeconds,
            eventsPerSecond: w.events / r.wallSeconds,
            cpuSecondsPerMillion: perM(r.usage.cpuSeconds, w.events),
            steadyCpuSecondsPerMillion: steady(r, small, workloads),
            peakRssMB: r.usage.peakRssBytes / 1048576,
          };
        }),
      null,
      2,
    ),
  );
  process.stdout.write(`${await readFile(OUT, 'utf8')}\n[compare] wrote ${OUT} and ${json}\n`);
  // ~200 MB of state per run (expected rows, Flink checkpoints, worker logs): kept only when a run needs a look
  if (results.every((r) => r.ok && r.correct?.passed === true)) await rm(work, { recursive: true, force: true });
  else process.stderr.write(`[compare] logs and state of the runs kept in ${work}\n`);
  if (results.some((r) => r.system === 'floe' && r.correct?.passed !== true)) process.exitCode = 1;
}

await main();
