// Proves the config shipped in k8s/configmap.yaml is valid floe config with the environment the StatefulSet in k8s/statefulset.yaml gives the pod (MSK IAM, S3 Tables SigV4, static membership from the pod name, metrics port matching the container port).
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/config.js';

interface EnvVar { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }
interface Container { env: EnvVar[]; ports: { name: string; containerPort: number }[] }

describe('k8s config', () => {
  it('validates with the StatefulSet environment', async () => {
    const cm = parse(await readFile('k8s/configmap.yaml', 'utf8')) as { data: Record<string, string> };
    const sts = parse(await readFile('k8s/statefulset.yaml', 'utf8')) as { spec: { template: { spec: { containers: Container[] } } } };
    const container = sts.spec.template.spec.containers[0]!;
    const env: Record<string, string> = {};
    for (const e of container.env) {
      if (e.value !== undefined) env[e.name] = e.value.replaceAll('ACCOUNT_ID', '111122223333'); // the manifest's placeholder
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'floe-0';
    }
    const text = cm.data['floe.yaml'];
    assert.ok(text !== undefined);
    const cfg = validateConfig(parse(text), env);
    assert.equal(cfg.catalog.type, 'rest');
    assert.equal(cfg.catalog.type === 'rest' ? cfg.catalog.uri : '', 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg');
    assert.deepEqual(cfg.catalog.type === 'rest' ? cfg.catalog.auth : null, { type: 'sigv4', signingName: 's3tables', region: 'ap-northeast-2' });
    assert.equal(cfg.kafka.groupInstanceId, 'floe-0');
    assert.deepEqual(cfg.kafka.auth, { type: 'msk-iam', region: 'ap-northeast-2' });
    assert.equal(cfg.kafka.tls.enabled, true);
    assert.equal(cfg.tables.defaults.maintenance, 'managed'); // S3 Tables maintains its tables
    assert.equal(cfg.maintenance.budgetMs, 60_000);
    assert.equal(cfg.metrics.port, container.ports.find((p) => p.name === 'metrics')?.containerPort);
  });
});
