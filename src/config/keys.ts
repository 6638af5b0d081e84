/**
 * Every key floe's YAML config knows, at every level, so that a key floe does not know is an error naming its
 * full path and the nearest valid key (`tables.defaults.partitonBy: unknown key; did you mean partitionBy?`)
 * instead of a setting silently ignored. Free-form maps (kafka.properties, table properties) take any key;
 * tables.overrides takes any table name (config.ts checks the names), each with the table option keys.
 * A key read by config.ts must be listed here (test/config/unknown-keys.test.ts checks that it is).
 */
import { FloeError } from '../errors.js';

/** A level of the config: its keys, each a leaf value, a free-form map, or a nested level. */
export interface KeyLevel {
  readonly [key: string]: KeyLevel | 'value' | 'free-form';
}
/** The key of a level that takes any name (tables.overrides), each name holding that level's options. */
export const ANY_NAME = '<name>';

const TABLE_OPTIONS: KeyLevel = {
  partitionBy: 'value', sortBy: 'value', formatVersion: 'value', properties: 'free-form', onIncompatibleChange: 'value', deleteMode: 'value', onDuplicateKeys: 'value', maintenance: 'value',
};

export const CONFIG_KEYS: KeyLevel = {
  kafka: {
    brokers: 'value', groupId: 'value', groupInstanceId: 'value', topics: 'value', topicPattern: 'value', deadLetterTopic: 'value', properties: 'free-form',
    // every auth type's keys (type decides which are read)
    auth: { type: 'value', mechanism: 'value', username: 'value', password: 'value', region: 'value', principal: 'value', lifetimeMs: 'value' },
    tls: { enabled: 'value', caLocation: 'value' },
  },
  catalog: {
    type: 'value', name: 'value', uri: 'value', warehouse: 'value', path: 'value',
    auth: { type: 'value', signingName: 'value', region: 'value', accessKeyId: 'value', secretAccessKey: 'value', clientId: 'value', clientSecret: 'value', serverUri: 'value', scope: 'value', token: 'value' },
  },
  s3: { region: 'value', endpoint: 'value', pathStyle: 'value', accessKeyId: 'value', secretAccessKey: 'value' },
  decode: { idColumns: 'value', cdcField: 'value', timeAs: 'value', outOfRange: 'value', schemaRegistry: { url: 'value', username: 'value', password: 'value' } },
  route: { pattern: 'value', include: 'value', exclude: 'value' },
  tables: { autoCreate: 'value', defaults: TABLE_OPTIONS, overrides: { [ANY_NAME]: TABLE_OPTIONS } },
  commit: { intervalMs: 'value', bufferBytesMax: 'value', targetFileSizeBytes: 'value', codec: 'value', tableCommitsInFlightMax: 'value', deletionVectorFiles: 'value', deletionVectorsPerFileMax: 'value',
    retry: { maxElapsedMs: 'value', backoffBaseMs: 'value', backoffMaxMs: 'value' } },
  consume: { batchMax: 'value', timeoutMs: 'value' },
  workers: { count: 'value', queueMax: 'value', heapMb: 'value' },
  shutdown: { timeoutMs: 'value' },
  index: { memoryBytesMax: 'value', spillDir: 'value', bootstrapThreads: 'value', shardByPartition: 'value' },
  metrics: { enabled: 'value', host: 'value', port: 'value', livenessStallMs: 'value' },
  maintenance: {
    enabled: 'value', intervalMs: 'value', budgetMs: 'value',
    rewriteData: { enabled: 'value', targetFileSizeBytes: 'value', minFileSizeRatio: 'value', deleteRatioMin: 'value', minInputFiles: 'value', groupBytesMax: 'value', runBytesMax: 'value', commitAttemptsMax: 'value' },
    rewriteDeletes: { enabled: 'value', convertEqualityDeletes: 'value', minInputFiles: 'value' },
    manifests: { enabled: 'value', targetManifestBytes: 'value', minManifests: 'value' },
    expire: { enabled: 'value', olderThanMs: 'value', keepLast: 'value' },
    orphans: { enabled: 'value', olderThanMs: 'value' },
  },
};

/** Optimal string alignment distance (Levenshtein with adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_r, i) => Array.from({ length: y.length + 1 }, (_c, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[x.length] as number[])[y.length] as number;
}

/** The candidate nearest to `word`, if near enough to be a likely typo (about a third of its letters). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Every path of the spec ending in `key` (case-insensitive), for a key put at the wrong level. */
function pathsOf(key: string, level: KeyLevel, prefix: string, out: string[]): string[] {
  for (const [k, v] of Object.entries(level)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (k.toLowerCase() === key.toLowerCase()) out.push(path);
    if (typeof v === 'object') pathsOf(key, v, path, out);
  }
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The unknown keys of `doc` against `level`, each as [full path, message]. A key may hold dots (`auth.type`
 * for `auth: {type}`), as config.ts's reader accepts: it is known when its parts lead through the spec to a
 * key, and not when they go on below a value or a free-form map, or through a level of names (the reader
 * would not find it there).
 */
export function unknownKeys(doc: unknown, level: KeyLevel = CONFIG_KEYS, prefix = ''): [string, string][] {
  if (!isMapping(doc)) return [];
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    let at: KeyLevel | 'value' | 'free-form' | undefined = level;
    for (const part of key.split('.')) {
      if (typeof at !== 'object' || at[ANY_NAME] !== undefined) {
        at = undefined;
        break;
      }
      at = Object.hasOwn(at, part) ? at[part] : undefined;
    }
    if (at === undefined) {
      out.push([path, unknownMessage(key, level)]);
      continue;
    }
    if (typeof at === 'object') {
      const named = at[ANY_NAME];
      if (named !== undefined && typeof named === 'object' && isMapping(value)) {
        for (const [name, options] of Object.entries(value)) out.push(...unknownKeys(options, named, `${path}.${name}`));
      } else {
        out.push(...unknownKeys(value, at, path));
      }
    }
  }
  return out;
}

function unknownMessage(key: string, level: KeyLevel): string {
  const here = Object.keys(level);
  const near = nearest(key, here);
  if (near !== undefined) return `unknown key; did you mean ${near}?`;
  const elsewhere = pathsOf(key, CONFIG_KEYS, '', []);
  if (elsewhere.length > 0) return `unknown key here; did you mean ${elsewhere.join(' or ')}?`;
  return `unknown key (valid keys here: ${here.join(', ')})`;
}

/** Throws config_invalid naming every unknown key of a YAML config (the first one is `details.field`). */
export function rejectUnknownKeys(doc: unknown): void {
  const found = unknownKeys(doc);
  const first = found[0];
  if (first === undefined) return;
  throw new FloeError('config_invalid', found.map(([path, msg]) => `config ${path}: ${msg}`).join('\n'), { field: first[0], fields: found.map(([p]) => p) });
}
