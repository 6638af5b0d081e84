// Crash test: floe runs as a child process and is killed with SIGKILL at many random moments (startup, mid-consume, in a commit cycle, right after a commit, and through a catalog proxy exactly before or after a table commit lands, i.e. between two tables' commits and before the Kafka offset commit) while Debezium events keep arriving, then restarted; at the end it catches up, stops gracefully on SIGTERM, and Spark and DuckDB read every table (one of them a v3 table with deletion vectors) equal to the source state: no duplicate keys, no missing rows.
// Replay a run with FLOE_CRASH_SEED=<seed> (printed at the start); FLOE_CRASH_ROUNDS sets the number of kills (default 10).
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Catalog } from '../../src/catalog/catalog.js';
import { storedOffsets } from '../../src/commit/offsets.js';
import { DebeziumGenerator, Rng } from '../../src/demo/debezium-generator.js';
import { FloeError } from '../../src/errors.js';
import { expectedLines } from '../support/cdc-expected.js';
import { CatalogTap, FloeProcess, groupProgress, producePaced, type TapEvent } from '../support/floe-process.js';
import { env, integration, readWithEngine, restCatalog, skipReason, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');
const prefix = `crash${run}`;
const ns = `c${run}_shop`;
const tables = ['customers', 'orders', 'order_items'] as const;
const keyColumns: Record<string, readonly string[]> = { customers: ['id'], orders: ['id'], order_items: ['order_id', 'line_no'] };
const partitions = 4;
const seed = process.env.FLOE_CRASH_SEED !== undefined && process.env.FLOE_CRASH_SEED !== '' ? Number(process.env.FLOE_CRASH_SEED) : randomInt(1, 2 ** 31 - 1);
const rounds = Number(process.env.FLOE_CRASH_ROUNDS ?? 10);
const shutdownTimeoutMs = 15_000;
const catchUpTimeoutMs = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function say(line: string): void {
  // The seed and kill moments must be visible in any test output, so a failing run can be replayed.
  process.stdout.write(`# [crash] ${line}\n`);
}

/** floe's config file (JSON, same shape as the in-process pipeline test's); secrets come from the environment. */
function configFile(dir: string, name: string, brokers: string, groupId: string, intervalMs: number, catalogUri: string): string {
  const cfg = {
    kafka: {
      brokers,
      groupId,
      // Static membership, as in the StatefulSet deployment: a restarted process takes its predecessor's place
      // in the group at once instead of waiting for the killed member's session to expire.
      groupInstanceId: `${groupId}-0`,
      topicPattern: `^${prefix}\\..*`,
      deadLetterTopic: `${prefix}-dlq`,
      properties: { 'session.timeout.ms': 6000 },
    },
    catalog: {
      type: 'rest',
      uri: catalogUri,
      warehouse: env('FLOE_REST_WAREHOUSE'),
      auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
    },
    s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
    route: { pattern: `c${run}_{db}.{table}` },
    // A low merge threshold makes manifest merging run many times under the engines' eyes.
    // customers is a v3 table: its deletes are deletion vectors, merged at each commit (also across kills).
    tables: { defaults: { properties: { 'commit.manifest.min-count-to-merge': '3' } }, overrides: { [`${ns}.orders`]: { partitionBy: ['region'] }, [`${ns}.customers`]: { formatVersion: 3 } } },
    // SeaweedFS accepts only Iceberg's metadata file types under a table: deletion vectors go to metadata/*.stats.
    commit: { intervalMs, targetFileSizeBytes: 8 * 1024 * 1024, deletionVectorFiles: 'metadata/*.stats' },
    metrics: { port: 0 }, // an ephemeral port: floe processes of other tests may run at the same time
    shutdown: { timeoutMs: shutdownTimeoutMs },
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(cfg, null, 2));
  return path;
}

type KillPlan =
  /** a random moment after the spawn: startup, group join, table loads, mid-consume or mid-commit */
  | { kind: 'delay'; ms: number }
  /** just after the n-th `committed` line: tables and group offsets committed, next window barely started */
  | { kind: 'after-commit'; n: number; ms: number }
  /** aimed into the commit cycle after the n-th `committed` line: sealing, uploading, committing */
  | { kind: 'in-commit'; n: number; fraction: number }
  /** when the n-th table commit request reaches the catalog, before it is applied: files uploaded, no snapshot */
  | { kind: 'table-commit-sent'; n: number }
  /** once the catalog applied the n-th table commit, before floe hears back: that table is ahead of the other tables and of the group offsets */
  | { kind: 'table-commit-landed'; n: number };

const kinds: readonly KillPlan['kind'][] = ['delay', 'after-commit', 'in-commit', 'table-commit-sent', 'table-commit-landed'];

/** Kill plans for `count` rounds: every kind equally often (shuffled), random parameters. */
function planKills(rng: Rng, count: number): KillPlan[] {
  const order = Array.from({ length: count }, (_, i) => kinds[i % kinds.length] as KillPlan['kind']);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as KillPlan['kind'], order[i] as KillPlan['kind']];
  }
  return order.map((kind): KillPlan => {
    switch (kind) {
      case 'delay': return { kind, ms: 500 + rng.int(4000) };
      case 'after-commit': return { kind, n: 1 + rng.int(3), ms: rng.int(60) };
      case 'in-commit': return { kind, n: 1 + rng.int(3), fraction: rng.next() };
      // Three tables commit per cycle: n in 1..7 covers the first, middle and last table of the first cycles.
      case 'table-commit-sent': return { kind, n: 1 + rng.int(7) };
      case 'table-commit-landed': return { kind, n: 1 + rng.int(7) };
    }
  });
}

/**
 * Where a kill left things: per table, the partitions whose offsets stored in the table's snapshot summary are
 * ahead of the group's committed offsets (the kill fell after that table's commit and before the Kafka offset
 * commit, so the next run must skip what the table already holds), or `absent` before the table was created.
 */
async function crashState(catalog: Catalog, brokers: string, groupId: string, topics: readonly string[]): Promise<Map<string, number | 'absent'>> {
  const progress = await groupProgress(brokers, groupId, topics, partitions);
  const out = new Map<string, number | 'absent'>();
  for (const t of tables) {
    try {
      const loaded = await catalog.loadTable({ namespace: [ns], name: t });
      const stored = storedOffsets(loaded.metadata, groupId);
      let ahead = 0;
      for (const [topic, byPartition] of Object.entries(stored)) {
        for (const [p, offset] of Object.entries(byPartition)) if (offset > (progress.get(`${topic}/${p}`)?.committed ?? 0)) ahead++;
      }
      out.set(t, ahead);
    } catch (e) {
      if (!(e instanceof FloeError && e.code === 'catalog_not_found')) throw e;
      out.set(t, 'absent');
    }
  }
  return out;
}

interface TableDiff {
  missing: string[];
  extra: string[];
  duplicateKeys: string[];
}

function keyOf(table: string, line: string): string {
  const row = JSON.parse(line) as Record<string, unknown>;
  return (keyColumns[table] ?? []).map((k) => `${k}=${String(row[k])}`).join(',');
}

function diff(table: string, got: readonly string[], want: readonly string[]): TableDiff {
  const wantSet = new Set(want);
  const gotSet = new Set(got);
  const seen = new Map<string, number>();
  for (const l of got) seen.set(keyOf(table, l), (seen.get(keyOf(table, l)) ?? 0) + 1);
  return {
    missing: want.filter((l) => !gotSet.has(l)),
    extra: got.filter((l) => !wantSet.has(l)),
    duplicateKeys: [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} (×${n})`),
  };
}

describe('crash: floe killed with SIGKILL at random moments and restarted loses and duplicates nothing', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed, withSchema: true, keySpace: 300 });
  // Plans, bursts and intervals from one stream (replayed exactly by the seed); pauses, whose count depends on
  // timing, from another.
  const rng = new Rng(seed ^ 0x5bd1e995);
  const pauseRng = new Rng(seed ^ 0x27d4eb2f);
  const groupId = `crash${run}`;
  const topics = tables.map((t) => `${prefix}.shop.${t}`);
  const live = new Set<FloeProcess>();
  const killLog: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), `floe-crash-${run}-`));
  let spark: EngineOutput;
  let duckdb: EngineOutput;
  let final: FloeProcess;
  let finalStopMs = 0;
  let events = 0;
  let killsAfterCommit = 0;
  let commitsTotal = 0;
  let killsWithTableAhead = 0;
  const catalog = restCatalog();
  const tap = new CatalogTap(new URL(env('FLOE_REST_URI')));
  let tapUri = '';

  const spawnFloe = (name: string, intervalMs: number): FloeProcess => {
    const p = new FloeProcess(configFile(dir, name, brokers, groupId, intervalMs, tapUri), { ...process.env, FLOE_LOG_LEVEL: 'info' });
    live.add(p);
    void p.exited.then(() => live.delete(p));
    return p;
  };

  before(async () => {
    const t0 = Date.now();
    say(`seed=${seed} rounds=${rounds} run=${run} (replay: FLOE_CRASH_SEED=${seed})`);
    await createTopics(brokers, [...topics, `${prefix}-dlq`], partitions);
    tapUri = await tap.start();
    const plans = planKills(rng, rounds);
    let seq = 0;

    for (let round = 1; round <= rounds; round++) {
      const pre = 300 + rng.int(900);
      const intervalMs = 300 + rng.int(401);
      const plan = plans[round - 1] as KillPlan;
      events += (await producePaced(brokers, gen, pre, seq, { chunk: 500, pauseMs: 0 })).events;
      seq += pre;

      const p = spawnFloe(`round-${round}`, intervalMs);
      // Events keep arriving while floe runs (bursts of 150 steps every 300-600 ms, until the kill), so kills also
      // land mid-consume of fresh data and every commit cycle has work. The pauses exceed floe's consume timeout
      // (200 ms): a batch ends only at such a gap or at consume.batchMax records, so a steady trickle would
      // stretch commit cycles far beyond commit.intervalMs (see the report on node-rdkafka's consume(n)).
      let killed = false;
      const producing = producePaced(brokers, gen, 100_000, seq, { chunk: 150, pauseMs: () => 300 + pauseRng.int(300), stop: () => killed });

      let aimedMs: number | string;
      let tapped: TapEvent | null = null;
      if (plan.kind === 'table-commit-sent' || plan.kind === 'table-commit-landed') {
        tap.arm(plan.n, plan.kind === 'table-commit-sent' ? 'before-forward' : 'after-commit', () => p.kill('SIGKILL'));
        await p.until(() => false, 30_000);
        tapped = tap.disarm();
        if (tapped === null) {
          p.kill('SIGKILL');
          await p.exited;
          killed = true;
          await producing;
          throw new Error(`round ${round}: floe did not send table commit #${plan.n} within 30 s (exit ${JSON.stringify(p.exit)}, seed ${seed}):\n${p.tail()}`);
        }
        aimedMs = `at ${tapped.table} commit${tapped.withOffsets ? '' : ' (no offsets)'}${tapped.status === null ? ' (not forwarded)' : ` (catalog answered ${tapped.status})`}`;
      } else if (plan.kind === 'delay') {
        aimedMs = plan.ms;
        await sleep(aimedMs - p.elapsed());
      } else {
        const reached = await p.until(() => p.commits.length >= plan.n, 30_000);
        const c = p.commits[plan.n - 1];
        if (!reached || c === undefined) {
          p.kill('SIGKILL');
          await p.exited;
          killed = true;
          await producing;
          throw new Error(`round ${round}: floe did not log commit #${plan.n} within 30 s (seed ${seed}):\n${p.tail()}`);
        }
        const wait = plan.kind === 'after-commit' ? plan.ms : Math.round(intervalMs + plan.fraction * Math.max(50, Number(c.ms ?? 0) * 1.3));
        aimedMs = c.at + wait;
        await sleep(aimedMs - p.elapsed());
      }
      if (p.exit !== null && tapped === null) {
        killed = true;
        await producing;
        throw new Error(`round ${round}: floe exited on its own (code ${p.exit.code}, signal ${p.exit.signal}) before the kill (seed ${seed}):\n${p.tail()}`);
      }
      const killedAt = p.exit?.at ?? p.elapsed();
      p.kill('SIGKILL');
      const exit = await p.exited;
      killed = true;
      const during = await producing;
      events += during.events;
      seq += during.steps;
      const commits = p.commits;
      if (commits.length > 0) killsAfterCommit++;
      commitsTotal += commits.length;
      const lastCommit = commits.at(-1);
      const assigned = p.lines.find((l) => l.msg === 'partitions assigned');
      const state = await crashState(catalog, brokers, groupId, topics);
      if ([...state.values()].some((v) => v !== 'absent' && v > 0)) killsWithTableAhead++;
      if (plan.kind === 'table-commit-landed' && tapped !== null && tapped.withOffsets) {
        // The catalog applied that commit, so the table now holds offsets the group has not committed.
        assert.equal(tapped.status, 200, `round ${round}: catalog answered ${tapped.status}`);
        assert.ok(Number(state.get(tapped.table)) > 0, `round ${round}: ${tapped.table} landed a commit but holds no offsets ahead of the group: ${JSON.stringify([...state])}`);
      }
      const line =
        `round ${round}: ${JSON.stringify(plan)} interval=${intervalMs}ms produced=${pre}+${during.steps} steps, killed at ${killedAt} ms (aimed ${aimedMs}), ` +
        `assigned at ${assigned?.at ?? '-'} ms, after ${commits.length} commits (last at ${lastCommit?.at ?? '-'} ms, took ${String(lastCommit?.ms ?? '-')} ms), exit signal ${exit.signal}; ` +
        `partitions with table offsets ahead of the group: ${[...state].map(([t, v]) => `${t}=${v}`).join(' ')}`;
      killLog.push(line);
      say(line);
      assert.equal(exit.signal, 'SIGKILL', `round ${round}: ${p.tail()}`);
      const errors = p.lines.filter((l) => l.level === 'error');
      assert.deepEqual(errors, [], `round ${round}: floe logged errors before the kill (seed ${seed})`);
    }

    // Last run: a last burst to consume, catch up (the group's committed offsets reach the end of every
    // partition), then a graceful stop.
    events += (await producePaced(brokers, gen, 500, seq, { chunk: 500, pauseMs: 0 })).events;
    seq += 500;
    final = spawnFloe('final', 500);
    const deadline = Date.now() + catchUpTimeoutMs;
    // SIGTERM only once floe runs its loop (before that, node's default action would end it without a shutdown).
    assert.ok(await final.until(() => final.commits.length > 0, catchUpTimeoutMs), `final run did not commit (seed ${seed}):\n${final.tail()}`);
    let behind = Infinity;
    while (Date.now() < deadline && final.exit === null) {
      const progress = await groupProgress(brokers, groupId, topics, partitions);
      behind = [...progress.values()].reduce((a, x) => a + (x.end - x.committed), 0);
      if (behind === 0) break;
      await sleep(500);
    }
    assert.equal(final.exit, null, `final run exited on its own (seed ${seed}):\n${final.tail()}`);
    assert.equal(behind, 0, `final run did not catch up within ${catchUpTimeoutMs} ms: ${behind} records behind (seed ${seed}):\n${final.tail()}`);
    const stopAt = Date.now();
    final.kill('SIGTERM');
    const stopped = await Promise.race([final.exited, new Promise<null>((r) => setTimeout(() => r(null), shutdownTimeoutMs + 10_000))]);
    finalStopMs = Date.now() - stopAt;
    if (stopped === null) final.kill('SIGKILL');
    commitsTotal += final.commits.length;
    say(`final run: caught up at ${final.elapsed() - finalStopMs} ms after ${final.commits.length} commits; SIGTERM → exit ${JSON.stringify(stopped)} in ${finalStopMs} ms`);
    say(`${events} events in Kafka, ${rounds} kills (${killsAfterCommit} after at least one commit of that process), ${commitsTotal} commit cycles logged, ${killsWithTableAhead} kills between a table commit and the offset commit; workload took ${Math.round((Date.now() - t0) / 1000)} s`);

    const names = tables.map((t) => `${ns}.${t}`);
    [spark, duckdb] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names)]);
  });

  after(async () => {
    for (const p of live) p.kill('SIGKILL');
    await Promise.all([...live].map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
    await catalog.close();
    await tap.stop();
  });

  it('every kill landed while floe was running, and most after it had committed', () => {
    assert.equal(killLog.length, rounds);
    assert.ok(killsAfterCommit >= Math.ceil(rounds / 3), `only ${killsAfterCommit} of ${rounds} kills came after a commit`);
    if (rounds >= kinds.length) assert.ok(killsWithTableAhead >= 1, 'no kill fell between a table commit and the offset commit');
  });

  it('the final run stops gracefully on SIGTERM: exit code 0 within the shutdown timeout', () => {
    assert.deepEqual(final.exit === null ? null : { code: final.exit.code, signal: final.exit.signal }, { code: 0, signal: null }, final.tail());
    assert.ok(finalStopMs <= shutdownTimeoutMs, `stopped in ${finalStopMs} ms`);
    assert.ok(final.lines.some((l) => l.msg === 'stopped'), final.tail());
    assert.deepEqual(final.lines.filter((l) => l.level === 'error'), []);
  });

  it('the group offsets are at the end of every partition after the stop', async () => {
    const progress = await groupProgress(brokers, groupId, topics, partitions);
    for (const [tp, x] of progress) assert.equal(x.committed, x.end, tp);
  });

  for (const t of tables) {
    for (const engine of ['spark', 'duckdb'] as const) {
      it(`${engine} reads ${t} equal to the source table: no duplicate keys, no missing rows`, () => {
        const out = engine === 'spark' ? spark : duckdb;
        assert.equal(out.failure, undefined, out.failure);
        const got = out.tables.get(`${ns}.${t}`);
        assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
        const want = expectedLines(gen, t);
        assert.ok(want.length > 50, 'the workload leaves rows');
        const d = diff(t, got, want);
        const report =
          `seed ${seed}, table ${ns}.${t} (${engine}): ${got.length} rows read, ${want.length} expected; ` +
          `${d.missing.length} missing, ${d.extra.length} extra, duplicate keys: ${d.duplicateKeys.slice(0, 20).join(' ') || 'none'}\n` +
          `missing keys: ${d.missing.slice(0, 20).map((l) => keyOf(t, l)).join(' ')}\nextra keys: ${d.extra.slice(0, 20).map((l) => keyOf(t, l)).join(' ')}\n` +
          `kills:\n${killLog.join('\n')}`;
        assert.deepEqual(d, { missing: [], extra: [], duplicateKeys: [] }, report);
        assert.deepEqual(got, want);
      });
    }
  }
});
