// Proves Committer.commit keeps every table's error: several failed table commits become one FloeError naming each table and error (the errors in its cause and details), coded by the most decisive failure (fenced, then not retriable, then the first), while the other tables still commit; one failure is thrown as it is.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer, tableCommitsFailed } from '../../src/commit/committer.js';
import { storedOffsets } from '../../src/commit/offsets.js';
import { FloeError } from '../../src/errors.js';
import type { TableRequirement, TableUpdate } from '../../src/iceberg/table-metadata.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { SealedTable, ShapeMsg } from '../../src/worker/worker-core.js';

/** The committer's cycle as the pipeline sees it: reports, or the one error of every table that failed. */
async function commitOrThrow(committer: Committer, windows: readonly SealedTable[]) {
  const r = await committer.commit(windows);
  if (r.failed.length > 0) throw tableCommitsFailed(r.failed);
  return r;
}

const SHAPE: ShapeMsg = { columns: [{ name: 'id', type: 'long', required: true }], keyColumns: ['id'] };

/** A window that only moves offsets (replayed or ignored records): `expected` is where this process started. */
function sealed(name: string, tp: string, expected: number | null, next: number): SealedTable {
  return {
    name, dataFiles: [], deleteFiles: [], truncated: false, evolvedSchema: null, window: [[tp, next]], expected: [[tp, expected]], rows: 0, deletedKeys: 0,
    targetDataFiles: [], positionDeletedKeys: [], deletedPositions: [], repairedKeys: [], repairedRows: 0, repairExamples: [], ops: {}, newestEventMs: null, writtenAtMs: Date.now(), indexKeys: 0, indexBytes: 0,
  };
}

describe('Committer.commit with failing tables', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-committer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A committer on an embedded catalog whose commits to the tables in `failures` throw the given error. */
  async function setup(name: string, failures: Record<string, () => unknown>) {
    const sql = new SqlCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io: new LocalFileIO() });
    const catalog = Object.create(sql) as SqlCatalog;
    catalog.commitTable = async (t: LoadedTable, req: readonly TableRequirement[], upd: readonly TableUpdate[]) => {
      const fail = failures[t.identifier.name];
      if (fail !== undefined) throw fail();
      return sql.commitTable(t, req, upd);
    };
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {}, tables: {} });
    for (const t of ['a', 'b', 'c', 'd']) await committer.table({ namespace: ['shop'], name: t }, SHAPE);
    return { sql, committer };
  }

  it('names every failed table and error, codes the combined error commit_fenced when one table was fenced, and commits the others', async () => {
    const bad = new FloeError('catalog_bad_request', 'REST catalog POST /v1/tables/b failed: HTTP 400 bad');
    const { sql, committer } = await setup('mixed', {
      b: () => bad,
      c: () => new FloeError('catalog_unreachable', 'REST catalog unreachable: ECONNREFUSED'),
    });
    // a: this process started from offset 3, but the table holds none: a zombie, fenced.
    const windows = [sealed('shop.a', 't/0', 3, 9), sealed('shop.b', 't/1', null, 5), sealed('shop.c', 't/2', null, 5), sealed('shop.d', 't/3', null, 7)];
    await assert.rejects(commitOrThrow(committer, windows), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'commit_fenced');
      assert.equal(e.retry, 'never');
      assert.match(e.message, /^commits to 3 tables failed: shop\.a: partition t\/0 was committed to this table by another consumer .*; shop\.b: REST catalog POST \/v1\/tables\/b failed: HTTP 400 bad; shop\.c: REST catalog unreachable: ECONNREFUSED$/);
      assert.deepEqual(e.details.tables, ['shop.a', 'shop.b', 'shop.c']);
      assert.deepEqual((e.details.failures as { table: string; code: string }[]).map((f) => [f.table, f.code]), [['shop.a', 'commit_fenced'], ['shop.b', 'catalog_bad_request'], ['shop.c', 'catalog_unreachable']]);
      assert.ok(e.cause instanceof AggregateError);
      assert.equal(e.cause.errors.length, 3);
      assert.ok(e.cause.errors.includes(bad));
      return true;
    });
    // The table that could commit did.
    assert.deepEqual(storedOffsets((await sql.loadTable({ namespace: ['shop'], name: 'd' })).metadata, 'g'), { t: { '3': 7 } });
  });

  it('is retriable only when every failure is: a failure retrying cannot fix decides the code', async () => {
    const { committer } = await setup('classes', {
      a: () => new FloeError('catalog_unreachable', 'unreachable a'),
      b: () => new FloeError('catalog_server_error', 'HTTP 503 b'),
      c: () => new FloeError('catalog_auth_failed', 'HTTP 403 c'),
    });
    await assert.rejects(commitOrThrow(committer, [sealed('shop.a', 't/0', null, 1), sealed('shop.b', 't/1', null, 1)]), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'catalog_unreachable');
      assert.equal(e.retry, 'transient');
      return true;
    });
    await assert.rejects(commitOrThrow(committer, [sealed('shop.a', 't/0', null, 1), sealed('shop.b', 't/1', null, 1), sealed('shop.c', 't/2', null, 1)]), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'catalog_auth_failed');
      assert.equal(e.retry, 'never');
      assert.match(e.message, /shop\.a: unreachable a; shop\.b: HTTP 503 b; shop\.c: HTTP 403 c$/);
      return true;
    });
  });

  it('counts an unclassified error as one retrying cannot fix', async () => {
    const { committer } = await setup('unclassified', {
      a: () => new FloeError('catalog_unreachable', 'unreachable a'),
      b: () => new TypeError('x is undefined'),
    });
    await assert.rejects(commitOrThrow(committer, [sealed('shop.a', 't/0', null, 1), sealed('shop.b', 't/1', null, 1)]), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'assertion_failed');
      assert.match(e.message, /shop\.b: x is undefined$/);
      return true;
    });
  });

  it('throws a single failure as it is', async () => {
    const only = new FloeError('catalog_server_error', 'HTTP 503');
    const { committer } = await setup('single', { b: () => only });
    await assert.rejects(commitOrThrow(committer, [sealed('shop.a', 't/0', null, 1), sealed('shop.b', 't/1', null, 1)]), (e: unknown) => e === only);
  });
});
