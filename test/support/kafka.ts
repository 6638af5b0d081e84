// Kafka helpers for integration tests: create topics, produce generated Debezium events, read a topic back with headers.
import Kafka from 'node-rdkafka';
import type { DebeziumGenerator, GeneratedEvent } from '../../src/demo/debezium-generator.js';

export const kafkaBrokers = process.env.FLOE_KAFKA_BOOTSTRAP;

export async function createTopics(brokers: string, topics: readonly string[], partitions: number): Promise<void> {
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': brokers });
  try {
    for (const topic of topics) {
      await new Promise<void>((resolve, reject) => {
        admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, 30_000, (err) => (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS ? reject(err) : resolve()));
      });
    }
  } finally {
    admin.disconnect();
  }
}

export async function withProducer<T>(brokers: string, fn: (p: Kafka.Producer) => T | Promise<T>): Promise<T> {
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 5, 'enable.idempotence': true, 'queue.buffering.max.messages': 1_000_000 });
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    const out = await fn(p);
    await new Promise<void>((resolve, reject) => p.flush(60_000, (err) => (err ? reject(err) : resolve())));
    return out;
  } finally {
    await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  }
}

/** Produces one record, waiting (not spinning) while librdkafka's local queue is full. */
export async function produceOne(p: Kafka.Producer, topic: string, key: Buffer | null, value: Buffer | null): Promise<void> {
  for (;;) {
    try {
      p.produce(topic, null, value, key, Date.now());
      return;
    } catch (e) {
      if ((e as { code?: number }).code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw e;
      p.poll();
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Produces `count` generator steps; returns the events produced (tombstones included). */
export async function produceEvents(brokers: string, gen: DebeziumGenerator, count: number, startSeq = 0): Promise<GeneratedEvent[]> {
  return withProducer(brokers, async (p) => {
    const all: GeneratedEvent[] = [];
    for (let i = 0; i < count; i++) {
      for (const ev of gen.next(startSeq + i)) {
        await produceOne(p, ev.topic, ev.key, ev.value);
        all.push(ev);
      }
      if (i % 1000 === 0) p.poll();
    }
    return all;
  });
}

export interface ReadRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: number;
}

/** Reads a topic from the beginning until `expected` records or `timeoutMs`. */
export async function readTopic(brokers: string, topic: string, expected: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const c = new Kafka.KafkaConsumer({ 'metadata.broker.list': brokers, 'group.id': `reader-${Date.now()}-${Math.random()}`, 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
  c.subscribe([topic]);
  c.setDefaultConsumeTimeout(500);
  const out: ReadRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (out.length < expected && Date.now() < deadline) {
      const msgs = await new Promise<Kafka.Message[]>((resolve, reject) => c.consume(1000, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of msgs) {
        const headers: Record<string, string> = {};
        for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
        out.push({ key: m.key === null || m.key === undefined ? null : m.key.toString(), value: m.value?.toString() ?? null, headers, partition: m.partition, offset: m.offset });
      }
    }
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
  return out;
}

/** Sum of end offsets (high watermarks) of a topic's partitions. */
export async function endOffsets(brokers: string, topic: string, partitions: number): Promise<number> {
  const c = new Kafka.KafkaConsumer({ 'metadata.broker.list': brokers, 'group.id': 'watermarks' }, {});
  await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    let sum = 0;
    for (let p = 0; p < partitions; p++) {
      sum += await new Promise<number>((resolve, reject) => c.queryWatermarkOffsets(topic, p, 10_000, (err, o) => (err ? reject(err) : resolve(o.highOffset))));
    }
    return sum;
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
}
