// A consumer whose topic is deleted (issue 7, item 12). A kcat cooperative-sticky group member was
// seen to hang forever in close after its topic was deleted. What the broker answers during the
// deletion is what Kafka answers: Metadata says UNKNOWN_TOPIC_OR_PARTITION, the classic group is
// not rebalanced by the coordinator (Kafka's is not either: it leaves that to the leader's metadata
// refresh), the group's committed offsets of the topic are tombstoned, commits of the topic are
// refused with UNKNOWN_TOPIC_OR_PARTITION, and a long-poll Fetch on the topic is answered at once.
//
// The hang is librdkafka's: from 2.0.2 until 2.6.1 a partition that disappears from the cluster
// while consumed keeps a reference to itself in its fetch queue, so rd_kafka_destroy() waits for
// ever after a completed close (librdkafka 2.6.1 CHANGELOG, "Fix to remove fetch queue messages that
// blocked the destroy of rdkafka instances ... Happening since 2.0.2 (#4724)"). Its broker thread
// then loops, reconnects and sits in APIVERSION_QUERY without ever sending the ApiVersions request:
// the "waited on ApiVersions" of the report. Debian's kcat 1.7.1 uses librdkafka 2.0.2, so there the
// test checks the close completed against the broker and the hang is that one; with a librdkafka of
// 2.6.1 or later (LD_LIBRARY_PATH works for both `kcat -V` and the member) it asserts kcat exits.
// Both branches were run here: the same kcat binary with librdkafka 2.12.0 (built from the source
// that node-rdkafka 3.6.1 ships) exits within two seconds of SIGINT against this broker.
import { spawnSync } from 'node:child_process';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { waitForStableGroup } from '../fixtures/groups.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { kcatMember, waitUntil, type KcatMember } from '../fixtures/kcat-group.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;
let client: KafkaClient;
const members: KcatMember[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0 });
  client = await KafkaClient.connect({ brokers: [broker.address], clientId: 'topic-deletion-test' });
});

afterEach(async () => {
  for (const member of members.splice(0)) await member.kill();
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
});

/** The librdkafka that kcat runs with, as [major, minor, patch]. */
function librdkafkaVersion(): number[] {
  const printed = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout;
  const match = /librdkafka (\d+)\.(\d+)\.(\d+)/.exec(printed);
  if (!match) throw new Error(`cannot read librdkafka's version from kcat -V: ${printed}`);
  return match.slice(1).map(Number);
}

const atLeast = (version: number[], wanted: number[]) => {
  for (let i = 0; i < wanted.length; i++) if (version[i] !== wanted[i]) return version[i]! > wanted[i]!;
  return true;
};

async function createTopic(topic: string, partitions: number, records: number): Promise<void> {
  const admin = kafka([broker.address]).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
  const values = Array.from({ length: records }, (_, i) => `r${i}`).join('\n') + '\n';
  expect((await kcat(['-b', broker.address, '-P', '-t', topic], values)).code).toBe(0);
}

async function deleteTopic(topic: string): Promise<void> {
  const admin = kafka([broker.address]).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

async function groupState(group: string): Promise<{ state: string; members: number }> {
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
  return { state: response.groups[0].groupState, members: response.groups[0].members.length };
}

async function committedTopics(group: string): Promise<string[]> {
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.OffsetFetch, { groupId: group, topics: null, groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
  return (response.groups?.[0]?.topics ?? response.topics).map((t: { name: string }) => t.name);
}

/** A cooperative-sticky kcat member with librdkafka's group, protocol, broker, topic and metadata debug log on stderr. */
function cooperativeMember(group: string, topic: string): KcatMember {
  const member = kcatMember(broker.address, group, [topic], { 'partition.assignment.strategy': 'cooperative-sticky' }, 'cgrp,protocol,broker,topic,metadata');
  members.push(member);
  return member;
}

const exited = (member: KcatMember) => member.process.exitCode !== null || member.process.signalCode !== null;

describe('a kcat group member whose topic is deleted', () => {
  it('exits on SIGINT when its topic is not deleted (the control)', async () => {
    await createTopic('kept', 2, 4);
    const member = cooperativeMember('kept-group', 'kept');
    await waitUntil(() => member.lines.length === 4, 'the 4 records');
    await waitForStableGroup(broker.address, 'kept-group', 1);
    member.process.kill('SIGINT');
    await waitUntil(() => exited(member), 'kcat to exit', 30_000);
    expect(member.process.exitCode).toBe(0);
    expect(await groupState('kept-group')).toEqual({ state: 'Empty', members: 0 });
  });

  it('gets Kafka\'s answers during the deletion; kcat exits on SIGINT where its librdkafka can', async () => {
    await createTopic('vanishing', 2, 4);
    const member = cooperativeMember('vanishing-group', 'vanishing');
    await waitUntil(() => member.lines.length === 4, 'the 4 records');
    await waitForStableGroup(broker.address, 'vanishing-group', 1);
    await waitUntil(() => /OffsetCommit for \d+ partition\(s\)[^\n]*returned: Success/.test(member.stderr()), 'an automatic commit');
    expect(await committedTopics('vanishing-group')).toEqual(['vanishing']);

    const logBefore = member.stderr().length;
    await deleteTopic('vanishing');
    // The member is told the topic is gone by the broker's answers (Metadata, Fetch or OffsetCommit).
    await waitUntil(() => /Unknown topic (or partition|id)|partition count changed from 2 to 0/i.test(member.stderr().slice(logBefore)), 'kcat to see the deletion');
    // Those answers are Kafka's: Metadata (without auto-creation, as consumers ask) knows no such
    // topic, and a commit to it is refused per partition, before the group is even looked at.
    const connection = await client.anyConnection();
    const metadata = await connection.request(ApiKey.Metadata, { topics: [{ name: 'vanishing', topicId: null }], allowAutoTopicCreation: false }, 4);
    expect(metadata.topics).toEqual([expect.objectContaining({ name: 'vanishing', errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] })]);
    const commit = await connection.request(ApiKey.OffsetCommit, {
      groupId: 'vanishing-group',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'vanishing', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    expect(commit.topics[0].partitions[0].errorCode).toBe(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // The group's offsets of the topic went with it, and Kafka's classic coordinator does not
    // rebalance a group whose topic is deleted: it is still Stable with its member.
    expect(await committedTopics('vanishing-group')).toEqual([]);
    expect(await groupState('vanishing-group')).toEqual({ state: 'Stable', members: 1 });

    member.process.kill('SIGINT');
    if (atLeast(librdkafkaVersion(), [2, 6, 1])) {
      await waitUntil(() => exited(member), 'kcat to exit', 30_000);
      expect(member.process.exitCode).toBe(0);
    } else {
      // librdkafka 2.0.2-2.6.0: close completes against the broker (it left the group), then
      // rd_kafka_destroy() waits for ever on its own leaked partition reference.
      await waitUntil(() => exited(member) || /terminating: broker still has \d+ refcnt/.test(member.stderr()), 'kcat to exit or to hang in destroy', 30_000);
      if (!exited(member)) {
        expect(member.stderr()).toMatch(/Consumer closed/);
        expect(member.stderr()).toMatch(/LeaveGroup response received/);
        const afterDestroy = member.stderr().slice(member.stderr().indexOf('Terminating instance'));
        // A reconnect by the terminating broker thread never sends its ApiVersions request.
        const reconnect = afterDestroy.search(/Connected \(#\d+\)/);
        if (reconnect >= 0) expect(afterDestroy.slice(reconnect)).not.toMatch(/Sent ApiVersionRequest/);
      }
    }
    expect(await groupState('vanishing-group')).toEqual({ state: 'Empty', members: 0 });
  });

  it('a long-poll Fetch on a topic is answered as soon as the topic is deleted', async () => {
    await createTopic('polled', 1, 0);
    const fetcher = await KafkaClient.connect({ brokers: [broker.address], clientId: 'long-poll', requestTimeoutMs: 600_000 });
    try {
      const connection = await fetcher.anyConnection();
      // Ten minutes of max wait: only the deletion can end this poll within the test's timeout.
      const polled = connection.request(
        ApiKey.Fetch,
        {
          replicaId: -1,
          maxWaitMs: 600_000,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'polled', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        },
        11,
      );
      await deleteTopic('polled');
      const response = await polled;
      expect(response.responses[0].partitions[0].errorCode).toBe(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    } finally {
      fetcher.close();
    }
  });
});
