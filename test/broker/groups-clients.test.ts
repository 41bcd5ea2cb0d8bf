// Consumer groups with the real clients: kcat -G members sharing partitions exactly once while their
// generation holds, a killed member's partitions moving to the others after its session timeout, a
// restarted member resuming from committed offsets; kcat and @platformatic/kafka in one group (both offer "roundrobin");
// kafkajs and kcat with no protocol in common (INCONSISTENT_GROUP_PROTOCOL); several groups on one
// topic each receiving every record.
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { kcatMember, waitUntil, type KcatMember } from '../fixtures/kcat-group.js';
import { committedOffsets, waitForStableGroup } from '../fixtures/groups.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;
const members: KcatMember[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0 });
});

afterEach(async () => {
  for (const member of members.splice(0)) await member.kill();
});

afterAll(async () => {
  await broker?.stop();
});

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka([broker.address]).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
}

/** Produces `count` records spread over the partitions, values `${prefix}-${i}`. */
async function produce(topic: string, prefix: string, count: number): Promise<string[]> {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const result = await kcat(['-b', broker.address, '-P', '-t', topic, '-K', ':'], values.map((v, i) => `key-${prefix}-${i}:${v}`).join('\n') + '\n');
  expect(result.code).toBe(0);
  return values;
}


function valuesOf(member: KcatMember): string[] {
  return member.lines.map((line) => line.split(' ')[3]!);
}

function partitionsOf(member: KcatMember): Set<string> {
  return new Set(member.lines.map((line) => line.split(' ')[1]!));
}

function start(group: string, topics: string[], settings?: Record<string, string>): KcatMember {
  const member = kcatMember(broker.address, group, topics, settings);
  members.push(member);
  return member;
}

describe('kcat consumer groups', () => {
  it('three members share six partitions exactly once; a killed member\'s partitions move on; a restarted member resumes', async () => {
    await createTopic('shared6', 6);
    const group = [start('g6', ['shared6']), start('g6', ['shared6']), start('g6', ['shared6'])];
    // Exactly once is what a group promises while its generation holds: produce only once the three
    // members are one stable generation. (Records produced while members join may be read twice:
    // at least once across a rebalance.)
    const { owned } = await waitForStableGroup(broker.address, 'g6', 3);
    const first = await produce('shared6', 'a', 600);
    const all = () => group.flatMap(valuesOf);
    await waitUntil(() => new Set(all()).size === 600, 'the first 600 records');
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show
    const stillOwned = (await waitForStableGroup(broker.address, 'g6', 3)).owned;
    expect(new Set(all())).toEqual(new Set(first));
    if (JSON.stringify(stillOwned) === JSON.stringify(owned)) {
      // Same assignment throughout: every record exactly once, each partition read by exactly one member.
      expect(all()).toHaveLength(600);
      expect(group.map(partitionsOf).reduce((n, set) => n + set.size, 0)).toBe(6);
    }

    // SIGKILL one member: after its session timeout the others take its partitions over.
    await group[0]!.kill();
    const second = await produce('shared6', 'b', 600);
    const survivors = group.slice(1);
    await waitUntil(() => second.every((v) => survivors.some((m) => valuesOf(m).includes(v))), 'the next 600 records on the survivors');

    // Stop the rest cleanly (they commit what they printed and leave); a restarted member resumes
    // at the commits, which it reads back: no record of the first phase comes again unless the
    // group had not committed it.
    for (const member of survivors) await member.stop();
    const committed = await committedOffsets(broker.address, 'g6', 'shared6');
    const restarted = start('g6', ['shared6']);
    const third = await produce('shared6', 'c', 60);
    await waitUntil(() => third.every((v) => valuesOf(restarted).includes(v)), 'the last 60 records');
    // Exactly the records from the commits to the end of each partition: none before, none skipped.
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    const ends = (await admin.fetchTopicOffsets('shared6')).sort((a: { partition: number }, b: { partition: number }) => a.partition - b.partition);
    await admin.disconnect();
    for (const { partition, high } of ends as Array<{ partition: number; high: string }>) {
      const offsets = restarted.lines.map((line) => line.split(' ')).filter(([, p]) => Number(p) === partition).map(([, , offset]) => Number(offset));
      const from = Math.max(committed[partition]!, 0);
      expect([...new Set(offsets)].sort((a, b) => a - b)).toEqual(Array.from({ length: Number(high) - from }, (_, i) => from + i));
    }
  }, 90_000);

  it('delivers every record to each of several groups', async () => {
    await createTopic('broadcast', 3);
    const values = await produce('broadcast', 'x', 90);
    const one = start('group-one', ['broadcast']);
    const two = start('group-two', ['broadcast']);
    await waitUntil(() => valuesOf(one).length >= 90 && valuesOf(two).length >= 90, 'both groups');
    expect(valuesOf(one).sort()).toEqual([...values].sort());
    expect(valuesOf(two).sort()).toEqual([...values].sort());
  });
});

describe('mixed clients in one group', () => {
  it('kcat and @platformatic/kafka share a group through the "roundrobin" protocol', async () => {
    await createTopic('mixed', 4);
    // @platformatic/kafka 1.35 sends a version-1 ConsumerProtocolSubscription without the
    // ownedPartitions array version 1 requires; librdkafka cannot parse it and, as the leader,
    // assigns that member nothing. So platformatic joins first and leads (a rejoining leader stays
    // leader); it parses librdkafka's well-formed subscription and splits the partitions.
    const consumer = new Consumer({ groupId: 'mixed-group', clientId: 'mixed', bootstrapBrokers: [broker.address], deserializers: stringDeserializers, maxWaitTime: 200 });
    const stream = await consumer.consume({ topics: ['mixed'], mode: MessagesStreamModes.EARLIEST });
    const viaPlatformatic: string[] = [];
    stream.on('data', (message) => viaPlatformatic.push(message.value as string));
    expect((await waitForStableGroup(broker.address, 'mixed-group', 1)).protocol).toBe('roundrobin');
    const member = start('mixed-group', ['mixed'], { 'partition.assignment.strategy': 'roundrobin' });
    // Produce only once both are members of a stable group, so that the partitions are split.
    expect((await waitForStableGroup(broker.address, 'mixed-group', 2)).protocol).toBe('roundrobin');
    const values = await produce('mixed', 'm', 400);
    await waitUntil(() => new Set([...viaPlatformatic, ...valuesOf(member)]).size === 400, 'all records between the two members');
    expect(new Set([...viaPlatformatic, ...valuesOf(member)])).toEqual(new Set(values));
    // The group split the partitions between the two clients' members (Kafka's assignment format).
    const { owned } = await waitForStableGroup(broker.address, 'mixed-group', 2);
    expect(owned).toHaveLength(2);
    for (const [, partitions] of owned) expect((partitions as number[]).length).toBeGreaterThan(0);
    expect(owned.flatMap(([, partitions]: [string, number[]]) => partitions).sort()).toEqual([0, 1, 2, 3]);
    await stream.close();
    await consumer.close();
  });

  it('kafkajs and kcat share no protocol: the second gets INCONSISTENT_GROUP_PROTOCOL', async () => {
    await createTopic('clash', 1);
    const consumer = kafka([broker.address]).consumer({ groupId: 'clash-group', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'clash', fromBeginning: true });
    let joined!: () => void;
    const groupJoined = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({ eachMessage: async () => {} });
    await groupJoined;
    const member = start('clash-group', ['clash']);
    await waitUntil(() => /Inconsistent group protocol/i.test(member.stderr()), 'kcat to report INCONSISTENT_GROUP_PROTOCOL', 20_000);
    await consumer.disconnect();
  });
});
