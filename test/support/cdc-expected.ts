// Expected Iceberg tables for the generator's source state, built independently of floe's decoder: source values map to Iceberg values directly.
import type { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { canonicalRows } from './canonical.js';

export const expectedSchemas: Readonly<Record<string, Schema>> = {
  customers: schemaFromDecls([
    { name: 'id', type: T.long, required: true }, { name: 'name', type: T.string }, { name: 'email', type: T.string },
    { name: 'balance', type: T.decimal(12, 2) }, { name: 'created_at', type: T.timestamp },
  ], ['id']),
  orders: schemaFromDecls([
    { name: 'id', type: T.long, required: true }, { name: 'customer_id', type: T.long }, { name: 'status', type: T.string },
    { name: 'amount', type: T.decimal(12, 2) }, { name: 'region', type: T.string }, { name: 'updated_at', type: T.timestamptz },
  ], ['id']),
  order_items: schemaFromDecls([
    { name: 'order_id', type: T.long, required: true }, { name: 'line_no', type: T.int, required: true }, { name: 'sku', type: T.string }, { name: 'qty', type: T.int },
  ], ['order_id', 'line_no']),
};

export function expectedLines(gen: DebeziumGenerator, table: string): string[] {
  const schema = expectedSchemas[table];
  if (schema === undefined) throw new Error(`no expected schema for ${table}`);
  const rows = [...(gen.state.get(table)?.values() ?? [])].map((r) => r as Record<string, IcebergValue | null>);
  return canonicalRows(schema, rows).sort();
}
