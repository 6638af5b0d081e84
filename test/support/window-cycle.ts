// Committer + worker test helpers: Debezium change messages for a table `shop.t` (id, v) and one commit cycle (apply, open tables on demand, seal, commit, update layouts).
import assert from 'node:assert/strict';
import type { Committer } from '../../src/commit/committer.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import type { InProcessWorkers } from '../../src/worker/pool.js';

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
  const { reports, layouts } = await committer.commit(sealed);
  await workers.update(layouts);
  return { sealed, report: reports[0]! };
}
