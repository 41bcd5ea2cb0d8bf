// `sluice perf produce`: kafka-producer-perf-test. Sends --num-records records of --record-size
// random bytes (uppercase letters, as Kafka's tool) and prints its window and total lines.
//
// The tool itself costs nothing per record: one payload buffer, one record object and one array
// of chunk size, all reused for every producer.send call (the producer only reads them). Latency
// is measured per send call, from the call (when its records are handed to the producer) to the
// acknowledgement of its last record, so every record of a call counts the call's worst latency.
// With --throughput a call carries 1 ms of records: what a record waits behind the others of its
// call is then at most ~1 ms of producer work, not the rate's burst.
// Sends in flight are bounded in records, so the producer always has several batches ready but
// memory stays flat.
import '../record/codecs/index.js';
import { Producer, type ProducerRecord } from '../client/producer.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, checkTopic, connectClient, sleep, type Command } from './command.js';
import { LatencyStats } from './perf-stats.js';
import { COMMAND_CONFIG_FLAG, commandPropertyFlag } from './client-configs.js';
import { ACKS_FLAG, checkProducerOptions, COMPRESSION_FLAG, PRODUCER_CONFIG_FLAG, PRODUCER_CONFIG_NOTE, PRODUCER_PROPS_FLAG, readProducerSettings } from './producer-flags.js';

/** Records per producer.send call: the call's own cost is amortized over this many. */
const CHUNK_RECORDS = 1000;
/**
 * Send calls per second under --throughput, so the rate is smooth, not bursts. At 100 (10 ms of
 * records a call, as before) a call at 700k records/s handed 7,000 records, 47 batches of 16 KiB,
 * at once: the last waited for the 46 before it behind 5 requests in flight, and p99 measured
 * that burst (~10 ms), not the producer.
 */
const THROTTLED_SENDS_PER_SECOND = 1000;
/**
 * Unacknowledged bytes the tool allows: at least 6 batches, at least 1 MiB. Six is the producer's
 * max.in.flight (5) plus the batch being filled: with fewer, a request slot waits for records the
 * tool may not give yet, and linger.ms sends a part-filled batch into it (acks=all to a replicated
 * topic, 256 KiB batches of 2341 records: with 4, 64 of 317 batches went out with 318-2000 records;
 * with 6, 10 of 258). More only adds latency and GC work: records that wait ~100 ms outlive the
 * young generation and are promoted (measured: a 16 MiB window cut 100-byte throughput from ~1.1M
 * to ~0.6M records/s).
 */
const IN_FLIGHT_BYTES_MIN = 1024 * 1024;
const IN_FLIGHT_BATCHES_MIN = 6;
const REPORT_INTERVAL_MS = 5000;
/** The producer's batch.size default (Kafka's). */
const DEFAULT_BATCH_BYTES = 16_384;

const spec: CommandSpec = {
  name: 'perf produce',
  summary: 'Measure producer throughput and latency, as kafka-producer-perf-test does.',
  usage: '--topic T --num-records N --record-size BYTES [--throughput -1|N] [--warmup-records N] [--acks 1] [--batch-size B] [--linger-ms L] [--compression C]',
  flags: [
    { name: 'topic', type: 'string', valueName: 'T', description: 'Topic to write to (created if missing and the broker allows).', required: true },
    { name: 'num-records', type: 'integer', valueName: 'N', description: 'Records to send.', required: true },
    { name: 'record-size', type: 'integer', valueName: 'BYTES', description: 'Bytes of each record value.', required: true },
    { name: 'throughput', type: 'integer', valueName: 'N', description: 'At most N records per second; -1 for no limit (default -1).' },
    {
      name: 'warmup-records',
      type: 'integer',
      valueName: 'N',
      description: 'Treat the first N records as warm-up (Kafka 4.0, KIP-1052): a last line gives the statistics of the records after them (steady state).',
    },
    BOOTSTRAP_FLAG,
    { ...ACKS_FLAG, description: `${ACKS_FLAG.description} Default 1.` },
    { name: 'batch-size', type: 'integer', valueName: 'BYTES', description: 'batch.size: bytes gathered per partition before sending (default 16384).' },
    { name: 'linger-ms', type: 'integer', valueName: 'MS', description: 'linger.ms: how long a batch waits for more records (default 5).' },
    COMPRESSION_FLAG,
    PRODUCER_PROPS_FLAG,
    PRODUCER_CONFIG_FLAG,
    commandPropertyFlag(true),
    COMMAND_CONFIG_FLAG,
  ],
  notes: [
    `--producer-props: ${PRODUCER_CONFIG_NOTE} As in Kafka's tool: --producer-props bootstrap.servers=localhost:9092 acks=1.`,
    "Defaults are the producer's (batch.size 16384, linger.ms 5), as in Kafka's tool. Small records need bigger batches for " +
      'throughput: --batch-size 262144 sends ~2500 records of 100 bytes per request instead of ~150.',
  ],
};

export const perfProduceCommand: Command = {
  spec,
  async run(args) {
    const topic = args.string('topic')!;
    const numRecords = args.integer('num-records', { min: 1 })!;
    const recordSize = args.integer('record-size', { min: 0 })!;
    const throughput = args.integer('throughput', { min: -1, fallback: -1 });
    if (throughput === 0) throw args.usageError('--throughput must be -1 (no limit) or a positive rate');
    const producerSettings = readProducerSettings(args, PRODUCER_PROPS_FLAG, 1);
    checkProducerOptions(args, producerSettings.options);
    const batchBytes = producerSettings.options.batchBytes;
    const warmupRecords = args.integer('warmup-records', { min: 0, fallback: 0 });
    if (warmupRecords >= numRecords) throw args.usageError('--warmup-records must be fewer than --num-records');

    const client = await connectClient(args, { ...producerSettings, requestTimeoutMs: producerSettings.options.requestTimeoutMs });
    try {
      await checkTopic(client, topic, undefined, true);
      const producer = await Producer.create(client, producerSettings.options);

      const payload = Buffer.allocUnsafe(recordSize);
      for (let i = 0; i < recordSize; i++) payload[i] = 65 + Math.floor(Math.random() * 26);
      const record: ProducerRecord = { value: payload };
      const chunkRecords = Math.max(1, Math.min(CHUNK_RECORDS, numRecords, throughput > 0 ? Math.ceil(throughput / THROTTLED_SENDS_PER_SECOND) : Infinity));
      const chunk: ProducerRecord[] = new Array(chunkRecords).fill(record);
      const inFlightBytesMax = Math.max(IN_FLIGHT_BYTES_MIN, IN_FLIGHT_BATCHES_MIN * (batchBytes ?? DEFAULT_BATCH_BYTES));
      const inFlightRecordsMax = Math.max(chunkRecords * 2, Math.ceil(inFlightBytesMax / Math.max(recordSize, 1)));

      const stats = new LatencyStats(REPORT_INTERVAL_MS, (line) => process.stdout.write(line + '\n'));
      // The records after the warm-up, on their own clock from the first of them; no window lines.
      let steady: LatencyStats | undefined;
      let steadyFromRecord = 0;
      let inFlightRecords = 0;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const startMs = performance.now();
      let sent = 0;
      while (sent < numRecords && failure === undefined) {
        const count = Math.min(chunkRecords, numRecords - sent);
        const records = count === chunkRecords ? chunk : chunk.slice(0, count);
        const sentAtMs = performance.now();
        inFlightRecords += count;
        if (warmupRecords > 0 && steady === undefined && sent >= warmupRecords) {
          steady = new LatencyStats(Infinity, () => {});
          steadyFromRecord = sent;
        }
        const steadyStats = steady;
        producer.send(topic, records).then(
          () => {
            const latencyMs = performance.now() - sentAtMs;
            stats.record(count, count * recordSize, latencyMs);
            steadyStats?.record(count, count * recordSize, latencyMs);
            inFlightRecords -= count;
            wake?.();
          },
          (error) => {
            failure ??= error;
            inFlightRecords -= count;
            wake?.();
          },
        );
        sent += count;
        while (inFlightRecords >= inFlightRecordsMax && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
        if (throughput > 0) {
          // Kafka's ThroughputThrottler: sleep while ahead of the rate.
          const aheadMs = (sent / throughput) * 1000 - (performance.now() - startMs);
          if (aheadMs > 0) await sleep(aheadMs);
        }
      }
      await producer.flush();
      while (inFlightRecords > 0) await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== undefined) throw failure;
      process.stdout.write(stats.totalLine() + '\n');
      if (steady !== undefined) process.stdout.write(`${steady.totalLine().slice(0, -1)} (steady state, after ${steadyFromRecord} warm-up records).\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};
