/**
 * A table stopped by bad configuration meeting its data: one error for the table, not one per record. A table
 * stops when something about it, not about one record, makes every later record fail:
 *   partition_transform  a partitionBy transform cannot apply to its column's type (month() of a `long`), found
 *                        when the committer creates the table from the first record's columns
 *   sort_transform       the same for a sortBy expression
 *   incompatible_schema  a source column changed to a type its table column cannot hold (policy `fail`, or a key
 *                        column), found by the worker when the record binds (TableState)
 * The error carries `details.stop` (the reason code). The pipeline logs the stop once, sets the gauge
 * `floe_table_failed{table,reason}`, and dead-letters every later record of that table with the error's
 * message; other tables go on. The table stays stopped until floe restarts (with the fix).
 */
import { FloeError } from '../errors.js';
import type { Schema } from '../iceberg/schema.js';
import { canTransform, parseTransform, type Transform } from '../iceberg/transform.js';
import { typeToString } from '../iceberg/types.js';

export type TableStopReason = 'partition_transform' | 'sort_transform' | 'incompatible_schema';

/** A table stop, as the worker reports it to the main thread (structured-clone friendly). */
export interface TableStop {
  readonly table: string;
  readonly reason: TableStopReason;
  readonly message: string;
}

/** The reason code of an error that stops its table; null for an error about one record. */
export function tableStopOf(e: unknown): TableStopReason | null {
  if (!(e instanceof FloeError)) return null;
  const stop = e.details.stop;
  return stop === 'partition_transform' || stop === 'sort_transform' || stop === 'incompatible_schema' ? stop : null;
}

/** What a transform applies to, in the words of the spec's "Partition Transforms" table. */
function appliesTo(t: Transform): string {
  switch (t.kind) {
    case 'year':
    case 'month':
    case 'day':
      return 'date and timestamp columns';
    case 'hour':
      return 'timestamp columns';
    case 'bucket':
      return 'columns of every type but boolean, float and double';
    case 'truncate':
      return 'int, long, decimal, string and binary columns';
    default:
      return 'columns of every type';
  }
}

const EXPR = /^(?:(\w+)\(\s*(?:(\d+)\s*,\s*)?([\w.]+)\s*\)|([\w.]+))/;

/** The transform and column an expression (`month(created_date)`, `bucket(16, id) desc`) names; null when it does not parse. */
function parseExpr(expr: string): { transform: Transform; column: string; fn: string } | null {
  const m = EXPR.exec(expr.trim());
  if (m === null) return null;
  const fn = (m[1] ?? 'identity').toLowerCase();
  try {
    return { transform: parseTransform(m[2] !== undefined ? `${fn}[${m[2]}]` : fn), column: m[3] ?? m[4] ?? '', fn };
  } catch {
    return null; // an unknown transform: the table's creation reports it
  }
}

export interface TransformCheck {
  /** The routed table name. */
  readonly table: string;
  readonly partitionBy: readonly string[];
  readonly sortBy: readonly string[];
  /** Where the expressions come from (`tables.overrides."shop.orders"` or `tables.defaults`), for the fix. */
  readonly partitionByFrom: string;
  readonly sortByFrom: string;
}

/**
 * Before a table is created from the first record's columns: a partition or sort transform that cannot apply
 * to its column's type stops the table (nothing a later record brings changes the column's type: the table is
 * created with it). A column the record does not have is left to the creation (a later record may bring it).
 */
export function checkTransforms(c: TransformCheck, schema: Schema): void {
  const check = (exprs: readonly string[], key: 'partitionBy' | 'sortBy', from: string): void => {
    for (const expr of exprs) {
      const p = parseExpr(expr);
      if (p === null) continue;
      const field = schema.findField(p.column);
      if (field === undefined || canTransform(p.transform, field.type)) continue;
      const type = typeToString(field.type);
      const temporal = p.transform.kind === 'year' || p.transform.kind === 'month' || p.transform.kind === 'day' || p.transform.kind === 'hour';
      const inferred = temporal && (type === 'long' || type === 'string' || type === 'double')
        ? ' Records without a schema (JsonConverter schemas.enable=false) carry dates and timestamps as numbers or strings, inferred as long or string (docs/types.md).'
        : '';
      const fixType = temporal ? 'declare the column\'s type (JsonConverter schemas.enable=true, or the AvroConverter) so it arrives as a date or timestamp, or ' : '';
      const fixKey = from === 'tables.defaults' ? `tables.defaults.${key} (or set tables.overrides."${c.table}".${key})` : `${from}.${key}`;
      throw new FloeError(
        'schema_invalid',
        `table ${c.table} stopped: ${key} "${expr}" cannot apply to column "${p.column}", which is ${type} in the source records; ` +
          `${p.fn}() applies to ${appliesTo(p.transform)}.${inferred} Fix: ${fixType}change ${fixKey}, and restart floe. ` +
          'Until then the table is not created and its records go to the dead-letter topic',
        { table: c.table, column: p.column, type, transform: p.fn, expression: expr, stop: key === 'partitionBy' ? 'partition_transform' : 'sort_transform' },
      );
    }
  };
  check(c.partitionBy, 'partitionBy', c.partitionByFrom);
  check(c.sortBy, 'sortBy', c.sortByFrom);
}
