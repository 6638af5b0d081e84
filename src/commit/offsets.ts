/**
 * Kafka offsets stored in the table, in the same atomic commit as the data they cover. Each floe snapshot's
 * summary carries `floe.kafka.offsets.<group>` = {"<topic>":{"<partition>":<next offset>}}: every record of
 * that partition below the offset is in the table. Snapshots by other writers (compaction, Spark) carry no
 * such key, so the current value is the one in the nearest ancestor that has it (metadata only, no I/O).
 * Other replicas of the group write their own partitions into the same map; a commit merges its partitions
 * into the map of the snapshot it commits on top of, and the CAS on the branch makes that merge atomic.
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
  for (let i = 0; s !== null && s !== undefined && i < OFFSET_ANCESTORS_MAX; i++) {
    const text = s.summary[key];
    if (text !== undefined) {
      try {
        return JSON.parse(text) as OffsetMap;
      } catch (e) {
        throw new FloeError('metadata_invalid', `snapshot ${s.snapshotId} has an unreadable ${key}: ${(e as Error).message}`, {}, e);
      }
    }
    s = s.parentSnapshotId === null ? null : byId.get(s.parentSnapshotId);
  }
  return {};
}

export function offsetOf(map: OffsetMap, topic: string, partition: number): number | null {
  const v = map[topic]?.[String(partition)];
  return v === undefined ? null : v;
}

/**
 * The summary for a commit on top of `base`: checks that every partition this commit covers still has the
 * offset this process started from (else another consumer owns it now: a zombie must not commit), then
 * merges the new offsets in.
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
