// DescribeTopicPartitions (75, KIP-966, Kafka 3.8+): Metadata's topics and partitions (leader,
// leader epoch, replicas, ISR, offline replicas), paged for clusters with many partitions, as
// Kafka's admin client and kafka-topics --describe read them. Topics come sorted by name; a
// response holds at most min(ResponsePartitionLimit, max.request.partition.size.limit) partitions,
// and NextCursor names the first partition left out. An empty topic list means every topic (and
// leaves unknown ones out); a named topic that does not exist is answered UNKNOWN_TOPIC_OR_PARTITION.
// sluice has no eligible leader replicas (KIP-966's ELR): both ELR lists are empty.
import { KafkaErrorCode } from '../../errors.js';
import { isValidTopicName } from '../../engine/topic-name.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { DescribeTopicPartitionsResponseBody } from '../../protocol/index.js';
import { defineHandler } from '../handler.js';
import { NONE } from './errors.js';
import { AUTHORIZED_OPERATIONS_NOT_REQUESTED, metadataView, ZERO_UUID } from './metadata.js';
import { AclOperation, allowed, ResourceType } from '../authorizer/request-auth.js';

type TopicAnswer = DescribeTopicPartitionsResponseBody['topics'][number];


function topicError(errorCode: number, name: string): TopicAnswer {
  return { errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED };
}

export const describeTopicPartitionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  async handle(context, request) {
    const { broker } = context;
    const view = metadataView(broker);
    // DESCRIBE on each topic, as Metadata: every topic lists those allowed, a named one not allowed is TOPIC_AUTHORIZATION_FAILED.
    const mayDescribe = (name: string) => allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
    const everyTopic = request.topics.length === 0;
    const cursor = request.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    // Kafka's order: names compared as UTF-16 strings, from the cursor's topic on.
    const names = [...new Set(everyTopic ? view.topicNames() : request.topics.map((topic) => topic.name))].filter((name) => name >= cursorTopic).sort();
    if (cursor !== null && !everyTopic && !names.includes(cursor.topicName)) {
      // Kafka's InvalidRequestException, answered on every topic asked for.
      return { throttleTimeMs: 0, topics: request.topics.map((topic) => topicError(KafkaErrorCode.INVALID_REQUEST, topic.name)), nextCursor: null };
    }
    let remaining = Math.min(request.responsePartitionLimit, broker.settings.maxRequestPartitionSizeLimit);
    const topics: TopicAnswer[] = [];
    let nextCursor: { topicName: string; partitionIndex: number } | null = null;
    for (const name of names) {
      if (remaining <= 0) {
        // The response is full: the next one starts at this topic (which may not exist).
        if (remaining === 0) nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      if (!mayDescribe(name)) {
        if (!everyTopic) topics.push(topicError(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, name));
        continue;
      }
      const described = isValidTopicName(name) ? await view.describeTopic(name, false) : topicError(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, name);
      if (described.errorCode !== NONE) {
        if (!everyTopic) topics.push(topicError(described.errorCode === KafkaErrorCode.INVALID_TOPIC_EXCEPTION ? described.errorCode : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name));
        continue;
      }
      const start = name === cursorTopic ? Math.max(cursor!.partitionIndex, 0) : 0;
      const end = Math.min(described.partitions.length, start + remaining);
      const partitions = described.partitions.slice(start, end).map((partition) => ({
        // Kafka leaves the partition's error out here: a partition without a live leader has leader -1.
        errorCode: NONE,
        partitionIndex: partition.partitionIndex,
        leaderId: partition.leaderId,
        leaderEpoch: partition.leaderEpoch,
        replicaNodes: partition.replicaNodes,
        isrNodes: partition.isrNodes,
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: partition.offlineReplicas,
      }));
      topics.push({ errorCode: NONE, name, topicId: described.topicId, isInternal: described.isInternal, partitions, topicAuthorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED });
      if (end < described.partitions.length) {
        nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
      remaining -= partitions.length;
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
});
