/**
 * convert-equality-deletes: equality deletes become position deletes (v2) or deletion vectors (v3), which every
 * reader applies cheaply (pyiceberg refuses equality deletes; the others join each data file against them).
 *
 * For each live equality delete file E, the rows it deletes are found where the spec says it applies ("Scan
 * Planning"): data files whose data sequence number is below E's, in E's partition, or in every partition when
 * E's spec is unpartitioned. Those rows are deleted by position and E is removed, in one `replace` snapshot per
 * partition. Rows in files with a sequence number at or above E's were written after E and E never deleted them:
 * they are not looked at, so the position deletes delete exactly what E did (a key re-inserted after E stays).
 *
 * Conflicts (group-commit.ts): a commit since the plan that removed a data file with rows to delete (its rows
 * moved to a file the positions do not name), removed E, or added a data file E applies to (a rewrite elsewhere
 * that kept its inputs' sequence numbers: E would have deleted rows there) drops the group for this run.
 * Concurrent position deletes or vectors for the same files do not: positions only add up (the transaction
 * merges vectors on the snapshot it commits on).
 */
import { identifierToString, type LoadedTable } from '../catalog/catalog.js';
import { FloeError } from '../errors.js';
import { deleteFileKey, type DataFile, type ManifestEntry } from '../iceberg/data-file.js';
import { deleteApplies, partitionKeyOf, readColumns, readEqualityKeys } from '../iceberg/scan.js';
import { currentSchema, currentSnapshot, specsById } from '../iceberg/table-metadata.js';
import { valuesKey } from '../iceberg/values.js';
import { PositionDeleteWriter } from '../writer/partitioned-writer.js';
import { DELETE_COMMIT_ATTEMPTS_MAX, StepTally, TARGET_FILE_SIZE_BYTES_DEFAULT, commitGroup, partitionLabel, vectorPlacement, writerSettingsFor } from './group-commit.js';
import { tableFiles, type Changes, type TableFiles } from './table-files.js';
import type { MaintainStepFn, RewriteDeletesOptions } from './types.js';

interface EqualityGroup {
  readonly label: string;
  readonly deletes: readonly ManifestEntry[];
  /** Data files at least one of the deletes applies to. */
  readonly targets: readonly ManifestEntry[];
}

/** One group per partition of equality delete files; those of an unpartitioned spec (global) form one more. */
function plan(table: LoadedTable, files: TableFiles): EqualityGroup[] {
  const specs = specsById(table.metadata);
  const byKey = new Map<string, ManifestEntry[]>();
  for (const d of files.equalityDeletes) {
    const k = specs.get(d.dataFile.specId)?.isUnpartitioned !== false ? '*' : partitionKeyOf(d.dataFile);
    byKey.set(k, [...(byKey.get(k) ?? []), d]);
  }
  return [...byKey].map(([k, deletes]) => {
    const first = (deletes[0] as ManifestEntry).dataFile;
    return {
      label: k === '*' ? 'all partitions (unpartitioned equality deletes)' : partitionLabel(specs.get(first.specId), first),
      deletes,
      targets: files.data.filter((e) => deletes.some((d) => deleteApplies(d, e, specs))),
    };
  });
}

/** The positions, by data file, of the rows the group's equality deletes delete. */
async function findRows(table: LoadedTable, g: EqualityGroup): Promise<Map<ManifestEntry, number[]>> {
  const specs = specsById(table.metadata);
  const schema = currentSchema(table.metadata);
  const keys = new Map<ManifestEntry, Set<string>>();
  for (const d of g.deletes) keys.set(d, await readEqualityKeys(table, d.dataFile));
  const out = new Map<ManifestEntry, number[]>();
  for (const e of g.targets) {
    const applicable = g.deletes.filter((d) => deleteApplies(d, e, specs));
    const ids = [...new Set(applicable.flatMap((d) => d.dataFile.equalityIds ?? []))];
    const fields = ids.map((id) => schema.fieldOrThrow(id));
    // Raw rows, no deletes applied: E applies to this file, so a scan would hide exactly the rows wanted here.
    const rows = await readColumns(table, e.dataFile.filePath, fields, { initialDefaults: true });
    const index = applicable.map((d) => (d.dataFile.equalityIds ?? []).map((id) => ids.indexOf(id)));
    const positions: number[] = [];
    rows.forEach((r, pos) => {
      for (let k = 0; k < applicable.length; k++) {
        const idx = index[k] as number[];
        if ((keys.get(applicable[k] as ManifestEntry) as Set<string>).has(valuesKey(idx.map((i) => r[i] ?? null)))) {
          positions.push(pos);
          return;
        }
      }
    });
    if (positions.length > 0) out.set(e, positions);
  }
  return out;
}

function conflictOf(table: LoadedTable, changes: Changes, g: EqualityGroup, hits: ReadonlyMap<ManifestEntry, number[]>): string | null {
  const specs = specsById(table.metadata);
  for (const e of hits.keys()) if (changes.removedDataPaths.has(e.dataFile.filePath)) return `data file ${e.dataFile.filePath} was removed by a concurrent commit`;
  for (const d of g.deletes) {
    if (changes.removedDeleteKeys.has(deleteFileKey(d.dataFile))) return `equality delete file ${d.dataFile.filePath} was removed by a concurrent commit`;
    const hit = changes.addedData.find((a) => deleteApplies(d, a, specs));
    if (hit !== undefined) return `equality delete ${d.dataFile.filePath} applies to ${hit.dataFile.filePath}, committed since with a lower sequence number`;
  }
  return null;
}

export const convertEqualityDeletes: MaintainStepFn<RewriteDeletesOptions> = async (ctx, _opts) => {
  const tally = new StepTally('convert-equality-deletes', ctx.dryRun);
  const table = await ctx.catalog.loadTable(ctx.id);
  const snapshot = currentSnapshot(table.metadata);
  if (snapshot === null || table.metadata.formatVersion < 2) return tally.result();
  const v3 = table.metadata.formatVersion >= 3;
  const files = await tableFiles(table, snapshot);
  const groups = plan(table, files);
  tally.groupsPlanned = groups.length;
  for (const g of groups) {
    const keys = g.deletes.reduce((a, d) => a + Number(d.dataFile.recordCount), 0);
    tally.plan.push(`convert ${g.deletes.length} equality delete files (${keys} rows) in ${g.label} to ${v3 ? 'deletion vectors' : 'position deletes'}, reading ${g.targets.length} data files`);
  }
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
    ctx.progress?.({ table: name, step: 'convert-equality-deletes', done: i, total: groups.length, unit: 'groups' });
    const g = groups[i] as EqualityGroup;
    const hits = await findRows(table, g);
    const written: DataFile[] = [];
    if (!v3 && hits.size > 0) {
      // Position deletes go to each data file's own spec and partition.
      const writers = new Map<number, PositionDeleteWriter>();
      for (const [e, positions] of hits) {
        let w = writers.get(e.dataFile.specId);
        if (w === undefined) {
          const spec = specs.get(e.dataFile.specId);
          if (spec === undefined) throw new FloeError('metadata_invalid', `data file ${e.dataFile.filePath} has partition spec ${e.dataFile.specId}, which the table does not have`);
          writers.set(e.dataFile.specId, (w = new PositionDeleteWriter(writerSettingsFor(table, TARGET_FILE_SIZE_BYTES_DEFAULT), schema, spec)));
        }
        for (const pos of positions) w.delete(e.dataFile.filePath, BigInt(pos), e.dataFile.partition);
      }
      for (const w of writers.values()) written.push(...(await w.close()));
    }
    const outcome = await commitGroup({
      ctx,
      step: 'convert-equality-deletes',
      readSnapshotId: snapshot.snapshotId,
      attemptsMax: DELETE_COMMIT_ATTEMPTS_MAX,
      written: written.map((f) => f.filePath),
      build: (tx) => {
        tx.removeDeleteFiles(g.deletes.map((d) => d.dataFile));
        if (v3) {
          if (hits.size > 0) tx.addDeletionVectors([...hits].map(([e, p]) => [e.dataFile.filePath, Float64Array.from(p)] as const)).deletionVectorFiles(placement);
        } else if (written.length > 0) {
          tx.addDeleteFiles(written);
        }
        tx.requireDataFiles([...hits.keys()].map((e) => e.dataFile.filePath));
      },
      conflict: (changes, current) => Promise.resolve(conflictOf(current, changes, g, hits)),
    });
    if (outcome.kind === 'committed') {
      tally.committed(outcome.snapshot);
    } else {
      tally.groupsConflicted++;
      tally.plan.push(`dropped (${g.label}): ${outcome.reason}`);
    }
  }
  ctx.progress?.({ table: name, step: 'convert-equality-deletes', done: groups.length, total: groups.length, unit: 'groups' });
  return tally.result();
};
