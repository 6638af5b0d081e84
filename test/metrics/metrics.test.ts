// Proves the metrics endpoint and probes: /metrics serves the documented series (events by table and op, files by content incl. deletion vectors, commit latency histogram, lag per partition, freshness, index memory), /healthz fails when the main loop stalls, /readyz only after the group is joined.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableCommitReport } from '../../src/commit/committer.js';
import { DataFileContent, type DataFile } from '../../src/iceberg/data-file.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { MetricsServer } from '../../src/metrics/server.js';
import type { SealedTable } from '../../src/worker/worker-core.js';

const file = (content: DataFile['content'], path: string): DataFile => ({ content, filePath: path, fileFormat: 'PARQUET', specId: 0, partition: [], recordCount: 1n, fileSizeInBytes: 10n });

describe('metrics and probes', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const m = new Metrics();
    let age = 10;
    let ready = false;
    let refreshed = 0;
    const server = new MetricsServer(m, { loopAgeMs: () => age, isReady: () => ready, refreshGauges: () => { refreshed++; m.setLag([{ topic: 'cdc.shop.t', partition: 3, lag: 42 }]); } }, { host: '127.0.0.1', port: 0, stallMs: 1000 });
    await server.start();
    const base = `http://127.0.0.1:${server.port()}`;
    try {
      const sealed = {
        name: 'shop.t', dataFiles: [file(DataFileContent.DATA, 'a')], deleteFiles: [file(DataFileContent.POSITION_DELETES, 'b')], ops: { c: 3, u: 2, d: 1 },
        newestEventMs: Date.now() - 5000, indexKeys: 7, indexBytes: 224,
      } as unknown as SealedTable;
      const report: TableCommitReport = { table: 'shop.t', snapshotId: 1n, rows: 4, deletedKeys: 1, dataFiles: 1, deleteFiles: 1, bytes: 20, attempts: 3, retries: { concurrent_commit: 1, state_unknown: 1 }, ms: 120, fileWaitsMs: [1500], deletionVectors: 1 };
      m.recordCommit([sealed], [report]);
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.equal(refreshed, 1);
      for (const want of [
        'floe_events_applied_total{table="shop.t",op="c"} 3',
        'floe_events_applied_total{table="shop.t",op="d"} 1',
        'floe_files_written_total{table="shop.t",content="data"} 1',
        'floe_files_written_total{table="shop.t",content="position_deletes"} 1',
        'floe_files_written_total{table="shop.t",content="deletion_vectors"} 1',
        'floe_rows_written_total{table="shop.t"} 4',
        'floe_commit_conflicts_total{table="shop.t",cause="concurrent_commit"} 1',
        'floe_commit_state_unknown_total{table="shop.t"} 1',
        'floe_commit_attempts_total{table="shop.t"} 3',
        'floe_commit_file_wait_seconds_bucket{le="2.5",table="shop.t"} 1',
        'floe_commit_duration_seconds_bucket{le="0.25",table="shop.t"} 1',
        'floe_consumer_lag_records{topic="cdc.shop.t",partition="3"} 42',
        'floe_index_keys{table="shop.t"} 7',
        'floe_process_resident_memory_bytes',
      ]) assert.ok(text.includes(want), `missing ${want}`);
      const fresh = /floe_freshness_seconds\{table="shop.t"\} ([\d.]+)/.exec(text);
      assert.ok(fresh !== null && Number(fresh[1]) >= 5 && Number(fresh[1]) < 60, `freshness: ${fresh?.[1]}`);

      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      age = 5000;
      assert.equal((await fetch(`${base}/healthz`)).status, 503);
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('a port in use is a clear config error', async () => {
    const a = new MetricsServer(new Metrics({ processMetrics: false }), { loopAgeMs: () => 0, isReady: () => true, refreshGauges: () => undefined }, { host: '127.0.0.1', port: 0, stallMs: 1000 });
    await a.start();
    try {
      const b = new MetricsServer(new Metrics({ processMetrics: false }), { loopAgeMs: () => 0, isReady: () => true, refreshGauges: () => undefined }, { host: '127.0.0.1', port: a.port(), stallMs: 1000 });
      await assert.rejects(b.start(), /metrics\.port: cannot listen/);
    } finally {
      await a.close();
    }
  });
});
