// floe replicas as child processes for the outage and chaos tests: which exits the test caused (SIGKILL, SIGTERM) and which it did not, and a monitor that samples every running replica's /readyz and a metric from /metrics.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FloeProcess, metricValue, probe, type Exit } from './floe-process.js';

export interface Replica {
  /** the static group member id (kafka.groupInstanceId): a restarted replica keeps its name */
  readonly name: string;
  readonly proc: FloeProcess;
  /** wall clock (Date.now()) at spawn */
  readonly startedAt: number;
  /** the test sent the signal that ended it */
  expectedExit: boolean;
  /** wall clock at exit */
  exitedAt: number | null;
}

export interface UnexpectedExit {
  readonly name: string;
  readonly exit: Exit;
  /** wall clock */
  readonly at: number;
  /** what the test was doing then */
  readonly phase: string;
  readonly tail: string;
}

export interface Sample {
  /** wall clock of the request */
  readonly t: number;
  readonly name: string;
  readonly pid: number | undefined;
  /** /readyz status, null when it did not answer */
  readonly ready: number | null;
  /** the sampled metric's largest value, null when absent (or /metrics did not answer) */
  readonly metric: number | null;
}

export class ReplicaSet {
  readonly all: Replica[] = [];
  readonly unexpected: UnexpectedExit[] = [];
  readonly samples: Sample[] = [];
  /** what the test is doing: attached to unexpected exits */
  phase = 'setup';
  private monitoring = false;
  private monitorDone: Promise<void> = Promise.resolve();

  constructor(
    /** spawns replica `name` (a config file whose kafka.groupInstanceId is `name`) */
    private readonly spawn: (name: string) => FloeProcess,
    private readonly say: (line: string) => void,
    /** the metric the monitor samples */
    private readonly metric: string,
  ) {}

  start(name: string): Replica {
    const r: Replica = { name, proc: this.spawn(name), startedAt: Date.now(), expectedExit: false, exitedAt: null };
    this.all.push(r);
    void r.proc.exited.then((exit) => {
      r.exitedAt = Date.now();
      if (r.expectedExit) return;
      this.unexpected.push({ name, exit, at: r.exitedAt, phase: this.phase, tail: r.proc.tail(12) });
      this.say(`${name} (pid ${r.proc.pid}) EXITED ON ITS OWN during "${this.phase}": code ${exit.code} signal ${exit.signal}\n${r.proc.tail(6)}`);
    });
    return r;
  }

  /** Ends a replica with `signal` as an exit the test caused; resolves on its exit. */
  async kill(r: Replica, signal: NodeJS.Signals): Promise<Exit> {
    if (r.proc.exit === null) r.expectedExit = true;
    r.proc.kill(signal);
    return r.proc.exited;
  }

  live(): Replica[] {
    return this.all.filter((r) => r.proc.exit === null);
  }

  /** The running replica of that name. */
  get(name: string): Replica | undefined {
    return this.live().find((r) => r.name === name);
  }

  /** Samples every running replica's /readyz and metric every `periodMs` until `stopMonitor()`. */
  startMonitor(periodMs: number): void {
    this.monitoring = true;
    this.monitorDone = (async () => {
      while (this.monitoring) {
        const next = Date.now() + periodMs;
        await Promise.all(this.live().map(async (r) => {
          const port = r.proc.metricsPort;
          if (port === undefined) return;
          const t = Date.now();
          const [ready, metrics] = await Promise.all([probe(port, '/readyz'), probe(port, '/metrics')]);
          this.samples.push({ t, name: r.name, pid: r.proc.pid, ready: ready?.status ?? null, metric: metrics === null ? null : metricValue(metrics.body, this.metric) });
        }));
        await new Promise((res) => setTimeout(res, Math.max(0, next - Date.now())));
      }
    })();
  }

  async stopMonitor(): Promise<void> {
    this.monitoring = false;
    await this.monitorDone;
  }

  /**
   * Processes that crashed without exiting: node prints its version after an uncaught exception's stack as it
   * exits, so one that printed it and still runs (or ran until the test killed it) hung in its teardown.
   */
  hung(): Replica[] {
    return this.all.filter((r) => (r.proc.exit === null || r.expectedExit) && r.proc.other.some((l) => l.startsWith('Node.js v')));
  }

  /** Samples of one process between two wall-clock instants. */
  samplesOf(r: Replica, from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.pid === r.proc.pid && s.t >= from && s.t <= to);
  }

  /** Writes every process's output to `<dir>/<name>-<pid>.log` (JSON log lines with `at`, then other output). */
  writeLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const r of this.all) {
      const text = [...r.proc.lines.map((l) => JSON.stringify(l)), ...r.proc.other, `exit: ${JSON.stringify(r.proc.exit)} expected: ${r.expectedExit}`].join('\n');
      writeFileSync(join(dir, `${r.name}-${r.proc.pid}.log`), `${text}\n`);
    }
  }

  /** Ends every running replica with SIGKILL (test cleanup). */
  async killAll(): Promise<void> {
    await Promise.all(this.live().map((r) => this.kill(r, 'SIGKILL')));
  }
}
