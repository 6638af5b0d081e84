// Tables for the maintenance tests: a keyed table (id, region, v) on the embedded catalog written the way streaming writers write (small appends; updates and deletes by position, as position delete files on v2 and deletion vectors on v3, found through a scan; or by equality), a model of its rows, and a catalog that lets a test commit in the middle of a maintenance step.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Catalog, CreateTableOptions, LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction } from '../../src/commit/transaction.js';
import type { DataFile } from '../../src/iceberg/data-file.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { scanLive, scanTable, type Row } from '../../src/iceberg/scan.js';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { SortOrder, parseSortExpr } from '../../src/iceberg/sort-order.js';
import { currentSchema, defaultSpec, specsById, type TableRequirement, type TableUpdate } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { WriterSettings } from '../../src/writer/file-writer.js';
import { DataWriter, EqualityDeleteWriter, Partitioner, PositionDeleteWriter } from '../../src/writer/partitioned-writer.js';
import type { RewriteDataOptions } from '../../src/maintain/types.js';

export const REGIONS = ['eu', 'us', 'ap'] as const;

export function keyedSchema(): Schema {
  return schemaFromDecls(
    [
      { name: 'id', type: T.long, required: true },
      { name: 'region', type: T.string, required: true },
      { name: 'v', type: T.string },
      { name: 'n', type: T.double },
    ],
    ['id'],
  );
}

export interface ModelRow {
  readonly id: bigint;
  readonly region: string;
  readonly v: string | null;
  readonly n: number | null;
}

export function row(id: number | bigint, version: number, region?: string): ModelRow {
  const i = BigInt(id);
  return { id: i, region: region ?? (REGIONS[Number(i % 3n)] as string), v: version % 7 === 0 ? null : `v${version}-${i}`, n: version % 5 === 0 ? null : version + 0.5 };
}

const values = (r: ModelRow): (IcebergValue | null)[] => [r.id, r.region, r.v, r.n];

/** Rows as sorted canonical lines (a multiset compares equal exactly when the sorted lists do). */
export function lines(rows: readonly (Row | ModelRow)[]): string[] {
  return rows.map((r) => JSON.stringify([String(r.id), r.region, r.v, r.n])).sort();
}

/** An embedded catalog in a fresh directory. */
export async function tempCatalog(prefix: string): Promise<{ catalog: SqlCatalog; dir: string; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
  await catalog.createNamespace(['m']);
  return { catalog, dir, close: async () => { await catalog.close(); await rm(dir, { recursive: true, force: true }); } };
}

export interface TableShape {
  readonly formatVersion: 2 | 3;
  readonly partitioned?: boolean;
  readonly sortBy?: readonly string[];
  readonly properties?: Readonly<Record<string, string>>;
}

/** A keyed table and its model: every write goes to both. */
export class ModelTable {
  readonly rows = new Map<bigint, ModelRow>();
  private version = 0;

  private constructor(readonly catalog: Catalog, readonly id: TableIdentifier, public shape: TableShape) {}

  static async create(catalog: Catalog, name: string, shape: TableShape): Promise<ModelTable> {
    const schema = keyedSchema();
    const opts: CreateTableOptions = {
      schema,
      formatVersion: shape.formatVersion,
      ...(shape.partitioned === true ? { spec: partitionSpecFromExprs(['region'], schema) } : {}),
      ...(shape.sortBy !== undefined ? { sortOrder: new SortOrder(1, shape.sortBy.map((e) => parseSortExpr(e, schema))) } : {}),
      ...(shape.properties !== undefined ? { properties: shape.properties } : {}),
    };
    const id = { namespace: ['m'], name };
    await catalog.createTable(id, opts);
    return new ModelTable(catalog, id, shape);
  }

  /** Upgrades a v2 table to v3: its position delete files stay, new deletes are vectors. */
  async upgradeToV3(): Promise<void> {
    const t = await this.load();
    await this.catalog.commitTable(t, [{ type: 'assert-table-uuid', uuid: t.metadata.tableUuid }], [{ action: 'upgrade-format-version', 'format-version': 3 }]);
    this.shape = { ...this.shape, formatVersion: 3 };
  }

  load(): Promise<LoadedTable> {
    return this.catalog.loadTable(this.id);
  }

  settings(t: LoadedTable): WriterSettings {
    return { io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd', targetFileSizeBytes: 64 << 20 };
  }

  /** Inserts new keys: one data file per partition, one snapshot. */
  async insert(ids: readonly number[]): Promise<void> {
    await this.upsert(ids, 'position');
  }

  /**
   * Upserts keys in one snapshot, as floe's merge-on-write does: the live rows of the keys are deleted by position
   * (v2 position delete files, v3 deletion vectors), or by an equality delete on `id`, and new rows added.
   */
  async upsert(keys: readonly number[], mode: 'position' | 'equality' = 'position'): Promise<void> {
    const ids = [...new Set(keys)];
    const t = await this.load();
    const schema = currentSchema(t.metadata);
    const data = new DataWriter(this.settings(t), schema, defaultSpec(t.metadata));
    const v = ++this.version;
    const fresh = ids.map((i) => row(i, v, this.rows.get(BigInt(i))?.region));
    for (const r of fresh) data.write(values(r));
    const tx = new Transaction(this.catalog, t).addDataFiles(await data.close());
    const touched = new Set(ids.map((i) => BigInt(i)));
    if (mode === 'equality') {
      const eq = new EqualityDeleteWriter(this.settings(t), schema, defaultSpec(t.metadata), [1]);
      const part = defaultSpec(t.metadata).isUnpartitioned ? null : new Partitioner(schema, defaultSpec(t.metadata));
      for (const i of touched) {
        const old = this.rows.get(i);
        if (old !== undefined) eq.delete([i], part === null ? [] : part.partition(values(old)));
      }
      tx.addDeleteFiles(await eq.close());
    } else {
      await this.deleteLive(t, schema, touched, tx);
    }
    await tx.commit();
    for (const r of fresh) this.rows.set(r.id, r);
  }

  /** Deletes keys by position in one snapshot. */
  async delete(ids: readonly number[]): Promise<void> {
    const t = await this.load();
    const tx = new Transaction(this.catalog, t);
    const n = await this.deleteLive(t, currentSchema(t.metadata), new Set(ids.map((i) => BigInt(i))), tx);
    if (n === 0) return;
    await tx.commit();
    for (const i of ids) this.rows.delete(BigInt(i));
  }

  /** Adds position deletes (or vectors) of the live rows of `keys` to `tx`; returns how many. */
  private async deleteLive(t: LoadedTable, schema: Schema, keys: ReadonlySet<bigint>, tx: Transaction): Promise<number> {
    const at = await livePositions(t, keys);
    if (at.length === 0) return 0;
    if (this.shape.formatVersion >= 3) {
      const byFile = new Map<string, number[]>();
      for (const a of at) byFile.set(a.file.filePath, [...(byFile.get(a.file.filePath) ?? []), a.pos]);
      tx.addDeletionVectors([...byFile].map(([p, list]) => [p, Float64Array.from(list)] as const));
      return at.length;
    }
    const writers = new Map<number, PositionDeleteWriter>();
    for (const a of at) {
      let w = writers.get(a.file.specId);
      if (w === undefined) writers.set(a.file.specId, (w = new PositionDeleteWriter(this.settings(t), schema, specsById(t.metadata).get(a.file.specId)!)));
      w.delete(a.file.filePath, BigInt(a.pos), a.file.partition);
    }
    const files: DataFile[] = [];
    for (const w of writers.values()) files.push(...(await w.close()));
    tx.addDeleteFiles(files).requireDataFiles(new Set(at.map((a) => a.file.filePath)));
    return at.length;
  }

  /** The table's rows equal the model's (as multisets). */
  async check(what: string): Promise<void> {
    assert.deepEqual(lines(await scanTable(await this.load())), lines([...this.rows.values()]), what);
  }
}

/** Where the live rows of `keys` are. */
export async function livePositions(t: LoadedTable, keys: ReadonlySet<bigint>): Promise<{ file: DataFile; pos: number }[]> {
  const out: { file: DataFile; pos: number }[] = [];
  const idField = currentSchema(t.metadata).fieldOrThrow(1);
  await scanLive(t, [idField], (file, pos, v) => {
    if (keys.has(v[0] as bigint)) out.push({ file, pos });
  });
  return out;
}

/** Rewrite options for tiny test files: every file is small. */
export function smallFileOptions(over: Partial<RewriteDataOptions> = {}): RewriteDataOptions {
  return {
    targetFileSizeBytes: 8 << 20,
    minFileSizeBytes: 6 << 20,
    deleteRatioMin: 0.3,
    minInputFiles: 2,
    groupBytesMax: 64 << 20,
    runBytesMax: 1 << 30,
    commitAttemptsMax: 4,
    ...over,
  };
}

/**
 * A catalog that runs `hook` once, at the `n`th call of `on` (loads count every table load, commits every commit
 * attempt), before doing the call itself: what another writer committing at that moment looks like.
 */
export class InterceptingCatalog implements Catalog {
  private calls = 0;
  private hook: (() => Promise<void>) | null = null;
  private on: 'load' | 'commit' = 'commit';
  private n = 1;
  fired = false;

  constructor(readonly inner: Catalog) {}

  get name(): string {
    return this.inner.name;
  }

  once(on: 'load' | 'commit', n: number, hook: () => Promise<void>): void {
    this.on = on;
    this.n = n;
    this.calls = 0;
    this.hook = hook;
    this.fired = false;
  }

  private async maybe(kind: 'load' | 'commit'): Promise<void> {
    if (this.hook === null || kind !== this.on || ++this.calls !== this.n) return;
    const h = this.hook;
    this.hook = null;
    await h();
    this.fired = true;
  }

  createNamespace(ns: readonly string[], p?: Readonly<Record<string, string>>): Promise<void> { return this.inner.createNamespace(ns, p); }
  namespaceExists(ns: readonly string[]): Promise<boolean> { return this.inner.namespaceExists(ns); }
  listNamespaces(parent?: readonly string[]): Promise<string[][]> { return this.inner.listNamespaces(parent); }
  listTables(ns: readonly string[]): Promise<TableIdentifier[]> { return this.inner.listTables(ns); }
  createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> { return this.inner.createTable(id, opts); }
  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    await this.maybe('load');
    return this.inner.loadTable(id);
  }
  tableExists(id: TableIdentifier): Promise<boolean> { return this.inner.tableExists(id); }
  async commitTable(t: LoadedTable, reqs: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable> {
    await this.maybe('commit');
    return this.inner.commitTable(t, reqs, updates);
  }
  dropTable(id: TableIdentifier, purge?: boolean): Promise<void> { return this.inner.dropTable(id, purge); }
  close(): Promise<void> { return this.inner.close(); }
}
