/**
 * Layered writers in the manner of iceberg-rust: rows go into a `RollingFileWriter`, which seals a Parquet
 * file whenever its buffered bytes reach the target, and `close()` returns the `DataFile`s it wrote, with
 * column metrics (value/null/NaN counts, lower/upper bounds) for file pruning.
 */
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { assert } from '../errors.js';
import { toBinary, truncateLowerBound, truncateUpperBound } from '../iceberg/conversions.js';
import { DataFileContent, type DataFile } from '../iceberg/data-file.js';
import type { NestedField, PrimitiveType } from '../iceberg/types.js';
import type { IcebergValue } from '../iceberg/values.js';
import type { FileIO } from '../io/file-io.js';
import { arrowSchemaFor } from './arrow-schema.js';
import { ColumnBuilder } from './column-builder.js';
import { PARQUET_DEFAULTS, encodeParquet, type ParquetCodec } from './parquet.js';

/** Iceberg's default metrics mode `truncate(16)`: string/binary bounds keep 16 characters/bytes. */
export const BOUND_TRUNCATE_LENGTH = 16;

export interface WriterSettings {
  readonly io: FileIO;
  /** Directory URI data files go into (`<table location>/data`). */
  readonly dataLocation: string;
  readonly codec: ParquetCodec;
  /** Roll to a new file when the estimated Parquet size reaches this. */
  readonly targetFileSizeBytes: number;
  readonly rowGroupRowsMax?: number;
  /** Sort order the rows arrive in (data files' `sort_order_id`; 0 = unsorted). */
  readonly sortOrderId?: number;
  /** Field ids whose bounds are kept whole instead of truncated (position deletes' file_path). */
  readonly fullBoundFieldIds?: ReadonlySet<number>;
}

/** Buffered rows of one file, column by column. */
export class RowBuffer {
  readonly columns: ColumnBuilder[];
  constructor(readonly fields: readonly NestedField[]) {
    this.columns = fields.map((f) => new ColumnBuilder(f.name, f.type as PrimitiveType));
  }
  get rowCount(): number {
    return this.columns[0]?.length ?? 0;
  }
  get byteSize(): number {
    let n = 0;
    for (const c of this.columns) n += c.byteSize;
    return n;
  }
  /** Appends one row given positionally (values[i] for fields[i]). */
  append(values: readonly (IcebergValue | null)[]): void {
    const cols = this.columns;
    let i = 0;
    try {
      for (; i < cols.length; i++) (cols[i] as ColumnBuilder).append(values[i]);
    } catch (e) {
      // Keep columns aligned: undo this row's values in the columns before the one that failed.
      for (let k = 0; k < i; k++) (cols[k] as ColumnBuilder).popLast();
      throw e;
    }
  }
  toArrow(): arrow.Table {
    const schema = arrowSchemaFor(this.fields);
    const children = this.columns.map((c) => c.finish());
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: this.rowCount, nullCount: 0, children });
    return new arrow.Table(schema, new arrow.RecordBatch(schema, struct));
  }
}

export function newDataFileName(extension = 'parquet'): string {
  return `${Date.now().toString(36)}-${randomUUID()}.${extension}`;
}

export class RollingFileWriter {
  private buffer: RowBuffer;
  private readonly written: DataFile[] = [];
  private pendingUploads: Promise<DataFile>[] = [];
  /** First failure of a background seal; `close` rethrows it through the awaited promise as well. */
  private failure: Error | null = null;
  /** Observed Parquet bytes / buffered bytes, refined after each file; starts at a typical ZSTD ratio. */
  private compressionRatio = 0.35;
  private closed = false;
  /** Path of the file the current buffer becomes (known up front, so row positions can be indexed). */
  private path: string;
  /** Path of the file the last written row went to. */
  lastPath = '';

  constructor(
    private readonly settings: WriterSettings,
    readonly fields: readonly NestedField[],
    readonly content: DataFileContent,
    readonly specId: number,
    readonly partition: readonly (IcebergValue | null)[],
    /** Path segment under the data location, e.g. `ts_day=2024-01-02`; '' when unpartitioned. */
    readonly partitionPath: string,
    readonly equalityIds?: readonly number[],
  ) {
    this.buffer = new RowBuffer(fields);
    this.path = this.nextPath();
  }

  private nextPath(): string {
    const dir = this.partitionPath === '' ? this.settings.dataLocation : `${this.settings.dataLocation}/${this.partitionPath}`;
    return `${dir}/${newDataFileName()}`;
  }

  get rowCount(): number {
    return this.buffer.rowCount;
  }

  get bufferedBytes(): number {
    return this.buffer.byteSize;
  }

  /** Buffers a row; returns its position in the file it goes to (`lastPath`). */
  write(values: readonly (IcebergValue | null)[]): number {
    assert(!this.closed, 'write after close');
    const pos = this.buffer.rowCount;
    this.lastPath = this.path;
    this.buffer.append(values);
    if ((this.buffer.rowCount & 1023) === 0 && this.buffer.byteSize * this.compressionRatio >= this.settings.targetFileSizeBytes) this.roll();
    return pos;
  }

  /** Seals the current buffer into a file (uploaded in the background; `close` waits for it). */
  roll(): void {
    if (this.buffer.rowCount === 0) return;
    const buf = this.buffer;
    const path = this.path;
    this.buffer = new RowBuffer(this.fields);
    this.path = this.nextPath();
    const sealing = this.seal(buf, path);
    // Keep the rejection observed now (so Node does not flag it unhandled) and rethrown by close().
    sealing.catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
    this.pendingUploads.push(sealing);
  }

  private async seal(buf: RowBuffer, path: string): Promise<DataFile> {
    const table = buf.toArrow();
    const rawBytes = buf.byteSize;
    const bytes = encodeParquet(table, this.settings.codec, this.settings.rowGroupRowsMax ?? PARQUET_DEFAULTS.rowGroupRowsMax);
    this.compressionRatio = Math.min(1, Math.max(0.02, bytes.length / Math.max(1, rawBytes)));
    await this.settings.io.write(path, bytes);
    return this.describe(buf, path, bytes.length);
  }

  private describe(buf: RowBuffer, path: string, size: number): DataFile {
    const rows = BigInt(buf.rowCount);
    const valueCounts = new Map<number, bigint>();
    const nullCounts = new Map<number, bigint>();
    const nanCounts = new Map<number, bigint>();
    const lower = new Map<number, Uint8Array>();
    const upper = new Map<number, Uint8Array>();
    buf.columns.forEach((c, i) => {
      const f = this.fields[i] as NestedField;
      const t = f.type as PrimitiveType;
      valueCounts.set(f.id, rows);
      nullCounts.set(f.id, BigInt(c.nullCount));
      if (t.kind === 'float' || t.kind === 'double') nanCounts.set(f.id, BigInt(c.nanCount));
      if (c.lower === null || c.upper === null) return;
      const full = this.settings.fullBoundFieldIds?.has(f.id) === true;
      if ((t.kind === 'string' || t.kind === 'binary') && !full) {
        lower.set(f.id, toBinary(t, truncateLowerBound(c.lower as string | Uint8Array, BOUND_TRUNCATE_LENGTH)));
        const up = truncateUpperBound(c.upper as string | Uint8Array, BOUND_TRUNCATE_LENGTH);
        if (up !== null) upper.set(f.id, toBinary(t, up));
      } else {
        lower.set(f.id, toBinary(t, c.lower));
        upper.set(f.id, toBinary(t, c.upper));
      }
    });
    return {
      content: this.content,
      filePath: path,
      fileFormat: 'PARQUET',
      specId: this.specId,
      partition: this.partition,
      recordCount: rows,
      fileSizeInBytes: BigInt(size),
      valueCounts,
      nullValueCounts: nullCounts,
      nanValueCounts: nanCounts,
      lowerBounds: lower,
      upperBounds: upper,
      ...(this.content === DataFileContent.DATA ? { sortOrderId: this.settings.sortOrderId ?? 0 } : {}),
      ...(this.equalityIds !== undefined ? { equalityIds: this.equalityIds } : {}),
    };
  }

  async close(): Promise<DataFile[]> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) return this.written;
    this.roll();
    this.closed = true;
    const uploads = this.pendingUploads;
    this.pendingUploads = [];
    this.written.push(...(await Promise.all(uploads)));
    return this.written;
  }
}
