// Fake maintenance steps for the maintenance tests: each records its call (table, options, signal, dry run) and returns a result, or does what the test gives it instead (throw, wait for the budget, advance a clock); and settings with every step on.
import type { MaintainSteps } from '../../src/maintain/steps.js';
import type { MaintenanceSettings } from '../../src/maintain/settings.js';
import type { MaintainContext, MaintainStep, StepResult } from '../../src/maintain/types.js';

export interface StepCall {
  readonly step: MaintainStep;
  readonly table: string;
  readonly opts: unknown;
  readonly signal: AbortSignal | undefined;
  readonly dryRun: boolean;
  readonly nowMs: number;
}

export type StepBehaviour = (ctx: MaintainContext, opts: unknown) => Promise<StepResult>;

export function result(step: MaintainStep, over: Partial<StepResult> = {}): StepResult {
  return { step, snapshotIds: [], filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0, ...over };
}

/** Steps that record their calls into `calls`; `behaviour[step]` replaces a step's default (an empty result). */
export function fakeSteps(behaviour: Partial<Record<MaintainStep, StepBehaviour>> = {}): { steps: MaintainSteps; calls: StepCall[] } {
  const calls: StepCall[] = [];
  const make = (step: MaintainStep) => async (ctx: MaintainContext, opts: unknown): Promise<StepResult> => {
    calls.push({ step, table: [...ctx.id.namespace, ctx.id.name].join('.'), opts, signal: ctx.signal, dryRun: ctx.dryRun, nowMs: ctx.nowMs });
    const b = behaviour[step];
    return b !== undefined ? b(ctx, opts) : result(step);
  };
  return {
    calls,
    steps: {
      convertEqualityDeletes: make('convert-equality-deletes'),
      rewriteDataFiles: make('rewrite-data-files'),
      rewritePositionDeletes: make('rewrite-position-deletes'),
      rewriteManifests: make('rewrite-manifests'),
      expireSnapshots: make('expire-snapshots'),
      removeOrphanFiles: make('remove-orphan-files'),
    },
  };
}

/** Every step on, small numbers, no budget, every table maintained by floe unless named in `managed`. */
export function testSettings(over: Partial<MaintenanceSettings> = {}, managed: readonly string[] = []): MaintenanceSettings {
  return {
    enabled: true,
    intervalMs: 60_000,
    budgetMs: null,
    steps: { 'convert-equality-deletes': true, 'rewrite-data-files': true, 'rewrite-position-deletes': true, 'rewrite-manifests': true, 'expire-snapshots': true, 'remove-orphan-files': true },
    rewriteData: { targetFileSizeBytes: 1000, minFileSizeRatio: 0.75, deleteRatioMin: 0.2, minInputFiles: 5, groupBytesMax: 4000, runBytesMax: 16_000, commitAttemptsMax: 4 },
    rewriteDeletes: { minInputFiles: 2 },
    manifests: { targetManifestBytes: 8000, minManifests: 20 },
    expire: { olderThanMs: 5 * 86_400_000, keepLast: 100 },
    orphans: { olderThanMs: 3 * 86_400_000 },
    mode: (t) => (managed.includes(t) ? 'managed' : 'floe'),
    ...over,
  };
}
