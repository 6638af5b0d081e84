// Proves Kafka offsets stored in snapshot summaries: storedOffsets walks ancestors past snapshots of other writers, and commitOffsets merges partitions but fences a zombie whose starting offset is no longer the stored one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { commitOffsets, offsetOf, offsetsKey, splitTp, storedOffsets, tp, type OffsetMap } from '../../src/commit/offsets.js';
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
