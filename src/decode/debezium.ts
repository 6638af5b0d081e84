/**
 * Debezium change events from the JSON converter, with or without the schema block:
 *   value: {"schema":{...Envelope...},"payload":{"before":{...}|null,"after":{...}|null,
 *           "source":{"db":"shop","table":"orders",...},"op":"c"|"r"|"u"|"d"|"t","ts_ms":...}}
 *   key:   {"schema":{...},"payload":{"id":1}}  or  {"id":1}
 *   tombstone: null value after a delete (for log compaction): ignored, as Debezium intends.
 * With the schema block, the block is the same for every message of a table until its schema changes, so
 * the decoder keeps the exact bytes of `{"schema":...,"payload":` per topic and, when a message starts with
 * them, parses only the payload (field notes: 15.5 → ~3.5 µs per message).
 * Failures are returned as `Rejected` with a reason (they go to the dead-letter topic), never thrown.
 */
import { FloeError } from '../errors.js';
import { parseJsonExact } from '../iceberg/json.js';
import { decodeDatum, isConfluentAvro, parseWriterSchema, schemaIdOf, type AvroWriterSchema } from './avro-converter.js';
import { PrecisionLost, inferColumn, mapConnectField, type ColumnMapping, type ConnectField, type TimeAs } from './connect-schema.js';

export type Op = 'c' | 'r' | 'u' | 'd' | 't';

/** The columns of a source table as one message describes them. */
export interface TableShape {
  readonly columns: readonly ColumnMapping[];
  readonly byName: ReadonlyMap<string, ColumnMapping>;
  /** Key column names, in key order (from the key schema, the key object, or configured id columns). */
  readonly keyColumns: readonly string[];
  /** false for schemaless JSON: columns were inferred from values. */
  readonly declared: boolean;
}

export interface Change {
  readonly kind: 'change';
  readonly op: Op;
  readonly db: string;
  readonly table: string;
  /** Source row after the change (c, r, u), or the row before (d) when the source gives it. */
  readonly row: Readonly<Record<string, unknown>> | null;
  /** Key values in `shape.keyColumns` order, as JSON values (converted with the shape's converters). */
  readonly key: readonly unknown[];
  readonly shape: TableShape;
  readonly tsMs: number | null;
}

export interface Skipped {
  readonly kind: 'skip';
  readonly reason: 'tombstone' | 'schema-change' | 'heartbeat';
}

export interface Rejected {
  readonly kind: 'reject';
  readonly reason: string;
}

/** An Avro record whose writer schema this decoder does not have yet: fetch it, `registerSchema`, retry. */
export interface NeedSchema {
  readonly kind: 'need-schema';
  readonly id: number;
}

export type Decoded = Change | Skipped | Rejected | NeedSchema;

class MissingSchema extends Error {
  constructor(readonly id: number) {
    super(`Avro schema ${id} not registered`);
  }
}

export interface DecoderOptions {
  /** Key columns when the Kafka key is absent or not a struct (Iceberg sink `default-id-columns`). */
  readonly idColumns?: readonly string[];
  /** For flattened records (ExtractNewRecordState): the field holding the op, e.g. `__op` or `_cdc.op`. */
  readonly cdcField?: string;
  /** Time-of-day columns as Iceberg `time`, long microseconds or text (docs/types.md). */
  readonly timeAs?: TimeAs;
}

const OPS = new Set<string>(['c', 'r', 'u', 'd', 't']);
/** Iceberg sink DebeziumTransform maps ops to I/U/D; accept those too for flattened records. */
const FLAT_OPS: Readonly<Record<string, Op>> = { c: 'c', r: 'r', u: 'u', d: 'd', t: 't', I: 'c', U: 'u', D: 'd', R: 'r', C: 'c', T: 't' };
const SCHEMA_HEAD = Buffer.from('{"schema":');
const PAYLOAD_TAIL = ',"payload":';

interface SchemaCache {
  prefix: Buffer;
  shape: TableShape | null;
  envelope: boolean;
}

function shapeOf(columns: ColumnMapping[], keyColumns: readonly string[], declared: boolean): TableShape {
  return { columns, byName: new Map(columns.map((c) => [c.name, c])), keyColumns, declared };
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export class DebeziumDecoder {
  private readonly valueSchemas = new Map<string, SchemaCache>();
  private readonly keySchemas = new Map<string, { prefix: Buffer; columns: string[] }>();
  /** Schemaless tables: columns inferred so far, per topic. */
  private readonly inferred = new Map<string, Map<string, ColumnMapping>>();
  private readonly inferredShapes = new Map<string, { size: number; keys: string; shape: TableShape }>();
  private readonly keyed = new WeakMap<TableShape, { keys: string; shape: TableShape }>();
  /** Avro writer schemas by Schema Registry id, with the table shape each stands for. */
  private readonly avroSchemas = new Map<number, { schema: AvroWriterSchema; shape: TableShape | null }>();

  constructor(private readonly opts: DecoderOptions = {}) {}

  /** Adds a writer schema (Avro JSON text) fetched from the Schema Registry. */
  registerSchema(id: number, text: string): void {
    const schema = parseWriterSchema(text);
    this.avroSchemas.set(id, { schema, shape: this.shapeFromSchema(schema.connect) });
  }

  /** A registered writer schema (for KeyTemplate.learn on Confluent Avro keys). */
  writerSchema(id: number): AvroWriterSchema | undefined {
    return this.avroSchemas.get(id)?.schema;
  }

  private avro(b: Buffer): { value: unknown; shape: TableShape | null; connect: ConnectField } {
    const id = schemaIdOf(b);
    const s = this.avroSchemas.get(id);
    if (s === undefined) throw new MissingSchema(id);
    return { value: decodeDatum(s.schema, b), shape: s.shape, connect: s.schema.connect };
  }

  /**
   * Decodes with exact integers (JSON numbers beyond 2^53 as bigint). Used when converting a decoded row hit
   * a rounded integer (PrecisionLost): only those rare messages pay for the slower exact parse.
   */
  decodeExact(topic: string, key: Buffer | null, value: Buffer | null): Decoded {
    if (value === null || value.length === 0) return { kind: 'skip', reason: 'tombstone' };
    try {
      return this.decodeValue(topic, key, value, true);
    } catch (e) {
      return { kind: 'reject', reason: reasonOf(e) };
    }
  }

  decode(topic: string, key: Buffer | null, value: Buffer | null): Decoded {
    if (value === null || value.length === 0) return { kind: 'skip', reason: 'tombstone' };
    try {
      return this.decodeValue(topic, key, value, false);
    } catch (e) {
      if (e instanceof PrecisionLost) {
        try {
          return this.decodeValue(topic, key, value, true);
        } catch (e2) {
          return { kind: 'reject', reason: reasonOf(e2) };
        }
      }
      return { kind: 'reject', reason: reasonOf(e) };
    }
  }

  private parse(text: string, exact: boolean): unknown {
    return exact ? parseJsonExact(text) : JSON.parse(text);
  }

  private decodeValue(topic: string, keyBuf: Buffer | null, value: Buffer, exact: boolean): Decoded {
    try {
      return this.decodeValueOrThrow(topic, keyBuf, value, exact);
    } catch (e) {
      if (e instanceof MissingSchema) return { kind: 'need-schema', id: e.id };
      throw e;
    }
  }

  private decodeValueOrThrow(topic: string, keyBuf: Buffer | null, value: Buffer, exact: boolean): Decoded {
    let payload: unknown;
    let shape: TableShape | null = null;
    const cached = this.valueSchemas.get(topic);
    if (isConfluentAvro(value)) {
      const a = this.avro(value);
      payload = a.value;
      shape = a.shape;
    } else if (cached !== undefined && value.length > cached.prefix.length + 1 && value.compare(cached.prefix, 0, cached.prefix.length, 0, cached.prefix.length) === 0) {
      let end = value.length;
      while (end > 0 && (value[end - 1] === 0x0a || value[end - 1] === 0x0d || value[end - 1] === 0x20)) end--;
      payload = this.parse(value.toString('utf8', cached.prefix.length, end - 1), exact);
      shape = cached.shape;
    } else if (value.length > SCHEMA_HEAD.length && value.compare(SCHEMA_HEAD, 0, SCHEMA_HEAD.length, 0, SCHEMA_HEAD.length) === 0) {
      const text = value.toString('utf8');
      const obj = this.parse(text, exact) as { schema?: ConnectField; payload?: unknown };
      payload = obj.payload;
      if (obj.schema !== undefined && obj.schema !== null) {
        shape = this.shapeFromSchema(obj.schema);
        const prefix = Buffer.from(`{"schema":${JSON.stringify(obj.schema)}${PAYLOAD_TAIL}`);
        // Cache only when re-serializing reproduces the producer's bytes (JsonConverter writes compact JSON).
        if (value.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) this.valueSchemas.set(topic, { prefix, shape, envelope: true });
        else this.valueSchemas.delete(topic);
      }
    } else {
      payload = this.parse(value.toString('utf8'), exact);
    }
    if (payload === null || payload === undefined) return { kind: 'skip', reason: 'tombstone' };
    if (typeof payload !== 'object' || Array.isArray(payload)) return { kind: 'reject', reason: 'value is not a JSON object' };
    const p = payload as Record<string, unknown>;

    let op: Op;
    let row: Record<string, unknown> | null;
    let db = '';
    let table = '';
    const source = p.source as Record<string, unknown> | undefined;
    if (typeof p.op === 'string' && ('after' in p || 'before' in p)) {
      if (!OPS.has(p.op)) return { kind: 'reject', reason: `unknown op "${p.op}"` };
      op = p.op as Op;
      row = (op === 'd' ? p.before : p.after) as Record<string, unknown> | null;
      if (source !== undefined && source !== null) {
        db = String(source.db ?? source.schema ?? '');
        table = String(source.table ?? source.collection ?? '');
      }
    } else if ('ddl' in p && 'databaseName' in p) {
      return { kind: 'skip', reason: 'schema-change' };
    } else if ('ts_ms' in p && Object.keys(p).length === 1) {
      return { kind: 'skip', reason: 'heartbeat' };
    } else if (this.opts.cdcField !== undefined) {
      const raw = getPath(p, this.opts.cdcField);
      const mapped = typeof raw === 'string' ? FLAT_OPS[raw] : undefined;
      if (mapped === undefined) return { kind: 'reject', reason: `unknown op ${JSON.stringify(raw)} in field ${this.opts.cdcField}` };
      op = mapped;
      row = p;
    } else {
      return { kind: 'reject', reason: 'not a Debezium change event (no "op" with "before"/"after", and no cdc field configured)' };
    }
    if (op === 't') {
      return { kind: 'change', op, db, table, row: null, key: [], shape: shape ?? shapeOf([], [], false), tsMs: numOrNull(p.ts_ms) };
    }
    if (row === null || typeof row !== 'object') {
      // A delete whose `before` is null (REPLICA IDENTITY DEFAULT on Postgres): the key alone identifies the row.
      if (op !== 'd') return { kind: 'reject', reason: `op "${op}" without an "after" row` };
      row = null;
    }

    // Key: the Kafka key struct, else configured id columns from the row.
    let keyColumns: readonly string[] = [];
    let key: unknown[] = [];
    if (keyBuf !== null && keyBuf.length > 0) {
      const k = this.decodeKey(topic, keyBuf, exact);
      if (k !== null) {
        keyColumns = k.columns;
        key = k.values;
      }
    }
    if (keyColumns.length === 0) {
      const ids = this.opts.idColumns ?? [];
      if (ids.length === 0 || row === null) return { kind: 'reject', reason: 'record has no key: no Kafka key struct and no id columns configured' };
      keyColumns = ids;
      key = ids.map((c) => row?.[c]);
    }
    if (key.some((v) => v === null || v === undefined)) return { kind: 'reject', reason: `key column is null or missing (${keyColumns.join(', ')})` };

    if (shape === null) shape = this.inferShape(topic, row, keyColumns, value, key, keyBuf);
    else if (shape.keyColumns.length === 0 || shape.keyColumns.join('\u0000') !== keyColumns.join('\u0000')) shape = this.withKeys(shape, keyColumns);
    return { kind: 'change', op, db, table, row, key, shape, tsMs: numOrNull(p.ts_ms) };
  }

  private decodeKey(topic: string, keyBuf: Buffer, exact: boolean): { columns: string[]; values: unknown[] } | null {
    const cached = this.keySchemas.get(topic);
    let obj: unknown;
    let columns: string[] | null = null;
    if (isConfluentAvro(keyBuf)) {
      const a = this.avro(keyBuf);
      obj = a.value;
      if (a.connect.type === 'struct' && a.connect.fields !== undefined) columns = a.connect.fields.map((f) => f.field ?? '');
    } else if (cached !== undefined && keyBuf.length > cached.prefix.length + 1 && keyBuf.compare(cached.prefix, 0, cached.prefix.length, 0, cached.prefix.length) === 0) {
      obj = this.parse(keyBuf.toString('utf8', cached.prefix.length, keyBuf.length - 1), exact);
      columns = cached.columns;
    } else {
      const parsed = this.parse(keyBuf.toString('utf8'), exact) as Record<string, unknown> | null;
      if (parsed !== null && typeof parsed === 'object' && 'schema' in parsed && 'payload' in parsed) {
        const schema = parsed.schema as ConnectField | null;
        obj = parsed.payload;
        if (schema !== null && schema.type === 'struct' && schema.fields !== undefined) {
          columns = schema.fields.map((f) => f.field ?? '');
          const prefix = Buffer.from(`{"schema":${JSON.stringify(schema)}${PAYLOAD_TAIL}`);
          if (keyBuf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) this.keySchemas.set(topic, { prefix, columns });
        }
      } else {
        obj = parsed;
      }
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
    const o = obj as Record<string, unknown>;
    const cols = columns ?? Object.keys(o);
    return { columns: cols, values: cols.map((c) => o[c]) };
  }

  /** The shape with its key columns, cached so consumers can bind once per shape (identity), not per record. */
  private withKeys(shape: TableShape, keyColumns: readonly string[]): TableShape {
    const k = keyColumns.join('\u0000');
    const hit = this.keyed.get(shape);
    if (hit !== undefined && hit.keys === k) return hit.shape;
    const out = { ...shape, keyColumns };
    this.keyed.set(shape, { keys: k, shape: out });
    return out;
  }

  private shapeFromSchema(schema: ConnectField): TableShape | null {
    if (schema.type !== 'struct' || schema.fields === undefined) return null;
    const after = schema.fields.find((f) => f.field === 'after') ?? schema.fields.find((f) => f.field === 'before');
    // An envelope has before/after structs; a flattened record is the row struct itself.
    const rowStruct = after !== undefined && after.type === 'struct' ? after : schema.fields.some((f) => f.field === 'op') ? null : schema;
    if (rowStruct === null || rowStruct.fields === undefined) return null;
    const timeAs = this.opts.timeAs;
    const columns = rowStruct.fields.map((f) => mapConnectField(f, timeAs !== undefined ? { timeAs } : {}));
    return shapeOf(columns, [], true);
  }

  /** Schemaless rows: infer column types from values; new columns appear as they are first seen non-null. */
  private inferShape(topic: string, row: Record<string, unknown> | null, keyColumns: readonly string[], raw: Buffer, key: readonly unknown[], rawKey: Buffer | null): TableShape {
    let known = this.inferred.get(topic);
    if (known === undefined) {
      known = new Map();
      this.inferred.set(topic, known);
    }
    if (row !== null) {
      for (const [name, v] of Object.entries(row)) {
        if (known.has(name)) continue;
        const c = inferColumn(name, v, typeof v === 'number' ? numberLiteral(raw, name) : undefined);
        if (c !== null) known.set(name, keyColumns.includes(name) ? { ...c, required: true } : c);
      }
    }
    // A key-only delete (no row) may be the first record of its topic this process sees: the key columns come
    // from the key, so the record still names its key and deletes the row.
    keyColumns.forEach((name, i) => {
      if (known.has(name)) return;
      const v = key[i];
      const c = inferColumn(name, v, typeof v === 'number' && rawKey !== null ? numberLiteral(rawKey, name) : undefined);
      if (c !== null) known.set(name, { ...c, required: true });
    });
    const keys = keyColumns.join('\u0000');
    const hit = this.inferredShapes.get(topic);
    // Same columns and keys as last time: the same shape object (columns are only ever added).
    if (hit !== undefined && hit.size === known.size && hit.keys === keys) return hit.shape;
    const shape = shapeOf([...known.values()], keyColumns, false);
    this.inferredShapes.set(topic, { size: known.size, keys, shape });
    return shape;
  }
}

/**
 * The text of a number field as the producer wrote it ("price":1.0), found in the message (only when a
 * column is first inferred). Undefined when not found, e.g. pretty-printed JSON: then the parsed value decides.
 */
function numberLiteral(raw: Buffer, name: string): string | undefined {
  const needle = `${JSON.stringify(name)}:`;
  const text = raw.toString('utf8');
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at + needle.length, at + needle.length + 40));
    if (m !== null) return m[0];
  }
  return undefined;
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function reasonOf(e: unknown): string {
  if (e instanceof SyntaxError) return `unparseable JSON: ${e.message}`;
  if (e instanceof FloeError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
