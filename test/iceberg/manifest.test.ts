// Proves manifests and manifest lists round-trip (partition tuples, metrics, sequence number inheritance, partition summaries) and carry the spec's header keys and Avro field ids.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readContainer } from '../../src/avro/avro.js';
import { isFloeError } from '../../src/errors.js';
import { fromBinary, toBinary } from '../../src/iceberg/conversions.js';
import { DataFileContent, ManifestEntryStatus, type DataFile, type ManifestEntry } from '../../src/iceberg/data-file.js';
import {
  ManifestContent,
  UNASSIGNED_SEQUENCE_NUMBER,
  readManifest,
  readManifestList,
  writeManifest,
  writeManifestList,
  type ManifestFile,
} from '../../src/iceberg/manifest.js';
import { PartitionSpec, partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';

const SNAPSHOT_ID = 2n ** 62n + 7n;

const schema = schemaFromDecls(
  [
    { name: 'id', type: T.long, required: true },
    { name: 'region', type: T.string },
    { name: 'ts', type: T.timestamp },
    { name: 'amount', type: T.decimal(10, 2) },
    { name: 'score', type: T.double },
  ],
  ['id'],
);
const spec = partitionSpecFromExprs(['region', 'bucket(16, id)', 'day(ts)', 'amount'], schema, 3);
const specs = new Map<number, PartitionSpec>([[3, spec]]);

function dataFile(n: number, partition: (IcebergValue | null)[], extra: Partial<DataFile> = {}): DataFile {
  return {
    content: DataFileContent.DATA,
    filePath: `s3://b/t/data/region=x/f${n}.parquet`,
    fileFormat: 'PARQUET',
    specId: 3,
    partition,
    recordCount: BigInt(100 + n),
    fileSizeInBytes: BigInt(4096 * (n + 1)),
    columnSizes: new Map([[1, 800n], [2, 123n]]),
    valueCounts: new Map([[1, BigInt(100 + n)], [5, BigInt(100 + n)], [2, BigInt(100 + n)]]),
    nullValueCounts: new Map([[1, 0n], [2, BigInt(n)]]),
    nanValueCounts: new Map([[5, 3n]]),
    lowerBounds: new Map([[1, toBinary(T.long, BigInt(n))], [2, toBinary(T.string, 'a')]]),
    upperBounds: new Map([[1, toBinary(T.long, 2n ** 62n)], [2, toBinary(T.string, 'zz')]]),
    splitOffsets: [4n],
    sortOrderId: 0,
    ...extra,
  };
}

const PARTITIONS: (IcebergValue | null)[][] = [
  ['eu', 3, 19000, 12345n],
  ['us', 7, 19001, -5n],
  [null, 0, null, null],
];

const entries: ManifestEntry[] = [
  { status: ManifestEntryStatus.ADDED, snapshotId: SNAPSHOT_ID, sequenceNumber: null, fileSequenceNumber: null, dataFile: dataFile(0, PARTITIONS[0] ?? []) },
  { status: ManifestEntryStatus.EXISTING, snapshotId: 11n, sequenceNumber: 2n, fileSequenceNumber: 2n, dataFile: dataFile(1, PARTITIONS[1] ?? []) },
  { status: ManifestEntryStatus.ADDED, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile: dataFile(2, PARTITIONS[2] ?? []) },
  { status: ManifestEntryStatus.DELETED, snapshotId: SNAPSHOT_ID, sequenceNumber: 1n, fileSequenceNumber: 1n, dataFile: dataFile(3, ['eu', 15, 18000, 99999999n]) },
];

function written(): { bytes: Buffer; manifestFile: ManifestFile } {
  return writeManifest({ path: 's3://b/t/metadata/m0.avro', formatVersion: 2, schema, spec, content: ManifestContent.DATA, snapshotId: SNAPSHOT_ID, entries });
}

describe('writeManifest / readManifest', () => {
  it('describes the manifest: counts, rows, unassigned sequence number, min sequence number of the non-deleted entries', () => {
    const { bytes, manifestFile: mf } = written();
    assert.equal(mf.manifestPath, 's3://b/t/metadata/m0.avro');
    assert.equal(mf.manifestLength, BigInt(bytes.length));
    assert.equal(mf.partitionSpecId, 3);
    assert.equal(mf.content, ManifestContent.DATA);
    assert.equal(mf.sequenceNumber, UNASSIGNED_SEQUENCE_NUMBER);
    assert.equal(mf.minSequenceNumber, 2n);
    assert.equal(mf.addedSnapshotId, SNAPSHOT_ID);
    assert.deepEqual([mf.addedFilesCount, mf.existingFilesCount, mf.deletedFilesCount], [2, 1, 1]);
    assert.deepEqual([mf.addedRowsCount, mf.existingRowsCount, mf.deletedRowsCount], [100n + 102n, 101n, 103n]);
  });

  it('summarizes each partition field: contains_null, and binary lower/upper bounds over all entries', () => {
    const parts = written().manifestFile.partitions ?? [];
    assert.equal(parts.length, 4);
    const types: PrimitiveType[] = [T.string, T.int, T.date, T.decimal(10, 2)];
    const decoded = parts.map((p, i) => ({
      containsNull: p.containsNull,
      containsNan: p.containsNan,
      lower: p.lowerBound === null ? null : fromBinary(types[i] as PrimitiveType, p.lowerBound),
      upper: p.upperBound === null ? null : fromBinary(types[i] as PrimitiveType, p.upperBound),
    }));
    assert.deepEqual(decoded, [
      { containsNull: true, containsNan: null, lower: 'eu', upper: 'us' },
      { containsNull: false, containsNan: null, lower: 0, upper: 15 },
      { containsNull: true, containsNan: null, lower: 18000, upper: 19001 },
      { containsNull: true, containsNan: null, lower: -5n, upper: 99999999n },
    ]);
    // exact bytes: int/date little-endian 4 bytes, decimal minimal two's complement big-endian
    assert.equal(Buffer.from(parts[1]?.upperBound ?? []).toString('hex'), '0f000000');
    assert.equal(Buffer.from(parts[2]?.lowerBound ?? []).toString('hex'), '50460000');
    assert.equal(Buffer.from(parts[3]?.lowerBound ?? []).toString('hex'), 'fb');
    assert.equal(Buffer.from(parts[3]?.upperBound ?? []).toString('hex'), '05f5e0ff');
  });

  it('reads entries back: partition values, metrics maps, and inherited sequence numbers', () => {
    const { bytes, manifestFile } = written();
    const committed: ManifestFile = { ...manifestFile, sequenceNumber: 5n, minSequenceNumber: 2n };
    const back = readManifest(bytes, committed, specs, schema);
    assert.equal(back.length, 4);
    assert.deepEqual(back.map((e) => e.dataFile.partition), [...PARTITIONS, ['eu', 15, 18000, 99999999n]]);
    assert.deepEqual(back.map((e) => e.status), [1, 0, 1, 2]);
    // ADDED entries with null sequence numbers take the manifest's; others keep theirs
    assert.deepEqual(back.map((e) => [e.sequenceNumber, e.fileSequenceNumber]), [
      [5n, 5n],
      [2n, 2n],
      [5n, 5n],
      [1n, 1n],
    ]);
    // a null snapshot id is inherited from the manifest list entry
    assert.deepEqual(back.map((e) => e.snapshotId), [SNAPSHOT_ID, 11n, SNAPSHOT_ID, SNAPSHOT_ID]);
    for (let i = 0; i < 4; i++) {
      const want = entries[i]?.dataFile as DataFile;
      const got = back[i]?.dataFile as DataFile;
      assert.deepEqual(got, { ...want, partition: got.partition });
    }
    const f0 = back[0]?.dataFile as DataFile;
    assert.equal(fromBinary(T.long, f0.upperBounds?.get(1) ?? new Uint8Array(0)), 2n ** 62n);
    assert.deepEqual([...(f0.valueCounts?.keys() ?? [])], [1, 2, 5], 'map entries sorted by field id');
    assert.equal(f0.nanValueCounts?.get(5), 3n);
  });

  it('leaves sequence numbers null while the manifest is not yet committed (-1)', () => {
    const { bytes, manifestFile } = written();
    const back = readManifest(bytes, manifestFile, specs, schema);
    assert.deepEqual(back.map((e) => e.sequenceNumber), [null, 2n, null, 1n]);
  });

  it('writes the header metadata readers need', () => {
    const c = readContainer(written().bytes);
    const md = c.metadata;
    assert.deepEqual(JSON.parse(md.schema ?? ''), schema.toJSON());
    assert.deepEqual(JSON.parse(md['partition-spec'] ?? ''), [
      { 'source-id': 2, 'field-id': 1000, name: 'region', transform: 'identity' },
      { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
      { 'source-id': 3, 'field-id': 1002, name: 'ts_day', transform: 'day' },
      { 'source-id': 4, 'field-id': 1003, name: 'amount', transform: 'identity' },
    ]);
    assert.equal(md['partition-spec-id'], '3');
    assert.equal(md['format-version'], '2');
    assert.equal(md.content, 'data');
    assert.equal(md['schema-id'], '0');
    assert.equal(md['avro.codec'], 'deflate');
  });

  it('puts the spec field ids into the Avro schema in the header', () => {
    type F = { name: string; 'field-id': number; type: unknown };
    const header = JSON.parse(readContainer(written().bytes).metadata['avro.schema'] ?? '') as { name: string; fields: F[] };
    assert.equal(header.name, 'manifest_entry');
    assert.deepEqual(header.fields.map((f) => [f.name, f['field-id']]), [
      ['status', 0],
      ['snapshot_id', 1],
      ['sequence_number', 3],
      ['file_sequence_number', 4],
      ['data_file', 2],
    ]);
    const dataFileRec = header.fields[4]?.type as { name: string; fields: F[] };
    assert.equal(dataFileRec.name, 'r2');
    const byName = new Map(dataFileRec.fields.map((f) => [f.name, f]));
    const id = (n: string): number | undefined => byName.get(n)?.['field-id'];
    assert.equal(id('file_path'), 100);
    assert.equal(id('file_format'), 101);
    assert.equal(id('partition'), 102);
    assert.equal(id('record_count'), 103);
    assert.equal(id('file_size_in_bytes'), 104);
    assert.equal(id('content'), 134);
    assert.equal(id('column_sizes'), 108);
    assert.equal(id('nan_value_counts'), 137);
    assert.equal(id('lower_bounds'), 125);
    assert.equal(id('upper_bounds'), 128);
    assert.equal(id('split_offsets'), 132);
    assert.equal(id('equality_ids'), 135);
    assert.equal(id('sort_order_id'), 140);
    for (const f of dataFileRec.fields) assert.ok(f['field-id'] >= 100 && f['field-id'] <= 145, `${f.name} id ${f['field-id']}`);

    const lower = byName.get('lower_bounds')?.type as [string, { type: string; logicalType: string; items: { name: string; fields: F[] } }];
    assert.equal(lower[0], 'null');
    assert.equal(lower[1].type, 'array');
    assert.equal(lower[1].logicalType, 'map');
    assert.equal(lower[1].items.name, 'k126_v127');
    assert.deepEqual(lower[1].items.fields.map((f) => [f.name, f['field-id'], f.type]), [
      ['key', 126, 'int'],
      ['value', 127, 'bytes'],
    ]);
    const eq = byName.get('equality_ids')?.type as [string, { type: string; items: string; 'element-id': number }];
    assert.deepEqual(eq[1], { type: 'array', items: 'int', 'element-id': 136 });

    const part = byName.get('partition')?.type as { name: string; fields: F[] };
    assert.equal(part.name, 'r102');
    assert.deepEqual(part.fields.map((f) => [f.name, f['field-id']]), [
      ['region', 1000],
      ['id_bucket', 1001],
      ['ts_day', 1002],
      ['amount', 1003],
    ]);
    assert.deepEqual(part.fields[2]?.type, ['null', { type: 'int', logicalType: 'date' }]);
    assert.deepEqual(part.fields[3]?.type, ['null', { type: 'fixed', name: 'decimal_10_2_1003', size: 5, logicalType: 'decimal', precision: 10, scale: 2 }]);
  });

  it('writes delete manifests with equality ids and content "deletes"', () => {
    const unpart = PartitionSpec.unpartitioned();
    const del: DataFile = {
      content: DataFileContent.EQUALITY_DELETES,
      filePath: 's3://b/t/data/eq.parquet',
      fileFormat: 'PARQUET',
      specId: 0,
      partition: [],
      recordCount: 3n,
      fileSizeInBytes: 99n,
      equalityIds: [1, 2],
    };
    const { bytes, manifestFile } = writeManifest({
      path: 'm1.avro',
      formatVersion: 2,
      schema,
      spec: unpart,
      content: ManifestContent.DELETES,
      snapshotId: 1n,
      entries: [{ status: ManifestEntryStatus.ADDED, snapshotId: 1n, sequenceNumber: null, fileSequenceNumber: null, dataFile: del }],
    });
    assert.equal(readContainer(bytes).metadata.content, 'deletes');
    assert.deepEqual(manifestFile.partitions, []);
    const back = readManifest(bytes, { ...manifestFile, sequenceNumber: 9n }, new Map([[0, unpart]]), schema);
    // absent metrics read back as undefined-valued keys
    const none = { columnSizes: undefined, valueCounts: undefined, nullValueCounts: undefined, nanValueCounts: undefined, lowerBounds: undefined, upperBounds: undefined };
    assert.deepEqual(back[0]?.dataFile, { ...del, ...none });
    assert.equal(back[0]?.sequenceNumber, 9n);
  });

  it('rejects entries whose partition tuple does not fit the spec, and a manifest with an unknown spec', () => {
    assert.throws(
      () =>
        writeManifest({
          path: 'm.avro',
          formatVersion: 2,
          schema,
          spec,
          content: ManifestContent.DATA,
          snapshotId: 1n,
          entries: [{ status: 1, snapshotId: 1n, sequenceNumber: null, fileSequenceNumber: null, dataFile: dataFile(0, ['eu']) }],
        }),
      (e: unknown) => isFloeError(e, 'field_id_mismatch') && /has 1 partition values, spec 3 has 4 fields/.test(e.message),
    );
    const { bytes, manifestFile } = written();
    assert.throws(() => readManifest(bytes, manifestFile, new Map(), schema), (e: unknown) => isFloeError(e, 'metadata_invalid') && /unknown partition spec 3/.test(e.message));
  });
});

describe('writeManifestList / readManifestList', () => {
  it('round-trips manifest files, giving unassigned (-1) sequence numbers the list sequence number', () => {
    const fresh = written().manifestFile;
    const old: ManifestFile = {
      ...fresh,
      manifestPath: 's3://b/t/metadata/old.avro',
      sequenceNumber: 2n,
      minSequenceNumber: 1n,
      addedSnapshotId: 11n,
      content: ManifestContent.DELETES,
      partitions: null,
    };
    const unassignedMin: ManifestFile = { ...fresh, manifestPath: 'x.avro', minSequenceNumber: UNASSIGNED_SEQUENCE_NUMBER, partitions: [] };
    const bytes = writeManifestList({ formatVersion: 2, snapshotId: SNAPSHOT_ID, parentSnapshotId: 11n, sequenceNumber: 7n, manifests: [fresh, old, unassignedMin] });
    const back = readManifestList(bytes, 'snap.avro');
    assert.equal(back.length, 3);
    assert.deepEqual(back[0], { ...fresh, sequenceNumber: 7n, minSequenceNumber: 2n });
    assert.deepEqual(back[1], old);
    assert.deepEqual(back[2], { ...unassignedMin, sequenceNumber: 7n, minSequenceNumber: 7n });
    const md = readContainer(bytes).metadata;
    assert.equal(md['snapshot-id'], String(SNAPSHOT_ID));
    assert.equal(md['parent-snapshot-id'], '11');
    assert.equal(md['sequence-number'], '7');
    assert.equal(md['format-version'], '2');
  });

  it('uses the manifest_file field ids in the header schema', () => {
    const bytes = writeManifestList({ formatVersion: 2, snapshotId: 1n, parentSnapshotId: null, sequenceNumber: 1n, manifests: [] });
    const md = readContainer(bytes).metadata;
    assert.equal(md['parent-snapshot-id'], 'null');
    type F = { name: string; 'field-id': number; type: unknown };
    const s = JSON.parse(md['avro.schema'] ?? '') as { name: string; fields: F[] };
    assert.equal(s.name, 'manifest_file');
    const ids = Object.fromEntries(s.fields.map((f) => [f.name, f['field-id']]));
    assert.equal(ids.manifest_path, 500);
    assert.equal(ids.content, 517);
    assert.equal(ids.sequence_number, 515);
    assert.equal(ids.min_sequence_number, 516);
    assert.equal(ids.partitions, 507);
    const parts = s.fields.find((f) => f.name === 'partitions')?.type as [string, { 'element-id': number; items: { fields: F[] } }];
    assert.equal(parts[1]['element-id'], 508);
    assert.deepEqual(parts[1].items.fields.map((f) => f['field-id']), [509, 518, 510, 511]);
  });

  it('round-trips through a manifest: entries inherit the sequence number the list assigned', () => {
    const { bytes, manifestFile } = written();
    const list = readManifestList(writeManifestList({ formatVersion: 2, snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: 12n, manifests: [manifestFile] }), 'l');
    const mf = list[0] as ManifestFile;
    assert.equal(mf.sequenceNumber, 12n);
    const back = readManifest(bytes, mf, specs, schema);
    assert.deepEqual(back.map((e) => e.sequenceNumber), [12n, 2n, 12n, 1n]);
    assert.deepEqual(back.map((e) => e.fileSequenceNumber), [12n, 2n, 12n, 1n]);
  });
});
