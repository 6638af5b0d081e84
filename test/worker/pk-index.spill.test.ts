// Proves a PkIndex with a spill directory keeps its memory part near the budget while it grows (also through the bootstrap's bulk integer insert, which spills mid-file and then checks the runs per key), reports its runs and disk bytes, loads a saved index larger than the budget spilled, deletes its files on close, and reports a spill directory it cannot write as a FloeError.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FloeError } from '../../src/errors.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile } from '../../src/worker/pk-index.js';

const root = mkdtempSync(join(tmpdir(), 'floe-pk-index-spill-'));
after(() => rmSync(root, { recursive: true, force: true }));
const file: IndexedFile = { path: 's3://b/t/data/a.parquet', specId: 0, partition: [] };
const BUDGET_BYTES = 512 * 1024;
const KEYS = 200_000;

describe('a spilled PkIndex', () => {
  it('keeps its memory part near the budget, spills, and deletes its files on close', () => {
    const dir = join(root, 'grow');
    const index = new PkIndex(Number.MAX_SAFE_INTEGER, { spill: { dir, memoryBytesMax: () => BUDGET_BYTES } });
    let peak = 0;
    for (let i = 0; i < KEYS; i++) {
      index.set([BigInt(i) * 7919n], file, i);
      if (i % 1000 === 0) peak = Math.max(peak, index.bytes);
    }
    assert.equal(index.size, KEYS);
    assert.equal(index.rowsIn(file.path), KEYS);
    assert.ok(index.spilled && index.runs >= 1, `${index.runs} runs`);
    // A budget check every 1024 new entries: the memory part passes the budget by at most their slots.
    assert.ok(peak < BUDGET_BYTES * 1.25, `peak ${peak} bytes`);
    assert.ok(index.diskBytes >= 13 * (KEYS - 50_000), `${index.diskBytes} bytes on disk`);
    assert.equal(readdirSync(dir).length, index.runs);
    assert.deepEqual(index.get([7919n * 12345n]), { file, pos: 12345 });
    index.close();
    assert.equal(readdirSync(dir).length, 0);
    assert.equal(index.size, 0);
  });

  it('bulk-inserts a bootstrap\'s integer keys across a spill: every key where a set() would put it, duplicates returned, deleted rows skipped', () => {
    const dir = join(root, 'bulk');
    const index = new PkIndex(Number.MAX_SAFE_INTEGER, { spill: { dir, memoryBytesMax: () => 256 * 1024 } });
    const model = new Map<bigint, [string, number]>();
    const files = [0, 1, 2, 3].map((n): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: 0, partition: [] }));
    const rows = 60_000;
    for (const [n, f] of files.entries()) {
      // Each file repeats a quarter of the previous file's keys (duplicates: returned), and deletes every 7th row.
      const keys = Array.from({ length: rows }, (_, i) => BigInt(n * rows * 3 / 4 + i) * 1_000_003n - 5_000_000n);
      const halves = new Int32Array(new BigInt64Array(keys).buffer);
      const deleted = Array.from({ length: Math.ceil(rows / 7) }, (_, j) => j * 7);
      const dups = index.insertIntsIfAbsent(halves, rows, false, f, deleted);
      const expectDups: number[] = [];
      keys.forEach((k, i) => {
        if (i % 7 === 0) return;
        if (model.has(k)) expectDups.push(i);
        else model.set(k, [f.path, i]);
      });
      assert.deepEqual(dups, expectDups, `file ${n}: duplicate rows`);
    }
    assert.ok(index.spilled, 'the bootstrap spilled');
    assert.equal(index.size, model.size);
    for (const [k, [path, pos]] of model) {
      const at = index.get([k]);
      assert.equal(`${at?.file.path}#${at?.pos}`, `${path}#${pos}`, `key ${k}`);
    }
    for (const f of files) assert.equal(index.rowsIn(f.path), [...model.values()].filter(([p]) => p === f.path).length, f.path);
    index.close();
  });

  it('loads a saved index larger than its budget spilled, and in memory without one', () => {
    const whole = new PkIndex();
    for (let i = 0; i < KEYS; i++) whole.set([`key-${i}`], file, i);
    const bytes = indexToBytes(whole, { tableUuid: 'u', snapshotId: '1', keyIds: [1] });
    const dir = join(root, 'load');
    const { index } = indexFromBytes(bytes, undefined, { spill: { dir, memoryBytesMax: () => BUDGET_BYTES } });
    assert.ok(index.spilled);
    assert.ok(index.bytes < whole.bytes / 4, `${index.bytes} bytes in memory, ${whole.bytes} unspilled`);
    assert.equal(index.size, KEYS);
    for (let i = 0; i < KEYS; i += 997) assert.deepEqual(index.get([`key-${i}`]), { file, pos: i });
    assert.equal(index.get(['key-x']), undefined);
    const again = indexFromBytes(indexToBytes(index, { tableUuid: 'u', snapshotId: '2', keyIds: [1] })).index;
    assert.ok(!again.spilled);
    assert.equal(again.size, KEYS);
    index.close();
    assert.equal(readdirSync(dir).length, 0);
  });

  it('never resurrects an entry of a released file whose id and pages another file reuses', () => {
    const dir = join(root, 'reuse');
    const index = new PkIndex(Number.MAX_SAFE_INTEGER, { spill: { dir, memoryBytesMax: () => 1 } });
    const a: IndexedFile = { path: 's3://b/t/data/old.parquet', specId: 0, partition: [] };
    const b: IndexedFile = { path: 's3://b/t/data/b.parquet', specId: 0, partition: [] };
    const c: IndexedFile = { path: 's3://b/t/data/new.parquet', specId: 0, partition: [] };
    const N = 4096;
    for (let i = 0; i < N; i++) index.set([i], a, i);
    assert.ok(index.spilled);
    // Every key moves to b (memory shadows the disk entries in a), a is released, c takes its id and pages.
    for (let i = 0; i < N; i++) index.set([i], b, i);
    assert.equal(index.rowsIn(a.path), 0);
    index.releaseFile(a.path);
    for (let i = 0; i < N; i += 2) assert.ok(index.delete([i]));
    index.set([N + 1], c, 0);
    assert.equal(index.size, N / 2 + 1);
    for (let i = 0; i < N; i++) assert.deepEqual(index.get([i]), i % 2 === 0 ? undefined : { file: b, pos: i }, `key ${i}`);
    assert.equal(index.rowsIn(c.path), 1);
    assert.equal(index.deleteRowsOf(b.path), N / 2);
    assert.equal(index.size, 1);
    for (let i = 0; i < N; i++) assert.equal(index.get([i]), undefined, `key ${i}`);
    index.close();
  });

  it('reports a spill directory it cannot create as a FloeError', () => {
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, '');
    const index = new PkIndex(Number.MAX_SAFE_INTEGER, { spill: { dir: join(blocker, 'runs'), memoryBytesMax: () => 1 } });
    assert.throws(() => {
      for (let i = 0; i < 10_000; i++) index.set([i], file, i);
    }, (e: unknown) => e instanceof FloeError && e.code.startsWith('io_'));
  });
});
