/**
 * Where a benchmark's floe writes: `local` (the embedded SQL catalog and local files in `dir`) or `rest` (the
 * harness's REST catalog with SigV4 and S3 on SeaweedFS, from the environment `seaweed.sh env` prints).
 */
import { harnessCatalogSections } from '../test/support/harness.js';

export function benchTarget(target: string, dir: string): { catalog: Record<string, unknown>; s3?: Record<string, unknown> } {
  if (target === 'rest') return harnessCatalogSections();
  if (target !== 'local') throw new Error(`target must be local or rest, not ${target}`);
  return { catalog: { type: 'sql', path: `${dir}/catalog.db`, warehouse: `${dir}/data` } };
}
