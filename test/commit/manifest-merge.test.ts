// Proves manifest merging keeps a streaming table's manifest count bounded while preserving every entry's sequence numbers: equality deletes committed before a merge still remove exactly the older rows (checked by floe's scan and, when the harness venv exists, by DuckDB); and a manifest left with only DELETED entries (after a compaction) is listed by the snapshot that emptied it and dropped by the next commit.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { readManifestFiles } from '../../src/iceberg/snapshot-files.js';
import { scanTable, type Row } from '../../src/iceberg/scan.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { currentSnapshot } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { DataWriter, EqualityDeleteWriter } from '../../src/writer/partitioned-writer.js';
import { canonicalRows } from '../support/canonical.js';
import { readWithEngine } from '../support/harness.js';
import { settingsFor } from '../support/table-ops.js';

describe('manifest merging', () => {
  let dir: string;
  let catalog: SqlCatalog;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-merge-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    await catalog.createNamespace(['db']);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('bounds the manifest count and keeps delete semantics across merges', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }], ['id']);
    const minCount = 4;
    let table = await catalog.createTable({ namespace: ['db'], name: 'stream' }, { schema, properties: { 'commit.manifest.min-count-to-merge': String(minCount) } });
    const expected = new Map<bigint, Row>();
    const spec = table.metadata.specs[0]!;
    const counts: number[] = [];
    for (let c = 0; c < 16; c++) {
      const w = new DataWriter(settingsFor(table), schema, spec);
      const eq = new EqualityDeleteWriter(settingsFor(table), schema, spec, [1]);
      // Every commit inserts 5 new ids and upserts 3 ids written by earlier commits.
      for (let k = 0; k < 5; k++) {
        const id = BigInt(c * 5 + k);
        w.write([id, `c${c}`]);
        expected.set(id, { id, v: `c${c}` });
      }
      if (c > 0) {
        for (let k = 0; k < 3; k++) {
          const id = BigInt((c * 7 + k) % (c * 5));
          eq.delete([id], []);
          w.write([id, `u${c}`]);
          expected.set(id, { id, v: `u${c}` });
        }
      }
      const deletes = await eq.close();
      table = (await new Transaction(catalog, table).addDataFiles(await w.close()).addDeleteFiles(deletes).commit()).table;
      counts.push((await readManifestFiles(table, currentSnapshot(table.metadata))).length);
    }
    // Without merging: 2 manifests per commit (31 after 16 commits); merged, each group stays near min-count.
    assert.ok(Math.max(...counts) <= 2 * (minCount + 2), `manifest counts ${counts.join(',')}`);
    assert.ok(counts[counts.length - 1]! < 31, `manifest counts ${counts.join(',')}`);
    const got = canonicalRows(schema, await scanTable(table));
    const want = canonicalRows(schema, [...expected.values()]);
    assert.deepEqual(got, want);

    const venvPython = join(process.env.FLOE_VENV ?? join(homedir(), '.cache/floe/venv'), 'bin/python');
    if (!existsSync(venvPython)) return;
    const out = await readWithEngine('duckdb', ['db.stream'], { catalog: 'sql', sqlUri: `sqlite:///${dir}/catalog.db`, warehouse: `file://${dir}/wh` });
    assert.equal(out.failure, undefined, out.failure);
    assert.deepEqual(out.tables.get('db.stream'), [...want].sort());
  });

  it('a manifest left with only DELETED entries is listed by the snapshot that emptied it, and by no later one', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }], ['id']);
    let table = await catalog.createTable({ namespace: ['db'], name: 'emptied' }, { schema, formatVersion: 2, properties: {} });
    const spec = table.metadata.specs[0]!;
    const write = async (rows: [bigint, string][]) => {
      const w = new DataWriter(settingsFor(table), schema, spec);
      for (const r of rows) w.write(r);
      return w.close();
    };
    const first = await write([[1n, 'a'], [2n, 'b']]);
    table = (await new Transaction(catalog, table).addDataFiles(first).commit()).table;
    // A compaction: the first file replaced by a new one (its manifest is rewritten with the file DELETED).
    table = (await new Transaction(catalog, table).removeDataFiles(first.map((f) => f.filePath)).addDataFiles(await write([[1n, 'a'], [2n, 'b']])).commit()).table;
    const emptied = (await readManifestFiles(table, currentSnapshot(table.metadata))).filter((m) => m.addedFilesCount + m.existingFilesCount === 0);
    assert.equal(emptied.length, 1, 'the compaction lists the manifest recording the removal');
    table = (await new Transaction(catalog, table).addDataFiles(await write([[3n, 'c']])).commit()).table;
    const after = await readManifestFiles(table, currentSnapshot(table.metadata));
    assert.deepEqual(after.filter((m) => m.manifestPath === emptied[0]!.manifestPath), [], 'the next commit drops it');
    assert.equal(after.length, 2);
    assert.deepEqual(canonicalRows(schema, await scanTable(table)), canonicalRows(schema, [{ id: 1n, v: 'a' }, { id: 2n, v: 'b' }, { id: 3n, v: 'c' }]));
  });
});
