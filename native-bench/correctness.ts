/**
 * The comparison's correctness check: a system's final table against the source state, every row and every column.
 * Systems store the same source column differently (a Connect decimal as decimal or as its bytes, a Debezium
 * timestamp as timestamp, timestamptz, long or ISO text), so both sides are brought to one representation per
 * source column kind before they are compared; anything that does not convert compares unequal.
 */
import type { WorkloadTable } from './workload.js';

export type Kind = { kind: 'int' | 'float' | 'bool' | 'string' | 'micros' } | { kind: 'decimal'; scale: number };

export function kindOf(connect: Record<string, unknown>): Kind {
  const name = connect.name as string | undefined;
  if (name === 'org.apache.kafka.connect.data.Decimal') return { kind: 'decimal', scale: Number((connect.parameters as Record<string, string>).scale) };
  if (name === 'io.debezium.time.MicroTimestamp' || name === 'io.debezium.time.ZonedTimestamp') return { kind: 'micros' };
  const type = connect.type as string;
  if (type === 'int64' || type === 'int32' || type === 'int16' || type === 'int8') return { kind: 'int' };
  if (type === 'double' || type === 'float' || type === 'float64' || type === 'float32') return { kind: 'float' };
  if (type === 'boolean') return { kind: 'bool' };
  return { kind: 'string' };
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/;

/** ISO-8601 text (UTC or with an offset) → microseconds since the epoch. */
export function isoMicros(s: string): bigint | null {
  const m = ISO.exec(s);
  if (m === null) return null;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(-2));
    ms -= sign * (hh * 60 + mm) * 60_000;
  }
  return BigInt(ms) * 1000n + BigInt((frac ?? '').padEnd(6, '0').slice(0, 6));
}

/** Big-endian two's-complement bytes (hex, as the readers print binary) → integer: a decimal stored as binary. */
export function twosComplementHex(hex: string): bigint {
  if (hex === '') return 0n;
  const n = BigInt(`0x${hex}`);
  const bits = BigInt(hex.length * 4);
  return parseInt(hex[0] ?? '0', 16) >= 8 ? n - (1n << bits) : n;
}

/** A value in one representation every system can be compared in: the expected file's, or a reader's. */
export function normalize(k: Kind, v: unknown, storedAs: string | undefined): string {
  try {
    return normalizeOrThrow(k, v, storedAs);
  } catch (e) {
    if (!(e instanceof SyntaxError || e instanceof RangeError || e instanceof TypeError)) throw e;
    return `unconvertible:${JSON.stringify(v)}`; // compares unequal to any source value
  }
}

function normalizeOrThrow(k: Kind, v: unknown, storedAs: string | undefined): string {
  if (v === null || v === undefined) return 'null';
  switch (k.kind) {
    case 'int':
      return BigInt(v as string | number).toString();
    case 'float':
      return String(Number(v));
    case 'bool':
      return String(v === true || v === 'true');
    case 'string':
      return String(v);
    case 'micros': {
      if (typeof v === 'number') return String(BigInt(v));
      const s = String(v);
      if (/^-?\d+$/.test(s)) return s;
      return isoMicros(s)?.toString() ?? `unparsed:${s}`;
    }
    case 'decimal': {
      if (typeof v === 'number') return String(BigInt(Math.round(v * 10 ** k.scale)));
      const s = String(v);
      if (storedAs === 'binary' || storedAs === 'bytes') return twosComplementHex(s).toString();
      if (s.includes('.')) {
        const [i = '0', f = ''] = s.split('.');
        return BigInt(`${i}${f.padEnd(k.scale, '0').slice(0, k.scale)}`).toString();
      }
      return BigInt(s).toString(); // the expected file's unscaled integer
    }
  }
}

export interface TableDiff {
  /** Source rows with no row of their key in the table. */
  missing: number;
  /** Rows whose key the source does not have, and second rows of one key. */
  extra: number;
  /** Rows of a source key with some column different. */
  wrong: number;
  /** The first difference, for the report. */
  example: string;
}

/**
 * Compares the expected rows (the workload's JSON lines) with the rows a reader returned (canonical JSON lines);
 * `storedAs` names a column's type in the system's table when it is not the natural one (`binary` decimals).
 */
export function compareTable(t: WorkloadTable, expectedLines: readonly string[], gotLines: readonly string[], storedAs: Readonly<Record<string, string>>): TableDiff {
  const kinds = new Map(t.columns.map((c) => [c.name, kindOf(c.connect)]));
  const key = (row: Record<string, unknown>, stored: boolean): string => t.key.map((k) => normalize(kinds.get(k) as Kind, row[k], stored ? storedAs[k] : undefined)).join('|');
  const want = new Map<string, Record<string, unknown>>();
  for (const line of expectedLines) {
    const row = JSON.parse(line) as Record<string, unknown>;
    want.set(key(row, false), row);
  }
  const d: TableDiff = { missing: want.size, extra: 0, wrong: 0, example: '' };
  const seen = new Set<string>();
  for (const line of gotLines) {
    const row = JSON.parse(line) as Record<string, unknown>;
    const k = key(row, true);
    const w0 = want.get(k);
    if (w0 === undefined || seen.has(k)) {
      d.extra++;
      continue;
    }
    seen.add(k);
    d.missing--;
    for (const c of t.columns) {
      const kind = kinds.get(c.name) as Kind;
      const a = normalize(kind, row[c.name], storedAs[c.name]);
      const e = normalize(kind, w0[c.name], undefined);
      if (a !== e) {
        d.wrong++;
        if (d.example === '') d.example = `${c.name} of key ${k}: got ${a}, want ${e}`;
        break;
      }
    }
  }
  return d;
}
