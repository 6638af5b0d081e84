/**
 * Dead-letter topic: a record floe cannot apply (unparseable, no key, unknown op, value that does not fit
 * its column) is copied there unchanged, with the reason and its origin in headers:
 *   floe.error.reason, floe.source.topic, floe.source.partition, floe.source.offset
 * Deliveries are flushed before the source offsets are committed, so a dead-lettered record is never lost.
 */
import Kafka from 'node-rdkafka';
import { FloeError, describeError } from '../errors.js';
import { TokenRefresher, clientProperties, tokenSource, type KafkaAuthConfig, type KafkaTlsConfig } from './auth.js';
import type { SourceMessage } from './source.js';

export interface DeadLetterConfig {
  readonly brokers: string;
  readonly topic: string;
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  readonly auth?: KafkaAuthConfig;
  readonly tls?: KafkaTlsConfig;
  /** A token refresh failed (the current token stays valid until it expires; retried). */
  readonly onTokenError?: (e: unknown) => void;
  readonly connectTimeoutMs?: number;
}

const FLUSH_TIMEOUT_MS = 30_000;
const REASON_LENGTH_MAX = 1000;

export interface DeadLetterSink {
  send(m: SourceMessage, reason: string): void;
  /** Waits until every record sent is durable in the topic; throws if one was not delivered. */
  flush(): Promise<void>;
  /**
   * Forgets delivery failures (after a rewind: the records they were for are consumed again and re-sent; none
   * of their offsets was committed, since a failed flush fails the cycle before any table commit).
   */
  reset(): Promise<void>;
  close(): Promise<void>;
  readonly sent: number;
}

export class KafkaDeadLetter implements DeadLetterSink {
  private readonly producer: Kafka.Producer;
  private failure: Error | null = null;
  private readonly tokens: TokenRefresher | null;
  /** librdkafka's last error event (e.g. the SASL or TLS failure behind a "broker transport failure"). */
  private lastError: string | null = null;
  sent = 0;

  constructor(private readonly cfg: DeadLetterConfig) {
    this.producer = new Kafka.Producer({
      'metadata.broker.list': cfg.brokers,
      'enable.idempotence': true,
      'compression.type': 'lz4',
      dr_cb: true,
      event_cb: true,
      ...clientProperties(cfg.auth ?? { type: 'none' }, cfg.tls ?? { enabled: false }),
      ...(cfg.properties ?? {}),
    });
    const tokens = tokenSource(cfg.auth ?? { type: 'none' });
    this.tokens = tokens === null ? null : new TokenRefresher(tokens, (t) => this.producer.setOauthBearerToken(t), cfg.onTokenError ?? ((e) => { this.failure ??= new FloeError('kafka_failed', `dead-letter producer token refresh: ${describeError(e)}`); }));
    this.producer.on('event.error', (err: Kafka.LibrdKafkaError) => {
      this.lastError = err.message;
    });
    // SASL and TLS failures arrive as librdkafka log lines (severity 3, FAIL): keep the last for error messages.
    this.producer.on('event.log', (l: { severity: number; message: string }) => {
      if (l.severity <= 3) this.lastError = l.message.replace(/^\[thrd:[^\]]*\]: /, '');
    });
    this.producer.on('delivery-report', (err) => {
      if (err) this.failure ??= new FloeError('kafka_failed', `dead-letter delivery to ${cfg.topic} failed: ${err.message}`);
    });
    this.producer.setPollInterval(100);
  }

  async connect(): Promise<void> {
    await this.tokens?.start();
    await new Promise<void>((resolve, reject) => {
      const timeout = this.cfg.connectTimeoutMs ?? 30_000;
      this.producer.connect({ timeout }, (err) => (err ? reject(new FloeError('kafka_failed', `dead-letter producer: ${err.message}${this.lastError !== null ? ` (${this.lastError})` : ''}`)) : resolve()));
    });
    await this.checkTopic();
  }

  /**
   * The topic must exist before the first record needs it: a missing one (MSK does not create topics on use)
   * would otherwise surface only as a flush timeout in the middle of a commit.
   */
  private async checkTopic(): Promise<void> {
    const timeout = this.cfg.connectTimeoutMs ?? 30_000;
    const md = await new Promise<Kafka.Metadata>((resolve, reject) => {
      this.producer.getMetadata({ topic: this.cfg.topic, timeout }, (err, m) => (err ? reject(new FloeError('kafka_failed', `dead-letter topic ${this.cfg.topic}: metadata request failed: ${err.message}`)) : resolve(m)));
    });
    const t = md.topics.find((x) => x.name === this.cfg.topic);
    if (t === undefined || t.partitions.length === 0) {
      await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
      throw new FloeError('config_invalid', `kafka.deadLetterTopic "${this.cfg.topic}" does not exist on ${this.cfg.brokers}: create it (floe does not create topics)`, { field: 'kafka.deadLetterTopic' });
    }
  }

  send(m: SourceMessage, reason: string): void {
    const headers: Kafka.MessageHeader[] = [
      { 'floe.error.reason': Buffer.from(reason.slice(0, REASON_LENGTH_MAX)) },
      { 'floe.source.topic': Buffer.from(m.topic) },
      { 'floe.source.partition': Buffer.from(String(m.partition)) },
      { 'floe.source.offset': Buffer.from(String(m.offset)) },
    ];
    this.producer.produce(this.cfg.topic, null, m.value, m.key ?? undefined, m.timestamp ?? Date.now(), undefined, headers);
    this.sent++;
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.producer.flush(FLUSH_TIMEOUT_MS, (err) => (err ? reject(new FloeError('kafka_failed', `dead-letter flush failed: ${err.message}`)) : resolve()));
    });
    if (this.failure !== null) throw this.failure;
  }

  async reset(): Promise<void> {
    this.failure = null;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve) => {
      this.producer.disconnect(() => resolve());
    });
  }
}
