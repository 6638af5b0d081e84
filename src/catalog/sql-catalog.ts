/**
 * The embedded catalog: Iceberg's JDBC/SQL catalog schema on SQLite, so pyiceberg's `SqlCatalog`, Spark's
 * `JdbcCatalog` and DuckDB can open floe's local tables. Schema (as pyiceberg and Java create it):
 *   iceberg_tables(catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
 *   iceberg_namespace_properties(catalog_name, namespace, property_key, property_value)
 * A commit writes a new metadata JSON file, then swaps the pointer with a compare-and-set UPDATE
 * (`... WHERE metadata_location = <the one we read>`): zero rows changed means someone else committed first.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { FloeError } from '../errors.js';
import { parseJsonExact, stringifyJsonExact } from '../iceberg/json.js';
import {
  applyUpdates,
  checkRequirements,
  newTableMetadata,
  tableMetadataFromJSON,
  tableMetadataToJSON,
  type TableMetadata,
  type TableRequirement,
  type TableUpdate,
} from '../iceberg/table-metadata.js';
import type { FileIO } from '../io/file-io.js';
import { joinPath } from '../io/file-io.js';
import type { Catalog, CreateTableOptions, LoadedTable, TableIdentifier } from './catalog.js';
import { identifierToString } from './catalog.js';

export interface SqlCatalogConfig {
  readonly name: string;
  /** SQLite database file. */
  readonly path: string;
  /** Warehouse root URI (`file:///...` or `s3://bucket/prefix`). */
  readonly warehouse: string;
  readonly io: FileIO;
}

/** Keep this many previous metadata files in `metadata-log` (Iceberg's `write.metadata.previous-versions-max`). */
const METADATA_LOG_MAX = 100;
const BUSY_TIMEOUT_MS = 5_000;

interface TableRow {
  metadata_location: string | null;
}

export class SqlCatalog implements Catalog {
  readonly name: string;
  private readonly db: Database.Database;

  constructor(private readonly cfg: SqlCatalogConfig) {
    this.name = cfg.name;
    try {
      this.db = new Database(cfg.path);
    } catch (e) {
      throw new FloeError('catalog_unreachable', `cannot open embedded catalog database ${cfg.path}: ${(e as Error).message}`, { path: cfg.path }, e);
    }
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS iceberg_tables (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        metadata_location VARCHAR(1000),
        previous_metadata_location VARCHAR(1000),
        iceberg_type VARCHAR(5),
        PRIMARY KEY (catalog_name, table_namespace, table_name)
      );
      CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
        catalog_name VARCHAR(255) NOT NULL,
        namespace VARCHAR(255) NOT NULL,
        property_key VARCHAR(255) NOT NULL,
        property_value VARCHAR(1000),
        PRIMARY KEY (catalog_name, namespace, property_key)
      );
    `);
  }

  private nsText(ns: readonly string[]): string {
    return ns.join('.');
  }

  async createNamespace(namespace: readonly string[], properties: Readonly<Record<string, string>> = {}): Promise<void> {
    if (await this.namespaceExists(namespace)) {
      throw new FloeError('catalog_already_exists', `namespace ${this.nsText(namespace)} already exists`, { namespace: this.nsText(namespace) });
    }
    const insert = this.db.prepare('INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)');
    const tx = this.db.transaction(() => {
      insert.run(this.name, this.nsText(namespace), 'exists', 'true');
      for (const [k, v] of Object.entries(properties)) insert.run(this.name, this.nsText(namespace), k, v);
    });
    tx();
  }

  async namespaceExists(namespace: readonly string[]): Promise<boolean> {
    const ns = this.nsText(namespace);
    const a = this.db.prepare('SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? LIMIT 1').get(this.name, ns);
    if (a !== undefined) return true;
    const b = this.db.prepare('SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? LIMIT 1').get(this.name, ns);
    return b !== undefined;
  }

  /**
   * Every namespace text of this catalog is in one of the two tables, each joined with `.` (a namespace created
   * by floe has a property row; one that another JDBC catalog client knows only from its tables' rows has none,
   * and `namespaceExists` accepts both).
   * The children of `parent` are the distinct next levels of those that start with it, so a namespace that
   * only exists as the prefix of a deeper one (`a` of `a.b`) is listed too.
   */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    const rows = this.db
      .prepare('SELECT namespace AS ns FROM iceberg_namespace_properties WHERE catalog_name = ? UNION SELECT table_namespace AS ns FROM iceberg_tables WHERE catalog_name = ?')
      .all(this.name, this.name) as { ns: string }[];
    const children = new Map<string, string[]>();
    for (const { ns } of rows) {
      const parts = ns.split('.');
      if (parts.length <= parent.length || parent.some((p, i) => parts[i] !== p)) continue;
      const child = parts.slice(0, parent.length + 1);
      children.set(child.join('.'), child);
    }
    return [...children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /**
   * The tables of a namespace, or of a level that only exists as the prefix of a deeper namespace (none).
   * Tables only: rows of Java's JdbcCatalog with `iceberg_type` VIEW are views (NULL: written before views existed).
   */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    if (!(await this.namespaceExists(namespace)) && (await this.listNamespaces(namespace)).length === 0) {
      throw new FloeError('catalog_not_found', `namespace ${this.nsText(namespace)} does not exist`, { namespace: this.nsText(namespace) });
    }
    const rows = this.db
      .prepare("SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND (iceberg_type IS NULL OR iceberg_type = 'TABLE') ORDER BY table_name")
      .all(this.name, this.nsText(namespace)) as { table_name: string }[];
    return rows.map((r) => ({ namespace: [...namespace], name: r.table_name }));
  }

  private row(id: TableIdentifier): TableRow | undefined {
    return this.db
      .prepare('SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?')
      .get(this.name, this.nsText(id.namespace), id.name) as TableRow | undefined;
  }

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    if (!(await this.namespaceExists(id.namespace))) {
      throw new FloeError('catalog_not_found', `namespace ${this.nsText(id.namespace)} does not exist`, { namespace: this.nsText(id.namespace) });
    }
    if (this.row(id) !== undefined) throw new FloeError('catalog_already_exists', `table ${identifierToString(id)} already exists`);
    const location = opts.location ?? joinPath(this.cfg.warehouse, `${this.nsText(id.namespace)}.db`, id.name);
    const metadata = newTableMetadata({
      location,
      schema: opts.schema,
      ...(opts.spec !== undefined ? { spec: opts.spec } : {}),
      ...(opts.sortOrder !== undefined ? { sortOrder: opts.sortOrder } : {}),
      properties: { ...(opts.properties ?? {}) },
      formatVersion: opts.formatVersion ?? 2,
    });
    const metadataLocation = await this.writeMetadata(metadata, 0);
    try {
      this.db
        .prepare('INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, ?)')
        .run(this.name, this.nsText(id.namespace), id.name, metadataLocation, 'TABLE');
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new FloeError('catalog_already_exists', `table ${identifierToString(id)} already exists`, {}, e);
      throw e;
    }
    return { identifier: id, metadataLocation, metadata, io: this.cfg.io };
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const r = this.row(id);
    if (r === undefined || r.metadata_location === null) throw new FloeError('catalog_not_found', `table ${identifierToString(id)} does not exist`, { table: identifierToString(id) });
    const bytes = await this.cfg.io.read(r.metadata_location);
    const metadata = tableMetadataFromJSON(parseJsonExact(Buffer.from(bytes).toString('utf8')));
    return { identifier: id, metadataLocation: r.metadata_location, metadata, io: this.cfg.io };
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    return this.row(id) !== undefined;
  }

  async commitTable(table: LoadedTable, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable> {
    const current = await this.loadTable(table.identifier);
    checkRequirements(current.metadata, requirements);
    let next = applyUpdates(current.metadata, updates);
    next = {
      ...next,
      metadataLog: [...next.metadataLog, { timestampMs: current.metadata.lastUpdatedMs, metadataFile: current.metadataLocation }].slice(-METADATA_LOG_MAX),
    };
    const version = metadataVersion(current.metadataLocation) + 1;
    const metadataLocation = await this.writeMetadata(next, version);
    const changed = this.db
      .prepare(
        'UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?',
      )
      .run(metadataLocation, current.metadataLocation, this.name, this.nsText(table.identifier.namespace), table.identifier.name, current.metadataLocation).changes;
    if (changed !== 1) {
      await this.cfg.io.delete(metadataLocation);
      throw new FloeError('commit_conflict', `table ${identifierToString(table.identifier)} was changed by another commit`, {});
    }
    return { identifier: table.identifier, metadataLocation, metadata: next, io: this.cfg.io };
  }

  async dropTable(id: TableIdentifier): Promise<void> {
    const n = this.db.prepare('DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?').run(this.name, this.nsText(id.namespace), id.name).changes;
    if (n === 0) throw new FloeError('catalog_not_found', `table ${identifierToString(id)} does not exist`);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private async writeMetadata(m: TableMetadata, version: number): Promise<string> {
    const path = `${m.location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
    await this.cfg.io.write(path, Buffer.from(stringifyJsonExact(tableMetadataToJSON(m)), 'utf8'));
    return path;
  }
}

function metadataVersion(location: string): number {
  const m = /\/(\d+)-[^/]*\.metadata\.json$/.exec(location);
  return m === null ? 0 : Number(m[1]);
}
