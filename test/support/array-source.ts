// A Source over a fixed array of messages for pipeline tests: serves them in order, records the group commits; no rebalances, no rewinds.
import type { SourceMessage, TopicPartition } from '../../src/kafka/source.js';
import type { Source } from '../../src/pipeline/pipeline.js';

export class ArraySource implements Source {
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
  async seek(): Promise<void> {
    throw new Error('ArraySource: no rewind expected in this test (an outage happened)');
  }
  isAssigned(_t: TopicPartition): boolean {
    return true;
  }
  assignment(): TopicPartition[] {
    const seen = new Map<string, TopicPartition>();
    for (const m of this.messages) seen.set(`${m.topic}/${m.partition}`, { topic: m.topic, partition: m.partition });
    return [...seen.values()];
  }
  pauseAll(): void {}
  resumeAll(): void {}
  async disconnect(): Promise<void> {}
  get done(): boolean {
    return this.i >= this.messages.length;
  }
}
