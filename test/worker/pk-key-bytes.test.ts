// Proves the index's key codec: the integer-key rule (int64 range, any integer spelling), the Feistel mix is a bijection that unmixes back, and canonical key bytes are one encoding per value (the int64 and bigint paths of zigzag varints join exactly at ±2^63; lone surrogates kept), with fingerprints that differ for different keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyBytes, int64Of, intKey, intKeyParts, mixInt64, mixed, unmixInt64 } from '../../src/worker/pk-key-bytes.js';
import type { IcebergValue } from '../../src/iceberg/values.js';

const P63 = 1n << 63n;
const bytes = (key: (IcebergValue | null)[]) => {
  const k = new KeyBytes();
  const n = k.encode(key);
  return [...k.bytes.subarray(0, n)];
};

describe('pk-key-bytes', () => {
  it('an integer key is one integer column in [−2^63, 2^63), whatever its spelling', () => {
    for (const [v, hi, lo] of [[0n, 0, 0], [-1n, -1, 2 ** 32 - 1], [5, 0, 5], [-(2 ** 53) + 1, -(2 ** 21), 1], [P63 - 1n, 2 ** 31 - 1, 2 ** 32 - 1], [-P63, -(2 ** 31), 0], [2 ** 62, 2 ** 30, 0]] as const) {
      assert.equal(intKeyParts([v]), true, String(v));
      assert.deepEqual([intKey.hi, intKey.lo], [hi, lo], String(v));
      assert.equal(int64Of(hi, lo), BigInt(v));
    }
    for (const key of [[P63], [-P63 - 1n], [2 ** 63], [0.5], ['5'], [5n, 'x'], [null], []] as (IcebergValue | null)[][]) assert.equal(intKeyParts(key), false, String(key));
  });

  it('mixes keys by a bijection and unmixes them back', () => {
    const seen = new Set<string>();
    for (let i = -50_000; i < 50_000; i++) {
      const k = BigInt(i) * 1_000_003n + (BigInt(i & 7) << 60n);
      intKeyParts([k]);
      mixInt64(intKey.hi, intKey.lo);
      seen.add(`${mixed.hi}:${mixed.lo}`);
      unmixInt64(mixed.hi, mixed.lo);
      assert.equal(int64Of(mixed.hi, mixed.lo), k);
    }
    assert.equal(seen.size, 100_000);
  });

  it('writes one canonical encoding per value', () => {
    assert.deepEqual(bytes([0n]), [1, 0]);
    assert.deepEqual(bytes([-1]), [1, 1]);
    assert.deepEqual(bytes([1]), [1, 2]);
    assert.deepEqual(bytes([64n]), [1, 0x80, 1]);
    // zigzag(2^63 − 1) = 2^64 − 2, zigzag(−2^63) = 2^64 − 1 (int64 path); zigzag(2^63) = 2^64 (bigint path).
    assert.deepEqual(bytes([P63 - 1n]), [1, 0xfe, ...Array<number>(8).fill(0xff), 1]);
    assert.deepEqual(bytes([-P63]), [1, ...Array<number>(9).fill(0xff), 1]);
    assert.deepEqual(bytes([P63]), [1, ...Array<number>(9).fill(0x80), 2]);
    assert.deepEqual(bytes([-P63 - 1n]), [1, 0x81, ...Array<number>(8).fill(0x80), 2]);
    assert.deepEqual(bytes([2 ** 64]), bytes([2n ** 64n]));
    assert.deepEqual(bytes(['é', null, true, false]), [2, 2, 0xc3, 0xa9, 0, 6, 5]);
    assert.deepEqual(bytes([Uint8Array.of(9, 8)]), [3, 2, 9, 8]);
    assert.deepEqual(bytes([NaN]), bytes([-NaN]));
    assert.deepEqual(bytes([1.5]), [4, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    assert.deepEqual(bytes(['\ud800']), [7, 1, 0x00, 0xd8]);
    const long = 'x'.repeat(300);
    assert.deepEqual(bytes([long]).slice(0, 3), [2, 0xac, 2]);
    assert.equal(bytes([long]).length, 303);
    assert.equal(bytes(['€'.repeat(42)]).length, 2 + 126); // the short-string path at its limit
    assert.deepEqual(bytes(['€'.repeat(43)]).slice(0, 3), [2, 0x81, 1]);
  });

  it('gives different keys different fingerprints', () => {
    const k = new KeyBytes();
    const seen = new Set<string>();
    const fp = { hi: 0, lo: 0 };
    for (let i = 0; i < 100_000; i++) {
      k.encode(i % 2 === 0 ? [`key-${i}`] : [BigInt(i), 'eu']);
      k.fingerprint(fp);
      seen.add(`${fp.hi}:${fp.lo}`);
    }
    assert.equal(seen.size, 100_000);
  });
});
