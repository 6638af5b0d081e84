// Debezium change events as Kafka Connect's JsonConverter writes them with the schema block (`schemas.enable=true`), for a table with an int64 key `id`: the field schemas are given (a field's "default" included), rows are inserts.
import type { SourceMessage } from '../../src/kafka/source.js';

export type FieldSchema = Record<string, unknown> & { readonly type: string; readonly field: string };

export const ID: FieldSchema = { type: 'int64', optional: false, field: 'id' };

function envelope(db: string, table: string, fields: readonly FieldSchema[]): Record<string, unknown> {
  const row = { type: 'struct', fields, optional: true, name: `cdc.${db}.${table}.Value` };
  return {
    type: 'struct',
    fields: [
      { ...row, field: 'before' },
      { ...row, field: 'after' },
      { type: 'struct', fields: [{ type: 'string', optional: true, field: 'db' }, { type: 'string', optional: true, field: 'table' }], optional: false, name: 'io.debezium.connector.mysql.Source', field: 'source' },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
    ],
    optional: false,
    name: `cdc.${db}.${table}.Envelope`,
  };
}

/** Insert events (`op: c`) of `rows` on topic `cdc.<db>.<table>`, partition 0, offsets from `firstOffset`. */
export function insertMessages(db: string, table: string, fields: readonly FieldSchema[], rows: readonly Record<string, unknown>[], firstOffset: number): SourceMessage[] {
  const topic = `cdc.${db}.${table}`;
  const keySchema = { type: 'struct', fields: [ID], optional: false, name: `${topic}.Key` };
  const schema = JSON.stringify(envelope(db, table, fields));
  return rows.map((r, i) => ({
    topic,
    partition: 0,
    offset: firstOffset + i,
    key: Buffer.from(`{"schema":${JSON.stringify(keySchema)},"payload":{"id":${String(r.id)}}}`),
    value: Buffer.from(`{"schema":${schema},"payload":${JSON.stringify({ before: null, after: r, source: { db, table }, op: 'c', ts_ms: 1 })}}`),
    timestamp: undefined,
  }));
}
