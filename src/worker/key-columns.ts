/**
 * A data file's key columns as the index's canonical key bytes, for a bootstrap that inserts keys without making
 * a value per row (index-bootstrap.ts; one integer key column is read as raw words: writer/parquet-int-column.ts).
 * Reads only those columns (Parquet column chunks are read by field id, spec: "Column Projection": Parquet
 * columns map to table fields by `field_id`).
 */
import { isUtf8 } from 'node:buffer';
import * as arrow from 'apache-arrow';
import { decodeParquetColumns } from '../writer/parquet.js';
import { KeyBytes } from './pk-key-bytes.js';

/** Why a file's key columns cannot be read this way; the bootstrap then reads the table the general way. */
export type KeyWordsRefusal = 'column_missing' | 'not_an_integer' | 'has_nulls' | 'not_utf8';

/** Every row's key as the index's canonical bytes (pk-key-bytes.ts): row i is `bytes[ends[i - 1], ends[i])`. */
export interface KeyRows {
  readonly rows: number;
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}

/** Where a key column's reading is: its record batch, the rows before it, and views of its values. */
interface ColumnCursor {
  readonly chunks: readonly arrow.Data[];
  chunk: number;
  base: number;
  end: number;
  offset: number;
  offsets: Int32Array<ArrayBufferLike>;
  bytes: Uint8Array<ArrayBufferLike>;
  words: Int32Array<ArrayBufferLike>;
}

/** Key columns a bootstrap writes as canonical bytes straight from the decoded columns. */
export type KeyColumnKind = 'int' | 'long' | 'string';

/**
 * The keys of the Parquet file `bytes` over the key columns `fields` (in key order; `int`, `long` or `string`
 * columns, no nulls) as canonical key bytes, exactly as `KeyBytes.encode` writes the values a reader would make
 * of them: integers zigzag, strings as their UTF-8 bytes. A string column whose bytes are not well-formed UTF-8
 * (a reader would decode them to U+FFFD, other bytes) is refused like a missing column: the caller reads values.
 */
export async function readKeyRows(bytes: Uint8Array, fields: readonly { readonly id: number; readonly kind: KeyColumnKind }[]): Promise<KeyRows | KeyWordsRefusal> {
  const t = await decodeParquetColumns(bytes, fields.map((f) => f.id));
  const cols: arrow.Vector[] = [];
  for (const f of fields) {
    const i = t.schema.fields.findIndex((x) => x.metadata.get('PARQUET:field_id') === String(f.id));
    const col = i < 0 ? null : t.getChildAt(i);
    if (col === null) return 'column_missing';
    if (col.nullCount > 0) return 'has_nulls';
    const type = col.type as arrow.DataType;
    const ok = f.kind === 'string' ? arrow.DataType.isUtf8(type) : arrow.DataType.isInt(type) && type.isSigned && type.bitWidth === (f.kind === 'int' ? 32 : 64);
    if (!ok) return 'not_an_integer';
    cols.push(col);
  }
  const rows = t.numRows;
  const key = new KeyBytes();
  let out = new Uint8Array(Math.max(1024, rows * 16));
  const ends = new Uint32Array(rows);
  let at = 0;
  // Per column, its record batches in order, the row where the current one starts, and views of its values.
  const cursor: ColumnCursor[] = cols.map((c) => ({ chunks: c.data, chunk: -1, base: 0, end: 0, offset: 0, offsets: new Int32Array(0), bytes: new Uint8Array(0), words: new Int32Array(0) }));
  for (let r = 0; r < rows; r++) {
    key.reset();
    for (let c = 0; c < cols.length; c++) {
      const cur = cursor[c] as ColumnCursor;
      while (r >= cur.end) {
        cur.chunk++;
        const data = cur.chunks[cur.chunk] as arrow.Data;
        cur.base = cur.end;
        cur.end += data.length;
        cur.offset = data.offset;
        if (data.valueOffsets !== undefined && data.valueOffsets !== null) cur.offsets = data.valueOffsets as Int32Array;
        const v = data.values as Uint8Array | Int32Array | BigInt64Array;
        if (v instanceof Uint8Array) cur.bytes = v;
        else cur.words = new Int32Array(v.buffer, v.byteOffset, v.byteLength / 4);
      }
      const j = cur.offset + r - cur.base;
      const kind = (fields[c] as { kind: KeyColumnKind }).kind;
      if (kind === 'string') {
        const s0 = cur.offsets[j] as number;
        const e0 = cur.offsets[j + 1] as number;
        // arrow-rs refuses to read or write invalid UTF-8 today; checked per value all the same (bytes valid only
        // together, a character cut between two values, are not a value's string), as the index's bytes must be
        // what `encode` makes of the string a reader decodes.
        if (!isUtf8(cur.bytes.subarray(s0, e0))) return 'not_utf8';
        key.appendUtf8(cur.bytes, s0, e0);
      } else if (kind === 'int') {
        const v = cur.words[j] as number;
        key.appendInt64(v < 0 ? -1 : 0, v >>> 0);
      } else {
        key.appendInt64(cur.words[2 * j + 1] as number, cur.words[2 * j] as number);
      }
    }
    if (at + key.length > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, at + key.length));
      grown.set(out.subarray(0, at));
      out = grown;
    }
    out.set(key.bytes.subarray(0, key.length), at);
    at += key.length;
    ends[r] = at;
  }
  return { rows, bytes: out.subarray(0, at), ends };
}
