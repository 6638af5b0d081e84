/**
 * An embedded Kafka-protocol broker for `floe demo`: librdkafka's built-in mock cluster
 * (`test.mock.num.brokers`), which lives inside a client and listens on 127.0.0.1. Topics are created on
 * first produce (4 partitions); consumer groups and offset commits work. Only for the demo: it keeps only
 * the last few MiB per partition and is not a real broker.
 */
import Kafka from 'node-rdkafka';
import { FloeError } from '../errors.js';

const TOPIC_CREATE_TIMEOUT_MS = 10_000;

export class MockCluster {
  private constructor(
    private readonly producer: Kafka.Producer,
    readonly bootstrap: string,
  ) {}

  static async start(): Promise<MockCluster> {
    const producer = new Kafka.Producer({ 'test.mock.num.brokers': 1, 'client.id': 'floe-demo-cluster', 'linger.ms': 5, event_cb: true } as Kafka.ProducerGlobalConfig);
    const md = await new Promise<Kafka.Metadata>((resolve, reject) => {
      producer.connect({}, (err, data) => (err ? reject(new FloeError('kafka_failed', `embedded Kafka did not start: ${err.message}`)) : resolve(data)));
    });
    const b = md.brokers[0];
    if (b === undefined) throw new FloeError('kafka_failed', 'embedded Kafka reported no broker');
    return new MockCluster(producer, `${b.host}:${b.port}`);
  }

  produce(topic: string, key: Buffer | null, value: Buffer | null): void {
    for (;;) {
      try {
        this.producer.produce(topic, null, value, key, Date.now());
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw e;
        this.producer.poll();
      }
    }
  }

  /**
   * Creates `topic` now (the mock cluster creates a topic when a metadata request names it) and waits until
   * it reports partitions, so a client that checks the topic at startup (the dead-letter producer) finds it.
   */
  async createTopic(topic: string, timeoutMs = TOPIC_CREATE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const md = await new Promise<Kafka.Metadata>((resolve, reject) => {
        this.producer.getMetadata({ topic, timeout: 5_000 }, (err, m) => (err ? reject(new FloeError('kafka_failed', `embedded Kafka: metadata for ${topic}: ${err.message}`)) : resolve(m)));
      });
      if ((md.topics.find((t) => t.name === topic)?.partitions.length ?? 0) > 0) return;
      if (Date.now() > deadline) throw new FloeError('kafka_failed', `embedded Kafka did not create topic ${topic} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.producer.flush(30_000, (err) => (err ? reject(new FloeError('kafka_failed', `embedded Kafka flush: ${err.message}`)) : resolve()));
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.producer.disconnect(() => resolve());
    });
  }
}
