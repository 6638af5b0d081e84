// Proves merge-on-write through committer and worker: duplicate keys found by the index build are repaired in the next commit (newest row kept, by position, also across a racing compaction) or stop the table under onDuplicateKeys: fail; a graceful stop saves the key index and the next start loads it (not after another writer committed); the key index bootstraps from a table written before (deletes applied), updates become position deletes, a compaction committed between seal and commit makes the commit re-find those keys' rows in the rewritten files and delete them by position (or, when compactions keep racing, by equality), with no row lost or resurrected, and the rebuilt index deletes by position in the rewritten files; a replica rebuilds its index when partitions move to it after other replicas wrote.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { Transaction } from '../../src/commit/transaction.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { FloeError } from '../../src/errors.js';
import { DataFileContent } from '../../src/iceberg/data-file.js';
import { scanLive, scanTable } from '../../src/iceberg/scan.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { changeMessages, commitSealed, cycle } from '../support/window-cycle.js';
import { DataWriter } from '../../src/writer/partitioned-writer.js';

const TOPIC = 'cdc.shop.t';

describe('merge-on-write: committer + worker with the key index', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-mow-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const msg = changeMessages(TOPIC);


  const state = async (t: LoadedTable) => (await scanTable(t)).map((r) => `${String(r.id)}=${String(r.v)}`).sort();
  const kinds = async (t: LoadedTable) => [...new Set((await liveEntries(t)).filter((e) => e.dataFile.content !== DataFileContent.DATA).map((e) => e.dataFile.content))].sort();

  /** Rewrites every live data file into one (deletes applied), as a compaction does. */
  async function compact(catalog: SqlCatalog): Promise<void> {
    const t = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    const schema = currentSchema(t.metadata);
    const rows = await scanTable(t);
    const data = (await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath);
    const w = new DataWriter({ io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, schema, defaultSpec(t.metadata));
    for (const r of rows) w.write(schema.fields.map((f) => (r[f.name] ?? null)));
    await new Transaction(catalog, t).removeDataFiles(data).addDataFiles(await w.close()).setOperation('replace').commit();
  }

  /**
   * Rewrites every live data file into one, keeping rows of duplicate keys in commit order (oldest first): the
   * rewritten rows share one sequence number, so position is what still says which row is newest.
   */
  async function compactKeepingDuplicates(catalog: SqlCatalog): Promise<void> {
    const t = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    const schema = currentSchema(t.metadata);
    const rows: { seq: bigint; path: string; pos: number; values: (IcebergValue | null)[] }[] = [];
    await scanLive(t, schema.fields, (file, pos, values, seq) => rows.push({ seq, path: file.filePath, pos, values: [...values] }));
    rows.sort((a, b) => (a.seq !== b.seq ? (a.seq < b.seq ? -1 : 1) : a.path !== b.path ? (a.path < b.path ? -1 : 1) : a.pos - b.pos));
    const data = (await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath);
    const w = new DataWriter({ io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, schema, defaultSpec(t.metadata));
    for (const r of rows) w.write(r.values);
    await new Transaction(catalog, t).removeDataFiles(data).addDataFiles(await w.close()).setOperation('replace').commit();
  }

  for (const racing of ['repositions', 'falls back to equality'] as const) {
  it(`bootstraps, deletes by position, ${racing} across a compaction, then deletes by position again`, async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, `${racing.length}.db`), warehouse: `file://${dir}/wh${racing.length}`, io: new LocalFileIO() });
    const cfg = { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {}, repositionAttemptsMax: racing === 'repositions' ? 3 : 0 } as const;
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;

    // A first process writes the table (in equality mode, so the bootstrap must apply equality deletes too).
    const first = new Committer(catalog, { ...cfg, tables: { 'shop.t': { deleteMode: 'equality' } } });
    const w1 = new InProcessWorkers(init);
    await cycle(first, w1, [1, 2, 3, 4, 5, 6].map((id) => msg('c', id, `a${id}`)));
    await cycle(first, w1, [msg('u', 2, 'b2'), msg('d', 3, null)]);
    const t0 = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    assert.deepEqual(await state(t0), ['1=a1', '2=b2', '4=a4', '5=a5', '6=a6']);
    assert.deepEqual(await kinds(t0), [DataFileContent.EQUALITY_DELETES]);

    // A new process in position mode: its index comes from the table's live rows.
    const committer = new Committer(catalog, cfg);
    const workers = new InProcessWorkers(init);
    const a = await cycle(committer, workers, [msg('u', 1, 'c1'), msg('d', 2, null), msg('c', 3, 'c3'), msg('d', 99, null)]);
    assert.equal(a.report.fellBackToEquality, undefined);
    assert.equal(a.sealed[0]!.targetDataFiles.length, 2); // key 1 in the first file, key 2 in the second
    const t1 = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    assert.deepEqual(await state(t1), ['1=c1', '3=c3', '4=a4', '5=a5', '6=a6']);
    assert.deepEqual(await kinds(t1), [DataFileContent.POSITION_DELETES, DataFileContent.EQUALITY_DELETES].sort());

    // Seal a window, let a compaction land, then commit: the positions point into removed files.
    const applied = await workers.apply(0, [msg('u', 4, 'd4'), msg('d', 5, null), msg('u', 3, 'd3'), msg('c', 7, 'd7')]);
    assert.deepEqual(applied.rejects, []);
    const sealed = await workers.seal();
    assert.ok(sealed[0]!.targetDataFiles.length >= 1);
    await compact(catalog);
    const { reports } = await commitSealed(committer, workers, sealed);
    const t2 = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    if (racing === 'repositions') {
      assert.equal(reports[0]!.repositioned, 1);
      assert.equal(reports[0]!.fellBackToEquality, undefined);
      // the rewritten file has no deletes but this commit's position deletes (the earlier ones were applied by the rewrite)
      assert.deepEqual(await kinds(t2), [DataFileContent.POSITION_DELETES, DataFileContent.EQUALITY_DELETES].sort());
    } else {
      assert.equal(reports[0]!.fellBackToEquality, true);
    }
    assert.deepEqual(await state(t2), ['1=c1', '3=d3', '4=d4', '6=a6', '7=d7']);

    // The index was rebuilt from the new snapshot: the next window deletes by position in the rewritten file.
    const b = await cycle(committer, workers, [msg('u', 6, 'e6'), msg('u', 7, 'e7'), msg('d', 1, null)]);
    assert.equal(b.report.fellBackToEquality, undefined);
    assert.equal(b.sealed[0]!.deleteFiles.every((f) => f.content === DataFileContent.POSITION_DELETES), true);
    assert.equal(b.sealed[0]!.positionDeletedKeys.length, 3);
    const t3 = await catalog.loadTable({ namespace: ['shop'], name: 't' });
    assert.deepEqual(await state(t3), ['3=d3', '4=d4', '6=e6', '7=e7']);
    await catalog.close();
  });
  }

  /** A table `shop.t` with keys 1, 2, 3 written by floe, then keys 1 and 3 appended again by a writer that does not upsert. */
  async function tableWithDuplicates(name: string): Promise<SqlCatalog> {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io: new LocalFileIO() });
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
    await cycle(committer, new InProcessWorkers(init), [msg('c', 1, 'a'), msg('c', 2, 'b'), msg('c', 3, 'c')]);
    for (const v of ['dup1', 'dup2']) {
      const t = await catalog.loadTable({ namespace: ['shop'], name: 't' });
      const schema = currentSchema(t.metadata);
      const w = new DataWriter({ io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, schema, defaultSpec(t.metadata));
      w.write(schema.fields.map((f) => (f.name === 'id' ? 1n : v)));
      if (v === 'dup1') w.write(schema.fields.map((f) => (f.name === 'id' ? 3n : v)));
      await new Transaction(catalog, t).addDataFiles(await w.close()).commit();
    }
    assert.deepEqual(await state(await catalog.loadTable({ namespace: ['shop'], name: 't' })), ['1=a', '1=dup1', '1=dup2', '2=b', '3=c', '3=dup1']);
    return catalog;
  }

  it('duplicate keys (rows appended by a writer that does not upsert) are repaired in the next commit: each key keeps its newest row, by position', async () => {
    const catalog = await tableWithDuplicates('dup');
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    // A new process: the index build finds keys 1 (three rows) and 3 (two rows).
    const c2 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
    const w2 = new InProcessWorkers(init);
    const r = await cycle(c2, w2, [msg('u', 2, 'b2')]);
    assert.deepEqual(r.sealed[0]!.deleteFiles.map((f) => f.content), [DataFileContent.POSITION_DELETES]);
    assert.equal(r.report.repairedRows, 3);
    assert.equal(r.report.repairedKeys, 2);
    const [ex1, ex3] = r.sealed[0]!.repairExamples;
    assert.match(ex1 ?? '', /^id=1: kept \S+#0 \(sequence 3\), dropped (?=.*#0 \(sequence 1\))(?=.*#0 \(sequence 2\))/);
    assert.match(ex3 ?? '', /^id=3: kept \S+#1 \(sequence 2\), dropped \S+#2 \(sequence 1\)$/);
    // Key 1 keeps the row of the latest commit, key 3 its only newer row; nothing by equality.
    assert.deepEqual(await state(await catalog.loadTable({ namespace: ['shop'], name: 't' })), ['1=dup2', '2=b2', '3=dup1']);
    assert.deepEqual(await kinds(await catalog.loadTable({ namespace: ['shop'], name: 't' })), [DataFileContent.POSITION_DELETES]);
    // The index describes the repaired table: an update of key 1 replaces its one row, no repair is left.
    const r2 = await cycle(c2, w2, [msg('u', 1, 'new'), msg('d', 3, null)]);
    assert.equal(r2.report.repairedRows, undefined);
    assert.deepEqual(await state(await catalog.loadTable({ namespace: ['shop'], name: 't' })), ['1=new', '2=b2']);
    await catalog.close();
  });

  it('duplicate keys under onDuplicateKeys: fail stop the table with an error naming it and a key', async () => {
    const catalog = await tableWithDuplicates('dupfail');
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const c2 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: { 'shop.t': { onDuplicateKeys: 'fail' } } });
    await assert.rejects(cycle(c2, new InProcessWorkers(init), [msg('u', 2, 'b2')]), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'duplicate_keys');
      assert.match(e.message, /table shop\.t has 2 key\(s\) with several live rows \(3 row\(s\) too many\), e\.g\. id=1: kept/);
      assert.equal(e.details.key, 'id=1');
      return true;
    });
    await catalog.close();
  });

  it('a compaction racing a duplicate-key repair: the commit re-finds the rows and still keeps each key\'s newest', async () => {
    const catalog = await tableWithDuplicates('duprace');
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const c2 = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
    const w2 = new InProcessWorkers(init);
    let rest = [msg('u', 2, 'b2')];
    for (;;) {
      const res = await w2.apply(0, rest);
      if (res.need === undefined) break;
      await w2.openTable(0, await c2.table(res.need.id, res.need.shape));
      rest = rest.slice(res.done);
    }
    const sealed = await w2.seal();
    await compactKeepingDuplicates(catalog);
    const { reports } = await commitSealed(c2, w2, sealed);
    assert.equal(reports[0]!.repositioned, 1);
    assert.equal(reports[0]!.repairedRows, 3);
    assert.deepEqual(await state(await catalog.loadTable({ namespace: ['shop'], name: 't' })), ['1=dup2', '2=b2', '3=dup1']);
    await catalog.close();
  });

  it('saves the index at a graceful stop; the next start loads it; an index caught up with another writer is saved too', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'save.db'), warehouse: `file://${dir}/whsave`, io: new LocalFileIO() });
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const cfg = { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} } as const;
    const id = { namespace: ['shop'], name: 't' };
    // Process 1: writes, updates, then stops gracefully and saves its index.
    const c1 = new Committer(catalog, cfg);
    const w1 = new InProcessWorkers(init);
    await cycle(c1, w1, [1, 2, 3, 4].map((k) => msg('c', k, `a${k}`)));
    await cycle(c1, w1, [msg('u', 2, 'b2'), msg('d', 3, null)]);
    const items = c1.indexSnapshotsToSave();
    const current = (await catalog.loadTable(id)).metadata.currentSnapshotId;
    assert.deepEqual(items.map((i) => [i.name, i.snapshotId]), [['shop.t', String(current)]]);
    await w1.saveIndexes(items);
    const io = new LocalFileIO();
    const saved = `${(await catalog.loadTable(id)).metadata.location}/metadata/floe-pk-index-${String(current)}.stats`;
    assert.equal(await io.exists(saved), true);

    // Process 2 loads the saved index and deletes by position with it; its own save replaces the old file.
    const c2 = new Committer(catalog, cfg);
    const w2 = new InProcessWorkers(init);
    const r2 = await cycle(c2, w2, [msg('u', 1, 'c1'), msg('d', 4, null), msg('c', 5, 'c5')]);
    assert.equal(w2.core.indexSourceOf('shop.t'), 'saved');
    assert.deepEqual(r2.sealed[0]!.deleteFiles.map((f) => f.content), [DataFileContent.POSITION_DELETES]);
    assert.deepEqual(await state(await catalog.loadTable(id)), ['1=c1', '2=b2', '5=c5']);
    const items2 = c2.indexSnapshotsToSave();
    await w2.saveIndexes(items2);
    assert.equal(await io.exists(saved), false);

    // Another writer commits after that save: the saved index is for an older snapshot, so process 3 rebuilds.
    await compact(catalog);
    const c3 = new Committer(catalog, cfg);
    const w3 = new InProcessWorkers(init);
    await cycle(c3, w3, [msg('u', 2, 'd2')]);
    assert.equal(w3.core.indexSourceOf('shop.t'), 'built');
    assert.deepEqual(await state(await catalog.loadTable(id)), ['1=c1', '2=d2', '5=c5']);

    // Another writer appends while a process runs: its next commit lands on that append, so its index catches
    // up through the appended file (key 9) and describes the table exactly again: fit to save.
    const t = await catalog.loadTable(id);
    const schema = currentSchema(t.metadata);
    const w = new DataWriter({ io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, schema, defaultSpec(t.metadata));
    w.write(schema.fields.map((f) => (f.name === 'id' ? 9n : 'other')));
    await new Transaction(catalog, t).addDataFiles(await w.close()).commit();
    await cycle(c3, w3, [msg('u', 5, 'd5')]);
    const items3 = c3.indexSnapshotsToSave();
    await w3.saveIndexes(items3);
    const saved3 = `${t.metadata.location}/metadata/floe-pk-index-${items3[0]!.snapshotId}.stats`;
    assert.equal(await io.exists(saved3), true);
    // Process 4 loads that index and updates key 9 by position: one row for it, not two.
    const c4 = new Committer(catalog, cfg);
    const w4 = new InProcessWorkers(init);
    await cycle(c4, w4, [msg('u', 9, 'e9')]);
    assert.equal(w4.core.indexSourceOf('shop.t'), 'saved');
    assert.deepEqual(await state(await catalog.loadTable(id)), ['1=c1', '2=d2', '5=d5', '9=e9']);
    await catalog.close();
  });

  it('replicas: when a key\'s partition moves to a replica, its index is rebuilt first, so it deletes the row the other replica wrote', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'replicas.db'), warehouse: `file://${dir}/whrep`, io: new LocalFileIO() });
    const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
    const cfg = { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} } as const;
    const id = { namespace: ['shop'], name: 't' };
    const a = new Committer(catalog, cfg);
    const wa = new InProcessWorkers(init);
    const b = new Committer(catalog, cfg);
    const wb = new InProcessWorkers(init);
    await cycle(a, wa, [1, 2].map((k) => msg('c', k, `a${k}`))); // A owns key 1 and 2 for now; both indexes see them
    await cycle(b, wb, [msg('c', 3, 'b3')]); // B opens the table (its index: 1, 2) and writes key 3
    // Key 2's partition moves to B: B updates it (its index was built after A's commit: exact).
    await cycle(b, wb, [msg('u', 2, 'b2')]);
    // ... and back to A. A's index still points at key 2's first row, deleted by B: a stale index would leave b2 live.
    const { catchUp } = await a.refreshAll();
    assert.deepEqual(catchUp.map((l) => [l.name, l.catchUp]), [['shop.t', true]]);
    const [followed] = await wa.update(catchUp);
    // Only B's two commits are read (their data files and B's position delete), never the whole table.
    assert.equal(followed?.rebuilt, undefined);
    assert.equal(followed?.catchUp?.dataFilesAdded, 2);
    await cycle(a, wa, [msg('u', 2, 'a2-again')]);
    assert.deepEqual(await state(await catalog.loadTable(id)), ['1=a1', '2=a2-again', '3=b3']);
    // Nothing changed since: no catch-up on the next assignment.
    assert.deepEqual((await a.refreshAll()).catchUp, []);
    await catalog.close();
  });
});
