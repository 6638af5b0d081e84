/**
 * Iceberg schema → Arrow schema, with `PARQUET:field_id` on every field so the Parquet writer puts the Iceberg
 * field ids into the file (spec, "Parquet": "Columns must be written with field ids"; readers resolve columns
 * by id, never by name). Type mapping follows the spec's Parquet table:
 *   date → DATE (int32), time → TIME(MICROS), timestamp → TIMESTAMP(MICROS, isAdjustedToUTC=false),
 *   timestamptz → TIMESTAMP(MICROS, isAdjustedToUTC=true), uuid → fixed_len_byte_array[16], decimal → DECIMAL(P,S).
 */
import * as arrow from 'apache-arrow';
import { FloeError } from '../errors.js';
import type { Schema } from '../iceberg/schema.js';
import { typeToString, type IcebergType, type NestedField, type PrimitiveType } from '../iceberg/types.js';

export const PARQUET_FIELD_ID_KEY = 'PARQUET:field_id';

export function arrowTypeFor(t: PrimitiveType): arrow.DataType {
  switch (t.kind) {
    case 'boolean': return new arrow.Bool();
    case 'int': return new arrow.Int32();
    case 'long': return new arrow.Int64();
    case 'float': return new arrow.Float32();
    case 'double': return new arrow.Float64();
    case 'decimal': return new arrow.Decimal(t.scale, t.precision, 128);
    case 'date': return new arrow.DateDay();
    case 'time': return new arrow.TimeMicrosecond();
    case 'timestamp': return new arrow.TimestampMicrosecond();
    case 'timestamptz': return new arrow.TimestampMicrosecond('UTC');
    case 'timestamp_ns': return new arrow.TimestampNanosecond();
    case 'timestamptz_ns': return new arrow.TimestampNanosecond('UTC');
    case 'string': return new arrow.Utf8();
    case 'uuid': return new arrow.FixedSizeBinary(16);
    case 'fixed': return new arrow.FixedSizeBinary(t.length);
    case 'binary': return new arrow.Binary();
  }
}

export function arrowFieldFor(f: NestedField): arrow.Field {
  const t: IcebergType = f.type;
  if (t.kind === 'struct' || t.kind === 'list' || t.kind === 'map') {
    throw new FloeError('type_unsupported', `column "${f.name}" has nested type ${typeToString(t)}; floe's Parquet writer supports primitive columns only`, {
      column: f.name,
    });
  }
  const metadata = new Map<string, string>([[PARQUET_FIELD_ID_KEY, String(f.id)]]);
  return new arrow.Field(f.name, arrowTypeFor(t), !f.required, metadata);
}

export function arrowSchemaFor(fields: readonly NestedField[]): arrow.Schema {
  return new arrow.Schema(fields.map(arrowFieldFor));
}

export function arrowSchemaForSchema(schema: Schema): arrow.Schema {
  return arrowSchemaFor(schema.fields);
}
