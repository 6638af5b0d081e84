/**
 * The primary-key index's data files and the locations its slots hold instead of (file, position).
 *
 * Files are interned (each location names a file by id, not by path) with a count of the rows the index holds
 * in each, so a file the table removed can be released once none of its rows is indexed; released ids are reused
 * (compactions replace files for as long as floe runs).
 *
 * A location is a row number in one space shared by every file: a file's rows are cut into pages of `PAGE_ROWS`
 * consecutive positions, each page of a file gets a page id when its first row is indexed, and the location of
 * row `pos` is `page · PAGE_ROWS + pos mod PAGE_ROWS`. A page table maps a page id back to its file and page
 * number. Pages are freed with their file. The last page id is reserved (`TOMBSTONE`). With 38-bit locations
 * (pk-slots.ts), 2^26 page ids of 4096 rows cover 2.7 · 10^11 rows of live files, far beyond any table the index
 * can hold (a file's positions are u32: at most 2^20 pages a file); past it the index is full.
 */
import { FloeError, assert } from '../errors.js';
import type { IcebergValue } from '../iceberg/values.js';
import { LOCATION_BITS, TYPED_ARRAY_OVERHEAD_BYTES } from './pk-slots.js';

export interface IndexedFile {
  readonly path: string;
  readonly specId: number;
  readonly partition: readonly (IcebergValue | null)[];
}

export interface Location {
  readonly file: IndexedFile;
  readonly pos: number;
}

/** The file-table entry of a released file (no location points to it; its id is free for reuse). */
export const RELEASED: IndexedFile = Object.freeze({ path: '', specId: -1, partition: [] });
const PAGE_BITS = 12;
const PAGE_ROWS = 2 ** PAGE_BITS;
/** The last page id is never handed out: its last location is `TOMBSTONE`. */
const PAGES_MAX = 2 ** (LOCATION_BITS - PAGE_BITS) - 1;
/**
 * A location no row has (it lies in the reserved last page): a spilled index's mark for "deleted", masking the
 * key's entries in older runs on disk (pk-spill.ts).
 */
export const TOMBSTONE = 2 ** LOCATION_BITS - 1;
const PAGES_START = 64;
export const POS_MAX = 2 ** 32 - 1;

/** The location of row `pos` in a file whose page ids are `pages` (`FileLocations.pagesFor`). */
export function locationIn(pages: Int32Array, pos: number): number {
  return (pages[pos >>> PAGE_BITS] as number) * PAGE_ROWS + (pos & (PAGE_ROWS - 1));
}

/** The page id of a location. */
export function pageOf(loc: number): number {
  return Math.floor(loc / PAGE_ROWS);
}
/** Approximate V8 sizes for the JS structures the file table holds (a Map entry, an object, an array element). */
const MAP_ENTRY_BYTES = 40;
const OBJECT_BYTES = 64;
const ARRAY_ELEMENT_BYTES = 8;

export class FileLocations {
  private readonly files: IndexedFile[] = [];
  private readonly idByPath = new Map<string, number>();
  /** Live rows the index holds per file id. */
  private rows: number[] = [];
  private freeIds: number[] = [];
  /** Per file id: page number (pos >>> PAGE_BITS) → page id (sparse when positions are), and its page ids. */
  private pagesOf: (number[] | undefined)[] = [];
  private pageIdsOf: (number[] | undefined)[] = [];
  /** Per page id: its file id (-1: free) and page number. */
  private pageFile = new Int32Array(PAGES_START).fill(-1);
  private pageNumber = new Uint32Array(PAGES_START);
  private pagesUsed = 0;
  private freePages: number[] = [];
  /** The last page located (a window's rows come in file order: most lookups repeat it). */
  private lastFile: IndexedFile | null = null;
  private lastId = -1;

  /** The location of row `pos` of `file`, interning the file and its page as needed. */
  locate(file: IndexedFile, pos: number): number {
    let id = this.lastId;
    if (file !== this.lastFile) {
      id = this.intern(file);
      this.lastFile = file;
      this.lastId = id;
    }
    const pages = this.pagesOf[id] as number[];
    const number = pos >>> PAGE_BITS;
    const page = pages[number] ?? this.newPage(id, number);
    return page * PAGE_ROWS + (pos & (PAGE_ROWS - 1));
  }

  /**
   * The page ids of rows `[0, rows)` of `file` (page number → page id), interning the file and its pages: the
   * plan of a bootstrap thread, which computes locations as `pages[pos >>> PAGE_BITS] · PAGE_ROWS + pos mod
   * PAGE_ROWS` (`locationIn`) without this table.
   */
  pagesFor(file: IndexedFile, rows: number): Int32Array {
    const out = new Int32Array(Math.ceil(rows / PAGE_ROWS));
    for (let n = 0; n < out.length; n++) out[n] = Math.floor(this.locate(file, n * PAGE_ROWS) / PAGE_ROWS);
    return out;
  }

  /** Rows counted per page id (a bootstrap thread's inserts) added to their files' counts. */
  addRowsByPage(counts: Uint32Array): void {
    for (let page = 0; page < counts.length; page++) {
      const n = counts[page] as number;
      if (n === 0) continue;
      const id = this.pageFile[page] as number;
      assert(id >= 0, 'rows are counted on a page of a file', { page });
      this.rows[id] = (this.rows[id] as number) + n;
    }
  }

  private intern(file: IndexedFile): number {
    let id = this.idByPath.get(file.path);
    if (id !== undefined) return id;
    id = this.freeIds.pop();
    if (id !== undefined) {
      this.files[id] = file;
    } else {
      id = this.files.length;
      this.files.push(file);
    }
    this.rows[id] = 0;
    this.pagesOf[id] = [];
    this.pageIdsOf[id] = [];
    this.idByPath.set(file.path, id);
    return id;
  }

  private newPage(id: number, number: number): number {
    let page = this.freePages.pop();
    if (page === undefined) {
      if (this.pagesUsed >= PAGES_MAX) throw new FloeError('index_full', `primary-key index: more than ${PAGES_MAX} pages of ${PAGE_ROWS} rows in its data files`);
      page = this.pagesUsed++;
      if (page >= this.pageFile.length) {
        const n = Math.min(PAGES_MAX, this.pageFile.length * 2);
        const files = new Int32Array(n).fill(-1);
        files.set(this.pageFile);
        const numbers = new Uint32Array(n);
        numbers.set(this.pageNumber);
        this.pageFile = files;
        this.pageNumber = numbers;
      }
    }
    this.pageFile[page] = id;
    this.pageNumber[page] = number;
    (this.pagesOf[id] as number[])[number] = page;
    (this.pageIdsOf[id] as number[]).push(page);
    return page;
  }

  fileIdOf(loc: number): number {
    return this.pageFile[Math.floor(loc / PAGE_ROWS)] as number;
  }

  locationOf(loc: number): Location {
    const page = Math.floor(loc / PAGE_ROWS);
    return { file: this.files[this.pageFile[page] as number] as IndexedFile, pos: (this.pageNumber[page] as number) * PAGE_ROWS + (loc - page * PAGE_ROWS) };
  }

  posOf(loc: number): number {
    const page = Math.floor(loc / PAGE_ROWS);
    return (this.pageNumber[page] as number) * PAGE_ROWS + (loc - page * PAGE_ROWS);
  }

  /** One more (or fewer) indexed row at `loc`'s file. */
  bump(loc: number, by: number): void {
    const id = this.fileIdOf(loc);
    this.rows[id] = (this.rows[id] as number) + by;
  }

  idOf(path: string): number | undefined {
    return this.idByPath.get(path);
  }

  rowsIn(path: string): number {
    const id = this.idByPath.get(path);
    return id === undefined ? 0 : (this.rows[id] as number);
  }

  /** `n` rows of file `id` left the index at once (a sweep). */
  dropRows(id: number, n: number): void {
    this.rows[id] = (this.rows[id] as number) - n;
  }

  filePaths(): string[] {
    return [...this.idByPath.keys()];
  }

  /** The file table by id, released ids included (the saved index's header). */
  fileTable(): readonly IndexedFile[] {
    return this.files;
  }

  /** Forgets a file none of whose rows is indexed, freeing its id and pages. */
  release(path: string): void {
    const id = this.idByPath.get(path);
    if (id === undefined) return;
    assert(this.rows[id] === 0, 'a released file holds no indexed row', { path, rows: this.rows[id] });
    for (const page of this.pageIdsOf[id] ?? []) {
      this.pageFile[page] = -1;
      this.freePages.push(page);
    }
    this.pagesOf[id] = undefined;
    this.pageIdsOf[id] = undefined;
    this.idByPath.delete(path);
    this.files[id] = RELEASED;
    this.freeIds.push(id);
    if (this.lastId === id) {
      this.lastFile = null;
      this.lastId = -1;
    }
  }

  /** Bytes held: the page table, the per-file page lists, the file table and its map (JS structures estimated). */
  get bytes(): number {
    let n = this.pageFile.byteLength + this.pageNumber.byteLength + 2 * TYPED_ARRAY_OVERHEAD_BYTES;
    n += (this.rows.length + this.freeIds.length + this.freePages.length + 2 * this.pagesOf.length + this.files.length) * ARRAY_ELEMENT_BYTES;
    // A file's page lookup is dense (positions start at 0) or sparse (then about one entry a page): its page ids count either way.
    for (const ids of this.pageIdsOf) if (ids !== undefined) n += 2 * OBJECT_BYTES + 2 * ids.length * ARRAY_ELEMENT_BYTES;
    for (const f of this.files) n += OBJECT_BYTES + f.path.length * 2 + f.partition.length * ARRAY_ELEMENT_BYTES;
    return n + this.idByPath.size * MAP_ENTRY_BYTES;
  }

  clear(): void {
    this.files.length = 0;
    this.idByPath.clear();
    this.rows = [];
    this.freeIds = [];
    this.pagesOf = [];
    this.pageIdsOf = [];
    this.pageFile = new Int32Array(PAGES_START).fill(-1);
    this.pageNumber = new Uint32Array(PAGES_START);
    this.pagesUsed = 0;
    this.freePages = [];
    this.lastFile = null;
    this.lastId = -1;
  }
}
