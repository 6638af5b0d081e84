/**
 * One maintenance run of a table, and of many: the steps in MAINTAIN_STEPS order, each when enabled, each
 * committing atomically on its own. A step that fails (a conflict with a streaming commit that kept winning, S3
 * or the catalog unreachable, a file it cannot read) is reported and the next steps still run: a failed step
 * committed nothing, or committed whole groups, so the table is as consistent as before it, and the later steps
 * (expiry, orphan removal) do not depend on it. Files a failed step uploaded and never committed are orphans,
 * removed by a later run once older than `orphans.olderThanMs`.
 */
import { identifierToString, type Catalog, type TableIdentifier } from '../catalog/catalog.js';
import { FloeError, describeError, type RetryClass } from '../errors.js';
import { catalogTables } from '../verify/verify.js';
import { tableStepOptions, type MaintenanceSettings, type TableStepOptions } from './settings.js';
import type { MaintainSteps } from './steps.js';
import { MAINTAIN_STEPS, type MaintainContext, type MaintainProgress, type MaintainStep, type StepResult } from './types.js';

/**
 * Why a step did not run: `disabled` in the config; `gc-disabled`: the table's gc.enabled is false (expiry and
 * orphan removal only); `budget`: the run's time budget was spent; `aborted`: the caller stopped the run
 * (shutdown).
 */
export type SkipReason = 'disabled' | 'gc-disabled' | 'budget' | 'aborted';

export interface ErrorReport {
  readonly code: string;
  /** The error's retry class (null for an error that is not a FloeError). */
  readonly retry: RetryClass | null;
  readonly message: string;
}

export interface StepReport {
  readonly step: MaintainStep;
  readonly outcome: 'ok' | 'failed' | 'skipped';
  readonly reason?: SkipReason;
  readonly result?: StepResult;
  readonly error?: ErrorReport;
  readonly ms: number;
}

export interface TableMaintenanceReport {
  /** `namespace.table`. */
  readonly table: string;
  /**
   * `ok`: every step ran or was skipped; `failed`: some step failed (the others ran); `unreadable`: the table
   * could not be loaded (no step ran); `skipped`: not maintained (`reason`: managed by its own service, or no
   * budget left for it).
   */
  readonly outcome: 'ok' | 'failed' | 'unreadable' | 'skipped';
  readonly reason?: 'managed' | 'budget' | 'aborted';
  readonly error?: ErrorReport;
  readonly steps: readonly StepReport[];
  readonly dryRun: boolean;
  readonly startedMs: number;
  readonly ms: number;
}

export function errorReport(e: unknown): ErrorReport {
  if (e instanceof FloeError) return { code: e.code, retry: e.retry, message: e.message };
  return { code: e instanceof Error ? e.name : 'error', retry: null, message: describeError(e) };
}

interface StepCall {
  readonly enabled: boolean;
  readonly needsGc: boolean;
  readonly run: (ctx: MaintainContext) => Promise<StepResult>;
}

function stepCalls(settings: MaintenanceSettings, steps: MaintainSteps, o: TableStepOptions): Record<MaintainStep, StepCall> {
  const on = settings.steps;
  return {
    'convert-equality-deletes': { enabled: on['convert-equality-deletes'], needsGc: false, run: (ctx) => steps.convertEqualityDeletes(ctx, o.rewriteDeletes) },
    'rewrite-data-files': { enabled: on['rewrite-data-files'], needsGc: false, run: (ctx) => steps.rewriteDataFiles(ctx, o.rewriteData) },
    'rewrite-position-deletes': { enabled: on['rewrite-position-deletes'], needsGc: false, run: (ctx) => steps.rewritePositionDeletes(ctx, o.rewriteDeletes) },
    'rewrite-manifests': { enabled: on['rewrite-manifests'], needsGc: false, run: (ctx) => steps.rewriteManifests(ctx, o.manifests) },
    'expire-snapshots': { enabled: on['expire-snapshots'], needsGc: true, run: (ctx) => steps.expireSnapshots(ctx, o.expire) },
    'remove-orphan-files': { enabled: on['remove-orphan-files'], needsGc: true, run: (ctx) => steps.removeOrphanFiles(ctx, o.orphans) },
  };
}

/** The run's signal: aborted by the caller's signal, or when `budgetMs` is spent (then `budgetSpent()` is true). */
function budgetSignal(outer: AbortSignal | undefined, budgetMs: number | null): { signal: AbortSignal; budgetSpent: () => boolean; dispose: () => void } {
  const ac = new AbortController();
  let spent = false;
  const onOuter = (): void => ac.abort(outer?.reason);
  if (outer?.aborted === true) ac.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  const timer = budgetMs === null ? null : setTimeout(() => {
    spent = true;
    ac.abort(new DOMException(`maintenance budget of ${budgetMs} ms spent`, 'TimeoutError'));
  }, Math.max(0, budgetMs));
  return {
    signal: ac.signal,
    budgetSpent: () => spent,
    dispose: () => {
      if (timer !== null) clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

/**
 * Maintains one table: loads it (for its properties: `write.target-file-size-bytes` overrides the configured
 * target, and see settings.ts), then runs each enabled step in order. `settings.budgetMs` becomes the signal the
 * steps get (with `ctx.signal`'s): a step stops between groups when it fires, and the steps not started yet are
 * skipped. Never throws for the table's own failures: they are in the report. The caller checks `managed`.
 */
export async function maintainTable(ctx: MaintainContext, settings: MaintenanceSettings, steps: MaintainSteps, clock: () => number = Date.now): Promise<TableMaintenanceReport> {
  const table = identifierToString(ctx.id);
  const startedMs = clock();
  const done = (r: Omit<TableMaintenanceReport, 'table' | 'dryRun' | 'startedMs' | 'ms'>): TableMaintenanceReport => ({ table, ...r, dryRun: ctx.dryRun, startedMs, ms: clock() - startedMs });
  let options: TableStepOptions;
  try {
    const loaded = await ctx.catalog.loadTable(ctx.id);
    options = tableStepOptions(settings, loaded.metadata.properties);
  } catch (e) {
    return done({ outcome: 'unreadable', error: errorReport(e), steps: [] });
  }
  const budget = budgetSignal(ctx.signal, settings.budgetMs);
  const stepCtx: MaintainContext = { ...ctx, signal: budget.signal };
  const reports: StepReport[] = [];
  try {
    const calls = stepCalls(settings, steps, options);
    for (const step of MAINTAIN_STEPS) {
      const call = calls[step];
      if (!call.enabled) {
        reports.push({ step, outcome: 'skipped', reason: 'disabled', ms: 0 });
        continue;
      }
      if (call.needsGc && !options.gcEnabled) {
        reports.push({ step, outcome: 'skipped', reason: 'gc-disabled', ms: 0 });
        continue;
      }
      if (budget.signal.aborted) {
        reports.push({ step, outcome: 'skipped', reason: budget.budgetSpent() ? 'budget' : 'aborted', ms: 0 });
        continue;
      }
      const t0 = clock();
      try {
        const result = await call.run(stepCtx);
        reports.push({ step, outcome: 'ok', result, ms: clock() - t0 });
      } catch (e) {
        // A step that gave up by throwing the abort itself did what it could before the budget ran out: stopped, not failed.
        if (budget.signal.aborted && (e === budget.signal.reason || (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')))) {
          reports.push({ step, outcome: 'skipped', reason: budget.budgetSpent() ? 'budget' : 'aborted', ms: clock() - t0 });
        } else {
          reports.push({ step, outcome: 'failed', error: errorReport(e), ms: clock() - t0 });
        }
      }
    }
  } finally {
    budget.dispose();
  }
  return done({ outcome: reports.some((r) => r.outcome === 'failed') ? 'failed' : 'ok', steps: reports });
}

export interface MaintainTablesOptions {
  /** The tables to maintain; null: every table of every namespace in the catalog. */
  readonly tables: readonly TableIdentifier[] | null;
  readonly dryRun: boolean;
  readonly clock?: () => number;
  readonly progress?: (p: MaintainProgress) => void;
  /** Each table's report as soon as it is done. */
  readonly onReport?: (r: TableMaintenanceReport) => void;
  /** A namespace whose listing failed (its tables are not maintained). */
  readonly onListingError?: (e: ListingError) => void;
  /** Stops the run between steps (and the steps between groups). */
  readonly signal?: AbortSignal;
}

export interface ListingError {
  readonly namespace: readonly string[];
  readonly error: string;
}

export interface MaintainTablesResult {
  readonly reports: readonly TableMaintenanceReport[];
  readonly listingErrors: readonly ListingError[];
}

/**
 * Maintains many tables, one at a time: those named, or every table of the catalog (listed namespace by
 * namespace as `floe verify` does). Tables whose `maintenance` is `managed` are reported as skipped without being
 * read. `settings.budgetMs` (null: none) is the whole run's: each table gets what is left, and the tables after
 * it is spent are reported as skipped (`budget`).
 */
export async function maintainTables(catalog: Catalog, settings: MaintenanceSettings, steps: MaintainSteps, opts: MaintainTablesOptions): Promise<MaintainTablesResult> {
  const clock = opts.clock ?? Date.now;
  const deadline = settings.budgetMs === null ? null : clock() + settings.budgetMs;
  const reports: TableMaintenanceReport[] = [];
  const listingErrors: ListingError[] = [];
  const one = async (id: TableIdentifier): Promise<void> => {
    const table = identifierToString(id);
    const left = deadline === null ? null : deadline - clock();
    let r: TableMaintenanceReport;
    const skipped = (reason: 'managed' | 'budget' | 'aborted'): TableMaintenanceReport => ({ table, outcome: 'skipped', reason, steps: [], dryRun: opts.dryRun, startedMs: clock(), ms: 0 });
    if (settings.mode(table) === 'managed') r = skipped('managed');
    else if (opts.signal?.aborted === true) r = skipped('aborted');
    else if (left !== null && left <= 0) r = skipped('budget');
    else {
      const ctx: MaintainContext = {
        catalog, id, dryRun: opts.dryRun, nowMs: clock(),
        ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      };
      r = await maintainTable(ctx, { ...settings, budgetMs: left }, steps, clock);
    }
    reports.push(r);
    opts.onReport?.(r);
  };
  if (opts.tables !== null) {
    for (const id of opts.tables) await one(id);
  } else {
    for await (const entry of catalogTables(catalog)) {
      if ('table' in entry) await one(entry.table);
      else {
        listingErrors.push(entry);
        opts.onListingError?.(entry);
      }
    }
  }
  return { reports, listingErrors };
}

