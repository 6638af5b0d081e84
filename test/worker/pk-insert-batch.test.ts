// Proves an insert batch sorts its keys into ascending table-memory order (SlotTable.orderKey), keeping every key once with its row and equal order keys in row order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InsertBatch } from '../../src/worker/pk-insert-batch.js';
import { SlotTable } from '../../src/worker/pk-slots.js';

describe('InsertBatch', () => {
  it('sorts by order key, stably, as a permutation of what was pushed', () => {
    const batch = new InsertBatch(0);
    batch.reset(20_000);
    let x = 0x9e3779b9;
    const pushed = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      // Every fourth key repeats the previous one's order key (same segment and window), to see the stable order.
      const hi = i % 4 === 3 ? (batch.hi[i - 1] as number) : x | 0;
      const lo = i % 4 === 3 ? ((batch.lo[i - 1] as number) ^ 1) >>> 0 : (Math.imul(x, 0x85ebca6b) >>> 0);
      batch.push(hi, lo, i);
      pushed.set(`${hi}:${lo}:${i}`, i);
    }
    batch.sort();
    assert.equal(batch.size, 20_000);
    for (let j = 0; j < batch.size; j++) {
      const key = `${batch.hi[j]}:${batch.lo[j]}:${batch.pos[j]}`;
      assert.ok(pushed.delete(key), `entry ${key} pushed once`);
      if (j === 0) continue;
      const prev = SlotTable.orderKey(batch.hi[j - 1] as number, batch.lo[j - 1] as number);
      const cur = SlotTable.orderKey(batch.hi[j] as number, batch.lo[j] as number);
      assert.ok(prev <= cur, `order keys ascend at ${j}`);
      if (prev === cur) assert.ok((batch.pos[j - 1] as number) < (batch.pos[j] as number), `equal order keys keep row order at ${j}`);
    }
    assert.equal(pushed.size, 0);
  });

  it('refuses more keys than its capacity', () => {
    const batch = new InsertBatch(1);
    batch.push(1, 2, 0);
    assert.throws(() => batch.push(3, 4, 1), /capacity/);
  });
});
