/**
 * The Kafka fetch ceiling: CPU per event of floe's own consumer (KafkaSource on node-rdkafka, floe's settings and
 * batch size) reading already-filled topics and doing nothing else. The part of an end-to-end figure that no
 * floe stage can remove: librdkafka's fetch and decompression threads plus node-rdkafka turning each message into
 * a JavaScript object with a copied Buffer.
 *   FLOE_KAFKA_BOOTSTRAP=... node dist/native-bench/fetch.bench.js TOPIC[,TOPIC...] EVENTS [--json]
 */
import { KafkaSource } from '../src/kafka/source.js';

const IDLE_TIMEOUT_MS = 30_000;

export async function fetchCeiling(brokers: string, topics: readonly string[], events: number): Promise<{ events: number; bytes: number; cpuMicrosPerEvent: number; seconds: number }> {
  const source = new KafkaSource({ brokers, groupId: `fetch-bench-${process.pid}-${Date.now()}`, topics }, { onAssign: () => undefined, onRevoke: () => undefined });
  await source.connect();
  let n = 0;
  let bytes = 0;
  let cpu0: NodeJS.CpuUsage | null = null;
  let t0 = 0;
  let lastData = Date.now();
  while (n < events) {
    const batch = await source.consume(10_000, 200);
    if (batch.length === 0) {
      if (Date.now() - lastData > IDLE_TIMEOUT_MS) throw new Error(`fetch bench: only ${n} of ${events} events after ${IDLE_TIMEOUT_MS} ms idle`);
      continue;
    }
    // the clock starts at the first message: connecting and joining the group are not part of the fetch cost
    if (cpu0 === null) {
      cpu0 = process.cpuUsage();
      t0 = Date.now();
    }
    lastData = Date.now();
    n += batch.length;
    for (const m of batch) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
  }
  const cpu = process.cpuUsage(cpu0 ?? undefined);
  const seconds = (Date.now() - t0) / 1000;
  await source.disconnect();
  return { events: n, bytes, cpuMicrosPerEvent: (cpu.user + cpu.system) / n, seconds };
}

if (process.argv[1]?.endsWith('fetch.bench.js') === true) {
  const brokers = process.env.FLOE_KAFKA_BOOTSTRAP;
  if (brokers === undefined) throw new Error('set FLOE_KAFKA_BOOTSTRAP');
  const r = await fetchCeiling(brokers, (process.argv[2] ?? '').split(','), Number(process.argv[3] ?? 0));
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`kafka fetch (KafkaSource, node-rdkafka): ${r.cpuMicrosPerEvent.toFixed(2)} CPU µs per event, ${(r.bytes / r.events).toFixed(0)} bytes per event, ${(r.events / r.seconds).toFixed(0)} events/s\n`);
}
