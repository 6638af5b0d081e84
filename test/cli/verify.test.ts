// Proves `floe verify` as users run it (node dist/src/cli/main.js verify, a child process, on a SQL catalog config whose Kafka brokers are never contacted): exit 0 for tables with one live row per key, 1 when a table has duplicate keys, 2 for a table that cannot be read (the others still checked) and for bad usage; the aligned text blocks, --table lists, --key and --json lines.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { T } from '../../src/iceberg/types.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { appendValues } from '../support/table-ops.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function floe(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 30_000 }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('floe verify (CLI)', () => {
  let dir = '';
  let config = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-verify-cli-'));
    // A port nothing listens on: verify must not use Kafka, so it must not matter.
    config = join(dir, 'floe.yaml');
    await writeFile(config, `kafka:\n  brokers: 127.0.0.1:9\n  topics: [unused]\ncatalog:\n  type: sql\n  path: ${join(dir, 'catalog.db')}\n  warehouse: ${join(dir, 'warehouse')}\n`);
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/warehouse`, io: new LocalFileIO() });
    try {
      const keyed = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }], ['id']);
      const unkeyed = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }]);
      await catalog.createNamespace(['shop']);
      await catalog.createNamespace(['raw']);
      await catalog.createTable({ namespace: ['shop'], name: 'clean' }, { schema: keyed });
      await appendValues(catalog, { namespace: ['shop'], name: 'clean' }, [[1n, 'a'], [2n, 'b'], [3n, 'c']]);
      await catalog.createTable({ namespace: ['shop'], name: 'dups' }, { schema: keyed });
      await appendValues(catalog, { namespace: ['shop'], name: 'dups' }, [[1n, 'a'], [2n, 'b']]);
      await appendValues(catalog, { namespace: ['shop'], name: 'dups' }, [[1n, 'again']]);
      await catalog.createTable({ namespace: ['raw'], name: 'events' }, { schema: unkeyed });
      await appendValues(catalog, { namespace: ['raw'], name: 'events' }, [[7n, 'x'], [7n, 'y']]);
    } finally {
      await catalog.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 0: the named table has one live row per key', async () => {
    const r = await floe(['verify', '--config', config, '--table', 'shop.clean']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'shop.clean  ok: one live row per key');
    for (const want of ['  key                    id (identifier fields)', '  live rows              3', '  distinct keys          3', '  duplicate keys         0', '  data files             1', '  position delete files  0']) {
      assert.ok(lines.includes(want), `no line "${want}" in\n${r.stdout}`);
    }
    assert.match(r.stdout, /\n1 table\(s\): 1 ok, 0 with duplicate keys, 0 not checked \(no key\), 0 could not be read\n$/);
    assert.doesNotMatch(r.stderr, /kafka|rdkafka|9:/i);
  });

  it('exit 1: every table of the catalog, one with duplicate keys, one without a key', async () => {
    const r = await floe(['verify', '--config', config]);
    assert.equal(r.code, 1, r.stderr);
    const heads = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    assert.deepEqual(heads, [
      'raw.events  no key: not checked (no identifier fields; --key names columns)',
      'shop.clean  ok: one live row per key',
      'shop.dups  DUPLICATE KEYS: 1 key(s), 1 row(s) too many',
      '3 table(s): 1 ok, 1 with duplicate keys, 1 not checked (no key), 0 could not be read',
    ]);
    assert.match(r.stdout, /\n {2}rows too many {10}1\n/);
    assert.match(r.stdout, /\n {2}examples {15}id=1: kept \S+#0 \(sequence 2\), dropped \S+#0 \(sequence 1\)\n/);
  });

  it('--key checks a table without identifier fields; --table takes comma-separated lists', async () => {
    const r = await floe(['verify', '--config', config, '--table', 'raw.events,shop.clean', '--key', 'id']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^raw\.events {2}DUPLICATE KEYS: 1 key\(s\), 1 row\(s\) too many\n {2}key {20}id \(--key\)\n/);
    assert.match(r.stdout, /\nshop\.clean {2}ok/);
  });

  it('exit 2: a table that cannot be read is named with its error, the others are still checked; --json lines', async () => {
    const r = await floe(['verify', '--config', config, '--table', 'shop.missing', '--table', 'shop.dups', '--json']);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0], { table: 'shop.missing', status: 'error', keyColumns: [], keySource: null, snapshotId: null, examples: [], error: 'catalog_not_found: table shop.missing does not exist' });
    const dups = lines[1]!;
    assert.equal(dups.status, 'duplicates');
    assert.match(String(dups.snapshotId), /^\d+$/);
    assert.deepEqual([dups.rows, dups.distinctKeys, dups.duplicateKeys, dups.rowsTooMany], [3, 2, 1, 1]);
    assert.deepEqual(dups.files, { dataFiles: 2, positionDeleteFiles: 0, deletionVectors: 0, equalityDeleteFiles: 0 });
    assert.equal((dups.examples as string[]).length, 1);
  });

  it('exit 2 for bad usage: unknown option, no --config, a bad table name, a missing config file; --help exits 0', async () => {
    const cases: [string[], RegExp][] = [
      [['verify', '--config', config, '--bogus'], /Unknown option '--bogus'[\s\S]*Exit codes:/],
      [['verify'], /floe verify needs --config FILE/],
      [['verify', '--config', config, '--table', 'nodot'], /table identifier must be "namespace\.table", got "nodot"/],
      [['verify', '--config', config, '--key', 'id,'], /--key must name columns/],
      [['verify', '--config', join(dir, 'nope.yaml')], /nope\.yaml/],
    ];
    const runs = await Promise.all(cases.map(([args]) => floe(args)));
    for (const [i, [args, stderr]] of cases.entries()) {
      const r = runs[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, stderr);
      assert.equal(r.stdout, '');
    }
    const help = await floe(['verify', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /1 {2}some table has duplicate keys/);
  });
});
