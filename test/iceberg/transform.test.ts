// Proves partition transforms (parse, types, bucket/truncate/temporal values, partition path text) follow the Iceberg spec and Java.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError } from '../../src/errors.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import {
  type Transform,
  applyTransform,
  bindTransform,
  bucketHash,
  canTransform,
  decimalToString,
  javaFloatingToString,
  javaUrlEncode,
  parseTransform,
  partitionHumanString,
  partitionPathValue,
  transformResultType,
  transformToString,
} from '../../src/iceberg/transform.js';

const TS_NS: PrimitiveType = { kind: 'timestamp_ns' };
const TSTZ_NS: PrimitiveType = { kind: 'timestamptz_ns' };

function days(iso: string): number {
  return Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 86_400_000;
}

function micros(iso: string): bigint {
  // iso like 2017-11-16T22:31:08 or with .ffffff; UTC
  const [whole, frac = ''] = iso.split('.');
  const ms = Date.parse(`${whole}Z`);
  return BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0') || '0');
}

function uuid(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/-/g, ''), 'hex'));
}

const identity: Transform = { kind: 'identity' };
const year: Transform = { kind: 'year' };
const month: Transform = { kind: 'month' };
const day: Transform = { kind: 'day' };
const hour: Transform = { kind: 'hour' };
const voidT: Transform = { kind: 'void' };
const bucket = (n: number): Transform => ({ kind: 'bucket', numBuckets: n });
const truncate = (w: number): Transform => ({ kind: 'truncate', width: w });

function throwsCode(fn: () => unknown, code: Parameters<typeof isFloeError>[1]): void {
  assert.throws(fn, (e: unknown) => isFloeError(e, code));
}

// ---------------------------------------------------------------------------------------------------------

test('parseTransform parses every spec transform and round-trips through transformToString', () => {
  for (const s of ['identity', 'bucket[16]', 'truncate[10]', 'year', 'month', 'day', 'hour', 'void', 'bucket[1]']) {
    assert.equal(transformToString(parseTransform(s)), s);
  }
  assert.deepEqual(parseTransform('bucket[16]'), { kind: 'bucket', numBuckets: 16 });
  assert.deepEqual(parseTransform('truncate[3]'), { kind: 'truncate', width: 3 });
  assert.deepEqual(parseTransform('DAY'), { kind: 'day' });
  assert.deepEqual(parseTransform('Bucket[4]'), { kind: 'bucket', numBuckets: 4 });
  assert.equal(transformToString(parseTransform('bucket[2147483647]')), 'bucket[2147483647]');
});

test('parseTransform rejects bad input with schema_invalid', () => {
  for (const s of [
    '',
    'days',
    'bucket',
    'bucket[]',
    'bucket[0]',
    'bucket[-1]',
    'bucket[1.5]',
    'bucket[2147483648]',
    'bucket[ 4]',
    'truncate[0]',
    'truncate',
    'identity ',
    'zorder',
    'bucket[16]x',
  ]) {
    throwsCode(() => parseTransform(s), 'schema_invalid');
  }
});

test('canTransform follows the spec source-type table', () => {
  const all: PrimitiveType[] = [
    T.boolean,
    T.int,
    T.long,
    T.float,
    T.double,
    T.decimal(9, 2),
    T.date,
    T.time,
    T.timestamp,
    T.timestamptz,
    TS_NS,
    TSTZ_NS,
    T.string,
    T.uuid,
    T.fixed(4),
    T.binary,
  ];
  const accepts = (t: Transform): string[] => all.filter((s) => canTransform(t, s)).map((s) => s.kind);
  assert.equal(accepts(identity).length, all.length);
  assert.equal(accepts(voidT).length, all.length);
  assert.deepEqual(accepts(bucket(4)), [
    'int', 'long', 'decimal', 'date', 'time', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns',
    'string', 'uuid', 'fixed', 'binary',
  ]);
  assert.deepEqual(accepts(truncate(4)), ['int', 'long', 'decimal', 'string', 'binary']);
  for (const t of [year, month, day]) {
    assert.deepEqual(accepts(t), ['date', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns']);
  }
  assert.deepEqual(accepts(hour), ['timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns']);
  const struct = { kind: 'struct', fields: [] } as const;
  assert.equal(canTransform(identity, struct), false);
  assert.equal(canTransform(voidT, struct), false);
});

test('transformResultType: bucket/year/month/hour -> int, day -> date, others keep the source type', () => {
  assert.deepEqual(transformResultType(bucket(8), T.string), T.int);
  assert.deepEqual(transformResultType(year, T.timestamp), T.int);
  assert.deepEqual(transformResultType(month, T.date), T.int);
  assert.deepEqual(transformResultType(hour, TSTZ_NS), T.int);
  assert.deepEqual(transformResultType(day, T.timestamptz), T.date);
  assert.deepEqual(transformResultType(day, T.date), T.date);
  assert.deepEqual(transformResultType(identity, T.decimal(10, 3)), T.decimal(10, 3));
  assert.deepEqual(transformResultType(truncate(3), T.string), T.string);
  assert.deepEqual(transformResultType(voidT, T.uuid), T.uuid);
  throwsCode(() => transformResultType(hour, T.date), 'schema_invalid');
  throwsCode(() => transformResultType(bucket(2), T.double), 'schema_invalid');
  throwsCode(() => transformResultType(truncate(2), T.uuid), 'schema_invalid');
});

// ---------------------------------------------------------------------------------------------------------
// bucket

test('bucketHash reproduces every spec Appendix B test value', () => {
  assert.equal(bucketHash(T.int, 34), 2017239379);
  assert.equal(bucketHash(T.long, 34n), 2017239379);
  assert.equal(bucketHash(T.decimal(4, 2), 1420n), -500754589); // 14.20
  assert.equal(bucketHash(T.date, days('2017-11-16')), -653330422);
  assert.equal(bucketHash(T.time, 81_068_000_000n), -662762989); // 22:31:08
  assert.equal(bucketHash(T.timestamp, micros('2017-11-16T22:31:08')), -2047944441);
  assert.equal(bucketHash(T.timestamp, micros('2017-11-16T22:31:08.000001')), -1207196810);
  // timestamptz 2017-11-16T14:31:08-08:00 is the same instant as 22:31:08 UTC
  assert.equal(bucketHash(T.timestamptz, micros('2017-11-16T22:31:08')), -2047944441);
  assert.equal(bucketHash(T.timestamptz, micros('2017-11-16T22:31:08.000001')), -1207196810);
  assert.equal(bucketHash(TS_NS, micros('2017-11-16T22:31:08') * 1000n), -2047944441);
  assert.equal(bucketHash(TS_NS, micros('2017-11-16T22:31:08.000001') * 1000n + 1n), -1207196810);
  assert.equal(bucketHash(TSTZ_NS, micros('2017-11-16T22:31:08.000001') * 1000n + 1n), -1207196810);
  assert.equal(bucketHash(T.string, 'iceberg'), 1210000089);
  assert.equal(bucketHash(T.uuid, uuid('f79c3e09-677c-4bbd-a479-3f349cb785e7')), 1488055340);
  assert.equal(bucketHash(T.fixed(4), Uint8Array.of(0, 1, 2, 3)), -188683207);
  assert.equal(bucketHash(T.binary, Uint8Array.of(0, 1, 2, 3)), -188683207);
  // Types not valid for bucketing, but with hashes defined by Appendix B:
  assert.equal(bucketHash(T.boolean, true), 1392991556);
  assert.equal(bucketHash(T.float, 1.0), -142385009);
  assert.equal(bucketHash(T.double, 1.0), -142385009);
  assert.equal(bucketHash(T.float, 0.0), 1669671676);
  assert.equal(bucketHash(T.double, -0.0), 1669671676);
});

test('nanosecond timestamps are floored to micros before hashing (negative values too)', () => {
  assert.equal(bucketHash(TS_NS, -1n), bucketHash(T.timestamp, -1n));
  assert.equal(bucketHash(TS_NS, -1000n), bucketHash(T.timestamp, -1n));
  assert.equal(bucketHash(TS_NS, -1001n), bucketHash(T.timestamp, -2n));
  assert.equal(bucketHash(TS_NS, 999n), bucketHash(T.timestamp, 0n));
});

test('decimal hash uses the minimum-length unscaled bytes, independent of scale', () => {
  assert.equal(bucketHash(T.decimal(4, 2), 1420n), bucketHash(T.decimal(38, 10), 1420n));
  // 1420 = 0x058c: exactly the two bytes 05 8c
  assert.equal(bucketHash(T.decimal(4, 2), 1420n), bucketHash(T.binary, Uint8Array.of(0x05, 0x8c)));
  assert.equal(bucketHash(T.decimal(4, 0), -1n), bucketHash(T.binary, Uint8Array.of(0xff)));
  assert.equal(bucketHash(T.decimal(4, 0), 128n), bucketHash(T.binary, Uint8Array.of(0x00, 0x80)));
  const big = 10n ** 37n + 12345n;
  const hex = big.toString(16).padStart(32, '0');
  assert.equal(bucketHash(T.decimal(38, 0), big), bucketHash(T.binary, Uint8Array.from(Buffer.from(hex, 'hex'))));
});

test('bucket[N] is (hash & Integer.MAX_VALUE) % N', () => {
  assert.equal(applyTransform(bucket(100), T.long, 34n), 79);
  assert.equal(applyTransform(bucket(100), T.int, 34), 79);
  // negative hash: -188683207 & 0x7fffffff = 1958800441
  assert.equal(applyTransform(bucket(16), T.binary, Uint8Array.of(0, 1, 2, 3)), 1958800441 % 16);
  // murmur3('abcd') = 1139631978 (reference C implementation); 1139631978 % 128 = 106
  assert.equal(applyTransform(bucket(128), T.string, 'abcd'), 106);
  assert.equal(applyTransform(bucket(1), T.string, 'anything'), 0);
  for (let i = -50; i < 50; i++) {
    const b = applyTransform(bucket(7), T.int, i * 7919) as number;
    assert.ok(Number.isInteger(b) && b >= 0 && b < 7);
  }
});

// ---------------------------------------------------------------------------------------------------------
// truncate

test('truncate[W] of int/long rounds down to a multiple of W, negatives included', () => {
  const cases: [number, number, number][] = [
    [10, 0, 0],
    [10, 1, 0],
    [10, 5, 0],
    [10, 9, 0],
    [10, 10, 10],
    [10, 11, 10],
    [10, -1, -10],
    [10, -5, -10],
    [10, -10, -10],
    [10, -11, -20],
    [7, 22, 21],
    [1, -3, -3],
  ];
  for (const [w, v, want] of cases) {
    assert.equal(applyTransform(truncate(w), T.int, v), want, `int truncate[${w}](${v})`);
    assert.equal(applyTransform(truncate(w), T.long, BigInt(v)), BigInt(want), `long truncate[${w}](${v})`);
  }
  // At the edge of the range the result wraps, exactly like Java's int/long arithmetic in the reference
  // implementation (so partition values agree with what Java computes for the same rows).
  assert.equal(applyTransform(truncate(10), T.long, -9223372036854775807n), 9223372036854775806n);
  assert.equal(applyTransform(truncate(10), T.int, -2147483648), 2147483646);
});

test('truncate[W] of decimal works on the unscaled value', () => {
  const d = T.decimal(9, 2);
  assert.equal(applyTransform(truncate(50), d, 1065n), 1050n); // 10.65 -> 10.50 (spec example)
  assert.equal(applyTransform(truncate(10), d, -5n), -10n); // -0.05 -> -0.10
  assert.equal(applyTransform(truncate(10), d, 1420n), 1420n);
  assert.equal(applyTransform(truncate(3), d, -1n), -3n);
});

test('truncate[L] of string counts code points and never splits a surrogate pair', () => {
  assert.equal(applyTransform(truncate(3), T.string, 'iceberg'), 'ice');
  assert.equal(applyTransform(truncate(4), T.string, 'iceberg'), 'iceb');
  assert.equal(applyTransform(truncate(10), T.string, 'ice'), 'ice');
  assert.equal(applyTransform(truncate(1), T.string, '测试'), '测');
  assert.equal(applyTransform(truncate(6), T.string, '测试'), '测试');
  assert.equal(applyTransform(truncate(2), T.string, '😀a😀b'), '😀a');
  assert.equal(applyTransform(truncate(1), T.string, '😀😀'), '😀');
  assert.equal(applyTransform(truncate(3), T.string, '😀😀😀😀'), '😀😀😀');
  assert.equal(applyTransform(truncate(2), T.string, ''), '');
});

test('truncate[L] of binary keeps the first L bytes', () => {
  assert.deepEqual(applyTransform(truncate(3), T.binary, Uint8Array.of(1, 2, 3, 4, 5)), Uint8Array.of(1, 2, 3));
  assert.deepEqual(applyTransform(truncate(8), T.binary, Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
});

// ---------------------------------------------------------------------------------------------------------
// year / month / day / hour

test('temporal transforms of a date', () => {
  const d = days('2017-11-16');
  assert.equal(d, 17486);
  assert.equal(applyTransform(year, T.date, d), 47);
  assert.equal(applyTransform(month, T.date, d), 47 * 12 + 10);
  assert.equal(applyTransform(day, T.date, d), 17486);
  assert.equal(applyTransform(month, T.date, days('2000-02-29')), 30 * 12 + 1);
  assert.equal(applyTransform(year, T.date, days('1900-01-01')), -70);
});

test('temporal transforms of dates before 1970 round down', () => {
  assert.equal(applyTransform(year, T.date, -1), -1); // 1969-12-31
  assert.equal(applyTransform(month, T.date, -1), -1);
  assert.equal(applyTransform(day, T.date, -1), -1);
  assert.equal(applyTransform(year, T.date, -365), -1); // 1969-01-01
  assert.equal(applyTransform(month, T.date, -365), -12);
  assert.equal(applyTransform(year, T.date, -366), -2); // 1968-12-31
  assert.equal(applyTransform(month, T.date, -366), -13);
  assert.equal(applyTransform(month, T.date, days('1969-12-01')), -1);
  assert.equal(applyTransform(month, T.date, days('1969-11-30')), -2);
});

test('temporal transforms of timestamps (micros)', () => {
  const ts = micros('2017-11-16T22:31:08');
  for (const t of [T.timestamp, T.timestamptz]) {
    assert.equal(applyTransform(year, t, ts), 47);
    assert.equal(applyTransform(month, t, ts), 574);
    assert.equal(applyTransform(day, t, ts), 17486);
    assert.equal(applyTransform(hour, t, ts), 17486 * 24 + 22);
  }
  assert.equal(applyTransform(hour, T.timestamp, 1512151975038194n), 420042);
  assert.equal(applyTransform(day, T.timestamp, 0n), 0);
  assert.equal(applyTransform(hour, T.timestamp, 3_599_999_999n), 0);
  assert.equal(applyTransform(hour, T.timestamp, 3_600_000_000n), 1);
});

test('temporal transforms of timestamps before 1970 round down', () => {
  for (const t of [T.timestamp, T.timestamptz]) {
    assert.equal(applyTransform(year, t, -1n), -1);
    assert.equal(applyTransform(month, t, -1n), -1);
    assert.equal(applyTransform(day, t, -1n), -1);
    assert.equal(applyTransform(hour, t, -1n), -1);
  }
  assert.equal(applyTransform(hour, T.timestamp, -3_600_000_000n), -1);
  assert.equal(applyTransform(hour, T.timestamp, -3_600_000_001n), -2);
  assert.equal(applyTransform(day, T.timestamp, -86_400_000_000n), -1);
  assert.equal(applyTransform(day, T.timestamp, -86_400_000_001n), -2);
  assert.equal(applyTransform(month, T.timestamp, micros('1969-12-01T00:00:00')), -1);
  assert.equal(applyTransform(month, T.timestamp, micros('1969-11-30T23:59:59.999999')), -2);
  assert.equal(applyTransform(year, T.timestamp, micros('1969-01-01T00:00:00')), -1);
  assert.equal(applyTransform(year, T.timestamp, micros('1968-12-31T23:59:59.999999')), -2);
  // Far outside the safe-number range of micros: still exact.
  const far = -(2n ** 60n);
  assert.equal(applyTransform(day, T.timestamp, far), Number((far - 86_399_999_999n) / 86_400_000_000n));
});

test('temporal transforms of nanosecond timestamps', () => {
  const ns = micros('2017-11-16T22:31:08') * 1000n + 123n;
  for (const t of [TS_NS, TSTZ_NS]) {
    assert.equal(applyTransform(year, t, ns), 47);
    assert.equal(applyTransform(month, t, ns), 574);
    assert.equal(applyTransform(day, t, ns), 17486);
    assert.equal(applyTransform(hour, t, ns), 17486 * 24 + 22);
    assert.equal(applyTransform(hour, t, -1n), -1);
    assert.equal(applyTransform(day, t, -1n), -1);
    assert.equal(applyTransform(year, t, -1n), -1);
  }
});

// ---------------------------------------------------------------------------------------------------------
// nulls, void, errors, bind

test('null gives null for every transform; void gives null for everything', () => {
  for (const t of [identity, bucket(4), truncate(3), year, month, day, hour, voidT]) {
    assert.equal(applyTransform(t, t.kind === 'truncate' ? T.long : T.timestamp, null), null);
  }
  assert.equal(applyTransform(voidT, T.string, 'x'), null);
  assert.equal(applyTransform(identity, T.string, 'x'), 'x');
});

test('wrong source type is schema_invalid; wrong JS value type is value_invalid', () => {
  throwsCode(() => applyTransform(hour, T.date, 1), 'schema_invalid');
  throwsCode(() => bindTransform(truncate(2), T.uuid), 'schema_invalid');
  throwsCode(() => applyTransform(bucket(4), T.long, 34), 'value_invalid');
  throwsCode(() => applyTransform(bucket(4), T.int, 34n), 'value_invalid');
  throwsCode(() => applyTransform(truncate(4), T.string, Uint8Array.of(1)), 'value_invalid');
  throwsCode(() => applyTransform(day, T.timestamp, 5), 'value_invalid');
  throwsCode(() => bindTransform(bucket(4), T.string)(5), 'value_invalid');
});

test('bindTransform gives the same results as applyTransform', () => {
  const cases: [Transform, PrimitiveType, IcebergValue[]][] = [
    [bucket(16), T.int, [0, 34, -34, 2147483647, -2147483648]],
    [bucket(16), T.date, [0, 17486, -1]],
    [bucket(16), T.long, [0n, 34n, -(2n ** 63n), 2n ** 63n - 1n]],
    [bucket(16), T.timestamp, [0n, -1n, 1510871468000000n]],
    [bucket(16), TS_NS, [0n, -1n, 1510871468000000001n]],
    [bucket(16), T.string, ['', 'iceberg', '😀']],
    [bucket(16), T.decimal(38, 2), [0n, -1n, 10n ** 37n]],
    [bucket(16), T.uuid, [uuid('f79c3e09-677c-4bbd-a479-3f349cb785e7')]],
    [truncate(4), T.int, [-1, 5, 17]],
    [truncate(4), T.string, ['abcdef', '😀😀😀😀😀']],
    [year, T.timestamp, [-1n, 0n, 1510871468000000n]],
    [month, T.date, [-1, 0, 17486]],
    [day, T.timestamp, [-1n, 0n, 1510871468000000n, -(2n ** 62n)]],
    [day, T.date, [-1, 0, 17486]],
    [hour, T.timestamptz, [-1n, 0n, 1510871468000000n]],
    [hour, TS_NS, [-1n, 0n, 1510871468000000001n]],
    [identity, T.string, ['x']],
    [voidT, T.int, [5]],
  ];
  for (const [t, type, values] of cases) {
    const bound = bindTransform(t, type);
    assert.equal(bound(null), null);
    for (const v of values) {
      assert.deepEqual(bound(v), applyTransform(t, type, v), `${transformToString(t)} ${type.kind} ${String(v)}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------------
// human strings and partition paths

test('partition path values of temporal transforms', () => {
  assert.equal(partitionPathValue(year, T.int, 54), '2024');
  assert.equal(partitionPathValue(month, T.int, 54 * 12 + 2), '2024-03');
  assert.equal(partitionPathValue(day, T.date, days('2024-03-07')), '2024-03-07');
  assert.equal(partitionPathValue(hour, T.int, days('2024-03-07') * 24 + 13), '2024-03-07-13');
  // before 1970
  assert.equal(partitionPathValue(year, T.int, -1), '1969');
  assert.equal(partitionPathValue(month, T.int, -1), '1969-12');
  assert.equal(partitionPathValue(month, T.int, -13), '1968-12');
  assert.equal(partitionPathValue(day, T.date, -1), '1969-12-31');
  assert.equal(partitionPathValue(hour, T.int, -1), '1969-12-31-23');
  // Java's %04d pads with the sign inside the width
  assert.equal(partitionHumanString(year, T.int, -1970), '0000');
  assert.equal(partitionHumanString(year, T.int, -1971), '-001');
  assert.equal(partitionHumanString(year, T.int, 8030), '10000');
});

test('partition path values of identity by type', () => {
  assert.equal(partitionPathValue(identity, T.int, -5), '-5');
  assert.equal(partitionPathValue(identity, T.long, 9007199254740993n), '9007199254740993');
  assert.equal(partitionPathValue(identity, T.boolean, true), 'true');
  assert.equal(partitionPathValue(identity, T.date, days('2017-11-16')), '2017-11-16');
  assert.equal(partitionHumanString(identity, T.timestamp, micros('2017-11-16T22:31:08')), '2017-11-16T22:31:08');
  assert.equal(partitionHumanString(identity, T.timestamp, micros('2017-11-16T22:31:08.000001')), '2017-11-16T22:31:08.000001');
  assert.equal(partitionHumanString(identity, T.timestamp, micros('2017-11-16T22:31:08.1')), '2017-11-16T22:31:08.1');
  assert.equal(partitionHumanString(identity, T.timestamp, micros('2017-11-16T00:00:00')), '2017-11-16T00:00:00');
  assert.equal(partitionHumanString(identity, T.timestamp, -1n), '1969-12-31T23:59:59.999999');
  assert.equal(partitionHumanString(identity, T.timestamptz, micros('2017-11-16T22:31:08')), '2017-11-16T22:31:08+00:00');
  assert.equal(partitionPathValue(identity, T.timestamptz, micros('2017-11-16T22:31:08')), '2017-11-16T22%3A31%3A08%2B00%3A00');
  assert.equal(partitionHumanString(identity, TS_NS, micros('2017-11-16T22:31:08') * 1000n + 1n), '2017-11-16T22:31:08.000000001');
  assert.equal(partitionHumanString(identity, TSTZ_NS, micros('2017-11-16T22:31:08') * 1000n + 120n), '2017-11-16T22:31:08.00000012+00:00');
  assert.equal(partitionHumanString(identity, T.time, 81_068_000_000n), '22:31:08');
  assert.equal(partitionHumanString(identity, T.time, 0n), '00:00');
  assert.equal(partitionHumanString(identity, T.time, 60_000_000n), '00:01');
  assert.equal(partitionHumanString(identity, T.time, 1n), '00:00:00.000001');
  assert.equal(partitionHumanString(identity, T.time, 1000n), '00:00:00.001');
  assert.equal(partitionHumanString(identity, T.decimal(4, 2), 1420n), '14.20');
  assert.equal(partitionHumanString(identity, T.decimal(4, 2), -5n), '-0.05');
  assert.equal(partitionHumanString(identity, T.decimal(4, 0), 1420n), '1420');
  assert.equal(partitionHumanString(identity, T.uuid, uuid('f79c3e09-677c-4bbd-a479-3f349cb785e7')), 'f79c3e09-677c-4bbd-a479-3f349cb785e7');
  assert.equal(partitionHumanString(identity, T.binary, Uint8Array.of(0, 1, 2, 3)), 'AAECAw==');
  assert.equal(partitionPathValue(identity, T.fixed(4), Uint8Array.of(0, 1, 2, 3)), 'AAECAw%3D%3D');
  assert.equal(partitionPathValue(identity, T.double, 1.5), '1.5');
  assert.equal(partitionPathValue(identity, T.string, 'a b/c'), 'a+b%2Fc');
});

test('partition path values of bucket, truncate, void and null', () => {
  assert.equal(partitionPathValue(bucket(16), T.int, 5), '5');
  assert.equal(partitionPathValue(truncate(3), T.string, 'ice'), 'ice');
  assert.equal(partitionPathValue(truncate(50), T.decimal(9, 2), 1050n), '10.50');
  assert.equal(partitionPathValue(truncate(3), T.binary, Uint8Array.of(1, 2, 3)), 'AQID');
  assert.equal(partitionPathValue(voidT, T.string, null), 'null');
  assert.equal(partitionPathValue(day, T.date, null), 'null');
  assert.equal(partitionPathValue(identity, T.string, null), 'null');
});

test('javaUrlEncode matches java.net.URLEncoder (UTF-8)', () => {
  assert.equal(javaUrlEncode('azAZ09.-*_'), 'azAZ09.-*_');
  assert.equal(javaUrlEncode(' '), '+');
  assert.equal(javaUrlEncode("!'()~/?#&=+%:,;@$"), '%21%27%28%29%7E%2F%3F%23%26%3D%2B%25%3A%2C%3B%40%24');
  assert.equal(javaUrlEncode('é'), '%C3%A9');
  assert.equal(javaUrlEncode('测'), '%E6%B5%8B');
  assert.equal(javaUrlEncode('😀'), '%F0%9F%98%80');
  assert.equal(javaUrlEncode('a\ud800b'), 'a%3Fb');
  assert.equal(javaUrlEncode('\u0000\u007f'), '%00%7F');
});

test('decimalToString matches BigDecimal.toString', () => {
  assert.equal(decimalToString(0n, 0), '0');
  assert.equal(decimalToString(0n, 2), '0.00');
  assert.equal(decimalToString(1420n, 2), '14.20');
  assert.equal(decimalToString(-1420n, 2), '-14.20');
  assert.equal(decimalToString(5n, 3), '0.005');
  assert.equal(decimalToString(1n, 6), '0.000001');
  assert.equal(decimalToString(1n, 7), '1E-7');
  assert.equal(decimalToString(12n, 10), '1.2E-9');
  assert.equal(decimalToString(-12n, 10), '-1.2E-9');
  assert.equal(decimalToString(123456789n, 10), '0.0123456789');
});

test('javaFloatingToString matches Double.toString / Float.toString', () => {
  const d = (v: number): string => javaFloatingToString(v, false);
  const f = (v: number): string => javaFloatingToString(v, true);
  assert.equal(d(1), '1.0');
  assert.equal(d(-1.5), '-1.5');
  assert.equal(d(100), '100.0');
  assert.equal(d(0.001), '0.001');
  assert.equal(d(0.00123), '0.00123');
  assert.equal(d(0.0001), '1.0E-4');
  assert.equal(d(1234567), '1234567.0');
  assert.equal(d(1e7), '1.0E7');
  assert.equal(d(12345678.9), '1.23456789E7');
  assert.equal(d(0.1 + 0.2), '0.30000000000000004');
  assert.equal(d(1e21), '1.0E21');
  assert.equal(d(-0), '-0.0');
  assert.equal(d(0), '0.0');
  assert.equal(d(NaN), 'NaN');
  assert.equal(d(-Infinity), '-Infinity');
  assert.equal(d(Number.MAX_VALUE), '1.7976931348623157E308');
  assert.equal(d(Number.MIN_VALUE), '4.9E-324');
  assert.equal(f(Math.fround(0.1)), '0.1');
  assert.equal(f(Math.fround(3.4028235e38)), '3.4028235E38');
  assert.equal(f(Math.fround(1.1)), '1.1');
  assert.equal(f(Math.fround(16777216)), '1.6777216E7');
  assert.equal(f(Math.fround(1.4e-45)), '1.4E-45');
});
