/**
 * The in-memory part of the primary-key index (pk-index.ts): its two slot tables (integer keys by their mix, other
 * keys by fingerprint with their canonical bytes in an arena), and the lookup of a key in them. Apart from the index
 * so that pk-index.ts holds the index's semantics (counts, spilling, saving) and stays readable.
 */
import type { IcebergValue } from '../iceberg/values.js';
import { KeyArena } from './pk-arena.js';
import { KeyBytes, intKey, intKeyParts, mixInt64, mixed } from './pk-key-bytes.js';
import { SlotTable } from './pk-slots.js';
import { SortedEntries } from './pk-spill-sort.js';

/** A key's values in the table's key order. */
export type Values = readonly (IcebergValue | null)[];

export class IndexMemory {
  protected ints = new SlotTable(3, null);
  protected others: SlotTable;
  protected arena = new KeyArena();
  /** The canonical bytes of the other key being looked up, and its fingerprint. */
  protected readonly key = new KeyBytes();
  protected readonly fp = { hi: 0, lo: 0 };
  /** The table of the key `find` looked up last. */
  protected found: SlotTable;

  constructor(private readonly weakFingerprint: ((keyBytes: Uint8Array) => readonly [number, number]) | null) {
    this.others = this.otherTable();
    this.found = this.ints;
  }

  private otherTable(): SlotTable {
    return new SlotTable(4, (words, at) => this.arena.equals(words[at + 3] as number, this.key.bytes, this.key.length));
  }

  /** Bytes of the tables, the arena and the key scratch. */
  protected get tablesBytes(): number {
    return this.ints.bytes + this.others.bytes + this.arena.bytes + this.key.bytes.byteLength;
  }

  /** The fingerprint of `this.key` into `this.fp`. */
  protected fingerprint(): void {
    if (this.weakFingerprint === null) {
      this.key.fingerprint(this.fp);
      return;
    }
    const [hi, lo] = this.weakFingerprint(this.key.bytes.slice(0, this.key.length));
    this.fp.hi = hi >>> 0;
    this.fp.lo = lo >>> 0;
  }

  /** The ref of `key` in its table (set as `found`: `ints` for an integer key, else `others`), or -1. */
  protected find(key: Values): number {
    if (intKeyParts(key)) {
      mixInt64(intKey.hi, intKey.lo);
      this.found = this.ints;
      return this.ints.find(mixed.hi, mixed.lo);
    }
    this.key.encode(key);
    this.fingerprint();
    this.found = this.others;
    return this.others.find(this.fp.hi, this.fp.lo);
  }

  /** Copies the live key bytes into a fresh arena once deleted keys' bytes outweigh them (pk-arena.ts). */
  protected compactIfWasteful(): void {
    if (!this.arena.wantsCompaction) return;
    const old = this.arena;
    const fresh = new KeyArena();
    this.others.mapPayloads((ref) => {
      const bytes = old.view(ref);
      return fresh.append(bytes, bytes.length);
    });
    this.arena = fresh;
  }

  /** The entries of both tables in run order (pk-spill-sort.ts). */
  protected sortedTables(): SortedEntries {
    return SortedEntries.of(this.ints, this.others, this.arena);
  }

  /** Empties both tables and the arena. */
  protected resetTables(): void {
    this.ints = new SlotTable(3, null);
    this.others = this.otherTable();
    this.arena.clear();
    this.found = this.ints;
  }
}
