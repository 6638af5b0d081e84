// Proves partitioned writing: partition tuples and Java-style paths, one file per partition on fan-out, position deletes sorted by (file_path, pos) with whole file_path bounds, and equality deletes carrying their equality ids.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFloeError } from '../../src/errors.js';
import { fromBinary } from '../../src/iceberg/conversions.js';
import { DataFileContent, type DataFile } from '../../src/iceberg/data-file.js';
import { PartitionSpec, partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T, type NestedField, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { arrowValue } from '../../src/writer/column-builder.js';
import type { WriterSettings } from '../../src/writer/file-writer.js';
import { decodeParquet } from '../../src/writer/parquet.js';
import {
  DataWriter,
  EqualityDeleteWriter,
  POSITION_DELETE_FIELDS,
  POSITION_DELETE_FILE_PATH_ID,
  POSITION_DELETE_POS_ID,
  Partitioner,
  PositionDeleteWriter,
} from '../../src/writer/partitioned-writer.js';

const io = new LocalFileIO();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-pw-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const settings = (sub: string): WriterSettings => ({ io, dataLocation: `file://${dir}/${sub}/data`, codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024 });

const schema = schemaFromDecls(
  [
    { name: 'id', type: T.long, required: true },
    { name: 'region', type: T.string },
    { name: 'ts', type: T.timestamptz },
    { name: 'name', type: T.string },
    { name: 'tags', type: { kind: 'list', elementId: 0, elementRequired: false, element: T.string } },
  ],
  ['id'],
);
const flat = schemaFromDecls(
  [
    { name: 'id', type: T.long, required: true },
    { name: 'region', type: T.string },
    { name: 'ts', type: T.timestamptz },
  ],
  ['id'],
);
const TS = 1_700_000_000_000_000n; // 2023-11-14T22:13:20Z, day 19675

async function rowsOf(file: DataFile, fields: readonly NestedField[]): Promise<(IcebergValue | null)[][]> {
  const t = decodeParquet(await io.read(file.filePath));
  const ids = t.schema.fields.map((f) => f.metadata.get('PARQUET:field_id'));
  assert.deepEqual(ids, fields.map((f) => String(f.id)), 'Parquet field ids');
  const out: (IcebergValue | null)[][] = [];
  for (let r = 0; r < t.numRows; r++) out.push(fields.map((f, c) => arrowValue(f.type as PrimitiveType, t.getChildAt(c)!, r)));
  return out;
}

describe('Partitioner', () => {
  it('computes partition tuples from rows in schema order', () => {
    const spec = partitionSpecFromExprs(['region', 'bucket(16, id)', 'day(ts)', 'truncate(3, name)'], schema);
    const p = new Partitioner(schema, spec);
    assert.deepEqual(p.partition([34n, 'eu', TS, 'abcdef', null]), ['eu', 3, 19675, 'abc']);
    assert.deepEqual(p.partition([34n, null, null, null, null]), [null, 3, null, null]);
    assert.deepEqual(p.partition([34n, 'eu', -1n, 'ab', null]), ['eu', 3, -1, 'ab']);
  });

  it('builds Java-style partition paths', () => {
    const spec = partitionSpecFromExprs(['region', 'bucket(16, id)'], schema);
    const p = new Partitioner(schema, spec);
    assert.equal(p.path(p.partition([34n, 'eu', null, null, null])), 'region=eu/id_bucket=3');
    assert.equal(p.path(['a b/c&é', 0]), 'region=a+b%2Fc%26%C3%A9/id_bucket=0');
    assert.equal(p.path([null, 15]), 'region=null/id_bucket=15');
    assert.equal(p.path(['', 1]), 'region=__empty__/id_bucket=1');
    const days = new Partitioner(schema, partitionSpecFromExprs(['day(ts)', 'hour(ts)'], schema));
    assert.equal(days.path(days.partition([1n, null, TS, null, null])), 'ts_day=2023-11-14/ts_hour=2023-11-14-22');
  });

  it('rejects a spec whose source column is not top level', () => {
    const nested = schemaFromDecls([
      { name: 'id', type: T.long, required: true },
      { name: 's', type: { kind: 'struct', fields: [{ id: 0, name: 'x', required: false, type: T.int }] } },
    ]);
    const spec = new PartitionSpec(0, [{ sourceId: 3, fieldId: 1000, name: 'x', transform: { kind: 'identity' } }]);
    assert.throws(() => new Partitioner(nested, spec), (e: unknown) => isFloeError(e, 'schema_invalid') && /must have a top-level source column/.test(e.message));
  });
});

describe('DataWriter fan-out', () => {
  it('writes one file per partition, each holding only its partition rows', async () => {
    const spec = partitionSpecFromExprs(['region', 'bucket(4, id)'], flat);
    const p = new Partitioner(flat, spec);
    const w = new DataWriter(settings('fan'), flat, spec);
    const regions = ['eu', 'us', null];
    const expected = new Map<string, (IcebergValue | null)[][]>();
    for (let i = 0; i < 300; i++) {
      const row = [BigInt(i), regions[i % 3] ?? null, TS + BigInt(i)];
      w.write(row);
      const key = p.path(p.partition(row));
      expected.set(key, [...(expected.get(key) ?? []), row]);
    }
    assert.ok(w.bufferedBytes > 0);
    const files = await w.close();
    assert.equal(files.length, expected.size);
    assert.equal(files.length, 12, '3 regions x 4 buckets');
    assert.equal(files.reduce((n, f) => n + f.recordCount, 0n), 300n);
    for (const f of files) {
      const key = p.path(f.partition);
      assert.ok(f.filePath.startsWith(`file://${dir}/fan/data/${key}/`), `${f.filePath} under ${key}`);
      assert.equal(f.specId, spec.specId);
      const rows = await rowsOf(f, flat.fields);
      assert.deepEqual(rows, expected.get(key));
      for (const r of rows) assert.deepEqual(p.partition(r), f.partition);
    }
  });

  it('writes a single file without partition path for an unpartitioned spec', async () => {
    const w = new DataWriter(settings('unpart'), flat, PartitionSpec.unpartitioned());
    for (let i = 0; i < 10; i++) w.write([BigInt(i), 'eu', null]);
    const files = await w.close();
    assert.equal(files.length, 1);
    assert.deepEqual(files[0]?.partition, []);
    assert.match(files[0]?.filePath ?? '', new RegExp(`^file://${dir}/unpart/data/[^/]+\\.parquet$`));
  });

  it('refuses more open partitions than allowed', async () => {
    const spec = partitionSpecFromExprs(['id'], flat);
    const { FanoutWriter } = await import('../../src/writer/partitioned-writer.js');
    const w = new FanoutWriter(settings('many'), flat.fields, DataFileContent.DATA, flat, spec, undefined, 2);
    w.write([1n, null, null]);
    w.write([2n, null, null]);
    assert.throws(() => w.write([3n, null, null]), (e: unknown) => isFloeError(e, 'config_invalid') && /more than 2 open partitions/.test(e.message));
  });
});

describe('PositionDeleteWriter', () => {
  it('sorts by (file_path, pos) per partition and keeps file_path bounds whole', async () => {
    const spec = partitionSpecFromExprs(['region'], flat);
    const w = new PositionDeleteWriter(settings('pos'), flat, spec);
    const pathA = `file://${dir}/pos/data/region=eu/00000-aaaaaaaaaaaaaaaaaaaaaaaaaaaa.parquet`;
    const pathB = `file://${dir}/pos/data/region=eu/00000-bbbbbbbbbbbbbbbbbbbbbbbbbbbb.parquet`;
    const pathUs = `file://${dir}/pos/data/region=us/00001-cccccccccccccccccccccccccccc.parquet`;
    w.delete(pathB, 7n, ['eu']);
    w.delete(pathA, 100n, ['eu']);
    w.delete(pathB, 2n, ['eu']);
    w.delete(pathA, 9n, ['eu']);
    w.delete(pathUs, 1n, ['us']);
    w.delete(pathA, 10n, ['eu']);
    assert.equal(w.count, 6);
    const files = await w.close();
    assert.equal(files.length, 2);
    const eu = files.find((f) => f.partition[0] === 'eu');
    const us = files.find((f) => f.partition[0] === 'us');
    assert.ok(eu !== undefined && us !== undefined);
    assert.equal(eu.content, DataFileContent.POSITION_DELETES);
    assert.equal(eu.recordCount, 5n);
    assert.ok(eu.filePath.includes('/region=eu/'));
    assert.deepEqual(await rowsOf(eu, POSITION_DELETE_FIELDS), [
      [pathA, 9n],
      [pathA, 10n],
      [pathA, 100n],
      [pathB, 2n],
      [pathB, 7n],
    ]);
    assert.equal(fromBinary(T.string, eu.lowerBounds?.get(POSITION_DELETE_FILE_PATH_ID) ?? new Uint8Array()), pathA);
    assert.equal(fromBinary(T.string, eu.upperBounds?.get(POSITION_DELETE_FILE_PATH_ID) ?? new Uint8Array()), pathB);
    assert.equal(fromBinary(T.long, eu.lowerBounds?.get(POSITION_DELETE_POS_ID) ?? new Uint8Array()), 2n);
    assert.equal(fromBinary(T.long, eu.upperBounds?.get(POSITION_DELETE_POS_ID) ?? new Uint8Array()), 100n);
    assert.equal(eu.sortOrderId, undefined);
    assert.equal(eu.equalityIds, undefined);
    assert.deepEqual(await rowsOf(us, POSITION_DELETE_FIELDS), [[pathUs, 1n]]);
    assert.equal(fromBinary(T.string, us.upperBounds?.get(POSITION_DELETE_FILE_PATH_ID) ?? new Uint8Array()), pathUs);
  });

  it('orders file paths by code point, not UTF-16 unit', async () => {
    const w = new PositionDeleteWriter(settings('cp'), flat, PartitionSpec.unpartitioned());
    const hi = `file://${dir}/cp/\u{1F600}.parquet`;
    const lo = `file://${dir}/cp/\uFFFD.parquet`;
    w.delete(hi, 0n, []);
    w.delete(lo, 0n, []);
    const [f] = await w.close();
    assert.ok(f !== undefined);
    assert.deepEqual((await rowsOf(f, POSITION_DELETE_FIELDS)).map((r) => r[0]), [lo, hi]);
  });

  it('writes nothing when there are no deletes', async () => {
    const w = new PositionDeleteWriter(settings('none'), flat, PartitionSpec.unpartitioned());
    assert.deepEqual(await w.close(), []);
  });
});

describe('EqualityDeleteWriter', () => {
  it('writes the equality columns with their table field ids and records equality_ids', async () => {
    const spec = partitionSpecFromExprs(['region'], flat);
    const w = new EqualityDeleteWriter(settings('eq'), flat, spec, [1, 3]);
    assert.deepEqual(w.fields.map((f) => f.name), ['id', 'ts']);
    w.delete([5n, TS], ['eu']);
    w.delete([6n, null], ['eu']);
    w.delete([7n, TS + 1n], ['us']);
    const files = await w.close();
    assert.equal(files.length, 2);
    for (const f of files) {
      assert.equal(f.content, DataFileContent.EQUALITY_DELETES);
      assert.deepEqual(f.equalityIds, [1, 3]);
      assert.ok(f.filePath.includes(`/region=${String(f.partition[0])}/`));
    }
    const eu = files.find((f) => f.partition[0] === 'eu')!;
    assert.deepEqual(await rowsOf(eu, w.fields), [
      [5n, TS],
      [6n, null],
    ]);
    assert.deepEqual(eu.nullValueCounts, new Map([[1, 0n], [3, 1n]]));
    assert.equal(fromBinary(T.long, eu.upperBounds?.get(1) ?? new Uint8Array()), 6n);
  });

  it('rejects non-primitive or unknown equality fields', () => {
    assert.throws(() => new EqualityDeleteWriter(settings('bad'), schema, PartitionSpec.unpartitioned(), [5]), (e: unknown) => isFloeError(e, 'schema_invalid') && /equality field "tags" must be a primitive column/.test(e.message));
    assert.throws(() => new EqualityDeleteWriter(settings('bad'), schema, PartitionSpec.unpartitioned(), [42]), (e: unknown) => isFloeError(e, 'field_id_mismatch'));
    assert.throws(() => new EqualityDeleteWriter(settings('bad'), schema, PartitionSpec.unpartitioned(), []), (e: unknown) => isFloeError(e, 'assertion_failed'));
  });
});
