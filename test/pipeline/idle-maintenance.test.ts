// Proves background maintenance also runs while no record comes: after a burst of small commits stops, the next due run compacts the table without any new record or commit cycle, with the partitions paused for the run and resumed after; a disabled maintenance never pauses an idle pipeline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { validateConfig } from '../../src/config/config.js';
import { DataFileContent } from '../../src/iceberg/data-file.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { liveEntries } from '../../src/iceberg/snapshot-files.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { DeadLetterSink } from '../../src/kafka/dead-letter.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import type { Logger } from '../../src/log.js';
import { MaintenanceScheduler } from '../../src/maintain/scheduler.js';
import { maintenanceSettings } from '../../src/maintain/settings.js';
import { defaultSteps } from '../../src/maintain/steps.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { Pipeline, type BackgroundMaintenance } from '../../src/pipeline/pipeline.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { ArraySource } from '../support/array-source.js';

const TOPIC = 'cdc.shop.orders';
const ROWS = 60;

/** An ArraySource that records when the pipeline pauses and resumes it. */
class PausingSource extends ArraySource {
  paused = false;
  pauses = 0;
  override pauseAll(): void {
    this.paused = true;
    this.pauses++;
  }
  override resumeAll(): void {
    this.paused = false;
  }
}

function insert(offset: number): SourceMessage {
  const row = { id: offset + 1, v: `v${offset}` };
  return {
    topic: TOPIC,
    partition: 0,
    offset,
    key: Buffer.from(JSON.stringify({ id: row.id })),
    value: Buffer.from(JSON.stringify({ before: null, after: row, source: { db: 'shop', table: 'orders' }, op: 'c' })),
    timestamp: undefined,
  };
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background maintenance while the stream is idle', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-idle-maint-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function burst(name: string, enabled: boolean) {
    const io = new LocalFileIO();
    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}`, io });
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {}, tables: {} });
    const workers = new InProcessWorkers({ decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} });
    const dlq: DeadLetterSink = { send: () => undefined, flush: async () => {}, reset: async () => {}, close: async () => {}, sent: 0 };
    const cfg = validateConfig({
      kafka: { brokers: '127.0.0.1:1', topics: [TOPIC] },
      catalog: { type: 'sql', path: join(dir, `${name}.db`), warehouse: `file://${dir}/${name}` },
      maintenance: { enabled, intervalMs: 1000, rewriteData: { targetFileSizeBytes: 1024 * 1024, minInputFiles: 2 } },
    });
    const settings = maintenanceSettings(cfg);
    const scheduler = new MaintenanceScheduler({ catalog, settings, steps: await defaultSteps(), metrics: new Metrics({ processMetrics: false }) });
    // Closed until the burst is consumed and committed: then no commit cycle is left to run maintenance after,
    // so only the idle path can.
    let open = false;
    const runs: { paused: boolean; commits: number }[] = [];
    const source = new PausingSource(Array.from({ length: ROWS }, (_v, i) => insert(i)));
    let p: Pipeline | null = null;
    const maintenance: BackgroundMaintenance = {
      budgetMs: 10_000,
      due: (tables) => (open ? scheduler.due(tables) : []),
      runDue: async (tables, budgetMs) => {
        if (!open) return [];
        runs.push({ paused: source.paused, commits: p?.stats.commits ?? -1 });
        return scheduler.runDue(tables, budgetMs);
      },
    };
    p = new Pipeline(source, workers, committer, dlq, { commitIntervalMs: 1, bufferBytesMax: 1 << 30, consumeBatchMax: 6, consumeTimeoutMs: 5, inFlightMax: 2 }, quiet, null, null, settings.enabled ? maintenance : null);
    const running = p.run();
    const dataFiles = async () => {
      const t = await catalog.loadTable({ namespace: ['shop'], name: 'orders' });
      return { table: t, n: (await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.DATA).length };
    };
    try {
      while (!(source.done && source.committed.some((o) => o.offset === ROWS))) await sleep(5);
      const burstFiles = (await dataFiles()).n;
      const commits = p.stats.commits;
      const pausesBefore = source.pauses;
      open = true;
      const until = Date.now() + 15_000;
      let files = burstFiles;
      while (Date.now() < until && (enabled ? files > 1 : Date.now() < until - 12_500)) {
        await sleep(50);
        files = (await dataFiles()).n;
      }
      // The run's commit is visible before the run ends (the index follows it, then the partitions resume).
      const settle = Date.now() + 5_000;
      while (source.paused && Date.now() < settle) await sleep(10);
      const last = await dataFiles();
      return { burstFiles, files: last.n, rows: (await scanTable(last.table)).length, runs, commits, commitsAfter: p.stats.commits, pausedNow: source.paused, idlePauses: source.pauses - pausesBefore };
    } finally {
      p.stop();
      await running;
      await workers.close();
      await catalog.close();
    }
  }

  it('compacts the burst\'s small files without a new record, partitions paused during the run and resumed after', async () => {
    const r = await burst('on', true);
    assert.ok(r.burstFiles >= 3, `the burst left ${r.burstFiles} data files`);
    assert.equal(r.files, 1, `data files after idle maintenance (burst left ${r.burstFiles})`);
    assert.equal(r.rows, ROWS);
    assert.ok(r.runs.length >= 1);
    assert.ok(r.runs.every((x) => x.paused), 'paused during every run');
    assert.ok(r.runs.every((x) => x.commits === r.commits), 'no commit cycle ran it: the stream was idle');
    assert.equal(r.commitsAfter, r.commits);
    assert.equal(r.pausedNow, false, 'resumed after the run');
  });

  it('with maintenance disabled an idle pipeline is never paused and the files stay', async () => {
    const r = await burst('off', false);
    assert.equal(r.idlePauses, 0);
    assert.equal(r.files, r.burstFiles);
    assert.equal(r.runs.length, 0);
  });
});
