/**
 * The runs of one spilled primary-key index (pk-spill.ts): where they live, how a lookup walks them (newest to
 * oldest: the newest entry of a key is its truth) and when they merge.
 *
 * Merge policy (size-tiered, as a binary counter): after a new run is added, the newest runs are merged into one
 * while the run before them holds no more entries than they do together; so each run holds more entries than
 * every newer run together, sizes at least double from newest to oldest and there are at most log2(N / S) + 1
 * runs (N entries on disk, S the smallest spill). An entry is rewritten only when the run it is in merges with at
 * least as many entries, so the run it lands in is at least twice as large: at most log2(N / S) rewrites per entry
 * (amortized O(log(N / S)) disk writes per spilled entry). Above `RUNS_MAX` runs (N > 2^(RUNS_MAX − 1) · S: only
 * when the budget is tiny for the table) the next older run joins the merge too, which keeps lookups at most
 * `RUNS_MAX` filter checks but lets that run's entries be rewritten more often than the bound above. A merge that
 * reaches the oldest run drops tombstones (nothing older is left to mask); every merge drops shadowed entries.
 * A merge streams (each input reads `STREAM_BYTES` at a time, one entry of each is compared): bounded memory.
 *
 * Filters: a run gets its bloom filter while the filters together stay under `FILTER_SHARE` of the memory budget;
 * beyond, a run has none and a miss reads one block of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexEntries } from './pk-index-format.js';
import { mixed, unmixInt64 } from './pk-key-bytes.js';
import type { FileLocations } from './pk-locations.js';
import { KIND_INT, KIND_OTHER, RunWriter, ioFailure, mergeCursors, type Cursor, type Run } from './pk-spill.js';
import type { SortedEntries } from './pk-spill-sort.js';

/** Runs beyond which the next older run joins a merge (module comment). */
export const RUNS_MAX = 8;
/** The part of the memory budget the runs' filters may take. */
const FILTER_SHARE = 0.5;
/** Random bytes naming an index's run files (dir/<hex>-<n>.run). */
const NAME_RANDOM_BYTES = 6;

export class SpillRuns {
  /** Oldest first. */
  private runs: Run[] = [];
  private readonly prefix = randomBytes(NAME_RANDOM_BYTES).toString('hex');
  private made = 0;
  private dirReady = false;

  constructor(private readonly dir: string, private readonly memoryBytesMax: () => number) {}

  get count(): number {
    return this.runs.length;
  }

  get diskBytes(): number {
    let n = 0;
    for (const r of this.runs) n += r.diskBytes;
    return n;
  }

  get memoryBytes(): number {
    let n = 0;
    for (const r of this.runs) n += r.memoryBytes;
    return n;
  }

  /** Entries on disk, tombstones and shadowed ones included. */
  get entries(): number {
    let n = 0;
    for (const r of this.runs) n += r.count;
    return n;
  }

  /** The newest location of a key in the runs (TOMBSTONE: deleted), or -1; see `Run.find`. */
  find(hi: number, lo: number, kind: number, key: Uint8Array, keyLen: number): number {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const loc = (this.runs[i] as Run).find(hi, lo, kind, key, keyLen);
      if (loc >= 0) return loc;
    }
    return -1;
  }

  private writer(expected: number, replaced: readonly Run[]): RunWriter {
    if (!this.dirReady) {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch (e) {
        throw ioFailure(e, 'creating the directory', this.dir);
      }
      this.dirReady = true;
    }
    let filters = 0;
    for (const r of this.runs) if (!replaced.includes(r)) filters += r.filterBytes;
    const path = join(this.dir, `${this.prefix}-${this.made++}.run`);
    return new RunWriter(path, expected, FILTER_SHARE * this.memoryBytesMax() - filters);
  }

  /** Adds the sorted in-memory entries (`expected` of them) as the newest run, then merges by the policy. */
  add(source: Cursor, expected: number): void {
    const w = this.writer(expected, []);
    while (source.next()) w.add(source.hi, source.lo, source.kind, source.loc, source.key, source.keyAt, source.keyLen);
    const run = w.finish();
    if (run === null) return;
    this.runs.push(run);
    let first = this.runs.length - 1;
    let tail = run.count;
    while (first > 0) {
      const before = (this.runs[first - 1] as Run).count;
      if (before > tail && first < RUNS_MAX) break;
      tail += before;
      first--;
    }
    if (first < this.runs.length - 1) this.mergeFrom(first, null, null);
  }

  /**
   * Replaces runs `first..` (and `newest`, sorted entries newer than every run, when given) by their merge, without
   * the entries `drop` refuses. Returns the live entries written by kind.
   */
  private mergeFrom(first: number, newest: { cursor: Cursor; size: number } | null, drop: ((c: Cursor) => boolean) | null): number[] {
    const merged = this.runs.slice(first);
    let expected = newest?.size ?? 0;
    for (const r of merged) expected += r.count;
    const w = this.writer(expected, merged);
    const sources = merged.map((r) => r.cursor()).reverse();
    if (newest !== null) sources.unshift(newest.cursor);
    try {
      mergeCursors(sources, (c) => w.add(c.hi, c.lo, c.kind, c.loc, c.key, c.keyAt, c.keyLen), first === 0, drop);
    } catch (e) {
      w.abort();
      throw e;
    }
    const run = w.finish();
    this.runs.length = first;
    if (run !== null) this.runs.push(run);
    for (const r of merged) r.delete();
    return w.live;
  }

  /**
   * Merges `newest` (sorted in-memory entries) and every run into one run without the entries `drop` refuses
   * (called on live entries only: tombstones go, nothing is older). Returns the live entries kept: [ints, others].
   */
  rewriteAll(newest: SortedEntries, drop: (c: Cursor) => boolean): number[] {
    return this.mergeFrom(0, { cursor: newest.cursor(), size: newest.size }, drop);
  }

  /** Calls `fn` with every live key's newest entry, `newest` (sorted in-memory entries) first in precedence. */
  forEachLive(newest: Cursor, fn: (c: Cursor) => void): void {
    const sources = this.runs.map((r) => r.cursor()).reverse();
    sources.unshift(newest);
    mergeCursors(sources, fn, true);
  }

  /**
   * The live entries of a spilled index for the saved format (pk-index-format.ts): `memory` and the runs merged,
   * one streaming pass a call (the encoder makes three). `ints`, `others`: the live keys of each kind.
   */
  liveEntries(memory: SortedEntries, locs: FileLocations, ints: number, others: number): IndexEntries {
    return {
      files: locs.fileTable(),
      intCount: ints,
      forEachInt: (put) => this.forEachLive(memory.cursor(), (c) => {
        if (c.kind !== KIND_INT) return;
        unmixInt64(c.hi, c.lo);
        put(mixed.hi, mixed.lo, locs.fileIdOf(c.loc), locs.posOf(c.loc));
      }),
      otherCount: others,
      forEachOther: (put) => this.forEachLive(memory.cursor(), (c) => {
        if (c.kind === KIND_OTHER) put(c.key.subarray(c.keyAt, c.keyAt + c.keyLen), locs.fileIdOf(c.loc), locs.posOf(c.loc));
      }),
    };
  }

  /** Deletes every run file. */
  clear(): void {
    const runs = this.runs;
    this.runs = [];
    // Every file is tried; the first failure is reported.
    let failure: Error | null = null;
    for (const r of runs) {
      try {
        r.delete();
      } catch (e) {
        failure ??= e as Error;
      }
    }
    if (failure !== null) throw failure;
  }
}
