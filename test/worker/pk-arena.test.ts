// Proves the key arena stores and compares key bytes exactly across chunk boundaries (entries of any length, one larger than a chunk), and asks for compaction only once deleted bytes are over 1 MiB and outweigh the live ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMPACT_GARBAGE_MIN_BYTES, KeyArena } from '../../src/worker/pk-arena.js';

const entry = (i: number) => Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j) & 0xff);

describe('KeyArena', () => {
  it('holds entries across chunks, compared and read back exactly', () => {
    const a = new KeyArena();
    const refs: number[] = [];
    for (let i = 0; i < 60_000; i++) refs.push(a.append(entry(i), entry(i).length));
    const huge = Uint8Array.from({ length: 5 * 2 ** 20 }, (_, j) => j & 0xff);
    const hugeRef = a.append(huge, huge.length);
    refs.forEach((ref, i) => {
      assert.deepEqual(a.view(ref), entry(i));
      assert.equal(a.equals(ref, entry(i), entry(i).length), true);
      assert.equal(a.equals(ref, entry(i + 1), entry(i + 1).length), entry(i).length === 0 && entry(i + 1).length === 0);
    });
    assert.equal(a.equals(hugeRef, huge, huge.length), true);
    assert.ok(a.bytes >= huge.length + 60_000 * 150, `bytes ${a.bytes}`);
    // A scratch buffer longer than the key: only its first n bytes count.
    const scratch = new Uint8Array(400);
    scratch.set(entry(5));
    assert.equal(a.equals(refs[5] as number, scratch, entry(5).length), true);
    assert.equal(a.view(a.append(scratch, 3)).length, 3);
  });

  it('wants compaction once garbage is over the minimum and at least the live bytes', () => {
    const a = new KeyArena();
    const key = new Uint8Array(1000);
    const refs = Array.from({ length: 3000 }, () => a.append(key, key.length));
    let i = 0;
    while (a.garbage < COMPACT_GARBAGE_MIN_BYTES) a.release(refs[i++] as number);
    assert.equal(a.wantsCompaction, false, 'garbage over the minimum, less than live');
    while (i < 1500) a.release(refs[i++] as number);
    assert.equal(a.wantsCompaction, true);
    a.clear();
    assert.deepEqual([a.bytes, a.garbage, a.wantsCompaction], [0, 0, false]);
  });
});
