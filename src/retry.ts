/**
 * The one backoff floe waits with before retrying anything (catalog reads and creates, commit attempts, the
 * schema registry, Kafka offset commits, a whole commit cycle during an outage): exponential from `baseMs`,
 * capped at `maxMs`, with jitter (0.5 to 1.5 of the step) so replicas that failed together do not retry in step.
 */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The wait before retry number `attempt` (1 = the first retry). */
export function backoffMs(attempt: number, b: Backoff): number {
  const step = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempt - 1));
  return step * (0.5 + Math.random());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits before retry number `attempt`. */
export function backoffSleep(attempt: number, b: Backoff): Promise<void> {
  return sleep(backoffMs(attempt, b));
}
