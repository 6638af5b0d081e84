/**
 * Kafka messages cross to worker threads as one transferred ArrayBuffer per batch (field notes: transferring
 * raw bytes is ~7x cheaper than structured clone of parsed objects). Layout per message, little-endian:
 *   u16 topicIndex | u32 partition | f64 offset | i32 keyLength (-1 = null) | i32 valueLength (-1 = null) | key | value
 * Topic names travel once per batch in a string table.
 */
import type { SourceMessage } from '../kafka/source.js';

const HEADER_BYTES = 2 + 4 + 8 + 4 + 4;

export interface PackedBatch {
  readonly topics: string[];
  readonly count: number;
  readonly buffer: ArrayBuffer;
}

export function packBatch(messages: readonly SourceMessage[]): PackedBatch {
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  let size = 0;
  for (const m of messages) {
    size += HEADER_BYTES + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    if (!topicIndex.has(m.topic)) {
      topicIndex.set(m.topic, topics.length);
      topics.push(m.topic);
    }
  }
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  let p = 0;
  for (const m of messages) {
    view.setUint16(p, topicIndex.get(m.topic) ?? 0, true);
    view.setUint32(p + 2, m.partition, true);
    view.setFloat64(p + 6, m.offset, true);
    view.setInt32(p + 14, m.key === null ? -1 : m.key.length, true);
    view.setInt32(p + 18, m.value === null ? -1 : m.value.length, true);
    p += HEADER_BYTES;
    if (m.key !== null) {
      bytes.set(m.key, p);
      p += m.key.length;
    }
    if (m.value !== null) {
      bytes.set(m.value, p);
      p += m.value.length;
    }
  }
  return { topics, count: messages.length, buffer };
}

/** Messages of a packed batch; keys and values are views into the batch buffer (no copies). */
export function unpackBatch(b: PackedBatch): SourceMessage[] {
  const out: SourceMessage[] = new Array<SourceMessage>(b.count);
  const view = new DataView(b.buffer);
  let p = 0;
  for (let i = 0; i < b.count; i++) {
    const topic = b.topics[view.getUint16(p, true)] ?? '';
    const partition = view.getUint32(p + 2, true);
    const offset = view.getFloat64(p + 6, true);
    const kl = view.getInt32(p + 14, true);
    const vl = view.getInt32(p + 18, true);
    p += HEADER_BYTES;
    const key = kl < 0 ? null : Buffer.from(b.buffer, p, kl);
    p += Math.max(0, kl);
    const value = vl < 0 ? null : Buffer.from(b.buffer, p, vl);
    p += Math.max(0, vl);
    out[i] = { topic, partition, offset, key, value, timestamp: undefined };
  }
  return out;
}
