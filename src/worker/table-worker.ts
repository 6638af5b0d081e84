/**
 * Applies decoded changes to per-table state: converts source values to the table's Iceberg values, collapses
 * them by primary key in a TableBuffer, evolves the table schema by adding columns the source gained, and
 * seals a window into Parquet data files plus equality delete files.
 * One TableWorker serves the tables routed to it; it does no catalog I/O (the committer opens tables).
 */
import { FloeError } from '../errors.js';
import type { ColumnMapping } from '../decode/connect-schema.js';
import type { Change, TableShape } from '../decode/debezium.js';
import type { DataFile } from '../iceberg/data-file.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import { Schema } from '../iceberg/schema.js';
import type { NestedField, PrimitiveType } from '../iceberg/types.js';
import { valueMatchesType, type IcebergValue } from '../iceberg/values.js';
import type { WriterSettings } from '../writer/file-writer.js';
import { DataWriter, EqualityDeleteWriter, Partitioner } from '../writer/partitioned-writer.js';
import { TableBuffer, type Values } from './table-buffer.js';

export interface TableLayout {
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  /** Spec equality deletes are written with: the table spec when partition sources ⊆ key, else one with no fields (global deletes). */
  readonly deleteSpec: PartitionSpec;
  readonly keyIds: readonly number[];
  /** The table's `last-column-id`: new columns get ids above it, never reusing a dropped column's id. */
  readonly lastColumnId: number;
}

export interface SealedWindow {
  readonly dataFiles: DataFile[];
  readonly deleteFiles: DataFile[];
  readonly truncated: boolean;
  readonly rows: number;
  readonly deletedKeys: number;
}

type Bound = { readonly index: number; readonly convert: ColumnMapping['convert'] } | null;

/** A source int bound to a long column (a type widened earlier) must yield bigints. */
function widen(c: ColumnMapping, target: NestedField['type']): ColumnMapping['convert'] {
  if (target.kind === 'long' && c.type.kind === 'int') {
    return (v) => {
      const x = c.convert(v);
      return typeof x === 'number' ? BigInt(x) : x;
    };
  }
  return c.convert;
}

export class TableState {
  readonly buffer = new TableBuffer();
  private layout: TableLayout;
  /** Schema with columns added by this window, committed with it (null: unchanged). */
  private evolved: Schema | null = null;
  private boundShape: TableShape | null = null;
  private bound: Bound[] = [];
  private keyBound: Bound[] = [];

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

  /** After a commit: the table's new layout (schema ids as the catalog assigned them). */
  setLayout(layout: TableLayout): void {
    this.layout = layout;
    this.evolved = null;
    this.boundShape = null;
  }

  /** Binds a message shape to the schema's column positions, adding columns the table lacks. */
  private bind(shape: TableShape): void {
    if (this.boundShape === shape) return;
    this.boundShape = null; // a shape that fails to bind must not leave the previous shape half rebound
    let schema = this.schema;
    const missing = shape.columns.filter((c) => schema.findField(c.name) === undefined);
    if (missing.length > 0) {
      let next = Math.max(schema.highestFieldId, this.layout.lastColumnId) + 1;
      const added: NestedField[] = missing.map((c) => ({ id: next++, name: c.name, required: false, type: c.type }));
      schema = new Schema(schema.schemaId, [...schema.fields, ...added], schema.identifierFieldIds);
      this.evolved = schema;
    }
    this.bound = schema.fields.map((f) => {
      const c = shape.byName.get(f.name);
      if (c === undefined) return null;
      if (c.type.kind !== f.type.kind && !(f.type.kind === 'long' && c.type.kind === 'int') && !(f.type.kind === 'double' && c.type.kind === 'float')) {
        throw new FloeError('record_invalid', `column "${f.name}" is ${f.type.kind} in the table but ${c.type.kind} in the source: incompatible type change`, { column: f.name });
      }
      if (f.type.kind === 'decimal' && c.type.kind === 'decimal' && f.type.scale !== c.type.scale) {
        throw new FloeError('record_invalid', `column "${f.name}" has scale ${f.type.scale} in the table but ${c.type.scale} in the source`, { column: f.name });
      }
      return { index: schema.fields.indexOf(f), convert: widen(c, f.type) };
    });
    this.keyBound = this.layout.keyIds.map((id) => {
      const f = schema.fieldOrThrow(id);
      const c = shape.byName.get(f.name);
      if (c === undefined) throw new FloeError('record_invalid', `key column "${f.name}" is missing from the source record`, { column: f.name });
      return { index: schema.fields.indexOf(f), convert: widen(c, f.type) };
    });
    this.boundShape = shape;
  }

  /** Applies one change; throws FloeError('record_invalid' | 'value_invalid') for a record that cannot apply. */
  apply(change: Change, partition: string): void {
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
      return (b as NonNullable<Bound>).convert(raw);
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
      const raw = row[f.name];
      if (raw === null || raw === undefined) continue;
      const v = b.convert(raw);
      // A value the converter accepts can still be outside the Iceberg type (MySQL TIME up to 838 h, a
      // decimal wider than its precision): reject the record now, not the whole window at seal time.
      if (v !== null && !valueMatchesType(v, f.type as PrimitiveType)) {
        throw new FloeError('value_invalid', `column "${f.name}": value ${String(v)} is out of range for ${f.type.kind}`, { column: f.name });
      }
      values[i] = v;
    }
    for (let i = 0; i < schema.fields.length; i++) {
      const f = schema.fields[i] as NestedField;
      if (f.required && values[i] === null) throw new FloeError('record_invalid', `required column "${f.name}" is null`, { column: f.name });
    }
    this.buffer.upsert(key, values, partition);
  }

  async seal(settings: WriterSettings): Promise<SealedWindow> {
    const { slots, truncated } = this.buffer.take();
    const schema = this.schema;
    const { spec, deleteSpec, keyIds } = this.layout;
    const data = new DataWriter(settings, schema, spec);
    const eq = new EqualityDeleteWriter(settings, schema, deleteSpec, keyIds);
    const keyIndex = keyIds.map((id) => schema.fields.findIndex((f) => f.id === id));
    const deletePartitioner = deleteSpec.isUnpartitioned ? null : new Partitioner(schema, deleteSpec);
    const width = schema.fields.length;
    let rows = 0;
    let deletedKeys = 0;
    for (const slot of slots) {
      if (!truncated) {
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
      const row = slot.row.length === width ? slot.row : [...slot.row, ...new Array<null>(width - slot.row.length).fill(null)];
      data.write(row);
      rows++;
    }
    const [dataFiles, deleteFiles] = await Promise.all([data.close(), eq.close()]);
    return { dataFiles, deleteFiles, truncated, rows, deletedKeys };
  }
}
