/**
 * A batch of integer keys (mixed hashes, pk-key-bytes.ts) put in the order that inserts them into the slot table
 * fastest. Keys that arrive in table order (a data file's rows) land on random buckets: at 20 M keys each insert
 * waits ~200 ns on memory. Sorted by `SlotTable.orderKey` (the segment, then the window of buckets the key's first
 * bucket is in), a batch sweeps the table's memory in address order, its inserts hitting cache and TLB entries
 * its neighbours just loaded: 230 -> 140 ns a key at 20 M keys, sort included (native-bench/index.bench.ts).
 *
 * The sort is an LSD radix sort of two 8-bit digits: each pass writes to 256 streams, which stay in cache where
 * one pass of 2^16 buckets would not. Stable, so among keys with one order key the earlier row goes in first.
 */
import { assert } from '../errors.js';
import { ORDER_KEY_BITS, SlotTable } from './pk-slots.js';

const DIGIT_BITS = ORDER_KEY_BITS / 2;
const DIGITS = 2 ** DIGIT_BITS;
const DIGIT_MASK = DIGITS - 1;

export class InsertBatch {
  hi: Int32Array;
  lo: Uint32Array;
  /** The key's row (its position in the data file). */
  pos: Uint32Array;
  private hi2: Int32Array;
  private lo2: Uint32Array;
  private pos2: Uint32Array;
  private readonly low = new Uint32Array(DIGITS);
  private readonly high = new Uint32Array(DIGITS);
  size = 0;

  constructor(capacity: number) {
    this.hi = new Int32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.pos = new Uint32Array(capacity);
    this.hi2 = new Int32Array(capacity);
    this.lo2 = new Uint32Array(capacity);
    this.pos2 = new Uint32Array(capacity);
  }

  /** Empties the batch, making room for `capacity` keys. */
  reset(capacity: number): void {
    this.size = 0;
    if (capacity <= this.hi.length) return;
    const grown = new InsertBatch(capacity);
    this.hi = grown.hi;
    this.lo = grown.lo;
    this.pos = grown.pos;
    this.hi2 = grown.hi2;
    this.lo2 = grown.lo2;
    this.pos2 = grown.pos2;
  }

  push(hi: number, lo: number, pos: number): void {
    const n = this.size;
    // Checked before the details object is made: this runs once per key.
    if (n >= this.hi.length) assert(false, 'an insert batch holds at most its capacity', { capacity: this.hi.length });
    this.hi[n] = hi;
    this.lo[n] = lo;
    this.pos[n] = pos;
    this.size = n + 1;
  }

  /** Sorts the keys by `SlotTable.orderKey`, stably. */
  sort(): void {
    const n = this.size;
    const low = this.low.fill(0);
    const high = this.high.fill(0);
    for (let i = 0; i < n; i++) {
      const key = SlotTable.orderKey(this.hi[i] as number, this.lo[i] as number);
      low[key & DIGIT_MASK] = (low[key & DIGIT_MASK] as number) + 1;
      high[key >>> DIGIT_BITS] = (high[key >>> DIGIT_BITS] as number) + 1;
    }
    let a = 0;
    let b = 0;
    for (let d = 0; d < DIGITS; d++) {
      const x = low[d] as number;
      low[d] = a;
      a += x;
      const y = high[d] as number;
      high[d] = b;
      b += y;
    }
    this.pass(this.hi, this.lo, this.pos, this.hi2, this.lo2, this.pos2, low, 0);
    this.pass(this.hi2, this.lo2, this.pos2, this.hi, this.lo, this.pos, high, DIGIT_BITS);
  }

  private pass(hi: Int32Array, lo: Uint32Array, pos: Uint32Array, toHi: Int32Array, toLo: Uint32Array, toPos: Uint32Array, next: Uint32Array, shift: number): void {
    for (let i = 0; i < this.size; i++) {
      const h = hi[i] as number;
      const l = lo[i] as number;
      const d = (SlotTable.orderKey(h, l) >>> shift) & DIGIT_MASK;
      const to = next[d] as number;
      next[d] = to + 1;
      toHi[to] = h;
      toLo[to] = l;
      toPos[to] = pos[i] as number;
    }
  }
}
