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
}

export function isS3Path(path: string): boolean {
  return path.startsWith('s3://') || path.startsWith('s3a://') || path.startsWith('s3n://');
}

export function joinPath(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}
