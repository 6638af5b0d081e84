/**
 * Sort orders (spec: "Sorting"). JSON form:
 *   {"order-id":1,"fields":[{"transform":"identity","source-id":2,"direction":"asc","null-order":"nulls-first"}]}
 * order-id 0 is reserved for the unsorted order.
 */
import { FloeError } from '../errors.js';
import { parseTransform, transformToString, type Transform } from './transform.js';

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
