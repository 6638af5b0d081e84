/**
 * Whether a topic's keys can be placed on partitions without Kafka: per topic, every consumed record is
 * checked against two facts a sharded key index relies on:
 *   (a) the record sits where Kafka's default partitioner puts its key bytes
 *       (toPositive(murmur2(key)) % partitions); otherwise the producer used a custom partitioner, or other
 *       settings (a keyless record, a producer-side key transform after partitioning...);
 *   (b) the key bytes are what KeyTemplate writes from the key's values as the Iceberg table holds them;
 *       otherwise an existing row's partition cannot be computed from the table.
 * The first record that fails either makes the topic mismatched for good (the result says `first` once, so
 * the caller logs once and indexes the whole table). While a topic matches, its template serves the bootstrap.
 */
import { defaultPartition } from '../kafka/partitioner.js';
import type { IcebergValue } from '../iceberg/values.js';
import { CONFLUENT_MAGIC, type AvroWriterSchema } from './avro-converter.js';
import { KeyTemplate, PRECISION_LOST, isRefused } from './key-serializer.js';

export interface KeyCheckOk {
  readonly kind: 'ok';
}

export interface KeyCheckMismatch {
  readonly kind: 'mismatch';
  readonly reason: string;
  /** True only on the record that found the mismatch. */
  readonly first: boolean;
}

export type KeyCheckResult = KeyCheckOk | KeyCheckMismatch;

/** A consumed record's key as the decoder gave it: Change.shape.keyColumns and Change.key. */
export interface DecodedKey {
  readonly columns: readonly string[];
  readonly values: readonly unknown[];
}

const OK: KeyCheckOk = Object.freeze({ kind: 'ok' });
const CONFLUENT_HEADER_BYTES = 5;
const HEX_SHOWN_CHARS = 160;

interface TopicState {
  template: KeyTemplate | null;
  mismatch: KeyCheckMismatch | null;
  /** Reused per record: the key's Iceberg values. */
  readonly values: (IcebergValue | null)[];
}

function hex(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  return s.length > HEX_SHOWN_CHARS ? `${s.slice(0, HEX_SHOWN_CHARS)}...` : s;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class KeyPartitionCheck {
  private readonly topics = new Map<string, TopicState>();

  /** `writerSchema`: the Avro writer schema by registry id (DebeziumDecoder.writerSchema), for Avro keys. */
  constructor(private readonly writerSchema: (id: number) => AvroWriterSchema | undefined = () => undefined) {}

  /**
   * Checks one consumed record: its raw key bytes, the decoder's key, the partition it was read from and the
   * topic's partition count. The first record of a topic also teaches the topic's key template.
   */
  check(topic: string, rawKey: Uint8Array | null, decoded: DecodedKey, partition: number, partitionCount: number): KeyCheckResult {
    let st = this.topics.get(topic);
    if (st === undefined) {
      st = { template: null, mismatch: null, values: [] };
      this.topics.set(topic, st);
    }
    if (st.mismatch !== null) return st.mismatch;
    if (rawKey === null || rawKey.length === 0) return this.fail(st, 'a record without a key: the producer spreads those over partitions, not by key');
    const expected = defaultPartition(rawKey, partitionCount);
    if (expected !== partition) {
      return this.fail(st, `a record in partition ${partition} whose key Kafka's default partitioner puts in ${expected} of ${partitionCount}: a custom partitioner (or other producer settings), key ${hex(rawKey)}`);
    }
    if (st.template === null) {
      const isAvro = rawKey[0] === CONFLUENT_MAGIC && rawKey.length >= CONFLUENT_HEADER_BYTES;
      const avro = isAvro ? this.writerSchema(Buffer.from(rawKey.buffer, rawKey.byteOffset, rawKey.length).readInt32BE(1)) : undefined;
      const t = KeyTemplate.learn(rawKey, decoded, avro);
      if (isRefused(t)) return this.fail(st, `key not reproducible: ${t.reason}`);
      st.template = t;
      return OK;
    }
    const t = st.template;
    if (!sameColumns(t.columns, decoded.columns)) return this.fail(st, `the key columns changed from (${t.columns.join(', ')}) to (${decoded.columns.join(', ')})`);
    let values = t.toIceberg(decoded.values, st.values);
    if (values === PRECISION_LOST) values = t.toIcebergExact(rawKey, st.values);
    if (isRefused(values)) return this.fail(st, `key not reproducible: ${values.reason}`);
    if (!t.reproduces(values, rawKey)) {
      const wrote = t.bytesOf(values);
      return this.fail(st, `key ${hex(rawKey)} does not re-serialize from its values (${t.format}${t.schemaId !== null ? ` schema id ${t.schemaId}` : ''}): ${isRefused(wrote) ? wrote.reason : `wrote ${hex(wrote)}`}; did the key schema change?`);
    }
    return OK;
  }

  /** The topic's key template while its keys match (null: none learned yet, or mismatched). */
  template(topic: string): KeyTemplate | null {
    const st = this.topics.get(topic);
    return st === undefined || st.mismatch !== null ? null : st.template;
  }

  /** Why the topic's keys cannot be placed by value (null: no mismatch seen). */
  mismatch(topic: string): string | null {
    return this.topics.get(topic)?.mismatch?.reason ?? null;
  }

  private fail(st: TopicState, reason: string): KeyCheckMismatch {
    st.template = null;
    st.mismatch = Object.freeze({ kind: 'mismatch', reason, first: false });
    return { kind: 'mismatch', reason, first: true };
  }
}
