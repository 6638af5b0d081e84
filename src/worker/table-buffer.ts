/**
 * One table's changes inside a commit window, collapsed by primary key: the index maps each key to its slot,
 * so the table receives exactly one row per key per commit (the last state), or none after a delete.
 * Every key touched in the window also gets an equality delete, since it may exist in an earlier snapshot
 * (spec: an equality delete at sequence number N removes matching rows of data files with sequence < N, so
 * it never hits the rows this same commit adds).
 * Each slot remembers the Kafka partition its key came from, so a revoked partition's changes can be dropped
 * (rewound) without touching other partitions' keys: Debezium keys a table's records, so one key lives in one
 * partition.
 */
import { assert } from '../errors.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';

export type Values = (IcebergValue | null)[];

export interface Slot {
  readonly key: Values;
  row: Values | null;
  partition: string;
}

/** Rough heap cost of a row, for the memory budget (strings count 2 bytes per unit, the rest 16 bytes). */
export function estimateRowBytes(row: Values | null): number {
  if (row === null) return 32;
  let n = 48 + row.length * 8;
  for (const v of row) {
    if (typeof v === 'string') n += 16 + v.length * 2;
    else if (v instanceof Uint8Array) n += 64 + v.length;
    else n += 16;
  }
  return n;
}

export function keyOf(values: Values): IcebergValue | string {
  if (values.length === 1) {
    const v = values[0];
    if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v;
  }
  return valuesKey(values);
}

export class TableBuffer {
  private index = new Map<IcebergValue | string, Slot>();
  /** True when a truncate happened in this window: the commit removes every earlier file first. */
  truncated = false;
  bytes = 0;
  changes = 0;

  get size(): number {
    return this.index.size;
  }

  get isEmpty(): boolean {
    return this.index.size === 0 && !this.truncated;
  }

  upsert(key: Values, row: Values, partition: string): void {
    this.put(key, row, partition);
  }

  delete(key: Values, partition: string): void {
    this.put(key, null, partition);
  }

  private put(key: Values, row: Values | null, partition: string): void {
    const k = keyOf(key);
    const slot = this.index.get(k);
    this.changes++;
    if (slot === undefined) {
      this.index.set(k, { key, row, partition });
      this.bytes += estimateRowBytes(row) + estimateRowBytes(key);
      return;
    }
    this.bytes += estimateRowBytes(row) - estimateRowBytes(slot.row);
    slot.row = row;
    slot.partition = partition;
  }

  truncate(): void {
    this.index.clear();
    this.bytes = 0;
    this.truncated = true;
  }

  /** Drops the changes of keys from the given partitions (their records will be consumed again). */
  dropPartitions(partitions: ReadonlySet<string>): number {
    let dropped = 0;
    for (const [k, slot] of this.index) {
      if (!partitions.has(slot.partition)) continue;
      this.bytes -= estimateRowBytes(slot.row) + estimateRowBytes(slot.key);
      this.index.delete(k);
      dropped++;
    }
    return dropped;
  }

  /**
   * Rewrites every slot's key and row (a column of the window was widened, int → long: values already
   * buffered must take the new type, and keys must keep colliding with the new records' keys).
   */
  remap(convertKey: (key: Values) => Values, convertRow: (row: Values) => Values): void {
    const slots = [...this.index.values()];
    this.index = new Map();
    for (const s of slots) {
      const key = convertKey(s.key);
      this.index.set(keyOf(key), { key, row: s.row === null ? null : convertRow(s.row), partition: s.partition });
    }
    assert(this.index.size === slots.length, 'remapping keys must not merge slots', { before: slots.length, after: this.index.size });
  }

  /** Hands the window's slots over and starts a new window. */
  take(): { slots: Slot[]; truncated: boolean } {
    const slots = [...this.index.values()];
    const truncated = this.truncated;
    this.index = new Map();
    this.truncated = false;
    this.bytes = 0;
    this.changes = 0;
    assert(this.index.size === 0, 'buffer must be empty after take');
    return { slots, truncated };
  }
}
