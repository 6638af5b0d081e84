// Proves exactly once under seeded chaos, in-process: the whole Pipeline (committer, workers, dead letters) over a fake Kafka, the embedded catalog and files in memory, with crashes at any hook (restarted as after a SIGKILL), transient S3/catalog faults, commits whose outcome is unknown before and after they were applied, conflict storms by another writer (compactions, appends), and rebalances at any await, ends with every table equal to the source (0 lost, 0 duplicated, 0 stale rows), the group offsets at the end and every bad record dead-lettered.
// FLOE_CHAOS_SEED=<n> replays one schedule with its trace; FLOE_CHAOS_SCHEDULES=<n> runs n schedules (default 1000) from FLOE_CHAOS_FIRST (default 1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compressTimers } from '../support/chaos/fast-time.js';
import { TRANSIENT_FAULTS, runSchedule, type ScheduleResult } from '../support/chaos/schedule.js';

const replay = process.env.FLOE_CHAOS_SEED !== undefined && process.env.FLOE_CHAOS_SEED !== '' ? Number(process.env.FLOE_CHAOS_SEED) : null;
const schedules = Number(process.env.FLOE_CHAOS_SCHEDULES ?? 1000);
const first = Number(process.env.FLOE_CHAOS_FIRST ?? 1);

function say(line: string): void {
  process.stdout.write(`# [chaos] ${line}\n`);
}

describe(`pipeline chaos (transient faults: ${TRANSIENT_FAULTS})`, () => {
  let restoreTimers = (): void => undefined;
  const unhandled: string[] = [];
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  };
  before(() => {
    restoreTimers = compressTimers();
    process.on('unhandledRejection', onUnhandled);
  });
  after(() => {
    restoreTimers();
    process.off('unhandledRejection', onUnhandled);
  });
  const takeUnhandled = (): string[] => unhandled.splice(0);

  const report = (r: ScheduleResult): void => {
    say(`FAILED seed ${r.seed} (replay: FLOE_CHAOS_SEED=${r.seed}): ${r.lives} lives, ${JSON.stringify(r.counts)}`);
    for (const p of r.problems) say(`  seed ${r.seed}: ${p}`);
  };

  if (replay !== null) {
    it(`replays schedule ${replay}`, async () => {
      const r = await runSchedule(replay, { verbose: true, unhandled: takeUnhandled });
      say(`seed ${replay}: ${r.records} records, ${r.lives} lives, ${r.ms} ms, ${JSON.stringify(r.counts)}`);
      for (const d of r.diffs) say(`  ${d.table}: ${d.actual} rows, expected ${d.expected}`);
      if (!r.ok) report(r);
      assert.deepEqual(r.problems, []);
    });
    return;
  }

  it(`${schedules} seeded schedules: no row lost, duplicated or stale, group offsets at the end, every bad record dead-lettered`, async () => {
    const t0 = Date.now();
    const failed: ScheduleResult[] = [];
    const totals = { records: 0, lives: 0, faults: 0, crashes: 0, rebalances: 0, storms: 0 };
    const byKind: Record<string, number> = {};
    for (let seed = first; seed < first + schedules; seed++) {
      const r = await runSchedule(seed, { unhandled: takeUnhandled });
      totals.records += r.records;
      totals.lives += r.lives;
      totals.faults += r.counts.faults;
      totals.crashes += r.counts.crashes;
      totals.rebalances += r.counts.rebalances;
      totals.storms += r.counts.storms;
      for (const [k, n] of Object.entries(r.counts.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
      if (!r.ok) {
        failed.push(r);
        report(r);
      }
    }
    const s = (Date.now() - t0) / 1000;
    say(`${schedules} schedules in ${s.toFixed(1)} s (${((s * 1000) / schedules).toFixed(0)} ms each): ${JSON.stringify(totals)} faults ${JSON.stringify(byKind)}`);
    if (failed.length > 0) {
      say(`${failed.length} failing seeds: ${failed.map((r) => r.seed).join(' ')}`);
      // The same problem with other numbers: one line each, with its count and first seeds.
      const kinds = new Map<string, number[]>();
      for (const r of failed) {
        for (const k of new Set(r.problems.map((p) => p.replace(/\(.*?\)/g, '').replace(/\d+/g, 'N')))) kinds.set(k, [...(kinds.get(k) ?? []), r.seed]);
      }
      for (const [k, seeds] of [...kinds].sort((a, b) => b[1].length - a[1].length)) say(`${seeds.length} x ${k} (seeds ${seeds.slice(0, 8).join(' ')})`);
    }
    assert.deepEqual(failed.map((r) => ({ seed: r.seed, problems: r.problems })), []);
  });
});
