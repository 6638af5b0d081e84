// Workers for the chaos suite: the in-process workers behind a wrapper whose every call is a chaos hook (a rebalance may land there, as at any await of the pipeline; a crash before or after; a failed upload at seal time), and a recording dead-letter sink whose flush is the durability point.
import type { TopicAssignment } from '../../../src/worker/key-shard.js';
import type { OffsetMap } from '../../../src/commit/offsets.js';
import type { DeadLetterSink } from '../../../src/kafka/dead-letter.js';
import type { SourceMessage } from '../../../src/kafka/source.js';
import type { FileIO } from '../../../src/io/file-io.js';
import { InProcessWorkers, type Workers } from '../../../src/worker/pool.js';
import type { ApplyResult, IndexSaveItem, OpenedTable, SealOutcome, SealedTable, TableLayoutMsg, WorkerInit } from '../../../src/worker/worker-core.js';
import { transientError, type Chaos, type Fault, type Life } from './chaos.js';
import { runs } from './kafka.js';

/** In-process workers that read and write table files through `fileIO` (the test's faulty in-memory FileIO). */
export function inProcessWorkers(init: WorkerInit, fileIO: (props: Readonly<Record<string, string>>) => FileIO): InProcessWorkers {
  return new InProcessWorkers(init, { fileIO });
}

const NONE: readonly Fault[] = [];
const BEFORE: readonly Fault[] = ['crash'];
const IO: readonly Fault[] = ['crash', 'crash-after', 'transient'];
const UPLOAD: readonly Fault[] = ['crash', 'crash-after', 'transient', 'transient-after'];

export class FaultyWorkers implements Workers {
  readonly count: number;

  constructor(
    private readonly inner: Workers,
    private readonly chaos: Chaos,
    private readonly life: Life,
  ) {
    this.count = inner.count;
  }

  private async call<T>(hook: string, kinds: readonly Fault[], fn: () => Promise<T>): Promise<T> {
    const f = this.chaos.at(`workers.${hook}`, kinds, this.life);
    if (f === 'crash') throw this.chaos.kill(`workers.${hook}`, this.life);
    if (f === 'transient') throw transientError('io_failed', `workers.${hook}: upload timed out`);
    const out = await this.life.track(fn());
    if (f === 'crash-after') throw this.chaos.kill(`after workers.${hook}`, this.life);
    if (f === 'transient-after') throw transientError('io_throttled', `workers.${hook}: 503 SlowDown after the files landed`);
    return out;
  }

  apply(w: number, messages: readonly SourceMessage[]): Promise<ApplyResult> {
    // A rebalance may land just before a batch handed to the worker earlier is applied (the batch waited behind another).
    this.chaos.detail(() => `apply ${runs(messages)}`);
    return this.call('apply', BEFORE, () => this.inner.apply(w, messages));
  }
  openTable(w: number, layout: TableLayoutMsg): Promise<OpenedTable> {
    return this.call('openTable', IO, () => this.inner.openTable(w, layout));
  }
  registerSchema(w: number, id: number, text: string): Promise<void> {
    return this.call('registerSchema', NONE, () => this.inner.registerSchema(w, id, text));
  }
  update(layouts: readonly TableLayoutMsg[]): Promise<OpenedTable[]> {
    return this.call('update', IO, () => this.inner.update(layouts));
  }
  refresh(stored: ReadonlyMap<string, OffsetMap>): Promise<void> {
    return this.call('refresh', BEFORE, () => this.inner.refresh(stored));
  }
  assign(assignment: readonly TopicAssignment[]): Promise<void> {
    return this.inner.assign(assignment);
  }
  drop(tpKeys: readonly string[]): Promise<void> {
    // Called from the rebalance callback itself: no hook (a rebalance cannot nest in a rebalance). Queued behind the
    // call in progress, as a worker thread's FIFO queue runs it after the batch it is applying: a rebalance at the
    // `apply` hook stands for a worker still busy with a batch sent before the revoke.
    return Promise.resolve().then(() => this.inner.drop(tpKeys));
  }
  seal(): Promise<SealedTable[]> {
    return this.call('seal', UPLOAD, () => this.inner.seal());
  }
  stopTable(w: number, name: string, reason: string): Promise<void> {
    return this.inner.stopTable(w, name, reason);
  }
  confirm(outcomes: readonly SealOutcome[]): Promise<void> {
    return this.call('confirm', BEFORE, () => this.inner.confirm(outcomes));
  }
  abandonSeals(): Promise<void> {
    return this.call('abandonSeals', BEFORE, () => this.inner.abandonSeals());
  }
  saveIndexes(items: readonly IndexSaveItem[]): Promise<void> {
    return this.call('saveIndexes', UPLOAD, () => this.inner.saveIndexes(items));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A dead letter made durable by a flush. */
export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly reason: string;
  readonly life: number;
}

const FLUSH_FAULTS: readonly Fault[] = ['crash', 'crash-after', 'transient'];

/** The dead-letter producer of one incarnation: sends are buffered, a flush makes them durable (a crash loses the rest). */
export class RecordingDeadLetter implements DeadLetterSink {
  private buffered: DeadLetter[] = [];
  sent = 0;

  constructor(
    /** Shared by every incarnation: what the dead-letter topic holds. */
    readonly durable: DeadLetter[],
    private readonly chaos: Chaos,
    private readonly life: Life,
  ) {}

  send(m: SourceMessage, reason: string): void {
    this.buffered.push({ topic: m.topic, partition: m.partition, offset: m.offset, reason, life: this.life.n });
    this.sent++;
  }

  async flush(): Promise<void> {
    const f = this.chaos.at('deadLetter.flush', FLUSH_FAULTS, this.life);
    if (f === 'crash') throw this.chaos.kill(`deadLetter.flush (${this.buffered.length} not delivered)`, this.life);
    if (f === 'transient') throw transientError('kafka_failed', 'dead-letter flush');
    this.durable.push(...this.buffered);
    if (this.buffered.length > 0) this.chaos.note(`dead letters delivered: ${this.buffered.map((d) => `${d.topic}/${d.partition}@${d.offset}`).join(' ')}`);
    this.buffered = [];
    if (f === 'crash-after') throw this.chaos.kill('after deadLetter.flush', this.life);
  }

  async reset(): Promise<void> {
    // Sends that were never made durable are forgotten; the rewind consumes their records again.
    this.buffered = [];
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
