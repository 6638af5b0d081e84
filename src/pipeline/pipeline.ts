/**
 * The main loop: consume a batch → decode → route → apply to the table's window; commit when the commit
 * interval has passed or the buffers reach their byte budget. A commit cycle pauses the partitions, commits
 * one snapshot per dirty table (with the Kafka offsets it covers), flushes the dead-letter producer, and only
 * then commits the consumer group offsets. A crash anywhere replays from the group offsets, and records a
 * table already holds are skipped by the offsets stored in the table: nothing lost, nothing twice.
 */
import { FloeError, assert, describeError } from '../errors.js';
import type { Committer, TableCommitReport } from '../commit/committer.js';
import type { DebeziumDecoder } from '../decode/debezium.js';
import type { DeadLetterSink } from '../kafka/dead-letter.js';
import { key, type SourceMessage, type TopicPartition } from '../kafka/source.js';
import type { Logger } from '../log.js';
import { sourceFromTopic, type Router } from '../route/router.js';

export interface Source {
  connect(): Promise<void>;
  consume(max: number, timeoutMs: number): Promise<SourceMessage[]>;
  commit(offsets: readonly { topic: string; partition: number; offset: number }[]): void;
  isAssigned(t: TopicPartition): boolean;
  assignment(): TopicPartition[];
  pauseAll(): void;
  resumeAll(): void;
  disconnect(): Promise<void>;
}

export interface PipelineConfig {
  readonly commitIntervalMs: number;
  readonly bufferBytesMax: number;
  readonly consumeBatchMax: number;
  readonly consumeTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
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

export class Pipeline {
  private readonly positions = new Map<string, { topic: string; partition: number; offset: number }>();
  private stopping = false;
  private lastCommitMs = Date.now();
  readonly stats: PipelineStats = { consumed: 0, applied: 0, skippedReplayed: 0, skippedIgnored: 0, deadLettered: 0, commits: 0, lastCommit: [] };

  constructor(
    private readonly source: Source,
    private readonly decoder: DebeziumDecoder,
    private readonly router: Router,
    private readonly committer: Committer,
    private readonly deadLetter: DeadLetterSink,
    private readonly cfg: PipelineConfig,
    private readonly log: Logger,
  ) {}

  /** Rebalance hooks for the Kafka source. */
  onAssign(tps: readonly TopicPartition[]): void {
    const keys = tps.map(key);
    for (const k of keys) this.positions.delete(k);
    this.committer.markStale(keys);
    this.log.info('partitions assigned', { partitions: keys });
  }

  onRevoke(tps: readonly TopicPartition[]): void {
    const keys = new Set(tps.map(key));
    this.committer.dropPartitions(keys);
    for (const k of keys) this.positions.delete(k);
    this.log.info('partitions revoked: uncommitted changes rewound', { partitions: [...keys] });
  }

  stop(): void {
    this.stopping = true;
  }

  /** Runs until `stop()`; then commits what it holds and returns. */
  async run(): Promise<void> {
    await this.source.connect();
    while (!this.stopping) {
      const batch = await this.source.consume(this.cfg.consumeBatchMax, this.cfg.consumeTimeoutMs);
      for (const m of batch) {
        if (!this.source.isAssigned(m)) continue;
        await this.handle(m);
      }
      const due = Date.now() - this.lastCommitMs >= this.cfg.commitIntervalMs;
      if ((due && this.hasWork()) || this.committer.bufferedBytes >= this.cfg.bufferBytesMax) await this.commitCycle();
      else if (due) this.lastCommitMs = Date.now();
    }
    await this.commitCycle();
  }

  private hasWork(): boolean {
    return this.committer.dirty || this.positions.size > 0;
  }

  private async handle(m: SourceMessage): Promise<void> {
    const tpKey = key(m);
    const prev = this.positions.get(tpKey);
    assert(prev === undefined || m.offset >= prev.offset, 'offsets must not go backwards within an assignment', { partition: tpKey, offset: m.offset, previous: prev?.offset });
    this.stats.consumed++;
    const decoded = this.decoder.decode(m.topic, m.key, m.value);
    if (decoded.kind === 'skip') {
      this.stats.skippedIgnored++;
    } else if (decoded.kind === 'reject') {
      this.reject(m, decoded.reason);
    } else {
      const fallback = decoded.db === '' || decoded.table === '' ? sourceFromTopic(m.topic) : null;
      const id = this.router.route(m.topic, fallback?.db ?? decoded.db, fallback?.table ?? decoded.table);
      if (id === null) {
        this.stats.skippedIgnored++;
      } else {
        try {
          const t = await this.committer.table(id, decoded.shape);
          await this.committer.refreshIfStale(t, tpKey);
          // A rebalance may have revoked the partition while we waited on the catalog.
          if (!this.source.isAssigned(m)) return;
          if (this.committer.holds(t, tpKey, m.offset)) {
            this.stats.skippedReplayed++;
          } else {
            try {
              this.committer.apply(t, decoded, tpKey, m.offset);
              this.stats.applied++;
            } catch (e) {
              if (!(e instanceof FloeError) || (e.code !== 'value_invalid' && e.code !== 'record_invalid' && e.code !== 'schema_invalid')) throw e;
              this.reject(m, describeError(e));
              this.committer.cover(t, tpKey, m.offset);
            }
          }
        } catch (e) {
          if (!(e instanceof FloeError) || e.code !== 'record_invalid') throw e;
          this.reject(m, describeError(e));
        }
      }
    }
    this.positions.set(tpKey, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  }

  private reject(m: SourceMessage, reason: string): void {
    this.stats.deadLettered++;
    this.deadLetter.send(m, reason);
    this.log.warn('record dead-lettered', { topic: m.topic, partition: m.partition, offset: m.offset, reason });
  }

  /** Commits tables, then the dead-letter producer, then the group offsets. */
  async commitCycle(): Promise<void> {
    const t0 = Date.now();
    this.source.pauseAll();
    try {
      const reports = await this.committer.commit();
      await this.deadLetter.flush();
      const offsets = [...this.positions.values()].filter((p) => this.source.isAssigned(p));
      this.source.commit(offsets);
      this.stats.commits++;
      this.stats.lastCommit = reports;
      if (reports.length > 0) {
        this.log.info('committed', {
          ms: Date.now() - t0,
          tables: reports.map((r) => ({ table: r.table, snapshot: r.snapshotId, rows: r.rows, deletes: r.deletedKeys, files: r.dataFiles + r.deleteFiles, bytes: r.bytes, attempts: r.attempts })),
          offsets: offsets.length,
        });
      }
    } finally {
      this.lastCommitMs = Date.now();
      this.source.resumeAll();
    }
  }

  async close(): Promise<void> {
    await this.deadLetter.close();
    await this.source.disconnect();
  }
}
