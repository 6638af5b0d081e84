/**
 * `floe maintain --config FILE [--table NS.TABLE ...] [--dry-run] [--json] [--budget-ms N]`: one maintenance run
 * (src/maintain/) over every table of the catalog, or the ones named, with the config's `maintenance` settings,
 * printing per table and step what was done as each table finishes. Works on any Iceberg table of the catalog
 * (written by floe, Spark or anything else); a table whose `maintenance` option is `managed` is skipped.
 * Exit codes: 0 every step ran (or was skipped), 1 a step failed, 2 the config, the catalog, a namespace's listing
 * or a table could not be read (wins over 1), or bad usage.
 */
import { parseArgs } from 'node:util';
import { parseIdentifier, type TableIdentifier } from '../catalog/catalog.js';
import { loadConfig } from '../config/config.js';
import { FloeError, describeError } from '../errors.js';
import { maintainTables, type ListingError, type StepReport, type TableMaintenanceReport } from '../maintain/maintain.js';
import { maintenanceSettings } from '../maintain/settings.js';
import { defaultSteps, type MaintainSteps } from '../maintain/steps.js';
import type { MaintainProgress } from '../maintain/types.js';
import { Metrics } from '../metrics/metrics.js';
import { catalogFromConfig } from './run.js';

export const MAINTAIN_USAGE = `Usage: floe maintain --config FILE [--table NS.TABLE ...] [--dry-run] [--json] [--budget-ms N]

Maintains every table of every namespace in the catalog (or those named with --table, repeatable or
comma-separated), once, with the config's maintenance settings: converts equality deletes to position deletes,
rewrites small data files and files with many deleted rows, merges position delete files, rewrites manifests,
expires old snapshots and removes orphan files, each step when enabled (maintenance.* in the config). Each
step commits on its own and never conflicts destructively with a concurrent writer (floe run, Spark): a group
that loses a race is dropped and left for the next run. Tables whose maintenance option is "managed" (the
default on S3 Tables, which maintains its tables itself) are skipped.

Prints per table and step what was done (files in -> out, bytes, snapshots expired, files deleted, groups
conflicted); progress on stderr when it is a terminal. --dry-run plans and prints, and writes nothing.
--json prints one JSON object per table per line. --budget-ms stops the run once that time is spent (steps
stop between groups, never inside a commit); without it the run has no time limit (maintenance.intervalMs
and maintenance.budgetMs concern floe run only).

Exit codes:
  0  every step ran (or was skipped: disabled, managed table, gc.enabled=false, budget spent)
  1  a step failed (the table's other steps still ran; a failed step commits nothing partial)
  2  the config, the catalog, a namespace's listing or a table could not be read (wins over 1), or bad usage
`;

type Out = (text: string) => void;

export interface MaintainCliDeps {
  /** The step functions (tests give fakes); default: the real ones. */
  readonly steps?: MaintainSteps;
  /** Whether stderr is a terminal (progress line); default: process.stderr.isTTY. */
  readonly tty?: boolean;
  readonly clock?: () => number;
}

export async function runMaintain(argv: string[], out: Out = (t) => process.stdout.write(t), err: Out = (t) => process.stderr.write(t), deps: MaintainCliDeps = {}): Promise<number> {
  let values: { config?: string; table?: string[]; 'dry-run'?: boolean; json?: boolean; 'budget-ms'?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        table: { type: 'string', short: 't', multiple: true },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'budget-ms': { type: 'string' },
      },
    }));
  } catch (e) {
    err(`floe maintain: ${describeError(e)}\n${MAINTAIN_USAGE}`);
    return 2;
  }
  try {
    if (values.config === undefined) throw new FloeError('config_invalid', 'floe maintain needs --config FILE', { field: '--config' });
    const tables = dedupe((values.table ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '').map(parseIdentifier));
    const budgetArg = values['budget-ms'];
    const budgetMs = budgetArg === undefined ? null : Number(budgetArg);
    if (budgetMs !== null && !(Number.isSafeInteger(budgetMs) && budgetMs > 0)) throw new FloeError('config_invalid', `--budget-ms must be a positive integer, got "${budgetArg}"`, { field: '--budget-ms' });
    const cfg = await loadConfig(values.config);
    const steps = deps.steps ?? (await defaultSteps());
    const catalog = catalogFromConfig(cfg);
    try {
      const settings = { ...maintenanceSettings(cfg), budgetMs };
      return await run({ catalog, settings, steps, tables: tables.length > 0 ? tables : null, dryRun: values['dry-run'] === true, json: values.json === true, tty: deps.tty ?? process.stderr.isTTY === true, clock: deps.clock ?? Date.now, out, err });
    } finally {
      await catalog.close();
    }
  } catch (e) {
    const code = e instanceof FloeError ? ` [${e.code}]` : '';
    err(`floe maintain: error${code}: ${describeError(e)}\n`);
    return 2;
  }
}

interface RunArgs {
  readonly catalog: Parameters<typeof maintainTables>[0];
  readonly settings: Parameters<typeof maintainTables>[1];
  readonly steps: MaintainSteps;
  readonly tables: TableIdentifier[] | null;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly tty: boolean;
  readonly clock: () => number;
  readonly out: Out;
  readonly err: Out;
}

async function run(a: RunArgs): Promise<number> {
  // The metrics of the run are recorded as floe run records them; nothing serves them here.
  const metrics = new Metrics({ processMetrics: false });
  let blocks = 0;
  let progressShown = false;
  const clearProgress = (): void => {
    if (progressShown) a.err('\r\x1b[K');
    progressShown = false;
  };
  const block = (lines: string[]): void => {
    clearProgress();
    a.out(`${blocks++ > 0 ? '\n' : ''}${lines.join('\n')}\n`);
  };
  const progress = a.tty
    ? (p: MaintainProgress): void => {
      a.err(`\r\x1b[K${p.table}  ${p.step}  ${p.done}/${p.total} ${p.unit}`);
      progressShown = true;
    }
    : undefined;
  const onReport = (r: TableMaintenanceReport): void => {
    metrics.recordMaintenance(r);
    if (a.json) {
      clearProgress();
      a.out(`${JSON.stringify(reportToJSON(r))}\n`);
    } else block(formatReport(r));
  };
  const onListingError = (e: ListingError): void => {
    const ns = e.namespace.join('.');
    if (a.json) {
      clearProgress();
      a.out(`${JSON.stringify({ namespace: ns === '' ? null : ns, outcome: 'unreadable', error: e.error })}\n`);
    } else block([`${ns === '' ? 'the catalog' : `namespace ${ns}`}  ERROR: could not be listed`, `  ${e.error}`]);
  };
  const result = await maintainTables(a.catalog, a.settings, a.steps, {
    tables: a.tables, dryRun: a.dryRun, clock: a.clock, onReport, onListingError, ...(progress !== undefined ? { progress } : {}),
  });
  clearProgress();
  if (!a.json) {
    const n = (o: TableMaintenanceReport['outcome']): number => result.reports.filter((r) => r.outcome === o).length;
    const parts = [`${n('ok')} maintained`, `${n('failed')} with a failed step`, `${n('unreadable')} could not be read`, `${n('skipped')} skipped`];
    if (result.listingErrors.length > 0) parts.push(`${result.listingErrors.length} namespace listing(s) failed`);
    block([`${result.reports.length} table(s)${a.dryRun ? ' (dry run: nothing written)' : ''}: ${parts.join(', ')}`]);
  }
  return exitCode(result.reports, result.listingErrors);
}

/** 2 when a table or a namespace's listing could not be read, else 1 when a step failed, else 0. */
export function exitCode(reports: readonly TableMaintenanceReport[], listingErrors: readonly ListingError[] = []): 0 | 1 | 2 {
  if (listingErrors.length > 0 || reports.some((r) => r.outcome === 'unreadable')) return 2;
  return reports.some((r) => r.outcome === 'failed') ? 1 : 0;
}

/** A report as one JSON line's object: snapshot ids as strings. */
export function reportToJSON(r: TableMaintenanceReport): Record<string, unknown> {
  return {
    table: r.table,
    outcome: r.outcome,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.error !== undefined ? { error: { ...r.error } } : {}),
    dryRun: r.dryRun,
    ms: r.ms,
    steps: r.steps.map((s) => ({
      step: s.step,
      outcome: s.outcome,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ms: s.ms,
      ...(s.result !== undefined ? { result: { ...s.result, snapshotIds: s.result.snapshotIds.map(String), ...(s.result.plan !== undefined ? { plan: [...s.result.plan] } : {}) } } : {}),
      ...(s.error !== undefined ? { error: { ...s.error } } : {}),
    })),
  };
}

const STEP_WIDTH = 'convert-equality-deletes'.length + 2;

/** `12.3 MiB` */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** What one step did, in one line's words. */
export function describeStep(s: StepReport): string {
  if (s.outcome === 'skipped') {
    return `skipped (${s.reason === 'gc-disabled' ? 'gc.enabled=false' : s.reason === 'budget' ? 'budget spent' : s.reason ?? ''})`;
  }
  if (s.outcome === 'failed') return `FAILED ${s.error?.code ?? ''}: ${s.error?.message ?? ''}`;
  const r = s.result;
  if (r === undefined) return 'ok';
  const parts: string[] = [];
  if (r.filesIn > 0 || r.filesOut > 0) parts.push(`files ${r.filesIn} -> ${r.filesOut}, ${formatBytes(r.bytesIn)} -> ${formatBytes(r.bytesOut)}`);
  if (r.snapshotsExpired !== undefined) parts.push(`${r.snapshotsExpired} snapshot(s) expired`);
  if (r.filesDeleted !== undefined) parts.push(`${r.filesDeleted} file(s) deleted`);
  if (r.groupsPlanned !== undefined) parts.push(`groups ${r.groupsCommitted ?? 0}/${r.groupsPlanned} committed${(r.groupsConflicted ?? 0) > 0 ? `, ${r.groupsConflicted} conflicted (left for the next run)` : ''}`);
  return `ok${parts.length > 0 ? `: ${parts.join(', ')}` : ': nothing to do'}`;
}

/** A report as a block: the table and its outcome, then one aligned line per step (and a dry run's plan). */
export function formatReport(r: TableMaintenanceReport): string[] {
  const head =
    r.outcome === 'ok' ? 'ok'
    : r.outcome === 'failed' ? 'FAILED: a step failed (the others ran)'
    : r.outcome === 'unreadable' ? `ERROR: could not be read: ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`
    : r.reason === 'managed' ? 'skipped: maintained by its own service (maintenance: managed)'
    : `skipped (${r.reason === 'budget' ? 'budget spent' : r.reason ?? ''})`;
  const out = [`${r.table}  ${head}${r.dryRun && r.outcome !== 'skipped' ? ' (dry run)' : ''}`];
  for (const s of r.steps) {
    out.push(`  ${s.step.padEnd(STEP_WIDTH)}${describeStep(s)}`);
    for (const p of s.result?.plan ?? []) out.push(`  ${''.padEnd(STEP_WIDTH)}  ${p}`);
  }
  return out;
}

function dedupe(ids: TableIdentifier[]): TableIdentifier[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = JSON.stringify([id.namespace, id.name]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
