/**
 * One integer column of a Parquet file, read by field id straight out of parquet-wasm's memory: the decoded
 * record batches are exported through the Arrow C Data Interface (arrow.apache.org/docs/format/CDataInterface.html)
 * and their value buffers copied once, where `decodeParquetColumns` serializes them to Arrow IPC in wasm and
 * parses that again in JS. For a 1 M-row `long` key column (ZSTD) the read drops from ~76 ms to ~47 ms, most of
 * what is left being ZSTD itself; an index bootstrap reads nothing else (worker/key-columns.ts).
 *
 * The structs, as laid out in wasm32 (pointers 4 bytes, `int64_t` 8, naturally aligned):
 *   ArrowSchema: format @0, name @4, metadata @8, flags @16, n_children @24, children @32, dictionary @36, ...
 *   ArrowArray:  length @0, null_count @8, offset @16, n_buffers @24, n_children @32, buffers @40, children @44,
 *                dictionary @48, ...
 * A record batch is a struct array ("+s") whose children are its columns; a primitive column's buffers are
 * [validity, values], and a struct's offset applies to its children as well as their own.
 */
import * as arrow from 'apache-arrow';
import { ParquetFile, readSchema, wasmMemory } from 'parquet-wasm';

const ARRAY_LENGTH = 0;
const ARRAY_NULL_COUNT = 8;
const ARRAY_OFFSET = 16;
const ARRAY_N_BUFFERS = 24;
const ARRAY_N_CHILDREN = 32;
const ARRAY_BUFFERS = 40;
const ARRAY_CHILDREN = 44;
const ARRAY_DICTIONARY = 48;
const SCHEMA_FORMAT = 0;
const SCHEMA_N_CHILDREN = 24;
const SCHEMA_CHILDREN = 32;
const POINTER_BYTES = 4;
/** Format strings of the C Data Interface: a struct, a signed 64-bit and a signed 32-bit integer. */
const FORMAT_STRUCT = '+s';
const FORMAT_INT64 = 'l';
const FORMAT_INT32 = 'i';
const FORMAT_BYTES_MAX = 16;

/** The column as words: one a row for an `int` column, two (low, then high) for a `long` one. */
export interface IntColumnWords {
  readonly words: Int32Array;
  readonly rows: number;
  readonly int32: boolean;
}

export type IntColumnRefusal = 'column_missing' | 'not_an_integer' | 'has_nulls';

/** The column with `PARQUET:field_id` `fieldId` of the Parquet file `bytes`, when it is an `int` or `long` column without nulls. */
export async function readIntColumn(bytes: Uint8Array, fieldId: number): Promise<IntColumnWords | IntColumnRefusal> {
  const schema = arrow.tableFromIPC(readSchema(bytes).intoIPCStream()).schema;
  const field = schema.fields.find((f) => f.metadata.get('PARQUET:field_id') === String(fieldId));
  if (field === undefined) return 'column_missing';
  if (!arrow.DataType.isInt(field.type) || !field.type.isSigned || (field.type.bitWidth !== 32 && field.type.bitWidth !== 64)) return 'not_an_integer';
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  let table;
  try {
    table = await file.read({ columns: [field.name] });
  } finally {
    file.free();
  }
  const stream = table.intoFFI();
  try {
    // No wasm call between here and the copies: memory growth would detach this view of the buffer.
    const memory = new DataView(wasmMemory().buffer);
    const u32 = (at: number) => memory.getUint32(at, true);
    const i64 = (at: number) => Number(memory.getBigInt64(at, true));
    const format = (schemaAt: number) => {
      const at = u32(schemaAt + SCHEMA_FORMAT);
      let s = '';
      for (let i = 0; i < FORMAT_BYTES_MAX && memory.getUint8(at + i) !== 0; i++) s += String.fromCharCode(memory.getUint8(at + i));
      return s;
    };
    const top = stream.schemaAddr();
    if (format(top) !== FORMAT_STRUCT || i64(top + SCHEMA_N_CHILDREN) !== 1) return 'not_an_integer';
    const columnFormat = format(u32(u32(top + SCHEMA_CHILDREN)));
    if (columnFormat !== FORMAT_INT64 && columnFormat !== FORMAT_INT32) return 'not_an_integer';
    const int32 = columnFormat === FORMAT_INT32;
    const perRow = int32 ? 1 : 2;
    const chunks = stream.numArrays();
    let rows = 0;
    for (let c = 0; c < chunks; c++) rows += i64(stream.arrayAddr(c) + ARRAY_LENGTH);
    const words = new Int32Array(rows * perRow);
    let at = 0;
    for (let c = 0; c < chunks; c++) {
      const batch = stream.arrayAddr(c);
      if (i64(batch + ARRAY_N_CHILDREN) !== 1) return 'not_an_integer';
      const column = u32(u32(batch + ARRAY_CHILDREN));
      const length = i64(batch + ARRAY_LENGTH);
      if (i64(column + ARRAY_N_BUFFERS) !== 2 || u32(column + ARRAY_DICTIONARY) !== 0) return 'not_an_integer';
      const buffers = u32(column + ARRAY_BUFFERS);
      // null_count may be -1 (not computed): then a validity buffer means there may be nulls.
      const nulls = i64(column + ARRAY_NULL_COUNT);
      if (nulls > 0 || (nulls < 0 && u32(buffers) !== 0)) return 'has_nulls';
      const first = i64(batch + ARRAY_OFFSET) + i64(column + ARRAY_OFFSET);
      const values = u32(buffers + POINTER_BYTES);
      words.set(new Int32Array(memory.buffer, values + first * perRow * 4, length * perRow), at);
      at += length * perRow;
    }
    return { words, rows, int32 };
  } finally {
    stream.free();
  }
}
