// The consumer group protocol (KIP-848) on a 3-broker cluster (real etcd, real broker processes):
// when the broker coordinating a consumer group is SIGKILLed, the new leader of the group's
// __consumer_offsets partition takes the group over from that partition's records, so the member
// goes on at its epoch, with its assignment and its committed offsets, without rejoining. Shown
// on the wire, then with sluice's PoolConsumer (groupProtocol 'consumer') handling every record
// through the kill. @platformatic/kafka 1.35, the other client that speaks this protocol, never
// looks for a new coordinator once it has one (test/cluster/failover.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { PoolConsumer } from '../../src/consumer/pool-consumer.js';
import { Collector, HANDLER } from '../consumer/helpers.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import type { ConsumerGroupHeartbeatResponseBody } from '../../src/protocol/index.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'kip848-failover';
const GROUP = 'kip848-failover-group';

let cluster: LocalCluster;
let client: KafkaClient;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: { 'broker.session.timeout.ms': 3000, 'auto.leader.rebalance.enable': 'false', 'group.consumer.heartbeat.interval.ms': 500 },
  });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  await waitUntil(async () => (await client.metadata([])).brokers.length === 3, 'every broker to register');
  await client.createTopics([{ name: TOPIC, partitions: 3, replicationFactor: 3 }]);
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
}, 60_000);

async function heartbeat(body: object): Promise<ConsumerGroupHeartbeatResponseBody> {
  const connection = await client.coordinatorConnection(GROUP);
  return connection.request<ConsumerGroupHeartbeatResponseBody>(ApiKey.ConsumerGroupHeartbeat, {
    groupId: GROUP,
    memberId: 'member-1',
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: [TOPIC],
    ...body,
  });
}

describe('a consumer group through the loss of its coordinator', () => {
  it('the new coordinator knows the member, its epoch, its assignment and its commits', async () => {
    const joined = await heartbeat({ memberEpoch: 0, topicPartitions: [] });
    expect(joined).toMatchObject({ errorCode: E.NONE, memberEpoch: 1 });
    const owned = joined.assignment!.topicPartitions;
    expect(owned[0]!.partitions).toEqual([0, 1, 2]);
    const committed = await (await client.coordinatorConnection(GROUP)).request(ApiKey.OffsetCommit, {
      groupId: GROUP,
      generationIdOrMemberEpoch: 1,
      memberId: 'member-1',
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 1, committedOffset: 42 }] }],
    });
    expect(committed.topics[0].partitions[0].errorCode).toBe(E.NONE);

    const coordinator = (await client.findCoordinator(GROUP)).nodeId;
    await cluster.killBroker(coordinator);
    // A full heartbeat at the member's epoch, as a member sends after an error, until a new
    // coordinator answers it.
    let answer: ConsumerGroupHeartbeatResponseBody | undefined;
    await waitUntil(async () => {
      try {
        answer = await heartbeat({ memberEpoch: 1, topicPartitions: owned });
        return answer.errorCode === E.NONE || answer.errorCode === E.UNKNOWN_MEMBER_ID;
      } catch {
        return false; // the dead broker's connection
      }
    }, 'a new coordinator to answer', 60_000);
    expect((await client.findCoordinator(GROUP)).nodeId).not.toBe(coordinator);
    expect(answer).toMatchObject({ errorCode: E.NONE, memberEpoch: 1 });
    expect(answer!.assignment!.topicPartitions).toEqual(owned);
    const fetched = await (await client.coordinatorConnection(GROUP)).request(ApiKey.OffsetFetch, {
      groups: [{ groupId: GROUP, memberId: 'member-1', memberEpoch: 1, topics: [{ name: TOPIC, partitionIndexes: [1] }] }],
      requireStable: false,
    });
    expect(fetched.groups[0].topics[0].partitions[0].committedOffset).toBe(42);
    await cluster.restartBroker(coordinator);
  }, 180_000);

  it("a PoolConsumer with groupProtocol 'consumer' handles every record through the SIGKILL of its group's coordinator", async () => {
    const groupId = 'kip848-pool';
    await client.createTopics([{ name: 'kip848-pool', partitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const producer = await Producer.create(client);
    const send = (values: string[]) => producer.send('kip848-pool', values.map((value, i) => ({ value, partition: i % 2 })));
    const collector = new Collector('kip848-pool');
    const pool = new PoolConsumer({
      brokers: cluster.bootstrapServers.split(','),
      groupId,
      topics: ['kip848-pool'],
      groupProtocol: 'consumer',
      handler: HANDLER,
      concurrency: 1,
      autoOffsetReset: 'earliest',
      maxWaitMs: 200,
      workerData: { channel: collector.name },
    });
    await pool.start();
    try {
      const listed = await (await client.coordinatorConnection(groupId)).request(ApiKey.ListGroups, { statesFilter: [], typesFilter: ['consumer'] });
      expect(listed.groups.map((group: { groupId: string }) => group.groupId)).toContain(groupId);
      const before = Array.from({ length: 200 }, (_, i) => `p${i}`);
      await send(before);
      await waitUntil(() => collector.records >= before.length, 'the records before the kill', 60_000);
      const coordinator = (await client.findCoordinator(groupId)).nodeId;
      await cluster.killBroker(coordinator);
      const after = Array.from({ length: 200 }, (_, i) => `q${i}`);
      await send(after);
      await waitUntil(() => after.every((v) => collector.values().includes(v)), 'the records after the kill', 90_000);
      // At least once, as a group delivers: every record, whatever a moved commit made come again.
      expect([...new Set(collector.values())].sort()).toEqual([...before, ...after].sort());
      await cluster.restartBroker(coordinator);
    } finally {
      await pool.stop();
      collector.close();
      await producer.close();
    }
  }, 240_000);
});
