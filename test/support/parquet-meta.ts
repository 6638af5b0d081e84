// Reads a Parquet file's footer through parquet-wasm's metadata API: the compression codec of every column chunk.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Compression, ParquetFile } from 'parquet-wasm';

/** Distinct codecs (`SNAPPY`, `ZSTD`, ...) of the column chunks of a local `file://` Parquet file. */
export async function readParquetCodecs(uri: string): Promise<string[]> {
  const bytes = await readFile(fileURLToPath(uri));
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  const meta = file.metadata();
  const out = new Set<string>();
  for (let g = 0; g < meta.numRowGroups(); g++) {
    const rg = meta.rowGroup(g);
    for (let c = 0; c < rg.numColumns(); c++) out.add(Compression[rg.column(c).compression()]);
  }
  return [...out].sort();
}
