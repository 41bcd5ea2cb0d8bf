// `sluice topics`: kafka-topics' actions and output. --describe prints Kafka's two line shapes:
//   Topic: t\tTopicId: id\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000
//   \tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1
// TopicId is in Kafka's text form for a Uuid (URL-safe base64, 22 characters), as kafka-topics
// prints it. Configs lists only the topic's overrides (DescribeConfigs source DYNAMIC_TOPIC_CONFIG), as Kafka.
import type { KafkaClient, TopicMetadata } from '../client/client.js';
import { SluiceError } from '../errors.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, connectClient, OutputBuffer, type Command } from './command.js';

/** DescribeConfigsResponse.ConfigSource for a value set on the topic itself. */
const DYNAMIC_TOPIC_CONFIG = 1;
const ACTIONS = ['create', 'list', 'describe', 'delete'] as const;

const spec: CommandSpec = {
  name: 'topics',
  summary: 'Create, list, describe and delete topics, as kafka-topics does.',
  usage: '--create|--list|--describe|--delete [--topic T] [options]',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'create', type: 'boolean', description: 'Create --topic.' },
    { name: 'list', type: 'boolean', description: 'List topic names, one a line.' },
    { name: 'describe', type: 'boolean', description: 'Describe --topic, or every topic.' },
    { name: 'delete', type: 'boolean', description: 'Delete --topic.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'The topic.' },
    { name: 'partitions', type: 'integer', valueName: 'N', description: "With --create: partition count (default the broker's num.partitions)." },
    {
      name: 'replication-factor',
      type: 'integer',
      valueName: 'N',
      description: "With --create: replicas per partition (default the broker's default.replication.factor).",
    },
    { name: 'config', type: 'list', valueName: 'KEY=VALUE', description: 'With --create: a topic config override, e.g. retention.ms=60000 (repeatable).' },
    { name: 'if-not-exists', type: 'boolean', description: 'With --create: no error when the topic exists.' },
    { name: 'if-exists', type: 'boolean', description: 'With --delete or --describe: no error when the topic does not exist.' },
  ],
};

export const topicsCommand: Command = {
  spec,
  async run(args) {
    const actions = ACTIONS.filter((action) => args.boolean(action));
    if (actions.length !== 1) {
      throw args.usageError(actions.length === 0 ? 'Give one of --create, --list, --describe or --delete' : `Give only one of ${actions.map((a) => `--${a}`).join(', ')}`);
    }
    const action = actions[0]!;
    const topic = args.string('topic');
    if ((action === 'create' || action === 'delete') && topic === undefined) throw args.usageError(`--${action} needs --topic`);
    for (const flag of ['partitions', 'replication-factor', 'config', 'if-not-exists'] as const) {
      if (action !== 'create' && args.has(flag)) throw args.usageError(`--${flag} goes with --create only`);
    }
    const configs = parseConfigs(args);
    const partitions = args.integer('partitions', { min: 1 });
    const replicationFactor = args.integer('replication-factor', { min: 1, max: 32767 });

    const client = await connectClient(args);
    try {
      switch (action) {
        case 'create':
          try {
            await client.createTopics([{ name: topic!, partitions, replicationFactor, configs }]);
          } catch (error) {
            if (args.boolean('if-not-exists') && error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS') return 0;
            throw error;
          }
          process.stdout.write(`Created topic ${topic}.\n`);
          return 0;
        case 'list': {
          const metadata = await client.metadata(undefined);
          const names = metadata.topics.map((t) => t.name).sort();
          process.stdout.write(names.map((name) => `${name}\n`).join(''));
          return 0;
        }
        case 'describe':
          return await describe(client, topic, args.boolean('if-exists'));
        case 'delete':
          try {
            await client.deleteTopics([topic!]);
          } catch (error) {
            if (args.boolean('if-exists') && error instanceof SluiceError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION') return 0;
            throw error;
          }
          return 0;
      }
    } finally {
      client.close();
    }
  },
};

function parseConfigs(args: ParsedArgs): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const entry of args.list('config')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw args.usageError(`--config expects KEY=VALUE, got '${entry}'`);
    configs[entry.slice(0, equals).trim()] = entry.slice(equals + 1).trim();
  }
  return configs;
}

async function describe(client: KafkaClient, topic: string | undefined, ifExists: boolean): Promise<number> {
  let topics: TopicMetadata[];
  try {
    topics = (await client.metadata(topic === undefined ? undefined : [topic])).topics;
  } catch (error) {
    if (ifExists && error instanceof SluiceError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION') return 0;
    throw error;
  }
  const out = new OutputBuffer();
  for (const t of [...topics].sort((a, b) => a.name.localeCompare(b.name))) {
    const configs = await client.describeTopicConfigs(t.name);
    const overrides = Object.entries(configs)
      .filter(([, { source }]) => source === DYNAMIC_TOPIC_CONFIG)
      .map(([name, { value }]) => `${name}=${value ?? ''}`)
      .join(',');
    const replicationFactor = t.partitions[0]?.replicas.length ?? 0;
    await out.line(`Topic: ${t.name}\tTopicId: ${kafkaUuid(t.topicId)}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${overrides}`);
    for (const p of t.partitions) {
      await out.line(`\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`);
    }
  }
  await out.flush();
  return 0;
}

/** Kafka's Uuid.toString(): the 16 bytes in URL-safe base64 without padding. */
export function kafkaUuid(uuid: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) return uuid;
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}
