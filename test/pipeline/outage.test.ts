// Proves the pipeline rides out outages in-process (and, stopped during one, commits nothing): the catalog or S3 away for a while (during a commit, during a seal, with a commit that landed but whose answer was lost) does not end run(); it reports not ready and floe_outage_seconds meanwhile, rewinds to the last commit and ends with the table equal to the source and nothing twice; dead letters are durable before any table commit; an outage longer than the budget ends run() with outage_exhausted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Catalog, CreateTableOptions, LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { FloeError } from '../../src/errors.js';
import { scanTable } from '../../src/iceberg/scan.js';
import type { TableRequirement, TableUpdate } from '../../src/iceberg/table-metadata.js';
import type { FileIO, FileInfo } from '../../src/io/file-io.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { DeadLetterSink } from '../../src/kafka/dead-letter.js';
import type { SourceMessage, TopicPartition } from '../../src/kafka/source.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { Pipeline, type Source } from '../../src/pipeline/pipeline.js';
import { InProcessWorkers } from '../../src/worker/pool.js';

const TOPIC = 'cdc.shop.t';
const PARTITIONS = 2;

/** A keyed change stream over two partitions (a key stays in one partition) and the source state it leaves. */
function workload(events: number, keys: number): { messages: SourceMessage[][]; state: Map<number, string> } {
  const messages: SourceMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  const state = new Map<number, string>();
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < events; i++) {
    const id = rnd(keys);
    const p = id % PARTITIONS;
    const before = state.get(id) ?? null;
    const del = before !== null && rnd(10) === 0;
    const v = del ? null : `v${i}`;
    const op = del ? 'd' : before === null ? 'c' : 'u';
    const list = messages[p] as SourceMessage[];
    const value = i % 100 === 50 ? Buffer.from('not json') : Buffer.from(JSON.stringify({ before: before === null ? null : { id, v: before }, after: v === null ? null : { id, v }, source: { db: 'shop', table: 't' }, op }));
    list.push({ topic: TOPIC, partition: p, offset: list.length, key: Buffer.from(JSON.stringify({ id })), value, timestamp: undefined });
    if (value.toString() === 'not json') continue; // dead-lettered: the source state does not change
    if (v === null) state.delete(id);
    else state.set(id, v);
  }
  return { messages, state };
}

/** A consumer over in-memory partitions: read positions, group offsets, seek and pause as librdkafka has them. */
class MemorySource implements Source {
  readonly position: number[];
  readonly committed: number[];
  private paused = false;
  seeks = 0;
  /** Group commits refused as during a rebalance (a new generation), before they pass again. */
  refuseCommits = 0;
  constructor(private readonly parts: SourceMessage[][]) {
    this.position = parts.map(() => 0);
    this.committed = parts.map(() => 0);
  }
  async connect(): Promise<void> {}
  async consume(max: number): Promise<SourceMessage[]> {
    await new Promise((r) => setTimeout(r, 1));
    if (this.paused) return [];
    const out: SourceMessage[] = [];
    for (let p = 0; p < this.parts.length && out.length < max; p++) {
      const list = this.parts[p] as SourceMessage[];
      const take = list.slice(this.position[p], (this.position[p] as number) + Math.min(25, max - out.length));
      this.position[p] = (this.position[p] as number) + take.length;
      out.push(...take);
    }
    return out;
  }
  async commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (this.refuseCommits > 0) {
      this.refuseCommits--;
      throw new FloeError('kafka_partitions_moved', 'offset commit refused (test): Broker: Specified group generation id is not valid');
    }
    for (const o of offsets) {
      assert.ok(o.offset >= (this.committed[o.partition] as number), 'group offsets never go back');
      this.committed[o.partition] = o.offset;
    }
  }
  async seek(positions: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    this.seeks++;
    for (const p of positions) this.position[p.partition] = p.offset;
  }
  isAssigned(t: TopicPartition): boolean {
    return t.topic === TOPIC && t.partition < this.parts.length;
  }
  assignment(): TopicPartition[] {
    return this.parts.map((_l, partition) => ({ topic: TOPIC, partition }));
  }
  pauseAll(): void {
    this.paused = true;
  }
  resumeAll(): void {
    this.paused = false;
  }
  async disconnect(): Promise<void> {}
  get done(): boolean {
    return this.parts.every((l, p) => this.committed[p] === l.length);
  }
  get ends(): number[] {
    return this.parts.map((l) => l.length);
  }
}

/** Switches on the catalog failing as an unreachable REST catalog does; `lostAnswers`: commits applied whose answer is lost. */
class FlakyCatalog implements Catalog {
  readonly name = 'flaky';
  down = false;
  lostAnswers = 0;
  constructor(private readonly inner: Catalog) {}
  private check(): void {
    if (this.down) throw new FloeError('catalog_unreachable', 'REST catalog unreachable (test): connect ECONNREFUSED');
  }
  async createNamespace(ns: readonly string[], props?: Readonly<Record<string, string>>): Promise<void> {
    this.check();
    return this.inner.createNamespace(ns, props);
  }
  async namespaceExists(ns: readonly string[]): Promise<boolean> {
    this.check();
    return this.inner.namespaceExists(ns);
  }
  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    this.check();
    return this.inner.createTable(id, opts);
  }
  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    this.check();
    return this.inner.loadTable(id);
  }
  async tableExists(id: TableIdentifier): Promise<boolean> {
    this.check();
    return this.inner.tableExists(id);
  }
  async listNamespaces(parent?: readonly string[]): Promise<string[][]> {
    this.check();
    return this.inner.listNamespaces(parent);
  }
  async listTables(ns: readonly string[]): Promise<TableIdentifier[]> {
    this.check();
    return this.inner.listTables(ns);
  }
  async commitTable(t: LoadedTable, req: readonly TableRequirement[], upd: readonly TableUpdate[]): Promise<LoadedTable> {
    this.check();
    const out = await this.inner.commitTable(t, req, upd);
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      this.down = true; // the answer is lost and the catalog goes away with it
      throw new FloeError('commit_state_unknown', 'commit outcome unknown (test): connection reset after the request was sent');
    }
    return out;
  }
  async dropTable(id: TableIdentifier, purge?: boolean): Promise<void> {
    return this.inner.dropTable(id, purge);
  }
  async close(): Promise<void> {
    return this.inner.close();
  }
}

/** Local files that can be switched to failing as S3 does under an outage (503, connection refused). */
class FlakyIO implements FileIO {
  down = false;
  private readonly inner = new LocalFileIO();
  private check(): void {
    if (this.down) throw new FloeError('io_failed', 'S3 unavailable (test): 503 ServiceUnavailable');
  }
  async read(path: string): Promise<Uint8Array> {
    this.check();
    return this.inner.read(path);
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.check();
    return this.inner.write(path, bytes);
  }
  async exists(path: string): Promise<boolean> {
    this.check();
    return this.inner.exists(path);
  }
  async delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }
  async *list(prefix: string): AsyncIterable<FileInfo> {
    this.check();
    yield* this.inner.list(prefix);
  }
}

/** Dead letters, durable only once flushed; the flush fails while `down`. */
class MemoryDeadLetter implements DeadLetterSink {
  down = false;
  private pending: number[] = [];
  readonly durable: number[] = [];
  sent = 0;
  send(m: SourceMessage): void {
    this.pending.push(m.offset);
    this.sent++;
  }
  async flush(): Promise<void> {
    if (this.down) throw new FloeError('kafka_failed', 'dead-letter flush failed (test): broker down');
    this.durable.push(...this.pending);
    this.pending = [];
  }
  async reset(): Promise<void> {
    this.pending = [];
  }
  async close(): Promise<void> {}
}

interface Rig {
  readonly pipeline: Pipeline;
  readonly source: MemorySource;
  readonly catalog: FlakyCatalog;
  readonly io: FlakyIO;
  readonly dlq: MemoryDeadLetter;
  readonly metrics: Metrics;
  readonly sql: SqlCatalog;
  readonly state: Map<number, string>;
}

describe('riding out outages in-process', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-outage-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function rig(name: string, opts: { events?: number; maxElapsedMs?: number; backoffBaseMs?: number } = {}): Rig {
    const { messages, state } = workload(opts.events ?? 1500, 60);
    const io = new FlakyIO();
    const sql = new SqlCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io });
    const catalog = new FlakyCatalog(sql);
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {}, tables: {} });
    const workers = new InProcessWorkers({ decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} }, { fileIO: () => io });
    const source = new MemorySource(messages);
    const dlq = new MemoryDeadLetter();
    const metrics = new Metrics({ processMetrics: false });
    const pipeline = new Pipeline(
      source, workers, committer, dlq,
      { commitIntervalMs: 20, bufferBytesMax: 1 << 30, consumeBatchMax: 50, consumeTimeoutMs: 5, inFlightMax: 2, outage: { maxElapsedMs: opts.maxElapsedMs ?? 60_000, backoff: { baseMs: opts.backoffBaseMs ?? 5, maxMs: Math.max(40, opts.backoffBaseMs ?? 0) } } },
      silentLogger, null, metrics,
    );
    return { pipeline, source, catalog, io, dlq, metrics, sql, state };
  }

  async function untilDone(r: Rig, run: Promise<void>): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!r.source.done && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    r.pipeline.stop();
    await run;
    assert.ok(r.source.done, 'every record committed to the group');
  }

  async function tableState(r: Rig): Promise<Map<number, string>> {
    const rows = await scanTable(await r.sql.loadTable({ namespace: ['shop'], name: 't' }));
    const out = new Map<number, string>();
    for (const row of rows) {
      const id = Number(row.id);
      assert.ok(!out.has(id), `key ${id} has one live row`);
      out.set(id, String(row.v));
    }
    return out;
  }

  async function gauge(r: Rig, name: string): Promise<number> {
    const m = (await r.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).reduce((a, v) => a + Number(v.value), 0);
  }

  /** Waits until `cond`, or fails after `ms`. */
  async function until(cond: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      assert.ok(Date.now() < deadline, 'timed out waiting');
      await new Promise((res) => setTimeout(res, 2));
    }
  }

  it('the catalog away for a while during streaming: not ready, counted, then the table equals the source', async () => {
    const r = rig('catalog');
    const run = r.pipeline.run();
    await until(() => r.source.committed.some((o) => o > 0));
    r.catalog.down = true;
    await until(() => r.pipeline.outageMs() !== null);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.pipeline.isReady(), false, 'not ready during the outage');
    assert.ok((await gauge(r, 'floe_outage_seconds')) > 0);
    r.catalog.down = false;
    await untilDone(r, run);
    assert.equal(r.pipeline.outageMs(), null);
    assert.ok((await gauge(r, 'floe_commit_failures_total')) >= 1);
    assert.deepEqual(await tableState(r), r.state);
    assert.ok(r.source.seeks >= 1, 'rewound to the last commit');
  });

  it('a commit that landed but whose answer was lost (then the catalog away) is decided by snapshot id: nothing twice, the index follows it', async () => {
    const r = rig('lost');
    const run = r.pipeline.run();
    await until(() => r.source.committed.some((o) => o > 0));
    r.catalog.lostAnswers = 1;
    await until(() => r.catalog.down);
    await new Promise((res) => setTimeout(res, 200));
    r.catalog.down = false;
    await untilDone(r, run);
    // Later updates of keys that commit wrote deleted them by position: one live row per key, equal to the source.
    assert.deepEqual(await tableState(r), r.state);
  });

  it('S3 away while windows are sealed (uploads fail): the windows are consumed again', async () => {
    const r = rig('s3');
    const run = r.pipeline.run();
    await until(() => r.source.committed.some((o) => o > 0));
    r.io.down = true;
    await until(() => r.pipeline.outageMs() !== null);
    await new Promise((res) => setTimeout(res, 200));
    r.io.down = false;
    await untilDone(r, run);
    assert.deepEqual(await tableState(r), r.state);
  });

  it('dead letters are durable before a table commit covers them: a failed flush commits no table', async () => {
    const r = rig('dlq');
    r.dlq.down = true;
    const run = r.pipeline.run();
    await until(() => r.pipeline.outageMs() !== null);
    const t = await r.sql.loadTable({ namespace: ['shop'], name: 't' }).catch(() => null);
    assert.equal(t?.metadata.currentSnapshotId ?? null, null, 'no snapshot before the dead letters are durable');
    r.dlq.down = false;
    await untilDone(r, run);
    assert.deepEqual(await tableState(r), r.state);
    assert.ok(r.dlq.durable.length >= 1, 'the bad record is in the dead-letter topic');
  });

  it('stopped during an outage (S3 lost a sealed window, and is back before the rewind): commits nothing, so nothing is skipped at the next start', async () => {
    const r = rig('stop', { backoffBaseMs: 2_000 });
    const run = r.pipeline.run();
    await until(() => r.source.committed.some((o) => o > 0));
    r.io.down = true;
    await until(() => r.pipeline.outageMs() !== null);
    r.io.down = false; // back, but the pipeline has not rewound yet: its windows lost what its positions cover
    const committed = [...r.source.committed];
    // Read through a catalog of its own on healthy local files (the rig's S3 is down).
    const reader = new SqlCatalog({ name: 'floe', path: join(dir, 'stop.db'), warehouse: `file://${dir}/stop`, io: new LocalFileIO() });
    const snapshot = (await reader.loadTable({ namespace: ['shop'], name: 't' })).metadata.currentSnapshotId;
    r.pipeline.stop();
    await run;
    assert.deepEqual(r.source.committed, committed, 'group offsets unchanged');
    assert.equal((await reader.loadTable({ namespace: ['shop'], name: 't' })).metadata.currentSnapshotId, snapshot, 'no table commit');
    await reader.close();
  });

  it('a group commit refused by a rebalance is made by the next cycle, even when no record comes any more', async () => {
    const r = rig('moved', { events: 200 });
    r.source.refuseCommits = Number.MAX_SAFE_INTEGER; // every group commit refused until all records are consumed
    const run = r.pipeline.run();
    await until(() => r.source.position.every((p, i) => p === (r.source.ends[i] ?? 0)));
    await new Promise((res) => setTimeout(res, 100)); // cycles of the last records are refused too
    r.source.refuseCommits = 0;
    await until(() => r.source.done, 5_000); // while running: the group commit must not wait for a record that never comes
    await untilDone(r, run);
    assert.deepEqual(await tableState(r), r.state);
  });

  it('an outage longer than commit.retry.maxElapsedMs ends run() with outage_exhausted', async () => {
    const r = rig('budget', { maxElapsedMs: 300 });
    const run = r.pipeline.run();
    await until(() => r.source.committed.some((o) => o > 0));
    r.catalog.down = true;
    await assert.rejects(run, (e: unknown) => e instanceof FloeError && e.code === 'outage_exhausted' && /REST catalog unreachable/.test(e.message));
  });
});
