// Proves KeyTemplate on known vectors (bytes taken from Kafka Connect's JsonConverter and an Avro encoder, see test/peers/KeyPeer.java): learning from a decoded key in each format, re-serializing table values byte for byte (promoted int → long, wide decimals as text, optional nulls), JSON integers beyond 2^53, and the typed refusals for keys it cannot reproduce.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumDecoder } from '../../src/decode/debezium.js';
import { KeyTemplate, isRefused, type KeyRefused } from '../../src/decode/key-serializer.js';

const TOPIC = 'cdc.shop.orders';
const VALUE = Buffer.from('{"op":"d","before":null,"source":{"db":"shop","table":"orders"}}');
const KEY_SCHEMA = '{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"s"},'
  + '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"d"}],'
  + '"optional":false,"name":"floe.peer.s0.Key"}';
const AVRO_SCHEMA = '{"type":"record","name":"Key","namespace":"floe.peer.s0","fields":[{"name":"id","type":"long"},{"name":"s","type":["null","string"],"default":null},'
  + '{"name":"d","type":{"type":"bytes","scale":2,"precision":12,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"12"},'
  + '"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}}],"connect.name":"floe.peer.s0.Key"}';
/** JsonConverter (schemas.enable=false) and Avro bytes of {id: -5, s: 'a\u0001\n"/é😀\ud800', d: -123.45} and {id: 2^63-1, s: null, d: 0}. */
const KEY1_PAYLOAD = '7b226964223a2d352c2273223a22615c75303030315c6e5c222fc3a95c75443833445c75444530305c7544383030222c2264223a227a38633d227d';
const KEY1_VALUES = [-5n, 'a\u0001\n"/é😀\ud800', -12345n];
const KEY2_PAYLOAD = '7b226964223a393232333337323033363835343737353830372c2273223a6e756c6c2c2264223a2241413d3d227d';
const KEY2_AVRO = '000000002afeffffffffffffffff01000200';
const KEY2_VALUES = [(1n << 63n) - 1n, null, 0n];

function envelope(payloadHex: string): Buffer {
  return Buffer.concat([Buffer.from(`{"schema":${KEY_SCHEMA},"payload":`), Buffer.from(payloadHex, 'hex'), Buffer.from('}')]);
}

/** A template learned the way the consumer will: from a record's raw key and the decoder's Change. */
function learn(raw: Buffer, avroSchema?: string): KeyTemplate | KeyRefused {
  const decoder = new DebeziumDecoder();
  if (avroSchema !== undefined) decoder.registerSchema(raw.readInt32BE(1), avroSchema);
  const d = decoder.decode(TOPIC, raw, VALUE);
  if (d.kind !== 'change') return { kind: 'refused', reason: `decoder: ${d.kind}` };
  return KeyTemplate.learn(raw, { columns: d.shape.keyColumns, values: d.key }, decoder.writerSchema(raw[0] === 0 ? raw.readInt32BE(1) : -1));
}

function learned(raw: Buffer, avroSchema?: string): KeyTemplate {
  const t = learn(raw, avroSchema);
  if (isRefused(t)) assert.fail(t.reason);
  return t;
}

function hexOf(x: Uint8Array | KeyRefused): string {
  if (isRefused(x)) assert.fail(x.reason);
  return Buffer.from(x).toString('hex');
}

describe('KeyTemplate: JsonConverter with schemas', () => {
  it('keeps the schema part verbatim and writes payloads as Jackson does (escapes, surrogates, base64 decimals, null)', () => {
    const t = learned(envelope(KEY1_PAYLOAD));
    assert.equal(t.format, 'json-schema');
    assert.deepEqual(t.columns, ['id', 's', 'd']);
    assert.equal(hexOf(t.serialize(KEY2_VALUES)), envelope(KEY2_PAYLOAD).toString('hex'));
    assert.equal(hexOf(t.serialize(KEY1_VALUES)), envelope(KEY1_PAYLOAD).toString('hex'));
    assert.ok(t.reproduces(KEY1_VALUES, envelope(KEY1_PAYLOAD)));
    assert.ok(!t.reproduces(KEY2_VALUES, envelope(KEY1_PAYLOAD)));
  });

  it('learns from a key whose int64 beyond 2^53 JSON.parse rounded (re-parsed exactly)', () => {
    const t = learned(envelope(Buffer.from('{"id":9223372036854775807,"s":"x","d":"AA=="}').toString('hex')));
    assert.equal(hexOf(t.serialize(KEY2_VALUES)), envelope(KEY2_PAYLOAD).toString('hex'));
    assert.equal(hexOf(t.serialize(KEY1_VALUES)), envelope(KEY1_PAYLOAD).toString('hex'));
  });

  it('takes an int promoted to long and a decimal kept as text', () => {
    const schema = '{"type":"struct","fields":[{"type":"int32","optional":false,"field":"n"},{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"40"},"field":"w"}],"optional":false,"name":"k"}';
    const raw = Buffer.from(`{"schema":${schema},"payload":{"n":-7,"w":"z8c="}}`);
    const t = learned(raw);
    assert.equal(hexOf(t.serialize([-7n, '-123.45'])), raw.toString('hex'));
    assert.match((t.serialize([-7, '-123.4']) as KeyRefused).reason, /cannot write string -123.4/);
    assert.match((t.serialize([2147483648n, '1.00']) as KeyRefused).reason, /int32/);
  });
});

describe('KeyTemplate: JsonConverter without schemas', () => {
  it('infers integers, strings and booleans from the key and writes them back in key order', () => {
    const raw = Buffer.from('{"id":9223372036854775807,"sku":"a\\"b\\\\/\\u001F","ok":true}');
    const t = learned(raw);
    assert.equal(t.format, 'json');
    assert.equal(hexOf(t.serialize([(1n << 63n) - 1n, 'a"b\\/\u001f', true])), raw.toString('hex'));
    assert.equal(Buffer.from(t.serialize([-1n, '', false]) as Uint8Array).toString(), '{"id":-1,"sku":"","ok":false}');
  });

  it('refuses a key that is not integers, strings and booleans, or that does not re-serialize to itself', () => {
    assert.match((learn(Buffer.from('{"id":1.5}')) as KeyRefused).reason, /schemaless key/);
    assert.match((learn(Buffer.from('{"id":1.0}')) as KeyRefused).reason, /does not re-serialize/);
    assert.match((learn(Buffer.from('{ "id": 1 }')) as KeyRefused).reason, /does not re-serialize/);
  });
});

describe('KeyTemplate: Confluent Avro', () => {
  it('writes the schema id, zig-zag longs, the union branch and decimal bytes', () => {
    // Learned from {id: 2^63-1, s: 'x', d: 0} (the decoder rejects a key with a null column).
    const t = learned(Buffer.from('000000002afeffffffffffffffff01' + '020278' + '0200', 'hex'), AVRO_SCHEMA);
    assert.equal(t.format, 'confluent-avro');
    assert.equal(t.schemaId, 42);
    assert.equal(hexOf(t.serialize(KEY2_VALUES)), KEY2_AVRO);
    // {id: -5, s: 'a\u0001\n"/é😀', d: -123.45}: -5 → 09, branch 1 → 02, 11 UTF-8 bytes → 16, 0xcfc7 → 04 cf c7.
    assert.equal(hexOf(t.serialize([-5n, 'a\u0001\n"/é😀', -12345n])), '000000002a0902166101' + '0a222fc3a9f09f9880' + '04cfc7');
    assert.match((t.serialize(KEY1_VALUES) as KeyRefused).reason, /lone UTF-16 surrogate/);
  });

  it('refuses an Avro key without its writer schema', () => {
    assert.match((KeyTemplate.learn(Buffer.from(KEY2_AVRO, 'hex'), { columns: ['id'], values: [1] }) as KeyRefused).reason, /no writer schema/);
  });
});

describe('KeyTemplate refusals', () => {
  const keyOf = (field: string): Buffer => Buffer.from(`{"schema":{"type":"struct","fields":[${field}],"optional":false,"name":"k"},"payload":{"t":1}}`);

  it('refuses timestamps, dates and floats as key types', () => {
    assert.match((learn(keyOf('{"type":"int64","optional":false,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"t"}')) as KeyRefused).reason, /semantic type/);
    assert.match((learn(keyOf('{"type":"int32","optional":false,"name":"io.debezium.time.Date","version":1,"field":"t"}')) as KeyRefused).reason, /semantic type/);
    assert.match((learn(keyOf('{"type":"double","optional":false,"field":"t"}')) as KeyRefused).reason, /does not re-serialize this type/);
  });

  it('refuses a null in a required column, a wrong value type and a wrong arity', () => {
    const t = learned(envelope(KEY1_PAYLOAD));
    assert.match((t.serialize([null, 'x', 0n]) as KeyRefused).reason, /"id" is null/);
    assert.match((t.serialize([1n, 5, 0n]) as KeyRefused).reason, /cannot write number 5/);
    assert.match((t.serialize([1n]) as KeyRefused).reason, /1 key values for 3 key columns/);
    assert.equal(t.serialize([1n, 'x', 0n]).constructor, Uint8Array);
  });

  it('refuses a key that is absent or neither Avro nor JSON', () => {
    assert.match((KeyTemplate.learn(null, { columns: [], values: [] }) as KeyRefused).reason, /no key/);
    assert.match((KeyTemplate.learn(Buffer.from('not json'), { columns: [], values: [] }) as KeyRefused).reason, /neither Confluent Avro nor JSON/);
  });
});
