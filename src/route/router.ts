/**
 * Routing: which Iceberg table a change goes to. The target is a pattern over the source (`{db}.{table}`,
 * as the Iceberg sink's DebeziumTransform `cdc.target.pattern`), plus `{topic}` and `{prefix}`. Names are
 * made legal for S3 Tables: lowercase letters, digits and `_`, starting and ending with a letter or digit,
 * at most 255 characters. Include/exclude lists are regular expressions matched against `db.table`.
 */
import { FloeError } from '../errors.js';
import type { TableIdentifier } from '../catalog/catalog.js';

export interface RouterConfig {
  /** e.g. `{db}.{table}`, `analytics.{db}_{table}`; the last dot separates namespace and table. */
  readonly pattern: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

const NAME_LENGTH_MAX = 255;

export function s3TablesName(raw: string): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  s = s.replace(/^_+|_+$/g, '');
  if (s.length === 0) s = 'x';
  if (s.length > NAME_LENGTH_MAX) s = s.slice(0, NAME_LENGTH_MAX).replace(/_+$/, '');
  return s;
}

export class Router {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private readonly cache = new Map<string, TableIdentifier | null>();

  constructor(readonly cfg: RouterConfig) {
    if (!cfg.pattern.includes('.')) {
      throw new FloeError('config_invalid', `route.pattern "${cfg.pattern}" must contain a "." between namespace and table`, { field: 'route.pattern' });
    }
    const compile = (field: string) => (p: string) => {
      try {
        return new RegExp(`^(?:${p})$`);
      } catch (e) {
        throw new FloeError('config_invalid', `${field}: invalid regular expression "${p}": ${(e as Error).message}`, { field });
      }
    };
    this.include = (cfg.include ?? []).map(compile('route.include'));
    this.exclude = (cfg.exclude ?? []).map(compile('route.exclude'));
  }

  /** Target table for a change from `db.table` read on `topic`, or null when filtered out. */
  route(topic: string, db: string, table: string): TableIdentifier | null {
    const cacheKey = `${topic}\u0000${db}\u0000${table}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) return hit;
    const source = `${db}.${table}`;
    let out: TableIdentifier | null = null;
    const included = this.include.length === 0 || this.include.some((r) => r.test(source));
    const excluded = this.exclude.some((r) => r.test(source));
    if (included && !excluded) {
      const parts = topic.split('.');
      const text = this.cfg.pattern
        // Dots inside source names must not move the namespace/table split.
        .replaceAll('{db}', db.replaceAll('.', '_'))
        .replaceAll('{table}', table.replaceAll('.', '_'))
        .replaceAll('{topic}', topic.replaceAll('.', '_'))
        .replaceAll('{prefix}', parts[0] ?? '');
      const dot = text.lastIndexOf('.');
      out = { namespace: [s3TablesName(text.slice(0, dot))], name: s3TablesName(text.slice(dot + 1)) };
    }
    if (this.cache.size < 100_000) this.cache.set(cacheKey, out);
    return out;
  }
}

/** Source db/table from a Debezium topic name `<prefix>.<db>.<table>`, for records that lack `source`. */
export function sourceFromTopic(topic: string): { db: string; table: string } {
  const parts = topic.split('.');
  if (parts.length >= 3) return { db: parts[parts.length - 2] ?? '', table: parts[parts.length - 1] ?? '' };
  if (parts.length === 2) return { db: parts[0] ?? '', table: parts[1] ?? '' };
  return { db: 'default', table: topic };
}
