// Proves a spilled primary-key index (a tiny memory budget: many runs, merges, tombstones) agrees with a plain Map oracle: seeded random schedules of set/delete/get/insertIntIfAbsent/deleteRowsOf/releaseFile and save-and-load over long, string, composite and mixed keys, also with weak fingerprints forcing collisions across runs; run files are all deleted at the end; each run prints its seed, FLOE_PKINDEX_SEED=<seed> replays it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/demo/debezium-generator.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile, type PkIndexOptions } from '../../src/worker/pk-index.js';
import { RUNS_MAX } from '../../src/worker/pk-spill-runs.js';

type Key = (IcebergValue | null)[];

const P63 = 1n << 63n;

function big(r: Rng, lo: bigint, hi: bigint): bigint {
  let x = 0n;
  for (let i = 0; i < 5; i++) x = (x << 32n) | BigInt(Math.floor(r.next() * 2 ** 32));
  return lo + (x % (hi - lo + 1n));
}

const CODE_POINTS = [0x30, 0x61, 0x7a, 0x3a, 0xe9, 0x4e2d, 0x1f600, 0];
const text = (r: Rng): string => Array.from({ length: r.int(30) }, () => String.fromCodePoint(r.pick(CODE_POINTS))).join('');

const kinds: Record<string, (r: Rng) => Key> = {
  long: (r) => [r.chance(0.05) ? r.pick([0n, -1n, P63 - 1n, -P63]) : r.chance(0.5) ? big(r, -P63, P63 - 1n) : BigInt(r.int(2 ** 40))],
  int: (r) => [r.int(2 ** 32) - 2 ** 31],
  string: (r) => [text(r)],
  composite: (r) => [r.chance(0.5) ? big(r, -P63, P63 - 1n) : r.int(1000), text(r)],
  'beyond int64': (r) => [big(r, P63, (1n << 64n) - 1n)],
};

function modelKey(key: Key): string {
  return JSON.stringify(key.map((v) => (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)) ? `i${BigInt(v)}` : `s${String(v)}`)));
}

/** The two's complement halves of a one-integer-column key in int64 range, or null. */
function halves(key: Key): [number, number] | null {
  const v = key.length === 1 ? key[0] : undefined;
  if (typeof v !== 'bigint' && typeof v !== 'number') return null;
  const b = BigInt(v);
  if (b < -P63 || b >= P63) return null;
  return [Number(BigInt.asIntN(32, b >> 32n)), Number(BigInt.asUintN(32, b))];
}

const FILES = 16;
const fileOf = (n: number): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: 0, partition: [] });
/** Memory budgets in bytes: an empty index holds a few KiB, so each is a spill at (nearly) every budget check. */
const BUDGETS_BYTES = [8 * 1024, 32 * 1024, 96 * 1024];
const SAVE_EVERY_OPS = 9_973;

interface Plan {
  readonly kinds: readonly string[];
  readonly pool: number;
  readonly ops: number;
  readonly fingerprint?: PkIndexOptions['fingerprint'];
}

/** Runs one schedule; returns the most runs the index held at once and the run files it wrote. */
function runSchedule(seed: number, plan: Plan, root: string): string {
  const dir = join(root, String(seed));
  mkdirSync(dir);
  const r = new Rng(seed);
  const budget = BUDGETS_BYTES[seed % BUDGETS_BYTES.length] as number;
  const options = (): PkIndexOptions => ({ ...(plan.fingerprint === undefined ? {} : { fingerprint: plan.fingerprint }), spill: { dir, memoryBytesMax: () => budget } });
  const pool: Key[] = Array.from({ length: plan.pool }, () => (kinds[r.pick(plan.kinds)] as (r: Rng) => Key)(r));
  let index = new PkIndex(Number.MAX_SAFE_INTEGER, options());
  const model = new Map<string, { key: Key; file: number; pos: number }>();
  const rows: number[] = new Array<number>(FILES).fill(0);
  const released = new Set<number>();
  let maxRuns = 0;
  let runFiles = 0;
  let lastRunFiles = new Set<string>();
  const where = (what: string, key?: Key) => `seed ${seed} (budget ${budget}): ${what}${key === undefined ? '' : ` ${modelKey(key)}`}`;
  const checkAll = (what: string) => {
    assert.equal(index.size, model.size, where(`size at ${what}`));
    for (const m of model.values()) {
      const at = index.get(m.key);
      assert.deepEqual([at?.file.path, at?.pos], [fileOf(m.file).path, m.pos], where(`${what}: location of`, m.key));
    }
    for (let f = 0; f < FILES; f++) assert.equal(index.rowsIn(fileOf(f).path), rows[f], where(`${what}: rows in file ${f}`));
    const paths = new Set(index.filePaths());
    for (const f of released) assert.ok(!paths.has(fileOf(f).path), where(`${what}: released file ${f} is forgotten`));
    assert.equal(readdirSync(dir).length, index.runs, where(`${what}: one file a run`));
  };
  const put = (key: Key, file: number, pos: number) => {
    const old = model.get(modelKey(key));
    if (old !== undefined) rows[old.file] = (rows[old.file] as number) - 1;
    model.set(modelKey(key), { key, file, pos });
    rows[file] = (rows[file] as number) + 1;
    released.delete(file);
  };
  for (let i = 0; i < plan.ops; i++) {
    const growing = i < plan.ops * 0.6;
    const key = r.pick(pool);
    const mk = modelKey(key);
    const op = r.next();
    const h = halves(key);
    if (op < (growing ? 0.5 : 0.15)) {
      const file = r.int(FILES);
      const pos = r.chance(0.1) ? 2 ** 32 - 1 - r.int(10) : r.int(3_000_000);
      index.set(key, fileOf(file), pos);
      put(key, file, pos);
    } else if (op < (growing ? 0.6 : 0.25) && h !== null) {
      const file = r.int(FILES);
      const pos = r.int(3_000_000);
      const absent = !model.has(mk);
      assert.equal(index.insertIntIfAbsent(h[0], h[1], fileOf(file), pos), absent, where('insertIntIfAbsent', key));
      if (absent) put(key, file, pos);
    } else if (op < 0.85) {
      const old = model.get(mk);
      assert.equal(index.delete(key), old !== undefined, where('delete', key));
      if (old !== undefined) rows[old.file] = (rows[old.file] as number) - 1;
      model.delete(mk);
    } else if (op < 0.9985) {
      const at = index.get(key);
      const m = model.get(mk);
      assert.deepEqual([at?.file.path, at?.pos], m === undefined ? [undefined, undefined] : [fileOf(m.file).path, m.pos], where('get', key));
    } else {
      const file = r.int(FILES);
      assert.equal(index.deleteRowsOf(fileOf(file).path), rows[file], where(`rows swept from file ${file}`));
      for (const [k, m] of model) if (m.file === file) model.delete(k);
      rows[file] = 0;
      index.releaseFile(fileOf(file).path);
      released.add(file);
      assert.equal(index.size, model.size, where('size after a sweep'));
    }
    maxRuns = Math.max(maxRuns, index.runs);
    if (index.runs > 0) {
      const now = new Set(readdirSync(dir));
      for (const f of now) if (!lastRunFiles.has(f)) runFiles++;
      lastRunFiles = now;
    }
    assert.ok(index.runs <= RUNS_MAX, where(`${index.runs} runs`));
    if (i % SAVE_EVERY_OPS === SAVE_EVERY_OPS - 1) {
      const meta = { tableUuid: 'u', snapshotId: String(i), keyIds: [1] };
      const bytes = indexToBytes(index, meta);
      index.close();
      assert.equal(readdirSync(dir).length, 0, where('close deletes the run files'));
      // Loaded spilled (the budget holds a fraction of the keys), or whole in memory.
      const loaded = indexFromBytes(bytes, undefined, r.chance(0.7) ? options() : {});
      index = loaded.index;
      checkAll(`load ${i}`);
    }
    if (i === Math.floor(plan.ops * 0.6)) checkAll('end of growth');
    if (r.chance(0.002)) {
      const file = r.int(FILES);
      if (rows[file] === 0) {
        index.releaseFile(fileOf(file).path);
        released.add(file);
      }
    }
  }
  checkAll('end');
  for (const key of pool) if (!model.has(modelKey(key))) assert.equal(index.get(key), undefined, where('absent', key));
  assert.ok(maxRuns > 0, where('the budget spilled'));
  index.clear();
  assert.equal(readdirSync(dir).length, 0, where('clear deletes the run files'));
  rmSync(dir, { recursive: true });
  return `seed ${seed}, budget ${budget} bytes: ${runFiles} run files written, at most ${maxRuns} runs at once`;
}

const replay = process.env.FLOE_PKINDEX_SEED;

const fewBits: PkIndexOptions['fingerprint'] = (b) => {
  let h = b.length;
  for (const x of b) h = (Math.imul(h, 31) + x) & 0x3ff;
  return [h << 20, h];
};

const plans: Record<string, Plan> = {
  long: { kinds: ['long'], pool: 30_000, ops: 80_000 },
  'int and long': { kinds: ['int', 'long'], pool: 15_000, ops: 40_000 },
  string: { kinds: ['string'], pool: 15_000, ops: 40_000 },
  composite: { kinds: ['composite'], pool: 12_000, ops: 30_000 },
  'every kind in one index': { kinds: Object.keys(kinds), pool: 20_000, ops: 50_000 },
  'colliding fingerprints (1024 values)': { kinds: ['long', 'string', 'composite', 'beyond int64'], pool: 8_000, ops: 25_000, fingerprint: fewBits },
  'one fingerprint for every key': { kinds: ['long', 'string', 'composite'], pool: 2_500, ops: 8_000, fingerprint: () => [0x12345678, 9] },
};
const SCHEDULES = 2;

describe('a spilled PkIndex against a Map oracle (seeded: FLOE_PKINDEX_SEED replays)', () => {
  const root = mkdtempSync(join(tmpdir(), 'floe-pk-spill-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const base = replay !== undefined ? Number(replay) : Math.floor(Math.random() * 2 ** 31);
  for (const [name, plan] of Object.entries(plans)) {
    it(`${name}: ${replay !== undefined ? 1 : SCHEDULES} schedule(s) of ${plan.ops} operations over ${plan.pool} keys`, (t) => {
      const dir = mkdtempSync(join(root, 'plan-'));
      t.diagnostic(`seed ${base} (replay: FLOE_PKINDEX_SEED=${base})`);
      const count = replay !== undefined ? 1 : SCHEDULES;
      for (let s = 0; s < count; s++) {
        const seed = (base + s) >>> 0;
        try {
          t.diagnostic(runSchedule(seed, plan, dir));
        } catch (e) {
          throw new Error(`schedule failed: replay with FLOE_PKINDEX_SEED=${seed}: ${(e as Error).message}`, { cause: e });
        }
      }
    });
  }
});
