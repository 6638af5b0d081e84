// Proves every primitive column builder stores values, nulls and validity that read back unchanged (via get and via Arrow), tracks min/max as Iceberg orders values, and names the column in value errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { isFloeError } from '../../src/errors.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { ColumnBuilder, arrowValue } from '../../src/writer/column-builder.js';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

interface Case {
  readonly type: PrimitiveType;
  readonly values: readonly (IcebergValue | null)[];
  readonly lower: IcebergValue | null;
  readonly upper: IcebergValue | null;
  readonly nanCount?: number;
  readonly arrowType: string;
}

const CASES: Record<string, Case> = {
  boolean: { type: T.boolean, values: [true, null, true, false, true], lower: false, upper: true, arrowType: 'Bool' },
  int: { type: T.int, values: [5, -2147483648, null, 2147483647, 0], lower: -2147483648, upper: 2147483647, arrowType: 'Int32' },
  long: { type: T.long, values: [-(2n ** 63n), 2n ** 63n - 1n, null, 0n, 2n ** 53n + 1n], lower: -(2n ** 63n), upper: 2n ** 63n - 1n, arrowType: 'Int64' },
  float: { type: T.float, values: [1.5, NaN, null, -2, Infinity, 3.4028234663852886e38], lower: -2, upper: Infinity, nanCount: 1, arrowType: 'Float32' },
  double: { type: T.double, values: [NaN, 0.1, -1.7976931348623157e308, null, NaN, 5e-324], lower: -1.7976931348623157e308, upper: 0.1, nanCount: 2, arrowType: 'Float64' },
  decimal: {
    type: T.decimal(38, 10),
    values: [99999999999999999999999999999999999999n, -99999999999999999999999999999999999999n, null, 0n, -1n],
    lower: -99999999999999999999999999999999999999n,
    upper: 99999999999999999999999999999999999999n,
    arrowType: 'Decimal[38e+10]',
  },
  date: { type: T.date, values: [19000, -25567, null, 0, 2932896], lower: -25567, upper: 2932896, arrowType: 'Date32<DAY>' },
  time: { type: T.time, values: [0n, 86_399_999_999n, null, 1n], lower: 0n, upper: 86_399_999_999n, arrowType: 'Time64<MICROSECOND>' },
  timestamp: { type: T.timestamp, values: [-1_000_000_000_000_001n, 2_200_000_000_000_000n, null], lower: -1_000_000_000_000_001n, upper: 2_200_000_000_000_000n, arrowType: 'Timestamp<MICROSECOND>' },
  timestamptz: { type: T.timestamptz, values: [null, 1_700_000_000_000_000n, -1n], lower: -1n, upper: 1_700_000_000_000_000n, arrowType: 'Timestamp<MICROSECOND, UTC>' },
  timestamp_ns: { type: { kind: 'timestamp_ns' }, values: [1_700_000_000_000_000_007n, null, -(2n ** 63n)], lower: -(2n ** 63n), upper: 1_700_000_000_000_000_007n, arrowType: 'Timestamp<NANOSECOND>' },
  timestamptz_ns: { type: { kind: 'timestamptz_ns' }, values: [5n, 4n, null], lower: 4n, upper: 5n, arrowType: 'Timestamp<NANOSECOND, UTC>' },
  // code point order: U+FFFD sorts below U+1F600 (JS < would say otherwise), '' sorts first
  string: { type: T.string, values: ['b', '\uFFFD', null, '\u{1F600}', 'a', '', 'é'], lower: '', upper: '\u{1F600}', arrowType: 'Utf8' },
  uuid: {
    type: T.uuid,
    values: [b(...new Array<number>(16).fill(0x80)), null, b(...new Array<number>(16).fill(0x7f)), b(...new Array<number>(16).fill(0xff))],
    lower: b(...new Array<number>(16).fill(0x7f)),
    upper: b(...new Array<number>(16).fill(0xff)),
    arrowType: 'FixedSizeBinary[16]',
  },
  fixed: { type: T.fixed(3), values: [b(1, 2, 3), b(0, 0, 0), null, b(255, 0, 0)], lower: b(0, 0, 0), upper: b(255, 0, 0), arrowType: 'FixedSizeBinary[3]' },
  // unsigned byte order: 0x80 > 0x7f, the empty array first
  binary: { type: T.binary, values: [b(0x7f, 0xff), b(0x80), null, b(), b(0x7f)], lower: b(), upper: b(0x80), arrowType: 'Binary' },
};

/** Byte values compare by content: Arrow may hand back a Buffer (a Uint8Array subclass). */
function plain(v: IcebergValue | null): IcebergValue | null {
  return v instanceof Uint8Array ? Uint8Array.from(v) : v;
}

function same(actualIn: IcebergValue | null, expected: IcebergValue | null, what: string): void {
  const actual = plain(actualIn);
  if (typeof expected === 'number' && Number.isNaN(expected)) assert.ok(typeof actual === 'number' && Number.isNaN(actual), what);
  else if (typeof expected === 'number' && Object.is(expected, -0)) assert.ok(Object.is(actual, -0), what);
  else assert.deepEqual(actual, expected, what);
}

function expectedStored(t: PrimitiveType, v: IcebergValue | null): IcebergValue | null {
  return t.kind === 'float' && typeof v === 'number' ? Math.fround(v) : v;
}

describe('ColumnBuilder per type', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: values, nulls and bounds read back`, () => {
      const col = new ColumnBuilder(`c_${name}`, c.type);
      for (const v of c.values) col.append(v);
      const nulls = c.values.filter((v) => v === null).length;
      assert.equal(col.length, c.values.length);
      assert.equal(col.nullCount, nulls);
      assert.equal(col.nanCount, c.nanCount ?? 0);
      same(col.lower, c.lower, 'lower');
      same(col.upper, c.upper, 'upper');
      assert.deepEqual(col.stats(), { nullCount: nulls, nanCount: c.nanCount ?? 0, lower: col.lower, upper: col.upper });
      c.values.forEach((v, i) => same(col.get(i), expectedStored(c.type, v), `get(${i})`));

      const data = col.finish();
      assert.equal(String(data.type), c.arrowType);
      if (c.type.kind === 'decimal') assert.deepEqual([(data.type as arrow.Decimal).precision, (data.type as arrow.Decimal).scale, (data.type as arrow.Decimal).bitWidth], [38, 10, 128]);
      assert.equal(data.length, c.values.length);
      assert.equal(data.nullCount, nulls);
      const vec = arrow.makeVector(data);
      c.values.forEach((v, i) => {
        assert.equal(vec.isValid(i), v !== null, `validity ${i}`);
        same(arrowValue(c.type, vec, i), expectedStored(c.type, v), `arrowValue(${i})`);
      });
    });
  }

  it('finish() without nulls carries no validity bitmap and all rows valid', () => {
    const col = new ColumnBuilder('x', T.int);
    col.append(1);
    col.append(2);
    const data = col.finish();
    assert.equal(data.nullCount, 0);
    assert.equal(data.nullBitmap?.length ?? 0, 0);
    assert.deepEqual([...arrow.makeVector(data)], [1, 2]);
  });

  it('an all-null column has no bounds and every row invalid', () => {
    const col = new ColumnBuilder('x', T.string);
    for (let i = 0; i < 10; i++) col.appendNull();
    col.append(undefined);
    assert.equal(col.nullCount, 11);
    assert.equal(col.lower, null);
    assert.equal(col.upper, null);
    const vec = arrow.makeVector(col.finish());
    assert.equal(vec.nullCount, 11);
    assert.equal(arrowValue(T.string, vec, 10), null);
  });

  it('NaN-only float columns count NaNs and have no bounds', () => {
    const col = new ColumnBuilder('x', T.float);
    col.append(NaN);
    col.append(NaN);
    assert.equal(col.nanCount, 2);
    assert.equal(col.lower, null);
    assert.equal(col.upper, null);
  });

  it('grows past its starting capacity for every layout, keeping earlier values', () => {
    const n = 5000;
    const kinds: [PrimitiveType, (i: number) => IcebergValue | null][] = [
      [T.boolean, (i) => (i % 7 === 0 ? null : i % 3 === 0)],
      [T.int, (i) => (i % 7 === 0 ? null : i * 31 - 1000)],
      [T.long, (i) => (i % 7 === 0 ? null : BigInt(i) * 1_000_000_007n)],
      [T.double, (i) => (i % 7 === 0 ? null : i / 4)],
      [T.decimal(20, 2), (i) => (i % 7 === 0 ? null : BigInt(i) * -123_456_789n)],
      [T.uuid, (i) => (i % 7 === 0 ? null : Uint8Array.from({ length: 16 }, (_, k) => (i + k) & 255))],
      [T.string, (i) => (i % 7 === 0 ? null : `s${i}-${'x'.repeat(i % 50)}`)],
      [T.binary, (i) => (i % 7 === 0 ? null : Uint8Array.from({ length: i % 40 }, (_, k) => k))],
    ];
    for (const [t, gen] of kinds) {
      const col = new ColumnBuilder('g', t, 4);
      for (let i = 0; i < n; i++) col.append(gen(i));
      const vec = arrow.makeVector(col.finish());
      for (const i of [0, 1, 3, 4, 5, 1023, 1024, 1025, 2048, 4095, n - 1]) {
        same(col.get(i), gen(i), `${t.kind} get(${i})`);
        same(arrowValue(t, vec, i), gen(i), `${t.kind} arrowValue(${i})`);
      }
      assert.equal(col.nullCount, Math.ceil(n / 7));
    }
  });
});

describe('ColumnBuilder value errors', () => {
  const rejects = (t: PrimitiveType, v: IcebergValue, message: RegExp): void => {
    const col = new ColumnBuilder('amount', t);
    col.append(null);
    assert.throws(
      () => col.append(v),
      (e: unknown) => {
        assert.ok(isFloeError(e, 'value_invalid'), String(e));
        assert.match(e.message, message);
        assert.deepEqual(e.details, { column: 'amount' });
        return true;
      },
    );
    // a rejected value leaves the column as it was
    assert.equal(col.length, 1);
    assert.equal(col.nullCount, 1);
    assert.equal(col.lower, null);
  };

  it('int out of range or not an integer', () => {
    rejects(T.int, 2147483648, /column "amount" \(int\) cannot hold 2147483648/);
    rejects(T.int, -2147483649, /cannot hold -2147483649/);
    rejects(T.int, 1.5, /cannot hold 1\.5/);
    rejects(T.date, 5n, /column "amount" \(date\) cannot hold 5n/);
  });

  it('long out of 64-bit range, or given as a number', () => {
    rejects(T.long, 2n ** 63n, /column "amount" \(long\) cannot hold 9223372036854775808n/);
    rejects(T.timestamp, -(2n ** 63n) - 1n, /\(timestamp\) cannot hold -9223372036854775809n/);
    rejects(T.long, 5, /\(long\) cannot hold 5$/);
  });

  it('decimal too large for its precision', () => {
    rejects(T.decimal(9, 2), 1_000_000_000n, /column "amount": unscaled value 1000000000 does not fit decimal\(9, 2\)/);
    rejects(T.decimal(9, 2), -1_000_000_000n, /unscaled value -1000000000 does not fit decimal\(9, 2\)/);
    rejects(T.decimal(9, 2), '1.5', /\(decimal\) cannot hold "1\.5"/);
    const col = new ColumnBuilder('amount', T.decimal(9, 2));
    col.append(999_999_999n);
    col.append(-999_999_999n);
    assert.deepEqual([col.get(0), col.get(1)], [999_999_999n, -999_999_999n]);
  });

  it('wrong JS types and wrong byte lengths', () => {
    rejects(T.string, 5, /column "amount" \(string\) cannot hold 5/);
    rejects(T.boolean, 1, /\(boolean\) cannot hold 1/);
    rejects(T.double, 1n, /\(double\) cannot hold 1n/);
    rejects(T.binary, 'ab', /\(binary\) cannot hold "ab"/);
    rejects(T.uuid, b(1, 2, 3), /\(uuid\) cannot hold bytes\[3\]/);
    rejects(T.fixed(4), b(1, 2, 3, 4, 5), /\(fixed\) cannot hold bytes\[5\]/);
  });
});

describe('signed zero bounds', () => {
  it('orders -0 below 0 for float bounds, as Java does', () => {
    const c = new ColumnBuilder('d', T.double);
    c.append(-0);
    c.append(0);
    assert.ok(Object.is(c.lower, -0));
    assert.ok(Object.is(c.upper, 0));
  });
});
