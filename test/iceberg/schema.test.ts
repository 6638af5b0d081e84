// Proves schemas enforce unique field ids (nested ids too) and the identifier-field rules, assign ids from declarations, and round-trip through spec JSON.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError, type FloeErrorCode } from '../../src/errors.js';
import { Schema, schemaFromDecls } from '../../src/iceberg/schema.js';
import { T, type IcebergType, type NestedField } from '../../src/iceberg/types.js';
import { typeFromJson } from '../../src/iceberg/type-json.js';

function throwsFloe(fn: () => unknown, code: FloeErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFloeError(e, code), `expected FloeError ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

const f = (id: number, name: string, type: IcebergType, required = false): NestedField => ({ id, name, type, required });
const list = (elementId: number, element: IcebergType): IcebergType => ({ kind: 'list', elementId, elementRequired: false, element });
const map = (keyId: number, valueId: number, key: IcebergType, value: IcebergType): IcebergType => ({ kind: 'map', keyId, key, valueId, valueRequired: true, value });
const struct = (...fields: NestedField[]): IcebergType => ({ kind: 'struct', fields });

describe('Schema field ids', () => {
  it('rejects a top-level field id used twice, naming the id and where', () => {
    throwsFloe(() => new Schema(0, [f(1, 'a', T.long), f(1, 'b', T.string)]), 'schema_invalid', /field id 1 is used twice \(at b\)/);
  });

  it('rejects a list element id that clashes with a field id', () => {
    throwsFloe(() => new Schema(0, [f(1, 'a', T.long), f(2, 'tags', list(1, T.string))]), 'schema_invalid', /field id 1 is used twice \(at tags\.element\)/);
    throwsFloe(() => new Schema(0, [f(1, 'tags', list(2, T.string)), f(2, 'b', T.long)]), 'schema_invalid', /field id 2 is used twice \(at b\)/);
  });

  it('rejects clashing map key/value ids and nested struct field ids', () => {
    throwsFloe(() => new Schema(0, [f(1, 'm', map(2, 2, T.string, T.long))]), 'schema_invalid', /field id 2 is used twice \(at m\.value\)/);
    throwsFloe(() => new Schema(0, [f(1, 's', struct(f(2, 'x', T.int), f(3, 'y', list(2, T.int))))]), 'schema_invalid', /field id 2 is used twice \(at s\.y\.element\)/);
    const e = (() => {
      try {
        new Schema(0, [f(7, 'a', T.long), f(8, 's', struct(f(7, 'x', T.int)))]);
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(isFloeError(e, 'schema_invalid'));
    assert.deepEqual(e.details, { id: 7, path: 's.x' });
  });

  it('tracks the highest id including element/key/value ids, and finds nested fields by dotted name', () => {
    const s = new Schema(3, [f(1, 'id', T.long, true), f(2, 'm', map(10, 11, T.string, struct(f(12, 'z', T.int)))), f(3, 'l', list(20, T.int))]);
    assert.equal(s.highestFieldId, 20);
    assert.equal(s.findField('m.value.z')?.id, 12);
    assert.equal(s.field(12)?.name, 'z');
    assert.equal(s.field(10), undefined, 'map key ids are not fields');
    assert.equal(s.primitiveType(1).kind, 'long');
    throwsFloe(() => s.fieldOrThrow(99), 'field_id_mismatch', /field id 99 is not in schema 3/);
    throwsFloe(() => s.primitiveType(2), 'schema_invalid', /field "m" \(id 2\) is not a primitive/);
  });
});

describe('Schema identifier fields', () => {
  it('accepts required top-level primitives', () => {
    const s = new Schema(0, [f(1, 'id', T.long, true), f(2, 'name', T.string, true), f(3, 'd', T.decimal(10, 2), true)], [1, 2, 3]);
    assert.deepEqual(s.identifierFieldIds, [1, 2, 3]);
  });

  it('rejects an optional identifier field', () => {
    throwsFloe(() => new Schema(0, [f(1, 'id', T.long)], [1]), 'schema_invalid', /identifier field "id" \(id 1\) must be required/);
  });

  it('rejects float, double and non-primitive identifier fields', () => {
    throwsFloe(() => new Schema(0, [f(1, 'x', T.float, true)], [1]), 'schema_invalid', /"x" \(id 1\) must be a primitive other than float\/double/);
    throwsFloe(() => new Schema(0, [f(1, 'x', T.double, true)], [1]), 'schema_invalid', /other than float\/double/);
    throwsFloe(() => new Schema(0, [f(1, 'x', struct(f(2, 'y', T.int, true)), true)], [1]), 'schema_invalid', /"x" \(id 1\) must be a primitive/);
  });

  it('rejects a nested identifier field and an unknown id', () => {
    throwsFloe(() => new Schema(0, [f(1, 's', struct(f(2, 'y', T.int, true)), true)], [2]), 'schema_invalid', /identifier field "y" \(id 2\) must be a top-level column/);
    throwsFloe(() => new Schema(0, [f(1, 'id', T.long, true)], [5]), 'schema_invalid', /identifier field id 5 is not in the schema/);
  });
});

describe('schemaFromDecls', () => {
  it('numbers top-level columns 1..n, then nested ids after them', () => {
    const s = schemaFromDecls(
      [
        { name: 'id', type: T.long, required: true },
        { name: 'tags', type: list(0, T.string) },
        { name: 'attrs', type: map(0, 0, T.string, T.long) },
        { name: 'loc', type: struct(f(0, 'lat', T.double), f(0, 'lon', T.double, true)), doc: 'where' },
        { name: 'region', type: T.string },
      ],
      ['id'],
    );
    assert.deepEqual(s.fields.map((x) => [x.name, x.id, x.required]), [
      ['id', 1, true],
      ['tags', 2, false],
      ['attrs', 3, false],
      ['loc', 4, false],
      ['region', 5, false],
    ]);
    const tags = s.fields[1]?.type;
    assert.ok(tags?.kind === 'list');
    assert.equal(tags.elementId, 6);
    const attrs = s.fields[2]?.type;
    assert.ok(attrs?.kind === 'map');
    assert.deepEqual([attrs.keyId, attrs.valueId], [7, 8]);
    const loc = s.fields[3]?.type;
    assert.ok(loc?.kind === 'struct');
    assert.deepEqual(loc.fields.map((x) => [x.name, x.id, x.required]), [
      ['lat', 9, false],
      ['lon', 10, true],
    ]);
    assert.equal(s.fields[3]?.doc, 'where');
    assert.deepEqual(s.identifierFieldIds, [1]);
    assert.equal(s.highestFieldId, 10);
    assert.equal(s.schemaId, 0);
  });

  it('assigns ids inside lists of structs and maps of lists', () => {
    const s = schemaFromDecls([
      { name: 'events', type: list(0, struct(f(0, 'at', T.timestamp), f(0, 'kind', T.string))) },
      { name: 'm', type: map(0, 0, T.string, list(0, T.int)) },
    ]);
    const ev = s.fields[0]?.type;
    assert.ok(ev?.kind === 'list' && ev.element.kind === 'struct');
    assert.equal(ev.elementId, 3);
    assert.deepEqual(ev.element.fields.map((x) => x.id), [4, 5]);
    const m = s.fields[1]?.type;
    assert.ok(m?.kind === 'map' && m.value.kind === 'list');
    assert.deepEqual([m.keyId, m.valueId, m.value.elementId], [6, 7, 8]);
    assert.equal(s.findField('events.element.kind')?.id, 5);
  });

  it('rejects an identifier name that is not a column', () => {
    throwsFloe(() => schemaFromDecls([{ name: 'a', type: T.long, required: true }], ['b']), 'schema_invalid', /identifier column "b" is not among the columns/);
  });
});

describe('Schema JSON', () => {
  const schema = (): Schema =>
    new Schema(
      4,
      [
        { ...f(1, 'id', T.long, true), doc: 'primary key' },
        f(2, 'price', T.decimal(38, 10)),
        f(3, 'code', T.fixed(16)),
        f(4, 'tags', { kind: 'list', elementId: 7, elementRequired: true, element: T.string }),
        f(5, 'attrs', map(8, 9, T.string, struct(f(10, 'v', T.uuid, true), f(11, 'w', T.timestamptz)))),
        f(6, 'when', { kind: 'timestamptz_ns' }),
      ],
      [1],
    );

  it('writes the spec JSON form', () => {
    assert.deepEqual(schema().toJSON(), {
      type: 'struct',
      'schema-id': 4,
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long', doc: 'primary key' },
        { id: 2, name: 'price', required: false, type: 'decimal(38, 10)' },
        { id: 3, name: 'code', required: false, type: 'fixed[16]' },
        { id: 4, name: 'tags', required: false, type: { type: 'list', 'element-id': 7, 'element-required': true, element: 'string' } },
        {
          id: 5,
          name: 'attrs',
          required: false,
          type: {
            type: 'map',
            'key-id': 8,
            key: 'string',
            'value-id': 9,
            'value-required': true,
            value: {
              type: 'struct',
              fields: [
                { id: 10, name: 'v', required: true, type: 'uuid' },
                { id: 11, name: 'w', required: false, type: 'timestamptz' },
              ],
            },
          },
        },
        { id: 6, name: 'when', required: false, type: 'timestamptz_ns' },
      ],
    });
    assert.equal('identifier-field-ids' in new Schema(0, [f(1, 'a', T.int)]).toJSON(), false);
  });

  it('round-trips through JSON text', () => {
    const s = schema();
    const back = Schema.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    assert.deepEqual(back.toJSON(), s.toJSON());
    assert.deepEqual(back.fields, s.fields);
    assert.equal(back.schemaId, 4);
    assert.deepEqual(back.identifierFieldIds, [1]);
    assert.equal(back.highestFieldId, 11);
    assert.ok(back.sameStructure(s.withSchemaId(0)));
    assert.ok(!back.sameStructure(new Schema(4, s.fields, [])));
  });

  it('reads decimal and fixed with spaces, and defaults schema-id to 0', () => {
    const s = Schema.fromJSON({ type: 'struct', fields: [{ id: 1, name: 'd', required: false, type: 'decimal( 9 ,2 )' }, { id: 2, name: 'x', required: true, type: 'fixed[ 3 ]' }] });
    assert.equal(s.schemaId, 0);
    assert.deepEqual(s.fields.map((x) => x.type), [T.decimal(9, 2), T.fixed(3)]);
  });

  it('names an unknown type and where it is', () => {
    const err = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      return null;
    };
    const e1 = err(() => Schema.fromJSON({ fields: [{ id: 1, name: 'a', type: 'long' }, { id: 2, name: 'v', type: 'varchar' }] }));
    assert.ok(isFloeError(e1, 'type_unsupported'));
    assert.equal(e1.message, 'unknown Iceberg type "varchar" at fields[1] (v)');
    assert.deepEqual(e1.details, { where: 'fields[1] (v)', type: 'varchar' });

    throwsFloe(() => typeFromJson({ type: 'variant' }, 'col'), 'type_unsupported', /unknown Iceberg type "variant" at col/);
    throwsFloe(
      () => typeFromJson({ type: 'list', 'element-id': 3, element: { type: 'map', 'key-id': 4, key: 'string', 'value-id': 5, value: 'geometry' } }, 'x'),
      'type_unsupported',
      /unknown Iceberg type "geometry" at x\.element\.value/,
    );
    throwsFloe(() => typeFromJson(42, 'y'), 'type_unsupported', /type at y must be a string or object, got 42/);
    throwsFloe(() => typeFromJson('decimal(39, 0)'), 'type_unsupported', /decimal precision must be 1\.\.38, got 39/);
    throwsFloe(() => typeFromJson({ type: 'list', element: 'int' }, 'z'), 'schema_invalid', /z\.element-id must be a non-negative integer/);
  });

  it('rejects a schema JSON without fields and a field without a name', () => {
    throwsFloe(() => Schema.fromJSON(null), 'schema_invalid', /must be a JSON object/);
    throwsFloe(() => Schema.fromJSON({ type: 'struct' }), 'schema_invalid', /no "fields" array/);
    throwsFloe(() => Schema.fromJSON({ fields: [{ id: 1, type: 'int' }] }), 'schema_invalid', /field at fields\[0\] has no name/);
  });
});
