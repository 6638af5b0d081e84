/**
 * Builds a FileIO from Iceberg catalog/table properties (the keys Iceberg's S3FileIO uses, which REST catalogs
 * return in `config` / `overrides`), layered over floe's own S3 settings. Paths decide the implementation:
 * `s3://` → S3FileIO, `file://` or absolute → LocalFileIO.
 */
import { createHash } from 'node:crypto';
import { FloeError } from '../errors.js';
import type { FileIO, FileInfo } from './file-io.js';
import { isS3Path } from './file-io.js';
import { LocalFileIO } from './local-file-io.js';
import { S3FileIO, type S3FileIOConfig } from './s3-file-io.js';

export interface S3Settings {
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly requestsInFlightMax?: number;
}

/** Routes each path to S3 or the local filesystem; one S3 client per distinct configuration. */
export class RoutingFileIO implements FileIO {
  private readonly local = new LocalFileIO();
  constructor(readonly s3: S3FileIO | null) {}
  private pick(path: string): FileIO {
    if (isS3Path(path)) {
      if (this.s3 === null) throw new FloeError('config_invalid', `path ${path} is on S3 but no S3 region/endpoint is configured`, { path });
      return this.s3;
    }
    return this.local;
  }
  read(path: string): Promise<Uint8Array> { return this.pick(path).read(path); }
  write(path: string, bytes: Uint8Array): Promise<void> { return this.pick(path).write(path, bytes); }
  exists(path: string): Promise<boolean> { return this.pick(path).exists(path); }
  delete(path: string): Promise<void> { return this.pick(path).delete(path); }
  list(prefix: string): AsyncIterable<FileInfo> { return this.pick(prefix).list(prefix); }
}

/**
 * S3 clients kept at once. REST catalogs vend short-lived credentials (a new `s3.session-token` on every load
 * after a rotation, one per table on some catalogs): each is a new configuration, so the cache is bounded and
 * the least recently used client is closed (its sockets released once its requests in flight are done).
 */
export const S3_CLIENTS_MAX = 16;

/** Key: SHA-256 of the configuration (it holds secrets); Map order is recency, least recently used first. */
const cache = new Map<string, RoutingFileIO>();

/** The cache's keys, least recently used first (hashes: no secret in them). */
export function fileIOCacheKeys(): string[] {
  return [...cache.keys()];
}

export function fileIOFromProperties(props: Readonly<Record<string, string>>, base: S3Settings): FileIO {
  const pathStyle = props['s3.path-style-access'];
  const cfg: S3FileIOConfig = {
    region: props['client.region'] ?? props['s3.region'] ?? base.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(props['s3.endpoint'] ?? base.endpoint ? { endpoint: props['s3.endpoint'] ?? base.endpoint } : {}),
    ...(pathStyle !== undefined ? { forcePathStyle: pathStyle === 'true' } : base.forcePathStyle !== undefined ? { forcePathStyle: base.forcePathStyle } : {}),
    ...(props['s3.access-key-id'] ?? base.accessKeyId ? { accessKeyId: props['s3.access-key-id'] ?? base.accessKeyId } : {}),
    ...(props['s3.secret-access-key'] ?? base.secretAccessKey ? { secretAccessKey: props['s3.secret-access-key'] ?? base.secretAccessKey } : {}),
    ...(props['s3.session-token'] ?? base.sessionToken ? { sessionToken: props['s3.session-token'] ?? base.sessionToken } : {}),
    ...(base.requestsInFlightMax !== undefined ? { requestsInFlightMax: base.requestsInFlightMax } : {}),
  };
  const key = createHash('sha256').update(JSON.stringify(cfg)).digest('hex');
  let io = cache.get(key);
  if (io !== undefined) {
    cache.delete(key); // most recently used now
    cache.set(key, io);
    return io;
  }
  io = new RoutingFileIO(new S3FileIO(cfg));
  cache.set(key, io);
  for (const [k, old] of cache) {
    if (cache.size <= S3_CLIENTS_MAX) break;
    cache.delete(k);
    // A table loaded earlier may still hold this FileIO: it keeps working (the SDK opens new connections).
    old.s3?.close().catch((e: unknown) => process.emitWarning(`closing an evicted S3 client failed: ${String(e)}`));
  }
  return io;
}
