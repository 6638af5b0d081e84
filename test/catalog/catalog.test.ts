// Proves that creating a namespace or table survives what racing replicas meet: another replica's create (409), and a create that failed transiently but landed or raced a half-done create (checked again, never blindly re-created); non-transient failures and exhausted attempts still throw.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CREATE_ATTEMPTS_MAX, createOrLoadTable, ensureNamespace, type Catalog, type CreateTableOptions, type LoadedTable, type TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { FloeError } from '../../src/errors.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';

type Fault = 'server-error-after' | 'server-error-before' | 'bad-request';

/** A real catalog whose creates fail as scripted: after landing (the response was lost), before landing, or for good. */
class FaultyCatalog implements Catalog {
  readonly name = 'faulty';
  creates = 0;
  constructor(
    private readonly inner: SqlCatalog,
    private readonly faults: Fault[],
  ) {}
  private async create<T>(op: () => Promise<T>): Promise<T> {
    this.creates++;
    const f = this.faults.shift();
    if (f === 'bad-request') throw new FloeError('catalog_bad_request', 'HTTP 400');
    if (f === 'server-error-before') throw new FloeError('catalog_server_error', 'HTTP 500 failed to check namespace');
    const r = await op();
    if (f === 'server-error-after') throw new FloeError('catalog_server_error', 'HTTP 503 after the create landed');
    return r;
  }
  createNamespace(ns: readonly string[]): Promise<void> {
    return this.create(() => this.inner.createNamespace(ns));
  }
  namespaceExists(ns: readonly string[]): Promise<boolean> {
    return this.inner.namespaceExists(ns);
  }
  listNamespaces(parent?: readonly string[]): Promise<string[][]> {
    return this.inner.listNamespaces(parent);
  }
  listTables(ns: readonly string[]): Promise<TableIdentifier[]> {
    return this.inner.listTables(ns);
  }
  createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    return this.create(() => this.inner.createTable(id, opts));
  }
  loadTable(id: TableIdentifier): Promise<LoadedTable> {
    return this.inner.loadTable(id);
  }
  tableExists(id: TableIdentifier): Promise<boolean> {
    return this.inner.tableExists(id);
  }
  commitTable(): Promise<LoadedTable> {
    throw new Error('not used');
  }
  dropTable(id: TableIdentifier): Promise<void> {
    return this.inner.dropTable(id);
  }
  async close(): Promise<void> {}
}

const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }], ['id']);
let dir: string;
let inner: SqlCatalog;
let n = 0;
const fresh = (): string => `ns${n++}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'floe-cat-'));
  inner = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
});
after(async () => {
  await inner.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ensureNamespace', () => {
  it('creates a missing namespace once and leaves an existing one alone', async () => {
    const c = new FaultyCatalog(inner, []);
    const ns = [fresh()];
    await ensureNamespace(c, ns);
    await ensureNamespace(c, ns);
    assert.equal(c.creates, 1);
    assert.equal(await inner.namespaceExists(ns), true);
  });

  it('a create that failed transiently but landed is found on the re-check, not created again', async () => {
    const c = new FaultyCatalog(inner, ['server-error-after']);
    const ns = [fresh()];
    await ensureNamespace(c, ns);
    assert.equal(c.creates, 1);
    assert.equal(await inner.namespaceExists(ns), true);
  });

  it('a create that failed transiently before landing is retried', async () => {
    const c = new FaultyCatalog(inner, ['server-error-before', 'server-error-before']);
    const ns = [fresh()];
    await ensureNamespace(c, ns);
    assert.equal(c.creates, 3);
    assert.equal(await inner.namespaceExists(ns), true);
  });

  it('another replica creating it first (409) is success', async () => {
    const ns = [fresh()];
    const racing: Catalog = Object.assign(Object.create(inner) as SqlCatalog, {
      namespaceExists: async () => false,
      createNamespace: async (x: readonly string[]) => {
        await inner.createNamespace(x);
        return inner.createNamespace(x);
      },
    });
    await ensureNamespace(racing, ns);
    assert.equal(await inner.namespaceExists(ns), true);
  });

  it('gives up after CREATE_ATTEMPTS_MAX transient failures, and at once on a non-transient one', async () => {
    const c = new FaultyCatalog(inner, Array<Fault>(CREATE_ATTEMPTS_MAX).fill('server-error-before'));
    await assert.rejects(ensureNamespace(c, [fresh()]), (e: unknown) => e instanceof FloeError && e.code === 'catalog_server_error');
    assert.equal(c.creates, CREATE_ATTEMPTS_MAX);
    const bad = new FaultyCatalog(inner, ['bad-request']);
    await assert.rejects(ensureNamespace(bad, [fresh()]), (e: unknown) => e instanceof FloeError && e.code === 'catalog_bad_request');
    assert.equal(bad.creates, 1);
  });
});

describe('createOrLoadTable', () => {
  it('loads the table another replica created (409)', async () => {
    const ns = [fresh()];
    await inner.createNamespace(ns);
    const id = { namespace: ns, name: 't' };
    const first = await inner.createTable(id, { schema });
    const c = new FaultyCatalog(inner, []);
    const got = await createOrLoadTable(c, id, { schema });
    assert.equal(got.metadata.tableUuid, first.metadata.tableUuid);
  });

  it('a create whose response was lost is found by a load, not created twice', async () => {
    const ns = [fresh()];
    await inner.createNamespace(ns);
    const id = { namespace: ns, name: 't' };
    const c = new FaultyCatalog(inner, ['server-error-after']);
    const got = await createOrLoadTable(c, id, { schema });
    assert.equal(c.creates, 1);
    assert.equal(got.metadata.tableUuid, (await inner.loadTable(id)).metadata.tableUuid);
  });

  it('a create that failed before landing is retried; a non-transient failure throws at once', async () => {
    const ns = [fresh()];
    await inner.createNamespace(ns);
    const c = new FaultyCatalog(inner, ['server-error-before']);
    await createOrLoadTable(c, { namespace: ns, name: 't' }, { schema });
    assert.equal(c.creates, 2);
    const bad = new FaultyCatalog(inner, ['bad-request']);
    await assert.rejects(createOrLoadTable(bad, { namespace: ns, name: 'u' }, { schema }), (e: unknown) => e instanceof FloeError && e.code === 'catalog_bad_request');
    assert.equal(await inner.tableExists({ namespace: ns, name: 'u' }), false);
  });
});
