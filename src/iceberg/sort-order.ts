/**
 * Sort orders (spec: "Sorting"). JSON form:
 *   {"order-id":1,"fields":[{"transform":"identity","source-id":2,"direction":"asc","null-order":"nulls-first"}]}
 * order-id 0 is reserved for the unsorted order.
 */
import { FloeError } from '../errors.js';
import type { Schema } from './schema.js';
import { applyTransform, canTransform, parseTransform, transformResultType, transformToString, type Transform } from './transform.js';
import type { NestedField, PrimitiveType } from './types.js';
import { compareValues, type IcebergValue } from './values.js';

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

type Values = readonly (IcebergValue | null)[];

/**
 * Sorts `items` in place by `order` (spec: "Sorting"): each sort field's transform of its source column, ascending
 * or descending, nulls first or last; NaN above every other float or double, as Iceberg's comparators put it.
 * `valuesOf` gives an item's row (values in `fields` order). An unsorted order leaves them as they are. Used by
 * the worker's windows and by maintenance rewrites, so both write a data file's `sort_order_id` the same way.
 */
export function sortBySortOrder<T>(items: T[], valuesOf: (item: T) => Values, fields: readonly NestedField[], order: SortOrder): void {
  if (order.fields.length === 0) return;
  const keys = order.fields.map((sf) => {
    const index = fields.findIndex((f) => f.id === sf.sourceId);
    const f = fields[index];
    if (f === undefined) throw new FloeError('schema_invalid', `sort order ${order.orderId} sorts by field ${sf.sourceId}, which the schema does not have`);
    const sourceType = f.type as PrimitiveType;
    return { index, sourceType, resultType: transformResultType(sf.transform, sourceType), sf };
  });
  const sortKey = new Map<T, (IcebergValue | null)[]>();
  for (const r of items) {
    const row = valuesOf(r);
    sortKey.set(r, keys.map((k) => applyTransform(k.sf.transform, k.sourceType, row[k.index] ?? null)));
  }
  items.sort((a, b) => {
    const va = sortKey.get(a) as (IcebergValue | null)[];
    const vb = sortKey.get(b) as (IcebergValue | null)[];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as (typeof keys)[number];
      const x = va[i] ?? null;
      const y = vb[i] ?? null;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === (k.sf.nullOrder === 'nulls-first') ? -1 : 1;
      }
      const c = compareSortValues(k.resultType, x, y);
      if (c !== 0) return k.sf.direction === 'asc' ? c : -c;
    }
    return 0;
  });
}

function compareSortValues(t: PrimitiveType, x: IcebergValue, y: IcebergValue): number {
  if ((t.kind === 'float' || t.kind === 'double') && (Number.isNaN(x) || Number.isNaN(y))) {
    return Number.isNaN(x) === Number.isNaN(y) ? 0 : Number.isNaN(x) ? 1 : -1;
  }
  return compareValues(t, x, y);
}
