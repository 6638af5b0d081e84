// Proves KafkaSource.commit's retry policy with a stubbed librdkafka commitSync: transient errors (transport, request timeout, coordinator unavailable or moved) are retried with the shared backoff between attempts and end as a transient kafka_failed; a rebalance in progress, an illegal generation or an unknown member id end at once as kafka_partitions_moved; other errors are not retried; only assigned partitions are committed, checked again after each wait (a rebalance may revoke some meanwhile).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Kafka from 'node-rdkafka';
import { FloeError } from '../../src/errors.js';
import { KafkaSource, key, type TopicPartition } from '../../src/kafka/source.js';

const E = Kafka.CODES.ERRORS;
const BACKOFF = { baseMs: 20, maxMs: 1_000 };
/** KafkaSource's COMMIT_ATTEMPTS_MAX. */
const ATTEMPTS = 5;

/** A librdkafka-style error (node-rdkafka throws objects with a numeric code). */
function kafkaError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('KafkaSource.commit', () => {
  const sources: KafkaSource[] = [];
  after(async () => {
    for (const s of sources) await s.disconnect();
  });

  /** A source (never connected) holding `assigned`, whose commitSync is `commitSync`; returns the call times and offsets. */
  function source(commitSync: (call: number) => void, assigned: TopicPartition[] = [{ topic: 't', partition: 0 }]) {
    const s = new KafkaSource({ brokers: '127.0.0.1:1', groupId: 'g', topics: ['t'], commitBackoff: BACKOFF }, { onAssign: () => undefined, onRevoke: () => undefined });
    sources.push(s);
    const inner = s as unknown as { consumer: { commitSync: (o: unknown) => void }; assigned: Map<string, TopicPartition> };
    for (const t of assigned) inner.assigned.set(key(t), t);
    const calls: { at: number; offsets: unknown }[] = [];
    inner.consumer.commitSync = (offsets: unknown) => {
      calls.push({ at: performance.now(), offsets });
      commitSync(calls.length);
    };
    return { s, calls };
  }

  it('retries transient errors with the backoff between attempts, then commits', async () => {
    const transient = [E.ERR__TRANSPORT, E.ERR_REQUEST_TIMED_OUT, E.ERR_COORDINATOR_NOT_AVAILABLE, E.ERR_NOT_COORDINATOR];
    const { s, calls } = source((n) => {
      if (n <= transient.length) throw kafkaError(transient[n - 1]!, `failure ${n}`);
    });
    await s.commit([{ topic: 't', partition: 0, offset: 42 }]);
    assert.equal(calls.length, transient.length + 1);
    assert.deepEqual(calls.at(-1)!.offsets, [{ topic: 't', partition: 0, offset: 42 }]);
    // The wait before retry n is at least half of min(maxMs, baseMs * 2^(n-1)) (jitter 0.5 to 1.5).
    for (let n = 1; n < calls.length; n++) {
      const gap = calls[n]!.at - calls[n - 1]!.at;
      assert.ok(gap >= 0.5 * Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (n - 1)) - 2, `retry ${n} waited ${gap.toFixed(1)} ms`);
    }
  });

  it('gives up after the attempts with a transient kafka_failed', async () => {
    const { s, calls } = source(() => {
      throw kafkaError(E.ERR_COORDINATOR_NOT_AVAILABLE, 'Broker: Coordinator not available');
    });
    await assert.rejects(s.commit([{ topic: 't', partition: 0, offset: 1 }]), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'kafka_failed');
      assert.equal(e.retry, 'transient');
      assert.match(e.message, new RegExp(`offset commit failed after ${ATTEMPTS} attempts: Broker: Coordinator not available \\(code ${E.ERR_COORDINATOR_NOT_AVAILABLE}\\)`));
      return true;
    });
    assert.equal(calls.length, ATTEMPTS);
  });

  for (const [name, code] of [['ERR_REBALANCE_IN_PROGRESS', E.ERR_REBALANCE_IN_PROGRESS], ['ERR_ILLEGAL_GENERATION', E.ERR_ILLEGAL_GENERATION], ['ERR_UNKNOWN_MEMBER_ID', E.ERR_UNKNOWN_MEMBER_ID]] as const) {
    it(`${name}: the partitions moved, not retried`, async () => {
      const { s, calls } = source(() => {
        throw kafkaError(code, name);
      });
      await assert.rejects(s.commit([{ topic: 't', partition: 0, offset: 1 }]), (e: unknown) => {
        assert.ok(e instanceof FloeError);
        assert.equal(e.code, 'kafka_partitions_moved');
        assert.equal(e.retry, 'never');
        assert.match(e.message, /rebalancing or this member's partitions were given to others/);
        assert.equal(e.details.code, code);
        return true;
      });
      assert.equal(calls.length, 1);
    });
  }

  it('does not retry other errors', async () => {
    const { s, calls } = source(() => {
      throw kafkaError(E.ERR_GROUP_AUTHORIZATION_FAILED, 'Broker: Group authorization failed');
    });
    await assert.rejects(s.commit([{ topic: 't', partition: 0, offset: 1 }]), (e: unknown) => e instanceof FloeError && e.code === 'kafka_failed' && /Group authorization failed/.test(e.message));
    assert.equal(calls.length, 1);
  });

  it('drops partitions revoked while it waited', async () => {
    const tps = [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }];
    let inner: { assigned: Map<string, TopicPartition> } | null = null;
    const { s, calls } = source((n) => {
      if (n === 1) {
        inner!.assigned.delete(key(tps[0]!)); // the rebalance callback runs during the backoff
        throw kafkaError(E.ERR__TRANSPORT, 'Local: Broker transport failure');
      }
    }, tps);
    inner = s as unknown as { assigned: Map<string, TopicPartition> };
    await s.commit([{ topic: 't', partition: 0, offset: 3 }, { topic: 't', partition: 1, offset: 4 }]);
    assert.deepEqual(calls.map((c) => c.offsets), [[{ topic: 't', partition: 0, offset: 3 }, { topic: 't', partition: 1, offset: 4 }], [{ topic: 't', partition: 1, offset: 4 }]]);
  });

  it('commits only assigned partitions, and nothing when none is', async () => {
    const { s, calls } = source(() => undefined, [{ topic: 't', partition: 1 }]);
    await s.commit([{ topic: 't', partition: 0, offset: 5 }]);
    assert.equal(calls.length, 0);
    await s.commit([{ topic: 't', partition: 0, offset: 5 }, { topic: 't', partition: 1, offset: 9 }]);
    assert.deepEqual(calls.map((c) => c.offsets), [[{ topic: 't', partition: 1, offset: 9 }]]);
  });
});
