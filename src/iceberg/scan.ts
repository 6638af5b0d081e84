/**
 * A plain table scan that applies deletes as the spec says ("Scan Planning"):
 *   - a position delete applies to a data file with data sequence number <= the delete's sequence number;
 *   - an equality delete applies to a data file with data sequence number <  the delete's sequence number;
 *   - either only in the same partition, or anywhere when the delete file's spec is unpartitioned.
 * Used by `floe demo`, by tests as floe's own reader, to bootstrap key indexes, and by table maintenance to read
 * the files it rewrites. Not a query engine:
 * it reads whole files into memory.
 */
import * as arrow from 'apache-arrow';
import type { LoadedTable } from '../catalog/catalog.js';
import { liveEntries } from './snapshot-files.js';
import { decodeParquetColumns } from '../writer/parquet.js';
import { arrowValue } from '../writer/column-builder.js';
import { DataFileContent, isDeletionVector, type DataFile, type ManifestEntry } from './data-file.js';
import { readDeletionVector } from './deletion-vector.js';
import { currentSchema, specsById } from './table-metadata.js';
import type { PartitionSpec } from './partition-spec.js';
import type { NestedField, PrimitiveType } from './types.js';
import { valuesKey, type IcebergValue } from './values.js';

export type Row = Record<string, IcebergValue | null>;

/** Options of a read. */
export interface ReadOptions {
  /**
   * A column a data file does not have (added to the schema after the file was written) reads its
   * `initial-default` (spec v3: "Default values") instead of null. A rewrite must carry that value into the files
   * it writes, where the column then exists.
   */
  readonly initialDefaults?: boolean;
}

/** Reads a Parquet file's rows, mapping columns by Parquet field id to the table schema's fields. */
export async function readColumns(table: LoadedTable, path: string, fields: readonly NestedField[], opts: ReadOptions = {}): Promise<(IcebergValue | null)[][]> {
  // Only the columns asked for (an index build reads the key columns of wide tables).
  const t = await decodeParquetColumns(await table.io.read(path), fields.map((f) => f.id));
  const byId = new Map<number, arrow.Vector>();
  t.schema.fields.forEach((f, i) => {
    const id = f.metadata.get('PARQUET:field_id');
    const col = t.getChildAt(i);
    if (id !== undefined && col !== null) byId.set(Number(id), col);
  });
  const out: (IcebergValue | null)[][] = [];
  for (let r = 0; r < t.numRows; r++) {
    out.push(fields.map((f) => {
      const col = byId.get(f.id);
      if (col === undefined) return opts.initialDefaults === true ? (f.initialDefault ?? null) : null;
      return arrowValue(f.type as PrimitiveType, col, r);
    }));
  }
  return out;
}
/** Position delete file columns (spec: "Position Delete Files"): file_path (2147483546), pos (2147483545). */
const POSITION_DELETE_FIELDS: readonly NestedField[] = [
  { id: 2147483546, name: 'file_path', required: true, type: { kind: 'string' } },
  { id: 2147483545, name: 'pos', required: true, type: { kind: 'long' } },
];

/** The rows of a (Parquet) position delete file: deleted positions by data file path. */
export async function readPositionDeletes(table: LoadedTable, path: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [p, pos] of await readColumns(table, path, POSITION_DELETE_FIELDS)) {
    let list = out.get(p as string);
    if (list === undefined) out.set(p as string, (list = []));
    list.push(Number(pos));
  }
  return out;
}

/** A data or delete file's partition as a key: its spec id and partition values. */
export function partitionKeyOf(f: DataFile): string {
  return `${f.specId}/${valuesKey(f.partition)}`;
}

/**
 * Whether a delete file applies to a data file (spec: "Scan Planning"), but for the file_path test of position
 * delete files that name no single data file:
 *   - a position delete or deletion vector: the data file's data sequence number <= the delete's;
 *   - an equality delete: the data file's data sequence number <  the delete's;
 *   - both: the same spec and partition, or the delete file's spec is unpartitioned.
 */
export function deleteApplies(d: ManifestEntry, data: ManifestEntry, specs: ReadonlyMap<number, PartitionSpec>): boolean {
  const f = d.dataFile;
  const dataSeq = data.sequenceNumber ?? 0n;
  const deleteSeq = d.sequenceNumber ?? 0n;
  if (f.content === DataFileContent.EQUALITY_DELETES ? !(dataSeq < deleteSeq) : !(dataSeq <= deleteSeq)) return false;
  if (f.content === DataFileContent.POSITION_DELETES && f.referencedDataFile !== undefined && f.referencedDataFile !== data.dataFile.filePath) return false;
  return inDeleteScope(f, data.dataFile, specs);
}

/** The partition half of the rule: same spec and partition, or the delete file's spec is unpartitioned. */
export function inDeleteScope(deleteFile: DataFile, dataFile: DataFile, specs: ReadonlyMap<number, PartitionSpec>): boolean {
  if (specs.get(deleteFile.specId)?.isUnpartitioned !== false) return true;
  return deleteFile.specId === dataFile.specId && valuesKey(deleteFile.partition) === valuesKey(dataFile.partition);
}

/** The rows of an equality delete file, as valuesKey of its equality columns (in `equality_ids` order). */
export async function readEqualityKeys(table: LoadedTable, d: DataFile): Promise<Set<string>> {
  const schema = currentSchema(table.metadata);
  const fields = (d.equalityIds ?? []).map((id) => schema.fieldOrThrow(id));
  return new Set((await readColumns(table, d.filePath, fields)).map(valuesKey));
}

/** Visits a live row: its data file, its position there, the values asked for, and its file's data sequence number. */
export type LiveRowVisitor = (file: DataFile, pos: number, values: readonly (IcebergValue | null)[], sequenceNumber: bigint) => void;

/**
 * Visits every live row of the table's current snapshot (deletes applied): its data file, its position in
 * that file, the values of `fields` (the table's columns, or a subset such as the key columns), and the data
 * sequence number of its file (spec: "Sequence Numbers": the commit that added the row; a later commit has a
 * higher one).
 */
export async function scanLive(table: LoadedTable, fields: readonly NestedField[], visit: LiveRowVisitor): Promise<void> {
  const entries = await liveEntries(table);
  await scanDataFiles(table, entries, entries.filter((e) => e.dataFile.content === DataFileContent.DATA), fields, visit);
}

/**
 * Visits the live rows of some data files of one snapshot (`files`, among that snapshot's live `entries`), with
 * every delete of the snapshot that applies to them applied; reads only the delete files that may apply to them.
 * What a rewrite reads (table maintenance), and, over all data files, `scanLive`.
 */
export async function scanDataFiles(
  table: LoadedTable,
  entries: readonly ManifestEntry[],
  files: readonly ManifestEntry[],
  fields: readonly NestedField[],
  visit: LiveRowVisitor,
  opts: ReadOptions = {},
): Promise<void> {
  const schema = currentSchema(table.metadata);
  const specs = specsById(table.metadata);
  const wanted = new Map(files.map((e) => [e.dataFile.filePath, e]));
  const partitions = new Set(files.map((e) => partitionKeyOf(e.dataFile)));
  const mayApply = (d: DataFile): boolean =>
    d.referencedDataFile !== undefined ? wanted.has(d.referencedDataFile) : specs.get(d.specId)?.isUnpartitioned !== false || partitions.has(partitionKeyOf(d));
  const posDeletes = entries.filter((e) => e.dataFile.content === DataFileContent.POSITION_DELETES && mayApply(e.dataFile));
  const eqDeletes = entries.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES && mayApply(e.dataFile));

  const deletedOf = await deletedPositions(table, posDeletes, files);
  const eq: { entry: ManifestEntry; ids: readonly number[]; keys: Set<string> }[] = [];
  for (const d of eqDeletes) eq.push({ entry: d, ids: d.dataFile.equalityIds ?? [], keys: await readEqualityKeys(table, d.dataFile) });

  for (const e of files) {
    const seq = e.sequenceNumber ?? 0n;
    const deletedPos = new Set(deletedOf.get(e.dataFile.filePath) ?? []);
    const applicableEq = eq.filter((x) => deleteApplies(x.entry, e, specs));
    // Read the requested columns plus the equality delete columns.
    const eqIds = [...new Set(applicableEq.flatMap((x) => x.ids))].filter((id) => !fields.some((f) => f.id === id));
    const readFields = [...fields, ...eqIds.map((id) => schema.fieldOrThrow(id))];
    const rows = await readColumns(table, e.dataFile.filePath, readFields, opts);
    const idIndex = applicableEq.map((x) => x.ids.map((id) => readFields.findIndex((f) => f.id === id)));
    rows.forEach((values, i) => {
      if (deletedPos.has(i)) return;
      for (let k = 0; k < applicableEq.length; k++) {
        const idx = idIndex[k] as number[];
        if ((applicableEq[k] as (typeof eq)[number]).keys.has(valuesKey(idx.map((j) => values[j] ?? null)))) return;
      }
      visit(e.dataFile, i, values.length === fields.length ? values : values.slice(0, fields.length), seq);
    });
  }
}

/**
 * The deleted positions of each of the data files `files` (ascending, each once): of the position deletes and
 * deletion vectors among `deletes`, those in scope (same spec and partition, or an unpartitioned delete) whose
 * sequence number is at least the data file's (spec: "Scan Planning": a position delete applies to data files
 * with data sequence number <= its own).
 */
export async function deletedPositions(table: LoadedTable, deletes: readonly ManifestEntry[], files: readonly ManifestEntry[]): Promise<Map<string, number[]>> {
  const specs = specsById(table.metadata);
  const wanted = new Map(files.map((e) => [e.dataFile.filePath, e]));
  const out = new Map<string, number[]>();
  const add = (d: ManifestEntry, path: string, list: Iterable<number>): void => {
    const target = wanted.get(path);
    if (target === undefined || !inDeleteScope(d.dataFile, target.dataFile, specs)) return;
    if (!((target.sequenceNumber ?? 0n) <= (d.sequenceNumber ?? 0n))) return;
    let all = out.get(path);
    if (all === undefined) out.set(path, (all = []));
    for (const pos of list) all.push(pos);
  };
  const puffins = new Map<string, Promise<Uint8Array>>();
  for (const d of deletes) {
    if (d.dataFile.content !== DataFileContent.POSITION_DELETES) continue;
    if (isDeletionVector(d.dataFile)) {
      // A deletion vector (v3) holds every deleted position of its file, v2 position deletes merged in.
      add(d, d.dataFile.referencedDataFile ?? '', await readDeletionVector(table.io, d.dataFile, puffins));
      continue;
    }
    for (const [p, list] of await readPositionDeletes(table, d.dataFile.filePath)) add(d, p, list);
  }
  for (const [path, list] of out) {
    list.sort((a, b) => a - b);
    let n = 0;
    for (let i = 0; i < list.length; i++) if (i === 0 || list[i] !== list[n - 1]) list[n++] = list[i] as number;
    list.length = n;
    out.set(path, list);
  }
  return out;
}

/** Position delete files' `file_path` column: its bounds say which data files a delete file can name. */
const FILE_PATH_FIELD_ID = 2147483546;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/**
 * Of a snapshot's delete files, those that may apply to the data files `paths` (the smallest data sequence
 * number among them `minDataSequence`): a deletion vector names its file (`referenced_data_file`); a position
 * delete file names it too, or its `file_path` bounds must admit one of the paths (bounds may be truncated
 * prefixes: the lower bound is a prefix of a smaller value, the upper bound is rounded up, as the spec's
 * "Metrics" truncation does); an equality delete applies to files with a lower data sequence number. So reading
 * a few data files costs the deletes that can touch them, not every delete file of the table.
 */
export function deletesFor(deletes: readonly ManifestEntry[], paths: ReadonlySet<string>, minDataSequence: bigint): ManifestEntry[] {
  const encoded = [...paths].map((p) => Buffer.from(p));
  return deletes.filter((d) => {
    const f = d.dataFile;
    if (f.content === DataFileContent.EQUALITY_DELETES) return (d.sequenceNumber ?? 0n) > minDataSequence;
    if ((d.sequenceNumber ?? 0n) < minDataSequence) return false; // applies only to files of lower or equal sequence
    if (f.referencedDataFile !== undefined) return paths.has(f.referencedDataFile);
    const lower = f.lowerBounds?.get(FILE_PATH_FIELD_ID);
    const upper = f.upperBounds?.get(FILE_PATH_FIELD_ID);
    if (lower === undefined || upper === undefined) return true;
    return encoded.some((p) => compareBytes(lower, p) <= 0 && compareBytes(p.subarray(0, upper.length), upper) <= 0);
  });
}

/** `scanDataFiles` with the deletes given apart (all of the snapshot's, or those `deletesFor` selects). */
export async function scanEntries(table: LoadedTable, fields: readonly NestedField[], data: readonly ManifestEntry[], deletes: readonly ManifestEntry[], visit: LiveRowVisitor): Promise<void> {
  await scanDataFiles(table, deletes, data, fields, visit);
}

export async function scanTable(table: LoadedTable): Promise<Row[]> {
  const schema = currentSchema(table.metadata);
  const out: Row[] = [];
  await scanLive(table, schema.fields, (_file, _pos, values) => {
    const row: Row = {};
    schema.fields.forEach((f, j) => {
      row[f.name] = values[j] ?? null;
    });
    out.push(row);
  });
  return out;
}
