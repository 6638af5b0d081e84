/**
 * rewrite-position-deletes: fewer, live position deletes (Iceberg's RewritePositionDeleteFiles, and its
 * remove-dangling-deletes).
 *
 * v2 tables: a streaming writer adds a position delete file per partition per commit, and every reader opens all
 * of them. A partition with at least `minInputFiles` of them gets one file instead (or a few, at the target size),
 * sorted by file_path and pos as the spec requires, holding only the positions that still apply: those of live
 * data files whose data sequence number is at most the delete's (spec: "Scan Planning"). In other partitions the
 * files that no longer apply to any live row (their data files were rewritten) are removed.
 *
 * v3 tables: the spec allows one deletion vector per data file and no new position delete files. Position delete
 * files left from before an upgrade to v3, and any second vector of a data file, are merged into the one vector of
 * each data file they apply to (deletion-vector.ts; the transaction writes the Puffin files), and removed in the
 * same snapshot; vectors and files of data files no longer live are removed.
 *
 * Conflicts (group-commit.ts): a commit since the plan that removed a data file the group's deletes target, added
 * deletes for one, or removed one of the group's delete files drops the group for this run.
 */
import { identifierToString, type LoadedTable } from '../catalog/catalog.js';
import { FloeError } from '../errors.js';
import { DataFileContent, deleteFileKey, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { normalizePositions, readDeletionVector } from '../iceberg/deletion-vector.js';
import { deleteApplies, partitionKeyOf, readPositionDeletes } from '../iceberg/scan.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';
import { PositionDeleteWriter } from '../writer/partitioned-writer.js';
import { DELETE_COMMIT_ATTEMPTS_MAX, StepTally, TARGET_FILE_SIZE_BYTES_DEFAULT, commitGroup, partitionLabel, vectorPlacement, writerSettingsFor } from './group-commit.js';
import { tableFiles, type Changes, type TableFiles } from './table-files.js';
import type { MaintainStepFn, RewriteDeletesOptions } from './types.js';

/** One commit's worth: delete files replaced by the positions they still hold. */
interface DeleteGroup {
  readonly label: string;
  /** The spec and partition new position delete files go to (v2). */
  readonly specId: number;
  readonly partition: DataFile['partition'];
  /** Delete files removed (position delete files, vectors). */
  readonly inputs: readonly ManifestEntry[];
  /** Live data file -> the deleted positions it keeps (sorted, distinct). */
  readonly keep: ReadonlyMap<string, Float64Array>;
  /** v2: whether the kept positions are written again (false: the inputs are only removed). */
  readonly rewrite: boolean;
}

/** The positions each delete file holds that still apply, by live data file. */
async function applicablePositions(
  table: LoadedTable,
  files: TableFiles,
  deletes: readonly ManifestEntry[],
): Promise<Map<ManifestEntry, Map<string, number[]>>> {
  const specs = specsById(table.metadata);
  const live = new Map(files.data.map((e) => [e.dataFile.filePath, e]));
  const puffins = new Map<string, Promise<Uint8Array>>();
  const out = new Map<ManifestEntry, Map<string, number[]>>();
  for (const d of deletes) {
    const named = isDeletionVector(d.dataFile)
      ? new Map([[d.dataFile.referencedDataFile ?? '', [...(await readDeletionVector(table.io, d.dataFile, puffins))]]])
      : await readPositionDeletes(table, d.dataFile.filePath);
    const kept = new Map<string, number[]>();
    for (const [path, list] of named) {
      const e = live.get(path);
      if (e !== undefined && deleteApplies(d, e, specs)) kept.set(path, list);
    }
    out.set(d, kept);
  }
  return out;
}

function merge(into: Map<string, number[]>, from: ReadonlyMap<string, number[]>): void {
  for (const [p, list] of from) into.set(p, [...(into.get(p) ?? []), ...list]);
}

function normalized(m: ReadonlyMap<string, number[]>): Map<string, Float64Array> {
  return new Map([...m].map(([p, list]) => [p, normalizePositions(list)]));
}

async function planV2(table: LoadedTable, files: TableFiles, opts: RewriteDeletesOptions): Promise<DeleteGroup[]> {
  const specs = specsById(table.metadata);
  const byPartition = new Map<string, ManifestEntry[]>();
  for (const d of files.positionDeletes) {
    const k = partitionKeyOf(d.dataFile);
    byPartition.set(k, [...(byPartition.get(k) ?? []), d]);
  }
  const groups: DeleteGroup[] = [];
  for (const deletes of byPartition.values()) {
    const positions = await applicablePositions(table, files, deletes);
    const count = (d: ManifestEntry): number => [...(positions.get(d) ?? new Map<string, number[]>()).values()].reduce((a, l) => a + l.length, 0);
    const dead = deletes.filter((d) => count(d) === 0);
    const dropsSome = deletes.some((d) => count(d) < Number(d.dataFile.recordCount));
    // Merging one file into one only pays when it drops positions that no longer apply.
    const mergeAll = deletes.length >= opts.minInputFiles && (deletes.length >= 2 || dropsSome) && dead.length < deletes.length;
    const inputs = mergeAll ? deletes : dead;
    if (inputs.length === 0) continue;
    const keep = new Map<string, number[]>();
    if (mergeAll) for (const d of deletes) merge(keep, positions.get(d) ?? new Map<string, number[]>());
    const first = (deletes[0] as ManifestEntry).dataFile;
    groups.push({ label: partitionLabel(specs.get(first.specId), first), specId: first.specId, partition: first.partition, inputs, keep: normalized(keep), rewrite: mergeAll });
  }
  return groups;
}

async function planV3(table: LoadedTable, files: TableFiles): Promise<DeleteGroup[]> {
  const specs = specsById(table.metadata);
  const live = new Map(files.data.map((e) => [e.dataFile.filePath, e]));
  const vectorsOf = new Map<string, ManifestEntry[]>();
  for (const v of files.vectors) {
    const p = v.dataFile.referencedDataFile ?? '';
    vectorsOf.set(p, [...(vectorsOf.get(p) ?? []), v]);
  }
  // Data files whose deletes need merging: named by a position delete file, or with more than one vector.
  const v2 = await applicablePositions(table, files, files.positionDeletes);
  const targets = new Set<string>();
  for (const m of v2.values()) for (const p of m.keys()) targets.add(p);
  for (const [p, vs] of vectorsOf) if (vs.length > 1 && live.has(p)) targets.add(p);
  const deadVectors = files.vectors.filter((v) => !live.has(v.dataFile.referencedDataFile ?? ''));
  if (targets.size === 0 && files.positionDeletes.length === 0 && deadVectors.length === 0) return [];

  // One group per partition; a position delete file of an unpartitioned spec may name files of every partition,
  // and is removed only with all of them: then the whole table is one group.
  const global = files.positionDeletes.some((d) => specs.get(d.dataFile.specId)?.isUnpartitioned !== false) && files.data.some((e) => specs.get(e.dataFile.specId)?.isUnpartitioned === false);
  const keyOf = (f: DataFile): string => (global ? '*' : partitionKeyOf(f));
  const groups = new Map<string, { sample: DataFile; inputs: ManifestEntry[]; keep: Map<string, number[]> }>();
  const groupOf = (f: DataFile): { sample: DataFile; inputs: ManifestEntry[]; keep: Map<string, number[]> } => {
    const k = keyOf(f);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { sample: f, inputs: [], keep: new Map() }));
    return g;
  };
  for (const d of files.positionDeletes) {
    const g = groupOf(d.dataFile);
    g.inputs.push(d);
    merge(g.keep, v2.get(d) ?? new Map<string, number[]>());
  }
  for (const p of targets) {
    const g = groupOf((live.get(p) as ManifestEntry).dataFile);
    for (const v of vectorsOf.get(p) ?? []) {
      g.inputs.push(v);
      g.keep.set(p, [...(g.keep.get(p) ?? []), ...(await readDeletionVector(table.io, v.dataFile))]);
    }
  }
  for (const v of deadVectors) groupOf(v.dataFile).inputs.push(v);
  return [...groups.values()].map((g) => ({
    label: global ? 'all partitions' : partitionLabel(specs.get(g.sample.specId), g.sample),
    specId: g.sample.specId,
    partition: g.sample.partition,
    inputs: g.inputs,
    keep: normalized(g.keep),
    rewrite: true,
  }));
}

function describe(g: DeleteGroup, v3: boolean): string {
  const positions = [...g.keep.values()].reduce((a, p) => a + p.length, 0);
  if (!g.rewrite || g.keep.size === 0) return `remove ${g.inputs.length} delete files in ${g.label} that apply to no live row`;
  return v3
    ? `merge ${g.inputs.length} delete files in ${g.label} into the deletion vectors of ${g.keep.size} data files (${positions} positions)`
    : `merge ${g.inputs.length} position delete files in ${g.label} into one (${positions} positions in ${g.keep.size} data files)`;
}

/**
 * Why the commits since the plan conflict with the group, or null. A delete added for a target conflicts even
 * where merging would keep it (v2: the new file and the added one together hold every position): the rule is
 * kept simple and the same for v2 and v3, where the target's vector was replaced.
 */
async function conflictOf(table: LoadedTable, changes: Changes, g: DeleteGroup): Promise<string | null> {
  for (const p of g.keep.keys()) if (changes.removedDataPaths.has(p)) return `data file ${p} was removed by a concurrent commit`;
  for (const d of g.inputs) if (changes.removedDeleteKeys.has(deleteFileKey(d.dataFile))) return `delete file ${d.dataFile.filePath} was removed by a concurrent commit`;
  for (const d of changes.addedDeletes) {
    const f = d.dataFile;
    if (f.content !== DataFileContent.POSITION_DELETES) continue;
    const named = f.referencedDataFile !== undefined ? [f.referencedDataFile] : [...(await readPositionDeletes(table, f.filePath)).keys()];
    const hit = named.find((p) => g.keep.has(p));
    if (hit !== undefined) return `a concurrent commit added deletes for ${hit} (${f.filePath})`;
  }
  return null;
}

export const rewritePositionDeletes: MaintainStepFn<RewriteDeletesOptions> = async (ctx, opts) => {
  if (!Number.isInteger(opts.minInputFiles) || opts.minInputFiles < 1) {
    throw new FloeError('config_invalid', 'rewrite-position-deletes: minInputFiles must be a positive integer', { minInputFiles: opts.minInputFiles });
  }
  const tally = new StepTally('rewrite-position-deletes', ctx.dryRun);
  const table = await ctx.catalog.loadTable(ctx.id);
  const snapshot = currentSnapshot(table.metadata);
  if (snapshot === null || table.metadata.formatVersion < 2) return tally.result();
  const v3 = table.metadata.formatVersion >= 3;
  const files = await tableFiles(table, snapshot);
  const groups = v3 ? await planV3(table, files) : await planV2(table, files, opts);
  tally.groupsPlanned = groups.length;
  for (const g of groups) tally.plan.push(describe(g, v3));
  if (ctx.dryRun) return tally.result();

  const name = identifierToString(ctx.id);
  const specs = specsById(table.metadata);
  const schema = currentSchema(table.metadata);
  const placement = vectorPlacement(files);
  for (let i = 0; i < groups.length; i++) {
    if (ctx.signal?.aborted === true) {
      tally.plan.push(`stopped before group ${i + 1} of ${groups.length}: the run's time budget is spent`);
      break;
    }
    ctx.progress?.({ table: name, step: 'rewrite-position-deletes', done: i, total: groups.length, unit: 'groups' });
    const g = groups[i] as DeleteGroup;
    let written: DataFile[] = [];
    if (!v3 && g.rewrite && g.keep.size > 0) {
      const spec = specs.get(g.specId);
      if (spec === undefined) throw new FloeError('metadata_invalid', `position delete files use partition spec ${g.specId}, which the table does not have`);
      const w = new PositionDeleteWriter(writerSettingsFor(table, TARGET_FILE_SIZE_BYTES_DEFAULT), schema, spec);
      for (const [path, positions] of g.keep) for (const pos of positions) w.delete(path, BigInt(pos), g.partition);
      written = await w.close();
    }
    const outcome = await commitGroup({
      ctx,
      step: 'rewrite-position-deletes',
      readSnapshotId: snapshot.snapshotId,
      attemptsMax: DELETE_COMMIT_ATTEMPTS_MAX,
      written: written.map((f) => f.filePath),
      build: (tx) => {
        tx.removeDeleteFiles(g.inputs.map((e) => e.dataFile));
        if (v3) {
          if (g.keep.size > 0) tx.addDeletionVectors(g.keep).deletionVectorFiles(placement);
        } else if (written.length > 0) {
          tx.addDeleteFiles(written).requireDataFiles(g.keep.keys());
        }
      },
      conflict: (changes, current) => conflictOf(current, changes, g),
    });
    if (outcome.kind === 'committed') {
      tally.committed(outcome.snapshot);
    } else {
      tally.groupsConflicted++;
      tally.plan.push(`dropped (${g.label}): ${outcome.reason}`);
    }
  }
  ctx.progress?.({ table: name, step: 'rewrite-position-deletes', done: groups.length, total: groups.length, unit: 'groups' });
  return tally.result();
};
