/**
 * A generator of Debezium MySQL change events, encoded exactly as the JSON converter writes them (key and
 * value, with or without the schema block), for `floe demo`, the tests and the benchmarks. It keeps the
 * source tables' state, so the expected final table is known independently of floe's decoder:
 *   customers(id BIGINT PK, name VARCHAR, email VARCHAR, balance DECIMAL(12,2), created_at DATETIME(6))
 *   orders(id BIGINT PK, customer_id BIGINT, status VARCHAR, amount DECIMAL(12,2), region VARCHAR,
 *          updated_at TIMESTAMP(6))  -- routed with partitioning by region: not part of the key
 *   order_items(order_id BIGINT, line_no INT, sku VARCHAR, qty INT; PK (order_id, line_no))
 * Ops: 30% inserts, 60% updates (hot keys: a skewed key choice), 10% deletes (some carrying only the key).
 */

export type SourceValue = bigint | number | string | boolean | null;
export type SourceRow = Record<string, SourceValue>;

interface ColumnDef {
  readonly name: string;
  /** Kafka Connect schema of the column, as Debezium writes it (time.precision.mode=adaptive_time_microseconds). */
  readonly schema: Record<string, unknown>;
  readonly encode: (v: SourceValue) => unknown;
}

export interface TableDef {
  readonly db: string;
  readonly table: string;
  readonly columns: readonly ColumnDef[];
  readonly key: readonly string[];
  readonly make: (rng: Rng, key: SourceValue[], version: number) => SourceRow;
}

export interface GeneratedEvent {
  readonly table: TableDef;
  readonly topic: string;
  readonly key: Buffer;
  readonly value: Buffer | null;
  readonly op: 'c' | 'u' | 'd' | 'tombstone';
}

/** xorshift32: deterministic runs from a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Skewed pick in [0, n): small indexes are much hotter (approximately Zipf-like). */
  skewed(n: number): number {
    return Math.min(n - 1, Math.floor(n * this.next() ** 3));
  }
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

/**
 * Zipf(s) over [0, n): P(k) ∝ 1 / (k + 1)^s, drawn by binary search in the cumulative distribution (built once,
 * n doubles). s = 1 is the classic web/OLTP skew: the hottest 1 % of keys take about half of the changes at n = 1 M.
 */
export class Zipf {
  private readonly cdf: Float64Array;
  constructor(n: number, s = 1) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / (k + 1) ** s;
    for (let k = 0; k < n; k++) this.cdf[k] = (this.cdf[k] as number) / sum;
  }
  pick(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const decimalBase64 = (v: SourceValue): unknown => {
  if (v === null) return null;
  let n = BigInt(v);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(BigInt.asUintN(8, n)));
    n >>= 8n;
  } while (!((n === 0n && (bytes[0] as number) < 0x80) || (n === -1n && (bytes[0] as number) >= 0x80)));
  return Buffer.from(bytes).toString('base64');
};
const same = (v: SourceValue): unknown => (typeof v === 'bigint' ? Number(v) : v);
const isoMicros = (v: SourceValue): unknown => {
  if (v === null) return null;
  const us = BigInt(v);
  const ms = Number(us / 1000n);
  const frac = String(us % 1_000_000n).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
};

const col = (name: string, schema: Record<string, unknown>, encode: (v: SourceValue) => unknown = same): ColumnDef => ({ name, schema: { ...schema, field: name }, encode });
const int64 = (name: string, optional = true) => col(name, { type: 'int64', optional });
const int32 = (name: string, optional = true) => col(name, { type: 'int32', optional });
const str = (name: string) => col(name, { type: 'string', optional: true });
const dec = (name: string, p: number, s: number) =>
  col(name, { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: String(s), 'connect.decimal.precision': String(p) } }, decimalBase64);
const microTs = (name: string) => col(name, { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', version: 1 });
const zonedTs = (name: string) => col(name, { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1 }, isoMicros);

const BASE_MICROS = 1_767_225_600_000_000n; // 2026-01-01
const regions = ['eu', 'us', 'ap', 'sa'];
const statuses = ['new', 'paid', 'shipped', 'delivered', 'returned'];

const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
/** A string of 20-60 characters (words, so Parquet dictionary and ZSTD see realistic text). */
function text(rng: Rng, min = 20, max = 60): string {
  const len = min + rng.int(max - min + 1);
  let out = '';
  while (out.length < len) out += `${words[rng.int(words.length)] ?? 'x'} `;
  return out.slice(0, len);
}
const bool = (name: string) => col(name, { type: 'boolean', optional: true });
// JsonConverter's schema names (JsonSchema): "float" and "double", not the Schema.Type enum names FLOAT32/FLOAT64;
// Kafka Connect itself refuses "float64" (DataException: Unknown schema type).
const float64 = (name: string) => col(name, { type: 'double', optional: true });

/**
 * The benchmark's realistic CDC tables (issue: "~12 columns of ids, strings of 20-60 chars, ints, decimals,
 * booleans, datetimes, nullable columns"): `count` tables `t0..t<count-1>` of one shape.
 */
export function benchTables(count: number, db = 'bench'): TableDef[] {
  return Array.from({ length: count }, (_, i) => ({
    db,
    table: `t${i}`,
    columns: [
      int64('id', false), int64('account_id'), str('name'), str('email'), str('city'), str('note'), str('status'),
      int32('qty'), dec('amount', 12, 2), float64('score'), bool('active'), microTs('created_at'), zonedTs('updated_at'),
    ],
    key: ['id'],
    make: (rng, [id], v) => ({
      id: id as bigint,
      account_id: BigInt(rng.int(100_000)),
      name: text(rng),
      email: `${text(rng, 10, 20).replace(/ /g, '.')}@example.com`,
      city: text(rng, 20, 30),
      note: rng.int(5) === 0 ? null : text(rng), // nullable: 20 % null
      status: statuses[v % statuses.length] ?? 'new',
      qty: rng.int(1000),
      amount: BigInt(rng.int(100_000_000)),
      score: rng.int(1_000_000) / 1000,
      active: rng.int(2) === 0,
      created_at: BASE_MICROS - BigInt(rng.int(1_000_000_000)) * 1_000_000n,
      updated_at: BASE_MICROS + BigInt(v) * 60_000_000n + BigInt(rng.int(1_000_000)),
    }),
  }));
}

export function shopTables(db = 'shop'): TableDef[] {
  return [
    {
      db,
      table: 'customers',
      columns: [int64('id', false), str('name'), str('email'), dec('balance', 12, 2), microTs('created_at')],
      key: ['id'],
      make: (rng, [id], v) => ({
        id: id as bigint,
        name: `customer ${String(id)} v${v}${rng.int(10) === 0 ? ' — ünïcødé 🧊' : ''}`,
        email: rng.int(8) === 0 ? null : `c${String(id)}@example.com`,
        balance: BigInt(rng.int(2_000_000)) - 500_000n,
        created_at: BASE_MICROS - 86_400_000_000n * 400n + BigInt(rng.int(1_000_000_000)) * 1_000_000n + BigInt(rng.int(1_000_000)),
      }),
    },
    {
      db,
      table: 'orders',
      columns: [int64('id', false), int64('customer_id'), str('status'), dec('amount', 12, 2), str('region'), zonedTs('updated_at')],
      key: ['id'],
      make: (rng, [id], v) => ({
        id: id as bigint,
        customer_id: BigInt(rng.int(1000)),
        status: statuses[v % statuses.length] ?? 'new',
        amount: BigInt(rng.int(10_000_000)),
        region: regions[rng.int(regions.length)] ?? 'eu',
        updated_at: BASE_MICROS + BigInt(v) * 60_000_000n + BigInt(rng.int(1_000_000)),
      }),
    },
    {
      db,
      table: 'order_items',
      columns: [int64('order_id', false), int32('line_no', false), str('sku'), int32('qty')],
      key: ['order_id', 'line_no'],
      make: (rng, [orderId, line], v) => ({ order_id: orderId as bigint, line_no: line as number, sku: `SKU-${rng.int(500)}`, qty: 1 + ((v + rng.int(5)) % 20) }),
    },
  ];
}

function structSchema(name: string, cols: readonly ColumnDef[], optional: boolean): Record<string, unknown> {
  return { type: 'struct', fields: cols.map((c) => c.schema), optional, name };
}

export interface GeneratorOptions {
  readonly topicPrefix: string;
  readonly seed: number;
  /** Include the schema block in every message (value.converter.schemas.enable=true). */
  readonly withSchema: boolean;
  readonly keySpace: number;
  readonly tables?: readonly TableDef[];
  /** Emit a tombstone after each delete, as Debezium does by default. */
  readonly tombstones?: boolean;
  /** Event time (`ts_ms`) source; by default a deterministic clock from 2026-01-01 advancing 1-3 ms per event. */
  readonly clock?: () => number;
  /** Shares of inserts and deletes (updates take the rest); default 0.3 and 0.1. A key not in the table is inserted. */
  readonly opMix?: { readonly insert: number; readonly delete: number };
  /** Key choice: `hot` (default: cubic skew), `uniform`, `zipf` (s = 1), or `sequential` (a new key per event: inserts only, for append-only sinks). */
  readonly skew?: 'hot' | 'uniform' | 'zipf' | 'sequential';
  /**
   * Let a third of the deletes carry only the key (`before` = null, as with a minimal row image); default true.
   * false: every delete carries its full `before` row, as MySQL's binlog_row_image=FULL always does.
   */
  readonly keyOnlyDeletes?: boolean;
}

export class DebeziumGenerator {
  readonly tables: readonly TableDef[];
  private readonly rng: Rng;
  /** Current source state per table: key text → row. */
  readonly state = new Map<string, Map<string, SourceRow>>();
  private readonly versions = new Map<string, number>();
  private readonly envelopeSchemas = new Map<string, string>();
  private readonly keySchemas = new Map<string, string>();
  private tsMs = 1_767_225_600_000;
  private readonly zipf: Zipf | null;

  private sequence = 0;

  private pickKey(): number {
    if (this.zipf !== null) return this.zipf.pick(this.rng);
    if (this.opts.skew === 'sequential') return this.sequence++;
    if (this.opts.skew === 'uniform') return this.rng.int(this.opts.keySpace);
    return this.rng.skewed(this.opts.keySpace);
  }

  constructor(readonly opts: GeneratorOptions) {
    this.tables = opts.tables ?? shopTables();
    if (opts.opMix !== undefined && !(opts.opMix.insert >= 0 && opts.opMix.delete >= 0 && opts.opMix.insert + opts.opMix.delete <= 1)) {
      throw new Error(`opMix shares must be in [0, 1] and sum to at most 1: ${JSON.stringify(opts.opMix)}`);
    }
    this.zipf = opts.skew === 'zipf' ? new Zipf(opts.keySpace) : null;
    this.rng = new Rng(opts.seed);
    for (const t of this.tables) {
      this.state.set(t.table, new Map());
      const rowSchema = structSchema(`${opts.topicPrefix}.${t.db}.${t.table}.Value`, t.columns, true);
      const envelope = {
        type: 'struct',
        fields: [
          { ...rowSchema, field: 'before' },
          { ...rowSchema, field: 'after' },
          {
            type: 'struct',
            fields: [
              { type: 'string', optional: false, field: 'version' },
              { type: 'string', optional: false, field: 'connector' },
              { type: 'string', optional: false, field: 'name' },
              { type: 'int64', optional: false, field: 'ts_ms' },
              { type: 'string', optional: true, field: 'db' },
              { type: 'string', optional: true, field: 'table' },
              { type: 'string', optional: false, field: 'file' },
              { type: 'int64', optional: false, field: 'pos' },
            ],
            optional: false,
            name: 'io.debezium.connector.mysql.Source',
            field: 'source',
          },
          { type: 'string', optional: false, field: 'op' },
          { type: 'int64', optional: true, field: 'ts_ms' },
        ],
        optional: false,
        name: `${opts.topicPrefix}.${t.db}.${t.table}.Envelope`,
        version: 2,
      };
      this.envelopeSchemas.set(t.table, JSON.stringify(envelope));
      this.keySchemas.set(t.table, JSON.stringify(structSchema(`${opts.topicPrefix}.${t.db}.${t.table}.Key`, t.columns.filter((c) => t.key.includes(c.name)), false)));
    }
  }

  topicOf(t: TableDef): string {
    return `${this.opts.topicPrefix}.${t.db}.${t.table}`;
  }

  private encodeRow(t: TableDef, row: SourceRow | null): Record<string, unknown> | null {
    if (row === null) return null;
    const out: Record<string, unknown> = {};
    for (const c of t.columns) out[c.name] = c.encode(row[c.name] ?? null);
    return out;
  }

  private message(t: TableDef, keyVals: SourceValue[], op: 'c' | 'u' | 'd', before: SourceRow | null, after: SourceRow | null, seq: number): GeneratedEvent {
    const keyObj: Record<string, unknown> = {};
    t.key.forEach((k, i) => {
      keyObj[k] = same(keyVals[i] ?? null);
    });
    const payload = {
      before: this.encodeRow(t, before),
      after: this.encodeRow(t, after),
      source: { version: '2.7.0.Final', connector: 'mysql', name: this.opts.topicPrefix, ts_ms: this.tsMs, db: t.db, table: t.table, file: 'mysql-bin.000003', pos: seq },
      op,
      ts_ms: this.tsMs,
    };
    const key = this.opts.withSchema ? `{"schema":${this.keySchemas.get(t.table) ?? ''},"payload":${JSON.stringify(keyObj)}}` : JSON.stringify(keyObj);
    const value = this.opts.withSchema ? `{"schema":${this.envelopeSchemas.get(t.table) ?? ''},"payload":${JSON.stringify(payload)}}` : JSON.stringify(payload);
    return { table: t, topic: this.topicOf(t), key: Buffer.from(key), value: Buffer.from(value), op };
  }

  /** The next change events (a delete may be followed by its tombstone). */
  next(seq: number): GeneratedEvent[] {
    const step = 1 + this.rng.int(3); // drawn either way: the same seed gives the same changes with any clock
    this.tsMs = this.opts.clock !== undefined ? this.opts.clock() : this.tsMs + step;
    const t = this.tables[this.rng.int(this.tables.length)] as TableDef;
    const state = this.state.get(t.table) as Map<string, SourceRow>;
    const roll = this.rng.next();
    const keyVals: SourceValue[] = t.key.length === 1 ? [BigInt(this.pickKey())] : [BigInt(this.pickKey()), this.rng.int(4)];
    const k = keyVals.map(String).join('|');
    const existing = state.get(k) ?? null;
    const version = (this.versions.get(`${t.table}|${k}`) ?? 0) + 1;
    this.versions.set(`${t.table}|${k}`, version);
    const insertShare = this.opts.opMix?.insert ?? 0.3;
    const deleteShare = this.opts.opMix?.delete ?? 0.1;
    if (existing === null || roll < insertShare) {
      const row = t.make(this.rng, keyVals, version);
      state.set(k, row);
      return [this.message(t, keyVals, existing === null ? 'c' : 'u', existing, row, seq)];
    }
    if (roll < 1 - deleteShare) {
      const row = t.make(this.rng, keyVals, version);
      state.set(k, row);
      return [this.message(t, keyVals, 'u', existing, row, seq)];
    }
    state.delete(k);
    // Some deletes carry only the key (before = null), as with a minimal row image.
    const keyOnly = this.rng.int(3) === 0 && this.opts.keyOnlyDeletes !== false; // drawn either way, as above
    const del = this.message(t, keyVals, 'd', keyOnly ? null : existing, null, seq);
    if (this.opts.tombstones === false) return [del];
    return [del, { table: t, topic: del.topic, key: del.key, value: null, op: 'tombstone' }];
  }
}
