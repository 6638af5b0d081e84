// Proves the fetch experiment reads record batches right: values located by offset within one Buffer, keys and headers skipped, records before the fetch offset dropped, a partial trailing batch left for the next fetch, compressed batches refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBatches, type FetchedRecords } from '../../native-bench/fetch-protocol.bench.js';

function varint(n: number): Buffer {
  let z = (n << 1) ^ (n >> 31);
  const out: number[] = [];
  do {
    let b = z & 0x7f;
    z >>>= 7;
    if (z !== 0) b |= 0x80;
    out.push(b);
  } while (z !== 0);
  return Buffer.from(out);
}

/** RecordBatch v2 (Kafka protocol guide, "Record Batch"); the CRC is not checked by the reader, so it is 0 here. */
function batch(base: bigint, records: { key: string | null; value: string; headers?: [string, string][] }[], attributes = 0): Buffer {
  const body = records.map((r, i) => {
    const key = r.key === null ? varint(-1) : Buffer.concat([varint(Buffer.byteLength(r.key)), Buffer.from(r.key)]);
    const headers = r.headers ?? [];
    const rec = Buffer.concat([
      Buffer.from([0]), // attributes
      varint(1000 * i), // timestampDelta
      varint(i), // offsetDelta
      key,
      varint(Buffer.byteLength(r.value)),
      Buffer.from(r.value),
      varint(headers.length),
      ...headers.flatMap(([k, v]) => [varint(k.length), Buffer.from(k), varint(v.length), Buffer.from(v)]),
    ]);
    return Buffer.concat([varint(rec.length), rec]);
  });
  const head = Buffer.alloc(61);
  head.writeBigInt64BE(base, 0);
  head.writeInt8(2, 16); // magic
  head.writeInt16BE(attributes, 21);
  head.writeInt32BE(records.length - 1, 23); // lastOffsetDelta
  head.writeInt32BE(records.length, 57);
  const all = Buffer.concat([head, ...body]);
  all.writeInt32BE(all.length - 12, 8); // batchLength: the bytes after this field
  return all;
}

function out(): FetchedRecords {
  return { buf: Buffer.alloc(0), count: 0, offsets: new Float64Array(16), valueStart: new Int32Array(16), valueEnd: new Int32Array(16) };
}

describe('fetch-protocol experiment: record batch parsing', () => {
  it('locates every value in the response buffer, skipping keys and headers', () => {
    const b1 = batch(10n, [{ key: 'k1', value: '{"a":1}' }, { key: null, value: '{"b":22}', headers: [['h', 'x']] }]);
    const b2 = batch(12n, [{ key: '{"id":3}', value: 'ünï' }]);
    const buf = Buffer.concat([Buffer.from('pad'), b1, b2]);
    const o = out();
    const next = parseBatches(buf, 3, buf.length, 10n, o);
    assert.equal(next, 13n);
    assert.equal(o.count, 3);
    assert.deepEqual([...o.offsets.subarray(0, 3)], [10, 11, 12]);
    const values = Array.from({ length: 3 }, (_, i) => buf.toString('utf8', o.valueStart[i], o.valueEnd[i]));
    assert.deepEqual(values, ['{"a":1}', '{"b":22}', 'ünï']);
  });

  it('drops records before the fetch offset and leaves a partial trailing batch for the next fetch', () => {
    const b1 = batch(5n, [{ key: null, value: 'five' }, { key: null, value: 'six' }]);
    const b2 = batch(7n, [{ key: null, value: 'seven' }]);
    const buf = Buffer.concat([b1, b2.subarray(0, b2.length - 2)]);
    const o = out();
    assert.equal(parseBatches(buf, 0, buf.length, 6n, o), 7n);
    assert.equal(o.count, 1);
    assert.equal(buf.toString('utf8', o.valueStart[0], o.valueEnd[0]), 'six');
  });

  it('refuses compressed batches', () => {
    const b = batch(0n, [{ key: null, value: 'x' }], 4);
    assert.throws(() => parseBatches(b, 0, b.length, 0n, out()), /compressed/);
  });
});
