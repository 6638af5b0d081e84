/**
 * The bytes of the primary-key index's non-integer keys: an append-only arena of entries `varint(n) | n bytes`,
 * referenced from the index's slots by a 32-bit ref, compared byte for byte when a fingerprint matches.
 *
 * Chunked: the arena grows by adding chunks (doubling from `CHUNK_START_BYTES` up to `CHUNK_BYTES_MAX`), never by
 * copying what it holds, so a 2 GB arena does not need 4 GB while it grows. A ref is `chunk · 2^22 + offset`;
 * an entry longer than a chunk gets a chunk of its own. At most `CHUNKS_MAX` chunks (about 4 GiB): beyond, the
 * index is full (FloeError 'index_full': the table falls back to equality deletes).
 *
 * Deleted keys leave garbage; the index compacts (copies the live entries into a fresh arena) once the garbage is
 * both over `COMPACT_GARBAGE_MIN_BYTES` and at least the live bytes, so compaction costs at most one copy of each
 * byte deleted.
 */
import { FloeError } from '../errors.js';
import { TYPED_ARRAY_OVERHEAD_BYTES } from './pk-slots.js';

const OFFSET_BITS = 22;
const CHUNK_BYTES_MAX = 2 ** OFFSET_BITS;
const CHUNK_START_BYTES = 4096;
const CHUNKS_MAX = 2 ** (32 - OFFSET_BITS);
/** No compaction below this much garbage: a small arena's garbage costs less than its copy. */
export const COMPACT_GARBAGE_MIN_BYTES = 1 << 20;

export class KeyArena {
  private chunks: Uint8Array[] = [];
  /** Write offset in the last chunk. */
  private tail = 0;
  /** Entry bytes written (live and garbage). */
  private used = 0;
  private garbageBytes = 0;

  /** Bytes held: every chunk's whole length. */
  get bytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.byteLength + TYPED_ARRAY_OVERHEAD_BYTES;
    return n;
  }

  /** Whether the garbage is worth a compaction (module comment). */
  get wantsCompaction(): boolean {
    return this.garbageBytes >= COMPACT_GARBAGE_MIN_BYTES && this.garbageBytes >= this.used - this.garbageBytes;
  }

  get garbage(): number {
    return this.garbageBytes;
  }

  /** Appends the entry for `src[0, n)`; returns its ref. */
  append(src: Uint8Array, n: number): number {
    const size = varintLength(n) + n;
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.tail + size > chunk.length) {
      if (this.chunks.length >= CHUNKS_MAX) throw new FloeError('index_full', `primary-key index: its key bytes passed ${CHUNKS_MAX} chunks of ${CHUNK_BYTES_MAX} bytes`);
      const last = chunk?.length ?? CHUNK_START_BYTES / 2;
      chunk = new Uint8Array(Math.max(size, Math.min(CHUNK_BYTES_MAX, last * 2)));
      this.chunks.push(chunk);
      this.tail = 0;
    }
    const ref = (this.chunks.length - 1) * CHUNK_BYTES_MAX + this.tail;
    let at = this.tail;
    let x = n;
    while (x >= 0x80) {
      chunk[at++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    chunk[at++] = x;
    // By hand: a key is tens of bytes, and `subarray` + `set` would allocate a view per key.
    for (let i = 0; i < n; i++) chunk[at + i] = src[i] as number;
    this.tail = at + n;
    this.used += size;
    return ref;
  }

  /** Whether entry `ref` holds exactly `src[0, n)`. */
  equals(ref: number, src: Uint8Array, n: number): boolean {
    const chunk = this.chunks[ref >>> OFFSET_BITS] as Uint8Array;
    let at = ref & (CHUNK_BYTES_MAX - 1);
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = chunk[at++] as number;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (len !== n) return false;
    for (let i = 0; i < n; i++) if (chunk[at + i] !== src[i]) return false;
    return true;
  }

  /** The key bytes of entry `ref` (a view into the arena: valid until the next compaction or clear). */
  view(ref: number): Uint8Array {
    const chunk = this.chunks[ref >>> OFFSET_BITS] as Uint8Array;
    let at = ref & (CHUNK_BYTES_MAX - 1);
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = chunk[at++] as number;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    return chunk.subarray(at, at + len);
  }

  /** Entry `ref` is no longer referenced (its key left the index). */
  release(ref: number): void {
    const n = this.view(ref).length;
    this.garbageBytes += varintLength(n) + n;
  }

  clear(): void {
    this.chunks = [];
    this.tail = 0;
    this.used = 0;
    this.garbageBytes = 0;
  }
}

function varintLength(n: number): number {
  let len = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 0x80)) len++;
  return len;
}
