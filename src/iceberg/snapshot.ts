/**
 * Snapshots (spec: "Snapshots"). JSON form:
 *   {"snapshot-id":3051729675574597004,"parent-snapshot-id":...,"sequence-number":1,"timestamp-ms":1515100955770,
 *    "manifest-list":"s3://b/wh/.../snap-3051729675574597004-1-....avro","summary":{"operation":"append",...},"schema-id":0,
 *    "first-row-id":1000,"added-rows":250}   (the last two: v3 row lineage)
 * Snapshot ids are 64-bit: they are bigint here and written to JSON as exact integers (see json.ts).
 */
import { FloeError } from '../errors.js';

export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

export interface Snapshot {
  readonly snapshotId: bigint;
  readonly parentSnapshotId: bigint | null;
  readonly sequenceNumber: bigint;
  readonly timestampMs: number;
  readonly manifestList: string;
  readonly summary: Readonly<Record<string, string>> & { readonly operation: SnapshotOperation };
  readonly schemaId: number | null;
  /** v3 row lineage: the first `_row_id` assigned to rows this snapshot added (the table's next-row-id before it). */
  readonly firstRowId?: bigint | null;
  /** v3 row lineage: how many row ids the snapshot assigned (the table's next-row-id advances by this). */
  readonly addedRows?: bigint | null;
}

export interface SnapshotRef {
  readonly snapshotId: bigint;
  readonly type: 'branch' | 'tag';
}

export const MAIN_BRANCH = 'main';

/** Summary keys Iceberg engines read (spec: "Snapshot Summary"). */
export const SummaryKey = Object.freeze({
  addedDataFiles: 'added-data-files',
  deletedDataFiles: 'deleted-data-files',
  addedDeleteFiles: 'added-delete-files',
  addedEqualityDeleteFiles: 'added-equality-delete-files',
  addedPositionDeleteFiles: 'added-position-delete-files',
  addedDvs: 'added-dvs',
  removedDvs: 'removed-dvs',
  removedDeleteFiles: 'removed-delete-files',
  addedRecords: 'added-records',
  deletedRecords: 'deleted-records',
  addedPositionDeletes: 'added-position-deletes',
  addedEqualityDeletes: 'added-equality-deletes',
  removedPositionDeletes: 'removed-position-deletes',
  removedEqualityDeletes: 'removed-equality-deletes',
  addedFilesSize: 'added-files-size',
  removedFilesSize: 'removed-files-size',
  changedPartitionCount: 'changed-partition-count',
  totalRecords: 'total-records',
  totalFilesSize: 'total-files-size',
  totalDataFiles: 'total-data-files',
  totalDeleteFiles: 'total-delete-files',
  totalPositionDeletes: 'total-position-deletes',
  totalEqualityDeletes: 'total-equality-deletes',
} as const);

export function snapshotToJSON(s: Snapshot): Record<string, unknown> {
  return {
    'snapshot-id': s.snapshotId,
    ...(s.parentSnapshotId !== null ? { 'parent-snapshot-id': s.parentSnapshotId } : {}),
    'sequence-number': s.sequenceNumber,
    'timestamp-ms': s.timestampMs,
    'manifest-list': s.manifestList,
    summary: { ...s.summary },
    ...(s.schemaId !== null ? { 'schema-id': s.schemaId } : {}),
    ...(s.firstRowId !== undefined && s.firstRowId !== null ? { 'first-row-id': s.firstRowId } : {}),
    ...(s.addedRows !== undefined && s.addedRows !== null ? { 'added-rows': s.addedRows } : {}),
  };
}

export function snapshotFromJSON(j: Record<string, unknown>): Snapshot {
  const summary = (j.summary ?? { operation: 'append' }) as Record<string, string>;
  const op = summary.operation;
  if (op !== 'append' && op !== 'replace' && op !== 'overwrite' && op !== 'delete') {
    throw new FloeError('metadata_invalid', `snapshot ${String(j['snapshot-id'])} has unknown operation ${String(op)}`);
  }
  if (typeof j['manifest-list'] !== 'string') {
    throw new FloeError('metadata_invalid', `snapshot ${String(j['snapshot-id'])} has no manifest-list (v1 "manifests" lists are not supported)`);
  }
  return {
    snapshotId: toBigInt(j['snapshot-id'], 'snapshot-id'),
    parentSnapshotId: j['parent-snapshot-id'] === undefined || j['parent-snapshot-id'] === null ? null : toBigInt(j['parent-snapshot-id'], 'parent-snapshot-id'),
    sequenceNumber: j['sequence-number'] === undefined ? 0n : toBigInt(j['sequence-number'], 'sequence-number'),
    timestampMs: Number(j['timestamp-ms']),
    manifestList: j['manifest-list'],
    summary: { ...summary, operation: op },
    schemaId: typeof j['schema-id'] === 'number' ? j['schema-id'] : null,
    ...(j['first-row-id'] !== undefined && j['first-row-id'] !== null ? { firstRowId: toBigInt(j['first-row-id'], 'first-row-id') } : {}),
    ...(j['added-rows'] !== undefined && j['added-rows'] !== null ? { addedRows: toBigInt(j['added-rows'], 'added-rows') } : {}),
  };
}

export function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new FloeError('metadata_invalid', `${what} must be an integer, got ${JSON.stringify(v)}`);
}
