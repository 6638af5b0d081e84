/**
 * Measures a system under test as the operating system sees it: CPU seconds (user + system) and peak resident
 * memory of a whole process tree, sampled from /proc, so a JVM started by a shell script, a Python driver with
 * its JVM, and floe's Node process with its worker threads are all measured the same way.
 *
 * The tree is the spawned process, its descendants, and any PID a script lists in `pidFile` (for workers a
 * script starts detached) with their descendants. CPU per process is the largest utime+stime seen for it, so a
 * process that exits between two samples loses at most one interval of CPU (`SAMPLE_INTERVAL_MS`); the command
 * also runs under GNU time, whose rusage of every waited-for descendant is exact, and the larger figure wins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLOCK_TICKS_PER_S = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64
const PAGE_BYTES = 4096;
export const SAMPLE_INTERVAL_MS = 200;

interface ProcStat {
  readonly ppid: number;
  readonly cpuTicks: number;
  readonly rssBytes: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after comm: [0]=state [1]=ppid ... [11]=utime [12]=stime ... [21]=rss (pages)
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * PAGE_BYTES };
  } catch {
    return null; // the process exited between readdir and read: it is simply no longer part of the tree
  }
}

export interface TreeUsage {
  cpuSeconds: number;
  peakRssBytes: number;
  /** Processes of the tree that used CPU. */
  processes: number;
}

/** Samples the tree rooted at `rootPid` (plus PIDs listed in `pidFile`) until stop() is called. */
export class TreeSampler {
  private readonly cpuTicksByPid = new Map<number, number>();
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rootPid: number,
    private readonly pidFile?: string,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  private extraRoots(): number[] {
    if (this.pidFile === undefined) return [];
    try {
      return readFileSync(this.pidFile, 'utf8').split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
    } catch {
      return []; // no pid file yet: the script has not started a detached worker
    }
  }

  sample(): void {
    const stats = new Map<number, ProcStat>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = readStat(Number(name));
      if (st !== null) stats.set(Number(name), st);
    }
    const inTree = new Set<number>([this.rootPid, ...this.extraRoots()].filter((p) => stats.has(p)));
    // descendants: repeat until no new child joins (trees here are a few levels deep)
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, st] of stats) {
        if (!inTree.has(pid) && inTree.has(st.ppid)) {
          inTree.add(pid);
          grew = true;
        }
      }
    }
    let rss = 0;
    for (const pid of inTree) {
      const st = stats.get(pid) as ProcStat;
      rss += st.rssBytes;
      if (st.cpuTicks > (this.cpuTicksByPid.get(pid) ?? 0)) this.cpuTicksByPid.set(pid, st.cpuTicks);
    }
    if (rss > this.peakRss) this.peakRss = rss;
  }

  stop(): TreeUsage {
    clearInterval(this.timer);
    let ticks = 0;
    for (const t of this.cpuTicksByPid.values()) ticks += t;
    return { cpuSeconds: ticks / CLOCK_TICKS_PER_S, peakRssBytes: this.peakRss, processes: this.cpuTicksByPid.size };
  }
}

export interface MeasuredRun {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends `signal` to the measured command itself (GNU time's child), for a graceful stop. */
  readonly signal: (signal: NodeJS.Signals) => void;
  /** Kills the whole process group. */
  readonly kill: () => void;
  /** Resolves with the exit code and the tree's usage once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; usage: TreeUsage; wallSeconds: number }>;
}

const GNU_TIME = '/usr/bin/time';
let timeFiles = 0;

/** GNU time's "%U %S" line: user and system CPU of the command and its waited-for descendants. */
function readGnuTime(file: string): number {
  if (!existsSync(file)) return 0;
  const nums = readFileSync(file, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  rmSync(file, { force: true });
  return nums.length >= 2 && nums.every(Number.isFinite) ? (nums[0] as number) + (nums[1] as number) : 0;
}

/** Spawns `cmd` in its own process group (so a stop reaches the whole tree) and measures its tree until it exits. */
export function measure(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; pidFile?: string; cwd?: string; outputBytesMax?: number } = {}): MeasuredRun {
  const t0 = process.hrtime.bigint();
  const timeFile = join(tmpdir(), `floe-measure-${process.pid}-${timeFiles++}.time`);
  const [file, argv] = existsSync(GNU_TIME) ? [GNU_TIME, ['-q', '-f', '%U %S', '-o', timeFile, cmd, ...args]] : [cmd, [...args]];
  const child = spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const sampler = new TreeSampler(child.pid, opts.pidFile);
  const max = opts.outputBytesMax ?? 4 << 20;
  let out = '';
  let err = '';
  // keep the tail: a long log must not grow without bound
  child.stdout.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-max);
  });
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-max);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; usage: TreeUsage; wallSeconds: number }>((resolve) => {
    child.on('exit', (code, signal) => {
      sampler.sample();
      const sampled = sampler.stop();
      const usage = { ...sampled, cpuSeconds: Math.max(sampled.cpuSeconds, readGnuTime(timeFile)) };
      resolve({ code, signal, usage, wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
  const root = child.pid;
  const signal = (sig: NodeJS.Signals): void => {
    if (file !== GNU_TIME) {
      child.kill(sig);
      return;
    }
    for (const name of readdirSync('/proc')) {
      if (/^\d+$/.test(name) && readStat(Number(name))?.ppid === root) process.kill(Number(name), sig);
    }
  };
  const kill = (): void => {
    // the process group, and any worker a script started in a session of its own (listed in pidFile)
    const targets = [-root, ...(opts.pidFile !== undefined && existsSync(opts.pidFile) ? readFileSync(opts.pidFile, 'utf8').split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number) : [])];
    for (const t of targets) {
      try {
        process.kill(t, 'SIGKILL');
      } catch (e) {
        if ((e as { code?: string }).code !== 'ESRCH') throw e; // ESRCH: already gone
      }
    }
  };
  return { child, stdout: () => out, stderr: () => err, signal, kill, exited };
}
