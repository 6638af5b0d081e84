/**
 * `floe verify`: the check to run after an incident or an upgrade. For each table: the key columns, the live
 * rows of the current snapshot, its distinct keys and its duplicate keys (a key with several live rows, which
 * breaks the one-live-row-per-key invariant every upsert relies on), found by the same index build the workers
 * use (index-build.ts), and the live files by kind.
 *
 * Memory: one table at a time; the table's key index (about 15 bytes a key for an integer key, about 25 plus
 * the key's bytes for other keys) plus the text of each duplicate key and what the scan holds while it reads
 * (see scan.ts). The rows a repair would delete are counted, not kept.
 */
import type { Catalog, LoadedTable, TableIdentifier } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { liveEntries } from '../iceberg/snapshot-files.js';
import { FloeError, describeError } from '../errors.js';
import { DataFileContent, isDeletionVector } from '../iceberg/data-file.js';
import { currentSchema, currentSnapshot } from '../iceberg/table-metadata.js';
import { isPrimitive, type NestedField } from '../iceberg/types.js';
import { buildKeyIndex, describeDuplicate } from '../worker/index-build.js';

/** `ok`: one live row per key; `duplicates`: some key has several; `no-key`: not checked; `error`: not read. */
export type VerifyStatus = 'ok' | 'duplicates' | 'no-key' | 'error';

/** The current snapshot's live files by kind. */
export interface FileCounts {
  readonly dataFiles: number;
  /** Position delete files (Parquet), deletion vectors not included. */
  readonly positionDeleteFiles: number;
  readonly deletionVectors: number;
  readonly equalityDeleteFiles: number;
}

export interface TableReport {
  /** `namespace.table`. */
  readonly table: string;
  readonly status: VerifyStatus;
  /** The columns checked for uniqueness; empty when the table has none (`no-key`) or could not be read. */
  readonly keyColumns: readonly string[];
  /** Where the key came from: the table's identifier fields, or `--key` for a table without them. */
  readonly keySource: 'identifier-fields' | 'key-option' | null;
  /** The snapshot checked (null for a table without one). */
  readonly snapshotId: bigint | null;
  /** Live rows (checked tables only). */
  readonly rows?: number;
  readonly distinctKeys?: number;
  /** Keys with more than one live row. */
  readonly duplicateKeys?: number;
  /** Live rows beyond one per key (rows − distinct keys): what a repair would delete. */
  readonly rowsTooMany?: number;
  /** Up to DUPLICATE_EXAMPLES_MAX duplicate keys with where their rows are (`describeDuplicate`). */
  readonly examples: readonly string[];
  readonly files?: FileCounts;
  /** Bytes the key index held for this table. */
  readonly indexBytes?: number;
  /** Why the table could not be read (`error` only): the error code and message. */
  readonly error?: string;
}

export interface VerifyOptions {
  /** Key columns for a table without identifier fields (a table with them is checked by them). */
  readonly key?: readonly string[];
  /** The key index's budget (PkIndex default when absent); a larger table is reported as an error. */
  readonly keysMax?: number;
}

/** Namespace levels `catalogTables` descends (REST and SQL catalogs may nest; S3 Tables has one level). */
export const NAMESPACE_DEPTH_MAX = 16;

/** A table of the catalog, or a namespace whose listing failed (its tables are not checked). */
export type CatalogEntry = { readonly table: TableIdentifier } | { readonly namespace: readonly string[]; readonly error: string };

/**
 * Every table of every namespace, namespace by namespace (depth first, sorted), without holding the whole
 * catalog's list: a namespace's tables, then its children. A catalog that refuses `parent` on a namespace's
 * listing (HTTP 400: it does not nest, like S3 Tables may) has no children there; any other failure is yielded
 * as that namespace's error.
 */
export async function* catalogTables(catalog: Catalog): AsyncGenerator<CatalogEntry> {
  async function* walk(parent: readonly string[]): AsyncGenerator<CatalogEntry> {
    let children: string[][];
    try {
      children = await catalog.listNamespaces(parent);
    } catch (e) {
      if (parent.length > 0 && e instanceof FloeError && e.code === 'catalog_bad_request') return;
      yield { namespace: parent, error: errorText(e) };
      return;
    }
    for (const ns of children) {
      // A child must be one level below its parent; a server that ignores `parent` answers the top level again.
      if (ns.length !== parent.length + 1 || parent.some((p, i) => ns[i] !== p)) continue;
      try {
        for (const table of await catalog.listTables(ns)) yield { table };
      } catch (e) {
        yield { namespace: ns, error: errorText(e) };
      }
      if (ns.length < NAMESPACE_DEPTH_MAX) yield* walk(ns);
    }
  }
  yield* walk([]);
}

/** Checks one table; never throws for the table's own failures (they are the report's `error`). */
export async function verifyTable(catalog: Catalog, id: TableIdentifier, opts: VerifyOptions = {}): Promise<TableReport> {
  const name = identifierToString(id);
  try {
    const table = await catalog.loadTable(id);
    const schema = currentSchema(table.metadata);
    const snapshotId = currentSnapshot(table.metadata)?.snapshotId ?? null;
    let keyFields: NestedField[];
    let keySource: TableReport['keySource'];
    if (schema.identifierFieldIds.length > 0) {
      keyFields = schema.identifierFieldIds.map((fid) => schema.fieldOrThrow(fid));
      keySource = 'identifier-fields';
    } else if (opts.key !== undefined && opts.key.length > 0) {
      keyFields = opts.key.map((col) => {
        const f = schema.fields.find((x) => x.name === col);
        if (f === undefined) throw new FloeError('config_invalid', `--key column "${col}" is not a column of ${name} (columns: ${schema.fields.map((x) => x.name).join(', ')})`, { field: '--key' });
        if (!isPrimitive(f.type)) throw new FloeError('config_invalid', `--key column "${col}" of ${name} is a ${f.type.kind}, not a primitive column`, { field: '--key' });
        return f;
      });
      keySource = 'key-option';
    } else {
      return { table: name, status: 'no-key', keyColumns: [], keySource: null, snapshotId, examples: [], files: await fileCounts(table) };
    }
    const files = await fileCounts(table);
    const built = await buildKeyIndex(table, keyFields, { collectRepairs: false, ...(opts.keysMax !== undefined ? { keysMax: opts.keysMax } : {}) });
    const names = keyFields.map((f) => f.name);
    const distinctKeys = built.index.size;
    return {
      table: name,
      status: built.duplicateKeys === 0 ? 'ok' : 'duplicates',
      keyColumns: names,
      keySource,
      snapshotId,
      rows: built.rows,
      distinctKeys,
      duplicateKeys: built.duplicateKeys,
      rowsTooMany: built.rows - distinctKeys,
      examples: built.examples.map((d) => describeDuplicate(names, d)),
      files,
      indexBytes: built.index.bytes,
    };
  } catch (e) {
    return { table: name, status: 'error', keyColumns: [], keySource: null, snapshotId: null, examples: [], error: errorText(e) };
  }
}

async function fileCounts(table: LoadedTable): Promise<FileCounts> {
  let dataFiles = 0;
  let positionDeleteFiles = 0;
  let deletionVectors = 0;
  let equalityDeleteFiles = 0;
  for (const e of await liveEntries(table)) {
    const f = e.dataFile;
    if (f.content === DataFileContent.DATA) dataFiles++;
    else if (isDeletionVector(f)) deletionVectors++;
    else if (f.content === DataFileContent.POSITION_DELETES) positionDeleteFiles++;
    else equalityDeleteFiles++;
  }
  return { dataFiles, positionDeleteFiles, deletionVectors, equalityDeleteFiles };
}

function errorText(e: unknown): string {
  return e instanceof FloeError ? `${e.code}: ${e.message}` : describeError(e);
}

/** The exit code for a run's reports (and listing failures): 2 when any table could not be read, else 1 when any has duplicate keys, else 0. */
export function exitCode(statuses: Iterable<VerifyStatus>): 0 | 1 | 2 {
  let code: 0 | 1 | 2 = 0;
  for (const s of statuses) {
    if (s === 'error') return 2;
    if (s === 'duplicates') code = 1;
  }
  return code;
}

/** A report as one JSON line's object: bigints as strings, absent counts left out. */
export function reportToJSON(r: TableReport): Record<string, unknown> {
  return {
    table: r.table,
    status: r.status,
    keyColumns: [...r.keyColumns],
    keySource: r.keySource,
    snapshotId: r.snapshotId === null ? null : String(r.snapshotId),
    ...(r.rows !== undefined ? { rows: r.rows, distinctKeys: r.distinctKeys, duplicateKeys: r.duplicateKeys, rowsTooMany: r.rowsTooMany } : {}),
    ...(r.files !== undefined ? { files: { ...r.files } } : {}),
    ...(r.indexBytes !== undefined ? { indexBytes: r.indexBytes } : {}),
    examples: [...r.examples],
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

const LABEL_WIDTH = 'equality delete files'.length + 2;

/** One aligned `label  value` line of a block. */
export function formatLine(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`;
}

/** A report as a human-readable block: a head line with the verdict, then one aligned `label  value` line each. */
export function formatReport(r: TableReport): string[] {
  const line = formatLine;
  const head =
    r.status === 'ok' ? 'ok: one live row per key'
    : r.status === 'duplicates' ? `DUPLICATE KEYS: ${r.duplicateKeys ?? 0} key(s), ${r.rowsTooMany ?? 0} row(s) too many`
    : r.status === 'no-key' ? 'no key: not checked (no identifier fields; --key names columns)'
    : 'ERROR: could not be read';
  const out = [`${r.table}  ${head}`];
  if (r.error !== undefined) {
    out.push(line('error', r.error));
    return out;
  }
  if (r.keyColumns.length > 0) out.push(line('key', `${r.keyColumns.join(', ')} (${r.keySource === 'key-option' ? '--key' : 'identifier fields'})`));
  out.push(line('snapshot', r.snapshotId === null ? 'none (empty table)' : String(r.snapshotId)));
  if (r.rows !== undefined) {
    out.push(line('live rows', String(r.rows)));
    out.push(line('distinct keys', String(r.distinctKeys)));
    out.push(line('duplicate keys', String(r.duplicateKeys)));
    out.push(line('rows too many', String(r.rowsTooMany)));
  }
  if (r.files !== undefined) {
    out.push(line('data files', String(r.files.dataFiles)));
    out.push(line('position delete files', String(r.files.positionDeleteFiles)));
    out.push(line('deletion vectors', String(r.files.deletionVectors)));
    out.push(line('equality delete files', String(r.files.equalityDeleteFiles)));
  }
  if (r.indexBytes !== undefined) out.push(line('key index bytes', String(r.indexBytes)));
  r.examples.forEach((ex, i) => out.push(line(i === 0 ? 'examples' : '', ex)));
  return out;
}
