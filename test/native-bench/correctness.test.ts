// Proves the comparison's correctness check: each system's representation of a source column (decimal text or its bytes, timestamp text, timestamptz, long micros) compares equal to the source value, and missing, extra, duplicate and differing rows are each counted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareTable, isoMicros, kindOf, normalize, twosComplementHex } from '../../native-bench/correctness.js';
import { benchTables } from '../../src/demo/debezium-generator.js';
import type { WorkloadTable } from '../../native-bench/workload.js';

const def = benchTables(1)[0];
if (def === undefined) throw new Error('no bench table');
const table: WorkloadTable = { topic: 't', db: def.db, table: def.table, key: def.key, columns: def.columns.map((c) => ({ name: c.name, connect: c.schema })), expectedRows: 2, expectedFile: '' };

// The source rows as workload.ts writes them: bigints as strings, the decimal unscaled, timestamps in micros.
const src = [
  { id: '1', account_id: '7', name: 'a "quoted" name', email: 'e@x', city: 'c', note: null, status: 'paid', qty: 3, amount: '-12345', score: 340.217, active: true, created_at: '1498091253000000', updated_at: '1767225660576709' },
  { id: '2', account_id: '8', name: 'n', email: 'f@x', city: 'd', note: 'x', status: 'new', qty: 0, amount: '500', score: 5, active: false, created_at: '-1000001', updated_at: '1767225600000000' },
];
const lines = (rows: readonly Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r));

// floe through a reader: decimal text, timestamp and timestamptz text, longs as numbers
const floeRows = [
  { ...src[0], id: 1, account_id: 7, amount: '-123.45', created_at: '2017-06-22T00:27:33.000000', updated_at: '2026-01-01T00:01:00.576709Z' },
  { ...src[1], id: 2, account_id: 8, amount: '5.00', score: 5.0, created_at: '1969-12-31T23:59:58.999999', updated_at: '2026-01-01T00:00:00.000000Z' },
];

describe('comparison correctness check', () => {
  it('converts every representation of a source value to the same text', () => {
    assert.equal(twosComplementHex('cfc7'), -12345n);
    assert.equal(twosComplementHex('05'), 5n);
    assert.equal(twosComplementHex('00ff'), 255n);
    assert.equal(isoMicros('2026-01-01T00:01:00.576709Z'), 1767225660576709n);
    assert.equal(isoMicros('2026-01-01T02:01:00.576709+02:00'), 1767225660576709n);
    assert.equal(isoMicros('not a time'), null);
    const dec = kindOf({ type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } });
    assert.equal(normalize(dec, '-123.45', undefined), '-12345');
    assert.equal(normalize(dec, 'cfc7', 'binary'), '-12345');
    assert.equal(normalize(dec, '-12345', undefined), '-12345');
    assert.deepEqual(kindOf({ type: 'double' }), { kind: 'float' });
    const micros = kindOf({ type: 'int64', name: 'io.debezium.time.MicroTimestamp' });
    assert.equal(normalize(micros, 1498091253000000, 'long'), '1498091253000000');
    assert.equal(normalize(micros, '2017-06-22T00:27:33', undefined), '1498091253000000');
  });

  it('passes a table equal to the source in another representation', () => {
    assert.deepEqual(compareTable(table, lines(src), lines(floeRows), {}), { missing: 0, extra: 0, wrong: 0, example: '' });
    // Flink stores the decimal as its bytes
    const flinkRows = floeRows.map((r, i) => ({ ...r, amount: i === 0 ? 'cfc7' : '01f4' }));
    assert.equal(compareTable(table, lines(src), lines(flinkRows), { amount: 'binary' }).wrong, 0);
    // ...and read as decimal text those bytes would be wrong
    assert.equal(compareTable(table, lines(src), lines(flinkRows), {}).wrong, 2);
  });

  it('counts missing, extra, duplicate and differing rows', () => {
    const [first, second] = floeRows as unknown as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(compareTable(table, lines(src), lines([first]), {}).missing, 1);
    const dup = compareTable(table, lines(src), lines([first, second, first]), {});
    assert.equal(dup.extra, 1);
    assert.equal(compareTable(table, lines(src), lines([first, second, { ...first, id: 3 }]), {}).extra, 1);
    const wrong = compareTable(table, lines(src), lines([first, { ...second, note: null }]), {});
    assert.equal(wrong.wrong, 1);
    assert.match(wrong.example, /^note of key 2: got null, want x$/);
    // one microsecond off is a difference
    assert.equal(compareTable(table, lines(src), lines([first, { ...second, updated_at: '2026-01-01T00:00:00.000001Z' }]), {}).wrong, 1);
  });
});
