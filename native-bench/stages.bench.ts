/**
 * Stage ceilings on this machine, on the same Debezium messages the end-to-end benchmark reads (the generator's
 * default CDC workload, JSON with or without the schema block): what each stage of floe's pipeline costs per
 * event when it runs alone, so an end-to-end figure reads as a fraction of what the stages allow.
 *   decode        DebeziumDecoder.decode (JSON.parse + envelope + key)
 *   apply         the whole worker apply (decode + route + window upsert by key), minus decode
 *   seal zstd     windows → Arrow columns → Parquet ZSTD files (local disk) + delete files, per event applied
 *   seal snappy   the same with SNAPPY
 *   index         primary-key index insert + lookup of a long key
 *   hand-off      a batch's bytes to a worker thread and back (structured clone of one ArrayBuffer)
 * Each stage is timed over the whole set (median of 3 runs), in CPU time of this process.
 *   node dist/native-bench/stages.bench.js [events=200000] [schema|noschema] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlCatalog } from '../src/catalog/sql-catalog.js';
import { Committer } from '../src/commit/committer.js';
import { DebeziumDecoder } from '../src/decode/debezium.js';
import { DebeziumGenerator, benchTables } from '../src/demo/debezium-generator.js';
import { LocalFileIO } from '../src/io/local-file-io.js';
import type { SourceMessage } from '../src/kafka/source.js';
import { PkIndex, type IndexedFile } from '../src/worker/pk-index.js';
import { InProcessWorkers } from '../src/worker/pool.js';
import type { ParquetCodec } from '../src/writer/parquet.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const WITH_SCHEMA = (process.argv[3] ?? 'noschema') === 'schema';
const JSON_OUT = process.argv.includes('--json');
const RUNS = 3;
const BATCH = 10_000;

function cpuMs<T>(f: () => T): { ms: number; value: T } {
  const c0 = process.cpuUsage();
  const value = f();
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000, value };
}

async function cpuMsAsync<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const c0 = process.cpuUsage();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000, value };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function messages(): SourceMessage[] {
  // FLOE_BENCH_WORKLOAD as in pipeline.bench.ts: cdc12 (default) or shop.
  const shop = process.env.FLOE_BENCH_WORKLOAD === 'shop';
  const gen = new DebeziumGenerator({ topicPrefix: 'stages', seed: 1, withSchema: WITH_SCHEMA, keySpace: Math.max(1000, EVENTS / 5), tombstones: false, ...(shop ? {} : { tables: benchTables(3), skew: 'zipf' as const }) });
  const out: SourceMessage[] = [];
  for (let i = 0; out.length < EVENTS; i++) {
    for (const ev of gen.next(i)) out.push({ topic: ev.topic, partition: 0, offset: out.length, key: ev.key, value: ev.value, timestamp: undefined });
  }
  return out.slice(0, EVENTS);
}

/** Applies every message (opening tables on demand) and seals once; CPU ms of apply and of seal. */
async function applyAndSeal(msgs: readonly SourceMessage[], codec: ParquetCodec): Promise<{ applyMs: number; sealMs: number; applied: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'floe-stages-'));
  const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
  try {
    const committer = new Committer(catalog, { groupId: 'stages', autoCreate: true, codec, tableCommitsInFlightMax: 4, tableDefaults: {}, tables: {} });
    const workers = new InProcessWorkers({ decoder: {}, route: { pattern: '{db}.{table}' }, codec, targetFileSizeBytes: 128 << 20, s3: {} });
    // Open the tables first (not timed): the first record of each table asks for it.
    const open = async (batch: readonly SourceMessage[]): Promise<void> => {
      let rest = batch;
      for (;;) {
        const res = await workers.apply(0, rest);
        if (res.need === undefined) return;
        await workers.openTable(0, await committer.table(res.need.id, res.need.shape));
        rest = rest.slice(res.done);
      }
    };
    const firsts = new Map<string, SourceMessage>();
    for (const m of msgs) if (!firsts.has(m.topic)) firsts.set(m.topic, m);
    await open([...firsts.values()]);
    await workers.seal();
    await workers.abandonSeals(); // the opening window is not committed here
    let applied = 0;
    const apply = await cpuMsAsync(async () => {
      for (let i = 0; i < msgs.length; i += BATCH) applied += (await workers.apply(0, msgs.slice(i, i + BATCH))).applied;
    });
    const seal = await cpuMsAsync(() => workers.seal());
    return { applyMs: apply.ms, sealMs: seal.ms, applied };
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function handOffMs(msgs: readonly SourceMessage[]): Promise<number> {
  // The bytes a batch carries to a worker thread: keys and values packed in one ArrayBuffer, transferred and echoed back.
  const w = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m, [m]));', { eval: true });
  try {
    const batches: Buffer[] = [];
    for (let i = 0; i < msgs.length; i += BATCH) batches.push(Buffer.concat(msgs.slice(i, i + BATCH).flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0)])));
    const t = await cpuMsAsync(async () => {
      for (const b of batches) {
        const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        await new Promise<void>((resolve) => {
          w.once('message', () => resolve());
          w.postMessage(ab, [ab]);
        });
      }
    });
    return t.ms;
  } finally {
    await w.terminate();
  }
}

async function main(): Promise<void> {
  const msgs = messages();
  const bytes = msgs.reduce((a, m) => a + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0);
  const decodeRuns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const d = new DebeziumDecoder({});
    decodeRuns.push(cpuMs(() => {
      let n = 0;
      for (const m of msgs) if (d.decode(m.topic, m.key, m.value).kind === 'change') n++;
      return n;
    }).ms);
  }
  const runs: Record<ParquetCodec, { applyMs: number; sealMs: number; applied: number }[]> = { zstd: [], snappy: [] } as never;
  for (let r = 0; r < RUNS; r++) for (const codec of ['zstd', 'snappy'] as ParquetCodec[]) runs[codec].push(await applyAndSeal(msgs, codec));
  const applied = runs.zstd[0]?.applied ?? EVENTS;
  const index = new PkIndex();
  const file: IndexedFile = { path: 'f', specId: 0, partition: [] };
  const keys = Array.from({ length: EVENTS }, (_, i) => [BigInt((i * 2654435761) % 4294967296)]);
  const indexRuns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    indexRuns.push(cpuMs(() => {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as bigint[];
        index.get(k);
        index.set(k, file, i);
      }
    }).ms);
  }
  const handOff: number[] = [];
  for (let r = 0; r < RUNS; r++) handOff.push(await handOffMs(msgs));

  const us = (ms: number, n = EVENTS): number => Number(((ms * 1000) / n).toFixed(2));
  const decode = us(median(decodeRuns));
  const applyOnly = Math.max(0, us(median(runs.zstd.map((x) => x.applyMs))) - decode);
  const sealZstd = us(median(runs.zstd.map((x) => x.sealMs)));
  const sealSnappy = us(median(runs.snappy.map((x) => x.sealMs)));
  const idx = us(median(indexRuns));
  const hand = us(median(handOff));
  const stages = { decode, window: Number(applyOnly.toFixed(2)), sealZstd, sealSnappy, index: idx, handOff: hand };
  const sum = Number((decode + applyOnly + sealZstd).toFixed(2)); // in-process path: no hand-off; the index runs inside apply/seal
  const result = { events: EVENTS, applied, withSchema: WITH_SCHEMA, bytesPerEvent: Math.round(bytes / EVENTS), usPerEvent: stages, stageSumUsPerEvent: sum, stageSumCpuSecondsPerMillion: sum };
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`stage ceilings: ${EVENTS} events (${process.env.FLOE_BENCH_WORKLOAD ?? 'cdc12'}), ${WITH_SCHEMA ? 'with' : 'without'} the schema block, ${result.bytesPerEvent} B/event (CPU µs per event, median of ${RUNS})\n`);
  process.stdout.write('| stage | µs/event |\n|---|---|\n');
  for (const [k, v] of Object.entries(stages)) process.stdout.write(`| ${k} | ${v} |\n`);
  process.stdout.write(`| sum (decode + window + seal zstd) | ${sum} (= ${sum} CPU s per million events) |\n`);
}

await main();
