/**
 * Where the primary-key index keeps its entries: a hash table of fixed-width slots of 32-bit words, built to stay
 * dense at every size (issue 15: the index of a 100 M-key table must fit in 1.6 GB).
 *
 * An entry is a 64-bit hash `(hi, lo)` (a bijective mix of an integer key, or a key's fingerprint), a
 * `LOCATION_BITS`-bit location and, for fingerprinted keys, a 32-bit payload (where the key's bytes are). The top
 * `SEGMENT_BITS` bits of `hi` choose one of `SEGMENTS` sub-tables and are not stored (the segment implies them),
 * which frees as many bits of the first word for the location. Slot words:
 *   0: location bits 32.. (top SEGMENT_BITS bits) | the other `HASH_BITS` bits of `hi`
 *   1: `lo`
 *   2: location bits 0..31
 *   3: payload (tables of 4-word slots only)
 *
 * Each segment is a bucketized cuckoo table: buckets of `BUCKET_SLOTS` slots, each entry in one of two buckets
 * (from hash bits of `lo` and of `hi`, by multiply-shift so any bucket count works), found by scanning at most two
 * buckets (misses included); a full pair of buckets makes room by a random walk that moves entries to their other
 * bucket. That holds a load of `LOAD_MAX` with short probes. A segment grows alone, by `GROWTH`, when it passes
 * `LOAD_MAX`: its capacity is `ceil(GROWTH^(level + segment / SEGMENTS))` buckets, so the segments' growths are
 * spread evenly over each growth step instead of happening together, and the table as a whole sits near the
 * average load over one step, `LOAD_MAX · ln(GROWTH) / (GROWTH − 1)`, at any size, rather than swinging between
 * `LOAD_MAX / GROWTH` and `LOAD_MAX`. A growth rehashes one segment from its stored hashes (no key is hashed
 * again) and allocates only that segment's new arrays.
 *
 * A bucket's count byte also holds an overflow bit (`OVERFLOWED`), set once an entry whose first bucket it is has
 * been placed in its second (F14's overflow counts, as a bit): a key whose first bucket has no overflow bit is in
 * that bucket or absent, so most lookups of an absent key, and so most inserts, read one bucket instead of two
 * (the second is a cache miss of its own in a large table). The bit is only cleared when a segment is rebuilt.
 *
 * Deletes move the bucket's last slot into the hole (no tombstones); a segment shrinks by `GROWTH` when its load
 * falls below `LOAD_MAX / GROWTH²`. Entries that cannot be placed at a low load (only when many entries share one
 * hash: a deliberately weak fingerprint in tests) go to a stash scanned after the buckets, so a table never grows
 * without bound.
 */
import { assert } from '../errors.js';

const SEGMENT_BITS = 6;
const SEGMENTS = 2 ** SEGMENT_BITS;
/** Bits of `hi` stored in a slot's first word (the rest is the segment). */
const HASH_BITS = 32 - SEGMENT_BITS;
const HASH_MASK = 2 ** HASH_BITS - 1;
/** Bits of a location: 32 in the third word, SEGMENT_BITS in the first. */
export const LOCATION_BITS = 32 + SEGMENT_BITS;
const BUCKET_SLOTS = 8;
/** A count byte: the bucket's entries in its low bits, `OVERFLOWED` in its top bit. */
const COUNT_MASK = 0x7f;
const OVERFLOWED = 0x80;
/** A segment grows once its live slots would pass this fraction of its slots. */
const LOAD_MAX = 0.95;
/** Capacity factor of one growth step (the segments' steps are staggered: see the module comment). */
const GROWTH = 1.35;
/** The load `reserve` sizes segments for: below LOAD_MAX, so inserts after it rarely walk. */
const RESERVE_LOAD = 0.88;
/** A segment shrinks by one step below this load (after shrinking it is at LOAD_MAX / GROWTH: no flapping). */
const SHRINK_BELOW = LOAD_MAX / (GROWTH * GROWTH);
/** A placement that fails at a load under this is a pile-up of equal hashes: the entry goes to the stash. */
const STASH_BELOW_LOAD = 0.5;
/** Entries moved by one random walk before the segment is declared full. */
const KICKS_MAX = 256;
/** Multiply-shift over HASH_BITS hash bits: bucket = floor(h · buckets / 2^HASH_BITS), exact in a double. */
const BUCKET_HASH_SCALE = 2 ** -HASH_BITS;
/** Refs are segment · REF_SEGMENT + slot; the stash is segment `SEGMENTS`. */
const REF_SEGMENT = 2 ** 28;
const SEGMENT_BUCKETS_MAX = REF_SEGMENT / BUCKET_SLOTS;
/** What V8 holds for a typed array beyond its elements (the JSTypedArray, its ArrayBuffer, the backing store's record), approximately. */
export const TYPED_ARRAY_OVERHEAD_BYTES = 200;

function bucketOf(h: number, buckets: number): number {
  return (h * buckets * BUCKET_HASH_SCALE) | 0;
}

/** Buckets of `segment` at growth `level` (≥ 1). */
function bucketsAt(segment: number, level: number): number {
  const n = Math.ceil(GROWTH ** (level + segment / SEGMENTS));
  assert(n <= SEGMENT_BUCKETS_MAX, 'a segment fits its refs', { segment, level, n });
  return n;
}

/** Segments `[from, to)`. */
export interface SegmentRange {
  readonly from: number;
  readonly to: number;
}

export const ALL_SEGMENTS: SegmentRange = Object.freeze({ from: 0, to: SEGMENTS });
export const SEGMENT_COUNT = SEGMENTS;
/** Bits of `orderKey`: a segment's first buckets in 2^10 windows (a 100 M-key table's window is ~20 KiB). */
export const ORDER_KEY_BITS = 16;

function segmentRangeHas(r: SegmentRange, seg: number): boolean {
  return seg >= r.from && seg < r.to;
}

export interface ExportedSegment {
  readonly seg: number;
  readonly words: Uint32Array;
  readonly counts: Uint8Array;
  readonly buckets: number;
  readonly level: number;
  readonly live: number;
}

/** Segments of a table as plain arrays (structured-cloneable, the arrays transferable). */
export interface ExportedSegments {
  readonly width: number;
  readonly segments: readonly ExportedSegment[];
  readonly stash: Uint32Array;
  readonly stashed: number;
}

export class SlotTable {
  private readonly words: Uint32Array[] = new Array<Uint32Array>(SEGMENTS).fill(new Uint32Array(0));
  private readonly counts: Uint8Array[] = new Array<Uint8Array>(SEGMENTS).fill(new Uint8Array(0));
  /** Per segment: buckets (0 until its first entry), growth level, entries in its buckets. */
  private readonly buckets = new Int32Array(SEGMENTS);
  private readonly levels = new Int32Array(SEGMENTS);
  private readonly live = new Int32Array(SEGMENTS);
  /** Entries of `width + 1` words: the first holds all of `hi`, the last the location's top bits. */
  private stash = new Uint32Array(0);
  private stashed = 0;
  private total = 0;
  /** The entry being placed (a random walk swaps it with the entries it evicts). */
  private readonly carry: Uint32Array;
  private rng = 0x2545f491;

  /**
   * `width`: 3 words a slot, or 4 with a payload. `same`: for hashes that are fingerprints, whether the slot at
   * `words[at]` holds the key being looked up (called only on a full hash match); null when the hash is the key.
   */
  constructor(
    private readonly width: 3 | 4,
    private readonly same: ((words: Uint32Array, at: number) => boolean) | null,
  ) {
    this.carry = new Uint32Array(width);
  }

  get size(): number {
    return this.total;
  }

  /** Bytes of every array the table holds. */
  get bytes(): number {
    let n = 3 * (this.buckets.byteLength + TYPED_ARRAY_OVERHEAD_BYTES) + this.stash.byteLength + 2 * TYPED_ARRAY_OVERHEAD_BYTES;
    for (let s = 0; s < SEGMENTS; s++) {
      if (this.buckets[s] === 0) continue;
      n += (this.words[s] as Uint32Array).byteLength + (this.counts[s] as Uint8Array).byteLength + 2 * TYPED_ARRAY_OVERHEAD_BYTES;
    }
    return n;
  }

  /** The ref of the entry with hash `(hi, lo)` (`lo` unsigned) that `same` accepts, or -1. */
  find(hi: number, lo: number): number {
    const seg = hi >>> HASH_BITS;
    const nb = this.buckets[seg] as number;
    if (nb !== 0) {
      const words = this.words[seg] as Uint32Array;
      const counts = this.counts[seg] as Uint8Array;
      const h = hi & HASH_MASK;
      const b1 = bucketOf(lo >>> SEGMENT_BITS, nb);
      let slot = this.scan(words, counts, b1, h, lo);
      if (slot >= 0) return seg * REF_SEGMENT + slot;
      const b2 = bucketOf(h, nb);
      if (b2 !== b1 && ((counts[b1] as number) & OVERFLOWED) !== 0) {
        slot = this.scan(words, counts, b2, h, lo);
        if (slot >= 0) return seg * REF_SEGMENT + slot;
      }
    }
    return this.stashed === 0 ? -1 : this.findStashed(hi, lo);
  }

  private scan(words: Uint32Array, counts: Uint8Array, bucket: number, h: number, lo: number): number {
    const w = this.width;
    const first = bucket * BUCKET_SLOTS;
    const n = (counts[bucket] as number) & COUNT_MASK;
    for (let k = 0, at = first * w; k < n; k++, at += w) {
      if (words[at + 1] === lo && ((words[at] as number) & HASH_MASK) === h && (this.same === null || this.same(words, at))) return first + k;
    }
    return -1;
  }

  private findStashed(hi: number, lo: number): number {
    const sw = this.width + 1;
    const whole = hi >>> 0;
    for (let i = 0; i < this.stashed; i++) {
      const at = i * sw;
      if (this.stash[at + 1] === lo && this.stash[at] === whole && (this.same === null || this.same(this.stash, at))) return SEGMENTS * REF_SEGMENT + i;
    }
    return -1;
  }

  /** The location of entry `ref`. */
  loc(ref: number): number {
    const seg = Math.floor(ref / REF_SEGMENT);
    const slot = ref - seg * REF_SEGMENT;
    if (seg === SEGMENTS) {
      const at = slot * (this.width + 1);
      return (this.stash[at + this.width] as number) * 2 ** 32 + (this.stash[at + 2] as number);
    }
    const words = this.words[seg] as Uint32Array;
    const at = slot * this.width;
    return ((words[at] as number) >>> HASH_BITS) * 2 ** 32 + (words[at + 2] as number);
  }

  payload(ref: number): number {
    assert(this.width === 4, 'only 4-word slots carry a payload');
    const seg = Math.floor(ref / REF_SEGMENT);
    const slot = ref - seg * REF_SEGMENT;
    return seg === SEGMENTS ? (this.stash[slot * 5 + 3] as number) : ((this.words[seg] as Uint32Array)[slot * 4 + 3] as number);
  }

  setLoc(ref: number, loc: number): void {
    const seg = Math.floor(ref / REF_SEGMENT);
    const slot = ref - seg * REF_SEGMENT;
    const high = Math.floor(loc / 2 ** 32);
    if (seg === SEGMENTS) {
      const at = slot * (this.width + 1);
      this.stash[at + this.width] = high;
      this.stash[at + 2] = loc >>> 0;
      return;
    }
    const words = this.words[seg] as Uint32Array;
    const at = slot * this.width;
    words[at] = ((high << HASH_BITS) | ((words[at] as number) & HASH_MASK)) >>> 0;
    words[at + 2] = loc >>> 0;
  }

  /**
   * Adds the entry with hash `(hi, lo)` unless the table holds it; true when added. For tables whose hash is the
   * key (no `same`): one pass over the two buckets both finds and places, where `find` then `insert` would scan
   * them twice (a bootstrap inserts hundreds of millions of keys this way).
   */
  insertIfAbsent(hi: number, lo: number, loc: number): boolean {
    assert(this.same === null && this.width === 3, 'insertIfAbsent is for tables whose hash is the key');
    const seg = hi >>> HASH_BITS;
    const nb = this.buckets[seg] as number;
    if (nb !== 0) {
      const words = this.words[seg] as Uint32Array;
      const counts = this.counts[seg] as Uint8Array;
      const h = hi & HASH_MASK;
      const b1 = bucketOf(lo >>> SEGMENT_BITS, nb);
      if (this.scan(words, counts, b1, h, lo) >= 0) return false;
      const c1 = counts[b1] as number;
      if ((c1 & OVERFLOWED) !== 0) {
        const b2 = bucketOf(h, nb);
        if (b2 !== b1 && this.scan(words, counts, b2, h, lo) >= 0) return false;
      }
      if (this.stashed !== 0 && this.findStashed(hi, lo) >= 0) return false;
      const n = c1 & COUNT_MASK;
      if (n < BUCKET_SLOTS && (this.live[seg] as number) + 1 <= LOAD_MAX * nb * BUCKET_SLOTS) {
        const at = (b1 * BUCKET_SLOTS + n) * 3;
        words[at] = ((Math.floor(loc / 2 ** 32) << HASH_BITS) | h) >>> 0;
        words[at + 1] = lo;
        words[at + 2] = loc >>> 0;
        counts[b1] = c1 + 1; // the count's bits only: n < BUCKET_SLOTS
        this.live[seg] = (this.live[seg] as number) + 1;
        this.total++;
        return true;
      }
    } else if (this.stashed !== 0 && this.findStashed(hi, lo) >= 0) {
      return false;
    }
    this.insert(hi, lo, loc, 0);
    return true;
  }

  /** Adds an entry whose hash is not in the table (the caller looked it up first). */
  insert(hi: number, lo: number, loc: number, payload: number): void {
    const seg = hi >>> HASH_BITS;
    const c = this.carry;
    c[0] = ((Math.floor(loc / 2 ** 32) << HASH_BITS) | (hi & HASH_MASK)) >>> 0;
    c[1] = lo;
    c[2] = loc >>> 0;
    if (this.width === 4) c[3] = payload;
    this.total++;
    const nb = this.buckets[seg] as number;
    if (nb === 0 || (this.live[seg] as number) + 1 > LOAD_MAX * nb * BUCKET_SLOTS) {
      const pending = Uint32Array.from(c);
      this.resize(seg, this.nextLevel(seg));
      c.set(pending);
    }
    this.live[seg] = (this.live[seg] as number) + 1;
    while (!this.place(seg)) {
      // `carry` now holds whichever entry the random walk left without a bucket.
      if (this.live[seg] < STASH_BELOW_LOAD * (this.buckets[seg] as number) * BUCKET_SLOTS) {
        this.toStash(seg);
        return;
      }
      const pending = Uint32Array.from(c);
      this.live[seg] = this.live[seg] - 1;
      this.resize(seg, this.nextLevel(seg));
      c.set(pending);
      this.live[seg] = this.live[seg] + 1;
    }
  }

  /**
   * Grows every segment to hold `entries` entries in all (spread evenly: segments are chosen by mixed or
   * fingerprint bits) below `RESERVE_LOAD`, so a bootstrap that knows its row count from the manifests inserts
   * without rehashing and without the long random walks of a nearly full segment. Never shrinks.
   */
  reserve(entries: number, segments: SegmentRange = ALL_SEGMENTS): void {
    const perSegment = entries / SEGMENTS;
    // Segment sizes vary by a few standard deviations (√perSegment) around the mean.
    const want = Math.ceil((perSegment + 4 * Math.sqrt(perSegment)) / (RESERVE_LOAD * BUCKET_SLOTS));
    for (let seg = segments.from; seg < segments.to; seg++) {
      if (want <= (this.buckets[seg] as number)) continue;
      // Exactly `want` buckets (a growth level would round up by as much as GROWTH); the level recorded is the
      // last one at or below it, so the next growth is the first level past it (`nextLevel`).
      let level = Math.max(1, this.levels[seg] as number);
      while (bucketsAt(seg, level + 1) <= want) level++;
      this.resize(seg, level, want);
    }
  }

  /**
   * The segments `range` as transferable arrays, for a table built apart (a bootstrap thread builds the segments
   * its keys fall in; the owner adopts them). The table keeps nothing of them after this.
   */
  exportSegments(range: SegmentRange): ExportedSegments {
    const segments: ExportedSegment[] = [];
    for (let seg = range.from; seg < range.to; seg++) {
      if (this.buckets[seg] === 0) continue;
      segments.push({ seg, words: this.words[seg] as Uint32Array, counts: this.counts[seg] as Uint8Array, buckets: this.buckets[seg] as number, level: this.levels[seg] as number, live: this.live[seg] as number });
    }
    const sw = this.width + 1;
    const stash = this.stash.slice(0, this.stashed * sw);
    for (let i = 0, at = 0; i < this.stashed; i++, at += sw) assert(segmentRangeHas(range, (stash[at] as number) >>> HASH_BITS), 'an exported stash entry is of the exported segments');
    return { width: this.width, segments, stash, stashed: this.stashed };
  }

  /** Takes over segments another table exported (`exportSegments`); they must be empty here. */
  adopt(part: ExportedSegments): void {
    assert(part.width === this.width, 'adopted segments have this table\'s slot width', { width: this.width, adopted: part.width });
    for (const x of part.segments) {
      assert(this.buckets[x.seg] === 0 && this.live[x.seg] === 0, 'an adopted segment is empty here', { seg: x.seg });
      assert(x.words.length === x.buckets * BUCKET_SLOTS * this.width && x.counts.length === x.buckets, 'an adopted segment is whole', { seg: x.seg });
      this.words[x.seg] = x.words;
      this.counts[x.seg] = x.counts;
      this.buckets[x.seg] = x.buckets;
      this.levels[x.seg] = x.level;
      this.live[x.seg] = x.live;
      this.total += x.live;
    }
    if (part.stashed === 0) return;
    const sw = this.width + 1;
    const stash = new Uint32Array((this.stashed + part.stashed) * sw);
    stash.set(this.stash.subarray(0, this.stashed * sw));
    stash.set(part.stash.subarray(0, part.stashed * sw), this.stashed * sw);
    this.stash = stash;
    this.stashed += part.stashed;
    this.total += part.stashed;
  }

  /** The segment of a stored hash (a table built in parts divides its keys by it). */
  static segmentOf(hi: number): number {
    return hi >>> HASH_BITS;
  }

  /**
   * A `ORDER_KEY_BITS`-bit key ascending with where hash `(hi, lo)`'s first bucket is in memory: its segment, then
   * the top bits of what chooses the bucket (`bucketOf` is monotone in `lo >>> SEGMENT_BITS`). Keys inserted in
   * this order sweep each segment once instead of landing anywhere (pk-insert-batch.ts).
   */
  static orderKey(hi: number, lo: number): number {
    return ((hi >>> HASH_BITS) << (ORDER_KEY_BITS - SEGMENT_BITS)) | (lo >>> (32 - ORDER_KEY_BITS + SEGMENT_BITS));
  }

  /** The first growth level past segment `seg`'s that adds buckets (small segments round up to the same count). */
  private nextLevel(seg: number): number {
    const nb = this.buckets[seg] as number;
    let level = (this.levels[seg] as number) + 1;
    while (bucketsAt(seg, level) <= nb) level++;
    return level;
  }

  /**
   * Places `carry` in segment `seg`: its first bucket, its second, else a random walk (evict a random entry of a
   * full bucket, move it to its other bucket, repeat). False after `KICKS_MAX` moves, with `carry` holding the
   * entry left over (every other entry is in a bucket).
   */
  private place(seg: number): boolean {
    const words = this.words[seg] as Uint32Array;
    const counts = this.counts[seg] as Uint8Array;
    const nb = this.buckets[seg] as number;
    const c = this.carry;
    const w = this.width;
    let b1 = bucketOf((c[1] as number) >>> SEGMENT_BITS, nb);
    if (((counts[b1] as number) & COUNT_MASK) < BUCKET_SLOTS) return this.put(words, counts, b1, b1);
    let b2 = bucketOf((c[0] as number) & HASH_MASK, nb);
    if (((counts[b2] as number) & COUNT_MASK) < BUCKET_SLOTS) return this.put(words, counts, b2, b1);
    for (let kick = 0; kick < KICKS_MAX; kick++) {
      let r = this.rng;
      r ^= r << 13;
      r ^= r >>> 17;
      r ^= r << 5;
      this.rng = r;
      const from = (r & 0x100) === 0 ? b1 : b2;
      const at = (from * BUCKET_SLOTS + (r & (BUCKET_SLOTS - 1))) * w;
      // The carry goes into `from`: when that is not its first bucket, its first bucket has overflowed.
      const first = bucketOf((c[1] as number) >>> SEGMENT_BITS, nb);
      if (first !== from) counts[first] = (counts[first] as number) | OVERFLOWED;
      for (let j = 0; j < w; j++) {
        const t = words[at + j] as number;
        words[at + j] = c[j] as number;
        c[j] = t;
      }
      const v1 = bucketOf((c[1] as number) >>> SEGMENT_BITS, nb);
      const alt = v1 === from ? bucketOf((c[0] as number) & HASH_MASK, nb) : v1;
      if (((counts[alt] as number) & COUNT_MASK) < BUCKET_SLOTS) return this.put(words, counts, alt, v1);
      b1 = alt;
      b2 = alt;
    }
    return false;
  }

  /** Puts `carry` in `bucket`, a bucket with room; `first` is the carry's first bucket. */
  private put(words: Uint32Array, counts: Uint8Array, bucket: number, first: number): true {
    const raw = counts[bucket] as number;
    const w = this.width;
    const at = (bucket * BUCKET_SLOTS + (raw & COUNT_MASK)) * w;
    // Element by element: a typed-array `set` of 3 or 4 words costs more than the copy.
    for (let j = 0; j < w; j++) words[at + j] = this.carry[j] as number;
    counts[bucket] = raw + 1;
    if (bucket !== first) counts[first] = (counts[first] as number) | OVERFLOWED;
    return true;
  }

  /** Moves `carry` (an entry of segment `seg`, not counted in its buckets any more) to the stash. */
  private toStash(seg: number): void {
    const c = this.carry;
    const sw = this.width + 1;
    if ((this.stashed + 1) * sw > this.stash.length) {
      const grown = new Uint32Array(Math.max(16 * sw, this.stash.length * 2));
      grown.set(this.stash);
      this.stash = grown;
    }
    const at = this.stashed * sw;
    this.stash[at] = ((seg << HASH_BITS) | ((c[0] as number) & HASH_MASK)) >>> 0;
    for (let j = 1; j < this.width; j++) this.stash[at + j] = c[j] as number;
    this.stash[at + this.width] = (c[0] as number) >>> HASH_BITS;
    this.stashed++;
    this.live[seg] = (this.live[seg] as number) - 1;
  }

  /** Removes entry `ref` (the bucket's last slot fills the hole); `shrink: false` while sweeping. */
  remove(ref: number, shrink = true): void {
    const seg = Math.floor(ref / REF_SEGMENT);
    const slot = ref - seg * REF_SEGMENT;
    this.total--;
    if (seg === SEGMENTS) {
      const sw = this.width + 1;
      this.stashed--;
      for (let j = 0; j < sw; j++) this.stash[slot * sw + j] = this.stash[this.stashed * sw + j] as number;
      return;
    }
    const words = this.words[seg] as Uint32Array;
    const counts = this.counts[seg] as Uint8Array;
    const w = this.width;
    const bucket = (slot / BUCKET_SLOTS) | 0;
    const raw = counts[bucket] as number;
    const last = bucket * BUCKET_SLOTS + (raw & COUNT_MASK) - 1;
    if (last !== slot) for (let j = 0; j < w; j++) words[slot * w + j] = words[last * w + j] as number;
    counts[bucket] = raw - 1; // the overflow bit stays: an entry of this bucket may still be in its second
    this.live[seg] = (this.live[seg] as number) - 1;
    if (shrink) this.shrinkIfSparse(seg);
  }

  private shrinkIfSparse(seg: number): void {
    const nb = this.buckets[seg] as number;
    let level = this.levels[seg] as number;
    if (level <= 1 || (this.live[seg] as number) >= SHRINK_BELOW * nb * BUCKET_SLOTS) return;
    while (level > 1 && bucketsAt(seg, level - 1) >= nb) level--;
    if (level > 1) this.resize(seg, level - 1);
  }

  /** Rebuilds segment `seg` with the capacity of `level`, placing its entries again from their stored words. */
  private resize(seg: number, level: number, nb = bucketsAt(seg, level)): void {
    assert(nb <= SEGMENT_BUCKETS_MAX, 'a segment fits its refs', { seg, nb });
    const oldWords = this.words[seg] as Uint32Array;
    const oldCounts = this.counts[seg] as Uint8Array;
    const oldBuckets = this.buckets[seg] as number;
    const words = new Uint32Array(nb * BUCKET_SLOTS * this.width);
    const counts = new Uint8Array(nb);
    this.words[seg] = words;
    this.counts[seg] = counts;
    this.buckets[seg] = nb;
    this.levels[seg] = level;
    const w = this.width;
    const c = this.carry;
    for (let b = 0; b < oldBuckets; b++) {
      const n = (oldCounts[b] as number) & COUNT_MASK;
      for (let k = 0, at = b * BUCKET_SLOTS * w; k < n; k++, at += w) {
        // Most entries fit their first bucket (the segment is at most LOAD_MAX / GROWTH full): copied straight.
        const b1 = bucketOf((oldWords[at + 1] as number) >>> SEGMENT_BITS, nb);
        const m = counts[b1] as number;
        if ((m & COUNT_MASK) < BUCKET_SLOTS) {
          const to = (b1 * BUCKET_SLOTS + (m & COUNT_MASK)) * w;
          for (let j = 0; j < w; j++) words[to + j] = oldWords[at + j] as number;
          counts[b1] = m + 1;
          continue;
        }
        for (let j = 0; j < w; j++) c[j] = oldWords[at + j] as number;
        if (!this.place(seg)) this.toStash(seg);
      }
    }
  }

  /**
   * Calls `fn` with every entry's hash (`hi` as a signed 32-bit value, `lo` unsigned), location and payload (0
   * without one). `fn` must not change the table.
   */
  forEach(fn: (hi: number, lo: number, loc: number, payload: number) => void): void {
    const w = this.width;
    for (let s = 0; s < SEGMENTS; s++) {
      const words = this.words[s] as Uint32Array;
      const counts = this.counts[s] as Uint8Array;
      for (let b = 0; b < (this.buckets[s] as number); b++) {
        const n = (counts[b] as number) & COUNT_MASK;
        for (let k = 0, at = b * BUCKET_SLOTS * w; k < n; k++, at += w) {
          const first = words[at] as number;
          fn((s << HASH_BITS) | (first & HASH_MASK), words[at + 1] as number, (first >>> HASH_BITS) * 2 ** 32 + (words[at + 2] as number), w === 4 ? (words[at + 3] as number) : 0);
        }
      }
    }
    const sw = w + 1;
    for (let i = 0, at = 0; i < this.stashed; i++, at += sw) {
      fn((this.stash[at] as number) | 0, this.stash[at + 1] as number, (this.stash[at + w] as number) * 2 ** 32 + (this.stash[at + 2] as number), w === 4 ? (this.stash[at + 3] as number) : 0);
    }
  }

  /** Removes every entry `drop` accepts (given its location and payload); returns how many. */
  removeWhere(drop: (loc: number, payload: number) => boolean): number {
    let removed = 0;
    const w = this.width;
    for (let s = 0; s < SEGMENTS; s++) {
      const words = this.words[s] as Uint32Array;
      const counts = this.counts[s] as Uint8Array;
      for (let b = 0; b < (this.buckets[s] as number); b++) {
        // Backwards: the slot that fills a hole is one already seen.
        for (let k = ((counts[b] as number) & COUNT_MASK) - 1; k >= 0; k--) {
          const at = (b * BUCKET_SLOTS + k) * w;
          const loc = ((words[at] as number) >>> HASH_BITS) * 2 ** 32 + (words[at + 2] as number);
          if (!drop(loc, w === 4 ? (words[at + 3] as number) : 0)) continue;
          this.remove(s * REF_SEGMENT + b * BUCKET_SLOTS + k, false);
          removed++;
        }
      }
      // A shrink may stash entries: the stash is swept last, and `drop` is asked again about those it kept.
      if (this.buckets[s] !== 0) this.shrinkIfSparse(s);
    }
    const sw = w + 1;
    for (let i = this.stashed - 1; i >= 0; i--) {
      const at = i * sw;
      if (!drop((this.stash[at + w] as number) * 2 ** 32 + (this.stash[at + 2] as number), w === 4 ? (this.stash[at + 3] as number) : 0)) continue;
      this.remove(SEGMENTS * REF_SEGMENT + i);
      removed++;
    }
    return removed;
  }

  /** Replaces every entry's payload by `fn(payload)` (the key bytes moved). */
  mapPayloads(fn: (payload: number) => number): void {
    assert(this.width === 4, 'only 4-word slots carry a payload');
    for (let s = 0; s < SEGMENTS; s++) {
      const words = this.words[s] as Uint32Array;
      const counts = this.counts[s] as Uint8Array;
      for (let b = 0; b < (this.buckets[s] as number); b++) {
        const n = (counts[b] as number) & COUNT_MASK;
        for (let k = 0, at = b * BUCKET_SLOTS * 4; k < n; k++, at += 4) words[at + 3] = fn(words[at + 3] as number);
      }
    }
    for (let i = 0, at = 3; i < this.stashed; i++, at += 5) this.stash[at] = fn(this.stash[at] as number);
  }
}
