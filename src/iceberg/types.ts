/**
 * Iceberg types as the spec names them ("Schemas and Data Types"), with their JSON serialization
 * from "Appendix C: JSON serialization":
 *   primitive: "boolean" | "int" | "long" | "float" | "double" | "decimal(P,S)" | "date" | "time" |
 *              "timestamp" | "timestamptz" | "timestamp_ns" | "timestamptz_ns" | "string" | "uuid" |
 *              "fixed[L]" | "binary"
 *   struct: {"type":"struct","fields":[{"id":1,"name":"a","required":true,"type":...,"doc":...}]}
 *   list:   {"type":"list","element-id":3,"element-required":true,"element":...}
 *   map:    {"type":"map","key-id":4,"key":...,"value-id":5,"value-required":false,"value":...}
 */
import { FloeError } from '../errors.js';
import type { IcebergValue } from './values.js';
import { valueFromJson, valueToJson } from './value-json.js';

export type PrimitiveType =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'int' }
  | { readonly kind: 'long' }
  | { readonly kind: 'float' }
  | { readonly kind: 'double' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'date' }
  | { readonly kind: 'time' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'timestamptz' }
  | { readonly kind: 'timestamp_ns' }
  | { readonly kind: 'timestamptz_ns' }
  | { readonly kind: 'string' }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'fixed'; readonly length: number }
  | { readonly kind: 'binary' };

export interface NestedField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergType;
  readonly doc?: string;
  /**
   * Format version 3 default values (spec: "Default values"), for primitive fields: `initialDefault` is what
   * rows written before the field was added read, `writeDefault` what a writer that does not supply the field
   * writes. Absent: null. In JSON as `initial-default` / `write-default`, in the JSON single-value form.
   */
  readonly initialDefault?: IcebergValue;
  readonly writeDefault?: IcebergValue;
  /**
   * Defaults floe does not interpret, kept as read so a schema it writes back keeps them: those of nested
   * (struct, list, map) fields, and values another writer wrote in a form floe does not parse.
   */
  readonly rawDefaults?: { readonly initial?: unknown; readonly write?: unknown };
}

export interface StructType {
  readonly kind: 'struct';
  readonly fields: readonly NestedField[];
}

export interface ListType {
  readonly kind: 'list';
  readonly elementId: number;
  readonly elementRequired: boolean;
  readonly element: IcebergType;
}

export interface MapType {
  readonly kind: 'map';
  readonly keyId: number;
  readonly key: IcebergType;
  readonly valueId: number;
  readonly valueRequired: boolean;
  readonly value: IcebergType;
}

export type IcebergType = PrimitiveType | StructType | ListType | MapType;
export type PrimitiveKind = PrimitiveType['kind'];

export const DECIMAL_PRECISION_MAX = 38;
export const FIXED_LENGTH_MAX = 1 << 20;

const simple: Readonly<Record<string, PrimitiveType>> = Object.freeze({
  boolean: { kind: 'boolean' },
  int: { kind: 'int' },
  long: { kind: 'long' },
  float: { kind: 'float' },
  double: { kind: 'double' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
  timestamp_ns: { kind: 'timestamp_ns' },
  timestamptz_ns: { kind: 'timestamptz_ns' },
  string: { kind: 'string' },
  uuid: { kind: 'uuid' },
  binary: { kind: 'binary' },
});

export const T = Object.freeze({
  boolean: simple.boolean as PrimitiveType,
  int: simple.int as PrimitiveType,
  long: simple.long as PrimitiveType,
  float: simple.float as PrimitiveType,
  double: simple.double as PrimitiveType,
  date: simple.date as PrimitiveType,
  time: simple.time as PrimitiveType,
  timestamp: simple.timestamp as PrimitiveType,
  timestamptz: simple.timestamptz as PrimitiveType,
  string: simple.string as PrimitiveType,
  uuid: simple.uuid as PrimitiveType,
  binary: simple.binary as PrimitiveType,
  decimal(precision: number, scale: number): PrimitiveType {
    if (!Number.isInteger(precision) || precision < 1 || precision > DECIMAL_PRECISION_MAX) {
      throw new FloeError('type_unsupported', `decimal precision must be 1..${DECIMAL_PRECISION_MAX}, got ${precision}`);
    }
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new FloeError('type_unsupported', `decimal scale must be 0..precision (${precision}), got ${scale}`);
    }
    return { kind: 'decimal', precision, scale };
  },
  fixed(length: number): PrimitiveType {
    if (!Number.isInteger(length) || length < 1 || length > FIXED_LENGTH_MAX) {
      throw new FloeError('type_unsupported', `fixed length must be 1..${FIXED_LENGTH_MAX}, got ${length}`);
    }
    return { kind: 'fixed', length };
  },
});

export function isPrimitive(t: IcebergType): t is PrimitiveType {
  return t.kind !== 'struct' && t.kind !== 'list' && t.kind !== 'map';
}

export function typeToString(t: IcebergType): string {
  switch (t.kind) {
    case 'decimal':
      return `decimal(${t.precision}, ${t.scale})`;
    case 'fixed':
      return `fixed[${t.length}]`;
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(', ')}>`;
    case 'list':
      return `list<${typeToString(t.element)}>`;
    case 'map':
      return `map<${typeToString(t.key)}, ${typeToString(t.value)}>`;
    default:
      return t.kind;
  }
}

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
