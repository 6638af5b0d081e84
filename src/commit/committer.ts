/**
 * The committer: one per process. It opens (or creates) the tables changes are routed to, keeps per table
 * the Kafka offsets the table already holds (skip on replay) and the offsets its window covers, and on each
 * commit seals every dirty table's window into files and commits one snapshot per table whose summary
 * records the offsets (atomically, fenced: see offsets.ts). Kafka offsets are committed by the pipeline only
 * after every table of the cycle has committed.
 */
import { FloeError } from '../errors.js';
import { ensureNamespace, identifierToString, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import type { Change, TableShape } from '../decode/debezium.js';
import { PartitionSpec, partitionSpecFromExprs } from '../iceberg/partition-spec.js';
import { Schema } from '../iceberg/schema.js';
import { currentSchema, defaultSpec, type TableMetadata } from '../iceberg/table-metadata.js';
import type { NestedField } from '../iceberg/types.js';
import type { WriterSettings } from '../writer/file-writer.js';
import type { ParquetCodec } from '../writer/parquet.js';
import { TableState, type TableLayout } from '../worker/table-worker.js';
import { commitOffsets, offsetOf, splitTp, storedOffsets, type OffsetMap } from './offsets.js';
import { Transaction } from './transaction.js';

export interface TableOptions {
  readonly partitionBy?: readonly string[];
  readonly formatVersion?: 1 | 2 | 3;
  readonly properties?: Readonly<Record<string, string>>;
}

export interface CommitterConfig {
  readonly groupId: string;
  readonly autoCreate: boolean;
  readonly codec: ParquetCodec;
  readonly targetFileSizeBytes: number;
  /** Tables sealed and committed at once. */
  readonly tableCommitsInFlightMax: number;
  readonly tableDefaults: TableOptions;
  /** Per-table options keyed by `namespace.table` (after routing). */
  readonly tables: Readonly<Record<string, TableOptions>>;
}

export interface OpenTable {
  readonly id: TableIdentifier;
  readonly name: string;
  loaded: LoadedTable;
  readonly state: TableState;
  /** Offsets the table holds, per the latest snapshot with this group's key. */
  stored: OffsetMap;
  /** Partitions whose stored offsets must be re-read before their next record (newly assigned). */
  readonly stale: Set<string>;
  /** For fencing: the stored offset this process started from, per partition in the window. */
  readonly expected: Map<string, number | null>;
  /** Next offset per partition covered by the window. */
  readonly window: Map<string, number>;
}

export interface TableCommitReport {
  readonly table: string;
  readonly snapshotId: bigint | null;
  readonly rows: number;
  readonly deletedKeys: number;
  readonly dataFiles: number;
  readonly deleteFiles: number;
  readonly bytes: number;
  readonly attempts: number;
  readonly ms: number;
}

export class Committer {
  private readonly open = new Map<string, OpenTable>();
  private readonly opening = new Map<string, Promise<OpenTable>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly cfg: CommitterConfig,
  ) {}

  get tables(): IterableIterator<OpenTable> {
    return this.open.values();
  }

  get bufferedBytes(): number {
    let n = 0;
    for (const t of this.open.values()) n += t.state.buffer.bytes;
    return n;
  }

  get dirty(): boolean {
    for (const t of this.open.values()) if (!t.state.buffer.isEmpty) return true;
    return false;
  }

  /** The open table for a change, opening or creating it on first use. */
  async table(id: TableIdentifier, shape: TableShape): Promise<OpenTable> {
    const name = identifierToString(id);
    const t = this.open.get(name);
    if (t !== undefined) return t;
    let p = this.opening.get(name);
    if (p === undefined) {
      p = this.openTable(id, name, shape).finally(() => this.opening.delete(name));
      this.opening.set(name, p);
    }
    return p;
  }

  /** Before applying a record of `tp` to `t`: re-read stored offsets if `tp` was (re)assigned since. */
  async refreshIfStale(t: OpenTable, tpKey: string): Promise<void> {
    if (!t.stale.has(tpKey)) return;
    if (t.window.has(tpKey)) throw new FloeError('assertion_failed', `partition ${tpKey} has buffered changes while marked stale`);
    t.loaded = await this.catalog.loadTable(t.id);
    t.stored = storedOffsets(t.loaded.metadata, this.cfg.groupId);
    t.stale.clear();
  }

  /** True when the table already holds the record at `offset` of `tpKey` (replay after a crash). */
  holds(t: OpenTable, tpKey: string, offset: number): boolean {
    const [topic, p] = splitTp(tpKey);
    const stored = offsetOf(t.stored, topic, p);
    return stored !== null && offset < stored;
  }

  apply(t: OpenTable, change: Change, tpKey: string, offset: number): void {
    t.state.apply(change, tpKey);
    this.cover(t, tpKey, offset);
  }

  /** Marks `offset` of `tpKey` as covered by this table's window (also for records that changed nothing). */
  cover(t: OpenTable, tpKey: string, offset: number): void {
    if (!t.expected.has(tpKey)) {
      const [topic, p] = splitTp(tpKey);
      t.expected.set(tpKey, offsetOf(t.stored, topic, p));
    }
    const prev = t.window.get(tpKey);
    if (prev !== undefined && offset + 1 <= prev) throw new FloeError('assertion_failed', `offsets must increase per partition: ${tpKey} ${offset} after ${prev - 1}`);
    t.window.set(tpKey, offset + 1);
  }

  markStale(tpKeys: readonly string[]): void {
    for (const t of this.open.values()) for (const k of tpKeys) t.stale.add(k);
  }

  /** Rewinds revoked partitions: their buffered changes are dropped and will be consumed again. */
  dropPartitions(tpKeys: ReadonlySet<string>): void {
    for (const t of this.open.values()) {
      t.state.buffer.dropPartitions(tpKeys);
      for (const k of tpKeys) {
        t.window.delete(k);
        t.expected.delete(k);
      }
    }
  }

  /** Seals and commits every dirty table; returns per-table reports. Throws if any table fails. */
  async commit(): Promise<TableCommitReport[]> {
    const dirty = [...this.open.values()].filter((t) => !t.state.buffer.isEmpty || t.window.size > 0);
    const reports: TableCommitReport[] = [];
    const queue = [...dirty];
    const errors: unknown[] = [];
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        try {
          reports.push(await this.commitTable(t));
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.cfg.tableCommitsInFlightMax, dirty.length) }, worker));
    if (errors.length > 0) throw errors[0];
    return reports;
  }

  private async commitTable(t: OpenTable): Promise<TableCommitReport> {
    const t0 = Date.now();
    const sealed = await t.state.seal(this.writerSettings(t.loaded));
    const expected = new Map(t.expected);
    const window = new Map(t.window);
    const tx = new Transaction(this.catalog, t.loaded).addDataFiles(sealed.dataFiles).addDeleteFiles(sealed.deleteFiles);
    const evolved = t.state.pendingSchema;
    if (evolved !== null) tx.updateSchema(() => evolved);
    if (sealed.truncated) tx.truncateAll();
    tx.onAttempt((base) => commitOffsets(base, this.cfg.groupId, expected, window));
    if (sealed.dataFiles.length === 0 && sealed.deleteFiles.length === 0 && !sealed.truncated) {
      // Only skipped or no-op records: still record the offsets so a restart does not read them again.
      tx.setOperation('append');
      tx.forceSnapshot();
    }
    const res = await tx.commit();
    t.loaded = res.table;
    t.stored = storedOffsets(res.table.metadata, this.cfg.groupId);
    t.expected.clear();
    t.window.clear();
    t.state.setLayout(this.layoutFor(res.table.metadata, currentSchema(res.table.metadata), undefined, t.state.keyIds));
    const files = [...sealed.dataFiles, ...sealed.deleteFiles];
    return {
      table: t.name,
      snapshotId: res.snapshot?.snapshotId ?? null,
      rows: sealed.rows,
      deletedKeys: sealed.deletedKeys,
      dataFiles: sealed.dataFiles.length,
      deleteFiles: sealed.deleteFiles.length,
      bytes: files.reduce((a, f) => a + Number(f.fileSizeInBytes), 0),
      attempts: res.attempts,
      ms: Date.now() - t0,
    };
  }

  private writerSettings(table: LoadedTable): WriterSettings {
    return { io: table.io, dataLocation: `${table.metadata.location}/data`, codec: this.cfg.codec, targetFileSizeBytes: this.cfg.targetFileSizeBytes };
  }

  private optionsFor(name: string): TableOptions {
    const t = this.cfg.tables[name] ?? {};
    return {
      partitionBy: t.partitionBy ?? this.cfg.tableDefaults.partitionBy ?? [],
      formatVersion: t.formatVersion ?? this.cfg.tableDefaults.formatVersion ?? 2,
      properties: { ...(this.cfg.tableDefaults.properties ?? {}), ...(t.properties ?? {}) },
    };
  }

  private async openTable(id: TableIdentifier, name: string, shape: TableShape): Promise<OpenTable> {
    let loaded: LoadedTable;
    try {
      loaded = await this.catalog.loadTable(id);
    } catch (e) {
      if (!(e instanceof FloeError && e.code === 'catalog_not_found')) throw e;
      if (!this.cfg.autoCreate) throw new FloeError('record_invalid', `table ${name} does not exist and auto-create is off`, { table: name });
      loaded = await this.createTable(id, name, shape);
    }
    loaded = await this.ensureDeleteSpec(loaded);
    const schema = currentSchema(loaded.metadata);
    const t: OpenTable = {
      id,
      name,
      loaded,
      state: new TableState(this.layoutFor(loaded.metadata, schema, shape)),
      stored: storedOffsets(loaded.metadata, this.cfg.groupId),
      stale: new Set(),
      expected: new Map(),
      window: new Map(),
    };
    this.open.set(name, t);
    return t;
  }

  private async createTable(id: TableIdentifier, name: string, shape: TableShape): Promise<LoadedTable> {
    const opts = this.optionsFor(name);
    let nextId = 1;
    const keys = new Set(shape.keyColumns);
    for (const k of keys) {
      if (!shape.byName.has(k)) throw new FloeError('record_invalid', `key column "${k}" of ${name} is not among the record's columns`, { table: name });
    }
    // Key columns are required (identifier fields must be); others optional, so a dropped source column
    // can later receive nulls.
    const fields: NestedField[] = shape.columns.map((c) => ({ id: nextId++, name: c.name, required: keys.has(c.name), type: c.type }));
    const schema = new Schema(0, fields, shape.keyColumns.map((k) => fields.find((f) => f.name === k)?.id ?? -1));
    const spec = (opts.partitionBy ?? []).length > 0 ? partitionSpecFromExprs(opts.partitionBy ?? [], schema) : PartitionSpec.unpartitioned();
    await ensureNamespace(this.catalog, id.namespace);
    try {
      return await this.catalog.createTable(id, {
        schema,
        spec,
        properties: { 'write.parquet.compression-codec': this.cfg.codec, 'write.upsert.enabled': 'true', ...(opts.properties ?? {}) },
        formatVersion: opts.formatVersion ?? 2,
      });
    } catch (e) {
      // Another replica created it first.
      if (e instanceof FloeError && e.code === 'catalog_already_exists') return this.catalog.loadTable(id);
      throw e;
    }
  }

  /**
   * Equality deletes must reach rows in any partition when the partition columns are not part of the key
   * (a row can move partitions on update). Such deletes are written with a spec with no fields, which
   * applies to every partition (spec: "Scan Planning"); add one to the table if it has none.
   */
  private async ensureDeleteSpec(loaded: LoadedTable): Promise<LoadedTable> {
    const meta = loaded.metadata;
    const spec = defaultSpec(meta);
    if (spec.isUnpartitioned || this.partitionWithinKey(meta, spec)) return loaded;
    if (meta.specs.some((s) => s.fields.length === 0)) return loaded;
    return this.catalog.commitTable(
      loaded,
      [{ type: 'assert-default-spec-id', 'default-spec-id': meta.defaultSpecId }, { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': meta.lastPartitionId }],
      [{ action: 'add-spec', spec: new PartitionSpec(0, []) }, { action: 'set-default-spec', 'spec-id': meta.defaultSpecId }],
    );
  }

  private partitionWithinKey(meta: TableMetadata, spec: PartitionSpec): boolean {
    const keys = new Set(currentSchema(meta).identifierFieldIds);
    return spec.fields.every((f) => keys.has(f.sourceId));
  }

  private layoutFor(meta: TableMetadata, schema: Schema, shape?: TableShape, previousKeyIds?: readonly number[]): TableLayout {
    const spec = defaultSpec(meta);
    let keyIds = schema.identifierFieldIds.length > 0 ? [...schema.identifierFieldIds] : [...(previousKeyIds ?? [])];
    if (keyIds.length === 0 && shape !== undefined) {
      // A table created without identifier fields: use the source key columns by name.
      keyIds = shape.keyColumns.map((k) => {
        const f = schema.findField(k);
        if (f === undefined) throw new FloeError('schema_invalid', `table has no column for key "${k}" and no identifier fields`, { column: k });
        return f.id;
      });
    }
    const deleteSpec = spec.isUnpartitioned || this.partitionWithinKey(meta, spec) ? spec : (meta.specs.find((s) => s.fields.length === 0) ?? spec);
    return { schema, spec, deleteSpec, keyIds, lastColumnId: meta.lastColumnId };
  }
}
