/**
 * The background maintenance of `floe run`: the pipeline calls `runDue` between commit cycles with the tables
 * this replica is responsible for (`maintainedHere`) and a time budget; the scheduler maintains, one at a time,
 * those whose last run here is older than `intervalMs`, oldest first (never run here first), until the budget is
 * spent. A table cut short by the budget counts as run: it waits its interval like the others, so one large table
 * cannot hold the budget of every call, and the next run takes up where this one stopped (each step plans from
 * the table as it is).
 *
 * Which replica maintains a table: the one that owns partition 0 of the table's source topic (the first, by name,
 * when several topics feed it). Each partition has one owner in a consumer group, so one replica maintains each
 * table; during a rebalance two may for a moment, or none, which is safe: maintenance commits are atomic and a
 * conflicting one is dropped and retried by the next run.
 */
import { parseIdentifier, type Catalog } from '../catalog/catalog.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { maintainTable, type TableMaintenanceReport } from './maintain.js';
import type { MaintenanceSettings } from './settings.js';
import type { MaintainSteps } from './steps.js';

export interface AssignedPartition {
  readonly topic: string;
  readonly partition: number;
}

/**
 * Whether this replica maintains a table fed by `sourceTopics`, given the partitions assigned to it: it does when
 * it owns partition 0 of the first source topic by name (a stable choice every replica makes the same way).
 */
export function maintainedHere(sourceTopics: Iterable<string>, assigned: Iterable<AssignedPartition>): boolean {
  let first: string | undefined;
  for (const t of sourceTopics) if (first === undefined || t < first) first = t;
  if (first === undefined) return false;
  for (const p of assigned) if (p.topic === first && p.partition === 0) return true;
  return false;
}

export interface SchedulerOptions {
  readonly catalog: Catalog;
  readonly settings: MaintenanceSettings;
  readonly steps: MaintainSteps;
  readonly metrics: Metrics;
  /** ms since the epoch; expiry and orphan ages, intervals, budgets and durations are measured with it. */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export class MaintenanceScheduler {
  /** When each table's last run here ended (ms), by `namespace.table`: one entry per table this replica has maintained. */
  private readonly lastRunMs = new Map<string, number>();
  private readonly clock: () => number;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** The tables of `tables` due now, oldest last run first (never run first, by name); managed tables never, none when disabled. */
  due(tables: readonly string[]): string[] {
    const now = this.clock();
    const s = this.opts.settings;
    if (!s.enabled) return [];
    const last = (t: string): number => this.lastRunMs.get(t) ?? -Infinity;
    return [...new Set(tables)]
      .filter((t) => s.mode(t) !== 'managed' && now - last(t) >= s.intervalMs)
      .sort((a, b) => last(a) - last(b) || (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Maintains the due tables of `tables`, one at a time, within `budgetMs` (each table gets what is left; no
   * table starts once it is spent). `signal` stops the run between steps (shutdown). Returns what was done; the
   * caller refreshes these tables in the committer so its key index catches up with the rewritten files.
   */
  async runDue(tables: readonly string[], budgetMs: number, signal?: AbortSignal): Promise<TableMaintenanceReport[]> {
    const { catalog, settings, steps, metrics, log } = this.opts;
    if (!settings.enabled) return [];
    const deadline = this.clock() + budgetMs;
    const out: TableMaintenanceReport[] = [];
    for (const table of this.due(tables)) {
      const left = deadline - this.clock();
      if (left <= 0 || signal?.aborted === true) break;
      let report: TableMaintenanceReport;
      try {
        report = await maintainTable(
          { catalog, id: parseIdentifier(table), dryRun: false, nowMs: this.clock(), ...(signal !== undefined ? { signal } : {}) },
          { ...settings, budgetMs: left },
          steps,
          this.clock,
        );
      } finally {
        this.lastRunMs.set(table, this.clock());
      }
      metrics.recordMaintenance(report);
      logReport(log, report);
      out.push(report);
    }
    return out;
  }
}

function logReport(log: Logger | undefined, r: TableMaintenanceReport): void {
  if (log === undefined) return;
  const steps = r.steps.filter((s) => s.outcome !== 'skipped' || (s.reason !== 'disabled' && s.reason !== 'gc-disabled')).map((s) => ({
    step: s.step,
    outcome: s.outcome === 'skipped' ? s.reason : s.outcome,
    ms: s.ms,
    ...(s.result !== undefined ? { filesIn: s.result.filesIn, filesOut: s.result.filesOut, bytesIn: s.result.bytesIn, bytesOut: s.result.bytesOut, snapshotsExpired: s.result.snapshotsExpired, filesDeleted: s.result.filesDeleted, groupsConflicted: s.result.groupsConflicted } : {}),
    ...(s.error !== undefined ? { error: `${s.error.code}: ${s.error.message}` } : {}),
  }));
  const fields = { table: r.table, outcome: r.outcome, ms: r.ms, steps, ...(r.error !== undefined ? { error: `${r.error.code}: ${r.error.message}` } : {}) };
  if (r.outcome === 'ok') log.info('maintained', fields);
  else log.warn('maintenance failed', fields);
}
