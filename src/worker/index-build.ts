/**
 * Reads a table's keys into a primary-key index: the key columns of every live row of the current snapshot
 * (position deletes, deletion vectors and equality deletes applied), with the row's data file and position.
 * The one place floe reads a table's keys (a worker's bootstrap, `floe verify`), so duplicate keys are found
 * the same way everywhere.
 *
 * A key with several live rows breaks the invariant every upsert relies on (one live row per key). floe's own
 * writes never produce one, but a writer that only appends (a Spark backfill, a sink without upserts), or
 * floe before keys beyond int64 were exact, can. Of a key's rows the newest is kept: the highest data sequence
 * number (spec: "Sequence Numbers": the row was added by a later commit, so it carries the later state); among
 * rows of one sequence number, which one commit wrote (floe never does), the last by file path and position,
 * so every replica picks the same one. The others are listed as repairs: position deletes that leave the table
 * with one row per key.
 */
import type { LoadedTable } from '../catalog/catalog.js';
import { DataFileContent, type ManifestEntry } from '../iceberg/data-file.js';
import { deletedPositions, scanDataFiles } from '../iceberg/scan.js';
import { liveEntries } from '../iceberg/snapshot-files.js';
import { FloeError, assert } from '../errors.js';
import { bootstrapIntegerKeys, bootstrapKeyBytes, type IntKeyFile } from './index-bootstrap.js';
import type { KeyColumnKind } from './key-columns.js';
import type { NestedField } from '../iceberg/types.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { PkIndex, type IndexedFile, type PkIndexOptions } from './pk-index.js';

type Values = readonly (IcebergValue | null)[];

/** One live row of a table: where it is, and the sequence number of the commit that added it. */
export interface RowAt {
  readonly file: IndexedFile;
  readonly pos: number;
  readonly sequenceNumber: bigint;
}

/** A row that must be deleted so its key has one live row again. */
export interface Repair extends RowAt {
  readonly key: Values;
}

export interface DuplicateExample {
  readonly key: Values;
  readonly kept: RowAt;
  readonly dropped: RowAt[];
}

export interface KeyIndexBuild {
  readonly index: PkIndex;
  /** Live rows read. */
  readonly rows: number;
  /** Keys with more than one live row. */
  readonly duplicateKeys: number;
  /**
   * Every row but the kept one of each duplicate key (rows − distinct keys). Empty under `collectRepairs:
   * false` (`floe verify` counts them as rows − index.size and holds no row it will not delete).
   */
  readonly repairs: Repair[];
  /** The first `examplesMax` duplicate keys, with their rows. */
  readonly examples: DuplicateExample[];
}

/** Duplicate keys reported with their rows (in logs, errors and `floe verify`). */
export const DUPLICATE_EXAMPLES_MAX = 5;

/** Whether row `a` is newer than row `b` (see the module comment: sequence number, then path, then position). */
export function isNewerRow(a: RowAt, b: RowAt): boolean {
  if (a.sequenceNumber !== b.sequenceNumber) return a.sequenceNumber > b.sequenceNumber;
  if (a.file.path !== b.file.path) return a.file.path > b.file.path;
  return a.pos > b.pos;
}

/** Keeps, of a key's rows, the newest (`isNewerRow`) in the index and lists the others as repairs. */
class Duplicates {
  readonly repairs: Repair[] = [];
  readonly duplicated = new Set<string>();
  readonly examples = new Map<string, DuplicateExample>();

  constructor(
    private readonly index: PkIndex,
    private readonly sequenceOf: ReadonlyMap<string, bigint>,
    private readonly collectRepairs: boolean,
    private readonly examplesMax: number,
  ) {}

  /** A row whose key the index holds already at another row. */
  add(key: Values, row: RowAt): void {
    const prev = this.index.get(key);
    assert(prev !== undefined, 'a duplicate key is held by the index');
    const held: RowAt = { file: prev.file, pos: prev.pos, sequenceNumber: this.sequenceOf.get(prev.file.path) ?? 0n };
    const keep = isNewerRow(row, held) ? row : held;
    const drop = keep === row ? held : row;
    if (keep === row) this.index.set(key, row.file, row.pos);
    if (this.collectRepairs) this.repairs.push({ key: [...key], ...drop });
    const text = valuesKey(key);
    this.duplicated.add(text);
    const ex = this.examples.get(text);
    if (ex !== undefined) {
      this.examples.set(text, { key: ex.key, kept: keep, dropped: [...ex.dropped, drop] });
    } else if (this.examples.size < this.examplesMax) {
      this.examples.set(text, { key: [...key], kept: keep, dropped: [drop] });
    }
  }
}

export interface BuildOptions {
  readonly keysMax?: number;
  readonly examplesMax?: number;
  readonly collectRepairs?: boolean;
  /** Threads of an integer-key bootstrap (index-bootstrap.ts); 0 or absent: by size and cores. */
  readonly threads?: number;
  /** Only the keys it accepts (a replica's partitions: key-shard.ts); rows of other keys are not read into the index. */
  readonly keep?: (key: Values) => boolean;
  /** How the index is held (its spill directory and memory budget: pk-index.ts). */
  readonly index?: PkIndexOptions;
}

/**
 * The index of `table`'s current snapshot over `keyFields`, and the table's duplicate keys. Throws
 * FloeError('index_full') when the keys exceed `keysMax`. With `keep`, only the keys it accepts (and `rows`
 * counts their rows).
 *
 * Without equality deletes in the table, the key columns are read without a value per row (index-bootstrap.ts):
 * one integer column as raw words, in parallel for a large table; int, long and string columns (a UUID, a
 * composite key) as canonical key bytes. Any other key, or a file those readers refuse, by values.
 */
export async function buildKeyIndex(table: LoadedTable, keyFields: readonly NestedField[], opts: BuildOptions = {}): Promise<KeyIndexBuild> {
  const entries = await liveEntries(table);
  const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA);
  const sequenceOf = new Map(data.map((e) => [e.dataFile.filePath, e.sequenceNumber ?? 0n]));
  const only = keyFields.length === 1 ? keyFields[0] : undefined;
  const integer = only !== undefined && (only.type.kind === 'int' || only.type.kind === 'long') ? only : null;
  const asBytes = keyFields.every((f) => f.type.kind === 'int' || f.type.kind === 'long' || f.type.kind === 'string');
  if ((integer !== null || asBytes) && !entries.some((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES)) {
    const index = new PkIndex(opts.keysMax, opts.index);
    const dups = new Duplicates(index, sequenceOf, opts.collectRepairs ?? true, opts.examplesMax ?? DUPLICATE_EXAMPLES_MAX);
    const deleted = await deletedPositions(table, entries, data);
    const files: IntKeyFile[] = data.map((e) => ({
      entry: e,
      file: { path: e.dataFile.filePath, specId: e.dataFile.specId, partition: e.dataFile.partition },
      deleted: deleted.get(e.dataFile.filePath) ?? [],
    }));
    const onDuplicate = (key: Values, row: RowAt): void => dups.add(key, row);
    const read = integer !== null
      ? await bootstrapIntegerKeys(table, files, integer.id, integer.type.kind === 'int', index, onDuplicate, opts.threads ?? 0, opts.keep)
      : await bootstrapKeyBytes(table, files, keyFields.map((f) => ({ id: f.id, kind: f.type.kind as KeyColumnKind })), index, onDuplicate, opts.keep);
    if (typeof read !== 'string') return { index, rows: read.rows, duplicateKeys: dups.duplicated.size, repairs: dups.repairs, examples: [...dups.examples.values()] };
    // A file without a key column (written before it was added), with nulls in it, or not UTF-8: by values.
    index.close();
  }
  return byValues(table, keyFields, opts, entries, data, sequenceOf);
}

/**
 * `buildKeyIndex` reading the key values of every live row (`scanDataFiles`): for keys of other types, a table
 * with equality deletes, or files the column readers refuse; and the reference the faster paths are tested against.
 */
export async function buildKeyIndexByValues(table: LoadedTable, keyFields: readonly NestedField[], opts: BuildOptions = {}): Promise<KeyIndexBuild> {
  const entries = await liveEntries(table);
  const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA);
  return byValues(table, keyFields, opts, entries, data, new Map(data.map((e) => [e.dataFile.filePath, e.sequenceNumber ?? 0n])));
}

async function byValues(
  table: LoadedTable,
  keyFields: readonly NestedField[],
  opts: BuildOptions,
  entries: readonly ManifestEntry[],
  data: readonly ManifestEntry[],
  sequenceOf: ReadonlyMap<string, bigint>,
): Promise<KeyIndexBuild> {
  const collectRepairs = opts.collectRepairs ?? true;
  const examplesMax = opts.examplesMax ?? DUPLICATE_EXAMPLES_MAX;
  const index = new PkIndex(opts.keysMax, opts.index);
  const dups = new Duplicates(index, sequenceOf, collectRepairs, examplesMax);
  const files = new Map<string, IndexedFile>();
  let rows = 0;
  const keep = opts.keep;
  await scanDataFiles(table, entries, data, keyFields, (file, pos, key, sequenceNumber) => {
    if (keep !== undefined && !keep(key)) return;
    rows++;
    let f = files.get(file.filePath);
    if (f === undefined) {
      f = { path: file.filePath, specId: file.specId, partition: file.partition };
      files.set(file.filePath, f);
    }
    if (index.get(key) === undefined) index.set(key, f, pos);
    else dups.add(key, { file: f, pos, sequenceNumber });
  });
  return { index, rows, duplicateKeys: dups.duplicated.size, repairs: dups.repairs, examples: [...dups.examples.values()] };
}

/** A key as `col=value, col=value` for messages (bigints and byte arrays spelled exactly). */
export function keyText(names: readonly string[], key: Values): string {
  return key.map((v, i) => `${names[i] ?? `#${i}`}=${v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : String(v)}`).join(', ');
}

/** A duplicate key for a log line or an error: the key and where its rows are. */
export function describeDuplicate(names: readonly string[], d: DuplicateExample): string {
  const at = (r: RowAt): string => `${r.file.path}#${r.pos} (sequence ${r.sequenceNumber})`;
  return `${keyText(names, d.key)}: kept ${at(d.kept)}, dropped ${d.dropped.map(at).join(', ')}`;
}

/** The 'duplicate_keys' stop of a table under `onDuplicateKeys: fail`. */
export function duplicateKeysError(table: string, keys: number, rowsTooMany: number, names: readonly string[], firstKey: Values | null, example: string): FloeError {
  return new FloeError(
    'duplicate_keys',
    `table ${table} has ${keys} key(s) with several live rows (${rowsTooMany} row(s) too many), e.g. ${example}; ` +
      `\`floe verify --table ${table}\` lists them; tables.overrides."${table}".onDuplicateKeys: repair keeps each key's newest row and deletes the others`,
    { table, key: firstKey === null ? null : keyText(names, firstKey) },
  );
}
