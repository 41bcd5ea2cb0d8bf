// Shared pieces of the pool consumer tests: a broker with fast group settings, producing, and a
// collector of what the handler (test/fixtures/pool-handler.ts) reports over a BroadcastChannel.
import { BroadcastChannel } from 'node:worker_threads';

import { startBroker, type Broker } from '../../src/broker/broker.js';

export const HANDLER = new URL('../fixtures/pool-handler.ts', import.meta.url);

/** group.initial.rebalance.delay.ms 0 so that a lone member gets its assignment at once. */
export function startGroupBroker(dataDir?: string): Promise<Broker> {
  return startBroker({
    port: 0,
    dataDir,
    config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3, 'group.min.session.timeout.ms': 1000 },
  });
}

/** Appends `count` records with values `${prefix}-${i}` round robin over the partitions, `perBatch` a batch. */
export async function produce(broker: Broker, topic: string, count: number, options: { partitions: number; prefix?: string; perBatch?: number; valueBytes?: number }): Promise<void> {
  const perBatch = options.perBatch ?? 100;
  const filler = options.valueBytes ? '.'.repeat(options.valueBytes) : '';
  const byPartition: Array<Array<{ value: string }>> = Array.from({ length: options.partitions }, () => []);
  for (let i = 0; i < count; i++) byPartition[i % options.partitions]!.push({ value: `${options.prefix ?? 'v'}-${i}${filler}` });
  for (let partition = 0; partition < options.partitions; partition++) {
    const records = byPartition[partition]!;
    for (let at = 0; at < records.length; at += perBatch) await broker.engine.produce(topic, records.slice(at, at + perBatch), { partition });
  }
}

export interface HandledBatch {
  topic: string;
  partition: number;
  offsets: number[];
  values: Array<string | null>;
  seq: number;
}

/** Everything the handler posts on `name`. */
export class Collector {
  readonly batches: HandledBatch[] = [];
  private readonly channel: BroadcastChannel;

  constructor(readonly name: string) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event) => this.batches.push((event as { data: HandledBatch }).data);
  }

  get records(): number {
    return this.batches.reduce((n, b) => n + b.offsets.length, 0);
  }

  /** Offsets of a partition in the order the batches ran (by the shared sequence). */
  offsetsOf(partition: number): number[] {
    return this.batches
      .filter((b) => b.partition === partition)
      .sort((a, b) => a.seq - b.seq)
      .flatMap((b) => b.offsets);
  }

  values(): string[] {
    return this.batches.flatMap((b) => b.values.map(String));
  }

  close(): void {
    this.channel.close();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Committed offsets of a group for a topic's partitions, read from the broker's coordinator. */
export function committed(broker: Broker, groupId: string, topic: string, partitions: number): number[] {
  const answer = broker.groups.fetchOffsets(groupId, [{ name: topic, partitionIndexes: range(0, partitions) }]);
  return answer.topics[0]!.partitions.map((p) => p.committedOffset);
}
