// Proves the migration path from the Iceberg Kafka Connect sink: a production S3 Tables connector config maps to the equivalent floe config, and what floe cannot do (append-only mode, non-REST catalogs) is rejected with a clear message.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertConfigInvalid } from '../support/config-errors.js';
import { FloeError } from '../../src/errors.js';
import { defaultIndexMemoryBytesMax, defaultWorkerCount, loadConfig, validateConfig, type FloeConfig } from '../../src/config/config.js';
import { fromKafkaConnect, isKafkaConnectConfig, unmappedKafkaConnectKeys } from '../../src/config/kafka-connect.js';

const WAREHOUSE = 'arn:aws:s3tables:ap-northeast-2:111122223333:bucket/remember-cdc';

/**
 * The production sink config published by Remember & Company on the AWS Korea blog (Aurora MySQL → Debezium → MSK →
 * Tabular IcebergSinkConnector → S3 Tables), verbatim but for the bucket ARN placeholder, the `#` comments and a
 * missing comma that made the published snippet invalid JSON.
 */
function productionSink(): Record<string, string> {
  return {
    'connector.class': 'io.tabular.iceberg.connect.IcebergSinkConnector',
    'tasks.max': '1',
    'iceberg.catalog.type': 'rest',
    'iceberg.catalog.io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
    'iceberg.catalog.uri': 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg',
    'iceberg.catalog.warehouse': WAREHOUSE,
    'iceberg.catalog.client.region': 'ap-northeast-2',
    'iceberg.catalog.rest.sigv4-enabled': 'true',
    'iceberg.catalog.rest.signing-region': 'ap-northeast-2',
    'iceberg.catalog.rest.signing-name': 's3tables',

    'iceberg.tables.evolve-schema-enabled': 'true',
    'iceberg.tables.upsert-mode-enabled': 'true',
    'iceberg.tables.dynamic-enabled': 'true',
    'iceberg.tables.auto-create-enabled': 'true',
    'errors.log.enable': 'true',
    'iceberg.control.commit.timeout-ms': '60000',
    'iceberg.control.commit.interval-ms': '600000',
    'iceberg.control.topic': 'cdc.s3tables.control_v1',
    topics: 'Topic1, Topic2',

    transforms: 'dbztransform',
    'transforms.dbztransform.type': 'io.tabular.iceberg.connect.transforms.DebeziumTransform',
    'iceberg.tables.cdc-field': '_cdc.op',
    'iceberg.tables.route-field': '_cdc.target',
    'transforms.dbztransform.cdc.target.pattern': '{db}.{table}',
    'iceberg.tables.default-id-columns': 'id',
  };
}

const ENV = { FLOE_KAFKA_BROKERS: 'b-1.msk.ap-northeast-2.amazonaws.com:9098,b-2.msk.ap-northeast-2.amazonaws.com:9098' };

function expected(groupId: string): FloeConfig {
  return {
    kafka: { brokers: ENV.FLOE_KAFKA_BROKERS, groupId, topics: ['Topic1', 'Topic2'], deadLetterTopic: 'floe.dead-letter', properties: {}, auth: { type: 'none' }, tls: { enabled: false } },
    catalog: {
      type: 'rest',
      name: 'rest',
      uri: 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg',
      warehouse: WAREHOUSE,
      auth: { type: 'sigv4', signingName: 's3tables', region: 'ap-northeast-2' },
    },
    s3: { region: 'ap-northeast-2', pathStyle: false },
    // DebeziumTransform is present: envelopes are decoded natively, so `_cdc.op` is not a cdc field here
    decode: { idColumns: ['id'], timeAs: 'time', outOfRange: 'dead-letter' },
    route: { pattern: '{db}.{table}', include: [], exclude: [] },
    tables: { autoCreate: true, defaults: { partitionBy: [], sortBy: [], formatVersion: 2, properties: {}, onIncompatibleChange: 'fail', deleteMode: 'position', onDuplicateKeys: 'repair', maintenance: 'managed' }, overrides: {} },
    commit: { intervalMs: 600_000, bufferBytesMax: 512 * 1024 * 1024, targetFileSizeBytes: 512 * 1024 * 1024, codec: 'zstd', tableCommitsInFlightMax: 8, deletionVectorFiles: 'data/*.puffin', deletionVectorsPerFileMax: 1, retry: { maxElapsedMs: 900_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000 } },
    consume: { batchMax: 10_000, timeoutMs: 200 },
    workers: { count: defaultWorkerCount(), queueMax: 4, heapMb: 2048 },
    // the shutdown must fit a final commit: one interval plus a minute
    shutdown: { timeoutMs: 660_000 },
    metrics: { enabled: true, host: '0.0.0.0', port: 9464, livenessStallMs: 300_000 },
    maintenance: {
      enabled: true, intervalMs: 600_000, budgetMs: 60_000,
      rewriteData: { enabled: true, targetFileSizeBytes: 512 * 1024 * 1024, minFileSizeRatio: 0.75, deleteRatioMin: 0.2, minInputFiles: 5, groupBytesMax: 1024 ** 3, runBytesMax: 4 * 1024 ** 3, commitAttemptsMax: 4 },
      rewriteDeletes: { enabled: true, convertEqualityDeletes: true, minInputFiles: 2 },
      manifests: { enabled: true, targetManifestBytes: 8 * 1024 * 1024, minManifests: 2 },
      expire: { enabled: true, olderThanMs: 5 * 86_400_000, keepLast: 100 },
      orphans: { enabled: true, olderThanMs: 3 * 86_400_000 },
    },
    index: { memoryBytesMax: defaultIndexMemoryBytesMax({ count: defaultWorkerCount(), queueMax: 4, heapMb: 2048 }), spillDir: join(tmpdir(), 'floe-index'), bootstrapThreads: 0, shardByPartition: true },
  };
}

function rejectsWith(doc: unknown, field: string, message: RegExp): void {
  assertConfigInvalid(() => fromKafkaConnect(doc, ENV), field, message);
}

describe('isKafkaConnectConfig', () => {
  it('recognizes Iceberg sink connector configs, flat or as the Connect REST body', () => {
    assert.equal(isKafkaConnectConfig(productionSink()), true);
    assert.equal(isKafkaConnectConfig({ name: 's3tables-sink', config: productionSink() }), true);
    assert.equal(isKafkaConnectConfig({ 'connector.class': 'org.apache.iceberg.connect.IcebergSinkConnector' }), true);
  });

  it('does not take floe configs or other connectors for one', () => {
    assert.equal(isKafkaConnectConfig({ kafka: { brokers: 'b:9092' }, catalog: { type: 'rest' } }), false);
    assert.equal(isKafkaConnectConfig({ 'connector.class': 'io.debezium.connector.mysql.MySqlConnector' }), false);
    assert.equal(isKafkaConnectConfig(null), false);
    assert.equal(isKafkaConnectConfig('io.tabular.iceberg.connect.IcebergSinkConnector'), false);
  });
});

describe('fromKafkaConnect', () => {
  it('maps the production S3 Tables sink to the equivalent floe config', () => {
    const cfg = validateConfig(fromKafkaConnect(productionSink(), ENV), ENV);
    assert.deepEqual(cfg, expected('floe-iceberg-sink'));
    assert.ok(Object.isFrozen(cfg.catalog));
  });

  it('uses the connector name for the consumer group (Connect REST body form)', () => {
    const cfg = validateConfig(fromKafkaConnect({ name: 's3tables-sink', config: productionSink() }, ENV), ENV);
    assert.deepEqual(cfg, expected('floe-s3tables-sink'));
  });

  it('keeps auto-create off when the connector had it off (the blog’s recommended production setting)', () => {
    const cfg = validateConfig(fromKafkaConnect({ ...productionSink(), 'iceberg.tables.auto-create-enabled': 'false' }, ENV), ENV);
    assert.equal(cfg.tables.autoCreate, false);
  });

  it('takes the outage budget and backoff from Iceberg\'s commit retry properties in the connector config', () => {
    const sink = {
      ...productionSink(),
      'iceberg.tables.auto-create-props.commit.retry.total-timeout-ms': '600000',
      'iceberg.tables.auto-create-props.commit.retry.min-wait-ms': '500',
      'iceberg.tables.auto-create-props.commit.retry.max-wait-ms': '20000',
    };
    assert.deepEqual(validateConfig(fromKafkaConnect(sink, ENV), ENV).commit.retry, { maxElapsedMs: 600_000, backoffBaseMs: 500, backoffMaxMs: 20_000 });
    assert.deepEqual(unmappedKafkaConnectKeys(sink), unmappedKafkaConnectKeys(productionSink()));
    assert.deepEqual(validateConfig(fromKafkaConnect(productionSink(), ENV), ENV).commit.retry, { maxElapsedMs: 900_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000 });
  });

  it('needs brokers from the connector or the environment', () => {
    assert.throws(() => validateConfig(fromKafkaConnect(productionSink(), {}), {}), (e: unknown) => e instanceof FloeError && e.details.field === 'kafka.brokers');
    const own = validateConfig(fromKafkaConnect({ ...productionSink(), 'iceberg.kafka.bootstrap.servers': 'k:9092', 'iceberg.kafka.security.protocol': 'SASL_SSL' }, {}), {});
    assert.equal(own.kafka.brokers, 'k:9092');
    assert.deepEqual(own.kafka.properties, { 'security.protocol': 'SASL_SSL' });
  });

  it('maps topics.regex, DLQ, group id, S3 overrides, partitioning and a cdc field without DebeziumTransform', () => {
    const doc: Record<string, string> = {
      ...productionSink(),
      'topics.regex': 'cdc\\.shop\\..*',
      'errors.deadletterqueue.topic.name': 'cdc.dlq',
      'iceberg.control.group-id': 'cg-cdc',
      'iceberg.catalog.s3.endpoint': 'http://seaweed:8333',
      'iceberg.catalog.s3.path-style-access': 'true',
      'iceberg.tables.default-partition-by': 'day(updated_at)',
      'iceberg.table.Shop.Orders.partition-by': 'region',
      'iceberg.control.commit.interval-ms': '60000',
    };
    delete doc.topics;
    delete doc.transforms;
    delete doc['transforms.dbztransform.type'];
    delete doc['transforms.dbztransform.cdc.target.pattern'];
    const cfg = validateConfig(fromKafkaConnect(doc, ENV), ENV);
    assert.equal(cfg.kafka.topicPattern, 'cdc\\.shop\\..*');
    assert.equal(cfg.kafka.topics, undefined);
    assert.equal(cfg.kafka.deadLetterTopic, 'cdc.dlq');
    assert.equal(cfg.kafka.groupId, 'cg-cdc');
    assert.deepEqual(cfg.s3, { region: 'ap-northeast-2', endpoint: 'http://seaweed:8333', pathStyle: true });
    assert.deepEqual(cfg.decode, { idColumns: ['id'], cdcField: '_cdc.op', timeAs: 'time', outOfRange: 'dead-letter' });
    assert.equal(cfg.route.pattern, '{db}.{table}');
    assert.deepEqual(cfg.tables.defaults.partitionBy, ['day(updated_at)']);
    assert.deepEqual(cfg.tables.overrides, { 'shop.orders': { partitionBy: ['region'] } });
    assert.equal(cfg.commit.intervalMs, 60_000);
    assert.equal(cfg.shutdown.timeoutMs, 120_000);
  });

  it('maps oauth2 credentials and bearer tokens', () => {
    const base = { 'connector.class': 'org.apache.iceberg.connect.IcebergSinkConnector', 'iceberg.catalog.type': 'rest', 'iceberg.catalog.uri': 'https://polaris:8181/api/catalog', topics: 't' };
    const o = validateConfig(fromKafkaConnect({ ...base, 'iceberg.catalog.credential': 'client:secret', 'iceberg.catalog.scope': 'PRINCIPAL_ROLE:ALL' }, ENV), ENV);
    assert.deepEqual(o.catalog.type === 'rest' && o.catalog.auth, { type: 'oauth2', clientId: 'client', clientSecret: 'secret', scope: 'PRINCIPAL_ROLE:ALL' });
    const b = validateConfig(fromKafkaConnect({ ...base, 'iceberg.catalog.token': 'tok' }, ENV), ENV);
    assert.deepEqual(b.catalog.type === 'rest' && b.catalog.auth, { type: 'bearer', token: 'tok' });
    rejectsWith({ ...base, 'iceberg.catalog.credential': 'no-colon' }, 'iceberg.catalog.credential', /must be "client_id:client_secret"/);
  });

  it('accepts a REST catalog given by its implementation class', () => {
    const doc: Record<string, string> = { ...productionSink(), 'iceberg.catalog.catalog-impl': 'org.apache.iceberg.rest.RESTCatalog' };
    delete doc['iceberg.catalog.type'];
    const cfg = validateConfig(fromKafkaConnect(doc, ENV), ENV);
    assert.equal(cfg.catalog.type, 'rest');
    assert.equal(cfg.catalog.type === 'rest' && cfg.catalog.uri, 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg');
  });

  it('rejects append-only mode', () => {
    rejectsWith(
      { ...productionSink(), 'iceberg.tables.upsert-mode-enabled': 'false' },
      'iceberg.tables.upsert-mode-enabled',
      /^Kafka Connect config iceberg\.tables\.upsert-mode-enabled: floe applies change events as upserts by primary key; append-only mode is not supported$/,
    );
  });

  it('rejects non-REST catalogs, saying which one it got', () => {
    rejectsWith({ ...productionSink(), 'iceberg.catalog.type': 'hive' }, 'iceberg.catalog.type', /^Kafka Connect config iceberg\.catalog\.type: floe supports REST catalogs .*, got "hive"$/);
    for (const impl of ['org.apache.iceberg.aws.glue.GlueCatalog', 'software.amazon.s3tables.iceberg.S3TablesCatalog']) {
      const doc: Record<string, string> = { ...productionSink(), 'iceberg.catalog.catalog-impl': impl };
      delete doc['iceberg.catalog.type'];
      rejectsWith(doc, 'iceberg.catalog.type', new RegExp(`floe supports REST catalogs .*, got "${impl.replaceAll('.', '\\.')}"`));
    }
    const none: Record<string, string> = { ...productionSink() };
    delete none['iceberg.catalog.type'];
    rejectsWith(none, 'iceberg.catalog.type', /got "none"$/);
  });

  it('rejects a static multi-table list without a routing pattern', () => {
    const doc: Record<string, string> = { ...productionSink(), 'iceberg.tables': 'shop.orders, shop.customers' };
    delete doc.transforms;
    rejectsWith(doc, 'iceberg.tables', /use a DebeziumTransform cdc\.target\.pattern/);
    doc['iceberg.tables'] = 'Shop.Orders';
    assert.equal(validateConfig(fromKafkaConnect(doc, ENV), ENV).route.pattern, 'shop.orders');
  });
});

describe('loadConfig on a Kafka Connect file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-kc-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps the connector JSON the user already has', async () => {
    const path = join(dir, 'sink.json');
    await writeFile(path, JSON.stringify({ name: 's3tables-sink', config: productionSink() }, null, 2));
    assert.deepEqual(await loadConfig(path, ENV), expected('floe-s3tables-sink'));
  });

  it('substitutes the environment in the connector config too', async () => {
    const path = join(dir, 'sink-env.json');
    await writeFile(path, JSON.stringify({ ...productionSink(), 'iceberg.catalog.warehouse': '${WAREHOUSE_ARN}' }));
    const cfg = await loadConfig(path, { ...ENV, WAREHOUSE_ARN: WAREHOUSE });
    assert.equal(cfg.catalog.type === 'rest' && cfg.catalog.warehouse, WAREHOUSE);
  });
});
