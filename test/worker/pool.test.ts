// Proves the thread workers take more tasks at once than piscina's queue holds (a layout update for every table of a worker, as after a commit of 20 tables) by making the callers wait, where piscina alone rejects them with "Task queue is at limit" and ended the replica.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadWorkers } from '../../src/worker/pool.js';
import type { WorkerInit } from '../../src/worker/worker-core.js';

const init: WorkerInit = { decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} };

describe('ThreadWorkers', () => {
  const workers = new ThreadWorkers(1, init, { queueMax: 1, heapMb: 256 });
  after(async () => {
    await workers.close();
  });

  it('runs 40 tasks handed to one worker at once with a queue of 1: each waits its turn, none is refused', async () => {
    const settled = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => workers.stopTable(0, `db.t${i}`, 'stopped for the test')));
    assert.deepEqual(settled.filter((s) => s.status === 'rejected'), []);
    assert.equal(settled.length, 40);
  });
});
