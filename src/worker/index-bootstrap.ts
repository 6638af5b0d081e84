/**
 * The bootstrap of a table's key index from its key columns only, without a value object per row:
 *   - one integer column (a MySQL `BIGINT`/`INT` primary key: most CDC tables) as raw words (writer/parquet-int-column.ts),
 *     in parallel across threads when the table is large;
 *   - `int`/`long`/`string` columns (a UUID, a composite key) as the index's canonical key bytes, one thread.
 *
 * Parallel: the index's slots are cut into segments by the top bits of each key's mix (pk-slots.ts); thread k
 * builds the segments of range k. The owner (this module, in the worker that owns the table) reads and decodes
 * each file once into a SharedArrayBuffer, plans its locations (page ids, pk-locations.ts) and hands it to every
 * thread, `FILES_IN_FLIGHT` files ahead; each thread inserts the keys of its own segments. At the end each
 * thread hands its segments over (transferred, not copied) and the owner adopts them; keys seen twice (a table
 * with duplicate keys) come back as duplicates for the caller to resolve (index-build.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LoadedTable } from '../catalog/catalog.js';
import { FloeError, assert, type FloeErrorCode } from '../errors.js';
import type { ManifestEntry } from '../iceberg/data-file.js';
import type { IcebergValue } from '../iceberg/values.js';
import { readIntColumn } from '../writer/parquet-int-column.js';
import type { FileTask, ToOwner, ToThread } from './index-bootstrap-wire.js';
import { readKeyRows, type KeyColumnKind, type KeyWordsRefusal } from './key-columns.js';
import { decodeKeyBytes, int64Of, unmixInt64, mixed } from './pk-key-bytes.js';
import type { IndexedFile, PkIndex } from './pk-index.js';
import { SEGMENT_COUNT } from './pk-slots.js';

type Values = readonly (IcebergValue | null)[];

/** Below this many live rows one thread is faster than starting several. */
export const PARALLEL_ROWS_MIN = 2_000_000;
/** Threads of one bootstrap at most (beyond the machine's cores they only contend). */
export const BOOTSTRAP_THREADS_MAX = 8;
/** Decoded files handed to the threads and not yet inserted by all of them: bounds the key words in memory. */
const FILES_IN_FLIGHT = 3;

export interface IntKeyBootstrap {
  readonly rows: number;
  readonly files: number;
  readonly threads: number;
}

/** A row whose key the index held already: the caller keeps the newer of the two (index-build.ts). */
export type OnDuplicate = (key: Values, row: { readonly file: IndexedFile; readonly pos: number; readonly sequenceNumber: bigint }) => void;

export interface IntKeyFile {
  readonly entry: ManifestEntry;
  readonly file: IndexedFile;
  /** Deleted positions, ascending. */
  readonly deleted: readonly number[];
}

/**
 * Inserts the keys of every live row of `files` into `index` (which holds no key yet). Returns what it read, or a
 * refusal when a file's key column cannot be read as integer words (the caller reads the table the general way,
 * into a fresh index). `threads`: 0 picks by size and cores.
 */
export async function bootstrapIntegerKeys(
  table: LoadedTable,
  files: readonly IntKeyFile[],
  keyFieldId: number,
  int32: boolean,
  index: PkIndex,
  onDuplicate: OnDuplicate,
  threads = 0,
  keep?: (key: Values) => boolean,
): Promise<IntKeyBootstrap | KeyWordsRefusal | 'row_count'> {
  assert(index.size === 0, 'a bootstrap starts from an empty index', { keys: index.size });
  const rows = liveRows(files);
  // A shard's filter needs each key's value: one thread (the filter's key template is not shared with threads).
  // Threads build the whole index in memory: only what fits the budget (a larger one spills as it is built).
  const k = keep !== undefined || !index.fitsInMemory(rows) ? 1 : threads > 0 ? threads : rows < PARALLEL_ROWS_MIN ? 1 : Math.min(availableParallelism(), BOOTSTRAP_THREADS_MAX, files.length);
  const keyOf = (words: Int32Array, i: number): Values => [int32 ? (words[i] as number) : int64Of(words[2 * i + 1] as number, words[2 * i] as number)];
  if (k <= 1) {
    if (keep === undefined) index.reserve(rows, true);
    let read = 0;
    for (const f of files) {
      const words = await readIntColumn(await table.io.read(f.file.path), keyFieldId);
      if (typeof words === 'string') return words;
      if (words.int32 !== int32) return 'not_an_integer';
      if (BigInt(words.rows) !== f.entry.dataFile.recordCount) return 'row_count';
      const seq = f.entry.sequenceNumber ?? 0n;
      const skipped = keep === undefined ? f.deleted : skippedRows(words.rows, f.deleted, (i) => keep(keyOf(words.words, i)));
      for (const pos of index.insertIntsIfAbsent(words.words, words.rows, int32, f.file, skipped)) onDuplicate(keyOf(words.words, pos), { file: f.file, pos, sequenceNumber: seq });
      read += words.rows - skipped.length;
    }
    return { rows: read, files: files.length, threads: 1 };
  }
  return parallel(table, files, keyFieldId, int32, index, onDuplicate, k, rows);
}

/**
 * Inserts the keys of every live row of `files` into `index` (which holds no key yet) when the key is not one
 * integer column but all its columns are `int`, `long` or `string`: each file's key columns are written as
 * canonical key bytes straight from the decoded columns (key-columns.ts), one thread. Returns what it read, or
 * a refusal (a file without a key column, with nulls, or with a string that is not well-formed UTF-8).
 */
export async function bootstrapKeyBytes(
  table: LoadedTable,
  files: readonly IntKeyFile[],
  fields: readonly { readonly id: number; readonly kind: KeyColumnKind }[],
  index: PkIndex,
  onDuplicate: OnDuplicate,
  keep?: (key: Values) => boolean,
): Promise<IntKeyBootstrap | KeyWordsRefusal | 'row_count'> {
  assert(index.size === 0, 'a bootstrap starts from an empty index', { keys: index.size });
  const rows = liveRows(files);
  // Sized once (a shard's filter keeps an unknown share: then the slots grow as keys come).
  if (keep === undefined) index.reserve(rows, false);
  let read = 0;
  // A key's values, integers as their column's type (an int column's as a number).
  const valuesOf = (b: Uint8Array): Values => decodeKeyBytes(b).map((v, c) => ((fields[c] as { kind: KeyColumnKind }).kind === 'int' ? Number(v) : v));
  for (const f of files) {
    const rows = await readKeyRows(await table.io.read(f.file.path), fields);
    if (typeof rows === 'string') return rows;
    if (BigInt(rows.rows) !== f.entry.dataFile.recordCount) return 'row_count';
    const seq = f.entry.sequenceNumber ?? 0n;
    let d = 0;
    for (let i = 0; i < rows.rows; i++) {
      if (d < f.deleted.length && f.deleted[d] === i) {
        d++;
        continue;
      }
      const start = i === 0 ? 0 : (rows.ends[i - 1] as number);
      const end = rows.ends[i] as number;
      if (keep !== undefined && !keep(valuesOf(rows.bytes.subarray(start, end)))) continue;
      read++;
      if (index.insertKeyBytesIfAbsent(rows.bytes, start, end, f.file, i)) continue;
      onDuplicate(valuesOf(rows.bytes.subarray(start, end)), { file: f.file, pos: i, sequenceNumber: seq }); // rare
    }
  }
  return { rows: read, files: files.length, threads: 1 };
}

/** Live rows of `files`, by their manifests' record counts less their deleted positions. */
function liveRows(files: readonly IntKeyFile[]): number {
  let rows = 0;
  for (const f of files) rows += Number(f.entry.dataFile.recordCount) - f.deleted.length;
  return rows;
}

/** The rows to skip: the deleted ones (ascending) and those whose key `keep` does not accept, ascending. */
function skippedRows(rows: number, deleted: readonly number[], keep: (i: number) => boolean): number[] {
  const out: number[] = [];
  let d = 0;
  for (let i = 0; i < rows; i++) {
    if (d < deleted.length && deleted[d] === i) {
      d++;
      out.push(i);
    } else if (!keep(i)) {
      out.push(i);
    }
  }
  return out;
}

/** One bootstrap thread, its replies handed to whoever waits for them. */
class ThreadHandle {
  private readonly waiting = new Map<string, (m: ToOwner) => void>();
  private failure: Error | null = null;
  private readonly failed: Promise<never>;
  private fail: (e: Error) => void = () => undefined;

  constructor(readonly worker: Worker) {
    this.failed = new Promise<never>((_resolve, reject) => {
      this.fail = reject;
    });
    // Observed here so a failure while nobody waits is not an unhandled rejection; `reply` races it.
    this.failed.catch(() => undefined);
    worker.on('message', (m: ToOwner) => {
      if (m.t === 'failed') return this.die(m.code !== null ? new FloeError(m.code as FloeErrorCode, `index bootstrap thread: ${m.message}`) : new Error(`index bootstrap thread: ${m.message}`));
      const key = m.t === 'fileDone' ? `file:${m.id}` : m.t;
      const w = this.waiting.get(key);
      assert(w !== undefined, 'a bootstrap thread replies to a request', { reply: key });
      this.waiting.delete(key);
      w(m);
    });
    worker.on('error', (e) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`index bootstrap thread exited (code ${code})`)));
  }

  private die(e: Error): void {
    if (this.failure !== null) return;
    this.failure = e;
    this.fail(e);
  }

  /** Posts `m` and waits for the reply `key`. */
  async ask(m: ToThread, key: string, transfer: ArrayBuffer[] = []): Promise<ToOwner> {
    if (this.failure !== null) throw this.failure;
    const reply = new Promise<ToOwner>((resolve) => this.waiting.set(key, resolve));
    this.worker.postMessage(m, transfer);
    return Promise.race([reply, this.failed]);
  }
}

/** The words of a key column in a SharedArrayBuffer: one copy every thread reads. */
function shared(words: Int32Array): Int32Array {
  const out = new Int32Array(new SharedArrayBuffer(words.byteLength));
  out.set(words);
  return out;
}

async function parallel(
  table: LoadedTable,
  files: readonly IntKeyFile[],
  keyFieldId: number,
  int32: boolean,
  index: PkIndex,
  onDuplicate: OnDuplicate,
  k: number,
  rows: number,
): Promise<IntKeyBootstrap | KeyWordsRefusal | 'row_count'> {
  const ranges = Array.from({ length: k }, (_, i) => ({ from: Math.floor((i * SEGMENT_COUNT) / k), to: Math.floor(((i + 1) * SEGMENT_COUNT) / k) }));
  const handles = ranges.map((_, self) => new ThreadHandle(new Worker(new URL('./index-bootstrap-thread.js', import.meta.url), { workerData: { floeIndexBootstrap: { self, ranges, reserveKeys: rows } } })));
  try {
    // The owner decodes each file once (the threads insert meanwhile), at most FILES_IN_FLIGHT files ahead.
    let read = 0;
    const inFlight: Promise<ToOwner[]>[] = [];
    for (const [id, f] of files.entries()) {
      const words = await readIntColumn(await table.io.read(f.file.path), keyFieldId);
      if (typeof words === 'string') return words;
      if (words.int32 !== int32) return 'not_an_integer';
      if (BigInt(words.rows) !== f.entry.dataFile.recordCount) return 'row_count';
      const task: FileTask = { t: 'file', id, words: shared(words.words), int32, rows: words.rows, pages: index.planFile(f.file, words.rows), deleted: Int32Array.from(f.deleted) };
      inFlight.push(Promise.all(handles.map((h) => h.ask(task, `file:${id}`))));
      if (inFlight.length >= FILES_IN_FLIGHT) for (const r of await (inFlight.shift() as Promise<ToOwner[]>)) if (r.t === 'fileDone') read += r.rows;
    }
    for (const rs of await Promise.all(inFlight)) for (const r of rs) if (r.t === 'fileDone') read += r.rows;
    const done = await Promise.all(handles.map((h) => h.ask({ t: 'finish' }, 'done')));
    const dups: Uint32Array[] = [];
    for (const d of done) {
      assert(d.t === 'done', 'a bootstrap thread ends with its segments');
      index.adoptInts(d.part, d.pageRows);
      dups.push(d.dups);
    }
    const seqOf = new Map(files.map((f) => [f.file.path, f.entry.sequenceNumber ?? 0n]));
    for (const list of dups) {
      for (let at = 0; at < list.length; at += 4) {
        unmixInt64(list[at] as number, list[at + 1] as number);
        const value = int64Of(mixed.hi, mixed.lo);
        const where = index.locationAt((list[at + 2] as number) * 2 ** 32 + (list[at + 3] as number));
        onDuplicate([int32 ? Number(value) : value], { file: where.file, pos: where.pos, sequenceNumber: seqOf.get(where.file.path) ?? 0n });
      }
    }
    return { rows: read, files: files.length, threads: k };
  } finally {
    await Promise.all(handles.map((h) => h.worker.terminate()));
  }
}
