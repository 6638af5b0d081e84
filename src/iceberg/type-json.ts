/**
 * Iceberg types and fields as table metadata JSON spells them (spec: "Appendix C: JSON serialization",
 * Schemas): `long`, `decimal(P, S)`, `fixed[L]`, struct/list/map objects, and each field's id, name, required,
 * doc and v3 default values (`initial-default`, `write-default`, in the single-value JSON form of value-json.ts).
 */
import { FloeError } from '../errors.js';
import { T, isPrimitive, simple, type IcebergType, type NestedField } from './types.js';
import type { IcebergValue } from './values.js';
import { valueFromJson, valueToJson } from './value-json.js';

export type TypeJson = string | Record<string, unknown>;

export function typeToJson(t: IcebergType): TypeJson {
  switch (t.kind) {
    case 'decimal':
      return `decimal(${t.precision}, ${t.scale})`;
    case 'fixed':
      return `fixed[${t.length}]`;
    case 'struct':
      return { type: 'struct', fields: t.fields.map(fieldToJson) };
    case 'list':
      return { type: 'list', 'element-id': t.elementId, 'element-required': t.elementRequired, element: typeToJson(t.element) };
    case 'map':
      return {
        type: 'map',
        'key-id': t.keyId,
        key: typeToJson(t.key),
        'value-id': t.valueId,
        'value-required': t.valueRequired,
        value: typeToJson(t.value),
      };
    default:
      return t.kind;
  }
}

export function fieldToJson(f: NestedField): Record<string, unknown> {
  const out: Record<string, unknown> = { id: f.id, name: f.name, required: f.required, type: typeToJson(f.type) };
  if (f.doc !== undefined) out.doc = f.doc;
  const initial = f.initialDefault !== undefined && isPrimitive(f.type) ? valueToJson(f.type, f.initialDefault) : f.rawDefaults?.initial;
  const write = f.writeDefault !== undefined && isPrimitive(f.type) ? valueToJson(f.type, f.writeDefault) : f.rawDefaults?.write;
  if (initial !== undefined) out['initial-default'] = initial;
  if (write !== undefined) out['write-default'] = write;
  return out;
}

const decimalRe = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;
const fixedRe = /^fixed\[\s*(\d+)\s*\]$/;

export function typeFromJson(j: unknown, where = 'type'): IcebergType {
  if (typeof j === 'string') {
    const s = simple[j];
    if (s !== undefined) return s;
    const d = decimalRe.exec(j);
    if (d) return T.decimal(Number(d[1]), Number(d[2]));
    const f = fixedRe.exec(j);
    if (f) return T.fixed(Number(f[1]));
    throw new FloeError('type_unsupported', `unknown Iceberg type "${j}" at ${where}`, { where, type: j });
  }
  if (j === null || typeof j !== 'object') {
    throw new FloeError('type_unsupported', `type at ${where} must be a string or object, got ${JSON.stringify(j)}`, { where });
  }
  const o = j as Record<string, unknown>;
  switch (o.type) {
    case 'struct': {
      if (!Array.isArray(o.fields)) throw new FloeError('schema_invalid', `struct at ${where} has no "fields" array`, { where });
      return { kind: 'struct', fields: o.fields.map((f, i) => fieldFromJson(f, `${where}.fields[${i}]`)) };
    }
    case 'list':
      return {
        kind: 'list',
        elementId: requireInt(o['element-id'], `${where}.element-id`),
        elementRequired: o['element-required'] === true,
        element: typeFromJson(o.element, `${where}.element`),
      };
    case 'map':
      return {
        kind: 'map',
        keyId: requireInt(o['key-id'], `${where}.key-id`),
        key: typeFromJson(o.key, `${where}.key`),
        valueId: requireInt(o['value-id'], `${where}.value-id`),
        valueRequired: o['value-required'] === true,
        value: typeFromJson(o.value, `${where}.value`),
      };
    default:
      throw new FloeError('type_unsupported', `unknown Iceberg type ${JSON.stringify(o.type)} at ${where}`, { where });
  }
}

export function fieldFromJson(j: unknown, where: string): NestedField {
  if (j === null || typeof j !== 'object') throw new FloeError('schema_invalid', `field at ${where} must be an object`, { where });
  const o = j as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name.length === 0) {
    throw new FloeError('schema_invalid', `field at ${where} has no name`, { where });
  }
  const type = typeFromJson(o.type, `${where} (${o.name})`);
  // A null default is the same as none (spec: "If either default is not set for an optional field, then the
  // default value is null").
  const initial = o['initial-default'] ?? undefined;
  const write = o['write-default'] ?? undefined;
  /** A primitive field's default as a value; undefined when it is not one floe parses (then kept raw). */
  const parse = (j: unknown): IcebergValue | undefined => {
    if (j === undefined || !isPrimitive(type)) return undefined;
    try {
      return valueFromJson(type, j);
    } catch (e) {
      if (e instanceof FloeError) return undefined;
      throw e;
    }
  };
  const defaults = (): Partial<NestedField> => {
    const [iv, wv] = [parse(initial), parse(write)];
    const rawInitial = initial !== undefined && iv === undefined ? { initial } : {};
    const rawWrite = write !== undefined && wv === undefined ? { write } : {};
    return {
      ...(iv !== undefined ? { initialDefault: iv } : {}),
      ...(wv !== undefined ? { writeDefault: wv } : {}),
      ...(Object.keys(rawInitial).length + Object.keys(rawWrite).length > 0 ? { rawDefaults: { ...rawInitial, ...rawWrite } } : {}),
    };
  };
  const field: NestedField = {
    id: requireInt(o.id, `${where}.id`),
    name: o.name,
    required: o.required === true,
    type,
    ...(typeof o.doc === 'string' ? { doc: o.doc } : {}),
    ...defaults(),
  };
  return field;
}

function requireInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new FloeError('schema_invalid', `${where} must be a non-negative integer, got ${JSON.stringify(v)}`, { where });
  }
  return v;
}
