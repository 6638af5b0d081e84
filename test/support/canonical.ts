// Canonical JSON lines for comparing floe's tables with what Spark, DuckDB and pyiceberg read (same format as test/harness/readers/canonical.py).
import type { Schema } from '../../src/iceberg/schema.js';
import type { PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const pad = (n: number | bigint, w: number): string => String(n).padStart(w, '0');

/** Python's float repr (json.dumps uses it): shortest round-trip digits, exponent outside [-4, 16). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let s: string;
  if (exp >= -5 + 1 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
      s = `${intPart}.${frac}`;
    } else {
      s = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    s = `${m}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp), 2)}`;
  }
  return neg ? `-${s}` : s;
}

function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const s = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return neg ? `-${s}` : s;
}

function civil(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function timeText(micros: bigint): string {
  const us = micros % 1_000_000n;
  const s = Number(micros / 1_000_000n);
  return `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}.${pad(us, 6)}`;
}

function timestampText(micros: bigint): string {
  const day = micros >= 0n ? micros / 86_400_000_000n : -((-micros + 86_400_000_000n - 1n) / 86_400_000_000n);
  const rest = micros - day * 86_400_000_000n;
  return `${civil(Number(day))}T${timeText(rest)}`;
}

function uuidText(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** One value as canonical JSON text. */
export function canonicalValue(t: PrimitiveType, v: IcebergValue | null): string {
  if (v === null) return 'null';
  switch (t.kind) {
    case 'boolean': return v ? 'true' : 'false';
    case 'int': return String(v);
    case 'long': return (v as bigint).toString();
    case 'float': return pyFloat(Math.fround(v as number));
    case 'double': return pyFloat(v as number);
    case 'decimal': return JSON.stringify(decimalText(v as bigint, t.scale));
    case 'date': return JSON.stringify(civil(v as number));
    case 'time': return JSON.stringify(timeText(v as bigint));
    case 'timestamp': return JSON.stringify(timestampText(v as bigint));
    case 'timestamptz': return JSON.stringify(`${timestampText(v as bigint)}Z`);
    case 'string': return JSON.stringify(v);
    case 'uuid': return JSON.stringify(uuidText(v as Uint8Array));
    case 'fixed': case 'binary': return JSON.stringify(hex(v as Uint8Array));
    default: return JSON.stringify(String(v));
  }
}

/** A row as one canonical JSON line (keys sorted), restricted to `columns` if given. */
export function canonicalRow(schema: Schema, row: Readonly<Record<string, IcebergValue | null>>, columns?: readonly string[]): string {
  const names = (columns ?? schema.fields.map((f) => f.name)).slice().sort();
  const parts = names.map((n) => {
    const f = schema.findField(n);
    if (f === undefined) throw new Error(`no column ${n}`);
    return `${JSON.stringify(n)}:${canonicalValue(f.type as PrimitiveType, row[n] ?? null)}`;
  });
  return `{${parts.join(',')}}`;
}

export function canonicalRows(schema: Schema, rows: readonly Readonly<Record<string, IcebergValue | null>>[], columns?: readonly string[]): string[] {
  return rows.map((r) => canonicalRow(schema, r, columns)).sort();
}
