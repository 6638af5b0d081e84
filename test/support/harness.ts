// Access to the integration harness (SeaweedFS REST catalog + S3, and the Spark/DuckDB/pyiceberg readers) from tests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RestCatalog, type RestCatalogConfig } from '../../src/catalog/rest-catalog.js';
import type { RestAuthConfig } from '../../src/catalog/rest-auth.js';
import { fileIOFromProperties } from '../../src/io/file-io-factory.js';
import { S3FileIO } from '../../src/io/s3-file-io.js';

const run = promisify(execFile);

export const integration = process.env.FLOE_REST_URI !== undefined;
export const skipReason = 'integration harness not running (run `npm test`, which starts it)';

export function env(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set: start the harness (test/harness/seaweed.sh env)`);
  return v;
}

export function s3Settings(overrides: { secretAccessKey?: string } = {}) {
  return {
    region: env('FLOE_S3_REGION'),
    endpoint: env('FLOE_S3_ENDPOINT'),
    forcePathStyle: true,
    accessKeyId: env('AWS_ACCESS_KEY_ID'),
    secretAccessKey: overrides.secretAccessKey ?? env('AWS_SECRET_ACCESS_KEY'),
  };
}

/** The `catalog` and `s3` sections of a floe config for the harness's REST catalog on SeaweedFS. */
export function harnessCatalogSections() {
  return {
    catalog: {
      type: 'rest',
      uri: env('FLOE_REST_URI'),
      warehouse: env('FLOE_REST_WAREHOUSE'),
      auth: { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: env('AWS_ACCESS_KEY_ID'), secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
    },
    s3: { endpoint: env('FLOE_S3_ENDPOINT'), region: env('FLOE_S3_REGION'), pathStyle: true, accessKeyId: env('AWS_ACCESS_KEY_ID'), secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
  };
}

export function s3FileIO(overrides: { secretAccessKey?: string } = {}): S3FileIO {
  return new S3FileIO(s3Settings(overrides));
}

export function restCatalog(opts: Partial<RestCatalogConfig> & { secretAccessKey?: string; auth?: RestAuthConfig } = {}): RestCatalog {
  const s3 = s3Settings(opts.secretAccessKey !== undefined ? { secretAccessKey: opts.secretAccessKey } : {});
  const auth: RestAuthConfig = opts.auth ?? (process.env.FLOE_REST_SIGV4 === 'true'
    ? { type: 'sigv4', signingName: env('FLOE_REST_SIGNING_NAME'), region: env('FLOE_REST_SIGNING_REGION'), accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
    : { type: 'none' });
  return new RestCatalog({
    name: 'rest',
    uri: opts.uri ?? env('FLOE_REST_URI'),
    warehouse: opts.warehouse ?? env('FLOE_REST_WAREHOUSE'),
    auth,
    fileIO: (props) => fileIOFromProperties(props, s3),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    ...(opts.readAttemptsMax !== undefined ? { readAttemptsMax: opts.readAttemptsMax } : {}),
  });
}

export type Engine = 'spark' | 'duckdb' | 'pyiceberg';

export interface EngineOutput {
  /** table -> sorted canonical lines, or the reason the engine cannot read it. */
  readonly tables: Map<string, string[] | { unsupported: string }>;
  /** Results of --sql queries, in order: rows and (with metrics) scan metrics lines. */
  readonly sql: { rows: string[]; metrics: string[] }[];
  /** Set when the reader process failed as a whole (its stderr tail). */
  readonly failure?: string;
}

function python(): string {
  return join(process.env.FLOE_VENV ?? join(homedir(), '.cache/floe/venv'), 'bin/python');
}

/** Runs one engine's reader over the tables (one process for all tables: Spark starts in ~15 s). */
export async function readWithEngine(
  engine: Engine,
  tables: readonly string[],
  opts: {
    sql?: readonly string[]; metrics?: boolean; catalog?: 'rest' | 'sql'; sqlUri?: string; warehouse?: string; catalogName?: string; where?: string;
    /** Overrides of the reader's environment: another SeaweedFS's `seaweed.sh env` (test/support/services.ts). */
    env?: Readonly<Record<string, string>>;
  } = {},
): Promise<EngineOutput> {
  const args = [join('test/harness/readers', `${engine}_read.py`), '--catalog', opts.catalog ?? 'rest', '--skip-unsupported'];
  if (opts.sqlUri !== undefined) args.push('--sql-uri', opts.sqlUri);
  if (opts.warehouse !== undefined) args.push('--warehouse', opts.warehouse);
  if (opts.catalogName !== undefined) args.push('--catalog-name', opts.catalogName);
  for (const t of tables) args.push('--table', t);
  if (opts.where !== undefined) args.push('--where', opts.where);
  for (const q of opts.sql ?? []) args.push('--sql', q);
  if (opts.metrics === true) args.push('--metrics');
  let stdout: string;
  try {
    ({ stdout } = await run(python(), args, { maxBuffer: 256 * 1024 * 1024, timeout: 300_000, ...(opts.env !== undefined ? { env: { ...process.env, ...opts.env } } : {}) }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    // stderr may be empty (a timeout, or stdout past maxBuffer): the message says which
    return { tables: new Map(), sql: [], failure: `${engine} reader failed: ${(err.stderr !== undefined && err.stderr !== '' ? err.stderr : err.message).split('\n').slice(-15).join('\n')}` };
  }
  const out: EngineOutput = { tables: new Map(), sql: [] };
  let current: string[] | null = null;
  let mode: 'table' | 'sql' | 'metrics' = 'table';
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# unsupported')) {
      const name = [...out.tables.keys()].pop();
      if (name !== undefined) out.tables.set(name, { unsupported: line });
      current = null;
      continue;
    }
    if (line === '# sql') {
      out.sql.push({ rows: [], metrics: [] });
      mode = 'sql';
      continue;
    }
    if (line === '# metrics') {
      mode = 'metrics';
      continue;
    }
    if (line.startsWith('# ')) {
      current = [];
      out.tables.set(line.slice(2), current);
      mode = 'table';
      continue;
    }
    if (mode === 'table' && current !== null) current.push(line);
    else if (mode === 'sql') out.sql[out.sql.length - 1]?.rows.push(line);
    else if (mode === 'metrics') out.sql[out.sql.length - 1]?.metrics.push(line);
  }
  for (const [k, v] of out.tables) if (Array.isArray(v)) out.tables.set(k, v.sort());
  return out;
}

/** Asserts an engine read `table` and returned exactly `want` (canonical lines, sorted): count first, for a short message. */
export function assertEngineRows(engine: string, out: EngineOutput, table: string, want: readonly string[]): void {
  assert.equal(out.failure, undefined, out.failure);
  const got = out.tables.get(table);
  assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
  assert.equal(got.length, want.length, `${engine}: row count of ${table}`);
  assert.deepEqual(got, want);
}
