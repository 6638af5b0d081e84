/**
 * Columnar builders that fill Arrow buffers (typed arrays + validity bitmap) directly and track the column
 * metrics Iceberg wants (null/NaN counts, lower/upper bounds) while appending. Building typed arrays by hand is
 * ~10x faster than Arrow's generic builders (field notes: 0.88 vs 10.5 µs per row).
 */
import * as arrow from 'apache-arrow';
import { FloeError, assert } from '../errors.js';
import type { PrimitiveType } from '../iceberg/types.js';
import { compareValues, type IcebergValue } from '../iceberg/values.js';
import { arrowTypeFor } from './arrow-schema.js';

const CAPACITY_START = 1024;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;



export interface ColumnStats {
  readonly nullCount: number;
  readonly nanCount: number;
  readonly lower: IcebergValue | null;
  readonly upper: IcebergValue | null;
}

type Fixed = Int32Array | Float32Array | Float64Array | BigInt64Array | Uint32Array | Uint8Array;

export class ColumnBuilder {
  readonly type: PrimitiveType;
  readonly name: string;
  length = 0;
  nullCount = 0;
  nanCount = 0;
  lower: IcebergValue | null = null;
  upper: IcebergValue | null = null;
  private validity: Uint8Array;
  private values: Fixed;
  /** Bytes per value for fixed-width binary (uuid, fixed), 4 words for decimal, 0 for variable width. */
  private readonly stride: number;
  private offsets: Int32Array | null = null;
  /** Variable-width bytes; a Buffer so strings are UTF-8 encoded in place (`buf.write`), with no temporary. */
  private bytes: Buffer | null = null;
  /** Int64 view of decimal words: decimals that fit 64 bits are stored with two typed-array writes. */
  private values64: BigInt64Array | null = null;
  private bytesLength = 0;

  constructor(name: string, type: PrimitiveType, capacity = CAPACITY_START) {
    this.name = name;
    this.type = type;
    this.validity = new Uint8Array(Math.ceil(capacity / 8));
    switch (type.kind) {
      case 'boolean': this.stride = 1; this.values = new Uint8Array(Math.ceil(capacity / 8)); break;
      case 'int': case 'date': this.stride = 1; this.values = new Int32Array(capacity); break;
      case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
        this.stride = 1; this.values = new BigInt64Array(capacity); break;
      case 'float': this.stride = 1; this.values = new Float32Array(capacity); break;
      case 'double': this.stride = 1; this.values = new Float64Array(capacity); break;
      case 'decimal': this.stride = 4; this.values = new Uint32Array(capacity * 4); break;
      case 'uuid': this.stride = 16; this.values = new Uint8Array(capacity * 16); break;
      case 'fixed': this.stride = type.length; this.values = new Uint8Array(capacity * type.length); break;
      case 'string': case 'binary':
        this.stride = 0;
        this.values = new Uint8Array(0);
        this.offsets = new Int32Array(capacity + 1);
        this.bytes = Buffer.allocUnsafe(capacity * 16);
        break;
    }
  }

  /** Approximate bytes held, for memory accounting and file rolling. */
  get byteSize(): number {
    return this.validity.byteLength + this.values.byteLength + (this.offsets?.byteLength ?? 0) + this.bytesLength;
  }

  private capacity(): number {
    return this.offsets !== null ? this.offsets.length - 1 : this.type.kind === 'boolean' ? this.values.length * 8 : this.values.length / this.stride;
  }

  private grow(): void {
    const cap = this.capacity() * 2;
    const v = new Uint8Array(Math.ceil(cap / 8));
    v.set(this.validity);
    this.validity = v;
    if (this.offsets !== null) {
      const o = new Int32Array(cap + 1);
      o.set(this.offsets);
      this.offsets = o;
      return;
    }
    const size = this.type.kind === 'boolean' ? Math.ceil(cap / 8) : cap * this.stride;
    const ctor = this.values.constructor as new (n: number) => Fixed;
    const next = new ctor(size);
    (next as Uint8Array).set(this.values as Uint8Array);
    this.values = next;
  }

  private ensureBytes(extra: number): void {
    const b = this.bytes as Buffer;
    if (this.bytesLength + extra <= b.length) return;
    let size = b.length * 2;
    while (size < this.bytesLength + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    b.copy(next, 0, 0, this.bytesLength);
    this.bytes = next;
  }

  appendNull(): void {
    if (this.length === this.capacity()) this.grow();
    if (this.offsets !== null) this.offsets[this.length + 1] = this.bytesLength;
    this.length++;
    this.nullCount++;
  }

  append(v: IcebergValue | null | undefined): void {
    if (v === null || v === undefined) {
      this.appendNull();
      return;
    }
    if (this.length === this.capacity()) this.grow();
    const i = this.length;
    const t = this.type;
    switch (t.kind) {
      case 'boolean': {
        if (typeof v !== 'boolean') this.bad(v);
        if (v) (this.values as Uint8Array)[i >> 3] = ((this.values as Uint8Array)[i >> 3] as number) | (1 << (i & 7));
        this.track(v);
        break;
      }
      case 'int': case 'date': {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) this.bad(v);
        (this.values as Int32Array)[i] = v;
        this.trackNum(v);
        break;
      }
      case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns': {
        if (typeof v !== 'bigint') this.bad(v);
        if (BigInt.asIntN(64, v) !== v) this.bad(v);
        (this.values as BigInt64Array)[i] = v;
        this.trackBig(v);
        break;
      }
      case 'float': case 'double': {
        if (typeof v !== 'number') this.bad(v);
        const n = t.kind === 'float' ? Math.fround(v) : (v);
        (this.values as Float32Array | Float64Array)[i] = n;
        if (Number.isNaN(n)) this.nanCount++;
        else this.trackNum(n);
        break;
      }
      case 'decimal': {
        if (typeof v !== 'bigint') this.bad(v);
        const limit = 10n ** BigInt(t.precision);
        if (v >= limit || v <= -limit) {
          throw new FloeError('value_invalid', `column "${this.name}": unscaled value ${String(v)} does not fit decimal(${t.precision}, ${t.scale})`, { column: this.name });
        }
        if (v >= INT64_MIN && v <= INT64_MAX) {
          // Little-endian 128-bit two's complement = the int64 value, then its sign extension.
          if (this.values64 === null || this.values64.buffer !== this.values.buffer) this.values64 = new BigInt64Array(this.values.buffer);
          this.values64[i * 2] = v;
          this.values64[i * 2 + 1] = v < 0n ? -1n : 0n;
        } else {
          let u = BigInt.asUintN(128, v);
          const w = this.values as Uint32Array;
          for (let k = 0; k < 4; k++) {
            w[i * 4 + k] = Number(u & 0xffffffffn);
            u >>= 32n;
          }
        }
        this.trackBig(v);
        break;
      }
      case 'uuid': case 'fixed': {
        if (!(v instanceof Uint8Array) || v.length !== this.stride) this.bad(v);
        (this.values as Uint8Array).set(v, i * this.stride);
        this.trackCmp(v);
        break;
      }
      case 'string': {
        if (typeof v !== 'string') this.bad(v);
        // UTF-8 needs at most 3 bytes per UTF-16 unit.
        this.ensureBytes(v.length * 3);
        this.bytesLength += (this.bytes as Buffer).write(v, this.bytesLength, 'utf8');
        (this.offsets as Int32Array)[i + 1] = this.bytesLength;
        this.trackCmp(v);
        break;
      }
      case 'binary': {
        if (!(v instanceof Uint8Array)) this.bad(v);
        this.ensureBytes(v.length);
        (this.bytes as Buffer).set(v, this.bytesLength);
        this.bytesLength += v.length;
        (this.offsets as Int32Array)[i + 1] = this.bytesLength;
        this.trackCmp(v);
        break;
      }
    }
    this.validity[i >> 3] = (this.validity[i >> 3] as number) | (1 << (i & 7));
    this.length++;
  }

  /**
   * Removes the last appended value (a row whose later column failed must not leave this column longer).
   * Bounds stay as they are: possibly wider than the data, which is still correct for pruning.
   */
  popLast(): void {
    assert(this.length > 0, 'popLast on an empty column');
    const i = this.length - 1;
    const valid = (((this.validity[i >> 3] as number) >> (i & 7)) & 1) === 1;
    if (!valid) this.nullCount--;
    else if ((this.type.kind === 'float' || this.type.kind === 'double') && Number.isNaN((this.values as Float64Array)[i])) this.nanCount--;
    this.validity[i >> 3] = (this.validity[i >> 3] as number) & ~(1 << (i & 7));
    if (this.type.kind === 'boolean') (this.values as Uint8Array)[i >> 3] = ((this.values as Uint8Array)[i >> 3] as number) & ~(1 << (i & 7));
    if (this.offsets !== null) this.bytesLength = this.offsets[i] as number;
    this.length = i;
  }

  private bad(v: unknown): never {
    const shown = typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes[${v.length}]` : JSON.stringify(v);
    throw new FloeError('value_invalid', `column "${this.name}" (${this.type.kind}) cannot hold ${shown}`, { column: this.name });
  }

  private track(v: boolean): void {
    if (this.lower === null || (this.lower === true && !v)) this.lower = v;
    if (this.upper === null || (this.upper === false && v)) this.upper = v;
  }
  private trackNum(n: number): void {
    // -0 orders below 0 (as Java's Double.compare does), so bounds stay valid for readers that use it.
    const lo = this.lower as number | null;
    const hi = this.upper as number | null;
    if (lo === null || n < lo || (n === 0 && lo === 0 && Object.is(n, -0))) this.lower = n;
    if (hi === null || n > hi || (n === 0 && hi === 0 && Object.is(hi, -0))) this.upper = n;
  }
  private trackBig(n: bigint): void {
    if (this.lower === null || n < (this.lower as bigint)) this.lower = n;
    if (this.upper === null || n > (this.upper as bigint)) this.upper = n;
  }
  private trackCmp(v: IcebergValue): void {
    if (this.lower === null || compareValues(this.type, v, this.lower) < 0) this.lower = v;
    if (this.upper === null || compareValues(this.type, v, this.upper) > 0) this.upper = v;
  }

  stats(): ColumnStats {
    return { nullCount: this.nullCount, nanCount: this.nanCount, lower: this.lower, upper: this.upper };
  }

  /** Arrow data for the values appended so far (buffers are trimmed copies; the builder can be reset after). */
  finish(): arrow.Data {
    const n = this.length;
    const type = arrowTypeFor(this.type);
    const nullBitmap = this.nullCount > 0 ? this.validity.slice(0, Math.ceil(n / 8)) : undefined;
    if (this.offsets !== null) {
      const bytes = (this.bytes as Uint8Array).slice(0, this.bytesLength);
      const valueOffsets = this.offsets.slice(0, n + 1);
      return arrow.makeData({ type: type as arrow.Utf8, length: n, nullCount: this.nullCount, nullBitmap, valueOffsets, data: bytes });
    }
    const valuesLen = this.type.kind === 'boolean' ? Math.ceil(n / 8) : n * this.stride;
    const data = this.values.slice(0, valuesLen);
    return arrow.makeData({ type: type as arrow.Int32, length: n, nullCount: this.nullCount, nullBitmap, data: data as Int32Array });
  }

  /** Reads value i back as an Iceberg value (used by fan-out, delete bookkeeping and tests). */
  get(i: number): IcebergValue | null {
    assert(i >= 0 && i < this.length, 'column read out of range', { i, length: this.length });
    if ((((this.validity[i >> 3] as number) >> (i & 7)) & 1) === 0) return null;
    switch (this.type.kind) {
      case 'boolean': return ((((this.values as Uint8Array)[i >> 3] as number) >> (i & 7)) & 1) === 1;
      case 'int': case 'date': return (this.values as Int32Array)[i] as number;
      case 'float': case 'double': return (this.values as Float64Array)[i] as number;
      case 'decimal': {
        const w = this.values as Uint32Array;
        let u = 0n;
        for (let k = 3; k >= 0; k--) u = (u << 32n) | BigInt(w[i * 4 + k] as number);
        return BigInt.asIntN(128, u);
      }
      case 'uuid': case 'fixed': return (this.values as Uint8Array).slice(i * this.stride, (i + 1) * this.stride);
      case 'string': case 'binary': {
        const o = this.offsets as Int32Array;
        const b = (this.bytes as Uint8Array).subarray(o[i], o[i + 1]);
        return this.type.kind === 'string' ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : b.slice();
      }
      default: return (this.values as BigInt64Array)[i] as bigint;
    }
  }
}

/** Iceberg value of row `i` of an Arrow vector of the matching type (input path for Arrow record batches). */
export function arrowValue(t: PrimitiveType, vec: arrow.Vector, i: number): IcebergValue | null {
  if (!vec.isValid(i)) return null;
  // Locate the chunk holding row i: files with several row groups decode to multi-chunk vectors.
  let data = vec.data[0];
  let local = i;
  if (vec.data.length !== 1) {
    for (const d of vec.data) {
      if (local < d.length) {
        data = d;
        break;
      }
      local -= d.length;
    }
  }
  if (data === undefined) return null;
  const j = data.offset + local;
  switch (t.kind) {
    case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
      return (data.values as BigInt64Array)[j] as bigint;
    case 'decimal': {
      const w = data.values as Uint32Array;
      let u = 0n;
      for (let k = 3; k >= 0; k--) u = (u << 32n) | BigInt(w[j * 4 + k] as number);
      return BigInt.asIntN(128, u);
    }
    case 'int': case 'date': return (data.values as Int32Array)[j] as number;
    default: return fromArrowGet(t, vec.get(i));
  }
}

function fromArrowGet(t: PrimitiveType, v: unknown): IcebergValue | null {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'boolean': case 'int': case 'float': case 'double': case 'string': return v as IcebergValue;
    case 'date': return typeof v === 'number' ? Math.floor(v / 86_400_000) : Number(v);
    case 'uuid': case 'fixed': case 'binary': return v as Uint8Array;
    case 'decimal': {
      const w = v as Uint32Array;
      let u = 0n;
      for (let k = 3; k >= 0; k--) u = (u << 32n) | BigInt(w[k] as number);
      return BigInt.asIntN(128, u);
    }
  }
}
