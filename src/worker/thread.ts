/** The piscina worker thread: one WorkerCore per thread, created from the pool's workerData. */
import { workerData } from 'piscina';
import type { OffsetMap } from '../commit/offsets.js';
import { quietNodeVersionNotice } from '../node-warnings.js';
import { FloeError, type FloeErrorCode } from '../errors.js';
import { unpackBatch, type PackedBatch } from './wire.js';
import type { TopicAssignment } from './key-shard.js';
import { WorkerCore, type ApplyResult, type IndexSaveItem, type SealOutcome, type OpenedTable, type SealedTable, type TableLayoutMsg, type WorkerInit } from './worker-core.js';

export type Task =
  | { readonly kind: 'apply'; readonly batch: PackedBatch }
  | { readonly kind: 'open'; readonly layout: TableLayoutMsg }
  | { readonly kind: 'refresh'; readonly stored: [string, OffsetMap][] }
  | { readonly kind: 'assign'; readonly assignment: TopicAssignment[] }
  | { readonly kind: 'drop'; readonly tpKeys: string[] }
  | { readonly kind: 'schema'; readonly id: number; readonly text: string }
  | { readonly kind: 'stop'; readonly name: string; readonly reason: string }
  | { readonly kind: 'saveIndex'; readonly item: IndexSaveItem }
  | { readonly kind: 'seal' }
  | { readonly kind: 'confirm'; readonly outcomes: SealOutcome[] }
  | { readonly kind: 'abandon' };

/** A task's answer: its value, or the FloeError it threw as data (its code and retry class must survive the thread). */
export type TaskResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly code: FloeErrorCode; readonly message: string; readonly details: Record<string, unknown> } };

quietNodeVersionNotice();

let core: WorkerCore | null = null;

export default async function run(task: Task): Promise<TaskResult> {
  try {
    return { ok: true, value: await perform(task) };
  } catch (e) {
    if (!(e instanceof FloeError)) throw e;
    return { ok: false, error: { code: e.code, message: e.message, details: { ...e.details } } };
  }
}

async function perform(task: Task): Promise<ApplyResult | SealedTable[] | OpenedTable | null> {
  core ??= new WorkerCore(workerData as WorkerInit);
  switch (task.kind) {
    case 'apply':
      return core.apply(unpackBatch(task.batch));
    case 'open':
      return core.openTable(task.layout);
    case 'refresh':
      for (const [name, s] of task.stored) core.refresh(name, s);
      return null;
    case 'drop':
      core.drop(task.tpKeys);
      return null;
    case 'assign':
      core.assign(task.assignment);
      return null;
    case 'schema':
      core.registerSchema(task.id, task.text);
      return null;
    case 'stop':
      core.stopTable(task.name, task.reason);
      return null;
    case 'saveIndex':
      await core.saveIndex(task.item.name, task.item.snapshotId, task.item.tableUuid);
      return null;
    case 'seal':
      return core.seal();
    case 'confirm':
      core.confirm(task.outcomes);
      return null;
    case 'abandon':
      core.abandonSeals();
      return null;
  }
}
