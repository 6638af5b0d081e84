/**
 * FileIO on S3 (and S3-compatible stores: S3 Tables' table buckets, SeaweedFS). Large files go up as
 * multipart uploads; every request is bounded by a semaphore (in-flight requests) and retried by the SDK's
 * adaptive retry on throttling and 5xx. Errors are classified once here.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { FloeError } from '../errors.js';
import type { FileIO, FileInfo } from './file-io.js';
import { Semaphore } from './semaphore.js';

export interface S3FileIOConfig {
  readonly region: string;
  /** Custom endpoint (SeaweedFS, MinIO); unset for AWS. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** Requests in flight at once across this FileIO. */
  readonly requestsInFlightMax?: number;
  /** Files at or above this size go up as multipart uploads. */
  readonly multipartThresholdBytes?: number;
  readonly multipartPartBytes?: number;
  readonly attemptsMax?: number;
  readonly requestTimeoutMs?: number;
}

export const S3_DEFAULTS = Object.freeze({
  requestsInFlightMax: 16,
  multipartThresholdBytes: 64 * 1024 * 1024,
  multipartPartBytes: 16 * 1024 * 1024,
  attemptsMax: 6,
  requestTimeoutMs: 60_000,
});

/** S3 requires parts of at least 5 MiB (except the last). */
const MULTIPART_PART_BYTES_MIN = 5 * 1024 * 1024;

/** Keys one ListObjectsV2 page returns at most (S3's own maximum). */
const LIST_PAGE_KEYS_MAX = 1000;

export function parseS3Path(path: string): { bucket: string; key: string } {
  const m = /^s3[an]?:\/\/([^/]+)\/(.+)$/.exec(path);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    throw new FloeError('config_invalid', `not an s3:// path with bucket and key: "${path}"`, { path });
  }
  return { bucket: m[1], key: m[2] };
}

export function classifyS3Error(e: unknown, op: string, path: string): FloeError {
  if (e instanceof FloeError) return e;
  const err = e as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? err.Code ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const msg = `${op} ${path}: ${name}${status !== undefined ? ` (HTTP ${status})` : ''}${err.message !== undefined && err.message !== name ? `: ${err.message}` : ''}`;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) return new FloeError('io_not_found', msg, { path, op }, e);
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'Forbidden' || status === 403 || status === 401) {
    return new FloeError('io_access_denied', msg, { path, op }, e);
  }
  if (name === 'SlowDown' || name === 'Throttling' || name === 'ThrottlingException' || status === 429 || status === 503) {
    return new FloeError('io_throttled', msg, { path, op }, e);
  }
  return new FloeError('io_failed', msg, { path, op }, e);
}

export class S3FileIO implements FileIO {
  readonly client: S3Client;
  private readonly limit: Semaphore;
  private readonly cfg: Required<Pick<S3FileIOConfig, 'multipartThresholdBytes' | 'multipartPartBytes'>>;

  constructor(config: S3FileIOConfig) {
    const partBytes = config.multipartPartBytes ?? S3_DEFAULTS.multipartPartBytes;
    if (partBytes < MULTIPART_PART_BYTES_MIN) {
      throw new FloeError('config_invalid', `s3 multipartPartBytes must be at least ${MULTIPART_PART_BYTES_MIN}`, { field: 'multipartPartBytes' });
    }
    const clientConfig: S3ClientConfig = {
      region: config.region,
      forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
      maxAttempts: config.attemptsMax ?? S3_DEFAULTS.attemptsMax,
      retryMode: 'adaptive',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
        ? {
            credentials: {
              accessKeyId: config.accessKeyId,
              secretAccessKey: config.secretAccessKey,
              ...(config.sessionToken !== undefined ? { sessionToken: config.sessionToken } : {}),
            },
          }
        : {}),
    };
    this.client = new S3Client(clientConfig);
    this.limit = new Semaphore(config.requestsInFlightMax ?? S3_DEFAULTS.requestsInFlightMax);
    this.cfg = { multipartThresholdBytes: config.multipartThresholdBytes ?? S3_DEFAULTS.multipartThresholdBytes, multipartPartBytes: partBytes };
  }

  async read(path: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Path(path);
    return this.limit.run(async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (out.Body === undefined) throw new FloeError('io_failed', `read ${path}: empty response body`, { path });
        return await out.Body.transformToByteArray();
      } catch (e) {
        throw classifyS3Error(e, 'read', path);
      }
    });
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length >= this.cfg.multipartThresholdBytes) {
      await this.writeMultipart(path, bytes);
      return;
    }
    const { bucket, key } = parseS3Path(path);
    await this.limit.run(async () => {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
      } catch (e) {
        throw classifyS3Error(e, 'write', path);
      }
    });
  }

  private async writeMultipart(path: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Path(path);
    let uploadId: string | undefined;
    try {
      const created = await this.limit.run(() => this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })));
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new FloeError('io_failed', `write ${path}: S3 returned no multipart upload id`, { path });
      const partBytes = this.cfg.multipartPartBytes;
      const parts: Promise<{ ETag: string; PartNumber: number }>[] = [];
      for (let offset = 0, n = 1; offset < bytes.length; offset += partBytes, n++) {
        const body = bytes.subarray(offset, Math.min(bytes.length, offset + partBytes));
        const partNumber = n;
        const id = uploadId;
        parts.push(
          this.limit.run(async () => {
            const out = await this.client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: partNumber, Body: body, ContentLength: body.length }));
            if (out.ETag === undefined) throw new FloeError('io_failed', `write ${path}: part ${partNumber} has no ETag`, { path });
            return { ETag: out.ETag, PartNumber: partNumber };
          }),
        );
      }
      const done = await Promise.all(parts);
      await this.limit.run(() =>
        this.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: done } })),
      );
    } catch (e) {
      if (uploadId !== undefined) {
        const id = uploadId;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id })).catch((abortErr: unknown) => {
          // The upload already failed; an abort failure only leaves an incomplete upload for the bucket's lifecycle rule.
          process.emitWarning(`abort of multipart upload ${path} failed: ${String(abortErr)}`);
        });
      }
      throw classifyS3Error(e, 'write (multipart)', path);
    }
  }

  /**
   * Releases the client's connections once the requests in flight are done (every request slot is taken first).
   * The FileIO stays usable: a later request opens a new connection.
   */
  async close(): Promise<void> {
    for (let i = 0; i < this.limit.permits; i++) await this.limit.acquire();
    try {
      this.client.destroy();
    } finally {
      for (let i = 0; i < this.limit.permits; i++) this.limit.release();
    }
  }

  async exists(path: string): Promise<boolean> {
    const { bucket, key } = parseS3Path(path);
    return this.limit.run(async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (e) {
        const c = classifyS3Error(e, 'head', path);
        if (c.code === 'io_not_found') return false;
        throw c;
      }
    });
  }

  async delete(path: string): Promise<void> {
    const { bucket, key } = parseS3Path(path);
    await this.limit.run(async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (e) {
        throw classifyS3Error(e, 'delete', path);
      }
    });
  }

  /**
   * ListObjectsV2 page by page (each page one request through the request semaphore, its keys yielded before
   * the next is asked for). The prefix may be a bucket with no key (`s3://bucket/`). Paths keep the prefix's
   * scheme (`s3a://` stays `s3a://`).
   */
  async *list(prefix: string): AsyncIterable<FileInfo> {
    const m = /^(s3[an]?):\/\/([^/]+)\/?(.*)$/.exec(prefix);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      throw new FloeError('config_invalid', `not an s3:// prefix with a bucket: "${prefix}"`, { path: prefix });
    }
    const [scheme, bucket, keyPrefix] = [m[1], m[2], m[3] ?? ''];
    let token: string | undefined;
    do {
      const page = await this.limit.run(async () => {
        try {
          return await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, MaxKeys: LIST_PAGE_KEYS_MAX, ...(token !== undefined ? { ContinuationToken: token } : {}) }));
        } catch (e) {
          throw classifyS3Error(e, 'list', prefix);
        }
      });
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        // An object without a modification time counts as new: nothing takes it for an old orphan.
        yield { path: `${scheme}://${bucket}/${o.Key}`, sizeBytes: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? Date.now() };
      }
      const next = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      // A store that says "truncated" without a new token would page forever.
      if (page.IsTruncated === true && (next === undefined || next === token)) {
        throw new FloeError('io_failed', `list ${prefix}: the store answered a truncated page without a new continuation token`, { path: prefix });
      }
      token = next;
    } while (token !== undefined);
  }
}
