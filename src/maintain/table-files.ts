/**
 * What the rewrite steps plan on and validate against: the live files of one snapshot, sorted by kind, and the
 * files the commits after it added and removed. The second is the conflict check of Iceberg's replace operations
 * (Java's MergingSnapshotProducer validations): a group planned on snapshot S may only replace files when
 * nothing committed since S touched them, judged from the entries each newer snapshot wrote itself (ADDED and
 * DELETED entries carrying that snapshot's id; EXISTING entries are carried over, not changes).
 */
import type { LoadedTable } from '../catalog/catalog.js';
import { DataFileContent, ManifestEntryStatus, deleteFileKey, isDeletionVector, type ManifestEntry } from '../iceberg/data-file.js';
import { readManifest } from '../iceberg/manifest.js';
import { liveEntries, readManifestFiles } from '../iceberg/snapshot-files.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';

/** The live entries of one snapshot by kind. */
export interface TableFiles {
  readonly snapshot: Snapshot;
  readonly entries: readonly ManifestEntry[];
  readonly data: readonly ManifestEntry[];
  /** v2 position delete files (Parquet), not deletion vectors. */
  readonly positionDeletes: readonly ManifestEntry[];
  readonly vectors: readonly ManifestEntry[];
  readonly equalityDeletes: readonly ManifestEntry[];
}

export async function tableFiles(table: LoadedTable, snapshot: Snapshot): Promise<TableFiles> {
  const entries = await liveEntries(table, snapshot);
  return {
    snapshot,
    entries,
    data: entries.filter((e) => e.dataFile.content === DataFileContent.DATA),
    positionDeletes: entries.filter((e) => e.dataFile.content === DataFileContent.POSITION_DELETES && !isDeletionVector(e.dataFile)),
    vectors: entries.filter((e) => isDeletionVector(e.dataFile)),
    equalityDeletes: entries.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES),
  };
}

/** What the snapshots after a given one (up to main's current) changed. */
export interface Changes {
  /** False when the snapshot is not in main's ancestry any more (rolled back, expired): nothing can be validated. */
  readonly ancestor: boolean;
  readonly addedData: readonly ManifestEntry[];
  readonly removedDataPaths: ReadonlySet<string>;
  /** Position delete files, deletion vectors and equality delete files added. */
  readonly addedDeletes: readonly ManifestEntry[];
  /** Delete files removed, by deleteFileKey. */
  readonly removedDeleteKeys: ReadonlySet<string>;
}

/** Snapshots main reached after `fromSnapshotId`, oldest first, or null when `fromSnapshotId` is not in its ancestry. */
function snapshotsSince(table: LoadedTable, fromSnapshotId: bigint): Snapshot[] | null {
  const byId = new Map(table.metadata.snapshots.map((s) => [s.snapshotId, s]));
  const out: Snapshot[] = [];
  let s = currentSnapshot(table.metadata);
  while (s !== null && s.snapshotId !== fromSnapshotId) {
    out.push(s);
    s = s.parentSnapshotId === null ? null : (byId.get(s.parentSnapshotId) ?? null);
  }
  return s === null ? null : out.reverse();
}

export async function changesSince(table: LoadedTable, fromSnapshotId: bigint): Promise<Changes> {
  const addedData: ManifestEntry[] = [];
  const removedDataPaths = new Set<string>();
  const addedDeletes: ManifestEntry[] = [];
  const removedDeleteKeys = new Set<string>();
  const since = snapshotsSince(table, fromSnapshotId);
  if (since === null) return { ancestor: false, addedData, removedDataPaths, addedDeletes, removedDeleteKeys };
  const specs = specsById(table.metadata);
  const schema = currentSchema(table.metadata);
  for (const snap of since) {
    for (const m of await readManifestFiles(table, snap)) {
      // Only manifests this snapshot wrote can hold its own ADDED / DELETED entries.
      if (m.addedSnapshotId !== snap.snapshotId) continue;
      for (const e of readManifest(await table.io.read(m.manifestPath), m, specs, schema)) {
        if (e.snapshotId !== snap.snapshotId || e.status === ManifestEntryStatus.EXISTING) continue;
        const isData = e.dataFile.content === DataFileContent.DATA;
        if (e.status === ManifestEntryStatus.ADDED) (isData ? addedData : addedDeletes).push(e);
        else if (isData) removedDataPaths.add(e.dataFile.filePath);
        else removedDeleteKeys.add(deleteFileKey(e.dataFile));
      }
    }
  }
  return { ancestor: true, addedData, removedDataPaths, addedDeletes, removedDeleteKeys };
}
