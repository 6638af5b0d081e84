/**
 * Applies decoded changes to per-table state: converts source values to the table's Iceberg values, collapses
 * them by primary key in a TableBuffer, evolves the table schema by adding columns the source gained, and
 * seals a window into Parquet data files plus equality delete files.
 * One TableWorker serves the tables routed to it; it does no catalog I/O (the committer opens tables).
 */
import { FloeError, assert } from '../errors.js';
import { decimalText, type ColumnMapping } from '../decode/connect-schema.js';
import type { Change, TableShape } from '../decode/debezium.js';
import type { DataFile } from '../iceberg/data-file.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import { Schema } from '../iceberg/schema.js';
import { sortBySortOrder, type SortOrder } from '../iceberg/sort-order.js';
import { typeToString, type IcebergType, type NestedField, type PrimitiveType } from '../iceberg/types.js';
import { valueMatchesType, valuesKey, type IcebergValue } from '../iceberg/values.js';
import { stringifyJsonExact } from '../iceberg/json.js';
import { valueToJson } from '../iceberg/value-json.js';
import type { DeleteMode, IncompatibleChangePolicy, OutOfRange } from '../config/config.js';
import type { ParquetCodec } from '../writer/parquet.js';
import type { WriterSettings } from '../writer/file-writer.js';
import { DataWriter, EqualityDeleteWriter, Partitioner, PositionDeleteWriter } from '../writer/partitioned-writer.js';
import { normalizePositions } from '../iceberg/deletion-vector.js';
import type { IndexedFile } from './pk-index.js';
import type { TableKeyIndex } from './key-index.js';
import { TableBuffer, type Slot, type Values } from './table-buffer.js';

export interface TableLayout {
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  /** Spec equality deletes are written with: the table spec when partition sources ⊆ key, else one with no fields (global deletes). */
  readonly deleteSpec: PartitionSpec;
  readonly keyIds: readonly number[];
  /** The table's `last-column-id`: new columns get ids above it, never reusing a dropped column's id. */
  readonly lastColumnId: number;
  /** Rows of each data file are written in this order (the table's default sort order). */
  readonly sortOrder: SortOrder;
  readonly codec: ParquetCodec;
  readonly targetFileSizeBytes: number;
  /** A source column changing to a type its table column cannot hold. */
  readonly onIncompatibleChange: IncompatibleChangePolicy;
  /** A value outside its column's type (TIME beyond 24 h as Iceberg `time`, a decimal wider than its precision). */
  readonly outOfRange: OutOfRange;
  /** Every partition spec of the table by id (position deletes are written in their target file's spec). */
  readonly specs?: ReadonlyMap<number, PartitionSpec>;
  /** With a key index: `position` writes position delete files, `dv` hands positions to the committer. */
  readonly deleteMode?: DeleteMode;
  /** The table's format version: columns added on v3 carry the source column's default (v2 has no defaults). */
  readonly formatVersion?: number;
}

/** A column added to a table whose format version cannot hold default values, though the source has one. */
export interface DefaultNotKept {
  readonly column: string;
  /** The source default, as the column's JSON single value (for the log line). */
  readonly sourceDefault: string;
}

export interface SealedWindow {
  readonly dataFiles: DataFile[];
  readonly deleteFiles: DataFile[];
  readonly truncated: boolean;
  readonly rows: number;
  readonly deletedKeys: number;
  /** Data files the window's position deletes point at: they must still be live when it commits. */
  readonly targetDataFiles: string[];
  /** The keys those position deletes are for. */
  readonly positionDeletedKeys: Values[];
  /** Set when the primary-key index ran out of budget in this window (the table writes equality deletes from now on). */
  readonly indexOverflow: string | null;
  /** Keys the index holds once this window's commit lands (null: no index). */
  readonly indexKeysAfter: number | null;
  /**
   * Delete mode `dv`: the deleted positions per target data file, sorted. The committer merges them into each
   * file's deletion vector at commit time (it needs the table's current vectors, which only it sees).
   */
  readonly deletedPositions: [string, Float64Array][];
  /**
   * Duplicate-key repair done by this window (see index-build.ts): the keys that had several live rows, whose
   * older rows this window deletes by position, and how many rows that is. Empty when the table had none.
   */
  readonly repairedKeys: Values[];
  readonly repairedRows: number;
  /** The duplicates as text, a few of them, for the log line of the commit that repairs them. */
  readonly repairExamples: string[];
}

/** Where a table column's values come from: the source column and its converter into the column's type. */
type Bound = { readonly index: number; readonly source: string; readonly convert: ColumnMapping['convert'] } | null;

/**
 * How a source column's type fits a table column's (Iceberg spec, "Schema Evolution": valid type promotions
 * are int → long, float → double and decimal(P, S) → decimal(P', S) with P' > P):
 *   same       the table column holds the source values as they are (or after a lossless conversion)
 *   widen      the table column must be promoted first, to `to`
 *   incompatible  no promotion exists (string → int, a decimal scale change, ...)
 */
type Fit = { readonly kind: 'same' } | { readonly kind: 'widen'; readonly to: PrimitiveType } | { readonly kind: 'incompatible' };

export function fitOf(table: IcebergType, source: PrimitiveType): Fit {
  if (table.kind === source.kind) {
    if (table.kind === 'decimal' && source.kind === 'decimal') {
      if (table.scale !== source.scale) return { kind: 'incompatible' };
      return source.precision > table.precision ? { kind: 'widen', to: source } : { kind: 'same' };
    }
    if (table.kind === 'fixed' && source.kind === 'fixed' && table.length !== source.length) return { kind: 'incompatible' };
    return { kind: 'same' };
  }
  if (table.kind === 'long' && source.kind === 'int') return { kind: 'same' };
  if (table.kind === 'double' && source.kind === 'float') return { kind: 'same' };
  if (table.kind === 'int' && source.kind === 'long') return { kind: 'widen', to: source };
  if (table.kind === 'float' && source.kind === 'double') return { kind: 'widen', to: source };
  // A decimal whose column became wider than 38 digits (kept as text) still fits a string column.
  if (table.kind === 'string' && source.kind === 'decimal') return { kind: 'same' };
  return { kind: 'incompatible' };
}

/** A source value converted to the table column's type (the table may be wider than the source). */
function convertInto(c: ColumnMapping, target: IcebergType): ColumnMapping['convert'] {
  if (target.kind === 'long' && c.type.kind === 'int') {
    return (v) => {
      const x = c.convert(v);
      return typeof x === 'number' ? BigInt(x) : x;
    };
  }
  if (target.kind === 'string' && c.type.kind === 'decimal') {
    const scale = c.type.scale;
    return (v) => {
      const x = c.convert(v);
      return typeof x === 'bigint' ? decimalText(x, scale) : x;
    };
  }
  return c.convert;
}

/** Suffix of the column that takes values after an incompatible change under `new-column` (price → price__string). */
function newColumnName(name: string, t: PrimitiveType): string {
  return `${name}__${t.kind}`;
}

export class TableState {
  readonly buffer = new TableBuffer();
  private layout: TableLayout;
  /** Schema with columns added or promoted by this window, committed with it (null: unchanged). */
  private evolved: Schema | null = null;
  private boundShape: TableShape | null = null;
  private bound: Bound[] = [];
  private keyBound: NonNullable<Bound>[] = [];
  /** Why this table stopped taking changes (policy `fail` after an incompatible change); null while healthy. */
  private failedReason: string | null = null;
  /** Values written as null under `outOfRange: null` (for metrics and logs). */
  nulledValues = 0;
  /** Columns the pending schema adds without their source default (format version < 3), for one warning. */
  private defaultsDropped: DefaultNotKept[] = [];
  /** Key → live row location, when the table deletes by position (key-index.ts owns it); null: equality deletes. */
  private index: TableKeyIndex | null = null;
  /** A window sealed without an index waits for its outcome too (the seal/confirm protocol is the same). */
  private sealedWithoutIndex = false;

  constructor(layout: TableLayout) {
    this.layout = layout;
  }

  get schema(): Schema {
    return this.evolved ?? this.layout.schema;
  }

  get keyIds(): readonly number[] {
    return this.layout.keyIds;
  }

  get pendingSchema(): Schema | null {
    return this.evolved;
  }

  /** Columns the pending schema adds whose source default the table cannot keep (format version < 3). */
  get pendingDefaultsNotKept(): readonly DefaultNotKept[] {
    return this.defaultsDropped;
  }

  get failed(): string | null {
    return this.failedReason;
  }

  /**
   * Deletes by position from now on, through `index` (which covers every live row of the table and carries any
   * duplicate-key repair the next window makes); null: by equality.
   */
  useIndex(index: TableKeyIndex | null): void {
    assert(!this.sealPending, 'the index changes hands between windows, not while one waits for its commit', {});
    // The index replaced lets go of its spill files (pk-index.ts).
    if (this.index !== null && this.index !== index) this.index.close();
    this.index = index;
  }

  /** A duplicate-key repair waits for the next seal (the table must seal even with an empty window). */
  get repairPending(): boolean {
    return this.index?.repairPending ?? false;
  }

  get keyIndex(): TableKeyIndex | null {
    return this.index;
  }

  /** After a commit: the table's new layout (schema ids as the catalog assigned them). */
  setLayout(layout: TableLayout): void {
    this.layout = layout;
    this.evolved = null;
    this.defaultsDropped = [];
    this.boundShape = null;
  }

  /** Stops the table: this record and every later one are dead-lettered with `reason` (see table-stop.ts). */
  private fail(reason: string, column: string): never {
    this.failedReason = reason;
    throw new FloeError('record_invalid', reason, { column, stop: 'incompatible_schema' });
  }

  /**
   * Binds a message shape to the schema's column positions, evolving the schema where the source changed:
   * new columns are added (optional, new ids), columns are promoted where Iceberg allows, required columns
   * the source made optional (or dropped) become optional, and an incompatible change follows the table's
   * policy. The evolved schema commits with the window that first needs it.
   * A column the source added with a DEFAULT gets it as `initial-default` (the value the source gave every
   * existing row) and `write-default` on format version 3 tables; earlier versions have no default values.
   */
  private bind(shape: TableShape): void {
    if (this.boundShape === shape) return;
    this.boundShape = null; // a shape that fails to bind must not leave the previous shape half rebound
    const before = this.schema;
    const fields: NestedField[] = [...before.fields];
    const keyIds = new Set(this.layout.keyIds);
    let nextId = Math.max(before.highestFieldId, this.layout.lastColumnId) + 1;
    const widened: number[] = [];
    let changed = false;
    const v3 = (this.layout.formatVersion ?? 2) >= 3;
    const dropped: DefaultNotKept[] = [];
    /** Table column index each source column writes into. */
    const target = new Map<string, number>();
    /** `added`: the source added this column (its existing rows hold the default); false for a `<column>__<type>` column. */
    const place = (name: string, c: ColumnMapping, added: boolean): number | 'incompatible' => {
      const at = fields.findIndex((f) => f.name === name);
      if (at < 0) {
        const d = c.default;
        const defaults = d === undefined || !v3 ? {} : { ...(added ? { initialDefault: d } : {}), writeDefault: d };
        if (d !== undefined && !v3) dropped.push({ column: name, sourceDefault: stringifyJsonExact(valueToJson(c.type, d)) });
        fields.push({ id: nextId++, name, required: false, type: c.type, ...defaults });
        changed = true;
        return fields.length - 1;
      }
      const f = fields[at] as NestedField;
      const fit = fitOf(f.type, c.type);
      if (fit.kind === 'incompatible') return 'incompatible';
      if (fit.kind === 'widen') {
        fields[at] = { ...f, type: fit.to };
        if (f.type.kind === 'int') widened.push(at);
        changed = true;
      }
      return at;
    };
    for (const c of shape.columns) {
      let at = place(c.name, c, true);
      if (at === 'incompatible') {
        const f = fields.find((x) => x.name === c.name) as NestedField;
        const what = `column "${c.name}" is ${typeToString(f.type)} in the table but ${typeToString(c.type)} in the source: Iceberg cannot promote it`;
        if (keyIds.has(f.id) || this.layout.onIncompatibleChange === 'fail') {
          this.fail(`table stopped by an incompatible schema change (policy "fail"): ${what}; its changes go to the dead-letter topic until the table is fixed`, c.name);
        }
        const alt = newColumnName(c.name, c.type);
        at = place(alt, c, false);
        if (at === 'incompatible') this.fail(`${what}, and column "${alt}" cannot take it either`, c.name);
      }
      target.set(c.name, at);
    }
    // Required → optional: a column the source no longer sends, or now sends as nullable (keys stay required).
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as NestedField;
      if (!f.required || keyIds.has(f.id)) continue;
      const c = shape.byName.get(f.name);
      if (c === undefined || !c.required || target.get(f.name) !== i) {
        fields[i] = { ...f, required: false };
        changed = true;
      }
    }
    const schema = changed ? new Schema(before.schemaId, fields, before.identifierFieldIds) : before;
    const bound: Bound[] = fields.map(() => null);
    for (const c of shape.columns) {
      const at = target.get(c.name) as number;
      bound[at] = { index: at, source: c.name, convert: convertInto(c, (fields[at] as NestedField).type) };
    }
    const keyBound = this.layout.keyIds.map((id) => {
      const f = schema.fieldOrThrow(id);
      const c = shape.byName.get(f.name);
      if (c === undefined) throw new FloeError('record_invalid', `key column "${f.name}" is missing from the source record`, { column: f.name });
      return { index: schema.fields.indexOf(f), source: f.name, convert: convertInto(c, f.type) };
    });
    if (widened.length > 0 && !this.buffer.isEmpty) {
      // Rows buffered before the promotion hold ints; the promoted column writes longs.
      const rowIdx = new Set(widened);
      const keyIdx = this.layout.keyIds.map((id, i) => (rowIdx.has(fields.findIndex((f) => f.id === id)) ? i : -1)).filter((i) => i >= 0);
      const toLong = (vs: Values, idx: Iterable<number>): Values => {
        const out = [...vs];
        for (const i of idx) if (typeof out[i] === 'number') out[i] = BigInt(out[i]);
        return out;
      };
      this.buffer.remap((k) => (keyIdx.length > 0 ? toLong(k, keyIdx) : k), (r) => toLong(r, rowIdx));
    }
    if (changed) this.evolved = schema;
    this.defaultsDropped.push(...dropped);
    this.bound = bound;
    this.keyBound = keyBound;
    this.boundShape = shape;
  }

  /** Applies one change; throws FloeError('record_invalid' | 'value_invalid') for a record that cannot apply. */
  apply(change: Change, partition: string): void {
    if (this.failedReason !== null) throw new FloeError('record_invalid', this.failedReason);
    if (change.op === 't') {
      this.buffer.truncate();
      return;
    }
    this.bind(change.shape);
    const keyCols = change.shape.keyColumns;
    const schema = this.schema;
    // Key values come from the Kafka key (in the source's key order); map them to the table's key order.
    const key: Values = this.keyBound.map((b, i) => {
      const f = schema.fieldOrThrow(this.layout.keyIds[i] as number);
      const at = keyCols.indexOf(f.name);
      const raw = at >= 0 ? change.key[at] : change.row?.[f.name];
      if (raw === null || raw === undefined) throw new FloeError('record_invalid', `key column "${f.name}" is null`, { column: f.name });
      const v = b.convert(raw);
      if (v !== null && !valueMatchesType(v, f.type as PrimitiveType)) {
        throw new FloeError('value_invalid', `key column "${f.name}": value ${String(v)} is out of range for ${typeToString(f.type)}`, { column: f.name });
      }
      return v;
    });
    if (change.op === 'd' || change.row === null) {
      this.buffer.delete(key, partition);
      return;
    }
    const row = change.row;
    const values: Values = new Array<IcebergValue | null>(schema.fields.length).fill(null);
    for (let i = 0; i < this.bound.length; i++) {
      const b = this.bound[i];
      if (b === null || b === undefined) continue;
      const f = schema.fields[i] as NestedField;
      const raw = row[b.source];
      if (raw === null || raw === undefined) continue;
      let v: IcebergValue | null;
      try {
        v = b.convert(raw);
        // A value the converter accepts can still be outside the Iceberg type (MySQL TIME up to 838 h, a
        // decimal wider than its precision): reject the record now, not the whole window at seal time.
        if (v !== null && !valueMatchesType(v, f.type as PrimitiveType)) {
          throw new FloeError('value_invalid', `column "${f.name}": value ${String(v)} is out of range for ${typeToString(f.type)}`, { column: f.name });
        }
      } catch (e) {
        if (!(e instanceof FloeError) || e.code !== 'value_invalid' || this.layout.outOfRange !== 'null' || f.required) throw e;
        // outOfRange: null: the row lands, this one value is null (counted).
        this.nulledValues++;
        v = null;
      }
      values[i] = v;
    }
    for (let i = 0; i < schema.fields.length; i++) {
      const f = schema.fields[i] as NestedField;
      if (f.required && values[i] === null) throw new FloeError('record_invalid', `required column "${f.name}" is null`, { column: f.name });
    }
    this.buffer.upsert(key, values, partition);
  }

  /** Orders the window's rows by the table's sort order (the spec's `sort_order_id` of each data file says so). */
  private sortSlots(slots: Slot[], schema: Schema): Slot[] {
    const order = this.layout.sortOrder;
    if (order.fields.length === 0) return slots;
    const live = slots.filter((s) => s.row !== null);
    sortBySortOrder(live, (s) => s.row as Values, schema.fields, order);
    return [...live, ...slots.filter((s) => s.row === null)];
  }

  /**
   * Seals the window into data files and delete files. With a primary-key index (delete mode `position`, or `dv`
   * where the positions go to the committer for deletion vectors) a key that has a live row gets a position
   * delete for that row (spec: "Position Delete Files"), a key that
   * has none needs no delete at all, and every row written is indexed at its new (file, position). Without
   * one, every key touched gets an equality delete.
   */
  async seal(where: Pick<WriterSettings, 'io' | 'dataLocation'>): Promise<SealedWindow> {
    assert(!this.sealPending, 'a sealed window is confirmed (landed or not) before the next seal', {});
    const taken = this.buffer.take();
    const truncated = taken.truncated;
    const schema = this.schema;
    const slots = this.sortSlots(taken.slots, schema);
    const { spec, deleteSpec, keyIds, codec, targetFileSizeBytes, sortOrder } = this.layout;
    const settings: WriterSettings = { ...where, codec, targetFileSizeBytes, sortOrderId: sortOrder.orderId };
    const data = new DataWriter(settings, schema, spec);
    const index = this.index;
    const eq = index === null ? new EqualityDeleteWriter(settings, schema, deleteSpec, keyIds) : null;
    const positionWriters = new Map<number, PositionDeleteWriter>();
    const asVectors = this.layout.deleteMode === 'dv';
    const vectorPositions = new Map<string, number[]>();
    const targets = new Set<string>();
    const positionDeletedKeys: Values[] = [];
    const keyIndex = keyIds.map((id) => schema.fields.findIndex((f) => f.id === id));
    const deletePartitioner = deleteSpec.isUnpartitioned ? null : new Partitioner(schema, deleteSpec);
    const width = schema.fields.length;
    let rows = 0;
    let deletedKeys = 0;
    let lastFile: IndexedFile | null = null;
    /** The index changes, applied when the commit lands. A truncate removes every earlier file: no lookups. */
    const deletes: Values[] = [];
    const sets: [Values, IndexedFile, number][] = [];
    let sizeAfter = truncated ? 0 : (index?.size ?? 0);
    /** Deletes the row at (file, pos): a position delete, or a position of the file's deletion vector. */
    const deleteAt = (file: IndexedFile, pos: number): void => {
      targets.add(file.path);
      if (asVectors) {
        let list = vectorPositions.get(file.path);
        if (list === undefined) vectorPositions.set(file.path, (list = []));
        list.push(pos);
        return;
      }
      let w = positionWriters.get(file.specId);
      if (w === undefined) {
        const targetSpec = this.layout.specs?.get(file.specId) ?? (file.specId === spec.specId ? spec : undefined);
        if (targetSpec === undefined) throw new FloeError('metadata_invalid', `data file ${file.path} has partition spec ${file.specId}, which the table does not have`);
        w = new PositionDeleteWriter(settings, schema, targetSpec);
        positionWriters.set(file.specId, w);
      }
      w.delete(file.path, BigInt(pos), file.partition);
    };
    // A truncate removes every row a repair names.
    const repairTaken = index === null ? null : index.takeRepair();
    const repair = truncated ? null : repairTaken;
    const repairedKeys = new Map<string, Values>();
    for (const r of repair?.repairs ?? []) {
      deleteAt(r.file, r.pos);
      repairedKeys.set(valuesKey(r.key), [...r.key]);
    }
    for (const slot of slots) {
      if (!truncated && index !== null) {
        const at = index.get(slot.key);
        if (at !== undefined) {
          deleteAt(at.file, at.pos);
          positionDeletedKeys.push(slot.key);
          deletes.push(slot.key);
          sizeAfter--;
        }
      } else if (!truncated && eq !== null) {
        let partition: (IcebergValue | null)[] = [];
        if (deletePartitioner !== null) {
          const keyRow: Values = new Array<IcebergValue | null>(width).fill(null);
          keyIndex.forEach((ix, i) => {
            keyRow[ix] = slot.key[i] ?? null;
          });
          partition = deletePartitioner.partition(keyRow);
        }
        eq.delete(slot.key, partition);
      }
      if (slot.row === null) {
        deletedKeys++;
        continue;
      }
      // A row buffered before this window added columns: it predates them, so it reads their initial default
      // (the value the source gave existing rows), as rows of earlier data files do.
      const row = slot.row.length === width ? slot.row : [...slot.row, ...schema.fields.slice(slot.row.length).map((f) => f.initialDefault ?? null)];
      const pos = data.write(row);
      rows++;
      if (index !== null) {
        const w = data.last as NonNullable<typeof data.last>;
        if (lastFile === null || lastFile.path !== w.lastPath) lastFile = { path: w.lastPath, specId: spec.specId, partition: w.partition };
        sets.push([slot.key, lastFile, pos]);
        sizeAfter++;
      }
    }
    // Over budget after this window: keep sealing; from the next window this table writes equality deletes.
    const overflow = index !== null && sizeAfter > index.keysMax ? `primary-key index holds ${index.keysMax} keys (its budget); this window would make it ${sizeAfter}` : null;
    const [dataFiles, deleteFiles, positionFiles] = await Promise.all([
      data.close(),
      eq === null ? Promise.resolve([]) : eq.close(),
      Promise.all([...positionWriters.values()].map((w) => w.close())).then((x) => x.flat()),
    ]);
    if (index !== null) index.stage({ clear: truncated, deletes, sets: overflow === null ? sets : [], overflow: overflow !== null, repair });
    else this.sealedWithoutIndex = true;
    const deletedPositions: [string, Float64Array][] = [...vectorPositions].map(([path, list]) => [path, normalizePositions(list)]);
    return {
      dataFiles, deleteFiles: [...deleteFiles, ...positionFiles], truncated, rows, deletedKeys, targetDataFiles: [...targets], positionDeletedKeys,
      indexOverflow: overflow, indexKeysAfter: index === null ? null : overflow === null ? sizeAfter : index.size, deletedPositions,
      repairedKeys: [...repairedKeys.values()], repairedRows: repair?.repairs.length ?? 0, repairExamples: [...(repair?.examples ?? [])],
    };
  }

  /**
   * The outcome of the commit of the window sealed last: landed, its changes enter the key index; not landed
   * (the commit failed and the records will be consumed again), the index stays as it was and a duplicate-key
   * repair the window carried waits for the next one.
   */
  confirm(landed: boolean): void {
    this.sealedWithoutIndex = false;
    const index = this.index;
    if (index?.confirm(landed) === 'overflow') {
      index.close();
      this.index = null;
    }
  }

  /** A sealed window waits for its commit's outcome. */
  get sealPending(): boolean {
    return this.sealedWithoutIndex || (this.index?.sealPending ?? false);
  }
}
