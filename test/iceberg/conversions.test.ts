// Proves binary single-value serialization, decimal min-bytes, bound truncation and value ordering follow the Iceberg spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError } from '../../src/errors.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import { type IcebergValue, compareStrings, compareValues, valueMatchesType } from '../../src/iceberg/values.js';
import {
  decimalByteLength,
  decimalFromBytes,
  decimalToMinBytes,
  fromBinary,
  toBinary,
  truncateLowerBound,
  truncateStringCodePoints,
  truncateUpperBound,
} from '../../src/iceberg/conversions.js';

const TS_NS: PrimitiveType = { kind: 'timestamp_ns' };
const TSTZ_NS: PrimitiveType = { kind: 'timestamptz_ns' };

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function bytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

function throwsCode(fn: () => unknown, code: Parameters<typeof isFloeError>[1]): void {
  assert.throws(fn, (e: unknown) => isFloeError(e, code));
}

// ---------------------------------------------------------------------------------------------------------
// toBinary / fromBinary

test('toBinary writes the spec byte layout for each type', () => {
  assert.equal(hex(toBinary(T.boolean, false)), '00');
  assert.equal(hex(toBinary(T.boolean, true)), '01');
  assert.equal(hex(toBinary(T.int, 1)), '01000000');
  assert.equal(hex(toBinary(T.int, -1)), 'ffffffff');
  assert.equal(hex(toBinary(T.int, 34)), '22000000');
  assert.equal(hex(toBinary(T.long, 1n)), '0100000000000000');
  assert.equal(hex(toBinary(T.long, -2n)), 'feffffffffffffff');
  assert.equal(hex(toBinary(T.float, 1)), '0000803f');
  assert.equal(hex(toBinary(T.double, 1)), '000000000000f03f');
  assert.equal(hex(toBinary(T.date, 17486)), '4e440000');
  assert.equal(hex(toBinary(T.time, 81_068_000_000n)), '008307e012000000');
  assert.equal(hex(toBinary(T.timestamp, 1_510_871_468_000_000n)), '00c3262d215e0500');
  assert.equal(hex(toBinary(T.timestamptz, -1n)), 'ffffffffffffffff');
  assert.equal(hex(toBinary(TS_NS, 1n)), '0100000000000000');
  assert.equal(hex(toBinary(T.string, 'iceberg')), Buffer.from('iceberg').toString('hex'));
  assert.equal(hex(toBinary(T.string, 'é😀')), 'c3a9f09f9880');
  assert.equal(hex(toBinary(T.string, '')), '');
  const u = bytes('f79c3e09677c4bbda4793f349cb785e7');
  assert.equal(hex(toBinary(T.uuid, u)), 'f79c3e09677c4bbda4793f349cb785e7');
  assert.equal(hex(toBinary(T.fixed(3), bytes('000102'))), '000102');
  assert.equal(hex(toBinary(T.binary, bytes(''))), '');
  assert.equal(hex(toBinary(T.decimal(4, 2), 1420n)), '058c');
});

test('decimal min-bytes: two\'s complement big-endian, minimum length', () => {
  const cases: [bigint, string][] = [
    [0n, '00'],
    [1n, '01'],
    [127n, '7f'],
    [128n, '0080'],
    [255n, '00ff'],
    [256n, '0100'],
    [32767n, '7fff'],
    [32768n, '008000'],
    [-1n, 'ff'],
    [-128n, '80'],
    [-129n, 'ff7f'],
    [-256n, 'ff00'],
    [-32768n, '8000'],
    [-32769n, 'ff7fff'],
    [2n ** 53n - 1n, '1fffffffffffff'],
    [2n ** 53n, '20000000000000'],
    [-(2n ** 53n), 'e0000000000000'],
    [2n ** 55n, '0080000000000000'],
    [2n ** 63n - 1n, '7fffffffffffffff'],
    [2n ** 63n, '008000000000000000'],
    [-(2n ** 63n), '8000000000000000'],
    [10n ** 38n - 1n, '4b3b4ca85a86c47a098a223fffffffff'],
    [-(10n ** 38n - 1n), 'b4c4b357a5793b85f675ddc000000001'],
  ];
  for (const [v, h] of cases) {
    assert.equal(hex(decimalToMinBytes(v)), h, `encode ${v}`);
    assert.equal(decimalByteLength(v), h.length / 2, `length ${v}`);
    assert.equal(decimalFromBytes(bytes(h)), v, `decode ${h}`);
  }
});

test('decimal min-bytes agree with an independent reference on many values', () => {
  const ref = (v: bigint): string => {
    // smallest n with -2^(8n-1) <= v < 2^(8n-1), then v mod 2^(8n) as hex
    let n = 1;
    while (v >= 1n << BigInt(8 * n - 1) || v < -(1n << BigInt(8 * n - 1))) n++;
    return BigInt.asUintN(8 * n, v).toString(16).padStart(2 * n, '0');
  };
  let x = 1n;
  const values: bigint[] = [];
  for (let i = 0; i < 130; i++) {
    values.push(x, -x, x - 1n, -x + 1n, x + 1n, -x - 1n);
    x *= 2n;
  }
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 500; i++) {
    const digits = 1 + (next() % 38);
    let text = '';
    for (let j = 0; j < digits; j++) text += String(next() % 10);
    const v = BigInt(text);
    values.push(v, -v);
  }
  for (const v of values) {
    assert.equal(hex(decimalToMinBytes(v)), ref(v), `value ${v}`);
    assert.equal(decimalFromBytes(decimalToMinBytes(v)), v, `round trip ${v}`);
  }
  // sign extension of padded encodings (e.g. Parquet fixed-length decimals)
  assert.equal(decimalFromBytes(bytes('ffffff7f')), -129n);
  assert.equal(decimalFromBytes(bytes('00000080')), 128n);
});

test('fromBinary inverts toBinary for every type', () => {
  const cases: [PrimitiveType, IcebergValue][] = [
    [T.boolean, true],
    [T.boolean, false],
    [T.int, -2147483648],
    [T.int, 2147483647],
    [T.long, -(2n ** 63n)],
    [T.long, 2n ** 63n - 1n],
    [T.float, Math.fround(3.14)],
    [T.float, -Infinity],
    [T.double, Math.PI],
    [T.double, -0],
    [T.decimal(38, 5), -(10n ** 37n) - 7n],
    [T.decimal(9, 2), 0n],
    [T.date, -719162],
    [T.time, 86_399_999_999n],
    [T.timestamp, -62135596800000000n],
    [T.timestamptz, 1510871468000001n],
    [TS_NS, 1510871468000000001n],
    [TSTZ_NS, -1n],
    [T.string, 'iceberg 😀 é'],
    [T.string, ''],
    [T.uuid, bytes('f79c3e09677c4bbda4793f349cb785e7')],
    [T.fixed(2), bytes('ff00')],
    [T.binary, bytes('000102ff')],
  ];
  for (const [t, v] of cases) {
    assert.deepEqual(fromBinary(t, toBinary(t, v)), v, `${t.kind} ${String(v)}`);
  }
  assert.equal(fromBinary(T.boolean, bytes('07')), true);
  assert.ok(Number.isNaN(fromBinary(T.double, toBinary(T.double, NaN))));
});

test('fromBinary reads a view into a larger buffer and copies byte results', () => {
  const big = bytes('aa0102030405bb');
  const window = big.subarray(1, 6);
  const out = fromBinary(T.binary, window) as Uint8Array;
  assert.equal(hex(out), '0102030405');
  big[1] = 0xee;
  assert.equal(hex(out), '0102030405');
  assert.equal(fromBinary(T.int, big.subarray(2, 6)), 0x05040302);
});

test('fromBinary reads bounds written before a type promotion', () => {
  assert.equal(fromBinary(T.long, toBinary(T.int, -7)), -7n);
  assert.equal(fromBinary(T.double, toBinary(T.float, 1.5)), 1.5);
  assert.equal(fromBinary(T.timestamp, toBinary(T.date, 1)), 86_400_000_000n);
  assert.equal(fromBinary(T.timestamptz, toBinary(T.date, -1)), -86_400_000_000n);
  assert.equal(fromBinary(TS_NS, toBinary(T.date, 1)), 86_400_000_000_000n);
  assert.equal(fromBinary(T.decimal(20, 2), toBinary(T.decimal(9, 2), 1420n)), 1420n);
});

test('fromBinary rejects lengths that fit no type with metadata_invalid', () => {
  throwsCode(() => fromBinary(T.int, bytes('0102')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.long, bytes('010203')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.boolean, bytes('')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.time, bytes('01020304')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.uuid, bytes('0102')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.fixed(3), bytes('0102')), 'metadata_invalid');
  throwsCode(() => fromBinary(T.decimal(9, 2), bytes('')), 'metadata_invalid');
});

test('toBinary rejects values that do not match the type with value_invalid', () => {
  throwsCode(() => toBinary(T.int, 2147483648), 'value_invalid');
  throwsCode(() => toBinary(T.int, 1.5), 'value_invalid');
  throwsCode(() => toBinary(T.long, 1), 'value_invalid');
  throwsCode(() => toBinary(T.long, 2n ** 63n), 'value_invalid');
  throwsCode(() => toBinary(T.time, -1n), 'value_invalid');
  throwsCode(() => toBinary(T.decimal(3, 0), 1000n), 'value_invalid');
  throwsCode(() => toBinary(T.uuid, bytes('00')), 'value_invalid');
  throwsCode(() => toBinary(T.fixed(2), bytes('000000')), 'value_invalid');
  throwsCode(() => toBinary(T.string, bytes('00')), 'value_invalid');
  throwsCode(() => toBinary(T.boolean, 1), 'value_invalid');
});

// ---------------------------------------------------------------------------------------------------------
// Bound truncation

test('truncateLowerBound keeps a prefix of n code points / bytes', () => {
  assert.equal(truncateLowerBound('abc', 16), 'abc');
  assert.equal(truncateLowerBound('abcdef', 3), 'abc');
  assert.equal(truncateLowerBound('😀😀😀', 2), '😀😀');
  assert.equal(truncateLowerBound('a😀b', 2), 'a😀');
  assert.equal(truncateStringCodePoints('x'.repeat(20), 16), 'x'.repeat(16));
  assert.equal(hex(truncateLowerBound(bytes('0102030405'), 3)), '010203');
  const short = bytes('0102');
  assert.equal(truncateLowerBound(short, 2), short);
  throwsCode(() => truncateLowerBound('abc', 0), 'config_invalid');
});

test('truncateUpperBound increments the last incrementable code point', () => {
  assert.equal(truncateUpperBound('abc', 16), 'abc');
  assert.equal(truncateUpperBound('abc', 3), 'abc');
  assert.equal(truncateUpperBound('abcdef', 3), 'abd');
  assert.equal(truncateUpperBound('ab\u{10ffff}def', 3), 'ac');
  assert.equal(truncateUpperBound('a\u{10ffff}\u{10ffff}x', 3), 'b');
  assert.equal(truncateUpperBound('\u{10ffff}\u{10ffff}x', 2), null);
  assert.equal(truncateUpperBound('😀😀😀', 2), '😀😁');
  assert.equal(truncateUpperBound('a\uffffz', 2), 'a\u{10000}');
  // U+D7FF + 1 skips the surrogate block
  assert.equal(truncateUpperBound('a\ud7ffz', 2), 'a\ue000');
  assert.equal(truncateUpperBound('测试测试', 1), '浌');
});

test('truncateUpperBound increments the last byte below 0xff', () => {
  assert.equal(hex(truncateUpperBound(bytes('0102ff04'), 3)!), '0103');
  assert.equal(hex(truncateUpperBound(bytes('01020304'), 3)!), '010204');
  assert.equal(truncateUpperBound(bytes('ffffff'), 2), null);
  const short = bytes('ffff');
  assert.equal(truncateUpperBound(short, 2), short);
  const input = bytes('01020304');
  truncateUpperBound(input, 2);
  assert.equal(hex(input), '01020304');
});

test('truncated bounds still bound every input they summarize', () => {
  const inputs = [
    'abcdefghijklmnopqrstuvwxyz',
    'zzzzzzzzzzzzzzzzzz',
    '\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff\uffff',
    '😀'.repeat(20),
    'a\ud7ff'.repeat(10),
    '\u{10ffff}'.repeat(15) + 'ab',
    '测试'.repeat(10),
  ];
  for (const s of inputs) {
    for (const n of [1, 2, 5, 16]) {
      const lo = truncateLowerBound(s, n);
      const hi = truncateUpperBound(s, n);
      assert.ok(compareStrings(lo, s) <= 0, `lower ${JSON.stringify(s)} ${n}`);
      if (hi !== null) {
        assert.ok(compareStrings(hi, s) >= 0, `upper ${JSON.stringify(s)} ${n}`);
        assert.ok([...hi].length <= n);
        // valid UTF-16 (no lone surrogates): round-trips through UTF-8
        assert.equal(new TextDecoder().decode(new TextEncoder().encode(hi)), hi);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------------------
// values.ts: ordering and type checks

test('compareStrings orders by code point (UTF-8 byte order), not UTF-16 units', () => {
  // U+FF61 (halfwidth ideographic full stop) < U+1F600 by code point, but its UTF-16 unit 0xFF61 > 0xD83D.
  assert.ok('\uff61' > '😀', 'JS < disagrees, which is why compareStrings exists');
  assert.equal(compareStrings('\uff61', '😀'), -1);
  assert.equal(compareStrings('😀', '\uff61'), 1);
  assert.equal(compareStrings('\ue000', '\u{10000}'), -1);
  assert.equal(compareStrings('a😀', 'a\uffff'), 1);
  assert.equal(compareStrings('😀', '😁'), -1);
  assert.equal(compareStrings('abc', 'abd'), -1);
  assert.equal(compareStrings('ab', 'abc'), -1);
  assert.equal(compareStrings('abc', 'ab'), 1);
  assert.equal(compareStrings('', ''), 0);
  assert.equal(compareStrings('😀x', '😀x'), 0);
  // Agrees with comparing UTF-8 bytes on a mixed sample.
  const sample = ['', 'a', 'z', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10000}', '\u{10ffff}', 'a😀', 'a\uffff', 'aa'];
  const enc = new TextEncoder();
  for (const x of sample) {
    for (const y of sample) {
      const bx = enc.encode(x);
      const by = enc.encode(y);
      assert.equal(compareStrings(x, y), Math.sign(Buffer.compare(bx, by)), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  }
});

test('compareValues: numeric, boolean, byte and string orders', () => {
  assert.equal(compareValues(T.int, -5, 3), -1);
  assert.equal(compareValues(T.long, 2n ** 62n, -(2n ** 62n)), 1);
  assert.equal(compareValues(T.decimal(9, 2), -1n, -1n), 0);
  assert.equal(compareValues(T.double, -0, 0), -1);
  assert.equal(compareValues(T.double, 0, -0), 1);
  assert.equal(compareValues(T.float, -Infinity, -1e38), -1);
  assert.equal(compareValues(T.boolean, false, true), -1);
  assert.equal(compareValues(T.boolean, true, true), 0);
  assert.equal(compareValues(T.timestamp, -1n, 0n), -1);
  assert.equal(compareValues(T.binary, bytes('7f'), bytes('80')), -1); // unsigned
  assert.equal(compareValues(T.binary, bytes('01'), bytes('0100')), -1);
  assert.equal(compareValues(T.uuid, bytes('ff'.repeat(16)), bytes('00'.repeat(16))), 1);
  assert.equal(compareValues(T.string, '\uff61', '😀'), -1);
});

test('valueMatchesType checks representation and range', () => {
  assert.ok(valueMatchesType(1, T.int));
  assert.ok(!valueMatchesType(1n, T.int));
  assert.ok(!valueMatchesType(2 ** 31, T.int));
  assert.ok(valueMatchesType(-(2 ** 31), T.date));
  assert.ok(valueMatchesType(1n, T.long));
  assert.ok(!valueMatchesType(2n ** 63n, T.timestamp));
  assert.ok(valueMatchesType(0n, T.time));
  assert.ok(!valueMatchesType(86_400_000_000n, T.time));
  assert.ok(valueMatchesType(999n, T.decimal(3, 1)));
  assert.ok(valueMatchesType(-999n, T.decimal(3, 1)));
  assert.ok(!valueMatchesType(1000n, T.decimal(3, 1)));
  assert.ok(valueMatchesType(NaN, T.double));
  assert.ok(valueMatchesType('x', T.string));
  assert.ok(valueMatchesType(new Uint8Array(16), T.uuid));
  assert.ok(!valueMatchesType(new Uint8Array(15), T.uuid));
  assert.ok(valueMatchesType(new Uint8Array(3), T.fixed(3)));
  assert.ok(!valueMatchesType(new Uint8Array(4), T.fixed(3)));
  assert.ok(valueMatchesType(new Uint8Array(0), T.binary));
  assert.ok(!valueMatchesType('true', T.boolean));
  assert.ok(valueMatchesType(-1n, TS_NS));
  assert.ok(valueMatchesType(1n, TSTZ_NS));
});
