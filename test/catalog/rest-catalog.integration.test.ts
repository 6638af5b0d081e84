// Proves the REST catalog client against SeaweedFS's Iceberg REST catalog: namespace and table listings (and `floe verify`'s walk and check over them), concurrent writers both land through 409 → reload → retry, a 5xx or lost response on commit resolves to exactly one snapshot, and bad credentials, unreachable catalogs and denied S3 writes fail with clear, classified errors.
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable } from '../../src/catalog/catalog.js';
import type { RestCatalog } from '../../src/catalog/rest-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import { FloeError } from '../../src/errors.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { DataWriter } from '../../src/writer/partitioned-writer.js';
import { catalogTables, verifyTable } from '../../src/verify/verify.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { env, integration, restCatalog, s3FileIO, skipReason } from '../support/harness.js';
import { settingsFor } from '../support/table-ops.js';

const ns = `rc_${randomBytes(4).toString('hex')}`;
const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'who', type: T.string }], ['id']);

async function appendOne(catalog: RestCatalog, table: LoadedTable, id: bigint, who: string) {
  const w = new DataWriter(settingsFor(table), schema, table.metadata.specs[0]!);
  w.write([id, who]);
  return new Transaction(catalog, table).addDataFiles(await w.close()).commit({ backoffBaseMs: 20 });
}

describe('REST catalog on SeaweedFS', { skip: integration ? false : skipReason }, () => {
  let catalog: RestCatalog;
  before(async () => {
    catalog = restCatalog();
    await catalog.createNamespace([ns]);
  });
  after(async () => {
    await catalog?.close();
  });

  it('two writers committing concurrently both land (409 → reload → retry)', async () => {
    const id = { namespace: [ns], name: 'concurrent' };
    await catalog.createTable(id, { schema });
    const a = restCatalog();
    const b = restCatalog();
    // Both load the same base snapshot, so one of the two commits must conflict and retry.
    const [ta, tb] = await Promise.all([a.loadTable(id), b.loadTable(id)]);
    const results = await Promise.all([
      (async () => Promise.all(Array.from({ length: 3 }, (_v, k) => appendOne(a, ta, BigInt(k), 'a'))))(),
      (async () => Promise.all(Array.from({ length: 3 }, (_v, k) => appendOne(b, tb, BigInt(100 + k), 'b'))))(),
    ]);
    const attempts = results.flat().map((r) => r.attempts);
    assert.ok(attempts.some((n) => n > 1), `expected at least one retried commit, attempts ${attempts.join(',')}`);
    const t = await catalog.loadTable(id);
    assert.equal(t.metadata.snapshots.length, 6);
    assert.deepEqual(t.metadata.snapshots.map((s) => s.sequenceNumber).sort((x, y) => Number(x - y)), [1n, 2n, 3n, 4n, 5n, 6n]);
    const rows = (await scanTable(t)).map((r) => r.id as bigint).sort((x, y) => Number(x - y));
    assert.deepEqual(rows, [0n, 1n, 2n, 100n, 101n, 102n]);
  });

  it('lists namespaces and tables; floe verify walks them and checks a table', async () => {
    const ids = ['list_b', 'list_a'].map((name) => ({ namespace: [ns], name }));
    for (const id of ids) await catalog.createTable(id, { schema });
    await appendOne(catalog, await catalog.loadTable(ids[1]!), 1n, 'x');
    assert.ok((await catalog.listNamespaces()).some((n) => n.length === 1 && n[0] === ns));
    const names = (await catalog.listTables([ns])).map((t) => t.name);
    assert.deepEqual(names.filter((n) => n.startsWith('list_')), ['list_a', 'list_b']);
    // The walk asks for each namespace's children too (`parent`), which SeaweedFS answers or refuses with 400.
    const walked: string[] = [];
    for await (const e of catalogTables(catalog)) {
      if ('error' in e) assert.fail(`namespace ${e.namespace.join('.')}: ${e.error}`);
      if (e.table.namespace[0] === ns) walked.push(e.table.name);
    }
    assert.deepEqual(walked, names);
    const r = await verifyTable(catalog, ids[1]!);
    assert.equal(r.status, 'ok', r.error);
    assert.deepEqual([r.rows, r.distinctKeys, r.duplicateKeys, r.files?.dataFiles], [1, 1, 0, 1]);
  });

  for (const fault of ['forward-then-502', 'forward-then-hangup', 'drop-503'] as const) {
    it(`a commit answered by "${fault}" resolves to exactly one snapshot`, async () => {
      const proxy = new FaultProxy(new URL(env('FLOE_REST_URI')));
      const uri = await proxy.start();
      try {
        const c = restCatalog({ uri, requestTimeoutMs: 5_000 });
        const id = { namespace: [ns], name: `fault_${fault.replace(/-/g, '_')}` };
        const created = await c.createTable(id, { schema });
        proxy.inject(fault);
        const res = await appendOne(c, created, 1n, fault);
        const t = await catalog.loadTable(id);
        assert.equal(t.metadata.snapshots.length, 1, 'exactly one snapshot, never a duplicate');
        assert.equal(t.metadata.snapshots[0]!.snapshotId, res.snapshot!.snapshotId);
        assert.deepEqual((await scanTable(t)).map((r) => r.id), [1n]);
        // forward-*: the first attempt reached the catalog and the reload found it; drop-503: only the retry did.
        assert.equal(proxy.commitsForwarded, 1, 'the catalog received the commit exactly once');
      } finally {
        await proxy.stop();
      }
    });
  }

  it('an unreachable catalog fails with catalog_unreachable naming the URI', async () => {
    const c = restCatalog({ uri: 'http://127.0.0.1:9', readAttemptsMax: 1, requestTimeoutMs: 2_000 });
    await assert.rejects(c.loadTable({ namespace: [ns], name: 'x' }), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.code, 'catalog_unreachable');
      assert.match(e.message, /127\.0\.0\.1:9/);
      return true;
    });
  });

  it('a wrong secret key is rejected by the REST catalog (SigV4 verified) with catalog_auth_failed', { skip: process.env.FLOE_REST_SIGV4 !== 'true' }, async () => {
    const c = restCatalog({ secretAccessKey: 'wrong-secret-key' });
    await assert.rejects(c.loadTable({ namespace: [ns], name: 'concurrent' }), (e: unknown) => {
      assert.ok(e instanceof FloeError, String(e));
      assert.equal(e.code, 'catalog_auth_failed');
      assert.match(e.message, /HTTP 40[13]/);
      return true;
    });
  });

  it('an S3 write with a wrong key fails with io_access_denied naming the path', async () => {
    const io = s3FileIO({ secretAccessKey: 'wrong-secret-key' });
    const path = `${env('FLOE_REST_WAREHOUSE')}/${ns}/concurrent/data/denied.parquet`;
    await assert.rejects(io.write(path, new Uint8Array([1, 2, 3])), (e: unknown) => {
      assert.ok(e instanceof FloeError, String(e));
      assert.equal(e.code, 'io_access_denied');
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
  });
});
