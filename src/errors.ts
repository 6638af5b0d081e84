/**
 * One error type for floe. Every adapter (catalog, S3, Kafka, decoding) classifies the failures it sees
 * once, into a closed code union and a retry class, so callers decide by `retry` and never by message text.
 *
 * - `conflict`:  someone else changed the thing first (HTTP 409, failed CAS); reload, re-apply, retry.
 * - `transient`: it may work later (throttling, 5xx on reads, timeouts on idempotent calls); back off, retry.
 * - `never`:     retrying cannot help (bad config, bad input, access denied, invariant broken).
 * `commit_state_unknown` is `never` on purpose: the commit may have landed, so a blind retry could
 * duplicate a snapshot. The committer must first check whether its snapshot is in the table.
 */
export type FloeErrorCode =
  | 'config_invalid'
  | 'schema_invalid'
  | 'type_unsupported'
  | 'field_id_mismatch'
  | 'value_invalid'
  | 'catalog_unreachable'
  | 'catalog_auth_failed'
  | 'catalog_not_found'
  | 'catalog_already_exists'
  | 'catalog_bad_request'
  | 'catalog_server_error'
  | 'commit_conflict'
  | 'commit_state_unknown'
  | 'commit_retries_exhausted'
  | 'commit_fenced'
  | 'commit_targets_gone'
  | 'index_full'
  | 'index_table_moved'
  | 'duplicate_keys'
  | 'outage_exhausted'
  | 'kafka_failed'
  | 'kafka_fatal'
  | 'kafka_partitions_moved'
  | 'record_invalid'
  | 'io_not_found'
  | 'io_access_denied'
  | 'io_throttled'
  | 'io_failed'
  | 'metadata_invalid'
  | 'assertion_failed';

export type RetryClass = 'conflict' | 'transient' | 'never';

const retryByCode: Readonly<Record<FloeErrorCode, RetryClass>> = Object.freeze({
  config_invalid: 'never',
  schema_invalid: 'never',
  type_unsupported: 'never',
  field_id_mismatch: 'never',
  value_invalid: 'never',
  catalog_unreachable: 'transient',
  catalog_auth_failed: 'never',
  catalog_not_found: 'never',
  catalog_already_exists: 'never',
  catalog_bad_request: 'never',
  catalog_server_error: 'transient',
  commit_conflict: 'conflict',
  commit_state_unknown: 'never',
  commit_retries_exhausted: 'never',
  commit_fenced: 'never',
  // Position deletes name data files a concurrent commit (compaction) removed: the index is stale, re-applying
  // the same deletes cannot help. The window is replayed against a rebuilt index.
  commit_targets_gone: 'never',
  // A key-index catch-up read a file another writer's expiry deleted meanwhile: the table moved on again. Transient:
  // the pipeline rewinds, reloads the table and the index follows it from there (rebuilt if it was left half-way).
  index_table_moved: 'transient',
  index_full: 'never',
  // A key with several live rows in a table under `onDuplicateKeys: fail`: the user asked to stop and look.
  duplicate_keys: 'never',
  // The catalog, S3 or Kafka stayed unreachable longer than commit.retry.maxElapsedMs: floe gives up and exits.
  outage_exhausted: 'never',
  kafka_failed: 'transient',
  // librdkafka's consumer cannot go on (a fatal error, a rebalance it could not apply): exit, a restart reconnects.
  kafka_fatal: 'never',
  // An offset commit refused because the group is rebalancing or this member's generation is over: the partitions
  // belong to others (or will), so retrying the commit cannot help. No data is at risk: the tables hold it with
  // their offsets, and the new owner skips what they hold.
  kafka_partitions_moved: 'never',
  record_invalid: 'never',
  io_not_found: 'never',
  io_access_denied: 'never',
  io_throttled: 'transient',
  io_failed: 'transient',
  metadata_invalid: 'never',
  assertion_failed: 'never',
});

export class FloeError extends Error {
  readonly code: FloeErrorCode;
  readonly retry: RetryClass;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: FloeErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FloeError';
    this.code = code;
    this.retry = retryByCode[code];
    this.details = Object.freeze({ ...details });
  }
}

/** Invariant check: a broken invariant is a bug, so it crashes instead of being handled. */
export function assert(condition: unknown, message: string, details: Record<string, unknown> = {}): asserts condition {
  if (!condition) throw new FloeError('assertion_failed', `assertion failed: ${message}`, details);
}

export function isFloeError(e: unknown, code?: FloeErrorCode): e is FloeError {
  return e instanceof FloeError && (code === undefined || e.code === code);
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
