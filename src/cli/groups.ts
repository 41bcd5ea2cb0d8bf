// `sluice groups`: kafka-consumer-groups' actions and output.
//   --list                          group ids, one a line
//   --describe --group G            GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
//   --reset-offsets --group G ...   --to-earliest|--to-latest|--to-datetime, for an inactive group;
//                                   a dry run unless --execute, as Kafka's tool
//   --delete --group G              an inactive group and its committed offsets
import type { KafkaClient } from '../client/client.js';
import { decodeAssignment } from '../client/assignors.js';
import { throwIfError } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, OutputBuffer, type Command } from './command.js';

const ACTIONS = ['list', 'describe', 'reset-offsets', 'delete'] as const;
const LATEST = -1;
const EARLIEST = -2;

const spec: CommandSpec = {
  name: 'groups',
  summary: 'List, describe, reset and delete consumer groups, as kafka-consumer-groups does.',
  usage: '--list | --describe --group G | --reset-offsets --group G (--to-earliest|--to-latest|--to-datetime T) [--topic T] [--execute] | --delete --group G',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'list', type: 'boolean', description: 'List the groups.' },
    { name: 'describe', type: 'boolean', description: "Describe --group: each partition's committed offset, log end, lag and owner." },
    { name: 'reset-offsets', type: 'boolean', description: "Reset --group's committed offsets (the group must have no active members)." },
    { name: 'delete', type: 'boolean', description: 'Delete --group and its committed offsets (the group must have no active members).' },
    { name: 'group', type: 'string', valueName: 'G', description: 'The group.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'With --reset-offsets: only this topic (default every topic the group has offsets for).' },
    { name: 'to-earliest', type: 'boolean', description: 'With --reset-offsets: to each partition\'s earliest offset.' },
    { name: 'to-latest', type: 'boolean', description: 'With --reset-offsets: to each partition\'s log end.' },
    { name: 'to-datetime', type: 'string', valueName: 'YYYY-MM-DDTHH:mm:SS.sss', description: 'With --reset-offsets: to the first record at or after this time (UTC unless an offset is given).' },
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
    if (actions.length !== 1) throw args.usageError('Give one of --list, --describe, --reset-offsets or --delete');
    const action = actions[0]!;
    const group = args.string('group');
    if (action !== 'list' && group === undefined) throw args.usageError(`--${action} needs --group`);
    const resetTarget = action === 'reset-offsets' ? parseResetTarget(args) : undefined;
    const client = await connectClient(args);
    try {
      switch (action) {
        case 'list':
          return await list(client);
        case 'describe':
          return await describe(client, group!);
        case 'reset-offsets':
          return await resetOffsets(client, group!, args.string('topic'), resetTarget!, args.boolean('execute'));
        case 'delete':
          return await remove(client, group!);
      }
    } finally {
      client.close();
    }
  },
};

function parseResetTarget(args: ParsedArgs): number {
  const chosen = ['to-earliest', 'to-latest', 'to-datetime'].filter((flag) => args.has(flag));
  if (chosen.length !== 1) throw args.usageError('--reset-offsets needs one of --to-earliest, --to-latest, --to-datetime');
  if (args.boolean('execute') && args.boolean('dry-run')) throw args.usageError('--execute and --dry-run cannot be given together');
  if (args.boolean('to-earliest')) return EARLIEST;
  if (args.boolean('to-latest')) return LATEST;
  const text = args.string('to-datetime')!;
  // Kafka's tool takes YYYY-MM-DDTHH:mm:SS.sss, UTC unless a zone is given.
  const timestamp = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  if (!Number.isFinite(timestamp)) throw args.usageError(`--to-datetime expects YYYY-MM-DDTHH:mm:SS.sss, got '${text}'`);
  return timestamp;
}

async function list(client: KafkaClient): Promise<number> {
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] });
  throwIfError(response.errorCode, 'List groups');
  const out = new OutputBuffer();
  for (const id of response.groups.map((g: { groupId: string }) => g.groupId).sort()) await out.line(id);
  await out.flush();
  return 0;
}

async function describeGroup(client: KafkaClient, group: string): Promise<{ state: string; members: Array<{ memberId: string; clientId: string; clientHost: string; memberAssignment: Buffer }> }> {
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
  const described = response.groups[0];
  throwIfError(described.errorCode, `Describe group ${group}`);
  return { state: described.groupState, members: described.members };
}

/** Committed offsets of the group: topic → partition → offset. */
async function committedOffsets(client: KafkaClient, group: string): Promise<Map<string, Map<number, number>>> {
  const connection = await client.anyConnection();
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

async function describe(client: KafkaClient, group: string): Promise<number> {
  const { state, members } = await describeGroup(client, group);
  const committed = await committedOffsets(client, group);
  if (state === 'Dead' || (members.length === 0 && committed.size === 0)) throw new CliError(`Consumer group '${group}' does not exist.`);
  const owners = new Map<string, { consumerId: string; host: string; clientId: string }>();
  for (const member of members) {
    if (member.memberAssignment.length === 0) continue;
    for (const { topic, partition } of decodeAssignment(member.memberAssignment).partitions) {
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
  return 0;
}

async function resetOffsets(client: KafkaClient, group: string, onlyTopic: string | undefined, target: number, execute: boolean): Promise<number> {
  const { state, members } = await describeGroup(client, group);
  if (members.length > 0) {
    throw new CliError(`Assignments can only be reset if the group '${group}' is inactive, but the current state is ${state}.`);
  }
  const committed = await committedOffsets(client, group);
  const topics = onlyTopic !== undefined ? [onlyTopic] : [...committed.keys()].sort();
  if (topics.length === 0) throw new CliError(`Consumer group '${group}' has no committed offsets; name the topic with --topic.`);
  const plan: Array<{ topic: string; partition: number; offset: number }> = [];
  for (const topic of topics) {
    const count = await client.partitionCount(topic);
    for (let partition = 0; partition < count; partition++) {
      let offset = await client.listOffset(topic, partition, target);
      // No record at or after the time: the log end, as Kafka's tool does.
      if (offset < 0) offset = await client.listOffset(topic, partition, LATEST);
      plan.push({ topic, partition, offset });
    }
  }
  if (execute) {
    const connection = await client.anyConnection();
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
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.DeleteGroups, { groupsNames: [group] });
  throwIfError(response.results[0].errorCode, `Delete group ${group}`);
  process.stdout.write(`Deletion of requested consumer groups ('${group}') was successful.\n`);
  return 0;
}

/** Pads each column to its widest cell plus a space, as Kafka's tool prints its tables. */
function alignColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 1))).join(''));
}
