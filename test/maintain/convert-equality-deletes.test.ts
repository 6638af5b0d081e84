// Proves convert-equality-deletes replaces equality deletes with position deletes (v2) or deletion vectors (v3) that delete exactly the same rows: rows written in the same commit as an equality delete or after it (a key re-inserted) survive; the equality delete files go in the same snapshot; a concurrent position delete does not conflict, a concurrent rewrite of a file with rows to delete drops the group; dry-run changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { DataFileContent, isDeletionVector } from '../../src/iceberg/data-file.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { convertEqualityDeletes } from '../../src/maintain/convert-equality-deletes.js';
import { rewriteDataFiles } from '../../src/maintain/rewrite-data-files.js';
import type { MaintainContext } from '../../src/maintain/types.js';
import { InterceptingCatalog, ModelTable, smallFileOptions, tempCatalog } from '../support/maintain-tables.js';

async function kinds(t: LoadedTable): Promise<{ equality: number; position: number; vectors: number }> {
  const files = (await liveEntries(t)).map((e) => e.dataFile);
  return {
    equality: files.filter((f) => f.content === DataFileContent.EQUALITY_DELETES).length,
    position: files.filter((f) => f.content === DataFileContent.POSITION_DELETES && !isDeletionVector(f)).length,
    vectors: files.filter(isDeletionVector).length,
  };
}

describe('convert-equality-deletes', () => {
  let catalog: SqlCatalog;
  let close: () => Promise<void>;
  before(async () => {
    ({ catalog, close } = await tempCatalog('floe-eqconv-'));
  });
  after(async () => close());

  const ctx = (m: ModelTable, over: Partial<MaintainContext> = {}, c: MaintainContext['catalog'] = catalog): MaintainContext => ({ catalog: c, id: m.id, dryRun: false, nowMs: Date.now(), ...over });

  /** Equality upserts: a key updated three times (each delete takes the rows before it, never the one of its own commit), a key deleted by position then re-inserted. */
  async function upserted(name: string, formatVersion: 2 | 3, partitioned: boolean): Promise<ModelTable> {
    const m = await ModelTable.create(catalog, name, { formatVersion, partitioned });
    for (let b = 0; b < 3; b++) await m.insert(Array.from({ length: 10 }, (_, i) => b * 10 + i));
    await m.upsert([1, 2, 11, 25], 'equality');
    await m.upsert([2, 3, 12], 'equality');
    await m.delete([5]);
    await m.upsert([2, 5, 26], 'equality'); // 5 is re-inserted: no old row to delete, the new one stays
    await m.check('after the equality upserts');
    return m;
  }

  for (const formatVersion of [2, 3] as const) {
    for (const partitioned of [false, true]) {
      it(`v${formatVersion} ${partitioned ? 'partitioned' : 'unpartitioned'}: equality deletes become ${formatVersion === 3 ? 'deletion vectors' : 'position deletes'}, the same rows read`, async () => {
        const m = await upserted(`eq${formatVersion}_${partitioned ? 'p' : 'u'}`, formatVersion, partitioned);
        const before = await kinds(await m.load());
        assert.ok(before.equality >= 3);
        const res = await convertEqualityDeletes(ctx(m), { minInputFiles: 1 });
        await m.check('after the conversion');
        const k = await kinds(await m.load());
        assert.equal(k.equality, 0, 'no equality delete left');
        if (formatVersion === 2) assert.ok(k.position > before.position);
        else {
          assert.equal(k.position, 0);
          assert.ok(k.vectors > 0);
        }
        assert.equal(res.groupsCommitted, partitioned ? 3 : 1);
        assert.equal(res.groupsConflicted, 0);
        assert.ok(res.filesIn >= before.equality);
        // Rows stay right through later writes and a compaction reading the new deletes.
        await m.upsert([1, 2, 29]);
        await m.check('after more upserts');
        await rewriteDataFiles(ctx(m), smallFileOptions());
        await m.check('after compaction');
      });
    }
  }

  it('a row written in the same commit as the equality delete (same sequence number) is kept', async () => {
    const m = await ModelTable.create(catalog, 'same_seq', { formatVersion: 2 });
    await m.insert([1, 2]);
    await m.upsert([1], 'equality'); // the delete and the new row of key 1 share a sequence number
    await convertEqualityDeletes(ctx(m), { minInputFiles: 1 });
    await m.check('the new row of key 1 survives');
    assert.equal(m.rows.size, 2);
  });

  it('a concurrent position delete of a target does not conflict; both deletes hold', async () => {
    const m = await upserted('race_pos', 3, false);
    const ic = new InterceptingCatalog(catalog);
    ic.once('commit', 1, () => m.delete([0, 4]));
    const res = await convertEqualityDeletes(ctx(m, {}, ic), { minInputFiles: 1 });
    assert.ok(ic.fired);
    assert.equal(res.groupsCommitted, 1);
    await m.check('after the race');
    assert.equal((await kinds(await m.load())).equality, 0);
  });

  it('a file with rows to delete rewritten concurrently drops the group, no row comes back', async () => {
    const m = await upserted('race_rewrite', 2, false);
    const ic = new InterceptingCatalog(catalog);
    ic.once('load', 2, async () => {
      assert.equal((await rewriteDataFiles(ctx(m), smallFileOptions())).groupsCommitted, 1);
    });
    const res = await convertEqualityDeletes(ctx(m, {}, ic), { minInputFiles: 1 });
    assert.ok(ic.fired);
    assert.equal(res.groupsConflicted, 1);
    assert.match(res.plan!.at(-1)!, /removed by a concurrent commit/);
    await m.check('after the race');
  });

  it('dry-run changes nothing', async () => {
    const m = await upserted('dry', 2, true);
    const before = await m.load();
    const res = await convertEqualityDeletes(ctx(m, { dryRun: true }), { minInputFiles: 1 });
    assert.equal((await m.load()).metadataLocation, before.metadataLocation);
    assert.equal(res.groupsPlanned, 3);
    assert.match(res.plan![0]!, /^convert \d+ equality delete files \(\d+ rows\) in region=\w+ to position deletes, reading \d+ data files$/);
  });
});
