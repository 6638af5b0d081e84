// Proves the primary-key index maps keys to row locations exactly and compactly: integer keys (through growth, deletes and reinserts, int/long/integral-double spellings of one value) at ≤ 16 bytes a key at every size from 64 k keys on, other keys (text, binary, composite, beyond int64, lone surrogates) by fingerprint and exact bytes even when an injected weak fingerprint makes them all collide, deleted keys' bytes reclaimed, file sweeps, releases and id reuse with per-file row counts, the key budget enforced, the bootstrap's bulk int path (two's complement halves, deleted rows skipped, duplicates returned) equal to `set` and reserved room still ≤ 16 bytes a key, and a saved index reads back identical (damaged files and older format versions refused).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile, type PkIndexOptions } from '../../src/worker/pk-index.js';

const file = (n: number): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: 0, partition: [] });

describe('PkIndex', () => {
  it('bulk-inserts integer keys given as two\'s complement halves exactly as set() does, skipping deleted rows and returning the rows of keys it holds', () => {
    const keys = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 4_294_967_296n, -4_294_967_297n, 12345n, 12345n, 7n];
    const halves = new Int32Array(new BigInt64Array(keys).buffer);
    const idx = new PkIndex();
    idx.set([7n], file(0), 3);
    idx.reserve(keys.length, true);
    // Row 1 (-1) is deleted; row 7 repeats row 6's key; row 8's key (7) is already held.
    assert.deepEqual(idx.insertIntsIfAbsent(halves, keys.length, false, file(1), [1]), [7, 8]);
    assert.equal(idx.size, 7);
    assert.equal(idx.get([-1n]), undefined);
    for (const [i, k] of keys.entries()) {
      if (i === 1 || i >= 7) continue;
      assert.equal(idx.get([k])?.pos, i, `key ${k}`);
      assert.equal(idx.get([k])?.file.path, file(1).path);
    }
    assert.equal(idx.get([Number(12345)])?.pos, 6); // a number spelling of the same value finds it
    assert.equal(idx.get([7n])?.file.path, file(0).path);
    assert.equal(idx.rowsIn(file(1).path), 6);
    assert.equal(idx.rowsIn(file(0).path), 1);
    const ints = new PkIndex();
    assert.deepEqual(ints.insertIntsIfAbsent(new Int32Array([-5, 0, 2 ** 31 - 1, -(2 ** 31), -5]), 5, true, file(2), null), [4]);
    for (const [i, v] of [-5, 0, 2 ** 31 - 1, -(2 ** 31)].entries()) assert.equal(ints.get([BigInt(v)])?.pos, i, `int ${v}`);
  });

  it('reserves room for a bootstrap without giving up its density', () => {
    const idx = new PkIndex();
    const n = 1_000_000;
    idx.reserve(n, true);
    const halves = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) halves[2 * i] = i * 4001; // < 2^32: the low word alone
    assert.deepEqual(idx.insertIntsIfAbsent(halves, n, false, file(1), null), []);
    assert.equal(idx.size, n);
    assert.ok(idx.bytes / n <= 16, `bytes per key ${idx.bytes / n}`);
    for (let i = 0; i < n; i += 997) assert.equal(idx.get([BigInt(i * 4001)])?.pos, i);
  });

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
    assert.ok(idx.bytes / idx.size < 64, `bytes per key ${idx.bytes / idx.size}`); // a few thousand keys: fixed costs weigh
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

  it('holds long keys at ≤ 16 bytes a key (load, location, file table included) at every size from 64 k keys on', () => {
    const idx = new PkIndex();
    const f = file(0);
    let worst = 0;
    for (let i = 0; i < 400_000; i++) {
      // Snowflake-like ids (milliseconds << 22 | sequence) in a scrambled order.
      const j = (i * 2_654_435_761) % 400_000;
      idx.set([(BigInt(1_735_689_600_000 + Math.floor(j / 4096)) << 22n) | BigInt(j % 4096)], f, i);
      if (i >= 65_536 && i % 1000 === 0) worst = Math.max(worst, idx.bytes / idx.size);
    }
    assert.ok(worst > 12 && worst <= 16, `worst bytes per key ${worst}`);
  });

  it('an integral number and the bigint of its value are one key, alone or in a composite key', () => {
    const idx = new PkIndex();
    idx.set([2 ** 60], file(1), 1); // an integral double beyond 2^53: placed by its exact value
    assert.equal(idx.get([2n ** 60n])?.pos, 1);
    idx.set([-0], file(1), 2);
    assert.equal(idx.get([0n])?.pos, 2);
    idx.set([2 ** 70, 'x'], file(1), 3);
    assert.equal(idx.get([2n ** 70n, 'x'])?.pos, 3);
    idx.set([2 ** 64], file(1), 4); // beyond int64 as a double and as a bigint
    assert.equal(idx.get([2n ** 64n])?.pos, 4);
    assert.equal(idx.size, 4);
    assert.equal(idx.get([2 ** 60 + 2 ** 9]), undefined);
  });

  it('keeps apart keys a careless encoding would merge', () => {
    const idx = new PkIndex();
    const keys: (IcebergValue | null)[][] = [
      ['\ud800'], ['\udc00'], ['\ufffd'], ['a\ud800b'], ['a\udc00b'], // lone surrogates: UTF-8 makes each U+FFFD
      [''], [null], [Uint8Array.of()], [0], [false], [true], [0.5], [NaN], [-0.5],
      ['a', 'bc'], ['ab', 'c'], ['a', null], [null, 'a'], [Uint8Array.of(0x61)], ['a'],
      [2n ** 64n - 1n], [-1n], [2n ** 63n], [-(2n ** 63n)], [10n ** 38n - 1n], [-(10n ** 38n - 1n)],
    ];
    keys.forEach((k, i) => idx.set(k, file(i % 3), i));
    assert.equal(idx.size, keys.length);
    keys.forEach((k, i) => assert.equal(idx.get(k)?.pos, i, `key ${i}`));
    assert.equal(idx.get([Number.NaN * 0])?.pos, keys.findIndex((k) => Number.isNaN(k[0]))); // every NaN is one value
  });

  it('resolves keys that share a fingerprint exactly (an injected fingerprint makes every key collide)', () => {
    for (const options of [{ fingerprint: () => [7, 7] as const }, { fingerprint: (b: Uint8Array) => [0, b.length % 3] as const }] satisfies PkIndexOptions[]) {
      const idx = new PkIndex(undefined, options);
      const keys = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? [`k${i}`] : i % 3 === 1 ? [BigInt(i) << 64n] : [BigInt(i), `v${i}`]));
      keys.forEach((k, i) => idx.set(k, file(i % 5), i));
      assert.equal(idx.size, keys.length);
      keys.forEach((k, i) => assert.equal(idx.get(k)?.pos, i));
      assert.equal(idx.get(['k1']), undefined);
      for (let i = 0; i < keys.length; i += 2) assert.equal(idx.delete(keys[i] as (IcebergValue | null)[]), true);
      keys.forEach((k, i) => assert.equal(idx.get(k)?.pos, i % 2 === 0 ? undefined : i));
      assert.equal(idx.deleteRowsOf(file(1).path), keys.filter((_, i) => i % 2 === 1 && i % 5 === 1).length);
      const loaded = indexFromBytes(indexToBytes(idx, { tableUuid: 'u', snapshotId: '1', keyIds: [1] }), undefined, options).index;
      keys.forEach((k, i) => assert.equal(loaded.get(k)?.pos, i % 2 === 1 && i % 5 !== 1 ? i : undefined));
    }
  });

  it('reclaims the bytes of deleted keys', () => {
    const idx = new PkIndex();
    const long = (i: number) => [`${String(i).padStart(8, '0')}-${'x'.repeat(200)}`];
    for (let i = 0; i < 20_000; i++) idx.set(long(i), file(i % 4), i);
    const full = idx.bytes;
    assert.ok(full > 20_000 * 200, `bytes ${full} count the key text`);
    for (let i = 0; i < 19_000; i++) idx.delete(long(i));
    assert.ok(idx.bytes < full / 4, `bytes ${idx.bytes} after deleting 95 % of ${full}`);
    for (let i = 19_000; i < 20_000; i++) assert.equal(idx.get(long(i))?.pos, i);
  });

  it('sweeps a file, counts rows per file, releases files and reuses their ids', () => {
    const idx = new PkIndex();
    for (let i = 0; i < 10_000; i++) idx.set(i % 2 === 0 ? [BigInt(i)] : [`s${i}`], file(i % 4), i);
    assert.deepEqual([0, 1, 2, 3].map((n) => idx.rowsIn(file(n).path)), [2500, 2500, 2500, 2500]);
    idx.set([0n], file(1), 99_999); // moves a row from f0 to f1
    assert.deepEqual([idx.rowsIn(file(0).path), idx.rowsIn(file(1).path)], [2499, 2501]);
    assert.throws(() => idx.releaseFile(file(2).path), (e: unknown) => e instanceof FloeError && e.code === 'assertion_failed');
    assert.equal(idx.deleteRowsOf(file(2).path), 2500);
    assert.equal(idx.rowsIn(file(2).path), 0);
    idx.releaseFile(file(2).path);
    assert.deepEqual(idx.filePaths().sort(), [file(0).path, file(1).path, file(3).path].sort());
    assert.equal(idx.size, 7500);
    // The released id goes to the next new file; its rows are told apart from the old file's.
    for (let i = 0; i < 100; i++) idx.set([`new${i}`], file(9), i);
    assert.equal(idx.rowsIn(file(9).path), 100);
    assert.equal(idx.get(['new7'])?.file.path, file(9).path);
    assert.equal(idx.get([2n]), undefined);
    assert.equal(idx.get([4n])?.file.path, file(0).path);
    idx.clear();
    assert.deepEqual([idx.size, idx.filePaths().length, idx.rowsIn(file(0).path), idx.get([4n])], [0, 0, 0, undefined]);
    idx.set([4n], file(0), 1);
    assert.equal(idx.get([4n])?.pos, 1);
  });

  it('refuses a saved index of an older format version (the table\'s index is rebuilt)', () => {
    const idx = new PkIndex();
    idx.set([1n], file(1), 0);
    const bytes = idx.serialize({ tableUuid: 'u', snapshotId: '1', keyIds: [1] });
    for (const version of [1, 2]) {
      const old = Buffer.from(bytes);
      old.writeUInt32LE(version, 4);
      assert.throws(() => PkIndex.deserialize(old), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && /format version/.test(e.message));
    }
    assert.equal(PkIndex.deserialize(bytes).index.get([1n])?.pos, 0);
  });

  it('keeps locations exact beyond 2^32 rows of pages (more than 2^20 pages of 4096 rows)', () => {
    const idx = new PkIndex();
    const FILES = 300;
    const PAGES_PER_FILE = 3600; // 1,080,000 pages: the last ones' locations need more than 32 bits
    for (let f = 0; f < FILES; f++) for (let p = 0; p < PAGES_PER_FILE; p++) idx.set([BigInt(f * PAGES_PER_FILE + p)], file(f), p * 4096 + (f % 4096));
    for (let f = 0; f < FILES; f += 7) {
      for (let p = 0; p < PAGES_PER_FILE; p += 97) {
        const at = idx.get([BigInt(f * PAGES_PER_FILE + p)]);
        assert.deepEqual([at?.file.path, at?.pos], [file(f).path, p * 4096 + (f % 4096)]);
      }
    }
    // Moves between low and high locations keep both exact.
    idx.set([0n], file(FILES - 1), 7);
    idx.set([BigInt(FILES * PAGES_PER_FILE - 1)], file(0), 5);
    assert.deepEqual([idx.get([0n])?.file.path, idx.get([0n])?.pos], [file(FILES - 1).path, 7]);
    assert.deepEqual([idx.get([BigInt(FILES * PAGES_PER_FILE - 1)])?.file.path, idx.get([BigInt(FILES * PAGES_PER_FILE - 1)])?.pos], [file(0).path, 5]);
  });
});
