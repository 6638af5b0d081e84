// MariaDB access for integration tests (the harness's server from `test/harness/mariadb.sh env`): run SQL with the mariadb client, read a table's rows as Iceberg values.
import { spawn } from 'node:child_process';
import type { Schema } from '../../src/iceberg/schema.js';
import type { PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';

export const mariadbPort = process.env.FLOE_MARIADB_PORT;

function clientArgs(): string[] {
  return [
    '--no-defaults', '--protocol=TCP',
    `--host=${process.env.FLOE_MARIADB_HOST ?? '127.0.0.1'}`, `--port=${mariadbPort ?? '3307'}`,
    `--user=${process.env.FLOE_MARIADB_USER ?? 'floe'}`, `--password=${process.env.FLOE_MARIADB_PASSWORD ?? 'floe'}`,
    '--default-character-set=utf8mb4', '--batch', '--raw', '--skip-column-names',
  ];
}

/** Runs an SQL script (statements separated by `;`) with the mariadb client; resolves to its stdout. */
export function sql(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('mariadb', clientArgs(), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`mariadb exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`));
    });
    p.stdin.end(`SET time_zone = '+00:00';\n${script}\n`);
  });
}

/** SQL string literal (backslashes and quotes escaped). */
export function lit(s: string | null): string {
  return s === null ? 'NULL' : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

const MICROS_PER_MS = 1000n;

/** "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) → microseconds since the epoch. */
function micros(text: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})$/.exec(text);
  if (m === null) throw new Error(`unexpected datetime text ${text}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * MICROS_PER_MS + BigInt(m[7] ?? '0');
}

function days(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) throw new Error(`unexpected date text ${text}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
}

function unscaled(text: string, scale: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null || (m[3] ?? '').length !== scale) throw new Error(`unexpected decimal text ${text} for scale ${scale}`);
  const v = BigInt(`${m[2]}${m[3] ?? ''}`);
  return m[1] === '-' ? -v : v;
}

/** Text form MariaDB renders for a column, chosen so that it converts exactly to the Iceberg type. */
function selectExpr(column: string, t: PrimitiveType): string {
  const c = `\`${column}\``;
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz': // TIMESTAMP columns render in the session time zone, +00:00
      return `DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f')`;
    case 'date':
      return `DATE_FORMAT(${c}, '%Y-%m-%d')`;
    case 'string':
      return c;
    default:
      return `CAST(${c} AS CHAR)`;
  }
}

function fromText(t: PrimitiveType, v: string): IcebergValue {
  switch (t.kind) {
    case 'long': return BigInt(v);
    case 'int': return Number(v);
    case 'decimal': return unscaled(v, t.scale);
    case 'timestamp': case 'timestamptz': return micros(v);
    case 'date': return days(v);
    case 'string': return v;
    case 'boolean': return v !== '0';
    default: throw new Error(`no MariaDB conversion for ${t.kind}`);
  }
}

/**
 * Every row of `db.table` (`SELECT *` restricted to the schema's columns, which must be all of the table's)
 * as Iceberg values of the schema's types. Each row comes out of MariaDB as one JSON_OBJECT of exact text values.
 */
export async function tableRows(db: string, table: string, schema: Schema): Promise<Record<string, IcebergValue | null>[]> {
  const cols = (await sql(`SELECT column_name FROM information_schema.columns WHERE table_schema = ${lit(db)} AND table_name = ${lit(table)} ORDER BY ordinal_position`)).split('\n').filter((l) => l !== '');
  const want = schema.fields.map((f) => f.name);
  if (JSON.stringify(cols) !== JSON.stringify(want)) throw new Error(`${db}.${table} has columns ${cols.join(',')}, the schema ${want.join(',')}`);
  const obj = schema.fields.map((f) => `${lit(f.name)}, ${selectExpr(f.name, f.type as PrimitiveType)}`).join(', ');
  const out = await sql(`SELECT JSON_OBJECT(${obj}) FROM \`${db}\`.\`${table}\``);
  return out.split('\n').filter((l) => l !== '').map((line) => {
    const o = JSON.parse(line) as Record<string, string | null>;
    const row: Record<string, IcebergValue | null> = {};
    for (const f of schema.fields) {
      const v = o[f.name];
      row[f.name] = v === null || v === undefined ? null : fromText(f.type as PrimitiveType, v);
    }
    return row;
  });
}
