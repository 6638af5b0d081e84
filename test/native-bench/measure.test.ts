// Proves the benchmark's process-tree measurement: CPU of a child's own children (a shell's busy subprocesses) and of a detached process listed in the pid file are counted, RSS is sampled, and signal() reaches the measured command, not GNU time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure } from '../../native-bench/measure.js';

// 0.4 s of CPU in each of two child processes of the shell, by CPU time (a loaded machine only makes it take longer)
const SPIN = `while (process.cpuUsage().user < 400000);`;

describe('process-tree measurement', () => {
  it('counts the CPU of every descendant, and of a detached process named in the pid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'floe-measure-'));
    try {
      const pidFile = join(dir, 'pids');
      // one child in the tree, one started with setsid (out of the tree) whose pid the script hands over
      const script = `"${process.execPath}" -e '${SPIN}' & setsid "${process.execPath}" -e '${SPIN}' & echo $! >> "${pidFile}"; wait`;
      const m = measure('bash', ['-c', script], { pidFile });
      const r = await m.exited;
      assert.equal(r.code, 0);
      assert.ok(r.usage.cpuSeconds >= 0.6, `cpu ${r.usage.cpuSeconds} s: both spinners counted`);
      assert.ok(r.usage.peakRssBytes > 10 * 1024 * 1024, `rss ${r.usage.peakRssBytes}`);
      assert.ok(r.usage.processes >= 2, `processes ${r.usage.processes}`); // the two spinners at least (processes that used CPU)
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('signal() stops the measured command and the exit is still measured', async () => {
    const m = measure(process.execPath, ['-e', `process.on('SIGTERM', () => { console.log('graceful'); process.exit(0); }); setInterval(() => {}, 1000);`]);
    await new Promise((r) => setTimeout(r, 500));
    m.signal('SIGTERM');
    const r = await m.exited;
    assert.equal(r.code, 0);
    assert.match(m.stdout(), /graceful/);
    assert.ok(r.wallSeconds >= 0.4);
  });
});
