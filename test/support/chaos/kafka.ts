// A fake Kafka for the chaos suite: in-memory topics and partitions with offsets, records published as the run goes, a consumer group's committed offsets; and the pipeline Source over it, which prefetches like librdkafka, pauses, seeks, and rebalances at any await of the pipeline (revoking partitions through onRevoke and assigning them back through onAssign, as src/kafka/source.ts's rebalance callback does).
import { key, type SourceMessage, type TopicPartition } from '../../../src/kafka/source.js';
import type { Source } from '../../../src/pipeline/pipeline.js';
import { Crash, transientError, type Chaos, type Fault, type Life } from './chaos.js';

export interface Published {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** A record floe must dead-letter. */
  readonly bad?: boolean;
}

export class FakeKafka {
  private readonly logs = new Map<string, SourceMessage[][]>();
  /** The consumer group's committed offsets (next offset to read), by `topic/partition`. */
  readonly group = new Map<string, number>();
  /** Records not published yet: they arrive while the pipeline runs. */
  private readonly pending: Published[] = [];
  /** Published records floe must dead-letter. */
  readonly bad: SourceMessage[] = [];
  /** Every group commit, in order (for the report of a failing seed). */
  readonly commits: { life: number; offsets: string }[] = [];

  createTopic(topic: string, partitions: number): void {
    this.logs.set(topic, Array.from({ length: partitions }, () => []));
  }

  /** Queues records to publish later (in order). */
  enqueue(records: readonly Published[]): void {
    this.pending.push(...records);
  }

  get unpublished(): number {
    return this.pending.length;
  }

  /** Publishes the next `n` queued records; returns what was published. */
  publish(n: number): SourceMessage[] {
    const out: SourceMessage[] = [];
    for (const r of this.pending.splice(0, n)) out.push(this.produce(r));
    return out;
  }

  /** Appends a record to its partition (chosen by key hash, as Kafka's default partitioner does: one key, one partition). */
  produce(r: Published): SourceMessage {
    const parts = this.logs.get(r.topic);
    if (parts === undefined) throw new Error(`no topic ${r.topic}`);
    let h = 0x811c9dc5;
    for (const b of r.key ?? []) h = Math.imul(h ^ b, 16777619);
    const partition = r.key === null ? 0 : (h >>> 0) % parts.length;
    const log = parts[partition] as SourceMessage[];
    const m: SourceMessage = { topic: r.topic, partition, offset: log.length, key: r.key, value: r.value, timestamp: 1_767_225_600_000 + log.length };
    log.push(m);
    if (r.bad === true) this.bad.push(m);
    return m;
  }

  partitions(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const [topic, parts] of this.logs) parts.forEach((_p, partition) => out.push({ topic, partition }));
    return out;
  }

  log(t: TopicPartition): readonly SourceMessage[] {
    return this.logs.get(t.topic)?.[t.partition] ?? [];
  }

  end(t: TopicPartition): number {
    return this.log(t).length;
  }

  /** Every record published and every partition's group offset at its end. */
  groupAtEnd(): boolean {
    return this.pending.length === 0 && this.partitions().every((t) => (this.group.get(key(t)) ?? 0) === this.end(t));
  }
}

/** `topic/partition@first-last` per run of one partition's records (traces). */
export function runs(ms: readonly SourceMessage[]): string {
  const out: string[] = [];
  let first: SourceMessage | null = null;
  let last: SourceMessage | null = null;
  for (const m of [...ms, null]) {
    if (m !== null && last !== null && m.topic === last.topic && m.partition === last.partition) {
      last = m;
      continue;
    }
    if (first !== null && last !== null) out.push(`${first.topic.split('.').pop()}/${first.partition}@${first.offset}-${last.offset}`);
    first = m;
    last = m;
  }
  return out.join(' ');
}

export interface RebalanceHandlers {
  onAssign(tps: readonly TopicPartition[]): void;
  onRevoke(tps: readonly TopicPartition[]): void;
}

const CONNECT_FAULTS: readonly Fault[] = ['crash', 'transient'];
const CONSUME_FAULTS: readonly Fault[] = ['crash'];
const COMMIT_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'transient'];

/**
 * The Source of one pipeline incarnation (one consumer group member). Its first consume joins the group and
 * gets every partition, each read from the group's committed offset (earliest when none). Rebalances fire from
 * any chaos hook, so they land at any await of the pipeline: while a batch is applied, a table opened, a commit
 * in flight. A revoked partition is assigned back later (one member: nobody else takes it).
 */
export class ChaosSource implements Source {
  handlers: RebalanceHandlers | null = null;
  /** Called once every record is published and delivered, so the test can stop the pipeline. */
  onCaughtUp: (() => void) | null = null;
  private readonly assigned = new Map<string, TopicPartition>();
  private readonly paused = new Set<string>();
  /** Next offset to fetch into the prefetch buffer, per assigned partition. */
  private readonly fetchAt = new Map<string, number>();
  /** librdkafka's prefetched records per partition, not handed to the pipeline yet. */
  private readonly buffered = new Map<string, SourceMessage[]>();
  /** Partitions revoked and not assigned back yet. */
  private readonly revoked = new Map<string, TopicPartition>();
  private joined = false;
  private caughtUpSignalled = false;
  private consumes = 0;
  private rotate = 0;

  constructor(
    private readonly kafka: FakeKafka,
    private readonly chaos: Chaos,
    private readonly life: Life,
    private readonly opts: { readonly publishPerConsume: number; readonly prefetchMax: number; readonly reassignChance: number },
  ) {
    chaos.rebalance = (label) => this.rebalance(label);
  }

  async connect(): Promise<void> {
    const f = this.chaos.at('source.connect', CONNECT_FAULTS, this.life);
    if (f === 'crash') throw this.chaos.kill('source.connect', this.life);
    if (f === 'transient') throw transientError('kafka_failed', 'connect');
  }

  private assign(tps: readonly TopicPartition[], why: string): void {
    if (tps.length === 0) return;
    for (const t of tps) {
      const k = key(t);
      this.revoked.delete(k);
      this.assigned.set(k, t);
      this.paused.delete(k);
      this.fetchAt.set(k, this.kafka.group.get(k) ?? 0);
      this.buffered.set(k, []);
    }
    this.chaos.note(`assign ${tps.map(key).join(' ')} (${why}) from ${tps.map((t) => this.kafka.group.get(key(t)) ?? 0).join(' ')}`);
    this.handlers?.onAssign(tps);
  }

  private revoke(tps: readonly TopicPartition[], why: string): void {
    if (tps.length === 0) return;
    this.chaos.note(`revoke ${tps.map(key).join(' ')} (${why})`);
    this.handlers?.onRevoke(tps);
    for (const t of tps) {
      const k = key(t);
      this.assigned.delete(k);
      this.paused.delete(k);
      this.fetchAt.delete(k);
      this.buffered.delete(k);
      this.revoked.set(k, t);
    }
  }

  /** A rebalance fired at a hook: assign revoked partitions back, or revoke some of the assigned ones. */
  rebalance(label: string): void {
    if (this.life.dead || !this.joined) return;
    const back = [...this.revoked.values()];
    if (back.length > 0 && this.chaos.draw(`back:${label}`) < 0.5) {
      this.assign(back, `rebalance at ${label}`);
      return;
    }
    const mine = [...this.assigned.values()];
    if (mine.length === 0) return;
    const all = this.chaos.draw(`all:${label}`) < 0.25;
    const pick = all ? mine : mine.filter((t) => this.chaos.draw(`pick:${label}:${key(t)}`) < 0.5);
    this.revoke(pick.length > 0 ? pick : [mine[0] as TopicPartition], `rebalance at ${label}`);
  }

  async consume(max: number, _timeoutMs: number): Promise<SourceMessage[]> {
    // Yield to the event loop, as librdkafka's poll does (an empty poll must not spin on microtasks alone).
    await new Promise<void>((r) => setImmediate(r));
    const f = this.chaos.at('source.consume', CONSUME_FAULTS, this.life);
    if (f === 'crash') throw this.chaos.kill('source.consume', this.life);
    const n = this.consumes++;
    if (!this.joined) {
      this.joined = true;
      this.assign(this.kafka.partitions(), 'joined the group');
    } else if (this.revoked.size > 0 && (this.chaos.draw(`reassign:${this.chaos.life.n}:${n}`) < this.opts.reassignChance || !this.chaos.rebalancesLeft)) {
      this.assign([...this.revoked.values()], 'next rebalance');
    }
    this.kafka.publish(this.opts.publishPerConsume);
    // Prefetch (librdkafka fetches ahead; a paused partition is not fetched and delivers nothing).
    for (const [k, t] of this.assigned) {
      if (this.paused.has(k)) continue;
      const buf = this.buffered.get(k) as SourceMessage[];
      const log = this.kafka.log(t);
      let at = this.fetchAt.get(k) as number;
      while (buf.length < this.opts.prefetchMax && at < log.length) buf.push(log[at++] as SourceMessage);
      this.fetchAt.set(k, at);
    }
    // Hand out runs of one partition's records, starting at a rotating partition.
    const keys = [...this.assigned.keys()].filter((k) => !this.paused.has(k));
    const out: SourceMessage[] = [];
    for (let i = 0; i < keys.length && out.length < max; i++) {
      const k = keys[(this.rotate + i) % keys.length] as string;
      const buf = this.buffered.get(k) as SourceMessage[];
      const run = 1 + Math.floor(this.chaos.draw(`run:${this.chaos.life.n}:${n}:${k}`) * max);
      out.push(...buf.splice(0, Math.min(run, max - out.length)));
    }
    this.rotate++;
    this.chaos.detail(() => `consumed ${runs(out)}`);
    if (out.length === 0 && !this.caughtUpSignalled && this.caughtUp()) {
      this.caughtUpSignalled = true;
      this.chaos.note('caught up: stopping the pipeline');
      this.onCaughtUp?.();
    }
    return out;
  }

  private caughtUp(): boolean {
    if (this.kafka.unpublished > 0 || this.revoked.size > 0) return false;
    for (const t of this.kafka.partitions()) {
      const k = key(t);
      if (!this.assigned.has(k) || (this.buffered.get(k)?.length ?? 0) > 0 || this.fetchAt.get(k) !== this.kafka.end(t)) return false;
    }
    return true;
  }

  /** Commits the group offsets of assigned partitions (a fault throws at once, as a refused commitSync does). */
  commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    const f = this.chaos.at('source.commit', COMMIT_FAULTS, this.life, false);
    if (f === 'crash') throw this.chaos.kill('source.commit (group offsets not committed)', this.life);
    if (f === 'transient') throw transientError('kafka_failed', 'offset commit');
    const mine = offsets.filter((o) => this.assigned.has(key(o)));
    for (const o of mine) this.kafka.group.set(key(o), o.offset);
    this.kafka.commits.push({ life: this.life.n, offsets: mine.map((o) => `${key(o)}@${o.offset}`).join(' ') });
    this.chaos.note(`group commit ${mine.map((o) => `${key(o)}@${o.offset}`).join(' ')}`);
    if (f === 'crash-after') throw this.chaos.kill('after source.commit (group offsets committed)', this.life);
    return Promise.resolve();
  }

  /** Moves assigned partitions' read positions back (the pipeline rewinds after a failed cycle): prefetched records are dropped. */
  async seek(positions: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (this.life.dead) throw new Crash('source.seek (dead)');
    for (const p of positions) {
      const k = key(p);
      if (!this.assigned.has(k)) continue;
      this.fetchAt.set(k, p.offset);
      this.buffered.set(k, []);
    }
    this.chaos.note(`seek ${positions.map((p) => `${key(p)}@${p.offset}`).join(' ')}`);
  }

  isAssigned(t: TopicPartition): boolean {
    return this.assigned.has(key(t));
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  pauseAll(): void {
    for (const k of this.assigned.keys()) {
      if (this.paused.has(k)) continue;
      this.paused.add(k);
      // librdkafka purges a paused partition's fetch queue and fetches again from the consumed position on resume.
      const buf = this.buffered.get(k) as SourceMessage[];
      if (buf.length > 0) this.fetchAt.set(k, (buf[0] as SourceMessage).offset);
      this.buffered.set(k, []);
    }
  }

  resumeAll(): void {
    this.paused.clear();
  }

  get pausedCount(): number {
    return this.paused.size;
  }

  async disconnect(): Promise<void> {
    if (this.chaos.life === this.life) this.chaos.rebalance = null;
  }
}
