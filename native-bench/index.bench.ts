/**
 * Primary-key index benchmark: memory and speed of `PkIndex` alone, on keys inserted in random order.
 *   long       snowflake-like ids (milliseconds << 22 | sequence), consecutive ids visited in a scrambled order
 *   string     36-character UUID text
 *   composite  (snowflake-like long, short tenant string)
 * Rows are placed in files of 1 M rows each (file i·1M.. in insertion order), as a bootstrap would.
 * Phases: insert every key; look up as many keys as `LOOKUPS_MAX` allows, half present, half absent; delete
 * `DELETES_MAX` present keys. Keys are generated in batches outside the timed sections, so the rates are the
 * index's own. Then a bootstrap: the same keys written as Parquet data files of `ROWS_PER_FILE` rows (a key column
 * and a payload column, as floe writes them, on local disk) are read into a fresh index the way a worker
 * bootstraps a table it has never indexed (index-bootstrap.ts: a long key as raw key words in parallel threads;
 * string and composite keys as canonical key bytes from the decoded columns, one thread); the table's manifests are not part of it. Prints one JSON line:
 *   {keys, keyType, bytesPerKey (index.bytes / size after the inserts), insertsPerSecond, lookupsPerSecond,
 *    deletesPerSecond, bootstrapKeysPerSecond, bootstrapThreads, bootstrapBytesPerKey, peakRssMb, insertPeakRssMb, heapUsedMb}
 * With `--memory-bytes-max N` (bytes) the index of the operations spills to local disk past N bytes of memory
 * (under `--spill-dir D`, by default a temporary directory removed at the end) and the line adds {spilled, runs,
 * diskBytesPerKey} (`bytesPerKey` is then the memory part's); the bootstrap is measured in memory.
 * Run: `npx tsc -p tsconfig.json && node dist/native-bench/index.bench.js --keys 10000000 --key-type long`
 * (100 M long keys: `node --max-old-space-size=8192 dist/native-bench/index.bench.js --keys 100000000 --key-type long`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as arrow from 'apache-arrow';
import type { LoadedTable } from '../src/catalog/catalog.js';
import type { ManifestEntry } from '../src/iceberg/data-file.js';
import type { NestedField } from '../src/iceberg/types.js';
import type { IcebergValue } from '../src/iceberg/values.js';
import { LocalFileIO } from '../src/io/local-file-io.js';
import { bootstrapIntegerKeys, bootstrapKeyBytes } from '../src/worker/index-bootstrap.js';
import { PkIndex, type IndexedFile } from '../src/worker/pk-index.js';
import { encodeParquet } from '../src/writer/parquet.js';

type KeyType = 'long' | 'string' | 'composite';
type Key = (IcebergValue | null)[];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const KEYS = Number(arg('keys', '1000000'));
const KEY_TYPE = arg('key-type', 'long') as KeyType;
/** Threads of the long-key bootstrap (0: as floe picks them, by size and cores). */
const BOOTSTRAP_THREADS = Number(arg('bootstrap-threads', '0'));
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

/** Writes the keys, in visiting order, as Parquet data files of ROWS_PER_FILE rows; returns their paths. */
async function writeFiles(dir: string): Promise<string[]> {
  const paths: string[] = [];
  const meta = (id: number) => new Map([['PARQUET:field_id', String(id)]]);
  for (let start = 0; start < KEYS; start += ROWS_PER_FILE) {
    const end = Math.min(KEYS, start + ROWS_PER_FILE);
    const n = end - start;
    const payload = new Float64Array(n).map((_, i) => i);
    const cols: Record<string, arrow.Vector> = {};
    const fields: arrow.Field[] = [];
    if (KEY_TYPE === 'long') {
      const ids = new BigInt64Array(n);
      for (let i = start; i < end; i++) ids[i - start] = longOf(visit(i));
      cols.id = arrow.makeVector(ids);
      fields.push(new arrow.Field('id', new arrow.Int64(), false, meta(1)));
    } else {
      const keys: Key[] = [];
      for (let i = start; i < end; i++) keys.push(keyOf(visit(i)));
      if (KEY_TYPE === 'string') {
        cols.id = arrow.vectorFromArray(keys.map((k) => k[0] as string), new arrow.Utf8());
        fields.push(new arrow.Field('id', new arrow.Utf8(), false, meta(1)));
      } else {
        cols.id = arrow.makeVector(BigInt64Array.from(keys.map((k) => k[0] as bigint)));
        cols.tenant = arrow.vectorFromArray(keys.map((k) => k[1] as string), new arrow.Utf8());
        fields.push(new arrow.Field('id', new arrow.Int64(), false, meta(1)), new arrow.Field('tenant', new arrow.Utf8(), false, meta(3)));
      }
    }
    cols.v = arrow.makeVector(payload);
    fields.push(new arrow.Field('v', new arrow.Float64(), false, meta(2)));
    const table = new arrow.Table(new arrow.Schema(fields), cols);
    const path = join(dir, `00000-${paths.length}-bench.parquet`);
    await new LocalFileIO().write(path, encodeParquet(table, 'zstd'));
    paths.push(path);
  }
  return paths;
}

const KEY_FIELDS: Record<KeyType, NestedField[]> = {
  long: [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }],
  string: [{ id: 1, name: 'id', required: true, type: { kind: 'string' } }],
  composite: [
    { id: 1, name: 'id', required: true, type: { kind: 'long' } },
    { id: 3, name: 'tenant', required: true, type: { kind: 'string' } },
  ],
};

/** Reads the files' keys into a fresh index as a worker's bootstrap does; returns keys a second and threads used. */
async function bootstrap(paths: readonly string[]): Promise<{ keysPerSecond: number; threads: number; bytesPerKey: number }> {
  const table = { io: new LocalFileIO() } as unknown as LoadedTable;
  const index = new PkIndex(Number.MAX_SAFE_INTEGER);
  const files = paths.map((path, n) => ({
    entry: { sequenceNumber: 1n, dataFile: { filePath: path, recordCount: BigInt(Math.min(ROWS_PER_FILE, KEYS - n * ROWS_PER_FILE)) } } as unknown as ManifestEntry,
    file: { path, specId: 0, partition: [] },
    deleted: [] as number[],
  }));
  const t0 = performance.now();
  let threads = 1;
  if (KEY_TYPE === 'long') {
    const read = await bootstrapIntegerKeys(table, files, 1, false, index, () => {
      throw new Error('the bench keys are distinct');
    }, BOOTSTRAP_THREADS);
    if (typeof read === 'string') throw new Error(`bootstrap refused the files: ${read}`);
    threads = read.threads;
  } else {
    const fields = KEY_FIELDS[KEY_TYPE].map((f) => ({ id: f.id, kind: f.type.kind as 'long' | 'string' }));
    const read = await bootstrapKeyBytes(table, files, fields, index, () => {
      throw new Error('the bench keys are distinct');
    });
    if (typeof read === 'string') throw new Error(`bootstrap refused the files: ${read}`);
  }
  const ms = performance.now() - t0;
  if (index.size !== KEYS) throw new Error(`bootstrap indexed ${index.size} keys, ${KEYS} written`);
  return { keysPerSecond: Math.round(KEYS / (ms / 1000)), threads, bytesPerKey: Number((index.bytes / index.size).toFixed(2)) };
}

/** Inserts, lookups and deletes on one index (dropped on return). */
function operations(): Record<string, number | string | boolean> {
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
  const result = {
    keys: KEYS,
    keyType: KEY_TYPE,
    bytesPerKey: Number(bytesPerKey.toFixed(2)),
    insertsPerSecond: perSecond(KEYS, insertMs),
    lookupsPerSecond: perSecond(lookups, lookupMs),
    deletesPerSecond: perSecond(deletes, deleteMs),
    ...(MEMORY_BYTES_MAX === null ? {} : spill),
  };
  const out = { ...result, insertPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), heapUsedMb: Math.round(heapUsedMb) };
  index.close();
  if (ownDir !== null) rmSync(ownDir, { recursive: true, force: true });
  return out;
}

async function main(): Promise<void> {
  const result = operations();
  // The bootstrap into a fresh index; the one above is unreachable now, and collected first where the bench
  // runs with --expose-gc, so the two do not sit in memory together.
  (globalThis as { gc?: () => void }).gc?.();
  const dir = mkdtempSync(join(tmpdir(), 'floe-index-bench-'));
  try {
    const paths = await writeFiles(dir);
    const b = await bootstrap(paths);
    console.log(JSON.stringify({
      ...result,
      bootstrapKeysPerSecond: b.keysPerSecond,
      bootstrapThreads: b.threads,
      bootstrapBytesPerKey: b.bytesPerKey,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
