// Proves TableBuffer collapses a window's changes by primary key (last state wins, deletes leave key-only slots), drops only a revoked partition's keys, truncates, hands the window over with take(), and keeps its byte estimate in step.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TableBuffer, estimateRowBytes, keyOf, type Slot } from '../../src/worker/table-buffer.js';

const plain = (slots: Slot[]): { key: unknown[]; row: unknown[] | null; partition: string }[] =>
  slots.map((s) => ({ key: [...s.key], row: s.row === null ? null : [...s.row], partition: s.partition }));

describe('keyOf', () => {
  it('uses a single scalar key as is and encodes composite keys without collisions', () => {
    assert.equal(keyOf([5n]), 5n);
    assert.equal(keyOf(['a']), 'a');
    assert.equal(keyOf([7]), 7);
    assert.equal(keyOf([1n, 2]), keyOf([1n, 2]));
    // an int part and the same value as a long are one key (a key column promoted int → long mid-stream)
    assert.equal(keyOf([1n, 2]), keyOf([1, 2n]));
    assert.notEqual(keyOf([1n, 2.5]), keyOf([1n, '2.5']));
    assert.notEqual(keyOf(['1', 2]), keyOf([1, 2]));
    assert.notEqual(keyOf(['a\u0001b', 'c']), keyOf(['a', 'b\u0001c']));
    assert.notEqual(keyOf([null, 1]), keyOf(['', 1]));
    assert.equal(keyOf([Uint8Array.from([1, 2])]), keyOf([Uint8Array.from([1, 2])]));
    assert.notEqual(keyOf([Uint8Array.from([1, 2])]), keyOf([Uint8Array.from([1, 3])]));
  });
});

describe('estimateRowBytes', () => {
  it('counts strings by length, bytes by length, other values flat', () => {
    assert.equal(estimateRowBytes(null), 32);
    assert.equal(estimateRowBytes([]), 48);
    assert.equal(estimateRowBytes([1n]), 48 + 8 + 16);
    assert.equal(estimateRowBytes(['abcd']), 48 + 8 + 16 + 8);
    assert.equal(estimateRowBytes([new Uint8Array(10)]), 48 + 8 + 64 + 10);
    assert.equal(estimateRowBytes([null, true]), 48 + 16 + 32);
  });
});

describe('TableBuffer', () => {
  it('insert → update → update keeps only the last row, once', () => {
    const b = new TableBuffer();
    b.upsert([1n], [1n, 'v1'], 'orders/0');
    b.upsert([1n], [1n, 'v2'], 'orders/0');
    b.upsert([1n], [1n, 'v3'], 'orders/0');
    assert.equal(b.size, 1);
    assert.equal(b.changes, 3);
    assert.deepEqual(plain(b.take().slots), [{ key: [1n], row: [1n, 'v3'], partition: 'orders/0' }]);
  });

  it('insert → delete leaves a key-only delete; delete → insert an upsert', () => {
    const b = new TableBuffer();
    b.upsert([1n], [1n, 'a'], 'orders/0');
    b.delete([1n], 'orders/0');
    b.delete([2n], 'orders/0');
    b.upsert([2n], [2n, 'back'], 'orders/0');
    const { slots, truncated } = b.take();
    assert.equal(truncated, false);
    assert.deepEqual(plain(slots), [
      { key: [1n], row: null, partition: 'orders/0' },
      { key: [2n], row: [2n, 'back'], partition: 'orders/0' },
    ]);
  });

  it('collapses composite keys by all their parts', () => {
    const b = new TableBuffer();
    b.upsert([7n, 1], [7n, 1, 'SKU-1', 1], 'items/0');
    b.upsert([7n, 2], [7n, 2, 'SKU-2', 1], 'items/0');
    b.upsert([8n, 1], [8n, 1, 'SKU-3', 1], 'items/0');
    b.upsert([7n, 1], [7n, 1, 'SKU-1', 5], 'items/0');
    b.delete([7n, 2], 'items/0');
    assert.equal(b.size, 3);
    assert.deepEqual(plain(b.take().slots), [
      { key: [7n, 1], row: [7n, 1, 'SKU-1', 5], partition: 'items/0' },
      { key: [7n, 2], row: null, partition: 'items/0' },
      { key: [8n, 1], row: [8n, 1, 'SKU-3', 1], partition: 'items/0' },
    ]);
  });

  it('a key that moves to another partition is tracked there', () => {
    const b = new TableBuffer();
    b.upsert([1n], [1n, 'a'], 'orders/0');
    b.upsert([1n], [1n, 'b'], 'orders/1');
    assert.equal(b.dropPartitions(new Set(['orders/0'])), 0);
    assert.deepEqual(plain(b.take().slots), [{ key: [1n], row: [1n, 'b'], partition: 'orders/1' }]);
  });

  it('dropPartitions drops only the keys of those partitions, and their bytes', () => {
    const b = new TableBuffer();
    b.upsert([1n], [1n, 'p0'], 'orders/0');
    const afterOne = b.bytes;
    b.upsert([2n], [2n, 'p1'], 'orders/1');
    b.delete([3n], 'orders/2');
    b.upsert([4n], [4n, 'p0 again'], 'orders/0');
    assert.equal(b.dropPartitions(new Set(['orders/0', 'orders/2'])), 3);
    assert.equal(b.size, 1);
    // what remains costs what one row of the same shape costs
    assert.equal(b.bytes, afterOne);
    assert.deepEqual(plain(b.take().slots), [{ key: [2n], row: [2n, 'p1'], partition: 'orders/1' }]);
    assert.equal(b.dropPartitions(new Set(['orders/9'])), 0);
  });

  it('truncate clears the window and marks it; later changes stay', () => {
    const b = new TableBuffer();
    b.upsert([1n], [1n, 'before'], 'orders/0');
    b.upsert([2n], [2n, 'before'], 'orders/0');
    assert.equal(b.isEmpty, false);
    b.truncate();
    assert.equal(b.size, 0);
    assert.equal(b.bytes, 0);
    assert.equal(b.isEmpty, false); // a truncate alone must still be committed
    b.upsert([3n], [3n, 'after'], 'orders/0');
    const { slots, truncated } = b.take();
    assert.equal(truncated, true);
    assert.deepEqual(plain(slots), [{ key: [3n], row: [3n, 'after'], partition: 'orders/0' }]);
  });

  it('take() hands over the window and resets everything', () => {
    const b = new TableBuffer();
    assert.equal(b.isEmpty, true);
    b.upsert([1n], [1n, 'x'], 'orders/0');
    b.truncate();
    b.upsert([2n], [2n, 'y'], 'orders/0');
    const first = b.take();
    assert.equal(first.slots.length, 1);
    assert.equal(first.truncated, true);
    assert.equal(b.size, 0);
    assert.equal(b.bytes, 0);
    assert.equal(b.changes, 0);
    assert.equal(b.truncated, false);
    assert.equal(b.isEmpty, true);
    assert.deepEqual(b.take(), { slots: [], truncated: false });
    // the handed-over slots are not touched by the next window
    b.upsert([2n], [2n, 'z'], 'orders/0');
    assert.deepEqual(plain(first.slots), [{ key: [2n], row: [2n, 'y'], partition: 'orders/0' }]);
  });

  it('the byte estimate grows with rows and shrinks when a row is replaced by a smaller one or a delete', () => {
    const b = new TableBuffer();
    const key = [1n];
    const small = [1n, 'ab'];
    const large = [1n, 'x'.repeat(1000)];
    b.upsert(key, small, 'orders/0');
    assert.equal(b.bytes, estimateRowBytes(small) + estimateRowBytes(key));
    b.upsert(key, large, 'orders/0');
    assert.equal(b.bytes, estimateRowBytes(large) + estimateRowBytes(key));
    assert.ok(b.bytes > 2000);
    b.upsert(key, small, 'orders/0');
    assert.equal(b.bytes, estimateRowBytes(small) + estimateRowBytes(key));
    b.delete(key, 'orders/0');
    assert.equal(b.bytes, estimateRowBytes(null) + estimateRowBytes(key));
    b.upsert([2n], large, 'orders/0');
    assert.equal(b.bytes, estimateRowBytes(null) + estimateRowBytes(large) + 2 * estimateRowBytes(key));
    b.dropPartitions(new Set(['orders/0']));
    assert.equal(b.bytes, 0);
  });
});
