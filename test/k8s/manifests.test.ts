// Proves the deployment manifests are valid Kubernetes objects: kubeconform (strict: unknown fields are errors) validates every k8s/ manifest against the Kubernetes 1.30 schemas and the ServiceMonitor / ScaledObject / TriggerAuthentication CRD schemas, refuses a manifest with a misspelled field, and the IAM policy and Grafana dashboard are well-formed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const exec = promisify(execFile);
const hasGo = await exec('go', ['version']).then(() => true, () => false);

async function kubeconform(files: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('bash', ['test/harness/kubeconform.sh', ...files], { timeout: 600_000, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('k8s manifests', () => {
  const manifests = [...readdirSync('k8s').filter((f) => f.endsWith('.yaml')).map((f) => join('k8s', f)), ...readdirSync('k8s/keda').map((f) => join('k8s/keda', f))];

  it('kubeconform (strict) validates every manifest, CRDs included', { skip: hasGo ? false : 'go not installed' }, async () => {
    const r = await kubeconform(manifests);
    assert.equal(r.code, 0, r.out);
    // 9 objects (StatefulSet, Service, ServiceMonitor, ScaledObject, TriggerAuthentication, ...); the Kustomization is skipped
    assert.match(r.out, /Valid: 9, Invalid: 0, Errors: 0, Skipped: 1/);
  });

  it('kubeconform refuses a misspelled field', { skip: hasGo ? false : 'go not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-k8s-'));
    try {
      const bad = readFileSync('k8s/statefulset.yaml', 'utf8').replace('  replicas: 3', '  replica: 3');
      assert.notEqual(bad, readFileSync('k8s/statefulset.yaml', 'utf8'));
      writeFileSync(join(dir, 'statefulset.yaml'), bad);
      const r = await kubeconform([join(dir, 'statefulset.yaml')]);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /replica/);
      assert.match(r.out, /Invalid: 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the IAM policy and the Grafana dashboard are well-formed', () => {
    const policy = JSON.parse(readFileSync('k8s/iam-policy.json', 'utf8')) as { Version: string; Statement: { Effect: string; Action: string[] | string; Resource: string[] | string }[] };
    assert.equal(policy.Version, '2012-10-17');
    const actions = policy.Statement.flatMap((s) => s.Action);
    for (const a of ['s3tables:UpdateTableMetadataLocation', 's3tables:PutTableData', 'kafka-cluster:Connect', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData', 'kafka-cluster:AlterGroup']) assert.ok(actions.includes(a), a);
    assert.ok(!actions.some((a) => a.endsWith(':*')), 'no wildcard actions');
    const dashboard = JSON.parse(readFileSync('k8s/grafana-dashboard.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    assert.ok(dashboard.panels.length >= 12);
  });
});
