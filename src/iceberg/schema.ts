/**
 * Iceberg schema: a struct of fields with unique ids, plus `identifier-field-ids` (the row identity, i.e. the
 * source primary key). JSON form (spec, Appendix C):
 *   {"type":"struct","schema-id":0,"identifier-field-ids":[1],"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}
 * Identifier fields must be required primitives (not float/double) and cannot sit inside lists or maps.
 */
import { FloeError } from '../errors.js';
import { stringifyJsonExact } from './json.js';
import { isPrimitive, type IcebergType, type NestedField, type PrimitiveType } from './types.js';
import { fieldFromJson, fieldToJson } from './type-json.js';

export class Schema {
  readonly schemaId: number;
  readonly fields: readonly NestedField[];
  readonly identifierFieldIds: readonly number[];
  private readonly byId: ReadonlyMap<number, NestedField>;
  private readonly byName: ReadonlyMap<string, NestedField>;
  /** Highest field id used anywhere in the schema, including nested element/key/value ids. */
  readonly highestFieldId: number;

  constructor(schemaId: number, fields: readonly NestedField[], identifierFieldIds: readonly number[] = []) {
    this.schemaId = schemaId;
    this.fields = Object.freeze([...fields]);
    this.identifierFieldIds = Object.freeze([...identifierFieldIds]);
    const byId = new Map<number, NestedField>();
    const byName = new Map<string, NestedField>();
    let highest = 0;
    const visit = (t: IcebergType, path: string): void => {
      if (t.kind === 'struct') {
        for (const f of t.fields) addField(f, path === '' ? f.name : `${path}.${f.name}`);
      } else if (t.kind === 'list') {
        highest = Math.max(highest, t.elementId);
        claimId(t.elementId, `${path}.element`);
        visit(t.element, `${path}.element`);
      } else if (t.kind === 'map') {
        highest = Math.max(highest, t.keyId, t.valueId);
        claimId(t.keyId, `${path}.key`);
        claimId(t.valueId, `${path}.value`);
        visit(t.key, `${path}.key`);
        visit(t.value, `${path}.value`);
      }
    };
    const seenIds = new Set<number>();
    const claimId = (id: number, path: string): void => {
      if (seenIds.has(id)) throw new FloeError('schema_invalid', `field id ${id} is used twice (at ${path})`, { id, path });
      seenIds.add(id);
    };
    const addField = (f: NestedField, path: string): void => {
      claimId(f.id, path);
      highest = Math.max(highest, f.id);
      byId.set(f.id, f);
      if (byName.has(path)) throw new FloeError('schema_invalid', `field name "${path}" is used twice`, { path });
      byName.set(path, f);
      visit(f.type, path);
    };
    for (const f of this.fields) addField(f, f.name);
    this.byId = byId;
    this.byName = byName;
    this.highestFieldId = highest;
    for (const id of this.identifierFieldIds) {
      const f = byId.get(id);
      if (f === undefined) throw new FloeError('schema_invalid', `identifier field id ${id} is not in the schema`, { id });
      if (!f.required) throw new FloeError('schema_invalid', `identifier field "${f.name}" (id ${id}) must be required`, { id });
      if (!isPrimitive(f.type) || f.type.kind === 'float' || f.type.kind === 'double') {
        throw new FloeError('schema_invalid', `identifier field "${f.name}" (id ${id}) must be a primitive other than float/double`, { id });
      }
      if (!this.fields.some((top) => top.id === id)) {
        throw new FloeError('schema_invalid', `identifier field "${f.name}" (id ${id}) must be a top-level column`, { id });
      }
    }
  }

  field(id: number): NestedField | undefined {
    return this.byId.get(id);
  }

  fieldOrThrow(id: number): NestedField {
    const f = this.byId.get(id);
    if (f === undefined) throw new FloeError('field_id_mismatch', `field id ${id} is not in schema ${this.schemaId}`, { id });
    return f;
  }

  findField(name: string): NestedField | undefined {
    return this.byName.get(name);
  }

  primitiveType(id: number): PrimitiveType {
    const f = this.fieldOrThrow(id);
    if (!isPrimitive(f.type)) throw new FloeError('schema_invalid', `field "${f.name}" (id ${id}) is not a primitive`, { id });
    return f.type;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'struct',
      'schema-id': this.schemaId,
      ...(this.identifierFieldIds.length > 0 ? { 'identifier-field-ids': [...this.identifierFieldIds] } : {}),
      fields: this.fields.map(fieldToJson),
    };
  }

  static fromJSON(j: unknown): Schema {
    if (j === null || typeof j !== 'object') throw new FloeError('schema_invalid', 'schema must be a JSON object');
    const o = j as Record<string, unknown>;
    if (!Array.isArray(o.fields)) throw new FloeError('schema_invalid', 'schema has no "fields" array');
    const ids = o['identifier-field-ids'];
    return new Schema(
      typeof o['schema-id'] === 'number' ? o['schema-id'] : 0,
      o.fields.map((f, i) => fieldFromJson(f, `fields[${i}]`)),
      Array.isArray(ids) ? ids.map((x) => Number(x)) : [],
    );
  }

  /**
   * Same columns (default values included) and identifier fields, ignoring the schema id (used to reuse an
   * existing schema): a column that gained a default is a schema change.
   */
  sameStructure(other: Schema): boolean {
    const a = this.toJSON();
    const b = other.toJSON();
    delete a['schema-id'];
    delete b['schema-id'];
    return stringifyJsonExact(a) === stringifyJsonExact(b);
  }

  withSchemaId(schemaId: number): Schema {
    return new Schema(schemaId, this.fields, this.identifierFieldIds);
  }
}

/** Builds a schema from fields declared without ids, assigning ids 1..n (and nested ids after them). */
export interface FieldDecl {
  readonly name: string;
  readonly type: IcebergType;
  readonly required?: boolean;
  readonly doc?: string;
}

export function schemaFromDecls(decls: readonly FieldDecl[], identifierNames: readonly string[] = []): Schema {
  let nextId = 1;
  const fields: NestedField[] = decls.map((d) => ({
    id: nextId++,
    name: d.name,
    required: d.required === true,
    type: d.type,
    ...(d.doc !== undefined ? { doc: d.doc } : {}),
  }));
  const reassign = (t: IcebergType): IcebergType => {
    if (t.kind === 'struct') return { kind: 'struct', fields: t.fields.map((f) => ({ ...f, id: nextId++, type: reassign(f.type) })) };
    if (t.kind === 'list') return { ...t, elementId: nextId++, element: reassign(t.element) };
    if (t.kind === 'map') {
      const keyId = nextId++;
      const valueId = nextId++;
      return { ...t, keyId, valueId, key: reassign(t.key), value: reassign(t.value) };
    }
    return t;
  };
  const withNested = fields.map((f) => ({ ...f, type: reassign(f.type) }));
  const ids = identifierNames.map((n) => {
    const f = withNested.find((x) => x.name === n);
    if (f === undefined) throw new FloeError('schema_invalid', `identifier column "${n}" is not among the columns`, { column: n });
    return f.id;
  });
  return new Schema(0, withNested, ids);
}
