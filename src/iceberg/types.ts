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

/** A value of an Iceberg primitive type as floe holds it in JS (values.ts says which representation each type has). */
export type IcebergValue = boolean | number | bigint | string | Uint8Array;

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

/** The primitive types whose JSON form is their name (`long`, `date`, ...). */
export const simple: Readonly<Record<string, PrimitiveType>> = Object.freeze({
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
