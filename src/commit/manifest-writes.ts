/**
 * Writes the manifests of a transaction's snapshot: those of the added files, rewrites of existing manifests
 * (entries turned DELETED or EXISTING), and the merge of small manifests (Iceberg's `commit.manifest-merge.*`).
 */
import { randomUUID } from 'node:crypto';
import { FloeError, assert } from '../errors.js';
import { DataFileContent, ManifestEntryStatus, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { ManifestContent, readManifest, writeManifest, type ManifestFile } from '../iceberg/manifest.js';
import type { Schema } from '../iceberg/schema.js';
import { specsById } from '../iceberg/table-metadata.js';
import type { LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';

/** Iceberg's defaults for `commit.manifest.min-count-to-merge` and `commit.manifest.target-size-bytes`. */
export const MANIFEST_DEFAULTS = Object.freeze({ minCountToMerge: 100, targetSizeBytes: 8 * 1024 * 1024 });

/** Reads manifests through the table's FileIO with a bounded cache (manifests are immutable). */
export class ManifestCache {
  private readonly entries = new Map<string, ManifestEntry[]>();
  constructor(private readonly max = 256) {}
  async get(table: LoadedTable, m: ManifestFile, schema: Schema): Promise<ManifestEntry[]> {
    const hit = this.entries.get(m.manifestPath);
    if (hit !== undefined) return hit;
    const bytes = await table.io.read(m.manifestPath);
    const e = readManifest(bytes, m, specsById(table.metadata), schema);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(m.manifestPath, e);
    return e;
  }
}

/** What one commit attempt writes its files through: the base table it commits on top of, and its file log. */
export interface AttemptWriter {
  readonly table: LoadedTable;
  readonly manifestCache: ManifestCache;
  /** Writes a file of the attempt (`shared`: of every attempt), remembered for cleanup. */
  writeFile(path: string, bytes: Uint8Array, shared?: boolean): Promise<void>;
}

export function newManifestPath(table: LoadedTable): string {
  return `${table.metadata.location}/metadata/${randomUUID()}-m0.avro`;
}

/** Writes one manifest per (content, spec id) of the added files. */
export async function writeAddedManifests(w: AttemptWriter, files: readonly DataFile[], snapshotId: bigint, schema: Schema): Promise<ManifestFile[]> {
  const meta = w.table.metadata;
  const specs = specsById(meta);
  const groups = new Map<string, { content: ManifestContent; specId: number; files: DataFile[] }>();
  for (const f of files) {
    const content = f.content === DataFileContent.DATA ? ManifestContent.DATA : ManifestContent.DELETES;
    const key = `${content}/${f.specId}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { content, specId: f.specId, files: [] }));
    g.files.push(f);
  }
  const out: ManifestFile[] = [];
  for (const g of groups.values()) {
    const spec = specs.get(g.specId);
    if (spec === undefined) throw new FloeError('field_id_mismatch', `file uses partition spec ${g.specId}, which table ${identifierToString(w.table.identifier)} does not have`);
    const path = newManifestPath(w.table);
    const m = writeManifest({
      path,
      formatVersion: meta.formatVersion,
      schema,
      spec,
      content: g.content,
      snapshotId,
      entries: g.files.map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
    });
    await w.writeFile(path, m.bytes, true);
    out.push(m.manifestFile);
  }
  return out;
}

/**
 * Rewrites a manifest for this snapshot: live entries `remove` picks become DELETED (and are collected in
 * `removed`), the others stay as EXISTING with their sequence numbers; entries deleted earlier are dropped.
 */
export async function rewriteManifest(
  w: AttemptWriter,
  m: ManifestFile,
  entries: readonly ManifestEntry[],
  snapshotId: bigint,
  schema: Schema,
  remove: (e: ManifestEntry) => boolean,
  removed: DataFile[],
): Promise<ManifestFile> {
  const meta = w.table.metadata;
  const spec = specsById(meta).get(m.partitionSpecId);
  assert(spec !== undefined, 'manifest spec must exist', { manifest: m.manifestPath });
  const rewritten: ManifestEntry[] = [];
  for (const e of entries) {
    if (e.status === ManifestEntryStatus.DELETED) continue;
    if (remove(e)) {
      removed.push(e.dataFile);
      rewritten.push({ ...e, status: ManifestEntryStatus.DELETED, snapshotId });
    } else {
      rewritten.push({ ...e, status: ManifestEntryStatus.EXISTING });
    }
  }
  const path = newManifestPath(w.table);
  const out = writeManifest({ path, formatVersion: meta.formatVersion, schema, spec, content: m.content, snapshotId, entries: rewritten });
  await w.writeFile(path, out.bytes);
  return { ...out.manifestFile, sequenceNumber: -1n, minSequenceNumber: minSeq(rewritten) ?? -1n };
}

/**
 * Manifest merging (Iceberg's `commit.manifest-merge.enabled`): a streaming table adds a manifest or two per
 * commit, and readers open every manifest of a snapshot. When one (content, spec) group holds more than
 * `commit.manifest.min-count-to-merge` manifests, the ones committed earlier are rewritten into manifests of
 * up to `commit.manifest.target-size-bytes`. Live entries keep their snapshot ids and *explicit* data and
 * file sequence numbers (deletes depend on them); entries deleted by earlier snapshots are dropped.
 */
export async function mergeManifests(w: AttemptWriter, kept: readonly ManifestFile[], snapshotId: bigint, schema: Schema): Promise<ManifestFile[]> {
  const meta = w.table.metadata;
  const props = meta.properties;
  if ((props['commit.manifest-merge.enabled'] ?? 'true') !== 'true') return [...kept];
  const minCount = Number(props['commit.manifest.min-count-to-merge'] ?? MANIFEST_DEFAULTS.minCountToMerge);
  const targetBytes = BigInt(props['commit.manifest.target-size-bytes'] ?? MANIFEST_DEFAULTS.targetSizeBytes);
  const groups = new Map<string, ManifestFile[]>();
  for (const m of kept) {
    const k = `${m.content}/${m.partitionSpecId}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  const out: ManifestFile[] = [];
  for (const group of groups.values()) {
    // Manifests this snapshot rewrote (sequence number still unassigned) are never merged again here.
    const candidates = group.filter((m) => m.sequenceNumber !== -1n && m.manifestLength < targetBytes);
    if (group.length <= minCount || candidates.length < 2) {
      out.push(...group);
      continue;
    }
    out.push(...group.filter((m) => !candidates.includes(m)));
    const first = candidates[0] as ManifestFile;
    const spec = specsById(meta).get(first.partitionSpecId);
    assert(spec !== undefined, 'manifest spec must exist', { manifest: first.manifestPath });
    let bin: ManifestEntry[] = [];
    let binBytes = 0n;
    const flush = async (): Promise<void> => {
      if (bin.length === 0) return;
      const path = newManifestPath(w.table);
      const merged = writeManifest({ path, formatVersion: meta.formatVersion, schema, spec, content: first.content, snapshotId, entries: bin });
      await w.writeFile(path, merged.bytes);
      out.push({ ...merged.manifestFile, sequenceNumber: -1n });
      bin = [];
      binBytes = 0n;
    };
    for (const m of candidates) {
      const entries = await w.manifestCache.get(w.table, m, schema);
      for (const e of entries) {
        if (e.status === ManifestEntryStatus.DELETED) continue;
        assert(e.sequenceNumber !== null && e.fileSequenceNumber !== null, 'merged entries need explicit sequence numbers', { manifest: m.manifestPath });
        bin.push({ ...e, status: ManifestEntryStatus.EXISTING });
      }
      binBytes += m.manifestLength;
      if (binBytes >= targetBytes) await flush();
    }
    await flush();
  }
  return out;
}

function minSeq(entries: readonly ManifestEntry[]): bigint | null {
  let m: bigint | null = null;
  for (const e of entries) if (e.status !== ManifestEntryStatus.DELETED && e.sequenceNumber !== null && (m === null || e.sequenceNumber < m)) m = e.sequenceNumber;
  return m;
}
