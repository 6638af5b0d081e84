// Proves an int or long column read through the Arrow C Data Interface holds exactly the values written (across row groups, with other columns beside it), and that a missing, non-integer or nullable column is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { encodeParquet } from '../../src/writer/parquet.js';
import { readIntColumn } from '../../src/writer/parquet-int-column.js';

const meta = (id: number) => new Map([['PARQUET:field_id', String(id)]]);

function file(columns: Record<string, { vector: arrow.Vector; type: arrow.DataType; id: number; nullable?: boolean }>, rowGroupRowsMax?: number): Uint8Array {
  const fields = Object.entries(columns).map(([name, c]) => new arrow.Field(name, c.type, c.nullable ?? false, meta(c.id)));
  const vectors = Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, c.vector]));
  return encodeParquet(new arrow.Table(new arrow.Schema(fields), vectors), 'zstd', rowGroupRowsMax);
}

describe('readIntColumn', () => {
  it('reads a long column as low and high words, every row group, whatever other columns there are', async () => {
    const n = 10_000;
    const ids = new BigInt64Array(n);
    for (let i = 0; i < n; i++) ids[i] = (BigInt(i) * 0x1_0000_0001n - 5000n) * (i % 2 === 0 ? 1n : -1n);
    const bytes = file({
      name: { vector: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => `n${i}`), new arrow.Utf8()), type: new arrow.Utf8(), id: 1 },
      id: { vector: arrow.makeVector(ids), type: new arrow.Int64(), id: 7 },
    }, 3000);
    const got = await readIntColumn(bytes, 7);
    assert.ok(typeof got !== 'string');
    assert.equal(got.rows, n);
    assert.equal(got.int32, false);
    assert.deepEqual(new BigInt64Array(got.words.buffer, got.words.byteOffset, n), ids);
  });

  it('reads an int column as one word a row', async () => {
    const ids = Int32Array.from({ length: 5000 }, (_, i) => (i * 7919) ^ (i % 3 === 0 ? -1 : 0));
    const bytes = file({ id: { vector: arrow.makeVector(ids), type: new arrow.Int32(), id: 1 } }, 1024);
    const got = await readIntColumn(bytes, 1);
    assert.ok(typeof got !== 'string');
    assert.equal(got.int32, true);
    assert.deepEqual(got.words, ids);
  });

  it('refuses a missing column, a string column and a column with nulls', async () => {
    const strings = file({ id: { vector: arrow.vectorFromArray(['a', 'b'], new arrow.Utf8()), type: new arrow.Utf8(), id: 1 } });
    assert.equal(await readIntColumn(strings, 2), 'column_missing');
    assert.equal(await readIntColumn(strings, 1), 'not_an_integer');
    const nullable = file({ id: { vector: arrow.vectorFromArray([1n, null, 3n], new arrow.Int64()), type: new arrow.Int64(), id: 1, nullable: true } });
    assert.equal(await readIntColumn(nullable, 1), 'has_nulls');
  });

  it('reads a nullable column that holds no null', async () => {
    const bytes = file({ id: { vector: arrow.vectorFromArray([1n, -2n, 3n], new arrow.Int64()), type: new arrow.Int64(), id: 1, nullable: true } });
    const got = await readIntColumn(bytes, 1);
    assert.ok(typeof got !== 'string');
    assert.deepEqual(Array.from(new BigInt64Array(got.words.buffer, 0, 3)), [1n, -2n, 3n]);
  });
});
