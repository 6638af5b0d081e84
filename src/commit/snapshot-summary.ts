/**
 * A transaction snapshot's summary: its operation (append / delete / overwrite) and the spec's summary metrics
 * (added / removed files, records, sizes, and the running totals carried over from the parent snapshot).
 */
import { DataFileContent, isDeletionVector, type DataFile } from '../iceberg/data-file.js';
import { SummaryKey, type Snapshot, type SnapshotOperation } from '../iceberg/snapshot.js';

/** The operation a snapshot records: `override` if set, else chosen from whether it adds and deletes rows. */
export function snapshotOperation(override: SnapshotOperation | null, adds: boolean, deletes: boolean): SnapshotOperation {
  if (override !== null) return override;
  if (adds && !deletes) return 'append';
  if (!adds && deletes) return 'delete';
  return 'overwrite';
}

/**
 * The summary metrics of a snapshot on top of `parent` that adds `addedData` and `addedFileDeletes` (delete
 * files) plus `addedDvs` (deletion vectors), and removes `removed` data files and `removedDeletes` delete files.
 */
export function snapshotSummary(
  parent: Snapshot | null,
  addedData: readonly DataFile[],
  addedFileDeletes: readonly DataFile[],
  removed: readonly DataFile[],
  removedDeletes: readonly DataFile[],
  addedDvs: readonly DataFile[],
): Record<string, string> {
  const sum = (files: readonly DataFile[], f: (d: DataFile) => bigint): bigint => files.reduce((a, d) => a + f(d), 0n);
  const addedDeletes = [...addedFileDeletes, ...addedDvs];
  const pos = addedDeletes.filter((d) => d.content === DataFileContent.POSITION_DELETES && !isDeletionVector(d));
  const eq = addedDeletes.filter((d) => d.content === DataFileContent.EQUALITY_DELETES);
  const addedRecords = sum(addedData, (d) => d.recordCount);
  const deletedRecords = sum(removed, (d) => d.recordCount);
  // A Puffin file's size counts once, however many vectors it holds (Java's summary does the same per file).
  const sizeOf = (files: readonly DataFile[]): bigint => sum(files.filter((d, i) => files.findIndex((x) => x.filePath === d.filePath) === i), (d) => d.fileSizeInBytes);
  const addedSize = sizeOf([...addedData, ...addedDeletes]);
  const removedSize = sizeOf([...removed, ...removedDeletes]);
  const removedPos = sum(removedDeletes.filter((d) => d.content === DataFileContent.POSITION_DELETES), (d) => d.recordCount);
  const removedEq = sum(removedDeletes.filter((d) => d.content === DataFileContent.EQUALITY_DELETES), (d) => d.recordCount);
  const posDeletes = sum([...pos, ...addedDvs], (d) => d.recordCount);
  const eqDeletes = sum(eq, (d) => d.recordCount);
  const removedDvs = removedDeletes.filter(isDeletionVector).length;
  const partitions = new Set([...addedData, ...addedDeletes, ...removed].map((d) => `${d.specId}:${JSON.stringify(d.partition, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`));
  const s: Record<string, string> = {};
  const put = (k: string, v: bigint | number): void => {
    if (BigInt(v) !== 0n) s[k] = String(v);
  };
  put(SummaryKey.addedDataFiles, addedData.length);
  put(SummaryKey.deletedDataFiles, removed.length);
  put(SummaryKey.addedDeleteFiles, addedDeletes.length);
  put(SummaryKey.addedPositionDeleteFiles, pos.length);
  put(SummaryKey.addedDvs, addedDvs.length);
  put(SummaryKey.removedDvs, removedDvs);
  put(SummaryKey.addedEqualityDeleteFiles, eq.length);
  put(SummaryKey.addedRecords, addedRecords);
  put(SummaryKey.deletedRecords, deletedRecords);
  put(SummaryKey.addedPositionDeletes, posDeletes);
  put(SummaryKey.addedEqualityDeletes, eqDeletes);
  put(SummaryKey.removedDeleteFiles, removedDeletes.length);
  put(SummaryKey.removedPositionDeletes, removedPos);
  put(SummaryKey.removedEqualityDeletes, removedEq);
  put(SummaryKey.addedFilesSize, addedSize);
  put(SummaryKey.removedFilesSize, removedSize);
  s[SummaryKey.changedPartitionCount] = String(partitions.size);
  const prev = (k: string): bigint => {
    const v = parent?.summary[k];
    return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : 0n;
  };
  s[SummaryKey.totalRecords] = String(prev(SummaryKey.totalRecords) + addedRecords - deletedRecords);
  s[SummaryKey.totalFilesSize] = String(prev(SummaryKey.totalFilesSize) + addedSize - removedSize);
  s[SummaryKey.totalDataFiles] = String(prev(SummaryKey.totalDataFiles) + BigInt(addedData.length) - BigInt(removed.length));
  s[SummaryKey.totalDeleteFiles] = String(prev(SummaryKey.totalDeleteFiles) + BigInt(addedDeletes.length) - BigInt(removedDeletes.length));
  s[SummaryKey.totalPositionDeletes] = String(prev(SummaryKey.totalPositionDeletes) + posDeletes - removedPos);
  s[SummaryKey.totalEqualityDeletes] = String(prev(SummaryKey.totalEqualityDeletes) + eqDeletes - removedEq);
  return s;
}
