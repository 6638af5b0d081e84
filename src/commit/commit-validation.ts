/**
 * Re-validates a transaction against the base it commits on top of (on every attempt, so after each conflict):
 * the data files it removes and those it requires (targets of position deletes and deletion vectors) must still
 * be live. The same scan of the base's manifests rewrites those that lose entries (removed files, a truncate).
 */
import { FloeError, assert } from '../errors.js';
import { DataFileContent, ManifestEntryStatus, deleteFileKey, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { ManifestContent, carriesLiveFiles, writeManifest, type ManifestFile } from '../iceberg/manifest.js';
import { readManifestFiles } from '../iceberg/snapshot-files.js';
import type { Schema } from '../iceberg/schema.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import { specsById } from '../iceberg/table-metadata.js';
import { newManifestPath, rewriteManifest, type AttemptWriter } from './manifest-writes.js';

/** What a transaction removes from or requires of the base. */
export interface BaseChanges {
  readonly removedDataPaths: ReadonlySet<string>;
  readonly requiredDataPaths: ReadonlySet<string>;
  /** Data files that get deletion vectors (they must be live too). */
  readonly deletedPositions: ReadonlyMap<string, Float64Array>;
  /** Truncate: every live file is removed. */
  readonly removeAll: boolean;
  /** Delete files removed (maintenance rewrites), by deleteFileKey (a Puffin file may hold several vectors). */
  readonly removedDeleteKeys: ReadonlySet<string>;
}

/** Whether an entry is a delete file the transaction removes. */
export function removesDeleteOf(changes: BaseChanges): (e: ManifestEntry) => boolean {
  return (e) => e.dataFile.content !== DataFileContent.DATA && changes.removedDeleteKeys.has(deleteFileKey(e.dataFile));
}

/** The base's manifests as the new snapshot carries them, and what the scan found. */
export interface BaseScan {
  /** Manifests kept as they are or rewritten (sequence number -1: assigned by the new snapshot). */
  readonly kept: ManifestFile[];
  readonly removedFiles: DataFile[];
  readonly removedDeletes: DataFile[];
  /** Live entries of the data files the deletion vectors target. */
  readonly targets: Map<string, ManifestEntry>;
  /** Delete manifests, checked for the targets' vectors and position deletes once every target is found (deletion vectors only). */
  readonly deleteManifests: ManifestFile[];
  /** Removed delete files not found yet: those in `deleteManifests` are looked for by the vector merge. */
  readonly deletesToFind: Set<string>;
}

/**
 * Scans the manifests of `parent` (the base's current snapshot) for the changes, rewriting the manifests that
 * lose entries. Throws `commit_conflict` if a removed data file is no longer live, `commit_targets_gone` if a
 * required one is not.
 */
export async function applyToBase(w: AttemptWriter, parent: Snapshot | null, changes: BaseChanges, snapshotId: bigint, schema: Schema): Promise<BaseScan> {
  const meta = w.table.metadata;
  const existing = await readManifestFiles(w.table, parent);
  const kept: ManifestFile[] = [];
  const removedFiles: DataFile[] = [];
  const needRemove = new Set(changes.removedDataPaths);
  const needLive = new Set(changes.requiredDataPaths);
  const removedDeletes: DataFile[] = [];
  const vectors = changes.deletedPositions.size > 0;
  assert(!(vectors && changes.removeAll), 'a truncate removes every file: no deletion vectors with it');
  const targets = new Map<string, ManifestEntry>();
  const deleteManifests: ManifestFile[] = [];
  const needRemoveDeletes = new Set(changes.removedDeleteKeys);
  const removesDelete = removesDeleteOf(changes);
  for (const m of existing) {
    // A parent manifest with no live entry (only DELETED ones, which record a removal in the snapshot that made
    // it) is not carried: Iceberg's snapshot producers keep only manifests with added or existing files too, and
    // after every compaction a streaming table would otherwise list its emptied manifests until a manifest rewrite.
    if (!carriesLiveFiles(m, meta.formatVersion)) continue;
    if (changes.removeAll) {
      // Truncate: every live entry of every manifest becomes DELETED in a rewritten manifest.
      const entries = await w.manifestCache.get(w.table, m, schema);
      const live = entries.filter((e) => e.status !== ManifestEntryStatus.DELETED);
      if (live.length === 0) continue;
      const spec = specsById(meta).get(m.partitionSpecId);
      assert(spec !== undefined, 'manifest spec must exist', { manifest: m.manifestPath });
      for (const e of live) (e.dataFile.content === DataFileContent.DATA ? removedFiles : removedDeletes).push(e.dataFile);
      const path = newManifestPath(w.table);
      const out = writeManifest({
        path, formatVersion: meta.formatVersion, schema, spec, content: m.content, snapshotId,
        entries: live.map((e) => ({ ...e, status: ManifestEntryStatus.DELETED, snapshotId })),
      });
      await w.writeFile(path, out.bytes);
      kept.push({ ...out.manifestFile, sequenceNumber: -1n, minSequenceNumber: -1n });
      continue;
    }
    if (vectors && m.content === ManifestContent.DELETES) {
      deleteManifests.push(m);
      continue;
    }
    if (needRemoveDeletes.size > 0 && m.content === ManifestContent.DELETES) {
      const entries = await w.manifestCache.get(w.table, m, schema);
      const live = entries.filter((e) => e.status !== ManifestEntryStatus.DELETED && removesDelete(e));
      for (const e of live) needRemoveDeletes.delete(deleteFileKey(e.dataFile));
      kept.push(live.length === 0 ? m : await rewriteManifest(w, m, entries, snapshotId, schema, removesDelete, removedDeletes));
      continue;
    }
    const mustScan = m.content === ManifestContent.DATA && (needRemove.size > 0 || needLive.size > 0);
    if (!mustScan) {
      kept.push(m);
      continue;
    }
    const entries = await w.manifestCache.get(w.table, m, schema);
    let touched = false;
    for (const e of entries) {
      if (e.status === ManifestEntryStatus.DELETED) continue;
      needLive.delete(e.dataFile.filePath);
      if (changes.deletedPositions.has(e.dataFile.filePath)) targets.set(e.dataFile.filePath, e);
      if (changes.removedDataPaths.has(e.dataFile.filePath)) {
        touched = true;
        needRemove.delete(e.dataFile.filePath);
      }
    }
    if (!touched) {
      kept.push(m);
      continue;
    }
    // Rewrite this manifest: removed files become DELETED entries, the rest stay EXISTING with their sequence numbers.
    kept.push(await rewriteManifest(w, m, entries, snapshotId, schema, (e) => changes.removedDataPaths.has(e.dataFile.filePath), removedFiles));
  }
  if (needRemove.size > 0) {
    throw new FloeError('commit_conflict', `cannot remove ${needRemove.size} data file(s) that are no longer live (e.g. ${[...needRemove][0]}); rewritten by a concurrent commit?`);
  }
  if (needLive.size > 0) {
    throw new FloeError('commit_targets_gone', `position deletes target ${needLive.size} data file(s) that are no longer live (e.g. ${[...needLive][0]}); rewritten by a concurrent commit?`, { files: [...needLive].slice(0, 10) });
  }
  if (!vectors) assertDeletesFound(needRemoveDeletes);
  return { kept, removedFiles, removedDeletes, targets, deleteManifests, deletesToFind: needRemoveDeletes };
}

/** Removed delete files must be live in the base: one a concurrent commit removed first is a conflict. */
export function assertDeletesFound(missing: ReadonlySet<string>): void {
  if (missing.size > 0) {
    throw new FloeError('commit_conflict', `cannot remove ${missing.size} delete file(s) that are no longer live (e.g. ${[...missing][0]}); removed by a concurrent commit?`);
  }
}
