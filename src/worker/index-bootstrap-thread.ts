/**
 * One thread of a parallel index bootstrap (index-bootstrap.ts has the protocol). The table's key slots are cut
 * into segments by the top bits of each key's mix (pk-slots.ts); this thread builds the segments of its range
 * and no other, so no two threads ever write the same memory and no lock is needed. It decodes the key columns
 * of the files the owner sends it, inserts the keys of its own segments, and sends every other key to the thread
 * whose segments it falls in.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { FloeError, assert } from '../errors.js';
import { readKeyWords } from './key-columns.js';
import { mixInt64, mixed } from './pk-key-bytes.js';
import { locationIn, pageOf } from './pk-locations.js';
import { SEGMENT_COUNT, SlotTable, type SegmentRange } from './pk-slots.js';
import type { BootstrapInit, FileTask, KeysBatch, ToOwner, ToThread } from './index-bootstrap-wire.js';

/** Words a key takes in a batch to another thread and in the duplicate list: mixed hi, mixed lo, loc high, loc low. */
const ENTRY_WORDS = 4;
const BATCH_ENTRIES_START = 1 << 14;

class Outbox {
  words = new Uint32Array(BATCH_ENTRIES_START * ENTRY_WORDS);
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

  /** The entries so far, as a buffer of their own (to transfer), and an empty outbox. */
  take(): Uint32Array {
    const out = this.words.slice(0, this.n * ENTRY_WORDS);
    this.n = 0;
    return out;
  }
}

class BootstrapThread {
  private readonly table = new SlotTable(3, null);
  private readonly range: SegmentRange;
  /** Thread that owns each segment. */
  private readonly ownerOf: Int32Array;
  private readonly outboxes: Outbox[];
  private readonly dups = new Outbox();
  private pageRows = new Uint32Array(1024);
  private readonly sentTo: number[];
  private received = 0;
  private expected = -1;
  private inserted = 0;

  constructor(
    private readonly init: BootstrapInit,
    private readonly peers: readonly (MessagePort | null)[],
  ) {
    this.range = init.ranges[init.self] as SegmentRange;
    this.ownerOf = new Int32Array(SEGMENT_COUNT).fill(-1);
    init.ranges.forEach((r, k) => {
      for (let s = r.from; s < r.to; s++) this.ownerOf[s] = k;
    });
    this.outboxes = init.ranges.map(() => new Outbox());
    this.sentTo = init.ranges.map(() => 0);
    this.table.reserve(init.reserveKeys, this.range);
  }

  private insert(hi: number, lo: number, loc: number): void {
    if (!this.table.insertIfAbsent(hi, lo, loc)) {
      this.dups.push(hi, lo, loc);
      return;
    }
    this.inserted++;
    const page = pageOf(loc);
    if (page >= this.pageRows.length) {
      const grown = new Uint32Array(Math.max(page + 1, this.pageRows.length * 2));
      grown.set(this.pageRows);
      this.pageRows = grown;
    }
    this.pageRows[page] = (this.pageRows[page] as number) + 1;
  }

  async file(task: FileTask): Promise<ToOwner> {
    const t0 = performance.now();
    const read = await readKeyWords(task.bytes, this.init.keyFieldId);
    if (typeof read === 'string') return { t: 'refused', id: task.id, reason: read };
    if (read.int32 !== this.init.int32 || read.rows !== task.rows) return { t: 'refused', id: task.id, reason: read.int32 !== this.init.int32 ? 'not_an_integer' : 'row_count' };
    const w = read.words;
    const deleted = task.deleted;
    let d = 0;
    let nextDeleted = deleted.length > 0 ? (deleted[0] as number) : -1;
    let live = 0;
    for (let i = 0; i < read.rows; i++) {
      if (i === nextDeleted) {
        d++;
        nextDeleted = d < deleted.length ? (deleted[d] as number) : -1;
        continue;
      }
      if (read.int32) {
        const v = w[i] as number;
        mixInt64(v < 0 ? -1 : 0, v >>> 0);
      } else {
        mixInt64(w[2 * i + 1] as number, (w[2 * i] as number) >>> 0);
      }
      live++;
      const loc = locationIn(task.pages, i);
      const owner = this.ownerOf[SlotTable.segmentOf(mixed.hi)] as number;
      if (owner === this.init.self) this.insert(mixed.hi, mixed.lo, loc);
      else (this.outboxes[owner] as Outbox).push(mixed.hi, mixed.lo, loc);
    }
    this.flush();
    return { t: 'fileDone', id: task.id, rows: live, ms: performance.now() - t0 };
  }

  /** Sends each other thread the keys that fall in its segments. */
  private flush(): void {
    this.outboxes.forEach((box, k) => {
      if (box.n === 0) return;
      const entries = box.take();
      const batch: KeysBatch = { t: 'keys', entries };
      (this.peers[k] as MessagePort).postMessage(batch, [entries.buffer as ArrayBuffer]);
      this.sentTo[k] = (this.sentTo[k] as number) + 1;
    });
  }

  keys(entries: Uint32Array): void {
    for (let at = 0; at < entries.length; at += ENTRY_WORDS) {
      this.insert(entries[at] as number, entries[at + 1] as number, (entries[at + 2] as number) * 2 ** 32 + (entries[at + 3] as number));
    }
    this.received++;
    this.maybeDone();
  }

  sent(): ToOwner {
    return { t: 'sent', counts: [...this.sentTo] };
  }

  finish(expect: number): void {
    this.expected = expect;
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.expected < 0 || this.received < this.expected) return;
    assert(this.received === this.expected, 'a bootstrap thread receives exactly the batches sent to it', { received: this.received, expected: this.expected });
    this.expected = -1;
    const part = this.table.exportSegments(this.range);
    const dups = this.dups.take();
    const pageRows = this.pageRows;
    const done: ToOwner = { t: 'done', part, dups, pageRows, inserted: this.inserted };
    parentPort?.postMessage(done, [...part.segments.flatMap((s) => [s.words.buffer as ArrayBuffer, s.counts.buffer as ArrayBuffer]), part.stash.buffer as ArrayBuffer, dups.buffer as ArrayBuffer, pageRows.buffer]);
  }
}

function failure(e: unknown): ToOwner {
  return { t: 'failed', code: e instanceof FloeError ? e.code : null, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

if (parentPort !== null && (workerData as { floeIndexBootstrap?: BootstrapInit } | null)?.floeIndexBootstrap !== undefined) {
  const data = workerData as { floeIndexBootstrap: BootstrapInit; peers: (MessagePort | null)[] };
  const thread = new BootstrapThread(data.floeIndexBootstrap, data.peers);
  const port = parentPort;
  // Files one after another (the owner keeps a few queued here): the decode of one file and the inserts of
  // another's keys interleave only at message boundaries, so the segments are only ever touched by this loop.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m: ToThread) => {
    chain = chain.then(async () => {
      if (m.t === 'file') port.postMessage(await thread.file(m));
      else if (m.t === 'drain') port.postMessage(thread.sent());
      else thread.finish(m.expect);
    }).catch((e: unknown) => {
      port.postMessage(failure(e));
    });
  });
  for (const p of data.peers) {
    p?.on('message', (m: KeysBatch) => {
      chain = chain.then(() => thread.keys(m.entries)).catch((e: unknown) => {
        port.postMessage(failure(e));
      });
    });
  }
}
