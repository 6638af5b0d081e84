/**
 * A data file's integer key column as raw 32-bit words, for a bootstrap that inserts keys without making a value
 * per row (index-bootstrap.ts). Reads only that column (Parquet column chunks are read by field id, spec:
 * "Column Projection": Parquet columns map to table fields by `field_id`).
 */
import * as arrow from 'apache-arrow';
import { decodeParquetColumns } from '../writer/parquet.js';

/** A key column as words: `int32` one word a row (an int column), else two (a long column: low word, then high). */
export interface KeyWords {
  readonly words: Int32Array;
  readonly rows: number;
  readonly int32: boolean;
}

/** Why a file's key column cannot be read as words; the bootstrap then reads the table the general way. */
export type KeyWordsRefusal = 'column_missing' | 'not_an_integer' | 'has_nulls';

/**
 * The key column `fieldId` of the Parquet file `bytes`. A file written before the key column existed has no such
 * column, and a key column with nulls is not one key per row: both are refused (the caller reads the values).
 */
export async function readKeyWords(bytes: Uint8Array, fieldId: number): Promise<KeyWords | KeyWordsRefusal> {
  const t = await decodeParquetColumns(bytes, [fieldId]);
  const i = t.schema.fields.findIndex((f) => f.metadata.get('PARQUET:field_id') === String(fieldId));
  const col = i < 0 ? null : t.getChildAt(i);
  if (col === null) return 'column_missing';
  const type = col.type as arrow.DataType;
  if (!arrow.DataType.isInt(type) || !type.isSigned || (type.bitWidth !== 32 && type.bitWidth !== 64)) return 'not_an_integer';
  if (col.nullCount > 0) return 'has_nulls';
  const int32 = type.bitWidth === 32;
  const perRow = int32 ? 1 : 2;
  const words = new Int32Array(col.length * perRow);
  let at = 0;
  // One copy of each record batch's values: the decoded table is freed with its batches.
  for (const data of col.data) {
    const v = (data.values as Int32Array | BigInt64Array).subarray(data.offset, data.offset + data.length);
    words.set(new Int32Array(v.buffer, v.byteOffset, data.length * perRow), at);
    at += data.length * perRow;
  }
  return { words, rows: col.length, int32 };
}
