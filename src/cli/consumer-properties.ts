// kafka-console-consumer's `--consumer-property KEY=VALUE` and `--consumer.config FILE`: consumer
// configs by Kafka's names, for `consume` and `perf consume`, e.g. reading from the replica in
// one's own rack (KIP-392):
//   sluice consume --topic t --consumer-property client.rack=us-east-1a
// The names the consumer acts on are taken; those client files usually carry that it does not act
// on (deserializers, request.timeout.ms, ...) are taken with a warning; any other is a usage error, never
// ignored. The group's settings act only with a group (--group or group.id), and perf consume
// reads without one, so there they are usage errors too.
import type { AssignorName } from '../client/assignors.js';
import type { FetcherOptions } from '../client/fetcher.js';
import type { GroupMemberOptions } from '../client/group-member.js';
import { parseBoolean, parseInteger, type FlagSpec, type ParsedArgs } from './args.js';
import type { ClientSocketOptions } from '../client/client.js';
import { configEntries, configFileFlag, SECURITY_CONFIG_NAMES, SecurityConfigs, SOCKET_CONFIG_NAMES, takeSocketConfig, type ClientSecurity } from './client-configs.js';

/** Each fetch config taken, with the Fetcher option it sets. */
const FETCH_CONFIGS = {
  'client.rack': 'clientRack',
  'fetch.max.wait.ms': 'maxWaitMs',
  'fetch.min.bytes': 'minBytes',
  'fetch.max.bytes': 'maxBytes',
  'max.partition.fetch.bytes': 'partitionMaxBytes',
  'isolation.level': 'isolationLevel',
  'check.crcs': 'checkCrcs',
} as const satisfies Record<string, keyof FetcherOptions>;

/** The group's configs taken: they act only in a group. */
const GROUP_CONFIGS = [
  'group.id',
  'group.instance.id',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'max.poll.interval.ms',
  'partition.assignment.strategy',
  'enable.auto.commit',
  'auto.commit.interval.ms',
  'group.protocol',
  'group.remote.assignor',
] as const;

/** partition.assignment.strategy: Kafka's assignor classes (or their protocol names) as ours. */
const ASSIGNORS: Record<string, AssignorName> = {
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.CooperativeStickyAssignor': 'cooperative-sticky',
  range: 'range',
  roundrobin: 'roundrobin',
  'cooperative-sticky': 'cooperative-sticky',
};

const NAMES = [...Object.keys(FETCH_CONFIGS), 'auto.offset.reset', 'metadata.max.age.ms', 'request.timeout.ms', ...GROUP_CONFIGS, 'bootstrap.servers', 'client.id', ...SOCKET_CONFIG_NAMES, ...SECURITY_CONFIG_NAMES];

/**
 * Consumer configs that Kafka's client property files carry and sluice's consumer does not act
 * on: taken with a warning on stderr, never silently.
 */
const NOT_ACTED_ON = new Set([
  'key.deserializer', 'value.deserializer', 'default.api.timeout.ms',
  'max.poll.records',
]);

export interface ConsumerProperties {
  fetch: Pick<FetcherOptions, (typeof FETCH_CONFIGS)[keyof typeof FETCH_CONFIGS]>;
  /** metadata.max.age.ms: how often new topics and partitions are looked for. */
  metadataMaxAgeMs?: number;
  /** request.timeout.ms: how long the client waits for any response (its KafkaClient's requestTimeoutMs). */
  requestTimeoutMs?: number;
  /** client.id: what the broker's client quotas and logs know the client by. */
  clientId?: string;
  /** auto.offset.reset: where a partition without a committed offset starts. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** group.id, when given as a config. */
  groupId?: string;
  group: Pick<GroupMemberOptions, 'groupInstanceId' | 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'rebalanceTimeoutMs' | 'assignors' | 'groupProtocol' | 'serverAssignor'>;
  /** enable.auto.commit (default true). */
  autoCommit: boolean;
  /** auto.commit.interval.ms. */
  autoCommitIntervalMs?: number;
  /** The group's configs given, by name, for the commands that read without a group. */
  groupConfigsGiven: string[];
  /** bootstrap.servers, when given as a config. */
  bootstrapServers?: string;
  /** TLS and the SASL login, as security.protocol, ssl.* and sasl.* say (none for PLAINTEXT). */
  security: ClientSecurity;
  /** socket.connection.setup.timeout.* and the socket buffers (SOCKET_CONFIG_NAMES). */
  sockets: ClientSocketOptions;
}

export const CONSUMER_PROPERTY_FLAG: FlagSpec = {
  name: 'consumer-property',
  type: 'list',
  valueName: 'KEY=VALUE',
  description: `A consumer config (repeatable): ${NAMES.join(', ')}.`,
};

/** kafka-console-consumer's --consumer.config FILE. */
export const CONSUMER_CONFIG_FLAG: FlagSpec = configFileFlag('consumer.config', 'consumer');

/**
 * The group a command joins: --group, or a group.id config; both, naming different groups, is a
 * usage error, as in Kafka's console consumer.
 */
export function groupOf(args: ParsedArgs, properties: ConsumerProperties): string | undefined {
  const flag = args.string('group');
  if (flag !== undefined && properties.groupId !== undefined && flag !== properties.groupId) {
    throw args.usageError(`The group ids given in different places (--group and group.id) do not match: '${flag}', '${properties.groupId}'`);
  }
  return flag ?? properties.groupId;
}

/** The --consumer.config file's settings, then --consumer-property's, in order (later wins). */
export function readConsumerProperties(args: ParsedArgs): ConsumerProperties {
  const properties: ConsumerProperties = { fetch: {}, group: {}, autoCommit: true, groupConfigsGiven: [], security: {}, sockets: {} };
  const security = new SecurityConfigs();
  for (const entry of configEntries(args, CONSUMER_CONFIG_FLAG.name, CONSUMER_PROPERTY_FLAG.name)) {
    const { name, value } = entry;
    if (security.take(entry) || takeSocketConfig(args, entry, properties.sockets)) continue;
    if (NOT_ACTED_ON.has(name)) {
      process.stderr.write(`WARNING: ${entry.source} ${name} is accepted but not supported: sluice's consumer does not act on it\n`);
      continue;
    }
    if (!NAMES.includes(name)) throw args.usageError(`${entry.source} ${name} is not supported; supported: ${NAMES.join(', ')}`);
    const what = `${entry.source} ${name}`;
    const integer = (min: number) => parseInteger(value, what, args.command, min, 0x7fffffff);
    if ((GROUP_CONFIGS as readonly string[]).includes(name)) properties.groupConfigsGiven.push(name);
    switch (name) {
      case 'client.rack': properties.fetch.clientRack = value; break;
      case 'fetch.max.wait.ms': properties.fetch.maxWaitMs = integer(0); break;
      case 'fetch.min.bytes': properties.fetch.minBytes = integer(0); break;
      case 'fetch.max.bytes': properties.fetch.maxBytes = integer(1); break;
      case 'max.partition.fetch.bytes': properties.fetch.partitionMaxBytes = integer(1); break;
      case 'isolation.level':
        if (value !== 'read_uncommitted' && value !== 'read_committed') throw args.usageError(`${what} expects read_uncommitted or read_committed, got '${value}'`);
        properties.fetch.isolationLevel = value;
        break;
      case 'check.crcs': properties.fetch.checkCrcs = parseBoolean(value, what, args.command); break;
      case 'metadata.max.age.ms': properties.metadataMaxAgeMs = integer(1); break;
      case 'request.timeout.ms': properties.requestTimeoutMs = integer(1); break;
      case 'auto.offset.reset':
        if (value !== 'earliest' && value !== 'latest') throw args.usageError(`${what} expects earliest or latest, got '${value}'`);
        properties.autoOffsetReset = value;
        break;
      case 'group.id':
        if (value === '') throw args.usageError(`${what} must not be empty`);
        properties.groupId = value;
        break;
      case 'group.instance.id': properties.group.groupInstanceId = value === '' ? null : value; break;
      case 'session.timeout.ms': properties.group.sessionTimeoutMs = integer(1); break;
      case 'heartbeat.interval.ms': properties.group.heartbeatIntervalMs = integer(1); break;
      case 'max.poll.interval.ms': properties.group.rebalanceTimeoutMs = integer(1); break;
      case 'partition.assignment.strategy': {
        const names = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
        const unknown = names.find((item) => !(item in ASSIGNORS));
        if (names.length === 0 || unknown !== undefined) {
          throw args.usageError(`${what}: '${unknown ?? value}' is not an assignor sluice has; it has ${Object.keys(ASSIGNORS).join(', ')}`);
        }
        properties.group.assignors = names.map((item) => ASSIGNORS[item]!);
        break;
      }
      case 'group.protocol':
        // Kafka 4's names: classic (JoinGroup/SyncGroup) or consumer (KIP-848, the broker assigns).
        if (!/^(classic|consumer)$/i.test(value)) throw args.usageError(`${what} expects classic or consumer, got '${value}'`);
        properties.group.groupProtocol = value.toLowerCase() as 'classic' | 'consumer';
        break;
      case 'group.remote.assignor': properties.group.serverAssignor = value === '' ? null : value; break;
      case 'enable.auto.commit': properties.autoCommit = parseBoolean(value, what, args.command); break;
      case 'auto.commit.interval.ms': properties.autoCommitIntervalMs = integer(1); break;
      case 'bootstrap.servers': properties.bootstrapServers = value; break;
      case 'client.id': properties.clientId = value; break;
    }
  }
  properties.security = security.login(args);
  return properties;
}
