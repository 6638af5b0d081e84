// Proves the embedded SQLite catalog: namespaces, create/load/drop, listings (nested namespaces, implicit ones, views and other catalogs left out), compare-and-set commits (stale requirements and lost races fail as commit_conflict), versioned metadata files and a growing metadata-log, in the JDBC catalog's table layout.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import type { LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { isFloeError } from '../../src/errors.js';
import { parseJsonExact } from '../../src/iceberg/json.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import type { Snapshot } from '../../src/iceberg/snapshot.js';
import { currentSchema, currentSnapshot, type TableRequirement, type TableUpdate } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO, localPath } from '../../src/io/local-file-io.js';

const io = new LocalFileIO();
let dir: string;
let catalog: SqlCatalog;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-sqlcat-'));
  catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io });
  await catalog.createNamespace(['db'], { owner: 'floe' });
});
after(async () => {
  await catalog.close();
  await rm(dir, { recursive: true, force: true });
});

const schema = schemaFromDecls(
  [
    { name: 'id', type: T.long, required: true },
    { name: 'region', type: T.string },
  ],
  ['id'],
);

function snapshot(id: bigint, parent: bigint | null, seq: bigint): Snapshot {
  return { snapshotId: id, parentSnapshotId: parent, sequenceNumber: seq, timestampMs: Date.now(), manifestList: `file:///x/snap-${id}.avro`, summary: { operation: 'append' }, schemaId: 0 };
}

/** The commit a writer sends: the branch must still be where it read it, then a new snapshot goes on main. */
function appendCommit(t: LoadedTable, id: bigint): [TableRequirement[], TableUpdate[]] {
  const cur = t.metadata.currentSnapshotId;
  return [
    [{ type: 'assert-table-uuid', uuid: t.metadata.tableUuid }, { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': cur }],
    [
      { action: 'add-snapshot', snapshot: snapshot(id, cur, t.metadata.lastSequenceNumber + 1n) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
    ],
  ];
}

function version(location: string): number {
  const m = /\/metadata\/(\d{5})-[0-9a-f-]{36}\.metadata\.json$/.exec(location);
  assert.ok(m !== null, `metadata file name ${location}`);
  return Number(m[1]);
}

describe('SqlCatalog', () => {
  it('creates namespaces once, with properties', async () => {
    assert.equal(await catalog.namespaceExists(['ns1']), false);
    await catalog.createNamespace(['ns1'], { owner: 'me' });
    await catalog.createNamespace(['a', 'b']);
    assert.equal(await catalog.namespaceExists(['ns1']), true);
    assert.equal(await catalog.namespaceExists(['a', 'b']), true);
    assert.equal(await catalog.namespaceExists(['a']), false);
    await assert.rejects(catalog.createNamespace(['ns1']), (e: unknown) => isFloeError(e, 'catalog_already_exists') && /namespace ns1 already exists/.test(e.message));
    await assert.rejects(catalog.createNamespace(['db']), (e: unknown) => isFloeError(e, 'catalog_already_exists'));
  });

  it('uses the JDBC catalog tables and column names (pyiceberg / Java JdbcCatalog)', async () => {
    const db = new Database(join(dir, 'catalog.db'), { readonly: true });
    try {
      const cols = (table: string): string[] => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      assert.deepEqual(cols('iceberg_tables'), ['catalog_name', 'table_namespace', 'table_name', 'metadata_location', 'previous_metadata_location', 'iceberg_type']);
      assert.deepEqual(cols('iceberg_namespace_properties'), ['catalog_name', 'namespace', 'property_key', 'property_value']);
      const props = db.prepare("SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = 'floe' AND namespace = 'db' ORDER BY property_key").all();
      assert.deepEqual(props, [
        { property_key: 'exists', property_value: 'true' },
        { property_key: 'owner', property_value: 'floe' },
      ]);
    } finally {
      db.close();
    }
  });

  it('creates, loads and drops a table', async () => {
    const id: TableIdentifier = { namespace: ['db'], name: 't1' };
    const spec = partitionSpecFromExprs(['region'], schema);
    const created = await catalog.createTable(id, { schema, spec, properties: { 'write.parquet.compression-codec': 'zstd' } });
    assert.equal(created.metadata.location, `file://${dir}/wh/db.db/t1`);
    assert.equal(version(created.metadataLocation), 0);
    assert.ok(created.metadataLocation.startsWith(`file://${dir}/wh/db.db/t1/metadata/00000-`));
    assert.equal(await catalog.tableExists(id), true);

    const loaded = await catalog.loadTable(id);
    assert.equal(loaded.metadataLocation, created.metadataLocation);
    assert.deepEqual(loaded.metadata, created.metadata);
    assert.deepEqual(currentSchema(loaded.metadata).toJSON(), schema.toJSON());
    assert.deepEqual(loaded.metadata.properties, { 'write.parquet.compression-codec': 'zstd' });
    assert.equal(loaded.metadata.specs[0]?.fields[0]?.name, 'region');

    const db = new Database(join(dir, 'catalog.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT * FROM iceberg_tables WHERE table_name = 't1'").get();
      assert.deepEqual(row, {
        catalog_name: 'floe',
        table_namespace: 'db',
        table_name: 't1',
        metadata_location: created.metadataLocation,
        previous_metadata_location: null,
        iceberg_type: 'TABLE',
      });
    } finally {
      db.close();
    }

    await assert.rejects(catalog.createTable(id, { schema }), (e: unknown) => isFloeError(e, 'catalog_already_exists'));
    await catalog.dropTable(id);
    assert.equal(await catalog.tableExists(id), false);
    await assert.rejects(catalog.loadTable(id), (e: unknown) => isFloeError(e, 'catalog_not_found') && /table db\.t1 does not exist/.test(e.message));
    await assert.rejects(catalog.dropTable(id), (e: unknown) => isFloeError(e, 'catalog_not_found'));
  });

  it('lists namespaces level by level and the tables of one namespace, views and other catalogs left out', async () => {
    const path = join(dir, 'listing.db');
    const c = new SqlCatalog({ name: 'floe', path, warehouse: `file://${dir}/whl`, io });
    try {
      await c.createNamespace(['x']);
      await c.createNamespace(['x', 'y']);
      await c.createNamespace(['p', 'q', 'r']);
      await c.createNamespace(['w']);
      for (const name of ['t2', 't1']) await c.createTable({ namespace: ['x'], name }, { schema });
      await c.createTable({ namespace: ['x', 'y'], name: 't3' }, { schema });
      const db = new Database(path);
      try {
        const add = db.prepare('INSERT INTO iceberg_tables VALUES (?, ?, ?, ?, NULL, ?)');
        add.run('floe', 'x', 'v1', 'file:///v.json', 'VIEW');
        add.run('floe', 'x', 't0', 'file:///old.json', null); // written before iceberg_type existed: a table
        add.run('floe', 'implicit', 't', 'file:///i.json', 'TABLE'); // a namespace with no property row
        add.run('other', 'elsewhere', 't', 'file:///o.json', 'TABLE');
      } finally {
        db.close();
      }
      assert.deepEqual(await c.listNamespaces(), [['implicit'], ['p'], ['w'], ['x']]);
      assert.deepEqual(await c.listNamespaces(['x']), [['x', 'y']]);
      assert.deepEqual(await c.listNamespaces(['p']), [['p', 'q']]);
      assert.deepEqual(await c.listNamespaces(['x', 'y']), []);
      assert.deepEqual((await c.listTables(['x'])).map((t) => t.name), ['t0', 't1', 't2']);
      assert.deepEqual(await c.listTables(['x', 'y']), [{ namespace: ['x', 'y'], name: 't3' }]);
      assert.deepEqual(await c.listTables(['implicit']), [{ namespace: ['implicit'], name: 't' }]);
      assert.deepEqual(await c.listTables(['p']), []); // only the prefix of p.q.r
      await assert.rejects(c.listTables(['elsewhere']), (e: unknown) => isFloeError(e, 'catalog_not_found'));
    } finally {
      await c.close();
    }
  });

  it('refuses a table in a missing namespace', async () => {
    await assert.rejects(catalog.createTable({ namespace: ['nope'], name: 't' }, { schema }), (e: unknown) => isFloeError(e, 'catalog_not_found') && /namespace nope does not exist/.test(e.message));
  });

  it('commits: versioned metadata files, previous location, metadata-log, exact snapshot ids', async () => {
    const id: TableIdentifier = { namespace: ['db'], name: 't2' };
    const t0 = await catalog.createTable(id, { schema });
    const ids = [2n ** 62n + 1n, 2n ** 63n - 1n, 9007199254740993n];
    let t = t0;
    const locations = [t0.metadataLocation];
    for (const sid of ids) {
      const [reqs, ups] = appendCommit(t, sid);
      t = await catalog.commitTable(t, reqs, ups);
      locations.push(t.metadataLocation);
    }
    assert.deepEqual(locations.map(version), [0, 1, 2, 3]);
    assert.equal(new Set(locations).size, 4);
    const loaded = await catalog.loadTable(id);
    assert.equal(loaded.metadataLocation, locations[3]);
    assert.equal(loaded.metadata.currentSnapshotId, 9007199254740993n);
    assert.equal(currentSnapshot(loaded.metadata)?.parentSnapshotId, 2n ** 63n - 1n);
    assert.deepEqual(loaded.metadata.snapshots.map((s) => s.snapshotId), ids);
    assert.equal(loaded.metadata.lastSequenceNumber, 3n);
    assert.deepEqual(loaded.metadata.metadataLog.map((e) => e.metadataFile), locations.slice(0, 3));
    assert.deepEqual(loaded.metadata, t.metadata);

    // the file on disk has the ids as exact integer literals
    const text = await readFile(localPath(locations[3] ?? ''), 'utf8');
    assert.ok(text.includes('"current-snapshot-id":9007199254740993'), 'exact id in metadata JSON');
    const json = parseJsonExact(text) as Record<string, unknown>;
    assert.equal((json['metadata-log'] as unknown[]).length, 3);

    const db = new Database(join(dir, 'catalog.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE table_name = 't2'").get();
      assert.deepEqual(row, { metadata_location: locations[3], previous_metadata_location: locations[2] });
    } finally {
      db.close();
    }
    const files = (await readdir(join(dir, 'wh', 'db.db', 't2', 'metadata'))).sort();
    assert.deepEqual(files.map((f) => f.slice(0, 5)), ['00000', '00001', '00002', '00003']);
  });

  it('a stale LoadedTable whose requirements no longer hold fails with commit_conflict and changes nothing', async () => {
    const id: TableIdentifier = { namespace: ['db'], name: 't3' };
    const t0 = await catalog.createTable(id, { schema });
    const [r1, u1] = appendCommit(t0, 11n);
    const t1 = await catalog.commitTable(t0, r1, u1);
    // a second writer still holding t0 tries to append on top of "no snapshot"
    const [r2, u2] = appendCommit(t0, 12n);
    await assert.rejects(catalog.commitTable(t0, r2, u2), (e: unknown) => {
      assert.ok(isFloeError(e, 'commit_conflict'), String(e));
      assert.equal(e.retry, 'conflict');
      assert.match(e.message, /branch main is at 11, expected null/);
      return true;
    });
    const now = await catalog.loadTable(id);
    assert.equal(now.metadataLocation, t1.metadataLocation);
    assert.equal(now.metadata.currentSnapshotId, 11n);
    // a stale table uuid requirement also conflicts
    await assert.rejects(catalog.commitTable(now, [{ type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' }], []), (e: unknown) => isFloeError(e, 'commit_conflict'));
    // properties-only updates without requirements still apply on top of the latest metadata
    const t2 = await catalog.commitTable(t0, [], [{ action: 'set-properties', updates: { k: 'v' } }]);
    assert.equal(t2.metadata.currentSnapshotId, 11n);
    assert.deepEqual(t2.metadata.properties, { k: 'v' });
    assert.equal(version(t2.metadataLocation), 2);
  });

  it('two racing commits: exactly one wins the compare-and-set, the loser gets commit_conflict and its file is removed', async () => {
    const id: TableIdentifier = { namespace: ['db'], name: 't4' };
    const t0 = await catalog.createTable(id, { schema });
    const [ra, ua] = appendCommit(t0, 21n);
    const [rb, ub] = appendCommit(t0, 22n);
    const results = await Promise.allSettled([catalog.commitTable(t0, ra, ua), catalog.commitTable(t0, rb, ub)]);
    const won = results.filter((r): r is PromiseFulfilledResult<LoadedTable> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(isFloeError(lost[0]?.reason, 'commit_conflict'), String(lost[0]?.reason));
    assert.match((lost[0]?.reason as Error).message, /table db\.t4 was changed by another commit/);
    const now = await catalog.loadTable(id);
    assert.equal(now.metadataLocation, won[0]?.value.metadataLocation);
    assert.equal(now.metadata.snapshots.length, 1);
    const files = (await readdir(join(dir, 'wh', 'db.db', 't4', 'metadata'))).filter((f) => f.endsWith('.metadata.json')).sort();
    assert.equal(files.length, 2, `only the winner's version 1 file remains: ${files.join(', ')}`);
    assert.deepEqual(files.map((f) => f.slice(0, 5)), ['00000', '00001']);
  });

  it('a second catalog instance on the same database sees the same tables', async () => {
    const other = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io });
    const elsewhere = new SqlCatalog({ name: 'other', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh2`, io });
    try {
      const id: TableIdentifier = { namespace: ['db'], name: 't5' };
      const t0 = await catalog.createTable(id, { schema });
      const [r, u] = appendCommit(t0, 9007199254740993n);
      await catalog.commitTable(t0, r, u);
      assert.equal(await other.tableExists(id), true);
      assert.equal((await other.loadTable(id)).metadata.currentSnapshotId, 9007199254740993n);
      // catalog_name separates catalogs sharing one database
      assert.equal(await elsewhere.tableExists(id), false);
      assert.equal(await elsewhere.namespaceExists(['db']), false);
    } finally {
      await other.close();
      await elsewhere.close();
    }
  });
});
