// `sluice perf consume`: kafka-consumer-perf-test. Without --group it reads every partition from
// the beginning (or the end, --from-latest); with --group G (or group.id) it joins the group as
// Kafka's tool does, reads what the group assigns from the committed offsets, commits what it
// counted (enable.auto.commit, as Kafka's consumer on close) and reports the time the join took as
// rebalance.time.ms. It reads with the Fetcher's countOnly mode (batch headers give the counts,
// no record is decoded) until --messages records, then prints Kafka's header and values lines. Data is counted
// as the batch bytes fetched (Kafka's tool counts keys and values; batch framing adds ~70 bytes
// per batch, under 1% for batches of 100-byte records). Progress goes to stderr once a second.
import { Fetcher } from '../client/fetcher.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, checkTopic, connectClient, type Command } from './command.js';
import { COMMAND_CONFIG_FLAG, commandPropertyFlag } from './client-configs.js';
import { CONSUMER_CONFIG_FLAG, CONSUMER_PROPERTY_FLAG, groupOf, readConsumerProperties } from './consumer-properties.js';
import { joinGroup } from './group-reading.js';
import { consumerPerfLine, CONSUMER_PERF_HEADER } from './perf-stats.js';

const PROGRESS_INTERVAL_MS = 1000;

const spec: CommandSpec = {
  name: 'perf consume',
  summary: 'Measure consumer throughput, as kafka-consumer-perf-test does.',
  usage: '--topic T --messages N [--group G] [--from-latest] [--timeout MS] [--fetch-size BYTES] [--hide-header] [options]',
  flags: [
    { name: 'topic', type: 'string', valueName: 'T', description: 'Topic to read.', required: true },
    { name: 'messages', type: 'integer', valueName: 'N', description: 'Records to consume.', required: true },
    BOOTSTRAP_FLAG,
    { name: 'group', type: 'string', valueName: 'G', description: 'Join consumer group G and read what it assigns, from its committed offsets (default: no group, every partition).' },
    { name: 'from-beginning', type: 'boolean', description: 'Start at the earliest offset (the default; kept for Kafka compatibility).' },
    { name: 'from-latest', type: 'boolean', description: "Start at each partition's end, counting only records produced after (kafka-consumer-perf-test's flag)." },
    { name: 'timeout', type: 'integer', valueName: 'MS', description: 'Give up after MS without a record (default 10000; kafka-consumer-perf-test\'s name).' },
    { name: 'timeout-ms', type: 'integer', valueName: 'MS', description: 'The same as --timeout.' },
    { name: 'hide-header', type: 'boolean', description: 'Print the values line without the header line above it.' },
    { name: 'fetch-size', type: 'integer', valueName: 'BYTES', description: 'max.partition.fetch.bytes per fetch (default 1048576; over --consumer-property max.partition.fetch.bytes, as in Kafka).' },
    CONSUMER_PROPERTY_FLAG,
    CONSUMER_CONFIG_FLAG,
    commandPropertyFlag(),
    COMMAND_CONFIG_FLAG,
  ],
  notes: [
    'Records are counted from batch headers, whole batches at a time, so the count may pass --messages by part of a batch; ' +
      'MB counts the batch bytes fetched.',
  ],
};

export const perfConsumeCommand: Command = {
  spec,
  async run(args) {
    const topic = args.string('topic')!;
    const messages = args.integer('messages', { min: 1 })!;
    if (args.has('timeout') && args.has('timeout-ms')) throw args.usageError('--timeout and --timeout-ms name the same setting: give one');
    if (args.boolean('from-latest') && args.boolean('from-beginning')) throw args.usageError('--from-latest and --from-beginning cannot be given together');
    const timeoutMs = args.integer('timeout', { min: 1 }) ?? args.integer('timeout-ms', { min: 1, fallback: 10_000 });
    const start = args.boolean('from-latest') ? 'latest' : 'earliest';
    const consumerProperties = readConsumerProperties(args);
    const group = groupOf(args, consumerProperties);
    if (group === undefined && consumerProperties.groupConfigsGiven.length > 0) {
      throw args.usageError(`--consumer-property ${consumerProperties.groupConfigsGiven[0]}: perf consume reads without a group unless --group is given`);
    }
    if (consumerProperties.autoOffsetReset !== undefined) {
      throw args.usageError('--consumer-property auto.offset.reset: perf consume starts from the beginning, or the end with --from-latest');
    }
    if (consumerProperties.metadataMaxAgeMs !== undefined && group === undefined) {
      process.stderr.write('WARNING: metadata.max.age.ms is accepted but not supported by perf consume without --group: it reads the partitions there when it starts\n');
    }
    const partitionMaxBytes = args.integer('fetch-size', { min: 1 }) ?? consumerProperties.fetch.partitionMaxBytes;

    const client = await connectClient(args, consumerProperties);
    try {
      const partitions = await checkTopic(client, topic, undefined, false);
      const fetcher = new Fetcher(client, { ...consumerProperties.fetch, autoOffsetReset: start, countOnly: true, maxWaitMs: Math.min(consumerProperties.fetch.maxWaitMs ?? 500, timeoutMs), partitionMaxBytes });
      const startMs = Date.now();
      let stopGroup: (() => Promise<void>) | undefined;
      /** What ended the group membership (FENCED_INSTANCE_ID, ...). */
      let fatal: Error | undefined;
      if (group === undefined) {
        for (let p = 0; p < partitions; p++) await fetcher.assign(topic, p, start);
      } else {
        stopGroup = await joinGroup({
          client, fetcher, group, topics: [topic], start, properties: consumerProperties,
          // The positions the fetcher reached: whole batches are counted.
          committable: (tp) => fetcher.position(tp.topic, tp.partition),
          onFatal: (error) => (fatal = error),
        });
      }
      // Without a group, the time to look up where each partition starts; with one, the join too.
      const assignedMs = Date.now();

      let count = 0;
      let bytes = 0;
      let lastRecordMs = assignedMs;
      let lastProgressMs = assignedMs;
      const tty = process.stderr.isTTY === true;
      while (count < messages && fatal === undefined) {
        const result = await fetcher.fetch();
        const now = Date.now();
        count += result.recordCount;
        bytes += result.bytes;
        if (result.recordCount > 0) lastRecordMs = now;
        else if (now - lastRecordMs >= timeoutMs) {
          if (tty) process.stderr.write('\n');
          process.stderr.write(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded.\n`);
          break;
        }
        if (now - lastProgressMs >= PROGRESS_INTERVAL_MS) {
          lastProgressMs = now;
          const line = `Consumed ${count} of ${messages} messages (${(bytes / (1024 * 1024)).toFixed(1)} MB)`;
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        }
      }
      const endMs = Date.now();
      await stopGroup?.(); // commits what was counted and leaves
      if (fatal !== undefined) throw fatal;
      if (tty && endMs - assignedMs >= PROGRESS_INTERVAL_MS) process.stderr.write('\n');
      if (!args.boolean('hide-header')) process.stdout.write(CONSUMER_PERF_HEADER + '\n');
      // rebalance.time.ms is the group join, as in Kafka's tool; without a group there is none.
      const rebalanceMs = group === undefined ? 0 : assignedMs - startMs;
      process.stdout.write(consumerPerfLine(startMs, endMs, bytes, count, rebalanceMs, endMs - assignedMs) + '\n');
      return 0;
    } finally {
      client.close();
    }
  },
};
