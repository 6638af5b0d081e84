/**
 * Writer ceiling: rows of the field-notes CDC table (12 columns: bigint id, six varchars, int, DECIMAL(12,2),
 * double, boolean, two datetimes) → floe's column builders → Parquet (parquet-wasm) per codec.
 * Prints per-stage µs/row and rows/s; run: `npm run build && node dist/native-bench/writer.bench.js [rows]`.
 */
import { performance } from 'node:perf_hooks';
import { schemaFromDecls } from '../src/iceberg/schema.js';
import { T } from '../src/iceberg/types.js';
import type { IcebergValue } from '../src/iceberg/values.js';
import { RowBuffer } from '../src/writer/file-writer.js';
import { encodeParquet, type ParquetCodec } from '../src/writer/parquet.js';

const rows = Number(process.argv[2] ?? 200_000);
const schema = schemaFromDecls(
  [
    { name: 'id', type: T.long, required: true },
    { name: 'name', type: T.string }, { name: 'email', type: T.string }, { name: 'city', type: T.string },
    { name: 'street', type: T.string }, { name: 'status', type: T.string }, { name: 'note', type: T.string },
    { name: 'qty', type: T.int }, { name: 'price', type: T.decimal(12, 2) }, { name: 'score', type: T.double },
    { name: 'active', type: T.boolean }, { name: 'created_at', type: T.timestamp }, { name: 'updated_at', type: T.timestamp },
  ],
  ['id'],
);

const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
function str(n: number, len: number): string {
  let s = '';
  for (let i = 0; s.length < len; i++) s += (words[(n + i * 7) % words.length] ?? 'x') + ' ';
  return s.slice(0, len);
}
const data: (IcebergValue | null)[][] = [];
for (let n = 0; n < rows; n++) {
  data.push([
    BigInt(n), str(n, 24), `${str(n, 12).replace(/ /g, '.')}@example.com`, str(n * 3, 20), str(n * 5, 40), n % 3 === 0 ? 'shipped' : 'new',
    n % 10 === 0 ? null : str(n * 11, 60), n % 1000, BigInt(n % 100000) * 7n, n / 7, n % 2 === 0,
    1_700_000_000_000_000n + BigInt(n) * 1_000_000n, n % 4 === 0 ? null : 1_700_000_100_000_000n + BigInt(n),
  ]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const repeats = 5;
const build: number[] = [];
const encode: Record<ParquetCodec, number[]> = { zstd: [], snappy: [], gzip: [], lz4: [], uncompressed: [] };
let size: Record<string, number> = {};
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  const buf = new RowBuffer(schema.fields);
  for (const row of data) buf.append(row);
  const table = buf.toArrow();
  build.push(performance.now() - t0);
  for (const codec of ['zstd', 'snappy', 'uncompressed'] as const) {
    const t1 = performance.now();
    const bytes = encodeParquet(table, codec);
    encode[codec].push(performance.now() - t1);
    size = { ...size, [codec]: bytes.length };
  }
}
const us = (ms: number) => ((ms * 1000) / rows).toFixed(2);
const out = {
  rows,
  buildUsPerRow: us(median(build)),
  zstdUsPerRow: us(median(encode.zstd)),
  snappyUsPerRow: us(median(encode.snappy)),
  uncompressedUsPerRow: us(median(encode.uncompressed)),
  rowsPerSecBuildPlusZstd: Math.round(rows / ((median(build) + median(encode.zstd)) / 1000)),
  parquetBytes: size,
  bytesPerRowZstd: ((size.zstd ?? 0) / rows).toFixed(1),
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
