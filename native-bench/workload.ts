/**
 * Loads one benchmark workload into topics of a Kafka broker, once, so every system of the comparison reads the
 * same bytes, and writes what the systems and the correctness check need to know about it:
 *   <out>/workload.json            topics, tables, columns (Kafka Connect schemas), event and byte counts
 *   <out>/expected/<db>.<table>.jsonl  the source table's final rows (bigints as strings; decimals unscaled)
 *
 *   node dist/native-bench/workload.js --brokers HOST:PORT --prefix P --events N --mix cdc|insert [--noschema] --out DIR
 *
 * `cdc`: 30 % inserts, 60 % updates, 10 % deletes on Zipf(1) keys, every delete carrying its before row (MySQL's
 * binlog_row_image=FULL). `insert`: a new key per event (what an append-only sink can load correctly).
 * Batches are uncompressed by default, as a Kafka Connect worker's producer writes them (compression.type=none);
 * --compression lz4|zstd|snappy|gzip to load them compressed (every consumer then pays the decompression).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { DebeziumGenerator, benchTables, type SourceRow } from '../src/demo/debezium-generator.js';

export interface WorkloadTable {
  readonly topic: string;
  readonly db: string;
  readonly table: string;
  readonly key: readonly string[];
  /** Kafka Connect schema of each column, as Debezium writes it. */
  readonly columns: readonly { readonly name: string; readonly connect: Record<string, unknown> }[];
  readonly expectedRows: number;
  readonly expectedFile: string;
}

export interface Workload {
  readonly prefix: string;
  readonly mix: 'cdc' | 'insert';
  readonly withSchema: boolean;
  readonly partitions: number;
  readonly compression: string;
  readonly events: number;
  readonly bytes: number;
  readonly ops: Record<string, number>;
  readonly tables: readonly WorkloadTable[];
}

const PARTITIONS = 4;
const TABLES = 3;
const PRODUCE_FLUSH_TIMEOUT_MS = 300_000;

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const TOPIC_CREATE_TIMEOUT_MS = 30_000;

/** Creates topics on the benchmark broker (replication 1), naming the topic a failure is about. */
export async function createTopics(brokers: string, topics: readonly { readonly topic: string; readonly partitions: number }[]): Promise<void> {
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': brokers });
  try {
    for (const { topic, partitions } of topics) {
      await new Promise<void>((res, rej) =>
        admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, TOPIC_CREATE_TIMEOUT_MS, (e) => (e ? rej(new Error(`create ${topic}: ${e.message}`)) : res())),
      );
    }
  } finally {
    admin.disconnect();
  }
}

const jsonRow = (r: SourceRow): string => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export async function loadWorkload(opts: { brokers: string; prefix: string; events: number; mix: 'cdc' | 'insert'; withSchema: boolean; out: string; compression?: string }): Promise<Workload> {
  const tables = benchTables(TABLES);
  const gen = new DebeziumGenerator({
    topicPrefix: opts.prefix,
    seed: 1,
    withSchema: opts.withSchema,
    keySpace: Math.max(1000, Math.floor(opts.events / 5)),
    tables,
    tombstones: false,
    keyOnlyDeletes: false,
    ...(opts.mix === 'insert' ? { skew: 'sequential' as const, opMix: { insert: 1, delete: 0 } } : { skew: 'zipf' as const }),
  });
  await createTopics(opts.brokers, tables.map((t) => ({ topic: gen.topicOf(t), partitions: PARTITIONS })));
  const p = new Kafka.Producer({ 'metadata.broker.list': opts.brokers, 'linger.ms': 20, 'batch.num.messages': 10_000, 'queue.buffering.max.messages': 2_000_000, 'compression.type': (opts.compression ?? 'none') as 'none' | 'lz4' | 'zstd' | 'snappy' | 'gzip' });
  await new Promise<void>((res, rej) => p.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  let bytes = 0;
  let events = 0;
  const ops: Record<string, number> = { c: 0, u: 0, d: 0 };
  for (let i = 0; i < opts.events; i++) {
    for (const ev of gen.next(i)) {
      for (;;) {
        try {
          p.produce(ev.topic, null, ev.value, ev.key, Date.now());
          break;
        } catch (e) {
          if ((e as { code?: number }).code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw e;
          p.poll();
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      bytes += (ev.value?.length ?? 0) + ev.key.length;
      ops[ev.op] = (ops[ev.op] ?? 0) + 1;
      events++;
    }
  }
  await new Promise<void>((res, rej) => p.flush(PRODUCE_FLUSH_TIMEOUT_MS, (e) => (e ? rej(new Error(e.message)) : res())));
  await new Promise<void>((res) => p.disconnect(() => res()));

  await mkdir(join(opts.out, 'expected'), { recursive: true });
  const described: WorkloadTable[] = [];
  for (const t of tables) {
    const rows = [...(gen.state.get(t.table)?.values() ?? [])];
    const expectedFile = join(opts.out, 'expected', `${t.db}.${t.table}.jsonl`);
    await writeFile(expectedFile, rows.map(jsonRow).join('\n') + (rows.length > 0 ? '\n' : ''));
    described.push({ topic: gen.topicOf(t), db: t.db, table: t.table, key: t.key, columns: t.columns.map((c) => ({ name: c.name, connect: c.schema })), expectedRows: rows.length, expectedFile });
  }
  const w: Workload = { prefix: opts.prefix, mix: opts.mix, withSchema: opts.withSchema, partitions: PARTITIONS, compression: opts.compression ?? 'none', events, bytes, ops, tables: described };
  await writeFile(join(opts.out, 'workload.json'), JSON.stringify(w, null, 2));
  return w;
}

if (process.argv[1]?.endsWith('workload.js') === true) {
  const mix = arg('mix', 'cdc');
  if (mix !== 'cdc' && mix !== 'insert') throw new Error(`--mix must be cdc or insert, not ${mix}`);
  const w = await loadWorkload({ brokers: arg('brokers', process.env.FLOE_KAFKA_BOOTSTRAP), prefix: arg('prefix'), events: Number(arg('events', '200000')), mix, withSchema: !process.argv.includes('--noschema'), out: arg('out'), compression: arg('compression', 'none') });
  console.log(JSON.stringify({ prefix: w.prefix, events: w.events, bytes: w.bytes, ops: w.ops, rows: w.tables.map((t) => t.expectedRows) }));
}
