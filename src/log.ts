/**
 * Structured JSON logs through pino, one object per line on stderr:
 *   {"level":"info","time":"2026-11-22T08:00:00.000Z","msg":"committed","tables":[...]}
 * Never secrets: any field whose name looks like a credential (password, secret, token, credential,
 * authorization) is replaced by "***" at every depth before pino sees it; bigints are written as strings
 * (snapshot ids exceed 2^53).
 */
import { destination, pino, stdTimeFunctions, type DestinationStream } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const SECRET_KEY = /secret|password|passwd|token|credential|authorization|sasl\.jaas/i;
/** Fields nest at most this deep in a log line; deeper values are cut (log lines stay bounded). */
const DEPTH_MAX = 8;

/** A log-safe copy: secrets masked, bigints as strings, cycles and depth bounded. */
export function scrub(v: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Error) return { name: v.name, message: v.message };
  if (depth >= DEPTH_MAX || seen.has(v)) return '[…]';
  seen.add(v);
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && x !== null && x !== undefined ? '***' : scrub(x, depth + 1, seen);
  return out;
}

export function createLogger(
  level: Level = (process.env.FLOE_LOG_LEVEL as Level | undefined) ?? 'info',
  write: ((line: string) => void) | null = null,
): Logger {
  const dest: DestinationStream = write === null ? destination({ fd: 2, sync: true }) : { write };
  const p = pino(
    {
      level,
      base: undefined, // no pid/hostname: the pod name is in the Kubernetes metadata
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>): void => {
    if (!p.isLevelEnabled(lvl)) return;
    if (fields === undefined) p[lvl](msg);
    else p[lvl](scrub(fields) as Record<string, unknown>, msg);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
