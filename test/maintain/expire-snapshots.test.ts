// Proves expire-snapshots removes exactly the snapshots Iceberg's rules expire (age, keepLast on every branch, tags, young unreferenced ones), deletes every file only they reached and none a retained snapshot needs (checked against an independent oracle, v2 with equality and position deletes, v3 with deletion vectors), keeps the rows of the current and of a tagged snapshot, re-plans when a concurrent commit (an append, a rollback of main) lands between plan and commit, keeps the Kafka offsets floe reads, and changes nothing under dry-run.
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableIdentifier } from '../../src/catalog/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { storedOffsets } from '../../src/commit/offsets.js';
import { Transaction } from '../../src/commit/transaction.js';
import { applyUpdates, newTableMetadata, type TableMetadata } from '../../src/iceberg/table-metadata.js';
import type { Snapshot } from '../../src/iceberg/snapshot.js';
import type { LocalFileIO } from '../../src/io/local-file-io.js';
import { expireSnapshots, planExpiry } from '../../src/maintain/expire-snapshots.js';
import type { MaintainContext } from '../../src/maintain/types.js';
import { appendRows } from '../support/table-ops.js';
import {
  Expected,
  SCHEMA,
  assertIntact,
  at,
  buildHistory,
  expectedText,
  filesOfSnapshot,
  interfering,
  listAll,
  rowsText,
  tempCatalog,
} from '../support/maintain.js';

const HOUR_MS = 3_600_000;

function snap(id: bigint, parent: bigint | null, seq: bigint, ts: number): Snapshot {
  return { snapshotId: id, parentSnapshotId: parent, sequenceNumber: seq, timestampMs: ts, manifestList: `/x/snap-${id}.avro`, summary: { operation: 'append' }, schemaId: 0 };
}

/** main: 1 ← 2 ← 3 ← 4 ← 5 ← 6 (ts = id hours); branch dev: 2 ← 7; tag t on 1; 8 and 9 unreferenced (old and young). */
function history(): TableMetadata {
  let m = newTableMetadata({ location: '/x', schema: SCHEMA });
  const h = (id: bigint): number => Number(id) * HOUR_MS;
  let seq = 0n;
  for (const id of [1n, 2n, 3n, 4n, 5n, 6n]) {
    m = applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(id, id === 1n ? null : id - 1n, ++seq, h(id)) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id }]);
  }
  m = applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(7n, 2n, ++seq, h(7n)) }, { action: 'set-snapshot-ref', 'ref-name': 'dev', type: 'branch', 'snapshot-id': 7n }]);
  m = applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 't', type: 'tag', 'snapshot-id': 1n }]);
  m = applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(8n, 3n, ++seq, h(1n)) }, { action: 'add-snapshot', snapshot: snap(9n, 3n, ++seq, h(9n)) }]);
  return m;
}

const ids = (p: { expired: readonly Snapshot[] }): bigint[] => p.expired.map((s) => s.snapshotId).sort((a, b) => Number(a - b));

describe('expire-snapshots: the plan', () => {
  it('keeps heads, tags, keepLast and young snapshots on every branch, and young unreferenced ones', () => {
    const m = history();
    // Cutoff at 4.5 h, keep 2: main keeps 6, 5; dev keeps 7, 2; tag keeps 1; 9 is young and unreferenced.
    assert.deepEqual(ids(planExpiry(m, 4.5 * HOUR_MS + HOUR_MS, { olderThanMs: HOUR_MS, keepLast: 2 })), [3n, 4n, 8n]);
    // Cutoff at 3.5 h: main keeps 6, 5, 4 by age.
    // Cutoff at 3.5 h, keep 1: main keeps 6, 5, 4 by age; dev keeps only 7; 8 is old and unreferenced.
    assert.deepEqual(ids(planExpiry(m, 3.5 * HOUR_MS, { olderThanMs: 0, keepLast: 1 })), [2n, 3n, 8n]);
    // keepLast 0 still keeps every head; everything else old goes.
    assert.deepEqual(ids(planExpiry(m, 100 * HOUR_MS, { olderThanMs: 0, keepLast: 0 })), [2n, 3n, 4n, 5n, 8n, 9n]);
    // Nothing old enough, or a table without snapshots: nothing to expire.
    assert.deepEqual(ids(planExpiry(m, 0, { olderThanMs: 0, keepLast: 1 })), []);
    assert.deepEqual(ids(planExpiry(newTableMetadata({ location: '/x', schema: SCHEMA }), 100 * HOUR_MS, { olderThanMs: 0, keepLast: 1 })), []);
  });
});

describe('expire-snapshots', () => {
  let dir = '';
  let catalog: SqlCatalog;
  let io: LocalFileIO;
  before(async () => {
    ({ dir, catalog, io } = await tempCatalog('floe-expire-'));
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ctx = (over: Partial<MaintainContext> & { id: TableIdentifier; nowMs: number }): MaintainContext => ({ catalog, dryRun: false, ...over });

  /** Files each snapshot reaches, before expiry (the oracle). */
  async function filesBySnapshot(id: TableIdentifier): Promise<Map<bigint, Set<string>>> {
    const t = await catalog.loadTable(id);
    const out = new Map<bigint, Set<string>>();
    for (const s of t.metadata.snapshots) out.set(s.snapshotId, await filesOfSnapshot(t, s));
    return out;
  }

  /**
   * Checks that every file a retained snapshot reaches is there and that the files only expired snapshots
   * reached are gone; returns how many those were.
   */
  async function checkFiles(id: TableIdentifier, beforeFiles: Map<bigint, Set<string>>): Promise<number> {
    const t = await catalog.loadTable(id);
    await assertIntact(t);
    const retained = new Set(t.metadata.snapshots.map((s) => s.snapshotId));
    const kept = new Set<string>();
    for (const s of t.metadata.snapshots) for (const f of await filesOfSnapshot(t, s)) kept.add(f);
    const onlyExpired = new Set<string>();
    for (const [sid, files] of beforeFiles) if (!retained.has(sid)) for (const f of files) if (!kept.has(f)) onlyExpired.add(f);
    for (const f of onlyExpired) assert.equal(await io.exists(f), false, `${f}, reached only by expired snapshots, is deleted`);
    return onlyExpired.size;
  }

  for (const formatVersion of [2, 3] as const) {
    it(`v${formatVersion}: expires by age and keepLast, keeps a tag and a branch with their files, deletes what only expired snapshots reached`, async () => {
      const id = { namespace: ['db'], name: `hist${formatVersion}` };
      // Manifest merging on, with a low threshold: merged manifests hold as EXISTING files that expired manifests hold too.
      await catalog.createTable(id, { schema: SCHEMA, formatVersion, properties: { 'commit.manifest.min-count-to-merge': '3' } });
      const expected = new Expected();
      const rowsAt = await buildHistory(catalog, id, 12, expected);
      let t = await catalog.loadTable(id);
      const main = [...rowsAt.keys()];
      assert.ok(main.length >= 20, `history has ${main.length} snapshots`);
      const tagged = main[3]!;
      const branchHead = main[7]!;
      t = await catalog.commitTable(t, [], [
        { action: 'set-snapshot-ref', 'ref-name': 'audit', type: 'tag', 'snapshot-id': tagged },
        { action: 'set-snapshot-ref', 'ref-name': 'dev', type: 'branch', 'snapshot-id': branchHead },
      ]);
      const beforeFiles = await filesBySnapshot(id);
      const byId = new Map(t.metadata.snapshots.map((s) => [s.snapshotId, s]));
      const cutoffAt = main.length - 4; // the newest 4 of main are younger than the cutoff
      const nowMs = byId.get(main[cutoffAt]!)!.timestampMs + HOUR_MS;
      const res = await expireSnapshots(ctx({ id, nowMs }), { olderThanMs: HOUR_MS, keepLast: 2 });

      const keep = new Set([...main.slice(cutoffAt), tagged, branchHead, byId.get(branchHead)!.parentSnapshotId!]);
      t = await catalog.loadTable(id);
      assert.deepEqual(t.metadata.snapshots.map((s) => s.snapshotId).sort(), [...keep].sort());
      assert.equal(res.snapshotsExpired, main.length - keep.size);
      assert.deepEqual(res.snapshotIds, []);
      assert.ok(t.metadata.snapshotLog.every((e) => keep.has(e.snapshotId)), 'the snapshot log names no expired snapshot');
      assert.equal(t.metadata.refs.audit?.snapshotId, tagged);
      assert.equal(t.metadata.refs.dev?.snapshotId, branchHead);
      // Every retained snapshot still reads, with the rows it had.
      assert.deepEqual(await rowsText(t), expectedText(expected));
      assert.deepEqual(await rowsText(at(t, tagged)), rowsAt.get(tagged));
      assert.deepEqual(await rowsText(at(t, branchHead)), rowsAt.get(branchHead));
      const gone = await checkFiles(id, beforeFiles);
      assert.ok(gone > 10, `${gone} files were reachable only from expired snapshots`);
      assert.equal(res.filesDeleted, gone);
      if (formatVersion === 3) {
        const puffins = [...beforeFiles.values()].flatMap((f) => [...f]).filter((f) => f.endsWith('.puffin'));
        const still = await Promise.all([...new Set(puffins)].map((f) => io.exists(f)));
        assert.ok(still.includes(false), 'some replaced deletion vector files were deleted');
      }
      // A second run finds nothing more to do at the same clock.
      const again = await expireSnapshots(ctx({ id, nowMs }), { olderThanMs: HOUR_MS, keepLast: 2 });
      assert.equal(again.snapshotsExpired, 0);
      assert.equal(again.filesDeleted, 0);
    });
  }

  it('dry-run lists the plan and changes nothing: same metadata file, same files', async () => {
    const id = { namespace: ['db'], name: 'dry' };
    const created = await catalog.createTable(id, { schema: SCHEMA });
    const expected = new Expected();
    await buildHistory(catalog, id, 6, expected);
    const t0 = await catalog.loadTable(id);
    const files0 = await listAll(io, `${created.metadata.location}/`);
    const res = await expireSnapshots(ctx({ id, nowMs: Date.now() + 2 * HOUR_MS, dryRun: true }), { olderThanMs: HOUR_MS, keepLast: 1 });
    const t1 = await catalog.loadTable(id);
    assert.equal(t1.metadataLocation, t0.metadataLocation);
    assert.deepEqual(await listAll(io, `${created.metadata.location}/`), files0);
    assert.equal(res.snapshotsExpired, 0);
    assert.equal(res.filesDeleted, 0);
    const plan = res.plan ?? [];
    assert.equal(plan.filter((l) => l.startsWith('expire snapshot ')).length, t0.metadata.snapshots.length - 1);
    assert.ok(plan.filter((l) => l.startsWith('delete ')).length > 5, plan.join('\n'));
    // The plan is what a real run then does.
    const real = await expireSnapshots(ctx({ id, nowMs: Date.now() + 2 * HOUR_MS }), { olderThanMs: HOUR_MS, keepLast: 1 });
    assert.equal(real.snapshotsExpired, t0.metadata.snapshots.length - 1);
    assert.equal(real.filesDeleted, plan.filter((l) => l.startsWith('delete ')).length);
    assert.deepEqual(await rowsText(await catalog.loadTable(id)), expectedText(expected));
  });

  it('a concurrent append between plan and commit: the step re-plans, the append and its files stay', async () => {
    const id = { namespace: ['db'], name: 'concurrent' };
    await catalog.createTable(id, { schema: SCHEMA });
    const expected = new Expected();
    await buildHistory(catalog, id, 6, expected);
    const beforeFiles = await filesBySnapshot(id);
    const { catalog: busy, calls } = interfering(catalog, async (call) => {
      if (call === 0) await appendRows(catalog, await catalog.loadTable(id), [{ id: 1000n, v: 'concurrent' }], expected);
    });
    const res = await expireSnapshots({ catalog: busy, id, nowMs: Date.now() + 2 * HOUR_MS, dryRun: false }, { olderThanMs: HOUR_MS, keepLast: 1 });
    assert.equal(calls(), 2, 'the first commit lost its CAS to the append, the second landed');
    const t = await catalog.loadTable(id);
    assert.equal(t.metadata.snapshots.length, 1, 'the re-plan keeps only the new current snapshot');
    assert.equal(res.snapshotsExpired, beforeFiles.size);
    assert.deepEqual(await rowsText(t), expectedText(expected));
    assert.ok((await rowsText(t)).includes('001000=concurrent'));
    await checkFiles(id, beforeFiles);
  });

  it('a concurrent rollback of main to an old snapshot: the step re-plans and keeps it (main never dangles)', async () => {
    const id = { namespace: ['db'], name: 'rollback' };
    await catalog.createTable(id, { schema: SCHEMA });
    const expected = new Expected();
    const rowsAt = await buildHistory(catalog, id, 6, expected);
    const target = [...rowsAt.keys()][2]!;
    const beforeFiles = await filesBySnapshot(id);
    const { catalog: busy } = interfering(catalog, async (call) => {
      if (call === 0) await catalog.commitTable(await catalog.loadTable(id), [], [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': target }]);
    });
    await expireSnapshots({ catalog: busy, id, nowMs: Date.now() + 2 * HOUR_MS, dryRun: false }, { olderThanMs: HOUR_MS, keepLast: 1 });
    const t = await catalog.loadTable(id);
    assert.equal(t.metadata.currentSnapshotId, target);
    assert.deepEqual(t.metadata.snapshots.map((s) => s.snapshotId), [target]);
    assert.deepEqual(await rowsText(t), rowsAt.get(target));
    await checkFiles(id, beforeFiles);
  });

  it('keeps the Kafka offsets floe reads when it expires the snapshots that carry them (property missing, or off after a rollback)', async () => {
    const key = 'floe.kafka.offsets.g1';
    for (const [name, property] of [['offsets-ok', 'same'], ['offsets-missing', 'missing'], ['offsets-ahead', 'ahead']] as const) {
      const id = { namespace: ['db'], name };
      let t = await catalog.createTable(id, { schema: SCHEMA });
      // Three floe commits carry the offsets in the summary and in the property, as the committer writes them.
      for (const offset of [10, 20, 30]) {
        const text = JSON.stringify({ cdc: { '0': offset } });
        t = (await new Transaction(catalog, t).setSummary(key, text).setProperties({ [key]: text }).forceSnapshot().commit()).table;
      }
      if (property === 'missing') t = (await new Transaction(catalog, t).removeProperties([key]).commit()).table;
      if (property === 'ahead') t = (await new Transaction(catalog, t).setProperties({ [key]: JSON.stringify({ cdc: { '0': 40 } }) }).commit()).table;
      // Then commits by other writers (compaction), which carry none.
      for (let i = 0; i < 2; i++) t = (await new Transaction(catalog, t).setOperation('replace').forceSnapshot().commit()).table;
      const before = storedOffsets(t.metadata, 'g1');
      assert.deepEqual(before, { cdc: { '0': 30 } });
      const res = await expireSnapshots(ctx({ id, nowMs: Date.now() + 2 * HOUR_MS }), { olderThanMs: HOUR_MS, keepLast: 1 });
      t = await catalog.loadTable(id);
      assert.ok(!t.metadata.snapshots.some((s) => s.summary[key] !== undefined), 'every snapshot carrying the offsets is expired');
      assert.ok((res.snapshotsExpired ?? 0) >= 3);
      assert.deepEqual(storedOffsets(t.metadata, 'g1'), before, `${name}: floe reads the same offsets after expiry`);
      assert.equal(t.metadata.properties[key], JSON.stringify(before));
    }
  });
});
