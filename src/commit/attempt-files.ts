/**
 * The files each commit attempt of a transaction writes, what is known of each attempt's fate, and which of
 * those files no snapshot can ever reference (and so are deleted, best effort, once the commit is decided).
 */
import { FloeError, assert } from '../errors.js';
import type { FileIO } from '../io/file-io.js';
import type { Snapshot } from '../iceberg/snapshot.js';
import type { LoadedTable } from '../catalog/catalog.js';
import { identifierToString } from '../catalog/catalog.js';

/** Files of failed attempts deleted at once. */
const CLEANUP_DELETES_IN_FLIGHT_MAX = 8;
/** A commit waits this long at most for its cleanup (the store may be what failed); the deletes go on after. */
const CLEANUP_WAIT_MAX_MS = 5_000;

/** One commit attempt: the files it wrote and what is known of its fate. */
export interface Attempt {
  /** Main's snapshot it committed on top of (its CAS). */
  readonly parent: bigint | null;
  readonly files: string[];
  manifestList: string | null;
  /** `dead`: cannot land (never sent, refused, or proved not to have landed); `unknown`: may land. */
  fate: 'dead' | 'unknown';
}

/** Every attempt of one transaction that produced a snapshot, and the files they wrote. */
export class AttemptFiles {
  /** Every attempt that produced a snapshot, and the one writing now. */
  private readonly attempts: Attempt[] = [];
  private currentAttempt: Attempt | null = null;
  /** Manifests of the added files: written once, used by every attempt. */
  private readonly sharedFiles: string[] = [];

  get current(): Attempt | null {
    return this.currentAttempt;
  }

  /** Starts an attempt committing on top of `parent`; it is dead until sent. */
  begin(parent: bigint | null): Attempt {
    this.currentAttempt = { parent, files: [], manifestList: null, fate: 'dead' };
    this.attempts.push(this.currentAttempt);
    return this.currentAttempt;
  }

  /** Writes a file of this transaction, remembered (before the write: a failed write may leave an object) for cleanup. */
  async write(io: FileIO, path: string, bytes: Uint8Array, shared = false): Promise<void> {
    if (shared) this.sharedFiles.push(path);
    else {
      assert(this.currentAttempt !== null, 'files are written by an attempt');
      this.currentAttempt.files.push(path);
    }
    await io.write(path, bytes);
  }

  /**
   * After a reload that did not find our snapshot: an attempt whose outcome was unknown can no longer land once
   * main has moved past the parent its CAS names (main only moves forward: to our snapshot, which is not there,
   * or to someone else's).
   */
  settleUnknown(main: bigint | null): void {
    for (const a of this.attempts) if (a.fate === 'unknown' && a.parent !== main) a.fate = 'dead';
  }

  /**
   * Files no snapshot of the table can ever reference. After a success (`committed`; `landed`: the snapshot in
   * the table), every other attempt's files: they carry the same snapshot id, which is taken now, and a CAS on a
   * parent main has left. After a failure, the files of the attempts that cannot land, and the shared manifests
   * once none of them may land.
   */
  garbage(committed: boolean, landed: Snapshot | null): string[] {
    if (committed) {
      if (landed === null) return [];
      return this.attempts.filter((a) => a.manifestList !== landed.manifestList).flatMap((a) => a.files);
    }
    const dead = this.attempts.filter((a) => a.fate === 'dead').flatMap((a) => a.files);
    return this.attempts.every((a) => a.fate === 'dead') ? [...dead, ...this.sharedFiles] : dead;
  }
}

/**
 * Best effort, CLEANUP_DELETES_IN_FLIGHT_MAX at a time; a file already gone is fine, other failures are reported.
 * Waits CLEANUP_WAIT_MAX_MS at most: the commit's outcome must not wait for a slow or failing store.
 */
export async function removeFiles(table: LoadedTable, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLEANUP_WAIT_MAX_MS);
    timer.unref();
  });
  await Promise.race([deleteAll(table, paths), bound]);
  clearTimeout(timer);
}

/** Never rejects. */
async function deleteAll(table: LoadedTable, paths: readonly string[]): Promise<void> {
  const failed: string[] = [];
  for (let i = 0; i < paths.length; i += CLEANUP_DELETES_IN_FLIGHT_MAX) {
    await Promise.all(paths.slice(i, i + CLEANUP_DELETES_IN_FLIGHT_MAX).map(async (p) => {
      try {
        await table.io.delete(p);
      } catch (e) {
        if (!(e instanceof FloeError && e.code === 'io_not_found')) failed.push(`${p}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }));
  }
  if (failed.length > 0) {
    process.emitWarning(`${identifierToString(table.identifier)}: ${failed.length} file(s) of failed commit attempts could not be deleted (orphans), e.g. ${failed[0]}`);
  }
}
