// Proves `floe demo` streams a Debezium change stream through the embedded Kafka into Iceberg tables equal to the source tables, and leaves tables DuckDB reads (when the harness venv exists).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo } from '../../src/cli/demo.js';
import { readWithEngine } from '../support/harness.js';

describe('floe demo', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('streams into tables that equal the source and that DuckDB reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'floe-demo-'));
    dirs.push(dir);
    const lines: string[] = [];
    const { ok } = await runDemo({ warehouseDir: dir, steps: 3000, seed: 11, out: (l) => lines.push(l) });
    assert.equal(ok, true, lines.join('\n'));
    for (const t of ['customers', 'orders', 'order_items']) {
      assert.ok(lines.some((l) => l.includes(`shop.${t}:`) && l.includes('equals the source table')), `no check line for ${t}:\n${lines.join('\n')}`);
    }
    const venvPython = join(process.env.FLOE_VENV ?? join(homedir(), '.cache/floe/venv'), 'bin/python');
    if (!existsSync(venvPython)) return;
    const out = await readWithEngine('duckdb', ['shop.orders'], { catalog: 'sql', sqlUri: `sqlite:///${dir}/catalog.db`, warehouse: `file://${dir}/data` });
    assert.equal(out.failure, undefined, out.failure);
    const rows = out.tables.get('shop.orders');
    assert.ok(Array.isArray(rows));
    const count = Number(/shop\.orders: (\d+) rows/.exec(lines.join('\n'))?.[1]);
    assert.equal(rows.length, count);
  });
});
