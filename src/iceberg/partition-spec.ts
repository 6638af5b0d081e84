/**
 * Partition specs (spec: "Partitioning"). JSON form:
 *   {"spec-id":0,"fields":[{"source-id":4,"field-id":1000,"name":"ts_day","transform":"day"}]}
 * Partition field ids start at 1000 (PARTITION_DATA_ID_START) so they never clash with schema field ids.
 */
import { FloeError } from '../errors.js';
import type { Schema } from './schema.js';
import { canTransform, parseTransform, transformResultType, transformToString, type Transform } from './transform.js';
import type { NestedField, PrimitiveType } from './types.js';

export const PARTITION_FIELD_ID_START = 1000;

export interface PartitionField {
  readonly sourceId: number;
  readonly fieldId: number;
  readonly name: string;
  readonly transform: Transform;
}

export class PartitionSpec {
  readonly specId: number;
  readonly fields: readonly PartitionField[];

  constructor(specId: number, fields: readonly PartitionField[]) {
    this.specId = specId;
    this.fields = Object.freeze([...fields]);
    const names = new Set<string>();
    for (const f of this.fields) {
      if (names.has(f.name)) throw new FloeError('schema_invalid', `partition field name "${f.name}" is used twice`, { name: f.name });
      names.add(f.name);
    }
  }

  static unpartitioned(): PartitionSpec {
    return new PartitionSpec(0, []);
  }

  get isUnpartitioned(): boolean {
    return this.fields.every((f) => f.transform.kind === 'void');
  }

  get lastAssignedFieldId(): number {
    return this.fields.reduce((m, f) => Math.max(m, f.fieldId), PARTITION_FIELD_ID_START - 1);
  }

  /** The partition tuple's struct type: one optional field per partition field, typed by the transform result. */
  partitionType(schema: Schema): NestedField[] {
    return this.fields.map((f) => ({
      id: f.fieldId,
      name: f.name,
      required: false,
      type: this.resultType(schema, f),
    }));
  }

  resultType(schema: Schema, f: PartitionField): PrimitiveType {
    return transformResultType(f.transform, schema.primitiveType(f.sourceId));
  }

  validate(schema: Schema): void {
    for (const f of this.fields) {
      const source = schema.field(f.sourceId);
      if (source === undefined) {
        throw new FloeError('schema_invalid', `partition field "${f.name}" refers to source id ${f.sourceId}, which is not in the schema`, {
          field: f.name,
        });
      }
      if (!canTransform(f.transform, schema.primitiveType(f.sourceId))) {
        throw new FloeError('schema_invalid', `transform ${transformToString(f.transform)} cannot apply to column "${source.name}"`, {
          field: f.name,
        });
      }
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      'spec-id': this.specId,
      fields: this.fields.map((f) => ({
        'source-id': f.sourceId,
        'field-id': f.fieldId,
        name: f.name,
        transform: transformToString(f.transform),
      })),
    };
  }

  static fromJSON(j: unknown): PartitionSpec {
    const o = j as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || !Array.isArray(o.fields)) {
      throw new FloeError('metadata_invalid', 'partition spec must be an object with a "fields" array');
    }
    return new PartitionSpec(
      Number(o['spec-id'] ?? 0),
      o.fields.map((f: Record<string, unknown>) => ({
        sourceId: Number(f['source-id']),
        fieldId: Number(f['field-id']),
        name: String(f.name),
        transform: parseTransform(String(f.transform)),
      })),
    );
  }

  sameFields(other: PartitionSpec): boolean {
    return JSON.stringify(this.toJSON().fields) === JSON.stringify(other.toJSON().fields);
  }
}

/** User-facing partition declaration, e.g. `day(created_at)`, `bucket(16, id)`, `truncate(4, name)`, `region`. */
export function parsePartitionExpr(expr: string, schema: Schema, fieldId: number): PartitionField {
  const s = expr.trim();
  const call = /^(\w+)\(\s*(?:(\d+)\s*,\s*)?([\w.]+)\s*\)$/.exec(s);
  let transformText: string;
  let column: string;
  if (call) {
    const fn = (call[1] ?? '').toLowerCase();
    column = call[3] ?? '';
    transformText = call[2] !== undefined ? `${fn}[${call[2]}]` : fn;
  } else if (/^[\w.]+$/.test(s)) {
    transformText = 'identity';
    column = s;
  } else {
    throw new FloeError('config_invalid', `cannot parse partition expression "${expr}" (expected e.g. day(ts), bucket(16, id), region)`, {
      expr,
    });
  }
  const source = schema.findField(column);
  if (source === undefined) throw new FloeError('config_invalid', `partition expression "${expr}" names unknown column "${column}"`, { expr });
  const transform = parseTransform(transformText);
  const suffix =
    transform.kind === 'identity'
      ? ''
      : transform.kind === 'bucket'
        ? '_bucket'
        : transform.kind === 'truncate'
          ? '_trunc'
          : `_${transform.kind}`;
  return { sourceId: source.id, fieldId, name: `${column}${suffix}`, transform };
}

export function partitionSpecFromExprs(exprs: readonly string[], schema: Schema, specId = 0): PartitionSpec {
  const spec = new PartitionSpec(
    specId,
    exprs.map((e, i) => parsePartitionExpr(e, schema, PARTITION_FIELD_ID_START + i)),
  );
  spec.validate(schema);
  return spec;
}
