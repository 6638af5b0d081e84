// Proves maintenance never changes what a table holds while a streaming writer keeps committing: seeded random schedules interleave appends, updates and deletes by position (v2 files, v3 vectors) or by equality with the three rewrite steps, some of them raced by a streaming commit at validation or inside their commit; after every step the table reads exactly the model. Each run prints its seed; FLOE_PROPERTY_SEED=<seed> replays it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Rng } from '../../src/demo/debezium-generator.js';
import { convertEqualityDeletes } from '../../src/maintain/convert-equality-deletes.js';
import { rewriteDataFiles } from '../../src/maintain/rewrite-data-files.js';
import { rewritePositionDeletes } from '../../src/maintain/rewrite-position-deletes.js';
import type { MaintainContext, StepResult } from '../../src/maintain/types.js';
import { InterceptingCatalog, ModelTable, smallFileOptions, tempCatalog } from '../support/maintain-tables.js';

const STEPS_PER_RUN = 36;
const replay = process.env.FLOE_PROPERTY_SEED;

describe('maintenance interleaved with streaming commits (seeded)', () => {
  let catalog: SqlCatalog;
  let close: () => Promise<void>;
  before(async () => {
    ({ catalog, close } = await tempCatalog('floe-interleaved-'));
  });
  after(async () => close());

  const configs = [
    { formatVersion: 2, partitioned: false },
    { formatVersion: 2, partitioned: true },
    { formatVersion: 3, partitioned: false },
    { formatVersion: 3, partitioned: true },
  ] as const;

  configs.forEach((cfg, ci) => {
    it(`v${cfg.formatVersion} ${cfg.partitioned ? 'partitioned' : 'unpartitioned'}`, async (t) => {
      const seed = replay !== undefined ? Number(replay) : (Date.now() ^ (ci * 0x9e3779b1)) >>> 0;
      t.diagnostic(`seed ${seed} (replay: FLOE_PROPERTY_SEED=${seed})`);
      const rng = new Rng(seed);
      const m = await ModelTable.create(catalog, `t${ci}_${seed}`, { formatVersion: cfg.formatVersion, partitioned: cfg.partitioned });
      let nextKey = 0;
      const live = (): number[] => [...m.rows.keys()].map(Number);
      const someLive = (n: number): number[] => {
        const keys = live();
        return keys.length === 0 ? [] : Array.from({ length: n }, () => rng.pick(keys));
      };
      /** One streaming commit: new keys, updates by position or equality, deletes. */
      const stream = async (): Promise<string> => {
        const r = rng.next();
        if (r < 0.35 || m.rows.size < 5) {
          const n = rng.between(1, 8);
          await m.insert(Array.from({ length: n }, () => nextKey++));
          return `insert ${n}`;
        }
        if (r < 0.65) {
          await m.upsert([...someLive(rng.between(1, 4)), ...(rng.chance(0.3) ? [nextKey++] : [])]);
          return 'upsert by position';
        }
        if (r < 0.85) {
          await m.upsert([...someLive(rng.between(1, 3)), ...(rng.chance(0.3) ? [nextKey++] : [])], 'equality');
          return 'upsert by equality';
        }
        await m.delete(someLive(rng.between(1, 3)));
        return 'delete';
      };
      const ctx = (c: MaintainContext['catalog']): MaintainContext => ({ catalog: c, id: m.id, dryRun: false, nowMs: Date.now() });
      const maintain = async (c: MaintainContext['catalog']): Promise<[string, StepResult]> => {
        const r = rng.int(3);
        if (r === 0) {
          const opts = smallFileOptions({ groupBytesMax: rng.chance(0.5) ? 64 << 20 : rng.between(2_000, 8_000), minInputFiles: rng.between(1, 4), deleteRatioMin: rng.pick([0.05, 0.3, 1]) });
          return ['rewrite-data-files', await rewriteDataFiles(ctx(c), opts)];
        }
        if (r === 1) return ['rewrite-position-deletes', await rewritePositionDeletes(ctx(c), { minInputFiles: rng.between(1, 4) })];
        return ['convert-equality-deletes', await convertEqualityDeletes(ctx(c), { minInputFiles: 1 })];
      };

      let committed = 0;
      let conflicted = 0;
      for (let step = 0; step < STEPS_PER_RUN; step++) {
        let what: string;
        const r = rng.next();
        if (r < 0.55) {
          what = await stream();
        } else if (r < 0.8) {
          const [name, res] = await maintain(catalog);
          committed += res.groupsCommitted ?? 0;
          assert.equal(res.groupsConflicted, 0, `${name} alone never conflicts`);
          what = name;
        } else {
          // A streaming commit lands in the middle of the step: before its validation, or inside its commit.
          const ic = new InterceptingCatalog(catalog);
          let raced = '';
          const when = rng.chance(0.5) ? 'load' : 'commit';
          ic.once(when, when === 'load' ? 2 : 1, async () => {
            raced = await stream();
          });
          const [name, res] = await maintain(ic);
          committed += res.groupsCommitted ?? 0;
          conflicted += res.groupsConflicted ?? 0;
          what = `${name} raced by ${raced === '' ? 'nothing' : raced} at ${when}`;
        }
        await m.check(`seed ${seed}, step ${step}: ${what}`);
      }
      t.diagnostic(`groups committed ${committed}, dropped on conflict ${conflicted}, ${m.rows.size} live rows`);
    });
  });
});
