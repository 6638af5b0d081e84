// Proves floe's Kafka clients authenticate against a real broker's SASL_SSL listener: SCRAM-SHA-512 over TLS (CA-verified; a wrong password and an untrusted certificate are refused), and OAUTHBEARER through the token refresher with short-lived tokens while the broker re-authenticates every 10 s, so consumption only goes on if fresh tokens keep arriving; the dead-letter producer too.
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDeadLetter } from '../../src/kafka/dead-letter.js';
import type { KafkaAuthConfig, KafkaTlsConfig } from '../../src/kafka/auth.js';
import { KafkaSource, type SourceMessage } from '../../src/kafka/source.js';
import { createTopics, kafkaBrokers, produceOne, withProducer } from '../support/kafka.js';

const sasl = process.env.FLOE_KAFKA_SASL_BOOTSTRAP;
const ca = process.env.FLOE_KAFKA_CA;
const skip = kafkaBrokers !== undefined && sasl !== undefined && ca !== undefined ? false : 'Kafka harness with the SASL_SSL listener not running (run `npm test`)';
const run = randomBytes(3).toString('hex');

async function consumeAll(auth: KafkaAuthConfig, tls: KafkaTlsConfig, topic: string, want: number, opts: { untilMs?: number; onBatch?: () => void } = {}): Promise<SourceMessage[]> {
  const source = new KafkaSource({ brokers: sasl ?? '', groupId: `auth-${run}-${randomBytes(2).toString('hex')}`, topics: [topic], auth, tls, sessionTimeoutMs: 10_000 }, { onAssign: () => undefined, onRevoke: () => undefined });
  const got: SourceMessage[] = [];
  const errors: string[] = [];
  source.onTransientError = (m) => errors.push(m);
  await source.connect();
  try {
    const deadline = Date.now() + (opts.untilMs ?? 30_000);
    while (got.length < want && Date.now() < deadline) {
      got.push(...(await source.consume(100, 200)));
      opts.onBatch?.();
    }
  } finally {
    await source.disconnect();
  }
  assert.equal(got.length, want, `consumed ${got.length} of ${want}; errors: ${errors.slice(-3).join(' | ')}`);
  return got;
}

describe('Kafka authentication against the broker\'s SASL_SSL listener', { skip }, () => {
  const scram: KafkaAuthConfig = { type: 'scram', mechanism: 'SCRAM-SHA-512', username: process.env.FLOE_KAFKA_SCRAM_USER ?? '', password: process.env.FLOE_KAFKA_SCRAM_PASSWORD ?? '' };
  const tls: KafkaTlsConfig = { enabled: true, caLocation: ca ?? '' };

  it('SCRAM-SHA-512 over TLS: consumes, and dead-letters through the same authentication', async () => {
    const topic = `auth-scram-${run}`;
    await createTopics(kafkaBrokers ?? '', [topic, `${topic}-dlq`], 1);
    await withProducer(kafkaBrokers ?? '', async (p) => {
      for (let i = 0; i < 5; i++) await produceOne(p, topic, Buffer.from(`k${i}`), Buffer.from(`v${i}`));
    });
    const got = await consumeAll(scram, tls, topic, 5);
    assert.deepEqual(got.map((m) => m.value?.toString()), ['v0', 'v1', 'v2', 'v3', 'v4']);
    const dlq = new KafkaDeadLetter({ brokers: sasl ?? '', topic: `${topic}-dlq`, auth: scram, tls });
    await dlq.connect();
    dlq.send(got[0]!, 'test');
    await dlq.close();
    assert.equal((await consumeAll(scram, tls, `${topic}-dlq`, 1)).length, 1);
  });

  it('a wrong SCRAM password and an untrusted broker certificate are refused', async () => {
    const topic = `auth-refused-${run}`;
    await createTopics(kafkaBrokers ?? '', [topic], 1);
    for (const [auth, t, why] of [
      [{ ...scram, password: 'wrong' }, tls, /auth|SASL|credentials/i],
      [scram, { enabled: true }, /SSL|certificate|handshake|verify/i], // the system CAs do not know the test broker
    ] as const) {
      const p = new KafkaDeadLetter({ brokers: sasl ?? '', topic, auth, tls: t, connectTimeoutMs: 8000 });
      await assert.rejects(
        (async () => {
          await p.connect();
          await p.close();
        })(),
        (e: unknown) => e instanceof Error && why.test(e.message),
      );
    }
  });

  it('OAUTHBEARER: tokens live 4 s, the broker re-authenticates every 10 s, the refresher keeps the consumer going for 15 s', async () => {
    const topic = `auth-oauth-${run}`;
    await createTopics(kafkaBrokers ?? '', [topic], 1);
    const auth: KafkaAuthConfig = { type: 'oauthbearer-unsecured', principal: 'floe', lifetimeMs: 4000 };
    const t0 = Date.now();
    let produced = 0;
    const producer = withProducer(kafkaBrokers ?? '', async (p) => {
      while (Date.now() - t0 < 15_000) {
        await produceOne(p, topic, Buffer.from('k'), Buffer.from(String(produced++)));
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    const got = await consumeAll(auth, tls, topic, 55, { untilMs: 40_000 });
    await producer;
    assert.ok(Date.now() - t0 >= 13_000, 'consumed across at least one broker re-authentication with refreshed tokens');
    assert.deepEqual(got.map((m) => Number(m.value?.toString())), Array.from({ length: 55 }, (_, i) => i));
  });
});
