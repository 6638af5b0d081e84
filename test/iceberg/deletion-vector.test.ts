// Proves the deletion-vector-v1 blob codec: positions round-trip through array, bitmap and multi-key (≥ 2^32) Roaring containers, run containers written by other writers are read, the bytes match the spec's layout (big-endian length, magic, CRC), and damage is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  deserializeDeletionVector,
  deserializeRoaring64,
  normalizePositions,
  serializeDeletionVector,
  serializeRoaring64,
  unionPositions,
} from '../../src/iceberg/deletion-vector.js';

const roundTrip = (positions: number[]): number[] => [...deserializeDeletionVector(serializeDeletionVector(normalizePositions(positions)))];

describe('deletion vectors (deletion-vector-v1, portable Roaring64)', () => {
  it('round-trips sparse, dense (bitmap container) and > 2^32 positions', () => {
    assert.deepEqual(roundTrip([]), []);
    assert.deepEqual(roundTrip([5, 1, 5, 0]), [0, 1, 5]);
    const dense = Array.from({ length: 10_000 }, (_, i) => 70_000 + i * 3); // > 4096 in one 2^16 chunk → bitmap
    assert.deepEqual(roundTrip(dense), dense);
    const wide = [0, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, 3 * 2 ** 32 + 1];
    assert.deepEqual(roundTrip(wide), wide);
  });

  it('frames the vector as the spec says: length (BE) | D1 D3 39 64 | vector | CRC-32 (BE)', () => {
    const blob = serializeDeletionVector(normalizePositions([3]));
    const len = blob.readUInt32BE(0);
    assert.equal(len + 8, blob.length);
    assert.deepEqual([...blob.subarray(4, 8)], [0xd1, 0xd3, 0x39, 0x64]);
    assert.equal(blob.readUInt32BE(4 + len), crc32(blob.subarray(4, 4 + len)));
    // one 32-bit bitmap (key 0) holding one array container with the value 3: the same 42 bytes Iceberg's Java writer produces
    const vector = blob.subarray(8, 4 + len);
    assert.equal(vector.readBigUInt64LE(0), 1n);
    assert.equal(vector.readUInt32LE(8), 0);
    assert.equal(vector.readUInt32LE(12), 12346); // SERIAL_COOKIE_NO_RUNCONTAINER
    assert.equal(vector.readUInt32LE(16), 1);
    assert.equal(vector.readUInt16LE(20), 0); // container key
    assert.equal(vector.readUInt16LE(22), 0); // cardinality - 1
    assert.equal(vector.readUInt32LE(24), 16); // offset of the container within the 32-bit bitmap
    assert.equal(vector.readUInt16LE(28), 3);
    assert.equal(blob.length, 42);
  });

  it('reads run containers (cookie 12347), as writers that run-optimize produce', () => {
    // one 32-bit bitmap: 1 container, key 1, run flag set, runs [10..14] and [100..100]
    const b = Buffer.alloc(8 + 4 + 4 + 1 + 4 + 2 + 8);
    let at = 0;
    b.writeBigUInt64LE(1n, at); at += 8;
    b.writeUInt32LE(0, at); at += 4;
    b.writeUInt32LE(12347 | (0 << 16), at); at += 4; // (count - 1) = 0 in the high half
    b.writeUInt8(1, at); at += 1; // run flags
    b.writeUInt16LE(1, at); b.writeUInt16LE(5, at + 2); at += 4; // key 1, cardinality 6
    b.writeUInt16LE(2, at); at += 2; // two runs (no offset header below 4 containers)
    b.writeUInt16LE(10, at); b.writeUInt16LE(4, at + 2); b.writeUInt16LE(100, at + 4); b.writeUInt16LE(0, at + 6);
    assert.deepEqual([...deserializeRoaring64(b)], [65_546, 65_547, 65_548, 65_549, 65_550, 65_636]);
  });

  it('refuses a damaged blob: wrong CRC, wrong magic, wrong length, truncated bitmap', () => {
    const good = serializeDeletionVector(normalizePositions([1, 2, 3]));
    const crc = Buffer.from(good);
    crc[good.length - 1] = (crc[good.length - 1] as number) ^ 1;
    assert.throws(() => deserializeDeletionVector(crc), /CRC/);
    const magic = Buffer.from(good);
    magic[4] = 0;
    assert.throws(() => deserializeDeletionVector(magic), /magic/);
    assert.throws(() => deserializeDeletionVector(good.subarray(0, good.length - 1)), /length/);
    assert.throws(() => deserializeRoaring64(serializeRoaring64(normalizePositions([1, 2])).subarray(0, 20)), /truncated/);
    assert.throws(() => normalizePositions([-1]), /row number/);
  });

  it('unions position sets', () => {
    assert.deepEqual([...unionPositions(Float64Array.of(1, 5), Float64Array.of(), Float64Array.of(2, 5, 9))], [1, 2, 5, 9]);
  });
});
