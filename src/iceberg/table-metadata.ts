/**
 * Table metadata (spec: "Table Metadata") and the REST catalog's commit vocabulary (TableRequirement,
 * TableUpdate; REST spec `CommitTableRequest`). The same `applyUpdates`/`checkRequirements` run in the embedded
 * catalog, so the embedded and REST paths commit identically.
 */
import { randomUUID } from 'node:crypto';
import { FloeError } from '../errors.js';
import { PartitionSpec } from './partition-spec.js';
import { Schema } from './schema.js';
import { MAIN_BRANCH, snapshotFromJSON, snapshotToJSON, toBigInt, type Snapshot, type SnapshotRef } from './snapshot.js';
import { SortOrder } from './sort-order.js';

export interface TableMetadata {
  readonly formatVersion: 1 | 2 | 3;
  readonly tableUuid: string;
  readonly location: string;
  readonly lastSequenceNumber: bigint;
  readonly lastUpdatedMs: number;
  readonly lastColumnId: number;
  readonly schemas: readonly Schema[];
  readonly currentSchemaId: number;
  readonly specs: readonly PartitionSpec[];
  readonly defaultSpecId: number;
  readonly lastPartitionId: number;
  readonly sortOrders: readonly SortOrder[];
  readonly defaultSortOrderId: number;
  readonly properties: Readonly<Record<string, string>>;
  readonly snapshots: readonly Snapshot[];
  readonly currentSnapshotId: bigint | null;
  readonly refs: Readonly<Record<string, SnapshotRef>>;
  readonly snapshotLog: readonly { readonly timestampMs: number; readonly snapshotId: bigint }[];
  readonly metadataLog: readonly { readonly timestampMs: number; readonly metadataFile: string }[];
  /** v3 row lineage (`next-row-id`): the first `_row_id` the next snapshot assigns. Undefined before v3. */
  readonly nextRowId?: bigint;
  /** Fields this implementation does not model (statistics, partition-statistics...), kept verbatim. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export type TableRequirement =
  | { readonly type: 'assert-create' }
  | { readonly type: 'assert-table-uuid'; readonly uuid: string }
  | { readonly type: 'assert-ref-snapshot-id'; readonly ref: string; readonly 'snapshot-id': bigint | null }
  | { readonly type: 'assert-last-assigned-field-id'; readonly 'last-assigned-field-id': number }
  | { readonly type: 'assert-current-schema-id'; readonly 'current-schema-id': number }
  | { readonly type: 'assert-last-assigned-partition-id'; readonly 'last-assigned-partition-id': number }
  | { readonly type: 'assert-default-spec-id'; readonly 'default-spec-id': number }
  | { readonly type: 'assert-default-sort-order-id'; readonly 'default-sort-order-id': number };

export type TableUpdate =
  | { readonly action: 'assign-uuid'; readonly uuid: string }
  | { readonly action: 'upgrade-format-version'; readonly 'format-version': number }
  | { readonly action: 'add-schema'; readonly schema: Schema; readonly 'last-column-id'?: number }
  | { readonly action: 'set-current-schema'; readonly 'schema-id': number }
  | { readonly action: 'add-spec'; readonly spec: PartitionSpec }
  | { readonly action: 'set-default-spec'; readonly 'spec-id': number }
  | { readonly action: 'add-sort-order'; readonly 'sort-order': SortOrder }
  | { readonly action: 'set-default-sort-order'; readonly 'sort-order-id': number }
  | { readonly action: 'add-snapshot'; readonly snapshot: Snapshot }
  | { readonly action: 'set-snapshot-ref'; readonly 'ref-name': string; readonly type: 'branch' | 'tag'; readonly 'snapshot-id': bigint }
  /** What expire_snapshots commits: the snapshots go, and with them the refs that pointed at them. */
  | { readonly action: 'remove-snapshots'; readonly 'snapshot-ids': readonly bigint[] }
  | { readonly action: 'set-location'; readonly location: string }
  | { readonly action: 'set-properties'; readonly updates: Readonly<Record<string, string>> }
  | { readonly action: 'remove-properties'; readonly removals: readonly string[] };

/** Updates as JSON for the REST protocol (schemas, specs, snapshots serialized per spec). */
export function updateToJSON(u: TableUpdate): Record<string, unknown> {
  switch (u.action) {
    case 'add-schema': return { ...u, schema: u.schema.toJSON() };
    case 'add-spec': return { ...u, spec: u.spec.toJSON() };
    case 'add-sort-order': return { ...u, 'sort-order': u['sort-order'].toJSON() };
    case 'add-snapshot': return { ...u, snapshot: snapshotToJSON(u.snapshot) };
    default: return { ...u };
  }
}

export function currentSchema(m: TableMetadata): Schema {
  const s = m.schemas.find((x) => x.schemaId === m.currentSchemaId);
  if (s === undefined) throw new FloeError('metadata_invalid', `current schema ${m.currentSchemaId} is not among the table's schemas`);
  return s;
}

export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m.specs.find((x) => x.specId === m.defaultSpecId);
  if (s === undefined) throw new FloeError('metadata_invalid', `default spec ${m.defaultSpecId} is not among the table's specs`);
  return s;
}

export function specsById(m: TableMetadata): Map<number, PartitionSpec> {
  return new Map(m.specs.map((s) => [s.specId, s]));
}

export function currentSnapshot(m: TableMetadata, ref = MAIN_BRANCH): Snapshot | null {
  const r = m.refs[ref];
  const id = r !== undefined ? r.snapshotId : ref === MAIN_BRANCH ? m.currentSnapshotId : null;
  if (id === null) return null;
  return snapshotById(m, id);
}

export function snapshotById(m: TableMetadata, id: bigint): Snapshot {
  const s = m.snapshots.find((x) => x.snapshotId === id);
  if (s === undefined) throw new FloeError('metadata_invalid', `snapshot ${id} is not in the table metadata`);
  return s;
}

export function newTableMetadata(opts: {
  readonly location: string;
  readonly schema: Schema;
  readonly spec?: PartitionSpec;
  readonly sortOrder?: SortOrder;
  readonly properties?: Readonly<Record<string, string>>;
  readonly formatVersion?: 1 | 2 | 3;
  readonly tableUuid?: string;
}): TableMetadata {
  const schema = opts.schema.withSchemaId(0);
  const spec = opts.spec ?? PartitionSpec.unpartitioned();
  spec.validate(schema);
  const order = opts.sortOrder ?? SortOrder.unsorted();
  return {
    formatVersion: opts.formatVersion ?? 2,
    tableUuid: opts.tableUuid ?? randomUUID(),
    location: opts.location.replace(/\/+$/, ''),
    lastSequenceNumber: 0n,
    lastUpdatedMs: Date.now(),
    lastColumnId: schema.highestFieldId,
    schemas: [schema],
    currentSchemaId: 0,
    specs: [spec],
    defaultSpecId: spec.specId,
    lastPartitionId: spec.lastAssignedFieldId,
    sortOrders: order.orderId === 0 ? [order] : [SortOrder.unsorted(), order],
    defaultSortOrderId: order.orderId,
    properties: { ...(opts.properties ?? {}) },
    snapshots: [],
    currentSnapshotId: null,
    refs: {},
    snapshotLog: [],
    metadataLog: [],
    ...((opts.formatVersion ?? 2) >= 3 ? { nextRowId: 0n } : {}),
    extra: {},
  };
}

const KNOWN_KEYS = new Set([
  'format-version', 'table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id', 'schema', 'schemas',
  'current-schema-id', 'partition-spec', 'partition-specs', 'default-spec-id', 'last-partition-id', 'sort-orders',
  'default-sort-order-id', 'properties', 'current-snapshot-id', 'snapshots', 'snapshot-log', 'metadata-log', 'refs', 'next-row-id',
]);

export function tableMetadataFromJSON(j: unknown): TableMetadata {
  if (j === null || typeof j !== 'object') throw new FloeError('metadata_invalid', 'table metadata must be a JSON object');
  const o = j as Record<string, unknown>;
  const fv = Number(o['format-version']);
  if (fv !== 1 && fv !== 2 && fv !== 3) throw new FloeError('metadata_invalid', `unsupported format-version ${String(o['format-version'])}`);
  const schemas = Array.isArray(o.schemas) ? o.schemas.map((s) => Schema.fromJSON(s)) : [Schema.fromJSON(o.schema)];
  const specs = Array.isArray(o['partition-specs'])
    ? o['partition-specs'].map((s) => PartitionSpec.fromJSON(s))
    : [PartitionSpec.fromJSON({ 'spec-id': 0, fields: o['partition-spec'] ?? [] })];
  const sortOrders = Array.isArray(o['sort-orders']) ? o['sort-orders'].map((s) => SortOrder.fromJSON(s)) : [SortOrder.unsorted()];
  const snapshots = Array.isArray(o.snapshots) ? o.snapshots.map((s) => snapshotFromJSON(s as Record<string, unknown>)) : [];
  const cur = o['current-snapshot-id'];
  const currentSnapshotId = cur === undefined || cur === null || cur === -1 ? null : toBigInt(cur, 'current-snapshot-id');
  const refs: Record<string, SnapshotRef> = {};
  for (const [name, r] of Object.entries((o.refs ?? {}) as Record<string, Record<string, unknown>>)) {
    refs[name] = { snapshotId: toBigInt(r['snapshot-id'], `refs.${name}.snapshot-id`), type: r.type === 'tag' ? 'tag' : 'branch' };
  }
  if (refs[MAIN_BRANCH] === undefined && currentSnapshotId !== null) refs[MAIN_BRANCH] = { snapshotId: currentSnapshotId, type: 'branch' };
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!KNOWN_KEYS.has(k)) extra[k] = v;
  return {
    formatVersion: fv,
    tableUuid: String(o['table-uuid'] ?? ''),
    location: String(o.location ?? ''),
    lastSequenceNumber: o['last-sequence-number'] === undefined ? 0n : toBigInt(o['last-sequence-number'], 'last-sequence-number'),
    lastUpdatedMs: Number(o['last-updated-ms'] ?? 0),
    lastColumnId: Number(o['last-column-id'] ?? 0),
    schemas,
    currentSchemaId: typeof o['current-schema-id'] === 'number' ? o['current-schema-id'] : (schemas[0]?.schemaId ?? 0),
    specs,
    defaultSpecId: typeof o['default-spec-id'] === 'number' ? o['default-spec-id'] : 0,
    lastPartitionId: Number(o['last-partition-id'] ?? 999),
    sortOrders,
    defaultSortOrderId: typeof o['default-sort-order-id'] === 'number' ? o['default-sort-order-id'] : 0,
    properties: { ...((o.properties ?? {}) as Record<string, string>) },
    snapshots,
    currentSnapshotId,
    refs,
    snapshotLog: Array.isArray(o['snapshot-log'])
      ? o['snapshot-log'].map((e: Record<string, unknown>) => ({ timestampMs: Number(e['timestamp-ms']), snapshotId: toBigInt(e['snapshot-id'], 'snapshot-log') }))
      : [],
    metadataLog: Array.isArray(o['metadata-log'])
      ? o['metadata-log'].map((e: Record<string, unknown>) => ({ timestampMs: Number(e['timestamp-ms']), metadataFile: String(e['metadata-file']) }))
      : [],
    ...(fv >= 3 ? { nextRowId: o['next-row-id'] === undefined || o['next-row-id'] === null ? 0n : toBigInt(o['next-row-id'], 'next-row-id') } : {}),
    extra,
  };
}

export function tableMetadataToJSON(m: TableMetadata): Record<string, unknown> {
  const refs: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(m.refs)) refs[name] = { 'snapshot-id': r.snapshotId, type: r.type };
  return {
    ...m.extra,
    'format-version': m.formatVersion,
    'table-uuid': m.tableUuid,
    location: m.location,
    'last-sequence-number': m.lastSequenceNumber,
    'last-updated-ms': m.lastUpdatedMs,
    'last-column-id': m.lastColumnId,
    'current-schema-id': m.currentSchemaId,
    schemas: m.schemas.map((s) => s.toJSON()),
    'default-spec-id': m.defaultSpecId,
    'partition-specs': m.specs.map((s) => s.toJSON()),
    'last-partition-id': m.lastPartitionId,
    'default-sort-order-id': m.defaultSortOrderId,
    'sort-orders': m.sortOrders.map((s) => s.toJSON()),
    properties: { ...m.properties },
    'current-snapshot-id': m.currentSnapshotId ?? -1,
    refs,
    snapshots: m.snapshots.map(snapshotToJSON),
    'snapshot-log': m.snapshotLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'snapshot-id': e.snapshotId })),
    'metadata-log': m.metadataLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'metadata-file': e.metadataFile })),
    ...(m.formatVersion >= 3 ? { 'next-row-id': m.nextRowId ?? 0n } : {}),
  };
}

/** Checks commit requirements against the current metadata (null = table does not exist). Throws commit_conflict. */
export function checkRequirements(m: TableMetadata | null, reqs: readonly TableRequirement[]): void {
  const fail = (msg: string): never => {
    throw new FloeError('commit_conflict', `commit requirement failed: ${msg}`);
  };
  for (const r of reqs) {
    if (r.type === 'assert-create') {
      if (m !== null) fail('table already exists');
      continue;
    }
    if (m === null) throw new FloeError('catalog_not_found', 'table does not exist');
    switch (r.type) {
      case 'assert-table-uuid':
        if (m.tableUuid !== r.uuid) fail(`table uuid is ${m.tableUuid}, expected ${r.uuid}`);
        break;
      case 'assert-ref-snapshot-id': {
        const ref = m.refs[r.ref];
        const actual = ref === undefined ? null : ref.snapshotId;
        if (actual !== r['snapshot-id']) fail(`branch ${r.ref} is at ${String(actual)}, expected ${String(r['snapshot-id'])}`);
        break;
      }
      case 'assert-last-assigned-field-id':
        if (m.lastColumnId !== r['last-assigned-field-id']) fail(`last assigned field id is ${m.lastColumnId}`);
        break;
      case 'assert-current-schema-id':
        if (m.currentSchemaId !== r['current-schema-id']) fail(`current schema id is ${m.currentSchemaId}`);
        break;
      case 'assert-last-assigned-partition-id':
        if (m.lastPartitionId !== r['last-assigned-partition-id']) fail(`last assigned partition id is ${m.lastPartitionId}`);
        break;
      case 'assert-default-spec-id':
        if (m.defaultSpecId !== r['default-spec-id']) fail(`default spec id is ${m.defaultSpecId}`);
        break;
      case 'assert-default-sort-order-id':
        if (m.defaultSortOrderId !== r['default-sort-order-id']) fail(`default sort order id is ${m.defaultSortOrderId}`);
        break;
    }
  }
}

/** Table metadata fields that list statistics files, one per snapshot (spec: "Table Statistics", "Partition Statistics"). */
export const STATISTICS_FIELDS = ['statistics', 'partition-statistics'] as const;

/** The statistics files the metadata lists (`statistics-path` of each entry), with the snapshot each describes. */
export function statisticsFiles(m: TableMetadata): { readonly snapshotId: bigint | null; readonly path: string }[] {
  const out: { snapshotId: bigint | null; path: string }[] = [];
  for (const field of STATISTICS_FIELDS) {
    const list = m.extra[field];
    if (!Array.isArray(list)) continue;
    for (const e of list as unknown[]) {
      if (e === null || typeof e !== 'object') continue;
      const o = e as Record<string, unknown>;
      if (typeof o['statistics-path'] === 'string') out.push({ snapshotId: statisticsSnapshotId(o), path: o['statistics-path'] });
    }
  }
  return out;
}

function statisticsSnapshotId(o: Record<string, unknown>): bigint | null {
  const v = o['snapshot-id'];
  if (typeof v === 'bigint') return v;
  if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) return BigInt(v);
  return null;
}

function withoutStatisticsOf(extra: Readonly<Record<string, unknown>>, gone: ReadonlySet<bigint>): Record<string, unknown> {
  const out = { ...extra };
  for (const field of STATISTICS_FIELDS) {
    const list = out[field];
    if (!Array.isArray(list)) continue;
    out[field] = (list as unknown[]).filter((e) => {
      if (e === null || typeof e !== 'object') return true;
      const id = statisticsSnapshotId(e as Record<string, unknown>);
      return id === null || !gone.has(id);
    });
  }
  return out;
}

/** Applies REST-style updates, as a catalog server does. `-1` ids mean "the last one added in this commit". */
export function applyUpdates(base: TableMetadata, updates: readonly TableUpdate[], nowMs = Date.now()): TableMetadata {
  let m: { -readonly [K in keyof TableMetadata]: TableMetadata[K] } = { ...base };
  let lastAddedSchemaId: number | null = null;
  let lastAddedSpecId: number | null = null;
  let lastAddedOrderId: number | null = null;
  for (const u of updates) {
    switch (u.action) {
      case 'assign-uuid': m.tableUuid = u.uuid; break;
      case 'upgrade-format-version': {
        const v = u['format-version'];
        if (v < m.formatVersion || v > 3) throw new FloeError('catalog_bad_request', `cannot change format version ${m.formatVersion} to ${v}`);
        m.formatVersion = v as 1 | 2 | 3;
        if (v >= 3 && m.nextRowId === undefined) m.nextRowId = 0n;
        break;
      }
      case 'add-schema': {
        const existing = m.schemas.find((s) => s.sameStructure(u.schema));
        if (existing !== undefined) { lastAddedSchemaId = existing.schemaId; break; }
        const id = Math.max(-1, ...m.schemas.map((s) => s.schemaId)) + 1;
        const s = u.schema.withSchemaId(id);
        m.schemas = [...m.schemas, s];
        m.lastColumnId = Math.max(m.lastColumnId, u['last-column-id'] ?? s.highestFieldId, s.highestFieldId);
        lastAddedSchemaId = id;
        break;
      }
      case 'set-current-schema': {
        const id = u['schema-id'] === -1 ? lastAddedSchemaId : u['schema-id'];
        if (id === null || !m.schemas.some((s) => s.schemaId === id)) throw new FloeError('catalog_bad_request', `set-current-schema: unknown schema ${u['schema-id']}`);
        m.currentSchemaId = id;
        break;
      }
      case 'add-spec': {
        const existing = m.specs.find((s) => s.sameFields(u.spec));
        if (existing !== undefined) { lastAddedSpecId = existing.specId; break; }
        const id = Math.max(-1, ...m.specs.map((s) => s.specId)) + 1;
        m.specs = [...m.specs, new PartitionSpec(id, u.spec.fields)];
        m.lastPartitionId = Math.max(m.lastPartitionId, u.spec.lastAssignedFieldId);
        lastAddedSpecId = id;
        break;
      }
      case 'set-default-spec': {
        const id = u['spec-id'] === -1 ? lastAddedSpecId : u['spec-id'];
        if (id === null || !m.specs.some((s) => s.specId === id)) throw new FloeError('catalog_bad_request', `set-default-spec: unknown spec ${u['spec-id']}`);
        m.defaultSpecId = id;
        break;
      }
      case 'add-sort-order': {
        const id = u['sort-order'].orderId === 0 ? 0 : Math.max(0, ...m.sortOrders.map((s) => s.orderId)) + 1;
        if (id !== 0) m.sortOrders = [...m.sortOrders, new SortOrder(id, u['sort-order'].fields)];
        lastAddedOrderId = id;
        break;
      }
      case 'set-default-sort-order': {
        const id = u['sort-order-id'] === -1 ? lastAddedOrderId : u['sort-order-id'];
        if (id === null || !m.sortOrders.some((s) => s.orderId === id)) throw new FloeError('catalog_bad_request', `set-default-sort-order: unknown order ${u['sort-order-id']}`);
        m.defaultSortOrderId = id;
        break;
      }
      case 'add-snapshot': {
        const s = u.snapshot;
        if (m.snapshots.some((x) => x.snapshotId === s.snapshotId)) throw new FloeError('catalog_bad_request', `snapshot ${s.snapshotId} already exists`);
        if (m.formatVersion >= 2 && s.sequenceNumber <= m.lastSequenceNumber && s.parentSnapshotId !== null) {
          throw new FloeError('commit_conflict', `snapshot sequence number ${s.sequenceNumber} is not above last-sequence-number ${m.lastSequenceNumber}`);
        }
        if (m.formatVersion >= 3) {
          // Row lineage (spec v3: "Snapshot Row IDs"): first-row-id must not reuse ids; next-row-id advances by added-rows.
          const next = m.nextRowId ?? 0n;
          if (s.firstRowId === undefined || s.firstRowId === null || s.addedRows === undefined || s.addedRows === null) {
            throw new FloeError('catalog_bad_request', `v3 snapshot ${s.snapshotId} has no first-row-id / added-rows`);
          }
          if (s.firstRowId < next) throw new FloeError('commit_conflict', `snapshot first-row-id ${s.firstRowId} is below next-row-id ${next}`);
          m.nextRowId = s.firstRowId + s.addedRows;
        }
        m.snapshots = [...m.snapshots, s];
        if (s.sequenceNumber > m.lastSequenceNumber) m.lastSequenceNumber = s.sequenceNumber;
        m.lastUpdatedMs = s.timestampMs;
        break;
      }
      case 'set-snapshot-ref': {
        const id = u['snapshot-id'];
        if (!m.snapshots.some((x) => x.snapshotId === id)) throw new FloeError('catalog_bad_request', `set-snapshot-ref: unknown snapshot ${id}`);
        m.refs = { ...m.refs, [u['ref-name']]: { snapshotId: id, type: u.type } };
        if (u['ref-name'] === MAIN_BRANCH) {
          m.currentSnapshotId = id;
          m.snapshotLog = [...m.snapshotLog, { timestampMs: nowMs, snapshotId: id }];
        }
        break;
      }
      case 'remove-snapshots': {
        // As Java's TableMetadata.Builder: refs left dangling are removed, and the snapshot log keeps only the
        // entries after the last one that names a removed snapshot.
        const gone = new Set(u['snapshot-ids']);
        m.snapshots = m.snapshots.filter((s) => !gone.has(s.snapshotId));
        m.refs = Object.fromEntries(Object.entries(m.refs).filter(([, r]) => !gone.has(r.snapshotId)));
        if (m.currentSnapshotId !== null && gone.has(m.currentSnapshotId)) m.currentSnapshotId = null;
        let lastGone = -1;
        m.snapshotLog.forEach((e, i) => {
          if (gone.has(e.snapshotId)) lastGone = i;
        });
        m.snapshotLog = m.snapshotLog.slice(lastGone + 1);
        // Also as Java's builder: the statistics and partition statistics files of a removed snapshot go with it.
        m.extra = withoutStatisticsOf(m.extra, gone);
        break;
      }
      case 'set-location': m.location = u.location; break;
      case 'set-properties': m.properties = { ...m.properties, ...u.updates }; break;
      case 'remove-properties': {
        const p = { ...m.properties };
        for (const k of u.removals) delete p[k];
        m.properties = p;
        break;
      }
    }
  }
  m.lastUpdatedMs = Math.max(m.lastUpdatedMs, nowMs);
  m = { ...m };
  return m;
}
