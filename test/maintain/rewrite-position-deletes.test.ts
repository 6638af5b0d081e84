// Proves rewrite-position-deletes keeps every deleted row deleted while the delete files shrink: on v2 a partition's many position delete files become one sorted file without the positions of data files no longer live, and files that apply to no live row are removed; on v3 the position delete files left from before an upgrade and a second vector of a data file become one deletion vector per data file; a concurrent delete for a target or a removed target drops the group; dry-run changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { DataFileContent, isDeletionVector, type DataFile } from '../../src/iceberg/data-file.js';
import { DELETION_VECTOR_BLOB_TYPE, ROW_POSITION_FIELD_ID, serializeDeletionVector } from '../../src/iceberg/deletion-vector.js';
import { writePuffin } from '../../src/iceberg/puffin.js';
import { readPositionDeletes } from '../../src/iceberg/scan.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { rewriteDataFiles } from '../../src/maintain/rewrite-data-files.js';
import { rewritePositionDeletes } from '../../src/maintain/rewrite-position-deletes.js';
import type { MaintainContext } from '../../src/maintain/types.js';
import { InterceptingCatalog, ModelTable, livePositions, smallFileOptions, tempCatalog } from '../support/maintain-tables.js';

async function deleteFiles(t: LoadedTable): Promise<{ positionFiles: DataFile[]; vectors: DataFile[] }> {
  const entries = await liveEntries(t);
  return {
    positionFiles: entries.map((e) => e.dataFile).filter((f) => f.content === DataFileContent.POSITION_DELETES && !isDeletionVector(f)),
    vectors: entries.map((e) => e.dataFile).filter(isDeletionVector),
  };
}

describe('rewrite-position-deletes', () => {
  let catalog: SqlCatalog;
  let close: () => Promise<void>;
  before(async () => {
    ({ catalog, close } = await tempCatalog('floe-posdel-'));
  });
  after(async () => close());

  const ctx = (m: ModelTable, over: Partial<MaintainContext> = {}, c: MaintainContext['catalog'] = catalog): MaintainContext => ({ catalog: c, id: m.id, dryRun: false, nowMs: Date.now(), ...over });

  async function streamed(name: string, partitioned: boolean): Promise<ModelTable> {
    const m = await ModelTable.create(catalog, name, { formatVersion: 2, partitioned });
    for (let b = 0; b < 4; b++) await m.insert(Array.from({ length: 12 }, (_, i) => b * 12 + i));
    for (let k = 0; k < 6; k++) await m.upsert([k * 7, k * 7 + 1, 40 - k]);
    await m.delete([3, 25]);
    await m.check('after streaming');
    return m;
  }

  for (const partitioned of [false, true]) {
    it(`v2 ${partitioned ? 'partitioned' : 'unpartitioned'}: a partition's position delete files become one sorted file`, async () => {
      const m = await streamed(`v2_${partitioned ? 'p' : 'u'}`, partitioned);
      const before = await deleteFiles(await m.load());
      assert.ok(before.positionFiles.length >= 7);
      const res = await rewritePositionDeletes(ctx(m), { minInputFiles: 2 });
      await m.check('after the rewrite');
      const t = await m.load();
      const afterFiles = await deleteFiles(t);
      const partitions = new Set(before.positionFiles.map((f) => String(f.partition[0] ?? ''))).size;
      assert.equal(afterFiles.positionFiles.length, partitions, 'one file per partition');
      assert.equal(res.groupsCommitted, partitions);
      assert.equal(res.filesIn, before.positionFiles.length);
      assert.equal(res.filesOut, partitions);
      for (const f of afterFiles.positionFiles) {
        const named = [...(await readPositionDeletes(t, f.filePath))].flatMap(([p, list]) => list.map((pos) => [p, pos] as const));
        const sorted = [...named].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
        assert.deepEqual(named, sorted, 'sorted by file_path, pos');
        assert.equal(new Set(named.map((x) => `${x[0]}#${x[1]}`)).size, named.length, 'no position twice');
      }
      const again = await rewritePositionDeletes(ctx(m), { minInputFiles: 2 });
      assert.equal(again.groupsPlanned, 0, 'nothing left to merge');
    });
  }

  it('v2: positions of data files no longer live are dropped, files of none are removed', async () => {
    const m = await ModelTable.create(catalog, 'v2_dangling', { formatVersion: 2 });
    await m.insert([1, 2, 3]);
    await m.insert([4, 5, 6]);
    await m.delete([1, 4]); // one file naming both data files
    // Each data file alone is a group (it has deletes): the shared delete file survives both, then applies to nothing.
    const one = Math.max(...(await liveEntries(await m.load())).filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => Number(e.dataFile.fileSizeInBytes)));
    const r = await rewriteDataFiles(ctx(m), smallFileOptions({ groupBytesMax: one }));
    assert.equal(r.groupsCommitted, 2);
    assert.equal((await deleteFiles(await m.load())).positionFiles.length, 1, 'the shared position delete file is left');
    const dry = await rewritePositionDeletes(ctx(m, { dryRun: true }), { minInputFiles: 10 });
    assert.match(dry.plan![0]!, /remove 1 delete files in unpartitioned that apply to no live row/);
    const res = await rewritePositionDeletes(ctx(m), { minInputFiles: 10 });
    assert.equal(res.groupsCommitted, 1);
    assert.equal(res.filesOut, 0);
    assert.equal((await deleteFiles(await m.load())).positionFiles.length, 0);
    await m.check('after removing the dangling file');
  });

  it('v3 after an upgrade: position delete files become one deletion vector per data file', async () => {
    const m = await streamed('v3_upgraded', true);
    await m.upgradeToV3();
    await m.upsert([10, 11, 30]); // vectors merge the v2 files of their targets (the transaction does)
    await m.check('after the upgrade');
    const before = await deleteFiles(await m.load());
    assert.ok(before.positionFiles.length > 0 && before.vectors.length > 0);
    const res = await rewritePositionDeletes(ctx(m), { minInputFiles: 5 });
    await m.check('after merging into vectors');
    const t = await m.load();
    const afterFiles = await deleteFiles(t);
    assert.equal(afterFiles.positionFiles.length, 0, 'no position delete file left');
    const targets = afterFiles.vectors.map((f) => f.referencedDataFile);
    assert.equal(new Set(targets).size, targets.length, 'one vector per data file');
    assert.equal(res.groupsConflicted, 0);
    assert.equal((await rewritePositionDeletes(ctx(m), { minInputFiles: 1 })).groupsPlanned, 0);
  });

  it('v3: a second vector of a data file is merged into one', async () => {
    const m = await ModelTable.create(catalog, 'v3_two', { formatVersion: 3 });
    await m.insert([1, 2, 3, 4]);
    await m.delete([1]);
    // Another writer adds a second vector for the same file (the spec allows one; readers union them).
    const t0 = await m.load();
    const { file, pos } = (await livePositions(t0, new Set([3n])))[0]!;
    const blob = serializeDeletionVector(Float64Array.from([pos]));
    const puffin = writePuffin([{ type: DELETION_VECTOR_BLOB_TYPE, fields: [ROW_POSITION_FIELD_ID], snapshotId: -1n, sequenceNumber: -1n, data: blob, properties: { 'referenced-data-file': file.filePath, cardinality: '1' } }]);
    const path = `${t0.metadata.location}/data/second-dv.puffin`;
    await t0.io.write(path, puffin);
    await new Transaction(catalog, t0).addDeleteFiles([{
      content: DataFileContent.POSITION_DELETES, filePath: path, fileFormat: 'PUFFIN', specId: file.specId, partition: file.partition,
      recordCount: 1n, fileSizeInBytes: BigInt(puffin.length), referencedDataFile: file.filePath, contentOffset: 4n, contentSizeInBytes: BigInt(blob.length),
    }]).commit();
    m.rows.delete(3n);
    await m.check('with two vectors');
    assert.equal((await deleteFiles(await m.load())).vectors.length, 2);
    const res = await rewritePositionDeletes(ctx(m), { minInputFiles: 5 });
    assert.equal(res.groupsCommitted, 1);
    const v = (await deleteFiles(await m.load())).vectors;
    assert.equal(v.length, 1);
    assert.equal(v[0]!.recordCount, 2n);
    await m.check('after merging the vectors');
  });

  for (const formatVersion of [2, 3] as const) {
    it(`v${formatVersion}: a concurrent delete for a target drops the group; the rows stay deleted`, async () => {
      const m = await streamed(`race_${formatVersion}`, false);
      if (formatVersion === 3) {
        await m.upgradeToV3();
      }
      const ic = new InterceptingCatalog(catalog);
      // A row of a target data file: key 0 was upserted, so its first file is a target.
      const target = [...m.rows.keys()].find((k) => k < 12n && ![0n, 1n, 3n, 7n, 8n].includes(k))!;
      ic.once('commit', 1, () => m.delete([Number(target)]));
      const res = await rewritePositionDeletes(ctx(m, {}, ic), { minInputFiles: 2 });
      assert.ok(ic.fired);
      assert.equal(res.groupsConflicted, 1);
      assert.equal(res.groupsCommitted, 0);
      assert.match(res.plan!.at(-1)!, /dropped .*(added deletes for|removed by a concurrent commit)/);
      await m.check('after the race');
    });
  }

  it('v2: a target rewritten by a concurrent compaction drops the group', async () => {
    const m = await streamed('race_removed', false);
    const ic = new InterceptingCatalog(catalog);
    ic.once('load', 2, async () => {
      assert.equal((await rewriteDataFiles(ctx(m), smallFileOptions({ minInputFiles: 100, deleteRatioMin: 0.01, minFileSizeBytes: 0 }))).groupsConflicted, 0);
    });
    const res = await rewritePositionDeletes(ctx(m, {}, ic), { minInputFiles: 2 });
    assert.ok(ic.fired);
    assert.equal(res.groupsConflicted, 1);
    assert.match(res.plan!.at(-1)!, /removed by a concurrent commit/);
    await m.check('after the race');
  });

  it('dry-run changes nothing', async () => {
    const m = await streamed('dry', true);
    const before = await m.load();
    const res = await rewritePositionDeletes(ctx(m, { dryRun: true }), { minInputFiles: 2 });
    assert.equal((await m.load()).metadataLocation, before.metadataLocation);
    assert.equal(res.groupsPlanned, 3);
    assert.equal(res.snapshotIds.length, 0);
    assert.ok(res.plan!.every((l) => /^merge \d+ position delete files in region=/.test(l)));
  });
});
