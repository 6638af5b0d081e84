/**
 * The primary-key index's runs on local disk (issue 15: a table that outgrows its memory budget spills to the
 * pod's volume instead of falling back to equality deletes, which readers handle badly).
 *
 * A run is an immutable file of the entries the index held in memory when it spilled (or of a merge of runs),
 * sorted by (hash, kind, key bytes), where the hash is the 64-bit value the slot tables store (the mixed int64 of
 * an integer key, the fingerprint of any other: pk-key-bytes.ts) and the key bytes are compared as unsigned bytes,
 * then by length. An entry, little-endian:
 *   u32 hash hi | u32 hash lo | u32 location bits 0..31 | u8 location bits 32..37 | other << 7
 *   other keys only: varint(n) | n canonical key bytes
 * 13 bytes an integer key. A location of TOMBSTONE (pk-locations.ts) is a deleted key masking older runs. Entries
 * are packed in blocks of about `BLOCK_BYTES`; an entry never straddles two blocks (a longer one gets a block of its
 * own). The file has no header or footer: a run lives as long as its index (the saved index is the durable form,
 * pk-index-format.ts), so its block fences (each block's first hash and offset) and its filter stay in memory.
 *
 * A lookup checks the run's filter (a bloom filter over the hash, `FILTER_BITS_PER_KEY` bits a key: about 1% false
 * positives), then reads the one block whose fence range holds the hash (two when equal hashes straddle a block
 * boundary) with a positional synchronous read: the index lives in a worker thread and its API is synchronous.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { FloeError, assert } from '../errors.js';
import { TOMBSTONE } from './pk-locations.js';
import { TYPED_ARRAY_OVERHEAD_BYTES } from './pk-slots.js';

export const KIND_INT = 0;
export const KIND_OTHER = 1;
/** Bytes of an entry before its key bytes. */
const ENTRY_BYTES = 13;
/**
 * Target bytes of a block: what one lookup reads and scans. 1 KiB: 1.8-2.2× the lookups per second of 4 KiB blocks
 * (native-bench/index.bench.ts, 1 M and 5 M long keys), for fences of 16 bytes a block (1.6% of the disk bytes).
 */
export const BLOCK_BYTES = 1024;
/** Bytes one streaming read (a merge, a save) takes at a time. */
const STREAM_BYTES = 256 * 1024;
/** Bytes buffered before a run's writer writes them. */
const WRITE_BUFFER_BYTES = 256 * 1024;
const FILTER_BITS_PER_KEY = 10;
const FILTER_PROBES = 7;
/** The bytes of one run's JS objects (the run, its fences' arrays, its filter), approximately. */
const RUN_OVERHEAD_BYTES = 512;

/** One entry at a time, in run order: the fields are the current entry's after `next()` returned true. */
export interface Cursor {
  hi: number;
  lo: number;
  kind: number;
  loc: number;
  /** An other key's bytes: `key[keyAt, keyAt + keyLen)`, valid until the next `next()`. */
  key: Uint8Array;
  keyAt: number;
  keyLen: number;
  next(): boolean;
}

const NO_KEY = new Uint8Array(0);

function compareBytes(a: Uint8Array, aAt: number, aLen: number, b: Uint8Array, bAt: number, bLen: number): number {
  const n = Math.min(aLen, bLen);
  for (let i = 0; i < n; i++) {
    const d = (a[aAt + i] as number) - (b[bAt + i] as number);
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/** The run order of two entries (0: the same key). */
export function compareEntries(a: Cursor, b: Cursor): number {
  if (a.hi !== b.hi) return a.hi < b.hi ? -1 : 1;
  if (a.lo !== b.lo) return a.lo < b.lo ? -1 : 1;
  if (a.kind !== b.kind) return a.kind - b.kind;
  return a.kind === KIND_INT ? 0 : compareBytes(a.key, a.keyAt, a.keyLen, b.key, b.keyAt, b.keyLen);
}

/** A local-disk failure as a FloeError (the spill directory full, gone or not writable). */
export function ioFailure(e: unknown, what: string, path: string): FloeError {
  const code = (e as { code?: unknown }).code;
  const kind = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'io_access_denied' : code === 'ENOENT' ? 'io_not_found' : 'io_failed';
  return new FloeError(kind, `primary-key index spill: ${what} ${path}: ${(e as Error).message}`, { path, code }, e);
}

/** A bloom filter over 64-bit hashes (double hashing: probe i at lo + i · hi). */
class HashFilter {
  private readonly bits: Uint32Array;
  private readonly m: number;

  constructor(keys: number) {
    this.bits = new Uint32Array(Math.max(2, Math.ceil((keys * FILTER_BITS_PER_KEY) / 32)));
    this.m = this.bits.length * 32;
  }

  static bytesFor(keys: number): number {
    return Math.max(2, Math.ceil((keys * FILTER_BITS_PER_KEY) / 32)) * 4 + TYPED_ARRAY_OVERHEAD_BYTES;
  }

  get bytes(): number {
    return this.bits.byteLength + TYPED_ARRAY_OVERHEAD_BYTES;
  }

  add(hi: number, lo: number): void {
    const step = hi | 1;
    for (let i = 0; i < FILTER_PROBES; i++) {
      const bit = ((lo + Math.imul(i, step)) >>> 0) % this.m;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  has(hi: number, lo: number): boolean {
    const step = hi | 1;
    for (let i = 0; i < FILTER_PROBES; i++) {
      const bit = ((lo + Math.imul(i, step)) >>> 0) % this.m;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Reads the entry at `buf[at]` into `c`; returns the offset after it. */
function parseEntry(buf: Buffer, at: number, c: Cursor): number {
  c.hi = buf.readUInt32LE(at);
  c.lo = buf.readUInt32LE(at + 4);
  const top = buf[at + 12] as number;
  c.loc = (top & 0x3f) * 2 ** 32 + buf.readUInt32LE(at + 8);
  c.kind = top >>> 7;
  at += ENTRY_BYTES;
  if (c.kind === KIND_INT) {
    c.keyLen = 0;
    return at;
  }
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = buf[at++] as number;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  c.key = buf;
  c.keyAt = at;
  c.keyLen = len;
  return at + len;
}

/** The scratch a lookup reads a block into (the index is synchronous: one lookup at a time per thread). */
let scratch = Buffer.allocUnsafe(BLOCK_BYTES);
/** The entry a lookup reads. */
const probe: Cursor = { hi: 0, lo: 0, kind: 0, loc: 0, key: NO_KEY, keyAt: 0, keyLen: 0, next: () => false };

function readAt(fd: number, path: string, buf: Buffer, length: number, position: number): void {
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, position + done);
      assert(n > 0, 'a run file holds the bytes its fences name', { path, position, length });
      done += n;
    }
  } catch (e) {
    if (e instanceof FloeError) throw e;
    throw ioFailure(e, 'reading', path);
  }
}

/** An immutable sorted run on disk, its fences and its filter in memory. */
export class Run {
  constructor(
    readonly path: string,
    private fd: number,
    /** Entries, tombstones included. */
    readonly count: number,
    private readonly fenceHi: Uint32Array,
    private readonly fenceLo: Uint32Array,
    /** Offsets of the blocks, and the file's length last. */
    private readonly fenceAt: Float64Array,
    private readonly filter: HashFilter | null,
  ) {}

  get diskBytes(): number {
    return this.fenceAt[this.fenceAt.length - 1] as number;
  }

  get memoryBytes(): number {
    return this.fenceHi.byteLength + this.fenceLo.byteLength + this.fenceAt.byteLength + 3 * TYPED_ARRAY_OVERHEAD_BYTES + (this.filter?.bytes ?? 0) + RUN_OVERHEAD_BYTES;
  }

  get filterBytes(): number {
    return this.filter?.bytes ?? 0;
  }

  /** Whether block `b`'s first hash is after (hi, lo). */
  private fenceAfter(b: number, hi: number, lo: number): boolean {
    const fh = this.fenceHi[b] as number;
    return fh > hi || (fh === hi && (this.fenceLo[b] as number) > lo);
  }

  /**
   * The location of the key (hash `(hi, lo)` unsigned, `kind`, an other key's bytes `key[0, keyLen)`) in this run:
   * TOMBSTONE when the run deletes it, -1 when the run does not hold it.
   */
  find(hi: number, lo: number, kind: number, key: Uint8Array, keyLen: number): number {
    if (this.filter !== null && !this.filter.has(hi, lo)) return -1;
    const blocks = this.fenceHi.length;
    // The first block whose first hash is not below the hash; the key may end the block before it.
    let a = 0;
    let z = blocks;
    while (a < z) {
      const mid = (a + z) >>> 1;
      const fh = this.fenceHi[mid] as number;
      if (fh < hi || (fh === hi && (this.fenceLo[mid] as number) < lo)) a = mid + 1;
      else z = mid;
    }
    for (let b = Math.max(0, a - 1); b < blocks; b++) {
      if (b >= a && this.fenceAfter(b, hi, lo)) return -1;
      const start = this.fenceAt[b] as number;
      const length = (this.fenceAt[b + 1] as number) - start;
      if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
      readAt(this.fd, this.path, scratch, length, start);
      for (let at = 0; at < length; ) {
        at = parseEntry(scratch, at, probe);
        if (probe.hi !== hi || probe.lo !== lo) {
          if (probe.hi > hi || (probe.hi === hi && probe.lo > lo)) return -1;
          continue;
        }
        if (probe.kind !== kind) {
          if (probe.kind > kind) return -1;
          continue;
        }
        if (kind === KIND_INT) return probe.loc;
        const order = compareBytes(scratch, probe.keyAt, probe.keyLen, key, 0, keyLen);
        if (order === 0) return probe.loc;
        if (order > 0) return -1;
      }
    }
    return -1;
  }

  /** A cursor over every entry, in order, reading `STREAM_BYTES` at a time. */
  cursor(): Cursor {
    return new RunCursor(this.fd, this.path, this.fenceAt);
  }

  /** Closes and deletes the file. */
  delete(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      closeSync(fd);
      unlinkSync(this.path);
    } catch (e) {
      throw ioFailure(e, 'deleting', this.path);
    }
  }
}

class RunCursor implements Cursor {
  hi = 0;
  lo = 0;
  kind = 0;
  loc = 0;
  key: Uint8Array = NO_KEY;
  keyAt = 0;
  keyLen = 0;
  private buf: Buffer;
  /** The next block to read, the offset of the next entry in `buf` and the end of the bytes read there. */
  private block = 0;
  private at = 0;
  private end = 0;

  constructor(private readonly fd: number, private readonly path: string, private readonly fenceAt: Float64Array) {
    this.buf = Buffer.allocUnsafe(Math.min(STREAM_BYTES, fenceAt[fenceAt.length - 1] as number));
  }

  next(): boolean {
    if (this.at >= this.end) {
      const blocks = this.fenceAt.length - 1;
      if (this.block >= blocks) return false;
      const start = this.fenceAt[this.block] as number;
      let last = this.block + 1;
      while (last < blocks && (this.fenceAt[last + 1] as number) - start <= STREAM_BYTES) last++;
      this.end = (this.fenceAt[last] as number) - start;
      if (this.buf.length < this.end) this.buf = Buffer.allocUnsafe(this.end);
      readAt(this.fd, this.path, this.buf, this.end, start);
      this.block = last;
      this.at = 0;
    }
    this.at = parseEntry(this.buf, this.at, this);
    return true;
  }
}

/** Writes a run: entries in run order, then `finish`. */
export class RunWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private used = 0;
  private written = 0;
  private blockUsed = 0;
  private readonly fenceHi: number[] = [];
  private readonly fenceLo: number[] = [];
  private readonly fenceAt: number[] = [];
  private readonly filter: HashFilter | null;
  count = 0;
  /** Entries written by kind, tombstones apart. */
  readonly live = [0, 0];

  /** `expected`: at most this many entries (sizes the filter); `filterBytesMax`: no filter when it needs more. */
  constructor(readonly path: string, expected: number, filterBytesMax: number) {
    this.filter = HashFilter.bytesFor(expected) <= filterBytesMax ? new HashFilter(expected) : null;
    try {
      this.fd = openSync(path, 'wx+');
    } catch (e) {
      throw ioFailure(e, 'creating', path);
    }
  }

  add(hi: number, lo: number, kind: number, loc: number, key: Uint8Array, keyAt: number, keyLen: number): void {
    let lenBytes = 0;
    if (kind !== KIND_INT) for (let x = keyLen, more = true; more; x = Math.floor(x / 0x80)) {
      lenBytes++;
      more = x >= 0x80;
    }
    const size = ENTRY_BYTES + lenBytes + (kind === KIND_INT ? 0 : keyLen);
    if (this.count === 0 || this.blockUsed + size > BLOCK_BYTES) {
      this.fenceHi.push(hi);
      this.fenceLo.push(lo);
      this.fenceAt.push(this.written + this.used);
      this.blockUsed = 0;
    }
    if (this.used + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
    }
    const b = this.buf;
    let at = this.used;
    b.writeUInt32LE(hi >>> 0, at);
    b.writeUInt32LE(lo >>> 0, at + 4);
    b.writeUInt32LE(loc >>> 0, at + 8);
    b[at + 12] = Math.floor(loc / 2 ** 32) | (kind << 7);
    at += ENTRY_BYTES;
    if (kind !== KIND_INT) {
      let x = keyLen;
      while (x >= 0x80) {
        b[at++] = (x & 0x7f) | 0x80;
        x = Math.floor(x / 0x80);
      }
      b[at++] = x;
      for (let i = 0; i < keyLen; i++) b[at + i] = key[keyAt + i] as number;
    }
    this.used += size;
    this.blockUsed += size;
    this.filter?.add(hi, lo);
    this.count++;
    if (loc !== TOMBSTONE) this.live[kind] = (this.live[kind] as number) + 1;
  }

  private flush(): void {
    try {
      for (let done = 0; done < this.used; ) done += writeSync(this.fd, this.buf, done, this.used - done, this.written + done);
    } catch (e) {
      this.abort();
      throw ioFailure(e, 'writing', this.path);
    }
    this.written += this.used;
    this.used = 0;
  }

  /** The run written, or null (and no file) when it holds no entry. */
  finish(): Run | null {
    this.flush();
    if (this.count === 0) {
      this.abort();
      return null;
    }
    const at = new Float64Array(this.fenceAt.length + 1);
    at.set(this.fenceAt);
    at[this.fenceAt.length] = this.written;
    return new Run(this.path, this.fd, this.count, Uint32Array.from(this.fenceHi), Uint32Array.from(this.fenceLo), at, this.filter);
  }

  /** Gives up the run: closes and deletes its file. */
  abort(): void {
    try {
      closeSync(this.fd);
      unlinkSync(this.path);
    } catch (e) {
      throw ioFailure(e, 'deleting', this.path);
    }
  }
}

/**
 * Merges sorted cursors given newest first: calls `emit` with the newest entry of each key (older ones are
 * shadowed), except tombstones when `dropTombstones` (the merge reaches the oldest run) and entries `drop` refuses.
 */
export function mergeCursors(sources: readonly Cursor[], emit: (c: Cursor) => void, dropTombstones: boolean, drop: ((c: Cursor) => boolean) | null = null): void {
  const active = sources.filter((s) => s.next());
  while (active.length > 0) {
    // The smallest entry; among equal ones the newest (strict comparison keeps the first found).
    let min = active[0] as Cursor;
    for (let i = 1; i < active.length; i++) if (compareEntries(active[i] as Cursor, min) < 0) min = active[i] as Cursor;
    if (!(dropTombstones && min.loc === TOMBSTONE) && (drop === null || !drop(min))) emit(min);
    for (let i = active.length - 1; i >= 0; i--) {
      const s = active[i] as Cursor;
      if (s !== min && compareEntries(s, min) === 0 && !s.next()) active.splice(i, 1);
    }
    if (!min.next()) active.splice(active.indexOf(min), 1);
  }
}
