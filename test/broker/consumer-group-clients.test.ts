// The consumer group protocol (KIP-848) with a real client: @platformatic/kafka consumers with
// groupProtocol 'consumer' heartbeat with ConsumerGroupHeartbeat, and the broker assigns the
// partitions. Members share a topic without reading a record twice, a member that leaves hands
// its partitions to the others, and a new member resumes from the offsets the group committed.
// Groups also migrate between the protocols (group.consumer.migration.policy, bidirectional by
// default as in Kafka 4): a kafkajs or kcat group takes a member of the consumer protocol and
// shares its partitions with it, and is a classic group again once that member leaves.
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers, type MessagesStream } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcatMember, waitUntil } from '../fixtures/kcat-group.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;

beforeAll(async () => {
  // Members learn of partitions released by others at their next heartbeat: 500 ms keeps the test short (Kafka's default is 5 s).
  broker = await startBrokerProcess(tempDir(), { 'group.consumer.heartbeat.interval.ms': 500 });
});

afterAll(async () => {
  await broker?.stop();
});

interface Member {
  consumer: Consumer<string, string, string, string>;
  stream: MessagesStream<string, string, string, string>;
  values: string[];
}

async function join(groupId: string, topic: string, name: string, address = broker.address): Promise<Member> {
  const consumer = new Consumer({
    groupId,
    clientId: name,
    bootstrapBrokers: [address],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    groupProtocol: 'consumer',
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamModes.EARLIEST } as never);
  const values: string[] = [];
  stream.on('data', (message) => values.push(message.value));
  return { consumer, stream, values };
}

async function leave(member: Member): Promise<void> {
  await member.stream.close();
  await member.consumer.close();
}

/** The members' partitions, once they are disjoint and cover the topic's `count` partitions. */
async function waitForSplit(members: Member[], count: number): Promise<number[][]> {
  let split: number[][] = [];
  await waitUntil(() => {
    split = members.map((m) => (m.consumer.assignments ?? []).flatMap((a) => a.partitions).sort((x, y) => x - y));
    const all = split.flat().sort((x, y) => x - y);
    return split.every((p) => p.length > 0) && all.length === count && all.every((p, i) => p === i);
  }, `the members to split ${count} partitions`, 30_000);
  return split;
}

async function produce(topic: string, prefix: string, count: number, address = broker.address): Promise<string[]> {
  const producer = new Producer({ clientId: 'producer', bootstrapBrokers: [address], serializers: stringSerializers });
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await producer.send({ messages: values.map((value, i) => ({ topic, key: `key-${prefix}-${i}`, value })) });
  await producer.close();
  return values;
}

describe('@platformatic/kafka with groupProtocol "consumer"', () => {
  it('members share partitions exactly once, a leaving member hands its partitions on, committed offsets carry over', async () => {
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kip848', numPartitions: 6 }] });

    const members = [await join('g848', 'kip848', 'a'), await join('g848', 'kip848', 'b'), await join('g848', 'kip848', 'c')];
    const split = await waitForSplit(members, 6);
    expect(split.map((p) => p.length)).toEqual([2, 2, 2]); // the uniform assignor balances them

    // While the assignment holds, every record is read by exactly one member.
    const first = await produce('kip848', 'a', 600);
    const all = () => members.flatMap((m) => m.values);
    await waitUntil(() => new Set(all()).size === 600, 'the first 600 records');
    expect(all().sort()).toEqual([...first].sort());

    // A member leaves (a heartbeat with epoch -1): the others take its partitions.
    await leave(members.pop()!);
    await waitForSplit(members, 6);
    const second = await produce('kip848', 'b', 300);
    await waitUntil(() => second.every((v) => all().includes(v)), 'the next 300 records');
    expect(all().filter((v) => v.startsWith('b-')).sort()).toEqual([...second].sort());

    // The group is a consumer group to the admin APIs and to `sluice groups` (ConsumerGroupDescribe), with the two members.
    const listed = await admin.listGroups();
    expect(listed.groups).toContainEqual(expect.objectContaining({ groupId: 'g848', protocolType: 'consumer' }));
    const bootstrap = ['--bootstrap-server', broker.address];
    const state = await runCli(['groups', ...bootstrap, '--describe', '--group', 'g848', '--state']);
    expect(state.stdout).toMatch(/g848\s+\S+ \(\d+\)\s+uniform\s+Stable\s+2/);
    const described = await runCli(['groups', ...bootstrap, '--describe', '--group', 'g848', '--members', '--verbose']);
    const rows = described.stdout.trim().split('\n').slice(1);
    expect(rows.map((row) => row.split(/\s+/)[3]).sort()).toEqual(['a', 'b']);
    expect(rows.map((row) => Number(row.split(/\s+/)[4])).reduce((a, b) => a + b)).toBe(6);
    expect(rows.join(' ')).toMatch(/kip848\(\d(,\d)*\)/);

    // All leave; a new member starts from the offsets they committed.
    for (const member of members.splice(0)) await leave(member);
    const late = await join('g848', 'kip848', 'd');
    await waitForSplit([late], 6);
    const third = await produce('kip848', 'c', 100);
    await waitUntil(() => third.every((v) => late.values.includes(v)), 'the last 100 records');
    expect(late.values.filter((v) => v.startsWith('a-'))).toEqual([]);
    await leave(late);
    await admin.disconnect();
  });

  it('a member rides a broker restart: the restarted coordinator knows it from __consumer_offsets', async () => {
    const dataDir = tempDir();
    let own = await startBrokerProcess(dataDir, { 'group.consumer.heartbeat.interval.ms': 500 });
    const config = { 'group.consumer.heartbeat.interval.ms': 500, port: own.port };
    try {
      const admin = kafka([own.address]).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'restart848', numPartitions: 2 }] });
      await admin.disconnect();
      const member = await join('r848', 'restart848', 'survivor', own.address);
      await waitForSplit([member], 2);
      const before = await produce('restart848', 'x', 100, own.address);
      await waitUntil(() => before.every((v) => member.values.includes(v)), 'the records before the restart');

      await own.stop();
      own = await startBrokerProcess(dataDir, config);
      // Without the group's records the coordinator would answer UNKNOWN_MEMBER_ID, and this
      // client (which rejoins only when fenced) would never consume again.
      const after = await produce('restart848', 'y', 100, own.address);
      await waitUntil(() => after.every((v) => member.values.includes(v)), 'the records after the restart', 60_000);
      expect(member.values.filter((v) => v.startsWith('y-')).sort()).toEqual([...after].sort());
      await leave(member);
    } finally {
      await own.stop();
    }
  });
});

interface KafkajsMember {
  consumer: any;
  /** Its partitions as of the generation it last joined (kafkajs's GROUP_JOIN event). */
  assigned: number[];
  values: string[];
}

async function kafkajsMember(groupId: string, topic: string): Promise<KafkajsMember> {
  // Heartbeats every 300 ms, between fetches of at most 200 ms: a rebalance reaches it fast.
  const consumer = kafka([broker.address], 'kafkajs-member').consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 200, sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
  const member: KafkajsMember = { consumer, assigned: [], values: [] };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }: any) => (member.assigned = [...(payload.memberAssignment[topic] ?? [])].sort((a: number, b: number) => a - b)));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }: any) => void member.values.push(message.value.toString()) });
  return member;
}

const partitionsOf = (member: Member) => (member.consumer.assignments ?? []).flatMap((a) => a.partitions).sort((x, y) => x - y);

describe('a group that migrates between the protocols (KIP-848, group.consumer.migration.policy=bidirectional)', () => {
  it('a kafkajs group takes a @platformatic/kafka member of the consumer protocol, shares the partitions with it, and is classic again once it leaves', async () => {
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rolling', numPartitions: 4 }] });
    const bootstrap = ['--bootstrap-server', broker.address];

    // A classic group: one kafkajs member with every partition.
    const classic = await kafkajsMember('rolling-group', 'rolling');
    await waitUntil(() => classic.assigned.length === 4, 'the kafkajs member to take the 4 partitions');
    const first = await produce('rolling', 'a', 200);
    await waitUntil(() => first.every((v) => classic.values.includes(v)), 'kafkajs to read the first 200 records');

    // A member of the consumer protocol joins: the group converts, and the members split the partitions.
    const modern = await join('rolling-group', 'rolling', 'modern');
    await waitUntil(() => {
      const mine = partitionsOf(modern);
      return mine.length === 2 && classic.assigned.length === 2 && [...mine, ...classic.assigned].sort().join() === '0,1,2,3';
    }, 'the two members to split the 4 partitions', 60_000);
    const listed = await admin.listGroups();
    expect(listed.groups).toContainEqual(expect.objectContaining({ groupId: 'rolling-group', protocolType: 'consumer' }));
    const state = await runCli(['groups', ...bootstrap, '--describe', '--group', 'rolling-group', '--state']);
    expect(state.stdout).toMatch(/rolling-group\s+\S+ \(\d+\)\s+uniform\s+\S+\s+2/);

    // With the split in place each record is read once, by the member that holds its partition.
    const second = await produce('rolling', 'b', 200);
    const all = () => [...classic.values, ...modern.values];
    await waitUntil(() => second.every((v) => all().includes(v)), 'the members to read the next 200 records');
    expect(all().filter((v) => v.startsWith('b-')).sort()).toEqual([...second].sort());
    expect(modern.values.some((v) => v.startsWith('b-')) && classic.values.some((v) => v.startsWith('b-'))).toBe(true);

    // The member of the consumer protocol leaves: the group is classic again, and kafkajs takes everything back.
    await leave(modern);
    await waitUntil(() => classic.assigned.length === 4, 'kafkajs to take the 4 partitions back', 60_000);
    const types = await runCli(['groups', ...bootstrap, '--list', '--type']);
    expect(types.stdout).toMatch(/rolling-group\s+.*Classic/i);
    const third = await produce('rolling', 'c', 200);
    await waitUntil(() => third.every((v) => classic.values.includes(v)), 'kafkajs to read the last 200 records');
    await classic.consumer.disconnect();
    await admin.disconnect();
  });

  it('a kcat (librdkafka) member does the same: it gives up half of its partitions, reads beside the other member, and takes them all back', async () => {
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rolling-kcat', numPartitions: 4 }] });
    await admin.disconnect();
    const classic = kcatMember(broker.address, 'rolling-kcat-group', ['rolling-kcat']);
    try {
      const first = await produce('rolling-kcat', 'a', 100);
      await waitUntil(() => classic.lines.length >= first.length, 'kcat to read the first 100 records');
      const modern = await join('rolling-kcat-group', 'rolling-kcat', 'modern-kcat');
      await waitUntil(() => partitionsOf(modern).length === 2, 'the member of the consumer protocol to get 2 of the 4 partitions', 60_000);
      const second = await produce('rolling-kcat', 'b', 100);
      const readByKcat = () => classic.lines.map((line) => line.split(' ')[3]!).filter((v) => v.startsWith('b-'));
      await waitUntil(() => readByKcat().length + modern.values.filter((v) => v.startsWith('b-')).length >= second.length, 'the members to read the next 100 records', 60_000);
      expect([...readByKcat(), ...modern.values.filter((v) => v.startsWith('b-'))].sort()).toEqual([...second].sort());
      const rebalances = classic.assignments();
      await leave(modern);
      await waitUntil(() => classic.assignments() > rebalances, 'kcat to rejoin the classic group', 60_000);
      const third = await produce('rolling-kcat', 'c', 100);
      await waitUntil(() => third.every((v) => classic.lines.some((line) => line.endsWith(` ${v}`))), 'kcat to read the last 100 records', 60_000);
    } finally {
      await classic.stop();
    }
  });
});
