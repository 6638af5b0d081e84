/**
 * The files of a snapshot: its manifest list (spec: "Manifest Lists") and the live entries of its manifests
 * (status ADDED or EXISTING; DELETED entries only record a removal). What a scan, a commit and `floe verify`
 * all start from.
 */
import type { LoadedTable } from '../catalog/catalog.js';
import { ManifestEntryStatus, type ManifestEntry } from './data-file.js';
import { readManifest, readManifestList, type ManifestFile } from './manifest.js';
import type { Snapshot } from './snapshot.js';
import { currentSchema, currentSnapshot, specsById } from './table-metadata.js';

export async function readManifestFiles(table: LoadedTable, snapshot: Snapshot | null): Promise<ManifestFile[]> {
  if (snapshot === null) return [];
  return readManifestList(await table.io.read(snapshot.manifestList), `manifest list ${snapshot.manifestList}`);
}

/** All live (not deleted) entries of a snapshot, data and deletes. */
export async function liveEntries(table: LoadedTable, snapshot: Snapshot | null = currentSnapshot(table.metadata)): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  const schema = currentSchema(table.metadata);
  for (const m of await readManifestFiles(table, snapshot)) {
    const bytes = await table.io.read(m.manifestPath);
    for (const e of readManifest(bytes, m, specsById(table.metadata), schema)) if (e.status !== ManifestEntryStatus.DELETED) out.push(e);
  }
  return out;
}
