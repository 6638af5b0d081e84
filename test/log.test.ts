// Proves log lines are one JSON object each with level, ISO time and message, that credentials are masked at any depth and bigints (snapshot ids) stay exact, and that levels filter.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/log.js';

describe('logger (pino)', () => {
  it('writes JSON lines without secrets; bigints exact', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('committed', { snapshot: 9_007_199_254_740_993n, catalog: { auth: { secretAccessKey: 'AKIA-SECRET', accessKeyId: 'AKIA' } }, kafka: { 'sasl.password': 'pw', 'sasl.username': 'floe' }, token: 'jwt' });
    log.warn('plain');
    assert.equal(lines.length, 2);
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(o.level, 'info');
    assert.equal(o.msg, 'committed');
    assert.match(String(o.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(o.snapshot, '9007199254740993');
    assert.deepEqual(o.catalog, { auth: { secretAccessKey: '***', accessKeyId: 'AKIA' } });
    assert.deepEqual(o.kafka, { 'sasl.password': '***', 'sasl.username': 'floe' });
    assert.equal(o.token, '***');
    assert.ok(!lines.join('').includes('AKIA-SECRET') && !lines.join('').includes('"pw"'));
    assert.equal((JSON.parse(lines[1]!) as Record<string, unknown>).level, 'warn');
  });
});
