/**
 * FileIO: where table files live. Iceberg paths are URIs (`s3://bucket/key`, `file:///abs/path`); a FileIO
 * reads and writes whole objects. Files floe writes are immutable and named uniquely, so `write` never
 * overwrites a file someone else wrote (except the embedded catalog's metadata, which uses its own CAS).
 */
export interface FileIO {
  read(path: string): Promise<Uint8Array>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
  delete(path: string): Promise<void>;
  /**
   * Every object whose path starts with `prefix` (a plain string prefix: pass a trailing `/` for "under this
   * directory"), in no particular order, paths in the prefix's scheme. Lazy: one listing page in memory at a
   * time. What orphan removal walks a table's location with.
   */
  list(prefix: string): AsyncIterable<FileInfo>;
}

/** One object found by `FileIO.list`. */
export interface FileInfo {
  readonly path: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
}

export function isS3Path(path: string): boolean {
  return path.startsWith('s3://') || path.startsWith('s3a://') || path.startsWith('s3n://');
}

export function joinPath(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}

/**
 * A path in one canonical form, to compare paths written by different engines: Hadoop's `s3a://` and `s3n://`
 * name the same objects as `s3://`, and `file:///x`, `file:/x` and `/x` the same local file (Iceberg's
 * DeleteOrphanFiles treats these schemes as equal too).
 */
export function normalizeLocation(path: string): string {
  if (path.startsWith('s3a://') || path.startsWith('s3n://')) return `s3://${path.slice(6)}`;
  if (path.startsWith('file://')) return path.slice(7);
  if (path.startsWith('file:')) return path.slice(5);
  return path;
}
