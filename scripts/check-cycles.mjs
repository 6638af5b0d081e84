#!/usr/bin/env node
// Fails (exit 1) when the modules under src/ import each other in a cycle, type-only imports included: the
// architecture follows the data (kafka → decode → route → worker → writer → io → commit → catalog), and a cycle
// is a dependency pointing back up that flow. Prints every cycle found (one per strongly connected component).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
const graph = new Map();
for (const f of files(src)) {
  const text = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(IMPORT)) deps.add(resolve(dirname(f), m[1].replace(/\.js$/, '.ts')));
  graph.set(f, [...deps].filter((d) => d !== f));
}

// Tarjan's strongly connected components: every component with more than one module is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const cycles = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) cycles.push(comp);
  }
}
for (const v of graph.keys()) if (!idx.has(v)) visit(v);

/** One concrete path around a component, for the message. */
function pathIn(comp) {
  const set = new Set(comp);
  const start = comp[comp.length - 1];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const path = [];
        for (let x = v; x !== null; x = prev.get(x)) path.unshift(x);
        return [...path, start];
      }
      if (set.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return comp;
}

if (cycles.length === 0) {
  console.log(`check-cycles: ${graph.size} modules under src/, no import cycle`);
  process.exit(0);
}
for (const c of cycles) {
  console.error(`import cycle: ${pathIn(c).map((f) => relative(src, f)).join(' → ')}`);
  console.error(`  (modules in cycles with it: ${c.map((f) => relative(src, f)).sort().join(', ')})`);
}
process.exit(1);
