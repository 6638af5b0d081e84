/**
 * floe's configuration: YAML (or an Iceberg Kafka Connect sink connector JSON, see kafka-connect.ts),
 * `${VAR}` / `${VAR:-default}` substituted from the environment (secrets stay out of files), validated once
 * at startup with errors that name the field, then frozen.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FloeError } from '../errors.js';
import type { KafkaAuthConfig, KafkaTlsConfig } from '../kafka/auth.js';
import type { RestAuthConfig } from '../catalog/rest-auth.js';
import type { TimeAs } from '../decode/connect-schema.js';
import { parseCodec, type ParquetCodec } from '../writer/parquet.js';
import { fromKafkaConnect, isKafkaConnectConfig, unmappedKafkaConnectKeys } from './kafka-connect.js';
import { nearest, rejectUnknownKeys } from './keys.js';
import { mainHeapLimitBytes, memoryLimit } from './memory.js';

export interface FloeConfig {
  readonly kafka: {
    readonly brokers: string;
    readonly groupId: string;
    readonly groupInstanceId?: string;
    readonly topics?: readonly string[];
    readonly topicPattern?: string;
    readonly deadLetterTopic: string;
    readonly properties: Readonly<Record<string, string | number | boolean>>;
    /** SASL: SCRAM, MSK IAM (OAUTHBEARER), unsecured OAUTHBEARER (test brokers), or none (properties as given). */
    readonly auth: KafkaAuthConfig;
    readonly tls: KafkaTlsConfig;
  };
  readonly catalog:
    | { readonly type: 'rest'; readonly name: string; readonly uri: string; readonly warehouse?: string; readonly auth: RestAuthConfig }
    | { readonly type: 'sql'; readonly name: string; readonly path: string; readonly warehouse: string };
  readonly s3: {
    readonly region?: string;
    readonly endpoint?: string;
    readonly pathStyle?: boolean;
    readonly accessKeyId?: string;
    readonly secretAccessKey?: string;
  };
  readonly decode: {
    readonly idColumns: readonly string[];
    readonly cdcField?: string;
    /** Time-of-day columns as Iceberg `time`, long microseconds, or text (docs/types.md). */
    readonly timeAs: TimeAs;
    /** A value outside its Iceberg type's range: dead-letter the record, or write null in that column. */
    readonly outOfRange: OutOfRange;
    /** Confluent Schema Registry, for records written by the AvroConverter. */
    readonly schemaRegistry?: { readonly url: string; readonly username?: string; readonly password?: string };
  };
  readonly route: { readonly pattern: string; readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly tables: {
    readonly autoCreate: boolean;
    readonly defaults: Required<TableOptionsConfig>;
    readonly overrides: Readonly<Record<string, TableOptionsConfig>>;
  };
  readonly commit: {
    readonly intervalMs: number;
    readonly bufferBytesMax: number;
    readonly targetFileSizeBytes: number;
    readonly codec: ParquetCodec;
    readonly tableCommitsInFlightMax: number;
    /** Where deletion vectors go (see DeletionVectorFiles). */
    readonly deletionVectorFiles: DeletionVectorFiles;
    /**
     * Deletion vectors one Puffin file holds at most. 1 (the default): a file per vector, read correctly by every
     * engine; DuckDB 1.5.5 misreads a Puffin file holding several (it returns an earlier, larger blob's bytes for a
     * later, smaller one). Raise it for fewer files per commit when no reader is affected.
     */
    readonly deletionVectorsPerFileMax: number;
    /**
     * Riding out outages (the catalog, S3 or Kafka unreachable, a commit whose outcome is unknown): floe keeps
     * running, paused, and retries the cycle with backoff (from backoffBaseMs, doubling up to backoffMaxMs,
     * jittered) for at most maxElapsedMs; then it exits non-zero.
     */
    readonly retry: { readonly maxElapsedMs: number; readonly backoffBaseMs: number; readonly backoffMaxMs: number };
  };
  readonly consume: { readonly batchMax: number; readonly timeoutMs: number };
  /** Worker threads holding table windows (0: in the main thread); queue and heap bounds per worker. */
  readonly workers: { readonly count: number; readonly queueMax: number; readonly heapMb: number };
  readonly shutdown: { readonly timeoutMs: number };
  /** Prometheus /metrics, /healthz and /readyz (port 0: an ephemeral port, logged at start). */
  readonly metrics: { readonly enabled: boolean; readonly host: string; readonly port: number; readonly livenessStallMs: number };
  /** Table maintenance: `floe maintain`, and the background task of `floe run` (src/maintain/). */
  readonly maintenance: MaintenanceConfig;
  /** The primary-key indexes of this process (one per table that deletes by position). */
  readonly index: IndexConfig;
}

export interface IndexConfig {
  /**
   * Memory all tables' key indexes may hold together, per process (typed arrays, outside the V8 heaps). Each
   * worker gets an equal share; a table whose index would pass what its worker has left spills to `spillDir`
   * (sorted runs on local disk) instead of deleting by equality. Default: 60% of what the memory limit (the
   * container's, else the machine's) leaves beside the V8 heaps; an explicit value must fit beside them.
   */
  readonly memoryBytesMax: number;
  /** Where spilled indexes live: a local volume (the StatefulSet's volume on EKS), not shared between replicas. */
  readonly spillDir: string;
  /** Threads a bootstrap reads a table's integer keys with (0: by the table's size and the cores). */
  readonly bootstrapThreads: number;
  /**
   * A replica indexes only the keys of the Kafka partitions it owns, where a topic's keys follow Kafka's default
   * partitioner and can be rebuilt from the table (checked on every record; otherwise that topic's tables are
   * indexed whole, logged once). Off: every replica indexes every key.
   */
  readonly shardByPartition: boolean;
}

/**
 * Table maintenance settings. `enabled` and `budgetMs` concern the background task of `floe run` (`floe maintain`
 * runs when asked, with no budget unless `--budget-ms`); the step sections apply to both. A table whose
 * `maintenance` option is `managed` is never maintained by floe.
 */
export interface MaintenanceConfig {
  readonly enabled: boolean;
  /** The background task maintains a table again once its last run is this old. */
  readonly intervalMs: number;
  /** Time one background run may take (over all the tables it maintains); steps stop between groups when spent. */
  readonly budgetMs: number;
  /** Bin-packing data files (Iceberg's RewriteDataFiles): small files, and files with many deleted rows. */
  readonly rewriteData: {
    readonly enabled: boolean;
    readonly targetFileSizeBytes: number;
    /** A file below this fraction of the target is rewritten (Iceberg's min-file-size-bytes: 0.75 × target). */
    readonly minFileSizeRatio: number;
    readonly deleteRatioMin: number;
    readonly minInputFiles: number;
    readonly groupBytesMax: number;
    readonly runBytesMax: number;
    readonly commitAttemptsMax: number;
  };
  /** Merging position delete files (RewritePositionDeleteFiles), and equality deletes turned into position deletes. */
  readonly rewriteDeletes: { readonly enabled: boolean; readonly convertEqualityDeletes: boolean; readonly minInputFiles: number };
  readonly manifests: { readonly enabled: boolean; readonly targetManifestBytes: number; readonly minManifests: number };
  readonly expire: { readonly enabled: boolean; readonly olderThanMs: number; readonly keepLast: number };
  readonly orphans: { readonly enabled: boolean; readonly olderThanMs: number };
}

/** Who maintains a table: floe, or the table's own service (S3 Tables' compaction, snapshot management, unreferenced file removal). */
export type MaintenanceMode = 'managed' | 'floe';

/** Per-table options (defaults, and overrides by routed `namespace.table`). */
export interface TableOptionsConfig {
  /** Partition spec at creation: `day(created_at)`, `bucket(16, id)`, `region`, ... */
  readonly partitionBy?: readonly string[];
  /** Sort order at creation (rows of each data file are written in it): `created_at desc nulls last`, ... */
  readonly sortBy?: readonly string[];
  readonly formatVersion?: 1 | 2 | 3;
  /** Table properties at creation, e.g. write.parquet.compression-codec, write.target-file-size-bytes. */
  readonly properties?: Readonly<Record<string, string>>;
  /** A source column changing to a type the table's column cannot hold (string → int). */
  readonly onIncompatibleChange?: IncompatibleChangePolicy;
  /**
   * How updates and deletes reach earlier rows: through a primary-key index as position delete files (v2) or
   * deletion vectors (`dv`, v3), or as equality deletes. Unset: `position` on v2 tables, `dv` on v3 tables.
   */
  readonly deleteMode?: DeleteMode;
  /**
   * A key with several live rows, found when floe reads the table's keys (a writer that appended without
   * upserting, or floe before keys beyond int64 were exact): `repair` (the default) keeps each key's newest row
   * and deletes the others by position in the table's next commit; `fail` stops with an error naming the table
   * and a key.
   */
  readonly onDuplicateKeys?: DuplicateKeyPolicy;
  /**
   * `managed`: the table's own service maintains it (S3 Tables does by default) and floe never does, neither
   * `floe maintain` nor the background task; `floe`: floe does. Default: `managed` on AWS S3 Tables endpoints,
   * `floe` elsewhere.
   */
  readonly maintenance?: MaintenanceMode;
}

export type DeleteMode = 'position' | 'dv' | 'equality';
export type DuplicateKeyPolicy = 'repair' | 'fail';

/**
 * Where deletion vectors are written: Puffin files next to the data (`data/*.puffin`, as Iceberg's writers do), or
 * `metadata/*.stats` for stores that accept only Iceberg's metadata file types under a table (SeaweedFS's S3 Tables).
 */
export type DeletionVectorFiles = 'data/*.puffin' | 'metadata/*.stats';

export type OutOfRange = 'dead-letter' | 'null';
export type IncompatibleChangePolicy = 'fail' | 'new-column';

const SORT_EXPR = /^(?:\w+\(\s*(?:\d+\s*,\s*)?[\w.]+\s*\)|[\w.]+)(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?$/i;
const PARTITION_EXPR = /^(?:\w+\(\s*(?:\d+\s*,\s*)?[\w.]+\s*\)|[\w.]+)$/;

export const LIMITS = Object.freeze({
  commitIntervalMsMin: 100,
  commitIntervalMsMax: 24 * 3600 * 1000,
  bufferBytesMin: 1024 * 1024,
  bufferBytesMax: 64 * 1024 * 1024 * 1024,
  targetFileSizeBytesMin: 1024 * 1024,
  targetFileSizeBytesMax: 8 * 1024 * 1024 * 1024,
  consumeBatchMax: 100_000,
  /**
   * An orphan is only a file nobody references *yet* while a commit is in flight: the ones uploaded for a commit
   * that is still retrying. Below an hour, a slow commit's files could be deleted under it (Iceberg's
   * DeleteOrphanFiles warns the same; its default is 3 days).
   */
  orphanOlderThanMsMin: 3_600_000,
  /** Snapshots younger than this are kept: a reader's query planned on one keeps its files (S3 Tables' minimum too). */
  expireOlderThanMsMin: 3_600_000,
});

/** `${VAR}` and `${VAR:-default}` in every string value. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (dflt !== undefined) return dflt;
      throw new FloeError('config_invalid', `${path}: environment variable ${name} is not set`, { field: path });
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, path === '' ? k : `${path}.${k}`);
    return out;
  }
  return value;
}

/** Splits on commas outside parentheses: "bucket(16, id), day(ts)" → ["bucket(16, id)", "day(ts)"]. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

class Reader {
  constructor(private readonly root: Record<string, unknown>) {}
  private get(path: string): unknown {
    let cur: unknown = this.root;
    const parts = path.split('.');
    for (let i = 0; i < parts.length; ) {
      if (cur === null || typeof cur !== 'object') return undefined;
      const o = cur as Record<string, unknown>;
      // Keys may contain dots (tables.overrides."ns.table"): the longest key present wins.
      let j = parts.length;
      while (j > i + 1 && !Object.hasOwn(o, parts.slice(i, j).join('.'))) j--;
      cur = o[parts.slice(i, j).join('.')];
      i = j;
    }
    return cur;
  }
  fail(path: string, msg: string): never {
    throw new FloeError('config_invalid', `config ${path}: ${msg}`, { field: path });
  }
  str(path: string, dflt?: string): string {
    const v = this.get(path);
    if (v === undefined || v === null || v === '') {
      if (dflt !== undefined) return dflt;
      return this.fail(path, 'is required');
    }
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(path, `must be a string, got ${JSON.stringify(v)}`);
    return String(v);
  }
  optStr(path: string): string | undefined {
    const v = this.get(path);
    return v === undefined || v === null || v === '' ? undefined : this.str(path);
  }
  int(path: string, dflt: number, min: number, max: number): number {
    const v = this.get(path);
    const n = v === undefined || v === null ? dflt : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return this.fail(path, `must be an integer, got ${JSON.stringify(v)}`);
    if (n < min || n > max) return this.fail(path, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }
  /** A number (fractions allowed) with `min < n <= max` when `minExclusive`, else `min <= n <= max`. */
  num(path: string, dflt: number, min: number, max: number, minExclusive = false): number {
    const v = this.get(path);
    const n = v === undefined || v === null ? dflt : typeof v === 'string' && /^\d+(?:\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) return this.fail(path, `must be a number, got ${JSON.stringify(v)}`);
    if (minExclusive ? n <= min || n > max : n < min || n > max) return this.fail(path, `must be ${minExclusive ? 'above' : 'at least'} ${min} and at most ${max}, got ${n}`);
    return n;
  }
  bool(path: string, dflt: boolean): boolean {
    const v = this.get(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.fail(path, `must be true or false, got ${JSON.stringify(v)}`);
  }
  strList(path: string): string[] {
    const v = this.get(path);
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return splitTopLevel(v);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return this.fail(path, 'must be a list of strings');
    return v as string[];
  }
  map(path: string): Record<string, string> {
    const v = this.get(path);
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) return this.fail(path, 'must be a mapping');
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = String(x);
    return out;
  }
  raw(path: string): unknown {
    return this.get(path);
  }
}

function formatVersion(r: Reader, path: string, dflt: 1 | 2 | 3): 1 | 2 | 3 {
  return r.int(path, dflt, 1, 3) as 1 | 2 | 3;
}

function oneOf<X extends string>(r: Reader, path: string, allowed: readonly X[], dflt: X): X {
  const v = r.str(path, dflt);
  if (!(allowed as readonly string[]).includes(v)) return r.fail(path, `must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as X;
}

const TRANSFORMS_WITHOUT_WIDTH = ['identity', 'year', 'month', 'day', 'hour', 'void'];
const TRANSFORMS_WITH_WIDTH = ['bucket', 'truncate'];

/**
 * What is wrong with the transform of a partition or sort expression (`months(ts)`, `bucket(id)`), or null. Known
 * now rather than when the first record creates the table (the column types are only known then: table-stop.ts).
 */
function transformProblem(expr: string): string | null {
  const m = /^(\w+)\(\s*(\d+\s*,\s*)?[\w.]+\s*\)/.exec(expr.trim());
  if (m === null) return null;
  const fn = (m[1] ?? '').toLowerCase();
  const width = m[2] !== undefined;
  if (TRANSFORMS_WITH_WIDTH.includes(fn)) return width ? null : `"${expr}": ${fn} needs a ${fn === 'bucket' ? 'bucket count, e.g. bucket(16, id)' : 'width, e.g. truncate(4, name)'}`;
  if (TRANSFORMS_WITHOUT_WIDTH.includes(fn)) return width ? `"${expr}": ${fn} takes only a column, e.g. ${fn}(created_at)` : null;
  const near = nearest(fn, [...TRANSFORMS_WITHOUT_WIDTH, ...TRANSFORMS_WITH_WIDTH]);
  return `unknown transform "${m[1] ?? ''}" in "${expr}"${near !== undefined ? `; did you mean ${near}?` : ''} (transforms: year, month, day, hour, bucket(N, col), truncate(W, col), identity, void)`;
}

/** Table options under `base` (tables.defaults or tables.overrides.<name>); only the keys present. */
function tableOptions(r: Reader, base: string): TableOptionsConfig {
  const has = (k: string) => r.raw(`${base}.${k}`) !== undefined;
  const list = (k: string, re: RegExp, what: string) => {
    const xs = r.strList(`${base}.${k}`);
    for (const x of xs) {
      if (!re.test(x.trim())) r.fail(`${base}.${k}`, `cannot parse "${x}" (expected ${what})`);
      const problem = transformProblem(x);
      if (problem !== null) r.fail(`${base}.${k}`, problem);
    }
    return xs;
  };
  const properties = has('properties') ? r.map(`${base}.properties`) : undefined;
  if (properties !== undefined) {
    const codec = properties['write.parquet.compression-codec'];
    if (codec !== undefined) parseCodec(codec, `${base}.properties.write.parquet.compression-codec`);
    const size = properties['write.target-file-size-bytes'];
    if (size !== undefined && !(/^\d+$/.test(size) && Number(size) >= LIMITS.targetFileSizeBytesMin && Number(size) <= LIMITS.targetFileSizeBytesMax)) {
      r.fail(`${base}.properties.write.target-file-size-bytes`, `must be an integer from ${LIMITS.targetFileSizeBytesMin} to ${LIMITS.targetFileSizeBytesMax}, got "${size}"`);
    }
  }
  return {
    ...(has('partitionBy') ? { partitionBy: list('partitionBy', PARTITION_EXPR, 'e.g. day(created_at), bucket(16, id), region') } : {}),
    ...(has('sortBy') ? { sortBy: list('sortBy', SORT_EXPR, 'e.g. created_at desc nulls last, id') } : {}),
    ...(has('formatVersion') ? { formatVersion: formatVersion(r, `${base}.formatVersion`, 2) } : {}),
    ...(properties !== undefined ? { properties } : {}),
    ...(has('onIncompatibleChange') ? { onIncompatibleChange: oneOf(r, `${base}.onIncompatibleChange`, ['fail', 'new-column'] as const, 'fail') } : {}),
    ...(has('deleteMode') ? { deleteMode: oneOf(r, `${base}.deleteMode`, ['position', 'dv', 'equality'] as const, 'position') } : {}),
    ...(has('onDuplicateKeys') ? { onDuplicateKeys: oneOf(r, `${base}.onDuplicateKeys`, ['repair', 'fail'] as const, 'repair') } : {}),
    ...(has('maintenance') ? { maintenance: oneOf(r, `${base}.maintenance`, ['managed', 'floe'] as const, 'floe') } : {}),
  };
}

/** S3 Tables names: 1-255 lowercase letters, digits and `_`, starting and ending with a letter or digit. */
const S3_TABLES_NAME = /^[a-z0-9](?:[a-z0-9_]{0,253}[a-z0-9])?$/;
const S3_TABLES_ENDPOINT = /^https:\/\/s3tables\.([a-z0-9-]+)\.amazonaws\.com\/iceberg\/?$/;
const S3_TABLES_BUCKET_ARN = /^arn:aws[a-z-]*:s3tables:([a-z0-9-]+):(\d{12}):bucket\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const GLUE_ENDPOINT = /^https:\/\/glue\.([a-z0-9-]+)\.amazonaws\.com\/iceberg\/?$/;

/**
 * What the AWS REST catalogs refuse, caught at startup rather than at the first commit:
 *   S3 Tables (https://s3tables.<region>.amazonaws.com/iceberg, signing name s3tables): the warehouse is the table
 *   bucket ARN in the endpoint's region; namespaces have one level (no nesting); names are lowercase letters,
 *   digits and `_` (the router makes routed names legal; overrides must already be), namespaces not starting
 *   with "aws".
 *   Glue (https://glue.<region>.amazonaws.com/iceberg, signing name glue): the warehouse is the catalog id (the
 *   account id, or <account>:s3tablescatalog/<bucket> for S3 Tables through Glue).
 */
function awsCatalogRules(r: Reader, catalog: { readonly uri: string; readonly warehouse?: string; readonly auth: RestAuthConfig }, routePattern: string, overrides: readonly string[]): void {
  const auth = catalog.auth;
  const s3tables = S3_TABLES_ENDPOINT.exec(catalog.uri);
  const glue = GLUE_ENDPOINT.exec(catalog.uri);
  // Only AWS's endpoints: S3-Tables-like servers (SeaweedFS) sign as s3tables with other warehouses.
  if (s3tables !== null) {
    if (auth.type !== 'sigv4') r.fail('catalog.auth.type', 'S3 Tables takes SigV4: set catalog.auth.type: sigv4 with signingName s3tables');
    else if (auth.signingName !== 's3tables') r.fail('catalog.auth.signingName', `S3 Tables signs as "s3tables", got "${auth.signingName}"`);
    const arn = S3_TABLES_BUCKET_ARN.exec(catalog.warehouse ?? '');
    if (arn === null) r.fail('catalog.warehouse', `S3 Tables needs the table bucket ARN (arn:aws:s3tables:<region>:<account>:bucket/<name>), got "${catalog.warehouse ?? ''}"`);
    const endpointRegion = s3tables[1];
    if (arn !== null && endpointRegion !== undefined && arn[1] !== endpointRegion) r.fail('catalog.warehouse', `the table bucket is in ${arn[1]}, the endpoint in ${endpointRegion}`);
    if (auth.type === 'sigv4' && endpointRegion !== undefined && auth.region !== '' && auth.region !== endpointRegion) r.fail('catalog.auth.region', `signs for ${auth.region}, the endpoint is in ${endpointRegion}`);
    if (routePattern.split('.').length !== 2) r.fail('route.pattern', `S3 Tables has one namespace level: the pattern must be "<namespace>.<table>", got "${routePattern}"`);
    for (const name of overrides) {
      const [ns, table, ...rest] = name.split('.');
      if (rest.length > 0 || ns === undefined || table === undefined) r.fail(`tables.overrides.${name}`, 'S3 Tables has one namespace level: "<namespace>.<table>"');
      else if (!S3_TABLES_NAME.test(ns) || ns.startsWith('aws')) r.fail(`tables.overrides.${name}`, `namespace "${ns}" is not an S3 Tables name (lowercase letters, digits, _; not starting with "aws")`);
      else if (!S3_TABLES_NAME.test(table)) r.fail(`tables.overrides.${name}`, `table "${table}" is not an S3 Tables name (lowercase letters, digits, _)`);
    }
  } else if (glue !== null) {
    if (auth.type !== 'sigv4' || auth.signingName !== 'glue') r.fail('catalog.auth', 'the Glue Iceberg REST endpoint takes SigV4 with signingName glue');
    if (!/^\d{12}(?::s3tablescatalog\/[a-z0-9-]+)?$/.test(catalog.warehouse ?? '')) r.fail('catalog.warehouse', `Glue needs the catalog id: the account id, or <account>:s3tablescatalog/<table bucket>, got "${catalog.warehouse ?? ''}"`);
  }
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The `maintenance` section (rules across its fields and other sections: maintenanceRules). */
function maintenanceConfig(r: Reader, commitTargetFileSizeBytes: number): MaintenanceConfig {
  const target = r.int('maintenance.rewriteData.targetFileSizeBytes', commitTargetFileSizeBytes, LIMITS.targetFileSizeBytesMin, LIMITS.targetFileSizeBytesMax);
  // A group must hold at least one output file's worth; a run at least one group: the defaults grow with the target.
  const groupBytesMax = r.int('maintenance.rewriteData.groupBytesMax', Math.max(GiB, target), LIMITS.targetFileSizeBytesMin, 1024 * GiB);
  return {
    enabled: r.bool('maintenance.enabled', true),
    intervalMs: r.int('maintenance.intervalMs', 10 * 60_000, 1_000, 30 * 24 * 3_600_000),
    budgetMs: r.int('maintenance.budgetMs', 60_000, 1_000, 24 * 3_600_000),
    rewriteData: {
      enabled: r.bool('maintenance.rewriteData.enabled', true),
      targetFileSizeBytes: target,
      minFileSizeRatio: r.num('maintenance.rewriteData.minFileSizeRatio', 0.75, 0, 1, true),
      deleteRatioMin: r.num('maintenance.rewriteData.deleteRatioMin', 0.2, 0, 1, true),
      minInputFiles: r.int('maintenance.rewriteData.minInputFiles', 5, 1, 100_000),
      groupBytesMax,
      runBytesMax: r.int('maintenance.rewriteData.runBytesMax', Math.max(4 * GiB, groupBytesMax), LIMITS.targetFileSizeBytesMin, 64 * 1024 * GiB),
      commitAttemptsMax: r.int('maintenance.rewriteData.commitAttemptsMax', 4, 1, 100),
    },
    rewriteDeletes: {
      enabled: r.bool('maintenance.rewriteDeletes.enabled', true),
      convertEqualityDeletes: r.bool('maintenance.rewriteDeletes.convertEqualityDeletes', true),
      minInputFiles: r.int('maintenance.rewriteDeletes.minInputFiles', 2, 1, 100_000),
    },
    manifests: {
      enabled: r.bool('maintenance.manifests.enabled', true),
      // Iceberg's commit.manifest.target-size-bytes default.
      targetManifestBytes: r.int('maintenance.manifests.targetManifestBytes', 8 * MiB, 64 * 1024, GiB),
      // Merge whenever it lowers the count: readers open every manifest a snapshot lists (a GET each on S3), and
      // a run's rewrite reads only manifests below the target size (a compaction leaves one per group it commits).
      minManifests: r.int('maintenance.manifests.minManifests', 2, 2, 1_000_000),
    },
    expire: {
      enabled: r.bool('maintenance.expire.enabled', true),
      // Iceberg's history.expire.max-snapshot-age-ms default (5 days).
      olderThanMs: r.int('maintenance.expire.olderThanMs', 5 * 24 * 3_600_000, LIMITS.expireOlderThanMsMin, 3650 * 24 * 3_600_000),
      // Iceberg keeps 1 (history.expire.min-snapshots-to-keep). floe keeps 100: with olderThanMs shortened for a
      // table committed every few seconds, the last 100 commits stay for time travel and for incremental readers
      // (a streaming read resumes from a snapshot id) that lag a few minutes, for about a kilobyte of table metadata each.
      keepLast: r.int('maintenance.expire.keepLast', 100, 1, 100_000),
    },
    orphans: {
      enabled: r.bool('maintenance.orphans.enabled', true),
      // DeleteOrphanFiles' default age (3 days).
      olderThanMs: r.int('maintenance.orphans.olderThanMs', 3 * 24 * 3_600_000, LIMITS.orphanOlderThanMsMin, 3650 * 24 * 3_600_000),
    },
  };
}

function maintenanceRules(r: Reader, cfg: FloeConfig): void {
  const m = cfg.maintenance;
  const rd = m.rewriteData;
  if (rd.groupBytesMax < rd.targetFileSizeBytes) r.fail('maintenance.rewriteData.groupBytesMax', `must be at least maintenance.rewriteData.targetFileSizeBytes (${rd.targetFileSizeBytes}): a group fills at least one output file`);
  if (rd.runBytesMax < rd.groupBytesMax) r.fail('maintenance.rewriteData.runBytesMax', `must be at least maintenance.rewriteData.groupBytesMax (${rd.groupBytesMax}): a run rewrites at least one group`);
  // Files uploaded for a commit are referenced only once it lands, which can take a commit interval plus a whole
  // outage ridden out (commit.retry.maxElapsedMs): younger files may be a commit's still in flight.
  const inFlightMs = cfg.commit.retry.maxElapsedMs + cfg.commit.intervalMs;
  if (m.orphans.olderThanMs <= inFlightMs) r.fail('maintenance.orphans.olderThanMs', `must exceed commit.retry.maxElapsedMs + commit.intervalMs (${inFlightMs}): younger unreferenced files may belong to a commit still in flight`);
  // The background run shares the process with the main loop: a run longer than the liveness limit would fail /healthz.
  if (m.budgetMs >= cfg.metrics.livenessStallMs) r.fail('maintenance.budgetMs', `must be below metrics.livenessStallMs (${cfg.metrics.livenessStallMs}): a longer background run would fail the liveness probe`);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * One core stays with the main thread (librdkafka, dispatch, catalog commits). On two cores or fewer the
 * hand-off costs more than it gains (measured: 37-48k events/s in-process vs 30-39k with one worker on this
 * 2-core machine), so the windows stay in the main thread there.
 */
export function defaultWorkerCount(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 1);
}

export function validateConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): FloeConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new FloeError('config_invalid', 'config must be a mapping at the top level');
  rejectUnknownKeys(input); // a misspelt key is an error, not a setting silently ignored (keys.ts)
  const r = new Reader(substituteEnv(input, env) as Record<string, unknown>);

  const topics = r.strList('kafka.topics');
  const topicPattern = r.optStr('kafka.topicPattern');
  if (topics.length === 0 && topicPattern === undefined) r.fail('kafka.topics', 'set kafka.topics or kafka.topicPattern');
  if (topics.length > 0 && topicPattern !== undefined) r.fail('kafka.topicPattern', 'set either kafka.topics or kafka.topicPattern, not both');
  if (topicPattern !== undefined) {
    try {
      new RegExp(topicPattern);
    } catch (e) {
      r.fail('kafka.topicPattern', `invalid regular expression: ${(e as Error).message}`);
    }
  }
  const kafkaProps: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(r.map('kafka.properties'))) kafkaProps[k] = v;
  const groupInstanceId = r.optStr('kafka.groupInstanceId') ?? env.FLOE_GROUP_INSTANCE_ID;
  const kafkaAuthType = oneOf(r, 'kafka.auth.type', ['none', 'scram', 'msk-iam', 'oauthbearer-unsecured'] as const, 'none');
  let kafkaAuth: KafkaAuthConfig;
  if (kafkaAuthType === 'scram') {
    kafkaAuth = {
      type: 'scram',
      mechanism: oneOf(r, 'kafka.auth.mechanism', ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const, 'SCRAM-SHA-512'),
      username: r.str('kafka.auth.username'),
      password: r.str('kafka.auth.password'),
    };
  } else if (kafkaAuthType === 'msk-iam') {
    kafkaAuth = { type: 'msk-iam', region: r.str('kafka.auth.region', env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '') };
    if (kafkaAuth.region === '') r.fail('kafka.auth.region', 'is required for msk-iam (or set AWS_REGION)');
  } else if (kafkaAuthType === 'oauthbearer-unsecured') {
    kafkaAuth = { type: 'oauthbearer-unsecured', principal: r.str('kafka.auth.principal', 'floe'), lifetimeMs: r.int('kafka.auth.lifetimeMs', 3_600_000, 2_000, 86_400_000) };
  } else {
    kafkaAuth = { type: 'none' };
  }
  // TLS: on whenever SASL is (MSK serves SASL only over TLS), unless turned off explicitly.
  const kafkaTls: KafkaTlsConfig = {
    enabled: r.bool('kafka.tls.enabled', kafkaAuth.type !== 'none'),
    ...(r.optStr('kafka.tls.caLocation') !== undefined ? { caLocation: r.str('kafka.tls.caLocation') } : {}),
  };
  for (const k of ['security.protocol', 'sasl.mechanisms', 'sasl.username', 'sasl.password']) {
    if (kafkaAuth.type !== 'none' && k in kafkaProps) r.fail(`kafka.properties.${k}`, `is set by kafka.auth (${kafkaAuth.type}): remove it from kafka.properties`);
  }

  const catalogType = r.str('catalog.type');
  let catalog: FloeConfig['catalog'];
  if (catalogType === 'rest') {
    const authType = r.str('catalog.auth.type', 'none');
    let auth: RestAuthConfig;
    if (authType === 'none') auth = { type: 'none' };
    else if (authType === 'sigv4') {
      auth = {
        type: 'sigv4',
        signingName: r.str('catalog.auth.signingName', 's3tables'),
        region: r.str('catalog.auth.region', env.AWS_REGION ?? ''),
        ...(r.optStr('catalog.auth.accessKeyId') !== undefined ? { accessKeyId: r.str('catalog.auth.accessKeyId'), secretAccessKey: r.str('catalog.auth.secretAccessKey') } : {}),
      };
    } else if (authType === 'oauth2') {
      auth = {
        type: 'oauth2',
        clientId: r.str('catalog.auth.clientId'),
        clientSecret: r.str('catalog.auth.clientSecret'),
        ...(r.optStr('catalog.auth.serverUri') !== undefined ? { serverUri: r.str('catalog.auth.serverUri') } : {}),
        ...(r.optStr('catalog.auth.scope') !== undefined ? { scope: r.str('catalog.auth.scope') } : {}),
      };
    } else if (authType === 'bearer') auth = { type: 'bearer', token: r.str('catalog.auth.token') };
    else return r.fail('catalog.auth.type', `must be none, sigv4, oauth2 or bearer, got "${authType}"`);
    const uri = r.str('catalog.uri');
    if (!/^https?:\/\//.test(uri)) r.fail('catalog.uri', `must be an http(s) URL, got "${uri}"`);
    catalog = { type: 'rest', name: r.str('catalog.name', 'rest'), uri, ...(r.optStr('catalog.warehouse') !== undefined ? { warehouse: r.str('catalog.warehouse') } : {}), auth };
  } else if (catalogType === 'sql') {
    catalog = { type: 'sql', name: r.str('catalog.name', 'floe'), path: r.str('catalog.path'), warehouse: r.str('catalog.warehouse') };
  } else {
    return r.fail('catalog.type', `must be rest or sql, got "${catalogType}"`);
  }

  const codec = parseCodec(r.str('commit.codec', 'zstd'), 'config commit.codec');
  const defaults = tableOptions(r, 'tables.defaults');
  const overrides: Record<string, TableOptionsConfig> = {};
  const rawOverrides = r.raw('tables.overrides');
  if (rawOverrides !== undefined && rawOverrides !== null) {
    if (typeof rawOverrides !== 'object' || Array.isArray(rawOverrides)) r.fail('tables.overrides', 'must be a mapping of table name to options');
    for (const name of Object.keys(rawOverrides)) {
      const base = `tables.overrides.${name}`;
      if (!/^[a-z0-9_]+\.[a-z0-9_]+$/.test(name)) r.fail(base, 'table names must be "namespace.table" in lowercase letters, digits and _ (as routed)');
      overrides[name] = tableOptions(r, base);
    }
  }
  const intervalMs = r.int('commit.intervalMs', 10_000, LIMITS.commitIntervalMsMin, LIMITS.commitIntervalMsMax);
  const shutdownMs = r.int('shutdown.timeoutMs', 60_000, 1_000, 3_600_000);
  const commitTargetFileSizeBytes = r.int('commit.targetFileSizeBytes', 512 * 1024 * 1024, LIMITS.targetFileSizeBytesMin, LIMITS.targetFileSizeBytesMax);
  const workers = { count: r.int('workers.count', defaultWorkerCount(), 0, 64), queueMax: r.int('workers.queueMax', 4, 1, 1024), heapMb: r.int('workers.heapMb', 2048, 128, 65_536) };
  const cfg: FloeConfig = {
    kafka: {
      brokers: r.str('kafka.brokers', env.FLOE_KAFKA_BROKERS ?? ''),
      groupId: r.str('kafka.groupId', 'floe'),
      ...(groupInstanceId !== undefined && groupInstanceId !== '' ? { groupInstanceId } : {}),
      ...(topics.length > 0 ? { topics } : {}),
      ...(topicPattern !== undefined ? { topicPattern } : {}),
      deadLetterTopic: r.str('kafka.deadLetterTopic', 'floe.dead-letter'),
      properties: kafkaProps,
      auth: kafkaAuth,
      tls: kafkaTls,
    },
    catalog,
    s3: {
      ...(r.optStr('s3.region') !== undefined ? { region: r.str('s3.region') } : {}),
      ...(r.optStr('s3.endpoint') !== undefined ? { endpoint: r.str('s3.endpoint') } : {}),
      pathStyle: r.bool('s3.pathStyle', r.optStr('s3.endpoint') !== undefined),
      ...(r.optStr('s3.accessKeyId') !== undefined ? { accessKeyId: r.str('s3.accessKeyId'), secretAccessKey: r.str('s3.secretAccessKey') } : {}),
    },
    decode: {
      idColumns: r.strList('decode.idColumns'),
      ...(r.optStr('decode.cdcField') !== undefined ? { cdcField: r.str('decode.cdcField') } : {}),
      timeAs: oneOf(r, 'decode.timeAs', ['time', 'micros', 'string'] as const, 'time'),
      outOfRange: oneOf(r, 'decode.outOfRange', ['dead-letter', 'null'] as const, 'dead-letter'),
      ...(r.optStr('decode.schemaRegistry.url') !== undefined
        ? {
            schemaRegistry: {
              url: r.str('decode.schemaRegistry.url'),
              ...(r.optStr('decode.schemaRegistry.username') !== undefined ? { username: r.str('decode.schemaRegistry.username'), password: r.str('decode.schemaRegistry.password', '') } : {}),
            },
          }
        : {}),
    },
    route: { pattern: r.str('route.pattern', '{db}.{table}'), include: r.strList('route.include'), exclude: r.strList('route.exclude') },
    tables: {
      autoCreate: r.bool('tables.autoCreate', true),
      defaults: {
        partitionBy: defaults.partitionBy ?? [],
        sortBy: defaults.sortBy ?? [],
        formatVersion: defaults.formatVersion ?? 2,
        properties: defaults.properties ?? {},
        onIncompatibleChange: defaults.onIncompatibleChange ?? 'fail',
        deleteMode: defaults.deleteMode ?? ((defaults.formatVersion ?? 2) >= 3 ? 'dv' : 'position'),
        onDuplicateKeys: defaults.onDuplicateKeys ?? 'repair',
        // S3 Tables compacts, expires snapshots and removes unreferenced files itself, on by default: a second
        // maintainer would fight its commits and pay for the work twice (and its buckets list no objects for
        // orphan removal).
        maintenance: defaults.maintenance ?? (catalog.type === 'rest' && S3_TABLES_ENDPOINT.test(catalog.uri) ? 'managed' : 'floe'),
      },
      overrides,
    },
    commit: {
      intervalMs,
      bufferBytesMax: r.int('commit.bufferBytesMax', 512 * 1024 * 1024, LIMITS.bufferBytesMin, LIMITS.bufferBytesMax),
      targetFileSizeBytes: commitTargetFileSizeBytes,
      codec,
      tableCommitsInFlightMax: r.int('commit.tableCommitsInFlightMax', 8, 1, 256),
      deletionVectorFiles: oneOf(r, 'commit.deletionVectorFiles', ['data/*.puffin', 'metadata/*.stats'] as const, 'data/*.puffin'),
      deletionVectorsPerFileMax: r.int('commit.deletionVectorsPerFileMax', 1, 1, 100_000),
      retry: {
        maxElapsedMs: r.int('commit.retry.maxElapsedMs', 15 * 60_000, 0, 7 * 24 * 3_600_000),
        backoffBaseMs: r.int('commit.retry.backoffBaseMs', 1_000, 1, 600_000),
        backoffMaxMs: r.int('commit.retry.backoffMaxMs', 30_000, 1, 3_600_000),
      },
    },
    consume: { batchMax: r.int('consume.batchMax', 10_000, 1, LIMITS.consumeBatchMax), timeoutMs: r.int('consume.timeoutMs', 200, 1, 60_000) },
    workers,
    shutdown: { timeoutMs: shutdownMs },
    metrics: {
      enabled: r.bool('metrics.enabled', true),
      host: r.str('metrics.host', '0.0.0.0'),
      port: r.int('metrics.port', 9464, 0, 65_535),
      livenessStallMs: r.int('metrics.livenessStallMs', 300_000, 1_000, 3_600_000),
    },
    maintenance: maintenanceConfig(r, commitTargetFileSizeBytes),
    index: { memoryBytesMax: indexMemoryBytesMax(r, workers), spillDir: r.str('index.spillDir', join(tmpdir(), 'floe-index')), bootstrapThreads: r.int('index.bootstrapThreads', 0, 0, 64), shardByPartition: r.bool('index.shardByPartition', true) },
  };
  // Cross-field rules.
  if (cfg.kafka.brokers === '') r.fail('kafka.brokers', 'is required (or set FLOE_KAFKA_BROKERS)');
  if (cfg.commit.intervalMs >= cfg.shutdown.timeoutMs) r.fail('shutdown.timeoutMs', `must exceed commit.intervalMs (${cfg.commit.intervalMs}) so a final commit fits in a shutdown`);
  if (cfg.kafka.topics?.includes(cfg.kafka.deadLetterTopic) === true) r.fail('kafka.deadLetterTopic', 'must not be one of the consumed topics');
  if (cfg.catalog.type === 'rest' && cfg.catalog.auth.type === 'sigv4' && cfg.catalog.auth.region === '') r.fail('catalog.auth.region', 'is required for sigv4 (or set AWS_REGION)');
  if (cfg.catalog.type === 'rest') awsCatalogRules(r, cfg.catalog, cfg.route.pattern, Object.keys(cfg.tables.overrides));
  if (cfg.route.pattern.split('.').length < 2) r.fail('route.pattern', 'must name a namespace and a table, e.g. "{db}.{table}"');
  for (const [name, o] of Object.entries(cfg.tables.overrides)) {
    if (o.formatVersion === 1) r.fail(`tables.overrides.${name}.formatVersion`, 'upserts need row-level deletes: format version 2 or 3');
    const version = o.formatVersion ?? cfg.tables.defaults.formatVersion;
    const mode = o.deleteMode ?? (o.formatVersion === undefined ? cfg.tables.defaults.deleteMode : undefined);
    if (version === 3 && mode === 'position') r.fail(`tables.overrides.${name}.deleteMode`, 'format version 3 tables take deletion vectors, not position delete files: use dv (or equality)');
    if (version === 2 && mode === 'dv') r.fail(`tables.overrides.${name}.deleteMode`, 'deletion vectors need format version 3: use position (or equality), or formatVersion: 3');
  }
  const d = cfg.tables.defaults;
  if (d.formatVersion === 3 && d.deleteMode === 'position') r.fail('tables.defaults.deleteMode', 'format version 3 tables take deletion vectors, not position delete files: use dv (or equality)');
  if (d.formatVersion === 2 && d.deleteMode === 'dv') r.fail('tables.defaults.deleteMode', 'deletion vectors need format version 3: use position (or equality), or formatVersion: 3');
  if (cfg.workers.count > 0 && cfg.workers.heapMb * 1024 * 1024 < cfg.commit.bufferBytesMax / cfg.workers.count) {
    r.fail('workers.heapMb', `each worker holds up to commit.bufferBytesMax / workers.count of windows; ${cfg.workers.heapMb} MB is below that`);
  }
  if (cfg.tables.defaults.formatVersion === 1) r.fail('tables.defaults.formatVersion', 'upserts need row-level deletes: format version 2 or 3');
  if (cfg.commit.retry.backoffBaseMs > cfg.commit.retry.backoffMaxMs) r.fail('commit.retry.backoffBaseMs', `must not exceed commit.retry.backoffMaxMs (${cfg.commit.retry.backoffMaxMs})`);
  maintenanceRules(r, cfg);
  return deepFreeze(cfg);
}

/** Below this the index budget is a mistake (small budgets are for tests of spilling). */
const INDEX_MEMORY_MIN_BYTES = 1024 * 1024;
/** Of what the memory limit leaves beside the heaps, the default index budget takes this share (the rest: Parquet encoding, S3 buffers, the OS). */
const INDEX_MEMORY_DEFAULT_SHARE = 0.6;

/** The V8 heaps the process may grow to: the main thread's and every worker's. */
function heapsBytes(workers: FloeConfig['workers']): number {
  return mainHeapLimitBytes() + workers.count * workers.heapMb * 1024 * 1024;
}

/** The index budget when none is set: a share of what the memory limit leaves beside the heaps. */
export function defaultIndexMemoryBytesMax(workers: FloeConfig['workers']): number {
  return Math.max(INDEX_MEMORY_MIN_BYTES, Math.floor((memoryLimit().bytes - heapsBytes(workers)) * INDEX_MEMORY_DEFAULT_SHARE));
}

/**
 * `index.memoryBytesMax`: checked against the memory limit less the V8 heaps the process may grow to (the main
 * thread's and `workers.count × workers.heapMb`), or derived from what they leave.
 */
function indexMemoryBytesMax(r: Reader, workers: FloeConfig['workers']): number {
  const limit = memoryLimit();
  const left = limit.bytes - heapsBytes(workers);
  const explicit = r.raw('index.memoryBytesMax');
  if (explicit === undefined || explicit === null) return defaultIndexMemoryBytesMax(workers);
  const n = r.int('index.memoryBytesMax', 0, INDEX_MEMORY_MIN_BYTES, Number.MAX_SAFE_INTEGER);
  if (n > left) {
    const mb = (x: number) => `${Math.round(x / 2 ** 20)} MB`;
    r.fail('index.memoryBytesMax', `${mb(n)} does not fit: the memory limit (${mb(limit.bytes)}, ${limit.source}) less the V8 heaps (main ${mb(mainHeapLimitBytes())} + workers.count ${workers.count} × workers.heapMb ${workers.heapMb} MB) leaves ${mb(Math.max(0, left))}`);
  }
  return n;
}

/** `warn`: where a Kafka Connect config's keys floe does not use are reported (once, all of them). */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, warn: (msg: string, fields: Record<string, unknown>) => void = () => undefined): Promise<FloeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new FloeError('config_invalid', `cannot read config file ${path}: ${(e as Error).message}`, { path }, e);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new FloeError('config_invalid', `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { path }, e);
  }
  if (isKafkaConnectConfig(doc)) {
    const cfg = validateConfig(fromKafkaConnect(doc, env), env);
    const unmapped = unmappedKafkaConnectKeys(doc);
    if (unmapped.length > 0) warn('Kafka Connect config: floe does not use these iceberg.* keys (see src/config/kafka-connect.ts for what it maps)', { path, keys: unmapped });
    return cfg;
  }
  return validateConfig(doc, env);
}
