// Proves the spec's JSON single-value serialization (Appendix D) of every primitive type, and that a field's initial-default / write-default survive table metadata JSON (exact ints) for each primitive type, count in Schema.sameStructure, and are kept as read when floe cannot parse them (another writer's form).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError } from '../../src/errors.js';
import { parseJsonExact, stringifyJsonExact } from '../../src/iceberg/json.js';
import { Schema } from '../../src/iceberg/schema.js';
import { applyUpdates, currentSchema, newTableMetadata, tableMetadataFromJSON, tableMetadataToJSON } from '../../src/iceberg/table-metadata.js';
import { T, type NestedField, type PrimitiveType } from '../../src/iceberg/types.js';
import { valueFromJson, valueToJson } from '../../src/iceberg/value-json.js';
import type { IcebergValue } from '../../src/iceberg/values.js';

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const US = 1_000_000n;
/** 2017-11-16T22:31:08.123456 in microseconds since the epoch (the spec's examples). */
const TS = 1510871468n * US + 123456n;

/** Each primitive type with a value and its JSON single value as the spec writes it. */
const cases: { type: PrimitiveType; value: IcebergValue; json: unknown }[] = [
  { type: T.boolean, value: true, json: true },
  { type: T.int, value: 34, json: 34 },
  { type: T.int, value: -2147483648, json: -2147483648 },
  { type: T.long, value: 34n, json: 34 },
  { type: T.long, value: -(2n ** 63n), json: -(2n ** 63n) },
  { type: T.float, value: Math.fround(1.1), json: 1.1 },
  { type: T.double, value: 1.0, json: 1 },
  { type: T.double, value: -2.5e-300, json: -2.5e-300 },
  { type: T.decimal(9, 2), value: 1420n, json: '14.20' },
  { type: T.decimal(9, 2), value: -5n, json: '-0.05' },
  { type: T.decimal(38, 0), value: 10n ** 37n, json: `1${'0'.repeat(37)}` },
  { type: T.date, value: 17486, json: '2017-11-16' },
  { type: T.date, value: -719529, json: '-0001-12-31' },
  { type: T.date, value: 2932897, json: '+10000-01-01' },
  { type: T.time, value: (22n * 3600n + 31n * 60n + 8n) * US + 123456n, json: '22:31:08.123456' },
  { type: T.time, value: 0n, json: '00:00:00.000000' },
  { type: T.timestamp, value: TS, json: '2017-11-16T22:31:08.123456' },
  { type: T.timestamp, value: -1n, json: '1969-12-31T23:59:59.999999' },
  { type: T.timestamptz, value: TS, json: '2017-11-16T22:31:08.123456+00:00' },
  { type: { kind: 'timestamp_ns' }, value: TS * 1000n + 789n, json: '2017-11-16T22:31:08.123456789' },
  { type: { kind: 'timestamptz_ns' }, value: TS * 1000n + 789n, json: '2017-11-16T22:31:08.123456789+00:00' },
  { type: T.string, value: 'iceberg ❄', json: 'iceberg ❄' },
  { type: T.uuid, value: bytes('f79c3e09677c4bbda4793f349cb785e7'), json: 'f79c3e09-677c-4bbd-a479-3f349cb785e7' },
  { type: T.fixed(4), value: bytes('000102ff'), json: '000102ff' },
  { type: T.binary, value: bytes('000102ff'), json: '000102ff' },
  { type: T.binary, value: new Uint8Array(0), json: '' },
];

describe('JSON single-value serialization', () => {
  for (const c of cases) {
    it(`${c.type.kind} ${JSON.stringify(c.json, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))}: written as the spec writes it and read back`, () => {
      assert.deepEqual(valueToJson(c.type, c.value), c.json);
      assert.deepEqual(valueFromJson(c.type, c.json), c.value);
    });
  }

  it("reads what other writers produce: Java's shortened fractions, upper-case hex, a Z zone, exponent decimals", () => {
    assert.equal(valueFromJson(T.time, '22:31:08.1'), (22n * 3600n + 31n * 60n + 8n) * US + 100000n);
    assert.equal(valueFromJson(T.time, '22:31'), (22n * 3600n + 31n * 60n) * US);
    assert.equal(valueFromJson(T.timestamp, '2017-11-16T22:31:08'), TS - 123456n);
    assert.equal(valueFromJson(T.timestamptz, '2017-11-16T22:31:08.123456Z'), TS);
    assert.deepEqual(valueFromJson(T.binary, '00FF'), bytes('00ff'));
    assert.equal(valueFromJson(T.decimal(9, 2), '1.420E+1'), 1420n);
    assert.equal(valueFromJson(T.long, 9007199254740993n), 9007199254740993n);
  });

  it('refuses values that are not of the type, naming where', () => {
    const bad: [PrimitiveType, unknown][] = [
      [T.int, 1.5], [T.int, 2147483648], [T.long, 2 ** 60], [T.decimal(9, 2), '14.2'], [T.decimal(3, 0), '1234'],
      [T.date, '2017-02-30'], [T.time, '24:00:00'], [T.timestamp, '2017-11-16T22:31:08+00:00'],
      [T.timestamptz, '2017-11-16T22:31:08+01:00'], [T.uuid, 'f79c3e09'], [T.binary, '0g'], [T.boolean, 'true'],
    ];
    for (const [t, j] of bad) {
      assert.throws(() => valueFromJson(t, j, 'fields[3] (c) initial-default'), (e: unknown) => isFloeError(e, 'value_invalid') && /fields\[3\] \(c\) initial-default/.test(e.message), `${t.kind} ${String(j)}`);
    }
    assert.throws(() => valueToJson(T.double, Number.NaN), (e: unknown) => isFloeError(e, 'value_invalid'));
  });
});

describe('initial-default and write-default in table metadata', () => {
  const withDefaults = (): Schema => {
    const fields: NestedField[] = [{ id: 1, name: 'id', required: true, type: T.long }];
    cases.forEach((c, i) => fields.push({ id: i + 2, name: `c${i}`, required: false, type: c.type, initialDefault: c.value, writeDefault: c.value }));
    return new Schema(0, fields, [1]);
  };

  it('round-trip through metadata JSON for every primitive type, in the single-value form', () => {
    const m = newTableMetadata({ location: 's3://b/t', schema: withDefaults(), formatVersion: 3 });
    const text = stringifyJsonExact(tableMetadataToJSON(m));
    const back = currentSchema(tableMetadataFromJSON(parseJsonExact(text)));
    cases.forEach((c, i) => {
      const f = back.findField(`c${i}`) as NestedField;
      assert.deepEqual(f.initialDefault, c.value, `c${i} initial-default`);
      assert.deepEqual(f.writeDefault, c.value, `c${i} write-default`);
    });
    const raw = (parseJsonExact(text) as { schemas: { fields: Record<string, unknown>[] }[] }).schemas[0]?.fields ?? [];
    assert.equal(raw[9]?.['initial-default'], '14.20');
    assert.equal(raw[17]?.['write-default'], '2017-11-16T22:31:08.123456');
    assert.equal(raw[0]?.['initial-default'], undefined, 'no default: no key');
    assert.ok(back.sameStructure(withDefaults()));
  });

  it('reads an explicit null default as none, and keeps a nested field\'s defaults as it found them', () => {
    const s = Schema.fromJSON({
      type: 'struct', 'schema-id': 0, fields: [
        { id: 1, name: 'a', required: false, type: 'int', 'initial-default': null, 'write-default': null },
        { id: 2, name: 'p', required: false, type: { type: 'struct', fields: [{ id: 3, name: 'x', required: false, type: 'int', 'initial-default': 0 }] }, 'initial-default': {}, 'write-default': {} },
      ],
    });
    assert.equal(s.findField('a')?.initialDefault, undefined);
    assert.deepEqual(s.findField('p.x')?.initialDefault, 0);
    assert.deepEqual(s.toJSON().fields, [
      { id: 1, name: 'a', required: false, type: 'int' },
      { id: 2, name: 'p', required: false, type: { type: 'struct', fields: [{ id: 3, name: 'x', required: false, type: 'int', 'initial-default': 0 }] }, 'initial-default': {}, 'write-default': {} },
    ]);
  });

  it('a default floe cannot parse (another writer\'s form) is kept as read, not refused: the table stays usable', () => {
    const j = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'd', required: false, type: 'date', 'initial-default': 17486, 'write-default': '2017-11-16' }] };
    const s = Schema.fromJSON(j);
    assert.equal(s.findField('d')?.initialDefault, undefined);
    assert.equal(s.findField('d')?.writeDefault, 17486);
    assert.deepEqual(s.toJSON(), j);
  });

  it('a column that gains a default is a schema change: add-schema does not reuse the schema without it', () => {
    const plain = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 'c', required: false, type: T.int }], [1]);
    const dflt = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }, { id: 2, name: 'c', required: false, type: T.int, initialDefault: 7, writeDefault: 7 }], [1]);
    assert.equal(plain.sameStructure(dflt), false);
    assert.equal(dflt.sameStructure(new Schema(5, dflt.fields, [1])), true);
    const m = applyUpdates(newTableMetadata({ location: 's3://b/t', schema: plain, formatVersion: 3 }), [
      { action: 'add-schema', schema: dflt, 'last-column-id': 2 },
      { action: 'set-current-schema', 'schema-id': -1 },
    ]);
    assert.equal(m.schemas.length, 2);
    assert.equal(currentSchema(m).findField('c')?.initialDefault, 7);
  });
});
