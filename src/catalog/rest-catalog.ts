/**
 * Iceberg REST catalog client (REST spec, `open-api/rest-catalog-open-api.yaml`): config, namespaces,
 * create/load/commit/drop table, listings (paged by `next-page-token`). Every HTTP failure is classified once here:
 *   409 on commit                → commit_conflict (reload, re-apply, retry)
 *   5xx / timeout / network on commit → commit_state_unknown (the commit may have landed: check, never retry blindly)
 *   404 → catalog_not_found, 409 on create → catalog_already_exists, 401/403 → catalog_auth_failed,
 *   400/422 → catalog_bad_request, 5xx elsewhere → catalog_server_error, network elsewhere → catalog_unreachable.
 * Idempotent reads are retried a bounded number of times on transient errors.
 */
import { FloeError } from '../errors.js';
import { parseJsonExact, stringifyJsonExact } from '../iceberg/json.js';
import { tableMetadataFromJSON, updateToJSON, type TableRequirement, type TableUpdate } from '../iceberg/table-metadata.js';
import type { FileIO } from '../io/file-io.js';
import { createRestAuth, type RestAuth, type RestAuthConfig } from './rest-auth.js';
import type { Catalog, CreateTableOptions, LoadedTable, TableIdentifier } from './catalog.js';
import { backoffSleep } from '../retry.js';
import { LIST_PAGES_MAX, identifierToString } from './catalog.js';

export interface RestCatalogConfig {
  readonly name: string;
  readonly uri: string;
  readonly warehouse?: string;
  readonly auth: RestAuthConfig;
  readonly requestTimeoutMs?: number;
  readonly readAttemptsMax?: number;
  /** Builds the FileIO for a table from the catalog's merged config (defaults + overrides + table config). */
  readonly fileIO: (config: Readonly<Record<string, string>>) => FileIO;
}

export const REST_DEFAULTS = Object.freeze({ requestTimeoutMs: 30_000, readAttemptsMax: 4, backoffBaseMs: 200, backoffMaxMs: 5_000 });

/** Multi-level namespaces are joined with the unit separator 0x1F in paths (REST spec). */
const NAMESPACE_SEPARATOR = '\u001f';

type Kind = 'read' | 'create' | 'commit' | 'write';

export class RestCatalog implements Catalog {
  readonly name: string;
  private readonly base: string;
  private readonly auth: RestAuth;
  private prefix = '';
  private catalogConfig: Record<string, string> = {};
  private initialized: Promise<void> | null = null;
  private readonly timeoutMs: number;
  private readonly readAttemptsMax: number;

  constructor(private readonly cfg: RestCatalogConfig) {
    this.name = cfg.name;
    this.base = cfg.uri.replace(/\/+$/, '');
    this.auth = createRestAuth(cfg.auth, this.base);
    this.timeoutMs = cfg.requestTimeoutMs ?? REST_DEFAULTS.requestTimeoutMs;
    this.readAttemptsMax = cfg.readAttemptsMax ?? REST_DEFAULTS.readAttemptsMax;
  }

  /** GET /v1/config: merges defaults and overrides; `prefix` scopes every later path. */
  async init(): Promise<void> {
    this.initialized ??= (async () => {
      const q = this.cfg.warehouse !== undefined ? `?warehouse=${encodeURIComponent(this.cfg.warehouse)}` : '';
      const res = (await this.request('GET', `/v1/config${q}`, undefined, 'read')) as { defaults?: Record<string, string>; overrides?: Record<string, string> };
      this.catalogConfig = { ...(res.defaults ?? {}), ...(this.cfg.warehouse !== undefined ? { warehouse: this.cfg.warehouse } : {}), ...(res.overrides ?? {}) };
      const prefix = this.catalogConfig.prefix;
      this.prefix = prefix !== undefined && prefix !== '' ? `/${prefix.replace(/^\/+|\/+$/g, '')}` : '';
    })();
    try {
      await this.initialized;
    } catch (e) {
      this.initialized = null;
      throw e;
    }
  }

  private ns(namespace: readonly string[]): string {
    return encodeURIComponent(namespace.join(NAMESPACE_SEPARATOR));
  }

  private tablePath(id: TableIdentifier): string {
    return `/v1${this.prefix}/namespaces/${this.ns(id.namespace)}/tables/${encodeURIComponent(id.name)}`;
  }

  async createNamespace(namespace: readonly string[], properties: Readonly<Record<string, string>> = {}): Promise<void> {
    await this.init();
    await this.request('POST', `/v1${this.prefix}/namespaces`, { namespace: [...namespace], properties }, 'create');
  }

  async namespaceExists(namespace: readonly string[]): Promise<boolean> {
    await this.init();
    try {
      await this.request('GET', `/v1${this.prefix}/namespaces/${this.ns(namespace)}`, undefined, 'read');
      return true;
    } catch (e) {
      if (e instanceof FloeError && e.code === 'catalog_not_found') return false;
      throw e;
    }
  }

  /** GET /v1/{prefix}/namespaces (`parent` for the children of a namespace). */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    await this.init();
    const q = parent.length > 0 ? `parent=${this.ns(parent)}` : '';
    const out = await this.list(`/v1${this.prefix}/namespaces`, q, 'namespaces', (item, where) => {
      if (!isStrings(item) || item.length === 0) throw badListing(where, item);
      return item;
    });
    return out.sort((a, b) => compareText(a.join(NAMESPACE_SEPARATOR), b.join(NAMESPACE_SEPARATOR)));
  }

  /** GET /v1/{prefix}/namespaces/{namespace}/tables. */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    await this.init();
    const out = await this.list(`/v1${this.prefix}/namespaces/${this.ns(namespace)}/tables`, '', 'identifiers', (item, where) => {
      const r = item as { namespace?: unknown; name?: unknown } | null;
      if (r === null || typeof r !== 'object' || typeof r.name !== 'string' || !isStrings(r.namespace)) throw badListing(where, item);
      return { namespace: r.namespace, name: r.name };
    });
    return out.sort((a, b) => compareText(a.name, b.name));
  }

  /**
   * A list endpoint's items across its pages: the first request carries no `pageToken` (a server that pages
   * anyway answers with a `next-page-token`), each next one the token of the page before, at most
   * LIST_PAGES_MAX pages.
   */
  private async list<T>(path: string, query: string, field: string, item: (v: unknown, where: string) => T): Promise<T[]> {
    const out: T[] = [];
    let token: string | null = null;
    for (let page = 1; ; page++) {
      const q = [query, ...(token !== null ? [`pageToken=${encodeURIComponent(token)}`] : [])].filter((x) => x !== '').join('&');
      const where = `GET ${path}`;
      const res = (await this.request('GET', q === '' ? path : `${path}?${q}`, undefined, 'read')) as Record<string, unknown>;
      const items = res[field];
      if (!Array.isArray(items)) throw new FloeError('metadata_invalid', `REST catalog ${where} answered without "${field}"`, { where });
      for (const v of items) out.push(item(v, where));
      const next = res['next-page-token'];
      if (next === undefined || next === null || next === '') return out;
      if (typeof next !== 'string' || next === token) throw new FloeError('metadata_invalid', `REST catalog ${where} answered page ${page} with next-page-token ${JSON.stringify(next)} (the same as before, or not a string)`, { where });
      if (page >= LIST_PAGES_MAX) throw new FloeError('metadata_invalid', `REST catalog ${where} still pages after ${LIST_PAGES_MAX} pages`, { where });
      token = next;
    }
  }

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    await this.init();
    const body: Record<string, unknown> = {
      name: id.name,
      schema: opts.schema.toJSON(),
      'stage-create': false,
      properties: { 'format-version': String(opts.formatVersion ?? 2), ...(opts.properties ?? {}) },
    };
    if (opts.spec !== undefined) body['partition-spec'] = opts.spec.toJSON();
    if (opts.sortOrder !== undefined) body['write-order'] = opts.sortOrder.toJSON();
    if (opts.location !== undefined) body.location = opts.location;
    const res = await this.request('POST', `/v1${this.prefix}/namespaces/${this.ns(id.namespace)}/tables`, body, 'create');
    return this.loaded(id, res);
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    await this.init();
    return this.loaded(id, await this.request('GET', this.tablePath(id), undefined, 'read'));
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    try {
      await this.loadTable(id);
      return true;
    } catch (e) {
      if (e instanceof FloeError && e.code === 'catalog_not_found') return false;
      throw e;
    }
  }

  async commitTable(table: LoadedTable, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable> {
    await this.init();
    const body = {
      identifier: { namespace: [...table.identifier.namespace], name: table.identifier.name },
      requirements: [...requirements],
      updates: updates.map(updateToJSON),
    };
    const res = await this.request('POST', this.tablePath(table.identifier), body, 'commit');
    return this.loaded(table.identifier, res);
  }

  async dropTable(id: TableIdentifier, purge = false): Promise<void> {
    await this.init();
    await this.request('DELETE', `${this.tablePath(id)}${purge ? '?purgeRequested=true' : ''}`, undefined, 'write');
  }

  async close(): Promise<void> {
    // fetch keeps no per-catalog resources.
  }

  private loaded(id: TableIdentifier, res: unknown): LoadedTable {
    const r = res as { 'metadata-location'?: string; metadata?: unknown; config?: Record<string, string> };
    if (r.metadata === undefined) throw new FloeError('metadata_invalid', `catalog response for ${identifierToString(id)} has no metadata`);
    const metadata = tableMetadataFromJSON(r.metadata);
    const ioProps = { ...this.catalogConfig, ...(r.config ?? {}) };
    return { identifier: id, metadataLocation: r['metadata-location'] ?? '', metadata, io: this.cfg.fileIO(ioProps), ioProps };
  }

  private async request(method: string, path: string, body: unknown, kind: Kind): Promise<unknown> {
    const attempts = kind === 'read' ? this.readAttemptsMax : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, path, body, kind);
      } catch (e) {
        const retryable = e instanceof FloeError && e.retry === 'transient';
        if (!retryable || attempt >= attempts) throw e;
        await backoffSleep(attempt, { baseMs: REST_DEFAULTS.backoffBaseMs, maxMs: REST_DEFAULTS.backoffMaxMs });
      }
    }
  }

  private async once(method: string, path: string, body: unknown, kind: Kind): Promise<unknown> {
    const url = new URL(this.base + path);
    const text = body === undefined ? undefined : stringifyJsonExact(body);
    const baseHeaders: Record<string, string> = { accept: 'application/json', 'x-client-version': 'floe/0.1' };
    if (text !== undefined) baseHeaders['content-type'] = 'application/json';
    const headers = await this.auth.authorize({ method, url, headers: baseHeaders, ...(text !== undefined ? { body: text } : {}) });
    const where = `${method} ${url.pathname}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(text !== undefined ? { body: text } : {}), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const msg = `REST catalog ${this.base} unreachable (${where}): ${(e as Error).message}${causeText(e)}`;
      if (kind === 'commit') throw new FloeError('commit_state_unknown', `commit outcome unknown: ${msg}`, { where }, e);
      throw new FloeError('catalog_unreachable', msg, { where, uri: this.base }, e);
    }
    const raw = await res.text().catch((e: unknown) => {
      if (kind === 'commit') throw new FloeError('commit_state_unknown', `commit outcome unknown: response body lost: ${(e as Error).message}`, { where }, e);
      throw new FloeError('catalog_unreachable', `reading response of ${where}: ${(e as Error).message}`, { where }, e);
    });
    if (res.ok) {
      if (raw === '') return {};
      return parseJsonExact(raw);
    }
    let detail = raw.slice(0, 500);
    try {
      const j = JSON.parse(raw) as { error?: { message?: string; type?: string } };
      if (j.error?.message !== undefined) detail = `${j.error.type ?? 'Error'}: ${j.error.message}`;
    } catch {
      // Not JSON: keep the raw text excerpt as the detail.
    }
    const msg = `REST catalog ${where} failed: HTTP ${res.status} ${detail}`;
    const details = { where, status: res.status };
    if (res.status === 401) this.auth.invalidate();
    if (kind === 'commit') {
      if (res.status === 409) throw new FloeError('commit_conflict', msg, details);
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new FloeError('commit_state_unknown', `commit outcome unknown: ${msg}`, details);
    }
    if (res.status === 404) throw new FloeError('catalog_not_found', msg, details);
    if (res.status === 409) throw new FloeError('catalog_already_exists', msg, details);
    if (res.status === 401 || res.status === 403 || res.status === 419) throw new FloeError('catalog_auth_failed', msg, details);
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new FloeError('catalog_server_error', msg, details);
    throw new FloeError('catalog_bad_request', msg, details);
  }
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((p) => typeof p === 'string');
}

function badListing(where: string, item: unknown): FloeError {
  return new FloeError('metadata_invalid', `REST catalog ${where} listed ${JSON.stringify(item)}, not a namespace or table identifier`, { where });
}

/** Orders names by UTF-16 code unit: the same order on every machine (unlike localeCompare). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function causeText(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c === undefined ? '' : ` (${c.code ?? c.message ?? ''})`;
}
