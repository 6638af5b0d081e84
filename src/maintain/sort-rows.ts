/**
 * Orders rows by a table's sort order (spec: "Sorting"): each sort field's transform of its source column,
 * ascending or descending, nulls first or last; a data file written in that order carries its `sort_order_id`.
 * NaN sorts above every other float or double, as Iceberg's comparators put it.
 */
import { FloeError } from '../errors.js';
import type { SortOrder } from '../iceberg/sort-order.js';
import { applyTransform, transformResultType } from '../iceberg/transform.js';
import type { NestedField, PrimitiveType } from '../iceberg/types.js';
import { compareValues, type IcebergValue } from '../iceberg/values.js';

type Values = readonly (IcebergValue | null)[];

/** Sorts `rows` (values in `fields` order) in place by `order`; an unsorted order leaves them as they are. */
export function sortRows(rows: Values[], fields: readonly NestedField[], order: SortOrder): void {
  if (order.fields.length === 0) return;
  const keys = order.fields.map((sf) => {
    const index = fields.findIndex((f) => f.id === sf.sourceId);
    const f = fields[index];
    if (f === undefined) throw new FloeError('schema_invalid', `sort order ${order.orderId} sorts by field ${sf.sourceId}, which the schema does not have`);
    const sourceType = f.type as PrimitiveType;
    return { index, sourceType, resultType: transformResultType(sf.transform, sourceType), sf };
  });
  const sortKey = new Map<Values, (IcebergValue | null)[]>();
  for (const r of rows) sortKey.set(r, keys.map((k) => applyTransform(k.sf.transform, k.sourceType, r[k.index] ?? null)));
  rows.sort((a, b) => {
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
