// Compressed time for the chaos suite: floe's retry backoffs (commit attempts from 100 ms, catalog creates from 200 ms, jittered) wait at most 1 ms, so a schedule full of conflicts and transient faults runs in milliseconds. Waits only shorten; their order and what is retried do not change.
/** Caps every setTimeout delay at `maxMs` until the returned function restores the real one (node:test keeps its own timers). */
export function compressTimers(maxMs = 1): () => void {
  const real = globalThis.setTimeout;
  const capped = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => real(fn, Math.min(ms ?? 0, maxMs), ...args)) as unknown as typeof setTimeout;
  globalThis.setTimeout = capped;
  return () => {
    globalThis.setTimeout = real;
  };
}
