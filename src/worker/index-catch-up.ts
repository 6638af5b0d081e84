/**
 * A key index following its table from the snapshot it describes to the current one by the files that changed,
 * never by re-reading the table (key-index.ts owns the index and calls this from `catchUp`, whose comment lists
 * the rules). This module changes the index it is handed and returns what the owner records next: the snapshot
 * now described and the duplicate-key repair still pending.
 */
import type { LoadedTable } from '../catalog/catalog.js';
import { FloeError, assert } from '../errors.js';
import { DataFileContent, ManifestEntryStatus, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { readDeletionVector } from '../iceberg/deletion-vector.js';
import { ManifestContent, readManifest, type ManifestFile } from '../iceberg/manifest.js';
import { deletesFor, readColumns, readPositionDeletes, scanEntries } from '../iceberg/scan.js';
import { readManifestFiles } from '../iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';
import type { NestedField } from '../iceberg/types.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { describeDuplicate, duplicateKeysError, isNewerRow, type Repair, type RowAt } from './index-build.js';
import type { KeyShard } from './key-shard.js';
import type { IndexedFile, PkIndex } from './pk-index.js';

type Values = readonly (IcebergValue | null)[];

/** Rows found beyond one per key (index-build.ts), deleted by the next window. */
export interface PendingRepair {
  readonly repairs: readonly Repair[];
  readonly keys: number;
  readonly examples: readonly string[];
}

/** What a catch-up read and did: its cost is these files, never the table. */
export interface CatchUp {
  readonly fromSnapshot: string | null;
  readonly toSnapshot: string | null;
  readonly manifestsRead: number;
  readonly dataFilesAdded: number;
  readonly dataFilesRemoved: number;
  readonly deleteFilesAdded: number;
  /** Files whose key columns were read: added data files, removed ones still indexed, targets of new deletes. */
  readonly filesRead: number;
  readonly rowsRead: number;
  /** Removed files no longer readable (expired and deleted): their entries were dropped by a sweep of the index. */
  readonly sweeps: number;
  readonly duplicateKeys: number;
  readonly ms: number;
}

/** What the index describes before a catch-up, and how it is kept. */
export interface FollowFrom {
  readonly opts: { readonly table: string; readonly keyFields: readonly NestedField[]; readonly onDuplicateKeys: 'repair' | 'fail' };
  /** The keys indexed (null: every key). */
  readonly shard: KeyShard | null;
  /** The snapshot the index describes (null: the table had none), and its sequence number. */
  readonly base: bigint | null;
  readonly baseSequence: bigint;
  readonly repair: PendingRepair | null;
}

/** What the index describes after it. */
export interface Followed {
  readonly base: bigint | null;
  readonly baseSequence: bigint;
  readonly repair: PendingRepair | null;
  readonly catchUp: CatchUp;
}

/** Brings `index` from `was.base` to the table's current snapshot; null when only a full read can tell. */
export async function followTable(table: LoadedTable, index: PkIndex, was: FollowFrom): Promise<Followed | null> {
  const t0 = Date.now();
  const meta = table.metadata;
  const current = currentSnapshot(meta);
  if (current === null) {
    assert(was.base === null, 'a table with an indexed snapshot has a current one', { table: was.opts.table });
    return unchanged(was, null, t0);
  }
  if (current.snapshotId === was.base) return unchanged(was, current.snapshotId, t0);
  const baseSnap = was.base === null ? null : (meta.snapshots.find((s) => s.snapshotId === was.base) ?? null);
  const schema = currentSchema(meta);
  const specs = specsById(meta);
  const baseSeq = was.base === null ? -1n : was.baseSequence;
  const curList = await readManifestFiles(table, current);
  const baseList = baseSnap === null ? null : await readManifestFiles(table, baseSnap).catch((e: unknown) => {
    if (e instanceof FloeError && e.code === 'io_not_found') return null; // expired and deleted
    throw e;
  });
  const basePaths = new Set((baseList ?? []).map((m) => m.manifestPath));
  const curPaths = new Set(curList.map((m) => m.manifestPath));
  let manifestsRead = 0;
  const entriesOf = async (m: ManifestFile): Promise<ManifestEntry[]> => {
    manifestsRead++;
    return readManifest(await table.io.read(m.manifestPath), m, specs, schema).filter((e) => e.status !== ManifestEntryStatus.DELETED);
  };
  // Entries of manifests the indexed snapshot did not list (all of them when its manifest list is gone).
  const changed: ManifestEntry[] = [];
  for (const m of curList) if (baseList === null || !basePaths.has(m.manifestPath)) changed.push(...(await entriesOf(m)));
  const isNew = (e: ManifestEntry): boolean => (e.fileSequenceNumber ?? e.sequenceNumber ?? 0n) > baseSeq;
  const addedData = changed.filter((e) => e.dataFile.content === DataFileContent.DATA && isNew(e));
  const addedDeletes = changed.filter((e) => e.dataFile.content !== DataFileContent.DATA && isNew(e));
  const changedDataPaths = new Set(changed.filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath));
  // Removed data files: those of the indexed snapshot's own manifests not listed any more, or, without its
  // manifest list, the files the index knows that the current snapshot does not have (all were read above).
  let removed: string[];
  if (baseList !== null) {
    const gone: string[] = [];
    for (const m of baseList) {
      if (curPaths.has(m.manifestPath)) continue;
      for (const e of await entriesOf(m)) if (e.dataFile.content === DataFileContent.DATA && !changedDataPaths.has(e.dataFile.filePath)) gone.push(e.dataFile.filePath);
    }
    removed = gone;
  } else {
    removed = index.filePaths().filter((p) => !changedDataPaths.has(p));
  }
  const removedSet = new Set(removed);
  const keyIds = was.opts.keyFields.map((f) => f.id);
  const eqAdded = addedDeletes.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES);
  const sameKey = (ids: readonly number[] | undefined): boolean => ids !== undefined && ids.length === keyIds.length && ids.every((id) => keyIds.includes(id));
  if (eqAdded.some((e) => !sameKey(e.dataFile.equalityIds))) return null;

  // Sequence numbers of files not read here, only when a duplicate or an equality delete needs them.
  let seqOfAll: Map<string, bigint> | null = null;
  const seqOf = async (path: string): Promise<bigint> => {
    const known = changed.find((e) => e.dataFile.filePath === path);
    if (known !== undefined) return known.sequenceNumber ?? 0n;
    if (seqOfAll === null) {
      const all = new Map<string, bigint>();
      for (const m of curList) {
        if (baseList === null || !basePaths.has(m.manifestPath)) continue; // already in `changed`
        for (const e of await entriesOf(m)) all.set(e.dataFile.filePath, e.sequenceNumber ?? 0n);
      }
      seqOfAll = all;
    }
    return seqOfAll.get(path) ?? 0n;
  };

  let filesRead = 0;
  let rowsRead = 0;
  let sweeps = 0;
  const repairs: Repair[] = [];
  const duplicated = new Map<string, { key: Values; kept: RowAt; dropped: RowAt[] }>();

  // 1. New deletes of rows in files the index keeps. Before the added files: a key whose old row a new delete
  // removed and that an added file holds again (an upsert by position or by equality) has one live row, not two.
  // The rows a pending repair names die the same ways: their positions and keys are noted for them below.
  const addedPaths = new Set(addedData.map((e) => e.dataFile.filePath));
  const pendingRepairs = was.repair?.repairs ?? [];
  const repairFiles = new Set(pendingRepairs.map((r) => r.file.path));
  const deletedInRepairFiles = new Map<string, Set<number>>();
  const byTarget = new Map<string, number[]>();
  const puffins = new Map<string, Promise<Uint8Array>>();
  for (const d of addedDeletes) {
    if (d.dataFile.content !== DataFileContent.POSITION_DELETES) continue;
    const put = (path: string, positions: readonly number[]): void => {
      if (repairFiles.has(path)) {
        const set = deletedInRepairFiles.get(path) ?? new Set<number>();
        for (const p of positions) set.add(p);
        deletedInRepairFiles.set(path, set);
      }
      if (addedPaths.has(path) || removedSet.has(path) || index.rowsIn(path) === 0) return;
      const list = byTarget.get(path) ?? [];
      for (const p of positions) list.push(p);
      byTarget.set(path, list);
    };
    if (isDeletionVector(d.dataFile)) {
      const target = d.dataFile.referencedDataFile ?? '';
      if (repairFiles.has(target) || (!addedPaths.has(target) && !removedSet.has(target) && index.rowsIn(target) > 0)) put(target, [...(await readDeletionVector(table.io, d.dataFile, puffins))].map(Number));
      continue;
    }
    filesRead++;
    for (const [path, list] of await readPositionDeletes(table, d.dataFile.filePath)) put(path, list);
  }
  for (const [path, positions] of byTarget) {
    const keys = await readColumns(table, path, was.opts.keyFields);
    filesRead++;
    for (const pos of positions) {
      const key = keys[pos];
      if (key === undefined) continue;
      rowsRead++;
      const at = index.get(key);
      if (at !== undefined && at.file.path === path && at.pos === pos) index.delete(key);
    }
  }
  const eqDeleted: { keys: Set<string>; inScope: (f: IndexedFile) => boolean; sequenceNumber: bigint }[] = [];
  for (const d of eqAdded) {
    const ids = d.dataFile.equalityIds ?? [];
    const order = keyIds.map((id) => ids.indexOf(id));
    const eqFields = ids.map((id) => schema.fieldOrThrow(id));
    const eqSeq = d.sequenceNumber ?? 0n;
    const spec = specs.get(d.dataFile.specId);
    const inScope = (f: IndexedFile): boolean => spec === undefined || spec.isUnpartitioned || (f.specId === d.dataFile.specId && valuesKey(f.partition) === valuesKey(d.dataFile.partition));
    const keys = new Set<string>();
    filesRead++;
    for (const row of await readColumns(table, d.dataFile.filePath, eqFields)) {
      const key = order.map((i) => row[i] ?? null);
      keys.add(valuesKey(key));
      const at = index.get(key);
      if (at === undefined || addedPaths.has(at.file.path)) continue; // added files were read with it applied
      if (inScope(at.file) && (await seqOf(at.file.path)) < eqSeq) index.delete(key);
    }
    eqDeleted.push({ keys, inScope, sequenceNumber: eqSeq });
  }

  // 2. Added data files, with every delete of the current snapshot that can apply to them. Equality deletes
  // older than the indexed snapshot still apply to a file whose data sequence number is older still (a
  // compaction keeps its starting sequence number): those are in the changed manifests already read (a
  // rewritten or merged manifest, or all of them when the indexed snapshot's manifest list is gone) and in the
  // unchanged ones, read only if the table has any.
  if (addedData.length > 0) {
    let deletes = addedDeletes;
    const eqTotal = current.summary['total-equality-deletes'];
    if (eqTotal === undefined || eqTotal !== '0') {
      const older: ManifestEntry[] = changed.filter((e) => !isNew(e));
      for (const m of curList) if (m.content === ManifestContent.DELETES && baseList !== null && basePaths.has(m.manifestPath)) older.push(...(await entriesOf(m)));
      deletes = [...addedDeletes, ...older.filter((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES)];
    }
    const paths = new Set(addedData.map((e) => e.dataFile.filePath));
    const minSeq = addedData.reduce((a, e) => (e.sequenceNumber !== null && e.sequenceNumber < a ? e.sequenceNumber : a), addedData[0]?.sequenceNumber ?? 0n);
    const pending: { key: Values; file: DataFile; pos: number; seq: bigint }[] = [];
    filesRead += addedData.length;
    const shard = was.shard;
    await scanEntries(table, was.opts.keyFields, addedData, deletesFor(deletes, paths, minSeq), (file, pos, key, seq) => {
      rowsRead++;
      // Keys of other replicas' partitions stay out, as they did from the build (key-shard.ts).
      if (shard === null || shard.keeps(key)) pending.push({ key: [...key], file, pos, seq });
    });
    const files = new Map<string, IndexedFile>();
    for (const r of pending) {
      let f = files.get(r.file.filePath);
      if (f === undefined) files.set(r.file.filePath, (f = { path: r.file.filePath, specId: r.file.specId, partition: r.file.partition }));
      const held = index.get(r.key);
      if (held === undefined || removedSet.has(held.file.path) || (held.file.path === f.path && held.pos === r.pos)) {
        index.set(r.key, f, r.pos);
        continue;
      }
      // The key has a live row elsewhere too: keep the newer, repair the other (index-build.ts).
      const row: RowAt = { file: f, pos: r.pos, sequenceNumber: r.seq };
      const other: RowAt = { file: held.file, pos: held.pos, sequenceNumber: paths.has(held.file.path) ? (pending.find((x) => x.file.filePath === held.file.path)?.seq ?? 0n) : await seqOf(held.file.path) };
      const keep = isNewerRow(row, other) ? row : other;
      const drop = keep === row ? other : row;
      if (keep === row) index.set(r.key, f, r.pos);
      repairs.push({ key: r.key, ...drop });
      const text = valuesKey(r.key);
      const d = duplicated.get(text);
      duplicated.set(text, d === undefined ? { key: r.key, kept: keep, dropped: [drop] } : { key: d.key, kept: keep, dropped: [...d.dropped, drop] });
    }
  }

  // 3. Removed data files whose rows were not moved into an added file: their keys leave the index.
  for (const path of removed) {
    if (index.rowsIn(path) > 0) {
      let rows: (IcebergValue | null)[][] | null = null;
      try {
        rows = await readColumns(table, path, was.opts.keyFields);
        filesRead++;
      } catch (e) {
        if (!(e instanceof FloeError) || e.code !== 'io_not_found') throw e;
      }
      if (rows === null) {
        index.deleteRowsOf(path);
        sweeps++;
      } else {
        rows.forEach((key, pos) => {
          rowsRead++;
          const at = index.get(key);
          if (at !== undefined && at.file.path === path && at.pos === pos) index.delete(key);
        });
        if (index.rowsIn(path) > 0) {
          // Rows the file does not hold at those positions: a file rewritten in place is not Iceberg.
          index.deleteRowsOf(path);
          sweeps++;
        }
      }
    }
    index.releaseFile(path);
  }

  // A pending repair names live rows of the indexed snapshot; those in removed files (without the indexed
  // snapshot's manifest list: in files the current snapshot does not have), at positions new deletes name, or
  // deleted by a new equality delete are gone. A key whose kept row went while rows a repair names are still
  // live keeps the newest of those, as a build would (index-build.ts): it leaves the repair and enters the index.
  const gone = (path: string): boolean => (baseList === null ? !changedDataPaths.has(path) : removedSet.has(path));
  const live = pendingRepairs.filter((r) =>
    !gone(r.file.path) &&
    !(deletedInRepairFiles.get(r.file.path)?.has(r.pos) ?? false) &&
    !eqDeleted.some((e) => e.sequenceNumber > r.sequenceNumber && e.keys.has(valuesKey(r.key)) && e.inScope(r.file)));
  const promoted = new Map<string, Repair>();
  for (const r of live) {
    if (index.get(r.key) !== undefined) continue;
    const held = promoted.get(valuesKey(r.key));
    if (held === undefined || isNewerRow(r, held)) promoted.set(valuesKey(r.key), r);
  }
  for (const r of promoted.values()) index.set(r.key, r.file, r.pos);
  const kept = live.filter((r) => promoted.get(valuesKey(r.key)) !== r);
  const allRepairs = [...kept, ...repairs];
  if (duplicated.size > 0 && was.opts.onDuplicateKeys === 'fail') {
    const names = was.opts.keyFields.map((f) => f.name);
    const first = [...duplicated.values()][0] ?? null;
    throw duplicateKeysError(was.opts.table, duplicated.size, repairs.length, names, first?.key ?? null, first === null ? '' : describeDuplicate(names, first));
  }
  const names = was.opts.keyFields.map((f) => f.name);
  const repair: PendingRepair | null = allRepairs.length === 0 ? null : {
    repairs: allRepairs,
    keys: new Set(allRepairs.map((r) => valuesKey(r.key))).size,
    examples: [...(was.repair?.examples ?? []), ...[...duplicated.values()].slice(0, 5).map((d) => describeDuplicate(names, d))],
  };
  return {
    base: current.snapshotId,
    baseSequence: current.sequenceNumber,
    repair,
    catchUp: {
      fromSnapshot: was.base === null ? null : String(was.base), toSnapshot: String(current.snapshotId), manifestsRead,
      dataFilesAdded: addedData.length, dataFilesRemoved: removed.length, deleteFilesAdded: addedDeletes.length,
      filesRead, rowsRead, sweeps, duplicateKeys: duplicated.size, ms: Date.now() - t0,
    },
  };
}

function unchanged(was: FollowFrom, snapshotId: bigint | null, t0: number): Followed {
  const id = snapshotId === null ? null : String(snapshotId);
  return {
    base: was.base,
    baseSequence: was.baseSequence,
    repair: was.repair,
    catchUp: {
      fromSnapshot: id, toSnapshot: id, manifestsRead: 0, dataFilesAdded: 0, dataFilesRemoved: 0,
      deleteFilesAdded: 0, filesRead: 0, rowsRead: 0, sweeps: 0, duplicateKeys: 0, ms: Date.now() - t0,
    },
  };
}

