/**
 * The spec's Avro schemas for manifests and manifest lists (spec: "Manifests", "Manifest Lists"), with the
 * exact field ids. Iceberg readers project by `field-id`, so the ids must be right; names follow Java's writer
 * (`manifest_entry`, `r2`, `r102`, `k117_v118`, `manifest_file`, `r508`).
 */
import { FloeError } from '../errors.js';
import type { AvroField, AvroRecord, AvroSchema } from '../avro/avro.js';
import type { NestedField, PrimitiveType } from './types.js';
import { isPrimitive } from './types.js';

const opt = (t: AvroSchema): AvroSchema => ['null', t];

/** Minimum bytes for a two's-complement decimal of the given precision (Iceberg's `TypeUtil.decimalRequiredBytes`). */
export function decimalRequiredBytes(precision: number): number {
  let bytes = 1;
  while (bytes < 24 && Math.pow(2, 8 * bytes - 1) - 1 < Math.pow(10, precision)) bytes++;
  return bytes;
}

/** Avro schema of one Iceberg primitive (spec: "Avro" type mapping). `nameHint` keeps named types unique. */
export function primitiveToAvro(t: PrimitiveType, nameHint: string): AvroSchema {
  switch (t.kind) {
    case 'boolean': return 'boolean';
    case 'int': return 'int';
    case 'long': return 'long';
    case 'float': return 'float';
    case 'double': return 'double';
    case 'date': return { type: 'int', logicalType: 'date' };
    case 'time': return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp': return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz': return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'timestamp_ns': return { type: 'long', logicalType: 'timestamp-nanos', 'adjust-to-utc': false };
    case 'timestamptz_ns': return { type: 'long', logicalType: 'timestamp-nanos', 'adjust-to-utc': true };
    case 'string': return 'string';
    case 'uuid': return { type: 'fixed', name: `uuid_fixed_${nameHint}`, size: 16, logicalType: 'uuid' };
    case 'fixed': return { type: 'fixed', name: `fixed_${t.length}_${nameHint}`, size: t.length };
    case 'binary': return 'bytes';
    case 'decimal':
      return {
        type: 'fixed',
        name: `decimal_${t.precision}_${t.scale}_${nameHint}`,
        size: decimalRequiredBytes(t.precision),
        logicalType: 'decimal',
        precision: t.precision,
        scale: t.scale,
      };
  }
}

export function partitionRecordSchema(partitionFields: readonly NestedField[]): AvroSchema {
  return {
    type: 'record',
    name: 'r102',
    fields: partitionFields.map((f): AvroField => {
      if (!isPrimitive(f.type)) throw new FloeError('schema_invalid', `partition field ${f.name} must be primitive`);
      return { name: f.name, type: opt(primitiveToAvro(f.type, String(f.id))), default: null, 'field-id': f.id };
    }),
  };
}

const mapOf = (keyId: number, valueId: number, value: AvroSchema): AvroSchema => ({
  type: 'array',
  logicalType: 'map',
  items: {
    type: 'record',
    name: `k${keyId}_v${valueId}`,
    fields: [
      { name: 'key', type: 'int', 'field-id': keyId },
      { name: 'value', type: value, 'field-id': valueId },
    ],
  },
});

/**
 * `data_file` struct, v2 (+ the optional `referenced_data_file`, harmless for v2 readers); v3 adds
 * `first_row_id` (row lineage) and `content_offset` / `content_size_in_bytes` (deletion vectors).
 */
export function dataFileSchema(partitionFields: readonly NestedField[], formatVersion = 2): AvroSchema {
  return {
    type: 'record',
    name: 'r2',
    fields: [
      { name: 'content', type: 'int', 'field-id': 134, doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes' },
      { name: 'file_path', type: 'string', 'field-id': 100, doc: 'Location URI with FS scheme' },
      { name: 'file_format', type: 'string', 'field-id': 101, doc: 'File format name: avro, orc, or parquet' },
      { name: 'partition', type: partitionRecordSchema(partitionFields), 'field-id': 102, doc: 'Partition data tuple, schema based on the partition spec' },
      { name: 'record_count', type: 'long', 'field-id': 103, doc: 'Number of records in the file' },
      { name: 'file_size_in_bytes', type: 'long', 'field-id': 104, doc: 'Total file size in bytes' },
      { name: 'column_sizes', type: opt(mapOf(117, 118, 'long')), default: null, 'field-id': 108 },
      { name: 'value_counts', type: opt(mapOf(119, 120, 'long')), default: null, 'field-id': 109 },
      { name: 'null_value_counts', type: opt(mapOf(121, 122, 'long')), default: null, 'field-id': 110 },
      { name: 'nan_value_counts', type: opt(mapOf(138, 139, 'long')), default: null, 'field-id': 137 },
      { name: 'lower_bounds', type: opt(mapOf(126, 127, 'bytes')), default: null, 'field-id': 125 },
      { name: 'upper_bounds', type: opt(mapOf(129, 130, 'bytes')), default: null, 'field-id': 128 },
      { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
      { name: 'split_offsets', type: opt({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
      { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
      { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
      ...(formatVersion >= 3 ? [{ name: 'first_row_id', type: opt('long'), default: null, 'field-id': 142, doc: 'The _row_id for the first row in the data file' }] : []),
      { name: 'referenced_data_file', type: opt('string'), default: null, 'field-id': 143 },
      ...(formatVersion >= 3
        ? [
            { name: 'content_offset', type: opt('long'), default: null, 'field-id': 144, doc: 'The offset in the file where the content starts' },
            { name: 'content_size_in_bytes', type: opt('long'), default: null, 'field-id': 145, doc: 'The length of a referenced content stored in the file' },
          ]
        : []),
    ],
  };
}

export function manifestEntrySchema(partitionFields: readonly NestedField[], formatVersion = 2): AvroSchema {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
      { name: 'data_file', type: dataFileSchema(partitionFields, formatVersion), 'field-id': 2 },
    ],
  };
}

/** `manifest_file` (manifest list entry), v2; v3 adds `first_row_id` (see manifestFileSchema). */
export const MANIFEST_FILE_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500, doc: 'Location URI with FS scheme' },
    { name: 'manifest_length', type: 'long', 'field-id': 501, doc: 'Total file size in bytes' },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502, doc: 'Spec ID used to write' },
    { name: 'content', type: 'int', 'field-id': 517, doc: 'Contents of the manifest: 0=data, 1=deletes' },
    { name: 'sequence_number', type: 'long', 'field-id': 515, doc: 'Sequence number when the manifest was added' },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516, doc: 'Lowest sequence number in the manifest' },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503, doc: 'Snapshot ID that added the manifest' },
    { name: 'added_files_count', type: 'int', 'field-id': 504, doc: 'Added entry count' },
    { name: 'existing_files_count', type: 'int', 'field-id': 505, doc: 'Existing entry count' },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506, doc: 'Deleted entry count' },
    { name: 'added_rows_count', type: 'long', 'field-id': 512, doc: 'Added rows count' },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513, doc: 'Existing rows count' },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514, doc: 'Deleted rows count' },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509, doc: 'True if any file has a null partition value' },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518, doc: 'True if any file has a nan partition value' },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510, doc: 'Partition lower bound for all files' },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511, doc: 'Partition upper bound for all files' },
          ],
        },
      }),
      default: null,
      'field-id': 507,
      doc: 'Summary for each partition',
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
};

/** `manifest_file` of a format version: v3 appends `first_row_id` (520), the first `_row_id` of a data manifest. */
export function manifestFileSchema(formatVersion: number): AvroSchema {
  if (formatVersion < 3) return MANIFEST_FILE_SCHEMA;
  const base = MANIFEST_FILE_SCHEMA as AvroRecord;
  const fields: AvroField[] = [...base.fields, { name: 'first_row_id', type: opt('long'), default: null, 'field-id': 520, doc: 'Starting row ID to assign to new rows in ADDED data files' }];
  return { ...base, fields };
}
