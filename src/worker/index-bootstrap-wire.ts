/** The messages of a parallel index bootstrap between its owner (index-bootstrap.ts) and its threads. */
import type { ExportedSegments, SegmentRange } from './pk-slots.js';

export interface BootstrapInit {
  /** This thread's number, and every thread's segment range (thread k builds `ranges[k]`). */
  readonly self: number;
  readonly ranges: readonly SegmentRange[];
  /** Live rows of the whole table: each thread sizes its segments for its share. */
  readonly reserveKeys: number;
}

/**
 * A data file's key column, decoded once by the owner into a SharedArrayBuffer every thread reads (key-columns.ts:
 * one word a row for an int column, two for a long), with its page ids (pk-locations.ts `pagesFor`) and its
 * deleted positions.
 */
export interface FileTask {
  readonly t: 'file';
  readonly id: number;
  readonly words: Int32Array;
  readonly int32: boolean;
  readonly rows: number;
  readonly pages: Int32Array;
  /** Ascending. */
  readonly deleted: Int32Array;
}

export type ToThread = FileTask | { readonly t: 'finish' };

export type ToOwner =
  | { readonly t: 'fileDone'; readonly id: number; readonly rows: number }
  /**
   * The thread's segments, the rows whose key it held already (entries of mixed hi, mixed lo, location high,
   * location low), and the rows it inserted per page id.
   */
  | { readonly t: 'done'; readonly part: ExportedSegments; readonly dups: Uint32Array; readonly pageRows: Uint32Array }
  /** An error of the thread: its FloeError code when it was one (errors lose their class between threads). */
  | { readonly t: 'failed'; readonly code: string | null; readonly message: string };
