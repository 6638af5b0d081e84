// Proves floe's Parquet writer keeps dictionaries only where they stay small: a near-unique column (random long ids) falls back to PLAIN after 64 KiB of dictionary, making the file smaller than arrow-rs's default 1 MiB limit does, while a low-cardinality column stays dictionary-encoded, and the rows read back unchanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { Compression, Encoding, ParquetFile, Table as WasmTable, WriterPropertiesBuilder, WriterVersion, writeParquet } from 'parquet-wasm';
import { decodeParquet, encodeParquet } from '../../src/writer/parquet.js';

const ROWS = 60_000;

function table(): arrow.Table {
  let seed = 3;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const ids = new BigInt64Array(ROWS);
  const regions: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    ids[i] = (BigInt(next()) << 20n) ^ BigInt(i);
    regions.push(['eu', 'us', 'apac', 'latam'][i % 4] as string);
  }
  return new arrow.Table({ id: arrow.makeVector(ids), region: arrow.vectorFromArray(regions, new arrow.Utf8()) });
}

async function encodings(bytes: Uint8Array): Promise<Map<string, string[]>> {
  const meta = (await ParquetFile.fromFile(new Blob([bytes]))).metadata();
  const out = new Map<string, string[]>();
  const rg = meta.rowGroup(0);
  for (let c = 0; c < rg.numColumns(); c++) out.set(rg.column(c).columnPath().join('.'), rg.column(c).encodings().map((e) => Encoding[e]).sort());
  return out;
}

describe('Parquet encoding', () => {
  it('falls back to PLAIN for a near-unique column, keeps the dictionary of a low-cardinality one', async () => {
    const t = table();
    const bytes = encodeParquet(t, 'zstd');
    const enc = await encodings(bytes);
    assert.ok(enc.get('id')?.includes('PLAIN'), `id: ${enc.get('id')?.join(',')}`);
    assert.ok(enc.get('region')?.includes('RLE_DICTIONARY'), `region: ${enc.get('region')?.join(',')}`);
    const full = writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(t, 'stream')), new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setWriterVersion(WriterVersion.V1).build());
    assert.ok(bytes.length < full.length * 0.9, `${bytes.length} bytes against ${full.length} with a 1 MiB dictionary`);
    const back = decodeParquet(bytes);
    assert.equal(back.numRows, ROWS);
    assert.deepEqual(back.getChild('id')!.toArray(), t.getChild('id')!.toArray());
    assert.deepEqual([...back.getChild('region')!].slice(0, 8), ['eu', 'us', 'apac', 'latam', 'eu', 'us', 'apac', 'latam']);
  });
});
