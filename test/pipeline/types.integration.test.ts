// Proves type fidelity and live schema evolution on real Debezium: a MariaDB table with every column type and edge values reaches Iceberg through the Debezium MariaDB connector and floe, and Spark reads it equal to MariaDB under time.precision.mode adaptive_time_microseconds and connect, for JSON with schema, JSON without schema and Avro (Schema Registry stub); DuckDB reads the Iceberg `time` mapping; ALTER TABLE ADD / MODIFY BIGINT / DROP during the stream evolves the table without a restart, and an old snapshot still reads.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { startPipeline, type RunHandle } from '../../src/cli/run.js';
import { offsetOf, storedOffsets } from '../../src/commit/offsets.js';
import { validateConfig } from '../../src/config/config.js';
import type { ConnectField } from '../../src/decode/connect-schema.js';
import { parseJsonExact, stringifyJsonExact } from '../../src/iceberg/json.js';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import { transformToString } from '../../src/iceberg/transform.js';
import { T, type PrimitiveType } from '../../src/iceberg/types.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { decimalBytes } from '../support/avro-debezium.js';
import { canonicalRows } from '../support/canonical.js';
import { encodeRecord, connectToAvro } from '../support/connect-avro.js';
import { harnessCatalogSections, readWithEngine, restCatalog, type EngineOutput } from '../support/harness.js';
import { createTopics, endOffsets, produceOne, readTopic, withProducer, type ReadRecord } from '../support/kafka.js';
import { lit, mariadbPort, sql } from '../support/mariadb.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const db = `types_${run}`;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP;
const skip = brokers === undefined || mariadbPort === undefined || process.env.FLOE_REST_URI === undefined
  ? 'CDC harness not running: needs FLOE_KAFKA_BOOTSTRAP, FLOE_MARIADB_PORT and FLOE_REST_URI (run `npm test`)'
  : false;

/** The ways the same source reaches floe. */
type Mode = 'adaptive' | 'connect' | 'schemaless' | 'avro' | 'time';
/** Debezium connectors (one per converter/precision setting), by topic prefix. */
const prefixes = { adaptive: `ta${run}`, connect: `tc${run}`, schemaless: `tn${run}`, avro: `tv${run}` } as const;
const ns = (m: Mode): string => (m === 'time' ? `t${run}_time` : `t${run}_${prefixes[m]}`);

type Kind = 'int' | 'long' | 'decimal' | 'wide' | 'float' | 'double' | 'bits' | 'bool' | 'date' | 'time' | 'datetime' | 'timestamp' | 'string' | 'binary' | 'geom';
interface Col {
  readonly name: string;
  readonly ddl: string;
  readonly kind: Kind;
  readonly precision?: number;
  readonly scale?: number;
  readonly bits?: number;
}
const cols: readonly Col[] = [
  { name: 'id', ddl: 'INT PRIMARY KEY', kind: 'int' },
  { name: 'c_tinyint', ddl: 'TINYINT', kind: 'int' },
  { name: 'c_tinyint_u', ddl: 'TINYINT UNSIGNED', kind: 'int' },
  { name: 'c_smallint', ddl: 'SMALLINT', kind: 'int' },
  { name: 'c_smallint_u', ddl: 'SMALLINT UNSIGNED', kind: 'int' },
  { name: 'c_mediumint', ddl: 'MEDIUMINT', kind: 'int' },
  { name: 'c_mediumint_u', ddl: 'MEDIUMINT UNSIGNED', kind: 'int' },
  { name: 'c_int', ddl: 'INT', kind: 'int' },
  { name: 'c_int_u', ddl: 'INT UNSIGNED', kind: 'long' },
  { name: 'c_bigint', ddl: 'BIGINT', kind: 'long' },
  // bigint.unsigned.handling.mode=precise: Decimal(20, 0)
  { name: 'c_bigint_u', ddl: 'BIGINT UNSIGNED', kind: 'decimal', precision: 20, scale: 0 },
  { name: 'c_decimal', ddl: 'DECIMAL(65,30)', kind: 'wide', scale: 30 },
  { name: 'c_money', ddl: 'DECIMAL(12,2)', kind: 'decimal', precision: 12, scale: 2 },
  { name: 'c_float', ddl: 'FLOAT', kind: 'float' },
  { name: 'c_double', ddl: 'DOUBLE', kind: 'double' },
  { name: 'c_bit', ddl: 'BIT(10)', kind: 'bits', bits: 10 },
  { name: 'c_bit1', ddl: 'BIT(1)', kind: 'bool' },
  { name: 'c_bool', ddl: 'BOOLEAN', kind: 'int' },
  { name: 'c_date', ddl: 'DATE', kind: 'date' },
  { name: 'c_time', ddl: 'TIME(6)', kind: 'time' },
  { name: 'c_datetime', ddl: 'DATETIME(6)', kind: 'datetime' },
  { name: 'c_timestamp', ddl: 'TIMESTAMP(6) NULL DEFAULT NULL', kind: 'timestamp' },
  { name: 'c_year', ddl: 'YEAR', kind: 'int' },
  { name: 'c_char', ddl: 'CHAR(10)', kind: 'string' },
  { name: 'c_varchar', ddl: 'VARCHAR(255)', kind: 'string' },
  { name: 'c_text', ddl: 'TEXT', kind: 'string' },
  { name: 'c_blob', ddl: 'BLOB', kind: 'binary' },
  { name: 'c_binary', ddl: 'BINARY(4)', kind: 'binary' },
  { name: 'c_varbinary', ddl: 'VARBINARY(16)', kind: 'binary' },
  { name: 'c_enum', ddl: "ENUM('a','b','c d')", kind: 'string' },
  { name: 'c_set', ddl: "SET('x','y','z')", kind: 'string' },
  { name: 'c_json', ddl: 'JSON', kind: 'string' },
  { name: 'c_geom', ddl: 'GEOMETRY', kind: 'geom' },
];

const ddl = `
CREATE DATABASE ${db} CHARACTER SET utf8mb4;
USE ${db};
CREATE TABLE types_matrix (${cols.map((c) => `${c.name} ${c.ddl}${c.name === 'id' || c.ddl.includes('NULL') ? '' : ' NULL'}`).join(', ')});
INSERT INTO types_matrix (id) VALUES (1);
INSERT INTO types_matrix VALUES (2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -9999999999.99, -3.40282e38, -1.7976931348623157e308,
  b'0', b'0', FALSE, '1000-01-01', '-838:59:59.000000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', 1901,
  '', '', '', '', x'00000000', x'', 'a', '', '{}', ST_GeomFromText('POINT(0 0)'));
INSERT INTO types_matrix VALUES (3, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  '99999999999999999999999999999999999.999999999999999999999999999999', 9999999999.99, 3.40282e38, 1.7976931348623157e308,
  b'1111111111', b'1', TRUE, '9999-12-31', '838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
  'abcdefghij', 'Zoë 😀 𝄞 李', REPEAT('long ✓ ', 500), x'00ff10', x'deadbeef', x'0102030405060708090a0b0c0d0e0f10', 'c d', 'x,y,z',
  '{"a": [1, 2.5, "😀"], "b": {"c": null}}', ST_GeomFromText('LINESTRING(0 0, 1.5 2, -3 4)'));
INSERT INTO types_matrix VALUES (4, 1, 1, 1, 1, 1, 1, 1, 1, 9007199254740993, 9223372036854775808,
  '0.000000000000000000000000000001', 0.01, 0.1, 0.1,
  b'1000000001', b'0', TRUE, '1969-12-31', '00:00:00.000001', '1969-07-20 20:17:40.123456', '2001-09-09 01:46:40.000001', 1970,
  'x', 'tab\\there', 'line\\nbreak', x'00', x'01', x'ff', 'b', 'y', '[]', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'));
INSERT INTO types_matrix VALUES (5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0', 0, 0, 0, b'0', NULL, NULL, '2100-01-01', '23:59:59.999999',
  '2100-01-01 00:00:00.000001', NULL, 2000, NULL, '𝄞', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET SESSION sql_mode = '';
INSERT INTO types_matrix (id, c_date, c_datetime) VALUES (6, '0000-00-00', '0000-00-00 00:00:00');
SET SESSION sql_mode = DEFAULT;
CREATE TABLE evolve (id INT PRIMARY KEY, qty INT NOT NULL, price FLOAT NULL, note VARCHAR(20) NOT NULL, gone VARCHAR(10) NULL);
INSERT INTO evolve VALUES (1, 10, 1.5, 'one', 'g1'), (2, 20, NULL, 'two', 'g2'), (3, 30, 3.25, 'three', NULL);
CREATE TABLE clash (id INT PRIMARY KEY, code VARCHAR(10) NULL, note VARCHAR(10) NULL);
INSERT INTO clash VALUES (1, 'a1', 'n1');
CREATE TABLE breaks (id INT PRIMARY KEY, code VARCHAR(10) NULL);
INSERT INTO breaks VALUES (1, 'b1');
`;

/** Incompatible changes (VARCHAR → INT): \`clash\` has policy new-column, \`breaks\` the default, fail. */
const incompatible = (db: string) => `
USE ${db};
UPDATE clash SET code = '42' WHERE id = 1;
ALTER TABLE clash MODIFY code INT NULL;
INSERT INTO clash VALUES (2, 7, 'n2');
UPDATE clash SET note = 'n1b' WHERE id = 1;
UPDATE breaks SET code = '3' WHERE id = 1;
ALTER TABLE breaks MODIFY code INT NULL;
INSERT INTO breaks VALUES (2, 5);
`;

/** Changes while floe runs: updates, a delete and an insert on the type matrix. */
const streaming = `
USE ${db};
UPDATE types_matrix SET c_varchar = 'updated 🚀', c_time = '-00:00:00.000001', c_datetime = '1900-01-01 00:00:00.500000',
  c_money = -0.01, c_bit = b'0000000001', c_json = '{"k": "v"}', c_timestamp = '1999-12-31 23:59:59.500000' WHERE id = 4;
DELETE FROM types_matrix WHERE id = 5;
UPDATE types_matrix SET c_int = 42, c_text = '' WHERE id = 1;
INSERT INTO types_matrix (id, c_bigint, c_time, c_datetime, c_date, c_varchar, c_blob, c_geom)
  VALUES (7, -1, '24:00:00.000000', '2038-01-19 03:14:08.000001', '2038-01-20', 'seven 🎉', x'cafe', ST_GeomFromText('POINT(-1.5 2.25)'));
`;

/** MariaDB text for each column, chosen to convert exactly (binary and spatial as hex). */
function selectExpr(c: Col): string {
  switch (c.kind) {
    case 'bits': return `LPAD(HEX(${c.name}), ${2 * Math.ceil((c.bits ?? 8) / 8)}, '0')`;
    case 'bool': return `CAST(${c.name} + 0 AS CHAR)`;
    case 'date': return `DATE_FORMAT(${c.name}, '%Y-%m-%d')`;
    case 'datetime': case 'timestamp': return `DATE_FORMAT(${c.name}, '%Y-%m-%d %H:%i:%s.%f')`;
    case 'binary': return `HEX(${c.name})`;
    case 'geom': return `HEX(ST_AsWKB(${c.name}))`;
    // CAST: JSON_OBJECT would embed a JSON column as JSON rather than as its text
    case 'string': return c.ddl === 'JSON' ? `CAST(${c.name} AS CHAR)` : c.name;
    default: return `CAST(${c.name} AS CHAR)`;
  }
}

type Text = Record<string, string | null>;

async function mariaRows(table: string, columns: readonly Col[]): Promise<Text[]> {
  const obj = columns.map((c) => `${lit(c.name)}, ${selectExpr(c)}`).join(', ');
  const out = await sql(`SELECT JSON_OBJECT(${obj}) FROM \`${db}\`.\`${table}\``);
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Text);
}

const MICROS_PER_DAY = 86_400_000_000n;
function daysOf(text: string): number | null {
  if (text.startsWith('0000-00-00')) return null; // zero date: Debezium sends null for a nullable column
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  return Math.round(dt.getTime() / 86_400_000);
}
function microsOf(text: string): bigint | null {
  const days = daysOf(text.slice(0, 10));
  if (days === null) return null;
  const [h, mi, s] = text.slice(11, 19).split(':').map(BigInt) as [bigint, bigint, bigint];
  return BigInt(days) * MICROS_PER_DAY + ((h * 60n + mi) * 60n + s) * 1_000_000n + BigInt(text.slice(20, 26));
}
function durationMicros(text: string): bigint {
  const m = /^(-?)(\d+):(\d{2}):(\d{2})\.(\d{6})$/.exec(text);
  if (m === null) throw new Error(`TIME text ${text}`);
  const v = ((BigInt(m[2]!) * 60n + BigInt(m[3]!)) * 60n + BigInt(m[4]!)) * 1_000_000n + BigInt(m[5]!);
  return m[1] === '-' ? -v : v;
}
function unscaled(text: string, scale: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new Error(`decimal text ${text}`);
  const v = BigInt(`${m[2]}${(m[3] ?? '').padEnd(scale, '0')}`);
  return m[1] === '-' ? -v : v;
}
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
/** Debezium's ZonedTimestamp text for a TIMESTAMP(6) column: ISO-8601 UTC, no fraction when it is zero, else six digits. */
function zonedText(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const iso = new Date(Number(ms)).toISOString(); // ...T..:..:..sss Z
  const frac = (((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).toString().padStart(6, '0');
  const base = iso.slice(0, 19);
  return frac === '000000' ? `${base}Z` : `${base}.${frac}Z`;
}

/** The Iceberg type of a column in a mode (docs/types.md), and its expected value from MariaDB's text. */
function icebergType(c: Col, mode: Mode): PrimitiveType {
  if (mode === 'schemaless') {
    switch (c.kind) {
      case 'int': case 'long': case 'date': case 'time': case 'datetime': return T.long;
      case 'float': case 'double': return T.double;
      case 'bool': return T.boolean;
      default: return T.string;
    }
  }
  switch (c.kind) {
    case 'int': return T.int;
    case 'long': return T.long;
    case 'decimal': return T.decimal(c.precision!, c.scale!);
    case 'wide': return T.string;
    case 'float': return T.float;
    case 'double': return T.double;
    case 'bits': case 'binary': case 'geom': return T.binary;
    case 'bool': return T.boolean;
    case 'date': return T.date;
    case 'time': return mode === 'time' ? T.time : T.string;
    case 'datetime': return T.timestamp;
    case 'timestamp': return T.timestamptz;
    case 'string': return T.string;
  }
}

function expectedValue(c: Col, text: string | null, mode: Mode): IcebergValue | null {
  if (text === null) return null;
  if (mode === 'schemaless') {
    switch (c.kind) {
      case 'int': case 'long': return BigInt(text);
      case 'float': case 'double': return Number(text);
      case 'bool': return text !== '0';
      case 'decimal': case 'wide': return b64(decimalBytes(unscaled(text, c.scale!)));
      case 'bits': return b64(fromHex(text).reverse());
      case 'binary': return b64(fromHex(text));
      case 'geom': return stringifyJsonExact({ wkb: b64(fromHex(text)), srid: null }) ?? null;
      case 'date': { const d = daysOf(text); return d === null ? null : BigInt(d); }
      case 'time': return durationMicros(text);
      case 'datetime': return microsOf(text);
      case 'timestamp': { const u = microsOf(text); return u === null ? null : zonedText(u); }
      case 'string': return text;
    }
  }
  switch (c.kind) {
    case 'int': return Number(text);
    case 'long': return BigInt(text);
    case 'decimal': return unscaled(text, c.scale!);
    case 'wide': return text;
    case 'float': return Math.fround(Number(text));
    case 'double': return Number(text);
    case 'bits': case 'binary': case 'geom': return fromHex(text);
    case 'bool': return text !== '0';
    case 'date': return daysOf(text);
    case 'datetime': {
      const u = microsOf(text);
      // time.precision.mode=connect: Connect Timestamp carries milliseconds (Debezium drops the rest)
      return u === null || mode !== 'connect' ? u : (u / 1000n - (u % 1000n < 0n ? 1n : 0n)) * 1000n;
    }
    case 'timestamp': return microsOf(text);
    case 'time': {
      let u: bigint | null = durationMicros(text);
      // Connect Time is int32 milliseconds: Debezium sends null for a negative TIME or one beyond 2^31 ms (±838 h)
      if (mode === 'connect') u = u < 0n || u / 1000n > 2_147_483_647n ? null : (u / 1000n) * 1000n;
      if (u === null) return null;
      if (mode === 'time') return u < 0n || u >= MICROS_PER_DAY ? null : u; // outOfRange: null
      const neg = u < 0n;
      let m = neg ? -u : u;
      const us = m % 1_000_000n; m /= 1_000_000n;
      const s = m % 60n; m /= 60n;
      const p = (x: bigint, w: number) => x.toString().padStart(w, '0');
      return `${neg ? '-' : ''}${p(m / 60n, 2)}:${p(m % 60n, 2)}:${p(s, 2)}.${p(us, 6)}`;
    }
    case 'string': return text;
  }
}

function expectedTable(rows: readonly Text[], columns: readonly Col[], mode: Mode): { schema: Schema; lines: string[] } {
  const schema = schemaFromDecls(columns.map((c) => ({ name: c.name, type: icebergType(c, mode), required: c.name === 'id' })), ['id']);
  const values = rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, expectedValue(c, r[c.name] ?? null, mode)])));
  return { schema, lines: canonicalRows(schema, values) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function connectSh(args: string[], extraEnv: Record<string, string> = {}) {
  return exec('bash', ['test/harness/connect.sh', ...args], { env: { ...process.env, ...extraEnv }, timeout: 240_000 });
}

describe('types and schema evolution: MariaDB → Debezium → Kafka → floe → Iceberg', { skip }, () => {
  const connectors: string[] = [];
  const handles: RunHandle[] = [];
  const failures: unknown[] = [];
  let registry: Server | null = null;
  const expected = new Map<string, string[]>();
  const schemas = new Map<string, Schema>();
  let spark: EngineOutput = { tables: new Map(), sql: [] };
  let duck: EngineOutput = { tables: new Map(), sql: [] };
  const oldSnapshot = { id: '', lines: [] as string[] };
  const dead: Record<string, number> = {};
  const dlq: ReadRecord[] = [];
  const evolveCols: Col[] = [
    { name: 'id', ddl: '', kind: 'int' }, { name: 'qty', ddl: '', kind: 'long' }, { name: 'price', ddl: '', kind: 'double' },
    { name: 'note', ddl: '', kind: 'string' }, { name: 'added', ddl: '', kind: 'decimal', precision: 20, scale: 2 },
  ];
  let evolvedSchema: Schema | null = null;
  const createdWith = { spec: [] as string[], sort: [] as string[], formatVersion: 0, codec: '' };

  before(async () => {
    await sql(ddl);
    const topic = (m: keyof typeof prefixes, t: string) => `${prefixes[m]}.${db}.${t}`;
    const start = async (mode: keyof typeof prefixes, overrides: string[]) => {
      const name = `floe-types-${mode}-${run}`;
      connectors.push(name);
      await connectSh(['start', 'test/harness/debezium-mariadb.properties.template', 'bigint.unsigned.handling.mode=precise', ...overrides], {
        FLOE_CDC_CONNECTOR_NAME: name,
        FLOE_CDC_TOPIC_PREFIX: prefixes[mode],
        FLOE_CDC_DATABASES: db,
        FLOE_CDC_SERVER_ID: String(10_000_000 + Math.floor(Math.random() * 1_000_000)),
      });
    };
    await start('adaptive', ['time.precision.mode=adaptive_time_microseconds']);
    await start('connect', ['time.precision.mode=connect']);
    await start('schemaless', ['time.precision.mode=adaptive_time_microseconds', 'key.converter=org.apache.kafka.connect.json.JsonConverter', 'key.converter.schemas.enable=false', 'value.converter=org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable=false']);
    const snapshotTopics = [topic('adaptive', 'types_matrix'), topic('connect', 'types_matrix'), topic('schemaless', 'types_matrix'), topic('adaptive', 'evolve'), topic('adaptive', 'clash'), topic('adaptive', 'breaks')];
    const deadline = Date.now() + 60_000;
    for (const t of snapshotTopics) {
      while ((await endOffsets(brokers!, t, 1).catch(() => 0)) < 1 && Date.now() < deadline) await sleep(200);
    }
    const avroTopic = topic('avro', 'types_matrix');
    await createTopics(brokers!, [avroTopic, `t${run}-dlq`], 1);

    // Schema Registry stub: serves the writer schemas (AvroData's form of Debezium's Connect schemas) by id.
    const registered = new Map<number, string>();
    registry = createServer((req, res) => {
      const text = registered.get(Number(/\/schemas\/ids\/(\d+)/.exec(req.url ?? '')?.[1]));
      if (text === undefined) res.writeHead(404).end('{"error_code":40403,"message":"Schema not found"}');
      else res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: text }));
    });
    await new Promise<void>((r) => registry!.listen(0, '127.0.0.1', r));
    const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;

    const common = { ...harnessCatalogSections(), commit: { intervalMs: 1000, targetFileSizeBytes: 8 * 1024 * 1024 }, shutdown: { timeoutMs: 60_000 } };
    const log = process.env.FLOE_TEST_LOG !== undefined ? createLogger('info') : silentLogger;
    const main = validateConfig({
      ...common,
      kafka: { brokers: brokers!, groupId: `g${run}`, topics: [...snapshotTopics, avroTopic], deadLetterTopic: `t${run}-dlq` },
      decode: { timeAs: 'string', schemaRegistry: { url: registryUrl } },
      route: { pattern: `t${run}_{prefix}.{table}` },
      // Table creation options on one table: partition spec, sort order, format version, write properties.
      tables: {
        overrides: {
          [`${ns('adaptive')}.types_matrix`]: {
            partitionBy: ['bucket(4, id)'],
            sortBy: ['c_datetime desc nulls last', 'id'],
            formatVersion: 2,
            properties: { 'write.parquet.compression-codec': 'snappy', 'write.target-file-size-bytes': String(16 * 1024 * 1024) },
          },
          [`${ns('adaptive')}.clash`]: { onIncompatibleChange: 'new-column' },
        },
      },
    });
    // Same source with time columns as Iceberg `time`; values beyond a day become null (read by DuckDB: Spark cannot load `time`).
    const timeCfg = validateConfig({
      ...common,
      kafka: { brokers: brokers!, groupId: `gt${run}`, topics: [topic('adaptive', 'types_matrix')], deadLetterTopic: `t${run}-dlq` },
      decode: { timeAs: 'time', outOfRange: 'null' },
      route: { pattern: `t${run}_time.{table}` },
    });
    for (const cfg of [main, timeCfg]) {
      const h = await startPipeline(cfg, log);
      handles.push(h);
      h.done.catch((e: unknown) => failures.push(e));
    }

    const catalog = restCatalog();
    const evolveId = { namespace: [ns('adaptive')], name: 'evolve' };
    const evolveTopic = topic('adaptive', 'evolve');
    /**
     * Waits until floe committed everything Debezium published for `evolve`: the offsets in the table's snapshot
     * summary reach the topic's end, less a trailing tombstone (it belongs to no table: only the group offset covers it).
     */
    const settled = async (): Promise<void> => {
      const until = Date.now() + 90_000;
      let end = await endOffsets(brokers!, evolveTopic, 1);
      for (let stable = 0; stable < 3 && Date.now() < until; await sleep(300)) {
        const now = await endOffsets(brokers!, evolveTopic, 1);
        stable = now === end ? stable + 1 : 0;
        end = now;
      }
      const records = await readTopic(brokers!, evolveTopic, end);
      let target = end;
      while (target > 0 && records[target - 1]?.value === null) target--;
      while (Date.now() < until) {
        const meta = (await catalog.loadTable(evolveId).catch(() => null))?.metadata;
        if (meta !== undefined && (offsetOf(storedOffsets(meta, `g${run}`), evolveTopic, 0) ?? 0) >= target) return;
        await sleep(300);
      }
      throw new Error(`floe did not commit ${evolveTopic} up to ${target}`);
    };
    try {
      await sql(streaming);
      await sql(`USE ${db}; INSERT INTO evolve VALUES (4, 40, 4.5, 'four', 'g4'); UPDATE evolve SET qty = qty + 1 WHERE id = 1;`);
      await settled();
      // The table as of this snapshot, for the time-travel read after the schema changed.
      const meta = (await catalog.loadTable(evolveId)).metadata;
      oldSnapshot.id = String(meta.currentSnapshotId);
      const oldCols: Col[] = [{ name: 'id', ddl: '', kind: 'int' }, { name: 'qty', ddl: '', kind: 'int' }, { name: 'price', ddl: '', kind: 'float' }, { name: 'note', ddl: '', kind: 'string' }, { name: 'gone', ddl: '', kind: 'string' }];
      oldSnapshot.lines = expectedTable(await mariaRows('evolve', oldCols), oldCols, 'adaptive').lines;

      await sql(`USE ${db}; ALTER TABLE evolve ADD COLUMN added DECIMAL(10,2) NULL; INSERT INTO evolve VALUES (5, 50, 5.5, 'five', 'g5', 12345678.91); UPDATE evolve SET added = -0.5 WHERE id = 2;`);
      await settled();
      await sql(`USE ${db}; ALTER TABLE evolve MODIFY qty BIGINT NOT NULL, MODIFY price DOUBLE NULL, MODIFY added DECIMAL(20,2) NULL;
        INSERT INTO evolve VALUES (6, 1099511627776, 0.1, 'six', 'g6', 123456789012345678.99); UPDATE evolve SET qty = -9223372036854775808, price = 1e300 WHERE id = 3;`);
      await settled();
      const goneBefore = new Map((await mariaRows('evolve', [{ name: 'id', ddl: '', kind: 'int' }, { name: 'gone', ddl: '', kind: 'string' }])).map((r) => [Number(r.id), r.gone ?? null]));
      await sql(`USE ${db}; ALTER TABLE evolve DROP COLUMN gone, MODIFY note VARCHAR(20) NULL; INSERT INTO evolve VALUES (7, 70, NULL, NULL, 7.77); UPDATE evolve SET note = NULL WHERE id = 1; DELETE FROM evolve WHERE id = 4;`);
      await settled();
      await sql(incompatible(db));
      // The dropped column keeps the values rows had before the drop; rows written after it hold null.
      const touchedAfterDrop = new Set([1, 7]);
      const evolveRows = (await mariaRows('evolve', evolveCols)).map((r) => ({ ...r, gone: touchedAfterDrop.has(Number(r.id)) ? null : (goneBefore.get(Number(r.id)) ?? null) }));
      const withGone = [...evolveCols.slice(0, 4), { name: 'gone', ddl: '', kind: 'string' } as Col, evolveCols[4]!];
      const ev = expectedTable(evolveRows, withGone, 'adaptive');
      expected.set(`${ns('adaptive')}.evolve`, ev.lines);
      evolvedSchema = currentSchema((await catalog.loadTable(evolveId)).metadata);
      schemas.set(`${ns('adaptive')}.evolve`, ev.schema);

      // Avro: the adaptive connector's records, re-encoded as the AvroConverter writes them.
      const adaptiveTopic = topic('adaptive', 'types_matrix');
      const records = await readTopic(brokers!, adaptiveTopic, await endOffsets(brokers!, adaptiveTopic, 1));
      let nextId = 1;
      const ids = new Map<string, number>();
      const idOf = (schema: ConnectField): number => {
        const text = JSON.stringify(connectToAvro(schema));
        let id = ids.get(text);
        if (id === undefined) {
          id = nextId++;
          ids.set(text, id);
          registered.set(id, text);
        }
        return id;
      };
      await withProducer(brokers!, async (p) => {
        for (const r of records) {
          const k = parseJsonExact(r.key ?? 'null') as { schema: ConnectField; payload: unknown };
          const v = r.value === null ? null : (parseJsonExact(r.value) as { schema: ConnectField; payload: unknown });
          await produceOne(p, avroTopic, encodeRecord(idOf(k.schema), k.schema, k.payload), v === null ? null : encodeRecord(idOf(v.schema), v.schema, v.payload));
        }
      });

      // Everything published is consumed, then both floes stop.
      const all = [...snapshotTopics, avroTopic];
      const until = Date.now() + 120_000;
      for (;;) {
        let published = 0;
        for (const t of all) published += await endOffsets(brokers!, t, 1);
        const timePublished = await endOffsets(brokers!, topic('adaptive', 'types_matrix'), 1);
        if ((handles[0]!.pipeline.stats.consumed >= published && handles[1]!.pipeline.stats.consumed >= timePublished) || Date.now() > until || failures.length > 0) break;
        await sleep(300);
      }
    } finally {
      for (const h of handles) h.stop();
      for (const h of handles) await h.done.catch(() => undefined);
      await catalog.close();
    }
    const reader = restCatalog();
    const created = await reader.loadTable({ namespace: [ns('adaptive')], name: 'types_matrix' }).then((t) => t.metadata).finally(() => reader.close());
    createdWith.spec = defaultSpec(created).fields.map((f) => `${transformToString(f.transform)}(${currentSchema(created).field(f.sourceId)?.name ?? '?'})`);
    const order = created.sortOrders.find((o) => o.orderId === created.defaultSortOrderId);
    createdWith.sort = (order?.fields ?? []).map((f) => `${currentSchema(created).field(f.sourceId)?.name ?? '?'} ${f.direction} ${f.nullOrder}`);
    createdWith.formatVersion = created.formatVersion;
    createdWith.codec = created.properties['write.parquet.compression-codec'] ?? '';
    dead.main = handles[0]!.pipeline.stats.deadLettered;
    dlq.push(...(await readTopic(brokers!, `t${run}-dlq`, 1, 15_000)));
    dead.time = handles[1]!.pipeline.stats.deadLettered;

    const matrixRows = await mariaRows('types_matrix', cols);
    for (const mode of ['adaptive', 'connect', 'schemaless', 'avro', 'time'] as const) {
      const e = expectedTable(matrixRows, cols, mode);
      expected.set(`${ns(mode)}.types_matrix`, e.lines);
      schemas.set(`${ns(mode)}.types_matrix`, e.schema);
    }
    const sparkTables = (['adaptive', 'connect', 'schemaless', 'avro'] as const).map((m) => `${ns(m)}.types_matrix`).concat(['evolve', 'clash', 'breaks'].map((t) => `${ns('adaptive')}.${t}`));
    // clash: rows written after VARCHAR → INT hold the value in code__int and null in code.
    const clashCols: Col[] = [{ name: 'id', ddl: '', kind: 'int' }, { name: 'code', ddl: '', kind: 'string' }, { name: 'note', ddl: '', kind: 'string' }, { name: 'code__int', ddl: '', kind: 'int' }];
    const clashRows = (await mariaRows('clash', [clashCols[0]!, clashCols[2]!, { name: 'code', ddl: '', kind: 'int' }])).map((r) => ({ id: r.id ?? null, note: r.note ?? null, code: null, code__int: r.code ?? null }));
    expected.set(`${ns('adaptive')}.clash`, expectedTable(clashRows, clashCols, 'adaptive').lines);
    // breaks: stopped at its incompatible change; the rows as they were before it.
    const breaksCols: Col[] = [{ name: 'id', ddl: '', kind: 'int' }, { name: 'code', ddl: '', kind: 'string' }];
    expected.set(`${ns('adaptive')}.breaks`, expectedTable([{ id: '1', code: '3' }], breaksCols, 'adaptive').lines);
    spark = await readWithEngine('spark', sparkTables, {
      sql: [
        `SELECT * FROM cat.${ns('adaptive')}.evolve VERSION AS OF ${oldSnapshot.id} ORDER BY id`,
        `SELECT DISTINCT sort_order_id FROM cat.${ns('adaptive')}.types_matrix.files WHERE content = 0`,
      ],
    });
    duck = await readWithEngine('duckdb', [`${ns('time')}.types_matrix`]);
  });

  after(async () => {
    for (const h of handles) {
      h.stop();
      await h.done.catch(() => undefined);
    }
    registry?.close();
    // The worker is shared by the tests of a run (scripts/test.sh stops it): remove only this test's connectors.
    for (const c of connectors) await connectSh(['delete', c]).catch(() => undefined);
  });

  it('floe ran without failures; the only dead letter is the change to the table stopped by its incompatible change', () => {
    assert.deepEqual(failures, []);
    assert.deepEqual(dead, { main: 1, time: 0 });
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]!.headers['floe.source.topic'], `${prefixes.adaptive}.${db}.breaks`);
    assert.match(dlq[0]!.headers['floe.error.reason'] ?? '', /^table stopped by an incompatible schema change \(policy "fail"\): column "code" is string in the table but int in the source/);
  });

  it('an incompatible change under new-column lands in code__int; under fail the table keeps its state before the change', () => {
    for (const t of ['clash', 'breaks']) {
      const name = `${ns('adaptive')}.${t}`;
      assert.deepEqual(spark.tables.get(name), expected.get(name), t);
    }
  });

  for (const mode of ['adaptive', 'connect', 'schemaless', 'avro'] as const) {
    it(`Spark reads the type matrix (${mode}) equal to MariaDB's values`, () => {
      assert.equal(spark.failure, undefined, spark.failure);
      const name = `${ns(mode)}.types_matrix`;
      const got = spark.tables.get(name);
      assert.ok(Array.isArray(got), `spark: ${JSON.stringify(got)}`);
      assert.equal(got.length, 6);
      assert.deepEqual(got, expected.get(name));
    });
  }

  it('DuckDB reads the type matrix with Iceberg time columns; TIME beyond a day is null (outOfRange: null)', () => {
    assert.equal(duck.failure, undefined, duck.failure);
    const name = `${ns('time')}.types_matrix`;
    assert.deepEqual(duck.tables.get(name), expected.get(name));
  });

  it('created the table with the configured partition spec, sort order, format version and codec; data files say they are sorted', () => {
    assert.deepEqual(createdWith, { spec: ['bucket[4](id)'], sort: ['c_datetime desc nulls-last', 'id asc nulls-first'], formatVersion: 2, codec: 'snappy' });
    assert.deepEqual(spark.sql[1]?.rows, ['{"sort_order_id":1}']);
  });

  it('ADD COLUMN, MODIFY to BIGINT/DOUBLE/wider DECIMAL and DROP COLUMN evolved the table in place', () => {
    const s = evolvedSchema;
    assert.ok(s !== null);
    assert.deepEqual(s.fields.map((f) => [f.id, f.name, f.type, f.required]), [
      [1, 'id', T.int, true], [2, 'qty', T.long, false], [3, 'price', T.double, false], [4, 'note', T.string, false], [5, 'gone', T.string, false], [6, 'added', T.decimal(20, 2), false],
    ]);
  });

  it('Spark reads the evolved table equal to MariaDB (the dropped column keeps its old values)', () => {
    const name = `${ns('adaptive')}.evolve`;
    assert.deepEqual(spark.tables.get(name), expected.get(name));
  });

  it('Spark reads the snapshot before the changes with its own schema', () => {
    assert.deepEqual(spark.sql[0]?.rows.slice().sort(), oldSnapshot.lines);
  });
});
