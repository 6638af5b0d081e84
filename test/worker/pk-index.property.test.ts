// Proves the primary-key index is exact over each key type's whole range (int, long, decimal(20,0) up to 2^64 − 1, decimal(38,s) up to ±(10^38 − 1), strings, binary, composites of them): seeded random schedules of set/delete/get/save-and-load agree with a plain Map model; each run prints its seed, FLOE_PROPERTY_SEED=<seed> replays it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/demo/debezium-generator.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile } from '../../src/worker/pk-index.js';

type Key = (IcebergValue | null)[];

/** A uniform bigint in [lo, hi] from the seeded stream. */
function big(r: Rng, lo: bigint, hi: bigint): bigint {
  const span = hi - lo + 1n;
  let x = 0n;
  for (let i = 0; i < 5; i++) x = (x << 32n) | BigInt(Math.floor(r.next() * 2 ** 32));
  return lo + (x % span);
}

const P63 = 1n << 63n;
const P64 = 1n << 64n;
const D38 = 10n ** 38n - 1n;

/**
 * Values of one key column type, drawn so that boundaries and values equal modulo 2^64 (the wrap a 64-bit slot
 * would make: 2^63 and −2^63, 2^64 − 1 and −1) come up often, and from a small pool so keys repeat (updates,
 * deletes of present keys, re-inserts).
 */
const columns: Record<string, { boundaries: IcebergValue[]; draw: (r: Rng) => IcebergValue }> = {
  int: { boundaries: [0, -1, 1, 2 ** 31 - 1, -(2 ** 31)], draw: (r) => r.int(2 ** 32) - 2 ** 31 },
  long: { boundaries: [0n, -1n, P63 - 1n, -P63, -P63 + 1n, 2n ** 53n + 1n], draw: (r) => big(r, -P63, P63 - 1n) },
  'decimal(20,0)': { boundaries: [0n, 5n, P63 - 1n, P63, P63 + 9n, P64 - 1n, P64 - 2n], draw: (r) => big(r, 0n, P64 - 1n) },
  'decimal(38,s)': { boundaries: [0n, -1n, P63, -P63 - 1n, P64 - 1n, -(P64 - 1n), D38, -D38, P64 + P63], draw: (r) => big(r, -D38, D38) },
  string: { boundaries: ['', '0', '5', 'i:5', '1:x', '\u0000', 'Zoë', '😀', '9223372036854775808'], draw: (r) => Array.from({ length: r.int(6) }, () => String.fromCodePoint(r.pick([48, 49, 58, 105, 0x7f, 0xe9, 0x1f600]))).join('') },
  binary: { boundaries: [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0xff), Uint8Array.of(0, 0)], draw: (r) => Uint8Array.from({ length: r.int(5) }, () => r.int(256)) },
};

/** Key shapes: single columns and composites that mix wide integers with other types. */
const shapes: Record<string, readonly string[]> = {
  int: ['int'],
  long: ['long'],
  'decimal(20,0)': ['decimal(20,0)'],
  'decimal(38,s)': ['decimal(38,s)'],
  string: ['string'],
  binary: ['binary'],
  'decimal(20,0), string': ['decimal(20,0)', 'string'],
  'decimal(38,s), int': ['decimal(38,s)', 'int'],
  'long, binary': ['long', 'binary'],
};

/** The model's own key text (not the index's): exact, type-tagged; int and long spellings of a value agree. */
function modelKey(key: Key): string {
  return JSON.stringify(key.map((v) => (typeof v === 'bigint' || typeof v === 'number' ? `i${String(BigInt(v))}` : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `s${String(v)}`)));
}

const files: IndexedFile[] = Array.from({ length: 40 }, (_, i) => ({ path: `s3://b/t/data/f${i}.parquet`, specId: 0, partition: [] }));

/** One schedule: `ops` random operations against the index and the model, checked as it goes and at the end. */
function runSchedule(seed: number, shape: readonly string[], ops: number): void {
  const r = new Rng(seed);
  const pool: Key[] = [];
  const poolSize = 20 + r.int(2000);
  for (let i = 0; i < poolSize; i++) {
    pool.push(shape.map((c) => {
      const col = columns[c] as (typeof columns)[string];
      return r.next() < 0.3 ? r.pick(col.boundaries) : col.draw(r);
    }));
  }
  let index = new PkIndex();
  const model = new Map<string, { key: Key; file: number; pos: number }>();
  const where = (what: string, key: Key) => `seed ${seed}, [${shape.join(', ')}]: ${what} ${modelKey(key)}`;
  for (let i = 0; i < ops; i++) {
    const key = r.pick(pool);
    const mk = modelKey(key);
    const op = r.next();
    if (op < 0.55) {
      const file = r.int(files.length);
      const pos = r.int(2 ** 32);
      index.set(key, files[file] as IndexedFile, pos);
      model.set(mk, { key, file, pos });
    } else if (op < 0.8) {
      assert.equal(index.delete(key), model.delete(mk), where('delete', key));
    } else if (op < 0.995) {
      const at = index.get(key);
      const m = model.get(mk);
      assert.equal(at === undefined, m === undefined, where('presence of', key));
      if (m !== undefined) assert.deepEqual([at?.file.path, at?.pos], [files[m.file]?.path, m.pos], where('location of', key));
    } else {
      // Save and load: the index file must carry every key exactly.
      const meta = { tableUuid: 'u', snapshotId: String(i), keyIds: shape.map((_, j) => j + 1) };
      const loaded = indexFromBytes(indexToBytes(index, meta));
      assert.deepEqual(loaded.meta, meta);
      index = loaded.index;
    }
    assert.equal(index.size, model.size, where('size after', key));
  }
  for (const m of model.values()) {
    const at = index.get(m.key);
    assert.deepEqual([at?.file.path, at?.pos], [files[m.file]?.path, m.pos], where('final location of', m.key));
  }
  for (const key of pool) if (!model.has(modelKey(key))) assert.equal(index.get(key), undefined, where('absent', key));
}

const replay = process.env.FLOE_PROPERTY_SEED;
/** Schedules per key shape in one run (a replay runs its one seed). */
const SCHEDULES_PER_SHAPE = 40;
const OPS_PER_SCHEDULE = 3000;

describe('PkIndex over every key type\'s whole range, against a Map model', () => {
  const base = replay !== undefined ? Number(replay) : Math.floor(Math.random() * 2 ** 31);
  for (const [name, shape] of Object.entries(shapes)) {
    it(`${name}: ${replay !== undefined ? 1 : SCHEDULES_PER_SHAPE} seeded schedules of ${OPS_PER_SCHEDULE} operations`, (t) => {
      t.diagnostic(`seed ${base} (replay: FLOE_PROPERTY_SEED=${base})`);
      const count = replay !== undefined ? 1 : SCHEDULES_PER_SHAPE;
      for (let s = 0; s < count; s++) {
        const seed = (base + s) >>> 0;
        try {
          runSchedule(seed, shape, OPS_PER_SCHEDULE);
        } catch (e) {
          // Name the failing schedule's own seed, so the replay runs just it.
          throw new Error(`schedule failed: replay with FLOE_PROPERTY_SEED=${seed}: ${(e as Error).message}`, { cause: e });
        }
      }
    });
  }

  it('keys equal modulo 2^64 are distinct keys (the wrap a 64-bit slot would make)', () => {
    const index = new PkIndex();
    const pairs: [bigint, bigint][] = [[P63, -P63], [P64 - 1n, -1n], [P63 + 9n, -P63 + 9n], [P64 + 5n, 5n]];
    pairs.forEach(([wide, narrow], i) => {
      index.set([narrow], files[2 * i] as IndexedFile, i);
      index.set([wide], files[2 * i + 1] as IndexedFile, i);
    });
    assert.equal(index.size, pairs.length * 2);
    pairs.forEach(([wide, narrow], i) => {
      assert.equal(index.get([wide])?.file.path, files[2 * i + 1]?.path, `key ${wide}`);
      assert.equal(index.get([narrow])?.file.path, files[2 * i]?.path, `key ${narrow}`);
    });
    const loaded = indexFromBytes(indexToBytes(index, { tableUuid: 'u', snapshotId: '1', keyIds: [1] })).index;
    for (const [wide] of pairs) assert.equal(index.delete([wide]), true);
    assert.equal(index.size, pairs.length);
    for (const [, narrow] of pairs) assert.notEqual(index.get([narrow]), undefined);
    for (const [wide] of pairs) assert.notEqual(loaded.get([wide]), undefined, `saved key ${wide}`);
  });
});
