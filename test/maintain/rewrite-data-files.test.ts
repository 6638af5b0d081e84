// Proves rewrite-data-files compacts small files without changing a row: v2 and v3 tables with position deletes, deletion vectors and equality deletes read the same before and after, one sorted file per partition remains and the delete files that applied only to the rewritten files go in the same snapshot; v3 rows keep _row_id and _last_updated_sequence_number; a delete committed by another writer between plan and commit (seen at validation or by a refused CAS) drops the group and its files instead of losing the delete; budgets, dry-run and the stop signal hold.
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { DataFileContent } from '../../src/iceberg/data-file.js';
import { scanLive } from '../../src/iceberg/scan.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot } from '../../src/iceberg/table-metadata.js';
import { LAST_UPDATED_SEQUENCE_NUMBER_FIELD, ROW_ID_FIELD, rewriteDataFiles } from '../../src/maintain/rewrite-data-files.js';
import type { MaintainContext } from '../../src/maintain/types.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import { InterceptingCatalog, ModelTable, livePositions, smallFileOptions, tempCatalog } from '../support/maintain-tables.js';

async function counts(t: LoadedTable): Promise<{ data: number; deletes: number; dataByPartition: Map<string, number> }> {
  const entries = await liveEntries(t);
  const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA);
  const dataByPartition = new Map<string, number>();
  for (const e of data) dataByPartition.set(String(e.dataFile.partition[0] ?? ''), (dataByPartition.get(String(e.dataFile.partition[0] ?? '')) ?? 0) + 1);
  return { data: data.length, deletes: entries.length - data.length, dataByPartition };
}

/** id -> [_row_id, _last_updated_sequence_number] of every live row, inherited values made explicit (spec: "Row Lineage"). */
async function lineage(t: LoadedTable): Promise<Map<bigint, string>> {
  const out = new Map<bigint, string>();
  const id = currentSchema(t.metadata).fieldOrThrow(1);
  await scanLive(t, [id, ROW_ID_FIELD, LAST_UPDATED_SEQUENCE_NUMBER_FIELD], (file, pos, v, seq) => {
    const rowId = (v[1] as bigint | null) ?? file.firstRowId! + BigInt(pos);
    const updated = (v[2] as bigint | null) ?? seq;
    out.set(v[0] as bigint, `${rowId}/${updated}`);
  });
  return out;
}

/** Every file under the table's data directory. */
async function dataDirFiles(t: LoadedTable): Promise<Set<string>> {
  const dir = fileURLToPath(`${t.metadata.location}/data`);
  const out = new Set<string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.add(`${e.parentPath}/${e.name}`);
  return out;
}

describe('rewrite-data-files', () => {
  let catalog: SqlCatalog;
  let close: () => Promise<void>;
  before(async () => {
    ({ catalog, close } = await tempCatalog('floe-rewrite-'));
  });
  after(async () => close());

  const ctx = (c = catalog as InterceptingCatalog | SqlCatalog, m: ModelTable, over: Partial<MaintainContext> = {}): MaintainContext => ({ catalog: c, id: m.id, dryRun: false, nowMs: Date.now(), ...over });

  /** Many small commits: inserts, position upserts, equality upserts and deletes. */
  async function churn(m: ModelTable, equality: boolean): Promise<void> {
    for (let b = 0; b < 6; b++) await m.insert(Array.from({ length: 20 }, (_, i) => b * 20 + i));
    await m.upsert([1, 2, 3, 21, 45, 77, 99]);
    await m.delete([4, 5, 60, 61, 62]);
    if (equality) await m.upsert([7, 8, 30, 31, 100], 'equality');
    await m.upsert([2, 8, 110]);
    await m.check('after the churn');
  }

  for (const formatVersion of [2, 3] as const) {
    for (const partitioned of [false, true]) {
      it(`v${formatVersion} ${partitioned ? 'partitioned by region' : 'unpartitioned'}, sorted by n desc: same rows, one sorted file per partition, no delete files left`, async () => {
        const m = await ModelTable.create(catalog, `t${formatVersion}_${partitioned ? 'p' : 'u'}`, { formatVersion, partitioned, sortBy: ['n desc nulls last', 'id'] });
        await churn(m, true);
        const before = await m.load();
        const lineageBefore = formatVersion === 3 ? await lineage(before) : null;
        const c0 = await counts(before);
        assert.ok(c0.data > 6 && c0.deletes > 3, `many small files and deletes to start with (${c0.data} data, ${c0.deletes} deletes)`);

        const res = await rewriteDataFiles(ctx(catalog, m), smallFileOptions());
        await m.check('after the rewrite');
        const t = await m.load();
        const c1 = await counts(t);
        assert.equal(c1.data, partitioned ? 3 : 1, 'one data file per partition');
        assert.equal(c1.deletes, 0, 'every delete file applied only to rewritten files: all removed');
        assert.equal(res.groupsPlanned, partitioned ? 3 : 1);
        assert.equal(res.groupsCommitted, res.groupsPlanned);
        assert.equal(res.groupsConflicted, 0);
        assert.equal(res.snapshotIds.length, res.groupsCommitted);
        assert.equal(res.filesIn, c0.data + c0.deletes, 'filesIn counts the data files and the delete files removed');
        assert.equal(res.filesOut, c1.data);
        assert.ok(res.bytesIn > res.bytesOut && res.bytesOut > 0);
        const snap = currentSnapshot(t.metadata)!;
        assert.equal(snap.summary.operation, 'replace');
        assert.equal(snap.snapshotId, res.snapshotIds.at(-1));

        // Sorted by n desc nulls last, then id; sort_order_id 1.
        for (const e of (await liveEntries(t)).filter((x) => x.dataFile.content === DataFileContent.DATA)) {
          assert.equal(e.dataFile.sortOrderId, 1);
          const rows = decodeParquet(await t.io.read(e.dataFile.filePath)).toArray().map((r) => ({ n: r.n as number | null, id: r.id as bigint }));
          for (let i = 1; i < rows.length; i++) {
            const a = rows[i - 1]!, b = rows[i]!;
            const ok = a.n === null ? b.n === null && a.id < b.id : b.n === null || a.n > b.n || (a.n === b.n && a.id < b.id);
            assert.ok(ok, `rows in sort order at ${i}: ${JSON.stringify([a.n, String(a.id)])} then ${JSON.stringify([b.n, String(b.id)])}`);
          }
        }
        if (lineageBefore !== null) {
          assert.deepEqual(await lineage(t), lineageBefore, 'every row keeps its _row_id and _last_updated_sequence_number');
          // The new files carry the lineage columns explicitly.
          const f = (await liveEntries(t)).find((x) => x.dataFile.content === DataFileContent.DATA)!;
          const cols = decodeParquet(await t.io.read(f.dataFile.filePath)).schema.fields.map((x) => x.name);
          assert.deepEqual(cols.slice(-2), ['_row_id', '_last_updated_sequence_number']);
          assert.equal(t.metadata.nextRowId, snap.firstRowId! + snap.addedRows!, 'row lineage chain goes on');
        }
        // A second run finds nothing to do.
        const again = await rewriteDataFiles(ctx(catalog, m), smallFileOptions());
        assert.equal(again.groupsPlanned, 0);
      });
    }
  }

  it('dry-run plans and changes nothing', async () => {
    const m = await ModelTable.create(catalog, 'dry', { formatVersion: 2, partitioned: true });
    await churn(m, true);
    const before = await m.load();
    const files = await dataDirFiles(before);
    const res = await rewriteDataFiles(ctx(catalog, m, { dryRun: true }), smallFileOptions());
    const after = await m.load();
    assert.equal(after.metadata.currentSnapshotId, before.metadata.currentSnapshotId);
    assert.equal(after.metadataLocation, before.metadataLocation);
    assert.deepEqual(await dataDirFiles(after), files, 'no file written');
    assert.equal(res.groupsPlanned, 3);
    assert.equal(res.snapshotIds.length, 0);
    assert.equal(res.filesIn + res.filesOut, 0);
    assert.equal(res.plan?.length, 3);
    assert.match(res.plan[0]!, /^rewrite \d+ data files .* in region=(eu|us|ap) into ~1/);
  });

  it('groupBytesMax splits a partition into several commits; runBytesMax leaves groups for the next run', async () => {
    const m = await ModelTable.create(catalog, 'budget', { formatVersion: 2 });
    for (let b = 0; b < 8; b++) await m.insert(Array.from({ length: 10 }, (_, i) => b * 10 + i));
    const sizes = (await liveEntries(await m.load())).map((e) => Number(e.dataFile.fileSizeInBytes));
    const one = Math.max(...sizes);
    // Two files per group; a budget of two groups.
    const res = await rewriteDataFiles(ctx(catalog, m), smallFileOptions({ groupBytesMax: 2 * one, runBytesMax: 4 * one }));
    assert.equal(res.groupsCommitted, 2);
    assert.equal(res.snapshotIds.length, 2);
    assert.equal((await counts(await m.load())).data, 8 - 4 + 2);
    assert.ok(res.plan!.some((l) => l.includes("over the run's byte budget")));
    await m.check('after a budgeted run');
  });

  it('a file with enough deletes is rewritten alone; large files without deletes are left alone', async () => {
    const m = await ModelTable.create(catalog, 'ratio', { formatVersion: 3 });
    await m.insert(Array.from({ length: 10 }, (_, i) => i));
    await m.insert(Array.from({ length: 10 }, (_, i) => 10 + i));
    await m.delete([0, 1, 2, 3]);
    // minFileSizeBytes 0: no file is small; the first has 40% of its rows deleted.
    const res = await rewriteDataFiles(ctx(catalog, m), smallFileOptions({ minFileSizeBytes: 0, deleteRatioMin: 0.4 }));
    assert.equal(res.groupsCommitted, 1);
    assert.equal(res.filesIn, 2, 'the file and its deletion vector');
    const c = await counts(await m.load());
    assert.deepEqual([c.data, c.deletes], [2, 0]);
    await m.check('after rewriting the file with deletes');
    const none = await rewriteDataFiles(ctx(catalog, m), smallFileOptions({ minFileSizeBytes: 0, deleteRatioMin: 0.4 }));
    assert.equal(none.groupsPlanned, 0);
  });

  it('an aborted signal stops before the first group', async () => {
    const m = await ModelTable.create(catalog, 'stop', { formatVersion: 2 });
    for (let b = 0; b < 3; b++) await m.insert([b]);
    const ac = new AbortController();
    ac.abort();
    const res = await rewriteDataFiles(ctx(catalog, m, { signal: ac.signal }), smallFileOptions());
    assert.equal(res.groupsPlanned, 1);
    assert.equal(res.groupsCommitted, 0);
    assert.equal((await counts(await m.load())).data, 3);
  });

  describe('a concurrent commit between plan and commit', () => {
    /**
     * Plans on a table of small files, lets another writer commit at `when` (`load` 2: before the group's
     * validation; `commit` 1: after it, inside the group's first commit call, so the CAS is refused), then checks
     * the table against the model.
     */
    async function race(name: string, formatVersion: 2 | 3, when: 'load' | 'commit', other: (m: ModelTable) => Promise<void>): Promise<{ res: Awaited<ReturnType<typeof rewriteDataFiles>>; m: ModelTable; leftover: Set<string> }> {
      const m = await ModelTable.create(catalog, name, { formatVersion });
      for (let b = 0; b < 4; b++) await m.insert(Array.from({ length: 5 }, (_, i) => b * 5 + i));
      const before = await dataDirFiles(await m.load());
      const ic = new InterceptingCatalog(catalog);
      ic.once(when, when === 'load' ? 2 : 1, () => other(m));
      const res = await rewriteDataFiles(ctx(ic, m), smallFileOptions());
      assert.ok(ic.fired, 'the other writer committed');
      await m.check('after the race');
      const t = await m.load();
      const live = new Set((await liveEntries(t)).map((e) => fileURLToPath(e.dataFile.filePath)));
      const leftover = new Set([...(await dataDirFiles(t))].filter((p) => !before.has(p) && !live.has(p)));
      return { res, m, leftover };
    }

    for (const formatVersion of [2, 3] as const) {
      for (const when of ['load', 'commit'] as const) {
        it(`v${formatVersion}: a ${formatVersion === 3 ? 'deletion vector' : 'position delete'} for a file of the group (${when === 'load' ? 'before validation' : 'after validation: the CAS is refused'}) drops the group`, async () => {
          const { res, leftover } = await race(`race_${formatVersion}_${when}`, formatVersion, when, (m) => m.delete([6]));
          assert.equal(res.groupsPlanned, 1);
          assert.equal(res.groupsConflicted, 1);
          assert.equal(res.groupsCommitted, 0);
          assert.equal(res.snapshotIds.length, 0);
          assert.match(res.plan!.at(-1)!, /dropped .*deleted rows of/);
          assert.equal(leftover.size, 0, 'the dropped group\'s files are deleted');
        });
      }
    }

    it('an equality delete matching a row of the group drops it', async () => {
      const { res } = await race('race_eq', 2, 'load', (m) => m.upsert([3], 'equality'));
      assert.equal(res.groupsConflicted, 1);
      assert.match(res.plan!.at(-1)!, /equality delete/);
    });

    it('an equality delete of keys outside the group, and appends, do not conflict', async () => {
      const { res } = await race('race_eq_other', 2, 'commit', async (m) => {
        await m.insert([1000, 1001]);
        await m.upsert([1000], 'equality');
      });
      assert.equal(res.groupsCommitted, 1);
      assert.equal(res.groupsConflicted, 0);
    });

    it('a position delete of a file outside the group does not conflict', async () => {
      const m = await ModelTable.create(catalog, 'race_outside', { formatVersion: 2 });
      for (let b = 0; b < 4; b++) await m.insert(Array.from({ length: 5 }, (_, i) => b * 5 + i));
      const ic = new InterceptingCatalog(catalog);
      ic.once('load', 2, async () => {
        await m.insert([500, 501]);
        await m.delete([500]);
      });
      const res = await rewriteDataFiles(ctx(ic, m), smallFileOptions());
      assert.ok(ic.fired);
      assert.equal(res.groupsCommitted, 1);
      await m.check('after a race with an unrelated delete');
    });

    it('a file of the group rewritten by another maintenance run drops the group', async () => {
      const { res } = await race('race_removed', 2, 'load', async (m) => {
        const res2 = await rewriteDataFiles({ catalog, id: m.id, dryRun: false, nowMs: Date.now() }, smallFileOptions());
        assert.equal(res2.groupsCommitted, 1);
      });
      assert.equal(res.groupsConflicted, 1);
      assert.match(res.plan!.at(-1)!, /removed by a concurrent commit/);
    });

    it('the rows the other writer deleted stay deleted (positions found after the race)', async () => {
      const { m } = await race('race_rows', 3, 'commit', (mm) => mm.delete([2, 17]));
      const t = await m.load();
      assert.equal((await livePositions(t, new Set([2n, 17n]))).length, 0);
    });
  });
});
