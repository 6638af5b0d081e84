/**
 * The in-memory entries of the primary-key index in run order (pk-spill.ts), for a spill or a save: a copy of each
 * slot's hash, kind, location and key ref, sorted by an LSD radix sort over the hash's four 16-bit digits (linear:
 * a comparison sort of millions of entries in JavaScript costs seconds), then entries of equal hashes (one int and
 * one other key, or fingerprint collisions) by kind and key bytes. About 29 bytes an entry while it lives.
 */
import type { KeyArena } from './pk-arena.js';
import { TOMBSTONE } from './pk-locations.js';
import type { SlotTable } from './pk-slots.js';
import { KIND_INT, KIND_OTHER, type Cursor } from './pk-spill.js';

const DIGIT_BITS = 16;
const DIGITS = 2 ** DIGIT_BITS;

export class SortedEntries {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly loc: Float64Array;
  private readonly kind: Uint8Array;
  private readonly payload: Uint32Array;
  private order: Uint32Array<ArrayBufferLike>;
  private n = 0;
  /** Entries by kind that are not tombstones. */
  readonly live = [0, 0];

  /** `keyOf`: an other key's canonical bytes from its payload (its arena ref). */
  constructor(capacity: number, private readonly keyOf: (payload: number) => Uint8Array) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.loc = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.payload = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity);
  }

  /** The entries of the index's two slot tables (integer keys, other keys whose bytes are in `arena`), sorted. */
  static of(ints: SlotTable, others: SlotTable, arena: KeyArena): SortedEntries {
    const s = new SortedEntries(ints.size + others.size, (payload) => arena.view(payload));
    ints.forEach((hi, lo, loc) => s.add(hi >>> 0, lo, KIND_INT, loc, 0));
    others.forEach((hi, lo, loc, payload) => s.add(hi >>> 0, lo, KIND_OTHER, loc, payload));
    s.sort();
    return s;
  }

  get size(): number {
    return this.n;
  }

  add(hi: number, lo: number, kind: number, loc: number, payload: number): void {
    const i = this.n++;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.kind[i] = kind;
    this.loc[i] = loc;
    this.payload[i] = payload;
    if (loc !== TOMBSTONE) this.live[kind] = (this.live[kind] as number) + 1;
  }

  sort(): void {
    const n = this.n;
    let order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    let other: Uint32Array<ArrayBufferLike> = new Uint32Array(n);
    const counts = new Uint32Array(DIGITS);
    for (let d = 0; d < 4; d++) {
      const words = d < 2 ? this.lo : this.hi;
      const shift = (d & 1) * DIGIT_BITS;
      counts.fill(0);
      for (let i = 0; i < n; i++) {
        const v = ((words[i] as number) >>> shift) & (DIGITS - 1);
        counts[v] = (counts[v] as number) + 1;
      }
      let sum = 0;
      for (let v = 0; v < DIGITS; v++) {
        const c = counts[v] as number;
        counts[v] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const e = order[i] as number;
        const v = ((words[e] as number) >>> shift) & (DIGITS - 1);
        const to = counts[v] as number;
        other[to] = e;
        counts[v] = to + 1;
      }
      const t = order;
      order = other;
      other = t;
    }
    // Four passes: `order` is back in the first array.
    for (let i = 0; i < n; ) {
      let j = i + 1;
      const e = order[i] as number;
      while (j < n && this.hi[order[j] as number] === this.hi[e] && this.lo[order[j] as number] === this.lo[e]) j++;
      if (j - i > 1) order.subarray(i, j).sort((a, b) => this.tie(a, b));
      i = j;
    }
    this.order = order;
  }

  /** The order of two entries of one hash: by kind, then key bytes, then length. */
  private tie(a: number, b: number): number {
    const ka = this.kind[a] as number;
    const kb = this.kind[b] as number;
    if (ka !== kb || ka === KIND_INT) return ka - kb;
    const x = this.keyOf(this.payload[a] as number);
    const y = this.keyOf(this.payload[b] as number);
    const m = Math.min(x.length, y.length);
    for (let i = 0; i < m; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return x.length - y.length;
  }

  /** A cursor over the sorted entries (valid while the key arena is unchanged). */
  cursor(): Cursor {
    return new SortedCursor(this.n, this.order, this.hi, this.lo, this.kind, this.loc, this.payload, this.keyOf);
  }
}

class SortedCursor implements Cursor {
  hi = 0;
  lo = 0;
  kind = 0;
  loc = 0;
  key: Uint8Array = new Uint8Array(0);
  keyAt = 0;
  keyLen = 0;
  private i = 0;

  constructor(
    private readonly n: number,
    private readonly order: Uint32Array<ArrayBufferLike>,
    private readonly his: Uint32Array,
    private readonly los: Uint32Array,
    private readonly kinds: Uint8Array,
    private readonly locs: Float64Array,
    private readonly payloads: Uint32Array,
    private readonly keyOf: (payload: number) => Uint8Array,
  ) {}

  next(): boolean {
    if (this.i >= this.n) return false;
    const e = this.order[this.i++] as number;
    this.hi = this.his[e] as number;
    this.lo = this.los[e] as number;
    this.kind = this.kinds[e] as number;
    this.loc = this.locs[e] as number;
    if (this.kind !== KIND_INT) {
      this.key = this.keyOf(this.payloads[e] as number);
      this.keyAt = 0;
      this.keyLen = this.key.length;
    } else {
      this.keyLen = 0;
    }
    return true;
  }
}
