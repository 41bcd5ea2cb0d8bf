// `sluice groups`: kafka-consumer-groups' actions and output.
//   --list                          group ids, one a line
//   --list --state [STATES]         GROUP STATE, only groups in STATES (Stable,Empty,...) when given
//   --list --type [TYPES]           GROUP TYPE (Classic, Consumer), only groups of TYPES when given; with --state, GROUP TYPE STATE
//   --describe --group G            GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
//     --members [--verbose]         GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS [ASSIGNMENT]
//     --state                       GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS
//     --all-groups                  instead of --group: every group, one after another
// Each group's requests go to its coordinator, and --list asks every broker, as Kafka's tool does.
//   --reset-offsets --group G ...   --to-earliest|--to-latest|--to-datetime|--by-duration|--to-offset|--shift-by, for an inactive group;
//                                   a dry run unless --execute, as Kafka's tool
//   --delete --group G              an inactive group and its committed offsets
//   --delete-offsets --group G --topic T[:P[,P...]] ...
//                                   the group's committed offsets of those partitions (all of T's
//                                   without :P); refused for topics an active group consumes
import type { KafkaClient } from '../client/client.js';
import { decodeAssignment } from '../client/assignors.js';
import { KafkaErrorCode, isSluiceError, kafkaErrorName, throwIfError } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { ConsumerGroupDescribeResponseBody, DescribeGroupsResponseBody } from '../protocol/index.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ACTIONS = ['list', 'describe', 'reset-offsets', 'delete', 'delete-offsets'] as const;
/** What --describe prints, as kafka-consumer-groups' --offsets (the default), --members and --state. */
const DESCRIBE_VIEWS = ['offsets', 'members', 'state'] as const;
const LATEST = -1;
const EARLIEST = -2;

const spec: CommandSpec = {
  name: 'groups',
  summary: 'List, describe, reset and delete consumer groups, as kafka-consumer-groups does.',
  usage:
    '--list [--state [STATES]] | --describe (--group G | --all-groups) [--offsets | --members [--verbose] | --state] | --reset-offsets --group G (--to-earliest|--to-latest|--to-current|--to-datetime T|--by-duration D|--to-offset N|--shift-by N) [--topic T ...] [--execute] | --delete --group G | --delete-offsets --group G --topic T[:P[,P...]] ...',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'list', type: 'boolean', description: 'List the groups.' },
    { name: 'describe', type: 'boolean', description: "Describe --group: each partition's committed offset, log end, lag and owner." },
    { name: 'reset-offsets', type: 'boolean', description: "Reset --group's committed offsets (the group must have no active members)." },
    { name: 'delete', type: 'boolean', description: 'Delete --group and its committed offsets (the group must have no active members).' },
    { name: 'delete-offsets', type: 'boolean', description: "Delete --group's committed offsets of the --topic partitions (not of topics an active group consumes)." },
    { name: 'group', type: 'string', valueName: 'G', description: 'The group.' },
    { name: 'all-groups', type: 'boolean', description: 'With --describe: every group, one after another.' },
    { name: 'offsets', type: 'boolean', description: "With --describe: each partition's committed offset, log end, lag and owner (the default)." },
    { name: 'members', type: 'boolean', description: "With --describe: the group's members, each with its number of partitions." },
    { name: 'verbose', type: 'boolean', description: "With --describe --members: each member's partitions too." },
    {
      name: 'state',
      type: 'boolean',
      optionalValue: true,
      valueName: 'STATES',
      description: "With --describe: the group's coordinator, assignment strategy, state and number of members. With --list: each group's state, only those in STATES when given (e.g. Stable,Empty).",
    },
    {
      name: 'type',
      type: 'boolean',
      optionalValue: true,
      valueName: 'TYPES',
      description: "With --list: each group's type (Classic, or Consumer for KIP-848's protocol), only those of TYPES when given (e.g. consumer).",
    },
    {
      name: 'topic',
      type: 'list',
      valueName: 'T[:P[,P...]]',
      description: 'May repeat. With --reset-offsets: only these topics (default every topic the group has offsets for). With --delete-offsets: these partitions (every partition of T without :P).',
    },
    { name: 'to-earliest', type: 'boolean', description: 'With --reset-offsets: to each partition\'s earliest offset.' },
    { name: 'to-latest', type: 'boolean', description: 'With --reset-offsets: to each partition\'s log end.' },
    { name: 'to-current', type: 'boolean', description: "With --reset-offsets: to each partition's committed offset (its log end where none), kept within the log." },
    { name: 'all-topics', type: 'boolean', description: 'With --reset-offsets: every topic the group has offsets for (the default without --topic).' },
    { name: 'to-datetime', type: 'string', valueName: 'YYYY-MM-DDTHH:mm:SS.sss', description: 'With --reset-offsets: to the first record at or after this time (UTC unless an offset is given).' },
    { name: 'by-duration', type: 'string', valueName: 'PnDTnHnMnS', description: 'With --reset-offsets: to the first record at or after this long ago (ISO-8601 duration, e.g. PT1H).' },
    { name: 'to-offset', type: 'integer', valueName: 'N', description: "With --reset-offsets: to offset N, within each partition's earliest and latest." },
    { name: 'shift-by', type: 'integer', valueName: 'N', description: "With --reset-offsets: the committed offset moved by N (negative: back), within each partition's earliest and latest." },
    { name: 'execute', type: 'boolean', description: 'With --reset-offsets: apply the reset (without it, print the plan only).' },
    { name: 'dry-run', type: 'boolean', description: 'With --reset-offsets: print the plan only (the default).' },
  ],
};

interface PartitionRow {
  topic: string;
  partition: number;
  current: number;
  logEnd: number;
  consumerId: string;
  host: string;
  clientId: string;
}

export const groupsCommand: Command = {
  spec,
  async run(args) {
    const actions = ACTIONS.filter((action) => args.boolean(action));
    if (actions.length !== 1) throw args.usageError('Give one of --list, --describe, --reset-offsets, --delete or --delete-offsets');
    const action = actions[0]!;
    const group = args.string('group');
    const allGroups = args.boolean('all-groups');
    if (allGroups && action !== 'describe') throw args.usageError('--all-groups goes with --describe');
    if (allGroups && group !== undefined) throw args.usageError('Give --group or --all-groups, not both');
    if (action !== 'list' && group === undefined && !allGroups) throw args.usageError(`--${action} needs --group`);
    const views = DESCRIBE_VIEWS.filter((view) => args.boolean(view));
    const listStates = action === 'list' && args.boolean('state') ? parseGroupStates(args) : undefined;
    const listTypes = action === 'list' && args.boolean('type') ? parseGroupTypes(args) : undefined;
    if (args.boolean('type') && action !== 'list') throw args.usageError('--type goes with --list');
    if (views.length > 0 && action !== 'describe' && listStates === undefined) throw args.usageError(`--${views[0]} goes with --describe`);
    if (args.optionalValue('state') !== undefined && action !== 'list') throw args.usageError('--state takes states with --list only');
    if (views.length > 1) throw args.usageError('Give one of --offsets, --members or --state');
    if (args.boolean('verbose') && views[0] !== 'members') throw args.usageError('--verbose goes with --describe --members');
    const view = views[0] ?? 'offsets';
    const resetTarget = action === 'reset-offsets' ? parseResetTarget(args) : undefined;
    const topics = args.list('topic');
    if (action === 'reset-offsets' && topics.some((topic) => topic.includes(':'))) throw args.usageError('--reset-offsets takes topic names without partitions');
    if (args.boolean('all-topics') && action !== 'reset-offsets') throw args.usageError('--all-topics goes with --reset-offsets');
    if (args.boolean('all-topics') && topics.length > 0) throw args.usageError('Give --topic or --all-topics, not both');
    const deleteTargets = action === 'delete-offsets' ? parseTopicPartitions(args, topics) : undefined;
    const client = await connectClient(args, adminSettings(args));
    try {
      switch (action) {
        case 'list':
          return listStates === undefined && listTypes === undefined ? await list(client) : await listWithColumns(client, listStates, listTypes);
        case 'describe': {
          const groups = allGroups ? await listGroups(client) : [group!];
          for (const id of groups) {
            if (view === 'offsets') await describe(client, id);
            else if (view === 'members') await describeMembers(client, id, args.boolean('verbose'));
            else await describeState(client, id);
          }
          return 0;
        }
        case 'reset-offsets':
          return await resetOffsets(client, group!, topics, resetTarget!, args.boolean('execute'));
        case 'delete':
          return await remove(client, group!);
        case 'delete-offsets':
          return await deleteOffsets(client, group!, deleteTargets!);
      }
    } finally {
      client.close();
    }
  },
};

/** Where --reset-offsets moves each partition (Kafka's ResetOffsets scenarios). */
type ResetTarget = { kind: 'time'; timestamp: number } | { kind: 'offset'; offset: number } | { kind: 'shift'; by: number } | { kind: 'current' };

const RESET_FLAGS = ['to-earliest', 'to-latest', 'to-current', 'to-datetime', 'by-duration', 'to-offset', 'shift-by'] as const;

function parseResetTarget(args: ParsedArgs): ResetTarget {
  const chosen = RESET_FLAGS.filter((flag) => args.has(flag));
  if (chosen.length !== 1) throw args.usageError(`--reset-offsets needs one of ${RESET_FLAGS.map((f) => `--${f}`).join(', ')}`);
  if (args.boolean('execute') && args.boolean('dry-run')) throw args.usageError('--execute and --dry-run cannot be given together');
  if (args.boolean('to-earliest')) return { kind: 'time', timestamp: EARLIEST };
  if (args.boolean('to-latest')) return { kind: 'time', timestamp: LATEST };
  if (args.boolean('to-current')) return { kind: 'current' };
  if (args.has('to-offset')) return { kind: 'offset', offset: args.integer('to-offset', { min: 0 })! };
  if (args.has('shift-by')) return { kind: 'shift', by: args.integer('shift-by')! };
  if (args.has('by-duration')) {
    const text = args.string('by-duration')!;
    const ms = parseDurationMs(text);
    if (ms === null) throw args.usageError(`--by-duration expects an ISO-8601 duration such as PT1H or P1DT12H, got '${text}'`);
    return { kind: 'time', timestamp: Date.now() - ms };
  }
  const text = args.string('to-datetime')!;
  // Kafka's tool takes YYYY-MM-DDTHH:mm:SS.sss, UTC unless a zone is given.
  const timestamp = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  if (!Number.isFinite(timestamp)) throw args.usageError(`--to-datetime expects YYYY-MM-DDTHH:mm:SS.sss, got '${text}'`);
  return { kind: 'time', timestamp };
}

/** Milliseconds of an ISO-8601 duration as java.time.Duration.parse takes it (PnDTnHnMn.nS), or null. */
export function parseDurationMs(text: string): number | null {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
  if (match === null || text.toUpperCase() === 'P' || /T$/i.test(text)) return null;
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60_000 + Math.round(Number(seconds ?? 0) * 1000);
}

/**
 * Every broker's groups with their states, sorted by id: each coordinator lists only the groups it
 * coordinates, so Kafka's tool asks them all. `states` filters (ListGroups v4+); [] is every group.
 */
interface ListedGroup {
  groupId: string;
  groupState: string;
  /** ListGroups v5's: 'classic' or 'consumer'. */
  groupType: string;
}

/** Every broker's groups (each coordinates its own), sorted by id. */
async function listGroupStates(client: KafkaClient, states: string[] = [], types: string[] = []): Promise<ListedGroup[]> {
  const byGroup = new Map<string, ListedGroup>();
  for (const broker of (await client.metadata([])).brokers) {
    const connection = await client.connectionTo(broker.nodeId);
    const response = await connection.request(ApiKey.ListGroups, { statesFilter: states, typesFilter: types });
    throwIfError(response.errorCode, `List groups of broker ${broker.nodeId}`);
    for (const listed of response.groups as ListedGroup[]) byGroup.set(listed.groupId, listed);
  }
  return [...byGroup.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

async function listGroups(client: KafkaClient): Promise<string[]> {
  return (await listGroupStates(client)).map(({ groupId }) => groupId);
}

/** Kafka's group states, as ListGroups (v4+) names them and kafka-consumer-groups --list --state takes them; the last two are consumer groups' (KIP-848). */
const GROUP_STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling'] as const;
/** Kafka's group types as kafka-consumer-groups prints them (GroupType's names). */
const GROUP_TYPES = ['Classic', 'Consumer'] as const;

/** --list --type [TYPES]: the types asked for ([] for every group), in any case. */
function parseGroupTypes(args: ParsedArgs): string[] {
  const text = args.optionalValue('type');
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((item) => {
    const type = GROUP_TYPES.find((name) => name.toLowerCase() === item.trim().toLowerCase());
    if (type === undefined) throw args.usageError(`Invalid types list '${text}'. Valid types are: ${GROUP_TYPES.join(', ')}`);
    return type.toLowerCase();
  });
}

/** --list --state [STATES]: the states asked for ([] for every group), case as Kafka's tool takes them (any). */
function parseGroupStates(args: ParsedArgs): string[] {
  const text = args.optionalValue('state');
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((item) => {
    const state = GROUP_STATES.find((name) => name.toLowerCase() === item.trim().toLowerCase());
    if (state === undefined) throw args.usageError(`Invalid state list '${text}'. Valid states are: ${GROUP_STATES.join(', ')}`);
    return state;
  });
}

/** kafka-consumer-groups --list with --state and/or --type: GROUP, then TYPE and STATE as asked. */
async function listWithColumns(client: KafkaClient, states: string[] | undefined, types: string[] | undefined): Promise<number> {
  const rows = await listGroupStates(client, states ?? [], types ?? []);
  // Kafka's columns: GROUP as wide as the longest group id, at least 15; TYPE 15.
  const width = Math.max(15, ...rows.map(({ groupId }) => groupId.length));
  const typeName = (type: string) => GROUP_TYPES.find((name) => name.toLowerCase() === type) ?? 'Unknown';
  const cells = (id: string, type: string, state: string) => [id.padEnd(width), ...(types !== undefined ? [states !== undefined ? type.padEnd(15) : type] : []), ...(states !== undefined ? [state] : [])].join(' ');
  const out = new OutputBuffer();
  await out.line(cells('GROUP', 'TYPE', 'STATE'));
  for (const { groupId, groupType, groupState } of rows) await out.line(cells(groupId, typeName(groupType), groupState));
  await out.flush();
  return 0;
}

async function list(client: KafkaClient): Promise<number> {
  const out = new OutputBuffer();
  for (const id of await listGroups(client)) await out.line(id);
  await out.flush();
  return 0;
}

interface DescribedGroup {
  state: string;
  /** The assignor: the one a classic group's leader chose (DescribeGroups' protocolData), a consumer group's server assignor; '' while there is none. */
  protocol: string;
  members: Array<{ memberId: string; clientId: string; clientHost: string; partitions: Array<{ topic: string; partition: number }> }>;
}

/**
 * ConsumerGroupDescribe first, as Kafka's admin client does: a classic group (or a broker without
 * the API) answers GROUP_ID_NOT_FOUND (UNSUPPORTED_VERSION), and DescribeGroups describes it.
 */
async function describeGroup(client: KafkaClient, group: string): Promise<DescribedGroup> {
  const connection = await client.coordinatorConnection(group);
  if (connection.versionOf(ApiKey.ConsumerGroupDescribe) !== undefined) {
    const consumer = (await connection.request<ConsumerGroupDescribeResponseBody>(ApiKey.ConsumerGroupDescribe, { groupIds: [group], includeAuthorizedOperations: false })).groups[0]!;
    if (consumer.errorCode !== KafkaErrorCode.GROUP_ID_NOT_FOUND) {
      throwIfError(consumer.errorCode, `Describe group ${group}`);
      return {
        state: consumer.groupState,
        protocol: consumer.assignorName,
        members: consumer.members.map(({ memberId, clientId, clientHost, assignment }) => ({
          memberId,
          clientId,
          clientHost,
          partitions: assignment.topicPartitions.flatMap(({ topicName, partitions }) => partitions.map((partition) => ({ topic: topicName, partition }))),
        })),
      };
    }
  }
  const response = await connection.request<DescribeGroupsResponseBody>(ApiKey.DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
  const described = response.groups[0]!;
  throwIfError(described.errorCode, `Describe group ${group}`);
  return {
    state: described.groupState,
    protocol: described.protocolData,
    members: described.members.map(({ memberId, clientId, clientHost, memberAssignment }) => ({
      memberId,
      clientId,
      clientHost,
      partitions: memberAssignment.length === 0 ? [] : decodeAssignment(memberAssignment).partitions,
    })),
  };
}

/** kafka-consumer-groups --describe --members [--verbose]: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS [ASSIGNMENT]. */
async function describeMembers(client: KafkaClient, group: string, verbose: boolean): Promise<void> {
  const { state, members } = await describeGroup(client, group);
  if (state === 'Dead') throw new CliError(`Consumer group '${group}' does not exist.`);
  const out = new OutputBuffer();
  await out.line('');
  if (members.length === 0) {
    await out.line(`Consumer group '${group}' has no active members.`);
    await out.flush();
    return;
  }
  const table = [['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', ...(verbose ? ['ASSIGNMENT'] : [])]];
  for (const member of members) {
    const partitions = member.partitions;
    const row = [group, member.memberId, member.clientHost, member.clientId, String(partitions.length)];
    if (verbose) row.push(partitions.length === 0 ? '-' : formatAssignment(partitions));
    table.push(row);
  }
  for (const line of alignColumns(table)) await out.line(line);
  await out.flush();
}

/** Kafka's ASSIGNMENT cell: topic(0,1),other(2), topics sorted and partitions in order. */
function formatAssignment(partitions: ReadonlyArray<{ topic: string; partition: number }>): string {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, list]) => `${topic}(${list.sort((a, b) => a - b).join(',')})`).join(',');
}

/** kafka-consumer-groups --describe --state: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS. */
async function describeState(client: KafkaClient, group: string): Promise<void> {
  const coordinator = await client.findCoordinator(group);
  const { state, protocol, members } = await describeGroup(client, group);
  if (state === 'Dead') throw new CliError(`Consumer group '${group}' does not exist.`);
  const out = new OutputBuffer();
  await out.line('');
  const table = [
    ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
    [group, `${coordinator.host}:${coordinator.port} (${coordinator.nodeId})`, protocol === '' ? '-' : protocol, state, String(members.length)],
  ];
  for (const line of alignColumns(table)) await out.line(line);
  await out.flush();
}

/** Committed offsets of the group: topic → partition → offset. */
async function committedOffsets(client: KafkaClient, group: string): Promise<Map<string, Map<number, number>>> {
  const connection = await client.coordinatorConnection(group);
  const response = await connection.request(ApiKey.OffsetFetch, { groupId: group, topics: null, groups: [{ groupId: group, topics: null, memberId: null, memberEpoch: -1 }], requireStable: false });
  const topics = response.groups?.[0]?.topics ?? response.topics;
  throwIfError(response.groups?.[0]?.errorCode ?? response.errorCode ?? 0, `Fetch offsets of group ${group}`);
  const result = new Map<string, Map<number, number>>();
  for (const topic of topics) {
    const partitions = new Map<number, number>();
    for (const p of topic.partitions) if (p.committedOffset >= 0) partitions.set(p.partitionIndex, p.committedOffset);
    if (partitions.size > 0) result.set(topic.name, partitions);
  }
  return result;
}

async function describe(client: KafkaClient, group: string): Promise<void> {
  const { state, members } = await describeGroup(client, group);
  const committed = await committedOffsets(client, group);
  if (state === 'Dead' || (members.length === 0 && committed.size === 0)) throw new CliError(`Consumer group '${group}' does not exist.`);
  const owners = new Map<string, { consumerId: string; host: string; clientId: string }>();
  for (const member of members) {
    for (const { topic, partition } of member.partitions) {
      owners.set(`${topic}:${partition}`, { consumerId: member.memberId, host: member.clientHost, clientId: member.clientId });
    }
  }
  const topics = new Set([...committed.keys(), ...[...owners.keys()].map((key) => key.slice(0, key.lastIndexOf(':')))]);
  const rows: PartitionRow[] = [];
  for (const topic of [...topics].sort()) {
    const count = await client.partitionCount(topic).catch(() => 0);
    for (let partition = 0; partition < count; partition++) {
      const current = committed.get(topic)?.get(partition);
      const owner = owners.get(`${topic}:${partition}`);
      if (current === undefined && !owner) continue;
      const logEnd = await client.listOffset(topic, partition, LATEST);
      rows.push({ topic, partition, current: current ?? -1, logEnd, consumerId: owner?.consumerId ?? '-', host: owner?.host ?? '-', clientId: owner?.clientId ?? '-' });
    }
  }
  const out = new OutputBuffer();
  await out.line('');
  if (members.length === 0) {
    await out.line(`Consumer group '${group}' has no active members.`);
    await out.line('');
  }
  const table = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']];
  for (const row of rows) {
    const current = row.current >= 0 ? String(row.current) : '-';
    const lag = row.current >= 0 ? String(Math.max(0, row.logEnd - row.current)) : '-';
    table.push([group, row.topic, String(row.partition), current, String(row.logEnd), lag, row.consumerId, row.host, row.clientId]);
  }
  for (const line of alignColumns(table)) await out.line(line);
  await out.flush();
}

/** One partition's new offset. Kafka's tool keeps --to-offset and --shift-by within the log, and refuses to shift an offset never committed. */
async function resetOffset(client: KafkaClient, group: string, committed: Map<string, Map<number, number>>, topic: string, partition: number, target: ResetTarget): Promise<number> {
  if (target.kind === 'time') {
    const offset = await client.listOffset(topic, partition, target.timestamp);
    // No record at or after the time: the log end, as Kafka's tool does.
    return offset >= 0 ? offset : await client.listOffset(topic, partition, LATEST);
  }
  let wanted: number;
  if (target.kind === 'offset') wanted = target.offset;
  // As Kafka's tool: the committed offset, or the log end where there is none.
  else if (target.kind === 'current') wanted = committed.get(topic)?.get(partition) ?? (await client.listOffset(topic, partition, LATEST));
  else {
    const current = committed.get(topic)?.get(partition);
    if (current === undefined) throw new CliError(`Cannot shift offset for partition ${topic}-${partition} since there is no current committed offset (group '${group}')`);
    wanted = current + target.by;
  }
  const earliest = await client.listOffset(topic, partition, EARLIEST);
  const latest = await client.listOffset(topic, partition, LATEST);
  return Math.min(Math.max(wanted, earliest), latest);
}

async function resetOffsets(client: KafkaClient, group: string, onlyTopics: string[], target: ResetTarget, execute: boolean): Promise<number> {
  const { state, members } = await describeGroup(client, group);
  if (members.length > 0) {
    throw new CliError(`Assignments can only be reset if the group '${group}' is inactive, but the current state is ${state}.`);
  }
  const committed = await committedOffsets(client, group);
  const topics = onlyTopics.length > 0 ? [...new Set(onlyTopics)] : [...committed.keys()].sort();
  if (topics.length === 0) throw new CliError(`Consumer group '${group}' has no committed offsets; name the topic with --topic.`);
  const plan: Array<{ topic: string; partition: number; offset: number }> = [];
  for (const topic of topics) {
    const count = await client.partitionCount(topic);
    for (let partition = 0; partition < count; partition++) plan.push({ topic, partition, offset: await resetOffset(client, group, committed, topic, partition, target) });
  }
  if (execute) {
    const connection = await client.coordinatorConnection(group);
    const byTopic = new Map<string, typeof plan>();
    for (const entry of plan) byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry]);
    const response = await connection.request(ApiKey.OffsetCommit, {
      groupId: group,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, entries]) => ({
        name,
        partitions: entries.map((e) => ({ partitionIndex: e.partition, committedOffset: e.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' })),
      })),
    });
    for (const topic of response.topics) for (const p of topic.partitions) throwIfError(p.errorCode, `Reset ${topic.name}-${p.partitionIndex}`);
  }
  const out = new OutputBuffer();
  await out.line('');
  const table = [['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], ...plan.map((p) => [group, p.topic, String(p.partition), String(p.offset)])];
  for (const line of alignColumns(table)) await out.line(line);
  await out.flush();
  return 0;
}

async function remove(client: KafkaClient, group: string): Promise<number> {
  const connection = await client.coordinatorConnection(group);
  const response = await connection.request(ApiKey.DeleteGroups, { groupsNames: [group] });
  throwIfError(response.results[0].errorCode, `Delete group ${group}`);
  process.stdout.write(`Deletion of requested consumer groups ('${group}') was successful.\n`);
  return 0;
}

/** A --topic of --delete-offsets: T (every partition) or T:P[,P...]. */
interface TopicTarget {
  topic: string;
  partitions: number[] | null;
}

function parseTopicPartitions(args: ParsedArgs, topics: string[]): TopicTarget[] {
  if (topics.length === 0) throw args.usageError('--delete-offsets needs --topic');
  return topics.map((text) => {
    const colon = text.indexOf(':');
    if (colon < 0) return { topic: text, partitions: null };
    const topic = text.slice(0, colon);
    const list = text.slice(colon + 1).split(',');
    if (topic === '' || list.some((p) => !/^\d+$/.test(p.trim()) || !Number.isSafeInteger(Number(p)) || Number(p) > 2 ** 31 - 1)) {
      throw args.usageError(`--topic expects T or T:P[,P...] with partition numbers, got '${text}'`);
    }
    return { topic, partitions: list.map((p) => Number(p)) };
  });
}

/**
 * Kafka's messages for the errors --delete-offsets may print (org.apache.kafka.common.protocol.Errors),
 * so that its table reads as kafka-consumer-groups' does.
 */
const ERROR_MESSAGES: Partial<Record<number, string>> = {
  [KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'This server does not host this topic-partition.',
  [KafkaErrorCode.COORDINATOR_NOT_AVAILABLE]: 'The coordinator is not available.',
  [KafkaErrorCode.NOT_COORDINATOR]: 'This is not the correct coordinator.',
  [KafkaErrorCode.INVALID_GROUP_ID]: 'The configured groupId is invalid.',
  [KafkaErrorCode.GROUP_ID_NOT_FOUND]: 'The group id does not exist.',
  [KafkaErrorCode.NON_EMPTY_GROUP]: 'The group is not empty.',
  [KafkaErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]: 'Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.',
};

function errorMessage(errorCode: number): string {
  return ERROR_MESSAGES[errorCode] ?? kafkaErrorName(errorCode);
}

/** The group errors kafka-consumer-groups reports by their message alone. */
const GROUP_ERRORS = new Set<number>([KafkaErrorCode.INVALID_GROUP_ID, KafkaErrorCode.GROUP_ID_NOT_FOUND, KafkaErrorCode.NON_EMPTY_GROUP]);

/**
 * kafka-consumer-groups --delete-offsets: one OffsetDelete request, then its summary line and a
 * TOPIC PARTITION STATUS table on stdout. As in Kafka's tool, a group error marks every partition
 * with that error, and a topic named without partitions that does not exist is one row with
 * partition '-'. Errors are also summed up on stderr, and the exit code is 1 when there was any.
 */
async function deleteOffsets(client: KafkaClient, group: string, targets: TopicTarget[]): Promise<number> {
  const rows: Array<{ topic: string; partition: number; errorCode: number }> = [];
  const requested = new Map<string, Set<number>>();
  for (const { topic, partitions } of targets) {
    let list = partitions;
    if (list === null) {
      const count = await client.partitionCount(topic).catch((error: unknown) => {
        if (isSluiceError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return 0;
        throw error;
      });
      if (count === 0) {
        rows.push({ topic, partition: -1, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        continue;
      }
      list = Array.from({ length: count }, (_, partition) => partition);
    }
    let set = requested.get(topic);
    if (!set) requested.set(topic, (set = new Set()));
    for (const partition of list) set.add(partition);
  }
  let groupError: number = KafkaErrorCode.NONE;
  if (requested.size > 0) {
    const connection = await client.coordinatorConnection(group);
    if (connection.versionOf(ApiKey.OffsetDelete) === undefined) throw new CliError('The broker does not support OffsetDelete (API 47).');
    const response = await connection.request(ApiKey.OffsetDelete, {
      groupId: group,
      topics: [...requested].map(([name, partitions]) => ({ name, partitions: [...partitions].map((partitionIndex) => ({ partitionIndex })) })),
    });
    groupError = response.errorCode;
    const answered = new Map<string, number>();
    for (const topic of response.topics) for (const p of topic.partitions) answered.set(`${topic.name}:${p.partitionIndex}`, p.errorCode);
    for (const [topic, partitions] of requested) {
      for (const partition of partitions) rows.push({ topic, partition, errorCode: groupError !== KafkaErrorCode.NONE ? groupError : (answered.get(`${topic}:${partition}`) ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR) });
    }
  }

  const failed = rows.filter((row) => row.errorCode !== KafkaErrorCode.NONE);
  let summary: string | null = null;
  if (groupError !== KafkaErrorCode.NONE) summary = GROUP_ERRORS.has(groupError) ? errorMessage(groupError) : `Encountered some unknown error: ${kafkaErrorName(groupError)}`;
  else if (failed.length > 0) summary = 'Encountered some partition-level error, see the follow-up details.';
  const out = new OutputBuffer();
  if (summary === null) await out.line(`Request succeeded for deleting offsets from group ${group}.`);
  else await out.line(`\nError: ${summary}`);
  // Kafka's layout: "%n%-Ns %-10s %-15s" per line, N the longest topic name and at least 15.
  const width = Math.max(15, ...rows.map((row) => row.topic.length));
  const line = (topic: string, partition: string, status: string) => `${topic.padEnd(width)} ${partition.padEnd(10)} ${status.padEnd(15)}`;
  await out.line('');
  await out.line(line('TOPIC', 'PARTITION', 'STATUS'));
  // Kafka sorts on topic + partition as one string (so "t10" before "t2"), by UTF-16 code units.
  const sortKey = (row: { topic: string; partition: number }) => row.topic + row.partition;
  rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  for (const row of rows) {
    await out.line(line(row.topic, row.partition >= 0 ? String(row.partition) : '-', row.errorCode === KafkaErrorCode.NONE ? 'Successful' : `Error: ${errorMessage(row.errorCode)}`));
  }
  await out.flush();
  if (summary === null) return 0;
  process.stderr.write(`Error: deleting offsets of group ${group}: ${failed.length} of ${rows.length} partition(s) failed (${[...new Set(failed.map((row) => kafkaErrorName(row.errorCode)))].join(', ')})\n`);
  return 1;
}

/** Pads each column to its widest cell plus a space, as Kafka's tool prints its tables. */
function alignColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 1))).join(''));
}
