/**
 * Kafka's default partitioner for keyed records, as the Java producer (Debezium's, Kafka Connect's) applies it:
 *   partition = Utils.toPositive(Utils.murmur2(serializedKey)) % numPartitions
 * (kafka-clients BuiltInPartitioner.partitionForKey; `toPositive(x) = x & 0x7fffffff`). A replica that owns some
 * partitions recomputes this from a key's bytes to tell which keys of a table are its own.
 * Runs on every consumed record: integer arithmetic only, nothing allocated.
 */
import { FloeError } from '../errors.js';

/** Utils.murmur2's seed and mixing constants (MurmurHash2, 32-bit, Austin Appleby). */
const MURMUR2_SEED = 0x9747b28c;
const MURMUR2_M = 0x5bd1e995;
const MURMUR2_R = 24;

/**
 * org.apache.kafka.common.utils.Utils.murmur2: a signed int32, as Java returns it.
 *   int h = seed ^ length;
 *   for each 4-byte block (little-endian k): k *= m; k ^= k >>> r; k *= m; h *= m; h ^= k;
 *   tail (length % 4 bytes): case 3: h ^= (data[2] & 0xff) << 16; case 2: h ^= (data[1] & 0xff) << 8;
 *                            case 1: h ^= data[0] & 0xff; h *= m;
 *   h ^= h >>> 13; h *= m; h ^= h >>> 15;
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (MURMUR2_SEED ^ length) | 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> MURMUR2_R;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M);
    h ^= k;
  }
  // The tail, as Java's switch falls through case 3 → 2 → 1.
  const tail = length & 3;
  if (tail >= 3) h ^= (data[blocks + 2] as number) << 16;
  if (tail >= 2) h ^= (data[blocks + 1] as number) << 8;
  if (tail >= 1) {
    h ^= data[blocks] as number;
    h = Math.imul(h, MURMUR2_M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

/** Utils.toPositive: clears the sign bit (not Math.abs: Integer.MIN_VALUE must map to 0). */
export function toPositive(x: number): number {
  return x & 0x7fffffff;
}

/** The partition Kafka's default partitioner gives a record whose serialized key is `keyBytes`. */
export function defaultPartition(keyBytes: Uint8Array, partitionCount: number): number {
  // Checked without building a details object per call (this runs per record).
  if (!(partitionCount > 0 && Number.isInteger(partitionCount))) throw new FloeError('assertion_failed', `assertion failed: partition count ${partitionCount} is not a positive integer`);
  return toPositive(murmur2(keyBytes)) % partitionCount;
}
