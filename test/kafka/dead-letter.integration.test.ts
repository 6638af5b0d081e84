// Proves the dead-letter producer checks its topic at startup: a missing topic is a config error naming kafka.deadLetterTopic (not a flush timeout in the middle of a commit), and an existing one takes records with their reason headers.
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { KafkaDeadLetter } from '../../src/kafka/dead-letter.js';
import { createTopics, kafkaBrokers, readTopic } from '../support/kafka.js';

const run = randomBytes(3).toString('hex');

describe('dead-letter topic', { skip: kafkaBrokers !== undefined ? false : 'Kafka harness not running (run `npm test`)' }, () => {
  it('a missing topic fails at connect, naming the field', async () => {
    const dlq = new KafkaDeadLetter({ brokers: kafkaBrokers ?? '', topic: `missing-dlq-${run}`, connectTimeoutMs: 10_000 });
    await assert.rejects(dlq.connect(), (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.details.field === 'kafka.deadLetterTopic' && /does not exist/.test(e.message));
  });

  it('an existing topic takes records with their reason and origin', async () => {
    const topic = `dlq-${run}`;
    await createTopics(kafkaBrokers ?? '', [topic], 1);
    const dlq = new KafkaDeadLetter({ brokers: kafkaBrokers ?? '', topic });
    await dlq.connect();
    dlq.send({ topic: 'cdc.shop.t', partition: 3, offset: 42, key: Buffer.from('k'), value: Buffer.from('{bad'), timestamp: undefined }, 'unparseable JSON');
    await dlq.close();
    const [r] = await readTopic(kafkaBrokers ?? '', topic, 1);
    assert.equal(r?.value, '{bad');
    assert.equal(r?.headers['floe.error.reason'], 'unparseable JSON');
    assert.equal(r?.headers['floe.source.offset'], '42');
  });
});
