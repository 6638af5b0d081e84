// Proves the key index's on-disk runs: entries written in run order read back exactly (by lookup and by streaming, keys longer than a block and colliding hashes included), merges keep each key's newest entry and drop tombstones only when asked, the in-memory sort orders like a run, and the merge policy keeps few runs and deletes its files.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/demo/debezium-generator.js';
import { TOMBSTONE } from '../../src/worker/pk-locations.js';
import { BLOCK_BYTES, KIND_INT, KIND_OTHER, RunWriter, compareEntries, mergeCursors, type Cursor, type Run } from '../../src/worker/pk-spill.js';
import { RUNS_MAX, SpillRuns } from '../../src/worker/pk-spill-runs.js';
import { SortedEntries } from '../../src/worker/pk-spill-sort.js';

interface Entry {
  hi: number;
  lo: number;
  kind: number;
  loc: number;
  key: Uint8Array;
}

const root = mkdtempSync(join(tmpdir(), 'floe-pk-spill-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
const path = () => join(root, `t-${made++}.run`);

function cursorOf(entries: readonly Entry[]): Cursor {
  let i = 0;
  const c: Cursor = {
    hi: 0, lo: 0, kind: 0, loc: 0, key: new Uint8Array(0), keyAt: 0, keyLen: 0,
    next: () => {
      const e = entries[i++];
      if (e === undefined) return false;
      Object.assign(c, { hi: e.hi, lo: e.lo, kind: e.kind, loc: e.loc, key: e.key, keyAt: 0, keyLen: e.key.length });
      return true;
    },
  };
  return c;
}

const read = (c: Cursor): Entry[] => {
  const out: Entry[] = [];
  while (c.next()) out.push({ hi: c.hi, lo: c.lo, kind: c.kind, loc: c.loc, key: Uint8Array.from(c.key.subarray(c.keyAt, c.keyAt + c.keyLen)) });
  return out;
};

function write(entries: readonly Entry[], filterBytesMax = Infinity): Run {
  const w = new RunWriter(path(), entries.length, filterBytesMax);
  for (const e of entries) w.add(e.hi, e.lo, e.kind, e.loc, e.key, 0, e.key.length);
  const run = w.finish();
  assert.ok(run !== null);
  return run;
}

const asCursor = (e: Entry): Cursor => ({ ...e, keyAt: 0, keyLen: e.key.length, next: () => false });

/** Random entries in run order: few distinct hashes (so ints and others and collisions share them), some long keys. */
function entries(r: Rng, n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.chance(0.4) ? KIND_INT : KIND_OTHER;
    const key = kind === KIND_INT ? new Uint8Array(0) : Uint8Array.from({ length: r.chance(0.01) ? BLOCK_BYTES * 2 + r.int(300) : r.int(40) }, () => r.int(256));
    out.push({ hi: r.chance(0.5) ? r.int(4) * 0x40000000 : r.int(2 ** 32), lo: r.int(64), kind, loc: r.chance(0.1) ? TOMBSTONE : r.int(2 ** 38 - 1), key });
  }
  out.sort((a, b) => compareEntries(asCursor(a), asCursor(b)));
  // One entry a key (ints: one a hash).
  return out.filter((e, i) => i === 0 || compareEntries(asCursor(out[i - 1] as Entry), asCursor(e)) !== 0);
}

describe('runs on disk', () => {
  it('read back exactly by lookup and by streaming, with and without a filter', () => {
    const r = new Rng(7);
    const all = entries(r, 20_000);
    for (const filter of [Infinity, 0]) {
      const run = write(all, filter);
      assert.equal(run.count, all.length);
      assert.equal(run.diskBytes, statSync(run.path).size);
      assert.equal(run.filterBytes > 0, filter > 0);
      assert.deepEqual(read(run.cursor()), all);
      for (const e of all) assert.equal(run.find(e.hi, e.lo, e.kind, e.key, e.key.length), e.loc);
      // Misses: a hash in no entry, the other kind of a present hash, other bytes of a present hash.
      for (const e of all.slice(0, 2000)) {
        assert.equal(run.find(e.hi, e.lo + 1000, e.kind, e.key, e.key.length), -1);
        if (e.kind === KIND_OTHER) assert.equal(run.find(e.hi, e.lo, e.kind, Uint8Array.of(...e.key, 1), e.key.length + 1), -1);
      }
      run.delete();
      assert.ok(!existsSync(run.path));
    }
  });

  it('merge: the newest entry of a key wins; tombstones and refused entries dropped when asked', () => {
    const k = (hi: number, loc: number, key = ''): Entry => ({ hi, lo: 0, kind: key === '' ? KIND_INT : KIND_OTHER, loc, key: Buffer.from(key) });
    const newer = [k(1, 10), k(2, TOMBSTONE), k(5, 50, 'a')];
    const older = [k(1, 1), k(2, 2), k(3, 3), k(5, 5, 'a'), k(5, 6, 'b')];
    const merge = (dropTombstones: boolean, drop: ((c: Cursor) => boolean) | null = null) => {
      const out: number[] = [];
      mergeCursors([cursorOf(newer), cursorOf(older)], (c) => out.push(c.loc), dropTombstones, drop);
      return out;
    };
    assert.deepEqual(merge(false), [10, TOMBSTONE, 3, 50, 6]);
    assert.deepEqual(merge(true), [10, 3, 50, 6]);
    assert.deepEqual(merge(true, (c) => c.loc === 50), [10, 3, 6]);
  });

  it('the in-memory sort orders entries as a run does', () => {
    const r = new Rng(11);
    const all = entries(r, 5_000);
    const keys = all.map((e) => e.key);
    const sorted = new SortedEntries(all.length, (p) => keys[p] as Uint8Array);
    const shuffled = all.map((e, i) => ({ e, i })).sort(() => r.next() - 0.5);
    for (const { e, i } of shuffled) sorted.add(e.hi, e.lo, e.kind, e.loc, i);
    sorted.sort();
    assert.deepEqual(read(sorted.cursor()), all);
    assert.deepEqual(sorted.live, [all.filter((e) => e.kind === KIND_INT && e.loc !== TOMBSTONE).length, all.filter((e) => e.kind === KIND_OTHER && e.loc !== TOMBSTONE).length]);
  });

  it('the merge policy keeps at most RUNS_MAX runs, log2 of the spills when they are alike, the newest entry of every key, and deletes its files', () => {
    const dir = join(root, 'policy');
    const runs = new SpillRuns(dir, () => 1 << 20);
    const truth = new Map<number, number>();
    for (let spill = 1; spill <= 300; spill++) {
      // 64 keys a spill, half of them seen before: shadowed entries and tombstones to drop.
      const batch = new Map<number, number>();
      for (let j = 0; j < 64; j++) batch.set((spill * 37 + j * 1013) % 5000, j % 7 === 0 ? TOMBSTONE : spill * 100 + j);
      const list = [...batch].map(([hi, loc]) => ({ hi, lo: 0, kind: KIND_INT, loc, key: new Uint8Array(0) })).sort((a, b) => a.hi - b.hi);
      runs.add(cursorOf(list), list.length);
      for (const [hi, loc] of batch) truth.set(hi, loc);
      assert.ok(runs.count <= Math.min(RUNS_MAX, Math.floor(Math.log2(spill)) + 1), `${runs.count} runs after ${spill} spills`);
      assert.equal(readdirSync(dir).length, runs.count);
    }
    for (const [hi, loc] of truth) {
      const found = runs.find(hi, 0, KIND_INT, new Uint8Array(0), 0);
      // A deleted key: its tombstone, or nothing once a merge reached the oldest run.
      assert.ok(loc === TOMBSTONE ? found === TOMBSTONE || found === -1 : found === loc, `key ${hi}: ${found}, ${loc} expected`);
    }
    const live: number[] = [];
    runs.forEachLive(cursorOf([]), (c) => live.push(c.hi));
    assert.deepEqual(live, [...truth].filter(([, loc]) => loc !== TOMBSTONE).map(([hi]) => hi).sort((a, b) => a - b));
    runs.clear();
    assert.equal(readdirSync(dir).length, 0);
  });
});
