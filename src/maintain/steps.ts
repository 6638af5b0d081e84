/**
 * The step functions one maintenance run calls, as one object so that tests (and `floe maintain`'s tests) can
 * give fakes that record calls, return results or throw.
 */
import { convertEqualityDeletes } from './convert-equality-deletes.js';
import { expireSnapshots } from './expire-snapshots.js';
import { removeOrphanFiles } from './remove-orphan-files.js';
import { rewriteDataFiles } from './rewrite-data-files.js';
import { rewriteManifests } from './rewrite-manifests.js';
import { rewritePositionDeletes } from './rewrite-position-deletes.js';
import type { ExpireOptions, MaintainStepFn, OrphanOptions, RewriteDataOptions, RewriteDeletesOptions, RewriteManifestsOptions } from './types.js';

export interface MaintainSteps {
  readonly convertEqualityDeletes: MaintainStepFn<RewriteDeletesOptions>;
  readonly rewriteDataFiles: MaintainStepFn<RewriteDataOptions>;
  readonly rewritePositionDeletes: MaintainStepFn<RewriteDeletesOptions>;
  readonly rewriteManifests: MaintainStepFn<RewriteManifestsOptions>;
  readonly expireSnapshots: MaintainStepFn<ExpireOptions>;
  readonly removeOrphanFiles: MaintainStepFn<OrphanOptions>;
}

/** The real steps. */
export async function defaultSteps(): Promise<MaintainSteps> {
  return { convertEqualityDeletes, rewriteDataFiles, rewritePositionDeletes, rewriteManifests, expireSnapshots, removeOrphanFiles };
}
