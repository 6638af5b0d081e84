// Proves TableKeyIndex.catchUp follows a table (v2 position deletes / v3 deletion vectors, unpartitioned / partitioned on a non-key column) through other writers' appends, upserts, deletes by position, copy-on-write deletes, compactions (also dropping delete files, also keeping their starting sequence number), truncates, equality deletes on the key, expiry with deleted files, duplicate keys and their pending repairs, and floe's own stage/confirm/advance: after each catch-up the index (key → file, position; rows per file; pending repairs) equals a fresh build of the current snapshot (and the parallel bootstrap, on 2 or 3 threads, equals the one-thread build: keys, rows per file, repairs), an equality delete on another column returns null, and it reads only files bounded by what changed (nothing when nothing changed); seeded random schedules print their seed, FLOE_CATCHUP_SEED=<seed> replays one; a landed window the index cannot hold although under its key budget (its key bytes or row pages ran out) reports overflow, so the table deletes by equality from then on; an index sharded by Kafka partition (keys placed by murmur2 of the JsonConverter key rebuilt from the row) builds, catches up and reshards (a rebalance, every key, a shard again) to exactly what a fresh build under that shard holds.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedTable, TableIdentifier } from '../../src/catalog/catalog.js';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Transaction, newSnapshotId } from '../../src/commit/transaction.js';
import { Rng } from '../../src/demo/debezium-generator.js';
import { FloeError } from '../../src/errors.js';
import { DataFileContent, ManifestEntryStatus, isDeletionVector, type DataFile, type ManifestEntry } from '../../src/iceberg/data-file.js';
import { ManifestContent, readManifest, writeManifest, writeManifestListWithRowIds } from '../../src/iceberg/manifest.js';
import { partitionSpecFromExprs } from '../../src/iceberg/partition-spec.js';
import { readPositionDeletes, scanLive } from '../../src/iceberg/scan.js';
import { schemaFromDecls } from '../../src/iceberg/schema.js';
import { liveEntries, readManifestFiles } from '../../src/iceberg/snapshot-files.js';
import { MAIN_BRANCH, type Snapshot } from '../../src/iceberg/snapshot.js';
import { currentSchema, currentSnapshot, defaultSpec, specsById } from '../../src/iceberg/table-metadata.js';
import { T } from '../../src/iceberg/types.js';
import { valuesKey, type IcebergValue } from '../../src/iceberg/values.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import { buildKeyIndex } from '../../src/worker/index-build.js';
import { KeyTemplate, isRefused } from '../../src/decode/key-serializer.js';
import { defaultPartition } from '../../src/kafka/partitioner.js';
import { KeyShard } from '../../src/worker/key-shard.js';
import { TableKeyIndex, type CatchUp, type KeyIndexOptions, type PendingSeal } from '../../src/worker/key-index.js';
import { PkIndex, type IndexedFile } from '../../src/worker/pk-index.js';
import { DataWriter, EqualityDeleteWriter, PositionDeleteWriter } from '../../src/writer/partitioned-writer.js';
import { settingsFor } from '../support/table-ops.js';

type Values = readonly (IcebergValue | null)[];

/** The table shapes every case runs on: the key `id` never decides the partition. */
interface Variant {
  readonly name: string;
  readonly formatVersion: 2 | 3;
  readonly partition: readonly string[];
}
const VARIANTS: readonly Variant[] = [
  { name: 'v2 unpartitioned', formatVersion: 2, partition: [] },
  { name: 'v2 identity(g)', formatVersion: 2, partition: ['g'] },
  { name: 'v3 unpartitioned', formatVersion: 3, partition: [] },
  { name: 'v3 bucket(4, g)', formatVersion: 3, partition: ['bucket(4, g)'] },
];

/** Columns: id long (the key), v string (unique per written row: names a row across rewrites), g int (partition source). */
const ID_FIELD = 1;
const V_FIELD = 2;
const G_FIELD = 3;
const GROUPS = 4;
/** A check also builds the index in parallel threads every this many checks. */
const PARALLEL_CHECK_EVERY = 12;

/** A live row of the current snapshot. */
interface LiveRow {
  readonly file: DataFile;
  readonly pos: number;
  readonly id: bigint;
  readonly v: string;
  readonly g: number;
  readonly seq: bigint;
}
type NewRow = readonly [bigint, string, number];
interface Target {
  readonly path: string;
  readonly pos: number;
  readonly partition: Values;
}

/**
 * Local files, with reads of data, delete and manifest files kept in memory: they are immutable and uniquely
 * named, so a read after a write or a delete is never stale (deleted files are forgotten and read as missing).
 * The schedules re-read the whole (small) table after every operation; the disk round trips dominated them.
 */
class CachedLocalFileIO extends LocalFileIO {
  private readonly cache = new Map<string, Uint8Array>();
  override async read(path: string): Promise<Uint8Array> {
    const hit = this.cache.get(path);
    if (hit !== undefined) return hit;
    const bytes = await super.read(path);
    if (/\.(parquet|avro|puffin)$/.test(path)) this.cache.set(path, bytes);
    return bytes;
  }

  override async write(path: string, bytes: Uint8Array): Promise<void> {
    this.cache.delete(path);
    await super.write(path, bytes);
  }

  override async delete(path: string): Promise<void> {
    this.cache.delete(path);
    await super.delete(path);
  }
}

const at = (l: { file: { path: string }; pos: number } | undefined): string => (l === undefined ? '-' : `${l.file.path}#${l.pos}`);

/**
 * One table, the key index that follows it, and the operations of other writers and of floe itself. Every
 * check compares the index with a fresh build of the current snapshot (the oracle).
 */
class Harness {
  table!: LoadedTable;
  ki!: TableKeyIndex;
  /** Every key ever written (the keys the comparison looks up). */
  readonly ids = new Set<bigint>();
  private nextId = 1n;
  private nextV = 0;
  /** The indexed snapshot: its sequence number, live data files, and whether its manifest list is still there. */
  private baseSeq = -1n;
  private baseLive = new Set<string>();
  private baseListGone = false;
  readonly opts: KeyIndexOptions;

  private constructor(readonly catalog: SqlCatalog, readonly id: TableIdentifier, readonly variant: Variant, readonly label: string, onDuplicateKeys: 'repair' | 'fail') {
    this.opts = { table: `${id.namespace.join('.')}.${id.name}`, keyFields: [{ id: ID_FIELD, name: 'id', required: true, type: T.long }], onDuplicateKeys };
  }

  /** `mergeManifests`: manifests are merged after a few commits (their entries come back as EXISTING ones). */
  static async create(catalog: SqlCatalog, name: string, variant: Variant, label = name, mergeManifests = false, onDuplicateKeys: 'repair' | 'fail' = 'repair'): Promise<Harness> {
    const id = { namespace: ['ns'], name };
    const schema = schemaFromDecls([{ name: 'id', type: T.long, required: true }, { name: 'v', type: T.string }, { name: 'g', type: T.int }], ['id']);
    const spec = variant.partition.length === 0 ? undefined : partitionSpecFromExprs(variant.partition, schema);
    const h = new Harness(catalog, id, variant, label, onDuplicateKeys);
    const properties: Record<string, string> = mergeManifests ? { 'commit.manifest.min-count-to-merge': '3' } : {};
    h.table = await catalog.createTable(id, { schema, formatVersion: variant.formatVersion, properties, ...(spec !== undefined ? { spec } : {}) });
    h.ki = await TableKeyIndex.build(h.table, h.opts);
    await h.markBase(h.table);
    return h;
  }

  async load(): Promise<LoadedTable> {
    this.table = await this.catalog.loadTable(this.id);
    return this.table;
  }

  get current(): Snapshot | null {
    return currentSnapshot(this.table.metadata);
  }

  /** Whether the index describes the current snapshot (floe's own commits build on it). */
  get caughtUp(): boolean {
    return this.ki.snapshotId === (this.current?.snapshotId ?? null);
  }

  freshId(): bigint {
    return this.nextId++;
  }

  freshV(): string {
    return `r${String(this.nextV++).padStart(6, '0')}`;
  }

  row(id: bigint, g: number): NewRow {
    return [id, this.freshV(), g];
  }

  /** Live rows of the current snapshot, in an order that does not depend on file names (v is unique). */
  async rows(): Promise<LiveRow[]> {
    const t = await this.load();
    const out: LiveRow[] = [];
    await scanLive(t, currentSchema(t.metadata).fields, (file, pos, values, seq) => {
      out.push({ file, pos, id: values[0] as bigint, v: values[1] as string, g: values[2] as number, seq });
    });
    return out.sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
  }

  /** Writes rows into new data files of `tx`; returns where each row went. */
  private async writeRows(tx: Transaction, rows: readonly NewRow[]): Promise<{ key: Values; file: IndexedFile; pos: number }[]> {
    if (rows.length === 0) return [];
    const t = this.table;
    const w = new DataWriter(settingsFor(t), currentSchema(t.metadata), defaultSpec(t.metadata));
    const placed: { key: Values; path: string; pos: number }[] = [];
    for (const r of rows) {
      const pos = w.write(r);
      placed.push({ key: [r[0]], path: (w.last as { lastPath: string }).lastPath, pos });
      this.ids.add(r[0]);
    }
    const files = await w.close();
    tx.addDataFiles(files);
    const byPath = new Map(files.map((f) => [f.filePath, f]));
    return placed.map((p) => {
      const f = byPath.get(p.path);
      assert.ok(f !== undefined, `row written to ${p.path}`);
      return { key: p.key, file: { path: f.filePath, specId: f.specId, partition: f.partition }, pos: p.pos };
    });
  }

  /** Deletes rows by position: a position delete file (v2) or deletion vectors (v3). */
  private async deleteAt(tx: Transaction, targets: readonly Target[]): Promise<void> {
    if (targets.length === 0) return;
    if (this.variant.formatVersion >= 3) {
      const byPath = new Map<string, number[]>();
      for (const x of targets) byPath.set(x.path, [...(byPath.get(x.path) ?? []), x.pos]);
      tx.addDeletionVectors([...byPath].map(([p, list]) => [p, Float64Array.from(list)] as const));
      return;
    }
    const t = this.table;
    const pw = new PositionDeleteWriter(settingsFor(t), currentSchema(t.metadata), defaultSpec(t.metadata));
    for (const x of targets) pw.delete(x.path, BigInt(x.pos), x.partition);
    tx.addDeleteFiles(await pw.close()).requireDataFiles(targets.map((x) => x.path));
  }

  private tx(): Transaction {
    return new Transaction(this.catalog, this.table);
  }

  // ---- Other writers ----

  /** Appends rows (new keys, or keys that already have a live row: a writer that does not upsert). */
  async append(rows: readonly NewRow[]): Promise<void> {
    await this.load();
    const tx = this.tx();
    await this.writeRows(tx, rows);
    this.table = (await tx.commit()).table;
  }

  /** Deletes `targets` by position and writes `rows` in the same snapshot (an upsert when they carry the same keys). */
  async deleteByPosition(targets: readonly LiveRow[], rows: readonly NewRow[] = []): Promise<void> {
    await this.load();
    const tx = this.tx();
    await this.deleteAt(tx, targets.map((r) => ({ path: r.file.filePath, pos: r.pos, partition: r.file.partition })));
    await this.writeRows(tx, rows);
    this.table = (await tx.commit()).table;
  }

  /** Copy-on-write delete: the file is removed and its other live rows are written to a new file. */
  async copyOnWriteDelete(path: string, drop: readonly LiveRow[]): Promise<void> {
    const live = await this.rows();
    const dropped = new Set(drop.map((r) => r.v));
    const survivors = live.filter((r) => r.file.filePath === path && !dropped.has(r.v));
    const tx = this.tx().removeDataFiles([path]);
    await this.writeRows(tx, survivors.map((r) => [r.id, r.v, r.g]));
    this.table = (await tx.setOperation('overwrite').commit()).table;
  }

  /** A compaction: the files are removed and their live rows written to new files (one per partition), with the sequence number the commit gives them. */
  async compact(paths: readonly string[]): Promise<void> {
    const live = await this.rows();
    const set = new Set(paths);
    const tx = this.tx().removeDataFiles(paths);
    await this.writeRows(tx, live.filter((r) => set.has(r.file.filePath)).map((r) => [r.id, r.v, r.g]));
    this.table = (await tx.setOperation('replace').commit()).table;
  }

  /** A compaction of the whole table that drops every delete file too (every file removed, the live rows rewritten). */
  async rewriteAll(): Promise<void> {
    const live = await this.rows();
    const tx = this.tx().truncateAll();
    await this.writeRows(tx, live.map((r) => [r.id, r.v, r.g]));
    this.table = (await tx.setOperation('replace').commit()).table;
  }

  /** A source TRUNCATE (with rows written after it in the same snapshot). */
  async truncate(rows: readonly NewRow[] = []): Promise<void> {
    await this.load();
    const tx = this.tx().truncateAll();
    await this.writeRows(tx, rows);
    this.table = (await tx.commit()).table;
  }

  /**
   * Equality deletes on `fieldId` of the targets' values, each in its target's partition (the delete applies to
   * files of lower sequence numbers), with `rows` in the same snapshot (an upsert by equality).
   */
  async equalityDelete(fieldId: number, targets: readonly LiveRow[], rows: readonly NewRow[] = []): Promise<void> {
    const t = await this.load();
    const schema = currentSchema(t.metadata);
    const ew = new EqualityDeleteWriter(settingsFor(t), schema, defaultSpec(t.metadata), [fieldId]);
    for (const r of targets) ew.delete([fieldId === ID_FIELD ? r.id : fieldId === V_FIELD ? r.v : r.g], r.file.partition);
    const tx = this.tx().addDeleteFiles(await ew.close());
    await this.writeRows(tx, rows);
    this.table = (await tx.commit()).table;
  }

  /**
   * A compaction committed as Spark's rewrite_data_files does by default (use-starting-sequence-number): the
   * rewritten file keeps the data sequence number of the snapshot the rewrite started from, so equality deletes
   * committed while it ran still apply to it (spec: "Sequence Numbers": a file's data sequence number may be
   * older than the snapshot that added it). Transaction gives added files its commit's, so the files are removed
   * by one and the rewritten file is added by a snapshot written here (ADDED entries with an explicit data
   * sequence number, the file sequence number inherited).
   */
  async compactFromStartingSequence(paths: readonly string[], rows: readonly NewRow[], dataSequence: bigint): Promise<void> {
    await this.load();
    this.table = (await this.tx().removeDataFiles(paths).setOperation('delete').commit()).table;
    const t = this.table;
    const meta = t.metadata;
    const cur = currentSnapshot(meta) as Snapshot;
    const schema = currentSchema(meta);
    const spec = defaultSpec(meta);
    const w = new DataWriter(settingsFor(t), schema, spec);
    for (const r of rows) w.write(r);
    const files = await w.close();
    const snapshotId = newSnapshotId();
    const path = `${meta.location}/metadata/${randomUUID()}-m0.avro`;
    const m = writeManifest({
      path, formatVersion: meta.formatVersion, schema, spec, content: ManifestContent.DATA, snapshotId,
      entries: files.map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: dataSequence, fileSequenceNumber: null, dataFile })),
    });
    await t.io.write(path, m.bytes);
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const firstRowId = meta.formatVersion >= 3 ? (meta.nextRowId ?? 0n) : undefined;
    const list = writeManifestListWithRowIds({
      formatVersion: meta.formatVersion, snapshotId, parentSnapshotId: cur.snapshotId, sequenceNumber,
      manifests: [m.manifestFile, ...(await readManifestFiles(t, cur))], ...(firstRowId !== undefined ? { firstRowId } : {}),
    });
    const listPath = `${meta.location}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`;
    await t.io.write(listPath, list.bytes);
    // The running totals as Spark writes them (floe's next commit carries them on; key-index.ts trusts
    // total-equality-deletes = 0 to skip reading older equality deletes).
    const totals: Record<string, string> = Object.fromEntries(Object.entries(cur.summary).filter(([k]) => k.startsWith('total-')));
    const add = (k: string, by: bigint): void => {
      totals[k] = String(BigInt(totals[k] ?? '0') + by);
    };
    add('total-data-files', BigInt(files.length));
    add('total-records', files.reduce((a, f) => a + f.recordCount, 0n));
    add('total-files-size', files.reduce((a, f) => a + f.fileSizeInBytes, 0n));
    const snapshot: Snapshot = {
      snapshotId, parentSnapshotId: cur.snapshotId, sequenceNumber, timestampMs: Math.max(Date.now(), meta.lastUpdatedMs + 1), manifestList: listPath,
      summary: { ...totals, operation: 'replace' }, schemaId: schema.schemaId, ...(firstRowId !== undefined ? { firstRowId, addedRows: list.addedRows } : {}),
    };
    this.table = await this.catalog.commitTable(t, [{ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': cur.snapshotId }], [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
    ]);
  }

  /**
   * expire_snapshots: every snapshot but the current one leaves the metadata; with `deleteFiles`, the files
   * only they reached (manifest lists, manifests, removed data and delete files) are deleted too.
   */
  async expire(deleteFiles: boolean): Promise<void> {
    const t = await this.load();
    const cur = this.current;
    if (cur === null) return;
    const old = t.metadata.snapshots.filter((s) => s.snapshotId !== cur.snapshotId);
    if (old.length === 0) return;
    const reached = async (s: Snapshot, liveOnly: boolean): Promise<Set<string>> => {
      const out = new Set<string>([s.manifestList]);
      for (const m of await readManifestFiles(t, s)) {
        out.add(m.manifestPath);
        for (const e of readManifest(await t.io.read(m.manifestPath), m, specsById(t.metadata), currentSchema(t.metadata))) {
          if (!liveOnly || e.status !== ManifestEntryStatus.DELETED) out.add(e.dataFile.filePath);
        }
      }
      return out;
    };
    const keep = await reached(cur, true);
    const gone = new Set<string>();
    if (deleteFiles) for (const s of old) for (const p of await reached(s, false)) if (!keep.has(p)) gone.add(p);
    this.table = await this.catalog.commitTable(t, [], [{ action: 'remove-snapshots', 'snapshot-ids': old.map((s) => s.snapshotId) }]);
    for (const p of gone) await t.io.delete(p);
    if (old.some((s) => s.snapshotId === this.ki.snapshotId)) this.baseListGone = true;
  }

  // ---- floe's own path ----

  /**
   * A window of floe's: `update` keys get a new row (their indexed row deleted by position), `del` keys are
   * deleted by position, `insert` rows are new keys; the pending repair's rows are deleted too (every seal takes
   * it, table-worker.ts), unless `repair: false`. With `truncate` the window starts with a source TRUNCATE.
   * On the indexed snapshot the commit is staged, confirmed and the index advances; on any other (another
   * writer committed first) the index catches up to the commit, as the committer's layout says.
   */
  async floeCommit(p: { update?: readonly bigint[]; del?: readonly bigint[]; insert?: readonly NewRow[]; repair?: boolean; truncate?: boolean }): Promise<void> {
    await this.load();
    const onBase = this.caughtUp;
    let repair = p.repair === false ? null : this.ki.takeRepair();
    if (repair !== null && !onBase) {
      // Behind the table, the repair's rows may have been rewritten since (the committer would reposition
      // them): this window carries it only if they are all still live.
      const places = new Set((await this.rows()).map((l) => `${l.file.filePath}#${l.pos}`));
      if (!repair.repairs.every((x) => places.has(at(x)))) {
        this.ki.stage({ clear: false, deletes: [], sets: [], overflow: false, repair });
        this.ki.confirm(false);
        repair = null;
      }
    }
    const targets: Target[] = [];
    const deletes: Values[] = [];
    for (const k of p.truncate === true ? [] : [...(p.update ?? []), ...(p.del ?? [])]) {
      const loc = this.ki.get([k]);
      if (loc !== undefined) targets.push({ path: loc.file.path, pos: loc.pos, partition: loc.file.partition });
      deletes.push([k]);
    }
    if (p.truncate !== true) for (const r of repair?.repairs ?? []) targets.push({ path: r.file.path, pos: r.pos, partition: r.file.partition });
    const tx = this.tx();
    if (p.truncate === true) tx.truncateAll();
    await this.deleteAt(tx, targets);
    const written = await this.writeRows(tx, [...(p.update ?? []).map((k) => this.row(k, Number(k) % GROUPS)), ...(p.insert ?? [])]);
    const seal: PendingSeal = { clear: p.truncate === true, deletes, sets: written.map((w) => [w.key, w.file, w.pos] as const), overflow: false, repair };
    this.ki.stage(seal);
    const res = await tx.commit();
    this.table = res.table;
    this.ki.confirm(true);
    const snap = res.snapshot;
    if (snap === null) return; // an empty window: no snapshot, nothing for the index to follow
    if (onBase) {
      this.ki.advance(snap.snapshotId, snap.parentSnapshotId, snap.sequenceNumber);
      await this.markBase(this.table);
      await this.check('after advance');
    } else {
      await this.catchUp('after a commit that landed on another writer\'s snapshot');
    }
  }

  /** A window whose commit does not land: the index stays, the repair it carried waits for the next one. */
  async floeAbort(keys: readonly bigint[], truncate: boolean): Promise<void> {
    const before = this.ki.size;
    const repair = this.ki.takeRepair();
    const f: IndexedFile = { path: `${this.table.metadata.location}/data/never-committed.parquet`, specId: 0, partition: [] };
    this.ki.stage({ clear: truncate, deletes: keys.map((k) => [k]), sets: keys.map((k, i) => [[k], f, i] as const), overflow: false, repair });
    assert.equal(this.ki.confirm(false), 'ok');
    assert.equal(this.ki.size, before);
    assert.equal(this.ki.repairPending, repair !== null);
    if (this.caughtUp) await this.check('after a window that did not land');
  }

  // ---- the index and the oracle ----

  private async markBase(t: LoadedTable): Promise<void> {
    const snap = currentSnapshot(t.metadata);
    this.baseSeq = snap === null ? -1n : snap.sequenceNumber;
    this.baseLive = new Set((await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath));
    this.baseListGone = false;
  }

  /** The pending repair's rows, as `path#pos` (taken and put back through a window that does not land). */
  private pendingRepairs(): string[] {
    const r = this.ki.takeRepair();
    if (r === null) return [];
    this.ki.stage({ clear: false, deletes: [], sets: [], overflow: false, repair: r });
    this.ki.confirm(false);
    return r.repairs.map((x) => `${valuesKey(x.key)}@${at(x)}`).sort();
  }

  /** The index equals a fresh build of the current snapshot: every key's location, rows per file, the repairs. */
  async check(label: string): Promise<void> {
    const t = this.table;
    const where = `${this.label}: ${label}`;
    const built = await buildKeyIndex(t, this.opts.keyFields);
    const ix = this.ki.pk;
    for (const k of this.ids) {
      const a = ix.get([k]);
      const b = built.index.get([k]);
      assert.equal(at(a), at(b), `${where}: key ${k}`);
      if (a !== undefined && b !== undefined) {
        assert.equal(a.file.specId, b.file.specId, `${where}: key ${k} spec`);
        assert.equal(valuesKey(a.file.partition), valuesKey(b.file.partition), `${where}: key ${k} partition`);
      }
    }
    assert.equal(ix.size, built.index.size, `${where}: keys`);
    for (const p of new Set([...ix.filePaths(), ...built.index.filePaths()])) assert.equal(ix.rowsIn(p), built.index.rowsIn(p), `${where}: rows in ${p}`);
    assert.deepEqual(this.pendingRepairs(), built.repairs.map((x) => `${valuesKey(x.key)}@${at(x)}`).sort(), `${where}: pending repairs`);
    // The parallel bootstrap (threads that each build some segments) equals the one-thread one: every few checks,
    // as each starts threads.
    if (this.checks++ % PARALLEL_CHECK_EVERY !== 0) return;
    const threads = 2 + (this.checks % 2);
    const par = await buildKeyIndex(t, this.opts.keyFields, { threads });
    for (const k of this.ids) assert.equal(at(par.index.get([k])), at(built.index.get([k])), `${where}: key ${k} (${threads} threads)`);
    assert.equal(par.index.size, built.index.size, `${where}: keys (${threads} threads)`);
    assert.equal(par.rows, built.rows, `${where}: rows read (${threads} threads)`);
    for (const p of built.index.filePaths()) assert.equal(par.index.rowsIn(p), built.index.rowsIn(p), `${where}: rows in ${p} (${threads} threads)`);
    assert.deepEqual(par.repairs.map((x) => `${valuesKey(x.key)}@${at(x)}`).sort(), built.repairs.map((x) => `${valuesKey(x.key)}@${at(x)}`).sort(), `${where}: repairs (${threads} threads)`);
  }

  private checks = 0;

  /** Whether the snapshots since the indexed one added a live equality delete on other columns than the key. */
  private async nonKeyEqualitySinceBase(entries: readonly ManifestEntry[]): Promise<boolean> {
    return entries.some((e) => e.dataFile.content === DataFileContent.EQUALITY_DELETES && (e.fileSequenceNumber ?? e.sequenceNumber ?? 0n) > this.baseSeq && valuesKey(e.dataFile.equalityIds ?? []) !== valuesKey([ID_FIELD]));
  }

  /**
   * Catches the index up to the current snapshot and checks it against a build, and what it read against what
   * changed; a second catch-up reads nothing. Returns the stats (null: it asked for a rebuild, done here).
   */
  async catchUp(label: string): Promise<CatchUp | null> {
    const t = await this.load();
    const where = `${this.label}: ${label}`;
    const entries = await liveEntries(t);
    const isNew = (e: ManifestEntry): boolean => (e.fileSequenceNumber ?? e.sequenceNumber ?? 0n) > this.baseSeq;
    const expectNull = await this.nonKeyEqualitySinceBase(entries);
    const s = await this.ki.catchUp(t);
    if (expectNull) {
      assert.equal(s, null, `${where}: an equality delete on another column asks for a rebuild`);
      this.ki = await TableKeyIndex.build(t, this.opts);
    } else {
      assert.ok(s !== null, `${where}: catch-up without a rebuild`);
      const data = entries.filter((e) => e.dataFile.content === DataFileContent.DATA);
      const deletes = entries.filter((e) => e.dataFile.content !== DataFileContent.DATA);
      const live = new Set(data.map((e) => e.dataFile.filePath));
      assert.equal(s.dataFilesAdded, data.filter(isNew).length, `${where}: data files added`);
      assert.equal(s.deleteFilesAdded, deletes.filter(isNew).length, `${where}: delete files added`);
      const removed = [...this.baseLive].filter((p) => !live.has(p)).length;
      if (this.baseListGone) assert.ok(s.dataFilesRemoved <= removed, `${where}: data files removed (${s.dataFilesRemoved} > ${removed})`);
      else assert.equal(s.dataFilesRemoved, removed, `${where}: data files removed`);
      // The data files new position deletes and deletion vectors name: the most a catch-up reads for them.
      const targets = new Set<string>();
      for (const e of deletes.filter(isNew)) {
        if (e.dataFile.content !== DataFileContent.POSITION_DELETES) continue;
        if (isDeletionVector(e.dataFile)) targets.add(e.dataFile.referencedDataFile ?? '');
        else for (const p of (await readPositionDeletes(t, e.dataFile.filePath)).keys()) targets.add(p);
      }
      const bound = s.dataFilesAdded + s.dataFilesRemoved + s.deleteFilesAdded + targets.size;
      assert.ok(s.filesRead <= bound, `${where}: read ${s.filesRead} files, bound ${bound} (${JSON.stringify(s)})`);
      if (s.toSnapshot === s.fromSnapshot) assert.deepEqual([s.manifestsRead, s.filesRead, s.rowsRead], [0, 0, 0], `${where}: nothing changed`);
    }
    await this.check(label);
    const again = await this.ki.catchUp(t);
    assert.ok(again !== null);
    assert.deepEqual([again.manifestsRead, again.filesRead, again.rowsRead, again.dataFilesAdded, again.dataFilesRemoved, again.deleteFilesAdded], [0, 0, 0, 0, 0, 0], `${where}: an unchanged table reads nothing`);
    await this.markBase(t);
    return s;
  }
}

const by = (id: bigint) => (r: LiveRow): boolean => r.id === id;

/** Seeded random schedules (a replay runs its one seed). */
const replay = process.env.FLOE_CATCHUP_SEED === '' ? undefined : process.env.FLOE_CATCHUP_SEED;
/** Schedules in one run (about 1 s each: real files and commits); FLOE_CATCHUP_SCHEDULES=100 is the long run. */
const SCHEDULES = Number(process.env.FLOE_CATCHUP_SCHEDULES ?? 24);
const OPS_PER_SCHEDULE = 30;

/** Keys and places of rows, for a schedule's trace. */
const ids = (xs: readonly (LiveRow | bigint | NewRow)[]): string => `[${xs.map((x) => (typeof x === 'bigint' ? x : Array.isArray(x) ? (x as NewRow)[0] : (x as LiveRow).id)).join(',')}]`;

/**
 * One schedule: random operations of other writers and of floe, catch-ups at random points, each checked
 * against a build. `trace` gets one line an operation (the failure message shows the last ones).
 */
async function runSchedule(catalog: SqlCatalog, seed: number, trace: string[]): Promise<void> {
  const r = new Rng(seed);
  const variant = VARIANTS[seed % VARIANTS.length] as Variant;
  const merge = Math.floor(seed / VARIANTS.length) % 2 === 1;
  const h = await Harness.create(catalog, `s${seed}`, variant, `seed ${seed} (${variant.name}${merge ? ', manifests merged' : ''})`, merge);
  const some = <X>(xs: readonly X[], n: number): X[] => {
    const pool = [...xs];
    const out: X[] = [];
    while (out.length < n && pool.length > 0) out.push(pool.splice(r.int(pool.length), 1)[0] as X);
    return out;
  };
  const newRows = (n: number): NewRow[] => Array.from({ length: n }, () => h.row(h.freshId(), r.int(GROUPS)));
  for (let i = 0; i < OPS_PER_SCHEDULE; i++) {
    const live = await h.rows();
    const files = [...new Map(live.map((x) => [x.file.filePath, x])).keys()];
    const keys = [...new Set(live.map((x) => x.id))];
    const x = r.next();
    let op: string;
    if (live.length < 4 || x < 0.16) {
      const rows = newRows(1 + r.int(6));
      op = `append ${ids(rows)}`;
      trace.push(op);
      await h.append(rows);
    } else if (x < 0.22) {
      const rows = some(live, 1 + r.int(2)).map((l) => h.row(l.id, r.int(GROUPS)));
      op = `append duplicates ${ids(rows)}`;
      trace.push(op);
      await h.append(rows);
    } else if (x < 0.34) {
      const t = some(live, 1 + r.int(3));
      op = `upsert by position ${ids(t)}`;
      trace.push(op);
      await h.deleteByPosition(t, t.map((l) => h.row(l.id, r.int(GROUPS))));
    } else if (x < 0.41) {
      const t = some(live, 1 + r.int(3));
      op = `delete by position ${ids(t)}`;
      trace.push(op);
      await h.deleteByPosition(t);
    } else if (x < 0.47) {
      const f = files[r.int(files.length)] as string;
      const t = some(live.filter((l) => l.file.filePath === f), 1 + r.int(2));
      op = `copy-on-write delete ${ids(t)} of ${ids(live.filter((l) => l.file.filePath === f))}`;
      trace.push(op);
      await h.copyOnWriteDelete(f, t);
    } else if (x < 0.52) {
      const fs = some(files, 2 + r.int(3));
      op = `compaction of ${fs.map((f) => ids(live.filter((l) => l.file.filePath === f))).join(' ')}`;
      trace.push(op);
      await h.compact(fs);
    } else if (x < 0.55) {
      // Rows read at the current snapshot; an equality delete may land while the rewrite runs.
      const fs = some(files, 1 + r.int(3));
      const start = (h.current as Snapshot).sequenceNumber;
      const rows = live.filter((l) => fs.includes(l.file.filePath)).map((l): NewRow => [l.id, l.v, l.g]);
      const concurrent = r.next() < 0.6 ? some(live, 1 + r.int(2)) : [];
      op = `compaction from its starting sequence number of ${ids(rows)}, equality delete meanwhile ${ids(concurrent)}`;
      trace.push(op);
      if (concurrent.length > 0) await h.equalityDelete(ID_FIELD, concurrent);
      if (concurrent.length > 0 && r.next() < 0.5) {
        trace.push('catch-up (while the rewrite runs)');
        await h.catchUp(`catch-up while a rewrite runs (op ${i})`);
      }
      await h.compactFromStartingSequence(fs, rows, start);
    } else if (x < 0.58) {
      op = 'compaction dropping delete files';
      trace.push(op);
      await h.rewriteAll();
    } else if (x < 0.60) {
      const rows = r.next() < 0.5 ? [] : [...newRows(1 + r.int(3)), ...some(keys, 2).map((k) => h.row(k, r.int(GROUPS)))];
      op = `truncate ${ids(rows)}`;
      trace.push(op);
      await h.truncate(rows);
    } else if (x < 0.67) {
      const t = some(live, 1 + r.int(2));
      const rows = r.next() < 0.5 ? t.map((l) => h.row(l.id, l.g)) : [];
      op = `equality delete on the key ${ids(t)} ${ids(rows)}`;
      trace.push(op);
      await h.equalityDelete(ID_FIELD, t, rows);
    } else if (x < 0.69) {
      const field = r.next() < 0.5 ? V_FIELD : G_FIELD;
      const t = some(live, 1);
      op = `equality delete on another column ${field} ${ids(t)}`;
      trace.push(op);
      await h.equalityDelete(field, t);
    } else if (x < 0.74) {
      const deleteFiles = r.next() < 0.7;
      op = `expiry${deleteFiles ? ' with deleted files' : ''}`;
      trace.push(op);
      await h.expire(deleteFiles);
    } else if (x < 0.92) {
      // floe's own window: on the indexed snapshot it advances, on another one it catches up to its commit.
      const livePlaces = new Set(live.map((l) => `${l.file.filePath}#${l.pos}`));
      const ownKeys = keys.filter((k) => livePlaces.has(at(h.ki.get([k]))));
      const picked = some(ownKeys, 1 + r.int(4));
      const split = r.int(picked.length + 1);
      const w = { update: picked.slice(0, split), del: picked.slice(split), insert: newRows(r.int(3)), truncate: r.next() < 0.05 };
      op = `floe window (${h.caughtUp ? 'advance' : 'catch up'})${w.truncate ? ' truncate,' : ''} update ${ids(w.update)} delete ${ids(w.del)} insert ${ids(w.insert)}${h.ki.repairPending ? ' with repair' : ''}`;
      trace.push(op);
      await h.floeCommit(w);
    } else {
      const k = some(keys, 1 + r.int(3));
      const truncate = r.next() < 0.2;
      op = `floe window that does not land ${ids(k)}${truncate ? ' truncate' : ''}`;
      trace.push(op);
      await h.floeAbort(k, truncate);
    }
    if (r.next() < 0.35) {
      trace.push('catch-up');
      await h.catchUp(`catch-up after op ${i} (${op})`);
    }
  }
  await h.catchUp('final catch-up');
}

describe('TableKeyIndex.catchUp equals a fresh build', () => {
  let dir = '';
  let catalog: SqlCatalog;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-catchup-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new CachedLocalFileIO() });
    await catalog.createNamespace(['ns']);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });
  const table = (v: Variant, what: string) => Harness.create(catalog, `d${++n}`, v, `${v.name}: ${what}`);
  /** Ten keys in two appends (two files per group at most). */
  const seeded = async (h: Harness): Promise<void> => {
    await h.append(Array.from({ length: 5 }, (_, i) => h.row(h.freshId(), i % GROUPS)));
    await h.append(Array.from({ length: 5 }, (_, i) => h.row(h.freshId(), (i + 1) % GROUPS)));
  };

  for (const v of VARIANTS) {
    describe(v.name, () => {
      it('appends of new keys; an unchanged table reads nothing', async () => {
        const h = await table(v, 'appends');
        const empty = await h.catchUp('empty table');
        assert.equal(empty?.filesRead, 0);
        await seeded(h);
        const s = await h.catchUp('two appends');
        assert.deepEqual([s?.dataFilesAdded, s?.dataFilesRemoved, s?.deleteFilesAdded], [v.partition.length === 0 ? 2 : s?.dataFilesAdded, 0, 0]);
        assert.equal(h.ki.size, 10);
        await h.append([h.row(h.freshId(), 0)]);
        const one = await h.catchUp('one more append');
        assert.deepEqual([one?.dataFilesAdded, one?.filesRead, one?.rowsRead], [1, 1, 1]);
      });

      it('upserts and deletes by position (another writer): the old rows leave, no repair', async () => {
        const h = await table(v, 'upserts by position');
        await seeded(h);
        await h.catchUp('seeded');
        let live = await h.rows();
        await h.deleteByPosition(live.filter((l) => l.id === 2n || l.id === 7n), [h.row(2n, 3), h.row(7n, 0)]);
        live = await h.rows();
        await h.deleteByPosition(live.filter((l) => l.id === 3n));
        const s = await h.catchUp('upserts and a delete');
        assert.equal(s?.duplicateKeys, 0);
        assert.equal(h.ki.get([3n]), undefined);
        assert.equal(h.ki.repairPending, false);
      });

      it('a copy-on-write delete and compactions (also dropping the delete files) move the rows', async () => {
        const h = await table(v, 'rewrites');
        await seeded(h);
        let live = await h.rows();
        await h.deleteByPosition(live.filter(by(4n)), [h.row(4n, 1)]);
        await h.catchUp('seeded');
        live = await h.rows();
        const f = (live.find(by(1n)) as LiveRow).file.filePath;
        await h.copyOnWriteDelete(f, live.filter(by(1n)));
        await h.catchUp('copy-on-write delete');
        assert.equal(h.ki.get([1n]), undefined);
        live = await h.rows();
        await h.compact([...new Set(live.map((l) => l.file.filePath))].slice(0, 3));
        const c = await h.catchUp('compaction');
        assert.ok((c?.dataFilesRemoved ?? 0) >= 2);
        live = await h.rows();
        await h.deleteByPosition(live.filter(by(5n)));
        await h.rewriteAll();
        const all = await h.catchUp('compaction dropping the delete files');
        assert.equal(h.ki.get([5n]), undefined);
        assert.equal(all?.sweeps, 0);
      });

      it('a truncate, then rows again', async () => {
        const h = await table(v, 'truncate');
        await seeded(h);
        await h.catchUp('seeded');
        await h.truncate();
        await h.catchUp('truncate');
        assert.equal(h.ki.size, 0);
        await h.truncate([h.row(3n, 1), h.row(h.freshId(), 2)]);
        await h.catchUp('truncate with rows');
        assert.equal(h.ki.size, 2);
      });

      it('equality deletes on the key apply to files of lower sequence numbers; on another column the catch-up asks for a rebuild', async () => {
        const h = await table(v, 'equality deletes');
        await seeded(h);
        await h.catchUp('seeded');
        let live = await h.rows();
        await h.equalityDelete(ID_FIELD, live.filter((l) => l.id === 1n || l.id === 6n), [h.row(6n, 2)]);
        await h.append([h.row(h.freshId(), 1)]);
        const s = await h.catchUp('equality deletes on the key');
        assert.equal(h.ki.get([1n]), undefined);
        assert.notEqual(h.ki.get([6n]), undefined);
        assert.equal(s?.duplicateKeys, 0);
        live = await h.rows();
        await h.equalityDelete(V_FIELD, live.filter(by(2n)));
        assert.equal(await h.catchUp('equality delete on v'), null);
        assert.equal(h.ki.get([2n]), undefined);
      });

      it('a compaction that keeps its starting sequence number: equality deletes committed while it ran still apply to its file, also once the indexed snapshot expired', async () => {
        for (const expire of [false, true]) {
          const h = await table(v, `starting sequence number${expire ? ', expired' : ''}`);
          await seeded(h);
          await h.catchUp('seeded');
          const start = (h.current as Snapshot).sequenceNumber;
          const live = await h.rows();
          const a = (live.find(by(2n)) as LiveRow).file.filePath;
          const rowsOfA = live.filter((l) => l.file.filePath === a).map((l): NewRow => [l.id, l.v, l.g]);
          await h.equalityDelete(ID_FIELD, live.filter(by(2n)));
          await h.catchUp('equality delete on key 2');
          await h.compactFromStartingSequence([a], rowsOfA, start);
          if (expire) await h.expire(true);
          await h.catchUp('compaction from its starting sequence number');
          assert.equal(h.ki.get([2n]), undefined);
          assert.equal(h.ki.size, 9);
        }
      });

      it('expiry: the indexed snapshot and the removed files are gone (sweeps), or only the snapshots', async () => {
        for (const deleteFiles of [true, false]) {
          const h = await table(v, `expiry ${deleteFiles ? 'with' : 'without'} deleted files`);
          await seeded(h);
          await h.catchUp('seeded');
          let live = await h.rows();
          await h.deleteByPosition(live.filter(by(8n)), [h.row(8n, 0)]);
          live = await h.rows();
          // A copy-on-write delete (rows deleted, not moved) and a compaction (rows moved).
          const f = (live.find(by(1n)) as LiveRow).file.filePath;
          await h.copyOnWriteDelete(f, live.filter(by(1n)));
          live = await h.rows();
          await h.compact([...new Set(live.filter((l) => l.id === 2n || l.id === 8n).map((l) => l.file.filePath))]);
          await h.expire(deleteFiles);
          const s = await h.catchUp('expired');
          assert.ok(s !== null);
          if (deleteFiles) assert.ok(s.sweeps >= 1, `swept (${JSON.stringify(s)})`);
          else assert.equal(s.sweeps, 0);
        }
      });

      it('a writer that appends a duplicate key: the newest row is kept, the other listed for repair, and floe\'s next window repairs it', async () => {
        const h = await table(v, 'duplicates');
        await seeded(h);
        await h.catchUp('seeded');
        await h.append([h.row(3n, 2), h.row(4n, 1)]);
        await h.append([h.row(3n, 0)]);
        const s = await h.catchUp('duplicates appended');
        assert.equal(s?.duplicateKeys, 2);
        assert.equal(h.ki.repairPending, true);
        await h.floeCommit({ update: [4n] });
        assert.equal(h.ki.repairPending, false);
        assert.equal((await h.rows()).filter((l) => l.id === 3n || l.id === 4n).length, 2);
      });

      it('pending repairs follow the table: rows of theirs deleted leave them, a key whose kept row is deleted keeps its newest repaired row', async () => {
        const h = await table(v, 'repairs follow');
        await seeded(h);
        await h.catchUp('seeded');
        await h.append([h.row(3n, 2), h.row(4n, 1), h.row(5n, 0), h.row(6n, 3)]);
        await h.catchUp('duplicates appended');
        const live = await h.rows();
        const older = (k: bigint): LiveRow => live.filter(by(k)).sort((a, b) => (a.seq < b.seq ? -1 : 1))[0] as LiveRow;
        const newer = (k: bigint): LiveRow => live.filter(by(k)).sort((a, b) => (a.seq < b.seq ? 1 : -1))[0] as LiveRow;
        // Key 3: its repaired (older) row deleted; key 4: its kept (newer) row deleted; key 5: an equality delete.
        await h.deleteByPosition([older(3n), newer(4n)]);
        await h.equalityDelete(ID_FIELD, [older(5n)]);
        await h.catchUp('rows of duplicate keys deleted');
        assert.equal(at(h.ki.get([3n])), `${newer(3n).file.filePath}#${newer(3n).pos}`);
        assert.equal(at(h.ki.get([4n])), `${older(4n).file.filePath}#${older(4n).pos}`);
        // Key 6: its kept row's file rewritten without it (copy-on-write): the older row is the key's row again.
        await h.copyOnWriteDelete(newer(6n).file.filePath, [newer(6n)]);
        await h.catchUp('kept row of a duplicate key deleted by copy-on-write');
        assert.equal(at(h.ki.get([6n])), `${older(6n).file.filePath}#${older(6n).pos}`);
        assert.equal(h.ki.repairPending, false);
      });

      it('under onDuplicateKeys: fail, upserts by another writer are no duplicates; an appended duplicate key stops the table', async () => {
        const h = await Harness.create(catalog, `d${++n}`, v, `${v.name}: fail on duplicates`, false, 'fail');
        await seeded(h);
        await h.catchUp('seeded');
        const live = await h.rows();
        await h.deleteByPosition(live.filter(by(2n)), [h.row(2n, 1)]);
        await h.equalityDelete(ID_FIELD, live.filter(by(3n)), [h.row(3n, 2)]);
        await h.catchUp('upserts');
        await h.append([h.row(4n, 0)]);
        await assert.rejects(h.ki.catchUp(await h.load()), (e: unknown) => e instanceof FloeError && e.code === 'duplicate_keys' && String(e.details.key).includes('id=4'));
      });

      it('floe\'s own windows: advance on the indexed snapshot, a window that does not land, a commit on another writer\'s snapshot', async () => {
        const h = await table(v, 'own windows');
        await seeded(h);
        await h.catchUp('seeded');
        await h.floeCommit({ update: [1n, 2n], del: [3n], insert: [h.row(h.freshId(), 1)] });
        await h.floeAbort([4n, 5n], false);
        await h.floeAbort([4n], true);
        await h.append([h.row(h.freshId(), 2), h.row(6n, 3)]);
        await h.floeCommit({ update: [5n], del: [9n], insert: [h.row(h.freshId(), 0)] });
        await h.floeCommit({ update: [6n] });
        await h.floeCommit({ truncate: true, update: [7n], insert: [h.row(h.freshId(), 3)] });
        assert.equal(h.ki.size, 2);
      });
    });
  }

  it(`seeded random schedules (${replay !== undefined ? 1 : SCHEDULES} × ${OPS_PER_SCHEDULE} operations over ${VARIANTS.map((x) => x.name).join(', ')})`, async (t) => {
    const base = replay !== undefined ? Number(replay) : Math.floor(Math.random() * 2 ** 31);
    t.diagnostic(`seed ${base} (replay one schedule: FLOE_CATCHUP_SEED=<seed>)`);
    const count = replay !== undefined ? 1 : SCHEDULES;
    const ops = new Map<string, number>();
    for (let s = 0; s < count; s++) {
      const seed = (base + s) >>> 0;
      const trace: string[] = [];
      try {
        await runSchedule(catalog, seed, trace);
      } catch (e) {
        const last = trace.slice(-12).map((x) => `\n  ${x}`).join('');
        throw new Error(`schedule failed: replay with FLOE_CATCHUP_SEED=${seed}: ${(e as Error).message}\nlast operations (oldest first):${last}`, { cause: e });
      }
      for (const op of trace) {
        const name = op.replace(/ \(.*$| \[.*$| of .*$| on another column.*$/, (m) => (m.startsWith(' on another') ? ' on another column' : m.startsWith(' (') ? m.replace(/\).*/, ')') : ''));
        ops.set(name, (ops.get(name) ?? 0) + 1);
      }
    }
    t.diagnostic(`operations: ${JSON.stringify(Object.fromEntries(ops))}`);
  });
});

describe('TableKeyIndex.confirm', () => {
  it('reports overflow when the index is full below its key budget', () => {
    /** An index whose key bytes run out at its third key (pk-arena.ts: 4 GiB). */
    class Cramped extends PkIndex {
      override set(key: Values, file: IndexedFile, pos: number): void {
        if (this.size >= 2) throw new FloeError('index_full', 'primary-key index: its key bytes passed 1024 chunks');
        super.set(key, file, pos);
      }
    }
    const ki = TableKeyIndex.wrap(new Cramped(), { table: 't', keyFields: [], onDuplicateKeys: 'repair' });
    const f: IndexedFile = { path: 's3://b/t/data/a.parquet', specId: 0, partition: [] };
    ki.stage({ clear: false, deletes: [], sets: [[['a'], f, 0], [['b'], f, 1]], overflow: false, repair: null });
    assert.equal(ki.confirm(true), 'ok');
    ki.stage({ clear: false, deletes: [], sets: [[['c'], f, 2]], overflow: false, repair: null });
    assert.equal(ki.confirm(true), 'overflow');
  });
});

describe('TableKeyIndex sharded by Kafka partition', () => {
  let dir = '';
  let catalog: SqlCatalog;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-shard-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'catalog.db'), warehouse: `file://${dir}/wh`, io: new CachedLocalFileIO() });
    await catalog.createNamespace(['ns']);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A Debezium key as the JsonConverter writes it with its schema block (what the replica learned from Kafka). */
  const rawKey = (id: bigint): Buffer => Buffer.from(`{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"shop.t.Key"},"payload":{"id":${id}}}`);
  const template = (): KeyTemplate => {
    const t = KeyTemplate.learn(rawKey(1n), { columns: ['id'], values: [1] });
    assert.ok(!isRefused(t), isRefused(t) ? t.reason : '');
    return t;
  };
  const PARTITIONS = 4;
  const shard = (partitions: number[]): KeyShard => {
    const s = KeyShard.of(template(), ['id'], { topic: 'shop.t', partitionCount: PARTITIONS, partitions });
    assert.ok(typeof s !== 'string', String(s));
    return s;
  };
  const partitionOf = (id: bigint): number => defaultPartition(rawKey(id), PARTITIONS);

  /** The index holds exactly the keys of `s`'s partitions among `ids`, where a fresh build under `s` has them. */
  async function equalsBuild(h: Harness, s: KeyShard | null, what: string): Promise<void> {
    const fresh = await TableKeyIndex.build(h.table, { ...h.opts, shard: s });
    const live = new Set((await h.rows()).map((r) => r.id));
    for (const id of h.ids) {
      const kept = live.has(id) && (s === null || s.assignment.partitions.includes(partitionOf(id)));
      assert.equal(h.ki.get([id]) !== undefined, kept, `${what}: key ${id} (partition ${partitionOf(id)}) indexed iff live and of the shard`);
      assert.equal(at(h.ki.get([id])), at(fresh.get([id])), `${what}: key ${id} where a build has it`);
    }
    assert.equal(h.ki.size, fresh.size, `${what}: keys`);
    for (const p of new Set([...h.ki.pk.filePaths(), ...fresh.pk.filePaths()])) assert.equal(h.ki.pk.rowsIn(p), fresh.pk.rowsIn(p), `${what}: rows in ${p}`);
    assert.equal(h.ki.shard?.identity ?? null, s?.identity ?? null, `${what}: shard`);
    fresh.close();
  }

  it('builds, catches up and reshards to exactly the keys of its partitions (a rebalance, then every key, then a shard again)', async () => {
    const v = VARIANTS[1] as Variant;
    const h = await Harness.create(catalog, 'sharded', v, 'sharded');
    await h.append(Array.from({ length: 40 }, (_, i) => h.row(h.freshId(), i % GROUPS)));
    const a = shard([0, 1]);
    h.ki = await TableKeyIndex.build(h.table, { ...h.opts, shard: a });
    await equalsBuild(h, a, 'built on partitions 0, 1');
    assert.ok(h.ki.size > 5 && h.ki.size < 35, `a share of the keys: ${h.ki.size} of 40`);
    // Another replica's commits: appends, upserts and deletes by position, over every partition.
    await h.append(Array.from({ length: 12 }, (_, i) => h.row(h.freshId(), i % GROUPS)));
    const live = await h.rows();
    await h.deleteByPosition(live.filter((l) => l.id % 5n === 0n), live.filter((l) => l.id % 10n === 0n).map((l) => h.row(l.id, 1)));
    assert.notEqual(await h.ki.catchUp(h.table), null);
    await equalsBuild(h, a, 'caught up on partitions 0, 1');
    // A rebalance: partition 0 leaves, 2 arrives.
    const b = shard([1, 2]);
    const r = await h.ki.reshard(h.table, b);
    assert.equal(r.toPartitions, 2);
    assert.ok(r.keysDropped > 0 && r.keysAdded > 0, JSON.stringify(r));
    await equalsBuild(h, b, 'resharded to partitions 1, 2');
    // Every key (the topic's keys stopped matching), then a shard again.
    await h.ki.reshard(h.table, null);
    await equalsBuild(h, null, 'every key');
    await h.ki.reshard(h.table, shard([3]));
    await equalsBuild(h, shard([3]), 'resharded to partition 3');
    // A shard's keys depend only on the key: rebuilt from the table's values as Kafka's partitioner placed them.
    for (const id of h.ids) assert.equal(shard([partitionOf(id)]).keeps([id]), true);
  });

  it('a table whose index is sharded refuses to reshard at another snapshot than the one it describes', async () => {
    const h = await Harness.create(catalog, 'sharded2', VARIANTS[0] as Variant, 'sharded2');
    await h.append([h.row(h.freshId(), 0)]);
    await assert.rejects(h.ki.reshard(h.table, shard([0])), /an index reshards at the snapshot it describes/);
  });
});
