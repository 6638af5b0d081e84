/**
 * The main loop: consume a batch → hand each topic's messages to its worker (decode, route, apply to the
 * tables' windows) → commit when the interval has passed or the windows reach their byte budget. A commit
 * cycle pauses the partitions, seals every worker's windows into files (uploaded by the workers), commits
 * one snapshot per table with the Kafka offsets it covers, flushes the dead-letter producer, and only then
 * commits the consumer group offsets. A crash anywhere replays from the group offsets, and records a table
 * already holds are skipped by the offsets stored in the table: nothing lost, nothing twice.
 */
import { FloeError, assert, describeError } from '../errors.js';
import type { Committer, TableCommitReport } from '../commit/committer.js';
import type { SchemaRegistryClient } from '../decode/schema-registry.js';
import type { DeadLetterSink } from '../kafka/dead-letter.js';
import { key, type SourceMessage, type TopicPartition } from '../kafka/source.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Probe } from '../metrics/server.js';
import { workerFor, type Workers } from '../worker/pool.js';

export interface Source {
  connect(): Promise<void>;
  consume(max: number, timeoutMs: number): Promise<SourceMessage[]>;
  commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void>;
  isAssigned(t: TopicPartition): boolean;
  assignment(): TopicPartition[];
  pauseAll(): void;
  resumeAll(): void;
  disconnect(): Promise<void>;
  /** Lag per assigned partition, given the next offset the pipeline will process (metrics). */
  lag?(next: (t: TopicPartition) => number | undefined): { topic: string; partition: number; lag: number }[];
  readonly pausedCount?: number;
}

export interface PipelineConfig {
  readonly commitIntervalMs: number;
  readonly bufferBytesMax: number;
  readonly consumeBatchMax: number;
  readonly consumeTimeoutMs: number;
  /** Batches handed to one worker and not yet applied, before the main thread waits. */
  readonly inFlightMax: number;
}

export interface PipelineStats {
  consumed: number;
  applied: number;
  skippedReplayed: number;
  skippedIgnored: number;
  deadLettered: number;
  commits: number;
  lastCommit: TableCommitReport[];
}

/**
 * The messages of partitions still assigned (a revoke may land between librdkafka's fetch and this batch),
 * checked once per run of one partition's messages rather than per message; the batch itself when all are.
 */
export function assignedOnly(batch: readonly SourceMessage[], isAssigned: (t: TopicPartition) => boolean): readonly SourceMessage[] {
  let topic = '';
  let partition = -1;
  let ok = true;
  let kept: SourceMessage[] | null = null; // copied only once a message has to be dropped
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i] as SourceMessage;
    if (m.topic !== topic || m.partition !== partition) {
      topic = m.topic;
      partition = m.partition;
      ok = isAssigned(m);
    }
    if (!ok) kept ??= batch.slice(0, i);
    else kept?.push(m);
  }
  return kept ?? batch;
}

export class Pipeline implements Probe {
  private readonly positions = new Map<string, { topic: string; partition: number; offset: number }>();
  private stopping = false;
  private lastCommitMs = Date.now();
  private consumedSinceCommit = 0;
  private refreshNeeded = false;
  /** Revocations not yet applied in the workers (the rebalance callback cannot wait). */
  private pendingDrops: Promise<void>[] = [];
  private bufferedBytes = new Map<number, number>();
  /** Per worker, the chain of batches handed to it: batches apply in order, while the main thread consumes on. */
  private chains = new Map<number, Promise<void>>();
  private inFlight = new Map<number, number>();
  private failure: Error | null = null;
  private lastLoopMs = Date.now();
  /** Joined the group (first assignment, possibly empty) and restored the tables' offsets. */
  private joined = false;
  private ready = false;
  readonly stats: PipelineStats = { consumed: 0, applied: 0, skippedReplayed: 0, skippedIgnored: 0, deadLettered: 0, commits: 0, lastCommit: [] };

  constructor(
    private readonly source: Source,
    private readonly workers: Workers,
    private readonly committer: Committer,
    private readonly deadLetter: DeadLetterSink,
    private readonly cfg: PipelineConfig,
    private readonly log: Logger,
    /** Fetches Avro writer schemas for workers (null: JSON converter only). */
    private readonly registry: SchemaRegistryClient | null = null,
    private readonly metrics: Metrics | null = null,
  ) {
    metrics?.bufferBytesMax.set(cfg.bufferBytesMax);
  }

  loopAgeMs(): number {
    return Date.now() - this.lastLoopMs;
  }

  isReady(): boolean {
    return this.ready && this.failure === null && !this.stopping;
  }

  refreshGauges(): void {
    const m = this.metrics;
    if (m === null) return;
    m.bufferBytes.set(this.totalBuffered());
    m.assignedPartitions.set(this.source.assignment().length);
    if (this.source.pausedCount !== undefined) m.pausedPartitions.set(this.source.pausedCount);
    if (this.source.lag !== undefined) m.setLag(this.source.lag((t) => this.positions.get(key(t))?.offset));
  }

  /** Rebalance hooks for the Kafka source. */
  onAssign(tps: readonly TopicPartition[]): void {
    const keys = tps.map(key);
    for (const k of keys) this.positions.delete(k);
    // Another consumer may have committed these partitions to our tables: re-read before applying.
    this.refreshNeeded = true;
    this.joined = true;
    this.log.info('partitions assigned', { partitions: keys });
  }

  onRevoke(tps: readonly TopicPartition[]): void {
    const keys = tps.map(key);
    for (const k of keys) this.positions.delete(k);
    // Worker task queues are FIFO: the drop runs before any later apply or seal.
    this.pendingDrops.push(this.workers.drop(keys));
    this.log.info('partitions revoked: uncommitted changes rewound', { partitions: keys });
  }

  stop(): void {
    this.stopping = true;
  }

  /** Runs until `stop()`; then commits what it holds and returns. */
  async run(): Promise<void> {
    await this.source.connect();
    while (!this.stopping) {
      this.lastLoopMs = Date.now();
      const batch = await this.source.consume(this.cfg.consumeBatchMax, this.cfg.consumeTimeoutMs);
      await this.settleRebalance();
      if (this.joined && !this.refreshNeeded && !this.ready) {
        this.ready = true;
        this.metrics?.ready.set(1);
        this.log.info('ready: joined the group, offsets restored from the tables', { partitions: this.source.assignment().length });
      }
      const mine = assignedOnly(batch, (t) => this.source.isAssigned(t));
      if (mine.length > 0) await this.dispatch(mine);
      const due = Date.now() - this.lastCommitMs >= this.cfg.commitIntervalMs;
      if ((due && this.consumedSinceCommit > 0) || this.totalBuffered() >= this.cfg.bufferBytesMax) await this.commitCycle();
      else if (due) this.lastCommitMs = Date.now();
    }
    await this.settleRebalance();
    await this.commitCycle();
    await this.saveIndexes();
  }

  /** Saves the tables' key indexes as of the last commit, so the next start loads them instead of reading key columns. */
  private async saveIndexes(): Promise<void> {
    const items = this.committer.indexSnapshotsToSave();
    if (items.length === 0) return;
    const t0 = Date.now();
    try {
      await this.workers.saveIndexes(items);
      this.log.info('saved key indexes', { tables: items.map((i) => i.name), ms: Date.now() - t0 });
    } catch (e) {
      // Not fatal: the next start rebuilds the indexes from the tables.
      this.log.warn('could not save key indexes; the next start rebuilds them', { error: describeError(e) });
    }
  }

  private readonly workerOfTopic = new Map<string, number>();

  /** The worker a topic's records go to (cached: hashing the topic name per record showed in profiles). */
  private workerOf(topic: string): number {
    let w = this.workerOfTopic.get(topic);
    if (w === undefined) this.workerOfTopic.set(topic, (w = workerFor(topic, this.workers.count)));
    return w;
  }

  private totalBuffered(): number {
    let n = 0;
    for (const b of this.bufferedBytes.values()) n += b;
    return n;
  }

  private async settleRebalance(): Promise<void> {
    if (this.pendingDrops.length > 0 || this.refreshNeeded) await this.drain();
    if (this.pendingDrops.length > 0) {
      const drops = this.pendingDrops;
      this.pendingDrops = [];
      await Promise.all(drops);
    }
    if (this.refreshNeeded) {
      this.refreshNeeded = false;
      const { stored, rebuild } = await this.committer.refreshAll();
      await this.workers.refresh(stored);
      if (rebuild.length > 0) {
        // Keys of the newly assigned partitions were written by other replicas: their rows must be in the index.
        const t0 = Date.now();
        await this.workers.update(rebuild);
        this.log.info('key indexes rebuilt after a rebalance', { tables: rebuild.map((l) => l.name), ms: Date.now() - t0 });
      }
    }
  }

  /**
   * Hands each worker its messages without waiting for it (the main thread goes on consuming), keeping each
   * worker's batches in order; waits only when a worker has `inFlightMax` batches outstanding (backpressure).
   */
  private async dispatch(batch: readonly SourceMessage[]): Promise<void> {
    const groups = new Map<number, SourceMessage[]>();
    // Per record: no string keys or objects; positions are updated once per run of one partition's records.
    let runTopic = '';
    let runPartition = -1;
    let runFirst = -1;
    let runLast = -1;
    let group: SourceMessage[] | undefined;
    const endRun = (): void => {
      if (runPartition < 0) return;
      const tpKey = `${runTopic}/${runPartition}`;
      const prev = this.positions.get(tpKey);
      assert(prev === undefined || runFirst >= prev.offset, 'offsets must not go backwards within an assignment', { partition: tpKey, offset: runFirst, previous: prev?.offset });
      this.positions.set(tpKey, { topic: runTopic, partition: runPartition, offset: runLast + 1 });
    };
    for (const m of batch) {
      if (m.topic !== runTopic || m.partition !== runPartition) {
        endRun();
        if (m.topic !== runTopic) {
          const w = this.workerOf(m.topic);
          group = groups.get(w);
          if (group === undefined) groups.set(w, (group = []));
        }
        runTopic = m.topic;
        runPartition = m.partition;
        runFirst = m.offset;
      } else {
        assert(m.offset > runLast, 'offsets must increase within a partition', { partition: `${m.topic}/${m.partition}`, offset: m.offset, previous: runLast });
      }
      runLast = m.offset;
      (group as SourceMessage[]).push(m);
    }
    endRun();
    for (const [w, ms] of groups) {
      while ((this.inFlight.get(w) ?? 0) >= this.cfg.inFlightMax) await this.chains.get(w);
      this.inFlight.set(w, (this.inFlight.get(w) ?? 0) + 1);
      const next = (this.chains.get(w) ?? Promise.resolve()).then(async () => {
        try {
          if (this.failure === null) await this.applyOn(w, ms);
        } catch (e) {
          this.failure ??= e instanceof Error ? e : new Error(String(e));
        } finally {
          this.inFlight.set(w, (this.inFlight.get(w) ?? 1) - 1);
        }
      });
      this.chains.set(w, next);
    }
    this.stats.consumed += batch.length;
    this.consumedSinceCommit += batch.length;
    if (this.metrics !== null) {
      // One counter update per topic and batch (a labelled inc per record costs more than the record's routing).
      const perTopic = new Map<string, number>();
      for (const m of batch) perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1);
      for (const [topic, n] of perTopic) this.metrics.eventsConsumed.inc({ topic }, n);
    }
    if (this.failure !== null) throw this.failure;
  }

  /** Waits until every worker has applied everything handed to it. */
  private async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
    if (this.failure !== null) throw this.failure;
  }

  private async applyOn(w: number, messages: readonly SourceMessage[]): Promise<void> {
    let rest = messages;
    for (;;) {
      const res = await this.workers.apply(w, rest);
      this.stats.applied += res.applied;
      this.stats.skippedReplayed += res.skippedReplayed;
      this.stats.skippedIgnored += res.skippedIgnored;
      if (this.metrics !== null) {
        if (res.skippedReplayed > 0) this.metrics.eventsSkipped.inc({ reason: 'replayed' }, res.skippedReplayed);
        if (res.skippedIgnored > 0) this.metrics.eventsSkipped.inc({ reason: 'ignored' }, res.skippedIgnored);
      }
      this.bufferedBytes.set(w, res.bufferedBytes);
      for (const r of res.rejects) this.reject(rest[r.index] as SourceMessage, r.reason);
      if (res.needSchema !== undefined) {
        const blocked = rest[res.done] as SourceMessage;
        if (this.registry === null) {
          this.reject(blocked, `Avro record (schema id ${res.needSchema}) but no decode.schemaRegistry is configured`);
          rest = rest.slice(res.done + 1);
        } else {
          try {
            await this.workers.registerSchema(w, res.needSchema, await this.registry.schema(res.needSchema));
            rest = rest.slice(res.done);
          } catch (e) {
            if (!(e instanceof FloeError) || e.code !== 'record_invalid') throw e;
            this.reject(blocked, describeError(e));
            rest = rest.slice(res.done + 1);
          }
        }
        if (rest.length === 0) return;
        continue;
      }
      if (res.need === undefined) return;
      const blocked = rest[res.done] as SourceMessage;
      try {
        const opened = await this.workers.openTable(w, await this.committer.table(res.need.id, res.need.shape));
        // The key index: loaded from the file a graceful stop saved, or built by reading the key columns.
        this.log.info('table opened', { table: res.need.name, worker: w, index: opened.index, keys: opened.keys, ms: opened.ms });
        rest = rest.slice(res.done);
      } catch (e) {
        if (!(e instanceof FloeError) || (e.code !== 'record_invalid' && e.code !== 'schema_invalid' && e.code !== 'type_unsupported')) throw e;
        // The table cannot be opened from this record (e.g. auto-create off, unusable key): dead-letter it.
        this.reject(blocked, describeError(e));
        rest = rest.slice(res.done + 1);
      }
      if (rest.length === 0) return;
    }
  }

  private reject(m: SourceMessage, reason: string): void {
    this.stats.deadLettered++;
    this.metrics?.deadLettered.inc({ topic: m.topic });
    this.deadLetter.send(m, reason);
    this.log.warn('record dead-lettered', { topic: m.topic, partition: m.partition, offset: m.offset, reason });
  }

  /** Seals and commits tables, then flushes dead letters, then commits the group offsets. */
  async commitCycle(): Promise<void> {
    const t0 = Date.now();
    this.source.pauseAll();
    try {
      await this.drain();
      await this.settleRebalance();
      const tSeal = Date.now();
      const sealed = await this.workers.seal();
      this.metrics?.flushSeconds.observe((Date.now() - tSeal) / 1000);
      const { reports, layouts } = await this.committer.commit(sealed);
      this.metrics?.recordCommit(sealed, reports);
      await this.workers.update(layouts);
      await this.deadLetter.flush();
      const offsets = [...this.positions.values()].filter((p) => this.source.isAssigned(p));
      await this.source.commit(offsets);
      this.stats.commits++;
      this.stats.lastCommit = reports;
      this.consumedSinceCommit = 0;
      this.bufferedBytes.clear();
      this.metrics?.commitCycles.inc();
      this.metrics?.cycleSeconds.observe((Date.now() - t0) / 1000);
      for (const r of reports) {
        if (r.repairedRows !== undefined) {
          // An invariant breach found and fixed: say which keys, so the writer that caused it can be found.
          const examples = sealed.filter((s) => s.name === r.table).flatMap((s) => s.repairExamples ?? []);
          this.log.warn('duplicate keys repaired: each key kept its newest row, the others were deleted by position', { table: r.table, snapshot: r.snapshotId, keys: r.repairedKeys, rowsDeleted: r.repairedRows, examples });
        }
        if (r.fellBackToEquality === true) this.log.warn('compactions kept rewriting the files this commit deleted from: deleted those keys by equality instead', { table: r.table, snapshot: r.snapshotId });
      }
      if (reports.length > 0) {
        this.log.info('committed', {
          ms: Date.now() - t0,
          tables: reports.map((r) => ({
            table: r.table, snapshot: r.snapshotId, rows: r.rows, deletes: r.deletedKeys, files: r.dataFiles + r.deleteFiles, bytes: r.bytes, attempts: r.attempts,
            // A compaction rewrote files this commit's position deletes pointed into (see README, merge-on-write).
            ...(r.repositioned !== undefined ? { repositioned: r.repositioned } : {}),
            ...(r.fellBackToEquality === true ? { fellBackToEquality: true } : {}),
          })),
          offsets: offsets.length,
        });
      }
    } finally {
      this.lastCommitMs = Date.now();
      this.source.resumeAll();
    }
  }

  async close(): Promise<void> {
    await this.workers.close();
    await this.deadLetter.close();
    await this.source.disconnect();
  }
}
