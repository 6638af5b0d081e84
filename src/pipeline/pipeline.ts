/**
 * The main loop: consume a batch → hand each topic's messages to its worker (decode, route, apply to the
 * tables' windows) → commit when the interval has passed or the windows reach their byte budget. A commit
 * cycle pauses the partitions, seals every worker's windows into files (uploaded by the workers), commits
 * one snapshot per table with the Kafka offsets it covers, flushes the dead-letter producer, and only then
 * commits the consumer group offsets. A crash anywhere replays from the group offsets, and records a table
 * already holds are skipped by the offsets stored in the table: nothing lost, nothing twice.
 *
 * Outages (the catalog, S3 or the brokers unreachable, a commit whose outcome is unknown) do not end the
 * process. The pipeline rewinds to its last commit, in-process, the way a restart would but without losing the
 * key index: it waits with backoff while serving the consumer group (partitions paused, so nothing piles up),
 * decides every commit of the failed cycle by snapshot id (landed or not), drops the windows, seeks the
 * partitions back to their last committed offsets and consumes them again. /readyz says not ready meanwhile.
 * Only when the outage outlasts `outage.maxElapsedMs` does it give up (`outage_exhausted`).
 */
import { FloeError, assert, describeError } from '../errors.js';
import { tableCommitsFailed, type Committer, type FailedCommit, type TableCommitReport } from '../commit/committer.js';
import { backoffMs, sleep, type Backoff } from '../retry.js';
import type { SchemaRegistryClient } from '../decode/schema-registry.js';
import type { DeadLetterSink } from '../kafka/dead-letter.js';
import { key, type SourceMessage, type TopicPartition } from '../kafka/source.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Probe } from '../metrics/server.js';
import { workerFor, type Workers } from '../worker/pool.js';
import type { OpenedTable, SealedTable, TableLayoutMsg } from '../worker/worker-core.js';
import type { TopicAssignment } from '../worker/key-shard.js';
import type { TableMaintenanceReport } from '../maintain/maintain.js';
import { tableStopOf, type TableStopReason } from '../worker/table-stop.js';

export interface Source {
  connect(): Promise<void>;
  consume(max: number, timeoutMs: number): Promise<SourceMessage[]>;
  commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void>;
  /** Moves assigned partitions' read positions to these offsets (back to the last commit, after a failed cycle). */
  seek(positions: readonly { topic: string; partition: number; offset: number }[]): Promise<void>;
  isAssigned(t: TopicPartition): boolean;
  assignment(): TopicPartition[];
  pauseAll(): void;
  resumeAll(): void;
  disconnect(): Promise<void>;
  /** Partitions of a topic now (absent: the key index is not sharded by partition: src/worker/key-shard.ts). */
  partitionCount?(topic: string): Promise<number>;
  /** Lag per assigned partition, given the next offset the pipeline will process (metrics). */
  lag?(next: (t: TopicPartition) => number | undefined): { topic: string; partition: number; lag: number }[];
  readonly pausedCount?: number;
}

/** What the pipeline needs of background maintenance (MaintenanceScheduler). */
export interface BackgroundMaintenance {
  readonly budgetMs: number;
  /** The tables of `tables` due now (cheap: no I/O). */
  due(tables: readonly string[]): readonly string[];
  runDue(tables: readonly string[], budgetMs: number): Promise<readonly TableMaintenanceReport[]>;
}

export interface PipelineConfig {
  readonly commitIntervalMs: number;
  readonly bufferBytesMax: number;
  readonly consumeBatchMax: number;
  readonly consumeTimeoutMs: number;
  /** Batches handed to one worker and not yet applied, before the main thread waits. */
  readonly inFlightMax: number;
  /** Riding out an outage: how long at most (then exit), and the backoff between tries. */
  readonly outage?: OutageConfig;
}

export interface OutageConfig {
  readonly maxElapsedMs: number;
  readonly backoff: Backoff;
}

/** `commit.retry` defaults: 15 minutes, tries 1 s apart at first, then up to 30 s. */
export const OUTAGE_DEFAULTS: OutageConfig = Object.freeze({ maxElapsedMs: 15 * 60_000, backoff: Object.freeze({ baseMs: 1_000, maxMs: 30_000 }) });

/** Outage log lines: the first failure, then at most one line this often while it lasts. */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

/**
 * Failures an outage causes, ridden out in-process: transient errors (unreachable, 5xx, throttling, Kafka),
 * a commit whose outcome is unknown, and a commit that ran out of attempts (a conflict storm, or the catalog
 * going away between attempts). Everything else (bad config, a fence, a broken invariant) ends the process.
 */
export function isOutage(e: unknown): boolean {
  if (!(e instanceof FloeError)) return false;
  return e.retry === 'transient' || e.code === 'commit_state_unknown' || e.code === 'commit_retries_exhausted';
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
  /**
   * Per assigned partition, which assignment it is (a new number at every assign). A batch remembers the
   * assignments of its partitions when consumed; records whose partition was revoked (and perhaps assigned
   * again) since are not applied: the revoke dropped what the windows held of it, and the new assignment reads
   * it again from the group offsets.
   */
  private readonly epochs = new Map<string, number>();
  private epochSeq = 0;
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
  /**
   * Per partition, the first offset handed to the workers since the last group commit: where a rewind seeks
   * back to (every record from there on is either in a table, which skips it, or consumed again).
   */
  private readonly uncommittedFrom = new Map<string, { topic: string; partition: number; offset: number }>();
  /** The commits of a failed cycle whose outcome is not known yet (decided by snapshot id in `recover`). */
  private unresolved: FailedCommit[] = [];
  /** Tables sealed by the cycle in progress (their index changes wait for their commits' outcome). */
  private sealedPending = false;
  /** A cycle failed and the pipeline has not rewound yet: windows and positions must not be committed. */
  private rewindPending = false;
  /** When the current outage began (ms), or null while healthy. */
  private outageSince: number | null = null;
  private lastOutageLogMs = 0;
  /** The source topics of each open table (a table is maintained by the owner of its first topic's partition 0). */
  private readonly tableTopics = new Map<string, Set<string>>();
  private readonly outage: OutageConfig;
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
    /** Background table maintenance (src/maintain/scheduler.ts), run between commit cycles; null: none. */
    private readonly maintenance: BackgroundMaintenance | null = null,
  ) {
    metrics?.bufferBytesMax.set(cfg.bufferBytesMax);
    this.outage = cfg.outage ?? OUTAGE_DEFAULTS;
    metrics?.trackOutage(() => this.outageSince);
  }

  loopAgeMs(): number {
    return Date.now() - this.lastLoopMs;
  }

  isReady(): boolean {
    return this.ready && this.failure === null && !this.stopping && this.outageSince === null;
  }

  /** How long the current outage has lasted (ms), or null while healthy. */
  outageMs(): number | null {
    return this.outageSince === null ? null : Date.now() - this.outageSince;
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
    for (const k of keys) {
      this.positions.delete(k);
      this.uncommittedFrom.delete(k);
      this.epochs.set(k, ++this.epochSeq);
    }
    // Another consumer may have committed these partitions to our tables: re-read before applying.
    this.refreshNeeded = true;
    this.joined = true;
    this.log.info('partitions assigned', { partitions: keys });
  }

  onRevoke(tps: readonly TopicPartition[]): void {
    const keys = tps.map(key);
    for (const k of keys) {
      this.positions.delete(k);
      this.uncommittedFrom.delete(k); // the new owner consumes them from the group offsets
      this.epochs.delete(k);
    }
    // Batches consumed before this revoke are filtered by their partitions' assignments when they are applied.
    this.pendingDrops.push(this.workers.drop(keys));
    this.log.info('partitions revoked: uncommitted changes rewound', { partitions: keys });
  }

  stop(): void {
    this.stopping = true;
  }

  /** Runs until `stop()`; then commits what it holds and returns. */
  async run(): Promise<void> {
    await this.connect();
    while (!this.stopping) {
      try {
        await this.turn();
      } catch (e) {
        if (!isOutage(e)) throw e;
        await this.rideOut(e);
      }
    }
    if (this.rewindPending) {
      // Stopped before the rewind of a failed cycle: what the windows and positions hold is not trustworthy
      // (a failed seal lost windows whose records the positions already cover). Commit nothing.
      this.log.warn('stopping during an outage: nothing committed; uncommitted changes will be consumed again', { outageMs: this.outageMs() });
      return;
    }
    try {
      await this.settleRebalance();
      await this.commitCycle();
    } catch (e) {
      if (!isOutage(e)) throw e;
      // Stopping during an outage: nothing is lost, the uncommitted records are consumed again at the next start.
      this.log.warn('could not commit before stopping (outage): uncommitted changes will be consumed again', { error: describeError(e) });
      return;
    }
    await this.saveIndexes();
  }

  /** Connects to the brokers, riding out their absence like any outage (within the same budget). */
  private async connect(): Promise<void> {
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.source.connect();
        return;
      } catch (e) {
        if (!isOutage(e) || this.stopping || Date.now() - t0 >= this.outage.maxElapsedMs) throw e;
        this.outageSince ??= t0;
        this.metrics?.commitFailures.inc({ reason: e instanceof FloeError ? e.code : 'unknown' });
        this.log.warn('cannot connect to Kafka yet; retrying', { error: describeError(e), attempt, budgetMs: this.outage.maxElapsedMs });
        await sleep(Math.min(backoffMs(attempt, this.outage.backoff), this.outage.maxElapsedMs));
      }
      if (this.stopping) throw new FloeError('kafka_failed', 'stopped before Kafka could be reached');
    }
  }

  /** One turn of the main loop: consume, apply, and commit when due. */
  private async turn(): Promise<void> {
    this.lastLoopMs = Date.now();
    const batch = await this.source.consume(this.cfg.consumeBatchMax, this.cfg.consumeTimeoutMs);
    const current = this.takeIn(batch);
    await this.settleRebalance();
    if (this.joined && !this.refreshNeeded && !this.ready) {
      this.ready = true;
      this.metrics?.ready.set(1);
      this.log.info('ready: joined the group, offsets restored from the tables', { partitions: this.source.assignment().length });
    }
    const mine = assignedOnly(batch, current);
    if (mine.length > 0) await this.dispatch(mine, current);
    const due = Date.now() - this.lastCommitMs >= this.cfg.commitIntervalMs;
    if ((due && this.consumedSinceCommit > 0) || this.totalBuffered() >= this.cfg.bufferBytesMax) await this.commitCycle();
    else if (due) {
      this.lastCommitMs = Date.now();
      await this.maintainIdle();
    }
  }

  /**
   * Background maintenance while no record comes: a table whose stream stopped after a burst would otherwise
   * keep its small files until its next write. Nothing is buffered (nothing was consumed since the last cycle);
   * the partitions are paused for the run as after a cycle.
   */
  private async maintainIdle(): Promise<void> {
    const m = this.maintenance;
    if (m === null || this.stopping || this.refreshNeeded || this.sealedPending || this.rewindPending) return;
    if (m.due(this.maintainedTables()).length === 0) return;
    this.source.pauseAll();
    try {
      await this.maintainDue();
    } finally {
      this.source.resumeAll();
    }
  }

  /** The tables this replica maintains: it owns partition 0 of their first source topic (see scheduler.ts). */
  private maintainedTables(): string[] {
    return [...this.tableTopics].filter(([, topics]) => {
      const first = [...topics].sort()[0];
      return first !== undefined && this.source.isAssigned({ topic: first, partition: 0 });
    }).map(([table]) => table);
  }

  /**
   * An outage: waits with backoff, serving the consumer group, and tries to rewind to the last commit until it
   * works or the budget is spent. The outage lasts until the next commit cycle succeeds.
   */
  private async rideOut(first: unknown): Promise<void> {
    const now = Date.now();
    if (this.outageSince === null) {
      this.outageSince = now;
      this.lastOutageLogMs = now;
      this.log.warn('outage: a commit cycle failed; riding it out (partitions paused, uncommitted changes will be consumed again)', { error: describeError(first), budgetMs: this.outage.maxElapsedMs });
    }
    this.metrics?.commitFailures.inc({ reason: first instanceof FloeError ? first.code : 'unknown' });
    this.rewindPending = true;
    this.source.pauseAll();
    let last = first;
    for (let attempt = 1; !this.stopping; attempt++) {
      const elapsed = Date.now() - (this.outageSince ?? now);
      if (elapsed >= this.outage.maxElapsedMs) {
        throw new FloeError('outage_exhausted', `giving up after ${Math.round(elapsed / 1000)} s of outage (commit.retry.maxElapsedMs = ${this.outage.maxElapsedMs}): ${describeError(last)}; uncommitted changes will be consumed again at the next start`, {}, last);
      }
      await this.serveGroup(Math.min(backoffMs(attempt, this.outage.backoff), this.outage.maxElapsedMs - elapsed));
      if (this.stopping) return;
      try {
        await this.recover();
        return;
      } catch (e) {
        if (!isOutage(e)) throw e;
        last = e;
        this.metrics?.commitFailures.inc({ reason: e instanceof FloeError ? e.code : 'unknown' });
        if (Date.now() - this.lastOutageLogMs >= OUTAGE_LOG_INTERVAL_MS) {
          this.lastOutageLogMs = Date.now();
          this.log.warn('outage continues', { error: describeError(e), elapsedMs: Date.now() - (this.outageSince ?? now), budgetMs: this.outage.maxElapsedMs });
        }
      }
    }
  }

  /**
   * Waits `ms` while calling consume, so the member stays in its group (librdkafka's max.poll.interval.ms) and
   * rebalance callbacks run. Partitions stay paused; records of partitions assigned meanwhile are not applied,
   * only remembered as where to seek back to.
   */
  private async serveGroup(ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (let left = ms; left > 0 && !this.stopping; left = until - Date.now()) {
      this.lastLoopMs = Date.now();
      const batch = await this.source.consume(this.cfg.consumeBatchMax, Math.min(left, this.cfg.consumeTimeoutMs));
      this.takeIn(batch); // not applied: only where to seek back to
      if (batch.length > 0) this.source.pauseAll();
    }
  }

  /**
   * Rewinds to the last commit: decides the failed cycle's commits by snapshot id, drops every window, reloads
   * the tables (stored offsets, index rebuilds after other writers), seeks the partitions back to the first
   * offset not committed to the group, and resumes. Throws (an outage error) if a service is still away.
   */
  private async recover(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    this.chains.clear();
    this.inFlight.clear();
    this.failure = null;
    if (this.sealedPending) {
      // Commits whose answer was lost may have landed: the table says, by snapshot id.
      const outcomes: { name: string; landed: boolean }[] = [];
      for (const f of this.unresolved) outcomes.push({ name: f.table, landed: await this.committer.resolve(f.table, f.snapshotIds) });
      await this.workers.confirm(outcomes);
      await this.workers.abandonSeals(); // whatever was sealed and not committed
      const landed = outcomes.filter((o) => o.landed).map((o) => o.name);
      if (landed.length > 0) this.log.info('outage: commits whose outcome was unknown had landed', { tables: landed });
      this.unresolved = [];
      this.sealedPending = false;
    }
    const drops = this.pendingDrops;
    this.pendingDrops = [];
    await Promise.all(drops);
    this.committer.workersMayBeBehind();
    const { stored, catchUp } = await this.committer.refreshAll();
    this.refreshNeeded = false;
    await this.workers.refresh(stored);
    if (catchUp.length > 0) this.indexesFollowed(await this.workers.update(catchUp), 'after an outage');
    await this.deadLetter.reset();
    const rewind = [...this.uncommittedFrom.values()].filter((p) => this.source.isAssigned(p));
    await this.workers.drop([...new Set([...this.uncommittedFrom.keys(), ...this.positions.keys()])]);
    await this.source.seek(rewind);
    this.uncommittedFrom.clear();
    this.positions.clear();
    this.bufferedBytes.clear();
    this.consumedSinceCommit = 0;
    this.lastCommitMs = Date.now();
    this.rewindPending = false;
    this.source.resumeAll();
    this.log.info('outage: rewound to the last commit; consuming again', { partitions: rewind.length, outageMs: this.outageMs() });
    if (rewind.length === 0) this.endOutage();
  }

  private endOutage(): void {
    if (this.outageSince === null) return;
    this.log.info('outage over', { outageMs: Date.now() - this.outageSince });
    this.outageSince = null;
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
  /** Tables stopped so far (table-stop.ts): each is logged once and shown by floe_table_failed. */
  private readonly stoppedTables = new Set<string>();

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
      const moved = await this.sendAssignment();
      const { stored, catchUp } = await this.committer.refreshAll(moved);
      await this.workers.refresh(stored);
      // Keys of the newly assigned partitions were written by other replicas: their rows must be in the index
      // before any of their records is applied. The index reads only the files changed since it was current.
      if (catchUp.length > 0) this.indexesFollowed(await this.workers.update(catchUp), 'after a rebalance');
    }
  }

  /** The assignment last sent to the workers (topic → "count:partitions"), to tell whether it changed. */
  private sentAssignment = '';

  /**
   * Tells the workers this replica's partitions per topic with each topic's partition count (their key indexes
   * hold only those partitions' keys: src/worker/key-shard.ts). Returns whether that changed since last sent.
   * A source that cannot count partitions sends none: every index holds every key.
   */
  private async sendAssignment(): Promise<boolean> {
    const byTopic = new Map<string, number[]>();
    for (const tp of this.source.assignment()) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const list: TopicAssignment[] = [];
    if (this.source.partitionCount !== undefined) {
      for (const [topic, partitions] of [...byTopic].sort(([a], [b]) => (a < b ? -1 : 1))) {
        list.push({ topic, partitionCount: await this.source.partitionCount(topic), partitions: partitions.sort((a, b) => a - b) });
      }
    }
    const text = JSON.stringify(list);
    if (text === this.sentAssignment) return false;
    this.sentAssignment = text;
    await this.workers.assign(list);
    return true;
  }

  /**
   * Hands each worker its messages without waiting for it (the main thread goes on consuming), keeping each
   * worker's batches in order; waits only when a worker has `inFlightMax` batches outstanding (backpressure).
   */
  private async dispatch(batch: readonly SourceMessage[], current: (t: TopicPartition) => boolean): Promise<void> {
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
          if (this.failure === null) await this.applyOn(w, ms, current);
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

  /** The partition's assignment now (0 for a source that assigns without rebalance callbacks); undefined if not assigned. */
  private epochOf(t: TopicPartition): number | undefined {
    return this.epochs.get(key(t)) ?? (this.source.isAssigned(t) ? 0 : undefined);
  }

  /**
   * Takes a consumed batch in: notes, per partition, the first offset consumed since the last group commit (where
   * a rewind seeks back to; noted before anything can fail, since a record consumed and not applied must be
   * consumed again), and returns whether a record of the batch may still be applied: its partition is still in
   * the assignment it was consumed in (not revoked, nor revoked and assigned again, since). Once per run of one
   * partition's records.
   */
  private takeIn(batch: readonly SourceMessage[]): (t: TopicPartition) => boolean {
    const at = new Map<string, number | undefined>();
    let topic = '';
    let partition = -1;
    for (const m of batch) {
      if (m.topic === topic && m.partition === partition) continue;
      topic = m.topic;
      partition = m.partition;
      const k = key(m);
      if (!this.uncommittedFrom.has(k) && this.source.isAssigned(m)) this.uncommittedFrom.set(k, { topic, partition, offset: m.offset });
      if (!at.has(k)) at.set(k, this.epochOf(m));
    }
    return (t) => {
      const e = at.get(key(t));
      return e !== undefined && this.epochOf(t) === e;
    };
  }


  /** Waits until every worker has applied everything handed to it. */
  private async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
    if (this.failure !== null) throw this.failure;
  }

  private async applyOn(w: number, messages: readonly SourceMessage[], current: (t: TopicPartition) => boolean): Promise<void> {
    // A partition revoked since this batch was consumed (while it waited behind other batches, or below for the
    // registry or the catalog) must not reach the windows: the revoke already dropped what they held of it, and
    // its new assignment (here or elsewhere) reads it again from the group offsets.
    const assigned = current;
    let rest = assignedOnly(messages, assigned);
    let reindexedAt = '';
    for (;;) {
      if (rest.length === 0) return;
      const res = await this.workers.apply(w, rest);
      this.stats.applied += res.applied;
      this.stats.skippedReplayed += res.skippedReplayed;
      this.stats.skippedIgnored += res.skippedIgnored;
      if (this.metrics !== null) {
        if (res.skippedReplayed > 0) this.metrics.eventsSkipped.inc({ reason: 'replayed' }, res.skippedReplayed);
        if (res.skippedIgnored > 0) this.metrics.eventsSkipped.inc({ reason: 'ignored' }, res.skippedIgnored);
      }
      this.bufferedBytes.set(w, res.bufferedBytes);
      for (const k of res.keyMismatches ?? []) {
        // Once per topic: its tables' indexes hold every key from now on.
        this.log.warn('key index: a topic\'s keys do not follow Kafka\'s default partitioner or cannot be rebuilt from the table; its tables are indexed whole on this replica', { topic: k.topic, reason: k.reason });
        this.metrics?.indexKeyMismatches.inc({ topic: k.topic });
      }
      for (const s of res.stops ?? []) this.tableStopped(s.table, s.reason, s.message, rest[s.index] as SourceMessage);
      for (const r of res.rejects) this.reject(rest[r.index] as SourceMessage, r.reason, r.stopped !== undefined);
      if (res.needSchema !== undefined) {
        const blocked = rest[res.done] as SourceMessage;
        if (this.registry === null) {
          this.reject(blocked, `Avro record (schema id ${res.needSchema}) but no decode.schemaRegistry is configured`);
          rest = rest.slice(res.done + 1);
        } else {
          try {
            await this.workers.registerSchema(w, res.needSchema, await this.registry.schema(res.needSchema));
            rest = assignedOnly(rest.slice(res.done), assigned);
          } catch (e) {
            if (!(e instanceof FloeError) || e.code !== 'record_invalid') throw e;
            this.reject(blocked, describeError(e));
            rest = rest.slice(res.done + 1);
          }
        }
        if (rest.length === 0) return;
        continue;
      }
      if (res.reindex !== undefined) {
        // The table's index holds other keys than this record's partition needs: it follows the keys wanted now
        // (this replica's partitions, or every key) before the record is applied.
        const at = rest[res.done] as SourceMessage;
        // Followed once, the index holds this record's key: asked again at the same record is a bug, not a loop.
        assert(reindexedAt !== `${res.reindex}@${at.topic}/${at.partition}/${at.offset}`, 'a table\'s index follows its keys once per record', { table: res.reindex, topic: at.topic, partition: at.partition, offset: at.offset });
        reindexedAt = `${res.reindex}@${at.topic}/${at.partition}/${at.offset}`;
        await this.sendAssignment();
        const layout = await this.committer.followLayout(res.reindex);
        if (layout !== null) this.indexesFollowed(await this.workers.update([layout]), 'its keys moved');
        rest = assignedOnly(rest.slice(res.done), assigned);
        continue;
      }
      if (res.need === undefined) return;
      const blocked = rest[res.done] as SourceMessage;
      try {
        const opened = await this.workers.openTable(w, await this.committer.table(res.need.id, res.need.shape));
        this.tableTopics.set(res.need.name, new Set([...(this.tableTopics.get(res.need.name) ?? []), blocked.topic]));
        // The key index: loaded from the file a graceful stop saved, or built by reading the key columns.
        this.log.info('table opened', { table: res.need.name, worker: w, index: opened.index, keys: opened.keys, ms: opened.ms, ...(opened.shardPartitions !== undefined ? { partitions: opened.shardPartitions } : {}) });
        if (opened.index === 'built') this.metrics?.indexRebuilds.inc({ table: res.need.name, reason: 'open' });
        if (opened.index !== 'none') this.metrics?.recordIndex({ ...opened, name: res.need.name });
        rest = assignedOnly(rest.slice(res.done), assigned);
      } catch (e) {
        if (!(e instanceof FloeError) || (e.code !== 'record_invalid' && e.code !== 'schema_invalid' && e.code !== 'type_unsupported')) throw e;
        const stop = tableStopOf(e);
        if (stop !== null) {
          // Bad configuration for this table (table-stop.ts): it stops, and the worker dead-letters its records.
          await this.workers.stopTable(w, res.need.name, e.message);
          this.tableStopped(res.need.name, stop, e.message, blocked);
        }
        // The table cannot be opened from this record (e.g. auto-create off, unusable key): dead-letter it.
        this.reject(blocked, describeError(e), stop !== null);
        rest = rest.slice(res.done + 1);
      }
      if (rest.length === 0) return;
    }
  }

  /** `stopped`: the record's table is stopped, which was logged once (tableStopped): this record only at debug. */
  private reject(m: SourceMessage, reason: string, stopped = false): void {
    this.stats.deadLettered++;
    this.metrics?.deadLettered.inc({ topic: m.topic });
    this.deadLetter.send(m, reason);
    const fields = { topic: m.topic, partition: m.partition, offset: m.offset, reason };
    if (stopped) this.log.debug('record dead-lettered', fields);
    else this.log.warn('record dead-lettered', fields);
  }

  /** A table stopped (table-stop.ts): one error line and the floe_table_failed gauge, however many records follow. */
  private tableStopped(table: string, reason: TableStopReason, message: string, first: SourceMessage): void {
    if (this.stoppedTables.has(table)) return; // several workers (topics) may report the same table
    this.stoppedTables.add(table);
    this.metrics?.tableFailed.set({ table, reason }, 1);
    this.log.error('table stopped: its records go to the dead-letter topic until the cause is fixed and floe restarts', {
      table, reason, error: message, topic: first.topic, partition: first.partition, offset: first.offset,
    });
  }

  /**
   * Background maintenance, right after a cycle committed, with the partitions still paused: the tables this
   * replica maintains (it owns partition 0 of their first source topic, see scheduler.ts) that are due, within the
   * budget. Run here, between cycles, its commits never race this process's own (whose position deletes would
   * then have to be re-found, or would drop the maintenance group); other replicas' commits race it as any
   * writer's do. Tables it rewrote hand their workers' key index the new snapshot to catch up to.
   */
  private async maintainDue(): Promise<void> {
    const m = this.maintenance;
    if (m === null || this.stopping) return;
    const mine = this.maintainedTables();
    if (mine.length === 0) return;
    const reports = await m.runDue(mine, m.budgetMs);
    const changed: TableLayoutMsg[] = [];
    for (const r of reports) {
      if (!r.steps.some((st) => (st.result?.snapshotIds.length ?? 0) > 0)) continue;
      const layout = await this.committer.tableChanged(r.table);
      if (layout !== null) changed.push(layout);
    }
    if (changed.length > 0) this.indexesFollowed(await this.workers.update(changed), 'after maintenance');
  }

  /** Metrics and a log line for key indexes that caught up with their table or had to be rebuilt. */
  /** Each table's key index state (in memory, spilled to disk, none: equality deletes) as last logged. */
  private readonly indexStateOf = new Map<string, string>();

  /** One log line when a table's key index changes state (metrics floe_index_state: Metrics.recordCommit). */
  private indexStates(sealed: readonly SealedTable[]): void {
    for (const s of sealed) {
      if (s.indexState === undefined || this.indexStateOf.get(s.name) === s.indexState) continue;
      this.indexStateOf.set(s.name, s.indexState);
      const fields = { table: s.name, state: s.indexState, keys: s.indexKeys, memoryBytes: s.indexBytes, diskBytes: s.indexDiskBytes ?? 0, ...(s.indexPartitions !== undefined ? { partitions: s.indexPartitions } : {}) };
      if (s.indexState === 'spilled') this.log.info('key index: past its memory budget, part of it is on local disk (index.spillDir)', fields);
      else if (s.indexState === 'equality') this.log.info('key index: none, the table deletes by equality', fields);
      else this.log.info('key index: in memory', fields);
    }
  }

  private indexesFollowed(opened: readonly OpenedTable[], when: string): void {
    for (const o of opened) {
      this.metrics?.recordIndex(o);
      const c = o.catchUp;
      if (o.resharded !== undefined) this.log.info(`key index moved to its partitions' keys ${when}`, { table: o.name, ...o.resharded, keys: o.keys });
      if (o.rebuilt !== undefined) this.log.warn(`key index rebuilt ${when}`, { table: o.name, reason: o.rebuilt, keys: o.keys, ms: o.ms });
      else if (c !== undefined && c.fromSnapshot !== c.toSnapshot) this.log.info(`key index caught up ${when}`, { table: o.name, ...c });
    }
  }

  /**
   * Seals the windows, makes their dead letters durable, commits the tables (one snapshot each, with the offsets
   * they cover), then commits the group offsets. Dead letters go first: a table's stored offsets make a restart
   * skip the records below them, dead-lettered ones included, so those must be in the dead-letter topic before.
   * A table whose commit fails does not stop the others; the cycle then fails as a whole and the pipeline rewinds.
   */
  async commitCycle(): Promise<void> {
    const t0 = Date.now();
    this.source.pauseAll();
    let ok = false;
    try {
      await this.drain();
      await this.settleRebalance();
      const tSeal = Date.now();
      this.sealedPending = true;
      const sealed = await this.workers.seal();
      this.metrics?.flushSeconds.observe((Date.now() - tSeal) / 1000);
      await this.deadLetter.flush();
      const { reports, layouts, failed } = await this.committer.commit(sealed);
      this.metrics?.recordCommit(sealed.filter((s) => !failed.some((f) => f.table === s.name)), reports);
      this.indexStates(sealed);
      await this.workers.confirm(reports.map((r) => ({ name: r.table, landed: true })));
      if (failed.length > 0) {
        this.unresolved = failed;
        for (const f of failed) this.log.warn('table commit failed', { table: f.table, error: describeError(f.error) });
        throw tableCommitsFailed(failed);
      }
      this.sealedPending = false;
      this.indexesFollowed(await this.workers.update(layouts), 'after a commit');
      const offsets = [...this.positions.values()].filter((p) => this.source.isAssigned(p));
      let groupCommitted = true;
      try {
        await this.source.commit(offsets);
      } catch (e) {
        // The group is rebalancing (a new generation): the tables hold the data with their offsets, so nothing is
        // lost; partitions that move are skipped by their new owners, and those this member keeps are committed
        // to the group by the next cycle (which runs even if no record comes).
        if (!(e instanceof FloeError) || e.code !== 'kafka_partitions_moved') throw e;
        groupCommitted = false;
        this.log.info('group offsets not committed: the group is rebalancing; the next cycle commits them (the tables hold the data)', { error: e.message });
      }
      if (groupCommitted) for (const o of offsets) this.uncommittedFrom.delete(`${o.topic}/${o.partition}`);
      this.stats.commits++;
      this.stats.lastCommit = reports;
      this.consumedSinceCommit = groupCommitted ? 0 : 1;
      this.bufferedBytes.clear();
      this.metrics?.commitCycles.inc();
      this.metrics?.cycleSeconds.observe((Date.now() - t0) / 1000);
      this.endOutage();
      this.warnDefaultsNotKept(sealed.filter((x) => reports.some((r) => r.table === x.name)));
      this.logCommitted(reports, sealed, offsets.length, Date.now() - t0);
      await this.maintainDue();
      ok = true;
    } finally {
      this.lastCommitMs = Date.now();
      // A failed cycle leaves the partitions paused: the pipeline rewinds before it consumes again.
      if (ok) this.source.resumeAll();
    }
  }

  private logCommitted(reports: readonly TableCommitReport[], sealed: readonly SealedTableLike[], offsets: number, ms: number): void {
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
        ms,
        tables: reports.map((r) => ({
          table: r.table, snapshot: r.snapshotId, rows: r.rows, deletes: r.deletedKeys, files: r.dataFiles + r.deleteFiles, bytes: r.bytes, attempts: r.attempts,
          // The newest change now readable (its event time, ms): the table's freshness at this commit.
          newestEventMs: sealed.reduce<number | null>((a, s) => (s.name === r.table && typeof s.newestEventMs === 'number' && (a === null || s.newestEventMs > a) ? s.newestEventMs : a), null),
          // A compaction rewrote files this commit's position deletes pointed into (see README, merge-on-write).
          ...(r.repositioned !== undefined ? { repositioned: r.repositioned } : {}),
          ...(r.fellBackToEquality === true ? { fellBackToEquality: true } : {}),
        })),
        offsets,
      });
    }
  }

  /**
   * Once per schema change (the commit that added the column, so only for tables that committed): a column the
   * source added with a DEFAULT, on a table whose format version has no default values, reads null in the rows
   * written before it.
   */
  private warnDefaultsNotKept(sealed: readonly SealedTable[]): void {
    const seen = new Set<string>();
    for (const s of sealed) {
      for (const d of s.defaultsNotKept ?? []) {
        const k = `${s.name}\u0000${d.column}`;
        if (seen.has(k)) continue; // the same table sealed by several workers
        seen.add(k);
        this.log.warn('column added without its source default: format version 2 tables have no default values, so the rows written before the change read null, not the default (tables with formatVersion: 3 keep it)', {
          table: s.name, column: d.column, sourceDefault: d.sourceDefault,
        });
      }
    }
  }

  async close(): Promise<void> {
    await this.workers.close();
    try {
      await this.deadLetter.close();
    } catch (e) {
      // Dead letters not yet durable belong to records whose offsets were not committed (every cycle flushes them
      // before its commits): they come again at the next start.
      if (!isOutage(e)) throw e;
      this.log.warn('dead letters not delivered at close; their records will be consumed again', { error: describeError(e) });
    }
    await this.source.disconnect();
  }
}

type SealedTableLike = { readonly name: string; readonly repairExamples?: readonly string[]; readonly newestEventMs?: number | null };
