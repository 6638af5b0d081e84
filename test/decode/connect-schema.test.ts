// Proves the Kafka Connect schema mapping: every Debezium/Connect semantic type maps to the documented Iceberg type and converts concrete JSON values exactly; bad values are rejected naming the column; schemaless columns are inferred; a field's "default" becomes the column's default through the same converter (or none when it cannot be trusted).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { PrecisionLost, decimalFromBase64, inferColumn, isoToMicros, mapConnectField, type ConnectField } from '../../src/decode/connect-schema.js';
import { decimalBytes } from '../support/avro-debezium.js';
import { T } from '../../src/iceberg/types.js';

function map(f: Omit<ConnectField, 'field'>, field = 'c') {
  return mapConnectField({ ...f, field });
}

function rejects(fn: () => unknown, column: string, what: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FloeError);
    assert.equal(e.code, 'value_invalid');
    assert.equal(e.details.column, column);
    assert.match(e.message, new RegExp(`column "${column}"`));
    assert.match(e.message, what);
    return true;
  });
}

describe('decimalFromBase64', () => {
  it('reads big-endian two’s complement bytes', () => {
    assert.equal(decimalFromBase64('EtaH'), 1234567n); // 0x12d687
    assert.equal(decimalFromBase64('7Sl5'), -1234567n); // 0xed2979
    assert.equal(decimalFromBase64('/w=='), -1n);
    assert.equal(decimalFromBase64('gA=='), -128n);
    assert.equal(decimalFromBase64('AIA='), 128n); // a leading 0x00 keeps 0x80 positive
    assert.equal(decimalFromBase64(''), 0n);
    const big = 10n ** 37n + 12345n;
    const hex = big.toString(16);
    assert.equal(decimalFromBase64(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64')), big);
  });
});

describe('isoToMicros', () => {
  it('keeps fractional micros and applies offsets', () => {
    assert.equal(isoToMicros('2024-03-07T10:15:30Z', 'c'), 1_709_806_530_000_000n);
    assert.equal(isoToMicros('2024-03-07T10:15:30.123456Z', 'c'), 1_709_806_530_123_456n);
    assert.equal(isoToMicros('2024-03-07T10:15:30.123Z', 'c'), 1_709_806_530_123_000n);
    assert.equal(isoToMicros('2024-03-07T10:15:30.1Z', 'c'), 1_709_806_530_100_000n);
    // nanosecond digits beyond micros are dropped
    assert.equal(isoToMicros('2024-03-07T10:15:30.123456789Z', 'c'), 1_709_806_530_123_456n);
    // 10:15:30+09:00 is 01:15:30Z
    assert.equal(isoToMicros('2024-03-07T10:15:30.123456+09:00', 'c'), 1_709_774_130_123_456n);
    assert.equal(isoToMicros('2024-03-07T10:15:30.123456+0900', 'c'), 1_709_774_130_123_456n);
    // 10:15:30.1-05:30 is 15:45:30.1Z
    assert.equal(isoToMicros('2024-03-07T10:15:30.1-05:30', 'c'), 1_709_826_330_100_000n);
    // no zone: UTC
    assert.equal(isoToMicros('2024-03-07T10:15:30', 'c'), 1_709_806_530_000_000n);
    // before the epoch the fraction still counts forward from the whole second
    assert.equal(isoToMicros('1969-12-31T23:59:59.5Z', 'c'), -500_000n);
    assert.equal(isoToMicros('1970-01-01T00:00:00Z', 'c'), 0n);
  });

  it('rejects text that is not an ISO-8601 timestamp', () => {
    rejects(() => isoToMicros('2024-03-07 10:15:30', 'ts'), 'ts', /expected an ISO-8601 timestamp/);
    rejects(() => isoToMicros('yesterday', 'ts'), 'ts', /expected an ISO-8601 timestamp/);
    rejects(() => isoToMicros('2024-13-45T10:15:30Z', 'ts'), 'ts', /expected an ISO-8601 timestamp/);
  });
});

describe('mapConnectField: semantic types', () => {
  it('io.debezium.time.Date (int32 days) → date', () => {
    const m = map({ type: 'int32', name: 'io.debezium.time.Date', optional: true });
    assert.deepEqual(m.type, T.date);
    assert.equal(m.convert(19789), 19789); // 2024-03-07
    assert.equal(m.convert(-1), -1);
    rejects(() => m.convert('2024-03-07'), 'c', /expected an integer/);
    rejects(() => m.convert(1.5), 'c', /expected an integer/);
  });

  it('org.apache.kafka.connect.data.Date/Time/Timestamp (time.precision.mode=connect)', () => {
    const d = map({ type: 'int32', name: 'org.apache.kafka.connect.data.Date' });
    assert.deepEqual(d.type, T.date);
    assert.equal(d.convert(19789), 19789);
    const t = map({ type: 'int32', name: 'org.apache.kafka.connect.data.Time' });
    assert.deepEqual(t.type, T.time);
    assert.equal(t.convert(37_230_123), 37_230_123_000n);
    const ts = map({ type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp' });
    assert.deepEqual(ts.type, T.timestamp);
    assert.equal(ts.convert(1_709_806_530_123), 1_709_806_530_123_000n);
  });

  it('io.debezium.time.Time (int32 ms) → time in micros', () => {
    const m = map({ type: 'int32', name: 'io.debezium.time.Time' });
    assert.deepEqual(m.type, T.time);
    assert.equal(m.convert(37_230_123), 37_230_123_000n); // 10:20:30.123
    assert.equal(m.convert(0), 0n);
  });

  it('io.debezium.time.MicroTime → time', () => {
    const m = map({ type: 'int64', name: 'io.debezium.time.MicroTime' });
    assert.deepEqual(m.type, T.time);
    assert.equal(m.convert(37_230_123_456), 37_230_123_456n);
  });

  it('io.debezium.time.NanoTime → time, nanos floored to micros', () => {
    const m = map({ type: 'int64', name: 'io.debezium.time.NanoTime' });
    assert.deepEqual(m.type, T.time);
    assert.equal(m.convert(37_230_123_456_789), 37_230_123_456n);
    assert.equal(m.convert(999), 0n);
    assert.equal(m.convert(-1), -1n); // floor, not truncation
    assert.equal(m.convert(-1000), -1n);
    assert.equal(m.convert(-1001), -2n);
  });

  it('io.debezium.time.Timestamp (int64 ms) → timestamp', () => {
    const m = map({ type: 'int64', name: 'io.debezium.time.Timestamp' });
    assert.deepEqual(m.type, T.timestamp);
    assert.equal(m.convert(1_709_806_530_123), 1_709_806_530_123_000n);
    assert.equal(m.convert(-1), -1000n);
  });

  it('io.debezium.time.MicroTimestamp → timestamp', () => {
    const m = map({ type: 'int64', name: 'io.debezium.time.MicroTimestamp' });
    assert.deepEqual(m.type, T.timestamp);
    assert.equal(m.convert(1_709_806_530_123_456), 1_709_806_530_123_456n);
    assert.equal(m.convert('1709806530123456'), 1_709_806_530_123_456n);
  });

  it('io.debezium.time.NanoTimestamp → timestamp, from exact integers', () => {
    const m = map({ type: 'int64', name: 'io.debezium.time.NanoTimestamp' });
    assert.deepEqual(m.type, T.timestamp);
    // nanos since the epoch exceed 2^53: exact values arrive as bigint (exact re-parse) or digit strings
    assert.equal(m.convert(1_709_806_530_123_456_789n), 1_709_806_530_123_456n);
    assert.equal(m.convert('1709806530123456789'), 1_709_806_530_123_456n);
    assert.equal(m.convert(-1_500n), -2n);
    // a rounded double is refused, asking for an exact re-parse
    assert.throws(() => m.convert(1_709_806_530_123_456_789), (e: unknown) => e instanceof PrecisionLost && e.column === 'c');
  });

  it('io.debezium.time.ZonedTimestamp (ISO string) → timestamptz', () => {
    const m = map({ type: 'string', name: 'io.debezium.time.ZonedTimestamp', optional: true });
    assert.deepEqual(m.type, T.timestamptz);
    assert.equal(m.required, false);
    assert.equal(m.convert('2024-03-07T10:15:30.123456Z'), 1_709_806_530_123_456n);
    assert.equal(m.convert('2024-03-07T10:15:30.123456+09:00'), 1_709_774_130_123_456n);
    rejects(() => m.convert(1_709_806_530_123), 'c', /expected an ISO-8601 string/);
  });

  it('io.debezium.time.ZonedTime, Json, Enum, EnumSet, Xml, Uuid → string as is', () => {
    for (const name of ['io.debezium.time.ZonedTime', 'io.debezium.data.Json', 'io.debezium.data.Enum', 'io.debezium.data.EnumSet', 'io.debezium.data.Xml', 'io.debezium.data.Uuid']) {
      const m = map({ type: 'string', name, optional: true });
      assert.deepEqual(m.type, T.string, name);
    }
    assert.equal(map({ type: 'string', name: 'io.debezium.data.Json' }).convert('{"a":[1,2]}'), '{"a":[1,2]}');
    assert.equal(map({ type: 'string', name: 'io.debezium.data.Enum', parameters: { allowed: 'new,paid' } }).convert('paid'), 'paid');
    assert.equal(map({ type: 'string', name: 'io.debezium.data.Uuid' }).convert('6f9619ff-8b86-d011-b42d-00c04fc964ff'), '6f9619ff-8b86-d011-b42d-00c04fc964ff');
    rejects(() => map({ type: 'string', name: 'io.debezium.data.Json' }).convert({ a: 1 }), 'c', /expected a string/);
  });

  it('io.debezium.time.Year → int', () => {
    const m = map({ type: 'int32', name: 'io.debezium.time.Year' });
    assert.deepEqual(m.type, T.int);
    assert.equal(m.convert(2024), 2024);
  });

  it('org.apache.kafka.connect.data.Decimal → decimal(P,S) from base64, negatives included', () => {
    const m = map({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '12' } } as ConnectField);
    assert.deepEqual(m.type, T.decimal(12, 2));
    assert.equal(m.convert('EtaH'), 1234567n); // 12345.67
    assert.equal(m.convert('7Sl5'), -1234567n); // -12345.67
    assert.equal(m.convert('/w=='), -1n); // -0.01
    assert.equal(m.convert('AA=='), 0n);
    rejects(() => m.convert(12345.67), 'c', /expected base64 decimal bytes/);
  });

  it('Decimal without a precision parameter is decimal(38, S); wider than 38 digits (DECIMAL(65,30)) is exact text', () => {
    assert.deepEqual(map({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '4' } }).type, T.decimal(38, 4));
    const wide = map({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '30', 'connect.decimal.precision': '65' } });
    assert.deepEqual(wide.type, T.string);
    const max = 10n ** 65n - 1n; // 99999999999999999999999999999999999.999999999999999999999999999999
    const b64 = (u: bigint) => Buffer.from(decimalBytes(u)).toString('base64');
    assert.equal(wide.convert(b64(max)), `${'9'.repeat(35)}.${'9'.repeat(30)}`);
    assert.equal(wide.convert(b64(-1n)), `-0.${'0'.repeat(29)}1`);
    assert.equal(wide.convert(b64(0n)), `0.${'0'.repeat(30)}`);
  });

  it('Bits: little-endian bytes with a "length" parameter → big-endian binary of ceil(length / 8) bytes', () => {
    const m = map({ type: 'bytes', name: 'io.debezium.data.Bits', parameters: { length: '12' } });
    assert.deepEqual(m.type, T.binary);
    // b'101000000001' = 0xA01: Debezium sends [0x01, 0x0A]
    assert.deepEqual(m.convert(Buffer.from([0x01, 0x0a]).toString('base64')), Uint8Array.from([0x0a, 0x01]));
    // BIT(64) max: all ones
    const b64 = map({ type: 'bytes', name: 'io.debezium.data.Bits', parameters: { length: '64' } });
    assert.deepEqual(b64.convert(Buffer.alloc(8, 0xff).toString('base64')), new Uint8Array(8).fill(0xff));
    // a short value is padded to the declared width
    assert.deepEqual(b64.convert(Buffer.from([0x05]).toString('base64')), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 5]));
  });

  it('time columns follow timeAs: time, micros (signed long) or string (MySQL TIME text, hours beyond 24)', () => {
    const micro = { type: 'int64', name: 'io.debezium.time.MicroTime', optional: true };
    assert.deepEqual(map(micro).type, T.time);
    const asLong = mapConnectField({ ...micro, field: 't' }, { timeAs: 'micros' });
    assert.deepEqual(asLong.type, T.long);
    assert.equal(asLong.convert(-3_020_399_000_000), -3_020_399_000_000n);
    const asText = mapConnectField({ ...micro, field: 't' }, { timeAs: 'string' });
    assert.deepEqual(asText.type, T.string);
    assert.equal(asText.convert(3_020_399_000_000), '838:59:59.000000');
    assert.equal(asText.convert(-1), '-00:00:00.000001');
    assert.equal(asText.convert(45_296_789_012), '12:34:56.789012');
    // time.precision.mode=connect: milliseconds
    const connect = mapConnectField({ type: 'int32', name: 'org.apache.kafka.connect.data.Time', field: 't' }, { timeAs: 'string' });
    assert.equal(connect.convert(45_296_789), '12:34:56.789000');
  });

  it('isostring mode and durations: IsoDate, IsoTime, IsoTimestamp, MicroDuration', () => {
    assert.equal(map({ type: 'string', name: 'io.debezium.time.IsoDate' }).convert('1969-12-31'), -1);
    const t = map({ type: 'string', name: 'io.debezium.time.IsoTime' });
    assert.deepEqual(t.type, T.time);
    assert.equal(t.convert('12:34:56.5Z'), 45_296_500_000n);
    const ts = map({ type: 'string', name: 'io.debezium.time.IsoTimestamp' });
    assert.deepEqual(ts.type, T.timestamp);
    assert.equal(ts.convert('2038-01-19T03:14:08.123456Z'), 2_147_483_648_123_456n);
    const d = map({ type: 'int64', name: 'io.debezium.time.MicroDuration' });
    assert.deepEqual(d.type, T.long);
    assert.equal(d.convert(-5), -5n);
  });

  it('io.debezium.data.VariableScaleDecimal → decimal(38,10), rescaled and rounded half away from zero', () => {
    const m = map({ type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', optional: true });
    assert.deepEqual(m.type, T.decimal(38, 10));
    // 12345.67 (scale 2) → 123456700000000 at scale 10
    assert.equal(m.convert({ scale: 2, value: 'EtaH' }), 123_456_700_000_000n);
    assert.equal(m.convert({ scale: 2, value: '7Sl5' }), -123_456_700_000_000n);
    // 0.000000123456 (scale 12) → 0.0000001235 (scale 10)
    assert.equal(m.convert({ scale: 12, value: 'AeJA' }), 1235n);
    // 1.5e-10 rounds up; -1.5e-10 and -5e-11 round away from zero
    assert.equal(m.convert({ scale: 11, value: Buffer.from([0x0f]).toString('base64') }), 2n);
    assert.equal(m.convert({ scale: 11, value: Buffer.from([0x05]).toString('base64') }), 1n);
    assert.equal(m.convert({ scale: 11, value: '8Q==' }), -2n);
    assert.equal(m.convert({ scale: 11, value: Buffer.from([0xfb]).toString('base64') }), -1n);
    // 4e-11 rounds to 0
    assert.equal(m.convert({ scale: 11, value: Buffer.from([0x04]).toString('base64') }), 0n);
    // missing scale means 0
    assert.equal(m.convert({ value: 'AIA=' }), 128n * 10n ** 10n);
    rejects(() => m.convert('12.5'), 'c', /expected \{scale, value\}/);
    rejects(() => m.convert({ scale: 2 }), 'c', /expected \{scale, value\}/);
  });

  it('io.debezium.data.Bits → binary', () => {
    const m = map({ type: 'bytes', name: 'io.debezium.data.Bits', parameters: { length: '3' } });
    assert.deepEqual(m.type, T.binary);
    assert.deepEqual(m.convert('BQ=='), Uint8Array.from([0b101]));
    rejects(() => m.convert(5), 'c', /expected base64 bytes/);
  });

  it('io.debezium.data.geometry.Geometry/Point/Geography ({wkb, srid}) → binary WKB', () => {
    const wkb = 'AQEAAAAAAAAAAADwPwAAAAAAAABA'; // POINT(1 2), little-endian WKB
    for (const name of ['io.debezium.data.geometry.Geometry', 'io.debezium.data.geometry.Point', 'io.debezium.data.geometry.Geography']) {
      const m = map({ type: 'struct', name, optional: true });
      assert.deepEqual(m.type, T.binary, name);
      assert.deepEqual(m.convert({ wkb, srid: 4326 }), Uint8Array.from(Buffer.from('0101000000000000000000f03f0000000000000040', 'hex')));
    }
    rejects(() => map({ type: 'struct', name: 'io.debezium.data.geometry.Point' }).convert({ x: 1, y: 2 }), 'c', /expected \{wkb, srid\}/);
  });
});

describe('mapConnectField: plain Connect types', () => {
  it('int8/int16/int32 → int, int64 → long (bigint)', () => {
    for (const type of ['int8', 'int16', 'int32']) {
      const m = map({ type });
      assert.deepEqual(m.type, T.int, type);
      assert.equal(m.convert(-7), -7);
      assert.equal(m.convert(true), 1); // MySQL TINYINT(1) as boolean-ish values
    }
    const l = map({ type: 'int64' });
    assert.deepEqual(l.type, T.long);
    assert.equal(l.convert(42), 42n);
    assert.equal(l.convert(Number.MAX_SAFE_INTEGER), 9_007_199_254_740_991n);
    assert.equal(l.convert(-Number.MAX_SAFE_INTEGER), -9_007_199_254_740_991n);
    assert.equal(l.convert(9_223_372_036_854_775_807n), 9_223_372_036_854_775_807n);
    assert.equal(l.convert('-9223372036854775808'), -9_223_372_036_854_775_808n);
    assert.throws(() => l.convert(2 ** 60), PrecisionLost);
    rejects(() => l.convert('abc'), 'c', /expected an integer, got "abc"/);
    rejects(() => l.convert(1.5), 'c', /expected an integer/);
    rejects(() => map({ type: 'int32' }).convert('12'), 'c', /expected an integer/);
    // exact re-parses hand over 16+ digit literals as bigint: int columns take those in the int32 range
    assert.equal(map({ type: 'int32' }).convert(1_000_000n), 1_000_000);
    assert.equal(map({ type: 'int32' }).convert(-2_147_483_648n), -2_147_483_648);
  });

  it('float32 → float, float64 → double, NaN and infinities as strings', () => {
    const f = map({ type: 'float32' });
    assert.deepEqual(f.type, T.float);
    assert.equal(f.convert(1.5), 1.5);
    assert.deepEqual(map({ type: 'float' }).type, T.float);
    const d = map({ type: 'float64' });
    assert.deepEqual(d.type, T.double);
    assert.equal(d.convert(-2.25e300), -2.25e300);
    assert.ok(Number.isNaN(d.convert('NaN')));
    assert.equal(d.convert('Infinity'), Infinity);
    assert.equal(d.convert('-Infinity'), -Infinity);
    assert.deepEqual(map({ type: 'double' }).type, T.double);
    rejects(() => d.convert('1.5'), 'c', /expected a number/);
    assert.equal(d.convert(12_345_678_901_234_567n), 12_345_678_901_234_568);
    assert.equal(f.convert(1_000_000_000_000_000n), 1e15);
  });

  it('boolean, string, bytes (base64)', () => {
    const b = map({ type: 'boolean' });
    assert.deepEqual(b.type, T.boolean);
    assert.equal(b.convert(false), false);
    rejects(() => b.convert(1), 'c', /expected a boolean/);
    const s = map({ type: 'string' });
    assert.deepEqual(s.type, T.string);
    assert.equal(s.convert('ünïcødé 🧊'), 'ünïcødé 🧊');
    rejects(() => s.convert(5), 'c', /expected a string/);
    const y = map({ type: 'bytes' });
    assert.deepEqual(y.type, T.binary);
    assert.deepEqual(y.convert('AP8B'), Uint8Array.from([0, 255, 1]));
  });

  it('struct, array and map values are kept as JSON text', () => {
    for (const type of ['struct', 'array', 'map']) assert.deepEqual(map({ type }).type, T.string, type);
    assert.equal(map({ type: 'array' }).convert([1, 'a']), '[1,"a"]');
    assert.equal(map({ type: 'struct' }).convert({ a: { b: null } }), '{"a":{"b":null}}');
  });

  it('optional decides required; the column name comes from `field` or the option', () => {
    const m = mapConnectField({ type: 'int64', optional: false, field: 'id' });
    assert.equal(m.name, 'id');
    assert.equal(m.required, true);
    assert.equal(mapConnectField({ type: 'int64', field: 'id' }).required, true); // Connect: optional defaults to false
    assert.equal(mapConnectField({ type: 'int64', optional: true, field: 'id' }).required, false);
    assert.equal(mapConnectField({ type: 'int64', field: 'id' }, { column: 'renamed' }).name, 'renamed');
  });

  it('unknown Connect types are unsupported, naming the column', () => {
    assert.throws(
      () => mapConnectField({ type: 'int128', field: 'weird', name: 'x.Y' }),
      (e: unknown) => e instanceof FloeError && e.code === 'type_unsupported' && e.details.column === 'weird' && /"int128" \(x\.Y\)/.test(e.message),
    );
  });
});

describe('inferColumn (schemaless JSON)', () => {
  it('a number written with a fraction or exponent is a double even when JSON.parse made it integral', () => {
    assert.deepEqual(inferColumn('x', 1, '1.0')?.type, T.double);
    assert.deepEqual(inferColumn('x', 100, '1e2')?.type, T.double);
    assert.deepEqual(inferColumn('x', 1, '1')?.type, T.long);
    assert.equal(inferColumn('x', 1, '1.0')?.convert(2.5), 2.5);
  });

  it('infers optional long, double, boolean and string columns', () => {
    const l = inferColumn('n', 5);
    assert.deepEqual(l && { name: l.name, type: l.type, required: l.required }, { name: 'n', type: T.long, required: false });
    assert.equal(l?.convert(7), 7n);
    assert.equal(l?.convert('9223372036854775807'), 9_223_372_036_854_775_807n);
    rejects(() => l?.convert('x'), 'n', /expected an integer/);

    const d = inferColumn('price', 12.5);
    assert.deepEqual(d?.type, T.double);
    assert.equal(d?.convert(3), 3);
    rejects(() => d?.convert('3'), 'price', /expected a number/);

    const b = inferColumn('flag', true);
    assert.deepEqual(b?.type, T.boolean);
    assert.equal(b?.convert(false), false);

    const s = inferColumn('name', 'x');
    assert.deepEqual(s?.type, T.string);
    assert.equal(s?.convert('y'), 'y');
    assert.equal(s?.convert(12), '12'); // later non-strings are kept as their JSON text
  });

  it('nested values become JSON strings; null and undefined infer nothing', () => {
    const o = inferColumn('tags', ['a', 'b']);
    assert.deepEqual(o?.type, T.string);
    assert.equal(o?.convert(['a', 'b']), '["a","b"]');
    assert.equal(o?.convert({ k: 1 }), '{"k":1}');
    assert.equal(inferColumn('gone', null), null);
    assert.equal(inferColumn('gone', undefined), null);
  });
});

describe('column defaults from the schema block ("default", as JsonConverter writes a Connect default)', () => {
  it('converts the default through the column converter into the Iceberg type', () => {
    assert.equal(map({ type: 'int32', optional: false, default: 7 }).default, 7);
    assert.equal(map({ type: 'int64', optional: true, default: 9 }).default, 9n);
    assert.equal(map({ type: 'string', optional: false, default: 'new' }).default, 'new');
    assert.equal(map({ type: 'boolean', optional: false, default: false }).default, false);
    assert.equal(map({ type: 'double', optional: false, default: 0.5 }).default, 0.5);
    // DECIMAL(10,2) DEFAULT 1.50: base64 of the unscaled 150, as the JsonConverter writes Decimal values
    assert.equal(map({ type: 'bytes', optional: false, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2', 'connect.decimal.precision': '10' }, default: 'AJY=' }).default, 150n);
    assert.equal(map({ type: 'int32', optional: false, name: 'io.debezium.time.Date', default: 19723 }).default, 19723);
    assert.equal(map({ type: 'int64', optional: false, name: 'io.debezium.time.MicroTime', default: 3_600_000_000 }).default, 3_600_000_000n);
    assert.equal(mapConnectField({ type: 'int64', optional: false, name: 'io.debezium.time.MicroTime', default: 3_600_000_000, field: 't' }, { timeAs: 'string' }).default, '01:00:00.000000');
    assert.equal(map({ type: 'string', optional: false, name: 'io.debezium.time.ZonedTimestamp', default: '2024-01-01T00:00:00Z' }).default, 1_704_067_200_000_000n);
    assert.deepEqual(map({ type: 'bytes', optional: false, default: 'AQI=' }).default, new Uint8Array([1, 2]));
  });

  it('no default: absent, null, a value the converter or the type refuses, or a timestamp at the epoch', () => {
    assert.equal('default' in map({ type: 'int32', optional: true }), false);
    assert.equal(map({ type: 'int32', optional: true, default: null }).default, undefined);
    assert.equal(map({ type: 'int32', optional: false, default: 'x' }).default, undefined);
    // TIME '30:00:00' cannot be an Iceberg time (a time of day)
    assert.equal(map({ type: 'int64', optional: false, name: 'io.debezium.time.MicroTime', default: 108_000_000_000 }).default, undefined);
    // Debezium's MySQL parser writes DEFAULT CURRENT_TIMESTAMP as 1970-01-01 00:00:00: MySQL fills existing
    // rows with the ALTER's time, so the epoch would be a wrong value for them.
    assert.equal(map({ type: 'string', optional: false, name: 'io.debezium.time.ZonedTimestamp', default: '1970-01-01T00:00:00Z' }).default, undefined);
    assert.equal(map({ type: 'int64', optional: false, name: 'io.debezium.time.Timestamp', default: 0 }).default, undefined);
    assert.equal(map({ type: 'int64', optional: false, name: 'org.apache.kafka.connect.data.Timestamp', default: 0 }).default, undefined);
    // a BIGINT default beyond 2^53 that JSON.parse rounded
    assert.equal(map({ type: 'int64', optional: false, default: 2 ** 60 }).default, undefined);
  });
});
