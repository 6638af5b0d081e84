// Proves the index's locations name (file, position) exactly for every u32 position across pages and files, per-file row counts follow, and a released file's id and pages are reused without confusing its rows with the new file's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { FileLocations, RELEASED, type IndexedFile } from '../../src/worker/pk-locations.js';

const file = (n: number): IndexedFile => ({ path: `s3://b/t/data/f${n}.parquet`, specId: 0, partition: [n] });

describe('FileLocations', () => {
  it('maps every position of every file to a location and back', () => {
    const l = new FileLocations();
    const positions = [0, 1, 4095, 4096, 8191, 1_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    const locs = new Map<number, number>();
    for (let f = 0; f < 5; f++) for (const pos of positions) locs.set(l.locate(file(f), pos), f * 100 + positions.indexOf(pos));
    assert.equal(locs.size, 5 * positions.length);
    for (const [loc, code] of locs) {
      const at = l.locationOf(loc);
      assert.deepEqual([at.file.path, at.pos], [file(Math.floor(code / 100)).path, positions[code % 100]]);
    }
    // A new object for a known path is the same file.
    assert.equal(l.locate({ ...file(2) }, 7), l.locate(file(2), 7));
  });

  it('counts rows per file, releases empty files and reuses their ids and pages', () => {
    const l = new FileLocations();
    const a = l.locate(file(1), 10);
    const b = l.locate(file(2), 10);
    l.bump(a, 1);
    l.bump(b, 1);
    assert.deepEqual([l.rowsIn(file(1).path), l.rowsIn(file(2).path), l.rowsIn('nope')], [1, 1, 0]);
    assert.throws(() => l.release(file(1).path), (e: unknown) => e instanceof FloeError && e.code === 'assertion_failed');
    l.bump(a, -1);
    l.release(file(1).path);
    assert.deepEqual(l.filePaths(), [file(2).path]);
    assert.equal(l.fileTable()[0], RELEASED);
    const c = l.locate(file(3), 10); // takes file 1's id and page
    assert.equal(c, a);
    assert.equal(l.locationOf(c).file.path, file(3).path);
    assert.equal(l.rowsIn(file(3).path), 0);
    assert.equal(l.locationOf(b).file.path, file(2).path);
  });
});
