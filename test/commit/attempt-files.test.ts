// Proves that files of commit attempts that cannot land are deleted (and retries are counted by cause), and never those of an attempt that may: after 409s the failed attempts' manifest lists (and, for deletion vectors, their Puffin files and manifests) go once the transaction lands; a transaction that fails for good (attempts exhausted, fenced on a retry) deletes everything it wrote, a few files at a time; after an unknown commit state its files stay while the attempt may still land, and go once main has moved past its parent; an attempt that did land is kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { liveEntries, readManifestFiles } from '../../src/iceberg/snapshot-files.js';
import { FloeError } from '../../src/errors.js';
import { DataFileContent } from '../../src/iceberg/data-file.js';
import { readManifest } from '../../src/iceberg/manifest.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { Schema } from '../../src/iceberg/schema.js';
import { currentSchema, specsById, type TableRequirement, type TableUpdate } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { DataWriter } from '../../src/writer/partitioned-writer.js';

/** Local files, with every write and delete of table files recorded while `recording` (not the catalog's metadata files). */
class CountingIO extends LocalFileIO {
  recording = true;
  readonly written: string[] = [];
  readonly deleted: string[] = [];
  override async write(path: string, bytes: Uint8Array): Promise<void> {
    if (this.recording && !path.endsWith('.metadata.json')) this.written.push(path);
    await super.write(path, bytes);
  }
  private deletesInFlight = 0;
  deletesInFlightMax = 0;
  override async delete(path: string): Promise<void> {
    if (this.recording) this.deleted.push(path);
    this.deletesInFlightMax = Math.max(this.deletesInFlightMax, ++this.deletesInFlight);
    try {
      await super.delete(path);
    } finally {
      this.deletesInFlight--;
    }
  }
  reset(): void {
    this.written.length = 0;
    this.deleted.length = 0;
  }
}

type Step = 'ok' | 'conflict' | 'unknown' | 'landed-unknown' | 'unknown-main-moves';

const SCHEMA = new Schema(0, [{ id: 1, name: 'id', required: true, type: T.long }], [1]);

describe('files of commit attempts', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-attempts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A table with one data file of rows 1..3, and a catalog whose commits follow `steps` (then succeed): a
   * conflict or an unknown state without applying, an unknown state after applying, or an unknown state while
   * another writer moves main.
   */
  async function setup(name: string, formatVersion: 2 | 3, steps: Step[]) {
    const io = new CountingIO();
    const sql = new SqlCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io });
    const id: TableIdentifier = { namespace: ['db'], name };
    await sql.createNamespace(['db']);
    let t = await sql.createTable(id, { schema: SCHEMA, formatVersion });
    const w = new DataWriter({ io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, SCHEMA, t.metadata.specs[0]!);
    for (const n of [1n, 2n, 3n]) w.write([n]);
    const data = await w.close();
    t = (await new Transaction(sql, t).addDataFiles(data).commit()).table;
    const catalog = Object.create(sql) as SqlCatalog;
    let call = 0;
    catalog.commitTable = async (table: LoadedTable, req: readonly TableRequirement[], upd: readonly TableUpdate[]) => {
      const step = steps[call++] ?? 'ok';
      if (step === 'ok') return sql.commitTable(table, req, upd);
      if (step === 'landed-unknown') {
        await sql.commitTable(table, req, upd);
        throw new FloeError('commit_state_unknown', 'commit outcome unknown: response lost');
      }
      if (step === 'unknown-main-moves') {
        io.recording = false; // another writer's files
        await new Transaction(sql, await sql.loadTable(id)).setOperation('replace').forceSnapshot().commit();
        io.recording = true;
      }
      if (step === 'conflict') throw new FloeError('commit_conflict', 'table was changed by another commit');
      throw new FloeError('commit_state_unknown', 'commit outcome unknown: HTTP 503');
    };
    io.reset();
    return { io, sql, catalog, id, table: t, dataFile: data[0]!.filePath };
  }

  /** Every file the table's snapshots reference: manifest lists, manifests, data and delete files. */
  async function referenced(t: LoadedTable): Promise<Set<string>> {
    const out = new Set<string>();
    for (const s of t.metadata.snapshots) {
      out.add(s.manifestList);
      for (const m of await readManifestFiles(t, s)) {
        out.add(m.manifestPath);
        for (const e of readManifest(await t.io.read(m.manifestPath), m, specsById(t.metadata), currentSchema(t.metadata))) out.add(e.dataFile.filePath);
      }
    }
    return out;
  }

  async function assertIntact(sql: SqlCatalog, id: TableIdentifier): Promise<LoadedTable> {
    const t = await sql.loadTable(id);
    for (const p of await referenced(t)) assert.ok(await t.io.exists(p), `referenced file ${p} exists`);
    return t;
  }

  it('after two 409s the transaction lands: the failed attempts’ manifest lists are deleted, nothing the table references', async () => {
    const { io, sql, catalog, id, table } = await setup('lands', 2, ['conflict', 'conflict']);
    const w = new DataWriter({ io, dataLocation: `${table.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, SCHEMA, table.metadata.specs[0]!);
    w.write([4n]);
    const added = await w.close();
    io.reset();
    const res = await new Transaction(catalog, table).addDataFiles(added).commit({ backoffBaseMs: 1 });
    assert.equal(res.attempts, 3);
    assert.deepEqual(res.retries, { concurrent_commit: 2 }, 'each 409 counted by its cause');
    const lists = io.written.filter((p) => p.includes('/snap-'));
    assert.equal(lists.length, 3);
    assert.deepEqual([...io.deleted].sort(), lists.filter((p) => p !== res.snapshot!.manifestList).sort());
    const t = await assertIntact(sql, id);
    assert.deepEqual((await scanTable(t)).map((r) => r.id).sort(), [1n, 2n, 3n, 4n]);
  });

  it('deletion vectors: each failed attempt’s Puffin files, manifests and manifest list are deleted', async () => {
    const { io, sql, catalog, id, table, dataFile } = await setup('dv', 3, ['conflict', 'conflict']);
    await new Transaction(catalog, table).addDeletionVectors([[dataFile, Float64Array.of(0)]]).commit({ backoffBaseMs: 1 });
    const t = await assertIntact(sql, id);
    assert.deepEqual((await scanTable(t)).map((r) => r.id).sort(), [2n, 3n]);
    const kept = await referenced(t);
    const garbage = io.written.filter((p) => !kept.has(p));
    assert.deepEqual([...io.deleted].sort(), [...garbage].sort());
    assert.equal(garbage.filter((p) => p.endsWith('-deletes.puffin')).length, 2);
    assert.equal(garbage.filter((p) => p.includes('/snap-')).length, 2);
    assert.equal(garbage.filter((p) => p.endsWith('-m0.avro')).length, 2); // the vectors' manifests
    assert.equal((await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.POSITION_DELETES).length, 1);
  });

  it('a transaction that fails for good (409 until the attempts run out) deletes everything it wrote', async () => {
    const { io, sql, catalog, id, table, dataFile } = await setup('exhausted', 3, ['conflict', 'conflict', 'conflict']);
    await assert.rejects(
      new Transaction(catalog, table).addDeletionVectors([[dataFile, Float64Array.of(1)]]).commit({ commitAttemptsMax: 3, backoffBaseMs: 1 }),
      (e: unknown) => e instanceof FloeError && e.code === 'commit_retries_exhausted',
    );
    assert.ok(io.written.length >= 9);
    assert.deepEqual([...io.deleted].sort(), [...io.written].sort());
    assert.ok(io.deletesInFlightMax > 1 && io.deletesInFlightMax <= 8, `deletes in flight: ${io.deletesInFlightMax}`);
    await assertIntact(sql, id);
  });

  it('fenced on a retry: the refused attempt’s files and the shared manifests are deleted', async () => {
    const { io, sql, catalog, id, table } = await setup('fenced', 2, ['conflict']);
    const w = new DataWriter({ io, dataLocation: `${table.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 }, SCHEMA, table.metadata.specs[0]!);
    w.write([5n]);
    const added = await w.close();
    io.reset();
    let n = 0;
    const tx = new Transaction(catalog, table).addDataFiles(added).onAttempt(() => {
      if (++n > 1) throw new FloeError('commit_fenced', 'partition t/0 was committed to this table by another consumer');
      return {};
    });
    await assert.rejects(tx.commit({ backoffBaseMs: 1 }), (e: unknown) => e instanceof FloeError && e.code === 'commit_fenced');
    assert.equal(io.written.length, 2); // the data manifest, one manifest list
    assert.deepEqual([...io.deleted].sort(), [...io.written].sort());
    assert.ok(await io.exists(added[0]!.filePath), 'data files are the caller’s');
    await assertIntact(sql, id);
  });

  it('commit state unknown while main stays: nothing is deleted (an attempt may still land)', async () => {
    const { io, sql, catalog, id, table, dataFile } = await setup('unknown', 3, ['unknown', 'unknown', 'unknown']);
    await assert.rejects(
      new Transaction(catalog, table).addDeletionVectors([[dataFile, Float64Array.of(2)]]).commit({ commitAttemptsMax: 3, backoffBaseMs: 1 }),
      (e: unknown) => e instanceof FloeError && e.code === 'commit_state_unknown',
    );
    assert.ok(io.written.length > 0);
    assert.deepEqual(io.deleted, []);
    await assertIntact(sql, id);
  });

  it('commit state unknown, then main moved past the attempt’s parent: proved not to land, everything is deleted', async () => {
    const { io, sql, catalog, id, table, dataFile } = await setup('moved', 3, ['unknown-main-moves', 'conflict', 'conflict']);
    await assert.rejects(
      new Transaction(catalog, table).addDeletionVectors([[dataFile, Float64Array.of(2)]]).commit({ commitAttemptsMax: 3, backoffBaseMs: 1 }),
      (e: unknown) => e instanceof FloeError && e.code === 'commit_state_unknown',
    );
    assert.ok(io.written.length >= 9);
    assert.deepEqual([...io.deleted].sort(), [...io.written].sort());
    await assertIntact(sql, id);
  });

  it('commit state unknown but it landed: found on reload, its files are kept', async () => {
    const { io, sql, catalog, id, table, dataFile } = await setup('landed', 3, ['landed-unknown']);
    const res = await new Transaction(catalog, table).addDeletionVectors([[dataFile, Float64Array.of(0, 2)]]).commit({ backoffBaseMs: 1 });
    assert.ok(res.snapshot !== null);
    assert.deepEqual(res.retries, { state_unknown: 1 });
    assert.deepEqual(io.deleted, []);
    const t = await assertIntact(sql, id);
    assert.deepEqual((await scanTable(t)).map((r) => r.id), [2n]);
  });
});
