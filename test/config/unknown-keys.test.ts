// Proves unknown configuration keys are errors at every level of the YAML config, naming the key's full path and the nearest valid key (or the level's valid keys), while free-form maps and table names take any key; misspelt partition/sort transforms fail at startup; every key config.ts reads is in the key list; and a Kafka Connect config's iceberg.* keys floe does not use are warned about once, not rejected.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertConfigInvalid } from '../support/config-errors.js';
import { FloeError } from '../../src/errors.js';
import { loadConfig, validateConfig } from '../../src/config/config.js';
import { editDistance, nearest, unknownKeys } from '../../src/config/keys.js';
import { unmappedKafkaConnectKeys } from '../../src/config/kafka-connect.js';

type Json = Record<string, unknown>;

const base = (): Json => ({
  kafka: { brokers: 'localhost:9092', topics: ['cdc.shop.orders'] },
  catalog: { type: 'sql', path: '/var/lib/floe/catalog.db', warehouse: 'file:///var/lib/floe/warehouse' },
});

/** `base()` with `value` set at the dotted `path` (segments in quotes may hold dots: tables.overrides."shop.orders".x). */
function withKey(path: string, value: unknown): Json {
  const doc = base();
  const parts = path.match(/"[^"]+"|[^.]+/g)!.map((p) => p.replaceAll('"', ''));
  let o = doc;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Json;
  o[parts.at(-1)!] = value;
  return doc;
}

describe('unknown configuration keys', () => {
  it('are errors at every level, naming the full path and the nearest valid key', () => {
    const cases: [string, unknown, string, string][] = [
      ['kafka.brokres', 'b:9092', 'kafka.brokres', 'brokers'],
      ['kafka.auth.usrname', 'u', 'kafka.auth.usrname', 'username'],
      ['kafka.tls.enable', true, 'kafka.tls.enable', 'enabled'],
      ['catalog.warehose', 'x', 'catalog.warehose', 'warehouse'],
      ['catalog.auth.signingname', 's3tables', 'catalog.auth.signingname', 'signingName'],
      ['s3.endpont', 'http://x', 's3.endpont', 'endpoint'],
      ['decode.idColumn', ['id'], 'decode.idColumn', 'idColumns'],
      ['decode.schemaRegistry.ulr', 'http://r', 'decode.schemaRegistry.ulr', 'url'],
      ['route.patern', '{db}.{table}', 'route.patern', 'pattern'],
      ['tables.autocreate', true, 'tables.autocreate', 'autoCreate'],
      ['tables.defaults.partitonBy', ['day(ts)'], 'tables.defaults.partitonBy', 'partitionBy'],
      ['tables.overrides."shop.orders".sortby', ['id'], 'tables.overrides.shop.orders.sortby', 'sortBy'],
      ['tables.overrides."shop.orders".onIncompatibleChanges', 'fail', 'tables.overrides.shop.orders.onIncompatibleChanges', 'onIncompatibleChange'],
      ['commit.interval', 1000, 'commit.interval', 'intervalMs'],
      ['consume.batchmax', 10, 'consume.batchmax', 'batchMax'],
      ['workers.cout', 2, 'workers.cout', 'count'],
      ['shutdown.timeout', 60_000, 'shutdown.timeout', 'timeoutMs'],
      ['metrics.prot', 9464, 'metrics.prot', 'port'],
      ['comit', {}, 'comit', 'commit'],
    ];
    for (const [path, value, field, near] of cases) {
      assertConfigInvalid(() => validateConfig(withKey(path, value), {}), field, new RegExp(`^config ${field.replaceAll('.', '\\.')}: unknown key; did you mean ${near}\\?$`));
    }
  });

  it('the issue\'s example, from a YAML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'floe-keys-'));
    try {
      const path = join(dir, 'floe.yaml');
      await writeFile(path, 'kafka: { brokers: b:9092, topics: [t] }\ncatalog: { type: sql, path: /c.db, warehouse: /wh }\ntables:\n  defaults:\n    partitonBy: ["month(created_date)"]\n');
      await assert.rejects(loadConfig(path, {}), (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.message === 'config tables.defaults.partitonBy: unknown key; did you mean partitionBy?');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a key at the wrong level points to where it belongs; a key near nothing lists the level\'s keys', () => {
    assertConfigInvalid(() => validateConfig(withKey('tables.partitionBy', ['region']), {}), 'tables.partitionBy', /unknown key here; did you mean tables\.defaults\.partitionBy or tables\.overrides\.<name>\.partitionBy\?$/);
    assertConfigInvalid(() => validateConfig(withKey('kafka.intervalMs', 5), {}), 'kafka.intervalMs', /did you mean commit\.intervalMs or maintenance\.intervalMs\?$/);
    assertConfigInvalid(() => validateConfig(withKey('consume.batchSize', 10), {}), 'consume.batchSize', /^config consume\.batchSize: unknown key \(valid keys here: batchMax, timeoutMs\)$/);
    assertConfigInvalid(() => validateConfig(withKey('floe', {}), {}), 'floe', /valid keys here: kafka, catalog, s3, decode, route, tables, commit, consume, workers, shutdown, index, metrics, maintenance\)$/);
  });

  it('every unknown key is named in one error (the first is the field)', () => {
    const doc = withKey('kafka.brokres', 'b');
    (doc.catalog as Json).pth = '/x';
    doc.tables = { defaults: { sortyBy: [] } };
    assert.throws(() => validateConfig(doc, {}), (e: unknown) => {
      assert.ok(e instanceof FloeError);
      assert.equal(e.details.field, 'kafka.brokres');
      assert.deepEqual(e.details.fields, ['kafka.brokres', 'catalog.pth', 'tables.defaults.sortyBy']);
      assert.equal(e.message.split('\n').length, 3);
      assert.match(e.message, /config catalog\.pth: unknown key; did you mean path\?/);
      assert.match(e.message, /config tables\.defaults\.sortyBy: unknown key; did you mean sortBy\?/);
      return true;
    });
  });

  it('free-form maps and table names take any key', () => {
    const cfg = validateConfig({
      ...base(),
      kafka: { brokers: 'b:9092', topics: ['t'], properties: { 'fetch.max.bytes': 1, 'anything.at.all': 'x' } },
      tables: { defaults: { properties: { 'write.metadata.delete-after-commit.enabled': 'true' } }, overrides: { 'shop.orders': { properties: { 'x.y': 'z' }, partitionBy: ['region'] } } },
    }, {});
    assert.equal(cfg.kafka.properties['anything.at.all'], 'x');
    assert.equal(cfg.tables.overrides['shop.orders']?.properties?.['x.y'], 'z');
  });

  it('dotted keys are known only where the reader finds them', () => {
    assert.deepEqual(unknownKeys({ kafka: { 'auth.type': 'none' }, 'commit.intervalMs': 5 }), []);
    assert.deepEqual(unknownKeys({ tables: { overrides: { 'shop.orders': { partitionBy: [] } } } }), []);
    // below a value, or through a level of names: the reader would not find these
    assert.deepEqual(unknownKeys({ commit: { 'intervalMs.x': 5 }, tables: { 'overrides.shop.orders': {} } }).map(([p]) => p), ['commit.intervalMs.x', 'tables.overrides.shop.orders']);
  });

  it('misspelt transforms fail at startup, naming the nearest one', () => {
    assertConfigInvalid(() => validateConfig(withKey('tables.defaults.partitionBy', ['months(created_date)']), {}), 'tables.defaults.partitionBy', /unknown transform "months" in "months\(created_date\)"; did you mean month\?/);
    assertConfigInvalid(() => validateConfig(withKey('tables.overrides."shop.orders".sortBy', ['dya(ts) desc']), {}), 'tables.overrides.shop.orders.sortBy', /unknown transform "dya" .*did you mean day\?/);
    assertConfigInvalid(() => validateConfig(withKey('tables.defaults.partitionBy', ['bucket(id)']), {}), 'tables.defaults.partitionBy', /bucket needs a bucket count, e\.g\. bucket\(16, id\)/);
    assertConfigInvalid(() => validateConfig(withKey('tables.defaults.partitionBy', ['day(4, ts)']), {}), 'tables.defaults.partitionBy', /day takes only a column/);
    assert.deepEqual(validateConfig(withKey('tables.defaults.partitionBy', ['identity(region)', 'void(x)', 'truncate(4, name)', 'hour(ts)']), {}).tables.defaults.partitionBy.length, 4);
  });

  it('edit distance counts a transposition as one edit, case-insensitively; nearest keeps to likely typos', () => {
    assert.equal(editDistance('brokres', 'brokers'), 1);
    assert.equal(editDistance('partitionby', 'partitionBy'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(nearest('prot', ['host', 'port']), 'port');
    assert.equal(nearest('batchSize', ['batchMax', 'timeoutMs']), undefined);
  });

  it('every key config.ts reads is a known key', async () => {
    const src = await readFile(new URL('../../../src/config/config.ts', import.meta.url), 'utf8');
    const paths = [...src.matchAll(/\b(?:r\.(?:str|optStr|int|num|bool|strList|map|raw)|oneOf)\((?:r, )?'([\w.]+)'/g)].map((m) => m[1]!);
    assert.ok(paths.length > 50, `found ${paths.length} paths`);
    for (const path of paths) {
      const doc: Json = {};
      let o = doc;
      const parts = path.split('.');
      for (const p of parts.slice(0, -1)) o = (o[p] = {});
      o[parts.at(-1)!] = 1;
      assert.deepEqual(unknownKeys(doc), [], path);
    }
    const tableKeys = [...src.matchAll(/has\('(\w+)'\)/g)].map((m) => m[1]!);
    assert.ok(tableKeys.length >= 7);
    for (const k of tableKeys) assert.deepEqual(unknownKeys({ tables: { defaults: { [k]: 1 }, overrides: { 'a.b': { [k]: 1 } } } }), [], k);
  });
});

describe('Kafka Connect configs: iceberg.* keys floe does not use', () => {
  const sink = (): Record<string, string> => ({
    'connector.class': 'io.tabular.iceberg.connect.IcebergSinkConnector',
    'tasks.max': '1',
    topics: 'cdc.shop.orders',
    'iceberg.catalog.type': 'rest',
    'iceberg.catalog.uri': 'http://localhost:8181',
    'iceberg.catalog.io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
    'iceberg.tables.evolve-schema-enabled': 'true',
    'iceberg.tables.dynamic-enabled': 'true',
    'iceberg.tables.route-field': '_cdc.target',
    'iceberg.control.topic': 'control',
    'iceberg.control.commit.timeout-ms': '60000',
    'iceberg.control.commit.interval-ms': '60000',
    'iceberg.table.Shop.Orders.partition-by': 'region',
    'iceberg.kafka.auto.offset.reset': 'earliest',
    transforms: 'dbz',
    'transforms.dbz.type': 'io.tabular.iceberg.connect.transforms.DebeziumTransform',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'consumer.override.max.poll.records': '500',
  });

  it('mapped keys, keys floe\'s behaviour covers, and Connect framework keys are not listed', () => {
    assert.deepEqual(unmappedKafkaConnectKeys(sink()), []);
    assert.deepEqual(unmappedKafkaConnectKeys({ name: 'x', config: sink() }), []);
  });

  it('lists the others, sorted; a covering key with a value floe does not honour is listed too', () => {
    const doc = { ...sink(), 'iceberg.tables.auto-create-props.format-version': '3', 'iceberg.table.shop.orders.id-columns': 'order_id', 'iceberg.hadoop.fs.s3a.endpoint': 'http://s3', 'iceberg.tables.evolve-schema-enabled': 'false' };
    assert.deepEqual(unmappedKafkaConnectKeys(doc), ['iceberg.hadoop.fs.s3a.endpoint', 'iceberg.table.shop.orders.id-columns', 'iceberg.tables.auto-create-props.format-version', 'iceberg.tables.evolve-schema-enabled']);
    const noDbz: Record<string, string> = { ...sink() };
    delete noDbz.transforms;
    assert.deepEqual(unmappedKafkaConnectKeys(noDbz), ['iceberg.tables.route-field']);
  });

  describe('loadConfig', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'floe-kc-keys-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('warns once naming them, and loads the config', async () => {
      const path = join(dir, 'sink.json');
      await writeFile(path, JSON.stringify({ ...sink(), 'iceberg.hadoop.fs.s3a.endpoint': 'http://s3', 'iceberg.tables.schema-force-optional': 'true' }));
      const warnings: [string, Json][] = [];
      const cfg = await loadConfig(path, { FLOE_KAFKA_BROKERS: 'b:9092' }, (msg, fields) => warnings.push([msg, fields]));
      assert.equal(cfg.catalog.type, 'rest');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]![0], /floe does not use these iceberg\.\* keys/);
      assert.deepEqual(warnings[0]![1].keys, ['iceberg.hadoop.fs.s3a.endpoint', 'iceberg.tables.schema-force-optional']);
      const clean = join(dir, 'clean.json');
      await writeFile(clean, JSON.stringify(sink()));
      const none: unknown[] = [];
      await loadConfig(clean, { FLOE_KAFKA_BROKERS: 'b:9092' }, (m) => none.push(m));
      assert.deepEqual(none, []);
    });
  });
});
