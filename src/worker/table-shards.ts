/**
 * What decides which keys each table's index holds in this worker (key-shard.ts): the partitions this replica
 * owns per topic (set at every rebalance), the topics each table's records came from, and the check of every
 * consumed key against Kafka's default partitioner and the topic's key template (KeyPartitionCheck). A table is
 * sharded when one topic feeds it, that topic's keys all matched so far, and its key columns are the Kafka key's;
 * otherwise it is indexed whole.
 */
import { KeyPartitionCheck } from '../decode/key-partition-check.js';
import type { AvroWriterSchema } from '../decode/avro-converter.js';
import type { SourceMessage } from '../kafka/source.js';
import { KeyShard, type TopicAssignment } from './key-shard.js';

/** A topic whose keys stopped matching: reported once, when found. */
export interface KeyMismatch {
  readonly topic: string;
  readonly reason: string;
}

export class TableShards {
  private readonly assignment = new Map<string, TopicAssignment>();
  private readonly check: KeyPartitionCheck;
  private readonly topicsOf = new Map<string, Set<string>>();
  /** Mismatches found since `takeMismatches`. */
  private found: KeyMismatch[] = [];

  constructor(
    /** Off (`index.shardByPartition: false`): every table is indexed whole and no key is checked. */
    private readonly enabled: boolean,
    writerSchema: (id: number) => AvroWriterSchema | undefined,
  ) {
    this.check = new KeyPartitionCheck(writerSchema);
  }

  /** This replica's partitions now (after a rebalance): replaces the previous assignment. */
  assign(list: readonly TopicAssignment[]): void {
    // A topic this replica held partitions of and holds none of now keeps its partition count: its tables' indexes
    // then hold no key (an empty shard), not every key.
    const before = [...this.assignment.values()];
    this.assignment.clear();
    for (const a of before) this.assignment.set(a.topic, { topic: a.topic, partitionCount: a.partitionCount, partitions: [] });
    for (const a of list) this.assignment.set(a.topic, a);
  }

  /**
   * Checks one consumed record's key (its decoded key columns and values) and notes that `table` is fed by its
   * topic. Cheap when sharding is off or the topic's partitions are unknown.
   */
  observe(table: string, m: SourceMessage, keyColumns: readonly string[], key: readonly unknown[]): void {
    let topics = this.topicsOf.get(table);
    if (topics === undefined) this.topicsOf.set(table, (topics = new Set()));
    if (!topics.has(m.topic)) topics.add(m.topic);
    if (!this.enabled) return;
    const a = this.assignment.get(m.topic);
    if (a === undefined) return;
    const r = this.check.check(m.topic, m.key, { columns: keyColumns, values: key }, m.partition, a.partitionCount);
    if (r.kind === 'mismatch' && r.first) this.found.push({ topic: m.topic, reason: r.reason });
  }

  /** The mismatches found since the last call (each topic's once). */
  takeMismatches(): KeyMismatch[] {
    const out = this.found;
    this.found = [];
    return out;
  }

  /**
   * Whether an index sharded as `shard` still holds the key of record `m`: the record is of the shard's topic and
   * of one of its partitions, and the topic's keys still match (else the table needs its index to follow).
   */
  stillHolds(shard: KeyShard, m: SourceMessage): boolean {
    const a = shard.assignment;
    return m.topic === a.topic && shard.owns(m.partition) && this.check.template(m.topic) !== null;
  }

  /** The keys `table` (key columns `keyNames`) should index now: a shard, or null for every key. */
  desired(table: string, keyNames: readonly string[]): KeyShard | null {
    if (!this.enabled) return null;
    const topics = this.topicsOf.get(table);
    if (topics?.size !== 1) return null;
    const topic = [...topics][0] as string;
    const a = this.assignment.get(topic);
    const template = this.check.template(topic);
    if (a === undefined || template === null) return null;
    const shard = KeyShard.of(template, keyNames, a);
    return typeof shard === 'string' ? null : shard;
  }
}
