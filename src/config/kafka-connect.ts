/**
 * Migration path: floe reads the Iceberg Kafka Connect sink's connector config (Tabular/Databricks
 * `io.tabular.iceberg.connect.IcebergSinkConnector` or Apache `org.apache.iceberg.connect.IcebergSinkConnector`)
 * and maps it to its own config. Users point floe at the JSON they already have:
 *   topics / topics.regex                        → kafka.topics / kafka.topicPattern
 *   iceberg.catalog.{type,uri,warehouse}         → catalog (REST only; Glue via its REST endpoint)
 *   iceberg.catalog.rest.sigv4-enabled, rest.signing-region, rest.signing-name → catalog.auth (sigv4)
 *   iceberg.catalog.credential / token / oauth2-server-uri → catalog.auth (oauth2 / bearer)
 *   iceberg.catalog.s3.endpoint, s3.path-style-access, client.region → s3
 *   transforms.*.cdc.target.pattern (DebeziumTransform) → route.pattern; Debezium envelopes are decoded natively
 *   iceberg.tables.cdc-field (without DebeziumTransform) → decode.cdcField
 *   iceberg.tables.default-id-columns            → decode.idColumns
 *   iceberg.tables.default-partition-by, iceberg.table.<t>.partition-by → tables partitioning
 *   iceberg.tables.auto-create-enabled           → tables.autoCreate
 *   iceberg.control.commit.interval-ms / commit.interval-ms → commit.intervalMs
 *   iceberg.kafka.*                              → kafka.properties (bootstrap.servers → kafka.brokers)
 *   errors.deadletterqueue.topic.name            → kafka.deadLetterTopic
 *   iceberg.tables.auto-create-props.history.expire.max-snapshot-age-ms / min-snapshots-to-keep
 *                                                → maintenance.expire.olderThanMs / keepLast
 * The sink has no maintenance settings of its own (it leaves compaction and expiry to separate Spark jobs); the
 * only ones that mean the same thing are Iceberg's snapshot retention table properties it sets on the tables it
 * creates, which ExpireSnapshots honours (and which floe's maintenance honours on any table that carries them).
 */
import { FloeError } from '../errors.js';

type Json = Record<string, unknown>;

export function isKafkaConnectConfig(doc: unknown): boolean {
  if (doc === null || typeof doc !== 'object') return false;
  const c = ((doc as Json).config ?? doc) as Json;
  return typeof c['connector.class'] === 'string' && String(c['connector.class']).includes('Iceberg');
}

/** The connector settings (flat, or the `config` of a Connect REST body). */
function settingsOf(doc: unknown): Json {
  const root = doc as Json;
  return (root.config ?? root) as Json;
}

/** `iceberg.*` keys fromKafkaConnect maps to floe's config. */
const MAPPED = new Set([
  'iceberg.catalog', 'iceberg.catalog.type', 'iceberg.catalog.catalog-impl', 'iceberg.catalog.uri', 'iceberg.catalog.warehouse',
  'iceberg.catalog.rest.sigv4-enabled', 'iceberg.catalog.rest.signing-name', 'iceberg.catalog.rest.signing-region', 'iceberg.catalog.client.region',
  'iceberg.catalog.credential', 'iceberg.catalog.oauth2-server-uri', 'iceberg.catalog.scope', 'iceberg.catalog.token',
  'iceberg.catalog.s3.endpoint', 'iceberg.catalog.s3.path-style-access', 'iceberg.catalog.s3.access-key-id', 'iceberg.catalog.s3.secret-access-key',
  'iceberg.tables', 'iceberg.tables.default-id-columns', 'iceberg.tables.cdc-field', 'iceberg.tables.auto-create-enabled', 'iceberg.tables.default-partition-by',
  'iceberg.tables.upsert-mode-enabled', 'iceberg.control.commit.interval-ms', 'iceberg.commit.interval-ms', 'iceberg.control.group-id', 'iceberg.control.group.id',
]);
const MAPPED_PATTERNS = [/^iceberg\.kafka\./, /^iceberg\.table\..+\.partition-by$/, /^iceberg\.tables\.auto-create-props\.commit\.retry\.(total-timeout-ms|min-wait-ms|max-wait-ms)$/,
  /^iceberg\.tables\.auto-create-props\.history\.expire\.(max-snapshot-age-ms|min-snapshots-to-keep)$/];

/**
 * `commit.retry` from Iceberg's commit retry table properties in the connector config
 * (`iceberg.tables.auto-create-props.commit.retry.total-timeout-ms` / `min-wait-ms` / `max-wait-ms`): the time
 * a commit may keep failing before the writer gives up, and its backoff. Null when none is set.
 */
function commitRetry(s: (k: string) => string | undefined): Record<string, number> | null {
  const at = (k: string): number | undefined => {
    const v = s(`iceberg.tables.auto-create-props.commit.retry.${k}`);
    return v === undefined ? undefined : Number(v);
  };
  const out: Record<string, number> = {};
  const total = at('total-timeout-ms');
  const min = at('min-wait-ms');
  const max = at('max-wait-ms');
  if (total !== undefined) out.maxElapsedMs = total;
  if (min !== undefined) out.backoffBaseMs = min;
  if (max !== undefined) out.backoffMaxMs = max;
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * `maintenance.expire` from Iceberg's snapshot retention table properties in the connector config
 * (`iceberg.tables.auto-create-props.history.expire.max-snapshot-age-ms` / `min-snapshots-to-keep`): how long
 * snapshots are kept, and how many at least. Null when neither is set.
 */
function expireRetention(s: (k: string) => string | undefined): Record<string, number> | null {
  const age = s('iceberg.tables.auto-create-props.history.expire.max-snapshot-age-ms');
  const keep = s('iceberg.tables.auto-create-props.history.expire.min-snapshots-to-keep');
  if (age === undefined && keep === undefined) return null;
  return { ...(age !== undefined ? { olderThanMs: Number(age) } : {}), ...(keep !== undefined ? { keepLast: Number(keep) } : {}) };
}

/**
 * `iceberg.*` keys floe does not map because its own behaviour already is what they ask for, or because they
 * configure the Connect sink's machinery that floe replaces; with the value (and whether the connector has a
 * DebeziumTransform) when that decides.
 */
const COVERED: Readonly<Record<string, (value: string, debeziumTransform: boolean) => boolean>> = {
  'iceberg.tables.evolve-schema-enabled': (v) => v === 'true', // floe always evolves the schema (false is not honoured: warned)
  'iceberg.tables.dynamic-enabled': () => true, // floe routes every record by its source table (cdc.target.pattern / iceberg.tables)
  'iceberg.tables.route-field': (_v, dbz) => dbz, // the DebeziumTransform's _cdc.target, which floe computes from the same pattern
  'iceberg.tables.default-commit-branch': (v) => v === 'main', // floe commits to main
  'iceberg.catalog.io-impl': () => true, // floe has its own S3 FileIO
  // The sink's commit coordinator: floe keeps offsets in the snapshots it commits, with no control topic.
  'iceberg.control.topic': () => true,
  'iceberg.control.commit.timeout-ms': () => true,
  'iceberg.control.commit.threads': () => true,
  'iceberg.control.group-id-prefix': () => true,
  'iceberg.connect.group-id': () => true,
  'iceberg.coordinator.transactional.prefix': () => true,
};

/**
 * The connector's `iceberg.*` keys floe neither maps nor covers (e.g. iceberg.tables.auto-create-props.*,
 * iceberg.table.<t>.id-columns, iceberg.hadoop.*, other iceberg.catalog.* client settings), sorted. loadConfig
 * logs them in one warning rather than failing: a real connector config carries many keys for the Connect
 * sink's own machinery and its Hadoop and catalog clients, and refusing to start over a key that does not
 * matter would break configs users keep in sync with the running connector; the warning names what floe does
 * not honour so they can check whether it matters. Keys outside `iceberg.*` belong to the Connect framework
 * (connector.class, tasks.max, converters, transforms, errors.*) and are not listed.
 */
export function unmappedKafkaConnectKeys(doc: unknown): string[] {
  const c = settingsOf(doc);
  const transforms = String(c.transforms ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  const dbz = transforms.some((t) => String(c[`transforms.${t}.type`] ?? '').endsWith('DebeziumTransform'));
  return Object.keys(c)
    .filter((k) => k.startsWith('iceberg.') && !MAPPED.has(k) && !MAPPED_PATTERNS.some((re) => re.test(k)))
    .filter((k) => COVERED[k]?.(String(c[k] ?? '').trim(), dbz) !== true)
    .sort();
}

export function fromKafkaConnect(doc: unknown, env: NodeJS.ProcessEnv): Json {
  const root = doc as Json;
  const c = ((root.config ?? root) as Record<string, unknown>);
  const s = (k: string): string | undefined => {
    const v = c[k];
    return v === undefined || v === null ? undefined : String(v).trim();
  };
  const name = String(root.name ?? s('name') ?? 'iceberg-sink');
  const fail = (key: string, msg: string): never => {
    throw new FloeError('config_invalid', `Kafka Connect config ${key}: ${msg}`, { field: key });
  };

  const catalogType = s('iceberg.catalog.type') ?? (/restcatalog$/i.test(s('iceberg.catalog.catalog-impl') ?? '') ? 'rest' : undefined);
  if (catalogType !== 'rest') {
    fail('iceberg.catalog.type', `floe supports REST catalogs (S3 Tables, Glue's Iceberg REST endpoint, Polaris...), got "${catalogType ?? s('iceberg.catalog.catalog-impl') ?? 'none'}"`);
  }
  let auth: Json = { type: 'none' };
  if (s('iceberg.catalog.rest.sigv4-enabled') === 'true') {
    auth = { type: 'sigv4', signingName: s('iceberg.catalog.rest.signing-name') ?? 'execute-api', region: s('iceberg.catalog.rest.signing-region') ?? s('iceberg.catalog.client.region') ?? env.AWS_REGION ?? '' };
  } else if (s('iceberg.catalog.credential') !== undefined) {
    const [clientId, clientSecret] = (s('iceberg.catalog.credential') ?? '').split(':');
    if (clientId === undefined || clientSecret === undefined) fail('iceberg.catalog.credential', 'must be "client_id:client_secret"');
    auth = { type: 'oauth2', clientId, clientSecret, ...(s('iceberg.catalog.oauth2-server-uri') !== undefined ? { serverUri: s('iceberg.catalog.oauth2-server-uri') } : {}), ...(s('iceberg.catalog.scope') !== undefined ? { scope: s('iceberg.catalog.scope') } : {}) };
  } else if (s('iceberg.catalog.token') !== undefined) {
    auth = { type: 'bearer', token: s('iceberg.catalog.token') };
  }

  const transforms = (s('transforms') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  const debeziumTransform = transforms.find((t) => (s(`transforms.${t}.type`) ?? '').endsWith('DebeziumTransform'));
  const pattern = debeziumTransform !== undefined ? (s(`transforms.${debeziumTransform}.cdc.target.pattern`) ?? '{db}.{table}') : undefined;
  const staticTables = (s('iceberg.tables') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (pattern === undefined && staticTables.length > 1) fail('iceberg.tables', 'floe routes each source table to one Iceberg table: use a DebeziumTransform cdc.target.pattern instead of a static list');

  const overrides: Record<string, Json> = {};
  for (const key of Object.keys(c)) {
    const m = /^iceberg\.table\.(.+)\.partition-by$/.exec(key);
    if (m?.[1] !== undefined) overrides[m[1].toLowerCase()] = { partitionBy: s(key) };
  }
  const kafkaProps: Json = {};
  for (const key of Object.keys(c)) {
    if (key.startsWith('iceberg.kafka.') && key !== 'iceberg.kafka.bootstrap.servers') kafkaProps[key.slice('iceberg.kafka.'.length)] = s(key);
  }
  const upsert = s('iceberg.tables.upsert-mode-enabled');
  if (upsert === 'false') {
    fail('iceberg.tables.upsert-mode-enabled', 'floe applies change events as upserts by primary key; append-only mode is not supported');
  }
  const s3: Json = {};
  if (s('iceberg.catalog.s3.endpoint') !== undefined) s3.endpoint = s('iceberg.catalog.s3.endpoint');
  if (s('iceberg.catalog.s3.path-style-access') !== undefined) s3.pathStyle = s('iceberg.catalog.s3.path-style-access') === 'true';
  if (s('iceberg.catalog.client.region') !== undefined) s3.region = s('iceberg.catalog.client.region');
  if (s('iceberg.catalog.s3.access-key-id') !== undefined) {
    s3.accessKeyId = s('iceberg.catalog.s3.access-key-id');
    s3.secretAccessKey = s('iceberg.catalog.s3.secret-access-key');
  }

  return {
    kafka: {
      brokers: s('iceberg.kafka.bootstrap.servers') ?? env.FLOE_KAFKA_BROKERS ?? '',
      groupId: s('iceberg.control.group-id') ?? s('iceberg.control.group.id') ?? `floe-${name}`,
      ...(s('topics') !== undefined ? { topics: s('topics') } : {}),
      ...(s('topics.regex') !== undefined ? { topicPattern: s('topics.regex') } : {}),
      ...(s('errors.deadletterqueue.topic.name') !== undefined ? { deadLetterTopic: s('errors.deadletterqueue.topic.name') } : {}),
      properties: kafkaProps,
    },
    catalog: {
      type: 'rest',
      name: s('iceberg.catalog') ?? 'rest',
      uri: s('iceberg.catalog.uri'),
      ...(s('iceberg.catalog.warehouse') !== undefined ? { warehouse: s('iceberg.catalog.warehouse') } : {}),
      auth,
    },
    s3,
    decode: {
      ...(s('iceberg.tables.default-id-columns') !== undefined ? { idColumns: s('iceberg.tables.default-id-columns') } : {}),
      ...(debeziumTransform === undefined && s('iceberg.tables.cdc-field') !== undefined ? { cdcField: s('iceberg.tables.cdc-field') } : {}),
    },
    route: { pattern: pattern ?? (staticTables[0] !== undefined ? staticTables[0].toLowerCase() : '{db}.{table}') },
    tables: {
      autoCreate: s('iceberg.tables.auto-create-enabled') !== 'false',
      defaults: { ...(s('iceberg.tables.default-partition-by') !== undefined ? { partitionBy: s('iceberg.tables.default-partition-by') } : {}) },
      overrides,
    },
    commit: {
      intervalMs: Number(s('iceberg.control.commit.interval-ms') ?? s('iceberg.commit.interval-ms') ?? s('commit.interval-ms') ?? 300_000),
      // Iceberg's commit retry table properties (commit.retry.total-timeout-ms, min-wait-ms, max-wait-ms), as the
      // sink's connector config carries them for auto-created tables: floe's outage budget and backoff.
      ...(commitRetry(s) !== null ? { retry: commitRetry(s) } : {}),
    },
    ...(expireRetention(s) !== null ? { maintenance: { expire: expireRetention(s) } } : {}),
    shutdown: { timeoutMs: Math.max(60_000, Number(s('iceberg.control.commit.interval-ms') ?? s('commit.interval-ms') ?? 300_000) + 60_000) },
  };
}
