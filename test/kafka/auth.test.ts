// Proves the Kafka authentication settings: librdkafka properties per mechanism and TLS choice, unsecured JWS tokens in the form Kafka's validator reads, MSK IAM tokens (a SigV4-presigned kafka-cluster:Connect URL, signed with the default credential chain), and the refresher setting a new token before the old expires and retrying failures.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenRefresher, clientProperties, tokenSource, unsecuredJws } from '../../src/kafka/auth.js';

describe('kafka auth', () => {
  it('maps each mechanism to librdkafka settings', () => {
    assert.deepEqual(clientProperties({ type: 'none' }, { enabled: false }), {});
    assert.deepEqual(clientProperties({ type: 'none' }, { enabled: true }), { 'security.protocol': 'SSL' });
    assert.deepEqual(clientProperties({ type: 'scram', mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' }, { enabled: true, caLocation: '/ca.pem' }), {
      'security.protocol': 'SASL_SSL', 'ssl.ca.location': '/ca.pem', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'u', 'sasl.password': 'p',
    });
    assert.deepEqual(clientProperties({ type: 'msk-iam', region: 'us-east-1' }, { enabled: true }), { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'OAUTHBEARER' });
    assert.deepEqual(clientProperties({ type: 'oauthbearer-unsecured', principal: 'x', lifetimeMs: 5000 }, { enabled: false }), { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'OAUTHBEARER' });
  });

  it('unsecured JWS: {"alg":"none"} header, sub/iat/exp claims, empty signature', () => {
    const t = unsecuredJws('floe', 60_000, 1_700_000_000_000);
    const [h, c, sig] = t.value.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'none' });
    assert.deepEqual(JSON.parse(Buffer.from(c!, 'base64url').toString()), { sub: 'floe', iat: 1_700_000_000, exp: 1_700_000_060 });
    assert.equal(sig, '');
    assert.equal(t.expiresAtMs, 1_700_000_060_000);
  });

  it('MSK IAM: a presigned kafka-cluster:Connect request, from the default credential chain', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_PROFILE;
    try {
      const t = await tokenSource({ type: 'msk-iam', region: 'eu-west-1' })!();
      const url = new URL(Buffer.from(t.value, 'base64url').toString());
      assert.equal(url.host, 'kafka.eu-west-1.amazonaws.com');
      assert.equal(url.searchParams.get('Action'), 'kafka-cluster:Connect');
      assert.match(url.searchParams.get('X-Amz-Credential') ?? '', /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
      assert.match(url.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
      assert.ok(t.expiresAtMs > Date.now() && t.expiresAtMs <= Date.now() + 16 * 60_000);
    } finally {
      process.env = saved;
    }
  });

  it('the refresher sets a token at start and a new one before expiry; a failed refresh is reported and retried', async () => {
    let n = 0;
    const set: string[] = [];
    const errors: unknown[] = [];
    const r = new TokenRefresher(
      () => {
        n++;
        if (n === 3) return Promise.reject(new Error('sts down'));
        return Promise.resolve({ value: `t${n}`, expiresAtMs: Date.now() + 1500 });
      },
      (t) => set.push(t),
      (e) => errors.push(e),
    );
    await r.start();
    assert.deepEqual(set, ['t1']);
    await new Promise((res) => setTimeout(res, 1300)); // 80 % of 1.5 s, floored at 1 s
    assert.deepEqual(set, ['t1', 't2']);
    await new Promise((res) => setTimeout(res, 1300));
    assert.equal(errors.length, 1);
    r.stop();
  });
});
