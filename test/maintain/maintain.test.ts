// Proves one maintenance run's orchestration with fake steps on an embedded catalog: the steps run in MAINTAIN_STEPS order with their options, disabled steps are skipped, the table's properties override the config (target file size, manifest size, snapshot retention, gc.enabled=false skipping expiry and orphans), a failing step is reported and the next steps still run, the budget's abort reaches the steps and skips the steps not started, an unreadable table runs no step; over many tables: every table of every namespace, managed tables skipped unread, the run's budget shared; and the maintenance metrics recorded from the reports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { FloeError } from '../../src/errors.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { maintainTable, maintainTables } from '../../src/maintain/maintain.js';
import { MAINTAIN_STEPS, type MaintainContext, type RewriteDataOptions } from '../../src/maintain/types.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { fakeSteps, result, testSettings } from '../support/maintain-steps.js';

const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }], ['id']);

describe('maintainTable', () => {
  let dir = '';
  let catalog: SqlCatalog;
  const ctx = (name: string, over: Partial<MaintainContext> = {}): MaintainContext => ({ catalog, id: { namespace: ['shop'], name }, dryRun: false, nowMs: 1_000, ...over });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-maintain-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    await catalog.createNamespace(['shop']);
    await catalog.createNamespace(['raw']);
    await catalog.createTable({ namespace: ['shop'], name: 'orders' }, { schema });
    await catalog.createTable({ namespace: ['shop'], name: 'spark' }, {
      schema,
      properties: { 'write.target-file-size-bytes': '2000', 'commit.manifest.target-size-bytes': '4096', 'history.expire.max-snapshot-age-ms': '3600000', 'history.expire.min-snapshots-to-keep': '3' },
    });
    await catalog.createTable({ namespace: ['shop'], name: 'shared' }, { schema, properties: { 'gc.enabled': 'false', 'write.target-file-size-bytes': 'big' } });
    await catalog.createTable({ namespace: ['raw'], name: 'events' }, { schema });
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the enabled steps in order with their options, reports the disabled ones as skipped', async () => {
    const { steps, calls } = fakeSteps({ 'rewrite-data-files': async () => result('rewrite-data-files', { filesIn: 7, filesOut: 1, bytesIn: 700, bytesOut: 650, groupsPlanned: 1, groupsCommitted: 1 }) });
    const s = testSettings({ steps: { ...testSettings().steps, 'rewrite-manifests': false } });
    const r = await maintainTable(ctx('orders', { nowMs: 42 }), s, steps);
    assert.deepEqual(calls.map((c) => c.step), MAINTAIN_STEPS.filter((x) => x !== 'rewrite-manifests'));
    assert.ok(calls.every((c) => c.table === 'shop.orders' && c.nowMs === 42 && !c.dryRun && c.signal !== undefined));
    assert.deepEqual(calls.find((c) => c.step === 'rewrite-data-files')?.opts, { targetFileSizeBytes: 1000, minFileSizeBytes: 750, deleteRatioMin: 0.2, minInputFiles: 5, groupBytesMax: 4000, runBytesMax: 16_000, commitAttemptsMax: 4 });
    assert.deepEqual(calls.find((c) => c.step === 'expire-snapshots')?.opts, { olderThanMs: 5 * 86_400_000, keepLast: 100 });
    assert.deepEqual(calls.find((c) => c.step === 'convert-equality-deletes')?.opts, { minInputFiles: 2 });
    assert.equal(r.outcome, 'ok');
    assert.deepEqual(r.steps.map((x) => [x.step, x.outcome, x.reason]), MAINTAIN_STEPS.map((x) => (x === 'rewrite-manifests' ? [x, 'skipped', 'disabled'] : [x, 'ok', undefined])));
    assert.equal(r.steps[1]?.result?.filesIn, 7);
  });

  it('the table\'s own properties override the config; gc.enabled=false skips expiry and orphan removal', async () => {
    const { steps, calls } = fakeSteps();
    await maintainTable(ctx('spark'), testSettings(), steps);
    const rd = calls.find((c) => c.step === 'rewrite-data-files')?.opts as RewriteDataOptions;
    assert.deepEqual([rd.targetFileSizeBytes, rd.minFileSizeBytes, rd.groupBytesMax], [2000, 1500, 4000]);
    assert.deepEqual(calls.find((c) => c.step === 'rewrite-manifests')?.opts, { targetManifestBytes: 4096, minManifests: 20 });
    assert.deepEqual(calls.find((c) => c.step === 'expire-snapshots')?.opts, { olderThanMs: 3_600_000, keepLast: 3 });

    const shared = fakeSteps();
    const r = await maintainTable(ctx('shared'), testSettings(), shared.steps);
    assert.deepEqual(shared.calls.map((c) => c.step), ['convert-equality-deletes', 'rewrite-data-files', 'rewrite-position-deletes', 'rewrite-manifests']);
    assert.deepEqual(r.steps.slice(4).map((x) => [x.outcome, x.reason]), [['skipped', 'gc-disabled'], ['skipped', 'gc-disabled']]);
    // An unparsable property is ignored: the config's target applies.
    assert.equal((shared.calls[1]?.opts as RewriteDataOptions).targetFileSizeBytes, 1000);
  });

  it('a step that fails is reported with its error, and the next steps still run', async () => {
    const { steps, calls } = fakeSteps({
      'rewrite-data-files': async () => {
        throw new FloeError('commit_conflict', 'a streaming commit kept winning');
      },
      'rewrite-manifests': async () => {
        throw new Error('disk on fire');
      },
    });
    const r = await maintainTable(ctx('orders'), testSettings(), steps);
    assert.deepEqual(calls.map((c) => c.step), [...MAINTAIN_STEPS]);
    assert.equal(r.outcome, 'failed');
    assert.deepEqual(r.steps.map((x) => x.outcome), ['ok', 'failed', 'ok', 'failed', 'ok', 'ok']);
    assert.deepEqual(r.steps[1]?.error, { code: 'commit_conflict', retry: 'conflict', message: 'a streaming commit kept winning' });
    assert.deepEqual(r.steps[3]?.error, { code: 'Error', retry: null, message: 'disk on fire' });
  });

  it('the budget aborts the signal the steps get; the steps not started are skipped', async () => {
    let sawAbort = false;
    const { steps, calls } = fakeSteps({
      'rewrite-data-files': async (c) => {
        await new Promise<void>((resolve) => c.signal?.addEventListener('abort', () => resolve(), { once: true }));
        sawAbort = c.signal?.aborted === true;
        return result('rewrite-data-files', { groupsPlanned: 5, groupsCommitted: 2 });
      },
    });
    const r = await maintainTable(ctx('orders'), testSettings({ budgetMs: 30 }), steps);
    assert.ok(sawAbort);
    assert.deepEqual(calls.map((c) => c.step), ['convert-equality-deletes', 'rewrite-data-files']);
    assert.equal(r.outcome, 'ok');
    assert.deepEqual(r.steps.map((x) => [x.outcome, x.reason]), [['ok', undefined], ['ok', undefined], ...Array.from({ length: 4 }, () => ['skipped', 'budget'])]);

    // A step that gives up by throwing the abort stopped, it did not fail.
    const thrower = fakeSteps({
      'convert-equality-deletes': async (c) => {
        await new Promise<void>((resolve) => c.signal?.addEventListener('abort', () => resolve(), { once: true }));
        throw c.signal?.reason;
      },
    });
    const r2 = await maintainTable(ctx('orders'), testSettings({ budgetMs: 20 }), thrower.steps);
    assert.equal(r2.outcome, 'ok');
    assert.deepEqual(r2.steps[0], { ...r2.steps[0], outcome: 'skipped', reason: 'budget' });

    // The caller's signal (shutdown) stops the run the same way, reported as aborted.
    const ac = new AbortController();
    const outer = fakeSteps({
      'convert-equality-deletes': async () => {
        ac.abort();
        return result('convert-equality-deletes');
      },
    });
    const r3 = await maintainTable(ctx('orders', { signal: ac.signal }), testSettings(), outer.steps);
    assert.equal(outer.calls.length, 1);
    assert.deepEqual(r3.steps.slice(1).map((x) => x.reason), ['aborted', 'aborted', 'aborted', 'aborted', 'aborted']);
  });

  it('a table that cannot be loaded runs no step', async () => {
    const { steps, calls } = fakeSteps();
    const r = await maintainTable(ctx('missing'), testSettings(), steps);
    assert.equal(calls.length, 0);
    assert.equal(r.outcome, 'unreadable');
    assert.equal(r.error?.code, 'catalog_not_found');
    assert.deepEqual(r.steps, []);
  });

  it('maintainTables: every table of every namespace, managed ones skipped without being read', async () => {
    const { steps, calls } = fakeSteps();
    const seen: string[] = [];
    const res = await maintainTables(catalog, testSettings({}, ['shop.spark']), steps, { tables: null, dryRun: true, onReport: (r) => seen.push(`${r.table}:${r.outcome}`) });
    assert.deepEqual(seen, ['raw.events:ok', 'shop.orders:ok', 'shop.shared:ok', 'shop.spark:skipped']);
    assert.equal(res.reports.find((r) => r.table === 'shop.spark')?.reason, 'managed');
    assert.ok(!calls.some((c) => c.table === 'shop.spark'));
    assert.ok(calls.every((c) => c.dryRun));
    assert.deepEqual(res.listingErrors, []);
  });

  it('maintainTables: the budget is the whole run\'s; tables after it is spent are skipped', async () => {
    let now = 0;
    const { steps, calls } = fakeSteps({
      'remove-orphan-files': async () => {
        now += 60;
        return result('remove-orphan-files');
      },
    });
    const res = await maintainTables(catalog, testSettings({ budgetMs: 100 }), steps, { tables: [{ namespace: ['shop'], name: 'orders' }, { namespace: ['raw'], name: 'events' }, { namespace: ['shop'], name: 'spark' }], dryRun: false, clock: () => now });
    assert.deepEqual(res.reports.map((r) => [r.table, r.outcome, r.reason]), [['shop.orders', 'ok', undefined], ['raw.events', 'ok', undefined], ['shop.spark', 'skipped', 'budget']]);
    assert.deepEqual([...new Set(calls.map((c) => c.table))], ['shop.orders', 'raw.events']);
  });
});

describe('maintenance metrics', () => {
  it('records runs by outcome, files and bytes rewritten, snapshots expired, files deleted, conflicts and durations; not for a dry run', async () => {
    const m = new Metrics({ processMetrics: false });
    const base = { table: 'shop.orders', outcome: 'failed' as const, dryRun: false, startedMs: 0, ms: 10 };
    m.recordMaintenance({
      ...base,
      steps: [
        { step: 'convert-equality-deletes', outcome: 'skipped', reason: 'disabled', ms: 0 },
        { step: 'rewrite-data-files', outcome: 'ok', ms: 2000, result: result('rewrite-data-files', { filesIn: 10, filesOut: 2, bytesIn: 5000, bytesOut: 4800, groupsConflicted: 2 }) },
        { step: 'rewrite-position-deletes', outcome: 'failed', ms: 5, error: { code: 'commit_conflict', retry: 'conflict', message: 'x' } },
        { step: 'rewrite-manifests', outcome: 'skipped', reason: 'budget', ms: 0 },
        { step: 'expire-snapshots', outcome: 'ok', ms: 10, result: result('expire-snapshots', { snapshotsExpired: 4, filesDeleted: 9 }) },
      ],
    });
    m.recordMaintenance({ ...base, table: 'shop.gone', outcome: 'unreadable', steps: [] });
    m.recordMaintenance({ ...base, dryRun: true, steps: [{ step: 'rewrite-data-files', outcome: 'ok', ms: 1, result: result('rewrite-data-files', { filesIn: 99 }) }] });
    const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
      const metric = m.registry.getSingleMetric(name);
      const data = await metric?.get();
      return data?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x) && (v as { metricName?: string }).metricName !== `${name}_bucket`)?.value;
    };
    assert.equal(await value('floe_maintenance_runs_total', { table: 'shop.orders', step: 'rewrite-data-files', outcome: 'ok' }), 1);
    assert.equal(await value('floe_maintenance_runs_total', { table: 'shop.orders', step: 'rewrite-position-deletes', outcome: 'failed' }), 1);
    assert.equal(await value('floe_maintenance_runs_total', { table: 'shop.orders', step: 'rewrite-manifests', outcome: 'stopped' }), 1);
    assert.equal(await value('floe_maintenance_runs_total', { table: 'shop.orders', step: 'convert-equality-deletes' }), undefined);
    assert.equal(await value('floe_maintenance_runs_total', { table: 'shop.gone', step: 'load', outcome: 'failed' }), 1);
    assert.equal(await value('floe_maintenance_files_rewritten_total', { table: 'shop.orders', step: 'rewrite-data-files' }), 10);
    assert.equal(await value('floe_maintenance_bytes_rewritten_total', { table: 'shop.orders', step: 'rewrite-data-files' }), 5000);
    assert.equal(await value('floe_maintenance_snapshots_expired_total', { table: 'shop.orders' }), 4);
    assert.equal(await value('floe_maintenance_files_deleted_total', { table: 'shop.orders', step: 'expire-snapshots' }), 9);
    assert.equal(await value('floe_maintenance_conflicts_total', { table: 'shop.orders', step: 'rewrite-data-files' }), 2);
    assert.equal(await value('floe_maintenance_conflicts_total', { table: 'shop.orders', step: 'rewrite-position-deletes' }), 1);
    const text = await m.registry.metrics();
    assert.match(text, /floe_maintenance_duration_seconds_count\{step="rewrite-data-files"\} 1\n/);
    assert.match(text, /floe_maintenance_duration_seconds_sum\{step="rewrite-data-files"\} 2\n/);
  });
});
