// Proves the bootstrap that writes keys as canonical bytes straight from the decoded key columns (string, composite (long, string) and (int, string) keys: UUID-like, empty, non-ASCII, astral, long) builds the same index as reading the key values: every key at the same file and position, rows per file, the deleted rows left out, duplicate keys found with the same repairs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { scanLive } from '../../src/iceberg/scan.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { valuesKey, type IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { buildKeyIndex, buildKeyIndexByValues } from '../../src/worker/index-build.js';
import { DataWriter, PositionDeleteWriter } from '../../src/writer/partitioned-writer.js';
import { settingsFor } from '../support/table-ops.js';

type Row = (IcebergValue | null)[];

const at = (l: { file: { path: string }; pos: number } | undefined): string => (l === undefined ? '-' : `${l.file.path}#${l.pos}`);

describe('bootstrap by canonical key bytes', () => {
  let dir = '';
  let catalog: SqlCatalog;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-keybytes-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    await catalog.createNamespace(['ns']);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const strings = (i: number): string => [`${(i * 2654435761 >>> 0).toString(16)}-uuid-like-${i}`, '', 'Zoë', '李雷', '😀 astral', 'x'.repeat(300) + String(i), "O'Brien \\ \"q\""][i % 7] + (i % 7 === 1 ? '' : `#${i}`);

  async function table(name: string, decls: Parameters<typeof schemaFromDecls>[0], key: string[], rows: (i: number) => Row, n: number): Promise<LoadedTable> {
    const schema = schemaFromDecls(decls, key);
    let t = await catalog.createTable({ namespace: ['ns'], name }, { schema, formatVersion: 2 });
    // Three appends; the third repeats some keys of the first (a writer that does not upsert: duplicates).
    for (const part of [[0, n / 2], [n / 2, n], [0, n / 10]] as const) {
      const w = new DataWriter(settingsFor(t), currentSchema(t.metadata), defaultSpec(t.metadata));
      for (let i = part[0]; i < part[1]; i++) w.write(rows(i));
      const tx = new Transaction(catalog, t);
      tx.addDataFiles(await w.close());
      t = (await tx.commit()).table;
    }
    // Position deletes of every 5th live row of the first file.
    const live: { path: string; pos: number }[] = [];
    await scanLive(t, currentSchema(t.metadata).fields, (file, pos) => live.push({ path: file.filePath, pos }));
    const first = live[0]?.path ?? '';
    const pw = new PositionDeleteWriter(settingsFor(t), currentSchema(t.metadata), defaultSpec(t.metadata));
    for (const l of live.filter((x) => x.path === first && x.pos % 5 === 0)) pw.delete(l.path, BigInt(l.pos), []);
    const tx = new Transaction(catalog, t);
    tx.addDeleteFiles(await pw.close()).requireDataFiles([first]);
    return (await tx.commit()).table;
  }

  async function same(t: LoadedTable, keyIds: number[]): Promise<number> {
    const keyFields = keyIds.map((id) => currentSchema(t.metadata).fieldOrThrow(id));
    const fast = await buildKeyIndex(t, keyFields);
    // The path that reads values: the reference (an equality-delete-free table takes it only when the fast one refuses).
    const slow = await buildKeyIndexByValues(t, keyFields);
    const keys: Row[] = [];
    await scanLive(t, keyFields, (_f, _p, values) => keys.push([...values]));
    for (const k of keys) assert.equal(at(fast.index.get(k)), at(slow.index.get(k)), `key ${valuesKey(k)}`);
    assert.equal(fast.index.size, slow.index.size);
    assert.equal(fast.rows, slow.rows);
    for (const p of slow.index.filePaths()) assert.equal(fast.index.rowsIn(p), slow.index.rowsIn(p), p);
    assert.deepEqual(fast.repairs.map((r) => `${valuesKey(r.key)}@${at(r)}`).sort(), slow.repairs.map((r) => `${valuesKey(r.key)}@${at(r)}`).sort());
    assert.ok(fast.duplicateKeys > 0 && fast.duplicateKeys === slow.duplicateKeys, `duplicates ${fast.duplicateKeys}`);
    return fast.index.size;
  }

  it('a string key', async () => {
    const t = await table('s', [{ name: 'id', type: T.string, required: true }, { name: 'v', type: T.int }], ['id'], (i) => [strings(i), i], 2000);
    assert.ok((await same(t, [1])) > 1500);
  });

  it('composite keys: (long, string) and (int, string)', async () => {
    const a = await table('ls', [{ name: 'id', type: T.long, required: true }, { name: 'tag', type: T.string, required: true }, { name: 'v', type: T.int }], ['id', 'tag'], (i) => [BigInt(i % 300) * -3_000_000_000n, strings(i), i], 2000);
    await same(a, [1, 2]);
    const b = await table('is', [{ name: 'id', type: T.int, required: true }, { name: 'tag', type: T.string, required: true }, { name: 'v', type: T.int }], ['id', 'tag'], (i) => [(i % 300) - 150, strings(i), i], 2000);
    await same(b, [1, 2]);
  });
});
