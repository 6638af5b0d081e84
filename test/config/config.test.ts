// Proves config loading: YAML defaults (the key index budget checked against the memory limit and V8 heaps), ${VAR} / ${VAR:-default} substitution, validation errors that name the field, deep freezing, and loadConfig on temp files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertConfigInvalid } from '../support/config-errors.js';
import { FloeError } from '../../src/errors.js';
import { defaultIndexMemoryBytesMax, defaultWorkerCount, loadConfig, substituteEnv, validateConfig, type FloeConfig } from '../../src/config/config.js';

type Json = Record<string, unknown>;

const base = (): Json => ({
  kafka: { brokers: 'localhost:9092', topics: ['cdc.shop.orders'] },
  catalog: { type: 'sql', path: '/var/lib/floe/catalog.db', warehouse: 'file:///var/lib/floe/warehouse' },
});

/** `base()` with `patch` merged in (objects merge, other values replace; undefined deletes). */
function withPatch(patch: Json, into: Json = base()): Json {
  for (const [k, v] of Object.entries(patch)) {
    const cur = into[k];
    if (v === undefined) delete into[k];
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && cur !== null && typeof cur === 'object' && !Array.isArray(cur)) withPatch(v as Json, cur as Json);
    else into[k] = v;
  }
  return into;
}

function failsOn(input: unknown, field: string, message: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assertConfigInvalid(() => validateConfig(input, env), field, message);
}

describe('validateConfig', () => {
  it('fills every default for a minimal config', () => {
    const cfg = validateConfig(base(), {});
    const want: FloeConfig = {
      kafka: { brokers: 'localhost:9092', groupId: 'floe', topics: ['cdc.shop.orders'], deadLetterTopic: 'floe.dead-letter', properties: {}, auth: { type: 'none' }, tls: { enabled: false } },
      catalog: { type: 'sql', name: 'floe', path: '/var/lib/floe/catalog.db', warehouse: 'file:///var/lib/floe/warehouse' },
      s3: { pathStyle: false },
      decode: { idColumns: [], timeAs: 'time', outOfRange: 'dead-letter' },
      route: { pattern: '{db}.{table}', include: [], exclude: [] },
      tables: { autoCreate: true, defaults: { partitionBy: [], sortBy: [], formatVersion: 2, properties: {}, onIncompatibleChange: 'fail', deleteMode: 'position', onDuplicateKeys: 'repair', maintenance: 'floe' }, overrides: {} },
      commit: { intervalMs: 10_000, bufferBytesMax: 512 * 1024 * 1024, targetFileSizeBytes: 512 * 1024 * 1024, codec: 'zstd', tableCommitsInFlightMax: 8, deletionVectorFiles: 'data/*.puffin', deletionVectorsPerFileMax: 1, retry: { maxElapsedMs: 900_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000 } },
      consume: { batchMax: 10_000, timeoutMs: 200 },
      workers: { count: defaultWorkerCount(), queueMax: 4, heapMb: 2048 },
      shutdown: { timeoutMs: 60_000 },
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
    assert.deepEqual(cfg, want);
  });

  it('reads a full REST config with sigv4, S3 settings, routing and table options', () => {
    const cfg = validateConfig(
      withPatch({
        kafka: { groupId: 'cdc', groupInstanceId: 'floe-0', topics: undefined, topicPattern: '^cdc\\.shop\\..*', deadLetterTopic: 'cdc.dlq', properties: { 'security.protocol': 'SSL', 'fetch.max.bytes': 1048576 } },
        catalog: { type: 'rest', path: undefined, name: 's3tables', uri: 'https://s3tables.us-east-1.amazonaws.com/iceberg', warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/analytics', auth: { type: 'sigv4' } },
        s3: { region: 'us-east-1', endpoint: 'http://localhost:8333' },
        decode: { idColumns: 'id, tenant_id', cdcField: '_cdc.op', timeAs: 'string', outOfRange: 'null' },
        route: { pattern: 'analytics.{db}_{table}', include: ['shop\\..*'], exclude: ['shop\\.tmp_.*'] },
        tables: { autoCreate: 'false', defaults: { partitionBy: ['day(updated_at)'], sortBy: ['updated_at desc nulls last'], formatVersion: 3, properties: { 'write.target-file-size-bytes': 268435456 } }, overrides: { 'analytics.shop_orders': { partitionBy: ['bucket(16, id)'], sortBy: ['truncate(4, region)', 'id asc'], formatVersion: 2, properties: { 'write.delete.mode': 'merge-on-read', 'write.parquet.compression-codec': 'snappy' }, onIncompatibleChange: 'new-column' }, 'analytics.shop_items': { partitionBy: [] } } },
        commit: { intervalMs: '30000', codec: 'SNAPPY', bufferBytesMax: 256 * 1024 * 1024, targetFileSizeBytes: 128 * 1024 * 1024, tableCommitsInFlightMax: 2, deletionVectorFiles: 'metadata/*.stats' },
        consume: { batchMax: 500, timeoutMs: 50 },
        workers: { count: 2, queueMax: 8, heapMb: 1024 },
        shutdown: { timeoutMs: 120_000 },
      }),
      { AWS_REGION: 'us-east-1' },
    );
    assert.deepEqual(cfg.kafka, { brokers: 'localhost:9092', groupId: 'cdc', groupInstanceId: 'floe-0', topicPattern: '^cdc\\.shop\\..*', deadLetterTopic: 'cdc.dlq', properties: { 'security.protocol': 'SSL', 'fetch.max.bytes': '1048576' }, auth: { type: 'none' }, tls: { enabled: false } });
    assert.deepEqual(cfg.catalog, { type: 'rest', name: 's3tables', uri: 'https://s3tables.us-east-1.amazonaws.com/iceberg', warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/analytics', auth: { type: 'sigv4', signingName: 's3tables', region: 'us-east-1' } });
    assert.deepEqual(cfg.s3, { region: 'us-east-1', endpoint: 'http://localhost:8333', pathStyle: true });
    assert.deepEqual(cfg.decode, { idColumns: ['id', 'tenant_id'], cdcField: '_cdc.op', timeAs: 'string', outOfRange: 'null' });
    assert.deepEqual(cfg.route, { pattern: 'analytics.{db}_{table}', include: ['shop\\..*'], exclude: ['shop\\.tmp_.*'] });
    assert.deepEqual(cfg.tables, {
      autoCreate: false,
      defaults: { partitionBy: ['day(updated_at)'], sortBy: ['updated_at desc nulls last'], formatVersion: 3, properties: { 'write.target-file-size-bytes': '268435456' }, onIncompatibleChange: 'fail', deleteMode: 'dv', onDuplicateKeys: 'repair', maintenance: 'managed' },
      overrides: {
        'analytics.shop_orders': { partitionBy: ['bucket(16, id)'], sortBy: ['truncate(4, region)', 'id asc'], formatVersion: 2, properties: { 'write.delete.mode': 'merge-on-read', 'write.parquet.compression-codec': 'snappy' }, onIncompatibleChange: 'new-column' },
        'analytics.shop_items': { partitionBy: [] },
      },
    });
    assert.deepEqual(cfg.commit, { intervalMs: 30_000, bufferBytesMax: 256 * 1024 * 1024, targetFileSizeBytes: 128 * 1024 * 1024, codec: 'snappy', tableCommitsInFlightMax: 2, deletionVectorFiles: 'metadata/*.stats', deletionVectorsPerFileMax: 1, retry: { maxElapsedMs: 900_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000 } });
    assert.deepEqual(cfg.consume, { batchMax: 500, timeoutMs: 50 });
    assert.deepEqual(cfg.workers, { count: 2, queueMax: 8, heapMb: 1024 });
    assert.deepEqual(cfg.shutdown, { timeoutMs: 120_000 });
  });

  it('rejects bad type-mapping, evolution and table-creation options, naming the field', () => {
    failsOn(withPatch({ decode: { timeAs: 'text' } }), 'decode.timeAs', /must be one of time, micros, string, got "text"/);
    failsOn(withPatch({ decode: { outOfRange: 'clamp' } }), 'decode.outOfRange', /must be one of dead-letter, null/);
    failsOn(withPatch({ tables: { defaults: { onIncompatibleChange: 'ignore' } } }), 'tables.defaults.onIncompatibleChange', /must be one of fail, new-column/);
    failsOn(withPatch({ tables: { overrides: { 'a.b': { sortBy: ['id sideways'] } } } }), 'tables.overrides.a.b.sortBy', /cannot parse "id sideways"/);
    failsOn(withPatch({ tables: { defaults: { partitionBy: ['day(created_at'] } } }), 'tables.defaults.partitionBy', /cannot parse "day\(created_at"/);
    assertConfigInvalid(() => validateConfig(withPatch({ tables: { defaults: { properties: { 'write.parquet.compression-codec': 'brotli2' } } } }), {}), 'tables.defaults.properties.write.parquet.compression-codec', /unknown Parquet codec "brotli2"/);
    failsOn(withPatch({ tables: { overrides: { 'a.b': { properties: { 'write.target-file-size-bytes': '12' } } } } }), 'tables.overrides.a.b.properties.write.target-file-size-bytes', /must be an integer from/);
  });

  it('takes brokers, group instance id and region from the environment', () => {
    const cfg = validateConfig(withPatch({ kafka: { brokers: undefined }, catalog: { type: 'rest', uri: 'http://localhost:8181', auth: { type: 'sigv4', signingName: 'execute-api' } } }), {
      FLOE_KAFKA_BROKERS: 'b1:9092,b2:9092',
      FLOE_GROUP_INSTANCE_ID: 'floe-3',
      AWS_REGION: 'eu-west-1',
    });
    assert.equal(cfg.kafka.brokers, 'b1:9092,b2:9092');
    assert.equal(cfg.kafka.groupInstanceId, 'floe-3');
    assert.deepEqual(cfg.catalog.type === 'rest' && cfg.catalog.auth, { type: 'sigv4', signingName: 'execute-api', region: 'eu-west-1' });
  });

  it('reads oauth2 and bearer auth', () => {
    const oauth = validateConfig(withPatch({ catalog: { type: 'rest', path: undefined, warehouse: undefined, uri: 'https://polaris.example.com/api/catalog', auth: { type: 'oauth2', clientId: 'c', clientSecret: 's', scope: 'PRINCIPAL_ROLE:ALL' } } }), {});
    assert.deepEqual(oauth.catalog, { type: 'rest', name: 'rest', uri: 'https://polaris.example.com/api/catalog', auth: { type: 'oauth2', clientId: 'c', clientSecret: 's', scope: 'PRINCIPAL_ROLE:ALL' } });
    const bearer = validateConfig(withPatch({ catalog: { type: 'rest', uri: 'http://localhost:8181', auth: { type: 'bearer', token: 't0k' } } }), {});
    assert.deepEqual(bearer.catalog.type === 'rest' && bearer.catalog.auth, { type: 'bearer', token: 't0k' });
  });

  it('returns a deeply frozen config', () => {
    const cfg = validateConfig(withPatch({ tables: { defaults: { partitionBy: ['day(ts)'] }, overrides: { 'shop.orders': { partitionBy: ['region'] } } } }), {});
    assert.deepEqual(cfg.tables.overrides, { 'shop.orders': { partitionBy: ['region'] } });
    for (const o of [cfg, cfg.kafka, cfg.kafka.topics, cfg.kafka.properties, cfg.catalog, cfg.route.include, cfg.tables, cfg.tables.defaults, cfg.tables.defaults.partitionBy, cfg.tables.overrides, cfg.tables.overrides['shop.orders'], cfg.tables.overrides['shop.orders']?.partitionBy, cfg.commit, cfg.workers]) {
      assert.ok(Object.isFrozen(o));
    }
    assert.throws(() => {
      (cfg.commit as { intervalMs: number }).intervalMs = 1;
    }, TypeError);
    assert.throws(() => {
      (cfg.kafka.topics as string[]).push('other');
    }, TypeError);
    assert.equal(cfg.commit.intervalMs, 10_000);
    assert.deepEqual(cfg.kafka.topics, ['cdc.shop.orders']);
  });

  describe('errors name the field', () => {
    it('the top level must be a mapping', () => {
      for (const bad of [null, [], 'kafka: x', 3]) assert.throws(() => validateConfig(bad, {}), (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && /mapping at the top level/.test(e.message));
    });

    it('kafka.brokers is required', () => {
      failsOn(withPatch({ kafka: { brokers: undefined } }), 'kafka.brokers', /^config kafka\.brokers: is required \(or set FLOE_KAFKA_BROKERS\)$/);
      failsOn(withPatch({ kafka: { brokers: '' } }), 'kafka.brokers', /is required/);
    });

    it('kafka.topics or kafka.topicPattern, exactly one', () => {
      failsOn(withPatch({ kafka: { topics: undefined } }), 'kafka.topics', /^config kafka\.topics: set kafka\.topics or kafka\.topicPattern$/);
      failsOn(withPatch({ kafka: { topics: [] } }), 'kafka.topics', /set kafka\.topics or kafka\.topicPattern/);
      failsOn(withPatch({ kafka: { topicPattern: 'cdc\\..*' } }), 'kafka.topicPattern', /^config kafka\.topicPattern: set either kafka\.topics or kafka\.topicPattern, not both$/);
    });

    it('kafka.topicPattern must be a valid regex', () => {
      failsOn(withPatch({ kafka: { topics: undefined, topicPattern: 'cdc\\.(shop' } }), 'kafka.topicPattern', /^config kafka\.topicPattern: invalid regular expression: .*Unterminated group/);
    });

    it('kafka.topics must be strings and must not contain the dead-letter topic', () => {
      failsOn(withPatch({ kafka: { topics: ['a', 3] } }), 'kafka.topics', /must be a list of strings/);
      failsOn(withPatch({ kafka: { topics: ['a', 'floe.dead-letter'] } }), 'kafka.deadLetterTopic', /must not be one of the consumed topics/);
    });

    it('catalog.type must be rest or sql', () => {
      failsOn(withPatch({ catalog: { type: 'hive' } }), 'catalog.type', /^config catalog\.type: must be rest or sql, got "hive"$/);
      failsOn(withPatch({ catalog: { type: undefined } }), 'catalog.type', /^config catalog\.type: is required$/);
    });

    it('catalog fields by type', () => {
      failsOn(withPatch({ catalog: { path: undefined } }), 'catalog.path', /is required/);
      failsOn(withPatch({ catalog: { type: 'rest' } }), 'catalog.uri', /is required/);
      failsOn(withPatch({ catalog: { type: 'rest', uri: 'thrift://hms:9083' } }), 'catalog.uri', /must be an http\(s\) URL, got "thrift:\/\/hms:9083"/);
      failsOn(withPatch({ catalog: { type: 'rest', uri: 'http://x', auth: { type: 'kerberos' } } }), 'catalog.auth.type', /must be none, sigv4, oauth2 or bearer, got "kerberos"/);
      failsOn(withPatch({ catalog: { type: 'rest', uri: 'http://x', auth: { type: 'oauth2', clientId: 'c' } } }), 'catalog.auth.clientSecret', /is required/);
      failsOn(withPatch({ catalog: { type: 'rest', uri: 'http://x', auth: { type: 'bearer' } } }), 'catalog.auth.token', /is required/);
    });

    it('sigv4 needs a region', () => {
      failsOn(withPatch({ catalog: { type: 'rest', uri: 'https://s3tables.us-east-1.amazonaws.com/iceberg', auth: { type: 'sigv4' } } }), 'catalog.auth.region', /^config catalog\.auth\.region: is required for sigv4 \(or set AWS_REGION\)$/);
    });

    it('format version 1 cannot hold upserts, in defaults and in overrides', () => {
      failsOn(withPatch({ tables: { defaults: { formatVersion: 1 } } }), 'tables.defaults.formatVersion', /^config tables\.defaults\.formatVersion: upserts need row-level deletes: format version 2 or 3$/);
      failsOn(withPatch({ tables: { overrides: { 'shop.orders': { formatVersion: 1 } } } }), 'tables.overrides.shop.orders.formatVersion', /^config tables\.overrides\.shop\.orders\.formatVersion: upserts need row-level deletes/);
      failsOn(withPatch({ tables: { defaults: { formatVersion: 4 } } }), 'tables.defaults.formatVersion', /must be between 1 and 3, got 4/);
      failsOn(withPatch({ tables: { overrides: { 'shop.orders': { formatVersion: 0 } } } }), 'tables.overrides.shop.orders.formatVersion', /must be between 1 and 3, got 0/);
    });

    it('kafka.auth: SCRAM, MSK IAM (region from the environment), unsecured OAUTHBEARER; TLS follows SASL; no clash with kafka.properties', () => {
      const scram = validateConfig(withPatch({ kafka: { auth: { type: 'scram', username: 'u', password: 'p' }, tls: { caLocation: '/etc/ca.pem' } } }), {});
      assert.deepEqual(scram.kafka.auth, { type: 'scram', mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
      assert.deepEqual(scram.kafka.tls, { enabled: true, caLocation: '/etc/ca.pem' });
      assert.deepEqual(validateConfig(withPatch({ kafka: { auth: { type: 'msk-iam' } } }), { AWS_REGION: 'eu-west-1' }).kafka.auth, { type: 'msk-iam', region: 'eu-west-1' });
      failsOn(withPatch({ kafka: { auth: { type: 'msk-iam' } } }), 'kafka.auth.region', /required for msk-iam/);
      failsOn(withPatch({ kafka: { auth: { type: 'scram', username: 'u' } } }), 'kafka.auth.password', /required/);
      failsOn(withPatch({ kafka: { auth: { type: 'kerberos' } } }), 'kafka.auth.type', /must be one of none, scram, msk-iam, oauthbearer-unsecured/);
      failsOn(withPatch({ kafka: { auth: { type: 'msk-iam', region: 'x' }, properties: { 'sasl.mechanisms': 'PLAIN' } } }), 'kafka.properties.sasl.mechanisms', /set by kafka.auth/);
    });

    it('AWS catalogs: S3 Tables and Glue endpoints, warehouses, regions, one namespace level and legal names, caught at startup', () => {
      const s3t = (catalog: Record<string, unknown>, more: Record<string, unknown> = {}) => withPatch({ catalog: { type: 'rest', path: undefined, uri: 'https://s3tables.us-east-1.amazonaws.com/iceberg', warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/analytics', auth: { type: 'sigv4', region: 'us-east-1' }, ...catalog }, ...more });
      assert.equal(validateConfig(s3t({}), {}).catalog.type, 'rest');
      failsOn(s3t({ warehouse: 's3://bucket/wh' }), 'catalog.warehouse', /table bucket ARN/);
      failsOn(s3t({ warehouse: 'arn:aws:s3tables:eu-west-1:111122223333:bucket/analytics' }), 'catalog.warehouse', /bucket is in eu-west-1, the endpoint in us-east-1/);
      failsOn(s3t({ auth: { type: 'sigv4', region: 'eu-west-1' } }), 'catalog.auth.region', /signs for eu-west-1/);
      failsOn(s3t({ auth: { type: 'sigv4', region: 'us-east-1', signingName: 'glue' } }), 'catalog.auth.signingName', /signs as "s3tables"/);
      failsOn(s3t({}, { route: { pattern: 'lake.{db}.{table}' } }), 'route.pattern', /one namespace level/);
      failsOn(s3t({}, { tables: { overrides: { 'aws_ns.orders': {} } } }), 'tables.overrides.aws_ns.orders', /not starting with "aws"/);
      const glue = (warehouse: string) => withPatch({ catalog: { type: 'rest', path: undefined, uri: 'https://glue.us-east-1.amazonaws.com/iceberg', warehouse, auth: { type: 'sigv4', region: 'us-east-1', signingName: 'glue' } } });
      assert.equal(validateConfig(glue('111122223333'), {}).catalog.type, 'rest');
      assert.equal(validateConfig(glue('111122223333:s3tablescatalog/analytics'), {}).catalog.type, 'rest');
      failsOn(glue('s3://wh'), 'catalog.warehouse', /catalog id/);
    });

    it('delete modes must fit the format version: deletion vectors on v3, position delete files on v2', () => {
      failsOn(withPatch({ tables: { defaults: { formatVersion: 3, deleteMode: 'position' } } }), 'tables.defaults.deleteMode', /format version 3 tables take deletion vectors/);
      failsOn(withPatch({ tables: { defaults: { deleteMode: 'dv' } } }), 'tables.defaults.deleteMode', /deletion vectors need format version 3/);
      failsOn(withPatch({ tables: { overrides: { 'shop.orders': { formatVersion: 3, deleteMode: 'position' } } } }), 'tables.overrides.shop.orders.deleteMode', /take deletion vectors/);
      failsOn(withPatch({ tables: { overrides: { 'shop.orders': { deleteMode: 'dv' } } } }), 'tables.overrides.shop.orders.deleteMode', /need format version 3/);
      failsOn(withPatch({ tables: { defaults: { deleteMode: 'vectors' } } }), 'tables.defaults.deleteMode', /must be one of position, dv, equality/);
      failsOn(withPatch({ commit: { deletionVectorFiles: 'data/*.bin' } }), 'commit.deletionVectorFiles', /must be one of data\/\*\.puffin, metadata\/\*\.stats/);
      const v3 = validateConfig(withPatch({ tables: { overrides: { 'shop.orders': { formatVersion: 3 } } } }), {});
      assert.equal(v3.tables.defaults.deleteMode, 'position');
      assert.equal(v3.tables.overrides['shop.orders']?.deleteMode, undefined); // the table's format version decides: dv
      assert.equal(v3.commit.deletionVectorFiles, 'data/*.puffin');
    });

    it('override table names must be routed names', () => {
      failsOn(withPatch({ tables: { overrides: { 'Shop.Orders': {} } } }), 'tables.overrides.Shop.Orders', /"namespace\.table" in lowercase/);
      failsOn(withPatch({ tables: { overrides: ['shop.orders'] } }), 'tables.overrides', /must be a mapping of table name to options/);
    });

    it('unknown codec', () => {
      assert.throws(
        () => validateConfig(withPatch({ commit: { codec: 'brotli' } }), {}),
        (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && /commit\.codec$/.test(String(e.details.field)) && /commit\.codec: unknown Parquet codec "brotli" \(use zstd, snappy, gzip, lz4, uncompressed\)/.test(e.message),
      );
    });

    it('integers out of range or not integers', () => {
      failsOn(withPatch({ commit: { intervalMs: 50 } }), 'commit.intervalMs', /^config commit\.intervalMs: must be between 100 and 86400000, got 50$/);
      failsOn(withPatch({ commit: { intervalMs: 25 * 3600 * 1000 } }), 'commit.intervalMs', /must be between 100 and 86400000/);
      failsOn(withPatch({ commit: { intervalMs: '10s' } }), 'commit.intervalMs', /must be an integer, got "10s"/);
      failsOn(withPatch({ commit: { bufferBytesMax: 1000 } }), 'commit.bufferBytesMax', /must be between 1048576 and/);
      failsOn(withPatch({ commit: { targetFileSizeBytes: 9 * 1024 ** 3 } }), 'commit.targetFileSizeBytes', /must be between 1048576 and 8589934592/);
      failsOn(withPatch({ consume: { batchMax: 0 } }), 'consume.batchMax', /must be between 1 and 100000, got 0/);
      failsOn(withPatch({ consume: { timeoutMs: 1.5 } }), 'consume.timeoutMs', /must be an integer, got 1\.5/);
      failsOn(withPatch({ workers: { count: 65 } }), 'workers.count', /must be between 0 and 64, got 65/);
      failsOn(withPatch({ shutdown: { timeoutMs: 999 } }), 'shutdown.timeoutMs', /must be between 1000 and 3600000, got 999/);
    });

    it('the shutdown timeout must exceed the commit interval', () => {
      failsOn(withPatch({ commit: { intervalMs: 60_000 } }), 'shutdown.timeoutMs', /^config shutdown\.timeoutMs: must exceed commit\.intervalMs \(60000\) so a final commit fits in a shutdown$/);
      failsOn(withPatch({ commit: { intervalMs: 120_000 }, shutdown: { timeoutMs: 90_000 } }), 'shutdown.timeoutMs', /must exceed commit\.intervalMs \(120000\)/);
      assert.equal(validateConfig(withPatch({ commit: { intervalMs: 60_000 }, shutdown: { timeoutMs: 60_001 } }), {}).shutdown.timeoutMs, 60_001);
    });

    it('worker heap must hold its share of the buffer', () => {
      failsOn(withPatch({ workers: { count: 1, heapMb: 128 }, commit: { bufferBytesMax: 512 * 1024 * 1024 } }), 'workers.heapMb', /128 MB is below that/);
    });

    it('the key index budget must fit beside the V8 heaps in the memory limit; it takes a share of what they leave by default', () => {
      failsOn(withPatch({ index: { memoryBytesMax: Number.MAX_SAFE_INTEGER } }), 'index.memoryBytesMax', /does not fit: the memory limit \(\d+ MB, .+\) less the V8 heaps \(main \d+ MB \+ workers\.count \d+ × workers\.heapMb 2048 MB\) leaves \d+ MB/);
      failsOn(withPatch({ index: { memoryBytesMax: 1024 } }), 'index.memoryBytesMax', /must be between/);
      assert.equal(validateConfig(withPatch({ index: { memoryBytesMax: 64 * 1024 * 1024, spillDir: '/data/floe-index' } }), {}).index.memoryBytesMax, 64 * 1024 * 1024);
      // More worker heap leaves less for the indexes.
      const small = validateConfig(withPatch({ workers: { count: 2, heapMb: 1024 } }), {}).index.memoryBytesMax;
      const large = validateConfig(withPatch({ workers: { count: 2, heapMb: 4096 } }), {}).index.memoryBytesMax;
      assert.ok(large < small, `${large} < ${small}`);
      failsOn(withPatch({ index: { memoryByteMax: 1 } }), 'index.memoryByteMax', /did you mean memoryBytesMax/);
    });

    it('other scalar shapes', () => {
      failsOn(withPatch({ tables: { autoCreate: 'yes' } }), 'tables.autoCreate', /must be true or false, got "yes"/);
      failsOn(withPatch({ kafka: { groupId: { a: 1 } } }), 'kafka.groupId', /must be a string/);
      failsOn(withPatch({ route: { pattern: '{db}_{table}' } }), 'route.pattern', /must name a namespace and a table/);
      failsOn(withPatch({ kafka: { properties: ['a=b'] } }), 'kafka.properties', /must be a mapping/);
    });
  });
});

describe('substituteEnv', () => {
  it('replaces ${VAR} and ${VAR:-default} in every string, recursively', () => {
    const env = { HOST: 'kafka-0', PORT: '9092', EMPTY: '' };
    assert.deepEqual(
      substituteEnv({ a: '${HOST}:${PORT}', b: ['x-${HOST}', { c: '${MISSING:-fallback}' }], d: '${EMPTY:-used}', e: '${HOST:-unused}', f: 5, g: null, h: true, i: '${NONE:-}' }, env),
      { a: 'kafka-0:9092', b: ['x-kafka-0', { c: 'fallback' }], d: 'used', e: 'kafka-0', f: 5, g: null, h: true, i: '' },
    );
    // only ${NAME} forms are variables
    assert.equal(substituteEnv('$HOST and ${1BAD}', env), '$HOST and ${1BAD}');
  });

  it('names the field of an unset variable, with list indexes', () => {
    assert.throws(
      () => substituteEnv({ kafka: { brokers: '${BROKERS}' } }, {}),
      (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.details.field === 'kafka.brokers' && e.message === 'kafka.brokers: environment variable BROKERS is not set',
    );
    assert.throws(
      () => substituteEnv({ kafka: { topics: ['a', '${T2}'] } }, { T2: '' }),
      (e: unknown) => e instanceof FloeError && e.details.field === 'kafka.topics[1]' && /environment variable T2 is not set/.test(e.message),
    );
  });

  it('substitutes before validation (numbers and booleans from strings)', () => {
    const cfg = validateConfig(withPatch({ kafka: { brokers: '${B}' }, commit: { intervalMs: '${INTERVAL:-5000}' }, tables: { autoCreate: '${AUTO:-false}' } }), { B: 'b:9092' });
    assert.equal(cfg.kafka.brokers, 'b:9092');
    assert.equal(cfg.commit.intervalMs, 5000);
    assert.equal(cfg.tables.autoCreate, false);
    assert.throws(() => validateConfig(withPatch({ catalog: { path: '${STATE_DIR}/catalog.db' } }), {}), (e: unknown) => e instanceof FloeError && e.details.field === 'catalog.path' && /STATE_DIR/.test(e.message));
  });
});

describe('loadConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads YAML with environment substitution', async () => {
    const path = join(dir, 'floe.yaml');
    await writeFile(
      path,
      [
        'kafka:',
        '  brokers: ${BROKERS}',
        '  groupId: ${GROUP:-floe-cdc}',
        '  topics:',
        '    - cdc.shop.orders',
        '    - cdc.shop.customers',
        'catalog:',
        '  type: rest',
        '  uri: https://s3tables.${REGION}.amazonaws.com/iceberg',
        '  warehouse: arn:aws:s3tables:${REGION}:111122223333:bucket/lake',
        '  auth:',
        '    type: sigv4',
        '    region: ${REGION}',
        'commit:',
        '  intervalMs: ${INTERVAL:-30000}',
        '  codec: lz4',
        '',
      ].join('\n'),
    );
    const cfg = await loadConfig(path, { BROKERS: 'b-1:9092', REGION: 'ap-northeast-2' });
    assert.equal(cfg.kafka.brokers, 'b-1:9092');
    assert.equal(cfg.kafka.groupId, 'floe-cdc');
    assert.deepEqual(cfg.kafka.topics, ['cdc.shop.orders', 'cdc.shop.customers']);
    assert.deepEqual(cfg.catalog, {
      type: 'rest',
      name: 'rest',
      uri: 'https://s3tables.ap-northeast-2.amazonaws.com/iceberg',
      warehouse: 'arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake',
      auth: { type: 'sigv4', signingName: 's3tables', region: 'ap-northeast-2' },
    });
    assert.equal(cfg.commit.intervalMs, 30_000);
    assert.equal(cfg.commit.codec, 'lz4');
    assert.ok(Object.isFrozen(cfg.catalog));
    await assert.rejects(loadConfig(path, { REGION: 'ap-northeast-2' }), (e: unknown) => e instanceof FloeError && e.details.field === 'kafka.brokers' && /environment variable BROKERS is not set/.test(e.message));
  });

  it('reports unreadable and malformed files', async () => {
    const missing = join(dir, 'nope.yaml');
    await assert.rejects(loadConfig(missing, {}), (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.message.startsWith(`cannot read config file ${missing}`));
    const badYaml = join(dir, 'bad.yaml');
    await writeFile(badYaml, 'kafka:\n  brokers: [a\n');
    await assert.rejects(loadConfig(badYaml, {}), (e: unknown) => e instanceof FloeError && e.message.startsWith(`config file ${badYaml} is not valid YAML`));
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{"kafka": ');
    await assert.rejects(loadConfig(badJson, {}), (e: unknown) => e instanceof FloeError && e.message.startsWith(`config file ${badJson} is not valid JSON`));
  });

  it('validates what it reads', async () => {
    const path = join(dir, 'invalid.yaml');
    await writeFile(path, 'kafka:\n  brokers: b:9092\n  topics: [t]\ncatalog:\n  type: glue\n');
    await assert.rejects(loadConfig(path, {}), (e: unknown) => e instanceof FloeError && e.details.field === 'catalog.type' && /got "glue"/.test(e.message));
  });
});
