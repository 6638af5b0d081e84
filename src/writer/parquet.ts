/**
 * Arrow → Parquet through parquet-wasm (arrow-rs compiled to wasm). The Arrow table travels as IPC stream
 * bytes into wasm memory; field metadata `PARQUET:field_id` becomes the Parquet schema's field_id.
 */
import * as arrow from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, WriterVersion, readParquet, writeParquet } from 'parquet-wasm';
import { FloeError } from '../errors.js';

export type ParquetCodec = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'uncompressed';

export const PARQUET_DEFAULTS = Object.freeze({
  codec: 'zstd',
  rowGroupRowsMax: 1_000_000,
  dataPageBytes: 1024 * 1024,
});

const codecs: Readonly<Record<ParquetCodec, Compression>> = {
  zstd: Compression.ZSTD,
  snappy: Compression.SNAPPY,
  gzip: Compression.GZIP,
  lz4: Compression.LZ4_RAW,
  uncompressed: Compression.UNCOMPRESSED,
};

export function parseCodec(s: string, field: string): ParquetCodec {
  const c = s.toLowerCase();
  if (c in codecs) return c as ParquetCodec;
  throw new FloeError('config_invalid', `${field}: unknown Parquet codec "${s}" (use zstd, snappy, gzip, lz4, uncompressed)`, { field });
}

export function encodeParquet(table: arrow.Table, codec: ParquetCodec, rowGroupRowsMax: number = PARQUET_DEFAULTS.rowGroupRowsMax): Uint8Array {
  const props = new WriterPropertiesBuilder()
    .setCompression(codecs[codec])
    .setWriterVersion(WriterVersion.V1)
    .setMaxRowGroupSize(rowGroupRowsMax)
    .setDataPageSizeLimit(PARQUET_DEFAULTS.dataPageBytes)
    .setCreatedBy('floe')
    .build();
  const ipc = arrow.tableToIPC(table, 'stream');
  const wasmTable = WasmTable.fromIPCStream(ipc);
  return writeParquet(wasmTable, props);
}

/** Reads a Parquet file back into Arrow (tests, index bootstrap). */
export function decodeParquet(bytes: Uint8Array): arrow.Table {
  const wasmTable = readParquet(bytes);
  return arrow.tableFromIPC(wasmTable.intoIPCStream());
}
