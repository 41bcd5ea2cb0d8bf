// DescribeTopicPartitions (API 75, KIP-966), asked by @platformatic/kafka's own request code: each
// topic's partitions as Metadata gives them, sorted by topic name, paged by the response's partition
// limit with a cursor that the next request starts from; unknown and invalid names answered with
// their errors, and a cursor outside the topics asked for refused as Kafka refuses it.
import { Connection, describeTopicPartitionsV0 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

let broker: Broker;
let connection: Connection;

beforeAll(async () => {
  broker = await startBroker({ port: 0, dataDir: tempDir(), config: { 'max.request.partition.size.limit': 5 } });
  for (const [topic, partitions] of [['beta', 3], ['alpha', 2], ['gamma', 4]] as const) await broker.engine.createTopic(topic, { partitions });
  connection = new Connection('describe-topic-partitions-test');
  await connection.connect('localhost', broker.port);
});

afterAll(async () => {
  await connection?.close();
  await broker?.stop();
});

type Response = Awaited<ReturnType<typeof describeTopicPartitionsV0.api.async>>;

/** topic:partition,... of a response, and its cursor. */
function pages(response: Response): { partitions: string; cursor: string | null } {
  return {
    partitions: response.topics.flatMap((topic) => topic.partitions.map((p) => `${topic.name}:${p.partitionIndex}`)).join(','),
    cursor: response.nextCursor === undefined ? null : `${response.nextCursor.topicName}:${response.nextCursor.partitionIndex}`,
  };
}

/** The error a response carries (platformatic/kafka throws on an error code), as its response. */
async function answer(topics: string[], limit: number, cursor?: { topicName: string; partitionIndex: number }): Promise<Response> {
  try {
    return await describeTopicPartitionsV0.api.async(connection, topics.map((name) => ({ name })), limit, cursor);
  } catch (error) {
    return (error as { response: Response }).response;
  }
}

describe('DescribeTopicPartitions', () => {
  it("gives each partition's leader, epoch, replicas and ISR, topics sorted by name, and the topic's id", async () => {
    const response = await answer(['beta', 'alpha'], 100);
    expect(response.topics.map((t) => [t.name, t.errorCode, t.isInternal, t.topicId])).toEqual([
      ['alpha', 0, false, broker.engine.topicId('alpha')],
      ['beta', 0, false, broker.engine.topicId('beta')],
    ]);
    expect(response.topics[1]!.partitions[2]).toEqual({
      errorCode: 0,
      partitionIndex: 2,
      leaderId: broker.settings.nodeId,
      leaderEpoch: 0,
      replicaNodes: [broker.settings.nodeId],
      isrNodes: [broker.settings.nodeId],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
    expect(response.nextCursor).toBeUndefined();
  });

  it('pages every topic by the smaller of the asked limit and max.request.partition.size.limit, each page from the last cursor', async () => {
    const seen: string[] = [];
    let cursor: { topicName: string; partitionIndex: number } | undefined;
    const cursors: Array<string | null> = [];
    do {
      const response = await answer([], 4, cursor);
      const page = pages(response);
      seen.push(page.partitions);
      cursors.push(page.cursor);
      cursor = response.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['alpha:0,alpha:1,beta:0,beta:1', 'beta:2,gamma:0,gamma:1,gamma:2', 'gamma:3']);
    expect(cursors).toEqual(['beta:2', 'gamma:3', null]);
    // The broker's limit (5) caps a larger ask; a page that ends with a topic points at the next one.
    expect(pages(await answer([], 1000))).toEqual({ partitions: 'alpha:0,alpha:1,beta:0,beta:1,beta:2', cursor: 'gamma:0' });
  });

  it("answers an unknown topic UNKNOWN_TOPIC_OR_PARTITION and an invalid name INVALID_TOPIC_EXCEPTION, leaving the others' answers whole", async () => {
    const response = await answer(['alpha', 'missing', 'bad/name'], 100);
    expect(response.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ['alpha', 0, 2],
      ['bad/name', KafkaErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      ['missing', KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
    ]);
  });

  it('refuses a cursor on a topic that is not among those asked for (INVALID_REQUEST on each)', async () => {
    const response = await answer(['alpha', 'beta'], 100, { topicName: 'gamma', partitionIndex: 0 });
    expect(response.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['alpha', KafkaErrorCode.INVALID_REQUEST],
      ['beta', KafkaErrorCode.INVALID_REQUEST],
    ]);
  });
});
