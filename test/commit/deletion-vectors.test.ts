// Proves deletion vectors on v3 tables through committer and worker: updates and deletes become one Puffin deletion vector per data file, merged with the file's previous vector (removed in the same snapshot) and with v2 position delete files from before an upgrade; a compaction between seal and commit is repositioned; row lineage (first-row-id, added-rows, next-row-id, manifest first_row_id) is assigned without gaps or reuse; and the key index bootstraps from vectors; vectors get a Puffin file each unless sharing is allowed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { Transaction } from '../../src/commit/transaction.js';
import { liveEntries, readManifestFiles } from '../../src/iceberg/snapshot-files.js';
import { DataFileContent, isDeletionVector } from '../../src/iceberg/data-file.js';
import { readDeletionVector } from '../../src/iceberg/deletion-vector.js';
import { ManifestContent } from '../../src/iceberg/manifest.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { currentSchema, currentSnapshot, defaultSpec } from '../../src/iceberg/table-metadata.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { changeMessages, commitSealed, cycle } from '../support/window-cycle.js';
import { DataWriter } from '../../src/writer/partitioned-writer.js';

const TOPIC = 'cdc.shop.t';
const ID = { namespace: ['shop'], name: 't' };

describe('deletion vectors (v3): committer + worker with the key index', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-dv-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const msg = changeMessages(TOPIC);
  const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;


  const state = async (t: LoadedTable) => (await scanTable(t)).map((r) => `${String(r.id)}=${String(r.v)}`).sort();

  /** Live deletion vectors by data file, with their positions; asserts at most one per file and nothing but vectors. */
  async function vectors(t: LoadedTable): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const e of await liveEntries(t)) {
      const f = e.dataFile;
      if (f.content === DataFileContent.DATA) continue;
      assert.ok(isDeletionVector(f), `only deletion vectors, found ${f.filePath}`);
      assert.ok(!out.has(f.referencedDataFile!), `one vector per data file (${f.referencedDataFile})`);
      out.set(f.referencedDataFile!, [...(await readDeletionVector(t.io, f))]);
    }
    return out;
  }

  /** Row lineage: snapshots chain first-row-id + added-rows into next-row-id; data manifests have disjoint ids covering their files. */
  async function checkLineage(t: LoadedTable): Promise<void> {
    const m = t.metadata;
    assert.equal(m.formatVersion, 3);
    let next = 0n;
    for (const s of m.snapshots) {
      assert.equal(s.firstRowId, next, `snapshot ${s.snapshotId} starts at the previous next-row-id`);
      next = s.firstRowId + s.addedRows!;
    }
    assert.equal(m.nextRowId, next);
    const ranges: [bigint, bigint][] = [];
    for (const e of await liveEntries(t)) {
      if (e.dataFile.content !== DataFileContent.DATA) continue;
      assert.notEqual(e.dataFile.firstRowId, undefined, `data file ${e.dataFile.filePath} has a first_row_id`);
      ranges.push([e.dataFile.firstRowId!, e.dataFile.firstRowId! + e.dataFile.recordCount]);
    }
    ranges.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]![0] >= ranges[i - 1]![1], 'row id ranges of live files never overlap');
    assert.ok(ranges.every((r) => r[1] <= next));
    for (const mf of await readManifestFiles(t, currentSnapshot(m))) {
      if (mf.content === ManifestContent.DATA) assert.notEqual(mf.firstRowId ?? null, null);
      else assert.equal(mf.firstRowId ?? null, null);
    }
  }

  it('updates and deletes become one deletion vector per data file, merged across commits; lineage has no gaps or reuse', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'a.db'), warehouse: `file://${dir}/wha`, io: new LocalFileIO() });
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: { formatVersion: 3 }, tables: {} });
    const workers = new InProcessWorkers(init);
    await cycle(committer, workers, [1, 2, 3, 4, 5, 6].map((id) => msg('c', id, `a${id}`)));
    const first = (await liveEntries(await catalog.loadTable(ID)))[0]!.dataFile.filePath;
    const a = await cycle(committer, workers, [msg('u', 2, 'b2'), msg('d', 3, null), msg('c', 7, 'b7')]);
    assert.equal(a.report.deletionVectors, 1);
    assert.deepEqual(a.sealed[0]!.deleteFiles, []); // nothing written by the worker: the committer writes the vector
    let t = await catalog.loadTable(ID);
    assert.deepEqual(await state(t), ['1=a1', '2=b2', '4=a4', '5=a5', '6=a6', '7=b7']);
    assert.deepEqual(await vectors(t), new Map([[first, [1, 2]]]));
    const s1 = currentSnapshot(t.metadata)!;
    assert.equal(s1.summary['added-dvs'], '1');

    // The next commit deletes more rows of the first file and one of the second: the first file's vector is merged
    // (old one removed in the same snapshot), the second file gets its first.
    const b = await cycle(committer, workers, [msg('d', 1, null), msg('u', 2, 'c2'), msg('u', 6, 'c6')]);
    assert.equal(b.report.deletionVectors, 2);
    t = await catalog.loadTable(ID);
    assert.deepEqual(await state(t), ['2=c2', '4=a4', '5=a5', '6=c6', '7=b7']);
    const v = await vectors(t);
    assert.deepEqual(v.get(first), [0, 1, 2, 5]);
    assert.equal(v.size, 2);
    const s2 = currentSnapshot(t.metadata)!;
    assert.equal(s2.summary['removed-dvs'], '1');
    assert.equal(s2.summary['added-dvs'], '2');
    assert.equal(s2.summary['total-position-deletes'], String([...v.values()].reduce((n, p) => n + p.length, 0)));
    await checkLineage(t);

    // A restart bootstraps the index through the vectors (deleted rows are not live keys).
    const c2 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: { formatVersion: 3 }, tables: {} });
    const w2 = new InProcessWorkers(init);
    const c = await cycle(c2, w2, [msg('u', 4, 'd4'), msg('d', 7, null), msg('c', 1, 'd1')]);
    assert.equal(c.report.deletionVectors, 2);
    t = await catalog.loadTable(ID);
    assert.deepEqual(await state(t), ['1=d1', '2=c2', '4=d4', '5=a5', '6=c6']);
    assert.deepEqual((await vectors(t)).get(first), [0, 1, 2, 3, 5]);
    await checkLineage(t);
    await catalog.close();
  });

  it('a compaction landing between seal and commit: the vectors are re-found in the rewritten file', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'b.db'), warehouse: `file://${dir}/whb`, io: new LocalFileIO() });
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: { formatVersion: 3 }, tables: {} });
    const workers = new InProcessWorkers(init);
    await cycle(committer, workers, [1, 2, 3, 4].map((id) => msg('c', id, `a${id}`)));
    await cycle(committer, workers, [msg('u', 1, 'b1')]);
    const applied = await workers.apply(0, [msg('u', 2, 'c2'), msg('d', 3, null)]);
    assert.deepEqual(applied.rejects, []);
    const sealed = await workers.seal();
    // compaction: every live row into one new file; the old data files and their vectors are removed
    const t0 = await catalog.loadTable(ID);
    const schema = currentSchema(t0.metadata);
    const rows = await scanTable(t0);
    const w = new DataWriter({ io: t0.io, dataLocation: `${t0.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, schema, defaultSpec(t0.metadata));
    for (const r of rows) w.write(schema.fields.map((f) => r[f.name] ?? null));
    await new Transaction(catalog, t0).truncateAll().addDataFiles(await w.close()).setOperation('replace').commit();
    const { reports } = await commitSealed(committer, workers, sealed);
    assert.equal(reports[0]!.repositioned, 1);
    const t = await catalog.loadTable(ID);
    assert.deepEqual(await state(t), ['1=b1', '2=c2', '4=a4']);
    assert.equal((await vectors(t)).size, 1);
    await checkLineage(t);
    // the rebuilt index deletes by vector in the rewritten file
    await cycle(committer, workers, [msg('d', 4, null)]);
    const t2 = await catalog.loadTable(ID);
    assert.deepEqual(await state(t2), ['1=b1', '2=c2']);
    await catalog.close();
  });

  it('a v2 table upgraded to v3: the first vector of a file merges the position delete files written before', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/whc`, io: new LocalFileIO() });
    const v2 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
    const w1 = new InProcessWorkers(init);
    await cycle(v2, w1, [1, 2, 3, 4, 5].map((id) => msg('c', id, `a${id}`)));
    const pos = await cycle(v2, w1, [msg('u', 1, 'b1'), msg('d', 2, null)]);
    assert.deepEqual(pos.sealed[0]!.deleteFiles.map((f) => f.content), [DataFileContent.POSITION_DELETES]);
    let t = await catalog.loadTable(ID);
    t = await catalog.commitTable(t, [{ type: 'assert-table-uuid', uuid: t.metadata.tableUuid }], [{ action: 'upgrade-format-version', 'format-version': 3 }]);
    assert.equal(t.metadata.nextRowId, 0n);
    const first = (await liveEntries(t)).find((e) => e.dataFile.content === DataFileContent.DATA && e.dataFile.recordCount === 5n)!.dataFile.filePath;

    const v3 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
    const w2 = new InProcessWorkers(init);
    const r = await cycle(v3, w2, [msg('u', 3, 'c3')]);
    assert.equal(r.report.deletionVectors, 1);
    t = await catalog.loadTable(ID);
    assert.deepEqual(await state(t), ['1=b1', '3=c3', '4=a4', '5=a5']);
    const dv = (await liveEntries(t)).find((e) => isDeletionVector(e.dataFile))!;
    assert.equal(dv.dataFile.referencedDataFile, first);
    // rows 0 (key 1) and 1 (key 2) were deleted by the v2 position delete file: the vector carries them too
    assert.deepEqual([...(await readDeletionVector(t.io, dv.dataFile))], [0, 1, 2]);
    await catalog.close();
  });

  it('one Puffin file per vector by default (DuckDB 1.5.5 misreads shared files); shared files when allowed, each blob found by its offset', async () => {
    for (const perFileMax of [1, 8]) {
      const catalog = new SqlCatalog({ name: 'floe', path: join(dir, `p${perFileMax}.db`), warehouse: `file://${dir}/whp${perFileMax}`, io: new LocalFileIO() });
      const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: { formatVersion: 3 }, tables: {}, deletionVectorsPerFileMax: perFileMax });
      const workers = new InProcessWorkers(init);
      for (let f = 0; f < 3; f++) await cycle(committer, workers, Array.from({ length: 50 }, (_, i) => msg('c', f * 100 + i, `a${f}`)));
      // one commit deleting 40, 3 and 1 rows in the three files: blobs of different sizes, the larger first
      await cycle(committer, workers, [...Array.from({ length: 40 }, (_, i) => msg('d', i, null)), ...[100, 101, 102].map((k) => msg('d', k, null)), msg('d', 200, null)]);
      const t = await catalog.loadTable(ID);
      const dvs = (await liveEntries(t)).filter((e) => isDeletionVector(e.dataFile));
      assert.equal(dvs.length, 3);
      assert.equal(new Set(dvs.map((e) => e.dataFile.filePath)).size, perFileMax === 1 ? 3 : 1);
      assert.deepEqual(dvs.map((e) => Number(e.dataFile.recordCount)).sort((a, b) => a - b), [1, 3, 40]);
      for (const e of dvs) assert.equal((await readDeletionVector(t.io, e.dataFile)).length, Number(e.dataFile.recordCount));
      assert.equal((await state(t)).length, 150 - 44);
      await catalog.close();
    }
  });
});
