/**
 * What a table's snapshots reach, and the bounded deletion of what they no longer reach: the ground truth of
 * expire-snapshots and remove-orphan-files. A snapshot reaches its manifest list, the manifests the list names,
 * and the data and delete files (Puffin deletion vectors included) those manifests hold as live entries
 * (ADDED or EXISTING). A DELETED entry only records a removal: the snapshot that reads the file is the parent,
 * and the parent reaches it through its own manifests (Java's `ManifestFiles.readPaths` reads live entries too).
 *
 * Paths are compared in normalizeLocation's form: one engine may write `s3a://` where another writes `s3://`.
 */
import { readContainer, type AvroValue } from '../avro/avro.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import { readManifestList, type ManifestFile } from '../iceberg/manifest.js';
import { ManifestEntryStatus } from '../iceberg/data-file.js';
import { FloeError } from '../errors.js';
import { normalizeLocation, type FileIO } from '../io/file-io.js';

/** Dry-run plan lines a step returns at most (the rest are counted in the last line). */
export const PLAN_LINES_MAX = 10_000;

/** Manifest lists and manifests read at once. */
export const MANIFEST_READS_IN_FLIGHT_MAX = 8;

/**
 * Runs `fn` over the items, at most `inFlightMax` at once, pulling items only as slots free up (an async
 * listing is consumed at the pace of the work). The first failure stops new work; it is thrown once the
 * work in flight has settled.
 */
export async function forEachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  inFlightMax: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for await (const item of items) {
    if (failure !== null) break;
    const p: Promise<void> = fn(item).then(
      () => {
        inFlight.delete(p);
      },
      (e: unknown) => {
        inFlight.delete(p);
        failure ??= { error: e };
      },
    );
    inFlight.add(p);
    if (inFlight.size >= inFlightMax) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** The manifests the snapshots' lists name, by normalized path (a manifest shared by several snapshots once). */
export async function manifestsOf(io: FileIO, snapshots: Iterable<Snapshot>): Promise<Map<string, ManifestFile>> {
  const out = new Map<string, ManifestFile>();
  await forEachBounded(snapshots, MANIFEST_READS_IN_FLIGHT_MAX, async (s) => {
    const list = readManifestList(await io.read(s.manifestList), `manifest list ${s.manifestList}`);
    for (const m of list) out.set(normalizeLocation(m.manifestPath), m);
  });
  return out;
}

/**
 * The file paths of a manifest's entries, live or not. Only `status` and `data_file.file_path` are used, so a
 * manifest of any partition spec reads, whatever the current schema.
 */
export async function manifestEntryPaths(io: FileIO, manifestPath: string): Promise<{ path: string; live: boolean }[]> {
  const rows = readContainer(await io.read(manifestPath), `manifest ${manifestPath}`).rows;
  return rows.map((row) => {
    const r = row as Record<string, AvroValue>;
    const df = r.data_file as Record<string, AvroValue> | null | undefined;
    if (df === null || df === undefined || typeof df.file_path !== 'string') {
      throw new FloeError('metadata_invalid', `manifest ${manifestPath} has an entry without data_file.file_path`, { manifest: manifestPath });
    }
    return { path: df.file_path, live: Number(r.status) !== ManifestEntryStatus.DELETED };
  });
}

/**
 * Adds to `live` the files the manifests hold as live entries, and to `all` (when given) every file they name,
 * normalized path → path as written. Any unreadable manifest fails the whole call: a reachability set with a
 * hole would send live files to deletion.
 */
export async function filesOf(
  io: FileIO,
  manifests: Iterable<ManifestFile>,
  live: Map<string, string>,
  all?: Map<string, string>,
): Promise<void> {
  await forEachBounded(manifests, MANIFEST_READS_IN_FLIGHT_MAX, async (m) => {
    for (const e of await manifestEntryPaths(io, m.manifestPath)) {
      const key = normalizeLocation(e.path);
      if (e.live) live.set(key, e.path);
      all?.set(key, e.path);
    }
  });
}

export interface DeleteOutcome {
  readonly deleted: number;
  readonly failed: number;
  readonly firstFailure: string | null;
  /** Files not attempted because the run's signal was aborted. */
  readonly skipped: number;
}

/**
 * Deletes files, `inFlightMax` at a time. A file already gone counts as deleted. A failure is counted, not
 * thrown: the file is unreachable either way and the next orphan removal takes it. Stops starting deletes
 * once `signal` is aborted (the run's time budget is spent).
 */
export async function deleteFiles(
  io: FileIO,
  paths: readonly string[],
  opts: { readonly inFlightMax: number; readonly signal?: AbortSignal; readonly onDone?: (done: number) => void },
): Promise<DeleteOutcome> {
  let deleted = 0;
  let failed = 0;
  let started = 0;
  let firstFailure: string | null = null;
  const pending = (function* () {
    for (const p of paths) {
      if (opts.signal?.aborted === true) return;
      started++;
      yield p;
    }
  })();
  await forEachBounded(pending, opts.inFlightMax, async (p) => {
    try {
      await io.delete(p);
      deleted++;
    } catch (e) {
      if (e instanceof FloeError && e.code === 'io_not_found') deleted++;
      else {
        failed++;
        firstFailure ??= `${p}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    opts.onDone?.(deleted + failed);
  });
  return { deleted, failed, firstFailure, skipped: paths.length - started };
}
