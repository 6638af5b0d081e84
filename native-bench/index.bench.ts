/**
 * Primary-key index benchmark: memory and speed of `PkIndex` alone, on keys inserted in random order.
 *   long       snowflake-like ids (milliseconds << 22 | sequence), consecutive ids visited in a scrambled order
 *   string     36-character UUID text
 *   composite  (snowflake-like long, short tenant string)
 * Rows are placed in files of 1 M rows each (file i·1M.. in insertion order), as a bootstrap would.
 * Phases: insert every key; look up as many keys as `LOOKUPS_MAX` allows, half present, half absent; delete
 * `DELETES_MAX` present keys. Keys are generated in batches outside the timed sections, so the rates are the
 * index's own. Prints one JSON line:
 *   {keys, keyType, bytesPerKey (index.bytes / size after the inserts), insertsPerSecond, lookupsPerSecond,
 *    deletesPerSecond, peakRssMb, heapUsedMb}
 * With `--memory-bytes-max N` (bytes) the index spills to local disk past N bytes of memory (under `--spill-dir D`,
 * by default a temporary directory removed at the end) and the line adds {spilled, runs, diskBytesPerKey}
 * (`bytesPerKey` is then the memory part's).
 * Run: `npx tsc -p tsconfig.json && node dist/native-bench/index.bench.js --keys 10000000 --key-type long`
 * (100 M long keys: `node --max-old-space-size=8192 dist/native-bench/index.bench.js --keys 100000000 --key-type long`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { IcebergValue } from '../src/iceberg/values.js';
import { PkIndex, type IndexedFile } from '../src/worker/pk-index.js';

type KeyType = 'long' | 'string' | 'composite';
type Key = (IcebergValue | null)[];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const KEYS = Number(arg('keys', '1000000'));
const KEY_TYPE = arg('key-type', 'long') as KeyType;
if (!Number.isSafeInteger(KEYS) || KEYS < 1) throw new Error(`--keys ${arg('keys', '')}: a positive integer`);
const MEMORY_BYTES_MAX = arg('memory-bytes-max', '') === '' ? null : Number(arg('memory-bytes-max', ''));
const SPILL_DIR = arg('spill-dir', '');
if (MEMORY_BYTES_MAX !== null && !(MEMORY_BYTES_MAX > 0)) throw new Error(`--memory-bytes-max ${arg('memory-bytes-max', '')}: a positive number of bytes`);
if (!['long', 'string', 'composite'].includes(KEY_TYPE)) throw new Error(`--key-type ${KEY_TYPE}: long, string or composite`);

const ROWS_PER_FILE = 1_000_000;
/** Keys generated ahead of each timed batch (bounded so 100 M keys never sit in the heap as objects). */
const BATCH_KEYS = 1_000_000;
const LOOKUPS_MAX = 2_000_000;
const DELETES_MAX = 1_000_000;
/** 2025-01-01T00:00:00Z in milliseconds: the snowflake epoch offset of the generated ids. */
const SNOWFLAKE_START_MS = 1_735_689_600_000;
const SEQUENCE_BITS = 12;
const TENANTS = 1000;

/** A 32-bit mix (murmur3 fmix32) of `x`, for UUID text and the visiting order. */
function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The j-th key of the key space (j ≥ KEYS are keys never inserted: the misses). Distinct j give distinct keys:
 * the snowflake carries j itself (4096 ids a millisecond), the UUID's last 32 bits are j's bits scrambled by a
 * bijection and the rest padding derived from j.
 */
function longOf(j: number): bigint {
  const ms = SNOWFLAKE_START_MS + Math.floor(j / 2 ** SEQUENCE_BITS);
  return (BigInt(ms) << 22n) | BigInt(j % 2 ** SEQUENCE_BITS);
}

function uuidOf(j: number): string {
  const hex = (x: number, n: number) => (x >>> 0).toString(16).padStart(8, '0').slice(8 - n);
  const a = mix32(j ^ 0x5bd1e995);
  const b = mix32(j + 0x27d4eb2f);
  const c = mix32(~j);
  // mix32 is a bijection on 32 bits: the last group alone keeps j-distinct keys distinct.
  const d = mix32(j);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${hex(0x8000 | (c & 0x3fff), 4)}-${hex(c >>> 16, 4)}${hex(d, 8)}`;
}

function keyOf(j: number): Key {
  switch (KEY_TYPE) {
    case 'long':
      return [longOf(j)];
    case 'string':
      return [uuidOf(j)];
    case 'composite':
      return [longOf(j), `tenant-${j % TENANTS}`];
  }
}

/**
 * The insertion order: i ↦ j, a permutation of [0, KEYS) (multiplication by a constant coprime with KEYS), so
 * consecutive ids land far apart as they would from many writers.
 */
const STRIDE = (() => {
  let s = 2_654_435_761 % KEYS || 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(s, KEYS) !== 1) s++;
  return s;
})();
/** i · STRIDE mod KEYS in exact doubles (STRIDE split in 16-bit halves: every product stays below 2^53, no bigint). */
const visit = (i: number): number => ((((i * Math.floor(STRIDE / 65536)) % KEYS) * 65536 + i * (STRIDE % 65536)) % KEYS);

const files: IndexedFile[] = [];
const fileOf = (i: number): IndexedFile => {
  const n = Math.floor(i / ROWS_PER_FILE);
  return (files[n] ??= { path: `s3://bench/t/data/00000-${n}-bench.parquet`, specId: 0, partition: [] });
};

function main(): void {
  const ownDir = MEMORY_BYTES_MAX !== null && SPILL_DIR === '' ? mkdtempSync(join(tmpdir(), 'floe-index-bench-')) : null;
  const budget = MEMORY_BYTES_MAX ?? 0;
  const index = new PkIndex(Number.MAX_SAFE_INTEGER, MEMORY_BYTES_MAX === null ? {} : { spill: { dir: ownDir ?? SPILL_DIR, memoryBytesMax: () => budget } });
  let insertMs = 0;
  for (let start = 0; start < KEYS; start += BATCH_KEYS) {
    const end = Math.min(KEYS, start + BATCH_KEYS);
    const keys: Key[] = [];
    for (let i = start; i < end; i++) keys.push(keyOf(visit(i)));
    const t0 = performance.now();
    for (let i = start; i < end; i++) index.set(keys[i - start] as Key, fileOf(i), i % ROWS_PER_FILE);
    insertMs += performance.now() - t0;
  }
  if (index.size !== KEYS) throw new Error(`index holds ${index.size} keys, ${KEYS} inserted`);
  const bytesPerKey = index.bytes / index.size;
  const spill = { spilled: index.spilled, runs: index.runs, diskBytesPerKey: Number((index.diskBytes / index.size).toFixed(2)) };
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

  // Lookups: half hits (random inserted keys), half misses (keys beyond the inserted range).
  const lookups = Math.min(LOOKUPS_MAX, 2 * KEYS);
  let lookupMs = 0;
  let found = 0;
  for (let done = 0; done < lookups; done += BATCH_KEYS) {
    const n = Math.min(BATCH_KEYS, lookups - done);
    const keys: Key[] = [];
    for (let i = 0; i < n; i++) keys.push(keyOf(i % 2 === 0 ? mix32(done + i) % KEYS : KEYS + done + i));
    const t0 = performance.now();
    for (const k of keys) if (index.get(k) !== undefined) found++;
    lookupMs += performance.now() - t0;
  }
  const hitsExpected = Math.ceil(lookups / 2);
  if (found !== hitsExpected) throw new Error(`${found} lookups found, ${hitsExpected} expected`);

  // Deletes: distinct present keys (the first ones in visiting order).
  const deletes = Math.min(DELETES_MAX, KEYS);
  const keys: Key[] = [];
  for (let i = 0; i < deletes; i++) keys.push(keyOf(visit(i)));
  const t0 = performance.now();
  for (const k of keys) if (!index.delete(k)) throw new Error('a present key was not deleted');
  const deleteMs = performance.now() - t0;
  if (index.size !== KEYS - deletes) throw new Error(`index holds ${index.size} keys after ${deletes} deletes`);

  const perSecond = (n: number, ms: number) => Math.round(n / (ms / 1000));
  console.log(JSON.stringify({
    keys: KEYS,
    keyType: KEY_TYPE,
    bytesPerKey: Number(bytesPerKey.toFixed(2)),
    insertsPerSecond: perSecond(KEYS, insertMs),
    lookupsPerSecond: perSecond(lookups, lookupMs),
    deletesPerSecond: perSecond(deletes, deleteMs),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: Math.round(heapUsedMb),
    ...(MEMORY_BYTES_MAX === null ? {} : spill),
  }));
  index.close();
  if (ownDir !== null) rmSync(ownDir, { recursive: true, force: true });
}

main();
