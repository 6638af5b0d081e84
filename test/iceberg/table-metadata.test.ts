// Proves table metadata round-trips through exact JSON (64-bit snapshot ids), commit requirements fail as commit_conflict, and REST-style updates apply as a catalog server applies them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError, type FloeErrorCode } from '../../src/errors.js';
import { parseJsonExact, stringifyJsonExact } from '../../src/iceberg/json.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { Schema, schemaFromDecls } from '../../src/iceberg/schema.js';
import type { Snapshot } from '../../src/iceberg/snapshot.js';
import { SortOrder } from '../../src/iceberg/sort-order.js';
import {
  applyUpdates,
  checkRequirements,
  currentSchema,
  currentSnapshot,
  defaultSpec,
  newTableMetadata,
  statisticsFiles,
  tableMetadataFromJSON,
  tableMetadataToJSON,
  updateToJSON,
  type TableMetadata,
} from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';

const UUID = '9c12d441-03fe-4693-9a96-a0705ddf69c1';
const SNAP1 = 2n ** 62n + 12345n; // > 2^53: JSON.parse would round it
const SNAP2 = 2n ** 63n - 1n;

function throwsFloe(fn: () => unknown, code: FloeErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFloeError(e, code), `expected FloeError ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

function schema(): Schema {
  return schemaFromDecls(
    [
      { name: 'id', type: T.long, required: true },
      { name: 'region', type: T.string },
      { name: 'ts', type: T.timestamptz },
    ],
    ['id'],
  );
}

function base(): TableMetadata {
  const s = schema();
  return newTableMetadata({
    location: 's3://bucket/wh/db/t///',
    schema: s.withSchemaId(7),
    spec: partitionSpecFromExprs(['region', 'day(ts)'], s),
    properties: { owner: 'floe', 'write.format.default': 'parquet' },
    tableUuid: UUID,
  });
}

function snapshot(id: bigint, parent: bigint | null, seq: bigint, ts: number): Snapshot {
  return {
    snapshotId: id,
    parentSnapshotId: parent,
    sequenceNumber: seq,
    timestampMs: ts,
    manifestList: `s3://bucket/wh/db/t/metadata/snap-${id}-1-x.avro`,
    summary: { operation: 'append', 'added-records': '10' },
    schemaId: 0,
  };
}

function withTwoSnapshots(): TableMetadata {
  return applyUpdates(
    base(),
    [
      { action: 'add-snapshot', snapshot: snapshot(SNAP1, null, 1n, 1_700_000_000_000) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': SNAP1 },
      { action: 'add-snapshot', snapshot: snapshot(SNAP2, SNAP1, 2n, 1_700_000_001_000) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': SNAP2 },
      { action: 'set-snapshot-ref', 'ref-name': 'v1', type: 'tag', 'snapshot-id': SNAP1 },
    ],
    1_700_000_002_000,
  );
}

describe('newTableMetadata', () => {
  it('starts a v2 table with schema 0, the spec, no snapshots, and a trimmed location', () => {
    const m = base();
    assert.equal(m.formatVersion, 2);
    assert.equal(m.tableUuid, UUID);
    assert.equal(m.location, 's3://bucket/wh/db/t');
    assert.equal(m.currentSchemaId, 0);
    assert.equal(currentSchema(m).schemaId, 0);
    assert.equal(m.lastColumnId, 3);
    assert.equal(m.lastSequenceNumber, 0n);
    assert.equal(m.defaultSpecId, 0);
    assert.equal(m.lastPartitionId, 1001);
    assert.deepEqual(defaultSpec(m).fields.map((f) => f.name), ['region', 'ts_day']);
    assert.equal(m.defaultSortOrderId, 0);
    assert.equal(m.currentSnapshotId, null);
    assert.equal(currentSnapshot(m), null);
    assert.deepEqual(m.refs, {});
  });

  it('rejects a spec whose source column is not in the schema', () => {
    const other = schemaFromDecls([{ name: 'x', type: T.long }, { name: 'y', type: T.long }, { name: 'z', type: T.long }, { name: 'w', type: T.string }]);
    throwsFloe(() => newTableMetadata({ location: '/t', schema: schemaFromDecls([{ name: 'x', type: T.long }]), spec: partitionSpecFromExprs(['w'], other) }), 'schema_invalid', /source id 4/);
  });
});

describe('table metadata JSON', () => {
  it('round-trips through exact JSON, snapshot ids beyond 2^53 included', () => {
    const m = withTwoSnapshots();
    const text = stringifyJsonExact(tableMetadataToJSON(m));
    assert.ok(text.includes(`"current-snapshot-id":${SNAP2}`), text);
    assert.ok(text.includes(`"parent-snapshot-id":${SNAP1}`));
    const back = tableMetadataFromJSON(parseJsonExact(text));
    assert.deepEqual(back, m);
    assert.equal(back.currentSnapshotId, SNAP2);
    assert.equal(currentSnapshot(back)?.parentSnapshotId, SNAP1);
    assert.deepEqual(back.refs, { main: { snapshotId: SNAP2, type: 'branch' }, v1: { snapshotId: SNAP1, type: 'tag' } });
    assert.deepEqual(back.snapshotLog.map((e) => e.snapshotId), [SNAP1, SNAP2]);
    assert.equal(stringifyJsonExact(tableMetadataToJSON(back)), text);
  });

  it('writes the spec keys (and -1 for no current snapshot)', () => {
    const j = tableMetadataToJSON(base());
    assert.equal(j['format-version'], 2);
    assert.equal(j['table-uuid'], UUID);
    assert.equal(j['current-snapshot-id'], -1);
    assert.equal(j['last-sequence-number'], 0n);
    assert.equal(j['last-partition-id'], 1001);
    assert.deepEqual(j['partition-specs'], [
      {
        'spec-id': 0,
        fields: [
          { 'source-id': 2, 'field-id': 1000, name: 'region', transform: 'identity' },
          { 'source-id': 3, 'field-id': 1001, name: 'ts_day', transform: 'day' },
        ],
      },
    ]);
    assert.deepEqual(j['sort-orders'], [{ 'order-id': 0, fields: [] }]);
    const back = tableMetadataFromJSON(parseJsonExact(stringifyJsonExact(j)));
    assert.equal(back.currentSnapshotId, null);
    assert.deepEqual(back.refs, {});
  });

  it('keeps unknown keys verbatim and derives the main ref from current-snapshot-id when refs are missing', () => {
    const j = tableMetadataToJSON(withTwoSnapshots());
    delete j.refs;
    j.statistics = [{ 'snapshot-id': SNAP2, 'statistics-path': 's3://x/stats.puffin' }];
    const back = tableMetadataFromJSON(parseJsonExact(stringifyJsonExact(j)));
    assert.deepEqual(back.refs, { main: { snapshotId: SNAP2, type: 'branch' } });
    assert.deepEqual(back.extra, { statistics: [{ 'snapshot-id': SNAP2, 'statistics-path': 's3://x/stats.puffin' }] });
    assert.ok(stringifyJsonExact(tableMetadataToJSON(back)).includes(`"statistics":[{"snapshot-id":${SNAP2},`));
  });

  it('rejects an unsupported format version', () => {
    throwsFloe(() => tableMetadataFromJSON({ 'format-version': 4 }), 'metadata_invalid', /unsupported format-version 4/);
    throwsFloe(() => tableMetadataFromJSON('x'), 'metadata_invalid', /must be a JSON object/);
  });
});

describe('checkRequirements', () => {
  it('assert-create passes only when the table does not exist', () => {
    checkRequirements(null, [{ type: 'assert-create' }]);
    throwsFloe(() => checkRequirements(base(), [{ type: 'assert-create' }]), 'commit_conflict', /table already exists/);
    throwsFloe(() => checkRequirements(null, [{ type: 'assert-table-uuid', uuid: UUID }]), 'catalog_not_found', /does not exist/);
  });

  it('assert-ref-snapshot-id compares exact 64-bit ids, null meaning "no such ref"', () => {
    checkRequirements(base(), [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }]);
    const m = withTwoSnapshots();
    checkRequirements(m, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': SNAP2 }]);
    checkRequirements(m, [{ type: 'assert-ref-snapshot-id', ref: 'v1', 'snapshot-id': SNAP1 }]);
    throwsFloe(
      () => checkRequirements(m, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': SNAP1 }]),
      'commit_conflict',
      new RegExp(`branch main is at ${SNAP2}, expected ${SNAP1}`),
    );
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': SNAP2 + 1n - 2n }]), 'commit_conflict', /branch main/);
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }]), 'commit_conflict', /expected null/);
    throwsFloe(() => checkRequirements(base(), [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': SNAP1 }]), 'commit_conflict', /is at null/);
  });

  it('fails on a table uuid, current schema id, spec id, field id or partition id mismatch', () => {
    const m = base();
    checkRequirements(m, [
      { type: 'assert-table-uuid', uuid: UUID },
      { type: 'assert-current-schema-id', 'current-schema-id': 0 },
      { type: 'assert-default-spec-id', 'default-spec-id': 0 },
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 3 },
      { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1001 },
      { type: 'assert-default-sort-order-id', 'default-sort-order-id': 0 },
    ]);
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-table-uuid', uuid: 'other' }]), 'commit_conflict', new RegExp(`table uuid is ${UUID}, expected other`));
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-current-schema-id', 'current-schema-id': 1 }]), 'commit_conflict', /current schema id is 0/);
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-default-spec-id', 'default-spec-id': 1 }]), 'commit_conflict', /default spec id is 0/);
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 2 }]), 'commit_conflict', /last assigned field id is 3/);
    throwsFloe(() => checkRequirements(m, [{ type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 999 }]), 'commit_conflict', /partition id is 1001/);
    const e = (() => {
      try {
        checkRequirements(m, [{ type: 'assert-table-uuid', uuid: 'other' }]);
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(isFloeError(e));
    assert.equal(e.retry, 'conflict');
  });
});

describe('applyUpdates', () => {
  it('add-schema then set-current-schema -1 selects the new schema and raises last-column-id', () => {
    const b = base();
    const s2 = new Schema(99, [...currentSchema(b).fields, { id: 4, name: 'note', required: false, type: T.string }], [1]);
    const m = applyUpdates(b, [{ action: 'add-schema', schema: s2 }, { action: 'set-current-schema', 'schema-id': -1 }]);
    assert.deepEqual(m.schemas.map((s) => s.schemaId), [0, 1]);
    assert.equal(m.currentSchemaId, 1);
    assert.equal(currentSchema(m).findField('note')?.id, 4);
    assert.equal(m.lastColumnId, 4);
    // the input is not modified
    assert.equal(b.schemas.length, 1);
    assert.equal(b.currentSchemaId, 0);
  });

  it('add-schema with an identical existing schema reuses it', () => {
    const b = base();
    const same = currentSchema(b).withSchemaId(42);
    const m = applyUpdates(b, [{ action: 'add-schema', schema: same }, { action: 'set-current-schema', 'schema-id': -1 }]);
    assert.equal(m.schemas.length, 1);
    assert.equal(m.currentSchemaId, 0);
    assert.equal(m.lastColumnId, 3);
  });

  it('set-current-schema -1 without an added schema, or an unknown id, is a bad request', () => {
    throwsFloe(() => applyUpdates(base(), [{ action: 'set-current-schema', 'schema-id': -1 }]), 'catalog_bad_request', /unknown schema -1/);
    throwsFloe(() => applyUpdates(base(), [{ action: 'set-current-schema', 'schema-id': 5 }]), 'catalog_bad_request', /unknown schema 5/);
  });

  it('set-properties and remove-properties', () => {
    const m = applyUpdates(base(), [
      { action: 'set-properties', updates: { owner: 'me', 'commit.retry.num-retries': '10' } },
      { action: 'remove-properties', removals: ['write.format.default', 'not-there'] },
    ]);
    assert.deepEqual(m.properties, { owner: 'me', 'commit.retry.num-retries': '10' });
    assert.deepEqual(base().properties, { owner: 'floe', 'write.format.default': 'parquet' });
  });

  it('add-snapshot + set-snapshot-ref main move the current snapshot, sequence number and snapshot log', () => {
    const m = withTwoSnapshots();
    assert.equal(m.currentSnapshotId, SNAP2);
    assert.equal(currentSnapshot(m)?.snapshotId, SNAP2);
    assert.equal(currentSnapshot(m, 'v1')?.snapshotId, SNAP1);
    assert.equal(m.lastSequenceNumber, 2n);
    assert.deepEqual(m.snapshotLog.map((e) => e.snapshotId), [SNAP1, SNAP2]);
    assert.equal(m.lastUpdatedMs >= 1_700_000_002_000, true);
    assert.deepEqual(m.snapshots.map((s) => s.snapshotId), [SNAP1, SNAP2]);
  });

  it('add-snapshot rejects a duplicate id and a stale sequence number; set-snapshot-ref rejects an unknown snapshot', () => {
    const m = withTwoSnapshots();
    throwsFloe(() => applyUpdates(m, [{ action: 'add-snapshot', snapshot: snapshot(SNAP2, SNAP1, 3n, 1) }]), 'catalog_bad_request', /already exists/);
    throwsFloe(() => applyUpdates(m, [{ action: 'add-snapshot', snapshot: snapshot(5n, SNAP2, 2n, 1) }]), 'commit_conflict', /sequence number 2 is not above last-sequence-number 2/);
    throwsFloe(() => applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 5n }]), 'catalog_bad_request', /unknown snapshot 5/);
    // a snapshot on a non-main branch does not move the current snapshot
    const n = applyUpdates(m, [
      { action: 'add-snapshot', snapshot: snapshot(6n, SNAP2, 3n, 1_700_000_003_000) },
      { action: 'set-snapshot-ref', 'ref-name': 'dev', type: 'branch', 'snapshot-id': 6n },
    ]);
    assert.equal(n.currentSnapshotId, SNAP2);
    assert.equal(n.refs.dev?.snapshotId, 6n);
    assert.equal(n.lastSequenceNumber, 3n);
    assert.equal(n.snapshotLog.length, 2);
  });

  it('remove-snapshots drops the snapshots, the refs left dangling and the snapshot log up to the last removed one', () => {
    const m = applyUpdates(withTwoSnapshots(), [{ action: 'remove-snapshots', 'snapshot-ids': [SNAP1] }]);
    assert.deepEqual(m.snapshots.map((s) => s.snapshotId), [SNAP2]);
    assert.equal(m.currentSnapshotId, SNAP2);
    assert.deepEqual(Object.keys(m.refs), ['main']); // the tag v1 pointed at SNAP1
    assert.deepEqual(m.snapshotLog.map((e) => e.snapshotId), [SNAP2]);
    assert.equal(currentSnapshot(m)?.parentSnapshotId, SNAP1); // parent ids are kept: the ancestry just ends
    const none = applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': [SNAP2] }]);
    assert.equal(none.currentSnapshotId, null);
    assert.deepEqual(none.refs, {});
    assert.deepEqual(none.snapshotLog, []);
    assert.deepEqual(updateToJSON({ action: 'remove-snapshots', 'snapshot-ids': [SNAP1] }), { action: 'remove-snapshots', 'snapshot-ids': [SNAP1] });
  });

  it('remove-snapshots drops the statistics and partition statistics files of the removed snapshots, keeps the others', () => {
    const stats = (id: bigint, path: string) => ({ 'snapshot-id': id, 'statistics-path': path, 'file-size-in-bytes': 10 });
    const m0 = withTwoSnapshots();
    const m = { ...m0, extra: { ...m0.extra, statistics: [stats(SNAP1, 's1.stats'), stats(SNAP2, 's2.stats')], 'partition-statistics': [stats(SNAP1, 'p1.parquet')] } };
    assert.deepEqual(statisticsFiles(m).map((f) => f.path), ['s1.stats', 's2.stats', 'p1.parquet']);
    const n = applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': [SNAP1] }]);
    assert.deepEqual(statisticsFiles(n), [{ snapshotId: SNAP2, path: 's2.stats' }]);
    assert.deepEqual(n.extra['partition-statistics'], []);
  });

  it('add-spec then set-default-spec -1 selects the new spec; an identical spec is reused', () => {
    const b = base();
    const spec2 = partitionSpecFromExprs(['bucket(16, id)', 'region', 'hour(ts)'], currentSchema(b), 5);
    const m = applyUpdates(b, [{ action: 'add-spec', spec: spec2 }, { action: 'set-default-spec', 'spec-id': -1 }]);
    assert.deepEqual(m.specs.map((s) => s.specId), [0, 1]);
    assert.equal(m.defaultSpecId, 1);
    assert.deepEqual(defaultSpec(m).fields.map((f) => f.name), ['id_bucket', 'region', 'ts_hour']);
    assert.equal(m.lastPartitionId, 1002);

    const same = partitionSpecFromExprs(['region', 'day(ts)'], currentSchema(b), 3);
    const r = applyUpdates(m, [{ action: 'add-spec', spec: same }, { action: 'set-default-spec', 'spec-id': -1 }]);
    assert.equal(r.specs.length, 2);
    assert.equal(r.defaultSpecId, 0);
    throwsFloe(() => applyUpdates(b, [{ action: 'set-default-spec', 'spec-id': -1 }]), 'catalog_bad_request', /unknown spec -1/);
  });

  it('add-sort-order then set-default-sort-order -1, and upgrade-format-version', () => {
    const order = new SortOrder(1, [{ sourceId: 1, transform: { kind: 'identity' }, direction: 'asc', nullOrder: 'nulls-first' }]);
    const m = applyUpdates(base(), [
      { action: 'add-sort-order', 'sort-order': order },
      { action: 'set-default-sort-order', 'sort-order-id': -1 },
      { action: 'upgrade-format-version', 'format-version': 3 },
    ]);
    assert.equal(m.defaultSortOrderId, 1);
    assert.deepEqual(m.sortOrders.map((s) => s.orderId), [0, 1]);
    assert.equal(m.formatVersion, 3);
    throwsFloe(() => applyUpdates(m, [{ action: 'upgrade-format-version', 'format-version': 2 }]), 'catalog_bad_request', /cannot change format version 3 to 2/);
  });
});
