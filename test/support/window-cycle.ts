// Committer + worker test helpers: Debezium change messages for a table `shop.t` (id, v) and one commit cycle (apply, open tables on demand, seal, commit, update layouts).
import assert from 'node:assert/strict';
import type { Committer } from '../../src/commit/committer.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import type { InProcessWorkers } from '../../src/worker/pool.js';
import type { SealedTable } from '../../src/worker/worker-core.js';

/** A message factory with its own offsets: `msg('u', 2, 'b2')` is an update of key 2 to v = 'b2'. */
export function changeMessages(topic: string): (op: 'c' | 'u' | 'd', id: number, v: string | null) => SourceMessage {
  let offset = 0;
  return (op, id, v) => ({
    topic,
    partition: 0,
    offset: offset++,
    key: Buffer.from(JSON.stringify({ id })),
    value: Buffer.from(JSON.stringify({ before: op === 'c' ? null : { id, v: 'old' }, after: op === 'd' ? null : { id, v }, source: { db: 'shop', table: 't' }, op })),
    timestamp: undefined,
  });
}

/** Applies the messages (opening tables as the workers ask), seals and commits one cycle; returns the sealed windows and the first report. */
export async function cycle(committer: Committer, workers: InProcessWorkers, messages: SourceMessage[]) {
  let rest = messages;
  for (;;) {
    const res = await workers.apply(0, rest);
    assert.deepEqual(res.rejects, []);
    if (res.need === undefined) break;
    await workers.openTable(0, await committer.table(res.need.id, res.need.shape));
    rest = rest.slice(res.done);
  }
  const sealed = await workers.seal();
  const { reports } = await commitSealed(committer, workers, sealed);
  return { sealed, report: reports[0]! };
}

/**
 * Commits sealed windows as the pipeline's cycle does: the tables' commits, each sealed table's outcome to the
 * workers (its index changes apply only if it landed), then the new layouts. Throws the first table's error.
 */
export async function commitSealed(committer: Committer, workers: InProcessWorkers, sealed: SealedTable[]) {
  const { reports, layouts, failed } = await committer.commit(sealed);
  await workers.confirm([...reports.map((r) => ({ name: r.table, landed: true })), ...failed.map((f) => ({ name: f.table, landed: false }))]);
  if (failed.length > 0) throw failed[0]!.error;
  await workers.update(layouts);
  return { reports, layouts };
}
