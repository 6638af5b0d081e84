/**
 * Byte-exact writers for the pieces of a Kafka record key as Kafka Connect's converters serialize them:
 * JSON text as Jackson's UTF8JsonGenerator writes it (what JsonConverter uses), Avro binary as Confluent's
 * AvroConverter writes it. One reusable growable buffer per writer: serializing a key allocates no buffer.
 */
import { assert } from '../errors.js';

const BUFFER_BYTES_INITIAL = 256;
/** Worst case UTF-8 growth of one UTF-16 code unit through Jackson's escaping: `\u001F` or `\uD83D` (6 bytes). */
const JSON_BYTES_PER_UNIT_MAX = 6;
/** A varint of a 64-bit value takes at most 10 bytes. */
const VARINT_BYTES_MAX = 10;

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1');
const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const BASE64_PAD = 0x3d;

/**
 * Jackson's output escapes for ASCII (com.fasterxml.jackson.core.io.CharTypes.sOutputEscapes128): controls
 * 0x00-0x1F as `\u00XX` (uppercase hex) except the short forms \b \t \n \f \r; `"` and `\` backslashed;
 * `/` and DEL left alone. 0 = written as is, -1 = generic `\u00XX`, other = the letter after the backslash.
 */
const JSON_ESCAPES: Int8Array = (() => {
  const t = new Int8Array(128);
  for (let i = 0; i < 0x20; i++) t[i] = -1;
  t[0x08] = 0x62; // b
  t[0x09] = 0x74; // t
  t[0x0c] = 0x66; // f
  t[0x0a] = 0x6e; // n
  t[0x0d] = 0x72; // r
  t[QUOTE] = QUOTE;
  t[BACKSLASH] = BACKSLASH;
  return t;
})();

/** Any code unit Jackson escapes: ASCII controls, `"`, `\`, and UTF-16 surrogates (see writeJsonString). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A byte buffer that grows by doubling and is reused from one key to the next. */
export class ByteSink {
  buf: Buffer = Buffer.allocUnsafe(BUFFER_BYTES_INITIAL);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** ASCII text (digits, literals). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** The written bytes (a view: valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Whether the written bytes equal `other[from..]` exactly (to its end). */
  equalsTail(other: Uint8Array, from: number): boolean {
    if (other.length - from !== this.pos) return false;
    return this.buf.compare(other, from, other.length, 0, this.pos) === 0;
  }
}

function hexEscape(out: ByteSink, unit: number): void {
  const b = out.buf;
  let p = out.pos;
  b[p++] = BACKSLASH;
  b[p++] = 0x75; // u
  b[p++] = HEX_UPPER[(unit >> 12) & 0xf] as number;
  b[p++] = HEX_UPPER[(unit >> 8) & 0xf] as number;
  b[p++] = HEX_UPPER[(unit >> 4) & 0xf] as number;
  b[p++] = HEX_UPPER[unit & 0xf] as number;
  out.pos = p;
}

/**
 * A JSON string literal as Jackson 2.x's UTF8JsonGenerator writes it with default features: ASCII escapes as
 * in JSON_ESCAPES; other BMP characters as raw UTF-8; each UTF-16 surrogate as its own `\uXXXX` escape
 * (`_outputMultiByteChar`: "outside of BMP; add an escape"), so U+1F600 becomes `\uD83D\uDE00`. (Jackson 2.18
 * added JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8, off by default.)
 */
export function writeJsonString(out: ByteSink, s: string): void {
  out.ensure(s.length * JSON_BYTES_PER_UNIT_MAX + 2);
  out.buf[out.pos++] = QUOTE;
  if (!NEEDS_ESCAPE.test(s)) {
    out.pos += out.buf.write(s, out.pos, 'utf8');
  } else {
    let runStart = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const esc = c < 0x80 ? (JSON_ESCAPES[c] as number) : c >= 0xd800 && c <= 0xdfff ? -1 : 0;
      if (esc === 0) continue;
      if (i > runStart) out.pos += out.buf.write(s.slice(runStart, i), out.pos, 'utf8');
      runStart = i + 1;
      if (esc === -1) hexEscape(out, c);
      else {
        out.buf[out.pos++] = BACKSLASH;
        out.buf[out.pos++] = esc;
      }
    }
    if (runStart < s.length) out.pos += out.buf.write(s.slice(runStart), out.pos, 'utf8');
  }
  out.buf[out.pos++] = QUOTE;
}

/** Standard base64 with padding, quoted: Jackson writes byte[] with Base64Variants.MIME_NO_LINEFEEDS. */
export function writeJsonBase64(out: ByteSink, data: Uint8Array): void {
  out.ensure(Math.ceil(data.length / 3) * 4 + 2);
  const b = out.buf;
  let p = out.pos;
  b[p++] = QUOTE;
  const whole = data.length - (data.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
    b[p++] = BASE64[n >>> 18] as number;
    b[p++] = BASE64[(n >>> 12) & 63] as number;
    b[p++] = BASE64[(n >>> 6) & 63] as number;
    b[p++] = BASE64[n & 63] as number;
  }
  const rest = data.length - whole;
  if (rest > 0) {
    const n = ((data[whole] as number) << 16) | (rest === 2 ? (data[whole + 1] as number) << 8 : 0);
    b[p++] = BASE64[n >>> 18] as number;
    b[p++] = BASE64[(n >>> 12) & 63] as number;
    b[p++] = rest === 2 ? (BASE64[(n >>> 6) & 63] as number) : BASE64_PAD;
    b[p++] = BASE64_PAD;
  }
  b[p++] = QUOTE;
  out.pos = p;
}

/** Avro's variable-length zig-zag int (spec: "int and long values are written using variable-length zig-zag coding"). */
export function writeAvroInt(out: ByteSink, v: number): void {
  out.ensure(VARINT_BYTES_MAX);
  let zz = ((v << 1) ^ (v >> 31)) >>> 0;
  while (zz > 0x7f) {
    out.buf[out.pos++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  out.buf[out.pos++] = zz;
}

const LONG_BITS = 64n;

/** Avro long: zig-zag `(n << 1) ^ (n >> 63)` as an unsigned 64-bit varint. */
export function writeAvroLong(out: ByteSink, v: bigint): void {
  out.ensure(VARINT_BYTES_MAX);
  if (v >= -0x8000000n && v <= 0x7ffffffn) {
    writeAvroInt(out, Number(v));
    return;
  }
  let zz = BigInt.asUintN(64, (v << 1n) ^ (v >> (LONG_BITS - 1n)));
  while (zz > 0x7fn) {
    out.buf[out.pos++] = Number(zz & 0x7fn) | 0x80;
    zz >>= 7n;
  }
  out.buf[out.pos++] = Number(zz);
}

/** Avro string: long length in UTF-8 bytes, then the bytes. */
export function writeAvroString(out: ByteSink, s: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  writeAvroInt(out, n);
  out.ensure(n);
  out.pos += out.buf.write(s, out.pos, 'utf8');
}

/** Avro bytes: long length, then the bytes. */
export function writeAvroBytes(out: ByteSink, b: Uint8Array): void {
  writeAvroInt(out, b.length);
  out.bytes(b);
}

/**
 * java.math.BigInteger.toByteArray(): the minimal big-endian two's complement bytes, at least one
 * (0 → [0x00], 128 → [0x00, 0x80], -1 → [0xff]). Connect's Decimal.fromLogical writes
 * `value.unscaledValue().toByteArray()`, for JsonConverter (base64) and AvroData (Avro bytes) alike.
 */
export function bigIntegerBytes(v: bigint, into: ByteSink): Uint8Array {
  // bitLength() excludes the sign bit; negative numbers count the bits of their one's complement.
  const mag = v < 0n ? -v - 1n : v;
  const bitLength = mag === 0n ? 0 : mag.toString(2).length;
  const n = (bitLength >> 3) + 1;
  into.reset();
  into.ensure(n);
  let x = BigInt.asUintN(n * 8, v);
  for (let i = n - 1; i >= 0; i--) {
    into.buf[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  into.pos = n;
  assert(x === 0n, 'two\'s complement bytes cover the value', { v: v.toString() });
  return into.view();
}

/** Lone UTF-16 surrogates, which Java's UTF-8 encoder (Avro's Utf8) turns into '?': not reproducible. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
