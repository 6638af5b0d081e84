/**
 * Writes a snapshot's deletion vectors (spec v3: "Deletion Vectors"): merges the new deleted positions with each
 * target file's current vector and the v2 position deletes that apply to it, writes the Puffin files and their
 * delete manifests, and rewrites the manifests of the replaced vectors.
 */
import { randomUUID } from 'node:crypto';
import { assert } from '../errors.js';
import { DataFileContent, ManifestEntryStatus, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { ManifestContent, writeManifest, type ManifestFile } from '../iceberg/manifest.js';
import {
  DELETION_VECTOR_BLOB_TYPE,
  ROW_POSITION_FIELD_ID,
  normalizePositions,
  readDeletionVector,
  serializeDeletionVector,
  unionPositions,
} from '../iceberg/deletion-vector.js';
import { writePuffin } from '../iceberg/puffin.js';
import { readPositionDeletes } from '../iceberg/scan.js';
import { valuesKey } from '../iceberg/values.js';
import type { DeletionVectorFiles } from '../config/config.js';
import type { Schema } from '../iceberg/schema.js';
import { specsById } from '../iceberg/table-metadata.js';
import { newManifestPath, rewriteManifest, type AttemptWriter } from './manifest-writes.js';

/** Deletion vector files a commit reads or uploads at once. */
const DV_UPLOADS_IN_FLIGHT_MAX = 16;

/** The deletion vectors a transaction commits, and where they go. */
export interface DeletionVectorChanges {
  /** Deleted row positions per data file (normalized). */
  readonly positions: ReadonlyMap<string, Float64Array>;
  readonly files: DeletionVectorFiles;
  /** Vectors one Puffin file holds at most. */
  readonly perFileMax: number;
}

/**
 * Writes this attempt's deletion vectors (spec v3: "Deletion Vectors"): for each target data file, the new
 * positions merged with the file's current vector and with the v2 position delete files that apply to it
 * (readers ignore position delete files once a file has a vector), one `deletion-vector-v1` blob per file in
 * one Puffin file. The old vectors become DELETED entries of their rewritten manifests, in this same snapshot.
 */
export async function writeDeletionVectors(
  w: AttemptWriter,
  dv: DeletionVectorChanges,
  targets: ReadonlyMap<string, ManifestEntry>,
  deleteManifests: readonly ManifestFile[],
  snapshotId: bigint,
  schema: Schema,
  removesDelete: (e: ManifestEntry) => boolean = () => false,
): Promise<{ kept: ManifestFile[]; added: ManifestFile[]; addedDvs: DataFile[]; removedDvs: DataFile[] }> {
  const meta = w.table.metadata;
  const specs = specsById(meta);
  assert(targets.size === dv.positions.size, 'every deletion vector target was found live', { targets: targets.size, wanted: dv.positions.size });
  const partitionKeys = new Set([...targets.values()].map((e) => `${e.dataFile.specId}/${valuesKey(e.dataFile.partition)}`));
  const oldVectors = new Map<string, ManifestEntry>();
  const positionFiles: ManifestEntry[] = [];
  const kept: ManifestFile[] = [];
  const touched: { m: ManifestFile; entries: ManifestEntry[] }[] = [];
  for (const m of deleteManifests) {
    const entries = await w.manifestCache.get(w.table, m, schema);
    let hasOld = false;
    for (const e of entries) {
      const f = e.dataFile;
      if (e.status === ManifestEntryStatus.DELETED) continue;
      // Removed explicitly (Transaction.removeDeleteFiles): neither merged nor kept.
      if (removesDelete(e)) {
        hasOld = true;
        continue;
      }
      if (f.content !== DataFileContent.POSITION_DELETES) continue;
      if (isDeletionVector(f)) {
        if (f.referencedDataFile !== undefined && targets.has(f.referencedDataFile)) {
          assert(!oldVectors.has(f.referencedDataFile), 'a data file has at most one deletion vector', { file: f.referencedDataFile });
          oldVectors.set(f.referencedDataFile, e);
          hasOld = true;
        }
      } else if (f.referencedDataFile !== undefined ? targets.has(f.referencedDataFile) : partitionKeys.has(`${f.specId}/${valuesKey(f.partition)}`)) {
        positionFiles.push(e);
      }
    }
    if (hasOld) touched.push({ m, entries });
    else kept.push(m);
  }
  // Positions already deleted by v2 position delete files that apply (delete sequence number >= the file's).
  // A target that has a vector already carries them (its first vector merged them): only the others need reading.
  const earlier = new Map<string, number[]>();
  const firstVector = new Set([...targets.keys()].filter((p) => !oldVectors.has(p)));
  for (const d of firstVector.size === 0 ? [] : positionFiles) {
    if (d.dataFile.referencedDataFile !== undefined && !firstVector.has(d.dataFile.referencedDataFile)) continue;
    for (const [path, list] of await readPositionDeletes(w.table, d.dataFile.filePath)) {
      const target = targets.get(path);
      if (target === undefined || !firstVector.has(path) || (d.sequenceNumber ?? 0n) < (target.sequenceNumber ?? 0n)) continue;
      earlier.set(path, [...(earlier.get(path) ?? []), ...list]);
    }
  }
  // The targets' current vectors, read DV_UPLOADS_IN_FLIGHT_MAX at a time (one small object each).
  const previousOf = new Map<string, Float64Array>();
  const puffins = new Map<string, Promise<Uint8Array>>();
  const olds = [...oldVectors];
  for (let i = 0; i < olds.length; i += DV_UPLOADS_IN_FLIGHT_MAX) {
    await Promise.all(olds.slice(i, i + DV_UPLOADS_IN_FLIGHT_MAX).map(async ([path, e]) => previousOf.set(path, await readDeletionVector(w.table.io, e.dataFile, puffins))));
  }
  const blobs: { path: string; entry: ManifestEntry; blob: Buffer; cardinality: number }[] = [];
  for (const [path, fresh] of dv.positions) {
    const entry = targets.get(path) as ManifestEntry;
    const previous = previousOf.get(path) ?? new Float64Array(0);
    const merged = unionPositions(fresh, previous, normalizePositions(earlier.get(path) ?? []));
    assert(merged.length <= Number(entry.dataFile.recordCount), 'a deletion vector deletes at most the rows of its file', { file: path, deleted: merged.length, rows: entry.dataFile.recordCount });
    blobs.push({ path, entry, blob: serializeDeletionVector(merged), cardinality: merged.length });
  }
  const addedDvs: DataFile[] = [];
  const uploads: { path: string; bytes: Buffer }[] = [];
  for (let start = 0; start < blobs.length; start += dv.perFileMax) {
    const group = blobs.slice(start, start + dv.perFileMax);
    const puffinPath = dv.files === 'metadata/*.stats'
      ? `${meta.location}/metadata/${randomUUID()}-dv.stats`
      : `${meta.location}/data/${randomUUID()}-deletes.puffin`;
    const bytes = writePuffin(
      group.map((b) => ({
        type: DELETION_VECTOR_BLOB_TYPE,
        fields: [ROW_POSITION_FIELD_ID],
        snapshotId: -1n,
        sequenceNumber: -1n,
        data: b.blob,
        properties: { 'referenced-data-file': b.path, cardinality: String(b.cardinality) },
      })),
      { 'created-by': 'floe' },
    );
    uploads.push({ path: puffinPath, bytes });
    let offset = 4; // blobs follow the leading magic, in order (writePuffin)
    for (const b of group) {
      addedDvs.push({
        content: DataFileContent.POSITION_DELETES,
        filePath: puffinPath,
        fileFormat: 'PUFFIN',
        specId: b.entry.dataFile.specId,
        partition: b.entry.dataFile.partition,
        recordCount: BigInt(b.cardinality),
        fileSizeInBytes: BigInt(bytes.length),
        referencedDataFile: b.path,
        contentOffset: BigInt(offset),
        contentSizeInBytes: BigInt(b.blob.length),
      });
      offset += b.blob.length;
    }
  }
  for (let i = 0; i < uploads.length; i += DV_UPLOADS_IN_FLIGHT_MAX) {
    await Promise.all(uploads.slice(i, i + DV_UPLOADS_IN_FLIGHT_MAX).map((u) => w.writeFile(u.path, u.bytes)));
  }
  const added: ManifestFile[] = [];
  for (const specId of new Set(addedDvs.map((f) => f.specId))) {
    const spec = specs.get(specId);
    assert(spec !== undefined, 'a data file has a known spec', { spec: specId });
    const path = newManifestPath(w.table);
    const m = writeManifest({
      path, formatVersion: meta.formatVersion, schema, spec, content: ManifestContent.DELETES, snapshotId,
      entries: addedDvs.filter((f) => f.specId === specId).map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
    });
    await w.writeFile(path, m.bytes);
    added.push(m.manifestFile);
  }
  const removedDvs: DataFile[] = [];
  const replaced = new Set([...oldVectors.values()]);
  for (const { m, entries } of touched) kept.push(await rewriteManifest(w, m, entries, snapshotId, schema, (e) => replaced.has(e) || removesDelete(e), removedDvs));
  return { kept, added, addedDvs, removedDvs };
}
