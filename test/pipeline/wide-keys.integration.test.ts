// Proves that keys outside int64 (BIGINT UNSIGNED as decimal(20,0) with bigint.unsigned.handling.mode=precise, DECIMAL(38,0), and a composite key with a BIGINT UNSIGNED column) are upserted and deleted exactly on the real path MariaDB → Debezium → Kafka → floe (SIGKILLed and restarted mid-stream) → Iceberg: Spark, DuckDB and pyiceberg read every table equal to MariaDB, through position delete files (issue 22).
// Replay a run with FLOE_WIDE_KEYS_SEED=<seed> (printed at the start; the default seed is fixed).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { Rng } from '../../src/demo/debezium-generator.js';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { currentSchema } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { canonicalRows } from '../support/canonical.js';
import { FloeProcess, groupProgress } from '../support/floe-process.js';
import { env, readWithEngine, restCatalog, type EngineOutput } from '../support/harness.js';
import { createTopics, endOffsets } from '../support/kafka.js';
import { lit, mariadbPort, sql, tableRows } from '../support/mariadb.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const db = `wide_${run}`;
const prefix = `wk${run}`;
const connector = `floe-wide-keys-${run}`;
const ns = `w${run}_${db}`;
const groupId = `wk${run}`;
const dlq = `${prefix}-dlq`;
const seed = process.env.FLOE_WIDE_KEYS_SEED !== undefined && process.env.FLOE_WIDE_KEYS_SEED !== '' ? Number(process.env.FLOE_WIDE_KEYS_SEED) : 22;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP;
const skip = brokers === undefined || mariadbPort === undefined || process.env.FLOE_REST_URI === undefined
  ? 'CDC harness not running: needs FLOE_KAFKA_BOOTSTRAP, FLOE_MARIADB_PORT and FLOE_REST_URI (run `npm test`, which starts Kafka, MariaDB and SeaweedFS)'
  : false;
const commitIntervalMs = 500;
const shutdownTimeoutMs = 15_000;

const P63 = 2n ** 63n;
const P64 = 2n ** 64n;
const MAX38 = 10n ** 38n - 1n;

/**
 * Three tables whose keys an int64 cannot hold. Debezium (bigint.unsigned.handling.mode=precise,
 * decimal.handling.mode=precise) sends BIGINT UNSIGNED as Connect Decimal with precision 20 and DECIMAL(38,0) as
 * Decimal(38, 0): floe maps them to decimal(20,0) and decimal(38,0), whose values are bigints wider than 64 bits.
 */
const schemas: Record<string, Schema> = {
  ubig: schemaFromDecls([{ name: 'id', type: T.decimal(20, 0), required: true }, { name: 'n', type: T.int }, { name: 's', type: T.string }], ['id']),
  dec38: schemaFromDecls([{ name: 'id', type: T.decimal(38, 0), required: true }, { name: 'n', type: T.int }, { name: 's', type: T.string }], ['id']),
  combo: schemaFromDecls([
    { name: 'id', type: T.decimal(20, 0), required: true }, { name: 'tag', type: T.string, required: true }, { name: 'n', type: T.int }, { name: 's', type: T.string },
  ], ['id', 'tag']),
};
const tables = Object.keys(schemas);
const topics = tables.map((t) => `${prefix}.${db}.${t}`);

const ddl = `
CREATE DATABASE ${db} CHARACTER SET utf8mb4;
USE ${db};
CREATE TABLE ubig (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, n INT NULL, s VARCHAR(64) NULL);
CREATE TABLE dec38 (id DECIMAL(38,0) NOT NULL PRIMARY KEY, n INT NULL, s VARCHAR(64) NULL);
CREATE TABLE combo (id BIGINT UNSIGNED NOT NULL, tag VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, n INT NULL, s VARCHAR(64) NULL, PRIMARY KEY (id, tag));
`;

interface Key {
  readonly id: bigint;
  readonly tag?: string;
}
const keyText = (k: Key): string => (k.tag === undefined ? String(k.id) : `${k.id}|${k.tag}`);

/** Deterministic statements over keys around the int64 boundaries; tracks which keys are live in MariaDB. */
class Workload {
  readonly live = new Map<string, Map<string, Key>>(tables.map((t) => [t, new Map()]));
  readonly deleted = new Map<string, Map<string, Key>>(tables.map((t) => [t, new Map()]));
  constructor(readonly rng: Rng) {}

  pick<X>(xs: readonly X[]): X {
    return xs[this.rng.int(xs.length)]!;
  }
  /** A uniformly random BIGINT UNSIGNED: half of them at or above 2^63. */
  u64(): bigint {
    return (BigInt(this.rng.int(2 ** 32)) << 32n) | BigInt(this.rng.int(2 ** 32));
  }
  /** A DECIMAL(38,0) of 1..38 digits, either sign. */
  d38(): bigint {
    const len = 1 + this.rng.int(38);
    let digits = String(1 + this.rng.int(9));
    while (digits.length < len) digits += String(this.rng.int(10));
    return this.rng.next() < 0.5 ? -BigInt(digits) : BigInt(digits);
  }
  n(): string {
    const r = this.rng.next();
    if (r < 0.08) return 'NULL';
    if (r < 0.15) return this.pick(['2147483647', '-2147483648', '0']);
    return String(this.rng.int(2_000_000) - 1_000_000);
  }
  s(label: string): string {
    return this.rng.next() < 0.08 ? 'NULL' : lit(`${label} ${this.pick(['plain', 'Zoë', '李雷', '😀', "O'Brien", 'back\\slash'])} ${this.rng.int(1_000_000)}`);
  }
  shuffled<X>(xs: readonly X[]): X[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  liveKeys(t: string): Key[] {
    return [...this.live.get(t)!.values()];
  }
  where(k: Key): string {
    return k.tag === undefined ? `id = ${k.id}` : `id = ${k.id} AND tag = ${lit(k.tag)}`;
  }
  insert(t: string, k: Key, label: string): string {
    this.live.get(t)!.set(keyText(k), k);
    this.deleted.get(t)!.delete(keyText(k));
    return k.tag === undefined
      ? `INSERT INTO ${t} (id, n, s) VALUES (${k.id}, ${this.n()}, ${this.s(label)})`
      : `INSERT INTO ${t} (id, tag, n, s) VALUES (${k.id}, ${lit(k.tag)}, ${this.n()}, ${this.s(label)})`;
  }
  update(t: string, k: Key, label: string): string {
    return `UPDATE ${t} SET n = ${this.n()}, s = ${this.s(label)} WHERE ${this.where(k)}`;
  }
  /** One statement that changes every row of the table (one `u` event per row). */
  updateAll(t: string, label: string): string {
    return `UPDATE ${t} SET n = MOD(IFNULL(n, 0), 1000000) + ${1 + this.rng.int(9)}, s = ${lit(`${label} all ${this.rng.int(1_000_000)}`)}`;
  }
  delete(t: string, k: Key): string {
    this.live.get(t)!.delete(keyText(k));
    this.deleted.get(t)!.set(keyText(k), k);
    return `DELETE FROM ${t} WHERE ${this.where(k)}`;
  }
  /** A primary-key change: Debezium sends a delete (and tombstone) for the old key and a create for the new. */
  moveKey(t: string, from: Key, to: bigint): string {
    this.live.get(t)!.delete(keyText(from));
    this.deleted.get(t)!.set(keyText(from), from);
    this.live.get(t)!.set(keyText({ id: to }), { id: to });
    return `UPDATE ${t} SET id = ${to} WHERE id = ${from.id}`;
  }
}

function tx(statements: readonly string[]): string {
  return `USE ${db};\nSTART TRANSACTION;\n${statements.join(';\n')};\nCOMMIT;`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function say(line: string): void {
  process.stdout.write(`# [wide-keys] ${line}\n`);
}

function connectSh(args: string[], extraEnv: Record<string, string> = {}) {
  return exec('bash', ['test/harness/connect.sh', ...args], { env: { ...process.env, ...extraEnv }, timeout: 180_000 });
}

/** floe's config file; secrets come from the environment. */
function configFile(dir: string, name: string): string {
  const cfg = {
    kafka: {
      brokers,
      groupId,
      // Static membership: a restarted process takes its killed predecessor's place in the group at once.
      groupInstanceId: `${groupId}-0`,
      topicPattern: `^${prefix}\\.${db}\\..*`,
      deadLetterTopic: dlq,
      properties: { 'session.timeout.ms': 6000 },
    },
    catalog: {
      type: 'rest',
      uri: env('FLOE_REST_URI'),
      warehouse: env('FLOE_REST_WAREHOUSE'),
      auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
    },
    s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: '${AWS_ACCESS_KEY_ID}', secretAccessKey: '${AWS_SECRET_ACCESS_KEY}' },
    route: { pattern: `w${run}_{db}.{table}` },
    commit: { intervalMs: commitIntervalMs, targetFileSizeBytes: 8 * 1024 * 1024 },
    metrics: { port: 0 },
    shutdown: { timeoutMs: shutdownTimeoutMs },
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(cfg, null, 2));
  return path;
}

function keyOf(table: string, line: string): string {
  const row = JSON.parse(line) as Record<string, unknown>;
  return (table === 'combo' ? ['id', 'tag'] : ['id']).map((k) => `${k}=${String(row[k])}`).join(',');
}

/**
 * What an engine read against MariaDB's rows: rows of keys MariaDB deleted (lost deletes), other versions of keys
 * MariaDB has (lost updates: the old row stayed live), MariaDB's rows not read, and keys read more than once.
 */
function diff(table: string, got: readonly string[], want: readonly string[]): { deletedKeysLive: string[]; staleVersions: string[]; missing: string[]; duplicateKeys: string[] } {
  const wantSet = new Set(want);
  const gotSet = new Set(got);
  const wantKeys = new Set(want.map((l) => keyOf(table, l)));
  const extra = got.filter((l) => !wantSet.has(l));
  const seen = new Map<string, number>();
  for (const l of got) seen.set(keyOf(table, l), (seen.get(keyOf(table, l)) ?? 0) + 1);
  return {
    deletedKeysLive: extra.filter((l) => !wantKeys.has(keyOf(table, l))),
    staleVersions: extra.filter((l) => wantKeys.has(keyOf(table, l))),
    missing: want.filter((l) => !gotSet.has(l)),
    duplicateKeys: [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} (×${n})`),
  };
}

describe('wide keys: BIGINT UNSIGNED and DECIMAL(38,0) keys beyond int64, MariaDB → Debezium → Kafka → floe (killed and restarted) → Iceberg', { skip }, () => {
  const w = new Workload(new Rng(seed));
  const dir = skip === false ? mkdtempSync(join(tmpdir(), `floe-wide-keys-${run}-`)) : '';
  const live = new Set<FloeProcess>();
  const procs: FloeProcess[] = [];
  const kills: string[] = [];
  let connectStarted = false;
  let final: FloeProcess | null = null;
  let finalStopMs = 0;
  let behind = Infinity;
  let deadLetters = -1;
  let spark: EngineOutput = { tables: new Map(), sql: [] };
  let duckdb: EngineOutput = { tables: new Map(), sql: [] };
  let pyiceberg: EngineOutput = { tables: new Map(), sql: [] };
  const deleteKinds = new Map<string, string[]>();
  const expected = new Map<string, string[]>();
  const floeSchemas = new Map<string, Schema | { error: string }>();
  let statements = 0;

  const spawnFloe = (name: string): FloeProcess => {
    const p = new FloeProcess(configFile(dir, name), { ...process.env, FLOE_LOG_LEVEL: 'info' });
    live.add(p);
    procs.push(p);
    void p.exited.then(() => live.delete(p));
    return p;
  };

  const exec1 = async (batch: readonly string[]): Promise<void> => {
    await sql(tx(batch));
    statements += batch.length;
  };

  /**
   * Waits until Debezium's end offsets have not moved for `stableMs` (it published what MariaDB committed) and
   * the group's committed offsets equal them (floe committed it all); resolves with the records still behind.
   */
  const catchUp = async (p: FloeProcess, stableMs: number, timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    let lastEnd = -1;
    let since = Date.now();
    let lag = Infinity;
    while (Date.now() < deadline && p.exit === null) {
      const progress = await groupProgress(brokers!, groupId, topics, 1);
      const end = [...progress.values()].reduce((a, x) => a + x.end, 0);
      lag = [...progress.values()].reduce((a, x) => a + (x.end - x.committed), 0);
      if (end !== lastEnd) {
        lastEnd = end;
        since = Date.now();
      } else if (lag === 0 && Date.now() - since >= stableMs) return 0;
      await sleep(250);
    }
    return lag;
  };

  const mustCatchUp = async (p: FloeProcess, what: string): Promise<void> => {
    const lag = await catchUp(p, 1000, 60_000);
    assert.equal(lag, 0, `${what}: floe did not catch up within 60 s (${lag} records behind, seed ${seed}):\n${p.tail()}`);
  };

  /** Kills `p` with SIGKILL once `ready()` holds and `delayMs` more passed, while `work` (statements) still runs. */
  const killDuring = async (p: FloeProcess, label: string, ready: () => boolean, delayMs: number, work: Promise<void>): Promise<void> => {
    let working = true;
    const done = work.finally(() => {
      working = false;
    });
    const reached = await p.until(ready, 30_000);
    await sleep(delayMs);
    const streaming = working;
    const commits = p.commits.length;
    const exitedBefore = p.exit;
    p.kill('SIGKILL');
    const exit = await p.exited;
    await done;
    const line = `${label}: SIGKILL at ${exit.at} ms after ${commits} commits, statements still running: ${streaming}, exit ${JSON.stringify(exit)}`;
    kills.push(line);
    say(line);
    assert.ok(reached, `${label}: floe did not get there within 30 s (seed ${seed}):\n${p.tail()}`);
    assert.equal(exitedBefore, null, `${label}: floe exited on its own before the kill (seed ${seed}):\n${p.tail()}`);
    assert.equal(exit.signal, 'SIGKILL', p.tail());
  };

  /** Statements run as several transactions with pauses, so floe commits (and is killed) in the middle of them. */
  const paced = async (batches: readonly string[][], pauseMs: number): Promise<void> => {
    for (const b of batches) {
      await exec1(b);
      await sleep(pauseMs);
    }
  };

  before(async () => {
    const t0 = Date.now();
    say(`seed=${seed} run=${run} db=${db} (replay: FLOE_WIDE_KEYS_SEED=${seed})`);

    // Keys: the int64 and uint64 boundaries, values an int64 would alias (k and k ± 2^64 wrap to the same
    // 64 bits; 2^63 wraps to -2^63), the DECIMAL(38,0) extremes, and random keys across each type's range.
    const ubigKeys = [0n, 1n, 5n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, P63 - 2n, P63 - 1n, P63, P63 + 1n, P63 + 8n, P64 - 2n, P64 - 1n];
    for (let i = 0; i < 12; i++) ubigKeys.push(w.u64());
    const decKeys = [0n, 1n, -1n, 5n, 7n, P63 - 1n, P63, -P63, -P63 - 1n, P64 - 1n, P64, -P64, P64 + 5n, 7n - P64, -1n - P64, MAX38, -MAX38, 10n ** 37n, -(10n ** 37n) + 1n];
    for (let i = 0; i < 12; i++) decKeys.push(w.d38());
    const comboIds = [5n, P63 - 1n, P63, P63 + 8n, P64 - 1n, w.u64(), w.u64()];
    const keys: Record<string, Key[]> = {
      ubig: [...new Set(ubigKeys)].map((id) => ({ id })),
      dec38: [...new Set(decKeys)].map((id) => ({ id })),
      combo: [...new Set(comboIds)].flatMap((id) => ['a', 'B', 'ü'].map((tag) => ({ id, tag }))),
    };

    // Before the connector: the rows of issue 22 (and their counterparts in the other tables) arrive as snapshot reads.
    const snapshotKeys: Record<string, Key[]> = {
      ubig: [{ id: 5n }, { id: P63 - 1n }, { id: P63 + 8n }, { id: P64 - 1n }],
      dec38: [{ id: 5n }, { id: P64 + 5n }, { id: MAX38 }, { id: -MAX38 }, { id: -P63 }],
      combo: [{ id: 5n, tag: 'a' }, { id: P64 - 1n, tag: 'a' }, { id: P63, tag: 'ü' }],
    };
    const snapshot = tables.flatMap((t) => snapshotKeys[t]!.map((k) => w.insert(t, k, 'snap')));
    await sql(`${ddl}\n${snapshot.join(';\n')};`);
    statements += snapshot.length;

    await createTopics(brokers!, [dlq], 1);
    connectStarted = true;
    await connectSh(['start', 'test/harness/debezium-mariadb.properties.template', 'bigint.unsigned.handling.mode=precise', 'decimal.handling.mode=precise'], {
      FLOE_CDC_CONNECTOR_NAME: connector,
      FLOE_CDC_TOPIC_PREFIX: prefix,
      FLOE_CDC_DATABASES: db,
      FLOE_CDC_SERVER_ID: String(10_000_000 + Math.floor(Math.random() * 1_000_000)),
    });
    // Connect creates the table topics with their first (snapshot) records; floe subscribes to existing topics.
    const snapshotDeadline = Date.now() + 60_000;
    const published = async () => {
      let sum = 0;
      for (const topic of topics) sum += await endOffsets(brokers!, topic, 1).catch(() => 0);
      return sum;
    };
    while ((await published()) < snapshot.length && Date.now() < snapshotDeadline) await sleep(200);
    say(`connector streaming, snapshot published after ${Math.round((Date.now() - t0) / 1000)} s`);

    // Round 1: every other key inserted; floe commits it.
    const first = spawnFloe('run-1');
    await exec1(tables.flatMap((t) => keys[t]!.filter((k) => !w.live.get(t)!.has(keyText(k))).map((k) => w.insert(t, k, 'r1'))));
    await mustCatchUp(first, 'round 1 (inserts)');

    // Round 2: every row updated (the rows floe committed in earlier cycles), then a third of them once more.
    await exec1(tables.map((t) => w.updateAll(t, 'r2')));
    await exec1(tables.flatMap((t) => w.shuffled(w.liveKeys(t)).slice(0, Math.ceil(w.live.get(t)!.size / 3)).map((k) => w.update(t, k, 'r2'))));
    await mustCatchUp(first, 'round 2 (updates)');

    // Round 3: updates of every row in several transactions; floe is killed right after a commit in the middle of them.
    const round3: string[][] = [];
    for (let i = 0; i < 6; i++) {
      const t = tables[i % tables.length]!;
      round3.push([w.updateAll(t, `r3.${i}`), ...w.shuffled(w.liveKeys(t)).slice(0, 4).map((k) => w.update(t, k, `r3.${i}`))]);
    }
    const commitsBefore = first.commits.length;
    await killDuring(first, 'kill 1 (after a commit, mid-stream)', () => first.commits.length > commitsBefore, w.rng.int(300), paced(round3, 300));

    // Round 4: floe restarted; deletes (the keys of issue 22 among them), and key changes across the boundaries.
    const second = spawnFloe('run-2');
    const dels: string[] = [w.delete('ubig', { id: P64 - 1n }), w.delete('ubig', { id: P63 - 1n }), w.delete('dec38', { id: MAX38 }), w.delete('dec38', { id: 5n }), w.delete('dec38', { id: -P63 }), w.delete('combo', { id: P64 - 1n, tag: 'a' })];
    for (const t of tables) for (const k of w.shuffled(w.liveKeys(t)).slice(0, Math.floor(w.live.get(t)!.size / 3))) dels.push(w.delete(t, k));
    await exec1(dels);
    const moves: string[] = [];
    for (const t of ['ubig', 'dec38']) {
      for (const k of w.shuffled(w.liveKeys(t)).slice(0, 3)) {
        let to = t === 'ubig' ? w.u64() : w.d38();
        while (w.live.get(t)!.has(String(to)) || w.deleted.get(t)!.has(String(to))) to = t === 'ubig' ? w.u64() : w.d38();
        moves.push(w.moveKey(t, k, to));
      }
    }
    await exec1(moves);
    await mustCatchUp(second, 'round 4 (deletes)');

    // Round 5: deleted keys come back with other values, every row is updated; floe is killed after a random delay while they stream.
    const round5: string[][] = [];
    for (const t of tables) {
      const back = w.shuffled([...w.deleted.get(t)!.values()]);
      round5.push(back.slice(0, Math.ceil(back.length / 2)).map((k) => w.insert(t, k, 'r5')));
      round5.push([w.updateAll(t, 'r5')]);
    }
    await killDuring(second, 'kill 2 (random moment, mid-stream)', () => second.lines.some((l) => l.msg === 'partitions assigned'), 200 + w.rng.int(1500), paced(round5, 250));

    // Round 6: the last run; every row updated twice more, some deleted and re-inserted, then catch up and stop gracefully.
    final = spawnFloe('run-3');
    await exec1(tables.map((t) => w.updateAll(t, 'r6')));
    const last: string[] = [];
    for (const t of tables) {
      for (const k of w.shuffled(w.liveKeys(t)).slice(0, 3)) last.push(w.delete(t, k), w.insert(t, k, 'r6 back'));
      for (const k of w.shuffled(w.liveKeys(t)).slice(0, 3)) last.push(w.delete(t, k));
      last.push(w.updateAll(t, 'r6 again'));
    }
    await exec1(last);
    const f = final;
    assert.ok(await f.until(() => f.commits.length > 0, 60_000), `the last run did not commit (seed ${seed}):\n${f.tail()}`);
    behind = await catchUp(f, 2000, 90_000);
    const stopAt = Date.now();
    f.kill('SIGTERM');
    const stopped = await Promise.race([f.exited, sleep(shutdownTimeoutMs + 10_000).then(() => null)]);
    finalStopMs = Date.now() - stopAt;
    if (stopped === null) f.kill('SIGKILL');
    deadLetters = await endOffsets(brokers!, dlq, 1);
    say(`${statements} statements, ${procs.reduce((a, p) => a + p.commits.length, 0)} commit cycles over ${procs.length} floe runs, behind at the end: ${behind}; workload took ${Math.round((Date.now() - t0) / 1000)} s`);

    for (const t of tables) expected.set(t, canonicalRows(schemas[t]!, await tableRows(db, t, schemas[t]!)));
    const catalog = restCatalog();
    try {
      for (const t of tables) {
        try {
          floeSchemas.set(t, currentSchema((await catalog.loadTable({ namespace: [ns], name: t })).metadata));
        } catch (e) {
          floeSchemas.set(t, { error: `floe did not create ${ns}.${t}: ${(e as Error).message}` });
        }
      }
    } finally {
      await catalog.close();
    }
    const readable = tables.filter((t) => !('error' in (floeSchemas.get(t) ?? { error: '' })));
    if (readable.length > 0) {
      const names = readable.map((t) => `${ns}.${t}`);
      // all_delete_files: every delete file of the retained snapshots; floe's background maintenance may have
      // rewritten them out of the current one (`files`) by the time the engines read.
      [spark, duckdb, pyiceberg] = await Promise.all([
        readWithEngine('spark', names, { sql: readable.map((t) => `SELECT DISTINCT content, file_format FROM cat.${ns}.${t}.all_delete_files ORDER BY content`) }),
        readWithEngine('duckdb', names),
        readWithEngine('pyiceberg', names),
      ]);
      readable.forEach((t, i) => deleteKinds.set(t, spark.sql[i]?.rows ?? []));
    }
    say(`done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }, { timeout: 600_000 });

  after(async () => {
    for (const p of live) p.kill('SIGKILL');
    await Promise.all([...live].map((p) => p.exited));
    // The Connect worker is shared by the tests of a run (scripts/test.sh stops it): remove only this test's connector.
    if (connectStarted) await connectSh(['delete', connector]).catch(() => undefined);
    if (skip === false) {
      await sql(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('floe was killed mid-stream twice, caught up, stopped gracefully, and dead-lettered nothing', () => {
    assert.equal(kills.length, 2, kills.join('\n'));
    assert.ok(final !== null);
    assert.equal(behind, 0, `the last run did not catch up: ${behind} records behind (seed ${seed}):\n${final.tail()}`);
    assert.deepEqual(final.exit === null ? null : { code: final.exit.code, signal: final.exit.signal }, { code: 0, signal: null }, final.tail());
    assert.ok(finalStopMs <= shutdownTimeoutMs, `stopped in ${finalStopMs} ms`);
    for (const p of procs) assert.deepEqual(p.lines.filter((l) => l.level === 'error'), [], p.tail());
    assert.equal(deadLetters, 0, 'dead letters');
  });

  for (const t of tables) {
    it(`floe created ${t} with exact decimal key columns`, () => {
      const got = floeSchemas.get(t);
      assert.ok(got !== undefined);
      if ('error' in got) assert.fail(got.error);
      const strip = (s: Schema) => ({ ...s.toJSON(), 'schema-id': 0 });
      assert.deepEqual(strip(got), strip(schemas[t]!));
    });

    it(`${t}: floe wrote position delete files (not equality deletes)`, () => {
      assert.equal(spark.failure, undefined, spark.failure);
      assert.deepEqual(deleteKinds.get(t), ['{"content":1,"file_format":"PARQUET"}'], `delete files of ${ns}.${t} by content (1 position, 2 equality)`);
    });

    for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
      it(`${engine} reads ${t} equal to MariaDB's SELECT *: no stale versions, no deleted rows, no missing rows`, () => {
        const table = floeSchemas.get(t);
        if (table !== undefined && 'error' in table) assert.fail(table.error);
        const out = engine === 'spark' ? spark : engine === 'duckdb' ? duckdb : pyiceberg;
        assert.equal(out.failure, undefined, out.failure);
        const got = out.tables.get(`${ns}.${t}`);
        assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
        const want = expected.get(t) ?? [];
        assert.ok(want.length >= 10, `the workload leaves rows in ${t} (${want.length})`);
        const d = diff(t, got, want);
        const report =
          `seed ${seed}, ${ns}.${t} (${engine}): ${got.length} rows read, MariaDB has ${want.length}: ` +
          `${d.deletedKeysLive.length} rows of keys MariaDB deleted (lost deletes), ${d.staleVersions.length} old versions of rows MariaDB updated (lost updates), ` +
          `${d.missing.length} of MariaDB's rows missing; keys read more than once: ${d.duplicateKeys.slice(0, 12).join(' ') || 'none'}\n` +
          `deleted keys still live: ${d.deletedKeysLive.slice(0, 8).join(' ')}\nstale versions: ${d.staleVersions.slice(0, 8).join(' ')}\n` +
          `missing: ${d.missing.slice(0, 8).join(' ')}\nkills:\n${kills.join('\n')}`;
        assert.deepEqual(d, { deletedKeysLive: [], staleVersions: [], missing: [], duplicateKeys: [] }, report);
        assert.deepEqual(got, want);
      });
    }
  }
});
