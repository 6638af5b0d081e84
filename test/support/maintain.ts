// Tables with a history for the maintenance tests (appends, upserts by equality delete, position deletes or deletion vectors, whole-file removals), a catalog that lets a concurrent writer in before a commit, and an independent oracle of what each snapshot reaches.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalog, LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { DataFileContent, ManifestEntryStatus } from '../../src/iceberg/data-file.js';
import { readManifest, readManifestList } from '../../src/iceberg/manifest.js';
import { scanTable, type Row } from '../../src/iceberg/scan.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import type { Snapshot } from '../../src/iceberg/snapshot.js';
import { currentSchema, specsById, type TableMetadata, type TableRequirement, type TableUpdate } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import type { FileInfo, FileIO } from '../../src/io/file-io.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import { appendRows, deleteByPosition, Expected, upsertRows } from './table-ops.js';

export const SCHEMA = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }], ['id']);

export async function tempCatalog<IO extends LocalFileIO = LocalFileIO>(prefix: string, io: IO = new LocalFileIO() as IO): Promise<{ dir: string; io: IO; catalog: SqlCatalog }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io });
  await catalog.createNamespace(['db']);
  return { dir, io, catalog };
}

/** The rows of a table, sorted by id, as comparable text. */
export async function rowsText(table: LoadedTable): Promise<string[]> {
  return (await scanTable(table)).map(rowText).sort();
}

export function rowText(r: Row): string {
  return `${String(r.id).padStart(6, '0')}=${String(r.v)}`;
}

export function expectedText(e: Expected): string[] {
  return e.list().map(rowText).sort();
}

/** The table as if main pointed at `snapshotId` (to read a retained older snapshot). */
export function at(table: LoadedTable, snapshotId: bigint): LoadedTable {
  return { ...table, metadata: { ...table.metadata, currentSnapshotId: snapshotId, refs: { ...table.metadata.refs, main: { snapshotId, type: 'branch' } } } };
}

/** Deletes rows by deletion vector (v3): every live row whose id `pick` chooses, in files live now. */
export async function deleteByVector(catalog: Catalog, table: LoadedTable, pick: (id: bigint) => boolean, expected: Expected): Promise<LoadedTable> {
  const byFile: [string, Float64Array][] = [];
  for (const e of (await liveEntries(table)).filter((x) => x.dataFile.content === DataFileContent.DATA)) {
    const t = decodeParquet(await table.io.read(e.dataFile.filePath));
    const ids = t.getChild('id')!;
    const vs = t.getChild('v')!;
    const positions: number[] = [];
    for (let pos = 0; pos < t.numRows; pos++) {
      const id = ids.get(pos) as bigint;
      if (!pick(id) || expected.rows.get(id)?.v !== vs.get(pos)) continue; // only the live version of the row
      positions.push(pos);
      expected.rows.delete(id);
    }
    if (positions.length > 0) byFile.push([e.dataFile.filePath, Float64Array.from(positions)]);
  }
  return (await new Transaction(catalog, table).addDeletionVectors(byFile).commit()).table;
}

/** Removes the oldest live data file no delete file names, dropping the rows it made live (an overwrite). */
export async function removeOldestFile(catalog: Catalog, table: LoadedTable, expected: Expected, targeted: ReadonlySet<string>): Promise<LoadedTable> {
  const data = (await liveEntries(table)).filter((x) => x.dataFile.content === DataFileContent.DATA && !targeted.has(x.dataFile.filePath));
  data.sort((a, b) => Number((a.sequenceNumber ?? 0n) - (b.sequenceNumber ?? 0n)));
  const victim = data[0];
  if (victim === undefined) return table;
  const t = decodeParquet(await table.io.read(victim.dataFile.filePath));
  const ids = t.getChild('id')!;
  const vs = t.getChild('v')!;
  for (let pos = 0; pos < t.numRows; pos++) {
    const id = ids.get(pos) as bigint;
    if (expected.rows.get(id)?.v === vs.get(pos)) expected.rows.delete(id);
  }
  return (await new Transaction(catalog, table).removeDataFiles([victim.dataFile.filePath]).commit()).table;
}

/**
 * `commits` commits of every kind floe and other writers make: each appends 4 new rows; every 3rd upserts 2
 * older ids by equality delete (v2) or deletes one row by deletion vector (v3); every 4th deletes a row by
 * position (v2) or vector (v3); every 5th removes the oldest untouched data file. New ids start at `firstId`.
 * Returns the rows live after each commit, by snapshot id.
 */
export async function buildHistory(catalog: Catalog, id: TableIdentifier, commits: number, expected: Expected, firstId = 0): Promise<Map<bigint, string[]>> {
  let table = await catalog.loadTable(id);
  const v3 = table.metadata.formatVersion >= 3;
  const targeted = new Set<string>();
  const rowsAt = new Map<bigint, string[]>();
  let next = firstId;
  for (let c = 0; c < commits; c++) {
    const rows: Row[] = [];
    for (let k = 0; k < 4; k++, next++) rows.push({ id: BigInt(next), v: `c${c}` });
    table = await appendRows(catalog, table, rows, expected);
    rowsAt.set(table.metadata.currentSnapshotId!, expectedText(expected));
    const live = [...expected.rows.keys()];
    const mark = async (): Promise<void> => {
      for (const e of await liveEntries(table)) if (e.dataFile.referencedDataFile !== undefined) targeted.add(e.dataFile.referencedDataFile);
      for (const e of await liveEntries(table)) {
        if (e.dataFile.content === DataFileContent.POSITION_DELETES && e.dataFile.referencedDataFile === undefined) {
          // A v2 position delete file may name several data files: read it.
          const t = decodeParquet(await table.io.read(e.dataFile.filePath));
          const paths = t.getChild('file_path')!;
          for (let i = 0; i < t.numRows; i++) targeted.add(paths.get(i) as string);
        }
      }
      rowsAt.set(table.metadata.currentSnapshotId!, expectedText(expected));
    };
    if (c % 3 === 2 && live.length > 2) {
      const pick = new Set([live[c % live.length]!, live[(c * 7) % live.length]!]);
      if (v3) table = await deleteByVector(catalog, table, (x) => pick.has(x), expected);
      else table = await upsertRows(catalog, table, [...pick].map((x) => ({ id: x, v: `u${c}` })), expected);
      await mark();
    }
    if (c % 4 === 3 && live.length > 0) {
      const victim = [...expected.rows.keys()][(c * 5) % expected.rows.size]!;
      table = v3 ? await deleteByVector(catalog, table, (x) => x === victim, expected) : await deleteByPosition(catalog, table, (x) => x === victim, expected);
      await mark();
    }
    if (c % 5 === 4) {
      table = await removeOldestFile(catalog, table, expected, targeted);
      rowsAt.set(table.metadata.currentSnapshotId!, expectedText(expected));
    }
  }
  return rowsAt;
}

/** Every file one snapshot reaches (read with the table's own readers, not the maintenance code): list, manifests, live files. */
export async function filesOfSnapshot(table: LoadedTable, s: Snapshot, meta: TableMetadata = table.metadata): Promise<Set<string>> {
  const out = new Set<string>([s.manifestList]);
  for (const m of readManifestList(await table.io.read(s.manifestList), s.manifestList)) {
    out.add(m.manifestPath);
    for (const e of readManifest(await table.io.read(m.manifestPath), m, specsById(meta), currentSchema(meta))) {
      if (e.status !== ManifestEntryStatus.DELETED) out.add(e.dataFile.filePath);
    }
  }
  return out;
}

/** Every file the table's snapshots and metadata reach: each snapshot's files, the metadata file and its log. */
export async function reachedFiles(table: LoadedTable): Promise<Set<string>> {
  const out = new Set<string>([table.metadataLocation, ...table.metadata.metadataLog.map((e) => e.metadataFile)]);
  for (const s of table.metadata.snapshots) for (const f of await filesOfSnapshot(table, s)) out.add(f);
  return out;
}

/** Throws naming the first file the table needs that is not in storage. */
export async function assertIntact(table: LoadedTable): Promise<void> {
  for (const f of await reachedFiles(table)) {
    if (!(await table.io.exists(f))) throw new Error(`table ${table.identifier.name} needs ${f}, which is gone`);
  }
}

export async function listAll(io: FileIO, prefix: string): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of io.list(prefix)) out.push(f);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A catalog whose commits first run `before(call)` (a concurrent writer committing through `inner`), then go through. */
export function interfering(inner: SqlCatalog, before: (call: number) => Promise<void>): { catalog: Catalog; calls: () => number } {
  const catalog = Object.create(inner) as SqlCatalog;
  let n = 0;
  catalog.commitTable = async (t: LoadedTable, req: readonly TableRequirement[], upd: readonly TableUpdate[]) => {
    await before(n++);
    return inner.commitTable(t, req, upd);
  };
  return { catalog, calls: () => n };
}

export { Expected };
