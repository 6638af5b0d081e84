// Proves murmur2 and defaultPartition match Kafka's Utils.murmur2 / toPositive on kafka-clients' own test vectors (UtilsTest.testMurmur2), every tail length, and the sign-bit edge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPartition, murmur2, toPositive } from '../../src/kafka/partitioner.js';

/** kafka-clients UtilsTest.testMurmur2 (Java's String.getBytes() of ASCII text, so the bytes are the text). */
const KAFKA_VECTORS: readonly (readonly [string | number[], number])[] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  [[0x61, 0x62, 0x63], 479470107],
];

describe('murmur2', () => {
  it('matches kafka-clients test vectors', () => {
    for (const [input, want] of KAFKA_VECTORS) {
      const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : Uint8Array.from(input);
      assert.equal(murmur2(bytes), want, String(input));
    }
  });

  it('returns a signed int32 for every tail length, and hashes a subarray by its own bytes', () => {
    const base = Buffer.from('0123456789abcdef');
    for (let n = 0; n <= base.length; n++) {
      const h = murmur2(base.subarray(0, n));
      assert.ok(Number.isInteger(h) && h >= -0x80000000 && h <= 0x7fffffff);
      assert.equal(murmur2(Buffer.concat([Buffer.from('xx'), base.subarray(0, n)]).subarray(2)), h);
    }
  });
});

describe('defaultPartition', () => {
  it('is toPositive(murmur2) % n, toPositive clearing the sign bit (not Math.abs)', () => {
    assert.equal(toPositive(-0x80000000), 0);
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(5), 5);
    const key = Buffer.from('foobar');
    for (const n of [1, 2, 3, 6, 12, 100]) assert.equal(defaultPartition(key, n), (-790332482 & 0x7fffffff) % n);
  });

  it('refuses a partition count that is not a positive integer', () => {
    assert.throws(() => defaultPartition(Buffer.from('a'), 0), /partition count/);
    assert.throws(() => defaultPartition(Buffer.from('a'), 1.5), /partition count/);
  });
});
