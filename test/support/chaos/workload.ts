// The chaos suite's workload: a Debezium change stream from DebeziumGenerator (inserts, updates of hot keys, deletes, re-inserts, tombstones) over 2-3 tables, with a few bad records (unparseable, and routed records whose value does not fit its column), and the expected final tables (the generator's source state, plus the rows another writer appended).
import { DebeziumGenerator, shopTables, type TableDef } from '../../../src/demo/debezium-generator.js';
import type { IcebergValue } from '../../../src/iceberg/values.js';
import type { Row } from '../../../src/iceberg/scan.js';
import { canonicalRow } from '../canonical.js';
import { expectedSchemas } from '../cdc-expected.js';
import type { Rng } from './chaos.js';
import type { Published } from './kafka.js';

export const TOPIC_PREFIX = 'chaos';
export const DB = 'shop';

export interface Workload {
  readonly gen: DebeziumGenerator;
  readonly defs: ReadonlyMap<string, TableDef>;
  readonly topics: readonly string[];
  readonly records: readonly Published[];
  /** Records that must end up in the dead-letter topic (each at least once). */
  readonly bad: number;
}

/** A routed copy of a change whose value does not fit its column (dead-lettered after routing). */
function misfit(ev: { key: Buffer; value: Buffer | null }, table: string): Buffer | null {
  if (ev.value === null) return null;
  const v = JSON.parse(ev.value.toString('utf8')) as { payload: { after: Record<string, unknown> | null; op: string } };
  const after = v.payload.after;
  if (after === null) return null;
  // decimal(12,2) gets 21 digits; an INT column gets 2^40.
  if (table === 'order_items') after.qty = 2 ** 40;
  else after[table === 'customers' ? 'balance' : 'amount'] = Buffer.from('0a0000000000000000000000', 'hex').toString('base64');
  return Buffer.from(JSON.stringify(v));
}

export function makeWorkload(rng: Rng, opts: { tables: readonly string[]; steps: number; keySpace: number; badChance: number }): Workload {
  const all = shopTables(DB).filter((t) => opts.tables.includes(t.table));
  const gen = new DebeziumGenerator({
    topicPrefix: TOPIC_PREFIX,
    seed: 1 + rng.int(2 ** 31 - 2),
    withSchema: true,
    keySpace: opts.keySpace,
    tables: all,
    opMix: { insert: 0.25, delete: 0.2 },
  });
  const records: Published[] = [];
  let bad = 0;
  for (let i = 0; i < opts.steps; i++) {
    const evs = gen.next(i);
    const first = evs[0];
    if (first !== undefined && rng.chance(opts.badChance)) {
      // A bad record of this table's topic just before the change: it must be dead-lettered, the change applied.
      const routed = first.op !== 'd' && first.op !== 'tombstone' ? misfit(first, first.table.table) : null;
      records.push({ topic: first.topic, key: first.key, value: routed ?? Buffer.from('{"schema": not json'), bad: true });
      bad++;
    }
    for (const ev of evs) records.push({ topic: ev.topic, key: ev.key, value: ev.value });
  }
  return { gen, defs: new Map(all.map((d) => [d.table, d])), topics: all.map((t) => gen.topicOf(t)), records, bad };
}

function keyOf(def: TableDef, row: Readonly<Record<string, unknown>>): string {
  return def.key.map((k) => String(row[k])).join('|');
}

export interface TableDiff {
  readonly table: string;
  readonly expected: number;
  readonly actual: number;
  /** Keys whose row is missing. */
  readonly lost: string[];
  /** Keys with more than one live row. */
  readonly duplicated: string[];
  /** Keys whose one row is not the expected version. */
  readonly stale: string[];
  /** Keys with a row that should not be there (deleted in the source, or never written). */
  readonly extra: string[];
}

/** Compares a table's rows (read by floe's own reader) with the expected rows: source state plus foreign rows. */
export function diffTable(w: Workload, table: string, actual: readonly Row[], foreign: readonly Record<string, IcebergValue | null>[]): TableDiff {
  const def = w.defs.get(table) as TableDef;
  const schema = expectedSchemas[table];
  if (schema === undefined) throw new Error(`no expected schema for ${table}`);
  const want = new Map<string, string>();
  for (const r of [...(w.gen.state.get(table)?.values() ?? []), ...foreign]) want.set(keyOf(def, r), canonicalRow(schema, r));
  const have = new Map<string, string[]>();
  for (const r of actual) {
    const k = keyOf(def, r);
    have.set(k, [...(have.get(k) ?? []), canonicalRow(schema, r)]);
  }
  const d: TableDiff = { table, expected: want.size, actual: actual.length, lost: [], duplicated: [], stale: [], extra: [] };
  for (const [k, line] of want) {
    const rows = have.get(k);
    if (rows === undefined) d.lost.push(k);
    else if (rows.length > 1) d.duplicated.push(k);
    else if (rows[0] !== line) d.stale.push(k);
  }
  for (const k of have.keys()) if (!want.has(k)) d.extra.push(k);
  return d;
}

export function diffIsClean(d: TableDiff): boolean {
  return d.lost.length === 0 && d.duplicated.length === 0 && d.stale.length === 0 && d.extra.length === 0;
}
