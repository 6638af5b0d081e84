// Proves murmur3 x86_32 (seed 0) matches reference vectors and the Iceberg spec's Appendix B hash values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur3Bytes, murmur3Int, murmur3Long, murmur3LongParts, murmur3String } from '../../src/iceberg/murmur3.js';

const utf8 = new TextEncoder();

test('standard MurmurHash3_x86_32 vectors (seed 0)', () => {
  // Values cross-checked against the reference C implementation (Python mmh3.hash).
  assert.equal(murmur3Bytes(new Uint8Array(0)), 0);
  assert.equal(murmur3Bytes(utf8.encode('a')), 1009084850);
  assert.equal(murmur3Bytes(utf8.encode('ab')), -1681926305);
  assert.equal(murmur3Bytes(utf8.encode('abc')), -1277324294);
  assert.equal(murmur3Bytes(utf8.encode('hello')), 613153351);
  assert.equal(murmur3Bytes(utf8.encode('The quick brown fox jumps over the lazy dog')), 776992547);
  assert.equal(murmur3Bytes(utf8.encode('€𝄞ab')), 2045588583);
});

test('spec Appendix B: fixed/binary 00 01 02 03 -> -188683207', () => {
  assert.equal(murmur3Bytes(Uint8Array.of(0, 1, 2, 3)), -188683207);
});

test('offset/length select a window of the buffer', () => {
  const buf = Uint8Array.of(9, 9, 0, 1, 2, 3, 9);
  assert.equal(murmur3Bytes(buf, 2, 4), -188683207);
  assert.equal(murmur3Bytes(buf, 2, 0), 0);
});

test('spec Appendix B: int 34 and long 34 both hash to 2017239379', () => {
  assert.equal(murmur3Int(34), 2017239379);
  assert.equal(murmur3Long(34n), 2017239379);
  assert.equal(murmur3LongParts(34, 0), 2017239379);
  // The long hash is the hash of its 8 little-endian bytes.
  assert.equal(murmur3Bytes(Uint8Array.of(34, 0, 0, 0, 0, 0, 0, 0)), 2017239379);
});

test('int and long hashes agree for negative and wide values', () => {
  for (const v of [-1, -34, -2147483648, 2147483647, 0, 1, 123456789]) {
    assert.equal(murmur3Int(v), murmur3Long(BigInt(v)), `value ${v}`);
  }
  for (const v of [2 ** 40 + 5, -(2 ** 40) - 5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    assert.equal(murmur3Int(v), murmur3Long(BigInt(v)), `value ${v}`);
  }
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigInt64(0, -5n, true);
  assert.equal(murmur3Long(-5n), murmur3Bytes(new Uint8Array(dv.buffer)));
});

test('spec Appendix B: date 2017-11-16 (day 17486) -> -653330422, hashed as a long', () => {
  assert.equal(murmur3Int(17486), -653330422);
});

test('spec Appendix B: time 22:31:08 -> -662762989', () => {
  assert.equal(murmur3Long(81_068_000_000n), -662762989);
});

test('spec Appendix B: timestamp 2017-11-16T22:31:08 -> -2047944441, and +1us -> -1207196810', () => {
  assert.equal(murmur3Long(1_510_871_468_000_000n), -2047944441);
  assert.equal(murmur3Long(1_510_871_468_000_001n), -1207196810);
});

test('spec Appendix B: string "iceberg" -> 1210000089, "34" -> -427558391', () => {
  assert.equal(murmur3String('iceberg'), 1210000089);
  assert.equal(murmur3String('34'), -427558391);
  assert.equal(murmur3Bytes(utf8.encode('iceberg')), 1210000089);
});

test('murmur3String equals hashing the UTF-8 bytes, for every length mod 4 and all UTF-8 widths', () => {
  const samples = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'é',
    'aé',
    '€',
    'a€',
    'ab€',
    '😀',
    'a😀',
    '测试',
    'x\u07ff\u0800\uffff\u{10000}\u{10ffff}y',
    'mixed ascii, ümlauts, 漢字 and 🎉 emoji'.repeat(7),
  ];
  for (const s of samples) {
    assert.equal(murmur3String(s), murmur3Bytes(utf8.encode(s)), JSON.stringify(s));
  }
});

test('murmur3String encodes lone surrogates as U+FFFD, like TextEncoder', () => {
  for (const s of ['\ud800', 'a\udc00b', 'ab\ud83d', '\udfff\ud800x']) {
    assert.equal(murmur3String(s), murmur3Bytes(utf8.encode(s)), JSON.stringify(s));
    assert.equal(murmur3String(s), murmur3String(s.replace(/[\ud800-\udfff]/g, '\ufffd')));
  }
});

test('spec Appendix B: uuid f79c3e09-677c-4bbd-a479-3f349cb785e7 -> 1488055340', () => {
  const bytes = Uint8Array.from(Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex'));
  assert.equal(murmur3Bytes(bytes), 1488055340);
});
