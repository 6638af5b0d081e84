// Proves the profile split: a sample counts for the stage of the nearest floe frame on its stack (Node internals called by the decoder are decode), the VM's buckets stay apart, and idle time (and a bench waiting on its producer) is idle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitProfile } from '../../native-bench/profile-split.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

describe('profile split by stage', () => {
  it('attributes each sample to the nearest stage frame on its stack', () => {
    const profile = {
      nodes: [
        frame(1, '(root)', '', [2, 6, 7, 8, 9]),
        frame(2, 'dispatch', 'file:///app/dist/src/pipeline/pipeline.js', [3]),
        frame(3, 'decode', 'file:///app/dist/src/decode/debezium.js', [4]),
        frame(4, 'toString', 'node:buffer', [5]),
        frame(5, 'put', 'file:///app/dist/src/worker/table-buffer.js'),
        frame(6, '(garbage collector)', ''),
        frame(7, '(program)', ''),
        frame(8, '(idle)', ''),
        frame(9, 'spawnSync', 'node:child_process'),
      ],
      samples: [4, 4, 3, 5, 2, 6, 7, 8, 9],
      timeDeltas: [10, 10, 10, 20, 5, 7, 3, 100, 1000],
    };
    const split = splitProfile(profile);
    assert.equal(split.get('decode'), 30); // two samples in Buffer.toString under the decoder, one in the decoder
    assert.equal(split.get('buffer + index (window)'), 20);
    assert.equal(split.get('route + dispatch'), 5);
    assert.equal(split.get('garbage collection'), 7);
    assert.equal(split.get('native, outside JavaScript'), 3);
    assert.equal(split.get('idle'), 1100);
  });
});
