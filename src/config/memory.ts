/**
 * How much memory this process may use: the container's limit (a Kubernetes pod's `resources.limits.memory`
 * is the cgroup's `memory.max` under cgroup v2, `memory.limit_in_bytes` under v1), else the machine's. The key
 * indexes' budget is checked against it at start, beside the V8 heaps of the worker threads.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** cgroup v1 reports "no limit" as a huge page-rounded number (2^63 − 4096 on x86-64). */
const CGROUP_V1_UNLIMITED_BYTES = 2 ** 60;

function readLimit(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    // No such cgroup file (not Linux, or another cgroup version): the other file or the machine's memory decides.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EACCES') return null;
    throw e;
  }
  if (text === 'max') return null;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 && n < CGROUP_V1_UNLIMITED_BYTES ? n : null;
}

/** The memory limit of this process in bytes, and where it comes from. */
export function memoryLimit(): { readonly bytes: number; readonly source: string } {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const n = readLimit(path);
    if (n !== null) return { bytes: Math.min(n, totalmem()), source: path };
  }
  return { bytes: totalmem(), source: 'the machine\'s memory' };
}

/** The V8 heap limit of the main thread (what `--max-old-space-size` sets), in bytes. */
export function mainHeapLimitBytes(): number {
  return getHeapStatistics().heap_size_limit;
}
