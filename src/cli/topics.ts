// `sluice topics`: kafka-topics' actions and output. --alter --partitions N adds partitions, as
// kafka-topics' does (CreatePartitions; the broker refuses a count that is not larger).
// --describe prints Kafka's two line shapes:
//   Topic: t\tTopicId: id\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000
//   \tTopic: t\tPartition: 0\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3
// TopicId is in Kafka's text form for a Uuid (URL-safe base64, 22 characters), as kafka-topics
// prints it. Configs lists only the topic's overrides (DescribeConfigs source DYNAMIC_TOPIC_CONFIG), as Kafka.
// A partition line is Kafka 3.x's (TopicCommand.PartitionDescription; Kafka 4 adds Elr fields),
// with `\tOffline: 1` after Isr when the Metadata response names offline replicas (ours: Kafka's
// tool does not print them). "Leader: none" when the partition has no leader (-1). A partition
// being reassigned ends with Kafka's `\tAdding Replicas: 3\tRemoving Replicas: 1`
// (ListPartitionReassignments), and ReplicationFactor counts partition 0's original replicas.
//
// A compacted topic's partition lines also give the log cleaner's figures from the leader's
// replica (DescribeLogDirs, sluice's tagged fields; Kafka's tool has no such fields):
//   ...\tIsr: 1\tDirtyRatio: 0.42\tLastCleaned: 2026-12-02T02:30:00.000Z   (or "never"; then
//   "\tUncleanable: true" when its last pass failed)
//
// As kafka-topics, --topic beside --describe, --alter and --delete is a regular expression the
// whole name must match ('logs\..*'); none matching is "Topic 'T' does not exist as expected".
// As kafka-topics, --exclude-internal leaves __consumer_offsets out of --list and --describe, and
// --describe --topics-with-overrides prints only the topic lines of topics with overrides.
//
// As kafka-topics, --describe takes report filters; with any of them only the partitions that
// match one are printed, and no topic lines:
//   --under-replicated-partitions  ISR smaller than the replicas
//   --unavailable-partitions       no leader, or a leader that is not a live broker (in Metadata's brokers)
//   --under-min-isr-partitions     no leader, or ISR smaller than the topic's min.insync.replicas
//   --at-min-isr-partitions        ISR exactly min.insync.replicas
import type { ClusterMetadata, KafkaClient, LogDirPartition, TopicMetadata } from '../client/client.js';
import { SluiceError } from '../errors.js';
import { CONFIG_SOURCE } from '../protocol/apis/describe-configs.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, connectClient, OutputBuffer, type Command } from './command.js';
import { topicPattern, topicsMatching, type TopicPattern } from './topic-pattern.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ACTIONS = ['create', 'list', 'describe', 'delete', 'alter'] as const;
const REPORT_FILTERS = ['under-replicated-partitions', 'unavailable-partitions', 'under-min-isr-partitions', 'at-min-isr-partitions'] as const;
export type ReportFilter = (typeof REPORT_FILTERS)[number];
type PartitionMetadata = TopicMetadata['partitions'][number];

const spec: CommandSpec = {
  name: 'topics',
  summary: 'Create, list, describe, alter and delete topics, as kafka-topics does.',
  usage: '--create|--list|--describe|--alter|--delete [--topic T] [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'create', type: 'boolean', description: 'Create --topic.' },
    { name: 'list', type: 'boolean', description: 'List topic names, one a line.' },
    { name: 'describe', type: 'boolean', description: 'Describe --topic, or every topic.' },
    { name: 'alter', type: 'boolean', description: 'Add partitions to --topic: --partitions gives the new count.' },
    { name: 'delete', type: 'boolean', description: 'Delete --topic.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'The topic; with --describe, --alter and --delete a regular expression the whole name must match (test\\.topic for a literal dot), as in kafka-topics.' },
    { name: 'partitions', type: 'integer', valueName: 'N', description: "With --create: partition count (default the broker's num.partitions); with --alter: the new, larger count." },
    {
      name: 'replication-factor',
      type: 'integer',
      valueName: 'N',
      description: "With --create: replicas per partition (default the broker's default.replication.factor).",
    },
    {
      name: 'replica-assignment',
      type: 'string',
      valueName: 'B1:B2,B3:B4',
      description: "With --create, instead of --partitions and --replication-factor: each partition's brokers, partitions separated by commas, the first broker its preferred leader.",
    },
    { name: 'config', type: 'list', valueName: 'KEY=VALUE', description: 'With --create: a topic config override, e.g. retention.ms=60000 (repeatable).' },
    { name: 'if-not-exists', type: 'boolean', description: 'With --create: no error when the topic exists.' },
    { name: 'if-exists', type: 'boolean', description: 'With --alter, --delete or --describe: no error when the topic does not exist.' },
    { name: 'exclude-internal', type: 'boolean', description: 'With --list or --describe: leave out internal topics (__consumer_offsets).' },
    { name: 'topics-with-overrides', type: 'boolean', description: 'With --describe: only the topics that have config overrides, without their partitions.' },
    { name: 'under-replicated-partitions', type: 'boolean', description: 'With --describe: only partitions whose ISR is smaller than their replicas.' },
    { name: 'unavailable-partitions', type: 'boolean', description: 'With --describe: only partitions without a live leader.' },
    { name: 'under-min-isr-partitions', type: 'boolean', description: 'With --describe: only partitions whose ISR is below min.insync.replicas.' },
    { name: 'at-min-isr-partitions', type: 'boolean', description: 'With --describe: only partitions whose ISR is exactly min.insync.replicas.' },
  ],
};

export const topicsCommand: Command = {
  spec,
  async run(args) {
    const actions = ACTIONS.filter((action) => args.boolean(action));
    if (actions.length !== 1) {
      throw args.usageError(actions.length === 0 ? 'Give one of --create, --list, --describe, --alter or --delete' : `Give only one of ${actions.map((a) => `--${a}`).join(', ')}`);
    }
    const action = actions[0]!;
    const topic = args.string('topic');
    if ((action === 'create' || action === 'delete' || action === 'alter') && topic === undefined) throw args.usageError(`--${action} needs --topic`);
    if (action === 'alter' && !args.has('partitions')) throw args.usageError('--alter needs --partitions');
    if (action !== 'create' && action !== 'alter' && args.has('partitions')) throw args.usageError('--partitions goes with --create or --alter only');
    for (const flag of ['replication-factor', 'replica-assignment', 'config', 'if-not-exists'] as const) {
      if (action !== 'create' && args.has(flag)) throw args.usageError(`--${flag} goes with --create only`);
    }
    for (const flag of ['partitions', 'replication-factor'] as const) {
      if (args.has('replica-assignment') && args.has(flag)) throw args.usageError(`--replica-assignment cannot be used with --${flag}`);
    }
    const filters = REPORT_FILTERS.filter((filter) => args.boolean(filter));
    for (const filter of filters) if (action !== 'describe') throw args.usageError(`--${filter} goes with --describe only`);
    const overridesOnly = args.boolean('topics-with-overrides');
    if (overridesOnly && action !== 'describe') throw args.usageError('--topics-with-overrides goes with --describe only');
    if (overridesOnly && filters.length > 0) throw args.usageError(`--topics-with-overrides cannot be used with --${filters[0]}`);
    const excludeInternal = args.boolean('exclude-internal');
    if (excludeInternal && action !== 'list' && action !== 'describe') throw args.usageError('--exclude-internal goes with --list or --describe only');
    const configs = parseConfigs(args);
    const partitions = args.integer('partitions', { min: 1 });
    const replicationFactor = args.integer('replication-factor', { min: 1, max: 32767 });
    const assignments = args.has('replica-assignment') ? parseReplicaAssignment(args) : undefined;

    const pattern = action === 'create' || topic === undefined ? undefined : topicPattern(args, 'topic', topic);

    const client = await connectClient(args, adminSettings(args));
    try {
      switch (action) {
        case 'create':
          try {
            await client.createTopics([{ name: topic!, partitions, replicationFactor, assignments, configs }]);
          } catch (error) {
            if (args.boolean('if-not-exists') && error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS') return 0;
            throw error;
          }
          process.stdout.write(`Created topic ${topic}.\n`);
          return 0;
        case 'list': {
          const metadata = await client.metadata(undefined);
          const names = metadata.topics.filter((t) => !(excludeInternal && t.isInternal)).map((t) => t.name).sort();
          process.stdout.write(names.map((name) => `${name}\n`).join(''));
          return 0;
        }
        case 'describe':
          return await describe(client, pattern, { ifExists: args.boolean('if-exists'), filters, overridesOnly, excludeInternal });
        case 'alter':
          for (const name of await topicsOrMissing(client, pattern!, args.boolean('if-exists'))) {
            await unlessMissing(args.boolean('if-exists'), client.createPartitions(name, partitions!));
          }
          return 0;
        case 'delete': {
          const names = await topicsOrMissing(client, pattern!, args.boolean('if-exists'));
          if (names.length > 0) await unlessMissing(args.boolean('if-exists'), client.deleteTopics(names));
          return 0;
        }
      }
    } finally {
      client.close();
    }
  },
};

/**
 * The topics --topic matches (topic-pattern.ts), or, when none does, UNKNOWN_TOPIC_OR_PARTITION
 * as kafka-topics' "does not exist as expected" (no topic at all with --if-exists).
 */
async function topicsOrMissing(client: KafkaClient, pattern: TopicPattern, ifExists: boolean): Promise<string[]> {
  const names = await topicsMatching(client, pattern);
  if (names.length === 0 && !ifExists) throw missingTopics(pattern);
  return names;
}

function missingTopics(pattern: TopicPattern): SluiceError {
  return new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `UNKNOWN_TOPIC_OR_PARTITION: Topic '${pattern.text}' does not exist as expected`);
}

/** `action`, where a missing topic is no error with --if-exists. */
async function unlessMissing(ifExists: boolean, action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!(ifExists && isMissingTopic(error))) throw error;
  }
}

function isMissingTopic(error: unknown): boolean {
  return error instanceof SluiceError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION';
}

/** kafka-topics' --replica-assignment: '1:2,2:3' is partition 0 on brokers 1 and 2, partition 1 on 2 and 3. */
function parseReplicaAssignment(args: ParsedArgs): number[][] {
  const text = args.string('replica-assignment')!;
  return text.split(',').map((entry) => {
    const ids = entry.split(':').map((id) => id.trim());
    if (!ids.every((id) => /^\d+$/.test(id))) throw args.usageError(`--replica-assignment expects broker ids as 1:2,2:3, got '${text}'`);
    const brokers = ids.map(Number);
    if (new Set(brokers).size !== brokers.length) throw args.usageError(`Partition replica lists may not contain duplicate entries: ${entry}`);
    return brokers;
  });
}

function parseConfigs(args: ParsedArgs): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const [name, value] of args.keyValues('config')) configs[name.trim()] = value.trim();
  return configs;
}

interface DescribeOptions {
  /** --if-exists: a missing topic is no error. */
  ifExists: boolean;
  /** The --under-replicated-partitions, ... reports asked for: only their partitions, no topic lines. */
  filters: readonly ReportFilter[];
  /** --topics-with-overrides: only the topic lines of topics with config overrides, as kafka-topics. */
  overridesOnly: boolean;
  /** --exclude-internal. */
  excludeInternal: boolean;
}

async function describe(client: KafkaClient, pattern: TopicPattern | undefined, { ifExists, filters, overridesOnly, excludeInternal }: DescribeOptions): Promise<number> {
  const metadata: ClusterMetadata = await client.metadata(undefined);
  if (pattern !== undefined) {
    metadata.topics = metadata.topics.filter((t) => pattern.regex.test(t.name));
    if (metadata.topics.length === 0) {
      if (ifExists) return 0;
      throw missingTopics(pattern);
    }
  }
  const liveBrokers = new Set(metadata.brokers.map((broker) => broker.nodeId));
  // A broker that cannot list them (not a cluster's controller any more) leaves the lines without them.
  const moving = new Map((await client.listPartitionReassignments(null).catch(() => [])).map((r) => [`${r.topic}\u0000${r.partition}`, r]));
  const out = new OutputBuffer();
  for (const t of [...metadata.topics].sort((a, b) => a.name.localeCompare(b.name))) {
    if (excludeInternal && t.isInternal) continue;
    const configs = await client.describeTopicConfigs(t.name);
    const compacted = (configs['cleanup.policy']?.value ?? '').split(',').some((policy) => policy.trim() === 'compact');
    const cleaning = compacted ? await cleanerFigures(client, t) : new Map<number, LogDirPartition>();
    if (filters.length === 0) {
      const overrides = Object.entries(configs)
        .filter(([, { source }]) => source === CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG)
        .map(([name, { value }]) => `${name}=${value ?? ''}`)
        .join(',');
      if (overridesOnly && overrides === '') continue;
      // As kafka-topics: while partition 0 moves, its original replica count.
      const first = t.partitions[0];
      const firstMove = first === undefined ? undefined : moving.get(`${t.name}\u0000${first.partition}`);
      const replicationFactor = first === undefined ? 0 : first.replicas.length - (firstMove?.adding.length ?? 0);
      await out.line(`Topic: ${t.name}\tTopicId: ${kafkaUuid(t.topicId)}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${overrides}`);
    }
    if (overridesOnly) continue;
    const minIsr = Number(configs['min.insync.replicas']?.value ?? 1);
    for (const p of t.partitions) {
      if (filters.length > 0 && !filters.some((filter) => matches(filter, p, liveBrokers, minIsr))) continue;
      const figures = cleaning.get(p.partition);
      const move = moving.get(`${t.name}\u0000${p.partition}`);
      const reassignment = move === undefined ? '' : `\tAdding Replicas: ${move.adding.join(',')}\tRemoving Replicas: ${move.removing.join(',')}`;
      await out.line(partitionLine(t.name, p) + reassignment + (figures === undefined ? '' : cleanerFields(figures)));
    }
  }
  await out.flush();
  return 0;
}

/** The leader replica's log-dir figures of each partition with a leader, by partition: one DescribeLogDirs per leader. */
async function cleanerFigures(client: KafkaClient, t: TopicMetadata): Promise<Map<number, LogDirPartition>> {
  const byLeader = new Map<number, number[]>();
  for (const p of t.partitions) {
    if (p.leader < 0) continue;
    const list = byLeader.get(p.leader) ?? [];
    list.push(p.partition);
    byLeader.set(p.leader, list);
  }
  const figures = new Map<number, LogDirPartition>();
  for (const [leader, partitions] of byLeader) {
    // A leader that cannot answer (it died after the Metadata answer) leaves its partitions'
    // lines without the figures; the topology is still worth printing. So does an offline log dir
    // of it (KAFKA_STORAGE_ERROR), for its partitions only.
    const dirs = await client.logDirs(leader, [{ topic: t.name, partitions }]).catch(() => []);
    for (const dir of dirs) for (const replica of dir.partitions) if (!replica.isFuture) figures.set(replica.partition, replica);
  }
  return figures;
}

/** The cleaner's fields appended to a compacted partition's line. */
export function cleanerFields(figures: LogDirPartition): string {
  const ratio = figures.dirtyRatio === null ? 'none' : figures.dirtyRatio.toFixed(2);
  const last = figures.lastCleanedMs === null ? 'never' : new Date(figures.lastCleanedMs).toISOString();
  return `\tDirtyRatio: ${ratio}\tLastCleaned: ${last}${figures.uncleanable ? '\tUncleanable: true' : ''}`;
}

/** kafka-topics' report filters (TopicCommand.PartitionDescription). */
export function matches(filter: ReportFilter, p: PartitionMetadata, liveBrokers: ReadonlySet<number>, minIsr: number): boolean {
  switch (filter) {
    case 'under-replicated-partitions':
      return p.isr.length < p.replicas.length;
    case 'unavailable-partitions':
      return p.leader < 0 || !liveBrokers.has(p.leader);
    case 'under-min-isr-partitions':
      return p.leader < 0 || p.isr.length < minIsr;
    case 'at-min-isr-partitions':
      return p.isr.length === minIsr;
  }
}

/** One partition as kafka-topics --describe prints it, with Offline when some replicas are. */
export function partitionLine(topic: string, p: PartitionMetadata): string {
  const line = `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`;
  return p.offline.length > 0 ? `${line}\tOffline: ${p.offline.join(',')}` : line;
}

/** Kafka's Uuid.toString(): the 16 bytes in URL-safe base64 without padding. */
export function kafkaUuid(uuid: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) return uuid;
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}
