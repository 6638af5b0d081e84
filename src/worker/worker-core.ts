/**
 * The work of one worker thread (or of the main thread when `workers: 0`): decode the Kafka messages of the
 * topics assigned to it, route them, and apply them to the windows of its tables; seal windows into files on
 * request. Everything that talks to the catalog stays in the main thread: a table is opened there and its
 * layout (schema, specs, key, stored offsets) is handed to the worker. All inputs and outputs are
 * structured-clone friendly so the same core runs in-process or behind piscina.
 */
import { FloeError, assert, describeError } from '../errors.js';
import type { LoadedTable, TableIdentifier } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { offsetOf, splitTp, type OffsetMap } from '../commit/offsets.js';
import { PrecisionLost } from '../decode/connect-schema.js';
import { DebeziumDecoder, type DecoderOptions, type TableShape } from '../decode/debezium.js';
import type { DataFile } from '../iceberg/data-file.js';
import { PartitionSpec } from '../iceberg/partition-spec.js';
import { Schema } from '../iceberg/schema.js';
import { typeToJson, type TypeJson } from '../iceberg/type-json.js';
import { valueToJson, type JsonSingleValue } from '../iceberg/value-json.js';
import { fileIOFromProperties, type S3Settings } from '../io/file-io-factory.js';
import type { FileIO } from '../io/file-io.js';
import type { SourceMessage } from '../kafka/source.js';
import { Router, sourceFromTopic, type RouterConfig } from '../route/router.js';
import type { DeleteMode, DuplicateKeyPolicy, IncompatibleChangePolicy, OutOfRange } from '../config/config.js';
import { tableMetadataFromJSON, type TableMetadata } from '../iceberg/table-metadata.js';
import { indexFromBytes, indexToBytes, type PkIndexOptions } from './pk-index.js';
import type { IcebergValue } from '../iceberg/values.js';
import { SortOrder } from '../iceberg/sort-order.js';
import type { ParquetCodec } from '../writer/parquet.js';
import { TableState, type TableLayout } from './table-worker.js';
import { TableKeyIndex, type CatchUp, type KeyIndexOptions, type Reshard } from './key-index.js';
import type { DefaultNotKept } from './table-worker.js';
import { tableStopOf, type TableStop } from './table-stop.js';
import { sameShard, type TopicAssignment } from './key-shard.js';
import { TableShards, type KeyMismatch } from './table-shards.js';

export interface SealOutcome {
  readonly name: string;
  readonly landed: boolean;
}

export interface IndexSaveItem {
  readonly name: string;
  readonly snapshotId: string;
  readonly tableUuid: string;
}

export interface WorkerInit {
  readonly decoder: DecoderOptions;
  /** Budget of each table's primary-key index, in keys. */
  readonly indexKeysMax?: number;
  /** Index only the keys of this replica's partitions where a topic's keys allow it (key-shard.ts). */
  readonly shardByPartition?: boolean;
  /** Threads a bootstrap reads integer keys with (0 or absent: by size and cores). */
  readonly bootstrapThreads?: number;
  /**
   * Memory this worker's key indexes may hold together (its share of `index.memoryBytesMax`); a table whose
   * index would pass what the others leave spills to `indexSpillDir`. Absent: no budget (tests).
   */
  readonly indexMemoryBytesMax?: number;
  readonly indexSpillDir?: string;
  /** A value outside its column's Iceberg type: dead-letter the record (default) or write null. */
  readonly outOfRange?: OutOfRange;
  readonly route: RouterConfig;
  readonly codec: ParquetCodec;
  readonly targetFileSizeBytes: number;
  readonly s3: S3Settings;
}

/** A table as the main thread opened it: everything a worker needs, in JSON-able form. */
export interface TableLayoutMsg {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  readonly spec: Record<string, unknown>;
  readonly deleteSpec: Record<string, unknown>;
  readonly keyIds: readonly number[];
  readonly lastColumnId: number;
  /** The table's default sort order: rows of each data file are written in it. */
  readonly sortOrder?: Record<string, unknown>;
  /** From the table's write.parquet.compression-codec / write.target-file-size-bytes, else floe's defaults. */
  readonly codec?: ParquetCodec;
  readonly targetFileSizeBytes?: number;
  readonly onIncompatibleChange?: IncompatibleChangePolicy;
  /** `position` / `dv`: the worker keeps a primary-key index and deletes by position; `equality` otherwise. */
  readonly deleteMode?: DeleteMode;
  /** Every partition spec of the table (JSON), for position deletes against files of older specs. */
  readonly specs?: readonly Record<string, unknown>[];
  /** The table metadata (JSON), sent when the worker must build the table's primary-key index from it. */
  readonly metadata?: Record<string, unknown>;
  /**
   * The table moved on without the workers' index (another writer, a compaction, a commit that re-found its
   * deletes, a rebalance): the index catches up from the snapshot it describes to `metadata`'s current one.
   */
  readonly catchUp?: boolean;
  /** After a commit that landed right on the snapshot the workers knew, as sealed: the index advances to it. */
  readonly landed?: { readonly snapshotId: string; readonly parentId: string | null; readonly sequenceNumber: string };
  /** A key with several live rows found while building the index: delete all but its newest row, or stop. */
  readonly onDuplicateKeys?: DuplicateKeyPolicy;
  /** The table's format version (columns added on v3 carry their source default). */
  readonly formatVersion?: number;
  readonly location: string;
  /** Catalog/table properties for the table's FileIO (REST `config`), merged over the worker's S3 settings. */
  readonly ioProps: Readonly<Record<string, string>>;
  readonly stored: OffsetMap;
}

export interface ShapeMsg {
  /** `default`: the source column's default as the type's JSON single value (a table created on v3 gets it as write-default). */
  readonly columns: readonly { readonly name: string; readonly type: TypeJson; readonly required: boolean; readonly default?: JsonSingleValue }[];
  readonly keyColumns: readonly string[];
}

/** How a worker opened a table: where its key index came from, with how many keys, and how long it took. */
export interface OpenedTable {
  readonly name?: string;
  readonly index: 'saved' | 'built' | 'none';
  readonly keys: number;
  readonly ms: number;
  /** The index followed the table's changed files (key-index.ts); `rebuilt`: only a full read could tell. */
  readonly catchUp?: CatchUp;
  readonly rebuilt?: 'equality_deletes_on_other_columns' | 'catch_up_interrupted';
  /** The index moved to other partitions' keys (a rebalance) or to every key: what it read and holds. */
  readonly resharded?: Reshard;
  /** Partitions whose keys the index holds (absent: every key). */
  readonly shardPartitions?: number;
}

export interface ApplyResult {
  /** Messages handled, from the start of the batch. Less than the batch when a table must be opened first. */
  readonly done: number;
  /**
   * The record at `done` is of a table whose index holds only some partitions' keys, and these no longer say
   * where its key is (a key that stopped matching its partition, a second topic, a partition outside the
   * shard): the table needs a catch-up layout (with metadata) so its index follows the keys wanted now.
   */
  readonly reindex?: string;
  /** Topics whose keys stopped matching Kafka's default partitioner or their key template (once each). */
  readonly keyMismatches?: readonly KeyMismatch[];
  readonly need?: { readonly id: TableIdentifier; readonly name: string; readonly shape: ShapeMsg };
  /** An Avro record's writer schema id this worker has not been given yet. */
  readonly needSchema?: number;
  /** `stopped`: the record's table is stopped (table-stop.ts); the stop itself is reported once, in `stops`. */
  readonly rejects: readonly { readonly index: number; readonly reason: string; readonly stopped?: string }[];
  /** Tables that stopped in this batch, each with the index of the record that stopped it. */
  readonly stops?: readonly (TableStop & { readonly index: number })[];
  readonly applied: number;
  readonly skippedReplayed: number;
  readonly skippedIgnored: number;
  readonly bufferedBytes: number;
}

export interface SealedTable {
  readonly name: string;
  readonly dataFiles: DataFile[];
  readonly deleteFiles: DataFile[];
  readonly truncated: boolean;
  readonly evolvedSchema: Record<string, unknown> | null;
  readonly window: [string, number][];
  readonly expected: [string, number | null][];
  readonly rows: number;
  readonly deletedKeys: number;
  /** Data files the position deletes point at (they must be live when the snapshot commits). */
  readonly targetDataFiles: string[];
  /** Keys the position deletes are for (deleted by equality instead if their files were rewritten meanwhile). */
  readonly positionDeletedKeys: (IcebergValue | null)[][];
  /** Delete mode `dv`: deleted positions per target data file, for the committer's deletion vectors. */
  readonly deletedPositions: [string, Float64Array][];
  /** Keys that had several live rows; this window deletes all but each one's newest row (see index-build.ts). */
  readonly repairedKeys: (IcebergValue | null)[][];
  readonly repairedRows: number;
  readonly repairExamples: string[];
  /** Change events applied to the window by Debezium op (c, r, u, d, t), for metrics. */
  readonly ops: Record<string, number>;
  /** Newest event time in the window (Debezium `ts_ms`, else the Kafka timestamp), ms; null if none. */
  readonly newestEventMs: number | null;
  /** When the window's files were written (uploaded), ms: its commit's wait is counted from here. */
  readonly writtenAtMs: number;
  /** The table's key index after the seal (0 without one). */
  readonly indexKeys: number;
  /** Partitions whose keys the index holds (absent: every key, or no index). */
  readonly indexPartitions?: number;
  /** Where the table's key index is: in memory, partly on local disk, or none (the table deletes by equality). */
  readonly indexState?: 'memory' | 'spilled' | 'equality';
  readonly indexDiskBytes?: number;
  readonly indexBytes: number;
  /** Columns the evolved schema adds without their source default (format version < 3 has none), to warn about once. */
  readonly defaultsNotKept?: readonly DefaultNotKept[];
}

/** Delete modes that keep a primary-key index (rows are deleted where the index says they are). */
export function usesKeyIndex(mode: DeleteMode | undefined): boolean {
  return mode === 'position' || mode === 'dv';
}

interface WorkerTable {
  readonly name: string;
  readonly state: TableState;
  location: string;
  ioProps: Readonly<Record<string, string>>;
  stored: OffsetMap;
  readonly expected: Map<string, number | null>;
  readonly window: Map<string, number>;
  /** The saved index file this table's index was loaded from or last saved to (replaced by the next save). */
  indexFile: string | null;
  /** Where the index came from when the table was opened (logs and tests). */
  readonly indexSource: 'saved' | 'built' | null;
  ops: Record<string, number>;
  newestEventMs: number | null;
}

/** A table's index is never budgeted below this (a tiny budget would spill every few keys). */
const INDEX_TABLE_BYTES_MIN = 256 * 1024;

/** The partitions an index holds the keys of, for OpenedTable (absent: every key). */
function shardPartitions(keys: TableKeyIndex | null): { shardPartitions?: number } {
  const shard = keys?.shard ?? null;
  return shard === null ? {} : { shardPartitions: shard.assignment.partitions.length };
}

/** Where the index of a table as of a snapshot is saved: next to the table's metadata, named by the snapshot. */
export function indexSnapshotPath(location: string, snapshotId: string): string {
  return `${location}/metadata/floe-pk-index-${snapshotId}.stats`;
}

export function shapeToMsg(shape: TableShape): ShapeMsg {
  const columns = shape.columns.map((c) => ({ name: c.name, type: typeToJson(c.type), required: c.required, ...(c.default !== undefined ? { default: valueToJson(c.type, c.default) } : {}) }));
  return { columns, keyColumns: [...shape.keyColumns] };
}

export class WorkerCore {
  private readonly decoder: DebeziumDecoder;
  private readonly router: Router;
  private readonly tables = new Map<string, WorkerTable>();
  /** Tables the main thread could not open and stopped (table-stop.ts): their records are rejected with the reason. */
  private readonly stopped = new Map<string, string>();

  /** Where table files are read and written: from the table's properties, or a FileIO given in-process (tests). */
  private readonly io: (props: Readonly<Record<string, string>>) => FileIO;
  /** Which keys each table's index holds (this replica's partitions, or all). */
  private readonly shards: TableShards;

  constructor(
    private readonly init: WorkerInit,
    io?: (props: Readonly<Record<string, string>>) => FileIO,
  ) {
    this.decoder = new DebeziumDecoder(init.decoder);
    this.router = new Router(init.route);
    this.shards = new TableShards(init.shardByPartition ?? false, (id) => this.decoder.writerSchema(id));
    this.io = io ?? ((props) => fileIOFromProperties(props, init.s3));
  }

  get bufferedBytes(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.state.buffer.bytes;
    return n;
  }

  registerSchema(id: number, text: string): void {
    this.decoder.registerSchema(id, text);
  }

  private layoutOf(msg: TableLayoutMsg): TableLayout {
    return {
      schema: Schema.fromJSON(msg.schema),
      spec: PartitionSpec.fromJSON(msg.spec),
      deleteSpec: PartitionSpec.fromJSON(msg.deleteSpec),
      keyIds: msg.keyIds,
      lastColumnId: msg.lastColumnId,
      sortOrder: msg.sortOrder !== undefined ? SortOrder.fromJSON(msg.sortOrder) : SortOrder.unsorted(),
      codec: msg.codec ?? this.init.codec,
      targetFileSizeBytes: msg.targetFileSizeBytes ?? this.init.targetFileSizeBytes,
      onIncompatibleChange: msg.onIncompatibleChange ?? 'fail',
      outOfRange: this.init.outOfRange ?? 'dead-letter',
      ...(msg.deleteMode !== undefined ? { deleteMode: msg.deleteMode } : {}),
      ...(msg.formatVersion !== undefined ? { formatVersion: msg.formatVersion } : {}),
      ...(msg.specs !== undefined ? { specs: new Map(msg.specs.map((j) => PartitionSpec.fromJSON(j)).map((sp) => [sp.specId, sp])) } : {}),
    };
  }

  private keyIndexOptions(layout: TableLayoutMsg): KeyIndexOptions {
    const schema = Schema.fromJSON(layout.schema);
    const keyFields = layout.keyIds.map((id) => schema.fieldOrThrow(id));
    return {
      table: layout.name,
      keyFields,
      onDuplicateKeys: layout.onDuplicateKeys ?? 'repair',
      shard: this.shards.desired(layout.name, keyFields.map((f) => f.name)),
      ...(this.init.indexKeysMax !== undefined ? { keysMax: this.init.indexKeysMax } : {}),
      ...(this.init.bootstrapThreads !== undefined ? { threads: this.init.bootstrapThreads } : {}),
      ...this.pkOptions(layout.name),
    };
  }

  /**
   * The memory budget of one table's index: what the worker's share leaves beside its other tables' indexes (read
   * when the index checks, every few thousand inserts), never below INDEX_TABLE_BYTES_MIN.
   */
  private pkOptions(name: string): { pk?: PkIndexOptions } {
    const share = this.init.indexMemoryBytesMax;
    const dir = this.init.indexSpillDir;
    if (share === undefined || dir === undefined) return {};
    const memoryBytesMax = (): number => {
      let others = 0;
      for (const [n, t] of this.tables) if (n !== name) others += t.state.keyIndex?.bytes ?? 0;
      return Math.max(INDEX_TABLE_BYTES_MIN, share - others);
    };
    return { pk: { spill: { dir, memoryBytesMax } } };
  }

  /** This replica's partitions now (after a rebalance); each table's index follows at its next catch-up layout. */
  assign(list: readonly TopicAssignment[]): void {
    this.shards.assign(list);
  }

  private tableOf(layout: TableLayoutMsg, metadata: TableMetadata): LoadedTable {
    return { identifier: { namespace: [], name: layout.name }, metadataLocation: '', metadata, io: this.io(layout.ioProps) };
  }

  /**
   * The index saved for the table's current snapshot, if there is one and it describes this table and key;
   * null otherwise (the caller builds the index from the table). A saved index is only ever written for a
   * snapshot whose whole history since the index was built is floe's own (see the committer).
   */
  private async loadSavedIndex(layout: TableLayoutMsg, metadata: TableMetadata): Promise<{ index: TableKeyIndex; path: string } | null> {
    const current = metadata.currentSnapshotId;
    if (current === null || current === undefined) return null;
    const path = indexSnapshotPath(layout.location, String(current));
    const io = this.io(layout.ioProps);
    let bytes: Uint8Array;
    try {
      bytes = await io.read(path);
    } catch (e) {
      // S3 answers 403, not 404, for a missing key when the principal may not list the bucket (SeaweedFS and
      // AWS alike). A saved index is only a shortcut: unreadable means build it from the table, whose reads
      // fail loudly if access is really denied.
      if (e instanceof FloeError && (e.code === 'io_not_found' || e.code === 'io_access_denied')) return null;
      throw e;
    }
    try {
      const { index, meta } = indexFromBytes(bytes, this.init.indexKeysMax, this.pkOptions(layout.name).pk);
      const sameKey = meta.keyIds.length === layout.keyIds.length && meta.keyIds.every((id, i) => id === layout.keyIds[i]);
      const opts = this.keyIndexOptions(layout);
      // Another replica's share of the keys (or a share where every key is wanted now) is not this index.
      const sameKeys = (meta.shard ?? null) === (opts.shard?.identity ?? null);
      if (meta.tableUuid !== metadata.tableUuid || meta.snapshotId !== String(current) || !sameKey || !sameKeys) {
        index.close();
        return null;
      }
      return { index: TableKeyIndex.fromSaved(this.tableOf(layout, metadata), index, opts), path };
    } catch (e) {
      // A damaged or foreign file: rebuild from the table instead.
      if (e instanceof FloeError && e.code === 'metadata_invalid') return null;
      throw e;
    }
  }

  /**
   * Saves a table's index as of `snapshotId` (its last commit) so the next start loads it instead of reading
   * every key column; the previously saved file is deleted. Returns the path, or null when the table has no index.
   */
  async saveIndex(name: string, snapshotId: string, tableUuid: string): Promise<string | null> {
    const t = this.tables.get(name);
    const keys = t?.state.keyIndex ?? null;
    // Only an index that describes exactly the snapshot it is saved for.
    if (t === undefined || keys === null || String(keys.snapshotId) !== snapshotId) return null;
    const index = keys.pk;
    const io = this.io(t.ioProps);
    const path = indexSnapshotPath(t.location, snapshotId);
    const shard = keys.shard;
    await io.write(path, indexToBytes(index, { tableUuid, snapshotId, keyIds: t.state.keyIds, ...(shard !== null ? { shard: shard.identity } : {}) }));
    const previous = t.indexFile;
    t.indexFile = path;
    if (previous !== null && previous !== path) await io.delete(previous);
    return path;
  }

  async openTable(layout: TableLayoutMsg): Promise<OpenedTable> {
    const t0 = Date.now();
    const existing = this.tables.get(layout.name);
    if (existing !== undefined) {
      // After a commit or a rebalance: the table's layout changed (schema ids), its window is already empty.
      assert(!existing.state.sealPending, 'a table\'s sealed window is confirmed before its layout changes', { table: layout.name });
      existing.state.setLayout(this.layoutOf(layout));
      existing.location = layout.location;
      existing.ioProps = layout.ioProps;
      existing.stored = layout.stored;
      const keys = existing.state.keyIndex;
      const follow = keys === null ? {} : await this.followTable(layout, keys, existing.state);
      const now = existing.state.keyIndex;
      return { name: layout.name, index: now === null ? 'none' : 'built', keys: now?.size ?? 0, ms: Date.now() - t0, ...follow, ...shardPartitions(now) };
    }
    const state = new TableState(this.layoutOf(layout));
    let loadedFrom: string | null = null;
    let indexSource: 'saved' | 'built' | null = null;
    if (usesKeyIndex(layout.deleteMode) && layout.metadata !== undefined) {
      try {
        const metadata = tableMetadataFromJSON(layout.metadata);
        const saved = await this.loadSavedIndex(layout, metadata);
        if (saved !== null) {
          loadedFrom = saved.path;
          state.useIndex(saved.index);
          indexSource = 'saved';
        } else {
          state.useIndex(await TableKeyIndex.build(this.tableOf(layout, metadata), this.keyIndexOptions(layout)));
          indexSource = 'built';
        }
      } catch (e) {
        // Over budget: this table deletes by equality (correct, slower to read); anything else is a failure.
        if (!(e instanceof FloeError) || e.code !== 'index_full') throw e;
      }
    }
    this.tables.set(layout.name, { name: layout.name, state, location: layout.location, ioProps: layout.ioProps, stored: layout.stored, expected: new Map(), window: new Map(), indexFile: loadedFrom, indexSource, ops: {}, newestEventMs: null });
    return { name: layout.name, index: indexSource ?? 'none', keys: state.keyIndex?.size ?? 0, ms: Date.now() - t0, ...shardPartitions(state.keyIndex) };
  }

  /**
   * The index follows the table after a commit or a rebalance: it advances to the snapshot a commit made right
   * on the one it describes, or catches up through the changed files (key-index.ts). Over budget, the table
   * deletes by equality from now on.
   */
  private async followTable(layout: TableLayoutMsg, keys: TableKeyIndex, state: TableState): Promise<Pick<OpenedTable, 'catchUp' | 'rebuilt' | 'resharded'>> {
    try {
      if (layout.catchUp === true) {
        assert(layout.metadata !== undefined, 'a catch-up comes with the table metadata', { table: layout.name });
        const table = this.tableOf(layout, tableMetadataFromJSON(layout.metadata));
        const caught = await keys.catchUp(table);
        if (caught === null) {
          const reason = keys.needsRebuild ? 'catch_up_interrupted' : 'equality_deletes_on_other_columns';
          state.useIndex(await TableKeyIndex.build(table, this.keyIndexOptions(layout)));
          return { rebuilt: reason };
        }
        // Then to the keys wanted now (a rebalance moved partitions, or a topic's keys stopped matching).
        const want = this.keyIndexOptions(layout).shard ?? null;
        if (sameShard(keys.shard, want)) return { catchUp: caught };
        return { catchUp: caught, resharded: await keys.reshard(table, want) };
      }
      if (layout.landed !== undefined) {
        const l = layout.landed;
        keys.advance(BigInt(l.snapshotId), l.parentId === null ? null : BigInt(l.parentId), BigInt(l.sequenceNumber));
      }
      return {};
    } catch (e) {
      if (!(e instanceof FloeError) || e.code !== 'index_full') throw e;
      state.useIndex(null);
      return {};
    }
  }

  /** The table is stopped (it could not be opened, see table-stop.ts): its records are rejected from now on. */
  stopTable(name: string, reason: string): void {
    this.stopped.set(name, reason);
  }

  /** New stored offsets (after partitions were assigned: another consumer may have advanced them). */
  refresh(name: string, stored: OffsetMap): void {
    const t = this.tables.get(name);
    if (t !== undefined) t.stored = stored;
  }

  /** Drops the windows' changes of revoked partitions: they will be consumed again by their new owner. */
  drop(tpKeys: readonly string[]): void {
    const set = new Set(tpKeys);
    for (const t of this.tables.values()) {
      t.state.buffer.dropPartitions(set);
      for (const k of tpKeys) {
        t.window.delete(k);
        t.expected.delete(k);
      }
    }
  }

  apply(messages: readonly SourceMessage[]): ApplyResult {
    const rejects: { index: number; reason: string; stopped?: string }[] = [];
    const stops: (TableStop & { index: number })[] = [];
    let applied = 0;
    let skippedReplayed = 0;
    let skippedIgnored = 0;
    let lastTopic = '';
    let lastPartition = -1;
    let tpKey = '';
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as SourceMessage;
      if (m.topic !== lastTopic || m.partition !== lastPartition) {
        // Records come in runs of one partition: build its key once per run.
        lastTopic = m.topic;
        lastPartition = m.partition;
        tpKey = `${m.topic}/${m.partition}`;
      }
      const decoded = this.decoder.decode(m.topic, m.key, m.value);
      if (decoded.kind === 'skip') {
        skippedIgnored++;
        continue;
      }
      if (decoded.kind === 'reject') {
        rejects.push({ index: i, reason: decoded.reason });
        continue;
      }
      if (decoded.kind === 'need-schema') {
        return { done: i, needSchema: decoded.id, rejects, ...(stops.length > 0 ? { stops } : {}), ...this.mismatches(), applied, skippedReplayed, skippedIgnored, bufferedBytes: this.bufferedBytes };
      }
      const fallback = decoded.db === '' || decoded.table === '' ? sourceFromTopic(m.topic) : null;
      const id = this.router.route(m.topic, fallback?.db ?? decoded.db, fallback?.table ?? decoded.table);
      if (id === null) {
        skippedIgnored++;
        continue;
      }
      const name = identifierToString(id);
      // Every key is checked against its partition (and teaches its topic's key template: key-shard.ts).
      this.shards.observe(name, m, decoded.shape.keyColumns, decoded.key);
      const t = this.tables.get(name);
      const shard = t?.state.keyIndex?.shard ?? null;
      if (shard !== null && !this.shards.stillHolds(shard, m)) {
        // The index holds only some partitions' keys, and this record's key may not be among them.
        return { done: i, reindex: name, rejects, ...(stops.length > 0 ? { stops } : {}), ...this.mismatches(), applied, skippedReplayed, skippedIgnored, bufferedBytes: this.bufferedBytes };
      }
      if (t === undefined) {
        const stopped = this.stopped.get(name);
        if (stopped !== undefined) {
          rejects.push({ index: i, reason: stopped, stopped: name });
          continue;
        }
        return { done: i, need: { id, name, shape: shapeToMsg(decoded.shape) }, rejects, ...(stops.length > 0 ? { stops } : {}), ...this.mismatches(), applied, skippedReplayed, skippedIgnored, bufferedBytes: this.bufferedBytes };
      }
      const [topic, p] = [m.topic, m.partition];
      const stored = offsetOf(t.stored, topic, p);
      if (stored !== null && m.offset < stored) {
        skippedReplayed++;
        continue;
      }
      try {
        try {
          t.state.apply(decoded, tpKey);
        } catch (e) {
          if (!(e instanceof PrecisionLost)) throw e;
          // A BIGINT beyond 2^53 was rounded by JSON.parse: decode this message again with exact integers.
          const exact = this.decoder.decodeExact(m.topic, m.key, m.value);
          if (exact.kind !== 'change') throw new FloeError('record_invalid', exact.kind === 'reject' ? exact.reason : 'record changed kind on exact decoding');
          t.state.apply(exact, tpKey);
        }
        applied++;
        t.ops[decoded.op] = (t.ops[decoded.op] ?? 0) + 1;
        const at = decoded.tsMs ?? m.timestamp ?? null;
        if (at !== null && (t.newestEventMs === null || at > t.newestEventMs)) t.newestEventMs = at;
      } catch (e) {
        if (!(e instanceof FloeError) || (e.code !== 'value_invalid' && e.code !== 'record_invalid' && e.code !== 'schema_invalid')) throw e;
        const stop = tableStopOf(e);
        if (stop !== null) stops.push({ table: name, reason: stop, message: e.message, index: i });
        rejects.push({ index: i, reason: describeError(e), ...(t.state.failed !== null ? { stopped: name } : {}) });
      }
      // Covered by this table's window either way: a replay must not apply or dead-letter it again.
      if (!t.expected.has(tpKey)) t.expected.set(tpKey, stored);
      const prev = t.window.get(tpKey);
      assert(prev === undefined || m.offset + 1 > prev, 'offsets must increase per partition', { partition: tpKey, offset: m.offset, previous: prev });
      t.window.set(tpKey, m.offset + 1);
    }
    return { done: messages.length, rejects, ...(stops.length > 0 ? { stops } : {}), ...this.mismatches(), applied, skippedReplayed, skippedIgnored, bufferedBytes: this.bufferedBytes };
  }

  /** The key mismatches found by this batch, for the main thread to log (once per topic). */
  private mismatches(): { keyMismatches?: KeyMismatch[] } {
    const found = this.shards.takeMismatches();
    return found.length > 0 ? { keyMismatches: found } : {};
  }

  /**
   * Seals every table with a window; the windows start over. Each sealed table's index changes wait for
   * `confirm`. If a seal fails (an upload), the windows are gone: every table sealed by this call is confirmed
   * as not landed, and the caller must have the records consumed again (see Pipeline.recover).
   */
  async seal(): Promise<SealedTable[]> {
    const sealed: string[] = [];
    try {
      return await this.sealAll(sealed);
    } catch (e) {
      for (const name of sealed) this.tables.get(name)?.state.confirm(false);
      throw e;
    }
  }

  /** The outcome of each sealed table's commit (tables this worker did not seal are ignored). */
  confirm(outcomes: readonly SealOutcome[]): void {
    for (const o of outcomes) this.tables.get(o.name)?.state.confirm(o.landed);
  }

  /** Every sealed window waiting for its outcome did not land (a commit cycle failed before its commits). */
  abandonSeals(): void {
    for (const t of this.tables.values()) t.state.confirm(false);
  }

  private async sealAll(sealedNames: string[]): Promise<SealedTable[]> {
    const out: SealedTable[] = [];
    for (const t of this.tables.values()) {
      if (t.state.buffer.isEmpty && t.window.size === 0 && !t.state.repairPending) continue;
      const io = this.io(t.ioProps);
      const evolved = t.state.pendingSchema;
      const defaultsNotKept = t.state.pendingDefaultsNotKept;
      const sealed = await t.state.seal({ io, dataLocation: `${t.location}/data` });
      sealedNames.push(t.name);
      out.push({
        name: t.name,
        dataFiles: sealed.dataFiles,
        deleteFiles: sealed.deleteFiles,
        truncated: sealed.truncated,
        evolvedSchema: evolved === null ? null : evolved.toJSON(),
        window: [...t.window],
        expected: [...t.expected],
        rows: sealed.rows,
        deletedKeys: sealed.deletedKeys,
        targetDataFiles: sealed.targetDataFiles,
        positionDeletedKeys: sealed.positionDeletedKeys,
        deletedPositions: sealed.deletedPositions,
        repairedKeys: sealed.repairedKeys,
        repairedRows: sealed.repairedRows,
        repairExamples: sealed.repairExamples,
        ops: t.ops,
        newestEventMs: t.newestEventMs,
        writtenAtMs: Date.now(),
        indexKeys: sealed.indexKeysAfter ?? 0,
        indexBytes: t.state.keyIndex?.bytes ?? 0,
        ...(t.state.keyIndex?.shard != null ? { indexPartitions: t.state.keyIndex.shard.assignment.partitions.length } : {}),
        indexState: t.state.keyIndex === null ? 'equality' : t.state.keyIndex.spilled ? 'spilled' : 'memory',
        indexDiskBytes: t.state.keyIndex?.diskBytes ?? 0,
        ...(defaultsNotKept.length > 0 ? { defaultsNotKept: [...defaultsNotKept] } : {}),
      });
      t.ops = {};
      t.newestEventMs = null;
      t.window.clear();
      t.expected.clear();
    }
    return out;
  }

  /** Where a table's key index came from when it was opened: a saved file, or built from the table. */
  indexSourceOf(name: string): 'saved' | 'built' | null {
    return this.tables.get(name)?.indexSource ?? null;
  }

  /** Whether the worker holds the partition's records of a table below `offset` (tests). */
  holds(name: string, tpKey: string, offset: number): boolean {
    const t = this.tables.get(name);
    if (t === undefined) return false;
    const [topic, p] = splitTp(tpKey);
    const s = offsetOf(t.stored, topic, p);
    return s !== null && offset < s;
  }
}
