/**
 * rewrite-data-files: bin-pack compaction, the way Iceberg's RewriteDataFiles (bin-pack strategy) plans and
 * commits it.
 *
 * Plan, on the current snapshot: the live data files of each (spec id, partition). A file is a candidate when it
 * is smaller than `minFileSizeBytes`, when the rows deletes remove from it reach `deleteRatioMin` of its rows
 * (position deletes and deletion vectors count exactly: a vector's or a single-file delete file's record count,
 * the rows a multi-file position delete file names for it), or when an equality delete applies to it (spec:
 * "Scan Planning"). A partition is rewritten when it has `minInputFiles` candidates or a candidate with deletes;
 * its candidates are packed into groups of at most `groupBytesMax` (one commit each), and the run takes the
 * groups that remove the most files first, within `runBytesMax`.
 *
 * Rewrite: a group's live rows (every delete applied, columns added later read as their initial default) are
 * sorted by the table's sort order and written as new Parquet files of the target size, in the group's spec and
 * partition. On v3 tables rows keep their lineage (spec: "Row Lineage": "the row's existing non-null _row_id
 * must be copied into the new data file", and so its `_last_updated_sequence_number`): both are written as the
 * reserved metadata columns, inherited values made explicit. One `replace` snapshot per group removes the group's
 * files and the delete files that applied only to them (a vector of a removed file, a position delete file whose
 * targets are all removed, an equality delete that applied only to them), and adds the new files.
 *
 * Conflicts (group-commit.ts; Java's validateNoNewDeletesForDataFiles): a delete committed after the plan's
 * snapshot that applies to a file of the group (a position delete or vector naming it, an equality delete in its
 * partition that matches one of its live rows) drops the group for this run: committing it would lose that
 * delete, since the new files have a higher sequence number and the delete names files that are gone. A file of
 * the group removed meanwhile drops it too.
 */
import { identifierToString, type LoadedTable } from '../catalog/catalog.js';
import { FloeError } from '../errors.js';
import { DataFileContent, deleteFileKey, isDeletionVector, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import type { PartitionSpec } from '../iceberg/partition-spec.js';
import { deleteApplies, inDeleteScope, partitionKeyOf, readEqualityKeys, readPositionDeletes, scanDataFiles } from '../iceberg/scan.js';
import type { Schema } from '../iceberg/schema.js';
import { SortOrder, sortBySortOrder } from '../iceberg/sort-order.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';
import { T, type NestedField } from '../iceberg/types.js';
import { valuesKey, type IcebergValue } from '../iceberg/values.js';
import { RollingFileWriter } from '../writer/file-writer.js';
import { Partitioner } from '../writer/partitioned-writer.js';
import { StepTally, bytesOf, commitGroup, partitionLabel, writerSettingsFor } from './group-commit.js';
import { tableFiles, type Changes, type TableFiles } from './table-files.js';
import type { MaintainStepFn, RewriteDataOptions } from './types.js';

/** Row lineage metadata columns (spec v3: "Row Lineage", reserved field ids). */
export const ROW_ID_FIELD: NestedField = Object.freeze({ id: 2147483540, name: '_row_id', required: false, type: T.long });
export const LAST_UPDATED_SEQUENCE_NUMBER_FIELD: NestedField = Object.freeze({ id: 2147483539, name: '_last_updated_sequence_number', required: false, type: T.long });

type Values = (IcebergValue | null)[];

/** A data file as planned: the rows deletes remove from it, and whether equality deletes apply. */
interface PlannedFile {
  readonly entry: ManifestEntry;
  readonly deletedRows: number;
  readonly equality: boolean;
}

export interface DataGroup {
  readonly partitionKey: string;
  readonly label: string;
  readonly specId: number;
  readonly partition: readonly (IcebergValue | null)[];
  readonly files: readonly ManifestEntry[];
  readonly bytes: number;
  readonly deletedRows: number;
  readonly equality: boolean;
  /** Delete files that apply only to files of this group: removed in its commit. */
  readonly dangling: readonly ManifestEntry[];
  readonly expectedFiles: number;
}

/** Every delete file of the snapshot with the live data files it applies to. */
interface DeleteTargets {
  readonly entry: ManifestEntry;
  /** Data file path -> rows it deletes there (for equality deletes: unknown, 0). */
  readonly targets: Map<string, number>;
}

function checkOptions(o: RewriteDataOptions): void {
  const positive = (v: number): boolean => Number.isFinite(v) && v > 0;
  if (!positive(o.targetFileSizeBytes) || !positive(o.groupBytesMax) || !positive(o.runBytesMax) || !(o.minFileSizeBytes >= 0)) {
    throw new FloeError('config_invalid', 'rewrite-data-files: sizes must be positive numbers of bytes', { ...o });
  }
  if (!(o.deleteRatioMin > 0 && o.deleteRatioMin <= 1)) throw new FloeError('config_invalid', 'rewrite-data-files: deleteRatioMin must be in (0, 1]', { deleteRatioMin: o.deleteRatioMin });
  if (!Number.isInteger(o.minInputFiles) || o.minInputFiles < 1) throw new FloeError('config_invalid', 'rewrite-data-files: minInputFiles must be a positive integer', { minInputFiles: o.minInputFiles });
  if (!Number.isInteger(o.commitAttemptsMax) || o.commitAttemptsMax < 1) throw new FloeError('config_invalid', 'rewrite-data-files: commitAttemptsMax must be a positive integer', { commitAttemptsMax: o.commitAttemptsMax });
}

/** Which live data files each delete file of the snapshot applies to (reads multi-file position delete files). */
async function deleteTargets(table: LoadedTable, files: TableFiles, specs: ReadonlyMap<number, PartitionSpec>): Promise<DeleteTargets[]> {
  const dataByPath = new Map(files.data.map((e) => [e.dataFile.filePath, e]));
  const dataByPartition = new Map<string, ManifestEntry[]>();
  for (const e of files.data) {
    const k = partitionKeyOf(e.dataFile);
    dataByPartition.set(k, [...(dataByPartition.get(k) ?? []), e]);
  }
  const out: DeleteTargets[] = [];
  for (const d of [...files.vectors, ...files.positionDeletes]) {
    const f = d.dataFile;
    const named = f.referencedDataFile !== undefined
      ? new Map([[f.referencedDataFile, Number(f.recordCount)]])
      : new Map([...(await readPositionDeletes(table, f.filePath))].map(([p, list]) => [p, list.length]));
    const targets = new Map<string, number>();
    for (const [p, n] of named) {
      const e = dataByPath.get(p);
      if (e !== undefined && deleteApplies(d, e, specs)) targets.set(p, n);
    }
    out.push({ entry: d, targets });
  }
  for (const d of files.equalityDeletes) {
    const scope = specs.get(d.dataFile.specId)?.isUnpartitioned !== false ? files.data : (dataByPartition.get(partitionKeyOf(d.dataFile)) ?? []);
    out.push({ entry: d, targets: new Map(scope.filter((e) => deleteApplies(d, e, specs)).map((e) => [e.dataFile.filePath, 0])) });
  }
  return out;
}

/** Plans the groups of one snapshot (exported for tests); `skipped` gets a line per group left out. */
export async function planDataGroups(table: LoadedTable, files: TableFiles, opts: RewriteDataOptions, skipped: string[] = []): Promise<DataGroup[]> {
  const specs = specsById(table.metadata);
  const deletes = await deleteTargets(table, files, specs);
  const byData = new Map<string, DeleteTargets[]>();
  for (const d of deletes) for (const p of d.targets.keys()) byData.set(p, [...(byData.get(p) ?? []), d]);

  const planned = files.data.map((entry): PlannedFile => {
    const ds = byData.get(entry.dataFile.filePath) ?? [];
    const positional = ds.filter((d) => d.entry.dataFile.content === DataFileContent.POSITION_DELETES);
    const deleted = positional.reduce((a, d) => a + (d.targets.get(entry.dataFile.filePath) ?? 0), 0);
    return {
      entry,
      // Overlapping deletes (a vector and the v2 files it merged) count twice: the ratio is capped at the file.
      deletedRows: Math.min(Number(entry.dataFile.recordCount), deleted),
      equality: ds.some((d) => d.entry.dataFile.content === DataFileContent.EQUALITY_DELETES),
    };
  });
  const hasDeletes = (p: PlannedFile): boolean => p.deletedRows > 0 || p.equality;
  const isCandidate = (p: PlannedFile): boolean => {
    const rows = Number(p.entry.dataFile.recordCount);
    return Number(p.entry.dataFile.fileSizeInBytes) < opts.minFileSizeBytes || (rows > 0 && p.deletedRows / rows >= opts.deleteRatioMin) || p.equality;
  };
  const byPartition = new Map<string, PlannedFile[]>();
  for (const p of planned) {
    if (!isCandidate(p)) continue;
    const k = partitionKeyOf(p.entry.dataFile);
    byPartition.set(k, [...(byPartition.get(k) ?? []), p]);
  }

  const groups: DataGroup[] = [];
  for (const [key, candidates] of byPartition) {
    if (candidates.length < opts.minInputFiles && !candidates.some(hasDeletes)) continue;
    // First-fit decreasing into bins of groupBytesMax; a file larger than that is a bin of its own.
    const bins: PlannedFile[][] = [];
    const binBytes: number[] = [];
    for (const p of [...candidates].sort((a, b) => Number(b.entry.dataFile.fileSizeInBytes - a.entry.dataFile.fileSizeInBytes))) {
      const size = Number(p.entry.dataFile.fileSizeInBytes);
      const i = binBytes.findIndex((b) => b + size <= opts.groupBytesMax);
      if (i < 0) {
        bins.push([p]);
        binBytes.push(size);
      } else {
        (bins[i] as PlannedFile[]).push(p);
        binBytes[i] = (binBytes[i] as number) + size;
      }
    }
    for (const bin of bins) {
      // One file without deletes would only be copied.
      if (bin.length < 2 && !bin.some(hasDeletes)) continue;
      const paths = new Set(bin.map((p) => p.entry.dataFile.filePath));
      const dangling = new Map<string, ManifestEntry>();
      for (const path of paths) {
        for (const d of byData.get(path) ?? []) {
          if ([...d.targets.keys()].every((t) => paths.has(t))) dangling.set(deleteFileKey(d.entry.dataFile), d.entry);
        }
      }
      const first = (bin[0] as PlannedFile).entry.dataFile;
      const bytes = bytesOf(bin.map((p) => p.entry.dataFile));
      const rows = bin.reduce((a, p) => a + Number(p.entry.dataFile.recordCount), 0);
      const deletedRows = bin.reduce((a, p) => a + p.deletedRows, 0);
      const liveBytes = rows === 0 ? 0 : bytes * (1 - deletedRows / rows);
      groups.push({
        partitionKey: key,
        label: partitionLabel(specs.get(first.specId), first),
        specId: first.specId,
        partition: first.partition,
        files: bin.map((p) => p.entry),
        bytes,
        deletedRows,
        equality: bin.some((p) => p.equality),
        dangling: [...dangling.values()],
        expectedFiles: deletedRows >= rows && !bin.some((p) => p.equality) ? 0 : Math.max(1, Math.ceil(liveBytes / opts.targetFileSizeBytes)),
      });
    }
  }
  // Largest win first: files (data and delete) the table loses, then rows deletes no longer hide.
  const win = (g: DataGroup): number => g.files.length + g.dangling.length - g.expectedFiles;
  groups.sort((a, b) => win(b) - win(a) || b.deletedRows - a.deletedRows || a.bytes - b.bytes);
  const chosen: DataGroup[] = [];
  let budget = opts.runBytesMax;
  for (const g of groups) {
    if (g.bytes > budget) {
      skipped.push(`skip ${g.files.length} data files in ${g.label} (${g.bytes} B): over the run's byte budget`);
      continue;
    }
    budget -= g.bytes;
    chosen.push(g);
  }
  return chosen;
}

function describe(g: DataGroup): string {
  const deletes = [g.deletedRows > 0 ? `${g.deletedRows} rows deleted by position` : '', g.equality ? 'equality deletes' : ''].filter((s) => s !== '').join(', ');
  return `rewrite ${g.files.length} data files (${g.bytes} B${deletes === '' ? '' : `; ${deletes}`}) in ${g.label} into ~${g.expectedFiles}` +
    (g.dangling.length > 0 ? `, removing ${g.dangling.length} delete files that apply only to them` : '');
}

/** The fields a rewrite reads and writes: the table's columns, and on v3 tables the row lineage columns after them. */
function rewriteFields(table: LoadedTable, schema: Schema): readonly NestedField[] {
  return table.metadata.formatVersion >= 3 ? [...schema.fields, ROW_ID_FIELD, LAST_UPDATED_SEQUENCE_NUMBER_FIELD] : schema.fields;
}

/** The group's live rows, lineage made explicit on v3 (a null `_row_id` is first_row_id + _pos; a null sequence number is the file's). */
async function readGroup(table: LoadedTable, files: TableFiles, g: DataGroup, fields: readonly NestedField[], width: number): Promise<Values[]> {
  const lineage = fields.length > width;
  const rows: Values[] = [];
  await scanDataFiles(table, files.entries, g.files, fields, (file, pos, values, seq) => {
    const row = [...values];
    if (lineage && file.firstRowId !== undefined) {
      if (row[width] === null) row[width] = file.firstRowId + BigInt(pos);
      if (row[width + 1] === null) row[width + 1] = seq;
    }
    rows.push(row);
  }, { initialDefaults: true });
  return rows;
}

/** Writes the rows as data files of the group's spec and partition. */
async function writeGroup(table: LoadedTable, schema: Schema, g: DataGroup, fields: readonly NestedField[], rows: readonly Values[], order: SortOrder, targetFileSizeBytes: number): Promise<DataFile[]> {
  const spec = specsById(table.metadata).get(g.specId);
  if (spec === undefined) throw new FloeError('metadata_invalid', `data files use partition spec ${g.specId}, which the table does not have`);
  const settings = { ...writerSettingsFor(table, targetFileSizeBytes), sortOrderId: order.orderId };
  const path = spec.isUnpartitioned ? '' : new Partitioner(schema, spec).path(g.partition);
  const w = new RollingFileWriter(settings, fields, DataFileContent.DATA, spec.specId, g.partition, path);
  for (const r of rows) w.write(r);
  return w.close();
}

/** Whether an equality delete file deletes any of `rows` (values in `fields` order). */
async function deletesAnyRow(table: LoadedTable, d: DataFile, rows: readonly Values[], fields: readonly NestedField[]): Promise<boolean> {
  const idx = (d.equalityIds ?? []).map((id) => fields.findIndex((f) => f.id === id));
  if (idx.length === 0 || idx.some((i) => i < 0)) return true;
  const keys = await readEqualityKeys(table, d);
  return rows.some((r) => keys.has(valuesKey(idx.map((i) => r[i] ?? null))));
}

/** Why the commits since the plan conflict with the group (see the module comment), or null. */
async function conflictOf(table: LoadedTable, changes: Changes, g: DataGroup, rows: readonly Values[], fields: readonly NestedField[]): Promise<string | null> {
  const specs = specsById(table.metadata);
  const paths = new Set(g.files.map((e) => e.dataFile.filePath));
  for (const p of paths) if (changes.removedDataPaths.has(p)) return `data file ${p} of the group was removed by a concurrent commit`;
  for (const d of g.dangling) {
    if (changes.removedDeleteKeys.has(deleteFileKey(d.dataFile))) return `delete file ${d.dataFile.filePath} was removed by a concurrent commit`;
  }
  const sample = (g.files[0] as ManifestEntry).dataFile;
  for (const d of changes.addedDeletes) {
    const f = d.dataFile;
    if (!inDeleteScope(f, sample, specs)) continue;
    if (f.content === DataFileContent.POSITION_DELETES) {
      if (f.referencedDataFile !== undefined || isDeletionVector(f)) {
        if (paths.has(f.referencedDataFile ?? '')) return `a concurrent commit deleted rows of ${f.referencedDataFile ?? ''} (${f.filePath})`;
        continue;
      }
      for (const p of (await readPositionDeletes(table, f.filePath)).keys()) {
        if (paths.has(p)) return `a concurrent commit deleted rows of ${p} (${f.filePath})`;
      }
    } else if (await deletesAnyRow(table, f, rows, fields)) {
      return `a concurrent equality delete (${f.filePath}) deletes rows of the group`;
    }
  }
  // An equality delete removed as dangling must not apply to data committed since (a rewrite elsewhere that kept
  // its inputs' sequence numbers).
  for (const d of g.dangling) {
    if (d.dataFile.content !== DataFileContent.EQUALITY_DELETES) continue;
    const hit = changes.addedData.find((a) => deleteApplies(d, a, specs));
    if (hit !== undefined) return `equality delete ${d.dataFile.filePath} applies to ${hit.dataFile.filePath}, committed since`;
  }
  return null;
}

export const rewriteDataFiles: MaintainStepFn<RewriteDataOptions> = async (ctx, opts) => {
  checkOptions(opts);
  const tally = new StepTally('rewrite-data-files', ctx.dryRun);
  const table = await ctx.catalog.loadTable(ctx.id);
  const snapshot = currentSnapshot(table.metadata);
  if (snapshot === null) return tally.result();
  const files = await tableFiles(table, snapshot);
  const groups = await planDataGroups(table, files, opts, tally.plan);
  tally.groupsPlanned = groups.length;
  for (const g of groups) tally.plan.push(describe(g));
  if (ctx.dryRun) return tally.result();

  const schema = currentSchema(table.metadata);
  const fields = rewriteFields(table, schema);
  const order = table.metadata.sortOrders.find((o) => o.orderId === table.metadata.defaultSortOrderId) ?? SortOrder.unsorted();
  const name = identifierToString(ctx.id);
  for (let i = 0; i < groups.length; i++) {
    if (ctx.signal?.aborted === true) {
      tally.plan.push(`stopped before group ${i + 1} of ${groups.length}: the run's time budget is spent`);
      break;
    }
    ctx.progress?.({ table: name, step: 'rewrite-data-files', done: i, total: groups.length, unit: 'groups' });
    const g = groups[i] as DataGroup;
    // The whole group is held in memory while it is sorted and written: groupBytesMax bounds it.
    const rows = await readGroup(table, files, g, fields, schema.fields.length);
    sortBySortOrder(rows, (r) => r, fields, order);
    const added = await writeGroup(table, schema, g, fields, rows, order, opts.targetFileSizeBytes);
    const outcome = await commitGroup({
      ctx,
      step: 'rewrite-data-files',
      readSnapshotId: snapshot.snapshotId,
      attemptsMax: opts.commitAttemptsMax,
      written: added.map((f) => f.filePath),
      build: (tx) => {
        tx.removeDataFiles(g.files.map((e) => e.dataFile.filePath)).addDataFiles(added);
        if (g.dangling.length > 0) tx.removeDeleteFiles(g.dangling.map((e) => e.dataFile));
      },
      conflict: (changes, current) => conflictOf(current, changes, g, rows, fields),
    });
    if (outcome.kind === 'committed') {
      tally.committed(outcome.snapshot);
    } else {
      tally.groupsConflicted++;
      tally.plan.push(`dropped (${g.label}): ${outcome.reason}`);
    }
  }
  ctx.progress?.({ table: name, step: 'rewrite-data-files', done: groups.length, total: groups.length, unit: 'groups' });
  return tally.result();
};

