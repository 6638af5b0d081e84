// Proves rewrite-manifests merges a snapshot's small manifests per content kind and partition spec into a replace snapshot that adds and removes no file: every live entry keeps its snapshot id, sequence numbers and (v3) first_row_id, the rows read the same, next-row-id does not move; it does nothing below minManifests or under dry-run; a concurrent append between plan and commit keeps its rows and the rewrite reuses its manifests, a concurrent manifest merge makes it re-plan, an unknown commit outcome that landed counts as landed; and it leaves no file behind that the table does not reach.
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { FloeError } from '../../src/errors.js';
import { ManifestEntryStatus } from '../../src/iceberg/data-file.js';
import { carriesLiveFiles, readManifest } from '../../src/iceberg/manifest.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { readManifestFiles } from '../../src/iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot, specsById, type TableRequirement, type TableUpdate } from '../../src/iceberg/table-metadata.js';
import type { LocalFileIO } from '../../src/io/local-file-io.js';
import { rewriteManifests } from '../../src/maintain/rewrite-manifests.js';
import { appendRows } from '../support/table-ops.js';
import { Expected, SCHEMA, assertIntact, buildHistory, expectedText, interfering, listAll, reachedFiles, rowsText, tempCatalog } from '../support/maintain.js';

const OPTS = { targetManifestBytes: 8 * 1024 * 1024, minManifests: 4 };

/** Every live entry of the current snapshot: path → what must survive a rewrite. */
async function entryFacts(t: LoadedTable): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of await readManifestFiles(t, currentSnapshot(t.metadata))) {
    for (const e of readManifest(await t.io.read(m.manifestPath), m, specsById(t.metadata), currentSchema(t.metadata))) {
      if (e.status === ManifestEntryStatus.DELETED) continue;
      const f = e.dataFile;
      const key = f.referencedDataFile !== undefined && f.fileFormat === 'PUFFIN' ? `${f.filePath}#${f.referencedDataFile}` : f.filePath;
      out.set(key, [m.content, f.specId, f.content, e.snapshotId, e.sequenceNumber, e.fileSequenceNumber, f.firstRowId ?? '-', f.recordCount, f.contentOffset ?? '-'].join(' '));
    }
  }
  return out;
}

/** Manifests per `content/spec`. */
async function manifestGroups(t: LoadedTable): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await readManifestFiles(t, currentSnapshot(t.metadata))) out.set(`${m.content}/${m.partitionSpecId}`, (out.get(`${m.content}/${m.partitionSpecId}`) ?? 0) + 1);
  return out;
}

describe('rewrite-manifests', () => {
  let dir = '';
  let catalog: SqlCatalog;
  let io: LocalFileIO;
  before(async () => {
    ({ dir, catalog, io } = await tempCatalog('floe-rewrite-manifests-'));
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** No file under the table's location that the table does not reach: the step cleaned up after itself. */
  async function assertNoStrayFiles(t: LoadedTable): Promise<void> {
    const reached = await reachedFiles(t);
    const stray = (await listAll(io, `${t.metadata.location}/`)).map((f) => f.path).filter((p) => !reached.has(p));
    assert.deepEqual(stray, []);
  }

  async function historyTable(name: string, formatVersion: 2 | 3, commits = 10): Promise<{ id: TableIdentifier; expected: Expected }> {
    const id = { namespace: ['db'], name };
    // No manifest merging on commit: every commit leaves its manifests, as on a table written by other engines.
    await catalog.createTable(id, { schema: SCHEMA, formatVersion, properties: { 'commit.manifest-merge.enabled': 'false' } });
    const expected = new Expected();
    await buildHistory(catalog, id, commits, expected);
    return { id, expected };
  }

  it('v2: merges data and delete manifests separately into a replace snapshot; entries, totals and rows unchanged', async () => {
    const { id, expected } = await historyTable('v2', 2);
    const t0 = await catalog.loadTable(id);
    const facts0 = await entryFacts(t0);
    const groups0 = await manifestGroups(t0);
    assert.ok((groups0.get('0/0') ?? 0) > 5 && (groups0.get('1/0') ?? 0) > 3, JSON.stringify([...groups0]));
    const res = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: false }, OPTS);
    const t = await catalog.loadTable(id);
    const s = currentSnapshot(t.metadata)!;
    assert.deepEqual(res.snapshotIds, [s.snapshotId]);
    assert.equal(s.summary.operation, 'replace');
    assert.equal(s.parentSnapshotId, t0.metadata.currentSnapshotId);
    assert.deepEqual([...(await manifestGroups(t))].sort(), [['0/0', 1], ['1/0', 1]]);
    // Manifests left with only DELETED entries are dropped, not merged.
    const live0 = (await readManifestFiles(t0, currentSnapshot(t0.metadata))).filter((m) => carriesLiveFiles(m, 2)).length;
    assert.ok(live0 < (groups0.get('0/0') ?? 0) + (groups0.get('1/0') ?? 0), 'the history left an emptied manifest');
    assert.equal(res.filesIn, live0);
    assert.equal(res.filesOut, 2);
    assert.deepEqual(await entryFacts(t), facts0);
    const parent = currentSnapshot(t0.metadata)!;
    for (const k of Object.keys(parent.summary).filter((x) => x.startsWith('total-'))) assert.equal(s.summary[k], parent.summary[k], k);
    assert.deepEqual(await rowsText(t), expectedText(expected));
    await assertIntact(t);
    await assertNoStrayFiles(t);
  });

  it('v3 with spec evolution: one manifest per content and spec; first_row_id of every file and next-row-id unchanged', async () => {
    const id = { namespace: ['db'], name: 'v3specs' };
    await catalog.createTable(id, { schema: SCHEMA, formatVersion: 3, properties: { 'commit.manifest-merge.enabled': 'false' } });
    const expected = new Expected();
    await buildHistory(catalog, id, 6, expected);
    const spec1 = partitionSpecFromExprs(['bucket(4, id)'], SCHEMA, 1);
    await catalog.commitTable(await catalog.loadTable(id), [], [{ action: 'add-spec', spec: spec1 }, { action: 'set-default-spec', 'spec-id': -1 }]);
    await buildHistory(catalog, id, 6, expected, 1000);
    const t0 = await catalog.loadTable(id);
    const facts0 = await entryFacts(t0);
    const groups0 = await manifestGroups(t0);
    assert.ok((groups0.get('0/0') ?? 0) >= 2 && (groups0.get('0/1') ?? 0) >= 2 && (groups0.get('1/0') ?? 0) >= 2 && groups0.has('1/1'), JSON.stringify([...groups0]));
    const res = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: false }, OPTS);
    assert.equal(res.snapshotIds.length, 1);
    const t = await catalog.loadTable(id);
    const groups = await manifestGroups(t);
    for (const [k, n] of groups0) assert.equal(groups.get(k), n >= 2 ? 1 : n, `group ${k}`);
    assert.deepEqual(await entryFacts(t), facts0);
    for (const f of facts0.values()) if (f.startsWith('0 ')) assert.ok(!f.includes(' - '), `a v3 data file has its first_row_id: ${f}`);
    assert.equal(t.metadata.nextRowId, t0.metadata.nextRowId);
    assert.equal(currentSnapshot(t.metadata)!.addedRows, 0n);
    assert.deepEqual(await rowsText(t), expectedText(expected));
    await assertIntact(t);
    await assertNoStrayFiles(t);
  });

  it('below minManifests, manifests left with only DELETED entries are dropped in a replace snapshot; then nothing is left to do', async () => {
    const { id, expected } = await historyTable('emptied', 2);
    const t0 = await catalog.loadTable(id);
    const all0 = await readManifestFiles(t0, currentSnapshot(t0.metadata));
    const live0 = all0.filter((m) => carriesLiveFiles(m, 2)).map((m) => m.manifestPath).sort();
    assert.ok(live0.length < all0.length, 'the history left an emptied manifest');
    const res = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: false }, { ...OPTS, minManifests: all0.length + 1 });
    assert.equal(res.snapshotIds.length, 1);
    const t = await catalog.loadTable(id);
    assert.equal(currentSnapshot(t.metadata)!.summary.operation, 'replace');
    assert.deepEqual((await readManifestFiles(t, currentSnapshot(t.metadata))).map((m) => m.manifestPath).sort(), live0, 'the live manifests, unchanged');
    assert.deepEqual(await rowsText(t), expectedText(expected));
    await assertIntact(t);
    const again = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: false }, { ...OPTS, minManifests: all0.length + 1 });
    assert.deepEqual(again.snapshotIds, []);
  });

  it('below minManifests, or under dry-run, nothing changes', async () => {
    const { id } = await historyTable('quiet', 2, 6);
    const t0 = await catalog.loadTable(id);
    const files0 = await listAll(io, `${t0.metadata.location}/`);
    const n = (await readManifestFiles(t0, currentSnapshot(t0.metadata))).length;
    const few = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: false }, { ...OPTS, minManifests: n + 1 });
    assert.deepEqual(few.snapshotIds, []);
    const dry = await rewriteManifests({ catalog, id, nowMs: Date.now(), dryRun: true }, OPTS);
    assert.deepEqual(dry.snapshotIds, []);
    assert.ok((dry.plan ?? [])[0]?.includes(`of ${n} manifest(s) into 2`), (dry.plan ?? []).join('\n'));
    assert.equal((await catalog.loadTable(id)).metadataLocation, t0.metadataLocation);
    assert.deepEqual(await listAll(io, `${t0.metadata.location}/`), files0);
  });

  it('a concurrent append between plan and commit: its rows stay, the written manifests are reused on top of it', async () => {
    const { id, expected } = await historyTable('append', 2);
    const { catalog: busy, calls } = interfering(catalog, async (call) => {
      if (call === 0) await appendRows(catalog, await catalog.loadTable(id), [{ id: 5000n, v: 'concurrent' }], expected);
    });
    const res = await rewriteManifests({ catalog: busy, id, nowMs: Date.now(), dryRun: false }, OPTS);
    assert.equal(calls(), 2);
    const t = await catalog.loadTable(id);
    const s = currentSnapshot(t.metadata)!;
    assert.deepEqual(res.snapshotIds, [s.snapshotId]);
    assert.equal(t.metadata.snapshots.find((x) => x.snapshotId === s.parentSnapshotId)?.summary.operation, 'append', 'the rewrite sits on the concurrent append');
    assert.equal(res.filesOut, 2, 'the manifests written for the first attempt were reused');
    assert.equal((await manifestGroups(t)).get('0/0'), 2, 'merged data manifest + the append’s');
    assert.deepEqual(await rowsText(t), expectedText(expected));
    assert.ok((await rowsText(t)).includes('005000=concurrent'));
    await assertIntact(t);
    await assertNoStrayFiles(t);
  });

  it('a concurrent commit that merges the manifests: the rewrite re-plans on what main holds, nothing is lost or left behind', async () => {
    const { id, expected } = await historyTable('merged', 2);
    const { catalog: busy } = interfering(catalog, async (call) => {
      if (call !== 0) return;
      const t = await catalog.loadTable(id);
      // Another writer with manifest merging on commits an append that merges every earlier manifest.
      await new Transaction(catalog, t).setProperties({ 'commit.manifest-merge.enabled': 'true', 'commit.manifest.min-count-to-merge': '2' }).commit();
      await appendRows(catalog, await catalog.loadTable(id), [{ id: 6000n, v: 'merger' }], expected);
    });
    await rewriteManifests({ catalog: busy, id, nowMs: Date.now(), dryRun: false }, { ...OPTS, minManifests: 2 });
    const t = await catalog.loadTable(id);
    assert.deepEqual(await rowsText(t), expectedText(expected));
    assert.ok((await rowsText(t)).includes('006000=merger'));
    await assertIntact(t);
    await assertNoStrayFiles(t);
  });

  it('an unknown commit outcome that did land counts as landed: one snapshot, no stray files', async () => {
    const { id, expected } = await historyTable('unknown', 2);
    const busy = Object.create(catalog) as SqlCatalog;
    let n = 0;
    busy.commitTable = async (t: LoadedTable, req: readonly TableRequirement[], upd: readonly TableUpdate[]) => {
      const out = await catalog.commitTable(t, req, upd);
      if (n++ === 0) throw new FloeError('commit_state_unknown', 'response lost (test)');
      return out;
    };
    const before = (await catalog.loadTable(id)).metadata.snapshots.length;
    const res = await rewriteManifests({ catalog: busy, id, nowMs: Date.now(), dryRun: false }, OPTS);
    const t = await catalog.loadTable(id);
    assert.equal(t.metadata.snapshots.length, before + 1);
    assert.deepEqual(res.snapshotIds, [t.metadata.currentSnapshotId]);
    assert.equal(n, 1, 'no second commit');
    assert.deepEqual(await rowsText(t), expectedText(expected));
    await assertNoStrayFiles(t);
  });
});
