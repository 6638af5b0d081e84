/**
 * End-to-end throughput of floe's pipeline on a real Kafka broker: the generator's Debezium events are
 * loaded into topics first, then floe runs from the filled topics to the last committed snapshot.
 * Reports events/s, MB/s, CPU seconds per million events (process CPU: all threads), peak RSS, commits.
 *   FLOE_KAFKA_BOOTSTRAP=127.0.0.1:9092 node dist/native-bench/pipeline.bench.js [events] [schema|noschema] [local|rest]
 * `local` writes to a local warehouse with the embedded SQL catalog; `rest` to the harness's REST catalog on S3.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { startPipeline } from '../src/cli/run.js';
import { validateConfig } from '../src/config/config.js';
import { benchTarget } from './targets.js';
import { createTopics } from './workload.js';
import { DebeziumGenerator, benchTables, shopTables } from '../src/demo/debezium-generator.js';
import { silentLogger } from '../src/log.js';

const events = Number(process.argv[2] ?? 200_000);
const withSchema = (process.argv[3] ?? 'noschema') === 'schema';
const target = process.argv[4] ?? 'local';
const brokers = process.env.FLOE_KAFKA_BOOTSTRAP ?? '';
if (brokers === '') throw new Error('set FLOE_KAFKA_BOOTSTRAP (bash test/harness/kafka.sh start; eval "$(bash test/harness/kafka.sh env)")');
const partitions = 4;
// The producer runs in a child process so floe's peak RSS and CPU are measured alone.
const produceOnly = process.argv[5] === '--produce';
const run = produceOnly ? (process.argv[6] ?? '') : randomBytes(3).toString('hex');
const prefix = `bench${run}`;
/** FLOE_BENCH_WORKLOAD: `cdc12` (default: 3 tables of 13 columns, 30/60/10 % c/u/d, Zipf keys) or `shop` (the demo's tables, hot keys). */
const workload = process.env.FLOE_BENCH_WORKLOAD ?? 'cdc12';
const tableDefs = workload === 'shop' ? shopTables() : benchTables(3);
const generatorOptions = workload === 'shop' ? {} : { tables: tableDefs, skew: 'zipf' as const };

async function produce(): Promise<{ produced: number; bytes: number; produceMs: number }> {
  await createTopics(brokers, [...tableDefs.map((t) => ({ topic: `${prefix}.${t.db}.${t.table}`, partitions })), { topic: `${prefix}-dlq`, partitions: 1 }]);
  const gen = new DebeziumGenerator({ topicPrefix: prefix, seed: 1, withSchema, keySpace: Math.max(1000, events / 5), tombstones: false, ...generatorOptions });
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 20, 'batch.num.messages': 10_000, 'queue.buffering.max.messages': 2_000_000, 'compression.type': 'lz4' });
  await new Promise<void>((res, rej) => p.connect({}, (e) => (e ? rej(new Error(e.message)) : res())));
  let bytes = 0;
  let produced = 0;
  const tp0 = Date.now();
  for (let i = 0; i < events; i++) {
    for (const ev of gen.next(i)) {
      for (;;) {
        try {
          p.produce(ev.topic, null, ev.value, ev.key, Date.now());
          break;
        } catch {
          p.poll();
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      bytes += (ev.value?.length ?? 0) + ev.key.length;
      produced++;
    }
  }
  await new Promise<void>((res, rej) => p.flush(120_000, (e) => (e ? rej(new Error(e.message)) : res())));
  await new Promise<void>((res) => p.disconnect(() => res()));
  const produceMs = Date.now() - tp0;

  return { produced, bytes, produceMs };
}

async function main(): Promise<void> {
  const child = execFileSync(process.execPath, [process.argv[1] ?? '', String(events), withSchema ? 'schema' : 'noschema', target, '--produce', run], { env: process.env, maxBuffer: 1 << 20 });
  const { produced, bytes, produceMs } = JSON.parse(child.toString()) as { produced: number; bytes: number; produceMs: number };
  const dir = await mkdtemp(join(tmpdir(), 'floe-bench-'));
  const cfg = validateConfig({
    kafka: { brokers, groupId: `bench-${run}`, topicPattern: `^${prefix}\\..*`, deadLetterTopic: `${prefix}-dlq` },
    ...benchTarget(target, dir),
    route: { pattern: `b${run}_{db}.{table}` },
    // FLOE_DELETE_MODE=equality compares with equality deletes (default: position, through the key index)
    tables: {
      ...(process.env.FLOE_DELETE_MODE !== undefined ? { defaults: { deleteMode: process.env.FLOE_DELETE_MODE } } : {}),
      overrides: { [`b${run}_shop.orders`]: { partitionBy: ['region'] } },
    },
    commit: { intervalMs: 10_000, ...(process.env.FLOE_BUFFER_BYTES !== undefined ? { bufferBytesMax: Number(process.env.FLOE_BUFFER_BYTES) } : {}) },
    ...(process.env.FLOE_WORKERS !== undefined ? { workers: { count: Number(process.env.FLOE_WORKERS) } } : {}),
  });
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const handle = await startPipeline(cfg, silentLogger);
  let failure: unknown = null;
  handle.done.catch((e: unknown) => {
    failure = e;
  });
  while (failure === null && handle.pipeline.stats.consumed < produced) await new Promise((r) => setTimeout(r, 20));
  handle.stop();
  await handle.done;
  const ms = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const out = {
    events: produced,
    workload,
    withSchema,
    target,
    bytesPerEvent: Math.round(bytes / produced),
    produceSeconds: produceMs / 1000,
    floeSeconds: ms / 1000,
    eventsPerSecond: Math.round(produced / (ms / 1000)),
    mbPerSecond: Number((bytes / 1e6 / (ms / 1000)).toFixed(1)),
    cpuSecondsPerMillionEvents: Number(((cpuS / produced) * 1e6).toFixed(2)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    commitCycles: handle.pipeline.stats.commits,
    workers: cfg.workers.count,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
}

if (produceOnly) process.stdout.write(JSON.stringify(await produce()));
else await main();
