/**
 * rewrite-manifests: regroups the current snapshot's small manifests into manifests of about
 * `targetManifestBytes` (after Iceberg Java's RewriteManifests), so readers open a few manifests instead of
 * one or two per streaming commit. Data and delete manifests are rewritten separately, per partition spec
 * (a manifest holds one content kind of one spec: spec "Manifests"); entries are clustered by partition so
 * each new manifest's partition summary stays narrow.
 *
 * The table's data does not change, so the new snapshot is a `replace` (spec: "Data and delete files were
 * added and removed without changing table data") that adds and removes no file. Every live entry is carried
 * as EXISTING with its snapshot id and its explicit data and file sequence numbers (deletes apply by them:
 * spec "Scan Planning"); DELETED entries are dropped (they only recorded a removal by the snapshot that wrote
 * them). v3 row lineage: a carried data file keeps its first_row_id (written explicitly once EXISTING), and a
 * new data manifest whose files all have one gets a first_row_id of its own (the smallest of them; no file
 * inherits from it), so the manifest list assigns no new ids: the snapshot's added-rows is 0 and the table's
 * next-row-id does not move.
 *
 * Commit: add-snapshot + main → it, with `assert-ref-snapshot-id(main = the snapshot it read)`. On a conflict
 * the table is reloaded; if every replaced manifest is still in the new current snapshot (a streaming append
 * only added manifests beside them) the manifests already written are reused under a new manifest list,
 * else (a concurrent merge, compaction or delete rewrote one) the rewrite is planned again. Attempts are
 * bounded. Every attempt carries the same snapshot id, so at most one can ever land: after an unknown commit
 * state the id found in a reloaded table means it landed.
 */
import { randomUUID } from 'node:crypto';
import { FloeError, assert } from '../errors.js';
import { backoffSleep } from '../retry.js';
import type { LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { newManifestPath } from '../commit/manifest-writes.js';
import { newSnapshotId } from '../commit/transaction.js';
import { DataFileContent, ManifestEntryStatus, type ManifestEntry } from '../iceberg/data-file.js';
import { ManifestContent, carriesLiveFiles, readManifest, readManifestList, writeManifest, writeManifestListWithRowIds, type ManifestFile } from '../iceberg/manifest.js';
import { MAIN_BRANCH, type Snapshot } from '../iceberg/snapshot.js';
import { readManifestFiles } from '../iceberg/snapshot-files.js';
import { currentSchema, currentSnapshot, specsById, type TableMetadata } from '../iceberg/table-metadata.js';
import { valuesKey } from '../iceberg/values.js';
import { deleteFiles, forEachBounded, MANIFEST_READS_IN_FLIGHT_MAX } from './reachability.js';
import type { MaintainContext, MaintainStepFn, RewriteManifestsOptions, StepResult } from './types.js';

/** Commit attempts against concurrent commits before the step gives up for this run. */
export const REWRITE_MANIFESTS_ATTEMPTS_MAX = 10;
export const REWRITE_MANIFESTS_BACKOFF = Object.freeze({ baseMs: 100, maxMs: 5_000 });
/** Files of attempts that cannot land, deleted at once. */
const CLEANUP_DELETES_IN_FLIGHT_MAX = 8;

/** One (content, spec) group's rewrite: the manifests it replaces and the entries they carry. */
interface GroupPlan {
  readonly content: ManifestContent;
  readonly specId: number;
  readonly replaced: readonly ManifestFile[];
  readonly entries: readonly ManifestEntry[];
  readonly outputs: number;
}

/** The manifests written for a plan: reused by every attempt while the replaced manifests stay in main. */
interface Written {
  readonly groups: readonly GroupPlan[];
  readonly replaced: ReadonlySet<string>;
  readonly manifests: readonly ManifestFile[];
}

/**
 * Plans the rewrite of `manifests`: in each (content, spec) group, the manifests smaller than the target are
 * merged into ceil(their bytes / target) manifests, when that makes fewer of them.
 */
async function planGroups(table: LoadedTable, manifests: readonly ManifestFile[], opts: RewriteManifestsOptions): Promise<GroupPlan[]> {
  const meta = table.metadata;
  const schema = currentSchema(meta);
  const specs = specsById(meta);
  const groups = new Map<string, ManifestFile[]>();
  for (const m of manifests) {
    if (m.manifestLength >= BigInt(opts.targetManifestBytes)) continue; // big enough already: kept as it is
    const k = `${m.content}/${m.partitionSpecId}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  const out: GroupPlan[] = [];
  for (const group of groups.values()) {
    const bytes = group.reduce((a, m) => a + Number(m.manifestLength), 0);
    const outputs = Math.max(1, Math.ceil(bytes / opts.targetManifestBytes));
    if (outputs >= group.length) continue;
    const entries: ManifestEntry[][] = group.map(() => []);
    await forEachBounded(group.keys(), MANIFEST_READS_IN_FLIGHT_MAX, async (i) => {
      const m = group[i] as ManifestFile;
      for (const e of readManifest(await table.io.read(m.manifestPath), m, specs, schema)) {
        if (e.status === ManifestEntryStatus.DELETED) continue;
        // readManifest resolved inherited sequence numbers (and v3 first row ids): write them explicitly.
        assert(meta.formatVersion === 1 || (e.sequenceNumber !== null && e.fileSequenceNumber !== null), 'a carried entry has explicit sequence numbers', { manifest: m.manifestPath });
        (entries[i] as ManifestEntry[]).push({ ...e, status: ManifestEntryStatus.EXISTING });
      }
    });
    const flat = entries.flat();
    const keyOf = new Map(flat.map((e) => [e, valuesKey(e.dataFile.partition)]));
    flat.sort((a, b) => {
      const ka = keyOf.get(a) as string;
      const kb = keyOf.get(b) as string;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const first = group[0] as ManifestFile;
    out.push({ content: first.content, specId: first.partitionSpecId, replaced: group, entries: flat, outputs });
  }
  return out;
}

async function writeGroups(table: LoadedTable, groups: readonly GroupPlan[], snapshotId: bigint, written: string[]): Promise<Written> {
  const meta = table.metadata;
  const schema = currentSchema(meta);
  const specs = specsById(meta);
  const manifests: ManifestFile[] = [];
  for (const g of groups) {
    const spec = specs.get(g.specId);
    assert(spec !== undefined, 'a manifest\'s spec is in the table', { spec: g.specId });
    // Equal shares of the entries; none when the replaced manifests held only DELETED entries (nothing to carry).
    const per = Math.max(1, Math.ceil(g.entries.length / g.outputs));
    for (let i = 0; i < g.entries.length; i += per) {
      const entries = g.entries.slice(i, i + per);
      const path = newManifestPath(table);
      const w = writeManifest({ path, formatVersion: meta.formatVersion, schema, spec, content: g.content, snapshotId, entries });
      written.push(path);
      await table.io.write(path, w.bytes);
      manifests.push({ ...w.manifestFile, ...rowIdsOf(meta, g.content, entries) });
    }
  }
  return { groups, replaced: new Set(groups.flatMap((g) => g.replaced.map((m) => m.manifestPath))), manifests };
}

/** v3: a data manifest whose files all carry first_row_id gets the smallest, so the list writer assigns none. */
function rowIdsOf(meta: TableMetadata, content: ManifestContent, entries: readonly ManifestEntry[]): { firstRowId?: bigint } {
  if (meta.formatVersion < 3 || content !== ManifestContent.DATA) return {};
  let min: bigint | null = null;
  for (const e of entries) {
    const id = e.dataFile.firstRowId;
    if (e.dataFile.content !== DataFileContent.DATA || id === undefined) return {};
    if (min === null || id < min) min = id;
  }
  return min === null ? {} : { firstRowId: min };
}

function snapshotFor(table: LoadedTable, parent: Snapshot, snapshotId: bigint, listPath: string, manifests: readonly ManifestFile[], w: Written, kept: number): { snapshot: Snapshot; bytes: Buffer } {
  const meta = table.metadata;
  const sequenceNumber = meta.lastSequenceNumber + 1n;
  const firstRowId = meta.formatVersion >= 3 ? (meta.nextRowId ?? 0n) : undefined;
  const list = writeManifestListWithRowIds({
    formatVersion: meta.formatVersion, snapshotId, parentSnapshotId: parent.snapshotId, sequenceNumber, manifests,
    ...(firstRowId !== undefined ? { firstRowId } : {}),
  });
  // The table's totals do not change: carried from the parent. Its other keys (a writer's own, such as floe's
  // Kafka offsets) belong to the parent's commit and are not repeated.
  const totals = Object.fromEntries(Object.entries(parent.summary).filter(([k]) => k.startsWith('total-')));
  const snapshot: Snapshot = {
    snapshotId,
    parentSnapshotId: parent.snapshotId,
    sequenceNumber,
    timestampMs: Math.max(Date.now(), meta.lastUpdatedMs + 1),
    manifestList: listPath,
    summary: {
      ...totals,
      'manifests-created': String(w.manifests.length),
      'manifests-replaced': String(w.replaced.size),
      'manifests-kept': String(kept),
      'entries-processed': String(w.groups.reduce((a, g) => a + g.entries.length, 0)),
      operation: 'replace',
    },
    schemaId: meta.currentSchemaId,
    ...(firstRowId !== undefined ? { firstRowId, addedRows: list.addedRows } : {}),
  };
  return { snapshot, bytes: list.bytes };
}

function planLines(name: string, groups: readonly GroupPlan[], total: number): string[] {
  const lines = [`${name}: rewrite ${groups.reduce((a, g) => a + g.replaced.length, 0)} of ${total} manifest(s) into ${groups.reduce((a, g) => a + g.outputs, 0)}`];
  for (const g of groups) {
    const bytes = g.replaced.reduce((a, m) => a + Number(m.manifestLength), 0);
    lines.push(`rewrite ${g.replaced.length} ${g.content === ManifestContent.DATA ? 'data' : 'delete'} manifest(s) of spec ${g.specId} (${bytes} bytes, ${g.entries.length} live entries) into ${g.outputs}`);
  }
  return lines;
}

export const rewriteManifests: MaintainStepFn<RewriteManifestsOptions> = async (ctx: MaintainContext, opts: RewriteManifestsOptions): Promise<StepResult> => {
  const name = identifierToString(ctx.id);
  const none: StepResult = { step: 'rewrite-manifests', snapshotIds: [], filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0, groupsPlanned: 0, groupsCommitted: 0, groupsConflicted: 0 };
  if (!(opts.targetManifestBytes > 0)) throw new FloeError('config_invalid', `rewrite-manifests: targetManifestBytes must be positive, got ${opts.targetManifestBytes}`);
  const snapshotId = newSnapshotId();
  /** Every file this run wrote (manifests, manifest lists): what is not in the landed snapshot is deleted. */
  const files: string[] = [];
  let written: Written | null = null;
  let mayHaveLanded = false;
  let lastError: unknown = null;
  let table = await ctx.catalog.loadTable(ctx.id);
  const cleanup = async (keep: ReadonlySet<string>): Promise<void> => {
    const garbage = files.filter((f) => !keep.has(f));
    const out = await deleteFiles(table.io, garbage, { inFlightMax: CLEANUP_DELETES_IN_FLIGHT_MAX });
    if (out.failed > 0) process.emitWarning(`${name}: rewrite-manifests left ${out.failed} unused file(s) (orphans), e.g. ${out.firstFailure ?? ''}`);
  };
  /** Our snapshot in `t`, if an attempt landed. */
  const landedIn = async (t: LoadedTable): Promise<StepResult | null> => {
    const s = t.metadata.snapshots.find((x) => x.snapshotId === snapshotId);
    if (s === undefined) return null;
    const used = readManifestList(await t.io.read(s.manifestList), `manifest list ${s.manifestList}`).map((m) => m.manifestPath);
    await cleanup(new Set([s.manifestList, ...used]));
    const w = written;
    const mine = new Set(used);
    const out = w === null ? [] : w.manifests.filter((m) => mine.has(m.manifestPath));
    const groups = w?.groups.length ?? 0;
    return {
      ...none,
      snapshotIds: [snapshotId],
      filesIn: w?.replaced.size ?? 0,
      filesOut: out.length,
      bytesIn: w === null ? 0 : w.groups.reduce((a, g) => a + g.replaced.reduce((b, m) => b + Number(m.manifestLength), 0), 0),
      bytesOut: out.reduce((a, m) => a + Number(m.manifestLength), 0),
      groupsPlanned: groups,
      groupsCommitted: groups,
    };
  };
  /** Gives up without a snapshot: the files go unless an attempt whose outcome is unknown may still land. */
  const giveUp = async (r: StepResult): Promise<StepResult> => {
    if (!mayHaveLanded) await cleanup(new Set());
    return r;
  };

  for (let attempt = 1; attempt <= REWRITE_MANIFESTS_ATTEMPTS_MAX; attempt++) {
    if (attempt > 1) {
      await backoffSleep(attempt - 1, REWRITE_MANIFESTS_BACKOFF);
      table = await ctx.catalog.loadTable(ctx.id);
      const landed = await landedIn(table);
      if (landed !== null) return landed;
    }
    if (ctx.signal?.aborted === true) return giveUp(none);
    const parent = currentSnapshot(table.metadata);
    if (parent === null) return giveUp(none);
    // Manifests with no live entry (emptied by a compaction or a delete: only DELETED entries) are dropped,
    // neither kept nor merged, as every commit of the table does; dropping them alone is worth a snapshot when
    // no other commit comes (an idle table after its compaction), since readers open every listed manifest.
    const all = await readManifestFiles(table, parent);
    const current = all.filter((m) => carriesLiveFiles(m, table.metadata.formatVersion));
    const emptied = all.length - current.length;
    const paths = new Set(current.map((m) => m.manifestPath));
    if (written !== null && ![...written.replaced].every((p) => paths.has(p))) {
      // A concurrent commit rewrote a manifest this plan replaces: plan again on what main holds now.
      written = null;
    }
    if (written === null) {
      const merge = current.length >= opts.minManifests;
      if (!merge && emptied === 0) return giveUp(ctx.dryRun ? { ...none, plan: [`${name}: ${current.length} manifest(s), below ${opts.minManifests}: nothing to rewrite`] } : none);
      const groups = merge ? await planGroups(table, current, opts) : [];
      if (groups.length === 0 && emptied === 0) return giveUp(ctx.dryRun ? { ...none, plan: [`${name}: no manifest group to merge`] } : none);
      if (ctx.dryRun) return { ...none, groupsPlanned: groups.length, plan: [...(emptied > 0 ? [`${name}: drop ${emptied} manifest(s) with no live file`] : []), ...planLines(name, groups, current.length)] };
      written = await writeGroups(table, groups, snapshotId, files);
      ctx.progress?.({ table: name, step: 'rewrite-manifests', done: written.replaced.size, total: current.length, unit: 'files' });
    }
    // A retry after a concurrent commit dropped the emptied manifests itself, with nothing to merge: done.
    if (written.groups.length === 0 && emptied === 0) return giveUp(none);
    const w: Written = written;
    const kept = current.filter((m) => !w.replaced.has(m.manifestPath));
    const listPath = `${table.metadata.location}/metadata/snap-${snapshotId}-${attempt}-${randomUUID()}.avro`;
    const { snapshot, bytes } = snapshotFor(table, parent, snapshotId, listPath, [...w.manifests, ...kept], w, kept.length);
    files.push(listPath);
    await table.io.write(listPath, bytes);
    try {
      table = await ctx.catalog.commitTable(
        table,
        [{ type: 'assert-table-uuid', uuid: table.metadata.tableUuid }, { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent.snapshotId }],
        [{ action: 'add-snapshot', snapshot }, { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId }],
      );
      const landed = await landedIn(table);
      assert(landed !== null, 'a commit the catalog accepted holds its snapshot', { snapshot: String(snapshotId) });
      return landed;
    } catch (e) {
      lastError = e;
      if (e instanceof FloeError && e.code === 'commit_state_unknown') {
        mayHaveLanded = true;
        continue;
      }
      if (e instanceof FloeError && e.retry === 'conflict') continue;
      await giveUp(none);
      throw e;
    }
  }
  if (mayHaveLanded) {
    table = await ctx.catalog.loadTable(ctx.id);
    const landed = await landedIn(table);
    if (landed !== null) return landed;
  }
  await giveUp(none);
  throw new FloeError(
    'commit_retries_exhausted',
    `rewrite-manifests on ${name}: ${REWRITE_MANIFESTS_ATTEMPTS_MAX} attempts lost to concurrent commits: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    { table: name },
    lastError,
  );
};
