// Proves `floe maintain` on an embedded SQL catalog (in-process with fake steps, and as users run it for usage errors): exit 0 when every step ran, 1 when a step failed (the other steps and tables still run), 2 when a table or the config cannot be read or for bad usage; the text blocks per table and step, the JSON line shape, managed tables skipped, --dry-run reaching the steps, --table lists, --budget-ms, and the progress line on a terminal only.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { runMaintain, type MaintainCliDeps } from '../../src/cli/maintain.js';
import { FloeError } from '../../src/errors.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { fakeSteps, result, type StepBehaviour } from '../support/maintain-steps.js';
import type { MaintainStep } from '../../src/maintain/types.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('floe maintain (CLI)', () => {
  let dir = '';
  let config = '';

  async function maintain(args: string[], behaviour: Partial<Record<MaintainStep, StepBehaviour>> = {}, deps: MaintainCliDeps = {}) {
    const fake = fakeSteps(behaviour);
    let stdout = '';
    let stderr = '';
    const code = await runMaintain(['--config', config, ...args], (t) => (stdout += t), (t) => (stderr += t), { steps: fake.steps, tty: false, ...deps });
    return { code, stdout, stderr, calls: fake.calls };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-maintain-cli-'));
    config = join(dir, 'floe.yaml');
    // Kafka is never contacted; shop.managed is maintained by its own service; manifests are off.
    await writeFile(config, [
      'kafka:\n  brokers: 127.0.0.1:9\n  topics: [unused]',
      `catalog:\n  type: sql\n  path: ${join(dir, 'catalog.db')}\n  warehouse: ${join(dir, 'warehouse')}`,
      'tables:\n  overrides:\n    shop.managed: { maintenance: managed }',
      'maintenance:\n  manifests: { enabled: false }',
      '',
    ].join('\n'));
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/warehouse`, io: new LocalFileIO() });
    try {
      const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }], ['id']);
      await catalog.createNamespace(['shop']);
      await catalog.createNamespace(['raw']);
      for (const [ns, name] of [['shop', 'orders'], ['shop', 'managed'], ['raw', 'events']] as const) await catalog.createTable({ namespace: [ns], name }, { schema });
    } finally {
      await catalog.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 0: every table of the catalog, per step what was done; managed tables and disabled steps skipped', async () => {
    const r = await maintain([], {
      'rewrite-data-files': async (ctx) => (ctx.id.name === 'orders' ? result('rewrite-data-files', { filesIn: 12, filesOut: 2, bytesIn: 3 * 1024 * 1024, bytesOut: 2.5 * 1024 * 1024, groupsPlanned: 2, groupsCommitted: 1, groupsConflicted: 1 }) : result('rewrite-data-files')),
      'expire-snapshots': async () => result('expire-snapshots', { snapshotsExpired: 40, filesDeleted: 12 }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const blocks = r.stdout.split('\n\n');
    assert.deepEqual(blocks.map((b) => b.split('\n')[0]), [
      'raw.events  ok',
      'shop.managed  skipped: maintained by its own service (maintenance: managed)',
      'shop.orders  ok',
      '3 table(s): 2 maintained, 0 with a failed step, 0 could not be read, 1 skipped',
    ]);
    assert.equal(blocks[2], [
      'shop.orders  ok',
      '  convert-equality-deletes  ok: nothing to do',
      '  rewrite-data-files        ok: files 12 -> 2, 3.0 MiB -> 2.5 MiB, groups 1/2 committed, 1 conflicted (left for the next run)',
      '  rewrite-position-deletes  ok: nothing to do',
      '  rewrite-manifests         skipped (disabled)',
      '  expire-snapshots          ok: 40 snapshot(s) expired, 12 file(s) deleted',
      '  remove-orphan-files       ok: nothing to do',
    ].join('\n'));
    assert.ok(!r.calls.some((c) => c.table === 'shop.managed'));
    assert.ok(!r.calls.some((c) => c.step === 'rewrite-manifests'));
    assert.ok(r.calls.every((c) => !c.dryRun && c.signal !== undefined));
  });

  it('exit 1: a step failed, the other steps and tables still ran; --json lines', async () => {
    const r = await maintain(['--json'], {
      'rewrite-position-deletes': async (ctx) => {
        if (ctx.id.name === 'events') throw new FloeError('commit_conflict', 'lost to a streaming commit');
        return result('rewrite-position-deletes', { snapshotIds: [123n], filesIn: 3, filesOut: 1, bytesIn: 30, bytesOut: 10 });
      },
    });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.table, l.outcome]), [['raw.events', 'failed'], ['shop.managed', 'skipped'], ['shop.orders', 'ok']]);
    const events = lines[0]!;
    const steps = events.steps as Record<string, unknown>[];
    assert.deepEqual(steps.map((s) => s.outcome), ['ok', 'ok', 'failed', 'skipped', 'ok', 'ok']);
    assert.deepEqual(steps[2]!.error, { code: 'commit_conflict', retry: 'conflict', message: 'lost to a streaming commit' });
    assert.equal(steps[3]!.reason, 'disabled');
    assert.equal(events.dryRun, false);
    assert.equal(typeof events.ms, 'number');
    assert.deepEqual(lines[1], { table: 'shop.managed', outcome: 'skipped', reason: 'managed', dryRun: false, ms: 0, steps: [] });
    const orders = (lines[2]!.steps as Record<string, unknown>[])[2]!;
    assert.deepEqual(orders.result, { step: 'rewrite-position-deletes', snapshotIds: ['123'], filesIn: 3, filesOut: 1, bytesIn: 30, bytesOut: 10 });
  });

  it('exit 2: a named table that cannot be read (the others still maintained); --table lists; --dry-run reaches the steps and prints the plan', async () => {
    const r = await maintain(['--table', 'shop.missing,shop.orders', '--table', 'shop.orders', '--dry-run'], {
      'rewrite-data-files': async () => result('rewrite-data-files', { plan: ['partition region=eu: 6 files (1.2 MiB) -> 1'] }),
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^shop\.missing {2}ERROR: could not be read: catalog_not_found: /);
    assert.match(r.stdout, /\nshop\.orders {2}ok \(dry run\)\n/);
    assert.match(r.stdout, /\n {2}rewrite-data-files {8}ok: nothing to do\n {30}partition region=eu: 6 files \(1\.2 MiB\) -> 1\n/);
    assert.match(r.stdout, /\n2 table\(s\) \(dry run: nothing written\): 1 maintained, 0 with a failed step, 1 could not be read, 0 skipped\n$/);
    assert.deepEqual([...new Set(r.calls.map((c) => c.table))], ['shop.orders']);
    assert.ok(r.calls.every((c) => c.dryRun));
  });

  it('--budget-ms becomes the steps\' abort signal; progress goes to stderr on a terminal only', async () => {
    const r = await maintain(['--table', 'shop.orders', '--budget-ms', '40'], {
      'convert-equality-deletes': async (ctx) => {
        ctx.progress?.({ table: 'shop.orders', step: 'convert-equality-deletes', done: 1, total: 4, unit: 'files' });
        await new Promise<void>((resolve) => ctx.signal?.addEventListener('abort', () => resolve(), { once: true }));
        return result('convert-equality-deletes');
      },
    }, { tty: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\n {2}rewrite-data-files {8}skipped \(budget spent\)\n/);
    assert.equal(r.calls.length, 1);
    assert.match(r.stderr, /^\r\x1b\[Kshop\.orders {2}convert-equality-deletes {2}1\/4 files\r\x1b\[K$/);
    const quiet = await maintain(['--table', 'shop.orders'], {
      'convert-equality-deletes': async (ctx) => {
        ctx.progress?.({ table: 'shop.orders', step: 'convert-equality-deletes', done: 1, total: 4, unit: 'files' });
        return result('convert-equality-deletes');
      },
    });
    assert.equal(quiet.stderr, '');
  });

  it('exit 2 for bad usage and an unreadable config, in-process and as users run it; --help exits 0', async () => {
    const bad: [string[], RegExp][] = [
      [['--bogus'], /Unknown option '--bogus'[\s\S]*Exit codes:/],
      [['--budget-ms', 'soon'], /--budget-ms must be a positive integer, got "soon"/],
      [['--table', 'nodot'], /table identifier must be "namespace\.table", got "nodot"/],
    ];
    for (const [args, stderr] of bad) {
      const r = await maintain(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.calls.length, 0);
    }
    const badConfig = join(dir, 'bad.yaml');
    await writeFile(badConfig, 'kafka: { brokers: b:9092, topics: [t] }\ncatalog: { type: sql, path: /c.db, warehouse: /wh }\nmaintenance: { orphans: { olderThanMs: 60000 } }\n');
    const cli = (args: string[]): Promise<Run> => new Promise((resolve) => {
      execFile(process.execPath, [main, 'maintain', ...args], { timeout: 30_000 }, (e, stdout, stderr) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stdout, stderr }));
    });
    const [noConfig, missing, invalid, help] = await Promise.all([cli([]), cli(['--config', join(dir, 'nope.yaml')]), cli(['--config', badConfig]), cli(['--help'])]);
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /floe maintain needs --config FILE/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml/);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /config maintenance\.orphans\.olderThanMs: must be between 3600000/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /1 {2}a step failed/);
  });
});
