/**
 * Which of a table's keys this replica indexes: those of the Kafka partitions it owns (issue 15: adding replicas
 * divides the index). Debezium's producer (Kafka's default partitioner) puts a key in partition
 * `toPositive(murmur2(key bytes)) % partitions` (src/kafka/partitioner.ts), and every change of a key comes
 * through that partition, so the replica that owns it is the only one that ever looks the key up. The key bytes
 * of an existing row are rebuilt from its key columns by the topic's KeyTemplate (src/decode/key-serializer.ts),
 * learned from a consumed record and checked on every record (KeyPartitionCheck); on a mismatch the table is
 * indexed whole.
 *
 * A key whose bytes cannot be rebuilt is kept: an index holding more keys than its partitions' is still exact
 * (each key's entry follows the table like any other), one missing a key is not. The decision depends only on
 * the key, the template, the partition count and the owned partitions, so a build, a catch-up and a reshard all
 * keep the same keys.
 */
import { isRefused, type KeyTemplate } from '../decode/key-serializer.js';
import type { IcebergValue } from '../iceberg/values.js';
import { defaultPartition } from '../kafka/partitioner.js';

type Values = readonly (IcebergValue | null)[];

/** A topic's partitions this replica owns, of how many. */
export interface TopicAssignment {
  readonly topic: string;
  readonly partitionCount: number;
  readonly partitions: readonly number[];
}

export class KeyShard {
  private readonly owned: Uint8Array;
  private readonly scratch: (IcebergValue | null)[];

  private constructor(
    readonly assignment: TopicAssignment,
    private readonly template: KeyTemplate,
    /** For each column of the Kafka key (the template's order), its index among the table's key columns. */
    private readonly order: readonly number[],
  ) {
    this.owned = new Uint8Array(assignment.partitionCount);
    for (const p of assignment.partitions) if (p >= 0 && p < assignment.partitionCount) this.owned[p] = 1;
    this.scratch = new Array<IcebergValue | null>(order.length).fill(null);
  }

  /**
   * The shard of a table whose key columns are `keyNames` (its identifier fields, in key order), fed by the
   * topic of `assignment` whose keys `template` writes; or why the table is indexed whole.
   */
  static of(template: KeyTemplate, keyNames: readonly string[], assignment: TopicAssignment): KeyShard | string {
    if (template.columns.length !== keyNames.length) return `the Kafka key has columns (${template.columns.join(', ')}), the table's key (${keyNames.join(', ')})`;
    const order = template.columns.map((c) => keyNames.indexOf(c));
    if (order.some((i) => i < 0)) return `the Kafka key's columns (${template.columns.join(', ')}) are not the table's key columns (${keyNames.join(', ')})`;
    if (assignment.partitionCount < 1) return `topic ${assignment.topic} has no partitions`;
    return new KeyShard(assignment, template, order);
  }

  /** Whether this replica owns `partition` of the topic. */
  owns(partition: number): boolean {
    return this.owned[partition] === 1;
  }

  /** Whether this replica indexes `key` (values in the table's key order). */
  keeps(key: Values): boolean {
    for (let i = 0; i < this.order.length; i++) this.scratch[i] = key[this.order[i] as number] ?? null;
    const bytes = this.template.bytesOf(this.scratch);
    if (isRefused(bytes)) return true;
    return this.owned[defaultPartition(bytes, this.assignment.partitionCount)] === 1;
  }

  /** What the keys kept depend on: two shards with one identity keep the same keys (a saved index records it). */
  get identity(): string {
    const a = this.assignment;
    return `${a.topic}|${a.partitionCount}|${[...a.partitions].sort((x, y) => x - y).join(',')}|${this.template.identity}`;
  }
}

/** Whether two shardings (null: the whole table) keep the same keys. */
export function sameShard(a: KeyShard | null, b: KeyShard | null): boolean {
  return a === b || (a !== null && b !== null && a.identity === b.identity);
}

/** The filter of a sharding: null keeps every key. */
export function keeper(shard: KeyShard | null): (key: Values) => boolean {
  return shard === null ? () => true : (key) => shard.keeps(key);
}
