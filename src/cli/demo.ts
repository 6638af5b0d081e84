/**
 * `floe demo`: the embedded default. No services: an embedded SQL catalog (SQLite) and a local warehouse.
 * It creates a table, applies inserts, updates and deletes as Iceberg commits (data files, equality deletes,
 * position deletes), reads the table back applying the deletes, and prints how to open it with other engines.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureNamespace, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import { SqlCatalog } from '../catalog/sql-catalog.js';
import { Transaction, liveEntries } from '../commit/transaction.js';
import { DataFileContent } from '../iceberg/data-file.js';
import { partitionSpecFromExprs } from '../iceberg/partition-spec.js';
import { scanTable } from '../iceberg/scan.js';
import { schemaFromDecls } from '../iceberg/schema.js';
import { currentSchema, defaultSpec } from '../iceberg/table-metadata.js';
import { T } from '../iceberg/types.js';
import type { IcebergValue } from '../iceberg/values.js';
import { LocalFileIO } from '../io/local-file-io.js';
import type { WriterSettings } from '../writer/file-writer.js';
import { DataWriter, EqualityDeleteWriter, Partitioner, PositionDeleteWriter } from '../writer/partitioned-writer.js';
import { decodeParquet } from '../writer/parquet.js';

export interface DemoOptions {
  readonly warehouseDir: string;
  readonly rows: number;
  readonly out: (line: string) => void;
}

const DAY_MICROS = 86_400_000_000n;
const START_MICROS = 1_767_225_600_000_000n; // 2026-01-01T00:00:00Z

function orderRow(id: number, version: number): (IcebergValue | null)[] {
  const statuses = ['new', 'paid', 'shipped', 'delivered'];
  return [
    BigInt(id),
    BigInt(1000 + (id % 97)),
    statuses[version % statuses.length] ?? 'new',
    BigInt(id * 1999 + version * 100), // amount, decimal(12,2) unscaled
    START_MICROS + BigInt(id % 5) * DAY_MICROS + BigInt(id) * 1_000_000n,
    version === 0 ? null : START_MICROS + 5n * DAY_MICROS + BigInt(version) * 60_000_000n,
  ];
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const dir = resolve(opts.warehouseDir);
  await mkdir(dir, { recursive: true });
  const io = new LocalFileIO();
  const catalog: Catalog = new SqlCatalog({ name: 'floe', path: `${dir}/catalog.db`, warehouse: pathToFileURL(`${dir}/data`).href, io });
  try {
    const id: TableIdentifier = { namespace: ['demo'], name: 'orders' };
    await ensureNamespace(catalog, id.namespace);
    if (await catalog.tableExists(id)) await catalog.dropTable(id);
    const schema = schemaFromDecls(
      [
        { name: 'id', type: T.long, required: true },
        { name: 'customer_id', type: T.long },
        { name: 'status', type: T.string },
        { name: 'amount', type: T.decimal(12, 2) },
        { name: 'created_at', type: T.timestamptz },
        { name: 'updated_at', type: T.timestamptz },
      ],
      ['id'],
    );
    const spec = partitionSpecFromExprs(['day(created_at)'], schema);
    let table = await catalog.createTable(id, { schema, spec, properties: { 'write.parquet.compression-codec': 'zstd' } });
    const settings: WriterSettings = { io, dataLocation: `${table.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 128 * 1024 * 1024 };
    const t0 = Date.now();

    // 1. inserts
    const w = new DataWriter(settings, schema, spec);
    for (let i = 1; i <= opts.rows; i++) w.write(orderRow(i, 0));
    table = (await new Transaction(catalog, table).addDataFiles(await w.close()).commit()).table;
    opts.out(`commit 1 (append):    ${opts.rows} orders inserted`);

    // 2. updates of every 4th order: an equality delete on id for the old row + the new row
    const part = new Partitioner(schema, spec);
    const w2 = new DataWriter(settings, schema, spec);
    const eq = new EqualityDeleteWriter(settings, schema, spec, [schema.findField('id')?.id ?? 1]);
    let updated = 0;
    for (let i = 4; i <= opts.rows; i += 4) {
      const row = orderRow(i, 1);
      eq.delete([BigInt(i)], part.partition(row));
      w2.write(row);
      updated++;
    }
    table = (await new Transaction(catalog, table).addDataFiles(await w2.close()).addDeleteFiles(await eq.close()).commit()).table;
    opts.out(`commit 2 (overwrite): ${updated} orders updated (equality deletes + new rows)`);

    // 3. deletes of every 10th order still in the first data files, by position
    const pw = new PositionDeleteWriter(settings, currentSchema(table.metadata), defaultSpec(table.metadata));
    const first = (await liveEntries(table)).filter((e) => e.dataFile.content === DataFileContent.DATA && e.sequenceNumber === 1n);
    for (const e of first) {
      const ids = decodeParquet(await io.read(e.dataFile.filePath)).getChild('id');
      if (ids === null) continue;
      for (let pos = 0; pos < ids.length; pos++) {
        const orderId = ids.get(pos) as bigint;
        if (orderId % 10n === 0n && orderId % 4n !== 0n) pw.delete(e.dataFile.filePath, BigInt(pos), e.dataFile.partition);
      }
    }
    const deleted = pw.count;
    table = (await new Transaction(catalog, table).addDeleteFiles(await pw.close()).requireDataFiles(first.map((e) => e.dataFile.filePath)).commit()).table;
    opts.out(`commit 3 (delete):    ${deleted} orders deleted (position deletes)`);

    const rows = await scanTable(table);
    const expected = opts.rows - deleted;
    opts.out(`read back: ${rows.length} rows (expected ${expected}) in ${Date.now() - t0} ms`);
    if (rows.length !== expected) throw new Error(`demo read back ${rows.length} rows, expected ${expected}`);
    summarize(table, opts.out);
    opts.out('');
    opts.out('Open it with other engines:');
    opts.out(`  pyiceberg: SqlCatalog("floe", uri="sqlite:///${dir}/catalog.db", warehouse="file://${dir}/data").load_table("demo.orders").scan().to_arrow()`);
    opts.out(`  duckdb:    SELECT * FROM iceberg_scan('${table.metadataLocation.replace(/^file:\/\//, '')}');`);
  } finally {
    await catalog.close();
  }
}

function summarize(table: LoadedTable, out: (line: string) => void): void {
  out(`table demo.orders at ${table.metadata.location}`);
  for (const s of table.metadata.snapshots) {
    out(`  snapshot ${s.snapshotId} seq ${s.sequenceNumber} ${s.summary.operation}: total-records ${s.summary['total-records']}, data files ${s.summary['total-data-files']}, delete files ${s.summary['total-delete-files']}`);
  }
  out(`  metadata: ${table.metadataLocation}`);
}
