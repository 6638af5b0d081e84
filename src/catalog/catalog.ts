/**
 * The catalog contract floe commits through. A catalog owns the pointer from a table name to its current
 * metadata file and swaps it atomically: `commitTable` checks the requirements against the current metadata
 * and applies the updates, or fails with `commit_conflict` (someone committed first) or
 * `commit_state_unknown` (the outcome is unknown: check the table before doing anything else).
 */
import { FloeError } from '../errors.js';
import { backoffSleep } from '../retry.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import type { Schema } from '../iceberg/schema.js';
import type { SortOrder } from '../iceberg/sort-order.js';
import type { TableMetadata, TableRequirement, TableUpdate } from '../iceberg/table-metadata.js';
import type { FileIO } from '../io/file-io.js';

export interface TableIdentifier {
  readonly namespace: readonly string[];
  readonly name: string;
}

export function parseIdentifier(s: string): TableIdentifier {
  const parts = s.split('.');
  const name = parts.pop();
  if (name === undefined || name === '' || parts.length === 0 || parts.some((p) => p === '')) {
    throw new FloeError('config_invalid', `table identifier must be "namespace.table", got "${s}"`, { identifier: s });
  }
  return { namespace: parts, name };
}

export function identifierToString(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

export interface LoadedTable {
  readonly identifier: TableIdentifier;
  readonly metadataLocation: string;
  readonly metadata: TableMetadata;
  /** Storage for this table's files (the REST catalog may vend per-table config). */
  readonly io: FileIO;
  /** The properties `io` was built from (so worker threads can build the same FileIO). */
  readonly ioProps?: Readonly<Record<string, string>>;
}

export interface CreateTableOptions {
  readonly schema: Schema;
  readonly spec?: PartitionSpec;
  readonly sortOrder?: SortOrder;
  readonly properties?: Readonly<Record<string, string>>;
  readonly location?: string;
  readonly formatVersion?: 1 | 2 | 3;
}

export interface Catalog {
  readonly name: string;
  createNamespace(namespace: readonly string[], properties?: Readonly<Record<string, string>>): Promise<void>;
  namespaceExists(namespace: readonly string[]): Promise<boolean>;
  /** The namespaces directly under `parent` (the top-level ones without it), sorted. */
  listNamespaces(parent?: readonly string[]): Promise<string[][]>;
  /** The tables of one namespace (not of its children), sorted by name; catalog_not_found when it does not exist. */
  listTables(namespace: readonly string[]): Promise<TableIdentifier[]>;
  createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable>;
  loadTable(id: TableIdentifier): Promise<LoadedTable>;
  tableExists(id: TableIdentifier): Promise<boolean>;
  commitTable(table: LoadedTable, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable>;
  dropTable(id: TableIdentifier, purge?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Pages a catalog listing may take (REST `next-page-token`) before floe gives up: a server that keeps paging is broken. */
export const LIST_PAGES_MAX = 1_000;

/** Attempts at a namespace or table create whose failures are transient (5xx, timeouts) before giving up. */
export const CREATE_ATTEMPTS_MAX = 5;
/** First pause between create attempts; doubled each attempt, with jitter. */
const CREATE_BACKOFF_BASE_MS = 200;

function transient(e: unknown): boolean {
  return e instanceof FloeError && e.retry === 'transient';
}

/** Catalog retries back off from this, up to `CATALOG_BACKOFF.maxMs`. */
export const CATALOG_BACKOFF = Object.freeze({ baseMs: CREATE_BACKOFF_BASE_MS, maxMs: 10_000 });

/**
 * Creates the namespace if it is missing (idempotent; a concurrent create by someone else is fine). A create
 * that failed transiently may have landed, or may have raced another replica's create of the same namespace
 * (SeaweedFS answers 500 "failed to check namespace: attribute not found" while that create is half done), so
 * existence is checked again before each retry, never a blind re-create.
 */
export async function ensureNamespace(catalog: Catalog, namespace: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await catalog.namespaceExists(namespace)) return;
    try {
      await catalog.createNamespace(namespace);
      return;
    } catch (e) {
      if (e instanceof FloeError && e.code === 'catalog_already_exists') return;
      if (!transient(e) || attempt >= CREATE_ATTEMPTS_MAX) throw e;
      await backoffSleep(attempt, CATALOG_BACKOFF);
    }
  }
}

/**
 * Creates the table, or loads it when another replica created it first (409). After a transient failure the
 * table is looked up before the create is retried: the failed request may have created it. A catalog that
 * answers racing creates with 200 each (SeaweedFS does, with a different table-uuid for each loser) is set right
 * by the first commit: its `assert-table-uuid` fails with 409, and the committer reloads the table.
 */
export async function createOrLoadTable(catalog: Catalog, id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await catalog.createTable(id, opts);
    } catch (e) {
      if (e instanceof FloeError && e.code === 'catalog_already_exists') return catalog.loadTable(id);
      if (!transient(e) || attempt >= CREATE_ATTEMPTS_MAX) throw e;
      await backoffSleep(attempt, CATALOG_BACKOFF);
    }
    try {
      return await catalog.loadTable(id);
    } catch (e) {
      if (!(e instanceof FloeError && e.code === 'catalog_not_found')) throw e;
    }
  }
}
