/**
 * A small Avro implementation (spec 1.11: binary encoding + object container files) for Iceberg manifests
 * and manifest lists. Written in-house because Iceberg needs (a) 64-bit longs as bigint and (b) the writer
 * schema stored in the file header *with* custom attributes (`field-id`, `element-id`, `logicalType: map`),
 * which general libraries drop.
 *
 * Container layout: "Obj" 0x01 | meta: map<bytes> (avro.schema, avro.codec, ...) | 16-byte sync marker |
 * blocks of (long count, long byteSize, data, sync).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { FloeError } from '../errors.js';

export type AvroSchema =
  | 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'
  | AvroRecord | AvroArray | AvroMap | AvroFixed | AvroEnum | AvroSchema[]
  | { readonly type: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'; readonly [k: string]: unknown };

export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly default?: unknown;
  readonly doc?: string;
  readonly 'field-id'?: number;
}
export interface AvroRecord { readonly type: 'record'; readonly name: string; readonly fields: readonly AvroField[]; readonly [k: string]: unknown }
export interface AvroArray { readonly type: 'array'; readonly items: AvroSchema; readonly [k: string]: unknown }
export interface AvroMap { readonly type: 'map'; readonly values: AvroSchema; readonly [k: string]: unknown }
export interface AvroFixed { readonly type: 'fixed'; readonly name: string; readonly size: number; readonly [k: string]: unknown }
export interface AvroEnum { readonly type: 'enum'; readonly name: string; readonly symbols: readonly string[]; readonly [k: string]: unknown }

export type AvroValue = null | boolean | number | bigint | string | Uint8Array | AvroValue[] | { [k: string]: AvroValue };

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const SYNC_BYTES = 16;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Rows per container block; Java's default block size is similar in spirit (bounded memory per block). */
const BLOCK_ROWS_MAX = 4096;

/** Growable output buffer. */
export class AvroWriter {
  private buf: Buffer;
  private pos = 0;
  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  get length(): number { return this.pos; }
  reset(): void { this.pos = 0; }
  bytes(): Buffer { return this.buf.subarray(0, this.pos); }
  writeLong(v: bigint | number): void {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new FloeError('value_invalid', `Avro long must be an integer, got ${v}`);
    const b = BigInt(v);
    if (b < LONG_MIN || b > LONG_MAX) throw new FloeError('value_invalid', `Avro long out of range: ${b}`);
    // zig-zag, then base-128 varint
    let n = BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
    this.ensure(10);
    while (n >= 0x80n) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }
  writeInt(v: number): void {
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new FloeError('value_invalid', `Avro int out of range: ${v}`);
    let n = ((v << 1) ^ (v >> 31)) >>> 0;
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }
  writeBoolean(v: boolean): void { this.ensure(1); this.buf[this.pos++] = v ? 1 : 0; }
  writeFloat(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.pos); this.pos += 4; }
  writeDouble(v: number): void { this.ensure(8); this.buf.writeDoubleLE(v, this.pos); this.pos += 8; }
  writeRaw(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  writeBytes(b: Uint8Array): void { this.writeLong(b.length); this.writeRaw(b); }
  writeString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.writeLong(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
  }
}

export class AvroReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new FloeError('metadata_invalid', 'Avro data ends early (truncated file?)');
  }
  readLong(): bigint {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++] as number;
      n |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new FloeError('metadata_invalid', 'Avro varint too long');
    }
    return (n >> 1n) ^ -(n & 1n);
  }
  readInt(): number {
    return Number(this.readLong());
  }
  readBoolean(): boolean { this.need(1); return this.buf[this.pos++] === 1; }
  readFloat(): number { this.need(4); const v = this.buf.readFloatLE(this.pos); this.pos += 4; return v; }
  readDouble(): number { this.need(8); const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
  readFixed(n: number): Uint8Array { this.need(n); const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return new Uint8Array(v); }
  readBytes(): Uint8Array { return this.readFixed(Number(this.readLong())); }
  readString(): string { const n = Number(this.readLong()); this.need(n); const s = this.buf.toString('utf8', this.pos, this.pos + n); this.pos += n; return s; }
}

function typeName(s: AvroSchema): string {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) return 'union';
  return (s as { type: string }).type;
}

/** Resolves named-type references inside one schema (Iceberg schemas use no references, but be safe). */
function unionBranch(branches: readonly AvroSchema[], v: AvroValue): number {
  for (let i = 0; i < branches.length; i++) {
    const b = branches[i] as AvroSchema;
    if (matches(b, v)) return i;
  }
  throw new FloeError('value_invalid', `value ${describe(v)} matches no branch of union [${branches.map(typeName).join(', ')}]`);
}

function matches(s: AvroSchema, v: AvroValue): boolean {
  switch (typeName(s)) {
    case 'null': return v === null || v === undefined;
    case 'boolean': return typeof v === 'boolean';
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'long': return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
    case 'float': case 'double': return typeof v === 'number';
    case 'bytes': case 'fixed': return v instanceof Uint8Array;
    case 'string': case 'enum': return typeof v === 'string';
    case 'array': return Array.isArray(v);
    case 'map': case 'record': return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
    default: return false;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

export function encodeValue(s: AvroSchema, v: AvroValue | undefined, w: AvroWriter, path = ''): void {
  const value = v === undefined ? null : v;
  if (Array.isArray(s)) {
    const i = unionBranch(s, value);
    w.writeLong(i);
    encodeValue(s[i] as AvroSchema, value, w, path);
    return;
  }
  const t = typeName(s);
  const bad = (): never => { throw new FloeError('value_invalid', `Avro ${t} at "${path}" cannot hold ${describe(value)}`, { path }); };
  switch (t) {
    case 'null': if (value !== null) bad(); return;
    case 'boolean': if (typeof value !== 'boolean') bad(); w.writeBoolean(value as boolean); return;
    case 'int': if (typeof value !== 'number') bad(); w.writeInt(value as number); return;
    case 'long': if (typeof value !== 'bigint' && typeof value !== 'number') bad(); w.writeLong(value as bigint | number); return;
    case 'float': if (typeof value !== 'number') bad(); w.writeFloat(value as number); return;
    case 'double': if (typeof value !== 'number') bad(); w.writeDouble(value as number); return;
    case 'bytes': if (!(value instanceof Uint8Array)) bad(); w.writeBytes(value as Uint8Array); return;
    case 'string': if (typeof value !== 'string') bad(); w.writeString(value as string); return;
    case 'fixed': {
      const f = s as AvroFixed;
      if (!(value instanceof Uint8Array) || value.length !== f.size) bad();
      w.writeRaw(value as Uint8Array);
      return;
    }
    case 'enum': {
      const e = s as AvroEnum;
      const idx = e.symbols.indexOf(value as string);
      if (idx < 0) bad();
      w.writeInt(idx);
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) bad();
      const arr = value as AvroValue[];
      if (arr.length > 0) {
        w.writeLong(arr.length);
        for (let i = 0; i < arr.length; i++) encodeValue((s as AvroArray).items, arr[i], w, `${path}[${i}]`);
      }
      w.writeLong(0);
      return;
    }
    case 'map': {
      if (!matches(s, value)) bad();
      const entries = Object.entries(value as Record<string, AvroValue>);
      if (entries.length > 0) {
        w.writeLong(entries.length);
        for (const [k, x] of entries) { w.writeString(k); encodeValue((s as AvroMap).values, x, w, `${path}.${k}`); }
      }
      w.writeLong(0);
      return;
    }
    case 'record': {
      if (!matches(s, value)) bad();
      const obj = value as Record<string, AvroValue>;
      for (const f of (s as AvroRecord).fields) encodeValue(f.type, obj[f.name], w, path === '' ? f.name : `${path}.${f.name}`);
      return;
    }
    default:
      throw new FloeError('schema_invalid', `unsupported Avro type "${t}" at "${path}"`);
  }
}

export function decodeValue(s: AvroSchema, r: AvroReader): AvroValue {
  if (Array.isArray(s)) {
    const i = Number(r.readLong());
    const b = s[i];
    if (b === undefined) throw new FloeError('metadata_invalid', `Avro union index ${i} out of range`);
    return decodeValue(b, r);
  }
  switch (typeName(s)) {
    case 'null': return null;
    case 'boolean': return r.readBoolean();
    case 'int': return r.readInt();
    case 'long': return r.readLong();
    case 'float': return r.readFloat();
    case 'double': return r.readDouble();
    case 'bytes': return r.readBytes();
    case 'string': return r.readString();
    case 'fixed': return r.readFixed((s as AvroFixed).size);
    case 'enum': {
      const sym = (s as AvroEnum).symbols[r.readInt()];
      if (sym === undefined) throw new FloeError('metadata_invalid', 'Avro enum index out of range');
      return sym;
    }
    case 'array': {
      const out: AvroValue[] = [];
      for (;;) {
        let n = Number(r.readLong());
        if (n === 0) break;
        if (n < 0) { n = -n; r.readLong(); }
        for (let i = 0; i < n; i++) out.push(decodeValue((s as AvroArray).items, r));
      }
      return out;
    }
    case 'map': {
      const out: Record<string, AvroValue> = {};
      for (;;) {
        let n = Number(r.readLong());
        if (n === 0) break;
        if (n < 0) { n = -n; r.readLong(); }
        for (let i = 0; i < n; i++) { const k = r.readString(); out[k] = decodeValue((s as AvroMap).values, r); }
      }
      return out;
    }
    case 'record': {
      const out: Record<string, AvroValue> = {};
      for (const f of (s as AvroRecord).fields) out[f.name] = decodeValue(f.type, r);
      return out;
    }
    default:
      throw new FloeError('metadata_invalid', `unsupported Avro type "${typeName(s)}"`);
  }
}

/** Writes an Avro object container file with the given schema and string metadata, deflate-compressed. */
export function writeContainer(
  schema: AvroSchema,
  rows: readonly AvroValue[],
  metadata: Readonly<Record<string, string>> = {},
  codec: 'deflate' | 'null' = 'deflate',
): Buffer {
  const out = new AvroWriter();
  out.writeRaw(MAGIC);
  const meta: Record<string, string> = { ...metadata, 'avro.schema': JSON.stringify(schema), 'avro.codec': codec };
  const entries = Object.entries(meta);
  out.writeLong(entries.length);
  for (const [k, v] of entries) { out.writeString(k); out.writeBytes(Buffer.from(v, 'utf8')); }
  out.writeLong(0);
  const sync = randomBytes(SYNC_BYTES);
  out.writeRaw(sync);
  const block = new AvroWriter();
  for (let start = 0; start < rows.length; start += BLOCK_ROWS_MAX) {
    const end = Math.min(rows.length, start + BLOCK_ROWS_MAX);
    block.reset();
    for (let i = start; i < end; i++) encodeValue(schema, rows[i], block);
    const data = codec === 'deflate' ? deflateRawSync(block.bytes()) : block.bytes();
    out.writeLong(end - start);
    out.writeLong(data.length);
    out.writeRaw(data);
    out.writeRaw(sync);
  }
  return Buffer.from(out.bytes());
}

export interface AvroContainer {
  readonly schema: AvroSchema;
  readonly metadata: Readonly<Record<string, string>>;
  readonly rows: AvroValue[];
}

/** Reads a whole Avro object container file (manifests are small: KBs to a few MBs). */
export function readContainer(bytes: Uint8Array, what = 'Avro file'): AvroContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new FloeError('metadata_invalid', `${what} is not an Avro container (bad magic)`);
  const r = new AvroReader(buf);
  r.pos = 4;
  const metaRaw = decodeValue({ type: 'map', values: 'bytes' }, r) as Record<string, Uint8Array>;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(metaRaw)) metadata[k] = Buffer.from(v).toString('utf8');
  const schemaText = metadata['avro.schema'];
  if (schemaText === undefined) throw new FloeError('metadata_invalid', `${what} has no avro.schema`);
  const schema = JSON.parse(schemaText) as AvroSchema;
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new FloeError('metadata_invalid', `${what} uses unsupported Avro codec ${codec}`);
  const sync = r.readFixed(SYNC_BYTES);
  const rows: AvroValue[] = [];
  while (r.pos < buf.length) {
    const count = Number(r.readLong());
    const size = Number(r.readLong());
    const raw = r.readFixed(size);
    const data = codec === 'deflate' ? inflateRawSync(raw) : Buffer.from(raw);
    const br = new AvroReader(data);
    for (let i = 0; i < count; i++) rows.push(decodeValue(schema, br));
    const s = r.readFixed(SYNC_BYTES);
    if (!Buffer.from(s).equals(Buffer.from(sync))) throw new FloeError('metadata_invalid', `${what}: sync marker mismatch`);
  }
  return { schema, metadata, rows };
}
