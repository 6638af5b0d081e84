// Proves the S3 client cache of fileIOFromProperties: one client per configuration, at most S3_CLIENTS_MAX of them (vended credentials rotate: each new session token is a new configuration), the least recently used evicted and destroyed once its requests in flight are done, and no secret in the cache keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { RoutingFileIO, S3_CLIENTS_MAX, fileIOCacheKeys, fileIOFromProperties } from '../../src/io/file-io-factory.js';
import type { S3FileIO } from '../../src/io/s3-file-io.js';

/** Vended properties as a REST catalog returns them, with a session token of its own. */
const vended = (token: string): Record<string, string> => ({
  's3.endpoint': 'http://127.0.0.1:1',
  's3.access-key-id': 'AKIDVENDED',
  's3.secret-access-key': 'secret-of-the-vended-credentials',
  's3.session-token': token,
});

function s3Of(io: unknown): S3FileIO {
  assert.ok(io instanceof RoutingFileIO);
  assert.ok(io.s3 !== null);
  return io.s3;
}

/** Counts destroy() calls of the FileIO's S3 client. */
function watchDestroy(io: unknown): { count: number } {
  const client = s3Of(io).client;
  const seen = { count: 0 };
  const destroy = client.destroy.bind(client);
  client.destroy = () => {
    seen.count++;
    destroy();
  };
  return seen;
}

describe('fileIOFromProperties', () => {
  it('shares a client per configuration, keeps at most S3_CLIENTS_MAX, evicts the least recently used and destroys it', async () => {
    const run = `lru-${Date.now()}`;
    const first = fileIOFromProperties(vended(`${run}-0`), {});
    assert.equal(fileIOFromProperties(vended(`${run}-0`), {}), first);
    const firstDestroyed = watchDestroy(first);
    const second = fileIOFromProperties(vended(`${run}-1`), {});
    const secondDestroyed = watchDestroy(second);
    for (let i = 2; i < S3_CLIENTS_MAX; i++) fileIOFromProperties(vended(`${run}-${i}`), {});
    assert.equal(fileIOFromProperties(vended(`${run}-0`), {}), first); // used again: now the most recent
    // Rotations go on: one more configuration evicts the least recently used, the second.
    fileIOFromProperties(vended(`${run}-${S3_CLIENTS_MAX}`), {});
    await tick();
    assert.equal(fileIOCacheKeys().length, S3_CLIENTS_MAX);
    assert.equal(secondDestroyed.count, 1);
    assert.equal(firstDestroyed.count, 0);
    assert.equal(fileIOFromProperties(vended(`${run}-0`), {}), first);
    assert.notEqual(fileIOFromProperties(vended(`${run}-1`), {}), second); // a new client for it
    for (let i = 0; i < 3 * S3_CLIENTS_MAX; i++) fileIOFromProperties(vended(`${run}-more-${i}`), {});
    await tick();
    assert.equal(fileIOCacheKeys().length, S3_CLIENTS_MAX);
    assert.equal(firstDestroyed.count, 1);
  });

  it('destroys an evicted client only after its requests in flight are done', async () => {
    const run = `busy-${Date.now()}`;
    const busy = fileIOFromProperties(vended(`${run}-busy`), {});
    const destroyed = watchDestroy(busy);
    const client = s3Of(busy).client as unknown as { send: (cmd: unknown) => Promise<unknown> };
    let answer: (v: unknown) => void = () => undefined;
    client.send = () => new Promise((r) => (answer = r));
    const write = busy.write('s3://bucket/key', new Uint8Array([1]));
    for (let i = 0; i < S3_CLIENTS_MAX; i++) fileIOFromProperties(vended(`${run}-${i}`), {});
    await tick();
    assert.equal(destroyed.count, 0);
    answer({});
    await write;
    await tick();
    assert.equal(destroyed.count, 1);
  });

  it('keys the cache by a hash: no credential in clear', () => {
    fileIOFromProperties(vended('a-very-recognisable-session-token'), {});
    for (const k of fileIOCacheKeys()) {
      assert.match(k, /^[0-9a-f]{64}$/);
      assert.ok(!k.includes('secret') && !k.includes('token') && !k.includes('AKID'));
    }
  });
});
