/**
 * Prometheus metrics (prom-client, one registry per pipeline). Names and labels are a stable interface: the
 * README lists them, the Grafana dashboard (k8s/grafana-dashboard.json) and alerts query them. Labels are bounded:
 * `table` (routed tables), `topic`/`partition` (assigned partitions), `op` (Debezium c/r/u/d/t), `content`
 * (data, position_deletes, equality_deletes, deletion_vectors), `reason` (replayed, ignored; for a stopped table
 * partition_transform, sort_transform, incompatible_schema), `step` (the maintenance steps, and `load`), `outcome`
 * (ok, failed, stopped).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TableCommitReport } from '../commit/committer.js';
import { DataFileContent, isDeletionVector, type DataFile } from '../iceberg/data-file.js';
import type { TableMaintenanceReport } from '../maintain/maintain.js';
import type { OpenedTable, SealedTable } from '../worker/worker-core.js';

/** Seconds: a maintenance step takes from milliseconds (nothing to do) to the run's budget and beyond (`floe maintain`). */
const MAINTENANCE_BUCKETS_S = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900, 3600];

/** Seconds: flush and commit latencies span milliseconds (a small window) to minutes (a 512 MiB window on S3). */
const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class Metrics {
  readonly registry = new Registry();
  readonly eventsConsumed = new Counter({ name: 'floe_events_consumed_total', help: 'Kafka records consumed', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly eventsApplied = new Counter({ name: 'floe_events_applied_total', help: 'Change events applied to table windows (committed with the next snapshot)', labelNames: ['table', 'op'] as const, registers: [this.registry] });
  readonly eventsSkipped = new Counter({ name: 'floe_events_skipped_total', help: 'Records skipped: replayed (the table already holds them) or ignored (heartbeats, unrouted tables)', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly deadLettered = new Counter({ name: 'floe_dead_letter_records_total', help: 'Records sent to the dead-letter topic', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly rowsWritten = new Counter({ name: 'floe_rows_written_total', help: 'Rows written to data files (after collapsing changes per key within a window)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly keysDeleted = new Counter({ name: 'floe_keys_deleted_total', help: 'Keys deleted (their last change in a window was a delete)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly filesWritten = new Counter({ name: 'floe_files_written_total', help: 'Files committed, by content', labelNames: ['table', 'content'] as const, registers: [this.registry] });
  readonly bytesWritten = new Counter({ name: 'floe_bytes_written_total', help: 'Bytes of committed data and delete files', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commits = new Counter({ name: 'floe_table_commits_total', help: 'Snapshots committed', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commitAttempts = new Counter({ name: 'floe_commit_attempts_total', help: 'Snapshot commits sent to the catalog (first tries and retries; floe_table_commits_total counts those that landed)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commitConflicts = new Counter({ name: 'floe_commit_conflicts_total', help: 'Commit attempts that lost a race and were re-applied on the new snapshot, by cause: concurrent_commit (409, main moved: another replica, a compaction), schema_changed (409), base_expired (the base snapshot expired under it)', labelNames: ['table', 'cause'] as const, registers: [this.registry] });
  readonly commitUnknown = new Counter({ name: 'floe_commit_state_unknown_total', help: 'Commit attempts whose answer was lost (5xx, timeout): the next attempt first looked whether it landed', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commitFileWaitSeconds = new Histogram({ name: 'floe_commit_file_wait_seconds', help: 'From a window\'s files being written to the commit that adds them landing', labelNames: ['table'] as const, buckets: LATENCY_BUCKETS_S, registers: [this.registry] });
  readonly commitRepositions = new Counter({ name: 'floe_commit_repositions_total', help: 'Commits whose position deletes were re-found after a compaction rewrote their files', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commitEqualityFallbacks = new Counter({ name: 'floe_commit_equality_fallbacks_total', help: 'Commits that deleted keys by equality because compactions kept racing them', labelNames: ['table'] as const, registers: [this.registry] });
  readonly duplicateKeys = new Counter({ name: 'floe_duplicate_keys_total', help: 'Keys found with several live rows when the table\'s keys were read, and repaired (all rows but the newest deleted)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly duplicateRowsDeleted = new Counter({ name: 'floe_duplicate_rows_deleted_total', help: 'Rows deleted by duplicate-key repairs (every row of a duplicate key but its newest)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly commitFailures = new Counter({ name: 'floe_commit_failures_total', help: 'Commit cycles that failed, by reason (the error code): each one is ridden out in-process (see floe_outage_seconds) or ends the process', labelNames: ['reason'] as const, registers: [this.registry] });
  /** The current outage's start (ms), read at scrape time. */
  private outageSince: () => number | null = () => null;
  readonly outageSeconds = new Gauge({
    name: 'floe_outage_seconds',
    help: 'How long the current outage has lasted (catalog, S3 or Kafka unreachable; commits retried in-process); 0 when healthy',
    registers: [this.registry],
    collect: () => {
      const since = this.outageSince();
      this.outageSeconds.set(since === null ? 0 : (Date.now() - since) / 1000);
    },
  });
  readonly commitCycles = new Counter({ name: 'floe_commit_cycles_total', help: 'Commit cycles (tables, dead letters, then group offsets)', registers: [this.registry] });
  readonly flushSeconds = new Histogram({ name: 'floe_flush_duration_seconds', help: 'Sealing the windows into uploaded files, per commit cycle', buckets: LATENCY_BUCKETS_S, registers: [this.registry] });
  readonly commitSeconds = new Histogram({ name: 'floe_commit_duration_seconds', help: 'One table snapshot commit through the catalog, retries included', labelNames: ['table'] as const, buckets: LATENCY_BUCKETS_S, registers: [this.registry] });
  readonly cycleSeconds = new Histogram({ name: 'floe_commit_cycle_duration_seconds', help: 'A whole commit cycle: pause, flush, table commits, dead letters, offsets', buckets: LATENCY_BUCKETS_S, registers: [this.registry] });
  readonly bufferBytes = new Gauge({ name: 'floe_buffer_bytes', help: 'Bytes held in table windows, not yet committed', registers: [this.registry] });
  readonly bufferBytesMax = new Gauge({ name: 'floe_buffer_bytes_max', help: 'commit.bufferBytesMax: a commit starts when the windows reach it', registers: [this.registry] });
  readonly pausedPartitions = new Gauge({ name: 'floe_paused_partitions', help: 'Assigned partitions paused (commit cycle or backpressure)', registers: [this.registry] });
  readonly assignedPartitions = new Gauge({ name: 'floe_assigned_partitions', help: 'Partitions assigned to this member', registers: [this.registry] });
  readonly lag = new Gauge({ name: 'floe_consumer_lag_records', help: 'High watermark minus the next offset to process, per assigned partition', labelNames: ['topic', 'partition'] as const, registers: [this.registry] });
  readonly indexKeys = new Gauge({ name: 'floe_index_keys', help: 'Keys in the table\'s primary-key index', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexRebuilds = new Counter({ name: 'floe_index_rebuilds_total', help: 'Key indexes built by reading every key of a table, by reason: open (a table this process had not indexed), equality_deletes_on_other_columns, catch_up_interrupted (another writer expired files it was reading)', labelNames: ['table', 'reason'] as const, registers: [this.registry] });
  readonly indexCatchUps = new Counter({ name: 'floe_index_catchups_total', help: 'Key indexes that followed a table through its changed files only (after a compaction, an expiry, another replica, a rebalance)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexCatchUpFiles = new Counter({ name: 'floe_index_catchup_files_total', help: 'Files a key-index catch-up handled, by kind: data_added, data_removed, deletes_added, read (key columns read), swept (removed files no longer readable)', labelNames: ['table', 'kind'] as const, registers: [this.registry] });
  readonly indexCatchUpSeconds = new Histogram({ name: 'floe_index_catchup_duration_seconds', help: 'One key-index catch-up', buckets: LATENCY_BUCKETS_S, registers: [this.registry] });
  readonly indexBytes = new Gauge({ name: 'floe_index_bytes', help: 'Memory of the table\'s primary-key index', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexState = new Gauge({ name: 'floe_index_state', help: 'Where the table\'s key index is: 1 for its state (memory; spilled: part on local disk past index.memoryBytesMax; equality: no index, the table deletes by equality)', labelNames: ['table', 'state'] as const, registers: [this.registry] });
  readonly indexDiskBytes = new Gauge({ name: 'floe_index_disk_bytes', help: 'Local disk the table\'s spilled key index takes (index.spillDir)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexPartitions = new Gauge({ name: 'floe_index_partitions', help: 'Kafka partitions whose keys the table\'s index holds on this replica (when floe_index_sharded is 1)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexSharded = new Gauge({ name: 'floe_index_sharded', help: 'Whether the table\'s index holds only the keys of this replica\'s Kafka partitions (1), or every key (0)', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexReshards = new Counter({ name: 'floe_index_reshards_total', help: 'Key indexes that moved to other partitions\' keys (a rebalance) or to every key, reading only the keys that moved in', labelNames: ['table'] as const, registers: [this.registry] });
  readonly indexKeyMismatches = new Counter({ name: 'floe_index_key_mismatches_total', help: 'Topics whose record keys did not follow Kafka\'s default partitioner or could not be rebuilt from the table (their tables are indexed whole from then on)', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly tableFailed = new Gauge({ name: 'floe_table_failed', help: '1 while the table is stopped (its records go to the dead-letter topic), by reason: partition_transform, sort_transform, incompatible_schema', labelNames: ['table', 'reason'] as const, registers: [this.registry] });
  readonly ready = new Gauge({ name: 'floe_ready', help: '1 once the member has joined its group and restored its offsets from the tables', registers: [this.registry] });
  /** Newest committed event time per table (ms), read at scrape time by the freshness gauge. */
  private readonly newestCommittedMs = new Map<string, number>();
  readonly freshness = new Gauge({
    name: 'floe_freshness_seconds',
    help: 'Age of the newest committed event per table (now - its Debezium ts_ms): how stale a reader\'s view is',
    labelNames: ['table'] as const,
    registers: [this.registry],
    collect: () => this.collectFreshness(),
  });

  // Table maintenance (src/maintain/). `step`: the steps of MAINTAIN_STEPS, and `load` for a table that could not
  // be loaded; `outcome`: ok, failed, or stopped (the run's budget was spent, or the run was stopped, before or
  // during the step).
  readonly maintenanceRuns = new Counter({ name: 'floe_maintenance_runs_total', help: 'Maintenance steps run, by outcome: ok, failed, stopped (budget spent or run stopped)', labelNames: ['table', 'step', 'outcome'] as const, registers: [this.registry] });
  readonly maintenanceFilesRewritten = new Counter({ name: 'floe_maintenance_files_rewritten_total', help: 'Files (data, delete or manifest files, by step) read and replaced by maintenance', labelNames: ['table', 'step'] as const, registers: [this.registry] });
  readonly maintenanceBytesRewritten = new Counter({ name: 'floe_maintenance_bytes_rewritten_total', help: 'Bytes of the files maintenance read and replaced', labelNames: ['table', 'step'] as const, registers: [this.registry] });
  readonly maintenanceSnapshotsExpired = new Counter({ name: 'floe_maintenance_snapshots_expired_total', help: 'Snapshots expired by maintenance', labelNames: ['table'] as const, registers: [this.registry] });
  readonly maintenanceFilesDeleted = new Counter({ name: 'floe_maintenance_files_deleted_total', help: 'Files deleted from storage by maintenance (expired snapshots\' files, orphans)', labelNames: ['table', 'step'] as const, registers: [this.registry] });
  readonly maintenanceConflicts = new Counter({ name: 'floe_maintenance_conflicts_total', help: 'Maintenance groups dropped, or steps failed, because concurrent commits conflicted with them (retried next run)', labelNames: ['table', 'step'] as const, registers: [this.registry] });
  readonly maintenanceSeconds = new Histogram({ name: 'floe_maintenance_duration_seconds', help: 'One maintenance step on one table', labelNames: ['step'] as const, buckets: MAINTENANCE_BUCKETS_S, registers: [this.registry] });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'floe_' });
  }

  private collectFreshness(): void {
    const now = Date.now();
    for (const [table, ms] of this.newestCommittedMs) this.freshness.set({ table }, Math.max(0, (now - ms) / 1000));
  }

  /** Records a commit cycle: what the windows held (sealed) and what each table's commit did (reports). */
  /** How a table's key index was opened or followed the table (worker-core OpenedTable). */
  recordIndex(o: OpenedTable): void {
    const table = o.name ?? '';
    if (o.rebuilt !== undefined) this.indexRebuilds.inc({ table, reason: o.rebuilt });
    if (o.resharded !== undefined) this.indexReshards.inc({ table });
    if (o.index !== 'none') {
      this.indexPartitions.set({ table }, o.shardPartitions ?? 0);
      this.indexSharded.set({ table }, o.shardPartitions !== undefined ? 1 : 0);
      this.indexKeys.set({ table }, o.keys);
    }
    const c = o.catchUp;
    if (c === undefined || c.fromSnapshot === c.toSnapshot) return;
    this.indexCatchUps.inc({ table });
    this.indexCatchUpFiles.inc({ table, kind: 'data_added' }, c.dataFilesAdded);
    this.indexCatchUpFiles.inc({ table, kind: 'data_removed' }, c.dataFilesRemoved);
    this.indexCatchUpFiles.inc({ table, kind: 'deletes_added' }, c.deleteFilesAdded);
    this.indexCatchUpFiles.inc({ table, kind: 'read' }, c.filesRead);
    this.indexCatchUpFiles.inc({ table, kind: 'swept' }, c.sweeps);
    this.indexCatchUpSeconds.observe(c.ms / 1000);
  }

  recordCommit(sealed: readonly SealedTable[], reports: readonly TableCommitReport[]): void {
    for (const s of sealed) {
      for (const [op, n] of Object.entries(s.ops ?? {})) this.eventsApplied.inc({ table: s.name, op }, n);
      if (s.newestEventMs !== null && s.newestEventMs !== undefined) {
        const prev = this.newestCommittedMs.get(s.name);
        if (prev === undefined || s.newestEventMs > prev) this.newestCommittedMs.set(s.name, s.newestEventMs);
      }
      if (s.indexKeys !== undefined) {
        this.indexKeys.set({ table: s.name }, s.indexKeys);
        this.indexBytes.set({ table: s.name }, s.indexBytes);
        this.indexPartitions.set({ table: s.name }, s.indexPartitions ?? 0);
        this.indexSharded.set({ table: s.name }, s.indexPartitions !== undefined ? 1 : 0);
        this.indexDiskBytes.set({ table: s.name }, s.indexDiskBytes ?? 0);
        if (s.indexState !== undefined) for (const state of ['memory', 'spilled', 'equality'] as const) this.indexState.set({ table: s.name, state }, s.indexState === state ? 1 : 0);
      }
      for (const f of [...s.dataFiles, ...s.deleteFiles]) this.filesWritten.inc({ table: s.name, content: contentLabel(f) });
    }
    for (const r of reports) {
      this.rowsWritten.inc({ table: r.table }, r.rows);
      this.keysDeleted.inc({ table: r.table }, r.deletedKeys);
      this.bytesWritten.inc({ table: r.table }, r.bytes);
      this.commitSeconds.observe({ table: r.table }, r.ms / 1000);
      if (r.snapshotId !== null) this.commits.inc({ table: r.table });
      this.commitAttempts.inc({ table: r.table }, r.attempts);
      for (const [cause, n] of Object.entries(r.retries)) {
        if (cause === 'state_unknown') this.commitUnknown.inc({ table: r.table }, n);
        else this.commitConflicts.inc({ table: r.table, cause }, n);
      }
      for (const ms of r.fileWaitsMs) this.commitFileWaitSeconds.observe({ table: r.table }, ms / 1000);
      if (r.repositioned !== undefined) this.commitRepositions.inc({ table: r.table }, r.repositioned);
      if (r.fellBackToEquality === true) this.commitEqualityFallbacks.inc({ table: r.table });
      if (r.repairedRows !== undefined) {
        this.duplicateKeys.inc({ table: r.table }, r.repairedKeys ?? 0);
        this.duplicateRowsDeleted.inc({ table: r.table }, r.repairedRows);
      }
      if (r.deletionVectors !== undefined) this.filesWritten.inc({ table: r.table, content: 'deletion_vectors' }, r.deletionVectors);
    }
  }

  /** Records what one table's maintenance run did (a dry run did nothing: not recorded). */
  recordMaintenance(r: TableMaintenanceReport): void {
    if (r.dryRun) return;
    const table = r.table;
    if (r.outcome === 'unreadable') this.maintenanceRuns.inc({ table, step: 'load', outcome: 'failed' });
    for (const s of r.steps) {
      if (s.outcome === 'skipped' && (s.reason === 'disabled' || s.reason === 'gc-disabled')) continue;
      const step = s.step;
      this.maintenanceRuns.inc({ table, step, outcome: s.outcome === 'skipped' ? 'stopped' : s.outcome });
      this.maintenanceSeconds.observe({ step }, s.ms / 1000);
      const res = s.result;
      const conflicts = (res?.groupsConflicted ?? 0) + (s.error?.retry === 'conflict' ? 1 : 0);
      if (conflicts > 0) this.maintenanceConflicts.inc({ table, step }, conflicts);
      if (res === undefined) continue;
      if (res.filesIn > 0) this.maintenanceFilesRewritten.inc({ table, step }, res.filesIn);
      if (res.bytesIn > 0) this.maintenanceBytesRewritten.inc({ table, step }, res.bytesIn);
      if ((res.snapshotsExpired ?? 0) > 0) this.maintenanceSnapshotsExpired.inc({ table }, res.snapshotsExpired);
      if ((res.filesDeleted ?? 0) > 0) this.maintenanceFilesDeleted.inc({ table, step }, res.filesDeleted);
    }
  }

  /** Where the outage gauge reads the current outage's start from (the pipeline). */
  trackOutage(since: () => number | null): void {
    this.outageSince = since;
  }

  /** Replaces the per-partition lag series (partitions revoked since the last call disappear). */
  setLag(lags: readonly { topic: string; partition: number; lag: number }[]): void {
    this.lag.reset();
    for (const l of lags) this.lag.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
  }
}

function contentLabel(f: DataFile): string {
  if (f.content === DataFileContent.DATA) return 'data';
  if (f.content === DataFileContent.EQUALITY_DELETES) return 'equality_deletes';
  return isDeletionVector(f) ? 'deletion_vectors' : 'position_deletes';
}
