/**
 * Kafka source on node-rdkafka (librdkafka): a consumer group member with manual offsets (never auto-commit:
 * offsets are committed only after the tables hold the data), cooperative-sticky rebalancing and static
 * membership (`group.instance.id`, so a StatefulSet's rolling restart keeps its partitions), batch
 * consumption, and pause/resume of partitions for backpressure. Revoked partitions are reported before they
 * are released, so the pipeline can rewind what it holds of them.
 */
import Kafka from 'node-rdkafka';
import { FloeError } from '../errors.js';
import { backoffSleep, type Backoff } from '../retry.js';
import { TokenRefresher, clientProperties, tokenSource, type KafkaAuthConfig, type KafkaTlsConfig } from './auth.js';

export interface KafkaSourceConfig {
  readonly brokers: string;
  readonly groupId: string;
  readonly groupInstanceId?: string;
  readonly topics?: readonly string[];
  /** Regular expression of topics to subscribe to (librdkafka regex subscription), e.g. `^cdc\.shop\..*`. */
  readonly topicPattern?: string;
  /** librdkafka properties passed through (security.protocol, sasl.*, ssl.*, fetch sizes...). */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  readonly auth?: KafkaAuthConfig;
  readonly tls?: KafkaTlsConfig;
  readonly sessionTimeoutMs?: number;
  readonly maxPollIntervalMs?: number;
  /** Bytes librdkafka may prefetch per partition queue: bounds memory while the pipeline is busy. */
  readonly queuedMaxMessagesKbytes?: number;
  /** Wait between offset commit attempts (default COMMIT_BACKOFF). */
  readonly commitBackoff?: Backoff;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface SourceMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number | undefined;
}

export interface RebalanceHandlers {
  onAssign(tps: readonly TopicPartition[]): void;
  /** Called synchronously before the partitions are released: drop (rewind) what is held of them. */
  onRevoke(tps: readonly TopicPartition[]): void;
}

const CONNECT_TIMEOUT_MS = 30_000;
const METADATA_TIMEOUT_MS = 10_000;
const QUEUED_MAX_MESSAGES_KBYTES = 65_536;
const COMMIT_ATTEMPTS_MAX = 5;
/** Between offset commit attempts: a coordinator moving to another broker takes seconds, not microseconds. */
const COMMIT_BACKOFF: Backoff = Object.freeze({ baseMs: 200, maxMs: 5_000 });
/** Offset commit errors that may pass (broker or coordinator unreachable, moving, loading): retried with backoff. */
const COMMIT_RETRIABLE: ReadonlySet<number> = new Set([
  Kafka.CODES.ERRORS.ERR__TRANSPORT,
  Kafka.CODES.ERRORS.ERR__TIMED_OUT,
  Kafka.CODES.ERRORS.ERR__WAIT_COORD,
  Kafka.CODES.ERRORS.ERR_REQUEST_TIMED_OUT,
  Kafka.CODES.ERRORS.ERR_COORDINATOR_NOT_AVAILABLE,
  Kafka.CODES.ERRORS.ERR_COORDINATOR_LOAD_IN_PROGRESS,
  Kafka.CODES.ERRORS.ERR_NOT_COORDINATOR,
]);
/**
 * Offset commit errors that say this member's generation is over: the group is rebalancing or has already given
 * its partitions to others. Retrying cannot succeed.
 */
const COMMIT_PARTITIONS_MOVED: ReadonlySet<number> = new Set([
  Kafka.CODES.ERRORS.ERR_REBALANCE_IN_PROGRESS,
  Kafka.CODES.ERRORS.ERR_ILLEGAL_GENERATION,
  Kafka.CODES.ERRORS.ERR_UNKNOWN_MEMBER_ID,
]);
const SEEK_TIMEOUT_MS = 10_000;
const TRANSIENT_ERROR_BACKOFF_MS = 200;

export class KafkaSource {
  private readonly consumer: Kafka.KafkaConsumer;
  private readonly assigned = new Map<string, TopicPartition>();
  private readonly paused = new Set<string>();
  /** Called for non-fatal consume errors (logged by the pipeline). */
  onTransientError: ((message: string, code: number) => void) | undefined;

  constructor(
    private readonly cfg: KafkaSourceConfig,
    private readonly handlers: RebalanceHandlers,
  ) {
    if ((cfg.topics === undefined || cfg.topics.length === 0) && cfg.topicPattern === undefined) {
      throw new FloeError('config_invalid', 'kafka.topics or kafka.topicPattern is required', { field: 'kafka.topics' });
    }
    // The protocol follows the configured assignor (floe's default is cooperative-sticky). Asking librdkafka
    // (rebalanceProtocol()) is not reliable: while the consumer closes it answers NONE, and an eager assign() in
    // the middle of an incremental rebalance fails with "Local: Erroneous state".
    const strategy = String(cfg.properties?.['partition.assignment.strategy'] ?? 'cooperative-sticky');
    const cooperative = strategy.includes('cooperative');
    const rebalance = (err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]): void => {
      // An exception thrown here reaches no caller: node-rdkafka's callback thread prints it and the process hangs.
      // So a failure is kept and the next consume() throws it.
      try {
        const tps = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
        if (err.code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
          for (const t of tps) this.assigned.set(key(t), t);
          this.handlers.onAssign(tps);
          if (cooperative) this.consumer.incrementalAssign(assignment);
          else this.consumer.assign(assignment);
        } else if (err.code === Kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
          this.handlers.onRevoke(tps);
          for (const t of tps) {
            this.assigned.delete(key(t));
            this.paused.delete(key(t));
          }
          if (cooperative) this.consumer.incrementalUnassign(assignment);
          else this.consumer.unassign();
        } else {
          throw new FloeError('kafka_fatal', `rebalance error: ${err.message}`, { code: err.code });
        }
      } catch (e) {
        if (this.closing) return; // the member is leaving its group anyway
        this.broken ??= e instanceof FloeError && e.code === 'kafka_fatal' ? e : new FloeError('kafka_fatal', `rebalance failed: ${e instanceof Error ? e.message : String(e)}`, {}, e);
      }
    };
    this.consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': cfg.brokers,
        'group.id': cfg.groupId,
        ...(cfg.groupInstanceId !== undefined && cfg.groupInstanceId !== '' ? { 'group.instance.id': cfg.groupInstanceId } : {}),
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': cfg.sessionTimeoutMs ?? 45_000,
        'max.poll.interval.ms': cfg.maxPollIntervalMs ?? 300_000,
        // librdkafka stops fetching while this much is queued. 16 MiB held only ~4,500 Debezium messages that carry a
        // schema block (3.6 KB each): fetches stalled behind the pipeline and a backlog was read at ~7k events/s
        // instead of ~38k (native-bench/fetch.bench.ts). 64 MiB keeps the prefetch ahead of the pipeline.
        'queued.max.messages.kbytes': cfg.queuedMaxMessagesKbytes ?? QUEUED_MAX_MESSAGES_KBYTES,
        'enable.partition.eof': false,
        'socket.keepalive.enable': true,
        'client.id': `floe-${cfg.groupInstanceId ?? process.pid}`,
        rebalance_cb: rebalance,
        // librdkafka logs become 'event.log' events instead of raw lines on stderr.
        event_cb: true,
        ...clientProperties(cfg.auth ?? { type: 'none' }, cfg.tls ?? { enabled: false }),
        ...(cfg.properties ?? {}),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err: Kafka.LibrdKafkaError) => {
      this.lastError = err.message;
    });
    // SASL and TLS failures arrive as librdkafka log lines (severity 3, FAIL): keep the last for error messages.
    this.consumer.on('event.log', (l: { severity: number; message: string }) => {
      if (l.severity <= 3) this.lastError = l.message.replace(/^\[thrd:[^\]]*\]: /, '');
    });
    const tokens = tokenSource(cfg.auth ?? { type: 'none' });
    this.tokens = tokens === null ? null : new TokenRefresher(tokens, (t) => this.consumer.setOauthBearerToken(t), (e) => this.onTransientError?.(`OAUTHBEARER token refresh failed: ${e instanceof Error ? e.message : String(e)}`, -1));
  }

  /** The consumer cannot go on (a rebalance it could not apply, a fatal librdkafka error): thrown by consume(). */
  private broken: FloeError | null = null;
  private closing = false;

  /** Keeps the OAUTHBEARER token fresh (msk-iam, oauthbearer-unsecured). */
  private readonly tokens: TokenRefresher | null;
  /** librdkafka's last error event (e.g. the SASL or TLS failure behind a "broker transport failure"). */
  private lastError: string | null = null;

  async connect(): Promise<void> {
    await this.tokens?.start();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FloeError('kafka_failed', `could not connect to Kafka at ${this.cfg.brokers} within ${CONNECT_TIMEOUT_MS} ms`, { brokers: this.cfg.brokers })), CONNECT_TIMEOUT_MS);
      this.consumer.connect({ timeout: CONNECT_TIMEOUT_MS }, (err) => {
        clearTimeout(timer);
        if (err) reject(new FloeError('kafka_failed', `Kafka connect to ${this.cfg.brokers} failed: ${err.message}${this.lastError !== null ? ` (${this.lastError})` : ''}`, { brokers: this.cfg.brokers }));
        else resolve();
      });
    });
    // librdkafka treats a subscribed name that starts with "^" as a regular expression (and keeps matching
    // topics created later, e.g. a Debezium table added to the connector).
    const pattern = this.cfg.topicPattern;
    const subs = pattern !== undefined ? [pattern.startsWith('^') ? pattern : `^${pattern}`] : [...(this.cfg.topics ?? [])];
    this.consumer.subscribe(subs);
  }

  /**
   * Up to `max` messages, waiting at most `timeoutMs` for the first, then taking only what librdkafka has
   * already fetched. (node-rdkafka's consume(n) applies its timeout per message: one call under a steady
   * trickle would block until n messages arrived, past the commit interval and the shutdown timeout.)
   */
  async consume(max: number, timeoutMs: number): Promise<SourceMessage[]> {
    if (this.broken !== null) throw this.broken;
    const first = await this.consumeNum(1, timeoutMs);
    if (first.length === 0 || max <= 1) return first;
    const rest = await this.consumeNum(max - 1, 1);
    return rest.length === 0 ? first : first.concat(rest);
  }

  private consumeNum(max: number, timeoutMs: number): Promise<SourceMessage[]> {
    this.consumer.setDefaultConsumeTimeout(timeoutMs);
    return new Promise((resolve, reject) => {
      this.consumer.consume(max, (err, messages) => {
        if (err) {
          // Per-partition errors librdkafka recovers from (a topic being created as the pattern subscription
          // sees it, a leader change) must not stop floe; only fatal errors do.
          if (err.isFatal === true) {
            reject(new FloeError('kafka_fatal', `consume failed: ${err.message}`, { code: err.code }));
            return;
          }
          this.onTransientError?.(err.message, err.code);
          // Back off a little so a persistent condition (broker down) does not spin.
          setTimeout(() => resolve([]), TRANSIENT_ERROR_BACKOFF_MS);
          return;
        }
        // node-rdkafka's message objects already have SourceMessage's shape: normalise the key in place instead of
        // copying every message into a new object (one allocation per event less on the hot path).
        for (const m of messages as { key?: Buffer | string | null; value: Buffer | null }[]) {
          if (m.key === undefined) m.key = null;
          else if (typeof m.key === 'string') m.key = Buffer.from(m.key);
          if (m.value === undefined) m.value = null;
        }
        resolve(messages as unknown as SourceMessage[]);
      });
    });
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  /**
   * Partitions of `topic` now (broker metadata): the divisor of Kafka's default partitioner, which a sharded key
   * index recomputes (src/worker/key-shard.ts). Fails as `kafka_failed` (transient) when the broker cannot say.
   */
  async partitionCount(topic: string): Promise<number> {
    const m = await new Promise<Kafka.Metadata>((resolve, reject) => {
      this.consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (err, meta) => {
        if (err) reject(new FloeError('kafka_failed', `metadata of topic ${topic}: ${err.message}`, { topic }));
        else resolve(meta);
      });
    });
    const t = m.topics.find((x) => x.name === topic);
    if (t === undefined || t.partitions.length === 0) throw new FloeError('kafka_failed', `metadata of topic ${topic}: no partitions listed`, { topic });
    return t.partitions.length;
  }

  isAssigned(t: TopicPartition): boolean {
    return this.assigned.has(key(t));
  }

  /**
   * Commits next offsets to the group. Transient failures (broker or coordinator unreachable, moving, loading)
   * are retried up to COMMIT_ATTEMPTS_MAX times, waiting the one backoff (src/retry.ts) in between, then fail
   * as `kafka_failed`. A rebalance in progress, an illegal generation or an unknown member id mean the
   * partitions are moving to other members: `kafka_partitions_moved` at once, never retried (the tables hold the
   * data with their offsets, so the new owners skip what is committed there).
   */
  async commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // Re-filtered on every attempt: a rebalance during the wait may have revoked some.
      const mine = offsets.filter((o) => this.assigned.has(key(o)));
      if (mine.length === 0) return;
      try {
        this.consumer.commitSync(mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
        return;
      } catch (e) {
        const err = e as { code?: number; message?: string; isRetriable?: boolean };
        const code = typeof err.code === 'number' ? err.code : null;
        const what = `${err.message ?? String(e)}${code !== null ? ` (code ${code})` : ''}`;
        if (code !== null && COMMIT_PARTITIONS_MOVED.has(code)) {
          throw new FloeError(
            'kafka_partitions_moved',
            `offset commit refused: the consumer group is rebalancing or this member's partitions were given to others (${what}); not retried`,
            { code, partitions: mine.length },
            e,
          );
        }
        const retriable = (code !== null && COMMIT_RETRIABLE.has(code)) || err.isRetriable === true;
        if (!retriable) throw new FloeError('kafka_failed', `offset commit failed: ${what}`, code !== null ? { code } : {}, e);
        if (attempt >= COMMIT_ATTEMPTS_MAX) throw new FloeError('kafka_failed', `offset commit failed after ${attempt} attempts: ${what}`, code !== null ? { code } : {}, e);
        await backoffSleep(attempt, this.cfg.commitBackoff ?? COMMIT_BACKOFF);
      }
    }
  }

  /**
   * Moves assigned partitions' read positions (a rewind to the last commit after a failed cycle); librdkafka
   * drops what it had prefetched for them.
   */
  async seek(positions: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    for (const p of positions) {
      if (!this.assigned.has(key(p))) continue;
      await new Promise<void>((resolve, reject) => {
        this.consumer.seek({ topic: p.topic, partition: p.partition, offset: p.offset }, SEEK_TIMEOUT_MS, (err) => {
          if (err) reject(new FloeError('kafka_failed', `seek ${key(p)} to ${p.offset} failed: ${err.message}`, { partition: key(p) }));
          else resolve();
        });
      });
    }
  }

  /**
   * Consumer lag per assigned partition: the broker's high watermark (cached by librdkafka from fetch responses,
   * no request) minus the next offset this member will process (`next`, else the consumer's position). Partitions
   * with no known watermark or position yet are left out.
   */
  lag(next: (t: TopicPartition) => number | undefined): { topic: string; partition: number; lag: number }[] {
    const out: { topic: string; partition: number; lag: number }[] = [];
    const positions = new Map<string, number>();
    try {
      for (const p of this.consumer.position([...this.assigned.values()].map((t) => ({ topic: t.topic, partition: t.partition })))) {
        if (typeof p.offset === 'number' && p.offset >= 0) positions.set(key(p), p.offset);
      }
    } catch (e) {
      // Not connected or being rebalanced: no lag this scrape.
      this.onTransientError?.(`position: ${e instanceof Error ? e.message : String(e)}`, -1);
      return out;
    }
    for (const t of this.assigned.values()) {
      let high: number;
      try {
        high = this.consumer.getWatermarkOffsets(t.topic, t.partition).highOffset;
      } catch {
        continue; // no fetch response for this partition yet: its watermark is unknown, not an error
      }
      const at = next(t) ?? positions.get(key(t));
      if (typeof high !== 'number' || high < 0 || at === undefined) continue;
      out.push({ topic: t.topic, partition: t.partition, lag: Math.max(0, high - at) });
    }
    return out;
  }

  pauseAll(): void {
    const tps = [...this.assigned.values()].filter((t) => !this.paused.has(key(t)));
    if (tps.length === 0) return;
    this.consumer.pause(tps.map((t) => ({ topic: t.topic, partition: t.partition })));
    for (const t of tps) this.paused.add(key(t));
  }

  resumeAll(): void {
    const tps = [...this.assigned.values()].filter((t) => this.paused.has(key(t)));
    if (tps.length === 0) return;
    this.consumer.resume(tps.map((t) => ({ topic: t.topic, partition: t.partition })));
    for (const t of tps) this.paused.delete(key(t));
  }

  get pausedCount(): number {
    return this.paused.size;
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    this.tokens?.stop();
    if (!this.consumer.isConnected()) return;
    await new Promise<void>((resolve) => {
      this.consumer.disconnect(() => resolve());
    });
  }
}

export function key(t: TopicPartition): string {
  return `${t.topic}/${t.partition}`;
}
