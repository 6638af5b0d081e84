/**
 * expire-snapshots: removes old snapshots from the table metadata, then deletes the files only they reached
 * (after Iceberg Java's ExpireSnapshots / RemoveSnapshots with its reachable-file cleanup).
 *
 * Which snapshots stay (Java's rules, with one age and one count for every branch):
 *   - every snapshot a branch or tag points at (main's head is the current snapshot);
 *   - on each branch, the ancestors walked from its head while fewer than `keepLast` are kept or the ancestor
 *     is younger than the cutoff (`nowMs - olderThanMs`); the walk stops at the first that is neither;
 *   - a snapshot in no branch's ancestry and under no tag (a staged or rolled-back one) while it is younger
 *     than the cutoff.
 *
 * The commit is `remove-snapshots` (the catalog drops the snapshot-log entries up to the last removed one, and
 * the statistics files' entries of the removed snapshots: spec "Snapshot Log", Java's TableMetadata.Builder),
 * with `assert-ref-snapshot-id` on main and on every ref of the planned-on metadata. The plan is only valid
 * against the refs it read: a rollback of main to a snapshot it expires, or a tag moved onto one, would lose
 * data. Any concurrent commit fails the CAS; the step reloads and plans again (bounded attempts, src/retry.ts).
 * A ref created concurrently under a new name cannot be asserted (REST has no "no other refs" requirement):
 * if it points at a snapshot this commit removes, the catalog drops it, as Java's expiry would.
 *
 * Kafka offsets: floe reads them from the newest snapshot of main's ancestry that carries them, and falls back
 * to the table property once that walk runs into an expired snapshot (src/commit/offsets.ts). When expiring
 * would change what floe reads (the property is missing or differs from the summary it would no longer find:
 * written by an older floe, or main was rolled back), the same commit sets the property to what floe reads
 * now. The CAS on main makes that exact: a floe commit in between fails one of the two commits.
 *
 * Files are deleted only after the commit landed, from what the metadata the catalog returned still reaches
 * (every retained snapshot's manifest list, manifests and live entries), never from the plan: a snapshot
 * committed concurrently is in that metadata, so its files are kept. Deleted: the expired snapshots' manifest
 * lists, the manifests no retained snapshot lists, the data and delete files no retained manifest holds live,
 * and the statistics files the removed snapshots' entries named. Content files go first and manifest lists
 * last; a crash in between leaves only unreachable files, which remove-orphan-files takes.
 */
import { FloeError } from '../errors.js';
import { backoffSleep } from '../retry.js';
import type { LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';
import { offsetsKey, storedOffsets } from '../commit/offsets.js';
import { MAIN_BRANCH, type Snapshot } from '../iceberg/snapshot.js';
import { applyUpdates, statisticsFiles, type TableMetadata, type TableRequirement, type TableUpdate } from '../iceberg/table-metadata.js';
import { normalizeLocation } from '../io/file-io.js';
import { PLAN_LINES_MAX, deleteFiles, filesOf, manifestsOf } from './reachability.js';
import type { ExpireOptions, MaintainContext, MaintainStepFn, StepResult } from './types.js';

/** Commit attempts against concurrent commits (each re-plans on the reloaded table) before the step gives up. */
export const EXPIRE_COMMIT_ATTEMPTS_MAX = 10;
export const EXPIRE_BACKOFF = Object.freeze({ baseMs: 100, maxMs: 5_000 });
/** Deletes in flight at once. */
export const EXPIRE_DELETES_IN_FLIGHT_MAX = 16;

export interface ExpirePlan {
  /** Snapshots to remove, oldest first. */
  readonly expired: readonly Snapshot[];
  readonly retained: ReadonlySet<bigint>;
  /** Offsets properties to set in the same commit so floe reads the same offsets after expiry. */
  readonly properties: Readonly<Record<string, string>>;
}

/** Plans an expiry against `meta` (pure: reads nothing but the metadata). */
export function planExpiry(meta: TableMetadata, nowMs: number, opts: ExpireOptions): ExpirePlan {
  const cutoffMs = nowMs - opts.olderThanMs;
  // At least the head of every branch: keepLast below 1 would expire main's current snapshot.
  const keepMin = Math.max(1, Math.floor(opts.keepLast));
  const byId = new Map(meta.snapshots.map((s) => [s.snapshotId, s]));
  const refs = Object.entries(meta.refs);
  if (meta.refs[MAIN_BRANCH] === undefined && meta.currentSnapshotId !== null) refs.push([MAIN_BRANCH, { snapshotId: meta.currentSnapshotId, type: 'branch' }]);
  const retained = new Set<bigint>();
  const inSomeLineage = new Set<bigint>();
  for (const [, ref] of refs) {
    if (!byId.has(ref.snapshotId)) continue; // a dangling ref: the catalog drops it with the first removal
    retained.add(ref.snapshotId);
    inSomeLineage.add(ref.snapshotId);
    if (ref.type === 'tag') continue;
    let kept = 0;
    let retaining = true;
    const seen = new Set<bigint>(); // a parent cycle would be broken metadata: walk it once
    for (let s = byId.get(ref.snapshotId); s !== undefined && !seen.has(s.snapshotId); s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId)) {
      seen.add(s.snapshotId);
      inSomeLineage.add(s.snapshotId);
      if (retaining && (kept < keepMin || s.timestampMs >= cutoffMs)) {
        retained.add(s.snapshotId);
        kept++;
      } else retaining = false;
    }
  }
  for (const s of meta.snapshots) if (!inSomeLineage.has(s.snapshotId) && s.timestampMs >= cutoffMs) retained.add(s.snapshotId);
  const expired = meta.snapshots.filter((s) => !retained.has(s.snapshotId)).sort((a, b) => a.timestampMs - b.timestampMs);
  return { expired, retained, properties: expired.length === 0 ? {} : offsetsToKeep(meta, expired) };
}

/**
 * The `floe.kafka.offsets.<group>` properties that expiring `expired` would make floe read differently, set
 * to what floe reads now.
 */
function offsetsToKeep(meta: TableMetadata, expired: readonly Snapshot[]): Record<string, string> {
  const prefix = offsetsKey('');
  const keys = new Set(Object.keys(meta.properties).filter((k) => k.startsWith(prefix)));
  for (const s of meta.snapshots) for (const k of Object.keys(s.summary)) if (k.startsWith(prefix)) keys.add(k);
  if (keys.size === 0) return {};
  const after = applyUpdates(meta, [{ action: 'remove-snapshots', 'snapshot-ids': expired.map((s) => s.snapshotId) }], meta.lastUpdatedMs);
  const out: Record<string, string> = {};
  for (const key of keys) {
    const group = key.slice(prefix.length);
    const now = JSON.stringify(storedOffsets(meta, group));
    if (JSON.stringify(storedOffsets(after, group)) !== now) out[key] = now;
  }
  return out;
}

function requirementsFor(meta: TableMetadata): TableRequirement[] {
  const reqs: TableRequirement[] = [{ type: 'assert-table-uuid', uuid: meta.tableUuid }];
  if (meta.refs[MAIN_BRANCH] === undefined) reqs.push({ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': null });
  for (const [name, ref] of Object.entries(meta.refs)) reqs.push({ type: 'assert-ref-snapshot-id', ref: name, 'snapshot-id': ref.snapshotId });
  return reqs;
}

/**
 * The files the `expired` snapshots reached that `after` (the metadata with them removed) no longer reaches,
 * in deletion order: content files, manifests, manifest lists, statistics files.
 */
export async function unreachableFiles(table: LoadedTable, before: TableMetadata, after: TableMetadata, expired: readonly Snapshot[]): Promise<string[]> {
  const stillThere = new Set(after.snapshots.map((s) => s.snapshotId));
  const gone = expired.filter((s) => !stillThere.has(s.snapshotId));
  if (gone.length === 0) return [];
  const retainedManifests = await manifestsOf(table.io, after.snapshots);
  const goneManifests = await manifestsOf(table.io, gone);
  for (const k of retainedManifests.keys()) goneManifests.delete(k);
  // Candidates: every file the manifests only expired snapshots listed name; kept if a retained manifest holds it live.
  const candidates = new Map<string, string>();
  await filesOf(table.io, goneManifests.values(), new Map(), candidates);
  if (candidates.size > 0) {
    const live = new Map<string, string>();
    await filesOf(table.io, retainedManifests.values(), live);
    for (const k of live.keys()) candidates.delete(k);
  }
  const retainedLists = new Set(after.snapshots.map((s) => normalizeLocation(s.manifestList)));
  const lists = gone.map((s) => s.manifestList).filter((p) => !retainedLists.has(normalizeLocation(p)));
  const keptStats = new Set(statisticsFiles(after).map((f) => normalizeLocation(f.path)));
  const goneIds = new Set(gone.map((s) => s.snapshotId));
  const stats = statisticsFiles(before).filter((f) => f.snapshotId !== null && goneIds.has(f.snapshotId) && !keptStats.has(normalizeLocation(f.path))).map((f) => f.path);
  return [...candidates.values(), ...[...goneManifests.values()].map((m) => m.manifestPath), ...lists, ...new Set(stats)];
}

function planLines(table: LoadedTable, plan: ExpirePlan, files: readonly string[]): string[] {
  const lines = [`${identifierToString(table.identifier)}: expire ${plan.expired.length} of ${table.metadata.snapshots.length} snapshot(s), delete ${files.length} file(s)`];
  for (const s of plan.expired) lines.push(`expire snapshot ${s.snapshotId} (${new Date(s.timestampMs).toISOString()}, ${s.summary.operation})`);
  for (const k of Object.keys(plan.properties)) lines.push(`set property ${k} (the offsets floe reads now; expiry removes the snapshots that carry them)`);
  for (const f of files) lines.push(`delete ${f}`);
  if (lines.length <= PLAN_LINES_MAX) return lines;
  return [...lines.slice(0, PLAN_LINES_MAX - 1), `... and ${lines.length - PLAN_LINES_MAX + 1} more`];
}

export const expireSnapshots: MaintainStepFn<ExpireOptions> = async (ctx: MaintainContext, opts: ExpireOptions): Promise<StepResult> => {
  const name = identifierToString(ctx.id);
  const empty = { step: 'expire-snapshots', snapshotIds: [], filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0 } as const;
  let table = await ctx.catalog.loadTable(ctx.id);
  let landed: { before: TableMetadata; after: LoadedTable; plan: ExpirePlan } | null = null;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= EXPIRE_COMMIT_ATTEMPTS_MAX && landed === null; attempt++) {
    if (attempt > 1) {
      await backoffSleep(attempt - 1, EXPIRE_BACKOFF);
      table = await ctx.catalog.loadTable(ctx.id);
    }
    if (ctx.signal?.aborted === true) return { ...empty, snapshotsExpired: 0, filesDeleted: 0 };
    const before = table.metadata;
    const plan = planExpiry(before, ctx.nowMs, opts);
    if (plan.expired.length === 0) return { ...empty, snapshotsExpired: 0, filesDeleted: 0, ...(ctx.dryRun ? { plan: [`${name}: no snapshot to expire`] } : {}) };
    if (ctx.dryRun) {
      const updates: TableUpdate[] = [{ action: 'remove-snapshots', 'snapshot-ids': plan.expired.map((s) => s.snapshotId) }];
      const after = applyUpdates(before, updates, before.lastUpdatedMs);
      const files = await unreachableFiles(table, before, after, plan.expired);
      return { ...empty, snapshotsExpired: 0, filesDeleted: 0, plan: planLines(table, plan, files) };
    }
    const updates: TableUpdate[] = [{ action: 'remove-snapshots', 'snapshot-ids': plan.expired.map((s) => s.snapshotId) }];
    if (Object.keys(plan.properties).length > 0) updates.push({ action: 'set-properties', updates: plan.properties });
    try {
      landed = { before, after: await ctx.catalog.commitTable(table, requirementsFor(before), updates), plan };
    } catch (e) {
      lastError = e;
      if (e instanceof FloeError && e.code === 'commit_state_unknown') {
        // Landed or not: the reloaded table tells. Removed snapshots cannot come back, so if they are all gone
        // the removal is done (ours or another expiry's), and what to delete follows from the reloaded metadata.
        const now = await ctx.catalog.loadTable(ctx.id);
        const ids = new Set(now.metadata.snapshots.map((s) => s.snapshotId));
        if (plan.expired.every((s) => !ids.has(s.snapshotId))) landed = { before, after: now, plan };
        continue;
      }
      if (e instanceof FloeError && e.retry === 'conflict') continue;
      throw e;
    }
  }
  if (landed === null) {
    throw new FloeError('commit_retries_exhausted', `expire-snapshots on ${name}: ${EXPIRE_COMMIT_ATTEMPTS_MAX} attempts lost to concurrent commits: ${lastError instanceof Error ? lastError.message : String(lastError)}`, { table: name }, lastError);
  }
  const { before, after, plan } = landed;
  const remaining = new Set(after.metadata.snapshots.map((s) => s.snapshotId));
  const expiredCount = plan.expired.filter((s) => !remaining.has(s.snapshotId)).length;
  const files = await unreachableFiles(after, before, after.metadata, plan.expired);
  ctx.progress?.({ table: name, step: 'expire-snapshots', done: 0, total: files.length, unit: 'files' });
  const out = await deleteFiles(after.io, files, {
    inFlightMax: EXPIRE_DELETES_IN_FLIGHT_MAX,
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
    ...(ctx.progress !== undefined ? { onDone: (done: number) => ctx.progress?.({ table: name, step: 'expire-snapshots', done, total: files.length, unit: 'files' }) } : {}),
  });
  if (out.failed > 0 || out.skipped > 0) {
    // Unreachable now: remove-orphan-files takes what is left once it is older than its margin.
    process.emitWarning(`${name}: expire-snapshots left ${out.failed + out.skipped} unreachable file(s) (${out.failed} failed, ${out.skipped} not tried: time budget)${out.firstFailure !== null ? `, e.g. ${out.firstFailure}` : ''}`);
  }
  return { ...empty, snapshotsExpired: expiredCount, filesDeleted: out.deleted };
};
