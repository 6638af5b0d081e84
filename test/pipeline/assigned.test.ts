// Proves the pipeline's filter of revoked partitions: messages of partitions no longer assigned are dropped and the rest keep their order, assignment is asked once per run of one partition's messages, and a batch of assigned partitions is passed on as it is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceMessage, TopicPartition } from '../../src/kafka/source.js';
import { assignedOnly } from '../../src/pipeline/pipeline.js';

const msg = (topic: string, partition: number, offset: number): SourceMessage => ({ topic, partition, offset, key: null, value: null, timestamp: undefined });

describe('assignedOnly', () => {
  const batch = [msg('a', 0, 1), msg('a', 0, 2), msg('a', 1, 7), msg('a', 1, 8), msg('a', 0, 3), msg('b', 0, 5), msg('b', 0, 6)];

  it('drops the messages of a revoked partition, keeping the others in order', () => {
    const asked: string[] = [];
    const kept = assignedOnly(batch, (t: TopicPartition) => {
      asked.push(`${t.topic}/${t.partition}`);
      return !(t.topic === 'a' && t.partition === 1);
    });
    assert.deepEqual(kept.map((m) => `${m.topic}/${m.partition}@${m.offset}`), ['a/0@1', 'a/0@2', 'a/0@3', 'b/0@5', 'b/0@6']);
    assert.deepEqual(asked, ['a/0', 'a/1', 'a/0', 'b/0']); // once per run, not per message
  });

  it('passes on the batch itself when every partition is assigned, and drops a batch whose first run is revoked', () => {
    assert.equal(assignedOnly(batch, () => true), batch);
    assert.deepEqual(assignedOnly(batch, (t) => t.topic === 'b').map((m) => m.offset), [5, 6]);
    assert.deepEqual(assignedOnly(batch, () => false), []);
  });
});
