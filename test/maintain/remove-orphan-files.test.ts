// Proves remove-orphan-files deletes exactly the unreachable files older than the margin (stray data and metadata files, old metadata files outside the log, key indexes of non-current snapshots, temp files), keeps younger ones and everything the table reaches even when all of it is old (manifest lists, manifests, data files, deletion vectors, metadata log, listed statistics files, the current snapshot's key index), keeps a file a commit made reachable while the listing ran, matches s3a:// references against s3:// listings, and deletes nothing under dry-run.
import { rm, utimes } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import type { FileInfo, FileIO } from '../../src/io/file-io.js';
import { localPath, LocalFileIO } from '../../src/io/local-file-io.js';
import { removeOrphanFiles } from '../../src/maintain/remove-orphan-files.js';
import { indexSnapshotPath } from '../../src/worker/worker-core.js';
import { DataWriter } from '../../src/writer/partitioned-writer.js';
import { MemoryFileIO } from '../support/chaos/file-io.js';
import { settingsFor } from '../support/table-ops.js';
import { Expected, SCHEMA, assertIntact, buildHistory, expectedText, listAll, reachedFiles, rowsText, tempCatalog } from '../support/maintain.js';

const HOUR_MS = 3_600_000;

/** Local files; `beforeList` runs once when the next listing starts (a commit landing while orphan removal lists). */
class HookIO extends LocalFileIO {
  beforeList: (() => Promise<void>) | null = null;
  override async *list(prefix: string): AsyncIterable<FileInfo> {
    const hook = this.beforeList;
    this.beforeList = null;
    if (hook !== null) await hook();
    yield* super.list(prefix);
  }
}

async function ageAll(io: FileIO, prefix: string, ageMs: number): Promise<void> {
  const t = (Date.now() - ageMs) / 1000;
  for (const f of await listAll(io, prefix)) await utimes(localPath(f.path), t, t);
}

async function age(path: string, ageMs: number): Promise<void> {
  const t = (Date.now() - ageMs) / 1000;
  await utimes(localPath(path), t, t);
}

describe('remove-orphan-files', () => {
  let dir = '';
  let catalog: SqlCatalog;
  let io: HookIO;
  before(async () => {
    ({ dir, catalog, io } = await tempCatalog('floe-orphans-', new HookIO()));
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A v3 table with a history (deletion vectors, merged manifests, a removed file) and stray files around it,
   * every file aged 2 h except the young orphan. Returns the old orphans.
   */
  async function setup(name: string): Promise<{ id: TableIdentifier; table: LoadedTable; expected: Expected; orphans: string[]; young: string; currentIndex: string; listedStats: string }> {
    const id = { namespace: ['db'], name };
    await catalog.createTable(id, { schema: SCHEMA, formatVersion: 3, properties: { 'commit.manifest.min-count-to-merge': '3' } });
    const expected = new Expected();
    await buildHistory(catalog, id, 8, expected);
    const table = await catalog.loadTable(id);
    const loc = table.metadata.location;
    const current = table.metadata.currentSnapshotId!;
    const older = table.metadata.snapshots[0]!.snapshotId;
    const currentIndex = indexSnapshotPath(loc, String(current));
    const listedStats = `${loc}/metadata/stats-${current}.stats`;
    const orphans = [
      `${loc}/data/never-committed.parquet`,
      `${loc}/data/deep/dir/never-committed-deletes.puffin`,
      `${loc}/metadata/4f1c-m0.avro`,
      `${loc}/metadata/snap-1-1-lost.avro`,
      `${loc}/metadata/00000-before-the-log.metadata.json`,
      indexSnapshotPath(loc, String(older)),
      `${loc}/metadata/unlisted.stats`,
      `${loc}/data/x.parquet.tmp-a1b2c3`,
    ];
    for (const p of [...orphans, currentIndex, listedStats]) await io.write(p, new Uint8Array([1, 2, 3]));
    await ageAll(io, `${loc}/`, 2 * HOUR_MS);
    const young = `${loc}/data/being-written.parquet`;
    await io.write(young, new Uint8Array([4]));
    return { id, table, expected, orphans, young, currentIndex, listedStats };
  }

  /** The catalog, with a statistics file listed in the table's metadata (the embedded catalog cannot commit one). */
  function withStatistics(path: string): SqlCatalog {
    const c = Object.create(catalog) as SqlCatalog;
    c.loadTable = async (id: TableIdentifier) => {
      const t = await catalog.loadTable(id);
      const entry = { 'snapshot-id': t.metadata.currentSnapshotId, 'statistics-path': path, 'file-size-in-bytes': 3, 'file-footer-size-in-bytes': 1, 'blob-metadata': [] };
      return { ...t, metadata: { ...t.metadata, extra: { ...t.metadata.extra, statistics: [entry] } } };
    };
    return c;
  }

  it('deletes the old orphans only: younger files and everything the table reaches stay, even when old', async () => {
    const s = await setup('t1');
    const loc = s.table.metadata.location;
    const reached = await reachedFiles(s.table);
    assert.ok([...reached].some((f) => f.endsWith('.puffin')), 'the table has deletion vectors');
    assert.ok(s.table.metadata.metadataLog.length > 5);
    const before = (await listAll(io, `${loc}/`)).map((f) => f.path);
    const res = await removeOrphanFiles({ catalog: withStatistics(s.listedStats), id: s.id, nowMs: Date.now(), dryRun: false }, { olderThanMs: HOUR_MS });
    const afterList = (await listAll(io, `${loc}/`)).map((f) => f.path);
    const deleted = before.filter((p) => !afterList.includes(p));
    assert.deepEqual(deleted.sort(), [...s.orphans].sort());
    assert.equal(res.filesDeleted, s.orphans.length);
    assert.ok(afterList.includes(s.young), 'a file younger than the margin stays');
    assert.ok(afterList.includes(s.currentIndex), 'the current snapshot’s key index stays');
    assert.ok(afterList.includes(s.listedStats), 'a statistics file the metadata lists stays');
    const t = await catalog.loadTable(s.id);
    await assertIntact(t);
    assert.deepEqual(await rowsText(t), expectedText(s.expected));
    // Nothing left to do.
    const again = await removeOrphanFiles({ catalog: withStatistics(s.listedStats), id: s.id, nowMs: Date.now(), dryRun: false }, { olderThanMs: HOUR_MS });
    assert.equal(again.filesDeleted, 0);
  });

  it('dry-run lists exactly the orphans and deletes nothing', async () => {
    const s = await setup('t2');
    const loc = s.table.metadata.location;
    const before = await listAll(io, `${loc}/`);
    const res = await removeOrphanFiles({ catalog: withStatistics(s.listedStats), id: s.id, nowMs: Date.now(), dryRun: true }, { olderThanMs: HOUR_MS });
    assert.deepEqual(await listAll(io, `${loc}/`), before);
    assert.equal(res.filesDeleted, 0);
    const listed = (res.plan ?? []).filter((l) => l.startsWith('delete ')).map((l) => l.slice('delete '.length).replace(/ \(.*\)$/, ''));
    assert.deepEqual(listed.sort(), [...s.orphans].sort());
  });

  it('a file a commit makes reachable while the listing runs is kept', async () => {
    const s = await setup('t3');
    // An old data file no snapshot names yet (written by a writer that has not committed, or to be imported).
    const w = new DataWriter(settingsFor(s.table), currentSchema(s.table.metadata), defaultSpec(s.table.metadata));
    w.write([9999n, 'late']);
    const files = await w.close();
    await age(files[0]!.filePath, 2 * HOUR_MS);
    io.beforeList = async () => {
      await new Transaction(catalog, await catalog.loadTable(s.id)).addDataFiles(files).commit();
      s.expected.rows.set(9999n, { id: 9999n, v: 'late' });
    };
    await removeOrphanFiles({ catalog, id: s.id, nowMs: Date.now(), dryRun: false }, { olderThanMs: HOUR_MS });
    assert.equal(await io.exists(files[0]!.filePath), true);
    const t = await catalog.loadTable(s.id);
    await assertIntact(t);
    assert.deepEqual(await rowsText(t), expectedText(s.expected));
  });

  it('matches files the table names with s3a:// against a listing in s3:// form', async () => {
    const mem = new MemoryFileIO();
    /** The store lists its keys as s3://, the table's metadata says s3a:// (Hadoop writers). */
    const store: FileIO = {
      read: (p) => mem.read(p.replace(/^s3:\/\//, 's3a://')),
      write: (p, b) => mem.write(p.replace(/^s3:\/\//, 's3a://'), b),
      exists: (p) => mem.exists(p.replace(/^s3:\/\//, 's3a://')),
      delete: (p) => mem.delete(p.replace(/^s3:\/\//, 's3a://')),
      async *list(prefix: string) {
        for await (const f of mem.list(prefix.replace(/^s3:\/\//, 's3a://'))) yield { ...f, path: f.path.replace(/^s3a:\/\//, 's3://') };
      },
    };
    const sql = new SqlCatalog({ name: 'floe', path: `${dir}/s3a.db`, warehouse: 's3a://bkt/wh', io: store });
    try {
      await sql.createNamespace(['db']);
      const id = { namespace: ['db'], name: 's3a' };
      await sql.createTable(id, { schema: SCHEMA, formatVersion: 2 });
      const expected = new Expected();
      await buildHistory(sql, id, 5, expected);
      await mem.write('s3a://bkt/wh/db.db/s3a/data/orphan.parquet', new Uint8Array([1]));
      for (const k of mem.modifiedMs.keys()) mem.modifiedMs.set(k, Date.now() - 2 * HOUR_MS);
      const before = mem.objects.size;
      const res = await removeOrphanFiles({ catalog: sql, id, nowMs: Date.now(), dryRun: false }, { olderThanMs: HOUR_MS });
      assert.equal(res.filesDeleted, 1);
      assert.equal(mem.objects.size, before - 1);
      assert.equal(mem.objects.has('s3a://bkt/wh/db.db/s3a/data/orphan.parquet'), false);
      const t = await sql.loadTable(id);
      await assertIntact(t);
      assert.deepEqual(await rowsText(t), expectedText(expected));
    } finally {
      await sql.close();
    }
  });
});
