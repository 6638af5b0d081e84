/**
 * Sort orders (spec: "Sorting"). JSON form:
 *   {"order-id":1,"fields":[{"transform":"identity","source-id":2,"direction":"asc","null-order":"nulls-first"}]}
 * order-id 0 is reserved for the unsorted order.
 */
import { FloeError } from '../errors.js';
import type { Schema } from './schema.js';
import { canTransform, parseTransform, transformToString, type Transform } from './transform.js';

export interface SortField {
  readonly sourceId: number;
  readonly transform: Transform;
  readonly direction: 'asc' | 'desc';
  readonly nullOrder: 'nulls-first' | 'nulls-last';
}

export class SortOrder {
  readonly orderId: number;
  readonly fields: readonly SortField[];

  constructor(orderId: number, fields: readonly SortField[]) {
    if (orderId === 0 && fields.length > 0) throw new FloeError('schema_invalid', 'sort order id 0 is reserved for the unsorted order');
    this.orderId = orderId;
    this.fields = Object.freeze([...fields]);
  }

  static unsorted(): SortOrder {
    return new SortOrder(0, []);
  }

  toJSON(): Record<string, unknown> {
    return {
      'order-id': this.orderId,
      fields: this.fields.map((f) => ({
        transform: transformToString(f.transform),
        'source-id': f.sourceId,
        direction: f.direction,
        'null-order': f.nullOrder,
      })),
    };
  }

  static fromJSON(j: unknown): SortOrder {
    const o = j as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || !Array.isArray(o.fields)) {
      throw new FloeError('metadata_invalid', 'sort order must be an object with a "fields" array');
    }
    return new SortOrder(
      Number(o['order-id'] ?? 0),
      o.fields.map((f: Record<string, unknown>) => ({
        sourceId: Number(f['source-id']),
        transform: parseTransform(String(f.transform ?? 'identity')),
        direction: f.direction === 'desc' ? 'desc' : 'asc',
        nullOrder: f['null-order'] === 'nulls-last' ? 'nulls-last' : 'nulls-first',
      })),
    );
  }
}

/**
 * One sort field from text: `column`, `transform(column)` or `bucket(16, column)`, then optionally `asc|desc`
 * and `nulls first|last` (defaults as in Spark SQL: asc, nulls first for asc and nulls last for desc).
 */
export function parseSortExpr(expr: string, schema: Schema): SortField {
  const m = /^(?:(\w+)\(\s*(?:(\d+)\s*,\s*)?([\w.]+)\s*\)|([\w.]+))(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?$/i.exec(expr.trim());
  if (m === null) throw new FloeError('config_invalid', `cannot parse sort expression "${expr}" (expected e.g. "created_at desc nulls last")`, { expr });
  const column = m[3] ?? m[4] ?? '';
  const fn = m[1]?.toLowerCase();
  const transform = parseTransform(fn === undefined ? 'identity' : m[2] !== undefined ? `${fn}[${m[2]}]` : fn);
  const source = schema.findField(column);
  if (source === undefined) throw new FloeError('config_invalid', `sort expression "${expr}" names unknown column "${column}"`, { expr });
  if (!canTransform(transform, source.type)) throw new FloeError('config_invalid', `sort expression "${expr}": ${transformToString(transform)} cannot apply to ${source.type.kind}`, { expr });
  const direction = m[5]?.toLowerCase() === 'desc' ? 'desc' : 'asc';
  const nulls = m[6]?.toLowerCase();
  return { sourceId: source.id, transform, direction, nullOrder: nulls === undefined ? (direction === 'asc' ? 'nulls-first' : 'nulls-last') : nulls === 'first' ? 'nulls-first' : 'nulls-last' };
}
