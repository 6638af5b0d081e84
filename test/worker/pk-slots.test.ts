// Proves the index's slot table keeps every entry exactly: random 64-bit hashes with 38-bit locations and payloads found, moved and removed through many staggered segment growths and shrinks, entries sharing one hash told apart by the caller (into the stash when they pile up), sweeps by location, payload remapping, and a whole-table load near LOAD_MAX · ln(GROWTH) / (GROWTH − 1) at every size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/demo/debezium-generator.js';
import { LOCATION_BITS, SlotTable } from '../../src/worker/pk-slots.js';

const LOC_MAX = 2 ** LOCATION_BITS - 1;

describe('SlotTable', () => {
  it('finds, moves and removes random entries through growths and shrinks, agreeing with a Map', () => {
    const r = new Rng(7);
    const t = new SlotTable(4, null);
    const model = new Map<string, { hi: number; lo: number; loc: number; payload: number }>();
    const hashes = Array.from({ length: 60_000 }, () => [r.int(2 ** 32) | 0, r.int(2 ** 32)] as const);
    for (let i = 0; i < 300_000; i++) {
      const [hi, lo] = r.pick(hashes);
      const k = `${hi}:${lo}`;
      const ref = t.find(hi, lo);
      assert.equal(ref >= 0, model.has(k), `presence of ${k}`);
      const phase = i < 150_000 ? 0.7 : 0.2; // grow, then shrink
      if (r.next() < phase) {
        const loc = r.chance(0.1) ? LOC_MAX - r.int(3) : r.int(2 ** 32) * 2 ** (LOCATION_BITS - 32) + r.int(2 ** (LOCATION_BITS - 32));
        if (ref >= 0) {
          t.setLoc(ref, loc);
          model.set(k, { hi, lo, loc, payload: (model.get(k) as { payload: number }).payload });
        } else {
          const payload = r.int(2 ** 32);
          t.insert(hi, lo, loc, payload);
          model.set(k, { hi, lo, loc, payload });
        }
      } else if (ref >= 0) {
        t.remove(ref);
        model.delete(k);
      }
      assert.equal(t.size, model.size);
    }
    for (const e of model.values()) {
      const ref = t.find(e.hi, e.lo);
      assert.deepEqual([t.loc(ref), t.payload(ref)], [e.loc, e.payload]);
    }
    let seen = 0;
    t.forEach((hi, lo, loc, payload) => {
      seen++;
      assert.deepEqual({ hi: hi | 0, lo, loc, payload }, model.get(`${hi | 0}:${lo}`));
    });
    assert.equal(seen, model.size);
  });

  it('stays near its designed load at every size (12.125 bytes a slot: ≤ 15.5 bytes an entry from 64 k entries on)', () => {
    const r = new Rng(11);
    const t = new SlotTable(3, null);
    let worst = 0;
    for (let i = 1; i <= 500_000; i++) {
      t.insert(r.int(2 ** 32) | 0, r.int(2 ** 32), i, 0);
      if (i >= 65_536 && i % 997 === 0) worst = Math.max(worst, t.bytes / t.size);
    }
    assert.ok(worst <= 15.5, `worst bytes per entry ${worst}`);
  });

  it('tells apart entries that share one hash (the caller compares), through the stash when they pile up', () => {
    let probe = -1;
    const t = new SlotTable(4, (words, at) => words[at + 3] === probe);
    const find = (payload: number) => {
      probe = payload;
      return t.find(0x0abcdef0, 42);
    };
    for (let p = 0; p < 500; p++) {
      assert.equal(find(p), -1);
      t.insert(0x0abcdef0, 42, p * 3, p);
    }
    assert.equal(t.size, 500);
    for (let p = 0; p < 500; p++) assert.equal(t.loc(find(p)), p * 3);
    for (let p = 0; p < 500; p += 2) t.remove(find(p));
    for (let p = 0; p < 500; p++) assert.equal(find(p) >= 0, p % 2 === 1, `entry ${p}`);
    const dropped = t.removeWhere((loc) => loc % 9 === 0);
    assert.equal(dropped, Array.from({ length: 250 }, (_, i) => 2 * i + 1).filter((p) => (p * 3) % 9 === 0).length);
    t.mapPayloads((p) => p + 1000);
    for (let p = 1; p < 500; p += 2) assert.equal(find(p + 1000) >= 0, (p * 3) % 9 !== 0);
  });

  it('sweeps entries by location', () => {
    const r = new Rng(3);
    const t = new SlotTable(3, null);
    const entries = Array.from({ length: 50_000 }, (_, i) => [r.int(2 ** 32) | 0, r.int(2 ** 32), i] as const);
    for (const [hi, lo, loc] of entries) if (t.find(hi, lo) < 0) t.insert(hi, lo, loc, 0);
    const before = t.size;
    const dropped = t.removeWhere((loc) => loc % 4 === 1);
    assert.equal(t.size, before - dropped);
    for (const [hi, lo, loc] of entries) {
      const ref = t.find(hi, lo);
      if (loc % 4 === 1) assert.equal(ref, -1);
      else if (ref >= 0) assert.equal(t.loc(ref) % 4 === 1, false);
    }
  });
});
