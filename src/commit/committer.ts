/**
 * The committer: one per process, in the main thread. It opens (or creates) the tables that workers route
 * changes to and hands their layout to the workers; on each commit cycle it takes the workers' sealed
 * windows and commits one snapshot per table, whose summary records the Kafka offsets the snapshot covers
 * (atomically and fenced, see offsets.ts). Group offsets are committed by the pipeline only after every
 * table of the cycle has committed.
 */
import { FloeError, assert } from '../errors.js';
import { createOrLoadTable, ensureNamespace, identifierToString, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import { PartitionSpec, partitionSpecFromExprs } from '../iceberg/partition-spec.js';
import { Schema } from '../iceberg/schema.js';
import { currentSchema, currentSnapshot, defaultSpec, specsById, tableMetadataToJSON, type TableMetadata } from '../iceberg/table-metadata.js';
import { isPrimitive, type NestedField } from '../iceberg/types.js';
import { typeFromJson } from '../iceberg/type-json.js';
import { valueFromJson } from '../iceberg/value-json.js';
import type { DeleteMode, DeletionVectorFiles, TableOptionsConfig } from '../config/config.js';
import { parseSortExpr, SortOrder } from '../iceberg/sort-order.js';
import { parseCodec, type ParquetCodec } from '../writer/parquet.js';
import { EqualityDeleteWriter, Partitioner, PositionDeleteWriter } from '../writer/partitioned-writer.js';
import type { WriterSettings } from '../writer/file-writer.js';
import { deletesFor, scanEntries } from '../iceberg/scan.js';
import { liveEntries } from '../iceberg/snapshot-files.js';
import { DataFileContent, type DataFile } from '../iceberg/data-file.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { isNewerRow, type RowAt } from '../worker/index-build.js';
import { usesKeyIndex, type SealedTable, type ShapeMsg, type TableLayoutMsg } from '../worker/worker-core.js';
import { checkTransforms, tableStopOf } from '../worker/table-stop.js';
import { commitOffsets, storedOffsets, type OffsetMap } from './offsets.js';
import { Transaction, type RetryCause } from './transaction.js';

export type TableOptions = TableOptionsConfig;

/** Iceberg table properties floe honours when writing (spec: "Table Properties", write.*). */
const PROP_CODEC = 'write.parquet.compression-codec';
const PROP_TARGET_FILE_SIZE = 'write.target-file-size-bytes';
/** Attempts to add the unpartitioned delete spec when other writers keep committing to the table meanwhile. */
const DELETE_SPEC_ATTEMPTS_MAX = 5;
/** Position deletes re-found after a compaction rewrote their files, before falling back to equality deletes. */
const REPOSITION_ATTEMPTS_MAX = 3;
/** Delete files the committer writes roll at this size when neither the table nor the config says otherwise. */
const TARGET_FILE_SIZE_BYTES_DEFAULT = 512 * 1024 * 1024;

export interface CommitterConfig {
  readonly groupId: string;
  readonly autoCreate: boolean;
  readonly codec: ParquetCodec;
  /** Data file size target when a table has no write.target-file-size-bytes property. */
  readonly targetFileSizeBytes?: number;
  /** Tables committed at once. */
  readonly tableCommitsInFlightMax: number;
  /** Position deletes re-found after compactions rewrote their files, before one commit deletes by equality. */
  readonly repositionAttemptsMax?: number;
  /** Where deletion vectors are written (default `data/*.puffin`), and at most how many share one Puffin file (default 1). */
  readonly deletionVectorFiles?: DeletionVectorFiles;
  readonly deletionVectorsPerFileMax?: number;
  readonly tableDefaults: TableOptions;
  /** Per-table options keyed by `namespace.table` (after routing). */
  readonly tables: Readonly<Record<string, TableOptions>>;
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
  /** Attempts made again, by why (transaction.ts `RetryCause`), over every transaction of this commit. */
  readonly retries: Readonly<Partial<Record<RetryCause, number>>>;
  readonly ms: number;
  /** From each part's files being written (`SealedTable.writtenAtMs`) to this commit landing, ms. */
  readonly fileWaitsMs: readonly number[];
  /** Times this commit re-found its position deletes after a concurrent commit rewrote their files. */
  readonly repositioned?: number;
  /** Compactions kept racing the commit: it deleted those keys by equality. */
  readonly fellBackToEquality?: boolean;
  /** Data files that got a (new or merged) deletion vector. */
  readonly deletionVectors?: number;
  /** Duplicate-key repair: rows deleted so each of `repairedKeys` keys has one live row (see index-build.ts). */
  readonly repairedRows?: number;
  readonly repairedKeys?: number;
}

/** A table commit of a cycle that failed: its error, and the snapshot ids its attempts committed under. */
export interface FailedCommit {
  readonly table: string;
  readonly error: unknown;
  readonly snapshotIds: readonly bigint[];
}

interface OpenTable {
  readonly id: TableIdentifier;
  readonly name: string;
  loaded: LoadedTable;
  keyIds: readonly number[];
  /**
   * The snapshot the workers last saw of the table (their key index describes it, see key-index.ts), and its
   * sequence number: a commit that lands right on it advances their index; any other change makes it catch up.
   */
  seen: bigint | null;
  seenSequence: bigint;
  /** A cycle failed after commits, maybe before the workers got their layouts: the next refresh hands one over. */
  seenUnsure: boolean;
}

export class Committer {
  private readonly open = new Map<string, OpenTable>();
  private readonly opening = new Map<string, Promise<TableLayoutMsg>>();
  /** Tables stopped when opened (see table-stop.ts): asked again, they fail at once, without a catalog call. */
  private readonly stopped = new Map<string, FloeError>();

  constructor(
    private readonly catalog: Catalog,
    private readonly cfg: CommitterConfig,
  ) {}

  get openTables(): number {
    return this.open.size;
  }

  /** Opens (or creates) a table for a worker; concurrent requests for one table share one open. */
  async table(id: TableIdentifier, shape: ShapeMsg): Promise<TableLayoutMsg> {
    const name = identifierToString(id);
    const t = this.open.get(name);
    if (t !== undefined) return this.layoutMsg(t, true);
    const stopped = this.stopped.get(name);
    if (stopped !== undefined) throw stopped;
    let p = this.opening.get(name);
    if (p === undefined) {
      p = this.openTable(id, name, shape)
        .catch((e: unknown) => {
          if (e instanceof FloeError && tableStopOf(e) !== null) this.stopped.set(name, e);
          throw e;
        })
        .finally(() => this.opening.delete(name));
      this.opening.set(name, p);
    }
    return p;
  }

  /**
   * Tables whose key index may be saved now (at a graceful shutdown, after the last commit), as of their
   * current snapshot: a worker saves an index only if it describes exactly that snapshot (key-index.ts).
   */
  indexSnapshotsToSave(): { name: string; snapshotId: string; tableUuid: string }[] {
    const out: { name: string; snapshotId: string; tableUuid: string }[] = [];
    for (const t of this.open.values()) {
      const current = t.loaded.metadata.currentSnapshotId;
      if (!usesKeyIndex(this.deleteMode(t)) || current === null) continue;
      out.push({ name: t.name, snapshotId: String(current), tableUuid: t.loaded.metadata.tableUuid });
    }
    return out;
  }

  /**
   * After partitions were assigned (or an outage): re-reads every open table's stored offsets, and returns the
   * layouts of the tables that moved on since the workers last saw them (other replicas' commits, a
   * compaction, an expiry): their key index catches up through the changed files before any record of the
   * newly assigned partitions is applied (key-index.ts).
   */
  async refreshAll(everyTable = false): Promise<{ stored: Map<string, OffsetMap>; catchUp: TableLayoutMsg[] }> {
    const stored = new Map<string, OffsetMap>();
    const catchUp: TableLayoutMsg[] = [];
    for (const t of this.open.values()) {
      t.loaded = await this.catalog.loadTable(t.id);
      stored.set(t.name, storedOffsets(t.loaded.metadata, this.cfg.groupId));
      // `everyTable`: the partitions moved, so each index may hold other keys now (key-shard.ts): a layout with
      // the table for every table, whether or not it moved on.
      if (everyTable) t.seenUnsure = true;
      const c = this.catchUpLayout(t);
      if (c !== null) catchUp.push(c);
    }
    return { stored, catchUp };
  }

  /**
   * The layout that makes the workers' index of table `name` follow the table now, with its metadata (a worker
   * asked: the keys its index holds no longer say where a record's key is). Null for a table not open.
   */
  async followLayout(name: string): Promise<TableLayoutMsg | null> {
    const t = this.open.get(name);
    if (t === undefined) return null;
    t.loaded = await this.catalog.loadTable(t.id);
    t.seenUnsure = true;
    return this.catchUpLayout(t);
  }

  /**
   * A table changed by someone else than the committer (floe's own maintenance): reload it, and the layout
   * that makes the workers' key index catch up, if it moved.
   */
  async tableChanged(name: string): Promise<TableLayoutMsg | null> {
    const t = this.open.get(name);
    if (t === undefined) return null;
    t.loaded = await this.catalog.loadTable(t.id);
    return this.catchUpLayout(t);
  }

  /**
   * A commit cycle failed: layouts of commits that landed may not have reached the workers. The next refresh
   * gives every table's workers the table to catch up to (nothing to read where their index is current).
   */
  workersMayBeBehind(): void {
    for (const t of this.open.values()) t.seenUnsure = true;
  }

  private catchUpLayout(t: OpenTable): TableLayoutMsg | null {
    const current = currentSnapshot(t.loaded.metadata);
    if (!usesKeyIndex(this.deleteMode(t)) || ((current?.snapshotId ?? null) === t.seen && !t.seenUnsure)) return null;
    t.seenUnsure = false;
    t.seen = current?.snapshotId ?? null;
    t.seenSequence = current?.sequenceNumber ?? 0n;
    return { ...this.layoutMsg(t, true), catchUp: true };
  }

  /**
   * Commits the sealed windows of one cycle, one snapshot per table. A table whose commit fails does not stop
   * the others: it is returned in `failed` with its error and the snapshot ids its attempts used (so whether it
   * landed after all can be decided later, by id: see `resolve`).
   */
  async commit(sealed: readonly SealedTable[]): Promise<{ reports: TableCommitReport[]; layouts: TableLayoutMsg[]; failed: FailedCommit[] }> {
    // One table can be sealed by several workers (several topics routed to it): one snapshot for all.
    const byTable = new Map<string, SealedTable[]>();
    for (const s of sealed) byTable.set(s.name, [...(byTable.get(s.name) ?? []), s]);
    const queue = [...byTable.entries()];
    const reports: TableCommitReport[] = [];
    const layouts: TableLayoutMsg[] = [];
    const failed: FailedCommit[] = [];
    const run = async (): Promise<void> => {
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
        const attempted: bigint[] = [];
        try {
          const r = await this.commitTable(e[0], e[1], attempted);
          reports.push(r.report);
          layouts.push(r.layout);
        } catch (err) {
          failed.push({ table: e[0], error: err, snapshotIds: attempted });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.cfg.tableCommitsInFlightMax, queue.length) }, run));
    return { reports, layouts, failed };
  }

  /**
   * Whether a failed commit of `table` landed after all: one of the snapshot ids its attempts used is in the
   * table now (an attempt whose answer was lost in an outage may have been applied). Reloads the table; a
   * commit that landed moves the index bookkeeping on as a successful one does.
   */
  async resolve(table: string, snapshotIds: readonly bigint[]): Promise<boolean> {
    const t = this.open.get(table);
    assert(t !== undefined, 'a failed commit is of an open table', { table });
    t.loaded = await this.catalog.loadTable(t.id);
    const ids = new Set(snapshotIds);
    const landed = t.loaded.metadata.snapshots.find((s) => ids.has(s.snapshotId));
    // Landed or not, the workers' index has not moved: the next refresh makes it catch up to the table.
    return landed !== undefined;
  }

  private transaction(
    t: OpenTable,
    parts: readonly SealedTable[],
    dataFiles: DataFile[],
    deleteFiles: DataFile[],
    targets: readonly string[],
    positions: readonly (readonly [string, Float64Array])[],
  ): Transaction {
    const expected = new Map(parts.flatMap((p) => p.expected));
    const window = new Map(parts.flatMap((p) => p.window));
    const tx = new Transaction(this.catalog, t.loaded).addDataFiles(dataFiles).addDeleteFiles(deleteFiles).requireDataFiles(targets)
      .addDeletionVectors(positions).deletionVectorFiles(this.cfg.deletionVectorFiles ?? 'data/*.puffin', this.cfg.deletionVectorsPerFileMax ?? 1);
    const evolved = parts.map((p) => p.evolvedSchema).find((s) => s !== null) ?? null;
    if (evolved !== null) {
      const next = Schema.fromJSON(evolved);
      tx.updateSchema(() => next);
    }
    if (parts.some((p) => p.truncated)) tx.truncateAll();
    tx.onAttempt((base) => {
      // The same entry in the snapshot summary and in the table's properties (see offsets.ts), merged on every
      // attempt with what the base holds.
      const offsets = commitOffsets(base, this.cfg.groupId, expected, window);
      return { summary: offsets, properties: offsets };
    });
    if (dataFiles.length === 0 && deleteFiles.length === 0 && positions.length === 0 && !parts.some((p) => p.truncated)) {
      // Only replayed, ignored or dead-lettered records: record the offsets so a restart skips them.
      tx.setOperation('append').forceSnapshot();
    }
    return tx;
  }

  /** Where and how the committer writes delete files of a table (its write.* properties over floe's defaults). */
  private writerSettings(t: OpenTable): WriterSettings {
    const meta = t.loaded.metadata;
    const props = meta.properties;
    return {
      io: t.loaded.io,
      dataLocation: `${meta.location}/data`,
      codec: props[PROP_CODEC] !== undefined ? parseCodec(props[PROP_CODEC], `table ${t.name} property ${PROP_CODEC}`) : this.cfg.codec,
      targetFileSizeBytes: targetSize(props[PROP_TARGET_FILE_SIZE], this.cfg.targetFileSizeBytes)?.targetFileSizeBytes ?? TARGET_FILE_SIZE_BYTES_DEFAULT,
    };
  }

  /**
   * A concurrent commit (compaction by S3 Tables or Spark) rewrote data files the window's position deletes
   * point at: those positions mean nothing in the new files. The same keys are deleted by equality instead
   * (an equality delete at sequence number N removes the key's rows from every file with a lower sequence
   * number, the rewritten ones included, and never the rows this commit adds), and the workers rebuild the
   * table's key index from the new snapshot.
   */
  private async equalityFallback(t: OpenTable, parts: readonly SealedTable[]): Promise<DataFile[]> {
    t.loaded = await this.catalog.loadTable(t.id);
    const meta = t.loaded.metadata;
    const evolved = parts.map((p) => p.evolvedSchema).find((s) => s !== null) ?? null;
    const schema = evolved !== null ? Schema.fromJSON(evolved) : currentSchema(meta);
    const deleteSpec = this.deleteSpecOf(meta);
    const eq = new EqualityDeleteWriter(this.writerSettings(t), schema, deleteSpec, t.keyIds);
    const partitioner = deleteSpec.isUnpartitioned ? null : new Partitioner(schema, deleteSpec);
    const keyIndex = t.keyIds.map((id) => schema.fields.findIndex((f) => f.id === id));
    for (const p of parts) {
      for (const key of p.positionDeletedKeys ?? []) {
        let partition: (IcebergValue | null)[] = [];
        if (partitioner !== null) {
          const row = new Array<IcebergValue | null>(schema.fields.length).fill(null);
          keyIndex.forEach((ix, i) => {
            row[ix] = key[i] ?? null;
          });
          partition = partitioner.partition(row);
        }
        eq.delete(key, partition);
      }
    }
    return eq.close();
  }

  /**
   * A concurrent commit (compaction) rewrote files the window's position deletes point at: find the same keys'
   * rows in the table as it is now (only committed rows: this window's new rows are not in it) and delete them
   * by position there. Every live row of a key the window wrote or deleted goes (a key with several rows loses
   * them all: the window holds its state); of a key the window only repairs (index-build.ts), every row but
   * the newest goes. Returns the position delete files (or, for deletion vectors, the positions) and the data
   * files they target.
   */
  private async repositionDeletes(t: OpenTable, parts: readonly SealedTable[]): Promise<{ files: DataFile[]; positions: [string, Float64Array][]; targets: string[] }> {
    t.loaded = await this.catalog.loadTable(t.id);
    const meta = t.loaded.metadata;
    const wanted = new Set(parts.flatMap((p) => p.positionDeletedKeys ?? []).map((k) => valuesKey(k)));
    const repairOnly = new Set(parts.flatMap((p) => p.repairedKeys ?? []).map((k) => valuesKey(k)).filter((k) => !wanted.has(k)));
    const schema = currentSchema(meta);
    const keyFields = t.keyIds.map((id) => schema.fieldOrThrow(id));
    const specs = specsById(meta);
    const settings = this.writerSettings(t);
    const writers = new Map<number, PositionDeleteWriter>();
    const targets = new Set<string>();
    const vectors = this.deleteMode(t) === 'dv';
    const positions = new Map<string, number[]>();
    const deleteAt = (file: DataFile, pos: number): void => {
      targets.add(file.filePath);
      if (vectors) {
        positions.set(file.filePath, [...(positions.get(file.filePath) ?? []), pos]);
        return;
      }
      let w = writers.get(file.specId);
      if (w === undefined) {
        const spec = specs.get(file.specId);
        assert(spec !== undefined, 'a data file has a known spec', { file: file.filePath, spec: file.specId });
        w = new PositionDeleteWriter(settings, schema, spec);
        writers.set(file.specId, w);
      }
      w.delete(file.filePath, BigInt(pos), file.partition);
    };
    /** Newest row so far of each repair-only key; a row it displaces is deleted. */
    const newest = new Map<string, { file: DataFile; row: RowAt }>();
    // The keys' rows are where the window found them (its target files, if still live) or, moved by a
    // compaction, in files added since the snapshot the workers' index describes: only those are read.
    const originalTargets = new Set(parts.flatMap((p) => p.targetDataFiles ?? []));
    const entries = await liveEntries(t.loaded);
    const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA && (originalTargets.has(e.dataFile.filePath) || (e.fileSequenceNumber ?? e.sequenceNumber ?? 0n) > t.seenSequence));
    const paths = new Set(data.map((e) => e.dataFile.filePath));
    const minSeq = data.reduce((a, e) => (e.sequenceNumber !== null && e.sequenceNumber < a ? e.sequenceNumber : a), data[0]?.sequenceNumber ?? 0n);
    const deletes = deletesFor(entries.filter((e) => e.dataFile.content !== DataFileContent.DATA), paths, minSeq);
    await scanEntries(t.loaded, keyFields, data, deletes, (file, pos, key, sequenceNumber) => {
      const k = valuesKey(key);
      if (wanted.has(k)) {
        deleteAt(file, pos);
        return;
      }
      if (!repairOnly.has(k)) return;
      const row: RowAt = { file: { path: file.filePath, specId: file.specId, partition: file.partition }, pos, sequenceNumber };
      const held = newest.get(k);
      if (held === undefined) {
        newest.set(k, { file, row });
      } else if (isNewerRow(row, held.row)) {
        deleteAt(held.file, held.row.pos);
        newest.set(k, { file, row });
      } else {
        deleteAt(file, pos);
      }
    });
    const files = (await Promise.all([...writers.values()].map((w) => w.close()))).flat();
    return { files, positions: [...positions].map(([p, list]) => [p, Float64Array.from(list)]), targets: [...targets] };
  }

  private async commitTable(name: string, parts: readonly SealedTable[], attempted: bigint[]): Promise<{ report: TableCommitReport; layout: TableLayoutMsg }> {
    const t0 = Date.now();
    const t = this.open.get(name);
    if (t === undefined) throw new FloeError('assertion_failed', `sealed window for table ${name}, which is not open`);
    const dataFiles = parts.flatMap((p) => p.dataFiles);
    let deleteFiles = parts.flatMap((p) => p.deleteFiles);
    let res: Awaited<ReturnType<Transaction['commit']>> | null = null;
    let targets = parts.flatMap((p) => p.targetDataFiles ?? []);
    let positions: (readonly [string, Float64Array])[] = parts.flatMap((p) => p.deletedPositions ?? []);
    let repositioned = 0;
    let fellBack = false;
    const retries: Partial<Record<RetryCause, number>> = {};
    const others = deleteFiles.filter((f) => f.content !== DataFileContent.POSITION_DELETES);
    while (res === null) {
      try {
        const tx = this.transaction(t, parts, dataFiles, deleteFiles, targets, positions);
        attempted.push(tx.snapshotId);
        res = await tx.commit();
        for (const [cause, n] of Object.entries(res.retries) as [RetryCause, number][]) retries[cause] = (retries[cause] ?? 0) + n;
      } catch (e) {
        if (!(e instanceof FloeError) || e.code !== 'commit_targets_gone') throw e;
        const again = repositioned < (this.cfg.repositionAttemptsMax ?? REPOSITION_ATTEMPTS_MAX) ? await this.repositionDeletes(t, parts) : null;
        if (again !== null) {
          repositioned++;
          // Positions into rewritten files: the keys' rows found in the new files, deleted by position there.
          deleteFiles = [...others, ...again.files];
          positions = again.positions;
          targets = again.targets;
        } else {
          // Compactions keep racing this commit: delete the keys by equality (always correct, slower to read).
          // A duplicate-key repair is dropped here (an equality delete would remove a key's newest row too): the
          // workers rebuild their index from the new snapshot, find the duplicates again and repair them then.
          fellBack = true;
          deleteFiles = [...others, ...(await this.equalityFallback(t, parts))];
          positions = [];
          targets = [];
        }
      }
    }
    t.loaded = res.table;
    const landed = res.snapshot;
    // The window went in as sealed right on the snapshot the workers know: their index advances to it. Any
    // other commit in between, or deletes re-found after a compaction: it catches up through the changes.
    let layout: TableLayoutMsg = this.layoutMsg(t);
    if (landed !== null && usesKeyIndex(this.deleteMode(t))) {
      if (repositioned === 0 && !fellBack && (landed.parentSnapshotId ?? null) === t.seen) {
        layout = { ...layout, landed: { snapshotId: String(landed.snapshotId), parentId: t.seen === null ? null : String(t.seen), sequenceNumber: String(landed.sequenceNumber) } };
        t.seen = landed.snapshotId;
        t.seenSequence = landed.sequenceNumber;
      } else {
        layout = this.catchUpLayout(t) ?? layout;
      }
    }
    const files = [...dataFiles, ...deleteFiles];
    return {
      report: {
        table: name,
        snapshotId: res.snapshot?.snapshotId ?? null,
        rows: parts.reduce((a, p) => a + p.rows, 0),
        deletedKeys: parts.reduce((a, p) => a + p.deletedKeys, 0),
        dataFiles: dataFiles.length,
        deleteFiles: deleteFiles.length,
        bytes: files.reduce((a, f) => a + Number(f.fileSizeInBytes), 0),
        attempts: res.attempts,
        retries,
        ms: Date.now() - t0,
        fileWaitsMs: parts.map((p) => Date.now() - p.writtenAtMs),
        ...(repositioned > 0 ? { repositioned } : {}),
        ...(fellBack ? { fellBackToEquality: true } : {}),
        ...(positions.length > 0 ? { deletionVectors: positions.length } : {}),
        ...(!fellBack && parts.some((p) => (p.repairedRows ?? 0) > 0) ? { repairedRows: parts.reduce((a, p) => a + (p.repairedRows ?? 0), 0), repairedKeys: parts.reduce((a, p) => a + (p.repairedKeys?.length ?? 0), 0) } : {}),
      },
      layout,
    };
  }

  private optionsFor(name: string): TableOptions {
    const t = this.cfg.tables[name] ?? {};
    const d = this.cfg.tableDefaults;
    return {
      partitionBy: t.partitionBy ?? d.partitionBy ?? [],
      sortBy: t.sortBy ?? d.sortBy ?? [],
      formatVersion: t.formatVersion ?? d.formatVersion ?? 2,
      properties: { ...(d.properties ?? {}), ...(t.properties ?? {}) },
      onIncompatibleChange: t.onIncompatibleChange ?? d.onIncompatibleChange ?? 'fail',
      deleteMode: t.deleteMode ?? d.deleteMode ?? 'position',
      onDuplicateKeys: t.onDuplicateKeys ?? d.onDuplicateKeys ?? 'repair',
    };
  }

  private async openTable(id: TableIdentifier, name: string, shape: ShapeMsg): Promise<TableLayoutMsg> {
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
    let keyIds = [...schema.identifierFieldIds];
    if (keyIds.length === 0) {
      // A table created without identifier fields: use the source key columns by name.
      keyIds = shape.keyColumns.map((k) => {
        const f = schema.findField(k);
        if (f === undefined) throw new FloeError('record_invalid', `table ${name} has no column for key "${k}" and no identifier fields`, { table: name, column: k });
        return f.id;
      });
    }
    if (keyIds.length === 0) throw new FloeError('record_invalid', `table ${name}: no key (no identifier fields, no key columns in the record)`, { table: name });
    const snap = currentSnapshot(loaded.metadata);
    const t: OpenTable = { id, name, loaded, keyIds, seen: snap?.snapshotId ?? null, seenSequence: snap?.sequenceNumber ?? 0n, seenUnsure: false };
    this.open.set(name, t);
    return this.layoutMsg(t, true);
  }

  private async createTable(id: TableIdentifier, name: string, shape: ShapeMsg): Promise<LoadedTable> {
    const opts = this.optionsFor(name);
    const keys = new Set(shape.keyColumns);
    for (const k of keys) {
      if (!shape.columns.some((c) => c.name === k)) throw new FloeError('record_invalid', `key column "${k}" of ${name} is not among the record's columns`, { table: name });
    }
    let nextId = 1;
    const v3 = (opts.formatVersion ?? 2) >= 3;
    // Key columns are required (identifier fields must be); the others optional, so a dropped source
    // column can later receive nulls. On v3 a column keeps its source default as write-default (no
    // initial-default: the table has no earlier rows).
    const fields: NestedField[] = shape.columns.map((c) => {
      const type = typeFromJson(c.type, `${name}.${c.name}`);
      const writeDefault = v3 && c.default !== undefined && isPrimitive(type) ? { writeDefault: valueFromJson(type, c.default, `${name}.${c.name} default`) } : {};
      return { id: nextId++, name: c.name, required: keys.has(c.name), type, ...writeDefault };
    });
    const schema = new Schema(0, fields, shape.keyColumns.map((k) => fields.find((f) => f.name === k)?.id ?? -1));
    // A transform that cannot apply to its column's type stops the table, with one error (table-stop.ts).
    const own = this.cfg.tables[name];
    const from = (k: 'partitionBy' | 'sortBy') => (own?.[k] !== undefined ? `tables.overrides."${name}"` : 'tables.defaults');
    checkTransforms({ table: name, partitionBy: opts.partitionBy ?? [], sortBy: opts.sortBy ?? [], partitionByFrom: from('partitionBy'), sortByFrom: from('sortBy') }, schema);
    let spec: PartitionSpec;
    let sortOrder: SortOrder;
    try {
      spec = (opts.partitionBy ?? []).length > 0 ? partitionSpecFromExprs(opts.partitionBy ?? [], schema) : PartitionSpec.unpartitioned();
      const sortBy = opts.sortBy ?? [];
      sortOrder = sortBy.length > 0 ? new SortOrder(1, sortBy.map((e) => parseSortExpr(e, schema))) : SortOrder.unsorted();
    } catch (e) {
      // A partition or sort expression naming a column the source does not have: this table cannot be created.
      if (e instanceof FloeError && e.code === 'config_invalid') throw new FloeError('schema_invalid', `table ${name}: ${e.message}`, { table: name }, e);
      throw e;
    }
    await ensureNamespace(this.catalog, id.namespace);
    // Another replica may create it first (409: load it instead).
    return createOrLoadTable(this.catalog, id, {
      schema,
      spec,
      sortOrder,
      properties: { 'write.parquet.compression-codec': this.cfg.codec, 'write.upsert.enabled': 'true', ...(opts.properties ?? {}) },
      formatVersion: opts.formatVersion ?? 2,
    });
  }

  /**
   * Equality deletes must reach rows in any partition when the partition columns are not all part of the key
   * (an update can move a row to another partition). Such deletes are written with a spec with no fields,
   * which applies to every partition (spec: "Scan Planning"); add one to the table if it has none.
   */
  private async ensureDeleteSpec(loaded: LoadedTable): Promise<LoadedTable> {
    // Another writer (a replica opening the same table) may commit first: reload and look again, a few times.
    for (let attempt = 1; ; attempt++) {
      const meta = loaded.metadata;
      const spec = defaultSpec(meta);
      if (spec.isUnpartitioned || partitionWithinKey(meta, spec) || meta.specs.some((s) => s.fields.length === 0)) return loaded;
      try {
        return await this.catalog.commitTable(
          loaded,
          [{ type: 'assert-default-spec-id', 'default-spec-id': meta.defaultSpecId }, { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': meta.lastPartitionId }],
          [{ action: 'add-spec', spec: new PartitionSpec(0, []) }, { action: 'set-default-spec', 'spec-id': meta.defaultSpecId }],
        );
      } catch (e) {
        if (!(e instanceof FloeError) || e.retry !== 'conflict' || attempt >= DELETE_SPEC_ATTEMPTS_MAX) throw e;
        loaded = await this.catalog.loadTable(loaded.identifier);
      }
    }
  }


  /**
   * How a table's updates and deletes reach earlier rows. Through the key index, the table's format version
   * decides the encoding: deletion vectors on v3 (the spec forbids new position delete files there), position
   * delete files before; or equality deletes when configured.
   */
  private deleteMode(t: OpenTable): DeleteMode {
    if (this.optionsFor(t.name).deleteMode === 'equality') return 'equality';
    return t.loaded.metadata.formatVersion >= 3 ? 'dv' : 'position';
  }

  /** The layout a worker needs; `forOpen`: a worker is opening the table (and builds its key index from the metadata). */
  /** Spec equality deletes are written with: the table's when its partition sources are key columns, else one with no fields. */
  private deleteSpecOf(meta: TableMetadata): PartitionSpec {
    const spec = defaultSpec(meta);
    return spec.isUnpartitioned || partitionWithinKey(meta, spec) ? spec : (meta.specs.find((s) => s.fields.length === 0) ?? spec);
  }

  private layoutMsg(t: OpenTable, forOpen = false): TableLayoutMsg {
    const meta = t.loaded.metadata;
    const deleteMode = this.deleteMode(t);
    const spec = defaultSpec(meta);
    const deleteSpec = this.deleteSpecOf(meta);
    return {
      name: t.name,
      schema: currentSchema(meta).toJSON(),
      spec: spec.toJSON(),
      deleteSpec: deleteSpec.toJSON(),
      keyIds: t.keyIds,
      lastColumnId: meta.lastColumnId,
      sortOrder: (meta.sortOrders.find((o) => o.orderId === meta.defaultSortOrderId) ?? SortOrder.unsorted()).toJSON(),
      codec: meta.properties[PROP_CODEC] !== undefined ? parseCodec(meta.properties[PROP_CODEC], `table ${t.name} property ${PROP_CODEC}`) : this.cfg.codec,
      ...(targetSize(meta.properties[PROP_TARGET_FILE_SIZE], this.cfg.targetFileSizeBytes) ?? {}),
      onIncompatibleChange: this.optionsFor(t.name).onIncompatibleChange ?? 'fail',
      onDuplicateKeys: this.optionsFor(t.name).onDuplicateKeys ?? 'repair',
      deleteMode,
      formatVersion: meta.formatVersion,
      specs: meta.specs.map((s) => s.toJSON()),
      ...(forOpen && usesKeyIndex(deleteMode) ? { metadata: tableMetadataToJSON(meta) } : {}),
      location: meta.location,
      ioProps: t.loaded.ioProps ?? {},
      stored: storedOffsets(meta, this.cfg.groupId),
    };
  }
}

export interface TableCommitFailure {
  readonly table: string;
  readonly error: unknown;
}

/**
 * The error of a cycle whose table commits failed: none is dropped. One failure is thrown as it is. Several
 * become one FloeError whose message names every table and its error; the errors themselves are its `cause` (an
 * AggregateError, in table order) and `details.failures` lists table, code and message of each. Its code is the
 * one that decides what the caller may do, so it reflects them all: `commit_fenced` when any table was fenced
 * (another consumer owns a partition: this process must stop, whatever else failed); else the first error that
 * retrying cannot fix (retry class `never`; an error no adapter classified counts as one, as
 * `assertion_failed`); else, every failure being retriable, the first one's code. So the combined error is
 * retriable only when every table's error was.
 */
export function tableCommitsFailed(failures: readonly TableCommitFailure[]): unknown {
  assert(failures.length > 0, 'a failed cycle has a failure');
  if (failures.length === 1) return failures[0]!.error;
  const sorted = [...failures].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  const floe = (e: unknown): FloeError | null => (e instanceof FloeError ? e : null);
  const fenced = sorted.find((f) => floe(f.error)?.code === 'commit_fenced');
  const fatal = sorted.find((f) => floe(f.error)?.retry !== 'transient' && floe(f.error)?.retry !== 'conflict');
  const decisive = fenced ?? fatal ?? sorted[0]!;
  const code = floe(decisive.error)?.code ?? 'assertion_failed';
  const text = (e: unknown): string => (e instanceof Error ? e.message : String(e));
  return new FloeError(
    code,
    `commits to ${sorted.length} tables failed: ${sorted.map((f) => `${f.table}: ${text(f.error)}`).join('; ')}`,
    { tables: sorted.map((f) => f.table), failures: sorted.map((f) => ({ table: f.table, code: floe(f.error)?.code ?? null, message: text(f.error) })) },
    new AggregateError(sorted.map((f) => f.error), `table commits failed: ${sorted.map((f) => f.table).join(', ')}`),
  );
}

function targetSize(prop: string | undefined, dflt: number | undefined): { targetFileSizeBytes: number } | null {
  if (prop !== undefined && /^\d+$/.test(prop) && Number(prop) > 0) return { targetFileSizeBytes: Number(prop) };
  return dflt !== undefined ? { targetFileSizeBytes: dflt } : null;
}

function partitionWithinKey(meta: TableMetadata, spec: PartitionSpec): boolean {
  const keys = new Set(currentSchema(meta).identifierFieldIds);
  return spec.fields.every((f) => keys.has(f.sourceId));
}
