// Proves the workload generator's benchmark options: the 12-column tables decode (JSON with and without the schema block) into the column mix the benchmark promises, the op mix holds, and Zipf keys are skewed as Zipf(1) is while uniform keys are not; the default workload is unchanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DebeziumDecoder } from '../../src/decode/debezium.js';
import { DebeziumGenerator, Rng, Zipf, benchTables } from '../../src/demo/debezium-generator.js';

describe('workload generator', () => {
  it('benchmark tables: 13 columns of ids, 20-60 character strings, ints, decimals, doubles, booleans, timestamps, a nullable column', () => {
    for (const withSchema of [false, true]) {
      const gen = new DebeziumGenerator({ topicPrefix: 'b', seed: 5, withSchema, keySpace: 1000, tables: benchTables(3), tombstones: false });
      const dec = new DebeziumDecoder({});
      const topics = new Set<string>();
      let nulls = 0;
      let rows = 0;
      for (let i = 0; i < 3000; i++) {
        for (const ev of gen.next(i)) {
          topics.add(ev.topic);
          const d = dec.decode(ev.topic, ev.key, ev.value);
          assert.equal(d.kind, 'change');
          if (d.kind !== 'change' || d.row === null) continue;
          rows++;
          if (d.row.note === null) nulls++;
          const name = String(d.row.name);
          assert.ok(name.length >= 20 && name.length <= 60, name);
        }
      }
      assert.deepEqual([...topics].sort(), ['b.bench.t0', 'b.bench.t1', 'b.bench.t2']);
      assert.ok(nulls / rows > 0.15 && nulls / rows < 0.25, `null share ${nulls / rows}`);
      if (withSchema) {
        const d = dec.decode('b.bench.t0', ...(() => { const e = gen.next(9999)[0]!; return [e.key, e.value] as const; })());
        assert.ok(d.kind === 'change');
        if (d.kind === 'change') assert.deepEqual(d.shape.columns.map((c) => (c.type as { kind: string }).kind).sort(), ['boolean', 'decimal', 'double', 'int', 'long', 'long', 'string', 'string', 'string', 'string', 'string', 'timestamp', 'timestamptz'].sort());
      }
    }
  });

  it('op mix: 30 % inserts, 60 % updates, 10 % deletes by default; configurable', () => {
    const count = (opMix?: { insert: number; delete: number }) => {
      const gen = new DebeziumGenerator({ topicPrefix: 'b', seed: 9, withSchema: false, keySpace: 200, tables: benchTables(1), tombstones: false, ...(opMix ? { opMix } : {}) });
      const ops: Record<string, number> = { c: 0, u: 0, d: 0 };
      for (let i = 0; i < 20_000; i++) for (const ev of gen.next(i)) ops[ev.op] = (ops[ev.op] ?? 0) + 1;
      return ops;
    };
    const d = count();
    // inserts of new keys also come from the update/delete draws when the key is absent: the shares are approximate
    assert.ok(d.d! / 20_000 > 0.05 && d.d! / 20_000 < 0.12, JSON.stringify(d));
    assert.ok(d.u! > d.c!, JSON.stringify(d));
    const noDeletes = count({ insert: 0.5, delete: 0 });
    assert.equal(noDeletes.d, 0);
    assert.throws(() => new DebeziumGenerator({ topicPrefix: 'b', seed: 1, withSchema: false, keySpace: 10, opMix: { insert: 0.8, delete: 0.5 } }), /opMix/);
  });

  it('Zipf(1) keys: the hottest 1 % take about H(1000)/H(100000) of the picks; uniform keys about 1 %', () => {
    const n = 100_000;
    const z = new Zipf(n);
    const rng = new Rng(3);
    let hot = 0;
    const draws = 50_000;
    for (let i = 0; i < draws; i++) if (z.pick(rng) < n / 100) hot++;
    const harmonic = (m: number): number => Array.from({ length: m }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    const want = harmonic(1000) / harmonic(n);
    assert.ok(Math.abs(hot / draws - want) < 0.02, `zipf hot share ${hot / draws} vs ${want}`);
    const uniform = new DebeziumGenerator({ topicPrefix: 'u', seed: 3, withSchema: false, keySpace: n, tables: benchTables(1), skew: 'uniform', tombstones: false });
    let uhot = 0;
    for (let i = 0; i < 20_000; i++) for (const ev of uniform.next(i)) if (Number(JSON.parse(ev.key.toString()).id) < n / 100) uhot++;
    assert.ok(uhot / 20_000 < 0.02, `uniform hot share ${uhot / 20_000}`);
  });

  it('sequential keys give inserts only (append-only sinks); keyOnlyDeletes: false gives every delete its before row', () => {
    const seq = new DebeziumGenerator({ topicPrefix: 's', seed: 5, withSchema: false, keySpace: 10, tables: benchTables(2), skew: 'sequential', tombstones: false });
    const keys = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      for (const ev of seq.next(i)) {
        assert.equal(ev.op, 'c');
        keys.add(`${ev.topic}/${ev.key.toString()}`);
      }
    }
    assert.equal(keys.size, 5000);
    const full = (keyOnlyDeletes: boolean) => {
      const gen = new DebeziumGenerator({ topicPrefix: 'f', seed: 7, withSchema: false, keySpace: 100, tables: benchTables(1), tombstones: false, keyOnlyDeletes });
      let deletes = 0;
      let withoutBefore = 0;
      for (let i = 0; i < 10_000; i++) {
        for (const ev of gen.next(i)) {
          if (ev.op !== 'd') continue;
          deletes++;
          if ((JSON.parse(ev.value?.toString() ?? '{}') as { before: unknown }).before === null) withoutBefore++;
        }
      }
      return { deletes, withoutBefore };
    };
    const minimal = full(true);
    assert.ok(minimal.withoutBefore > minimal.deletes / 5, JSON.stringify(minimal));
    const rowImage = full(false);
    assert.equal(rowImage.withoutBefore, 0);
    assert.equal(rowImage.deletes, minimal.deletes); // the same changes either way: only the before image differs
  });
});
