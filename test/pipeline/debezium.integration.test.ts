// Proves floe on real Debezium: MariaDB (binlog ROW) → Debezium MariaDB connector on Kafka Connect → Kafka → floe → Iceberg, where Spark's, DuckDB's and pyiceberg's SELECT * of every table equals MariaDB's SELECT * after a snapshot plus a mixed insert/update/delete workload (rows moving partitions, null partition values, position deletes).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { startPipeline, type RunHandle } from '../../src/cli/run.js';
import { validateConfig } from '../../src/config/config.js';
import { schemaFromDecls, type Schema } from '../../src/iceberg/schema.js';
import { currentSchema, defaultSpec } from '../../src/iceberg/table-metadata.js';
import { transformToString } from '../../src/iceberg/transform.js';
import { T } from '../../src/iceberg/types.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { canonicalRows } from '../support/canonical.js';
import { harnessCatalogSections, readWithEngine, restCatalog, type EngineOutput } from '../support/harness.js';
import { createTopics, endOffsets } from '../support/kafka.js';
import { lit, mariadbPort, sql, tableRows } from '../support/mariadb.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const db = `shop_${run}`;
const prefix = `dbz${run}`;
const connector = `floe-dbz-${run}`;
const ns = `d${run}_${db}`;
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP;
const skip = brokers === undefined || mariadbPort === undefined || process.env.FLOE_REST_URI === undefined
  ? 'CDC harness not running: needs FLOE_KAFKA_BOOTSTRAP, FLOE_MARIADB_PORT and FLOE_REST_URI (run `npm test`, which starts Kafka, MariaDB and SeaweedFS)'
  : false;

/**
 * The Iceberg schemas floe should create, by the mapping in src/decode/connect-schema.ts for what Debezium
 * (time.precision.mode=connect, decimal.handling.mode=precise) emits: BIGINT int64 → long, INT int32 → int,
 * TINYINT(1) int16 → int, DECIMAL(12,2) Decimal → decimal(12,2), VARCHAR/TEXT → string, DATETIME(6) Connect
 * Timestamp → timestamp, TIMESTAMP(6) ZonedTimestamp → timestamptz, DATE Connect Date → date. Key columns are
 * required, the others optional.
 */
const schemas: Record<string, Schema> = {
  customers: schemaFromDecls([
    { name: 'id', type: T.long, required: true }, { name: 'name', type: T.string }, { name: 'email', type: T.string },
    { name: 'balance', type: T.decimal(12, 2) }, { name: 'visits', type: T.int }, { name: 'vip', type: T.int },
    { name: 'created_at', type: T.timestamp }, { name: 'last_login', type: T.timestamptz }, { name: 'birthday', type: T.date },
  ], ['id']),
  orders: schemaFromDecls([
    { name: 'id', type: T.long, required: true }, { name: 'customer_id', type: T.long }, { name: 'region', type: T.string },
    { name: 'status', type: T.string }, { name: 'total', type: T.decimal(12, 2) }, { name: 'placed_on', type: T.date },
    { name: 'placed_at', type: T.timestamp }, { name: 'updated_at', type: T.timestamptz },
  ], ['id']),
  order_items: schemaFromDecls([
    { name: 'order_id', type: T.long, required: true }, { name: 'line_no', type: T.int, required: true }, { name: 'sku', type: T.string },
    { name: 'qty', type: T.int }, { name: 'unit_price', type: T.decimal(12, 2) }, { name: 'note', type: T.string },
  ], ['order_id', 'line_no']),
  shipments: schemaFromDecls([
    { name: 'id', type: T.int, required: true }, { name: 'order_id', type: T.long }, { name: 'carrier', type: T.string },
    { name: 'shipped_at', type: T.timestamp }, { name: 'weight_g', type: T.int },
  ], ['id']),
};
const tables = Object.keys(schemas);
/** Partitioning by columns outside the key that the workload changes: rows move between partitions. */
const partitionBy: Record<string, string[]> = { orders: ['region'], shipments: ['day(shipped_at)'] };

const ddl = `
CREATE DATABASE ${db} CHARACTER SET utf8mb4;
USE ${db};
CREATE TABLE customers (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NULL,
  balance DECIMAL(12,2) NULL, visits INT NULL, vip TINYINT(1) NOT NULL DEFAULT 0, created_at DATETIME(6) NOT NULL,
  last_login TIMESTAMP(6) NULL DEFAULT NULL, birthday DATE NULL);
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, region VARCHAR(16) NULL, status VARCHAR(16) NOT NULL,
  total DECIMAL(12,2) NOT NULL, placed_on DATE NOT NULL, placed_at DATETIME(6) NOT NULL,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6));
CREATE TABLE order_items (order_id BIGINT NOT NULL, line_no INT NOT NULL, sku VARCHAR(32) NOT NULL, qty INT NOT NULL,
  unit_price DECIMAL(12,2) NOT NULL, note TEXT NULL, PRIMARY KEY (order_id, line_no));
CREATE TABLE shipments (id INT PRIMARY KEY, order_id BIGINT NOT NULL, carrier VARCHAR(32) NULL, shipped_at DATETIME(6) NOT NULL, weight_g INT NULL);
`;

/** Deterministic workload generator (mulberry32). */
class Workload {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  rnd(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  pick<X>(xs: readonly X[]): X {
    return xs[this.int(0, xs.length - 1)]!;
  }
  maybe<X>(p: number, x: () => X): X | null {
    return this.rnd() < p ? x() : null;
  }
  static readonly names = ['Zoë Ørsted', 'Jürgen Groß', '李雷', 'Мария', "O'Brien", 'José 😀', '🚀 Rocket', 'back\\slash', 'tab\there', 'line\nbreak', 'Ådne ß', 'plain'];
  static readonly regions = ['eu', 'us', 'apac', 'latam', null];
  static readonly statuses = ['new', 'paid', 'shipped', 'cancelled', 'returned'];
  static readonly carriers = ['DHL', 'UPS', 'La Poste ✉', null];
  name(): string {
    return `${this.pick(Workload.names)} ${this.int(1, 999)}`;
  }
  /** DECIMAL(12,2) literal across the whole range, negatives included. */
  money(): string {
    const r = this.rnd();
    if (r < 0.05) return this.pick(['9999999999.99', '-9999999999.99', '0.00', '0.01', '-0.01']);
    const cents = BigInt(this.int(-5_000_000, 500_000_000)) * BigInt(this.int(1, 1000));
    const neg = cents < 0n;
    const a = (neg ? -cents : cents).toString().padStart(3, '0');
    return `${neg ? '-' : ''}${a.slice(0, -2)}.${a.slice(-2)}`;
  }
  /**
   * DATETIME(6) literal with millisecond precision: with the production setting time.precision.mode=connect
   * Debezium sends DATETIME as org.apache.kafka.connect.data.Timestamp (epoch milliseconds), dropping the
   * microseconds MariaDB holds, so sub-millisecond digits could never round-trip. Before 1970 included.
   */
  datetime(): string {
    const ms = this.rnd() < 0.05 ? -this.int(1, 400_000_000) * 1000 - this.int(0, 999) : Date.UTC(2020, 0, 1) + this.int(0, 5 * 365 * 86400) * 1000 + this.int(0, 999);
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');
  }
  /** TIMESTAMP(6) literal (UTC session) with microseconds: ZonedTimestamp keeps them. */
  timestamp(): string {
    const ms = Date.UTC(2001, 0, 1) + this.int(0, 30 * 365 * 86400) * 1000 + this.int(0, 999);
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', String(this.int(0, 999)).padStart(3, '0'));
  }
  date(): string {
    return new Date(Date.UTC(1950, 0, 1) + this.int(0, 100 * 365) * 86_400_000).toISOString().slice(0, 10);
  }
  int32(): number {
    return this.rnd() < 0.05 ? this.pick([2147483647, -2147483648, 0]) : this.int(-1000, 100_000);
  }
  bigint(): string {
    return this.rnd() < 0.05 ? this.pick(['9223372036854775807', '-9223372036854775808', '9007199254740993']) : String(this.int(1, 10_000_000));
  }
  insertCustomer(id: number | null = null): string {
    const cols = 'name, email, balance, visits, vip, created_at, last_login, birthday';
    const vals = [
      lit(this.name()), lit(this.maybe(0.8, () => `c${this.int(1, 1e6)}@example.com`)), this.maybe(0.85, () => this.money()) ?? 'NULL',
      this.maybe(0.8, () => String(this.int32())) ?? 'NULL', String(this.int(0, 1)), lit(this.datetime()),
      lit(this.maybe(0.7, () => this.timestamp())), lit(this.maybe(0.6, () => this.date())),
    ].join(', ');
    return id === null ? `INSERT INTO customers (${cols}) VALUES (${vals})` : `INSERT INTO customers (id, ${cols}) VALUES (${id}, ${vals})`;
  }
  insertOrder(id: number, verb = 'INSERT'): string {
    return `${verb} INTO orders (id, customer_id, region, status, total, placed_on, placed_at) VALUES (${id}, ${this.bigint()}, ${lit(this.pick(Workload.regions))}, ${lit(this.pick(Workload.statuses))}, ${this.money()}, ${lit(this.date())}, ${lit(this.datetime())})`;
  }
  insertItem(orderId: number, line: number, verb = 'INSERT'): string {
    return `${verb} INTO order_items VALUES (${orderId}, ${line}, ${lit(`SKU-${this.int(1, 9999)}-ü`)}, ${this.int(1, 50)}, ${this.money()}, ${lit(this.maybe(0.4, () => this.name()))})`;
  }
  insertShipment(id: number, verb = 'INSERT'): string {
    return `${verb} INTO shipments VALUES (${id}, ${this.int(1, 120)}, ${lit(this.pick(Workload.carriers))}, ${lit(this.datetime())}, ${this.maybe(0.7, () => String(this.int(1, 100_000))) ?? 'NULL'})`;
  }
  updateCustomer(id: number): string {
    const sets = [
      `name = ${lit(this.name())}`, `balance = ${this.maybe(0.9, () => this.money()) ?? 'NULL'}`, `visits = IFNULL(visits, 0) + 1`,
      `last_login = ${lit(this.maybe(0.9, () => this.timestamp()))}`, `email = ${lit(this.maybe(0.7, () => `u${this.int(1, 1e6)}@example.org`))}`,
      `vip = 1 - vip`, `birthday = ${lit(this.maybe(0.5, () => this.date()))}`, `created_at = ${lit(this.datetime())}`,
    ];
    return `UPDATE customers SET ${sets.filter(() => this.rnd() < 0.5).concat(sets[0]!).join(', ')} WHERE id = ${id}`;
  }
  updateOrder(id: number): string {
    return `UPDATE orders SET region = ${lit(this.pick(Workload.regions))}, status = ${lit(this.pick(Workload.statuses))}, total = ${this.money()} WHERE id = ${id}`;
  }
  updateItem(orderId: number, line: number): string {
    return `UPDATE order_items SET qty = qty + ${this.int(1, 5)}, unit_price = ${this.money()}, note = ${lit(this.maybe(0.5, () => this.name()))} WHERE order_id = ${orderId} AND line_no = ${line}`;
  }
  updateShipment(id: number): string {
    return `UPDATE shipments SET shipped_at = ${lit(this.datetime())}, carrier = ${lit(this.pick(Workload.carriers))}, weight_g = ${this.maybe(0.7, () => String(this.int(1, 100_000))) ?? 'NULL'} WHERE id = ${id}`;
  }
  /** One random statement on any table, over keys that mostly exist (MariaDB decides what it does). */
  randomStatement(): string {
    const r = this.rnd();
    switch (this.int(0, 3)) {
      case 0: return r < 0.5 ? this.updateCustomer(this.int(1, 80)) : r < 0.75 ? `DELETE FROM customers WHERE id = ${this.int(1, 80)}` : this.insertCustomer();
      case 1: return r < 0.55 ? this.updateOrder(this.int(1, 100)) : r < 0.75 ? `DELETE FROM orders WHERE id = ${this.int(1, 100)}` : this.insertOrder(this.int(1, 120), 'INSERT IGNORE');
      case 2: return r < 0.5 ? this.updateItem(this.int(1, 100), this.int(1, 4)) : r < 0.75 ? `DELETE FROM order_items WHERE order_id = ${this.int(1, 100)} AND line_no = ${this.int(1, 4)}` : this.insertItem(this.int(1, 120), this.int(1, 6), 'INSERT IGNORE');
      default: return r < 0.55 ? this.updateShipment(this.int(1, 50)) : r < 0.75 ? `DELETE FROM shipments WHERE id = ${this.int(1, 50)}` : this.insertShipment(this.int(1, 60), 'INSERT IGNORE');
    }
  }
}

function tx(statements: readonly string[]): string {
  return `USE ${db};\nSTART TRANSACTION;\n${statements.join(';\n')};\nCOMMIT;`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connectSh(args: string[], extraEnv: Record<string, string> = {}) {
  return exec('bash', ['test/harness/connect.sh', ...args], { env: { ...process.env, ...extraEnv }, timeout: 180_000 });
}

/** Sum of the end offsets of Debezium's table topics (a topic not created yet counts 0). */
async function debeziumEndOffsets(): Promise<number> {
  let sum = 0;
  for (const t of tables) sum += await endOffsets(brokers!, `${prefix}.${db}.${t}`, 1).catch(() => 0);
  return sum;
}

describe('pipeline: MariaDB → Debezium (Kafka Connect) → Kafka → floe → Iceberg read by Spark', { skip }, () => {
  const ids = Object.fromEntries(tables.map((t) => [t, { namespace: [ns], name: t }]));
  let spark: EngineOutput = { tables: new Map(), sql: [] };
  let duckdb: EngineOutput = { tables: new Map(), sql: [] };
  let pyiceberg: EngineOutput = { tables: new Map(), sql: [] };
  const expected = new Map<string, string[]>();
  /** floe's table (schema, partition fields), or why it could not be loaded. */
  const floeTables = new Map<string, { schema: Schema; spec: string[] } | { error: string }>();
  let connectStarted = false;
  let handle: RunHandle | null = null;
  let stats = { published: 0, consumed: 0, deadLettered: 0, commits: 0, statements: 0, failure: null as unknown };

  before(async () => {
    const w = new Workload(20240307);
    // Rows that exist before the connector starts: they arrive as snapshot ('r') events.
    const snapshot: string[] = [];
    for (let i = 1; i <= 30; i++) snapshot.push(w.insertCustomer());
    for (let id = 1; id <= 40; id++) {
      snapshot.push(w.insertOrder(id));
      for (let line = 1; line <= w.int(1, 4); line++) snapshot.push(w.insertItem(id, line));
    }
    for (let id = 1; id <= 20; id++) snapshot.push(w.insertShipment(id));
    await sql(`${ddl}\n${snapshot.join(';\n')};`);
    stats.statements += snapshot.length;

    const dlq = `${prefix}-dlq`;
    await createTopics(brokers!, [dlq], 1);
    connectStarted = true;
    await connectSh(['start', 'test/harness/debezium-mariadb.properties.template'], {
      FLOE_CDC_CONNECTOR_NAME: connector,
      FLOE_CDC_TOPIC_PREFIX: prefix,
      FLOE_CDC_DATABASES: db,
      FLOE_CDC_SERVER_ID: String(10_000_000 + Math.floor(Math.random() * 1_000_000)),
    });
    // connect.sh returns once Debezium logged "Starting streaming"; Connect creates the table topics when it
    // sends their first (snapshot) records, which can be a second later. floe subscribes to existing topics
    // (a topic appearing under a running floe is not what this test is about).
    const snapshotDeadline = Date.now() + 60_000;
    while ((await debeziumEndOffsets()) < snapshot.length && Date.now() < snapshotDeadline) await sleep(200);

    const cfg = validateConfig({
      kafka: { brokers: brokers!, groupId: `g${run}`, topicPattern: `^${prefix}\\.${db}\\..*`, deadLetterTopic: dlq },
      ...harnessCatalogSections(),
      route: { pattern: `d${run}_{db}.{table}` },
      tables: { overrides: Object.fromEntries(Object.entries(partitionBy).map(([t, p]) => [`${ns}.${t}`, { partitionBy: p }])) },
      commit: { intervalMs: 1000, targetFileSizeBytes: 8 * 1024 * 1024 },
      shutdown: { timeoutMs: 60_000 },
    });
    // floe runs while the workload streams in, so the changes land over several commits.
    const h = await startPipeline(cfg, process.env.FLOE_TEST_LOG !== undefined ? createLogger('info') : silentLogger);
    handle = h;
    h.done.catch((e: unknown) => {
      stats.failure = e;
    });

    // Streaming workload, a few transactions and then autocommit statements.
    const inserts: string[] = [];
    for (let i = 0; i < 40; i++) inserts.push(w.insertCustomer());
    for (let id = 41; id <= 80; id++) {
      inserts.push(w.insertOrder(id));
      for (let line = 1; line <= w.int(1, 4); line++) inserts.push(w.insertItem(id, line));
    }
    for (let id = 21; id <= 40; id++) inserts.push(w.insertShipment(id));

    const updates: string[] = [];
    for (let i = 0; i < 30; i++) updates.push(w.updateOrder(1)); // one hot row, moving between regions (and NULL)
    updates.push(`UPDATE orders SET region = 'eu' WHERE id = 1`);
    for (let i = 0; i < 20; i++) updates.push(w.updateCustomer(5));
    for (let i = 0; i < 10; i++) updates.push(w.updateShipment(7)); // moves between days
    for (let i = 0; i < 40; i++) updates.push(w.pick([w.updateCustomer(w.int(1, 70)), w.updateOrder(w.int(1, 80)), w.updateItem(w.int(1, 80), w.int(1, 3)), w.updateShipment(w.int(1, 40))]));
    updates.push(`UPDATE orders SET status = 'priority', total = total / 2 WHERE region = 'eu'`); // one statement, many rows
    updates.push(`UPDATE orders SET region = 'us' WHERE region IS NULL`); // out of the null partition
    updates.push(`UPDATE order_items SET qty = qty * 2, note = CONCAT(IFNULL(note, ''), ' ✓') WHERE order_id BETWEEN 10 AND 20`);
    updates.push(`UPDATE shipments SET shipped_at = shipped_at + INTERVAL 1 DAY WHERE id <= 10`); // all move partitions

    const deletes = [
      'DELETE FROM customers WHERE id IN (2, 3, 7, 11)', // snapshot rows
      'DELETE FROM orders WHERE id IN (3, 4, 5, 6)',
      'DELETE FROM order_items WHERE order_id IN (3, 4, 5, 6)',
      'DELETE FROM shipments WHERE id IN (2, 3)',
      'DELETE FROM customers WHERE id BETWEEN 40 AND 45', // streamed rows
      `DELETE FROM orders WHERE region = 'apac' AND id > 60`,
      'DELETE FROM order_items WHERE order_id = 50 AND line_no = 1',
      'DELETE FROM shipments WHERE id = 30',
    ];
    for (let i = 0; i < 15; i++) deletes.push(w.pick([`DELETE FROM customers WHERE id = ${w.int(1, 70)}`, `DELETE FROM orders WHERE id = ${w.int(1, 80)}`, `DELETE FROM order_items WHERE order_id = ${w.int(1, 80)} AND line_no = ${w.int(1, 4)}`, `DELETE FROM shipments WHERE id = ${w.int(1, 40)}`]));

    const churn = [
      w.insertCustomer(3), // deleted key back, with other values
      w.insertOrder(4),
      w.insertItem(4, 1),
      w.insertShipment(2),
      w.insertOrder(500), w.updateOrder(500), w.updateOrder(500), 'DELETE FROM orders WHERE id = 500', // never visible
      'DELETE FROM orders WHERE id = 10', w.insertOrder(10), w.updateOrder(10), // delete + re-insert in one transaction
      'DELETE FROM order_items WHERE order_id = 13', w.insertItem(13, 1), w.insertItem(13, 2),
      'UPDATE order_items SET line_no = line_no + 100 WHERE order_id = 12', // key change: Debezium sends d + c
      'UPDATE shipments SET id = id + 1000 WHERE id = 5',
      `REPLACE INTO customers (id, name, email, balance, visits, vip, created_at, last_login, birthday) VALUES (8, 'replaced 🔁', NULL, NULL, NULL, 1, '1999-12-31 23:59:59.999000', NULL, '2000-02-29')`,
      `${w.insertShipment(6)} ON DUPLICATE KEY UPDATE carrier = 'dup ✈', shipped_at = '1970-01-01 00:00:00.000000'`,
      `INSERT INTO customers (id, name, created_at) VALUES (1000, 'only required ∅', '1969-07-20 20:17:40.000000')`,
    ];

    const tail: string[] = [];
    for (let i = 0; i < 90; i++) tail.push(w.randomStatement());
    for (let i = 0; i < 8; i++) tail.push(w.updateOrder(1));

    for (const batch of [inserts, updates, deletes, churn]) {
      await sql(tx(batch));
      stats.statements += batch.length;
      await sleep(1200);
    }
    // Autocommit: every statement its own transaction.
    await sql(`USE ${db};\n${tail.join(';\n')};`);
    stats.statements += tail.length;

    // Everything Debezium publishes is in Kafka once the end offsets stop moving.
    const deadline = Date.now() + 60_000;
    let last = -1;
    let stableSince = Date.now();
    for (;;) {
      const now = await debeziumEndOffsets();
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= 2000) break;
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    stats.published = last;
    const caughtUp = Date.now() + 120_000;
    while (h.pipeline.stats.consumed < stats.published && Date.now() < caughtUp && stats.failure === null) await sleep(200);
    h.stop();
    // A floe failure is reported by the first test; the tables it did commit are still compared.
    await h.done.catch((e: unknown) => {
      stats.failure ??= e;
    });
    handle = null;
    stats = { ...stats, consumed: h.pipeline.stats.consumed, deadLettered: h.pipeline.stats.deadLettered, commits: h.pipeline.stats.commits };

    for (const t of tables) expected.set(t, canonicalRows(schemas[t]!, await tableRows(db, t, schemas[t]!)));
    const catalog = restCatalog();
    try {
      for (const t of tables) {
        try {
          const loaded = await catalog.loadTable(ids[t]!);
          const schema = currentSchema(loaded.metadata);
          const spec = defaultSpec(loaded.metadata).fields.map((f) => `${transformToString(f.transform)}(${schema.field(f.sourceId)?.name ?? f.sourceId})`);
          floeTables.set(t, { schema, spec });
        } catch (e) {
          floeTables.set(t, { error: `floe did not create ${ns}.${t}: ${(e as Error).message}` });
        }
      }
    } finally {
      await catalog.close();
    }
    const readable = tables.filter((t) => !('error' in (floeTables.get(t) ?? { error: '' })));
    if (readable.length > 0) {
      const names = readable.map((t) => `${ns}.${t}`);
      [spark, duckdb, pyiceberg] = await Promise.all([readWithEngine('spark', names), readWithEngine('duckdb', names), readWithEngine('pyiceberg', names)]);
    }
  });

  after(async () => {
    if (handle !== null) {
      handle.stop();
      await handle.done.catch(() => undefined);
    }
    // The worker is shared by the tests of a run (scripts/test.sh stops it): remove only this test's connector.
    if (connectStarted) await connectSh(['delete', connector]).catch(() => undefined);
  });

  it('floe consumed everything Debezium published, without dead letters', () => {
    const f = stats.failure;
    assert.equal(f, null, `floe failed: ${f instanceof Error ? (f.stack ?? f.message) : String(f)}`);
    assert.ok(stats.published > stats.statements, `published ${stats.published} events for ${stats.statements} statements`);
    assert.equal(stats.consumed, stats.published);
    assert.equal(stats.deadLettered, 0);
    assert.ok(stats.commits >= 2, `commits: ${stats.commits}`);
  });

  for (const t of tables) {
    it(`floe created ${t} with the mapped MariaDB schema and partitioning`, () => {
      const got = floeTables.get(t);
      assert.ok(got !== undefined);
      if ('error' in got) assert.fail(got.error);
      const strip = (s: Schema) => ({ ...s.toJSON(), 'schema-id': 0 });
      assert.deepEqual(strip(got.schema), strip(schemas[t]!));
      assert.deepEqual(got.spec, (partitionBy[t] ?? []).map((p) => (p.includes('(') ? p : `identity(${p})`)));
    });

    for (const engine of ['spark', 'duckdb', 'pyiceberg'] as const) {
      it(`${engine} reads ${t} equal to MariaDB's SELECT *`, () => {
        const table = floeTables.get(t);
        if (table !== undefined && 'error' in table) assert.fail(table.error);
        const out = engine === 'spark' ? spark : engine === 'duckdb' ? duckdb : pyiceberg;
        assert.equal(out.failure, undefined, out.failure);
        const got = out.tables.get(`${ns}.${t}`);
        assert.ok(Array.isArray(got), `${engine}: ${JSON.stringify(got)}`);
        const want = expected.get(t) ?? [];
        assert.ok(want.length >= 15, `the workload leaves rows in ${t} (${want.length})`);
        assert.equal(got.length, want.length, `row count of ${t}`);
        assert.deepEqual(got, want);
      });
    }
  }
});
