// Proves KeyTemplate and defaultPartition byte for byte and partition for partition against Java: kafka-clients' Utils.murmur2, Kafka Connect's real JsonConverter (schemas enabled and disabled) and Confluent's Avro wire format written with Apache Avro (test/peers/KeyPeer.java), over thousands of random keys with edge values, learned through DebeziumDecoder and checked by KeyPartitionCheck.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimalText } from '../../src/decode/connect-schema.js';
import { DebeziumDecoder, type Change } from '../../src/decode/debezium.js';
import { KeyPartitionCheck } from '../../src/decode/key-partition-check.js';
import { KeyTemplate, isRefused } from '../../src/decode/key-serializer.js';
import type { IcebergValue } from '../../src/iceberg/values.js';
import { defaultPartition } from '../../src/kafka/partitioner.js';

const M2 = process.env.FLOE_M2 ?? join(homedir(), '.m2', 'repository');
const PEER_SOURCE = join(process.cwd(), 'test', 'peers', 'KeyPeer.java');
const KEYS_PER_SCHEMA = 600;
const PARTITION_COUNTS = [1, 2, 3, 7, 12, 64, 1000];
const SCHEMA_ID = 42;
const TOPIC = 'peer.keys';
const SEED = 0x5eed;

/** The newest version of group:artifact in ~/.m2 that has its jar (null: absent). */
function m2Jar(group: string, artifact: string): string | null {
  const dir = join(M2, ...group.split('.'), artifact);
  if (!existsSync(dir)) return null;
  const versions = readdirSync(dir).filter((v) => existsSync(join(dir, v, `${artifact}-${v}.jar`)));
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const v = versions.at(-1);
  return v === undefined ? null : join(dir, v, `${artifact}-${v}.jar`);
}

const JARS = [
  ['org.apache.kafka', 'kafka-clients'], ['org.apache.kafka', 'connect-api'], ['org.apache.kafka', 'connect-json'],
  ['com.fasterxml.jackson.core', 'jackson-databind'], ['com.fasterxml.jackson.core', 'jackson-core'], ['com.fasterxml.jackson.core', 'jackson-annotations'],
  ['com.fasterxml.jackson.datatype', 'jackson-datatype-jdk8'], ['com.fasterxml.jackson.module', 'jackson-module-afterburner'], ['org.slf4j', 'slf4j-api'],
  // Apache Avro, shaded into Iceberg's Spark runtime (the harness's Spark jar): no Confluent converter jars here.
  ['org.apache.iceberg', 'iceberg-spark-runtime-4.1_2.13'],
] as const;

function missingTools(): string | null {
  for (const tool of ['java', 'javac']) {
    if (spawnSync(tool, ['-version'], { stdio: 'ignore' }).status !== 0) return `${tool} not on PATH`;
  }
  const missing = JARS.filter(([g, a]) => m2Jar(g, a) === null).map(([g, a]) => `${g}:${a}`);
  return missing.length > 0 ? `jars not in ${M2}: ${missing.join(', ')} (test/harness/install.sh puts them there)` : null;
}

// ---- random keys -------------------------------------------------------------------------------------------

type FieldSpec = { name: string; avroName: string; type: string; optional?: boolean; scale?: number; precision?: string };

const SCHEMAS: readonly (readonly FieldSpec[])[] = [
  [{ name: 'id', avroName: 'id', type: 'int64' }],
  [{ name: 'id', avroName: 'id', type: 'int32' }],
  [{ name: 'code', avroName: 'code', type: 'string' }],
  [
    { name: 'a', avroName: 'a', type: 'int8' }, { name: 'b', avroName: 'b', type: 'int16' }, { name: 'c', avroName: 'c', type: 'string' },
    { name: 'd', avroName: 'd', type: 'bytes' }, { name: 'e', avroName: 'e', type: 'boolean' }, { name: 'f', avroName: 'f', type: 'decimal', scale: 2, precision: '12' },
  ],
  [
    { name: 'u', avroName: 'u', type: 'int64' }, { name: 'opt', avroName: 'opt', type: 'string', optional: true },
    { name: 'unsigned', avroName: 'unsigned', type: 'decimal', scale: 0, precision: '20' }, { name: 'wide', avroName: 'wide', type: 'decimal', scale: 5, precision: '40' },
    { name: 'od', avroName: 'od', type: 'decimal', scale: 3, precision: '10', optional: true }, { name: 'ob', avroName: 'ob', type: 'bytes', optional: true },
    { name: 'oi', avroName: 'oi', type: 'int32', optional: true },
  ],
  [{ name: 'we"ird\n/name é\u0001😀', avroName: 'weird', type: 'int32' }, { name: 'k', avroName: 'k', type: 'string' }],
];

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const STRING_EDGES = ['', '"', '\\', '/', '\u0000', '\u001f', '\u007f', '\u0080', 'é', '€', '😀', '\u2028', 'a"b\\c/d\n\t\r\b\f', '\ud800', 'x\udc00y', '\uffff'];
const CHAR_POOL = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', '\u001b', '\u007f', 'é', 'ß', '中', '\u2028', '😀', '𝄞', '\ud83d'];

function randomBigInt(bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(rand() * 65536));
  return BigInt.asIntN(bits, v);
}

/** A typed key value (the table's Iceberg form comes from it in tableValue). */
function randomValue(f: FieldSpec): bigint | number | string | boolean | Uint8Array | null {
  if (f.optional === true && rand() < 0.15) return null;
  const edge = rand() < 0.2;
  switch (f.type) {
    case 'int8':
      return edge ? pick([-128, 127, 0, -1]) : Math.floor(rand() * 256) - 128;
    case 'int16':
      return edge ? pick([-32768, 32767, 0, -1]) : Math.floor(rand() * 65536) - 32768;
    case 'int32':
      return edge ? pick([-2147483648, 2147483647, 0, -1]) : rand() < 0.5 ? Math.floor(rand() * 2000) - 1000 : Number(randomBigInt(32));
    case 'int64':
      return edge ? pick([-(1n << 63n), (1n << 63n) - 1n, 0n, -1n, 1n << 53n, -(1n << 53n) - 1n, 4294967295n]) : rand() < 0.5 ? BigInt(Math.floor(rand() * 1e6)) : randomBigInt(64);
    case 'string': {
      if (edge) return pick(STRING_EDGES);
      let s = '';
      const n = Math.floor(rand() * 12);
      for (let i = 0; i < n; i++) s += pick(CHAR_POOL);
      return s;
    }
    case 'bytes':
      return Uint8Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 256));
    case 'boolean':
      return rand() < 0.5;
    case 'decimal': {
      const limit = 10n ** BigInt(Number(f.precision));
      if (edge) return pick([0n, -1n, 1n, 127n, 128n, -128n, -129n, 255n, 256n, -256n, limit - 1n, -(limit - 1n)]);
      return randomBigInt(Math.min(128, Math.floor(Number(f.precision) * 3.3))) % limit;
    }
    default:
      throw new Error(f.type);
  }
}

/** The value as the Iceberg table holds it (src/iceberg/values.ts): a wide decimal as its exact text. */
function tableValue(f: FieldSpec, v: ReturnType<typeof randomValue>): IcebergValue | null {
  if (v === null) return null;
  if (f.type === 'decimal') return Number(f.precision) > 38 ? decimalText(v as bigint, f.scale ?? 0) : v;
  // int32 promoted to long in some tables: the bigint must serialize the same.
  if (f.type === 'int32' && rand() < 0.3) return BigInt(v as number);
  return v;
}

function peerValue(v: ReturnType<typeof randomValue>): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return String(v);
}

interface PeerOut { js: string; jp: string; av: string; pjs: number[]; pjp: number[]; pav: number[] }
interface Case { schema: number; typed: ReturnType<typeof randomValue>[]; table: (IcebergValue | null)[]; out: PeerOut }

// ---- the test ----------------------------------------------------------------------------------------------

const skip = missingTools();

describe('key serialization against the Java peer', { skip: skip === null ? false : `Java peer not run: ${skip}` }, () => {
  const cases: Case[] = [];
  let avroSchemas: string[] = [];
  let work = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'floe-key-peer-'));
    const cp = JARS.map(([g, a]) => m2Jar(g, a) as string).join(':');
    const javac = spawnSync('javac', ['-nowarn', '-d', work, '-cp', cp, PEER_SOURCE], { encoding: 'utf8' });
    assert.equal(javac.status, 0, `javac failed: ${javac.stderr}`);
    const lines = [JSON.stringify({ schemas: SCHEMAS, partitions: PARTITION_COUNTS })];
    const inputs: Omit<Case, 'out'>[] = [];
    SCHEMAS.forEach((spec, schema) => {
      for (let i = 0; i < KEYS_PER_SCHEMA; i++) {
        // The first key of each schema teaches the templates: no nulls (the decoder rejects null key columns).
        let typed = spec.map((f) => randomValue(f));
        while (i === 0 && typed.some((v) => v === null || (typeof v === 'string' && /[\ud800-\udfff]/.test(v)))) typed = spec.map((f) => randomValue(f));
        inputs.push({ schema, typed, table: spec.map((f, j) => tableValue(f, typed[j] ?? null)) });
        lines.push(JSON.stringify({ s: schema, v: typed.map(peerValue) }));
      }
    });
    const run = spawnSync('java', ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', `${work}:${cp}`, 'KeyPeer'], { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, `KeyPeer failed: ${run.stderr}`);
    const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    avroSchemas = (out[0] as { avroSchemas: string[] }).avroSchemas;
    assert.equal(out.length, inputs.length + 1);
    inputs.forEach((c, i) => cases.push({ ...c, out: out[i + 1] as unknown as PeerOut }));
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('computes the default partition of every Java-serialized key as kafka-clients does', () => {
    for (const c of cases) {
      for (const [hex, parts] of [[c.out.js, c.out.pjs], [c.out.jp, c.out.pjp], [c.out.av, c.out.pav]] as const) {
        const bytes = Buffer.from(hex, 'hex');
        PARTITION_COUNTS.forEach((n, i) => assert.equal(defaultPartition(bytes, n), parts[i], `${hex} over ${n}`));
      }
    }
  });

  /** Decodes a Java key with floe's decoder (key-only delete), learns a template from it, and checks every key. */
  function roundTrip(format: 'js' | 'jp' | 'av', eligible: (c: Case) => boolean): number {
    const decoder = new DebeziumDecoder();
    avroSchemas.forEach((text, i) => decoder.registerSchema(SCHEMA_ID + i, text));
    const value = Buffer.from(JSON.stringify({ op: 'd', before: null, source: { db: 'd', table: 't' } }));
    let checked = 0;
    SCHEMAS.forEach((_, schema) => {
      const mine = cases.filter((c) => c.schema === schema && eligible(c));
      const keyOf = (c: Case): Buffer => {
        const raw = Buffer.from(c.out[format], 'hex');
        // One registry id per key schema (the peer writes id 42 for all).
        if (format === 'av') raw.writeInt32BE(SCHEMA_ID + schema, 1);
        return raw;
      };
      const decode = (raw: Buffer): Change => {
        const d = decoder.decode(TOPIC, raw, value);
        if (d.kind !== 'change') assert.fail(`not decoded: ${d.kind} ${d.kind === 'reject' ? d.reason : ''}`);
        return d;
      };
      const first = mine[0] as Case;
      const firstChange = decode(keyOf(first));
      const t = KeyTemplate.learn(keyOf(first), { columns: firstChange.shape.keyColumns, values: firstChange.key }, decoder.writerSchema(SCHEMA_ID + schema));
      assert.ok(!isRefused(t), `schema ${schema} ${format}: ${isRefused(t) ? t.reason : ''}`);
      const check = new KeyPartitionCheck((id) => decoder.writerSchema(id));
      for (const c of mine) {
        const raw = keyOf(c);
        const lone = c.typed.some((v) => typeof v === 'string' && /[\ud800-\udfff]/.test(v.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));
        const fromTable = t.serialize(format === 'jp' ? schemaless(c, schema) : c.table);
        if (format === 'av' && lone) {
          // Java's UTF-8 encoder writes '?' for a lone surrogate: not reproducible, and said so.
          assert.ok(isRefused(fromTable), 'a lone surrogate must be refused in Avro');
          continue;
        }
        assert.ok(!isRefused(fromTable), isRefused(fromTable) ? fromTable.reason : '');
        assert.equal(Buffer.from(fromTable).toString('hex'), raw.toString('hex'), `schema ${schema} ${format}: ${JSON.stringify(c.typed.map(peerValue))}`);
        if (c.typed.every((v) => v !== null)) {
          const change = decode(raw);
          const partition = defaultPartition(raw, 12);
          assert.deepEqual(check.check(TOPIC, raw, { columns: change.shape.keyColumns, values: change.key }, partition, 12), { kind: 'ok' }, `schema ${schema} ${format}`);
        }
        checked++;
      }
    });
    return checked;
  }

  /** Schemaless JSON: floe infers integers as long and keeps bytes and decimals as the base64 text it saw. */
  function schemaless(c: Case, schema: number): (IcebergValue | null)[] {
    const payload = JSON.parse(Buffer.from(c.out.jp, 'hex').toString('utf8')) as Record<string, unknown>;
    return (SCHEMAS[schema] as readonly FieldSpec[]).map((f, i) => {
      const v = c.typed[i] ?? null;
      if (v === null) return null;
      if (typeof v === 'number') return BigInt(v);
      if (f.type === 'bytes' || f.type === 'decimal') return payload[f.name] as string;
      return v;
    });
  }

  it('JsonConverter schemas.enable=true: every key re-serialized from table values, byte for byte', () => {
    assert.ok(roundTrip('js', () => true) >= SCHEMAS.length * KEYS_PER_SCHEMA * 0.99);
  });

  it('JsonConverter schemas.enable=false: every key without nulls re-serialized byte for byte', () => {
    assert.ok(roundTrip('jp', (c) => c.typed.every((v) => v !== null)) > SCHEMAS.length * KEYS_PER_SCHEMA * 0.5);
  });

  it('Confluent Avro: every key re-serialized byte for byte (lone surrogates refused)', () => {
    assert.ok(roundTrip('av', () => true) > SCHEMAS.length * KEYS_PER_SCHEMA * 0.6);
  });
});
