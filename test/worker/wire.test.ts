// Proves Kafka message batches survive packing into one transferable ArrayBuffer: topics, partitions, offsets, null and empty keys and values, and binary payloads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceMessage } from '../../src/kafka/source.js';
import { packBatch, unpackBatch } from '../../src/worker/wire.js';

describe('wire', () => {
  it('round-trips a batch', () => {
    const msgs: SourceMessage[] = [
      { topic: 'a.b.c', partition: 0, offset: 0, key: Buffer.from('{"id":1}'), value: Buffer.from('{"x":"é🧊"}'), timestamp: undefined },
      { topic: 'a.b.d', partition: 7, offset: 2 ** 40, key: null, value: null, timestamp: undefined },
      { topic: 'a.b.c', partition: 3, offset: 12345, key: Buffer.alloc(0), value: Buffer.from([0, 255, 1]), timestamp: undefined },
    ];
    const packed = packBatch(msgs);
    assert.deepEqual(packed.topics, ['a.b.c', 'a.b.d']);
    const back = unpackBatch(structuredClone(packed, { transfer: [packed.buffer] }));
    assert.equal(back.length, 3);
    back.forEach((m, i) => {
      const o = msgs[i]!;
      assert.equal(m.topic, o.topic);
      assert.equal(m.partition, o.partition);
      assert.equal(m.offset, o.offset);
      assert.deepEqual(m.key === null ? null : [...m.key], o.key === null ? null : [...o.key]);
      assert.deepEqual(m.value === null ? null : [...m.value], o.value === null ? null : [...o.value]);
    });
  });
});
