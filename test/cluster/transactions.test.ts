// Transactions on a 3-broker cluster (real etcd, real broker processes, kafkajs): a transaction
// that writes to partitions led by every broker commits or aborts on all of them (markers to the
// other leaders go in WriteTxnMarkers), __transaction_state is replicated, and when the broker
// coordinating a transactional id is SIGKILLed with a transaction open, the new leader of the
// id's partition takes the transaction over: the producer commits it there, and read_committed
// consumers read every committed record once and no aborted one.
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { sleep, waitUntil } from './helpers.js';

const TOPIC = 'txn-cluster';
const TRANSACTIONAL_ID = 'txn-cluster-producer';
const COORDINATOR_TYPE_TRANSACTION = 1;

let cluster: LocalCluster;
let client: KafkaClient;
const consumers: Consumer[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: { 'broker.session.timeout.ms': 3000, 'auto.leader.rebalance.enable': 'false', 'transaction.state.log.num.partitions': 3, 'offsets.topic.num.partitions': 3 },
  });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  await waitUntil(async () => (await client.metadata([])).brokers.length === 3, 'every broker to register');
  await client.createTopics([{ name: TOPIC, partitions: 3, replicationFactor: 3 }]);
}, 120_000);

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect().catch(() => {});
  client?.close();
  await cluster?.stop();
}, 60_000);

/** The broker a FindCoordinator for the transactional id names (retrying while there is none). */
async function transactionCoordinator(): Promise<number> {
  let nodeId = -1;
  await waitUntil(async () => {
    try {
      const connection = await client.anyConnection();
      const response = await connection.request(ApiKey.FindCoordinator, { key: TRANSACTIONAL_ID, keyType: COORDINATOR_TYPE_TRANSACTION, coordinatorKeys: [TRANSACTIONAL_ID] });
      const answer = response.coordinators[0];
      nodeId = answer.errorCode === 0 ? answer.nodeId : -1;
      return nodeId >= 0;
    } catch {
      return false;
    }
  }, 'a transaction coordinator', 60_000);
  return nodeId;
}

describe('transactions on a replicated cluster', () => {
  it('commit and abort reach every partition leader, and a coordinator killed mid-transaction is taken over', async () => {
    const kafka = new Kafka({ clientId: 'txn-cluster', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
    // Kafka's assignment spreads the three leaderships over the three brokers.
    await waitUntil(async () => new Set((await client.metadata([TOPIC])).topics[0]!.partitions.map((p) => p.leader).filter((id) => id >= 0)).size === 3, 'a leader on every broker');

    const producer = kafka.producer({ transactionalId: TRANSACTIONAL_ID, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const writeAll = async (prefix: string) => {
      const transaction = await producer.transaction();
      await transaction.send({ topic: TOPIC, messages: [0, 1, 2].map((partition) => ({ value: `${prefix}-${partition}`, partition })) });
      return transaction;
    };
    await (await writeAll('committed')).commit();
    await (await writeAll('aborted')).abort();

    const open = await writeAll('taken-over');
    const coordinator = await transactionCoordinator();
    await cluster.killBroker(coordinator);
    await open.commit();
    expect(await transactionCoordinator()).not.toBe(coordinator);
    await producer.disconnect();

    const values: string[] = [];
    const consumer = kafka.consumer({ groupId: 'txn-cluster-reader', maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }: { message: KafkaMessage }) => void values.push(message.value!.toString()) });
    await waitUntil(async () => values.length >= 6, 'the committed records', 60_000);
    await sleep(500);
    expect([...values].sort()).toEqual(['committed-0', 'committed-1', 'committed-2', 'taken-over-0', 'taken-over-1', 'taken-over-2']);
    await cluster.restartBroker(coordinator);
  }, 180_000);
});
