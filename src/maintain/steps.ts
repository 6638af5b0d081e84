/**
 * The step functions one maintenance run calls, as one object so that tests (and `floe maintain`'s tests) can
 * give fakes that record calls, return results or throw.
 */
import { FloeError } from '../errors.js';
import type { ExpireOptions, MaintainStepFn, OrphanOptions, RewriteDataOptions, RewriteDeletesOptions, RewriteManifestsOptions } from './types.js';

export interface MaintainSteps {
  readonly convertEqualityDeletes: MaintainStepFn<RewriteDeletesOptions>;
  readonly rewriteDataFiles: MaintainStepFn<RewriteDataOptions>;
  readonly rewritePositionDeletes: MaintainStepFn<RewriteDeletesOptions>;
  readonly rewriteManifests: MaintainStepFn<RewriteManifestsOptions>;
  readonly expireSnapshots: MaintainStepFn<ExpireOptions>;
  readonly removeOrphanFiles: MaintainStepFn<OrphanOptions>;
}

/** Each step's module (next to this one) and the function it exports under the step's name. */
const MODULES: Readonly<Record<keyof MaintainSteps, string>> = {
  convertEqualityDeletes: './convert-equality-deletes.js',
  rewriteDataFiles: './rewrite-data-files.js',
  rewritePositionDeletes: './rewrite-position-deletes.js',
  rewriteManifests: './rewrite-manifests.js',
  expireSnapshots: './expire-snapshots.js',
  removeOrphanFiles: './remove-orphan-files.js',
};

/**
 * The real steps. Loaded by dynamic import while the step modules are written on other branches (a static import
 * of a missing file would not compile); to become static imports once they are merged.
 */
export async function defaultSteps(): Promise<MaintainSteps> {
  const out: Partial<Record<keyof MaintainSteps, unknown>> = {};
  for (const [name, path] of Object.entries(MODULES) as [keyof MaintainSteps, string][]) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(path)) as Record<string, unknown>;
    } catch (e) {
      throw new FloeError('assertion_failed', `maintenance step module ${path} cannot be loaded: ${(e as Error).message}`, { step: name }, e);
    }
    const fn = mod[name];
    if (typeof fn !== 'function') throw new FloeError('assertion_failed', `maintenance step module ${path} does not export ${name}`, { step: name });
    out[name] = fn;
  }
  return out as MaintainSteps;
}
