// Proves `floe verify`'s checks on the embedded SQL catalog with local files: a clean table reports no duplicate keys; a table with rows appended by a writer that does not upsert reports its duplicate keys, rows too many and examples; the live position delete files, deletion vectors and equality delete files that floe's committer wrote are counted; a table without identifier fields is not checked unless --key names columns; unreadable tables are reports, not throws; every table of nested namespaces is walked (a catalog that refuses `parent` has no nesting, other listing failures are reported); the exit code, JSON and text forms.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Catalog, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer, type CommitterConfig } from '../../src/commit/committer.js';
import { FloeError } from '../../src/errors.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { catalogTables, exitCode, formatReport, reportToJSON, verifyTable, type TableReport } from '../../src/verify/verify.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { appendValues } from '../support/table-ops.js';
import { changeMessages, cycle } from '../support/window-cycle.js';

const T_ID: TableIdentifier = { namespace: ['shop'], name: 't' };
const init = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} } as const;
const committerConfig = (tables: CommitterConfig['tables'] = {}): CommitterConfig => ({ groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 1, tableDefaults: {}, tables });

describe('floe verify (src/verify)', () => {
  let dir = '';
  let n = 0;
  const catalogs: SqlCatalog[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-verify-'));
  });
  after(async () => {
    for (const c of catalogs) await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  const newCatalog = (): SqlCatalog => {
    const c = new SqlCatalog({ name: 'floe', path: join(dir, `${++n}.db`), warehouse: `file://${dir}/wh${n}`, io: new LocalFileIO() });
    catalogs.push(c);
    return c;
  };

  /** shop.t (id, v) written by floe's committer: keys 1..4, then key 2 updated and key 3 deleted. */
  async function floeTable(tables: CommitterConfig['tables'] = {}): Promise<SqlCatalog> {
    const catalog = newCatalog();
    const msg = changeMessages('cdc.shop.t');
    const committer = new Committer(catalog, committerConfig(tables));
    const workers = new InProcessWorkers(init);
    await cycle(committer, workers, [1, 2, 3, 4].map((id) => msg('c', id, `a${id}`)));
    await cycle(committer, workers, [msg('u', 2, 'b2'), msg('d', 3, null)]);
    return catalog;
  }

  it('a clean table with position deletes: one live row per key, files counted by kind', async () => {
    const catalog = await floeTable();
    const r = await verifyTable(catalog, T_ID);
    assert.equal(r.status, 'ok', r.error);
    assert.deepEqual(r.keyColumns, ['id']);
    assert.equal(r.keySource, 'identifier-fields');
    assert.equal(r.snapshotId, (await catalog.loadTable(T_ID)).metadata.currentSnapshotId);
    assert.deepEqual([r.rows, r.distinctKeys, r.duplicateKeys, r.rowsTooMany], [3, 3, 0, 0]);
    assert.deepEqual(r.examples, []);
    assert.deepEqual(r.files, { dataFiles: 2, positionDeleteFiles: 1, deletionVectors: 0, equalityDeleteFiles: 0 });
    assert.ok((r.indexBytes ?? 0) > 0);
    assert.equal(exitCode([r.status]), 0);
  });

  it('deletion vectors (format version 3) and equality deletes are counted as such', async () => {
    const dv = await verifyTable(await floeTable({ 'shop.t': { formatVersion: 3 } }), T_ID);
    assert.equal(dv.status, 'ok', dv.error);
    assert.deepEqual([dv.rows, dv.duplicateKeys], [3, 0]);
    assert.deepEqual(dv.files, { dataFiles: 2, positionDeleteFiles: 0, deletionVectors: 1, equalityDeleteFiles: 0 });
    const eq = await verifyTable(await floeTable({ 'shop.t': { deleteMode: 'equality' } }), T_ID);
    assert.equal(eq.status, 'ok', eq.error);
    assert.deepEqual([eq.rows, eq.distinctKeys, eq.duplicateKeys], [3, 3, 0]);
    // Equality mode deletes every touched key, inserts too (floe cannot know they were new): one file a commit.
    assert.deepEqual(eq.files, { dataFiles: 2, positionDeleteFiles: 0, deletionVectors: 0, equalityDeleteFiles: 2 });
  });

  it('a table with duplicate keys reports their count, the rows too many and examples', async () => {
    const catalog = await floeTable();
    // Keys 1 and 4 appended again, then key 1 once more: key 1 has three live rows, key 4 two.
    await appendValues(catalog, T_ID, [[1n, 'dup1'], [4n, 'dup1']]);
    await appendValues(catalog, T_ID, [[1n, 'dup2']]);
    const r = await verifyTable(catalog, T_ID);
    assert.equal(r.status, 'duplicates');
    assert.deepEqual([r.rows, r.distinctKeys, r.duplicateKeys, r.rowsTooMany], [6, 3, 2, 3]);
    assert.equal(r.examples.length, 2);
    // Examples are describeDuplicate's: the key, the row a repair keeps (the newest) and the ones it drops.
    assert.match(r.examples[0] ?? '', /^id=1: kept \S+#0 \(sequence 4\), dropped (?=.*\(sequence 1\))(?=.*#0 \(sequence 3\))/);
    assert.match(r.examples[1] ?? '', /^id=4: kept \S+#1 \(sequence 3\), dropped \S+#3 \(sequence 1\)$/);
    assert.deepEqual(r.files, { dataFiles: 4, positionDeleteFiles: 1, deletionVectors: 0, equalityDeleteFiles: 0 });
    assert.equal(exitCode(['ok', r.status, 'no-key']), 1);
    assert.equal(exitCode([r.status, 'error']), 2);
  });

  it('a table without identifier fields is not checked, unless --key names its columns', async () => {
    const catalog = newCatalog();
    await catalog.createNamespace(['raw']);
    const id = { namespace: ['raw'], name: 'events' };
    await catalog.createTable(id, { schema: schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }]) });
    await appendValues(catalog, id, [[1n, 'a'], [2n, 'b']]);
    await appendValues(catalog, id, [[1n, 'c']]);

    const none = await verifyTable(catalog, id);
    assert.equal(none.status, 'no-key');
    assert.deepEqual(none.keyColumns, []);
    assert.equal(none.rows, undefined);
    assert.deepEqual(none.files, { dataFiles: 2, positionDeleteFiles: 0, deletionVectors: 0, equalityDeleteFiles: 0 });
    assert.equal(exitCode([none.status]), 0);

    const byId = await verifyTable(catalog, id, { key: ['id'] });
    assert.equal(byId.status, 'duplicates');
    assert.equal(byId.keySource, 'key-option');
    assert.deepEqual([byId.rows, byId.distinctKeys, byId.duplicateKeys, byId.rowsTooMany], [3, 2, 1, 1]);
    assert.match(byId.examples[0] ?? '', /^id=1: kept /);
    assert.equal((await verifyTable(catalog, id, { key: ['id', 'v'] })).status, 'ok');

    const missing = await verifyTable(catalog, id, { key: ['nope'] });
    assert.equal(missing.status, 'error');
    assert.match(missing.error ?? '', /^config_invalid: --key column "nope" is not a column of raw\.events \(columns: id, v\)/);
    const nested = { namespace: ['raw'], name: 'nested' };
    await catalog.createTable(nested, { schema: schemaFromDecls([{ name: 'tags', type: { kind: 'list', elementId: 0, element: T.string, elementRequired: false } }]) });
    assert.match((await verifyTable(catalog, nested, { key: ['tags'] })).error ?? '', /--key column "tags" of raw\.nested is a list, not a primitive column/);
  });

  it('--key does not replace a table\'s identifier fields', async () => {
    const r = await verifyTable(await floeTable(), T_ID, { key: ['v'] });
    assert.deepEqual([r.status, r.keySource, r.keyColumns], ['ok', 'identifier-fields', ['id']]);
  });

  it('a table that cannot be read is a report naming the error, not a throw', async () => {
    const catalog = await floeTable();
    const missing = await verifyTable(catalog, { namespace: ['shop'], name: 'nope' });
    assert.equal(missing.status, 'error');
    assert.match(missing.error ?? '', /^catalog_not_found: table shop\.nope does not exist/);
    const full = await verifyTable(catalog, T_ID, { keysMax: 2 });
    assert.equal(full.status, 'error');
    assert.match(full.error ?? '', /^index_full: /);
    assert.equal(exitCode([full.status]), 2);
  });

  it('walks every table of every namespace, nested ones included, depth first and sorted', async () => {
    const catalog = newCatalog();
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }], ['id']);
    for (const ns of [['b'], ['a'], ['a', 'x'], ['empty']]) await catalog.createNamespace(ns);
    for (const [ns, name] of [[['b'], 't'], [['a'], 't2'], [['a'], 't1'], [['a', 'x'], 't']] as const) await catalog.createTable({ namespace: ns, name }, { schema });
    const seen: string[] = [];
    for await (const e of catalogTables(catalog)) seen.push('table' in e ? [...e.table.namespace, e.table.name].join('.') : `error ${e.error}`);
    assert.deepEqual(seen, ['a.t1', 'a.t2', 'a.x.t', 'b.t']);
  });

  it('a namespace whose children cannot be listed with `parent` (HTTP 400: the catalog does not nest) has none; other listing failures are yielded', async () => {
    const fake = (fail: (parent: readonly string[]) => FloeError | null) =>
      ({
        listNamespaces: async (parent: readonly string[] = []) => {
          const e = fail(parent);
          if (e !== null) throw e;
          return parent.length === 0 ? [['a'], ['b']] : [];
        },
        listTables: async (ns: readonly string[]) => {
          if (ns[0] === 'b') throw new FloeError('catalog_auth_failed', 'HTTP 403');
          return [{ namespace: [...ns], name: 't' }];
        },
      }) as unknown as Catalog;
    const walk = async (c: Catalog) => {
      const out: string[] = [];
      for await (const e of catalogTables(c)) out.push('table' in e ? `${e.table.namespace.join('.')}.${e.table.name}` : `${e.namespace.join('.')}: ${e.error}`);
      return out;
    };
    assert.deepEqual(await walk(fake((p) => (p.length > 0 ? new FloeError('catalog_bad_request', 'HTTP 400 parent') : null))), ['a.t', 'b: catalog_auth_failed: HTTP 403']);
    assert.deepEqual(await walk(fake((p) => (p[0] === 'a' ? new FloeError('catalog_server_error', 'HTTP 503') : null))), ['a.t', 'a: catalog_server_error: HTTP 503', 'b: catalog_auth_failed: HTTP 403']);
    assert.deepEqual(await walk(fake((p) => (p.length === 0 ? new FloeError('catalog_unreachable', 'down') : null))), [': catalog_unreachable: down']);
  });

  it('JSON keeps snapshot ids exact as strings; the text block is aligned', async () => {
    const r: TableReport = {
      table: 'shop.t',
      status: 'duplicates',
      keyColumns: ['id'],
      keySource: 'identifier-fields',
      snapshotId: 9007199254740993n,
      rows: 6,
      distinctKeys: 3,
      duplicateKeys: 2,
      rowsTooMany: 3,
      examples: ['id=1: kept a#0 (sequence 4), dropped b#0 (sequence 1)', 'id=4: kept c#1 (sequence 3), dropped b#3 (sequence 1)'],
      files: { dataFiles: 4, positionDeleteFiles: 1, deletionVectors: 0, equalityDeleteFiles: 0 },
      indexBytes: 100,
    };
    const line = JSON.stringify(reportToJSON(r));
    assert.match(line, /"snapshotId":"9007199254740993"/);
    assert.deepEqual(JSON.parse(line), {
      table: 'shop.t', status: 'duplicates', keyColumns: ['id'], keySource: 'identifier-fields', snapshotId: '9007199254740993',
      rows: 6, distinctKeys: 3, duplicateKeys: 2, rowsTooMany: 3, files: { dataFiles: 4, positionDeleteFiles: 1, deletionVectors: 0, equalityDeleteFiles: 0 }, indexBytes: 100, examples: r.examples,
    });
    const text = formatReport(r);
    assert.equal(text[0], 'shop.t  DUPLICATE KEYS: 2 key(s), 3 row(s) too many');
    // Every value starts in one column: after the widest label ("equality delete files") and two spaces.
    for (const l of text.slice(1)) assert.ok(l.slice(0, 25).trimEnd().length <= 23 && l[24] === ' ' && l[25] !== ' ', `not aligned: "${l}"`);
    assert.deepEqual(text.slice(-2), ['  examples               id=1: kept a#0 (sequence 4), dropped b#0 (sequence 1)', '                         id=4: kept c#1 (sequence 3), dropped b#3 (sequence 1)']);
    assert.deepEqual(formatReport({ table: 'a.b', status: 'error', keyColumns: [], keySource: null, snapshotId: null, examples: [], error: 'catalog_not_found: gone' }), ['a.b  ERROR: could not be read', '  error                  catalog_not_found: gone']);
  });
});
