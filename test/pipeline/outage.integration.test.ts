// Outage test (issue 13, item 1): a catalog + S3 outage during streaming is ridden out without the process exiting. Three floe replicas (static group members, child processes) stream a keyed update stream with hot keys (three tables, six partitions each, produced at a steady rate) into a private SeaweedFS (REST catalog + S3, started by this test through test/harness/seaweed.sh, never the shared one); before the outages two replicas are SIGKILLed and restarted at once and one is killed and rejoins after its session expired (rebalances). Then SeaweedFS is stopped twice while events keep arriving: once with a table commit held in flight at a catalog proxy (files uploaded, commit not landed) — the 60-s outage of the requirement — and once around a rebalance (a replica is killed and another one starts while the catalog is down). After each outage SeaweedFS comes back with its data, the stream goes on, every replica catches up, and Spark, DuckDB and pyiceberg read every table equal to the source state.
// Asserted besides the tables: no floe process exited on its own (above all not during an outage), /readyz answered 503 during each outage and 200 after it, and the metric floe_outage_seconds was > 0 during each outage.
// The data stream is replayed by FLOE_OUTAGE_SEED=<seed> (printed at the start); the outage lengths are FLOE_OUTAGE_MS (the in-commit one, default 60000) and FLOE_OUTAGE_REBALANCE_MS (default 30000); FLOE_TEST_LOG_DIR=<dir> keeps every replica's output.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { expectedLines } from '../support/cdc-expected.js';
import { CatalogProxy } from '../support/fault-proxy.js';
import { FloeProcess, groupProgress, producePaced, type LogLine } from '../support/floe-process.js';
import { assertEngineRows, integration, readWithEngine, restCatalog, skipReason, type Engine, type EngineOutput } from '../support/harness.js';
import { createTopics, kafkaBrokers } from '../support/kafka.js';
import { ReplicaSet, type Replica } from '../support/replicas.js';
import { OwnSeaweed } from '../support/services.js';

/**
 * The outage budget (`commit.retry.maxElapsedMs`, default 15 min): how long floe keeps retrying a commit through
 * an outage before it gives up. Set explicitly, well above both outages. The key belongs to the outage rework
 * (issue 13); floe's config validation ignores keys it does not know, so it is accepted before and after it lands.
 */
const COMMIT_RETRY_MAX_ELAPSED_MS = 300_000;
/** The metric the outage rework adds: seconds the current catalog/S3 outage has lasted (> 0 while one lasts). */
const OUTAGE_METRIC = 'floe_outage_seconds';

const run = randomBytes(3).toString('hex');
const prefix = `outage${run}`;
const ns = `o${run}_shop`;
const groupId = `outage${run}`;
const tables = ['customers', 'orders', 'order_items'] as const;
const topics = tables.map((t) => `${prefix}.shop.${t}`);
const partitions = 6;
const seed = process.env.FLOE_OUTAGE_SEED !== undefined && process.env.FLOE_OUTAGE_SEED !== '' ? Number(process.env.FLOE_OUTAGE_SEED) : randomInt(1, 2 ** 31 - 1);
const inCommitOutageMs = Number(process.env.FLOE_OUTAGE_MS ?? 60_000);
const rebalanceOutageMs = Number(process.env.FLOE_OUTAGE_REBALANCE_MS ?? 30_000);
const intervalMs = 2000;
const sessionTimeoutMs = 6000;
const shutdownTimeoutMs = 30_000;
const engines: readonly Engine[] = ['spark', 'duckdb', 'pyiceberg'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function say(line: string): void {
  process.stdout.write(`# [outage] ${line}\n`);
}

interface Outage {
  readonly label: string;
  /**
   * wall clock: stop requested (SeaweedFS refuses connections from here on, though its process may take up to
   * 20 s to exit), SeaweedFS down (stop returned), start requested, SeaweedFS ready again
   */
  stopAt: number;
  downAt: number;
  upStartAt: number;
  upAt: number;
  /** replicas running when the stop was requested that the test did not end itself: each must ride the outage out */
  through: Replica[];
}

const holds = (p: FloeProcess): boolean => p.lines.some((l) => l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0);
/** `committed` lines logged after a wall-clock instant. */
const commitsSince = (p: FloeProcess, wall: number): LogLine[] => p.commits.filter((l) => p.t0 + l.at > wall);

describe('outage: a catalog + S3 outage during streaming is ridden out by every replica without exiting', { skip: integration && kafkaBrokers !== undefined ? false : skipReason }, () => {
  const brokers = kafkaBrokers ?? '';
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed, withSchema: true, keySpace: 400 });
  const dir = mkdtempSync(join(tmpdir(), `floe-outage-${run}-`));
  let seaweed: OwnSeaweed | null = null;
  let proxy: CatalogProxy | null = null;
  let proxyUri = '';
  /** Armed: the next table commit carrying offsets is held at the proxy until `release` settles. */
  let holdNext: { release: Promise<void>; held: (table: string) => void } | null = null;
  let heldCommit: { table: string; at: number; releasedAt: number } | null = null;
  const set = new ReplicaSet((name) => spawnFloe(name), say, OUTAGE_METRIC);
  const outages: Outage[] = [];
  /** How far the scenario got, and why it stopped when it did not finish. */
  const reached = new Set<string>();
  let stoppedBecause: string | null = null;
  let producedSteps = 0;
  let producedEvents = 0;
  let behind = Infinity;
  const snapshotsBefore = new Map<string, string>();
  const snapshotsAfter = new Map<string, string>();
  const reads = new Map<Engine, EngineOutput>();
  const stops = new Map<string, { code: number | null; signal: string | null; ms: number }>();
  const t0 = Date.now();

  function spawnFloe(name: string): FloeProcess {
    const sw = seaweed as OwnSeaweed;
    const cfg = {
      kafka: {
        brokers, groupId, groupInstanceId: name, topicPattern: `^${prefix}\\..*`, deadLetterTopic: `${prefix}-dlq`,
        // A killed static member keeps its partitions until its session expires.
        properties: { 'session.timeout.ms': sessionTimeoutMs },
      },
      catalog: {
        type: 'rest', uri: proxyUri, warehouse: sw.clientEnv.FLOE_REST_WAREHOUSE,
        auth: { type: 'sigv4', signingName: sw.clientEnv.FLOE_REST_SIGNING_NAME, region: sw.clientEnv.FLOE_REST_SIGNING_REGION, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      },
      s3: { endpoint: sw.s3Endpoint, region: sw.clientEnv.FLOE_S3_REGION, pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
      route: { pattern: `o${run}_{db}.{table}` },
      tables: { overrides: { [`${ns}.orders`]: { partitionBy: ['region'] }, [`${ns}.customers`]: { formatVersion: 3 } } },
      commit: { intervalMs, deletionVectorFiles: 'metadata/*.stats', retry: { maxElapsedMs: COMMIT_RETRY_MAX_ELAPSED_MS } },
      metrics: { port: 0 },
      shutdown: { timeoutMs: shutdownTimeoutMs },
    };
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(cfg, null, 2));
    return new FloeProcess(path, { ...process.env, ...sw.clientEnv, FLOE_LOG_LEVEL: 'info' });
  }

  /** Waits until `pred` holds; throws (naming `what`) after `timeoutMs` or when a replica exited on its own or crashed. */
  async function waitFor(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (set.unexpected.length > 0) throw new Error(`stopped waiting for ${what}: ${set.unexpected.map((u) => u.name).join(', ')} exited on its own`);
      if (set.hung().length > 0) throw new Error(`stopped waiting for ${what}: ${set.hung().map((r) => r.name).join(', ')} crashed without exiting`);
      if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${set.live().map((r) => `${r.name}: ${r.proc.tail(5)}`).join('\n')}`);
      await sleep(100);
    }
  }

  /** Ends the phase: none of the replicas may have exited on its own or crashed. */
  function phaseDone(name: string): void {
    if (set.unexpected.length > 0) throw new Error(`replicas exited on their own: ${set.unexpected.map((u) => `${u.name} during "${u.phase}"`).join(', ')}`);
    if (set.hung().length > 0) throw new Error(`replicas crashed without exiting: ${set.hung().map((r) => r.name).join(', ')}`);
    reached.add(name);
    say(`${name}: done at ${Math.round((Date.now() - t0) / 1000)} s`);
  }

  async function tableSnapshots(into: Map<string, string>): Promise<void> {
    const sw = seaweed as OwnSeaweed;
    const catalog = restCatalog({ uri: sw.restUri });
    try {
      for (const t of tables) into.set(t, String((await catalog.loadTable({ namespace: [ns], name: t })).metadata.currentSnapshotId));
    } finally {
      await catalog.close();
    }
  }

  /** SeaweedFS down for `ms` (from the stop request); `during` runs meanwhile (from the stop's return); the window is recorded. */
  async function outage(label: string, ms: number, onDown: () => void, during: (stopAt: number) => Promise<void>): Promise<Outage> {
    const sw = seaweed as OwnSeaweed;
    set.phase = label;
    const o: Outage = { label, stopAt: Date.now(), downAt: 0, upStartAt: 0, upAt: 0, through: [] };
    outages.push(o);
    const running = set.live();
    await sw.stop();
    o.downAt = Date.now();
    onDown();
    say(`${label}: SeaweedFS stopped (${o.downAt - o.stopAt} ms); down for ${ms} ms`);
    try {
      await during(o.stopAt);
      // Ends early only when no replica is left to ride it out.
      while (Date.now() < o.stopAt + ms && set.live().length > 0) await sleep(200);
    } finally {
      o.upStartAt = Date.now();
      o.through = running.filter((r) => !r.expectedExit);
      await sw.start();
      o.upAt = Date.now();
      set.phase = `after ${label}`;
      say(`${label}: SeaweedFS back ${o.upAt - o.stopAt} ms after the stop request (start took ${o.upAt - o.upStartAt} ms); replicas running: ${set.live().map((r) => r.name).join(', ') || 'none'}`);
    }
    return o;
  }

  async function scenario(): Promise<void> {
    // 1. Three replicas on a steady stream.
    set.phase = 'start';
    for (const n of ['floe-0', 'floe-1', 'floe-2']) set.start(n);
    await waitFor('three replicas holding partitions and committing', () => ['floe-0', 'floe-1', 'floe-2'].every((n) => {
      const r = set.get(n);
      return r !== undefined && holds(r.proc) && r.proc.commits.length > 0;
    }), 120_000);
    phaseDone('start');

    // 2. SIGKILLs and rebalances before the outages, on the three replicas at once: floe-1 right after a commit
    //    of its own and floe-2 inside its next commit cycle (both restarted at once: static members take their
    //    place back without a rebalance), floe-0 back only after its session expired (its partitions move to the
    //    others and back: rebalances).
    set.phase = 'kills and rebalances';
    const [r0, r1, r2] = (['floe-0', 'floe-1', 'floe-2'] as const).map((n) => set.get(n) as Replica) as [Replica, Replica, Replica];
    const killedAt = Date.now();
    await Promise.all([
      (async () => {
        const n = r1.proc.commits.length;
        await waitFor('a commit of floe-1', () => r1.proc.commits.length > n, 30_000);
        await set.kill(r1, 'SIGKILL');
        set.start('floe-1');
      })(),
      (async () => {
        const n = r2.proc.commits.length;
        await waitFor('a commit of floe-2', () => r2.proc.commits.length > n, 30_000);
        await sleep(intervalMs + randomInt(intervalMs / 2));
        await set.kill(r2, 'SIGKILL');
        set.start('floe-2');
      })(),
      (async () => {
        await set.kill(r0, 'SIGKILL');
        await sleep(sessionTimeoutMs + 3000);
        set.start('floe-0');
      })(),
    ]);
    say(`SIGKILLed floe-1 after a commit, floe-2 in a commit cycle (both restarted at once), floe-0 (restarted after ${sessionTimeoutMs + 3000} ms)`);
    await waitFor('the three restarted replicas holding partitions and committing', () => set.live().length === 3 && set.live().every((r) => holds(r.proc) && r.proc.commits.length > 0), 120_000);
    const revoked = (r: Replica): boolean => r.proc.lines.some((l) => l.msg === 'partitions revoked: uncommitted changes rewound' && Array.isArray(l.partitions) && l.partitions.length > 0);
    await waitFor('a rebalance (partitions revoked from a running replica)', () => set.all.some((r) => r.startedAt >= killedAt && revoked(r)), 60_000);
    await waitFor('every replica ready', () => set.live().every((r) => set.samples.some((x) => x.pid === r.proc.pid && x.ready === 200)), 30_000);
    phaseDone('kills and rebalances');

    await tableSnapshots(snapshotsBefore);
    // 3. The outage of the requirement, with a table commit in flight: its files are uploaded, the commit is held
    //    at the proxy while SeaweedFS stops, then forwarded into the outage (the client's connection drops).
    let release = (): void => {};
    const released = new Promise<void>((r) => (release = r));
    const held = new Promise<string>((resolve) => (holdNext = { release: released, held: resolve }));
    const table = await Promise.race([held, sleep(30_000).then(() => null)]);
    if (table === null) {
      holdNext = null;
      throw new Error('no table commit reached the catalog proxy within 30 s');
    }
    heldCommit = { table, at: Date.now(), releasedAt: 0 };
    say(`a commit of ${table} is held at the catalog proxy; stopping SeaweedFS`);
    await outage('outage in a commit', inCommitOutageMs, () => {
      release();
      (heldCommit as { releasedAt: number }).releasedAt = Date.now();
    }, async () => {});
    await tableSnapshots(snapshotsAfter);
    const upAt1 = (outages[0] as Outage).upAt;
    await waitFor('every replica committing after the outage', () => set.live().every((r) => commitsSince(r.proc, upAt1).length > 0), 120_000);
    phaseDone('outage in a commit');

    // 4. An outage around a rebalance: a replica is killed while the catalog is down and restarted (as Kubernetes
    //    would) only after its session expired: its partitions move to the others and back, both while the catalog
    //    is down, and it starts up during the outage.
    await sleep(5000);
    await outage('outage at a rebalance', rebalanceOutageMs, () => {}, async (stopAt) => {
      await sleep(stopAt + 5000 - Date.now());
      const victim = set.get('floe-2');
      if (victim === undefined) return;
      await set.kill(victim, 'SIGKILL');
      say('floe-2 SIGKILLed during the outage');
      await sleep(stopAt + Math.max(5000 + sessionTimeoutMs + 3000, rebalanceOutageMs / 2) - Date.now());
      set.start('floe-2');
      say('floe-2 restarted during the outage, after its session expired');
    });
    const upAt2 = (outages[1] as Outage).upAt;
    await waitFor('every replica committing after the second outage', () => set.live().every((r) => holds(r.proc) && commitsSince(r.proc, upAt2).length > 0), 120_000);
    phaseDone('outage at a rebalance');
  }

  before(async () => {
    say(`seed=${seed} run=${run} (replay the data: FLOE_OUTAGE_SEED=${seed}); outages ${inCommitOutageMs} + ${rebalanceOutageMs} ms`);
    seaweed = await OwnSeaweed.create(`outage-${run}`);
    say(`own SeaweedFS: ${seaweed.dir}, S3 ${seaweed.s3Endpoint}, catalog ${seaweed.restUri}; started in ${await seaweed.start()} ms`);
    proxy = new CatalogProxy(new URL(seaweed.restUri), (commit) => {
      const h = holdNext;
      if (h === null || !commit.body.includes('floe.kafka.offsets')) return {};
      holdNext = null;
      h.held(commit.table);
      return { hold: h.release };
    }, { upstreamError: 'hangup' });
    proxyUri = await proxy.start();
    await createTopics(brokers, [...topics, `${prefix}-dlq`], partitions);
    set.startMonitor(500);

    producedEvents += (await producePaced(brokers, gen, 1500, 0, { chunk: 500, pauseMs: 0 })).events;
    producedSteps = 1500;
    // Events keep arriving through everything below: 25 steps every 250 ms. One producer at a time: the model's
    // order of changes to a key is the order they reach its partition.
    let stopProducing = false;
    const producing = producePaced(brokers, gen, 10_000_000, 1500, { chunk: 25, pauseMs: 250, stop: () => stopProducing });
    try {
      await scenario();
      await sleep(3000);
    } catch (e) {
      stoppedBecause = e instanceof Error ? e.message : String(e);
      say(`scenario stopped: ${stoppedBecause}`);
    } finally {
      stopProducing = true;
      const p = await producing;
      producedSteps += p.steps;
      producedEvents += p.events;
      set.phase = 'catch-up';
    }
    say(`${producedEvents} events produced (${producedSteps} steps)`);
    if (stoppedBecause !== null) return;

    // 5. Every replica consumes and commits everything, then stops on SIGTERM.
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && set.unexpected.length === 0 && set.hung().length === 0) {
        const progress = await groupProgress(brokers, groupId, topics, partitions);
        behind = [...progress.values()].reduce((n, x) => n + (x.end - x.committed), 0);
        if (behind === 0) break;
        await sleep(500);
      }
      if (behind !== 0) throw new Error(`the group did not catch up within 120 s: ${behind} records behind`);
      await set.stopMonitor();
      await Promise.all(set.live().map(async (r) => {
        const at = Date.now();
        const exit = await Promise.race([set.kill(r, 'SIGTERM'), sleep(shutdownTimeoutMs + 10_000).then(() => null)]);
        if (exit === null) await set.kill(r, 'SIGKILL');
        stops.set(`${r.name} (pid ${r.proc.pid})`, { code: exit === null ? null : exit.code, signal: exit === null ? 'timeout' : exit.signal, ms: Date.now() - at });
      }));
      reached.add('caught up');
      say(`caught up; stopped: ${JSON.stringify([...stops])}; workload took ${Math.round((Date.now() - t0) / 1000)} s`);
      const names = tables.map((t) => `${ns}.${t}`);
      const outs = await Promise.all(engines.map((e) => readWithEngine(e, names, { env: (seaweed as OwnSeaweed).clientEnv })));
      engines.forEach((e, i) => reads.set(e, outs[i] as EngineOutput));
      say(`read back with ${engines.join(', ')}; ${Math.round((Date.now() - t0) / 1000)} s in all`);
    } catch (e) {
      stoppedBecause = e instanceof Error ? e.message : String(e);
      say(`stopped: ${stoppedBecause}`);
    }
  });

  after(async () => {
    await set.stopMonitor();
    await set.killAll();
    // FLOE_TEST_LOG_DIR=<dir> keeps every replica's output (<dir>/<name>-<pid>.log)
    if (process.env.FLOE_TEST_LOG_DIR !== undefined && process.env.FLOE_TEST_LOG_DIR !== '') set.writeLogs(join(process.env.FLOE_TEST_LOG_DIR, `outage-${run}`));
    await proxy?.stop();
    await seaweed?.remove();
    rmSync(dir, { recursive: true, force: true });
    say(`${Math.round((Date.now() - t0) / 1000)} s in all`);
  });

  const notReached = (what: string): string => `not reached: ${what} (the scenario stopped: ${stoppedBecause ?? 'no reason recorded'})`;

  it('before the outages: three replicas commit; SIGKILLs with restarts and a replica back after its session expired (rebalances)', () => {
    assert.ok(reached.has('kills and rebalances'), notReached('kills and rebalances'));
  });

  it('a table commit was in flight (files uploaded, held at the catalog proxy) when SeaweedFS stopped, and went out into the outage', () => {
    assert.ok(heldCommit !== null, notReached('the held commit'));
    assert.ok(heldCommit.releasedAt >= (outages[0]?.downAt ?? Infinity), JSON.stringify(heldCommit));
    assert.ok((outages[0]?.upAt ?? 0) > 0, 'SeaweedFS was not started again');
  });

  it(`SeaweedFS stopped for the planned time and came back with its data: the catalog lists every table at the snapshot it had`, () => {
    const o = outages[0];
    assert.ok(o !== undefined && o.upAt > 0, notReached('the first outage'));
    assert.ok(o.upStartAt - o.stopAt >= inCommitOutageMs - 1000 || set.unexpected.length > 0, `down only ${o.upStartAt - o.stopAt} ms`);
    assert.equal(snapshotsBefore.size, tables.length, notReached('the snapshots before the outage'));
    assert.equal(snapshotsAfter.size, tables.length, notReached('the snapshots after the outage'));
    // a commit the outage interrupted may land after the restart, never a lost table or snapshot
    for (const t of tables) assert.notEqual(snapshotsAfter.get(t), 'null', t);
  });

  it('no floe process exited during the outages (only the ones the test SIGKILLed)', () => {
    assert.ok(outages.length > 0, notReached('the outages'));
    const during = set.unexpected.filter((u) => outages.some((o) => u.at >= o.stopAt && u.at <= (o.upAt || Infinity)));
    assert.deepEqual(
      during.map((u) => ({ name: u.name, code: u.exit.code, signal: u.exit.signal, phase: u.phase })), [],
      `exited during an outage:\n${during.map((u) => `${u.name} (${u.phase}):\n${u.tail}`).join('\n\n')}`,
    );
  });

  it('no floe process exited on its own at any other time', () => {
    const other = set.unexpected.filter((u) => !outages.some((o) => u.at >= o.stopAt && u.at <= (o.upAt || Infinity)));
    assert.deepEqual(other.map((u) => ({ name: u.name, code: u.exit.code, signal: u.exit.signal, phase: u.phase })), [], other.map((u) => `${u.name}:\n${u.tail}`).join('\n\n'));
  });

  it('no floe process crashed without exiting (an uncaught exception, then a hang)', () => {
    const hung = set.hung();
    assert.deepEqual(hung.map((r) => r.name), [], hung.map((r) => `${r.name} (pid ${r.proc.pid}):\n${r.proc.other.slice(-12).join('\n')}`).join('\n\n'));
  });

  it('/readyz answered 503 during each outage on every replica that ran through it, and 200 again after it', () => {
    assert.equal(outages.length, 2, notReached('both outages'));
    for (const o of outages) {
      assert.ok(o.through.length > 0, `${o.label}: no replica ran through it`);
      for (const r of o.through) {
        const during = set.samplesOf(r, o.stopAt, o.upStartAt);
        assert.ok(during.some((s) => s.ready === 503), `${o.label}: ${r.name} never answered 503 on /readyz during it: ${JSON.stringify(during.map((s) => s.ready))}`);
        const afterIt = set.samplesOf(r, o.upAt, Infinity);
        assert.ok(afterIt.some((s) => s.ready === 200), `${o.label}: ${r.name} never ready again after it: ${JSON.stringify(afterIt.map((s) => s.ready))}`);
      }
    }
  });

  it(`${OUTAGE_METRIC} was > 0 during each outage on every replica that ran through it`, () => {
    assert.equal(outages.length, 2, notReached('both outages'));
    for (const o of outages) {
      assert.ok(o.through.length > 0, `${o.label}: no replica ran through it`);
      for (const r of o.through) {
        const values = set.samplesOf(r, o.stopAt, o.upAt).map((s) => s.metric);
        assert.ok(values.some((v) => v !== null && v > 0), `${o.label}: ${r.name}: ${OUTAGE_METRIC} during it: ${JSON.stringify(values)}`);
      }
    }
  });

  it('after the outages every replica committed, the group caught up (offsets at the end of every partition) and SIGTERM stopped each one with exit 0', () => {
    assert.ok(reached.has('caught up'), notReached('the catch-up'));
    assert.equal(behind, 0);
    for (const [name, s] of stops) assert.deepEqual({ code: s.code, signal: s.signal }, { code: 0, signal: null }, `${name} stopped after ${s.ms} ms`);
  });

  for (const t of tables) {
    for (const engine of engines) {
      it(`${engine} reads ${t} equal to the source table`, () => {
        const out = reads.get(engine);
        assert.ok(out !== undefined, notReached(`the ${engine} read`));
        const want = expectedLines(gen, t);
        assert.ok(want.length > 50, 'the workload leaves rows');
        assertEngineRows(engine, out, `${ns}.${t}`, want);
      });
    }
  }
});
