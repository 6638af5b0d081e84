/**
 * Experiment for the next step on the fetch: what reading the same topics costs when TypeScript speaks the Kafka
 * Fetch protocol itself and keeps each fetched record batch as one Buffer with per-record (offset, value start,
 * value end) numbers, instead of node-rdkafka's JavaScript object and copied Buffer per message. Single broker,
 * no consumer group, no compression (the comparison's default topics): a ceiling, not a client.
 *   FLOE_KAFKA_BOOTSTRAP=... node dist/native-bench/fetch-protocol.bench.js TOPIC[,TOPIC...] EVENTS [--json]
 *
 * Wire formats (Kafka protocol guide, "Fetch API" and "Record Batch"):
 *   Request header v1: api_key INT16, api_version INT16, correlation_id INT32, client_id NULLABLE_STRING
 *   Fetch Request v11: replica_id INT32, max_wait_ms INT32, min_bytes INT32, max_bytes INT32, isolation_level INT8,
 *     session_id INT32, session_epoch INT32, [topic STRING [partition INT32, current_leader_epoch INT32,
 *     fetch_offset INT64, log_start_offset INT64, partition_max_bytes INT32]], [forgotten topics], rack_id STRING
 *   Fetch Response v11: correlation_id INT32, throttle_time_ms INT32, error_code INT16, session_id INT32,
 *     [topic STRING [partition_index INT32, error_code INT16, high_watermark INT64, last_stable_offset INT64,
 *     log_start_offset INT64, [aborted: producer_id INT64, first_offset INT64], preferred_read_replica INT32,
 *     records NULLABLE_BYTES]]
 *   RecordBatch: baseOffset INT64, batchLength INT32, partitionLeaderEpoch INT32, magic INT8 (2), crc UINT32,
 *     attributes INT16, lastOffsetDelta INT32, baseTimestamp INT64, maxTimestamp INT64, producerId INT64,
 *     producerEpoch INT16, baseSequence INT32, records count INT32, then per record: length VARINT,
 *     attributes INT8, timestampDelta VARLONG, offsetDelta VARINT, keyLength VARINT, key, valueLength VARINT,
 *     value, headers count VARINT, [headerKeyLength VARINT, key, headerValueLength VARINT, value]
 */
import { connect, type Socket } from 'node:net';
import Kafka from 'node-rdkafka';
import { fetchCeiling } from './fetch.bench.js';

const FETCH_API_KEY = 1;
const FETCH_VERSION = 11;
const FETCH_MAX_BYTES = 64 * 1024 * 1024;
const PARTITION_MAX_BYTES = 8 * 1024 * 1024;
const FETCH_MAX_WAIT_MS = 200;
const IDLE_TIMEOUT_MS = 30_000;
const RECORD_BATCH_HEADER_BYTES = 61;
const COMPRESSION_MASK = 0x07;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  offset: bigint;
}

/** Per fetched batch: one Buffer and flat arrays; a consumer (decode) would read values as slices of it. */
export interface FetchedRecords {
  readonly buf: Buffer;
  count: number;
  readonly offsets: Float64Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
}

async function partitionsOf(brokers: string, topics: readonly string[]): Promise<{ host: string; port: number; parts: PartitionState[] }> {
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers });
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(new Error(err.message)) : resolve())));
  try {
    const md = await new Promise<Kafka.Metadata>((resolve, reject) => {
      p.getMetadata({ timeout: 10_000 }, (err, m) => {
        if (err) reject(new Error(err.message));
        else resolve(m);
      });
    });
    const leaders = new Set<number>();
    const parts: PartitionState[] = [];
    for (const topic of topics) {
      const t = md.topics.find((x) => x.name === topic);
      if (t === undefined) throw new Error(`topic ${topic} not found`);
      for (const pt of t.partitions) {
        leaders.add(pt.leader);
        parts.push({ topic, partition: pt.id, offset: 0n });
      }
    }
    if (leaders.size !== 1) throw new Error(`the experiment talks to one broker; leaders: ${[...leaders].join(',')}`);
    const leader = md.brokers.find((b) => b.id === [...leaders][0]);
    if (leader === undefined) throw new Error('leader broker not in metadata');
    return { host: leader.host, port: leader.port, parts };
  } finally {
    await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  }
}

/**
 * One request/response at a time over a socket: length-prefixed frames. Reads are copied into one receive
 * buffer that is reused across responses (a fresh 64 MiB Buffer per response costs its page faults every
 * time); a delivered frame is valid until the next request.
 */
class Connection {
  private recv = Buffer.allocUnsafe(FETCH_MAX_BYTES + PARTITION_MAX_BYTES);
  private have = 0;
  private waiting: ((b: Buffer) => void) | null = null;
  private correlation = 0;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      if (this.have + c.length > this.recv.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.recv.length * 2, this.have + c.length));
        this.recv.copy(bigger, 0, 0, this.have);
        this.recv = bigger;
      }
      this.have += c.copy(this.recv, this.have);
      this.deliver();
    });
  }
  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }
  private deliver(): void {
    if (this.waiting === null || this.have < 4) return;
    const size = this.recv.readInt32BE(0);
    if (this.have < 4 + size) return;
    if (this.have > 4 + size) throw new Error('bytes past the response: one request at a time');
    this.have = 0;
    const w = this.waiting;
    this.waiting = null;
    w(this.recv.subarray(4, 4 + size));
  }
  request(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    const clientId = Buffer.from('floe-fetch-bench');
    const head = Buffer.alloc(4 + 2 + 2 + 4 + 2);
    const id = ++this.correlation;
    head.writeInt32BE(head.length - 4 + clientId.length + body.length, 0);
    head.writeInt16BE(apiKey, 4);
    head.writeInt16BE(version, 6);
    head.writeInt32BE(id, 8);
    head.writeInt16BE(clientId.length, 12);
    return new Promise((resolve) => {
      this.waiting = (frame) => {
        if (frame.readInt32BE(0) !== id) throw new Error(`correlation id ${frame.readInt32BE(0)}, expected ${id}`);
        resolve(frame);
      };
      this.sock.write(Buffer.concat([head, clientId, body]));
      this.deliver();
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

function fetchRequest(parts: readonly PartitionState[]): Buffer {
  const byTopic = new Map<string, PartitionState[]>();
  for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
  const out: Buffer[] = [];
  const fixed = Buffer.alloc(4 * 4 + 1 + 4 + 4 + 4);
  let o = fixed.writeInt32BE(-1, 0);
  o = fixed.writeInt32BE(FETCH_MAX_WAIT_MS, o);
  o = fixed.writeInt32BE(1, o);
  o = fixed.writeInt32BE(FETCH_MAX_BYTES, o);
  o = fixed.writeInt8(0, o);
  o = fixed.writeInt32BE(0, o);
  o = fixed.writeInt32BE(-1, o);
  fixed.writeInt32BE(byTopic.size, o);
  out.push(fixed);
  for (const [topic, ps] of byTopic) {
    const name = Buffer.from(topic);
    const t = Buffer.alloc(2 + name.length + 4 + ps.length * (4 + 4 + 8 + 8 + 4));
    let q = t.writeInt16BE(name.length, 0);
    q += name.copy(t, q);
    q = t.writeInt32BE(ps.length, q);
    for (const p of ps) {
      q = t.writeInt32BE(p.partition, q);
      q = t.writeInt32BE(-1, q);
      q = t.writeBigInt64BE(p.offset, q);
      q = t.writeBigInt64BE(-1n, q);
      q = t.writeInt32BE(PARTITION_MAX_BYTES, q);
    }
    out.push(t);
  }
  out.push(Buffer.from([0, 0, 0, 0, 0, 0])); // no forgotten topics; empty rack_id
  return Buffer.concat(out);
}

/** Reads a zig-zag varint at `pos`; returns the value and writes the next position into `at[0]`. */
function varint(buf: Buffer, pos: number, at: Int32Array): number {
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = buf[pos++]!;
    v |= (b & 0x7f) << shift;
    shift += 7;
  } while ((b & 0x80) !== 0 && shift < 35);
  at[0] = pos;
  return (v >>> 1) ^ -(v & 1);
}

/** Skips a zig-zag varlong (the timestamp delta) without decoding it. */
function skipVarint(buf: Buffer, pos: number): number {
  while ((buf[pos++]! & 0x80) !== 0);
  return pos;
}

/** Parses the record batches of one partition's `records` bytes into `out`; returns the next fetch offset. */
export function parseBatches(buf: Buffer, start: number, end: number, next: bigint, out: FetchedRecords): bigint {
  const at = new Int32Array(1);
  let pos = start;
  while (pos + RECORD_BATCH_HEADER_BYTES <= end) {
    const base = buf.readBigInt64BE(pos);
    const batchLength = buf.readInt32BE(pos + 8);
    const batchEnd = pos + 12 + batchLength;
    if (batchEnd > end) break; // a partial batch at the end of the fetch: fetched again next time
    if (buf.readInt8(pos + 16) !== 2) throw new Error('record batch magic is not 2');
    const attributes = buf.readInt16BE(pos + 21);
    if ((attributes & COMPRESSION_MASK) !== 0) throw new Error('compressed batches are outside this experiment');
    const count = buf.readInt32BE(pos + 57);
    let r = pos + RECORD_BATCH_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      varint(buf, r, at); // record length
      r = skipVarint(buf, at[0]! + 1); // attributes INT8, then timestampDelta
      const offsetDelta = varint(buf, r, at);
      const keyLength = varint(buf, at[0]!, at);
      r = at[0]! + Math.max(keyLength, 0);
      const valueLength = varint(buf, r, at);
      const valueStart = at[0]!;
      r = valueStart + Math.max(valueLength, 0);
      const headers = varint(buf, r, at);
      r = at[0]!;
      for (let h = 0; h < headers; h++) {
        const kl = varint(buf, r, at);
        const vl = varint(buf, at[0]! + kl, at);
        r = at[0]! + Math.max(vl, 0);
      }
      const offset = base + BigInt(offsetDelta);
      if (offset < next) continue; // a batch can start before the requested offset
      const n = out.count++;
      out.offsets[n] = Number(offset);
      out.valueStart[n] = valueStart;
      out.valueEnd[n] = valueStart + Math.max(valueLength, 0);
    }
    next = base + BigInt(buf.readInt32BE(pos + 23)) + 1n;
    pos = batchEnd;
  }
  return next;
}

export async function protocolFetchCeiling(brokers: string, topics: readonly string[], events: number): Promise<{ events: number; bytes: number; cpuMicrosPerEvent: number; seconds: number }> {
  const { host, port, parts } = await partitionsOf(brokers, topics);
  const conn = await Connection.open(host, port);
  let n = 0;
  let bytes = 0;
  let cpu0: NodeJS.CpuUsage | null = null;
  let t0 = 0;
  let lastData = Date.now();
  const key = (t: string, p: number): string => `${t}/${p}`;
  const state = new Map(parts.map((p) => [key(p.topic, p.partition), p]));
  try {
    while (n < events) {
      const res = await conn.request(FETCH_API_KEY, FETCH_VERSION, fetchRequest(parts));
      if (cpu0 === null) {
        cpu0 = process.cpuUsage();
        t0 = Date.now();
      }
      let o = 4 + 4;
      const err = res.readInt16BE(o);
      if (err !== 0) throw new Error(`fetch error ${err}`);
      o += 2 + 4;
      const topicCount = res.readInt32BE(o);
      o += 4;
      let got = 0;
      for (let t = 0; t < topicCount; t++) {
        const nameLength = res.readInt16BE(o);
        const topic = res.toString('utf8', o + 2, o + 2 + nameLength);
        o += 2 + nameLength;
        const partitionCount = res.readInt32BE(o);
        o += 4;
        for (let p = 0; p < partitionCount; p++) {
          const partition = res.readInt32BE(o);
          const perr = res.readInt16BE(o + 4);
          if (perr !== 0) throw new Error(`fetch ${topic}/${partition}: error ${perr}`);
          o += 4 + 2 + 8 + 8 + 8;
          const aborted = res.readInt32BE(o);
          o += 4 + Math.max(aborted, 0) * 16 + 4;
          const size = res.readInt32BE(o);
          o += 4;
          if (size <= 0) continue;
          const st = state.get(key(topic, partition));
          if (st === undefined) throw new Error(`unrequested partition ${topic}/${partition}`);
          const slots = Math.ceil(size / 16);
          const out: FetchedRecords = { buf: res, count: 0, offsets: new Float64Array(slots), valueStart: new Int32Array(slots), valueEnd: new Int32Array(slots) };
          st.offset = parseBatches(res, o, o + size, st.offset, out);
          for (let i = 0; i < out.count; i++) bytes += out.valueEnd[i]! - out.valueStart[i]!;
          got += out.count;
          o += size;
        }
      }
      n += got;
      if (got > 0) lastData = Date.now();
      else if (Date.now() - lastData > IDLE_TIMEOUT_MS) throw new Error(`protocol fetch bench: only ${n} of ${events} events after ${IDLE_TIMEOUT_MS} ms idle`);
    }
  } finally {
    conn.close();
  }
  const cpu = process.cpuUsage(cpu0 ?? undefined);
  return { events: n, bytes, cpuMicrosPerEvent: (cpu.user + cpu.system) / n, seconds: (Date.now() - t0) / 1000 };
}

const ROUNDS = 3;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

if (process.argv[1]?.endsWith('fetch-protocol.bench.js') === true) {
  const brokers = process.env.FLOE_KAFKA_BOOTSTRAP;
  if (brokers === undefined) throw new Error('set FLOE_KAFKA_BOOTSTRAP');
  const topics = (process.argv[2] ?? '').split(',');
  const events = Number(process.argv[3] ?? 0);
  // Alternating rounds, each in this process after a warm-up of neither: medians of ROUNDS.
  const rd: number[] = [];
  const ts: number[] = [];
  let bytesPerEvent = 0;
  for (let i = 0; i < ROUNDS; i++) {
    rd.push((await fetchCeiling(brokers, topics, events)).cpuMicrosPerEvent);
    const r = await protocolFetchCeiling(brokers, topics, events);
    ts.push(r.cpuMicrosPerEvent);
    bytesPerEvent = r.bytes / r.events;
  }
  const out = { events, valueBytesPerEvent: Math.round(bytesPerEvent), nodeRdkafkaUs: median(rd), fetchProtocolUs: median(ts) };
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(`| fetch path | CPU µs per event (median of ${ROUNDS}) |\n|---|---|\n`);
    process.stdout.write(`| node-rdkafka (floe's KafkaSource) | ${out.nodeRdkafkaUs.toFixed(2)} |\n`);
    process.stdout.write(`| Fetch v11 in TypeScript, one Buffer per response | ${out.fetchProtocolUs.toFixed(2)} |\n`);
    process.stdout.write(`\n${events} events of ${out.valueBytesPerEvent} value bytes; ${(out.nodeRdkafkaUs / out.fetchProtocolUs).toFixed(1)}× less CPU without an object per message.\n`);
  }
}
