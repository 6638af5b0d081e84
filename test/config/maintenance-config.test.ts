// Proves the `maintenance` config section: its defaults (targets following commit.targetFileSizeBytes, managed by default on AWS S3 Tables only), per-table `maintenance: managed | floe`, validation errors naming the field (ranges and the cross-field rules: group ≥ target, run ≥ group, orphan age beyond a commit's longest flight, budget below the liveness limit), unknown keys naming the nearest one, freezing, the settings steps get, and the Kafka Connect sink's snapshot retention properties mapped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertConfigInvalid } from '../support/config-errors.js';
import { validateConfig } from '../../src/config/config.js';
import { fromKafkaConnect, unmappedKafkaConnectKeys } from '../../src/config/kafka-connect.js';
import { maintenanceSettings } from '../../src/maintain/settings.js';

type Json = Record<string, unknown>;

const HOUR = 3_600_000;
const MiB = 1024 * 1024;

function config(extra: Json = {}): Json {
  return {
    kafka: { brokers: 'localhost:9092', topics: ['cdc.shop.orders'] },
    catalog: { type: 'sql', path: '/var/lib/floe/catalog.db', warehouse: 'file:///var/lib/floe/warehouse' },
    ...extra,
  };
}

const s3tables = {
  type: 'rest',
  uri: 'https://s3tables.us-east-1.amazonaws.com/iceberg',
  warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/analytics',
  auth: { type: 'sigv4', signingName: 's3tables', region: 'us-east-1' },
};

const fails = (doc: Json, field: string, message: RegExp): void => assertConfigInvalid(() => validateConfig(doc, {}), field, message);

describe('maintenance config', () => {
  it('reads every key; the rewrite target follows commit.targetFileSizeBytes, and the group and run bounds grow with it', () => {
    const cfg = validateConfig(config({
      maintenance: {
        enabled: false, intervalMs: 120_000, budgetMs: 30_000,
        rewriteData: { enabled: true, targetFileSizeBytes: 256 * MiB, minFileSizeRatio: 0.5, deleteRatioMin: '0.1', minInputFiles: 3, groupBytesMax: 512 * MiB, runBytesMax: 2048 * MiB, commitAttemptsMax: 2 },
        rewriteDeletes: { enabled: true, convertEqualityDeletes: false, minInputFiles: 4 },
        manifests: { enabled: false, targetManifestBytes: 4 * MiB, minManifests: 50 },
        expire: { olderThanMs: 2 * HOUR, keepLast: 10 },
        orphans: { enabled: false, olderThanMs: 24 * HOUR },
      },
    }), {});
    assert.deepEqual(cfg.maintenance, {
      enabled: false, intervalMs: 120_000, budgetMs: 30_000,
      rewriteData: { enabled: true, targetFileSizeBytes: 256 * MiB, minFileSizeRatio: 0.5, deleteRatioMin: 0.1, minInputFiles: 3, groupBytesMax: 512 * MiB, runBytesMax: 2048 * MiB, commitAttemptsMax: 2 },
      rewriteDeletes: { enabled: true, convertEqualityDeletes: false, minInputFiles: 4 },
      manifests: { enabled: false, targetManifestBytes: 4 * MiB, minManifests: 50 },
      expire: { enabled: true, olderThanMs: 2 * HOUR, keepLast: 10 },
      orphans: { enabled: false, olderThanMs: 24 * HOUR },
    });
    const big = validateConfig(config({ commit: { targetFileSizeBytes: 2048 * MiB } }), {});
    assert.deepEqual([big.maintenance.rewriteData.targetFileSizeBytes, big.maintenance.rewriteData.groupBytesMax, big.maintenance.rewriteData.runBytesMax], [2048 * MiB, 2048 * MiB, 4096 * MiB]);
    const small = validateConfig(config({ commit: { targetFileSizeBytes: 64 * MiB } }), {});
    assert.deepEqual([small.maintenance.rewriteData.targetFileSizeBytes, small.maintenance.rewriteData.groupBytesMax], [64 * MiB, 1024 * MiB]);
    assert.ok(Object.isFrozen(cfg.maintenance) && Object.isFrozen(cfg.maintenance.rewriteData) && Object.isFrozen(cfg.maintenance.orphans));
  });

  it('tables are maintained by floe, except on AWS S3 Tables (which maintains its own); per table `maintenance` wins', () => {
    const sql = validateConfig(config({ tables: { overrides: { 'shop.orders': { maintenance: 'managed' } } } }), {});
    assert.equal(sql.tables.defaults.maintenance, 'floe');
    const mode = maintenanceSettings(sql).mode;
    assert.deepEqual([mode('shop.orders'), mode('shop.items')], ['managed', 'floe']);
    const aws = validateConfig(config({ catalog: s3tables, tables: { overrides: { 'shop.orders': { maintenance: 'floe' } } } }), {});
    assert.equal(aws.tables.defaults.maintenance, 'managed');
    assert.deepEqual([maintenanceSettings(aws).mode('shop.orders'), maintenanceSettings(aws).mode('shop.items')], ['floe', 'managed']);
    const awsFloe = validateConfig(config({ catalog: s3tables, tables: { defaults: { maintenance: 'floe' } } }), {});
    assert.equal(awsFloe.tables.defaults.maintenance, 'floe');
    // An S3-Tables-like server that is not AWS's (SeaweedFS) does not maintain tables.
    const seaweed = validateConfig(config({ catalog: { ...s3tables, uri: 'http://localhost:8181', warehouse: 'wh' } }), {});
    assert.equal(seaweed.tables.defaults.maintenance, 'floe');
  });

  it('errors name the field: ranges', () => {
    const m = (maintenance: Json): Json => config({ maintenance });
    fails(m({ rewriteData: { minFileSizeRatio: 0 } }), 'maintenance.rewriteData.minFileSizeRatio', /must be above 0 and at most 1, got 0$/);
    fails(m({ rewriteData: { minFileSizeRatio: 1.5 } }), 'maintenance.rewriteData.minFileSizeRatio', /got 1\.5$/);
    fails(m({ rewriteData: { deleteRatioMin: 'a lot' } }), 'maintenance.rewriteData.deleteRatioMin', /must be a number, got "a lot"/);
    fails(m({ rewriteData: { minInputFiles: 0 } }), 'maintenance.rewriteData.minInputFiles', /must be between 1 and/);
    fails(m({ rewriteData: { commitAttemptsMax: 2.5 } }), 'maintenance.rewriteData.commitAttemptsMax', /must be an integer/);
    fails(m({ rewriteData: { targetFileSizeBytes: 1024 } }), 'maintenance.rewriteData.targetFileSizeBytes', /must be between 1048576 and/);
    fails(m({ rewriteDeletes: { minInputFiles: -1 } }), 'maintenance.rewriteDeletes.minInputFiles', /must be between 1 and/);
    fails(m({ rewriteDeletes: { convertEqualityDeletes: 'sometimes' } }), 'maintenance.rewriteDeletes.convertEqualityDeletes', /must be true or false/);
    fails(m({ manifests: { minManifests: 1 } }), 'maintenance.manifests.minManifests', /must be between 2 and/);
    fails(m({ expire: { olderThanMs: 60_000 } }), 'maintenance.expire.olderThanMs', /must be between 3600000 and/);
    fails(m({ expire: { keepLast: 0 } }), 'maintenance.expire.keepLast', /must be between 1 and/);
    fails(m({ orphans: { olderThanMs: HOUR - 1 } }), 'maintenance.orphans.olderThanMs', /must be between 3600000 and/);
    fails(m({ intervalMs: 10 }), 'maintenance.intervalMs', /must be between 1000 and/);
    fails(m({ enabled: 'yes' }), 'maintenance.enabled', /must be true or false/);
    fails(config({ tables: { defaults: { maintenance: 'aws' } } }), 'tables.defaults.maintenance', /must be one of managed, floe, got "aws"/);
    fails(config({ tables: { overrides: { 'shop.orders': { maintenance: 'never' } } } }), 'tables.overrides.shop.orders.maintenance', /must be one of managed, floe/);
  });

  it('errors name the field: rules across fields', () => {
    fails(config({ maintenance: { rewriteData: { targetFileSizeBytes: 512 * MiB, groupBytesMax: 256 * MiB } } }), 'maintenance.rewriteData.groupBytesMax', /must be at least maintenance\.rewriteData\.targetFileSizeBytes \(536870912\): a group fills at least one output file$/);
    fails(config({ maintenance: { rewriteData: { groupBytesMax: 2048 * MiB, runBytesMax: 1024 * MiB } } }), 'maintenance.rewriteData.runBytesMax', /must be at least maintenance\.rewriteData\.groupBytesMax \(2147483648\)/);
    // A commit may land up to an interval plus an outage after its files were uploaded: younger files are not orphans yet.
    fails(config({ commit: { retry: { maxElapsedMs: 2 * HOUR } }, maintenance: { orphans: { olderThanMs: 2 * HOUR } } }), 'maintenance.orphans.olderThanMs', /must exceed commit\.retry\.maxElapsedMs \+ commit\.intervalMs \(7210000\)/);
    assert.equal(validateConfig(config({ commit: { retry: { maxElapsedMs: 2 * HOUR } }, maintenance: { orphans: { olderThanMs: 3 * HOUR } } }), {}).maintenance.orphans.olderThanMs, 3 * HOUR);
    fails(config({ metrics: { livenessStallMs: 60_000 } }), 'maintenance.budgetMs', /must be below metrics\.livenessStallMs \(60000\): a longer background run would fail the liveness probe$/);
    assert.equal(validateConfig(config({ metrics: { livenessStallMs: 60_000 }, maintenance: { budgetMs: 50_000 } }), {}).maintenance.budgetMs, 50_000);
  });

  it('unknown keys name the nearest valid one, at every level of the section', () => {
    const cases: [Json, string, string][] = [
      [{ maintenance: { intervalMS: 1 } }, 'maintenance.intervalMS', 'intervalMs'],
      [{ maintenance: { orphan: {} } }, 'maintenance.orphan', 'orphans'],
      [{ maintenance: { rewriteData: { targetFileSize: 1 } } }, 'maintenance.rewriteData.targetFileSize', 'targetFileSizeBytes'],
      [{ maintenance: { rewriteDeletes: { minInputFile: 1 } } }, 'maintenance.rewriteDeletes.minInputFile', 'minInputFiles'],
      [{ maintenance: { manifests: { minManifest: 1 } } }, 'maintenance.manifests.minManifest', 'minManifests'],
      [{ maintenance: { expire: { olderThan: 1 } } }, 'maintenance.expire.olderThan', 'olderThanMs'],
      [{ maintenance: { orphans: { enable: true } } }, 'maintenance.orphans.enable', 'enabled'],
      [{ tables: { defaults: { maintenence: 'floe' } } }, 'tables.defaults.maintenence', 'maintenance'],
    ];
    for (const [extra, field, near] of cases) fails(config(extra), field, new RegExp(`^config ${field.replaceAll('.', '\\.')}: unknown key; did you mean ${near}\\?$`));
  });

  it('the settings the steps get: per-step flags (rewriteDeletes.enabled covers both delete steps)', () => {
    const on = maintenanceSettings(validateConfig(config(), {}));
    assert.deepEqual(Object.values(on.steps), [true, true, true, true, true, true]);
    assert.equal(on.rewriteData.minFileSizeRatio, 0.75);
    const noConvert = maintenanceSettings(validateConfig(config({ maintenance: { rewriteDeletes: { convertEqualityDeletes: false } } }), {}));
    assert.deepEqual([noConvert.steps['convert-equality-deletes'], noConvert.steps['rewrite-position-deletes']], [false, true]);
    const off = maintenanceSettings(validateConfig(config({ maintenance: { rewriteData: { enabled: false }, rewriteDeletes: { enabled: false }, manifests: { enabled: false }, expire: { enabled: false }, orphans: { enabled: false } } }), {}));
    assert.deepEqual(Object.values(off.steps), [false, false, false, false, false, false]);
  });

  it('the Kafka Connect sink\'s snapshot retention properties for the tables it creates become maintenance.expire', () => {
    const sink = {
      'connector.class': 'io.tabular.iceberg.connect.IcebergSinkConnector',
      topics: 'cdc.shop.orders',
      'iceberg.catalog.type': 'rest',
      'iceberg.catalog.uri': 'http://localhost:8181',
      'iceberg.tables.auto-create-props.history.expire.max-snapshot-age-ms': '86400000',
      'iceberg.tables.auto-create-props.history.expire.min-snapshots-to-keep': '5',
    };
    const env = { FLOE_KAFKA_BROKERS: 'b:9092' };
    const cfg = validateConfig(fromKafkaConnect(sink, env), env);
    assert.deepEqual(cfg.maintenance.expire, { enabled: true, olderThanMs: 86_400_000, keepLast: 5 });
    assert.deepEqual(unmappedKafkaConnectKeys(sink), []);
    const plain = validateConfig(fromKafkaConnect({ ...sink, 'iceberg.tables.auto-create-props.history.expire.max-snapshot-age-ms': undefined, 'iceberg.tables.auto-create-props.history.expire.min-snapshots-to-keep': undefined }, env), env);
    assert.deepEqual(plain.maintenance.expire, { enabled: true, olderThanMs: 5 * 24 * HOUR, keepLast: 100 });
  });
});
