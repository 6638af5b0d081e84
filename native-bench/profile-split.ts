/**
 * Splits a V8 CPU profile of floe (`node --cpu-prof`) into the pipeline's stages: each sample goes to the stage of
 * the nearest frame on its stack that belongs to one (so Buffer.toString called by the decoder counts as decode),
 * and the VM's own buckets stay apart: garbage collection, and native code outside JavaScript ("(program)": on the
 * main thread mostly node-rdkafka turning each fetched message into a JavaScript object with a copied Buffer).
 *   node dist/native-bench/profile-split.js PROFILE.cpuprofile EVENTS [--json]
 * The profile covers the main thread only; librdkafka's own threads are in the process CPU, not here.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Stage of a frame by its source file, most specific first; null: not a stage of its own (look at the caller). */
const STAGES: readonly [string, RegExp][] = [
  ['kafka fetch', /node-rdkafka|\/src\/kafka\//],
  ['decode', /\/src\/decode\//],
  ['route + dispatch', /\/src\/route\/|\/src\/pipeline\//],
  ['Parquet + Arrow encode', /wasm-function|parquet-wasm|apache-arrow|\/src\/writer\//],
  ['upload (S3 / files)', /@aws-sdk|@smithy|\/src\/io\//],
  ['commit (manifests, catalog)', /\/src\/commit\/|\/src\/iceberg\/|\/src\/catalog\//],
  ['buffer + index (window)', /\/src\/worker\//],
  ['metrics + logs', /\/src\/metrics\/|prom-client|pino|\/src\/log/],
];

function stageOf(frame: ProfileNode['callFrame']): string | null {
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === '(program)') return 'native, outside JavaScript';
  if (frame.functionName === '(idle)' || frame.functionName === 'spawnSync') return 'idle'; // spawnSync: a bench waiting for its producer child
  const key = `${frame.url} ${frame.functionName}`;
  for (const [name, re] of STAGES) if (re.test(key)) return name;
  return null;
}

export function splitProfile(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageById = new Map<number, string>();
  const resolve = (id: number): string => {
    const cached = stageById.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let stage: string | null = null;
    while (cur !== undefined && stage === null) {
      const n = byId.get(cur);
      if (n === undefined) break;
      stage = stageOf(n.callFrame);
      cur = parent.get(cur);
    }
    const s = stage ?? 'other (startup, Node internals)';
    stageById.set(id, s);
    return s;
  };
  const micros = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const s = resolve(id);
    micros.set(s, (micros.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return micros;
}

if (process.argv[1]?.endsWith('profile-split.js') === true) {
  const file = process.argv[2];
  const events = Number(process.argv[3] ?? 0);
  if (file === undefined || !(events > 0)) throw new Error('usage: profile-split.js PROFILE.cpuprofile EVENTS [--json]');
  const split = splitProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  split.delete('idle');
  const total = [...split.values()].reduce((a, b) => a + b, 0);
  const rows = [...split].sort((a, b) => b[1] - a[1]).map(([stage, us]) => ({ stage, usPerEvent: Number((us / events).toFixed(2)), share: Number(((100 * us) / total).toFixed(1)) }));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    process.stdout.write(`main thread, ${events} events (${(total / 1e6).toFixed(2)} s busy)\n| stage | µs/event | share |\n|---|---|---|\n`);
    for (const r of rows) process.stdout.write(`| ${r.stage} | ${r.usPerEvent} | ${r.share} % |\n`);
  }
}
