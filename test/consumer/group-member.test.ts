// GroupMember against our broker's coordinator: static membership, fencing, cooperative rounds, commits.
import { afterEach, describe, expect, it } from 'vitest';

import type { Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { GroupMember, type GroupMemberOptions, type TopicPartition } from '../../src/client/group-member.js';
import { startGroupBroker, waitFor } from './helpers.js';

let broker: Broker | undefined;
const clients: KafkaClient[] = [];
const members: GroupMember[] = [];

afterEach(async () => {
  for (const member of members.splice(0)) await member.stop().catch(() => {});
  for (const client of clients.splice(0)) client.close();
  await broker?.stop();
  broker = undefined;
});

async function member(options: Partial<GroupMemberOptions> = {}): Promise<GroupMember> {
  const client = await KafkaClient.connect({ brokers: [`localhost:${broker!.port}`] });
  clients.push(client);
  const created = new GroupMember(client, { groupId: 'g', topics: ['t'], heartbeatIntervalMs: 100, sessionTimeoutMs: 3000, ...options });
  members.push(created);
  return created;
}

const partitions = (list: TopicPartition[]) => list.map((p) => p.partition).sort((a, b) => a - b);

describe('GroupMember', () => {
  it('takes the member id the coordinator requires, commits and fetches offsets under its generation', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('t', { partitions: 3 });
    const m = await member();
    await m.start();
    expect(m.memberId).toMatch(/^sluice-/);
    expect(m.generationId).toBe(1);
    expect(partitions(m.assignment)).toEqual([0, 1, 2]);
    await m.commitOffsets([{ topic: 't', partition: 1, offset: 7 }]);
    const offsets = await m.fetchCommittedOffsets([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect([...offsets.values()]).toEqual([-1, 7]);
  });

  it('hands partitions over in two cooperative rounds, revoking only what moves', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('t', { partitions: 4 });
    const revokedA: number[][] = [];
    const a = await member({ onRevoking: (list) => void revokedA.push(partitions(list)) });
    await a.start();
    const b = await member();
    await b.start();
    await waitFor(() => a.assignment.length === 2 && b.assignment.length === 2, 'two partitions each');
    // One revoke, of the two partitions that moved; a kept them all through the first round.
    expect(revokedA).toHaveLength(1);
    expect(revokedA[0]).toHaveLength(2);
    expect(a.rebalances).toBe(3); // alone, then the round that takes two away, then the one that hands them over
    expect(partitions(a.assignment).concat(partitions(b.assignment)).sort()).toEqual([0, 1, 2, 3]);
  });

  it('reads partitions added to a subscribed topic, and a topic created after it subscribed', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('t', { partitions: 2 });
    const m = await member({ topics: ['t', 'later'], metadataMaxAgeMs: 100 });
    await m.start();
    expect(partitions(m.assignment)).toEqual([0, 1]);
    await broker.engine.createPartitions('t', 3);
    await waitFor(() => m.assignment.length === 3, 'the partition added to be assigned');
    await broker.engine.createTopic('later', { partitions: 2 });
    await waitFor(() => m.assignment.length === 5, 'the topic created later to be assigned');
    expect(m.assignment.filter((tp) => tp.topic === 'later').map((tp) => tp.partition)).toEqual([0, 1]);
  });

  it('follows the topics a pattern matches, internal ones excluded', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('logs.app', { partitions: 1 });
    await broker.engine.createTopic('catalogs.x', { partitions: 1 });
    const m = await member({ topics: [], topicPattern: /^logs\..*$/, metadataMaxAgeMs: 100 });
    await m.start();
    expect(m.topics).toEqual(['logs.app']);
    expect(m.assignment).toEqual([{ topic: 'logs.app', partition: 0 }]);
    await broker.engine.createTopic('logs.db', { partitions: 2 });
    await waitFor(() => m.assignment.length === 3, 'logs.db to be assigned');
    expect(m.topics).toEqual(['logs.app', 'logs.db']);
    await broker.engine.deleteTopic('logs.app');
    await waitFor(() => m.assignment.every((tp) => tp.topic === 'logs.db'), 'logs.app to be given up');
    expect(m.topics).toEqual(['logs.db']);
  });

  it('lets a static member restart without a rebalance, and fences the old instance', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('t', { partitions: 2 });
    const errors: Error[] = [];
    const first = await member({ groupInstanceId: 'worker-1', onError: (error) => errors.push(error) });
    await first.start();
    expect(broker.groups.describeGroup('g').groupState).toBe('Stable');
    // The same instance starts again (a restart) while the old one still runs.
    const second = await member({ groupInstanceId: 'worker-1' });
    await second.start();
    expect(partitions(second.assignment)).toEqual([0, 1]);
    expect(second.generationId).toBe(first.generationId); // no new generation
    await waitFor(() => errors.length === 1, 'the old instance to be fenced');
    expect(errors[0]).toMatchObject({ code: 'FENCED_INSTANCE_ID' });
    // A static member does not leave on stop: its session keeps its place.
    await second.stop();
    expect(broker.groups.describeGroup('g').members).toHaveLength(1);
  });
});
