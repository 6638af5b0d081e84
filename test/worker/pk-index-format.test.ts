// Proves the saved-index format reads back what it wrote (integer keys at both ends of int64, canonical key bytes, files with partition values), and refuses other versions, truncation, trailing bytes and entries that name no file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { decodeIndex, encodeIndex, type IndexEntries } from '../../src/worker/pk-index-format.js';
import { RELEASED, type IndexedFile } from '../../src/worker/pk-locations.js';

const files: IndexedFile[] = [{ path: 's3://b/t/a.parquet', specId: 1, partition: ['eu', 2n ** 60n, Uint8Array.of(0, 255), null] }, RELEASED, { path: 's3://b/t/c.parquet', specId: 0, partition: [] }];
const ints: [number, number, number, number][] = [[-(2 ** 31), 0, 0, 0], [2 ** 31 - 1, 2 ** 32 - 1, 2, 2 ** 32 - 1], [0, 5, 0, 7]];
const others: [Uint8Array, number, number][] = [[Uint8Array.of(2, 1, 0x61), 2, 3], [new Uint8Array(0), 0, 9]];
const entries = (over: Partial<IndexEntries> = {}): IndexEntries => ({
  files,
  intCount: ints.length,
  forEachInt: (put) => ints.forEach((e) => put(...e)),
  otherCount: others.length,
  forEachOther: (put) => others.forEach((e) => put(...e)),
  ...over,
});
const meta = { tableUuid: 'u', snapshotId: '9007199254740993', keyIds: [3, 1] };
const refused = (b: Buffer, why: RegExp) => assert.throws(() => decodeIndex(b, { int: () => undefined, other: () => undefined }), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && why.test(e.message));

describe('pk-index-format', () => {
  it('reads back every entry, file and partition value', () => {
    const got: { ints: unknown[]; others: unknown[] } = { ints: [], others: [] };
    const back = decodeIndex(encodeIndex(meta, entries()), {
      int: (hi, lo, f, pos) => got.ints.push([hi, lo, files.indexOf(files.find((x) => x.path === f.path) as IndexedFile), pos]),
      other: (key, f, pos) => got.others.push([Uint8Array.from(key), f, pos]),
    });
    assert.deepEqual(back, meta);
    assert.deepEqual(got.ints, ints);
    assert.deepEqual(got.others, others.map(([k, f, pos]) => [k, files[f], pos]));
  });

  it('refuses other versions, damaged bytes and entries naming no file', () => {
    const b = encodeIndex(meta, entries());
    const v2 = Buffer.from(b);
    v2.writeUInt32LE(2, 4);
    refused(v2, /format version 2/);
    refused(b.subarray(0, b.length - 1), /truncated/);
    refused(Buffer.concat([b, Buffer.of(0)]), /trailing/);
    refused(encodeIndex(meta, entries({ forEachInt: (put) => ints.forEach(([hi, lo, , pos]) => put(hi, lo, 1, pos)) })), /names no file/);
    refused(encodeIndex(meta, entries({ forEachInt: (put) => ints.forEach(([hi, lo, , pos]) => put(hi, lo, 7, pos)) })), /names no file/);
  });
});
