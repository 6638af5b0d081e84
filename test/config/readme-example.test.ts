// Proves the configuration example in the README is valid: it parses and passes validateConfig with the environment it names (maintenance section included).
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/config.js';

describe('README configuration example', () => {
  it('validates, with the documented table options', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block !== undefined, 'README has a yaml block');
    const cfg = validateConfig(parseYaml(block), { FLOE_KAFKA_BROKERS: 'b:9092', POD_NAME: 'floe-0' });
    assert.equal(cfg.decode.timeAs, 'time');
    assert.deepEqual(cfg.tables.overrides['shop.orders']?.sortBy, ['created_at desc nulls last']);
    assert.deepEqual([cfg.maintenance.intervalMs, cfg.maintenance.expire.keepLast, cfg.maintenance.orphans.olderThanMs], [600_000, 100, 259_200_000]);
  });
});
