// `sluice consume`: prints the records of a topic (or of the topics --include matches), as
// kafka-console-consumer does; with --group, as a member of a consumer group that commits what it
// printed. Values one a line, or key<sep>value with --print-key (a tab by default), or the fields
// Kafka's formatter settings ask for (console-properties.ts, deserializers.ts); a null key or
// value prints as `null`. As Kafka's console consumer subscribes, it also reads partitions added
// to its topics and, with --include, topics created later that match (and drops those deleted),
// looking every metadata.max.age.ms (5 min); in a group the group's leader looks and rebalances
// (GroupMember). It stops after --max-messages, after --timeout-ms without a record, on a fatal
// group error, or on SIGINT/SIGTERM, and then prints `Processed a total of N messages` to stderr.
import '../record/codecs/index.js';
import { Fetcher, type StartOffset } from '../client/fetcher.js';
import { partitionKey } from '../client/assignors.js';
import { METADATA_MAX_AGE_MS_DEFAULT } from '../client/client.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, checkTopic, CliError, connectClient, OutputBuffer, type Command } from './command.js';
import { COMMAND_CONFIG_FLAG, commandPropertyFlag } from './client-configs.js';
import { FORMATTER_CONFIG_FLAG, FORMATTER_DEFAULTS, FORMATTER_PROPERTY_FLAG, FormatterError, PROPERTY_FLAG, readProperties, recordFormatter } from './console-properties.js';
import { CONSUMER_CONFIG_FLAG, CONSUMER_PROPERTY_FLAG, groupOf, readConsumerProperties } from './consumer-properties.js';
import { joinGroup } from './group-reading.js';
import { topicPattern, topicsMatching } from './topic-pattern.js';

/** The broker holds an empty fetch this long at most (the consumer's fetch.max.wait.ms). */
const FETCH_WAIT_MS = 500;

const spec: CommandSpec = {
  name: 'consume',
  summary: 'Print the records of a topic, as kafka-console-consumer does.',
  usage: '--topic T | --include REGEX [--from-beginning] [--partition N [--offset N|earliest|latest]] [--max-messages N] [--timeout-ms N] [options]',
  flags: [
    { name: 'topic', type: 'string', valueName: 'T', description: 'Topic to read.' },
    {
      name: 'include',
      type: 'string',
      valueName: 'REGEX',
      description: 'Instead of --topic: every topic whose whole name matches, internal ones excluded, those created later too.',
    },
    BOOTSTRAP_FLAG,
    { name: 'from-beginning', type: 'boolean', description: 'Start at the earliest offset (default: the end, new records only).' },
    { name: 'partition', type: 'integer', valueName: 'N', description: 'Read only this partition (default: every partition).' },
    { name: 'offset', type: 'string', valueName: 'N|earliest|latest', description: 'With --partition: where to start (default latest).' },
    { name: 'max-messages', type: 'integer', valueName: 'N', description: 'Exit after printing N records.' },
    { name: 'timeout-ms', type: 'integer', valueName: 'MS', description: 'Exit after MS without a record (default: wait for more until interrupted).' },
    { name: 'print-key', type: 'boolean', description: 'Print key<separator>value (the same as --property print.key=true).' },
    { name: 'key-separator', type: 'string', valueName: 'S', description: 'Separator between printed fields (default a tab; --property key.separator=S).' },
    { name: 'skip-message-on-error', type: 'boolean', description: 'A record the formatter cannot print (a deserializer error) is reported on stderr and skipped, not the end.' },
    { name: 'key-deserializer', type: 'string', valueName: 'CLASS', description: 'How keys print: a Kafka deserializer class, e.g. org.apache.kafka.common.serialization.LongDeserializer (--property key.deserializer).' },
    { name: 'value-deserializer', type: 'string', valueName: 'CLASS', description: 'How values print, as --key-deserializer (--property value.deserializer).' },
    { name: 'group', type: 'string', valueName: 'G', description: 'Join consumer group G: share the partitions with its other members and commit offsets.' },
    PROPERTY_FLAG,
    FORMATTER_PROPERTY_FLAG,
    FORMATTER_CONFIG_FLAG,
    CONSUMER_PROPERTY_FLAG,
    CONSUMER_CONFIG_FLAG,
    commandPropertyFlag(),
    COMMAND_CONFIG_FLAG,
    {
      name: 'isolation-level',
      type: 'string',
      valueName: 'read_committed|read_uncommitted',
      description: 'isolation.level (default read_uncommitted). read_committed reads to the last stable offset and skips the records of aborted transactions.',
    },
  ],
  notes: [
    `--property takes kafka-console-consumer's formatter settings: ${Object.entries(FORMATTER_DEFAULTS)
      .map(([name, value]) => `${name} (default ${value === '' ? 'none' : JSON.stringify(value)})`)
      .join(', ')}.`,
  ],
};

export const consumeCommand: Command = {
  spec,
  async run(args) {
    const consumerProperties = readConsumerProperties(args);
    const isolationLevel = args.string('isolation-level');
    if (isolationLevel !== undefined) {
      if (isolationLevel !== 'read_committed' && isolationLevel !== 'read_uncommitted') throw args.usageError(`--isolation-level expects read_committed or read_uncommitted, got '${isolationLevel}'`);
      consumerProperties.fetch.isolationLevel = isolationLevel;
    }
    const group = groupOf(args, consumerProperties);
    if (group === undefined && consumerProperties.groupConfigsGiven.length > 0) {
      throw args.usageError(`--consumer-property ${consumerProperties.groupConfigsGiven[0]} acts only in a group: give --group`);
    }
    const reset = consumerProperties.autoOffsetReset;
    if (reset === 'latest' && args.boolean('from-beginning')) throw args.usageError("--from-beginning and auto.offset.reset=latest cannot be given together");
    if (group !== undefined && (args.has('partition') || args.has('offset'))) {
      throw args.usageError('--group takes the partitions the group assigns: it cannot go with --partition or --offset');
    }
    const topic = args.string('topic');
    const include = args.string('include');
    if ((topic === undefined) === (include === undefined)) throw args.usageError('Give one of --topic or --include');
    if (include !== undefined && args.has('partition')) throw args.usageError('--partition goes with --topic');
    const includePattern = include === undefined ? undefined : topicPattern(args, 'include', include);
    const partition = args.integer('partition', { min: 0 });
    const rawOffset = args.string('offset');
    if (rawOffset !== undefined && partition === undefined) throw args.usageError('--offset needs --partition');
    if (rawOffset !== undefined && args.boolean('from-beginning')) throw args.usageError('--offset and --from-beginning cannot be given together');
    const start = parseStart(rawOffset, args.boolean('from-beginning') || reset === 'earliest', (message) => args.usageError(message));
    const maxMessages = args.integer('max-messages', { min: 1 });
    const timeoutMs = args.integer('timeout-ms', { min: 0 });
    const formatterSettings = readProperties(args, FORMATTER_PROPERTY_FLAG, FORMATTER_CONFIG_FLAG, FORMATTER_DEFAULTS, {
      'print.key': args.boolean('print-key') ? 'true' : undefined,
      'key.separator': args.string('key-separator'),
      'key.deserializer': args.string('key-deserializer'),
      'value.deserializer': args.string('value-deserializer'),
    });
    const skipOnError = args.boolean('skip-message-on-error');
    let format: ReturnType<typeof recordFormatter>;
    try {
      format = recordFormatter(formatterSettings);
    } catch (error) {
      if (error instanceof FormatterError) throw args.usageError(error.message);
      throw error;
    }

    const client = await connectClient(args, consumerProperties);
    /** Next offset after the last record printed, by partitionKey (what a group member commits). */
    const printed = new Map<string, number>();
    let stopGroup: (() => Promise<void>) | undefined;
    /** What ended the group membership (FENCED_INSTANCE_ID, ...): fatal, as in Kafka's console consumer. */
    let groupError: Error | undefined;
    let count = 0;
    let stopped = false;
    const onSignal = () => (stopped = true);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      // --include waits for a topic to match, as Kafka's console consumer does.
      const topics = topic !== undefined ? [topic] : await topicsMatching(client, includePattern!, true);
      const partitionCounts = new Map<string, number>();
      for (const name of topics) partitionCounts.set(name, await checkTopic(client, name, partition, false));
      // A fetch never waits past --timeout-ms.
      const maxWaitMs = consumerProperties.fetch.maxWaitMs ?? FETCH_WAIT_MS;
      // A position the log no longer has (or not yet) goes to auto.offset.reset's end, as in
      // Kafka's console consumer: --from-beginning is earliest, the default latest.
      const autoOffsetReset = reset ?? (args.boolean('from-beginning') ? 'earliest' : 'latest');
      const fetcherOptions = { ...consumerProperties.fetch, autoOffsetReset, maxWaitMs: timeoutMs === undefined ? maxWaitMs : Math.min(maxWaitMs, Math.max(1, timeoutMs)) };
      const fetcher = new Fetcher(client, fetcherOptions);
      if (group !== undefined) {
        stopGroup = await joinGroup({
          client, fetcher, group, topics, start, properties: consumerProperties, pattern: includePattern?.regex,
          // At least once: commit past what was printed, not past what was fetched (a fetch may
          // bring more than --max-messages lets us print).
          committable: (tp) => printed.get(partitionKey(tp)),
          // Another member moves it on from here: a later commit of ours must not take it back.
          revoked: (tp) => printed.delete(partitionKey(tp)),
          onFatal: (error) => {
            groupError = error;
            stopped = true;
          },
        });
      } else if (partition !== undefined) await fetcher.assign(topic!, partition, start);
      else for (const [name, count] of partitionCounts) for (let p = 0; p < count; p++) await fetcher.assign(name, p, start);

      // Without a group this command follows its topics' metadata itself (a group's leader does it there).
      const follow = group === undefined && partition === undefined;
      const metadataMaxAgeMs = consumerProperties.metadataMaxAgeMs ?? METADATA_MAX_AGE_MS_DEFAULT;
      let metadataAtMs = Date.now();
      const readNewPartitions = async () => {
        const found = new Map<string, number>();
        if (includePattern === undefined) found.set(topic!, await checkTopic(client, topic!, undefined, false));
        else for (const t of await client.topicsMatching(includePattern.regex, true)) found.set(t.name, t.partitions.length);
        for (const [name, count] of found) {
          // A partition or topic that appeared is read from auto.offset.reset's end, as Kafka's consumer does.
          for (let p = partitionCounts.get(name) ?? 0; p < count; p++) await fetcher.assign(name, p, autoOffsetReset);
          partitionCounts.set(name, count);
        }
        for (const [name, count] of partitionCounts) {
          if (found.has(name)) continue;
          for (let p = 0; p < count; p++) fetcher.unassign(name, p);
          partitionCounts.delete(name);
        }
      };

      const out = new OutputBuffer();
      let lastRecordAtMs = Date.now();
      while (!stopped) {
        if (follow && Date.now() - metadataAtMs >= metadataMaxAgeMs) {
          metadataAtMs = Date.now();
          // A failed look (the topic deleted, a broker away) is taken again at the next one.
          await readNewPartitions().catch(() => {});
        }
        const { records } = await fetcher.fetch();
        for (const record of records) {
          // A partition the group took away while this fetch was out is another member's now.
          if (group !== undefined && fetcher.position(record.topic, record.partition) === undefined) continue;
          let line: string;
          try {
            line = format(record);
          } catch (error) {
            if (!(error instanceof CliError) || !skipOnError) throw error;
            process.stderr.write(`ERROR: skipping ${record.topic}-${record.partition} offset ${record.offset}: ${error.message}\n`);
            printed.set(partitionKey(record), record.offset + 1); // consumed: a commit goes past it
            continue;
          }
          const pending = out.write(line);
          if (pending) await pending;
          printed.set(partitionKey(record), record.offset + 1);
          if (++count === maxMessages) stopped = true;
          if (stopped) break;
        }
        await out.flush();
        if (records.length > 0) lastRecordAtMs = Date.now();
        else if (timeoutMs !== undefined && Date.now() - lastRecordAtMs >= timeoutMs) break;
      }
      if (groupError !== undefined) throw groupError;
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      try {
        await stopGroup?.();
      } finally {
        client.close();
        process.stderr.write(`Processed a total of ${count} messages\n`);
      }
    }
  },
};

function parseStart(raw: string | undefined, fromBeginning: boolean, fail: (message: string) => Error): StartOffset {
  if (raw === undefined) return fromBeginning ? 'earliest' : 'latest';
  if (raw === 'earliest' || raw === 'latest') return raw;
  if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  throw fail(`--offset expects an offset, earliest or latest, got '${raw}'`);
}
