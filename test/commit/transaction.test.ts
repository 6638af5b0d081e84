// Proves the transaction API on the embedded SQLite catalog: appends, equality and position deletes, file removal, schema and property updates, and conflict retry all produce the expected table.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import type { TableIdentifier } from '../../src/catalog/catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { scanTable, type Row } from '../../src/iceberg/scan.js';
import { Schema } from '../../src/iceberg/schema.js';
import { currentSchema, currentSnapshot } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { DataWriter, EqualityDeleteWriter, PositionDeleteWriter } from '../../src/writer/partitioned-writer.js';
import type { WriterSettings } from '../../src/writer/file-writer.js';
import { canonicalRows } from '../support/canonical.js';
import { allTypesRow, allTypesSchema, rowValues } from '../support/fixtures.js';

describe('transaction on the embedded catalog', () => {
  let dir: string;
  let catalog: SqlCatalog;
  const io = new LocalFileIO();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-tx-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/warehouse`, io });
    await catalog.createNamespace(['db']);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settings = (location: string): WriterSettings => ({ io, dataLocation: `${location}/data`, codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024 });

  for (const partitioned of [false, true]) {
    it(`appends, deletes by key and by position, ${partitioned ? 'partitioned by region' : 'unpartitioned'}`, async () => {
      const schema = allTypesSchema();
      const id: TableIdentifier = { namespace: ['db'], name: partitioned ? 'p_all' : 'u_all' };
      const spec = partitioned ? partitionSpecFromExprs(['region', 'bucket(4, id)'], schema) : undefined;
      let table = await catalog.createTable(id, { schema, ...(spec ? { spec } : {}) });
      const expected = new Map<bigint, Row>();

      // commit 1: append 0..99
      const w1 = new DataWriter(settings(table.metadata.location), currentSchema(table.metadata), table.metadata.specs[0]!);
      for (let n = 0; n < 100; n++) {
        const r = allTypesRow(n);
        w1.write(rowValues(schema, r));
        expected.set(BigInt(n), r);
      }
      const files1 = await w1.close();
      let res = await new Transaction(catalog, table).addDataFiles(files1).commit();
      table = res.table;
      assert.equal(res.snapshot?.summary.operation, 'append');
      assert.equal(res.snapshot?.summary['added-records'], '100');
      assert.equal(res.snapshot?.sequenceNumber, 1n);

      // commit 2: upsert ids 10..19 (equality delete + new rows) and insert 100..109
      const sp = table.metadata.specs[0]!;
      const w2 = new DataWriter(settings(table.metadata.location), schema, sp);
      // equality deletes keyed on id; for a partitioned table the delete goes to the old row's partition
      const eqw = new EqualityDeleteWriter(settings(table.metadata.location), schema, sp, [1]);
      const { Partitioner } = await import('../../src/writer/partitioned-writer.js');
      const part = partitioned ? new Partitioner(schema, sp) : null;
      for (let n = 10; n < 20; n++) {
        const old = expected.get(BigInt(n))!;
        eqw.delete([BigInt(n)], part ? part.partition(rowValues(schema, old)) : []);
        const r = { ...allTypesRow(n + 1000), id: BigInt(n) };
        w2.write(rowValues(schema, r));
        expected.set(BigInt(n), r);
      }
      for (let n = 100; n < 110; n++) {
        const r = allTypesRow(n);
        w2.write(rowValues(schema, r));
        expected.set(BigInt(n), r);
      }
      const eqFiles = await eqw.close();
      res = await new Transaction(catalog, table).addDataFiles(await w2.close()).addDeleteFiles(eqFiles).commit();
      table = res.table;
      assert.equal(res.snapshot?.summary.operation, 'overwrite');
      assert.equal(res.snapshot?.summary['added-equality-deletes'], '10');
      assert.equal(res.snapshot?.sequenceNumber, 2n);

      // commit 3: position-delete rows 0..4 of the first data files (whatever rows they hold)
      const entries = await liveEntries(table);
      const firstData = entries.filter((e) => e.dataFile.content === 0 && e.sequenceNumber === 1n);
      const pw = new PositionDeleteWriter(settings(table.metadata.location), schema, sp);
      const { decodeParquet } = await import('../../src/writer/parquet.js');
      for (const e of firstData) {
        const t = decodeParquet(await io.read(e.dataFile.filePath));
        const ids = t.getChild('id')!;
        for (let pos = 0; pos < Math.min(2, t.numRows); pos++) {
          pw.delete(e.dataFile.filePath, BigInt(pos), e.dataFile.partition);
          const key = ids.get(pos) as bigint;
          if (key >= 10n && key < 20n) continue; // already superseded by commit 2; its new row stays
          expected.delete(key);
        }
      }
      res = await new Transaction(catalog, table)
        .addDeleteFiles(await pw.close())
        .requireDataFiles(firstData.map((e) => e.dataFile.filePath))
        .commit();
      table = res.table;
      assert.equal(res.snapshot?.summary.operation, 'delete');

      const rows = await scanTable(table);
      assert.deepEqual(canonicalRows(schema, rows), canonicalRows(schema, [...expected.values()]));
      assert.equal(table.metadata.snapshots.length, 3);
      assert.equal(currentSnapshot(table.metadata)?.summary['total-data-files'], String(entries.filter((e) => e.dataFile.content === 0).length));
    });
  }

  it('removes data files (overwrite) and evolves schema and properties in the same commit', async () => {
    const schema = new Schema(0, [
      { id: 1, name: 'id', required: true, type: T.long },
      { id: 2, name: 'v', required: false, type: T.string },
    ], [1]);
    let table = await catalog.createTable({ namespace: ['db'], name: 'evolve' }, { schema });
    const w = new DataWriter(settings(table.metadata.location), schema, table.metadata.specs[0]!);
    w.write([1n, 'a']);
    w.write([2n, 'b']);
    const f1 = await w.close();
    table = (await new Transaction(catalog, table).addDataFiles(f1).commit()).table;

    const evolved = new Schema(0, [...schema.fields, { id: 3, name: 'extra', required: false, type: T.int }], [1]);
    const w2 = new DataWriter(settings(table.metadata.location), evolved, table.metadata.specs[0]!);
    w2.write([2n, 'b2', 7]);
    const res = await new Transaction(catalog, table)
      .updateSchema(() => evolved)
      .setProperties({ 'floe.test': 'yes' })
      .removeDataFiles(f1.map((f) => f.filePath))
      .addDataFiles(await w2.close())
      .commit();
    table = res.table;
    assert.equal(res.snapshot?.summary.operation, 'overwrite');
    assert.equal(res.snapshot?.summary['deleted-data-files'], '1');
    assert.equal(res.snapshot?.summary['total-records'], '1');
    assert.equal(table.metadata.properties['floe.test'], 'yes');
    assert.equal(currentSchema(table.metadata).findField('extra')?.id, 3);
    assert.equal(table.metadata.lastColumnId, 3);
    const rows = await scanTable(table);
    assert.deepEqual(rows, [{ id: 2n, v: 'b2', extra: 7 }]);
  });

  it('retries on conflict: two writers committing concurrently both land', async () => {
    const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }], [1]);
    const id = { namespace: ['db'], name: 'concurrent' };
    await catalog.createTable(id, { schema });
    const writeOne = async (n: bigint): Promise<void> => {
      const t = await catalog.loadTable(id);
      const w = new DataWriter(settings(t.metadata.location), schema, t.metadata.specs[0]!);
      w.write([n]);
      await new Transaction(catalog, t).addDataFiles(await w.close()).commit({ backoffBaseMs: 5 });
    };
    // All load the same base, so all but one hit a conflict and must retry.
    await Promise.all([1n, 2n, 3n, 4n].map(writeOne));
    const t = await catalog.loadTable(id);
    assert.equal(t.metadata.snapshots.length, 4);
    assert.deepEqual((await scanTable(t)).map((r) => r.id).sort(), [1n, 2n, 3n, 4n]);
    const seqs = t.metadata.snapshots.map((s) => s.sequenceNumber).sort();
    assert.deepEqual(seqs, [1n, 2n, 3n, 4n]);
  });
});
