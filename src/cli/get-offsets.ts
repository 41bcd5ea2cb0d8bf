// `sluice get-offsets`: kafka-get-offsets (GetOffsetShell). One line a partition, sorted as Kafka
// sorts them (by "topic-partition" as text):
//   orders:0:1200
// --time is latest (-1, the default), earliest (-2), max-timestamp (-3), earliest-local (-4), or a
// timestamp in ms: the first offset whose record is at or after it. A partition with no such
// offset (a timestamp after every record) is left out, as Kafka's tool leaves it out. Partitions are
// chosen by --topic (a regular expression matched against the whole name) and --partitions (ids),
// or by --topic-partitions patterns such as 'orders:0,audit:1-3,logs.*:5-,:-2' (ranges include
// their lower bound and exclude their upper one).
import type { KafkaClient } from '../client/client.js';
import { SluiceError } from '../errors.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

/** ListOffsets' special timestamps, by the names kafka-get-offsets takes (KIP-734, KIP-405). */
const NAMED_TIMES: Record<string, number> = { latest: -1, earliest: -2, 'max-timestamp': -3, 'earliest-local': -4 };
const TIME_HELP = '-1 or latest, -2 or earliest, -3 or max-timestamp, -4 or earliest-local, or a timestamp in ms';
/** ListOffsets' "no such offset". */
const UNKNOWN_OFFSET = -1;

const spec: CommandSpec = {
  name: 'get-offsets',
  summary: 'Print the offsets of topic partitions at a time, as kafka-get-offsets does.',
  usage: '[--topic REGEX] [--partitions 0,1] [--topic-partitions PATTERNS] [--time latest|earliest|max-timestamp|TIMESTAMP] [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'topic', type: 'string', valueName: 'REGEX', description: 'Topics whose whole name matches (default every topic).' },
    { name: 'partitions', type: 'string', valueName: 'IDS', description: 'Partition ids, separated by commas (default every partition).' },
    {
      name: 'topic-partitions',
      type: 'string',
      valueName: 'PATTERNS',
      description: "Instead of --topic and --partitions: patterns TOPIC_REGEX[:P|:LOW-HIGH|:LOW-|:-HIGH] separated by commas, e.g. 'orders:0,audit:1-3'.",
    },
    { name: 'time', type: 'string', valueName: 'TIME', description: `${TIME_HELP} (default latest).` },
    { name: 'exclude-internal-topics', type: 'boolean', description: 'Leave out internal topics (__consumer_offsets).' },
  ],
};

interface PartitionFilter {
  topic: RegExp;
  allows(partition: number): boolean;
}

export const getOffsetsCommand: Command = {
  spec,
  async run(args) {
    if (args.has('topic-partitions') && (args.has('topic') || args.has('partitions'))) throw args.usageError('--topic-partitions cannot be used with --topic or --partitions');
    const timestamp = parseTime(args, args.string('time', 'latest'));
    const filters = args.has('topic-partitions') ? parsePatterns(args, args.string('topic-partitions')!) : [topicAndPartitions(args)];
    const client = await connectClient(args, adminSettings(args));
    try {
      const partitions = await matchingPartitions(client, filters, args.boolean('exclude-internal-topics'));
      if (partitions.length === 0) throw new CliError('Could not match any topic-partitions with the specified filters');
      const out = new OutputBuffer();
      for (const { topic, partition } of partitions) {
        let offset: number;
        try {
          offset = await client.listOffset(topic, partition, timestamp);
        } catch (error) {
          if (!(error instanceof SluiceError)) throw error;
          process.stderr.write(`Skip getting offsets for topic-partition ${topic}-${partition} due to error: ${error.message}\n`);
          continue;
        }
        if (offset !== UNKNOWN_OFFSET) await out.line(`${topic}:${partition}:${offset}`);
      }
      await out.flush();
      return 0;
    } finally {
      client.close();
    }
  },
};

function parseTime(args: ParsedArgs, text: string): number {
  const named = NAMED_TIMES[text];
  if (named !== undefined) return named;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < -4) throw args.usageError(`--time expects ${TIME_HELP}, got '${text}'`);
  return Number(text);
}

/** A topic regular expression matched against the whole name, as Kafka's IncludeList does. */
function topicPattern(args: ParsedArgs, source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (error) {
    throw args.usageError(`'${source}' is not a regular expression: ${(error as Error).message}`);
  }
}

function topicAndPartitions(args: ParsedArgs): PartitionFilter {
  const text = args.string('partitions');
  const ids = text === undefined ? null : text.split(',').map((id) => id.trim());
  if (ids !== null && !ids.every((id) => /^\d+$/.test(id))) throw args.usageError(`--partitions expects partition ids separated by commas, got '${text}'`);
  const allowed = ids === null ? null : new Set(ids.map(Number));
  return { topic: topicPattern(args, args.string('topic', '.*')), allows: (partition) => allowed === null || allowed.has(partition) };
}

/** Kafka's TOPIC_PARTITION_PATTERN: TOPIC_REGEX, then optionally :P, :LOW-HIGH, :LOW- or :-HIGH. */
function parsePatterns(args: ParsedArgs, text: string): PartitionFilter[] {
  return text.split(',').map((rule) => {
    const match = /^([^:,]*)(?::(?:(\d*)|(\d*)-(\d*)))?$/.exec(rule);
    if (match === null) throw args.usageError(`Invalid rule specification: ${rule}`);
    const [, topic, single, low, high] = match;
    const topicRegex = topicPattern(args, topic === '' ? '.*' : topic!);
    if (single !== undefined && single !== '') return { topic: topicRegex, allows: (partition) => partition === Number(single) };
    const lower = low === undefined || low === '' ? 0 : Number(low);
    const upper = high === undefined || high === '' ? Infinity : Number(high);
    return { topic: topicRegex, allows: (partition) => partition >= lower && partition < upper };
  });
}

/** Every partition some filter allows, sorted by "topic-partition" as text (Kafka's order). */
async function matchingPartitions(client: KafkaClient, filters: readonly PartitionFilter[], excludeInternal: boolean): Promise<Array<{ topic: string; partition: number }>> {
  const metadata = await client.metadata(undefined);
  const partitions: Array<{ topic: string; partition: number; key: string }> = [];
  for (const topic of metadata.topics) {
    if (excludeInternal && topic.isInternal) continue;
    for (const { partition } of topic.partitions) {
      if (filters.some((filter) => filter.topic.test(topic.name) && filter.allows(partition))) partitions.push({ topic: topic.name, partition, key: `${topic.name}-${partition}` });
    }
  }
  return partitions.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
