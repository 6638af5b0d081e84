// Proves the primary-key index maps keys to row locations exactly: numeric keys in the typed-array table (through growth, deletes and reinserts, int and long spellings of one key), text and composite keys in the map, files interned, the key budget enforced, and a saved index reads back identical (damaged files refused).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile } from '../../src/worker/pk-index.js';

const file = (n: number): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: 0, partition: [] });

describe('PkIndex', () => {
  it('holds a million long keys through growth, with deletes and reinserts, and agrees with a Map', () => {
    const idx = new PkIndex();
    const model = new Map<bigint, [number, number]>();
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 1_000_000; i++) {
      const k = BigInt(rnd() % 300_000) * (i % 2 === 0 ? 1n : -7_000_000_000_000n);
      const op = rnd() % 10;
      if (op < 7) {
        const f = rnd() % 50;
        const pos = rnd() % 100_000;
        idx.set([k], file(f), pos);
        model.set(k, [f, pos]);
      } else {
        assert.equal(idx.delete([k]), model.delete(k));
      }
    }
    assert.equal(idx.size, model.size);
    for (const [k, [f, pos]] of model) {
      const at = idx.get([k]);
      assert.ok(at !== undefined, `key ${k}`);
      assert.equal(at.file.path, file(f).path);
      assert.equal(at.pos, pos);
    }
    assert.equal(idx.get([123456789123n]), undefined);
    assert.ok(idx.bytes / idx.size < 64, `bytes per key ${idx.bytes / idx.size}`);
  });

  it('an int key and the same value as a long are one key (a key column promoted int → long)', () => {
    const idx = new PkIndex();
    idx.set([5], file(1), 3);
    assert.deepEqual(idx.get([5n])?.pos, 3);
    idx.set([5n], file(2), 4);
    assert.equal(idx.size, 1);
    assert.equal(idx.get([5])?.file.path, file(2).path);
  });

  it('a composite key whose int part was promoted to long is still the same key', () => {
    const idx = new PkIndex();
    idx.set([5, 'eu'], file(1), 3); // written while the column was int
    assert.equal(idx.get([5n, 'eu'])?.pos, 3);
    idx.set([5n, 'eu'], file(2), 4);
    assert.equal(idx.size, 1);
    assert.equal(idx.delete([5, 'eu']), true);
    assert.equal(idx.size, 0);
  });

  it('text and composite keys are exact: no two different keys collide', () => {
    const idx = new PkIndex();
    idx.set(['a', 1n], file(1), 0);
    idx.set(['a1', null], file(1), 1);
    idx.set(['a', 11n], file(1), 2);
    idx.set([Uint8Array.from([1, 2])], file(2), 0);
    idx.set(['😀'], file(2), 1);
    assert.equal(idx.size, 5);
    assert.equal(idx.get(['a', 1n])?.pos, 0);
    assert.equal(idx.get(['a1', null])?.pos, 1);
    assert.equal(idx.get(['a', 11n])?.pos, 2);
    assert.equal(idx.get([Uint8Array.from([1, 2])])?.file.path, file(2).path);
    assert.equal(idx.get(['a', 2n]), undefined);
    assert.equal(idx.delete(['a', 1n]), true);
    assert.equal(idx.get(['a', 1n]), undefined);
  });

  it('refuses keys beyond its budget with index_full', () => {
    const idx = new PkIndex(3);
    idx.set([1n], file(1), 0);
    idx.set(['x'], file(1), 1);
    idx.set([2n], file(1), 2);
    idx.set([2n], file(1), 5); // an existing key moves: no new key
    assert.throws(() => idx.set([3n], file(1), 3), (e: unknown) => e instanceof FloeError && e.code === 'index_full');
    assert.throws(() => idx.set(['y'], file(1), 3), (e: unknown) => e instanceof FloeError && e.code === 'index_full');
  });

  it('saves and loads: every key, location, file and partition value comes back; damaged bytes are refused', () => {
    const idx = new PkIndex();
    const partitioned: IndexedFile = { path: 's3://b/t/data/region=eu/x.parquet', specId: 2, partition: ['eu', 2n ** 60n, Uint8Array.from([0, 255]), null, 19_000] };
    for (let i = 0; i < 5000; i++) idx.set([BigInt(i) * 1_000_000_007n - 2n ** 62n], i % 2 === 0 ? partitioned : file(i % 7), i);
    for (let i = 0; i < 1000; i += 3) idx.delete([BigInt(i) * 1_000_000_007n - 2n ** 62n]);
    idx.set(['a', 1n], file(1), 7);
    idx.set(['😀'], partitioned, 8);
    const meta = { tableUuid: 'u-1', snapshotId: '9007199254740993', keyIds: [1, 2] };
    const bytes = indexToBytes(idx, meta);
    const { index, meta: back } = indexFromBytes(bytes);
    assert.deepEqual(back, meta);
    assert.equal(index.size, idx.size);
    for (let i = 0; i < 5000; i++) {
      const k = [BigInt(i) * 1_000_000_007n - 2n ** 62n];
      assert.deepEqual(index.get(k), idx.get(k));
    }
    assert.deepEqual(index.get(['a', 1n]), idx.get(['a', 1n]));
    assert.deepEqual(index.get(['😀'])?.file.partition, partitioned.partition);
    const refuse = (b: Uint8Array) => assert.throws(() => indexFromBytes(b), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid');
    refuse(bytes.subarray(0, bytes.length - 3));
    refuse(Buffer.concat([bytes, Buffer.from([1])]));
    refuse(Buffer.from('nope, not an index file'));
  });
});
