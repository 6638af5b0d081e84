// Proves the pipeline handles AvroConverter records end to end without a broker: workers ask for unknown writer schemas, the main thread fetches them from the Schema Registry once, the rest of the batch applies in order, a record with an unregistered schema id is dead-lettered, and the table equals the source.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlCatalog } from '../../src/catalog/sql-catalog.js';
import { Committer } from '../../src/commit/committer.js';
import { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import { scanTable } from '../../src/iceberg/scan.js';
import { LocalFileIO } from '../../src/io/local-file-io.js';
import type { DeadLetterSink } from '../../src/kafka/dead-letter.js';
import type { SourceMessage, TopicPartition } from '../../src/kafka/source.js';
import { silentLogger } from '../../src/log.js';
import { Pipeline, type Source } from '../../src/pipeline/pipeline.js';
import { InProcessWorkers } from '../../src/worker/pool.js';
import { envelope, envelopeSchema, key, keySchema, type OrderRow } from '../support/avro-debezium.js';

class ArraySource implements Source {
  private i = 0;
  committed: { topic: string; partition: number; offset: number }[] = [];
  constructor(private readonly messages: SourceMessage[]) {}
  async connect(): Promise<void> {}
  async consume(max: number): Promise<SourceMessage[]> {
    const out = this.messages.slice(this.i, this.i + max);
    this.i += out.length;
    if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
    return out;
  }
  async commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    this.committed = [...offsets];
  }
  isAssigned(_t: TopicPartition): boolean {
    return true;
  }
  assignment(): TopicPartition[] {
    return [{ topic: 'cdc.shop.orders', partition: 0 }];
  }
  pauseAll(): void {}
  resumeAll(): void {}
  async disconnect(): Promise<void> {}
  get done(): boolean {
    return this.i >= this.messages.length;
  }
}

describe('pipeline with Avro records', () => {
  let url = '';
  let fetches = 0;
  let dir = '';
  const server = createServer((req, res) => {
    fetches++;
    const id = Number(/(\d+)$/.exec(req.url ?? '')?.[1]);
    const schema = id === 1 ? envelopeSchema : id === 2 ? keySchema : null;
    if (schema === null) res.writeHead(404).end('{"error_code":40403}');
    else res.writeHead(200).end(JSON.stringify({ schema: JSON.stringify(schema) }));
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'floe-avro-'));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('streams Avro change events into the table', async () => {
    const rows = new Map<bigint, OrderRow>();
    const messages: SourceMessage[] = [];
    const push = (k: Buffer, v: Buffer) => messages.push({ topic: 'cdc.shop.orders', partition: 0, offset: messages.length, key: k, value: v, timestamp: undefined });
    for (let i = 0; i < 200; i++) {
      const id = BigInt(i % 50);
      const old = rows.get(id) ?? null;
      if (i % 7 === 6 && old !== null) {
        push(key(id, 2), envelope('d', old, null, 1));
        rows.delete(id);
        continue;
      }
      const row: OrderRow = { id, name: `n${i}`, qty: i % 100, amount: BigInt(i * 101), created_at: 1_767_225_600_000_000n + BigInt(i), updated_at: '2026-01-01T00:00:00.000001Z', big: 2n ** 60n + BigInt(i) };
      push(key(id, 2), envelope(old === null ? 'c' : 'u', old, row, 1));
      rows.set(id, row);
    }
    // A record whose writer schema the registry does not know goes to the dead-letter sink.
    const unknown = Buffer.from(envelope('c', null, { id: 999n, name: null, qty: null, amount: null, created_at: null, updated_at: null, big: null }, 1));
    unknown.writeInt32BE(77, 1);
    push(key(999n, 2), unknown);

    const catalog = new SqlCatalog({ name: 'floe', path: join(dir, 'c.db'), warehouse: `file://${dir}/wh`, io: new LocalFileIO() });
    const committer = new Committer(catalog, { groupId: 'g', autoCreate: true, codec: 'zstd', tableCommitsInFlightMax: 2, tableDefaults: {}, tables: {} });
    const workers = new InProcessWorkers({ decoder: {}, route: { pattern: '{db}.{table}' }, codec: 'zstd', targetFileSizeBytes: 64 << 20, s3: {} });
    const dead: { offset: number; reason: string }[] = [];
    const dlq: DeadLetterSink = { send: (m, reason) => dead.push({ offset: m.offset, reason }), flush: async () => {}, close: async () => {}, sent: 0 };
    const source = new ArraySource(messages);
    const p = new Pipeline(source, workers, committer, dlq, { commitIntervalMs: 50, bufferBytesMax: 1 << 30, consumeBatchMax: 37, consumeTimeoutMs: 5, inFlightMax: 2 }, silentLogger, new SchemaRegistryClient({ url }));
    fetches = 0;
    const run = p.run();
    while (!source.done || p.stats.consumed < messages.length) await new Promise((r) => setTimeout(r, 10));
    p.stop();
    await run;
    assert.equal(fetches, 3, 'value schema, key schema, and the unknown id: each fetched once');
    assert.deepEqual(dead.map((d) => d.offset), [messages.length - 1]);
    assert.match(dead[0]!.reason, /77/);
    assert.deepEqual(source.committed, [{ topic: 'cdc.shop.orders', partition: 0, offset: messages.length }]);
    const table = await catalog.loadTable({ namespace: ['shop'], name: 'orders' });
    const got = (await scanTable(table)).map((r) => `${String(r.id)}|${String(r.name)}|${String(r.amount)}|${String(r.big)}`).sort();
    const want = [...rows.values()].map((r) => `${r.id}|${r.name}|${String(r.amount)}|${String(r.big)}`).sort();
    assert.deepEqual(got, want);
    await catalog.close();
  });
});
