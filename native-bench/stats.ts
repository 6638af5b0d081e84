/** Small helpers the benchmarks share: quantiles of samples, and sums read from a Prometheus text exposition. */

/** The `q` quantile of `xs` (nearest rank); NaN when there is no sample. */
export function quantile(xs: readonly number[], q: number): number {
  const s = Float64Array.from(xs).sort();
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number);
}

/** The sum of the samples of metric `name` (exactly that name, any labels) whose line `labels` matches. */
export function metricSum(text: string, name: string, labels: RegExp = /.*/): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !labels.test(line)) continue;
    const m = /^(\S+)\s+(\S+)$/.exec(line);
    if (m !== null && (m[1] === name || (m[1] as string).startsWith(`${name}{`))) n += Number(m[2]);
  }
  return n;
}
