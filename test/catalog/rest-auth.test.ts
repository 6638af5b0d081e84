// Proves the REST catalog's SigV4 signer against AWS's published Signature Version 4 test suite (get-vanilla, post-vanilla: credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service"), and that the requests floe sends also sign x-amz-content-sha256 (the hash of the body).
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SigV4Auth } from '../../src/catalog/rest-auth.js';

const suite = new SigV4Auth({ type: 'sigv4', signingName: 'service', region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
const at = new Date('2015-08-30T12:36:00Z');
const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date';

describe('SigV4 (AWS test suite)', () => {
  it('get-vanilla', async () => {
    const h = await suite.sign({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} }, at, false);
    assert.equal(h['x-amz-date'], '20150830T123600Z');
    assert.equal(h.authorization, `AWS4-HMAC-SHA256 ${scope}, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`);
  });

  it('post-vanilla', async () => {
    const h = await suite.sign({ method: 'POST', url: new URL('https://example.amazonaws.com/'), headers: {} }, at, false);
    assert.equal(h.authorization, `AWS4-HMAC-SHA256 ${scope}, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`);
  });

  it('catalog requests also sign the body hash', async () => {
    const body = '{"updates":[]}';
    const h = await suite.sign({ method: 'POST', url: new URL('https://s3tables.us-east-1.amazonaws.com/iceberg/v1/ns/tables/t'), headers: { 'content-type': 'application/json' }, body }, at, true);
    assert.equal(h['x-amz-content-sha256'], createHash('sha256').update(body).digest('hex'));
    assert.match(h.authorization ?? '', /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
  });
});
