/**
 * Manifests and manifest lists (spec: "Manifests", "Manifest Lists"): Avro container files.
 * A manifest holds entries of one content kind (data or deletes) for one partition spec. The manifest list
 * of a snapshot lists every manifest, with the sequence number of the snapshot that added it; ADDED entries
 * inherit that sequence number (written as null), so a manifest written once can be committed under
 * whatever sequence number the commit finally gets.
 */
import { FloeError, assert } from '../errors.js';
import { readContainer, writeContainer, type AvroValue } from '../avro/avro.js';
import { decimalRequiredBytes, manifestEntrySchema, manifestFileSchema } from './avro-schemas.js';
import { toBinary } from './conversions.js';
import { stringifyJsonExact } from './json.js';
import { DataFileContent, ManifestEntryStatus, type DataFile, type FileFormat, type ManifestEntry } from './data-file.js';
import type { PartitionSpec } from './partition-spec.js';
import type { Schema } from './schema.js';
import type { NestedField, PrimitiveType } from './types.js';
import { compareValues, type IcebergValue } from './values.js';

export const ManifestContent = Object.freeze({ DATA: 0, DELETES: 1 } as const);
export type ManifestContent = (typeof ManifestContent)[keyof typeof ManifestContent];

export interface FieldSummary {
  readonly containsNull: boolean;
  readonly containsNan: boolean | null;
  readonly lowerBound: Uint8Array | null;
  readonly upperBound: Uint8Array | null;
}

/** ManifestFile: one entry of a manifest list (spec: `manifest_file`). */
export interface ManifestFile {
  readonly manifestPath: string;
  readonly manifestLength: bigint;
  readonly partitionSpecId: number;
  readonly content: ManifestContent;
  /** Sequence number of the snapshot that added the manifest; -1n while not yet committed. */
  readonly sequenceNumber: bigint;
  readonly minSequenceNumber: bigint;
  readonly addedSnapshotId: bigint;
  readonly addedFilesCount: number;
  readonly existingFilesCount: number;
  readonly deletedFilesCount: number;
  readonly addedRowsCount: bigint;
  readonly existingRowsCount: bigint;
  readonly deletedRowsCount: bigint;
  readonly partitions: readonly FieldSummary[] | null;
  /**
   * v3 row lineage (`first_row_id`): the first `_row_id` of the rows of this data manifest's files that have no
   * `first_row_id` of their own. Null until a manifest list assigns it (always null for delete manifests).
   */
  readonly firstRowId?: bigint | null;
}

export const UNASSIGNED_SEQUENCE_NUMBER = -1n;

// ---- partition values <-> Avro ----

function decimalToFixed(unscaled: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, unscaled);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function fixedToDecimal(b: Uint8Array): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return BigInt.asIntN(b.length * 8, v);
}

function partitionValueToAvro(t: PrimitiveType, v: IcebergValue | null): AvroValue {
  if (v === null) return null;
  if (t.kind === 'decimal') return decimalToFixed(v as bigint, decimalRequiredBytes(t.precision));
  return v;
}

function partitionValueFromAvro(t: PrimitiveType, v: AvroValue): IcebergValue | null {
  if (v === null) return null;
  switch (t.kind) {
    case 'decimal': return fixedToDecimal(v as Uint8Array);
    case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'int': case 'date':
      return typeof v === 'bigint' ? Number(v) : (v as number);
    default:
      return v as IcebergValue;
  }
}

const mapToAvro = <V>(m: ReadonlyMap<number, V> | undefined): AvroValue =>
  m === undefined ? null : [...m.entries()].sort((a, b) => a[0] - b[0]).map(([key, value]) => ({ key, value: value as AvroValue }));

function mapFromAvro<V>(v: AvroValue | undefined): Map<number, V> | undefined {
  if (v === null || v === undefined) return undefined;
  const out = new Map<number, V>();
  for (const kv of v as { key: number; value: V }[]) out.set(Number(kv.key), kv.value);
  return out;
}

const FORMAT_NAMES: Readonly<Record<string, FileFormat>> = { PARQUET: 'PARQUET', AVRO: 'AVRO', ORC: 'ORC', PUFFIN: 'PUFFIN' };

// ---- manifests ----

export interface ManifestWriteResult {
  readonly bytes: Buffer;
  readonly manifestFile: ManifestFile;
}

/**
 * Encodes a manifest. All entries must share `spec` and one content kind. The returned ManifestFile has
 * `sequenceNumber = -1` (assigned when the manifest list is written at commit time) and `manifestLength`
 * of the encoded bytes; the caller supplies the path it will upload to.
 */
export function writeManifest(opts: {
  readonly path: string;
  readonly formatVersion: number;
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly content: ManifestContent;
  readonly snapshotId: bigint;
  readonly entries: readonly ManifestEntry[];
}): ManifestWriteResult {
  const { schema, spec, content, entries } = opts;
  const partitionFields = spec.partitionType(schema);
  const partitionTypes = partitionFields.map((f) => f.type as PrimitiveType);
  const rows: AvroValue[] = [];
  let added = 0, existing = 0, deleted = 0;
  let addedRows = 0n, existingRows = 0n, deletedRows = 0n;
  let minSeq: bigint | null = null;
  const summaries = partitionTypes.map(() => ({ containsNull: false, containsNan: false, lower: null as IcebergValue | null, upper: null as IcebergValue | null }));

  for (const e of entries) {
    const f = e.dataFile;
    const isDelete = f.content !== DataFileContent.DATA;
    assert(isDelete === (content === ManifestContent.DELETES), 'manifest content must match its entries', { path: f.filePath });
    assert(f.specId === spec.specId, 'entry spec id must match the manifest spec', { path: f.filePath, specId: f.specId });
    if (f.partition.length !== partitionFields.length) {
      throw new FloeError('field_id_mismatch', `data file ${f.filePath} has ${f.partition.length} partition values, spec ${spec.specId} has ${partitionFields.length} fields`);
    }
    const partition: Record<string, AvroValue> = {};
    partitionFields.forEach((pf, i) => {
      const t = partitionTypes[i] as PrimitiveType;
      const v = f.partition[i] ?? null;
      partition[pf.name] = partitionValueToAvro(t, v);
      const s = summaries[i];
      if (s === undefined) return;
      if (v === null) s.containsNull = true;
      else if (typeof v === 'number' && Number.isNaN(v)) s.containsNan = true;
      else {
        if (s.lower === null || compareValues(t, v, s.lower) < 0) s.lower = v;
        if (s.upper === null || compareValues(t, v, s.upper) > 0) s.upper = v;
      }
    });
    if (e.status === ManifestEntryStatus.ADDED) { added++; addedRows += f.recordCount; }
    else if (e.status === ManifestEntryStatus.EXISTING) { existing++; existingRows += f.recordCount; }
    else { deleted++; deletedRows += f.recordCount; }
    if (e.status !== ManifestEntryStatus.DELETED && e.sequenceNumber !== null) {
      minSeq = minSeq === null || e.sequenceNumber < minSeq ? e.sequenceNumber : minSeq;
    }
    rows.push({
      status: e.status,
      snapshot_id: e.snapshotId,
      sequence_number: e.sequenceNumber,
      file_sequence_number: e.fileSequenceNumber,
      data_file: {
        content: f.content,
        file_path: f.filePath,
        file_format: f.fileFormat,
        partition,
        record_count: f.recordCount,
        file_size_in_bytes: f.fileSizeInBytes,
        column_sizes: mapToAvro(f.columnSizes),
        value_counts: mapToAvro(f.valueCounts),
        null_value_counts: mapToAvro(f.nullValueCounts),
        nan_value_counts: mapToAvro(f.nanValueCounts),
        lower_bounds: mapToAvro(f.lowerBounds),
        upper_bounds: mapToAvro(f.upperBounds),
        key_metadata: null,
        split_offsets: f.splitOffsets === undefined ? null : [...f.splitOffsets],
        equality_ids: f.equalityIds === undefined ? null : [...f.equalityIds],
        sort_order_id: f.sortOrderId ?? null,
        referenced_data_file: f.referencedDataFile ?? null,
        ...(opts.formatVersion >= 3
          ? {
              // ADDED files inherit their first_row_id; EXISTING and DELETED ones keep the one they inherited.
              first_row_id: e.status === ManifestEntryStatus.ADDED ? null : (f.firstRowId ?? null),
              content_offset: f.contentOffset ?? null,
              content_size_in_bytes: f.contentSizeInBytes ?? null,
            }
          : {}),
      },
    });
  }

  const bytes = writeContainer(manifestEntrySchema(partitionFields, opts.formatVersion), rows, {
    schema: stringifyJsonExact(schema.toJSON()),
    'schema-id': String(schema.schemaId),
    'partition-spec': JSON.stringify(spec.toJSON().fields),
    'partition-spec-id': String(spec.specId),
    'format-version': String(opts.formatVersion),
    content: content === ManifestContent.DATA ? 'data' : 'deletes',
  });
  return {
    bytes,
    manifestFile: {
      manifestPath: opts.path,
      manifestLength: BigInt(bytes.length),
      partitionSpecId: spec.specId,
      content,
      sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
      minSequenceNumber: minSeq ?? UNASSIGNED_SEQUENCE_NUMBER,
      addedSnapshotId: opts.snapshotId,
      addedFilesCount: added,
      existingFilesCount: existing,
      deletedFilesCount: deleted,
      addedRowsCount: addedRows,
      existingRowsCount: existingRows,
      deletedRowsCount: deletedRows,
      partitions: summaries.map((s, i) => {
        const t = partitionTypes[i] as PrimitiveType;
        return {
          containsNull: s.containsNull,
          containsNan: t.kind === 'float' || t.kind === 'double' ? s.containsNan : null,
          lowerBound: s.lower === null ? null : toBinary(t, s.lower),
          upperBound: s.upper === null ? null : toBinary(t, s.upper),
        };
      }),
    },
  };
}

/**
 * Reads a manifest's entries, resolving inherited sequence numbers from the manifest list entry
 * (spec: "Sequence Number Inheritance"): a null sequence number of an ADDED entry takes the manifest's.
 */
export function readManifest(bytes: Uint8Array, manifest: ManifestFile, specs: ReadonlyMap<number, PartitionSpec>, schema: Schema): ManifestEntry[] {
  const c = readContainer(bytes, `manifest ${manifest.manifestPath}`);
  const spec = specs.get(manifest.partitionSpecId);
  if (spec === undefined) throw new FloeError('metadata_invalid', `manifest ${manifest.manifestPath} uses unknown partition spec ${manifest.partitionSpecId}`);
  const partitionFields: NestedField[] = spec.partitionType(schema);
  // First row id inheritance (spec v3: "First Row ID Inheritance"): a data file without first_row_id takes the
  // manifest's first_row_id plus the record counts of the files before it that had none either.
  let nextRowId = manifest.content === ManifestContent.DATA ? (manifest.firstRowId ?? null) : null;
  return c.rows.map((row) => {
    const r = row as Record<string, AvroValue>;
    const df = r.data_file as Record<string, AvroValue>;
    const status = Number(r.status) as ManifestEntryStatus;
    const inherit = (v: AvroValue | undefined): bigint | null => {
      if (v !== null && v !== undefined) return BigInt(v as bigint);
      if (status === ManifestEntryStatus.ADDED && manifest.sequenceNumber >= 0n) return manifest.sequenceNumber;
      return null;
    };
    const snapshotId = r.snapshot_id === null || r.snapshot_id === undefined ? manifest.addedSnapshotId : BigInt(r.snapshot_id as bigint);
    const partRec = (df.partition ?? {}) as Record<string, AvroValue>;
    const format = FORMAT_NAMES[String(df.file_format).toUpperCase()];
    if (format === undefined) throw new FloeError('metadata_invalid', `manifest ${manifest.manifestPath}: unknown file format ${String(df.file_format)}`);
    const content = Number(df.content ?? 0) as DataFileContent;
    const dataFile: DataFile = {
      content,
      filePath: String(df.file_path),
      fileFormat: format,
      specId: spec.specId,
      partition: partitionFields.map((pf) => partitionValueFromAvro(pf.type as PrimitiveType, partRec[pf.name] ?? null)),
      recordCount: BigInt(df.record_count as bigint),
      fileSizeInBytes: BigInt(df.file_size_in_bytes as bigint),
      columnSizes: mapFromAvro<bigint>(df.column_sizes),
      valueCounts: mapFromAvro<bigint>(df.value_counts),
      nullValueCounts: mapFromAvro<bigint>(df.null_value_counts),
      nanValueCounts: mapFromAvro<bigint>(df.nan_value_counts),
      lowerBounds: mapFromAvro<Uint8Array>(df.lower_bounds),
      upperBounds: mapFromAvro<Uint8Array>(df.upper_bounds),
      ...(Array.isArray(df.split_offsets) ? { splitOffsets: (df.split_offsets as bigint[]).map((x) => BigInt(x)) } : {}),
      ...(Array.isArray(df.equality_ids) ? { equalityIds: (df.equality_ids as number[]).map(Number) } : {}),
      ...(df.sort_order_id !== null && df.sort_order_id !== undefined ? { sortOrderId: Number(df.sort_order_id) } : {}),
      ...(typeof df.referenced_data_file === 'string' ? { referencedDataFile: df.referenced_data_file } : {}),
      ...(df.content_offset !== null && df.content_offset !== undefined ? { contentOffset: BigInt(df.content_offset as bigint) } : {}),
      ...(df.content_size_in_bytes !== null && df.content_size_in_bytes !== undefined ? { contentSizeInBytes: BigInt(df.content_size_in_bytes as bigint) } : {}),
    };
    if (df.first_row_id !== null && df.first_row_id !== undefined) {
      Object.assign(dataFile, { firstRowId: BigInt(df.first_row_id as bigint) });
    } else if (nextRowId !== null && content === DataFileContent.DATA) {
      Object.assign(dataFile, { firstRowId: nextRowId });
      nextRowId += dataFile.recordCount;
    }
    return {
      status,
      snapshotId,
      sequenceNumber: inherit(r.sequence_number),
      fileSequenceNumber: inherit(r.file_sequence_number),
      dataFile,
    };
  });
}

// ---- manifest lists ----

/**
 * Encodes a snapshot's manifest list. Manifests with an unassigned sequence number (added by this snapshot)
 * get `sequenceNumber`, as Java's ManifestListWriter does.
 *
 * v3 (spec: "First Row ID Assignment"): every data manifest without a `first_row_id` is assigned one, starting at
 * the snapshot's `first-row-id` and advancing by the manifest's added and existing row counts (which covers every
 * file in it that will inherit an id); existing assignments are kept. `addedRows` is the total assigned: the
 * snapshot's `added-rows`, by which the table's `next-row-id` advances.
 */
export function writeManifestList(opts: {
  readonly formatVersion: number;
  readonly snapshotId: bigint;
  readonly parentSnapshotId: bigint | null;
  readonly sequenceNumber: bigint;
  readonly manifests: readonly ManifestFile[];
  /** v3: the snapshot's first-row-id (the table's next-row-id). */
  readonly firstRowId?: bigint;
}): Buffer {
  return writeManifestListWithRowIds(opts).bytes;
}

export function writeManifestListWithRowIds(opts: Parameters<typeof writeManifestList>[0]): { bytes: Buffer; addedRows: bigint } {
  const v3 = opts.formatVersion >= 3;
  assert(!v3 || opts.firstRowId !== undefined, 'a v3 manifest list needs the snapshot first-row-id');
  let nextRowId = opts.firstRowId ?? 0n;
  const rows: AvroValue[] = opts.manifests.map((m) => {
    let firstRowId: bigint | null = m.firstRowId ?? null;
    if (v3 && m.content === ManifestContent.DATA && firstRowId === null) {
      firstRowId = nextRowId;
      nextRowId += m.addedRowsCount + m.existingRowsCount;
    }
    const seq = m.sequenceNumber === UNASSIGNED_SEQUENCE_NUMBER ? opts.sequenceNumber : m.sequenceNumber;
    const minSeq = m.minSequenceNumber === UNASSIGNED_SEQUENCE_NUMBER ? seq : m.minSequenceNumber;
    return {
      manifest_path: m.manifestPath,
      manifest_length: m.manifestLength,
      partition_spec_id: m.partitionSpecId,
      content: m.content,
      sequence_number: seq,
      min_sequence_number: minSeq,
      added_snapshot_id: m.addedSnapshotId,
      added_files_count: m.addedFilesCount,
      existing_files_count: m.existingFilesCount,
      deleted_files_count: m.deletedFilesCount,
      added_rows_count: m.addedRowsCount,
      existing_rows_count: m.existingRowsCount,
      deleted_rows_count: m.deletedRowsCount,
      partitions:
        m.partitions === null
          ? null
          : m.partitions.map((p) => ({
              contains_null: p.containsNull,
              contains_nan: p.containsNan,
              lower_bound: p.lowerBound,
              upper_bound: p.upperBound,
            })),
      key_metadata: null,
      ...(v3 ? { first_row_id: m.content === ManifestContent.DATA ? firstRowId : null } : {}),
    };
  });
  const bytes = writeContainer(manifestFileSchema(opts.formatVersion), rows, {
    'snapshot-id': String(opts.snapshotId),
    'parent-snapshot-id': opts.parentSnapshotId === null ? 'null' : String(opts.parentSnapshotId),
    'sequence-number': String(opts.sequenceNumber),
    'format-version': String(opts.formatVersion),
    ...(v3 ? { 'first-row-id': String(opts.firstRowId) } : {}),
  });
  return { bytes, addedRows: nextRowId - (opts.firstRowId ?? 0n) };
}

export function readManifestList(bytes: Uint8Array, what: string): ManifestFile[] {
  const c = readContainer(bytes, what);
  return c.rows.map((row) => {
    const r = row as Record<string, AvroValue>;
    const big = (v: AvroValue | undefined, dflt = 0n): bigint => (v === null || v === undefined ? dflt : BigInt(v as bigint));
    const parts = r.partitions as Record<string, AvroValue>[] | null | undefined;
    return {
      manifestPath: String(r.manifest_path),
      manifestLength: big(r.manifest_length),
      partitionSpecId: Number(r.partition_spec_id),
      content: Number(r.content ?? 0) as ManifestContent,
      // v1 manifest lists have no sequence numbers: they read as 0 (spec: "Sequence Numbers").
      sequenceNumber: big(r.sequence_number),
      minSequenceNumber: big(r.min_sequence_number),
      addedSnapshotId: big(r.added_snapshot_id),
      addedFilesCount: Number(r.added_files_count ?? r.added_data_files_count ?? 0),
      existingFilesCount: Number(r.existing_files_count ?? r.existing_data_files_count ?? 0),
      deletedFilesCount: Number(r.deleted_files_count ?? r.deleted_data_files_count ?? 0),
      addedRowsCount: big(r.added_rows_count),
      existingRowsCount: big(r.existing_rows_count),
      deletedRowsCount: big(r.deleted_rows_count),
      partitions:
        parts === null || parts === undefined
          ? null
          : parts.map((p) => ({
              containsNull: p.contains_null === true,
              containsNan: typeof p.contains_nan === 'boolean' ? p.contains_nan : null,
              lowerBound: (p.lower_bound as Uint8Array | null) ?? null,
              upperBound: (p.upper_bound as Uint8Array | null) ?? null,
            })),
      ...(r.first_row_id !== null && r.first_row_id !== undefined ? { firstRowId: BigInt(r.first_row_id as bigint) } : {}),
    };
  });
}

/**
 * Whether a manifest lists a live file (ADDED or EXISTING entries). The counts are required from v2 on
 * (spec: manifest_list `added_files_count`, `existing_files_count`); a v1 manifest may omit them and counts as live.
 */
export function carriesLiveFiles(m: ManifestFile, formatVersion: number): boolean {
  return formatVersion < 2 || m.addedFilesCount + m.existingFilesCount > 0;
}
