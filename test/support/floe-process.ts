// floe as a child process (`node dist/src/cli/main.js run --config FILE`) for crash tests: spawn, watch its JSON log lines, kill; a REST catalog proxy that kills at a chosen table commit; Kafka group-offset and paced-production helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Kafka from 'node-rdkafka';
import type { DebeziumGenerator } from '../../src/demo/debezium-generator.js';
import { CatalogProxy } from './fault-proxy.js';
import { produceOne } from './kafka.js';

/** dist/src/cli/main.js, next to this file's compiled location (dist/test/support/). */
export const floeMain = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface LogLine {
  /** ms since the process was spawned */
  readonly at: number;
  readonly level?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** ms since the process was spawned */
  readonly at: number;
}

/** One floe process: its parsed stderr log lines, non-JSON output, and exit. */
export class FloeProcess {
  readonly child: ChildProcess;
  readonly t0 = Date.now();
  readonly lines: LogLine[] = [];
  /** stderr/stdout lines that are not JSON log lines (e.g. `floe: error ...`). */
  readonly other: string[] = [];
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  private waiters: (() => void)[] = [];

  constructor(configPath: string, env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [floeMain, 'run', '--config', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: this.elapsed() };
        this.notify();
        resolve(this.exit);
      });
    });
    this.readLines(this.child.stderr, true);
    this.readLines(this.child.stdout, false);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  elapsed(): number {
    return Date.now() - this.t0;
  }

  get commits(): LogLine[] {
    return this.lines.filter((l) => l.msg === 'committed');
  }

  /** The port floe serves /metrics, /healthz and /readyz on (its `metrics and probes listening` line), once logged. */
  get metricsPort(): number | undefined {
    const l = this.lines.find((x) => x.msg === 'metrics and probes listening');
    return typeof l?.port === 'number' ? l.port : undefined;
  }

  /** Log lines at warn or error level. */
  get problems(): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn' || l.level === 'error');
  }

  private readLines(stream: NodeJS.ReadableStream | null, json: boolean): void {
    if (stream === null) return;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
        const line = rest.slice(0, i);
        rest = rest.slice(i + 1);
        if (line === '') continue;
        let parsed: Record<string, unknown> | null = null;
        if (json && line.startsWith('{')) {
          try {
            parsed = JSON.parse(line) as Record<string, unknown>;
          } catch {
            parsed = null;
          }
        }
        if (parsed !== null) this.lines.push({ ...parsed, at: this.elapsed() });
        else this.other.push(line);
      }
      this.notify();
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves true once `pred()` holds, false when the process exits first or `timeoutMs` passes. */
  async until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.exit !== null || Date.now() >= deadline) return pred();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exit === null) this.child.kill(signal);
  }

  /** The last lines of its output, for assertion messages. */
  tail(n = 20): string {
    const all = [...this.lines.map((l) => JSON.stringify(l)), ...this.other];
    return all.slice(-n).join('\n');
  }
}

/** GET http://127.0.0.1:<port><path>: status and body, or null when nothing answers within `timeoutMs`. */
export async function probe(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

/** The largest value of a metric in Prometheus text (any labels), or null when the metric is absent. */
export function metricValue(text: string, name: string): number | null {
  let max: number | null = null;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'gm'))) {
    const v = Number(m[1]);
    if (!Number.isNaN(v)) max = max === null ? v : Math.max(max, v);
  }
  return max;
}

async function connected(brokers: string, groupId: string): Promise<Kafka.KafkaConsumer> {
  // Never subscribes: it does not join the group, only asks its coordinator for committed offsets.
  const c = new Kafka.KafkaConsumer({ 'metadata.broker.list': brokers, 'group.id': groupId, 'enable.auto.commit': false }, {});
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  return c;
}

/** Per `topic/partition`: the group's committed offset (0 when none) and the end offset (high watermark). */
export async function groupProgress(brokers: string, groupId: string, topics: readonly string[], partitions: number): Promise<Map<string, { committed: number; end: number }>> {
  const c = await connected(brokers, groupId);
  try {
    const tps = topics.flatMap((topic) => Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    const committed = await new Promise<Kafka.TopicPartitionOffset[]>((resolve, reject) => c.committed(tps, 10_000, (err, r) => (err ? reject(err) : resolve(r))));
    const out = new Map<string, { committed: number; end: number }>();
    for (const tp of tps) {
      const end = await new Promise<number>((resolve, reject) => c.queryWatermarkOffsets(tp.topic, tp.partition, 10_000, (err, o) => (err ? reject(err) : resolve(o.highOffset))));
      const got = committed.find((x) => x.topic === tp.topic && x.partition === tp.partition)?.offset ?? -1;
      out.set(`${tp.topic}/${tp.partition}`, { committed: got < 0 ? 0 : got, end });
    }
    return out;
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
}

/**
 * Produces generator steps with one idempotent producer in small chunks, yielding to the event loop between
 * chunks (so the test's kill timers and log readers keep running while events flow), up to `steps` steps or
 * until `opts.stop()` says so (checked between chunks). Resolves with the steps taken and the events produced,
 * after every delivery is acknowledged.
 */
export async function producePaced(
  brokers: string,
  gen: DebeziumGenerator,
  steps: number,
  startSeq: number,
  opts: { chunk: number; pauseMs: number | (() => number); stop?: () => boolean; partitioner?: 'murmur2_random' },
): Promise<{ steps: number; events: number }> {
  // `murmur2_random`: keys placed as Java's default partitioner (Debezium's Kafka Connect producer) places them;
  // librdkafka's default (consistent_random, CRC32) places them elsewhere.
  // A topic property: node-rdkafka ignores it among the global ones.
  const p = new Kafka.Producer({ 'metadata.broker.list': brokers, 'linger.ms': 5, 'enable.idempotence': true, 'queue.buffering.max.messages': 1_000_000, dr_cb: true }, opts.partitioner !== undefined ? { partitioner: opts.partitioner } : {});
  let delivered = 0;
  let failed: unknown = null;
  p.on('delivery-report', (err) => {
    if (err) failed = err;
    else delivered++;
  });
  p.setPollInterval(20);
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())));
  let events = 0;
  let i = 0;
  try {
    for (; i < steps; i++) {
      if (i % opts.chunk === 0 && opts.stop?.() === true) break;
      for (const ev of gen.next(startSeq + i)) {
        await produceOne(p, ev.topic, ev.key, ev.value);
        events++;
      }
      if ((i + 1) % opts.chunk === 0) await new Promise((r) => setTimeout(r, typeof opts.pauseMs === 'number' ? opts.pauseMs : opts.pauseMs()));
    }
    await new Promise<void>((resolve, reject) => p.flush(60_000, (err) => (err ? reject(err) : resolve())));
    const deadline = Date.now() + 30_000;
    while (delivered + (failed === null ? 0 : 1) < events && failed === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (failed !== null) throw new Error(`produce failed: ${String((failed as { message?: string }).message ?? failed)}`);
    if (delivered !== events) throw new Error(`only ${delivered} of ${events} produced events were acknowledged`);
    return { steps: i, events };
  } finally {
    p.setPollInterval(0);
    await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  }
}

export interface TapEvent {
  /** the n-th table commit request (POST .../namespaces/<ns>/tables/<table>) since the tap was armed */
  readonly n: number;
  readonly table: string;
  /** catalog response status; null when the request was not forwarded */
  readonly status: number | null;
  /** whether the commit carried floe's Kafka offsets (a data commit, not a spec change) */
  readonly withOffsets: boolean;
}

/**
 * An HTTP proxy in front of the REST catalog that can act on the n-th table commit request: call `kill` before
 * forwarding it (files uploaded, commit not made) or after the catalog applied it but before answering (the
 * table holds the data, the process never learns). Requests go through with the client's Host header, so
 * SigV4 signatures still verify.
 */
export class CatalogTap {
  private readonly proxy: CatalogProxy;
  private armed: { n: number; when: 'before-forward' | 'after-commit'; kill: () => void; seen: number; fired: TapEvent | null } | null = null;

  constructor(target: URL) {
    this.proxy = new CatalogProxy(target, (commit) => {
      const a = this.armed;
      if (a === null || a.fired !== null) return {};
      a.seen++;
      if (a.seen !== a.n) return {};
      const event = (status: number | null): TapEvent => ({ n: a.seen, table: commit.table, status, withOffsets: commit.body.includes('floe.kafka.offsets') });
      if (a.when === 'before-forward') {
        a.fired = event(null);
        a.kill();
        return { before: 'hangup' };
      }
      return {
        after: (status) => {
          a.fired = event(status);
          a.kill();
          return 'hangup';
        },
      };
    });
  }

  start(): Promise<string> {
    return this.proxy.start();
  }

  arm(n: number, when: 'before-forward' | 'after-commit', kill: () => void): void {
    this.armed = { n, when, kill, seen: 0, fired: null };
  }

  /** Disarms; returns the commit the kill fired on, if it did. */
  disarm(): TapEvent | null {
    const fired = this.armed?.fired ?? null;
    this.armed = null;
    return fired;
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }
}
