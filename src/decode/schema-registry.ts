/**
 * Confluent Schema Registry client (the registry Debezium's AvroConverter writes to):
 *   GET {url}/schemas/ids/{id} → {"schema": "<Avro schema JSON text>"}
 * Writer schemas are immutable per id, so they are cached for the life of the process (bounded).
 */
import { FloeError } from '../errors.js';
import { backoffSleep } from '../retry.js';

/** Registry retries back off from 200 ms (then 400, 800 ...), jittered. */
const REGISTRY_BACKOFF = Object.freeze({ baseMs: 200, maxMs: 5_000 });

export interface SchemaRegistryConfig {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly requestTimeoutMs?: number;
}

const CACHE_ENTRIES_MAX = 10_000;
const ATTEMPTS_MAX = 4;

export class SchemaRegistryClient {
  private readonly cache = new Map<number, string>();
  private readonly inflight = new Map<number, Promise<string>>();

  constructor(private readonly cfg: SchemaRegistryConfig) {}

  /** The writer schema (Avro JSON text) registered under `id`. */
  async schema(id: number): Promise<string> {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    let p = this.inflight.get(id);
    if (p === undefined) {
      p = this.fetchSchema(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetchSchema(id: number): Promise<string> {
    const url = `${this.cfg.url.replace(/\/+$/, '')}/schemas/ids/${id}`;
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    if (this.cfg.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${this.cfg.username}:${this.cfg.password ?? ''}`).toString('base64')}`;
    let last: unknown = null;
    for (let attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(this.cfg.requestTimeoutMs ?? 10_000) });
      } catch (e) {
        last = new FloeError('catalog_unreachable', `schema registry ${this.cfg.url} unreachable: ${(e as Error).message}`, { url }, e);
        await backoffSleep(attempt, REGISTRY_BACKOFF);
        continue;
      }
      const text = await res.text();
      if (res.status === 404) throw new FloeError('record_invalid', `schema id ${id} is not in the schema registry ${this.cfg.url}`, { id });
      if (res.status === 401 || res.status === 403) throw new FloeError('config_invalid', `schema registry ${this.cfg.url} refused the credentials (HTTP ${res.status})`, { field: 'decode.schemaRegistry' });
      if (!res.ok) {
        last = new FloeError('catalog_server_error', `schema registry ${url}: HTTP ${res.status} ${text.slice(0, 200)}`, { url });
        await backoffSleep(attempt, REGISTRY_BACKOFF);
        continue;
      }
      const schema = (JSON.parse(text) as { schema?: string }).schema;
      if (typeof schema !== 'string') throw new FloeError('record_invalid', `schema registry answered id ${id} without a schema`, { id });
      if (this.cache.size >= CACHE_ENTRIES_MAX) this.cache.delete(this.cache.keys().next().value as number);
      this.cache.set(id, schema);
      return schema;
    }
    throw last;
  }
}
