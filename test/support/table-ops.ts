// Helpers that drive floe's writers and transactions the way the engine tests need: append rows (also as a writer that does not upsert), upsert by key with equality deletes, delete by position.
import type { Catalog, LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { DataFileContent } from '../../src/iceberg/data-file.js';
import type { Row } from '../../src/iceberg/scan.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import type { WriterSettings } from '../../src/writer/file-writer.js';
import { DataWriter, EqualityDeleteWriter, Partitioner, PositionDeleteWriter } from '../../src/writer/partitioned-writer.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import { rowValues } from './fixtures.js';

export function settingsFor(table: LoadedTable, targetFileSizeBytes = 64 * 1024 * 1024): WriterSettings {
  return { io: table.io, dataLocation: `${table.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes };
}

/** Table model kept beside the real table: key -> row. */
export class Expected {
  readonly rows = new Map<bigint, Row>();
  list(): Row[] {
    return [...this.rows.values()];
  }
}

export async function appendRows(catalog: Catalog, table: LoadedTable, rows: readonly Row[], expected: Expected): Promise<LoadedTable> {
  const schema = currentSchema(table.metadata);
  const w = new DataWriter(settingsFor(table), schema, defaultSpec(table.metadata));
  for (const r of rows) {
    w.write(rowValues(schema, r));
    expected.rows.set(r.id as bigint, r);
  }
  return (await new Transaction(catalog, table).addDataFiles(await w.close()).commit()).table;
}

/** Appends rows (values in the schema's column order) as one data file in one snapshot, as a writer that does not upsert: keys may end up with several live rows. */
export async function appendValues(catalog: Catalog, id: TableIdentifier, rows: readonly (readonly (IcebergValue | null)[])[]): Promise<LoadedTable> {
  const t = await catalog.loadTable(id);
  const w = new DataWriter(settingsFor(t), currentSchema(t.metadata), defaultSpec(t.metadata));
  for (const r of rows) w.write(r);
  return (await new Transaction(catalog, t).addDataFiles(await w.close()).commit()).table;
}

/** Upsert: equality delete on `id` (in the old row's partition) + the new rows, in one snapshot. */
export async function upsertRows(catalog: Catalog, table: LoadedTable, rows: readonly Row[], expected: Expected): Promise<LoadedTable> {
  const schema = currentSchema(table.metadata);
  const spec = defaultSpec(table.metadata);
  const part = spec.isUnpartitioned ? null : new Partitioner(schema, spec);
  const w = new DataWriter(settingsFor(table), schema, spec);
  const eq = new EqualityDeleteWriter(settingsFor(table), schema, spec, [schema.findField('id')!.id]);
  for (const r of rows) {
    const old = expected.rows.get(r.id as bigint);
    if (old !== undefined) eq.delete([r.id as bigint], part === null ? [] : part.partition(rowValues(schema, old)));
    w.write(rowValues(schema, r));
    expected.rows.set(r.id as bigint, r);
  }
  return (await new Transaction(catalog, table).addDataFiles(await w.close()).addDeleteFiles(await eq.close()).commit()).table;
}

/** Deletes by position every row whose id satisfies `pick`, in data files that are live now. */
export async function deleteByPosition(catalog: Catalog, table: LoadedTable, pick: (id: bigint) => boolean, expected: Expected): Promise<LoadedTable> {
  const schema = currentSchema(table.metadata);
  const pw = new PositionDeleteWriter(settingsFor(table), schema, defaultSpec(table.metadata));
  const targets: string[] = [];
  // Rows already superseded by an equality delete are not live; only delete rows that are the current version.
  const entries = (await liveEntries(table)).filter((e) => e.dataFile.content === DataFileContent.DATA);
  for (const e of entries) {
    const t = decodeParquet(await table.io.read(e.dataFile.filePath));
    const ids = t.getChild('id')!;
    let touched = false;
    for (let pos = 0; pos < t.numRows; pos++) {
      const id = ids.get(pos) as bigint;
      if (!pick(id)) continue;
      pw.delete(e.dataFile.filePath, BigInt(pos), e.dataFile.partition);
      expected.rows.delete(id);
      touched = true;
    }
    if (touched) targets.push(e.dataFile.filePath);
  }
  return (await new Transaction(catalog, table).addDeleteFiles(await pw.close()).requireDataFiles(targets).commit()).table;
}
