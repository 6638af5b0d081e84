// Proves the config shipped in k8s/configmap.yaml is valid floe config once the StatefulSet's environment is set.
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/config.js';

describe('k8s config', () => {
  it('validates with the StatefulSet environment', async () => {
    const cm = parse(await readFile('k8s/configmap.yaml', 'utf8')) as { data: Record<string, string> };
    const text = cm.data['floe.yaml'];
    assert.ok(text !== undefined);
    const cfg = validateConfig(parse(text), {
      FLOE_KAFKA_BROKERS: 'b-1:9096',
      FLOE_KAFKA_USERNAME: 'u',
      FLOE_KAFKA_PASSWORD: 'p',
      AWS_REGION: 'ap-northeast-2',
      FLOE_TABLE_BUCKET_ARN: 'arn:aws:s3tables:ap-northeast-2:1:bucket/b',
      FLOE_GROUP_INSTANCE_ID: 'floe-0',
    });
    assert.equal(cfg.catalog.type, 'rest');
    assert.equal(cfg.catalog.type === 'rest' ? cfg.catalog.uri : '', 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg');
    assert.equal(cfg.kafka.groupInstanceId, 'floe-0');
    assert.equal(cfg.kafka.properties['sasl.password'], 'p');
  });
});
