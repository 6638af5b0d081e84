/**
 * Builds a FileIO from Iceberg catalog/table properties (the keys Iceberg's S3FileIO uses, which REST catalogs
 * return in `config` / `overrides`), layered over floe's own S3 settings. Paths decide the implementation:
 * `s3://` → S3FileIO, `file://` or absolute → LocalFileIO.
 */
import { FloeError } from '../errors.js';
import type { FileIO } from './file-io.js';
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
  constructor(private readonly s3: S3FileIO | null) {}
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
}

const cache = new Map<string, RoutingFileIO>();

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
  const key = JSON.stringify(cfg);
  let io = cache.get(key);
  if (io === undefined) {
    io = new RoutingFileIO(new S3FileIO(cfg));
    cache.set(key, io);
  }
  return io;
}
