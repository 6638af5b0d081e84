/** The piscina worker thread: one WorkerCore per thread, created from the pool's workerData. */
import { workerData } from 'piscina';
import type { OffsetMap } from '../commit/offsets.js';
import { quietNodeVersionNotice } from '../node-warnings.js';
import type { IndexSaveItem } from './pool.js';
import { unpackBatch, type PackedBatch } from './wire.js';
import { WorkerCore, type ApplyResult, type OpenedTable, type SealedTable, type TableLayoutMsg, type WorkerInit } from './worker-core.js';

export type Task =
  | { readonly kind: 'apply'; readonly batch: PackedBatch }
  | { readonly kind: 'open'; readonly layout: TableLayoutMsg }
  | { readonly kind: 'refresh'; readonly stored: [string, OffsetMap][] }
  | { readonly kind: 'drop'; readonly tpKeys: string[] }
  | { readonly kind: 'schema'; readonly id: number; readonly text: string }
  | { readonly kind: 'stop'; readonly name: string; readonly reason: string }
  | { readonly kind: 'saveIndex'; readonly item: IndexSaveItem }
  | { readonly kind: 'seal' };

quietNodeVersionNotice();

let core: WorkerCore | null = null;

export default async function run(task: Task): Promise<ApplyResult | SealedTable[] | OpenedTable | null> {
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
  }
}
