/**
 * `floe run --config floe.yaml`: builds the pipeline from a validated config and runs it until SIGTERM/SIGINT,
 * then stops fetching, commits tables and offsets, and exits within `shutdown.timeoutMs`.
 */
import { pathToFileURL } from 'node:url';
import type { Catalog } from '../catalog/catalog.js';
import { RestCatalog } from '../catalog/rest-catalog.js';
import { SqlCatalog } from '../catalog/sql-catalog.js';
import { Committer } from '../commit/committer.js';
import type { FloeConfig } from '../config/config.js';
import { SchemaRegistryClient } from '../decode/schema-registry.js';
import { FloeError, describeError } from '../errors.js';
import { fileIOFromProperties, type S3Settings } from '../io/file-io-factory.js';
import { KafkaDeadLetter } from '../kafka/dead-letter.js';
import { KafkaSource } from '../kafka/source.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics/metrics.js';
import { MetricsServer } from '../metrics/server.js';
import { MaintenanceScheduler } from '../maintain/scheduler.js';
import { maintenanceSettings } from '../maintain/settings.js';
import { defaultSteps } from '../maintain/steps.js';
import { Pipeline, type BackgroundMaintenance } from '../pipeline/pipeline.js';
import { InProcessWorkers, ThreadWorkers, type Workers } from '../worker/pool.js';
import type { WorkerInit } from '../worker/worker-core.js';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function catalogFromConfig(cfg: FloeConfig): Catalog {
  const s3 = s3Settings(cfg);
  if (cfg.catalog.type === 'rest') {
    return new RestCatalog({
      name: cfg.catalog.name,
      uri: cfg.catalog.uri,
      ...(cfg.catalog.warehouse !== undefined ? { warehouse: cfg.catalog.warehouse } : {}),
      auth: cfg.catalog.auth,
      fileIO: (props) => fileIOFromProperties(props, s3),
    });
  }
  const warehouse = cfg.catalog.warehouse.includes('://') ? cfg.catalog.warehouse : pathToFileURL(cfg.catalog.warehouse).href;
  return new SqlCatalog({ name: cfg.catalog.name, path: cfg.catalog.path, warehouse, io: fileIOFromProperties({}, s3) });
}

export interface RunHandle {
  readonly pipeline: Pipeline;
  readonly metrics: Metrics;
  readonly done: Promise<void>;
  stop(): void;
}

export function s3Settings(cfg: FloeConfig): S3Settings {
  return {
    ...(cfg.s3.region !== undefined ? { region: cfg.s3.region } : {}),
    ...(cfg.s3.endpoint !== undefined ? { endpoint: cfg.s3.endpoint } : {}),
    ...(cfg.s3.pathStyle !== undefined ? { forcePathStyle: cfg.s3.pathStyle } : {}),
    ...(cfg.s3.accessKeyId !== undefined ? { accessKeyId: cfg.s3.accessKeyId, secretAccessKey: cfg.s3.secretAccessKey } : {}),
  };
}

/**
 * This process's spill directory under `index.spillDir`, emptied at start (run files are never reopened: a
 * restart rebuilds or loads its indexes, so files a previous run left are garbage). Named by the static member id
 * (a StatefulSet pod keeps its volume and its name), else by pid; directories of pids no longer running are
 * removed too, so replicas sharing one volume never delete each other's files.
 */
export function spillDirOf(cfg: FloeConfig): string {
  const own = cfg.kafka.groupInstanceId !== undefined ? `member-${cfg.kafka.groupInstanceId}` : `pid-${process.pid}`;
  const dir = join(cfg.index.spillDir, own);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(cfg.index.spillDir)) {
    const pid = /^pid-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !running(Number(pid))) rmSync(join(cfg.index.spillDir, name), { recursive: true, force: true });
  }
  return dir;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs under another user; ESRCH: gone.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function workersFromConfig(cfg: FloeConfig): Workers {
  const init: WorkerInit = {
    decoder: { idColumns: cfg.decode.idColumns, timeAs: cfg.decode.timeAs, ...(cfg.decode.cdcField !== undefined ? { cdcField: cfg.decode.cdcField } : {}) },
    outOfRange: cfg.decode.outOfRange,
    route: cfg.route,
    codec: cfg.commit.codec,
    targetFileSizeBytes: cfg.commit.targetFileSizeBytes,
    s3: s3Settings(cfg),
    shardByPartition: cfg.index.shardByPartition,
    bootstrapThreads: cfg.index.bootstrapThreads,
    indexMemoryBytesMax: Math.floor(cfg.index.memoryBytesMax / Math.max(1, cfg.workers.count)),
    indexSpillDir: spillDirOf(cfg),
  };
  return cfg.workers.count === 0 ? new InProcessWorkers(init) : new ThreadWorkers(cfg.workers.count, init, { queueMax: cfg.workers.queueMax, heapMb: cfg.workers.heapMb });
}

export async function startPipeline(cfg: FloeConfig, log: Logger, metrics = new Metrics({ processMetrics: false })): Promise<RunHandle> {
  const catalog = catalogFromConfig(cfg);
  const committer = new Committer(catalog, {
    groupId: cfg.kafka.groupId,
    autoCreate: cfg.tables.autoCreate,
    codec: cfg.commit.codec,
    tableCommitsInFlightMax: cfg.commit.tableCommitsInFlightMax,
    deletionVectorFiles: cfg.commit.deletionVectorFiles,
    deletionVectorsPerFileMax: cfg.commit.deletionVectorsPerFileMax,
    tableDefaults: cfg.tables.defaults,
    tables: cfg.tables.overrides,
  });
  const deadLetter = new KafkaDeadLetter({
    brokers: cfg.kafka.brokers, topic: cfg.kafka.deadLetterTopic, properties: cfg.kafka.properties, auth: cfg.kafka.auth, tls: cfg.kafka.tls,
    onTokenError: (e) => log.warn('kafka OAUTHBEARER token refresh failed (retrying)', { error: e instanceof Error ? e.message : String(e) }),
  });
  await deadLetter.connect();
  let pipeline: Pipeline | null = null;
  const source = new KafkaSource(
    {
      brokers: cfg.kafka.brokers,
      groupId: cfg.kafka.groupId,
      ...(cfg.kafka.groupInstanceId !== undefined ? { groupInstanceId: cfg.kafka.groupInstanceId } : {}),
      ...(cfg.kafka.topics !== undefined ? { topics: cfg.kafka.topics } : {}),
      ...(cfg.kafka.topicPattern !== undefined ? { topicPattern: cfg.kafka.topicPattern } : {}),
      properties: cfg.kafka.properties,
      auth: cfg.kafka.auth,
      tls: cfg.kafka.tls,
    },
    { onAssign: (tps) => pipeline?.onAssign(tps), onRevoke: (tps) => pipeline?.onRevoke(tps) },
  );
  source.onTransientError = (message, code) => log.warn('kafka consume error (retrying)', { error: message, code });
  pipeline = new Pipeline(
    source,
    workersFromConfig(cfg),
    committer,
    deadLetter,
    {
      commitIntervalMs: cfg.commit.intervalMs, bufferBytesMax: cfg.commit.bufferBytesMax, consumeBatchMax: cfg.consume.batchMax, consumeTimeoutMs: cfg.consume.timeoutMs, inFlightMax: cfg.workers.queueMax,
      outage: { maxElapsedMs: cfg.commit.retry.maxElapsedMs, backoff: { baseMs: cfg.commit.retry.backoffBaseMs, maxMs: cfg.commit.retry.backoffMaxMs } },
    },
    log,
    cfg.decode.schemaRegistry !== undefined ? new SchemaRegistryClient(cfg.decode.schemaRegistry) : null,
    metrics,
    await backgroundMaintenance(cfg, catalog, metrics, log),
  );
  const p = pipeline;
  const done = (async () => {
    let failed = false;
    try {
      await p.run();
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      try {
        await p.close();
        await catalog.close();
      } catch (e) {
        // After a failure, closing may fail too (tasks in flight when the workers stop): the first error is
        // the one that says what happened, so it is the one that propagates.
        if (!failed) throw e;
        log.error('closing after the failure failed too', { error: describeError(e) });
      }
    }
  })();
  return { pipeline: p, metrics, done, stop: () => p.stop() };
}

/** The background maintenance of `floe run` (config `maintenance`), or null when it is off. */
async function backgroundMaintenance(cfg: FloeConfig, catalog: Catalog, metrics: Metrics, log: Logger): Promise<BackgroundMaintenance | null> {
  const settings = maintenanceSettings(cfg);
  if (!settings.enabled) return null;
  const scheduler = new MaintenanceScheduler({ catalog, settings, steps: await defaultSteps(), metrics, log });
  return { budgetMs: settings.budgetMs ?? 60_000, due: (tables) => scheduler.due(tables), runDue: (tables, budgetMs) => scheduler.runDue(tables, budgetMs) };
}

/** Runs until a signal; a second signal or the shutdown timeout forces exit. */
export async function runUntilSignal(cfg: FloeConfig, log: Logger): Promise<void> {
  const handle = await startPipeline(cfg, log, new Metrics());
  let server: MetricsServer | null = null;
  if (cfg.metrics.enabled) {
    server = new MetricsServer(handle.metrics, handle.pipeline, { host: cfg.metrics.host, port: cfg.metrics.port, stallMs: cfg.metrics.livenessStallMs });
    await server.start();
    log.info('metrics and probes listening', { host: cfg.metrics.host, port: server.port(), paths: ['/metrics', '/healthz', '/readyz'] });
  }
  let signalled = false;
  const onSignal = (sig: string): void => {
    if (signalled) {
      log.warn('second signal: exiting now; uncommitted changes will be consumed again', { signal: sig });
      process.exit(1);
    }
    signalled = true;
    log.info('stopping: committing tables and offsets', { signal: sig, timeoutMs: cfg.shutdown.timeoutMs });
    handle.stop();
    setTimeout(() => {
      log.error('shutdown timed out; exiting: uncommitted changes will be consumed again', { timeoutMs: cfg.shutdown.timeoutMs });
      process.exit(1);
    }, cfg.shutdown.timeoutMs).unref();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await handle.done;
  } catch (e) {
    await server?.close();
    if (e instanceof FloeError && e.code === 'commit_fenced') log.error('fenced: another consumer owns a partition now; exiting so the group rebalances', { error: e.message });
    throw e;
  }
  await server?.close();
  log.info('stopped');
}
