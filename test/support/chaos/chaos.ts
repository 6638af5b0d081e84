// The chaos controller of one schedule: seeded decisions at every hook of the fakes (fault, crash, rebalance), the fault budget that lets every schedule finish, the "lives" of the pipeline incarnations (a crash kills one, as a SIGKILL would) and the trace printed for a failing seed.
import { FloeError, type FloeErrorCode } from '../../../src/errors.js';

/** A crash point: the process dies here (SIGKILL). Not a FloeError: nothing in floe may handle it. */
export class Crash extends Error {
  constructor(readonly point: string) {
    super(`chaos crash at ${point}`);
    this.name = 'Crash';
  }
}

/** 32-bit hash of a string (FNV-1a), then mixed with the seed (murmur3's finaliser). */
function hash(seed: number, label: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) for (seed, label): the same label always draws the same number. */
export function draw(seed: number, label: string): number {
  return hash(seed, label) / 4294967296;
}

/** The seeded stream for the workload and the schedule's parameters: the demo generator's. */
export { Rng } from '../../../src/demo/debezium-generator.js';

/** What a hook may do to the call passing through it. */
export type Fault =
  /** die before the call reaches the dependency */
  | 'crash'
  /** the call reached the dependency and did its work, then the process died */
  | 'crash-after'
  /** a transient failure before the call did anything (throttling, 5xx on a read, timeout) */
  | 'transient'
  /** the call did its work, then the answer was lost (a timeout after the write landed) */
  | 'transient-after'
  /** catalog commit: 5xx / timeout before the commit was applied */
  | 'unknown-before'
  /** catalog commit: applied, then 5xx / timeout (the outcome is unknown to floe) */
  | 'unknown-after'
  /** catalog commit: another writer commits first (a compaction, an append, a property change) */
  | 'conflict'
  /** catalog commit: the process dies with the request in flight; the catalog applies it later (or never), during a later life */
  | 'late';

/** Faults that end the process. */
const KILLS: ReadonlySet<Fault> = new Set<Fault>(['crash', 'crash-after', 'late']);

export interface ChaosPlan {
  /** Chance that a hook injects a fault (while the budget lasts). */
  readonly pFault: number;
  /** Chance that a hook fires a rebalance first (revoke some partitions, or assign the revoked back). */
  readonly pRebalance: number;
  /** Faults this schedule injects at most (crashes included); then it runs clean to the end. */
  readonly faultsMax: number;
  readonly crashesMax: number;
  readonly rebalancesMax: number;
  /** Relative weights of the fault kinds (a hook only injects the kinds it supports). */
  readonly weights: Readonly<Partial<Record<Fault, number>>>;
  /** Consecutive conflicting commits by another writer once a storm starts. */
  readonly stormLength: number;
  /** Chance that a catalog commit starts a conflict storm besides the fault budget, and at most how many such storms. */
  readonly pStorm: number;
  readonly stormsMax: number;
}

/** One pipeline incarnation: dead once it crashed (every later call of it fails at once, as after a SIGKILL). */
export class Life {
  dead = false;
  readonly inflight = new Set<Promise<unknown>>();
  constructor(readonly n: number) {}

  /** Tracks `p` as an operation of this life (a restart waits until the dead process is quiet). */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => {
      this.inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  /** Resolves once no operation of this life is in flight (those already sent finish, as a request on the wire would). */
  async quiet(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}

export interface ChaosCounts {
  faults: number;
  storms: number;
  crashes: number;
  rebalances: number;
  byKind: Record<string, number>;
}

export class Chaos {
  life = new Life(0);
  private readonly counters = new Map<string, number>();
  readonly counts: ChaosCounts = { faults: 0, storms: 0, crashes: 0, rebalances: 0, byKind: {} };
  readonly trace: string[] = [];
  private readonly t0 = Date.now();
  /** Conflicting commits still to come in the current storm. */
  stormLeft = 0;
  /** Commits of dead lives still on the wire: each lands at a later hook (or never, if the CAS fails then). */
  private readonly late: { label: string; land: () => Promise<void> }[] = [];
  private readonly landing = new Set<Promise<void>>();
  /** Lives during which a dead life's late commit landed (a commit_fenced exit is expected there). */
  readonly lateLandedIn = new Set<number>();
  /** Fired by a hook to rebalance (set by the fake source of the current life). */
  rebalance: ((label: string) => void) | null = null;

  constructor(
    readonly seed: number,
    readonly plan: ChaosPlan,
    private readonly verbose = false,
  ) {}

  /** Calls that passed a hook so far (all lives). */
  calls(hook: string): number {
    return this.counters.get(hook) ?? 0;
  }

  newLife(): Life {
    this.life = new Life(this.life.n + 1);
    this.rebalance = null;
    this.stormLeft = 0;
    this.note(`life ${this.life.n} starts`);
    return this.life;
  }

  note(line: string): void {
    this.trace.push(`[${this.life.n} +${Date.now() - this.t0}ms] ${line}`);
    if (this.trace.length > 4000) this.trace.splice(0, 1000);
    if (this.verbose) process.stdout.write(`# [chaos ${this.seed}] [${this.life.n} +${Date.now() - this.t0}ms] ${line}\n`);
  }

  /** A trace line built only when replaying one seed (verbose): per-batch detail is too costly for every schedule. */
  detail(line: () => string): void {
    if (this.verbose) this.note(line());
  }

  /** A uniform number in [0, 1) for this schedule and `label`. */
  draw(label: string): number {
    return draw(this.seed, label);
  }

  get rebalancesLeft(): boolean {
    return this.counts.rebalances < this.plan.rebalancesMax;
  }

  get budgetLeft(): boolean {
    return this.counts.faults < this.plan.faultsMax;
  }

  /** A commit request of a dying process: the catalog applies it at a later hook (of any life). */
  sendLate(label: string, land: () => Promise<void>): void {
    this.late.push({ label, land });
  }

  private landLate(label: string): void {
    if (this.late.length === 0 || draw(this.seed, `land:${label}`) >= 0.3) return;
    const l = this.late.shift() as { label: string; land: () => Promise<void> };
    this.lateLandedIn.add(this.life.n);
    const p = l.land().then(
      () => this.note(`late commit ${l.label} landed at ${label}`),
      (e: unknown) => this.note(`late commit ${l.label} refused at ${label}: ${e instanceof Error ? e.message : String(e)}`),
    );
    this.landing.add(p);
    void p.finally(() => this.landing.delete(p));
  }

  /** Lands the late commits still on the wire (the end of a schedule: whatever the catalog does, it has done). */
  async settleLate(): Promise<void> {
    while (this.late.length > 0) this.landLate('the end');
    await Promise.all([...this.landing]);
  }

  /** Whether the commit passing `hook` now starts a conflict storm (another writer keeps committing first). */
  storm(hook: string): boolean {
    if (this.counts.storms >= this.plan.stormsMax || draw(this.seed, `storm:${hook}#${this.calls(hook)}`) >= this.plan.pStorm) return false;
    this.counts.storms++;
    this.note(`conflict storm of ${this.plan.stormLength} commits starts at ${hook}#${this.calls(hook)}`);
    return true;
  }

  /** Kills `life` (the current one by default): `point` says where (the trace shows it). */
  kill(point: string, life: Life = this.life): Crash {
    life.dead = true;
    this.note(`CRASH at ${point}`);
    return new Crash(point);
  }

  /**
   * Every hook passes here before its call: a dead life fails at once; then maybe a late commit of a dead life
   * lands, maybe a rebalance fires (not at a synchronous hook: `rebalance` false, no callback can run there), and
   * maybe a fault among `kinds` (what this hook can do) is returned. Decisions are drawn from (seed, hook, n-th
   * call of that hook), so concurrent paths do not shift each other's draws and a seed replays the same schedule.
   */
  at(hook: string, kinds: readonly Fault[], life: Life, rebalance = true): Fault | null {
    if (life.dead) throw new Crash(`${hook} (already dead)`);
    if (life !== this.life) throw new Crash(`${hook} (an earlier life)`);
    const n = this.counters.get(hook) ?? 0;
    this.counters.set(hook, n + 1);
    const label = `${hook}#${n}`;
    this.landLate(label);
    if (rebalance && this.rebalance !== null && this.counts.rebalances < this.plan.rebalancesMax && draw(this.seed, `rebalance:${label}`) < this.plan.pRebalance) {
      this.counts.rebalances++;
      this.rebalance(label);
    }
    if (kinds.length === 0 || !this.budgetLeft || draw(this.seed, `fault:${label}`) >= this.plan.pFault) return null;
    const allowed = kinds.filter((k) => (this.plan.weights[k] ?? 0) > 0 && (!KILLS.has(k) || this.counts.crashes < this.plan.crashesMax));
    const total = allowed.reduce((a, k) => a + (this.plan.weights[k] ?? 0), 0);
    if (total === 0) return null;
    let r = draw(this.seed, `kind:${label}`) * total;
    let kind = allowed[allowed.length - 1] as Fault;
    for (const k of allowed) {
      r -= this.plan.weights[k] ?? 0;
      if (r < 0) {
        kind = k;
        break;
      }
    }
    this.counts.faults++;
    if (KILLS.has(kind)) this.counts.crashes++;
    this.counts.byKind[kind] = (this.counts.byKind[kind] ?? 0) + 1;
    this.note(`${kind} at ${label}`);
    return kind;
  }
}

/** A transient FloeError as the adapters classify them (S3 503 SlowDown, timeouts, catalog 5xx). */
export function transientError(code: Extract<FloeErrorCode, 'io_throttled' | 'io_failed' | 'catalog_unreachable' | 'catalog_server_error' | 'kafka_failed'>, where: string): FloeError {
  const what: Record<string, string> = {
    io_throttled: '503 SlowDown: please reduce your request rate',
    io_failed: 'request timed out',
    catalog_unreachable: 'connect ECONNRESET',
    catalog_server_error: '503 Service Unavailable',
    kafka_failed: 'Local: Broker transport failure',
  };
  return new FloeError(code, `chaos: ${where}: ${what[code] ?? code}`, { chaos: true });
}
