// Proves FileIO.list: the local FileIO walks nested directories and matches a plain string prefix, in the prefix's path form, and lists nothing under a missing directory; the S3 FileIO follows ListObjectsV2 continuation tokens to the last page, keeps the prefix's scheme, and refuses a store that pages forever; normalizeLocation makes s3a:// and s3:// (and file:// and plain paths) compare equal.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { normalizeLocation, type FileInfo } from '../../src/io/file-io.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { S3FileIO } from '../../src/io/s3-file-io.js';
import { isFloeError } from '../../src/errors.js';

async function all(it: AsyncIterable<FileInfo>): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('FileIO.list', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-list-'));
    await mkdir(join(dir, 't/data/a=1'), { recursive: true });
    await mkdir(join(dir, 't/metadata'), { recursive: true });
    await mkdir(join(dir, 't2'), { recursive: true });
    await writeFile(join(dir, 't/data/a=1/x.parquet'), 'xx');
    await writeFile(join(dir, 't/data/y.parquet'), 'yyy');
    await writeFile(join(dir, 't/metadata/v1.metadata.json'), '{}');
    await writeFile(join(dir, 't2/z.parquet'), 'z');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('local: every file under a directory prefix, nested, with sizes and times, in the prefix form', async () => {
    const io = new LocalFileIO();
    const got = await all(io.list(`file://${dir}/t/`));
    assert.deepEqual(got.map((f) => f.path).sort(), [`file://${dir}/t/data/a=1/x.parquet`, `file://${dir}/t/data/y.parquet`, `file://${dir}/t/metadata/v1.metadata.json`]);
    assert.equal(got.find((f) => f.path.endsWith('y.parquet'))?.sizeBytes, 3);
    for (const f of got) assert.ok(Math.abs(f.lastModifiedMs - Date.now()) < 60_000, 'modification time is now');
    const plain = await all(io.list(`${dir}/t/data/`));
    assert.deepEqual(plain.map((f) => f.path).sort(), [`${dir}/t/data/a=1/x.parquet`, `${dir}/t/data/y.parquet`]);
  });

  it('local: a prefix without a trailing slash is a string prefix (t matches t2), a missing directory lists nothing', async () => {
    const io = new LocalFileIO();
    const got = (await all(io.list(`${dir}/t`))).map((f) => f.path.slice(dir.length)).sort();
    assert.deepEqual(got, ['/t/data/a=1/x.parquet', '/t/data/y.parquet', '/t/metadata/v1.metadata.json', '/t2/z.parquet']);
    assert.deepEqual((await all(io.list(`${dir}/t/data/y`))).map((f) => f.path), [`${dir}/t/data/y.parquet`]);
    assert.deepEqual(await all(io.list(`${dir}/nothing/here/`)), []);
  });

  it('s3: follows continuation tokens to the last page and keeps the scheme', async () => {
    const io = new S3FileIO({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', accessKeyId: 'a', secretAccessKey: 'b' });
    const asked: { bucket: string | undefined; prefix: string | undefined; token: string | undefined }[] = [];
    const when = new Date('2026-01-02T03:04:05Z');
    const pages: Record<string, { Contents: { Key: string; Size: number; LastModified?: Date }[]; IsTruncated: boolean; NextContinuationToken?: string }> = {
      '': { Contents: [{ Key: 'wh/t/a', Size: 1, LastModified: when }, { Key: 'wh/t/b', Size: 2, LastModified: when }], IsTruncated: true, NextContinuationToken: 'p2' },
      p2: { Contents: [{ Key: 'wh/t/c', Size: 3, LastModified: when }], IsTruncated: true, NextContinuationToken: 'p3' },
      p3: { Contents: [{ Key: 'wh/t/d', Size: 4 }], IsTruncated: false },
    };
    (io.client as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (c: unknown) => {
      assert.ok(c instanceof ListObjectsV2Command);
      asked.push({ bucket: c.input.Bucket, prefix: c.input.Prefix, token: c.input.ContinuationToken });
      return pages[c.input.ContinuationToken ?? ''];
    };
    const got = await all(io.list('s3a://bkt/wh/t/'));
    assert.deepEqual(got.map((f) => f.path), ['s3a://bkt/wh/t/a', 's3a://bkt/wh/t/b', 's3a://bkt/wh/t/c', 's3a://bkt/wh/t/d']);
    assert.deepEqual(got.map((f) => f.sizeBytes), [1, 2, 3, 4]);
    assert.equal(got[0]?.lastModifiedMs, when.getTime());
    assert.ok((got[3]?.lastModifiedMs ?? 0) > when.getTime(), 'an object without a time counts as new');
    assert.deepEqual(asked, [
      { bucket: 'bkt', prefix: 'wh/t/', token: undefined },
      { bucket: 'bkt', prefix: 'wh/t/', token: 'p2' },
      { bucket: 'bkt', prefix: 'wh/t/', token: 'p3' },
    ]);
  });

  it('s3: a truncated page without a new token is an error, not an endless listing', async () => {
    const io = new S3FileIO({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', accessKeyId: 'a', secretAccessKey: 'b' });
    let calls = 0;
    (io.client as unknown as { send: (c: unknown) => Promise<unknown> }).send = async () => {
      calls++;
      return { Contents: [{ Key: 'k', Size: 1 }], IsTruncated: true, NextContinuationToken: 'same' };
    };
    await assert.rejects(all(io.list('s3://bkt/')), (e: unknown) => isFloeError(e, 'io_failed'));
    assert.equal(calls, 2);
  });

  it('normalizeLocation: s3a/s3n equal s3, file URIs equal plain paths', () => {
    assert.equal(normalizeLocation('s3a://b/k/x.parquet'), 's3://b/k/x.parquet');
    assert.equal(normalizeLocation('s3n://b/k'), 's3://b/k');
    assert.equal(normalizeLocation('s3://b/k'), 's3://b/k');
    assert.equal(normalizeLocation('file:///tmp/w/x'), '/tmp/w/x');
    assert.equal(normalizeLocation('file:/tmp/w/x'), '/tmp/w/x');
    assert.equal(normalizeLocation('/tmp/w/x'), '/tmp/w/x');
  });
});
