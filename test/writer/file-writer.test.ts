// Proves the rolling Parquet writer: files roll at the target size with row counts summing to the rows written, every column carries its Iceberg field id, values read back, and the DataFile metrics (counts, NaNs, truncated bounds) match the data.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary } from '../../src/iceberg/conversions.js';
import { DataFileContent, type DataFile } from '../../src/iceberg/data-file.js';
import { localPath, LocalFileIO } from '../../src/io/local-file-io.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T, type NestedField, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { arrowValue } from '../../src/writer/column-builder.js';
import { BOUND_TRUNCATE_LENGTH, RollingFileWriter, RowBuffer, type WriterSettings } from '../../src/writer/file-writer.js';
import { decodeParquet, encodeParquet } from '../../src/writer/parquet.js';
import { allTypesRow, allTypesSchema, rowValues } from '../support/fixtures.js';

const io = new LocalFileIO();
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-fw-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function settings(sub: string, extra: Partial<WriterSettings> = {}): WriterSettings {
  return { io, dataLocation: `file://${dir}/${sub}/data`, codec: 'zstd', targetFileSizeBytes: 64 * 1024 * 1024, ...extra };
}

async function readBack(file: DataFile, fields: readonly NestedField[]): Promise<(IcebergValue | null)[][]> {
  const t = decodeParquet(await io.read(file.filePath));
  const rows: (IcebergValue | null)[][] = [];
  for (let r = 0; r < t.numRows; r++) {
    rows.push(
      fields.map((f, c) => {
        const v = arrowValue(f.type as PrimitiveType, t.getChildAt(c)!, r);
        return v instanceof Uint8Array ? Uint8Array.from(v) : v;
      }),
    );
  }
  return rows;
}

function bound(file: DataFile, which: 'lower' | 'upper', id: number, t: PrimitiveType): IcebergValue | undefined {
  const m = which === 'lower' ? file.lowerBounds : file.upperBounds;
  const b = m?.get(id);
  return b === undefined ? undefined : fromBinary(t, b);
}

describe('RollingFileWriter', () => {
  it('rolls into several files at a tiny target size; record counts sum to the rows written', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 's', type: T.string }]);
    const w = new RollingFileWriter(settings('roll', { targetFileSizeBytes: 1 }), schema.fields, DataFileContent.DATA, 0, [], '');
    for (let i = 0; i < 5000; i++) w.write([BigInt(i), `row-${i}`]);
    const files = await w.close();
    assert.deepEqual(files.map((f) => f.recordCount), [1024n, 1024n, 1024n, 1024n, 904n]);
    assert.equal(files.reduce((n, f) => n + f.recordCount, 0n), 5000n);
    assert.equal(new Set(files.map((f) => f.filePath)).size, 5);
    const onDisk = await readdir(join(dir, 'roll', 'data'));
    assert.equal(onDisk.filter((n) => n.endsWith('.parquet')).length, 5);
    // the files hold the rows in write order, and their sizes are the real sizes
    let next = 0;
    for (const f of files) {
      assert.equal(f.fileSizeInBytes, BigInt((await stat(localPath(f.filePath))).size));
      const rows = await readBack(f, schema.fields);
      assert.equal(BigInt(rows.length), f.recordCount);
      assert.deepEqual(rows[0], [BigInt(next), `row-${next}`]);
      next += rows.length;
      assert.equal(bound(f, 'upper', 1, T.long), BigInt(next - 1));
    }
    // close is idempotent
    assert.equal((await w.close()).length, 5);
  });

  it('writes one file with the default target and none when nothing was written', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }]);
    const w = new RollingFileWriter(settings('one'), schema.fields, DataFileContent.DATA, 0, [], '');
    for (let i = 0; i < 3000; i++) w.write([BigInt(i)]);
    assert.equal(w.rowCount, 3000);
    const files = await w.close();
    assert.equal(files.length, 1);
    assert.equal(files[0]?.recordCount, 3000n);
    assert.match(files[0]?.filePath ?? '', new RegExp(`^file://${dir}/one/data/[0-9a-z]+-[0-9a-f-]{36}\\.parquet$`));
    const empty = new RollingFileWriter(settings('none'), schema.fields, DataFileContent.DATA, 0, [], '');
    assert.deepEqual(await empty.close(), []);
  });

  it('puts files under the partition path', async () => {
    const schema = schemaFromDecls([{ name: 'region', type: T.string }]);
    const w = new RollingFileWriter(settings('part'), schema.fields, DataFileContent.DATA, 2, ['eu'], 'region=eu');
    w.write(['eu']);
    const [f] = await w.close();
    assert.ok(f?.filePath.startsWith(`file://${dir}/part/data/region=eu/`), f?.filePath);
    assert.equal(f?.specId, 2);
    assert.deepEqual(f?.partition, ['eu']);
  });

  it('writes PARQUET:field_id for every column, required columns as non-nullable, and values that read back', async () => {
    const schema = allTypesSchema();
    const w = new RollingFileWriter(settings('all'), schema.fields, DataFileContent.DATA, 0, [], '');
    const rows = Array.from({ length: 60 }, (_, n) => rowValues(schema, allTypesRow(n)));
    for (const r of rows) w.write(r);
    const [file] = await w.close();
    assert.ok(file !== undefined);
    const bytes = await io.read(file.filePath);
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'PAR1');
    const t = decodeParquet(bytes);
    assert.equal(t.schema.fields.length, schema.fields.length);
    t.schema.fields.forEach((af, i) => {
      const f = schema.fields[i] as NestedField;
      assert.equal(af.name, f.name);
      assert.equal(af.metadata.get('PARQUET:field_id'), String(f.id), `field id of ${f.name}`);
      assert.equal(af.nullable, !f.required, `nullability of ${f.name}`);
    });
    assert.deepEqual(await readBack(file, schema.fields), rows);
    assert.equal(file.content, DataFileContent.DATA);
    assert.equal(file.fileFormat, 'PARQUET');
    assert.equal(file.sortOrderId, 0);
    assert.equal(file.equalityIds, undefined);
  });

  it('reports metrics that match the data: value, null and NaN counts and lower/upper bounds', async () => {
    const schema = schemaFromDecls([
      { name: 'id', type: T.long, required: true },
      { name: 'score', type: T.double },
      { name: 'f', type: T.float },
      { name: 'dec', type: T.decimal(9, 2) },
      { name: 'dt', type: T.date },
      { name: 'flag', type: T.boolean },
      { name: 'u', type: T.uuid },
      { name: 'note', type: T.string },
      { name: 'never', type: T.int },
    ]);
    const u = (x: number): Uint8Array => new Uint8Array(16).fill(x);
    const rows: (IcebergValue | null)[][] = [
      [5n, 1.5, NaN, 12345n, 19000, true, u(9), 'b', null],
      [-3n, NaN, 2.5, -1n, null, false, null, 'a', null],
      [7n, null, -1, null, -10, null, u(3), null, null],
      [0n, NaN, NaN, 999_999_999n, 30000, true, u(200), '\u{1F600}', null],
    ];
    const w = new RollingFileWriter(settings('metrics'), schema.fields, DataFileContent.DATA, 0, [], '');
    for (const r of rows) w.write(r);
    const [file] = await w.close();
    assert.ok(file !== undefined);
    assert.equal(file.recordCount, 4n);
    assert.deepEqual(file.valueCounts, new Map([1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => [id, 4n])));
    assert.deepEqual(file.nullValueCounts, new Map([[1, 0n], [2, 1n], [3, 0n], [4, 1n], [5, 1n], [6, 1n], [7, 1n], [8, 1n], [9, 4n]]));
    assert.deepEqual(file.nanValueCounts, new Map([[2, 2n], [3, 2n]]));
    const types = schema.fields.map((f) => f.type as PrimitiveType);
    const lowers = schema.fields.map((f, i) => bound(file, 'lower', f.id, types[i] as PrimitiveType));
    const uppers = schema.fields.map((f, i) => bound(file, 'upper', f.id, types[i] as PrimitiveType));
    assert.deepEqual(lowers, [-3n, 1.5, -1, -1n, -10, false, u(3), 'a', undefined]);
    assert.deepEqual(uppers, [7n, 1.5, 2.5, 999_999_999n, 30000, true, u(200), '\u{1F600}', undefined]);
    assert.equal(file.lowerBounds?.has(9), false, 'an all-null column has no bounds');
  });

  it('truncates string bounds to 16 code points (upper incremented) and binary bounds to 16 bytes', async () => {
    const schema = schemaFromDecls([
      { name: 's', type: T.string },
      { name: 'bin', type: T.binary },
      { name: 'maxed', type: T.string },
      { name: 'short', type: T.string },
    ]);
    const emojis = '\u{1F600}'.repeat(20);
    const rows: (IcebergValue | null)[][] = [
      ['a'.repeat(20), new Uint8Array(20), '\u{10FFFF}'.repeat(17), 'x'],
      [`ab${emojis}`, Uint8Array.from([1, ...new Array<number>(19).fill(0xff)]), '\u{10FFFF}'.repeat(17), 'xyz'],
    ];
    const w = new RollingFileWriter(settings('trunc'), schema.fields, DataFileContent.DATA, 0, [], '');
    for (const r of rows) w.write(r);
    const [file] = await w.close();
    assert.ok(file !== undefined);
    assert.equal(BOUND_TRUNCATE_LENGTH, 16);
    assert.equal(bound(file, 'lower', 1, T.string), 'a'.repeat(16));
    // 'ab' + 14 emojis is 16 code points; the last one is incremented: U+1F600 -> U+1F601
    assert.equal(bound(file, 'upper', 1, T.string), `ab${'\u{1F600}'.repeat(13)}\u{1F601}`);
    assert.equal([...(bound(file, 'upper', 1, T.string) as string)].length, 16);
    assert.deepEqual(bound(file, 'lower', 2, T.binary), new Uint8Array(16));
    // 01 ff*15: the trailing 0xff bytes cannot be incremented, so the bound is 02
    assert.deepEqual(bound(file, 'upper', 2, T.binary), Uint8Array.from([2]));
    // a prefix of only U+10FFFF has no upper bound at all; the lower bound is still the prefix
    assert.equal(bound(file, 'lower', 3, T.string), '\u{10FFFF}'.repeat(16));
    assert.equal(file.upperBounds?.has(3), false);
    // short strings are kept whole
    assert.equal(bound(file, 'lower', 4, T.string), 'x');
    assert.equal(bound(file, 'upper', 4, T.string), 'xyz');
  });

  it('keeps bounds whole for fullBoundFieldIds', async () => {
    const schema = schemaFromDecls([{ name: 'path', type: T.string }]);
    const long = `s3://bucket/warehouse/db/table/data/${'p'.repeat(40)}.parquet`;
    const w = new RollingFileWriter(settings('full', { fullBoundFieldIds: new Set([1]) }), schema.fields, DataFileContent.DATA, 0, [], '');
    w.write([long]);
    const [file] = await w.close();
    assert.equal(bound(file!, 'lower', 1, T.string), long);
    assert.equal(bound(file!, 'upper', 1, T.string), long);
  });

  it('marks equality delete files with their content and equality ids', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }]);
    const w = new RollingFileWriter(settings('eq'), schema.fields, DataFileContent.EQUALITY_DELETES, 0, [], '', [1]);
    w.write([1n]);
    const [file] = await w.close();
    assert.equal(file?.content, DataFileContent.EQUALITY_DELETES);
    assert.deepEqual(file?.equalityIds, [1]);
    assert.equal(file?.sortOrderId, undefined);
  });

  it('a failed upload surfaces from close()', async () => {
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }]);
    const w = new RollingFileWriter(
      { ...settings('fail'), dataLocation: 'relative/not-a-uri' },
      schema.fields,
      DataFileContent.DATA,
      0,
      [],
      '',
    );
    w.write([1n]);
    await assert.rejects(w.close(), (e: unknown) => (e as { code?: string }).code === 'config_invalid');
  });
});

describe('RowBuffer', () => {
  it('builds an Arrow table with the rows in column order', () => {
    const schema = schemaFromDecls([{ name: 'a', type: T.int }, { name: 'b', type: T.string }]);
    const rb = new RowBuffer(schema.fields);
    rb.append([1, 'x']);
    rb.append([null, 'y']);
    assert.equal(rb.rowCount, 2);
    assert.ok(rb.byteSize > 0);
    const t = rb.toArrow();
    assert.equal(t.numRows, 2);
    assert.deepEqual(t.toArray().map((r) => r.toJSON() as unknown), [{ a: 1, b: 'x' }, { a: null, b: 'y' }]);
  });
});

describe('RowBuffer keeps columns aligned', () => {
  it('a row that fails in a later column leaves no value behind in earlier columns', () => {
    const buf = new RowBuffer([
      { id: 1, name: 'a', required: true, type: T.long },
      { id: 2, name: 'b', required: false, type: T.int },
    ]);
    buf.append([1n, 1]);
    assert.throws(() => buf.append([2n, 'bad']));
    buf.append([3n, 3]);
    assert.deepEqual(buf.columns.map((c) => c.length), [2, 2]);
    const t = buf.toArrow();
    assert.deepEqual([...t.getChild('a')!].map(String), ['1', '3']);
  });
});

describe('reading files with several row groups', () => {
  it('arrowValue finds timestamps in later chunks exactly', () => {
    const buf = new RowBuffer([{ id: 1, name: 'ts', required: true, type: T.timestamp }]);
    for (let i = 0; i < 3000; i++) buf.append([1_700_000_000_000_001n + BigInt(i)]);
    const t = decodeParquet(encodeParquet(buf.toArrow(), 'zstd', 1000));
    const col = t.getChildAt(0)!;
    assert.ok(col.data.length > 1, 'expected several chunks');
    assert.equal(arrowValue(T.timestamp, col, 2500), 1_700_000_000_002_501n);
  });
});
