/**
 * Fan-out writing: rows are routed by their partition tuple to one rolling writer per partition (spec:
 * a data file holds rows of exactly one partition). Also the position delete and equality delete writers,
 * with the spec's delete file schemas:
 *   position delete: file_path string (field id 2147483546), pos long (field id 2147483545), sorted by both;
 *   equality delete: the equality columns with their table field ids, `equality_ids` in the manifest.
 */
import { FloeError, assert } from '../errors.js';
import { DataFileContent, type DataFile } from '../iceberg/data-file.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import type { Schema } from '../iceberg/schema.js';
import { bindTransform, javaUrlEncode, partitionPathValue, type BoundTransform } from '../iceberg/transform.js';
import { T, type NestedField, type PrimitiveType } from '../iceberg/types.js';
import { compareStrings, type IcebergValue } from '../iceberg/values.js';
import { RollingFileWriter, type WriterSettings } from './file-writer.js';

export const POSITION_DELETE_FILE_PATH_ID = 2147483546;
export const POSITION_DELETE_POS_ID = 2147483545;
export const POSITION_DELETE_FIELDS: readonly NestedField[] = Object.freeze([
  { id: POSITION_DELETE_FILE_PATH_ID, name: 'file_path', required: true, type: T.string },
  { id: POSITION_DELETE_POS_ID, name: 'pos', required: true, type: T.long },
]);

const EMPTY_PARTITION_PATH_VALUE = '__empty__';

/** Computes partition tuples for rows given in schema field order. */
export class Partitioner {
  private readonly sourceIndex: number[];
  private readonly transforms: BoundTransform[];
  private readonly resultTypes: PrimitiveType[];

  constructor(readonly schema: Schema, readonly spec: PartitionSpec) {
    spec.validate(schema);
    this.sourceIndex = spec.fields.map((pf) => {
      const i = schema.fields.findIndex((f) => f.id === pf.sourceId);
      if (i < 0) throw new FloeError('schema_invalid', `partition field "${pf.name}" must have a top-level source column`, { field: pf.name });
      return i;
    });
    this.transforms = spec.fields.map((pf) => bindTransform(pf.transform, schema.primitiveType(pf.sourceId)));
    this.resultTypes = spec.fields.map((pf) => spec.resultType(schema, pf));
  }

  partition(row: readonly (IcebergValue | null)[]): (IcebergValue | null)[] {
    const out = new Array<IcebergValue | null>(this.transforms.length);
    for (let i = 0; i < out.length; i++) out[i] = (this.transforms[i] as BoundTransform)(row[this.sourceIndex[i] as number] ?? null);
    return out;
  }

  /**
   * Directory path of a partition, `name=value/name=value` as Java writes it. Paths are only a hint for
   * people (readers take partition values from manifests), so an empty value is written as `__empty__`:
   * some S3 Tables implementations refuse keys with a segment ending in `=`.
   */
  path(partition: readonly (IcebergValue | null)[]): string {
    return this.spec.fields
      .map((pf, i) => {
        const v = partitionPathValue(pf.transform, this.resultTypes[i] as PrimitiveType, partition[i] ?? null);
        return `${javaUrlEncode(pf.name)}=${v === '' ? EMPTY_PARTITION_PATH_VALUE : v}`;
      })
      .join('/');
  }
}

function partitionKey(p: readonly (IcebergValue | null)[]): string {
  let k = '';
  for (const v of p) {
    if (v === null) k += '\u0000n|';
    else if (v instanceof Uint8Array) k += `b${Buffer.from(v).toString('hex')}|`;
    else k += `${typeof v}${String(v)}|`;
  }
  return k;
}

/** One rolling writer per partition tuple. Bounded by `openWritersMax` (too many partitions is a config error). */
export class FanoutWriter {
  private readonly writers = new Map<string, RollingFileWriter>();
  private readonly partitioner: Partitioner | null;

  constructor(
    private readonly settings: WriterSettings,
    readonly fields: readonly NestedField[],
    readonly content: DataFileContent,
    readonly schema: Schema,
    readonly spec: PartitionSpec,
    readonly equalityIds?: readonly number[],
    private readonly openWritersMax = 10_000,
  ) {
    this.partitioner = spec.isUnpartitioned ? null : new Partitioner(schema, spec);
  }

  /** The writer the last row went to (its `lastPath` and `partition` locate that row). */
  last: RollingFileWriter | null = null;

  /**
   * Writes a row; returns its position in its file (`last.lastPath`). `partition` overrides the computed
   * tuple (deletes carry their target's partition).
   */
  write(values: readonly (IcebergValue | null)[], partition?: readonly (IcebergValue | null)[]): number {
    const w = this.writerFor(partition ?? (this.partitioner === null ? [] : this.partitioner.partition(values)));
    this.last = w;
    return w.write(values);
  }

  writerFor(partition: readonly (IcebergValue | null)[]): RollingFileWriter {
    const key = partitionKey(partition);
    let w = this.writers.get(key);
    if (w === undefined) {
      if (this.writers.size >= this.openWritersMax) {
        throw new FloeError('config_invalid', `more than ${this.openWritersMax} open partitions in one write: choose a coarser partition spec`, {});
      }
      const path = this.partitioner === null || partition.length === 0 ? '' : this.partitioner.path(partition);
      w = new RollingFileWriter(this.settings, this.fields, this.content, this.spec.specId, [...partition], path, this.equalityIds);
      this.writers.set(key, w);
    }
    return w;
  }

  get bufferedBytes(): number {
    let n = 0;
    for (const w of this.writers.values()) n += w.bufferedBytes;
    return n;
  }

  async close(): Promise<DataFile[]> {
    const all = await Promise.all([...this.writers.values()].map((w) => w.close()));
    return all.flat();
  }
}

/** Data files for rows in schema order, fanned out by the table's partition spec. */
export class DataWriter extends FanoutWriter {
  constructor(settings: WriterSettings, schema: Schema, spec: PartitionSpec) {
    super(settings, schema.fields, DataFileContent.DATA, schema, spec);
  }
}

/** Equality delete files: rows hold only the equality columns, in `equalityIds` order. */
export class EqualityDeleteWriter {
  private readonly inner: FanoutWriter;
  readonly fields: readonly NestedField[];

  constructor(settings: WriterSettings, schema: Schema, spec: PartitionSpec, readonly equalityIds: readonly number[]) {
    assert(equalityIds.length > 0, 'equality deletes need at least one equality field');
    this.fields = equalityIds.map((id) => {
      const f = schema.fieldOrThrow(id);
      if (f.type.kind === 'struct' || f.type.kind === 'list' || f.type.kind === 'map') {
        throw new FloeError('schema_invalid', `equality field "${f.name}" must be a primitive column`, { field: f.name });
      }
      return f;
    });
    this.inner = new FanoutWriter(settings, this.fields, DataFileContent.EQUALITY_DELETES, schema, spec, equalityIds);
  }

  /** `partition`: the partition of the rows to delete; `[]` when the delete file is written with an unpartitioned spec. */
  delete(key: readonly (IcebergValue | null)[], partition: readonly (IcebergValue | null)[]): void {
    this.inner.write(key, partition);
  }

  close(): Promise<DataFile[]> {
    return this.inner.close();
  }
}

/** Position delete files; positions are sorted by (file_path, pos) at close, as the spec requires. */
export class PositionDeleteWriter {
  private readonly byPartition = new Map<string, { partition: readonly (IcebergValue | null)[]; paths: string[]; positions: bigint[] }>();
  private readonly settings: WriterSettings;

  constructor(settings: WriterSettings, readonly schema: Schema, readonly spec: PartitionSpec) {
    // Readers use file_path bounds to find which data files a delete file touches: keep them whole.
    this.settings = { ...settings, fullBoundFieldIds: new Set([POSITION_DELETE_FILE_PATH_ID]) };
  }

  delete(filePath: string, pos: bigint, partition: readonly (IcebergValue | null)[]): void {
    const key = partitionKey(partition);
    let g = this.byPartition.get(key);
    if (g === undefined) {
      g = { partition: [...partition], paths: [], positions: [] };
      this.byPartition.set(key, g);
    }
    g.paths.push(filePath);
    g.positions.push(pos);
  }

  get count(): number {
    let n = 0;
    for (const g of this.byPartition.values()) n += g.paths.length;
    return n;
  }

  async close(): Promise<DataFile[]> {
    const fan = new FanoutWriter(this.settings, POSITION_DELETE_FIELDS, DataFileContent.POSITION_DELETES, this.schema, this.spec);
    for (const g of this.byPartition.values()) {
      const order = g.paths.map((_p, i) => i);
      order.sort((a, b) => compareStrings(g.paths[a] as string, g.paths[b] as string) || Number((g.positions[a] as bigint) - (g.positions[b] as bigint)));
      const w = fan.writerFor(g.partition);
      for (const i of order) w.write([g.paths[i] as string, g.positions[i] as bigint]);
    }
    return fan.close();
  }
}
