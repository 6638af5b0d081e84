/**
 * DataFile: the `data_file` struct of a manifest entry (spec: "Manifests"). One type for data files, position
 * delete files and equality delete files, told apart by `content`:
 *   0 DATA, 1 POSITION_DELETES, 2 EQUALITY_DELETES.
 * Column metrics are keyed by field id; bounds use the single-value binary serialization (conversions.ts).
 */
import type { IcebergValue } from './values.js';

export const DataFileContent = Object.freeze({ DATA: 0, POSITION_DELETES: 1, EQUALITY_DELETES: 2 } as const);
export type DataFileContent = (typeof DataFileContent)[keyof typeof DataFileContent];

export type FileFormat = 'PARQUET' | 'AVRO' | 'ORC' | 'PUFFIN';

export interface DataFile {
  readonly content: DataFileContent;
  readonly filePath: string;
  readonly fileFormat: FileFormat;
  readonly specId: number;
  /** Partition tuple, ordered as the spec's partition fields (null for a null partition value). */
  readonly partition: readonly (IcebergValue | null)[];
  readonly recordCount: bigint;
  readonly fileSizeInBytes: bigint;
  readonly columnSizes?: ReadonlyMap<number, bigint>;
  readonly valueCounts?: ReadonlyMap<number, bigint>;
  readonly nullValueCounts?: ReadonlyMap<number, bigint>;
  readonly nanValueCounts?: ReadonlyMap<number, bigint>;
  readonly lowerBounds?: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds?: ReadonlyMap<number, Uint8Array>;
  readonly splitOffsets?: readonly bigint[];
  /** Field ids of the equality delete columns (content = EQUALITY_DELETES only). */
  readonly equalityIds?: readonly number[];
  readonly sortOrderId?: number;
  /** v3: the data file a position delete file or deletion vector applies to, if only one. */
  readonly referencedDataFile?: string;
  /**
   * v3 row lineage: the `_row_id` of the file's first row. Null in ADDED entries (inherited from the manifest's
   * `first_row_id` plus the record counts of the files before it); written explicitly once a file is EXISTING.
   */
  readonly firstRowId?: bigint;
  /** v3 deletion vector: where its `deletion-vector-v1` blob sits in the Puffin file (`file_path`). */
  readonly contentOffset?: bigint;
  readonly contentSizeInBytes?: bigint;
}

/** A deletion vector: a position delete entry stored as a Puffin blob (spec v3: "Deletion Vectors"). */
export function isDeletionVector(f: DataFile): boolean {
  return f.content === DataFileContent.POSITION_DELETES && f.fileFormat === 'PUFFIN';
}

/**
 * Identifies a delete file among a snapshot's entries: its path, and for a deletion vector also the blob's offset
 * (one Puffin file may hold the vectors of several data files, each its own entry).
 */
export function deleteFileKey(f: DataFile): string {
  return isDeletionVector(f) ? `${f.filePath}#${String(f.contentOffset ?? 0n)}` : f.filePath;
}

export const ManifestEntryStatus = Object.freeze({ EXISTING: 0, ADDED: 1, DELETED: 2 } as const);
export type ManifestEntryStatus = (typeof ManifestEntryStatus)[keyof typeof ManifestEntryStatus];

/**
 * ManifestEntry (spec: `manifest_entry`). `sequenceNumber`/`fileSequenceNumber` null means "inherit from the
 * manifest's sequence number", which is how ADDED entries are written (the sequence number is only known at
 * commit time, from the manifest list).
 */
export interface ManifestEntry {
  readonly status: ManifestEntryStatus;
  readonly snapshotId: bigint | null;
  readonly sequenceNumber: bigint | null;
  readonly fileSequenceNumber: bigint | null;
  readonly dataFile: DataFile;
}
