// Another writer committing to floe's tables while floe commits (the conflict storms of the chaos suite): a compaction that rewrites every live data file into new ones (deletes applied), an append of rows with keys outside floe's key space (kept in a model), or a table property change.
import type { Catalog, LoadedTable, TableIdentifier } from '../../../src/catalog/catalog.js';
import { Transaction } from '../../../src/commit/transaction.js';
import { liveEntries } from '../../../src/iceberg/snapshot-files.js';
import type { TableDef } from '../../../src/demo/debezium-generator.js';
import { Rng as GenRng } from '../../../src/demo/debezium-generator.js';
import { DataFileContent } from '../../../src/iceberg/data-file.js';
import { scanTable } from '../../../src/iceberg/scan.js';
import { currentSchema, defaultSpec } from '../../../src/iceberg/table-metadata.js';
import type { IcebergValue } from '../../../src/iceberg/values.js';
import { DataWriter } from '../../../src/writer/partitioned-writer.js';

export type OtherCommit = 'compact' | 'append' | 'properties';

/** Keys of foreign rows start here: floe's keys (the generator's key space) are far below. */
export const FOREIGN_KEY_BASE = 1_000_000;

export class OtherWriter {
  /** Rows this writer appended, per source table name: they must stay in the table as they are. */
  readonly foreign = new Map<string, Record<string, IcebergValue | null>[]>();
  private n = 0;

  constructor(
    private readonly catalog: Catalog,
    private readonly defs: ReadonlyMap<string, TableDef>,
  ) {}

  private settings(t: LoadedTable) {
    return { io: t.io, dataLocation: `${t.metadata.location}/data`, codec: 'zstd' as const, targetFileSizeBytes: 64 << 20 };
  }

  /** Commits one change to the table (a single attempt: if floe got there first, the change is skipped). */
  async commit(id: TableIdentifier, kind: OtherCommit): Promise<void> {
    const t = await this.catalog.loadTable(id);
    const n = this.n++;
    if (kind === 'properties') {
      await this.catalog.commitTable(t, [{ type: 'assert-table-uuid', uuid: t.metadata.tableUuid }], [{ action: 'set-properties', updates: { 'chaos.other-writer': String(n) } }]);
      return;
    }
    const schema = currentSchema(t.metadata);
    const w = new DataWriter(this.settings(t), schema, defaultSpec(t.metadata));
    const tx = new Transaction(this.catalog, t);
    let added: Record<string, IcebergValue | null>[] = [];
    if (kind === 'compact') {
      const rows = await scanTable(t);
      if (rows.length === 0) return;
      for (const r of rows) w.write(schema.fields.map((f) => r[f.name] ?? null));
      const data = (await liveEntries(t)).filter((e) => e.dataFile.content === DataFileContent.DATA).map((e) => e.dataFile.filePath);
      tx.removeDataFiles(data).setOperation('replace');
    } else {
      const def = this.defs.get(id.name);
      if (def === undefined) return;
      const rng = new GenRng(n + 1);
      const k = FOREIGN_KEY_BASE + n;
      const row = def.make(rng, def.key.length === 1 ? [BigInt(k)] : [BigInt(k), 0], 1) as Record<string, IcebergValue | null>;
      w.write(schema.fields.map((f) => row[f.name] ?? null));
      added = [row];
    }
    // One attempt with no retries: a storm is a burst of commits landing between floe's load and its commit.
    await tx.addDataFiles(await w.close()).commit({ commitAttemptsMax: 1 });
    if (added.length > 0) this.foreign.set(id.name, [...(this.foreign.get(id.name) ?? []), ...added]);
  }
}
