/**
 * Workers that hold the tables' windows. Messages go to a worker by topic (Debezium writes one topic per
 * table, so a table's windows live in one worker and its decoder caches stay warm). `workers: 0` runs the
 * core in the main thread; otherwise each worker is a piscina pool of exactly one thread (piscina picks any
 * idle thread, and windows are per-thread state, so each pool is pinned to one), with a bounded task queue
 * and heap limit. Batches cross as one transferred ArrayBuffer.
 */
import { Piscina } from 'piscina';
import { FloeError, assert } from '../errors.js';
import type { FileIO } from '../io/file-io.js';
import type { OffsetMap } from '../commit/offsets.js';
import type { SourceMessage } from '../kafka/source.js';
import { packBatch } from './wire.js';
import { WorkerCore, type ApplyResult, type IndexSaveItem, type SealOutcome, type OpenedTable, type SealedTable, type TableLayoutMsg, type WorkerInit } from './worker-core.js';
import type { Task, TaskResult } from './thread.js';
import type { TopicAssignment } from './key-shard.js';

export interface Workers {
  readonly count: number;
  apply(w: number, messages: readonly SourceMessage[]): Promise<ApplyResult>;
  openTable(w: number, layout: TableLayoutMsg): Promise<OpenedTable>;
  registerSchema(w: number, id: number, text: string): Promise<void>;
  /** The table could not be opened and is stopped (table-stop.ts): worker `w` rejects its records with `reason`. */
  stopTable(w: number, name: string, reason: string): Promise<void>;
  /** Layout updates (after a commit, a rebalance, maintenance) to every worker holding the table: how each index followed. */
  update(layouts: readonly TableLayoutMsg[]): Promise<OpenedTable[]>;
  refresh(stored: ReadonlyMap<string, OffsetMap>): Promise<void>;
  /** This replica's partitions per topic (after a rebalance), to every worker: which keys its indexes hold. */
  assign(assignment: readonly TopicAssignment[]): Promise<void>;
  drop(tpKeys: readonly string[]): Promise<void>;
  seal(): Promise<SealedTable[]>;
  /** The outcome of each sealed table's commit: landed (its index changes apply) or not (the records come again). */
  confirm(outcomes: readonly SealOutcome[]): Promise<void>;
  /** A commit cycle failed before its commits: no sealed window landed. */
  abandonSeals(): Promise<void>;
  /** Saves the key indexes of these tables as of these snapshots (graceful shutdown). */
  saveIndexes(items: readonly IndexSaveItem[]): Promise<void>;
  close(): Promise<void>;
}

export function workerFor(topic: string, count: number): number {
  let h = 2166136261;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 16777619);
  return (h >>> 0) % count;
}


export class InProcessWorkers implements Workers {
  readonly count = 1;
  readonly core: WorkerCore;
  /** `fileIO`: where table files go instead of the FileIO the table's properties name (in-process only: tests). */
  constructor(init: WorkerInit, opts: { readonly fileIO?: (props: Readonly<Record<string, string>>) => FileIO } = {}) {
    this.core = new WorkerCore(init, opts.fileIO);
  }
  async apply(_w: number, messages: readonly SourceMessage[]): Promise<ApplyResult> {
    return this.core.apply(messages);
  }
  openTable(_w: number, layout: TableLayoutMsg): Promise<OpenedTable> {
    return this.core.openTable(layout);
  }
  async registerSchema(_w: number, id: number, text: string): Promise<void> {
    this.core.registerSchema(id, text);
  }
  async stopTable(_w: number, name: string, reason: string): Promise<void> {
    this.core.stopTable(name, reason);
  }
  async update(layouts: readonly TableLayoutMsg[]): Promise<OpenedTable[]> {
    const out: OpenedTable[] = [];
    for (const l of layouts) out.push(await this.core.openTable(l));
    return out;
  }
  async refresh(stored: ReadonlyMap<string, OffsetMap>): Promise<void> {
    for (const [name, s] of stored) this.core.refresh(name, s);
  }
  async drop(tpKeys: readonly string[]): Promise<void> {
    this.core.drop(tpKeys);
  }
  async assign(assignment: readonly TopicAssignment[]): Promise<void> {
    this.core.assign(assignment);
  }
  async saveIndexes(items: readonly IndexSaveItem[]): Promise<void> {
    for (const i of items) await this.core.saveIndex(i.name, i.snapshotId, i.tableUuid);
  }
  seal(): Promise<SealedTable[]> {
    return this.core.seal();
  }
  async confirm(outcomes: readonly SealOutcome[]): Promise<void> {
    this.core.confirm(outcomes);
  }
  async abandonSeals(): Promise<void> {
    this.core.abandonSeals();
  }
  async close(): Promise<void> {
    // Nothing to release.
  }
}

export interface PoolLimits {
  /** Tasks queued per worker before `apply` waits (bounds memory in flight). */
  readonly queueMax: number;
  readonly heapMb: number;
}

export class ThreadWorkers implements Workers {
  private readonly pools: Piscina[];
  /** Which workers have opened which tables (layout updates go only there). */
  private readonly holders = new Map<string, Set<number>>();
  /**
   * What a pool emitted as an 'error' event (piscina emits there what belongs to no task: a thread that died
   * with no task running, a reply for a task it had already failed because its thread died). Without a
   * listener that would end the process anonymously; recorded here, it fails every later task by name.
   */
  private poolError: Error | null = null;
  /**
   * Per worker: tasks handed to its pool (running or in piscina's queue), and callers waiting for room. piscina
   * rejects a task past `maxQueue` ("Task queue is at limit") instead of waiting; a fan-out of one task per table
   * (layouts after a commit, index saves) to a worker holding more tables than that crashed a replica holding 20
   * tables (native-bench/commit-storm.bench.ts). Past `limits.queueMax + 1` tasks, callers wait here.
   */
  private readonly inFlight: number[];
  private readonly waiting: (() => void)[][];
  private readonly tasksMax: number;

  constructor(
    readonly count: number,
    init: WorkerInit,
    limits: PoolLimits,
  ) {
    assert(count >= 1 && count <= 64, 'worker count must be 1..64', { count });
    this.tasksMax = limits.queueMax + 1;
    this.inFlight = new Array<number>(count).fill(0);
    this.waiting = Array.from({ length: count }, () => []);
    this.pools = Array.from(
      { length: count },
      () =>
        new Piscina({
          filename: new URL('./thread.js', import.meta.url).href,
          minThreads: 1,
          maxThreads: 1,
          concurrentTasksPerWorker: 1,
          idleTimeout: 2 ** 31 - 1,
          maxQueue: limits.queueMax,
          resourceLimits: { maxOldGenerationSizeMb: limits.heapMb },
          workerData: init,
        }),
    );
    for (const [w, pool] of this.pools.entries()) {
      pool.on('error', (e: unknown) => {
        this.poolError ??= new FloeError('assertion_failed', `worker ${w} failed outside a task: ${e instanceof Error ? e.message : String(e)}`, { worker: w });
      });
    }
  }

  private async run<T>(w: number, task: Task, transfer?: ArrayBuffer[]): Promise<T> {
    const pool = this.pools[w];
    assert(pool !== undefined, 'no such worker', { w });
    while ((this.inFlight[w] as number) >= this.tasksMax) await new Promise<void>((resolve) => (this.waiting[w] as (() => void)[]).push(resolve));
    if (this.poolError !== null) throw this.poolError;
    this.inFlight[w] = (this.inFlight[w] as number) + 1;
    let r: TaskResult;
    try {
      r = (await pool.run(task, transfer !== undefined ? { transferList: transfer } : {})) as TaskResult;
    } finally {
      this.inFlight[w] = (this.inFlight[w]) - 1;
      (this.waiting[w] as (() => void)[]).shift()?.();
    }
    // A FloeError crosses the thread as data (structured clone keeps an Error's message, not its code).
    if (!r.ok) throw new FloeError(r.error.code, r.error.message, r.error.details);
    return r.value as T;
  }

  apply(w: number, messages: readonly SourceMessage[]): Promise<ApplyResult> {
    const batch = packBatch(messages);
    return this.run<ApplyResult>(w, { kind: 'apply', batch }, [batch.buffer]);
  }

  async openTable(w: number, layout: TableLayoutMsg): Promise<OpenedTable> {
    const opened = await this.run<OpenedTable>(w, { kind: 'open', layout });
    const set = this.holders.get(layout.name) ?? new Set<number>();
    set.add(w);
    this.holders.set(layout.name, set);
    return opened;
  }

  async registerSchema(w: number, id: number, text: string): Promise<void> {
    await this.run(w, { kind: 'schema', id, text });
  }

  async stopTable(w: number, name: string, reason: string): Promise<void> {
    await this.run(w, { kind: 'stop', name, reason });
  }

  async update(layouts: readonly TableLayoutMsg[]): Promise<OpenedTable[]> {
    return Promise.all(layouts.flatMap((l) => [...(this.holders.get(l.name) ?? [])].map((w) => this.run<OpenedTable>(w, { kind: 'open', layout: l }))));
  }

  async refresh(stored: ReadonlyMap<string, OffsetMap>): Promise<void> {
    const entries = [...stored.entries()];
    await Promise.all(this.pools.map((_p, w) => this.run(w, { kind: 'refresh', stored: entries })));
  }

  async drop(tpKeys: readonly string[]): Promise<void> {
    await Promise.all(this.pools.map((_p, w) => this.run(w, { kind: 'drop', tpKeys: [...tpKeys] })));
  }

  async assign(assignment: readonly TopicAssignment[]): Promise<void> {
    await Promise.all(this.pools.map((_p, w) => this.run(w, { kind: 'assign', assignment: assignment.map((a) => ({ ...a, partitions: [...a.partitions] })) })));
  }

  async seal(): Promise<SealedTable[]> {
    // Every worker seals; if one fails, the others' sealed windows did not land either.
    const parts = await Promise.allSettled(this.pools.map((_p, w) => this.run<SealedTable[]>(w, { kind: 'seal' })));
    const failed = parts.find((p) => p.status === 'rejected');
    if (failed !== undefined) {
      await this.abandonSeals();
      throw failed.reason;
    }
    return parts.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
  }

  async confirm(outcomes: readonly SealOutcome[]): Promise<void> {
    await Promise.all(this.pools.map((_p, w) => this.run(w, { kind: 'confirm', outcomes: [...outcomes] })));
  }

  async abandonSeals(): Promise<void> {
    await Promise.all(this.pools.map((_p, w) => this.run(w, { kind: 'abandon' })));
  }

  /** Saves only tables one worker holds: several workers' indexes are each exact only for their own keys. */
  async saveIndexes(items: readonly IndexSaveItem[]): Promise<void> {
    await Promise.all(items.flatMap((i) => {
      const holders = [...(this.holders.get(i.name) ?? [])];
      return holders.length === 1 ? [this.run(holders[0] as number, { kind: 'saveIndex', item: i })] : [];
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
