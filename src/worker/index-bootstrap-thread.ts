/**
 * One thread of a parallel index bootstrap (index-bootstrap.ts has the protocol). The table's key slots are cut
 * into segments by the top bits of each key's mix (pk-slots.ts); this thread builds the segments of its range
 * and no other, so no two threads ever write the same memory and no lock is needed. Every file's key column
 * comes to every thread as one shared buffer of words (decoded once, by the owner); each thread inserts the keys
 * that fall in its segments, sorted in the table's memory order first (pk-insert-batch.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FloeError } from '../errors.js';
import { mixInt64, mixed } from './pk-key-bytes.js';
import { locationIn, pageOf } from './pk-locations.js';
import { InsertBatch } from './pk-insert-batch.js';
import { SlotTable, type SegmentRange } from './pk-slots.js';
import type { BootstrapInit, FileTask, ToOwner, ToThread } from './index-bootstrap-wire.js';

/** Words an entry takes in the duplicate list: mixed hi, mixed lo, loc high, loc low. */
const ENTRY_WORDS = 4;
const ENTRIES_START = 1 << 14;

/** A growable list of (mixed hi, mixed lo, location) entries. */
class Entries {
  words = new Uint32Array(ENTRIES_START * ENTRY_WORDS);
  n = 0;

  push(hi: number, lo: number, loc: number): void {
    if ((this.n + 1) * ENTRY_WORDS > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    const at = this.n * ENTRY_WORDS;
    this.words[at] = hi;
    this.words[at + 1] = lo;
    this.words[at + 2] = Math.floor(loc / 2 ** 32);
    this.words[at + 3] = loc >>> 0;
    this.n++;
  }

  /** The entries so far, as a buffer of their own (to transfer). */
  take(): Uint32Array {
    const out = this.words.slice(0, this.n * ENTRY_WORDS);
    this.n = 0;
    return out;
  }
}

class BootstrapThread {
  private readonly table = new SlotTable(3, null);
  private readonly range: SegmentRange;
  private readonly dups = new Entries();
  /** The keys of the file at hand that fall in this thread's segments (reused from file to file). */
  private readonly batch = new InsertBatch(0);
  private pageRows = new Uint32Array(1024);

  constructor(init: BootstrapInit) {
    this.range = init.ranges[init.self] as SegmentRange;
    this.table.reserve(init.reserveKeys, this.range);
  }

  private insert(hi: number, lo: number, loc: number): void {
    if (!this.table.insertIfAbsent(hi, lo, loc)) {
      this.dups.push(hi, lo, loc);
      return;
    }
    const page = pageOf(loc);
    if (page >= this.pageRows.length) {
      const grown = new Uint32Array(Math.max(page + 1, this.pageRows.length * 2));
      grown.set(this.pageRows);
      this.pageRows = grown;
    }
    this.pageRows[page] = (this.pageRows[page] as number) + 1;
  }

  file(task: FileTask): ToOwner {
    const w = task.words;
    const deleted = task.deleted;
    const from = this.range.from;
    const to = this.range.to;
    const batch = this.batch;
    batch.reset(task.rows);
    let d = 0;
    let nextDeleted = deleted.length > 0 ? (deleted[0] as number) : -1;
    for (let i = 0; i < task.rows; i++) {
      if (i === nextDeleted) {
        d++;
        nextDeleted = d < deleted.length ? (deleted[d] as number) : -1;
        continue;
      }
      if (task.int32) {
        const v = w[i] as number;
        mixInt64(v < 0 ? -1 : 0, v >>> 0);
      } else {
        mixInt64(w[2 * i + 1] as number, (w[2 * i] as number) >>> 0);
      }
      const seg = SlotTable.segmentOf(mixed.hi);
      if (seg >= from && seg < to) batch.push(mixed.hi, mixed.lo, i);
    }
    // In the table's memory order (pk-insert-batch.ts).
    batch.sort();
    for (let j = 0; j < batch.size; j++) this.insert(batch.hi[j] as number, batch.lo[j] as number, locationIn(task.pages, batch.pos[j] as number));
    return { t: 'fileDone', id: task.id, rows: batch.size };
  }

  /** The thread's segments, duplicates and rows per page, transferred to the owner. */
  done(): { message: ToOwner; transfer: ArrayBuffer[] } {
    const part = this.table.exportSegments(this.range);
    const dups = this.dups.take();
    const pageRows = this.pageRows;
    return {
      message: { t: 'done', part, dups, pageRows },
      transfer: [...part.segments.flatMap((s) => [s.words.buffer as ArrayBuffer, s.counts.buffer as ArrayBuffer]), part.stash.buffer as ArrayBuffer, dups.buffer as ArrayBuffer, pageRows.buffer],
    };
  }
}

function failure(e: unknown): ToOwner {
  return { t: 'failed', code: e instanceof FloeError ? e.code : null, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

if (parentPort !== null && (workerData as { floeIndexBootstrap?: BootstrapInit } | null)?.floeIndexBootstrap !== undefined) {
  const thread = new BootstrapThread((workerData as { floeIndexBootstrap: BootstrapInit }).floeIndexBootstrap);
  const port = parentPort;
  port.on('message', (m: ToThread) => {
    try {
      if (m.t === 'file') {
        port.postMessage(thread.file(m));
      } else {
        const d = thread.done();
        port.postMessage(d.message, d.transfer);
      }
    } catch (e) {
      port.postMessage(failure(e));
    }
  });
}
