/**
 * `floe verify --config FILE [--table NS.TABLE ...] [--key COL,...] [--json]`: checks tables for duplicate
 * keys (src/verify/verify.ts) and prints one block (or one JSON line) per table as soon as it is checked.
 * Reads the catalog and the tables only: never connects to Kafka and never writes.
 * Exit codes: 0 every checked table has one live row per key, 1 some table has duplicate keys, 2 a table or
 * namespace could not be read (even when another table has duplicates), or bad usage.
 */
import { parseArgs } from 'node:util';
import { parseIdentifier, type Catalog, type TableIdentifier } from '../catalog/catalog.js';
import { loadConfig } from '../config/config.js';
import { FloeError, describeError } from '../errors.js';
import { catalogTables, exitCode, formatLine, formatReport, reportToJSON, verifyTable, type VerifyStatus } from '../verify/verify.js';
import { catalogFromConfig } from './run.js';

export const VERIFY_USAGE = `Usage: floe verify --config FILE [--table NS.TABLE ...] [--key COL,...] [--json]

Checks that every table has one live row per key: for each table (those named with --table, repeatable or
comma-separated; without it every table of every namespace in the catalog) prints the key columns (the
table's identifier fields; --key names them for tables that have none, which are otherwise reported as
"no key: not checked"), the current snapshot's live rows, distinct keys, duplicate keys and rows too many
with up to 5 examples, and its live data files, position delete files, deletion vectors and equality delete
files. --json prints one JSON object per table per line (snapshot ids as strings).

Reads the catalog and the tables only (never Kafka; the config's kafka section is validated but unused).
Holds one table's keys at a time: the key index, about 15 bytes a key for an integer key and about 25 plus
the key's bytes for other keys (a table beyond 50 M keys is reported as unreadable), plus the text of each
duplicate key.

Exit codes:
  0  every checked table has one live row per key
  1  some table has duplicate keys
  2  a table or namespace could not be read (named with its error; the others are still checked; 2 wins
     over 1), or bad usage
`;

type Out = (text: string) => void;

export async function runVerify(argv: string[], out: Out = (t) => process.stdout.write(t), err: Out = (t) => process.stderr.write(t)): Promise<number> {
  let values: { config?: string; table?: string[]; key?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, table: { type: 'string', short: 't', multiple: true }, key: { type: 'string' }, json: { type: 'boolean', default: false } },
    }));
  } catch (e) {
    err(`floe verify: ${describeError(e)}\n${VERIFY_USAGE}`);
    return 2;
  }
  try {
    if (values.config === undefined) throw new FloeError('config_invalid', 'floe verify needs --config FILE', { field: '--config' });
    const tables = dedupe((values.table ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '').map(parseIdentifier));
    const key = values.key === undefined ? undefined : values.key.split(',').map((c) => c.trim());
    if (key !== undefined && (key.length === 0 || key.some((c) => c === ''))) throw new FloeError('config_invalid', `--key must name columns, comma-separated, got "${values.key}"`, { field: '--key' });
    const cfg = await loadConfig(values.config);
    const catalog = catalogFromConfig(cfg);
    try {
      return await verifyAll(catalog, tables.length > 0 ? tables : null, { ...(key !== undefined ? { key } : {}) }, values.json === true, out);
    } finally {
      await catalog.close();
    }
  } catch (e) {
    const code = e instanceof FloeError ? ` [${e.code}]` : '';
    err(`floe verify: error${code}: ${describeError(e)}\n`);
    return 2;
  }
}

async function verifyAll(catalog: Catalog, tables: TableIdentifier[] | null, opts: { key?: readonly string[] }, json: boolean, out: Out): Promise<number> {
  const statuses: VerifyStatus[] = [];
  const counts = { ok: 0, duplicates: 0, 'no-key': 0, error: 0, namespaces: 0 };
  let blocks = 0;
  const block = (lines: string[]): void => {
    out(`${blocks++ > 0 ? '\n' : ''}${lines.join('\n')}\n`);
  };
  const check = async (id: TableIdentifier): Promise<void> => {
    const r = await verifyTable(catalog, id, opts);
    statuses.push(r.status);
    counts[r.status]++;
    if (json) out(`${JSON.stringify(reportToJSON(r))}\n`);
    else block(formatReport(r));
  };
  if (tables !== null) {
    for (const id of tables) await check(id);
  } else {
    for await (const entry of catalogTables(catalog)) {
      if ('table' in entry) {
        await check(entry.table);
        continue;
      }
      statuses.push('error');
      counts.namespaces++;
      const ns = entry.namespace.join('.');
      if (json) out(`${JSON.stringify({ namespace: ns === '' ? null : ns, status: 'error', error: entry.error })}\n`);
      else block([`${ns === '' ? 'the catalog' : `namespace ${ns}`}  ERROR: could not be listed`, formatLine('error', entry.error)]);
    }
  }
  if (!json) {
    const checked = counts.ok + counts.duplicates + counts['no-key'] + counts.error;
    const parts = [`${counts.ok} ok`, `${counts.duplicates} with duplicate keys`, `${counts['no-key']} not checked (no key)`, `${counts.error} could not be read`];
    if (counts.namespaces > 0) parts.push(`${counts.namespaces} namespace listing(s) failed`);
    block([`${checked} table(s): ${parts.join(', ')}`]);
  }
  return exitCode(statuses);
}

function dedupe(ids: TableIdentifier[]): TableIdentifier[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = JSON.stringify([id.namespace, id.name]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
