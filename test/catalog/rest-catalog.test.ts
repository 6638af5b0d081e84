// Proves the REST catalog client's protocol details against an in-process fake server: config prefix, namespace encoding, OAuth2 client-credentials tokens, namespace and table listings across `next-page-token` pages (bounded, a repeated token refused), and the classification of every HTTP failure into conflict / commit-state-unknown / typed errors.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RestCatalog } from '../../src/catalog/rest-catalog.js';
import type { RestAuthConfig } from '../../src/catalog/rest-auth.js';
import { FloeError, type FloeErrorCode } from '../../src/errors.js';
import { newTableMetadata, tableMetadataToJSON } from '../../src/iceberg/table-metadata.js';
import { stringifyJsonExact } from '../../src/iceberg/json.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }], ['id']);
const metadata = newTableMetadata({ location: 's3://b/ns/t', schema });
const loadResult = stringifyJsonExact({ 'metadata-location': 's3://b/ns/t/metadata/00000-x.metadata.json', metadata: tableMetadataToJSON(metadata) });

describe('REST catalog client (fake server)', () => {
  let url: string;
  let handler: Handler = () => undefined;
  const seen: { method: string; path: string; auth: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, body });
      if (req.url?.startsWith('/v1/config')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defaults: {}, overrides: { prefix: 'wh1' } }));
        return;
      }
      if (req.url === '/v1/oauth/tokens') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-1', token_type: 'bearer', expires_in: 3600 }));
        return;
      }
      handler(req, body, res);
    });
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const catalog = (auth: RestAuthConfig = { type: 'none' }) =>
    new RestCatalog({ name: 't', uri: url, warehouse: 'wh', auth, fileIO: () => new LocalFileIO(), readAttemptsMax: 2, requestTimeoutMs: 2_000 });

  it('uses the config prefix and joins multi-level namespaces with 0x1F', async () => {
    seen.length = 0;
    handler = (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(loadResult);
    const t = await catalog().loadTable({ namespace: ['a', 'b'], name: 'orders' });
    assert.equal(t.metadata.tableUuid, metadata.tableUuid);
    assert.equal(seen[0]?.path, '/v1/config?warehouse=wh');
    assert.equal(seen[1]?.path, '/v1/wh1/namespaces/a%1Fb/tables/orders');
  });

  it('fetches an OAuth2 client-credentials token and sends it as a bearer token', async () => {
    seen.length = 0;
    handler = (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(loadResult);
    await catalog({ type: 'oauth2', clientId: 'id', clientSecret: 'secret' }).loadTable({ namespace: ['ns'], name: 't' });
    const tokenReq = seen.find((s) => s.path === '/v1/oauth/tokens');
    assert.ok(tokenReq !== undefined);
    assert.match(tokenReq.body, /grant_type=client_credentials/);
    assert.match(tokenReq.body, /client_id=id/);
    assert.equal(seen.find((s) => s.path.includes('/tables/'))?.auth, 'Bearer tok-1');
  });

  it('lists namespaces (with parent) and tables across next-page-token pages', async () => {
    seen.length = 0;
    handler = (req, _body, res) => {
      const u = new URL(req.url ?? '', 'http://x');
      const token = u.searchParams.get('pageToken');
      const json = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (u.pathname === '/v1/wh1/namespaces') {
        if (u.searchParams.get('parent') === 'a\u001fb') return json({ namespaces: [['a', 'b', 'c']] });
        return token === null ? json({ namespaces: [['z'], ['a']], 'next-page-token': 'p2' }) : json({ namespaces: [['m']], 'next-page-token': null });
      }
      if (u.pathname === '/v1/wh1/namespaces/a%1Fb/tables') {
        if (token === null) return json({ identifiers: [{ namespace: ['a', 'b'], name: 't2' }], 'next-page-token': 'x y' });
        if (token === 'x y') return json({ identifiers: [{ namespace: ['a', 'b'], name: 't1' }], 'next-page-token': 'last' });
        return json({ identifiers: [] });
      }
      res.writeHead(404).end();
    };
    const c = catalog();
    assert.deepEqual(await c.listNamespaces(), [['a'], ['m'], ['z']]);
    assert.deepEqual(await c.listNamespaces(['a', 'b']), [['a', 'b', 'c']]);
    assert.deepEqual(await c.listTables(['a', 'b']), [{ namespace: ['a', 'b'], name: 't1' }, { namespace: ['a', 'b'], name: 't2' }]);
    assert.deepEqual(
      seen.map((s) => s.path).filter((p) => !p.startsWith('/v1/config')),
      ['/v1/wh1/namespaces', '/v1/wh1/namespaces?pageToken=p2', '/v1/wh1/namespaces?parent=a%1Fb', '/v1/wh1/namespaces/a%1Fb/tables', '/v1/wh1/namespaces/a%1Fb/tables?pageToken=x%20y', '/v1/wh1/namespaces/a%1Fb/tables?pageToken=last'],
    );
  });

  it('refuses a listing that repeats its page token, or that pages without end', async () => {
    let pages = 0;
    handler = (req, _body, res) => {
      pages++;
      const token = new URL(req.url ?? '', 'http://x').searchParams.get('pageToken');
      const next = req.url?.includes('/tables') ? 'same' : `p${pages}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ namespaces: [['n']], identifiers: [], 'next-page-token': token === 'same' ? 'same' : next }));
    };
    await assert.rejects(catalog().listTables(['ns']), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && /next-page-token "same"/.test(e.message));
    pages = 0;
    await assert.rejects(catalog().listNamespaces(), (e: unknown) => e instanceof FloeError && e.code === 'metadata_invalid' && /still pages after 1000 pages/.test(e.message));
    assert.equal(pages, 1000);
  });

  const cases: { status: number; op: 'commit' | 'load' | 'create'; code: FloeErrorCode }[] = [
    { status: 409, op: 'commit', code: 'commit_conflict' },
    { status: 500, op: 'commit', code: 'commit_state_unknown' },
    { status: 502, op: 'commit', code: 'commit_state_unknown' },
    { status: 504, op: 'commit', code: 'commit_state_unknown' },
    { status: 404, op: 'commit', code: 'catalog_not_found' },
    { status: 400, op: 'commit', code: 'catalog_bad_request' },
    { status: 404, op: 'load', code: 'catalog_not_found' },
    { status: 401, op: 'load', code: 'catalog_auth_failed' },
    { status: 403, op: 'load', code: 'catalog_auth_failed' },
    { status: 503, op: 'load', code: 'catalog_server_error' },
    { status: 409, op: 'create', code: 'catalog_already_exists' },
  ];
  for (const c of cases) {
    it(`HTTP ${c.status} on ${c.op} is ${c.code}`, async () => {
      let calls = 0;
      handler = (_req, _body, res) => {
        calls++;
        res.writeHead(c.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'nope', type: 'X', code: c.status } }));
      };
      const cat = catalog();
      const id = { namespace: ['ns'], name: 't' };
      const table = { identifier: id, metadataLocation: '', metadata, io: new LocalFileIO() };
      const p = c.op === 'commit' ? cat.commitTable(table, [], []) : c.op === 'load' ? cat.loadTable(id) : cat.createTable(id, { schema });
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof FloeError, String(e));
        assert.equal(e.code, c.code);
        assert.match(e.message, new RegExp(`HTTP ${c.status}`));
        return true;
      });
      // Reads retry transient failures (bounded); commits never retry inside the client.
      assert.equal(calls, c.op === 'load' && c.code === 'catalog_server_error' ? 2 : 1);
    });
  }

  it('a commit whose connection drops is commit_state_unknown, not a retry', async () => {
    let calls = 0;
    handler = (req) => {
      calls++;
      req.socket.destroy();
    };
    const cat = catalog();
    const table = { identifier: { namespace: ['ns'], name: 't' }, metadataLocation: '', metadata, io: new LocalFileIO() };
    await assert.rejects(cat.commitTable(table, [], []), (e: unknown) => e instanceof FloeError && e.code === 'commit_state_unknown');
    assert.equal(calls, 1);
  });
});
