/**
 * Reproduces a topic's Kafka record keys, byte for byte, from key values as an Iceberg table holds them, so a
 * replica can tell which Kafka partition each existing row's key went to (src/kafka/partitioner.ts) without
 * reading Kafka. A template is learned once per topic from one consumed key and the converter that wrote it:
 *   JsonConverter, schemas.enable=true:  {"schema":{...key struct...},"payload":{"id":1,"sku":"a"}}
 *     the schema part is kept verbatim from the learned key; the payload is written as Jackson writes it
 *     (compact, fields in schema order; src/decode/key-encoding.ts)
 *   JsonConverter, schemas.enable=false: {"id":1,"sku":"a"}
 *   Confluent AvroConverter:             0x00 | schema id (int32 BE) | Avro binary of the key record
 * Value forms (JsonConverter.convertToJson / AvroData.fromConnectData):
 *   int8/int16/int32/int64  JSON number / Avro int or long (zig-zag varint)
 *   string                  JSON string / Avro string; Connect names that floe keeps as plain text too
 *                           (io.debezium.data.Uuid, Enum, Json, Xml, Ltree, io.debezium.time.ZonedTime)
 *   bytes                   base64 (JSON) / Avro bytes
 *   boolean                 true/false / one byte
 *   Decimal (bytes)         BigInteger.toByteArray() of the unscaled value: base64 (JsonConverter's default
 *                           decimal.format=BASE64) / Avro bytes
 *   optional field, null    JSON null / the union's "null" branch
 * Anything else (timestamps, dates, floats, VariableScaleDecimal, structs, a decimal.format=NUMERIC decimal,
 * or a key the template does not reproduce) is refused with a reason: the caller indexes the whole table.
 * Iceberg values arrive as src/iceberg/values.ts holds them (int: number, long: bigint, decimal: unscaled
 * bigint, binary: Uint8Array); a column promoted int → long (bigint) or decimal → string (its exact text, as
 * src/worker/table-worker.ts writes it) is taken back as well.
 */
import { parseJsonExact } from '../iceberg/json.js';
import type { IcebergValue } from '../iceberg/values.js';
import { CONFLUENT_MAGIC, toConnect, type AvroWriterSchema } from './avro-converter.js';
import { PrecisionLost, inferColumn, type ConnectField } from './connect-schema.js';
import {
  ByteSink, LONE_SURROGATE, bigIntegerBytes, writeAvroBytes, writeAvroInt, writeAvroLong, writeAvroString, writeJsonBase64, writeJsonString,
} from './key-encoding.js';
import {
  PRECISION_LOST, integerOf, isRefused, keyField, mismatch, refused, unscaledOfText, type Kind, type KeyField, type KeyFormat, type KeyRefused,
} from './key-fields.js';

export { PRECISION_LOST, isRefused, type KeyField, type KeyFormat, type KeyRefused };

const CONFLUENT_HEADER_BYTES = 5;
const SCHEMA_HEAD = '{"schema":';
const PAYLOAD_HEAD = ',"payload":';

export class KeyTemplate {
  private readonly out = new ByteSink();
  private readonly scratch = new ByteSink();
  /** Payload names: `{"a":` then `,"b":` ..., as Jackson writes field names. */
  private readonly names: Buffer[];

  private constructor(
    readonly format: KeyFormat,
    readonly fields: readonly KeyField[],
    /** Bytes before the payload: the JSON schema part, or the Confluent header; empty for plain JSON. */
    private readonly prefix: Buffer,
  ) {
    this.columns = fields.map((f) => f.name);
    this.names = fields.map((f, i) => {
      const s = new ByteSink();
      s.byte(i === 0 ? 0x7b : 0x2c);
      writeJsonString(s, f.name);
      s.byte(0x3a);
      return Buffer.from(s.view());
    });
  }

  /** Key column names in the order of the Kafka key (the order `serialize` takes values in). */
  readonly columns: readonly string[];

  /**
   * What decides the bytes this template writes: its format, its prefix (the JSON schema part or the Confluent
   * header with the registry id) and its fields. Two templates with one identity place every key alike, so an
   * index sharded under one is valid under the other (a saved index records it).
   */
  get identity(): string {
    return `${this.format}|${this.prefix.toString('base64')}|${this.fields.map((f) => `${f.name}:${f.kind}${f.optional ? '?' : ''}:${f.scale}`).join(',')}`;
  }

  /** The Schema Registry id of a Confluent Avro template (null otherwise). */
  get schemaId(): number | null {
    return this.format === 'confluent-avro' ? this.prefix.readInt32BE(1) : null;
  }

  /**
   * Learns a template from one consumed record key: its raw bytes and the values the decoder made of them
   * (DebeziumDecoder: Change.key in Change.shape.keyColumns order). A Confluent Avro key needs its writer
   * schema. The template must reproduce this very key, else it is refused.
   */
  static learn(rawKey: Uint8Array | null, decoded: { readonly columns: readonly string[]; readonly values: readonly unknown[] }, avro?: AvroWriterSchema): KeyTemplate | KeyRefused {
    if (rawKey === null || rawKey.length === 0) return refused('the record has no key');
    const raw = Buffer.from(rawKey.buffer, rawKey.byteOffset, rawKey.length);
    let t: KeyTemplate | KeyRefused;
    if (raw[0] === CONFLUENT_MAGIC && raw.length >= CONFLUENT_HEADER_BYTES) t = KeyTemplate.learnAvro(raw, avro);
    else t = KeyTemplate.learnJson(raw, decoded);
    if (isRefused(t)) return t;
    if (t.columns.join('\u0000') !== decoded.columns.join('\u0000')) {
      return refused(`key columns ${t.columns.join(', ')} differ from the decoded key's ${decoded.columns.join(', ')}`);
    }
    let values = t.toIceberg(decoded.values);
    if (values === PRECISION_LOST) values = t.toIcebergExact(raw);
    if (isRefused(values)) return values;
    const again = t.encode(values);
    if (again !== null) return refused(again);
    if (!t.out.equalsTail(raw, 0)) return refused(`the key does not re-serialize to its own bytes (${t.format}): expected ${raw.toString('hex').slice(0, 120)}, wrote ${t.out.view().toString('hex').slice(0, 120)}`);
    return t;
  }

  private static learnAvro(raw: Buffer, avro: AvroWriterSchema | undefined): KeyTemplate | KeyRefused {
    if (avro === undefined) return refused(`no writer schema for the Avro key (schema id ${raw.readInt32BE(1)})`);
    const root = avro.avro as { type?: unknown; fields?: { name: string; type: unknown }[] };
    if (root.type !== 'record' || root.fields === undefined) return refused('the Avro key is not a record');
    const fields: KeyField[] = [];
    for (const f of root.fields) {
      const k = keyField(toConnect(f.type as AvroWriterSchema['avro'], f.name), f.type);
      if (isRefused(k)) return k;
      fields.push(k);
    }
    return new KeyTemplate('confluent-avro', fields, Buffer.from(raw.subarray(0, CONFLUENT_HEADER_BYTES)));
  }

  private static learnJson(raw: Buffer, decoded: { readonly columns: readonly string[]; readonly values: readonly unknown[] }): KeyTemplate | KeyRefused {
    let parsed: unknown;
    const text = raw.toString('utf8');
    try {
      parsed = parseJsonExact(text);
    } catch (e) {
      return refused(`the key is neither Confluent Avro nor JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refused('the key is not a JSON object');
    const o = parsed as Record<string, unknown>;
    // The decoder's rule (DebeziumDecoder.decodeKey): an object with "schema" and "payload" is the envelope.
    if (!('schema' in o && 'payload' in o)) {
      const fields: KeyField[] = [];
      decoded.columns.forEach((name, i) => {
        const c = inferColumn(name, decoded.values[i]);
        const kind: Kind | null = c === null ? null : c.type.kind === 'long' ? 'int64' : c.type.kind === 'string' || c.type.kind === 'boolean' ? c.type.kind : null;
        if (c !== null && kind !== null) fields.push({ name, kind, optional: false, scale: 0, convert: c.convert, nullBranch: -1, valueBranch: -1 });
      });
      if (fields.length !== decoded.columns.length) return refused('schemaless key with a value that is not an integer, string or boolean');
      return new KeyTemplate('json', fields, Buffer.alloc(0));
    }
    const schema = o.schema as ConnectField | null;
    if (schema === null || schema.type !== 'struct' || schema.fields === undefined) return refused('the key schema is not a struct');
    const fields: KeyField[] = [];
    for (const f of schema.fields) {
      const k = keyField(f, undefined);
      if (isRefused(k)) return k;
      fields.push(k);
    }
    // The payload alone first (a plain JSON template over the same fields), to find where it starts.
    const t = new KeyTemplate('json', fields, Buffer.alloc(0));
    const exact = (o.payload ?? null) as Record<string, unknown> | null;
    if (exact === null || typeof exact !== 'object') return refused('the key payload is not an object');
    const values = t.toIceberg(t.columns.map((c) => exact[c]));
    if (isRefused(values)) return values;
    const err = t.encode(values);
    if (err !== null) return refused(err);
    // The schema part, verbatim: everything before this payload and the envelope's closing brace.
    const payloadAt = raw.length - t.out.pos - 1;
    if (payloadAt < SCHEMA_HEAD.length + PAYLOAD_HEAD.length || raw[raw.length - 1] !== 0x7d || !t.out.equalsTail(raw.subarray(0, raw.length - 1), payloadAt)) {
      return refused('the key payload is not where JsonConverter writes it (last, compact)');
    }
    const prefix = raw.subarray(0, payloadAt);
    if (prefix.toString('latin1', 0, SCHEMA_HEAD.length) !== SCHEMA_HEAD || prefix.toString('latin1', payloadAt - PAYLOAD_HEAD.length) !== PAYLOAD_HEAD) {
      return refused('the key is not a compact {"schema":...,"payload":...} envelope');
    }
    return new KeyTemplate('json-schema', fields, Buffer.from(prefix));
  }

  /** Decoded key values (the decoder's JSON forms, in `columns` order) → Iceberg values, with the decoder's converters. */
  toIceberg(decoded: readonly unknown[], into: (IcebergValue | null)[] = []): (IcebergValue | null)[] | KeyRefused {
    if (decoded.length !== this.fields.length) return refused(`${decoded.length} key values for ${this.fields.length} key columns`);
    const out = into;
    out.length = this.fields.length;
    for (let i = 0; i < this.fields.length; i++) {
      const v = decoded[i];
      if (v === null || v === undefined) {
        out[i] = null;
        continue;
      }
      try {
        out[i] = (this.fields[i] as KeyField).convert(v);
      } catch (e) {
        if (e instanceof PrecisionLost) return PRECISION_LOST;
        return refused(`key column "${(this.fields[i] as KeyField).name}": ${(e as Error).message}`);
      }
    }
    return out;
  }

  /**
   * The Iceberg values of a raw JSON key parsed with exact integers (after toIceberg answered PRECISION_LOST;
   * rare, so the full parse is fine). Avro keys never need it: their longs decode exactly.
   */
  toIcebergExact(rawKey: Uint8Array, into?: (IcebergValue | null)[]): (IcebergValue | null)[] | KeyRefused {
    if (this.format === 'confluent-avro') return PRECISION_LOST;
    let o: unknown;
    try {
      o = parseJsonExact(Buffer.from(rawKey.buffer, rawKey.byteOffset, rawKey.length).toString('utf8'));
    } catch (e) {
      return refused(`the key is not JSON: ${(e as Error).message}`);
    }
    if (this.format === 'json-schema' && o !== null && typeof o === 'object') o = (o as Record<string, unknown>).payload;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return refused('the key payload is not a JSON object');
    const p = o as Record<string, unknown>;
    return this.toIceberg(this.columns.map((c) => p[c]), into);
  }

  /** The key's bytes (a fresh copy), or why they cannot be reproduced. */
  serialize(values: readonly (IcebergValue | null)[]): Uint8Array | KeyRefused {
    const err = this.encode(values);
    return err === null ? new Uint8Array(this.out.view()) : refused(err);
  }

  /**
   * The key's bytes in the template's reusable buffer (valid until the next call on this template), or why
   * they cannot be reproduced. For hashing and comparing without a copy.
   */
  bytesOf(values: readonly (IcebergValue | null)[]): Buffer | KeyRefused {
    const err = this.encode(values);
    return err === null ? this.out.view() : refused(err);
  }

  /** Whether `values` serialize to exactly `raw` (no allocation beyond the encoding). */
  reproduces(values: readonly (IcebergValue | null)[], raw: Uint8Array): boolean {
    return this.encode(values) === null && this.out.equalsTail(raw, 0);
  }

  /** Writes prefix + payload (+ the envelope's closing brace) into `out`; null, or the reason it cannot. */
  private encode(values: readonly (IcebergValue | null)[]): string | null {
    const out = this.out;
    out.reset();
    out.bytes(this.prefix);
    if (values.length !== this.fields.length) return `${values.length} key values for ${this.fields.length} key columns`;
    if (this.format === 'confluent-avro') return this.encodeAvro(values);
    const err = this.encodePayload(values);
    if (err === null && this.format === 'json-schema') out.byte(0x7d);
    return err;
  }

  /** JsonConverter's payload: a compact object, fields in schema order. */
  private encodePayload(values: readonly (IcebergValue | null)[]): string | null {
    const out = this.out;
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i] as KeyField;
      out.bytes(this.names[i] as Buffer);
      const v = values[i] ?? null;
      if (v === null) {
        if (!f.optional) return `key column "${f.name}" is null`;
        out.ascii('null');
        continue;
      }
      const err = this.jsonValue(f, v);
      if (err !== null) return err;
    }
    if (this.fields.length === 0) out.byte(0x7b);
    out.byte(0x7d);
    return null;
  }

  private jsonValue(f: KeyField, v: IcebergValue): string | null {
    const out = this.out;
    switch (f.kind) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'int64': {
        const n = integerOf(f, v);
        if (typeof n === 'string') return n;
        out.ascii(String(n));
        return null;
      }
      case 'string':
        if (typeof v !== 'string') return mismatch(f, v);
        writeJsonString(out, v);
        return null;
      case 'boolean':
        if (typeof v !== 'boolean') return mismatch(f, v);
        out.ascii(v ? 'true' : 'false');
        return null;
      case 'bytes':
        if (!(v instanceof Uint8Array)) return mismatch(f, v);
        writeJsonBase64(out, v);
        return null;
      case 'decimal': {
        const u = typeof v === 'bigint' ? v : typeof v === 'string' ? unscaledOfText(v, f.scale) : null;
        if (u === null) return mismatch(f, v);
        writeJsonBase64(out, bigIntegerBytes(u, this.scratch));
        return null;
      }
    }
  }

  private encodeAvro(values: readonly (IcebergValue | null)[]): string | null {
    const out = this.out;
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i] as KeyField;
      const v = values[i] ?? null;
      if (v === null) {
        if (f.nullBranch < 0) return `key column "${f.name}" is null`;
        writeAvroInt(out, f.nullBranch);
        continue;
      }
      if (f.valueBranch >= 0) writeAvroInt(out, f.valueBranch);
      switch (f.kind) {
        case 'int8':
        case 'int16':
        case 'int32':
        case 'int64': {
          const n = integerOf(f, v);
          if (typeof n === 'string') return n;
          if (typeof n === 'number') writeAvroInt(out, n);
          else writeAvroLong(out, n);
          break;
        }
        case 'string':
          if (typeof v !== 'string') return mismatch(f, v);
          if (LONE_SURROGATE.test(v)) return `key column "${f.name}": a lone UTF-16 surrogate (Java's UTF-8 encoder writes '?')`;
          writeAvroString(out, v);
          break;
        case 'boolean':
          if (typeof v !== 'boolean') return mismatch(f, v);
          out.byte(v ? 1 : 0);
          break;
        case 'bytes':
          if (!(v instanceof Uint8Array)) return mismatch(f, v);
          writeAvroBytes(out, v);
          break;
        case 'decimal': {
          const u = typeof v === 'bigint' ? v : typeof v === 'string' ? unscaledOfText(v, f.scale) : null;
          if (u === null) return mismatch(f, v);
          writeAvroBytes(out, bigIntegerBytes(u, this.scratch));
          break;
        }
      }
    }
    return null;
  }
}

