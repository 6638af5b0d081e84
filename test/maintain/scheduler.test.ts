// Proves the background maintenance scheduler with fake steps and a fake clock: it maintains only the given tables that are due (never run first, then oldest first), one at a time, not again before intervalMs, never managed tables, none when maintenance is disabled, stops starting tables once the budget is spent, records metrics; and which replica maintains a table (the owner of partition 0 of its first source topic).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { MaintenanceScheduler, maintainedHere } from '../../src/maintain/scheduler.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { fakeSteps, result, testSettings } from '../support/maintain-steps.js';

const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }], ['id']);
const TABLES = ['shop.a', 'shop.b', 'shop.c', 'shop.d'];

describe('MaintenanceScheduler', () => {
  let dir = '';
  let catalog: SqlCatalog;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-scheduler-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    await catalog.createNamespace(['shop']);
    for (const t of TABLES) await catalog.createTable({ namespace: ['shop'], name: t.split('.')[1]! }, { schema });
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A scheduler whose steps take `stepMs` of the fake clock each (on the last step). */
  function scheduler(opts: { stepMs?: number; managed?: string[]; enabled?: boolean } = {}) {
    const clock = { now: 1_000_000 };
    const { steps, calls } = fakeSteps({
      'remove-orphan-files': async () => {
        clock.now += opts.stepMs ?? 0;
        return result('remove-orphan-files', { filesDeleted: 1 });
      },
    });
    const metrics = new Metrics({ processMetrics: false });
    const s = new MaintenanceScheduler({ catalog, settings: testSettings({ intervalMs: 60_000, enabled: opts.enabled ?? true }, opts.managed ?? []), steps, metrics, clock: () => clock.now });
    const tablesRun = () => [...new Set(calls.map((c) => c.table))];
    return { s, clock, calls, metrics, tablesRun };
  }

  it('maintains the given due tables, never run first by name, then oldest first; not again before the interval', async () => {
    const { s, clock, calls, tablesRun } = scheduler();
    const first = await s.runDue(['shop.c', 'shop.a', 'shop.b'], 10_000);
    assert.deepEqual(first.map((r) => r.table), ['shop.a', 'shop.b', 'shop.c']);
    assert.ok(first.every((r) => r.outcome === 'ok'));
    assert.deepEqual(tablesRun(), ['shop.a', 'shop.b', 'shop.c']);
    // Steps get the clock as their "now".
    assert.ok(calls.every((c) => c.nowMs === 1_000_000));

    clock.now += 30_000;
    assert.deepEqual((await s.runDue(['shop.a', 'shop.b', 'shop.c', 'shop.d'], 10_000)).map((r) => r.table), ['shop.d'], 'only the never-run table is due');
    clock.now += 30_000;
    // a, b, c ran 60 s ago (due); d 30 s ago (not due). Oldest first.
    assert.deepEqual(s.due(['shop.d', 'shop.c', 'shop.b', 'shop.a']), ['shop.a', 'shop.b', 'shop.c']);
    assert.deepEqual((await s.runDue(['shop.b', 'shop.d'], 10_000)).map((r) => r.table), ['shop.b'], 'only the tables given');
    clock.now += 1;
    assert.deepEqual(s.due(TABLES), ['shop.a', 'shop.c']);
  });

  it('oldest first across runs, and stops starting tables once the budget is spent', async () => {
    const { s, clock } = scheduler({ stepMs: 60 });
    // Each table takes 60 ms of the clock: within 100 ms the second table starts (40 ms left), the third does not.
    assert.deepEqual((await s.runDue(TABLES, 100)).map((r) => r.table), ['shop.a', 'shop.b']);
    clock.now += 120_000;
    // c and d never ran: first; then a and b, oldest first.
    assert.deepEqual(s.due(TABLES), ['shop.c', 'shop.d', 'shop.a', 'shop.b']);
    assert.deepEqual((await s.runDue(TABLES, 1_000)).map((r) => r.table), ['shop.c', 'shop.d', 'shop.a', 'shop.b']);
  });

  it('never managed tables; nothing when maintenance is disabled; a stopped run starts no table', async () => {
    const managed = scheduler({ managed: ['shop.b'] });
    assert.deepEqual((await managed.s.runDue(TABLES, 10_000)).map((r) => r.table), ['shop.a', 'shop.c', 'shop.d']);
    assert.ok(!managed.calls.some((c) => c.table === 'shop.b'));

    const off = scheduler({ enabled: false });
    assert.deepEqual(await off.s.runDue(TABLES, 10_000), []);
    assert.equal(off.calls.length, 0);

    const stopped = scheduler();
    const ac = new AbortController();
    ac.abort();
    assert.deepEqual(await stopped.s.runDue(TABLES, 10_000, ac.signal), []);
    assert.equal(stopped.calls.length, 0);
  });

  it('records the maintenance metrics of each run', async () => {
    const { s, metrics } = scheduler();
    await s.runDue(['shop.a'], 10_000);
    const text = await metrics.registry.metrics();
    assert.match(text, /floe_maintenance_runs_total\{table="shop\.a",step="rewrite-data-files",outcome="ok"\} 1\n/);
    assert.match(text, /floe_maintenance_files_deleted_total\{table="shop\.a",step="remove-orphan-files"\} 1\n/);
    assert.match(text, /floe_maintenance_duration_seconds_count\{step="expire-snapshots"\} 1\n/);
  });
});

describe('maintainedHere', () => {
  it('is the owner of partition 0 of the table\'s first source topic, by name', () => {
    assert.equal(maintainedHere(['cdc.shop.orders'], [{ topic: 'cdc.shop.orders', partition: 0 }, { topic: 'cdc.shop.orders', partition: 3 }]), true);
    assert.equal(maintainedHere(['cdc.shop.orders'], [{ topic: 'cdc.shop.orders', partition: 1 }]), false);
    // Two topics feed the table (shards): partition 0 of the first by name decides, whatever the order given.
    assert.equal(maintainedHere(['cdc.shard2.orders', 'cdc.shard1.orders'], [{ topic: 'cdc.shard1.orders', partition: 0 }]), true);
    assert.equal(maintainedHere(['cdc.shard2.orders', 'cdc.shard1.orders'], [{ topic: 'cdc.shard2.orders', partition: 0 }]), false);
    assert.equal(maintainedHere([], [{ topic: 'x', partition: 0 }]), false);
    assert.equal(maintainedHere(['cdc.shop.orders'], []), false);
  });
});
