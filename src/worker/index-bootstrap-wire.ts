/** The messages of a parallel index bootstrap between its owner (index-bootstrap.ts) and its threads. */
import type { KeyWordsRefusal } from './key-columns.js';
import type { ExportedSegments, SegmentRange } from './pk-slots.js';

export interface BootstrapInit {
  /** This thread's number, and every thread's segment range (thread k builds `ranges[k]`). */
  readonly self: number;
  readonly ranges: readonly SegmentRange[];
  readonly keyFieldId: number;
  /** The key column is an int (one word a row), else a long. */
  readonly int32: boolean;
  /** Live rows of the whole table: each thread sizes its segments for its share. */
  readonly reserveKeys: number;
}

/** A data file to read: its bytes, its rows, its page ids (pk-locations.ts `pagesFor`), its deleted positions. */
export interface FileTask {
  readonly t: 'file';
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly pages: Int32Array;
  /** Ascending. */
  readonly deleted: Int32Array;
}

export type ToThread = FileTask | { readonly t: 'drain' } | { readonly t: 'finish'; readonly expect: number };

/** Keys for the segments of the receiving thread: entries of (mixed hi, mixed lo, location high, location low). */
export interface KeysBatch {
  readonly t: 'keys';
  readonly entries: Uint32Array;
}

export type ToOwner =
  | { readonly t: 'fileDone'; readonly id: number; readonly rows: number; readonly ms: number }
  | { readonly t: 'refused'; readonly id: number; readonly reason: KeyWordsRefusal | 'row_count' }
  /** Batches this thread sent to each thread, once every file sent to it is done. */
  | { readonly t: 'sent'; readonly counts: readonly number[] }
  /**
   * The thread's segments, the rows whose key it held already (entries as in KeysBatch), and the rows it inserted
   * per page id.
   */
  | { readonly t: 'done'; readonly part: ExportedSegments; readonly dups: Uint32Array; readonly pageRows: Uint32Array; readonly inserted: number }
  /** An error of the thread: its FloeError code when it was one (errors lose their class between threads). */
  | { readonly t: 'failed'; readonly code: string | null; readonly message: string };
