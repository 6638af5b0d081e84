// Proves, through the pipeline without a broker (SQL catalog, in-process workers), that `ALTER TABLE ADD COLUMN qty INT NOT NULL DEFAULT 7` at the source gives the Iceberg column initial-default and write-default 7 on a format version 3 table, a write-default only on a column present at creation, and on a v2 table no default and one warning naming the table, column and default.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { currentSchema } from '../../src/iceberg/table-metadata.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { DeadLetterSink } from '../../src/kafka/dead-letter.js';
import type { SourceMessage } from '../../src/kafka/source.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { ID, insertMessages, type FieldSchema } from '../support/schema-block.js';
import { ArraySource } from '../support/array-source.js';

// A column the table is created with: DEFAULT 'new'.
const STATUS = { type: 'string', optional: true, default: 'new', field: 'status' };
// ALTER TABLE ... ADD COLUMN qty INT NOT NULL DEFAULT 7, as Debezium's JsonConverter schema block carries it.
const QTY = { type: 'int32', optional: false, default: 7, field: 'qty' };
const messages = (table: string, fields: readonly FieldSchema[], rows: readonly Record<string, unknown>[], firstOffset: number): SourceMessage[] => insertMessages('shop', table, fields, rows, firstOffset);


describe('a source column added with a DEFAULT', () => {
  let dir = '';
  let catalog: SqlCatalog;
  const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
  const log: Logger = { ...silentLogger, warn: (msg, fields) => warnings.push({ msg, fields }) };

  /** One pipeline run over `msgs` (a process start: it resumes from the offsets stored in the tables). */
  async function run(msgs: SourceMessage[]): Promise<void> {
    const committer = new Committer(catalog, {
      groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {},
      tables: { 'shop.items_v3': { formatVersion: 3 }, 'shop.items_v2': { formatVersion: 2 } },
    });
    const workers = new InProcessWorkers({ decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} });
    const dlq: DeadLetterSink = { send: (_m, reason) => assert.fail(reason), flush: async () => {}, reset: async () => {}, close: async () => {}, sent: 0 };
    const source = new ArraySource(msgs);
    const p = new Pipeline(source, workers, committer, dlq, { commitIntervalMs: 60_000, bufferBytesMax: 1 << 30, consumeBatchMax: 100, consumeTimeoutMs: 5, inFlightMax: 2 }, log);
    const running = p.run();
    while (!source.done || p.stats.consumed < msgs.length) await new Promise((r) => setTimeout(r, 5));
    p.stop();
    await running;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'floe-defaults-'));
    catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    const old = [{ id: 1, status: 'paid' }, { id: 2, status: 'new' }];
    const added = [{ id: 3, status: 'new', qty: 3 }];
    // Rows before the ALTER are committed in one run, the rows after it in the next: the old rows live in a
    // data file without the column, where only initial-default gives them 7.
    await run([...messages('items_v3', [ID, STATUS], old, 0), ...messages('items_v2', [ID, STATUS], old, 0)]);
    await run([...messages('items_v3', [ID, STATUS, QTY], added, 2), ...messages('items_v2', [ID, STATUS, QTY], added, 2)]);
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('v3: the added column carries initial-default and write-default 7; the column the table was created with only a write-default', async () => {
    const t = await catalog.loadTable({ namespace: ['shop'], name: 'items_v3' });
    assert.equal(t.metadata.formatVersion, 3);
    assert.deepEqual(currentSchema(t.metadata).toJSON().fields, [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'status', required: false, type: 'string', 'write-default': 'new' },
      { id: 3, name: 'qty', required: false, type: 'int', 'initial-default': 7, 'write-default': 7 },
    ]);
  });

  it('v2: no default values, and one warning naming the table, the column and the source default', async () => {
    const t = await catalog.loadTable({ namespace: ['shop'], name: 'items_v2' });
    assert.deepEqual(currentSchema(t.metadata).toJSON().fields, [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'status', required: false, type: 'string' },
      { id: 3, name: 'qty', required: false, type: 'int' },
    ]);
    const notKept = warnings.filter((w) => /source default/.test(w.msg));
    assert.equal(notKept.length, 1, JSON.stringify(warnings));
    assert.deepEqual(notKept[0]!.fields, { table: 'shop.items_v2', column: 'qty', sourceDefault: '7' });
    assert.match(notKept[0]!.msg, /rows written before the change read null/);
    assert.match(notKept[0]!.msg, /formatVersion: 3/);
  });
});
