/**
 * Puffin files (spec: "Puffin file format"), Iceberg's container for statistics and index blobs:
 *   Magic Blob₁ … Blobₙ Footer,   Footer = Magic FooterPayload FooterPayloadSize Flags Magic
 * Magic is "PFA1" (50 46 41 31); FooterPayload is UTF-8 JSON {"blobs":[BlobMetadata…],"properties":{…}} with
 * BlobMetadata {type, fields, snapshot-id, sequence-number, offset, length, properties}; FooterPayloadSize is a
 * 4-byte little-endian integer; Flags are 4 bytes (bit 0 of byte 0: footer compressed). floe writes blobs and
 * footer uncompressed.
 */
import { FloeError } from '../errors.js';
import { parseJsonExact, stringifyJsonExact } from './json.js';

export const PUFFIN_MAGIC = Buffer.from([0x50, 0x46, 0x41, 0x31]);

export interface PuffinBlob {
  readonly type: string;
  readonly fields: readonly number[];
  readonly snapshotId: bigint;
  readonly sequenceNumber: bigint;
  readonly data: Uint8Array;
  readonly properties?: Readonly<Record<string, string>>;
}

export function writePuffin(blobs: readonly PuffinBlob[], properties: Readonly<Record<string, string>> = {}): Buffer {
  const parts: Buffer[] = [PUFFIN_MAGIC];
  let offset = PUFFIN_MAGIC.length;
  const meta = blobs.map((b) => {
    const m = {
      type: b.type,
      fields: b.fields,
      'snapshot-id': b.snapshotId,
      'sequence-number': b.sequenceNumber,
      offset,
      length: b.data.length,
      ...(b.properties !== undefined ? { properties: b.properties } : {}),
    };
    parts.push(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
    offset += b.data.length;
    return m;
  });
  const payload = Buffer.from(stringifyJsonExact({ blobs: meta, properties }) ?? '{}');
  const size = Buffer.alloc(4);
  size.writeUInt32LE(payload.length, 0);
  parts.push(PUFFIN_MAGIC, payload, size, Buffer.alloc(4), PUFFIN_MAGIC);
  return Buffer.concat(parts);
}

export function readPuffin(bytes: Uint8Array): { blobs: PuffinBlob[]; properties: Record<string, string> } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => {
    throw new FloeError('metadata_invalid', `Puffin file: ${why}`);
  };
  if (b.length < 20 || !b.subarray(0, 4).equals(PUFFIN_MAGIC) || !b.subarray(b.length - 4).equals(PUFFIN_MAGIC)) bad('no PFA1 magic');
  const flags = b.readUInt32LE(b.length - 8);
  if ((flags & 1) !== 0) bad('compressed footers are not supported');
  const size = b.readUInt32LE(b.length - 12);
  const start = b.length - 12 - size;
  if (start < 8 || !b.subarray(start - 4, start).equals(PUFFIN_MAGIC)) bad('footer magic missing');
  const footer = parseJsonExact(b.toString('utf8', start, start + size)) as { blobs?: Record<string, unknown>[]; properties?: Record<string, string> };
  const blobs = (footer.blobs ?? []).map((m) => {
    const offset = Number(m.offset);
    const length = Number(m.length);
    if (m['compression-codec'] !== undefined && m['compression-codec'] !== null) bad(`blob ${String(m.type)} is compressed`);
    if (!(offset >= 4 && offset + length <= start - 4)) bad(`blob ${String(m.type)} is outside the file`);
    return {
      type: String(m.type),
      fields: ((m.fields as unknown[]) ?? []).map(Number),
      snapshotId: BigInt(m['snapshot-id'] as bigint | number),
      sequenceNumber: BigInt(m['sequence-number'] as bigint | number),
      data: b.subarray(offset, offset + length),
      ...(m.properties !== undefined ? { properties: m.properties as Record<string, string> } : {}),
    };
  });
  return { blobs, properties: footer.properties ?? {} };
}
