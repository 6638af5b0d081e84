// Proves the in-house Avro codec: exact binary encoding, nested round trips (unions, arrays, maps, fixed, enums, 64-bit longs, NaN), container files with custom schema attributes, blocks, codecs, and clear errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError, isFloeError, type FloeErrorCode } from '../../src/errors.js';
import {
  AvroReader,
  AvroWriter,
  decodeValue,
  encodeValue,
  readContainer,
  writeContainer,
  type AvroSchema,
  type AvroValue,
} from '../../src/avro/avro.js';

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function encode(s: AvroSchema, v: AvroValue): Buffer {
  const w = new AvroWriter(8); // tiny start: exercises buffer growth
  encodeValue(s, v, w);
  return Buffer.from(w.bytes());
}

function roundTrip(s: AvroSchema, v: AvroValue): AvroValue {
  const r = new AvroReader(encode(s, v));
  const out = decodeValue(s, r);
  assert.equal(r.pos, r.buf.length, 'decoder consumed every byte');
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function throwsFloe(fn: () => unknown, code: FloeErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFloeError(e, code), `expected FloeError ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

/** Walks a container's blocks and returns each block's row count (independent of readContainer). */
function blockCounts(file: Buffer): number[] {
  const r = new AvroReader(file);
  r.pos = 4;
  decodeValue({ type: 'map', values: 'bytes' }, r);
  r.pos += 16;
  const counts: number[] = [];
  while (r.pos < file.length) {
    counts.push(Number(r.readLong()));
    const size = Number(r.readLong());
    r.pos += size + 16;
  }
  return counts;
}

const NESTED: AvroSchema = {
  type: 'record',
  name: 'outer',
  fields: [
    { name: 'id', type: 'long', 'field-id': 1 },
    { name: 'i', type: 'int', 'field-id': 2 },
    { name: 'maybe', type: ['null', 'string'], default: null, 'field-id': 3 },
    { name: 'f', type: 'float', 'field-id': 4 },
    { name: 'd', type: 'double', 'field-id': 5 },
    { name: 'flag', type: 'boolean', 'field-id': 6 },
    { name: 'raw', type: 'bytes', 'field-id': 7 },
    { name: 'fx', type: { type: 'fixed', name: 'fx4', size: 4 }, 'field-id': 8 },
    { name: 'color', type: { type: 'enum', name: 'color', symbols: ['RED', 'GREEN', 'BLUE'] }, 'field-id': 9 },
    { name: 'tags', type: { type: 'array', items: ['null', 'long'], 'element-id': 11 }, 'field-id': 10 },
    { name: 'props', type: { type: 'map', values: 'string' }, 'field-id': 12 },
    {
      name: 'inner',
      type: [
        'null',
        {
          type: 'record',
          name: 'inner_rec',
          fields: [
            { name: 'a', type: 'int', 'field-id': 14 },
            { name: 'b', type: { type: 'array', items: 'string' }, 'field-id': 15 },
          ],
        },
      ],
      default: null,
      'field-id': 13,
    },
    {
      name: 'pairs',
      type: {
        type: 'array',
        logicalType: 'map',
        items: { type: 'record', name: 'k16_v17', fields: [{ name: 'key', type: 'int', 'field-id': 16 }, { name: 'value', type: 'bytes', 'field-id': 17 }] },
      },
      'field-id': 18,
    },
  ],
};

function nestedRow(n: number): Record<string, AvroValue> {
  return {
    id: n % 2 === 0 ? LONG_MIN + BigInt(n) : LONG_MAX - BigInt(n),
    i: n % 3 === 0 ? -2147483648 : 2147483647 - n,
    maybe: n % 4 === 0 ? null : `v${n}-é🧊`,
    f: n + 0.5,
    d: n / 3,
    flag: n % 2 === 1,
    raw: Uint8Array.from([n & 255, 0, 255]),
    fx: Uint8Array.from([1, 2, 3, n & 255]),
    color: ['RED', 'GREEN', 'BLUE'][n % 3] ?? 'RED',
    tags: n % 5 === 0 ? [] : [BigInt(n), null, -1n],
    props: n % 5 === 0 ? {} : { k: `x${n}`, 'with space': '' },
    inner: n % 6 === 0 ? null : { a: -n, b: ['p', 'q'] },
    pairs: [{ key: n, value: new Uint8Array(0) }],
  };
}

describe('Avro binary encoding', () => {
  it('writes longs as zig-zag varints, as the Avro spec shows', () => {
    const cases: [bigint, string][] = [
      [0n, '00'],
      [-1n, '01'],
      [1n, '02'],
      [-64n, '7f'],
      [64n, '8001'],
      [LONG_MAX, 'feffffffffffffffff01'],
      [LONG_MIN, 'ffffffffffffffffff01'],
    ];
    for (const [v, h] of cases) {
      assert.equal(hex(encode('long', v)), h, `long ${v}`);
      assert.equal(roundTrip('long', v), v);
    }
    // plain JS integers are accepted for long and decode as bigint
    assert.equal(roundTrip('long', 300), 300n);
  });

  it('writes ints as zig-zag varints and round-trips the int extremes', () => {
    assert.equal(hex(encode('int', 0)), '00');
    assert.equal(hex(encode('int', -1)), '01');
    assert.equal(hex(encode('int', 2147483647)), 'feffffff0f');
    assert.equal(hex(encode('int', -2147483648)), 'ffffffff0f');
    for (const v of [0, 1, -1, 63, -64, 2147483647, -2147483648]) assert.equal(roundTrip('int', v), v);
  });

  it('writes strings and bytes length-prefixed, floats and doubles little-endian', () => {
    assert.equal(hex(encode('string', 'foo')), '06666f6f');
    assert.equal(hex(encode('string', 'é')), '04c3a9');
    assert.equal(hex(encode('bytes', Uint8Array.from([1, 2]))), '040102');
    assert.equal(hex(encode('float', 1)), '0000803f');
    assert.equal(hex(encode('double', 1)), '000000000000f03f');
    assert.equal(hex(encode('boolean', true)), '01');
    assert.equal(hex(encode('null', null)), '');
    // union: branch index as a long, then the value
    assert.equal(hex(encode(['null', 'string'], 'a')), '020261');
    assert.equal(hex(encode(['null', 'string'], null)), '00');
    // array: one block of 2 items, then the terminating 0
    assert.equal(hex(encode({ type: 'array', items: 'int' }, [1, 2])), '04020400');
    assert.equal(hex(encode({ type: 'array', items: 'int' }, [])), '00');
  });

  it('round-trips float and double special values (NaN, infinities, -0)', () => {
    for (const s of ['float', 'double'] as const) {
      assert.ok(Number.isNaN(roundTrip(s, NaN)), `${s} NaN`);
      assert.equal(roundTrip(s, Infinity), Infinity);
      assert.equal(roundTrip(s, -Infinity), -Infinity);
      assert.ok(Object.is(roundTrip(s, -0), -0), `${s} -0`);
    }
    assert.equal(roundTrip('double', 0.1), 0.1);
    assert.equal(roundTrip('double', -1.7976931348623157e308), -1.7976931348623157e308);
    assert.equal(roundTrip('float', 0.1), Math.fround(0.1));
    assert.equal(roundTrip('float', 3.4028234663852886e38), 3.4028234663852886e38);
  });

  it('round-trips a nested record with unions, arrays, maps, fixed, bytes, enums and 64-bit longs', () => {
    for (let n = 0; n < 12; n++) {
      const row = nestedRow(n);
      assert.deepEqual(roundTrip(NESTED, row), row, `row ${n}`);
    }
    const extremes = { ...nestedRow(1), id: LONG_MIN, tags: [LONG_MIN, LONG_MAX, null] };
    const back = roundTrip(NESTED, extremes) as Record<string, AvroValue>;
    assert.equal(back.id, LONG_MIN);
    assert.deepEqual(back.tags, [LONG_MIN, LONG_MAX, null]);
  });

  it('treats a missing record field as null (for optional fields)', () => {
    const row = { ...nestedRow(1) };
    delete row.maybe;
    delete row.inner;
    const back = roundTrip(NESTED, row) as Record<string, AvroValue>;
    assert.equal(back.maybe, null);
    assert.equal(back.inner, null);
  });

  it('decodes arrays and maps written with negative block counts (count + byte size)', () => {
    const w = new AvroWriter();
    w.writeLong(-2);
    w.writeLong(2);
    w.writeInt(5);
    w.writeInt(-5);
    w.writeLong(1);
    w.writeInt(7);
    w.writeLong(0);
    assert.deepEqual(decodeValue({ type: 'array', items: 'int' }, new AvroReader(Buffer.from(w.bytes()))), [5, -5, 7]);

    const m = new AvroWriter();
    m.writeLong(-1);
    m.writeLong(3);
    m.writeString('k');
    m.writeLong(9);
    m.writeLong(0);
    assert.deepEqual(decodeValue({ type: 'map', values: 'long' }, new AvroReader(Buffer.from(m.bytes()))), { k: 9n });
  });
});

describe('Avro encoding errors', () => {
  it('rejects a value that matches no union branch, naming the branches', () => {
    throwsFloe(() => encode(['null', 'long'], 'seven'), 'value_invalid', /"seven" matches no branch of union \[null, long\]/);
    throwsFloe(() => encode(['null', 'int'], 5n), 'value_invalid', /5n matches no branch of union \[null, int\]/);
    throwsFloe(() => encode(['null', 'bytes'], 'x'), 'value_invalid', /no branch of union \[null, bytes\]/);
  });

  it('rejects a wrong value type and names the field path', () => {
    throwsFloe(() => encode(NESTED, { ...nestedRow(1), i: 'x' }), 'value_invalid', /Avro int at "i" cannot hold "x"/);
    throwsFloe(() => encode(NESTED, { ...nestedRow(1), inner: { a: 1, b: ['ok', 3] } }), 'value_invalid', /Avro string at "inner\.b\[1\]" cannot hold 3/);
    throwsFloe(() => encode(NESTED, { ...nestedRow(1), props: { k: 1 } }), 'value_invalid', /at "props\.k"/);
    const noId = { ...nestedRow(1) };
    delete noId.id;
    throwsFloe(() => encode(NESTED, noId), 'value_invalid', /Avro long at "id" cannot hold null/);
  });

  it('rejects an int out of range, a fixed of the wrong size and an unknown enum symbol', () => {
    throwsFloe(() => encode('int', 2147483648), 'value_invalid', /Avro int out of range: 2147483648/);
    throwsFloe(() => encode('int', -2147483649), 'value_invalid', /out of range/);
    throwsFloe(() => encode('int', 1.5), 'value_invalid', /out of range: 1\.5/);
    throwsFloe(() => encode(NESTED, { ...nestedRow(1), fx: Uint8Array.from([1, 2, 3]) }), 'value_invalid', /Avro fixed at "fx" cannot hold bytes\[3\]/);
    throwsFloe(() => encode(NESTED, { ...nestedRow(1), color: 'PINK' }), 'value_invalid', /Avro enum at "color" cannot hold "PINK"/);
  });

  it('fails clearly on truncated binary data', () => {
    const bytes = encode(NESTED, nestedRow(3));
    for (const cut of [0, 1, 9, bytes.length - 1]) {
      throwsFloe(() => decodeValue(NESTED, new AvroReader(bytes.subarray(0, cut))), 'metadata_invalid', /ends early/);
    }
    // an over-long varint
    throwsFloe(() => new AvroReader(Buffer.alloc(11, 0xff)).readLong(), 'metadata_invalid', /varint too long/);
    // an out-of-range union index or enum index
    throwsFloe(() => decodeValue(['null', 'int'], new AvroReader(Buffer.from([0x04]))), 'metadata_invalid', /union index 2 out of range/);
    throwsFloe(() => decodeValue({ type: 'enum', name: 'e', symbols: ['A'] }, new AvroReader(Buffer.from([0x02]))), 'metadata_invalid', /enum index out of range/);
  });
});

describe('Avro object container files', () => {
  const schema: AvroSchema = NESTED;

  for (const codec of ['deflate', 'null'] as const) {
    it(`writes and reads a ${codec} container, keeping metadata and custom schema attributes`, () => {
      const rows = Array.from({ length: 50 }, (_, n) => nestedRow(n));
      const file = writeContainer(schema, rows, { 'format-version': '2', schema: '{"x":1}', 'partition-spec-id': '0' }, codec);
      assert.equal(hex(file.subarray(0, 4)), '4f626a01');
      const c = readContainer(file);
      assert.deepEqual(c.rows, rows);
      assert.equal(c.metadata['avro.codec'], codec);
      assert.equal(c.metadata['format-version'], '2');
      assert.equal(c.metadata.schema, '{"x":1}');
      assert.equal(c.metadata['partition-spec-id'], '0');
      assert.deepEqual(c.schema, schema);
      const header = JSON.parse(c.metadata['avro.schema'] ?? '') as { fields: Record<string, unknown>[] };
      assert.deepEqual(header.fields.map((f) => f['field-id']), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 18]);
      const tags = header.fields.find((f) => f.name === 'tags') as { type: Record<string, unknown> };
      assert.equal(tags.type['element-id'], 11);
      const pairs = header.fields.find((f) => f.name === 'pairs') as { type: { logicalType: string; items: { fields: Record<string, unknown>[] } } };
      assert.equal(pairs.type.logicalType, 'map');
      assert.deepEqual(pairs.type.items.fields.map((f) => f['field-id']), [16, 17]);
    });
  }

  it('stores the encoded rows verbatim with the null codec and compressed with deflate', () => {
    const s: AvroSchema = { type: 'record', name: 'r', fields: [{ name: 's', type: 'string' }] };
    const rows = Array.from({ length: 200 }, () => ({ s: 'the-same-marker-text' }));
    const plain = writeContainer(s, rows, {}, 'null');
    const deflated = writeContainer(s, rows, {}, 'deflate');
    assert.equal(plain.indexOf('the-same-marker-text') > 0, true);
    assert.ok(deflated.length < plain.length / 5, `deflate ${deflated.length} vs null ${plain.length}`);
    assert.deepEqual(readContainer(deflated).rows, rows);
    assert.deepEqual(readContainer(plain).rows, rows);
  });

  it('splits more than 4096 rows into several blocks and reads them all back in order', () => {
    const s: AvroSchema = { type: 'record', name: 'r', fields: [{ name: 'n', type: 'long' }, { name: 'o', type: ['null', 'int'] }] };
    const rows = Array.from({ length: 9000 }, (_, n) => ({ n: BigInt(n) * 1_000_000_007n, o: n % 3 === 0 ? null : n }));
    for (const codec of ['deflate', 'null'] as const) {
      const file = writeContainer(s, rows, {}, codec);
      assert.deepEqual(blockCounts(file), [4096, 4096, 808]);
      const back = readContainer(file).rows as { n: bigint; o: number | null }[];
      assert.equal(back.length, 9000);
      assert.deepEqual(back[0], { n: 0n, o: null });
      assert.deepEqual(back[4096], { n: 4096n * 1_000_000_007n, o: 4096 });
      assert.deepEqual(back[8999], { n: 8999n * 1_000_000_007n, o: 8999 });
      assert.deepEqual(back[8997], { n: 8997n * 1_000_000_007n, o: null });
      assert.deepEqual(back, rows);
    }
  });

  it('writes a header-only file for zero rows', () => {
    const file = writeContainer('long', [], { a: 'b' });
    assert.deepEqual(blockCounts(file), []);
    const c = readContainer(file);
    assert.deepEqual(c.rows, []);
    assert.equal(c.metadata.a, 'b');
    assert.equal(c.schema, 'long');
  });

  it('rejects bad magic, a truncated file, a wrong sync marker and an unknown codec', () => {
    const file = writeContainer(NESTED, [nestedRow(1), nestedRow(2)], {}, 'null');
    throwsFloe(() => readContainer(Buffer.from('PAR1xxxx'), 'manifest m.avro'), 'metadata_invalid', /manifest m\.avro is not an Avro container \(bad magic\)/);
    throwsFloe(() => readContainer(new Uint8Array(0)), 'metadata_invalid', /bad magic/);
    for (const cut of [5, 40, file.length - 20, file.length - 1]) {
      throwsFloe(() => readContainer(file.subarray(0, cut)), 'metadata_invalid', /ends early/);
    }
    const badSync = Buffer.from(file);
    badSync[badSync.length - 1] = (badSync[badSync.length - 1] as number) ^ 0xff;
    throwsFloe(() => readContainer(badSync, 'f.avro'), 'metadata_invalid', /f\.avro: sync marker mismatch/);

    // rewrite the codec value "null" (after the avro.codec key) to "zstd": same length, so the header stays valid
    const at = file.indexOf('avro.codec');
    const valueAt = file.indexOf('null', at);
    const zstd = Buffer.from(file);
    zstd.write('zstd', valueAt, 'latin1');
    throwsFloe(() => readContainer(zstd), 'metadata_invalid', /unsupported Avro codec zstd/);
  });

  it('reads a container from a Uint8Array view with a non-zero byte offset', () => {
    const file = writeContainer('string', ['a', 'b'], {}, 'deflate');
    const padded = new Uint8Array(file.length + 7);
    padded.set(file, 7);
    assert.deepEqual(readContainer(padded.subarray(7)).rows, ['a', 'b']);
  });
});

describe('Avro long range', () => {
  it('rejects longs outside int64 and non-integers with a FloeError', () => {
    for (const v of [2n ** 63n, -(2n ** 63n) - 1n, 1.5]) {
      assert.throws(() => encodeValue('long', v, new AvroWriter()), (e: unknown) => e instanceof FloeError && e.code === 'value_invalid');
    }
  });
});
