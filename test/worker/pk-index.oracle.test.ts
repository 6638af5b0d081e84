// Proves the compact primary-key index agrees with a plain Map oracle through many growths and shrinks: seeded random schedules of set/delete/get/deleteRowsOf/releaseFile and save-and-load over long, string, composite, beyond-int64 and mixed keys, also with weak injected fingerprints that force collisions (resolved exactly, through the stash too); each run prints its seed, FLOE_PKINDEX_SEED=<seed> replays it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/demo/debezium-generator.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { PkIndex, indexFromBytes, indexToBytes, type IndexedFile, type PkIndexOptions } from '../../src/worker/pk-index.js';

type Key = (IcebergValue | null)[];

function big(r: Rng, lo: bigint, hi: bigint): bigint {
  let x = 0n;
  for (let i = 0; i < 5; i++) x = (x << 32n) | BigInt(Math.floor(r.next() * 2 ** 32));
  return lo + (x % (hi - lo + 1n));
}

const P63 = 1n << 63n;
const D38 = 10n ** 38n - 1n;
const CODE_POINTS = [0x30, 0x61, 0x7a, 0x3a, 0xe9, 0x4e2d, 0x1f600, 0];

function text(r: Rng): string {
  const s = Array.from({ length: r.int(40) }, () => String.fromCodePoint(r.pick(CODE_POINTS))).join('');
  // Now and then a lone surrogate: UTF-8 would turn every one into U+FFFD.
  return r.chance(0.03) ? s + r.pick(['\ud800', '\udc00', '\ufffd']) : s;
}

/** Key drawers by kind; each draws from a wide space, so a pool of them is mostly distinct keys. */
const kinds: Record<string, (r: Rng) => Key> = {
  long: (r) => [r.chance(0.05) ? r.pick([0n, -1n, P63 - 1n, -P63]) : r.chance(0.5) ? big(r, -P63, P63 - 1n) : BigInt(r.int(2 ** 40))],
  int: (r) => [r.int(2 ** 32) - 2 ** 31],
  string: (r) => [text(r)],
  composite: (r) => [r.chance(0.5) ? big(r, -P63, P63 - 1n) : r.int(1000), text(r)],
  'beyond int64': (r) => [r.chance(0.5) ? big(r, P63, (1n << 64n) - 1n) : big(r, -D38, D38)],
  binary: (r) => [Uint8Array.from({ length: r.int(20) }, () => r.int(256))],
};

/** The oracle's key text: type-tagged, exact; an integral number and the bigint of its value agree. */
function modelKey(key: Key): string {
  return JSON.stringify(key.map((v) => (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)) ? `i${BigInt(v)}` : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `s${String(v)}`)));
}

const FILES = 24;
const fileOf = (n: number): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: n % 3, partition: [n] });

interface Plan {
  readonly kinds: readonly string[];
  readonly pool: number;
  readonly ops: number;
  readonly options?: PkIndexOptions;
}

/**
 * One schedule: a grow phase (mostly sets) then a shrink phase (mostly deletes), with gets, file sweeps and
 * releases, and save-and-load, checked against the oracle as it goes and in full at phase ends.
 */
function runSchedule(seed: number, plan: Plan): void {
  const r = new Rng(seed);
  const pool: Key[] = Array.from({ length: plan.pool }, () => (kinds[r.pick(plan.kinds)] as (r: Rng) => Key)(r));
  let index = new PkIndex(Number.MAX_SAFE_INTEGER, plan.options);
  const model = new Map<string, { key: Key; file: number; pos: number }>();
  const rows: number[] = new Array<number>(FILES).fill(0);
  const bump = (file: number, by: number) => {
    rows[file] = (rows[file] ?? 0) + by;
  };
  const released = new Set<number>();
  const where = (what: string, key?: Key) => `seed ${seed}: ${what}${key === undefined ? '' : ` ${modelKey(key)}`}`;
  const checkAll = (what: string) => {
    assert.equal(index.size, model.size, where(`size at ${what}`));
    for (const m of model.values()) {
      const at = index.get(m.key);
      assert.deepEqual([at?.file.path, at?.pos], [fileOf(m.file).path, m.pos], where(`${what}: location of`, m.key));
    }
    for (let f = 0; f < FILES; f++) assert.equal(index.rowsIn(fileOf(f).path), rows[f], where(`${what}: rows in file ${f}`));
    const paths = new Set(index.filePaths());
    for (const f of released) assert.ok(!paths.has(fileOf(f).path), where(`${what}: released file ${f} is forgotten`));
  };
  for (let i = 0; i < plan.ops; i++) {
    const growing = i < plan.ops * 0.6;
    const key = r.pick(pool);
    const mk = modelKey(key);
    const op = r.next();
    if (op < (growing ? 0.6 : 0.2)) {
      const file = r.int(FILES);
      const pos = r.chance(0.1) ? 2 ** 32 - 1 - r.int(10) : r.int(3_000_000);
      index.set(key, fileOf(file), pos);
      const old = model.get(mk);
      if (old !== undefined) bump(old.file, -1);
      model.set(mk, { key, file, pos });
      bump(file, 1);
      released.delete(file);
    } else if (op < 0.85) {
      const old = model.get(mk);
      assert.equal(index.delete(key), old !== undefined, where('delete', key));
      if (old !== undefined) bump(old.file, -1);
      model.delete(mk);
    } else if (op < 0.999) {
      const at = index.get(key);
      const m = model.get(mk);
      assert.deepEqual([at?.file.path, at?.pos], m === undefined ? [undefined, undefined] : [fileOf(m.file).path, m.pos], where('get', key));
    } else {
      // A removed file that can no longer be read: swept from memory, then released.
      const file = r.int(FILES);
      const n = index.deleteRowsOf(fileOf(file).path);
      assert.equal(n, rows[file], where(`rows swept from file ${file}`));
      for (const [k, m] of model) if (m.file === file) model.delete(k);
      rows[file] = 0;
      index.releaseFile(fileOf(file).path);
      released.add(file);
      assert.equal(index.size, model.size, where('size after a sweep'));
    }
    if (i % SAVE_EVERY_OPS === SAVE_EVERY_OPS - 1) {
      const meta = { tableUuid: 'u', snapshotId: String(i), keyIds: [1, 2] };
      // The saved index is exact without the injected fingerprint too (only canonical bytes are saved).
      const loaded = indexFromBytes(indexToBytes(index, meta), undefined, r.chance(0.5) ? plan.options : undefined);
      assert.deepEqual(loaded.meta, meta);
      index = loaded.index;
      checkAll(`load ${i}`);
    }
    if (i === Math.floor(plan.ops * 0.6)) checkAll('end of growth');
    // Files with no row left are released at random, as a catch-up does for removed files.
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
}

const replay = process.env.FLOE_PKINDEX_SEED;

/** Fingerprints that make keys collide: a few bits of the key's bytes (many keys a fingerprint), or none at all. */
const fewBits: PkIndexOptions = {
  fingerprint: (b) => {
    let h = b.length;
    for (const x of b) h = (Math.imul(h, 31) + x) & 0x3ff;
    return [h << 20, h];
  },
};
const constant: PkIndexOptions = { fingerprint: () => [0x12345678, 9] };

const plans: Record<string, Plan> = {
  long: { kinds: ['long'], pool: 40_000, ops: 120_000 },
  'int and long': { kinds: ['int', 'long'], pool: 20_000, ops: 60_000 },
  string: { kinds: ['string'], pool: 20_000, ops: 60_000 },
  composite: { kinds: ['composite'], pool: 20_000, ops: 60_000 },
  'beyond int64': { kinds: ['beyond int64'], pool: 20_000, ops: 60_000 },
  'every kind in one index': { kinds: Object.keys(kinds), pool: 30_000, ops: 90_000 },
  'colliding fingerprints (1024 values)': { kinds: ['string', 'composite', 'beyond int64', 'binary'], pool: 8_000, ops: 30_000, options: fewBits },
  'one fingerprint for every key': { kinds: ['string', 'composite', 'beyond int64'], pool: 300, ops: 4_000, options: constant },
};
const SCHEDULES = 3;
/** Operations between two save-and-loads (each checks every key). */
const SAVE_EVERY_OPS = 7_919;

describe('PkIndex against a Map oracle (seeded: FLOE_PKINDEX_SEED replays)', () => {
  const base = replay !== undefined ? Number(replay) : Math.floor(Math.random() * 2 ** 31);
  for (const [name, plan] of Object.entries(plans)) {
    it(`${name}: ${replay !== undefined ? 1 : SCHEDULES} schedule(s) of ${plan.ops} operations over ${plan.pool} keys`, (t) => {
      t.diagnostic(`seed ${base} (replay: FLOE_PKINDEX_SEED=${base})`);
      const count = replay !== undefined ? 1 : SCHEDULES;
      for (let s = 0; s < count; s++) {
        const seed = (base + s) >>> 0;
        try {
          runSchedule(seed, plan);
        } catch (e) {
          throw new Error(`schedule failed: replay with FLOE_PKINDEX_SEED=${seed}: ${(e as Error).message}`, { cause: e });
        }
      }
    });
  }
});
