// Proves KeyPartitionCheck: 'ok' while records sit in their default-partitioner partition and their keys re-serialize from their values; the first record placed elsewhere, without a key, or with a changed key schema makes the topic mismatched once (first: true) and for good, per topic, dropping its template.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumDecoder } from '../../src/decode/debezium.js';
import { KeyPartitionCheck, type DecodedKey, type KeyCheckMismatch } from '../../src/decode/key-partition-check.js';
import { defaultPartition } from '../../src/kafka/partitioner.js';

const PARTITIONS = 6;
const VALUE = Buffer.from('{"op":"d","before":null,"source":{"db":"shop","table":"orders"}}');
const SCHEMA = '{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":false,"field":"sku"}],"optional":false,"name":"shop.orders.Key"}';

const decoder = new DebeziumDecoder();

function key(id: number | string, sku: string, schema = SCHEMA): Buffer {
  return Buffer.from(`{"schema":${schema},"payload":{"id":${id},"sku":${JSON.stringify(sku)}}}`);
}

function decoded(topic: string, raw: Buffer): DecodedKey {
  const d = decoder.decode(topic, raw, VALUE);
  if (d.kind !== 'change') assert.fail(`not decoded: ${d.kind}`);
  return { columns: d.shape.keyColumns, values: d.key };
}

function checkAt(c: KeyPartitionCheck, topic: string, raw: Buffer, partition = defaultPartition(raw, PARTITIONS)) {
  return c.check(topic, raw, decoded(topic, raw), partition, PARTITIONS);
}

describe('KeyPartitionCheck', () => {
  it('is ok for keys in their default partition that re-serialize, and keeps the learned template', () => {
    const c = new KeyPartitionCheck();
    for (let i = 0; i < 200; i++) assert.equal(checkAt(c, 't', key(i * 7919 - 5000, `sku-${i}/\u00e9"`)).kind, 'ok');
    assert.equal(checkAt(c, 't', key('9223372036854775807', 'max')).kind, 'ok');
    assert.deepEqual(c.template('t')?.columns, ['id', 'sku']);
    assert.equal(c.mismatch('t'), null);
  });

  it('reports a record outside its default partition once, then stays mismatched', () => {
    const c = new KeyPartitionCheck();
    const raw = key(1, 'a');
    assert.equal(checkAt(c, 't', raw).kind, 'ok');
    const wrong = (defaultPartition(raw, PARTITIONS) + 1) % PARTITIONS;
    const m = checkAt(c, 't', raw, wrong) as KeyCheckMismatch;
    assert.equal(m.kind, 'mismatch');
    assert.equal(m.first, true);
    assert.match(m.reason, /custom partitioner/);
    const again = checkAt(c, 't', key(2, 'b')) as KeyCheckMismatch;
    assert.deepEqual([again.kind, again.first, again.reason], ['mismatch', false, m.reason]);
    assert.equal(c.template('t'), null);
    assert.equal(c.mismatch('t'), m.reason);
    // Other topics are unaffected.
    assert.equal(checkAt(c, 'other', key(3, 'c')).kind, 'ok');
  });

  it('reports a keyless record', () => {
    const c = new KeyPartitionCheck();
    const m = c.check('t', null, { columns: ['id'], values: [1] }, 0, PARTITIONS) as KeyCheckMismatch;
    assert.match(m.reason, /without a key/);
  });

  it('reports a key whose bytes no longer come from its values (the key schema changed)', () => {
    const c = new KeyPartitionCheck();
    assert.equal(checkAt(c, 't', key(1, 'a')).kind, 'ok');
    const changed = SCHEMA.replace('"optional":false,"field":"sku"', '"optional":true,"field":"sku"');
    const m = checkAt(c, 't', key(2, 'b', changed)) as KeyCheckMismatch;
    assert.equal(m.first, true);
    assert.match(m.reason, /does not re-serialize from its values \(json-schema\).*key schema change/);
  });

  it('reports a first key that cannot be reproduced', () => {
    const c = new KeyPartitionCheck();
    const raw = Buffer.from('{"id": 1}');
    const m = checkAt(c, 't', raw) as KeyCheckMismatch;
    assert.match(m.reason, /key not reproducible: the key does not re-serialize/);
  });
});
