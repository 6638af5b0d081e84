// Proves floe's Puffin files follow the spec's layout (PFA1 magic at both ends and before the footer, little-endian footer size, flags, blob metadata with offsets) and read back, and that broken files are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { PUFFIN_MAGIC, readPuffin, writePuffin } from '../../src/iceberg/puffin.js';

describe('Puffin', () => {
  it('writes Magic Blobs Footer(Magic Payload Size Flags Magic) and reads the blobs back', () => {
    const a = Uint8Array.from([1, 2, 3]);
    const b = new Uint8Array(1000).fill(7);
    const bytes = writePuffin([
      { type: 'apache-datasketches-theta-v1', fields: [1], snapshotId: 2n ** 62n, sequenceNumber: 5n, data: a },
      { type: 'floe-pk-index-v1', fields: [1, 2], snapshotId: 9n, sequenceNumber: 0n, data: b, properties: { k: 'v' } },
    ], { 'created-by': 'floe' });
    assert.deepEqual(bytes.subarray(0, 4), PUFFIN_MAGIC);
    assert.deepEqual(bytes.subarray(bytes.length - 4), PUFFIN_MAGIC);
    assert.equal(bytes.readUInt32LE(bytes.length - 8), 0); // flags: footer not compressed
    const size = bytes.readUInt32LE(bytes.length - 12);
    const payload = JSON.parse(bytes.toString('utf8', bytes.length - 12 - size, bytes.length - 12)) as { blobs: Record<string, unknown>[]; properties: Record<string, string> };
    assert.deepEqual(bytes.subarray(bytes.length - 16 - size, bytes.length - 12 - size), PUFFIN_MAGIC);
    assert.deepEqual(payload.blobs.map((m) => [m.type, m.offset, m.length]), [['apache-datasketches-theta-v1', 4, 3], ['floe-pk-index-v1', 7, 1000]]);
    assert.deepEqual(payload.properties, { 'created-by': 'floe' });
    const back = readPuffin(bytes);
    assert.equal(back.blobs[0]!.snapshotId, 2n ** 62n);
    assert.deepEqual(Uint8Array.from(back.blobs[0]!.data), a);
    assert.deepEqual(Uint8Array.from(back.blobs[1]!.data), b);
    assert.deepEqual(back.blobs[1]!.properties, { k: 'v' });
    const refused = (x: Uint8Array) => assert.throws(() => readPuffin(x), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid');
    refused(bytes.subarray(0, bytes.length - 1));
    refused(Buffer.concat([bytes.subarray(0, 4), bytes.subarray(8)]));
  });
});
