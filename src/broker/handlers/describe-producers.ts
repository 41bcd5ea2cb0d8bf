// DescribeProducers (61, KIP-664): the idempotent producers each partition's leader has state for
// (their epoch, last sequence and last write), what kafka-transactions describe-producers prints.
// sluice has no transactions, so no producer has a transaction open (currentTxnStartOffset -1,
// coordinatorEpoch -1). In a cluster only the partition's leader answers (NOT_LEADER_OR_FOLLOWER).
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';
import { AclOperation, requireAllowed, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf } from './errors.js';

export const describeProducersHandler = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(context, request) {
    const { broker } = context;
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        try {
          // READ on the topic, as Kafka's.
          requireAllowed(context, AclOperation.READ, ResourceType.TOPIC, topic.name);
          const cluster = broker.cluster();
          const log = cluster === null ? broker.engine.partitionLog(topic.name, partitionIndex) : cluster.replicas.leaderLog(topic.name, partitionIndex);
          const activeProducers = log.producers
            .activeProducers()
            .sort((a, b) => a.producerId - b.producerId)
            .map((producer) => ({ ...producer, coordinatorEpoch: -1 }));
          return { partitionIndex, errorCode: NONE, errorMessage: null, activeProducers };
        } catch (error) {
          return { partitionIndex, errorCode: errorCodeOf(error), errorMessage: (error as Error).message, activeProducers: [] };
        }
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
