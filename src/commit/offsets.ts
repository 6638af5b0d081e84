/**
 * Kafka offsets stored in the table, in the same atomic commit as the data they cover:
 * `floe.kafka.offsets.<group>` = {"<topic>":{"<partition>":<next offset>}}: every record of that partition
 * below the offset is in the table. Each floe commit writes the map twice, both in that one commit: in its
 * snapshot's summary and in the table's properties (same key, same value).
 *
 * Reading (`storedOffsets`, for the replay and the fence):
 *   1. The nearest snapshot of main's ancestry that carries the key. Snapshots by other writers (compaction,
 *      Spark) carry none, so this is the newest floe commit whose data is still in main's lineage. It wins
 *      over the property because it is tied to the data: after a rollback of main, or a commit by a floe
 *      version that did not write the property yet (a rolling upgrade), the property is ahead of or behind
 *      the data and the summary is right.
 *   2. When that walk runs into an expired snapshot (expire_snapshots removed every floe snapshot behind a
 *      compaction: the current snapshot's ancestry ends at a parent that is no longer in the metadata) or
 *      walks OFFSET_ANCESTORS_MAX snapshots, the property. Properties survive expiry and other writers'
 *      commits, and the property was set atomically with the newest floe commit. Without it, such a table
 *      would read as never written: floe would replay everything (duplicates) and the fence would pass.
 *   3. A walk that reaches the first snapshot of the lineage without finding the key: no floe data is in
 *      main (a table replaced or rolled back to before floe): empty, whatever the property says.
 * What is left open: a table whose only floe snapshots are expired and whose newest floe commit was made by a
 * floe version that did not write the property (or a table last written before this change): its property is
 * stale or missing. So every replica must run a version that writes the property before snapshots of the
 * commits of an older version are expired (a rolling upgrade is safe: the first commit of the new version
 * carries the whole map, merged from the summary, into the property).
 *
 * Other replicas of the group write their own partitions into the same map; a commit merges its partitions
 * into the map of the table it commits on top of, and the CAS on the branch makes that merge atomic.
 */
import { FloeError } from '../errors.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import { currentSnapshot, type TableMetadata } from '../iceberg/table-metadata.js';

export type OffsetMap = Record<string, Record<string, number>>;

/** Ancestors examined when looking for the offsets key: bounded, and enough for any compaction cadence. */
export const OFFSET_ANCESTORS_MAX = 10_000;

export function offsetsKey(groupId: string): string {
  return `floe.kafka.offsets.${groupId}`;
}

export function storedOffsets(meta: TableMetadata, groupId: string): OffsetMap {
  const key = offsetsKey(groupId);
  const byId = new Map<bigint, Snapshot>(meta.snapshots.map((s) => [s.snapshotId, s]));
  let s: Snapshot | null | undefined = currentSnapshot(meta);
  if (s === null) return {};
  for (let i = 0; i < OFFSET_ANCESTORS_MAX; i++) {
    const text = s.summary[key];
    if (text !== undefined) return parseOffsets(text, `snapshot ${s.snapshotId}`, key);
    if (s.parentSnapshotId === null) return {}; // the whole lineage, and no floe commit in it
    s = byId.get(s.parentSnapshotId);
    if (s === undefined) break; // expired
  }
  const prop = meta.properties[key];
  return prop === undefined ? {} : parseOffsets(prop, 'table property', key);
}

function parseOffsets(text: string, where: string, key: string): OffsetMap {
  try {
    return JSON.parse(text) as OffsetMap;
  } catch (e) {
    throw new FloeError('metadata_invalid', `${where} has an unreadable ${key}: ${(e as Error).message}`, {}, e);
  }
}

export function offsetOf(map: OffsetMap, topic: string, partition: number): number | null {
  const v = map[topic]?.[String(partition)];
  return v === undefined ? null : v;
}

/**
 * The offsets entry for a commit on top of `base` (for its snapshot summary and, the same, the table's
 * properties): checks that every partition this commit covers still has the offset this process started from
 * (else another consumer owns it now: a zombie must not commit), then merges the new offsets in.
 */
export function commitOffsets(
  base: TableMetadata,
  groupId: string,
  expected: ReadonlyMap<string, number | null>,
  next: ReadonlyMap<string, number>,
): Record<string, string> {
  const map = storedOffsets(base, groupId);
  for (const [tp, want] of expected) {
    const [topic, p] = splitTp(tp);
    const have = offsetOf(map, topic, p);
    if (have !== want) {
      throw new FloeError(
        'commit_fenced',
        `partition ${tp} was committed to this table by another consumer (stored offset ${String(have)}, this process started from ${String(want)}): aborting this batch`,
        { partition: tp },
      );
    }
  }
  for (const [tp, offset] of next) {
    const [topic, p] = splitTp(tp);
    (map[topic] ??= {})[String(p)] = offset;
  }
  return { [offsetsKey(groupId)]: JSON.stringify(map) };
}

export function tp(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function splitTp(s: string): [string, number] {
  const i = s.lastIndexOf('/');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}
