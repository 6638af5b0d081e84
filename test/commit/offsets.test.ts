// Proves Kafka offsets stored in snapshot summaries and table properties: storedOffsets walks ancestors past snapshots of other writers, prefers the nearest summary, falls back to the table property when expire_snapshots cut the ancestry (also through the embedded catalog, after a compaction, where it still fences a zombie), ignores it when the whole lineage has no floe commit; commitOffsets merges partitions but fences a zombie whose starting offset is no longer the stored one; concurrent replicas merge their partitions into the property across a 409.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { Transaction } from '../../src/commit/transaction.js';
import { FloeError } from '../../src/errors.js';
import { commitOffsets, offsetOf, offsetsKey, splitTp, storedOffsets, tp, type OffsetMap } from '../../src/commit/offsets.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { SealedTable, ShapeMsg } from '../../src/worker/worker-core.js';
import { Schema } from '../../src/iceberg/schema.js';
import type { Snapshot, SnapshotOperation } from '../../src/iceberg/snapshot.js';
import { applyUpdates, newTableMetadata, type TableMetadata } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';

const GROUP = 'floe';
const KEY = offsetsKey(GROUP);

function emptyTable(): TableMetadata {
  const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }], [1]);
  return newTableMetadata({ location: 'file:///tmp/wh/shop/orders', schema, tableUuid: '00000000-0000-4000-8000-000000000001' });
}

/** Commits snapshots one after the other on main (or on `branch`), as a catalog would. */
function commit(meta: TableMetadata, summary: Record<string, string>, opts: { operation?: SnapshotOperation; branch?: string; parent?: bigint | null } = {}): TableMetadata {
  const id = BigInt(meta.snapshots.length + 1) * 1_000_000_007n;
  const parent = opts.parent !== undefined ? opts.parent : opts.branch !== undefined ? (meta.refs[opts.branch]?.snapshotId ?? null) : meta.currentSnapshotId;
  const snapshot: Snapshot = {
    snapshotId: id,
    parentSnapshotId: parent,
    sequenceNumber: meta.lastSequenceNumber + 1n,
    timestampMs: 1_767_225_600_000 + meta.snapshots.length,
    manifestList: `${meta.location}/metadata/snap-${id}.avro`,
    summary: { operation: opts.operation ?? 'append', ...summary },
    schemaId: 0,
  };
  return applyUpdates(meta, [
    { action: 'add-snapshot', snapshot },
    { action: 'set-snapshot-ref', 'ref-name': opts.branch ?? 'main', type: 'branch', 'snapshot-id': id },
  ]);
}
const offsets = (m: OffsetMap): Record<string, string> => ({ [KEY]: JSON.stringify(m) });

describe('offset helpers', () => {
  it('name the summary key per consumer group and split topic/partition keys', () => {
    assert.equal(offsetsKey('floe'), 'floe.kafka.offsets.floe');
    assert.equal(tp('cdc.shop.orders', 3), 'cdc.shop.orders/3');
    assert.deepEqual(splitTp('cdc.shop.orders/3'), ['cdc.shop.orders', 3]);
    assert.equal(offsetOf({ t: { '0': 12 } }, 't', 0), 12);
    assert.equal(offsetOf({ t: { '0': 12 } }, 't', 1), null);
    assert.equal(offsetOf({ t: { '0': 0 } }, 't', 0), 0);
    assert.equal(offsetOf({}, 'u', 0), null);
  });
});

describe('storedOffsets', () => {
  it('is empty for a table without snapshots or without the key', () => {
    assert.deepEqual(storedOffsets(emptyTable(), GROUP), {});
    assert.deepEqual(storedOffsets(commit(emptyTable(), { 'spark.app.id': 'x' }), GROUP), {});
  });

  it('reads the current snapshot', () => {
    const meta = commit(emptyTable(), offsets({ 'cdc.shop.orders': { '0': 10, '1': 4 } }));
    assert.deepEqual(storedOffsets(meta, GROUP), { 'cdc.shop.orders': { '0': 10, '1': 4 } });
  });

  it('walks ancestors past snapshots without the key (compaction, other writers, other groups)', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 5 } }));
    meta = commit(meta, offsets({ t: { '0': 10 } }));
    meta = commit(meta, {}, { operation: 'replace' }); // compaction
    meta = commit(meta, { [offsetsKey('other-group')]: JSON.stringify({ t: { '0': 999 } }) });
    meta = commit(meta, { 'spark.app.id': 'app-1' }, { operation: 'overwrite' });
    assert.equal(meta.snapshots.length, 5);
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 10 } });
    assert.deepEqual(storedOffsets(meta, 'other-group'), { t: { '0': 999 } });
  });

  it('follows parent ids, not the order snapshots were added in', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 1 } }));
    const first = meta.currentSnapshotId;
    meta = commit(meta, offsets({ t: { '0': 2 } }));
    // a rollback-style commit on top of the first snapshot, skipping the second
    meta = commit(meta, { 'spark.app.id': 'x' }, { parent: first, operation: 'replace' });
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 1 } });
  });

  it('reads the main branch only', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 3 } }));
    meta = commit(meta, offsets({ t: { '0': 50 } }), { branch: 'audit' });
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 3 } });
  });

  it('stops at a missing parent (expired snapshots)', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 3 } }));
    meta = commit(meta, {}, { parent: 424242n });
    assert.deepEqual(storedOffsets(meta, GROUP), {});
  });

  it('falls back to the table property when the ancestry ends at an expired snapshot', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 5 } }));
    meta = commit(meta, offsets({ t: { '0': 10 } }));
    meta = applyUpdates(meta, [{ action: 'set-properties', updates: offsets({ t: { '0': 10 } }) }]);
    meta = commit(meta, {}, { operation: 'replace' }); // compaction
    const floeSnapshots = meta.snapshots.filter((s) => s.summary[KEY] !== undefined).map((s) => s.snapshotId);
    meta = applyUpdates(meta, [{ action: 'remove-snapshots', 'snapshot-ids': floeSnapshots }]);
    assert.equal(meta.snapshots.length, 1);
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 10 } });
    // and the same after more commits by other writers
    meta = commit(meta, { 'spark.app.id': 'x' }, { operation: 'overwrite' });
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 10 } });
  });

  it('prefers the nearest summary: a commit without the property (an older floe), a rollback of main', () => {
    let meta = commit(emptyTable(), offsets({ t: { '0': 5 } }));
    meta = applyUpdates(meta, [{ action: 'set-properties', updates: offsets({ t: { '0': 5 } }) }]);
    const older = commit(meta, offsets({ t: { '0': 8 } })); // summary only: the property is behind
    assert.deepEqual(storedOffsets(older, GROUP), { t: { '0': 8 } });
    const first = meta.currentSnapshotId;
    meta = commit(meta, offsets({ t: { '0': 9 } }));
    meta = applyUpdates(meta, [{ action: 'set-properties', updates: offsets({ t: { '0': 9 } }) }]);
    meta = applyUpdates(meta, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': first! }]); // rollback
    assert.deepEqual(storedOffsets(meta, GROUP), { t: { '0': 5 } }); // the property is ahead of the data
  });

  it('ignores the property when the whole lineage holds no floe commit (the table was replaced)', () => {
    let meta = applyUpdates(emptyTable(), [{ action: 'set-properties', updates: offsets({ t: { '0': 10 } }) }]);
    assert.deepEqual(storedOffsets(meta, GROUP), {});
    meta = commit(meta, { 'spark.app.id': 'x' }, { operation: 'overwrite', parent: null });
    assert.deepEqual(storedOffsets(meta, GROUP), {});
  });

  it('fails on an unreadable offsets property, naming it', () => {
    let meta = commit(emptyTable(), {}, { parent: 424242n });
    meta = applyUpdates(meta, [{ action: 'set-properties', updates: { [KEY]: '{"t":' } }]);
    assert.throws(() => storedOffsets(meta, GROUP), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && e.message.startsWith(`table property has an unreadable ${KEY}`));
  });

  it('fails on an unreadable offsets value, naming the snapshot', () => {
    const meta = commit(emptyTable(), { [KEY]: '{"t":' });
    assert.throws(() => storedOffsets(meta, GROUP), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && e.message.startsWith(`snapshot ${meta.currentSnapshotId} has an unreadable ${KEY}`));
  });
});

describe('commitOffsets', () => {
  const base = (): TableMetadata => {
    let meta = commit(emptyTable(), offsets({ 'cdc.shop.orders': { '0': 10, '1': 5 }, 'cdc.shop.items': { '0': 7 } }));
    meta = commit(meta, {}, { operation: 'replace' });
    return meta;
  };

  it('merges this commit’s partitions into the stored map', () => {
    const summary = commitOffsets(
      base(),
      GROUP,
      new Map<string, number | null>([['cdc.shop.orders/0', 10]]),
      new Map([['cdc.shop.orders/0', 25]]),
    );
    assert.deepEqual(Object.keys(summary), [KEY]);
    assert.deepEqual(JSON.parse(summary[KEY]!), { 'cdc.shop.orders': { '0': 25, '1': 5 }, 'cdc.shop.items': { '0': 7 } });
  });

  it('accepts null for a partition never committed, and adds it', () => {
    const summary = commitOffsets(
      base(),
      GROUP,
      new Map<string, number | null>([['cdc.shop.orders/2', null], ['cdc.shop.new/0', null], ['cdc.shop.orders/1', 5]]),
      new Map([['cdc.shop.orders/2', 3], ['cdc.shop.new/0', 1], ['cdc.shop.orders/1', 6]]),
    );
    assert.deepEqual(JSON.parse(summary[KEY]!), { 'cdc.shop.orders': { '0': 10, '1': 6, '2': 3 }, 'cdc.shop.items': { '0': 7 }, 'cdc.shop.new': { '0': 1 } });
    const first = commitOffsets(emptyTable(), GROUP, new Map([['t/0', null]]), new Map([['t/0', 100]]));
    assert.deepEqual(first, { [KEY]: '{"t":{"0":100}}' });
  });

  it('fences a zombie: the stored offset moved since this process started', () => {
    assert.throws(
      () => commitOffsets(base(), GROUP, new Map<string, number | null>([['cdc.shop.items/0', 7], ['cdc.shop.orders/0', 8]]), new Map([['cdc.shop.orders/0', 12]])),
      (e: unknown) => {
        assert.ok(e instanceof FloeError);
        assert.equal(e.code, 'commit_fenced');
        assert.equal(e.retry, 'never');
        assert.deepEqual(e.details, { partition: 'cdc.shop.orders/0' });
        assert.equal(e.message, 'partition cdc.shop.orders/0 was committed to this table by another consumer (stored offset 10, this process started from 8): aborting this batch');
        return true;
      },
    );
  });

  it('fences a process that expected nothing when another consumer has committed the partition', () => {
    assert.throws(
      () => commitOffsets(base(), GROUP, new Map<string, number | null>([['cdc.shop.orders/1', null]]), new Map([['cdc.shop.orders/1', 9]])),
      (e: unknown) => e instanceof FloeError && e.code === 'commit_fenced' && e.details.partition === 'cdc.shop.orders/1' && /stored offset 5, this process started from null/.test(e.message),
    );
  });

  it('fences a process that expected an offset for a partition with none stored', () => {
    assert.throws(
      () => commitOffsets(emptyTable(), GROUP, new Map<string, number | null>([['t/0', 4]]), new Map([['t/0', 9]])),
      (e: unknown) => e instanceof FloeError && e.code === 'commit_fenced' && /stored offset null, this process started from 4/.test(e.message),
    );
  });

  it('keeps offsets per consumer group', () => {
    const meta = commit(base(), { [offsetsKey('g2')]: JSON.stringify({ 'cdc.shop.orders': { '0': 3 } }) });
    const summary = commitOffsets(meta, 'g2', new Map<string, number | null>([['cdc.shop.orders/0', 3]]), new Map([['cdc.shop.orders/0', 4]]));
    assert.deepEqual(summary, { [offsetsKey('g2')]: '{"cdc.shop.orders":{"0":4}}' });
    // group floe is unaffected: its offsets are still found further back
    assert.deepEqual(storedOffsets(meta, GROUP), { 'cdc.shop.orders': { '0': 10, '1': 5 }, 'cdc.shop.items': { '0': 7 } });
  });
});

describe('offsets in the table properties, through the embedded catalog', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-offsets-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const SHAPE: ShapeMsg = { columns: [{ name: 'id', type: 'long', required: true }], keyColumns: ['id'] };
  const ID = { namespace: ['shop'], name: 't' };
  const committer = (catalog: SqlCatalog): Committer => new Committer(catalog, { groupId: GROUP, autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables: {} });
  /** A window that moves one partition's offset from `expected` to `next` (records replayed or ignored: no files). */
  const window = (partition: string, expected: number | null, next: number): SealedTable => ({
    name: 'shop.t', dataFiles: [], deleteFiles: [], truncated: false, evolvedSchema: null, window: [[partition, next]], expected: [[partition, expected]], rows: 0, deletedKeys: 0,
    targetDataFiles: [], positionDeletedKeys: [], deletedPositions: [], repairedKeys: [], repairedRows: 0, repairExamples: [], ops: {}, newestEventMs: null, writtenAtMs: Date.now(), indexKeys: 0, indexBytes: 0,
  });
  const fenced = (partition: string) => (e: unknown) => e instanceof FloeError && e.code === 'commit_fenced' && e.details.partition === partition;

  it('keeps the offsets after expire_snapshots removed every floe snapshot behind a compaction, and still fences a zombie', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'expired.db'), warehouse: `file://${dir}/expired`, io: new LocalFileIO() });
    const c = committer(catalog);
    await c.table(ID, SHAPE);
    await c.commit([window('cdc.t/0', null, 10)]);
    await c.commit([window('cdc.t/0', 10, 25), window('cdc.t/1', null, 4)]);
    let t = await catalog.loadTable(ID);
    assert.deepEqual(t.metadata.properties[KEY], JSON.stringify({ 'cdc.t': { '0': 25, '1': 4 } }));
    // A compaction (no offsets in its summary), then expire_snapshots keeps only the current snapshot.
    t = (await new Transaction(catalog, t).setOperation('replace').forceSnapshot().commit()).table;
    const old = t.metadata.snapshots.filter((s) => s.snapshotId !== t.metadata.currentSnapshotId).map((s) => s.snapshotId);
    t = await catalog.commitTable(t, [], [{ action: 'remove-snapshots', 'snapshot-ids': old }]);
    t = await catalog.loadTable(ID);
    assert.equal(t.metadata.snapshots.length, 1);
    assert.equal(t.metadata.snapshots[0]!.summary[KEY], undefined);
    assert.deepEqual(storedOffsets(t.metadata, GROUP), { 'cdc.t': { '0': 25, '1': 4 } });

    // A new process sees the stored offsets (it skips what the table holds)...
    const next = committer(catalog);
    assert.deepEqual((await next.table(ID, SHAPE)).stored, { 'cdc.t': { '0': 25, '1': 4 } });
    // ... and a zombie that started before the last commit, or from nothing, is fenced.
    const failure = async (w: SealedTable) => (await next.commit([w])).failed[0]?.error;
    assert.ok(fenced('cdc.t/0')(await failure(window('cdc.t/0', 10, 30))));
    assert.ok(fenced('cdc.t/1')(await failure(window('cdc.t/1', null, 9))));
    // The rightful owner goes on from the stored offset; the property and the summary move together.
    await next.commit([window('cdc.t/0', 25, 40)]);
    t = await catalog.loadTable(ID);
    const want = JSON.stringify({ 'cdc.t': { '0': 40, '1': 4 } });
    assert.equal(t.metadata.properties[KEY], want);
    assert.equal(t.metadata.snapshots.find((s) => s.snapshotId === t.metadata.currentSnapshotId)?.summary[KEY], want);
    await catalog.close();
  });

  it('merges concurrent replicas’ partitions into the property across a 409', async () => {
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'replicas.db'), warehouse: `file://${dir}/replicas`, io: new LocalFileIO() });
    const a = committer(catalog);
    const b = committer(catalog);
    await a.table(ID, SHAPE);
    await b.table(ID, SHAPE); // both hold the same base: one of the two commits below conflicts and re-applies
    await Promise.all([a.commit([window('cdc.t/0', null, 7)]), b.commit([window('cdc.t/1', null, 3)])]);
    const t = await catalog.loadTable(ID);
    assert.equal(t.metadata.snapshots.length, 2);
    assert.deepEqual(JSON.parse(t.metadata.properties[KEY]!), { 'cdc.t': { '0': 7, '1': 3 } });
    await catalog.close();
  });
});
