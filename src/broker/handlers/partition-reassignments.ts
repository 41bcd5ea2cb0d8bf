// AlterPartitionReassignments (45) and ListPartitionReassignments (46), answered by the active
// controller (Kafka's admin client sends both there; any other broker says NOT_CONTROLLER). The
// controller starts, completes or cancels each move (src/cluster/partition-reassignment.ts).
// A single broker holds every replica itself: a target of just itself is already in place, any
// other names brokers that do not exist, and nothing is ever in flight.
import { KafkaErrorCode, SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';
import { AclOperation, allowedOnCluster, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';

interface PartitionAnswer {
  topic: string;
  partition: number;
  error: SluiceError | null;
}

function alterAnswer(errorCode: number, errorMessage: string | null, results: readonly PartitionAnswer[]) {
  const byTopic = new Map<string, Array<{ partitionIndex: number; errorCode: number; errorMessage: string | null }>>();
  for (const { topic, partition, error } of results) {
    const list = byTopic.get(topic) ?? [];
    list.push({ partitionIndex: partition, errorCode: error === null ? NONE : errorCodeOf(error), errorMessage: error === null ? null : errorMessageOf(error) });
    byTopic.set(topic, list);
  }
  return { throttleTimeMs: 0, errorCode, errorMessage, responses: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
}

export const alterPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(context, request) {
    const { broker } = context;
    if (!allowedOnCluster(context, AclOperation.ALTER)) {
      const { errorCode, errorMessage } = deniedAnswer(ResourceType.CLUSTER);
      return alterAnswer(errorCode, errorMessage, []);
    }
    const asked = request.topics.flatMap(({ name, partitions }) => partitions.map(({ partitionIndex, replicas }) => ({ topic: name, partition: partitionIndex, replicas })));
    const cluster = broker.cluster();
    if (cluster === null) {
      const nodeId = broker.settings.nodeId;
      return alterAnswer(
        NONE,
        null,
        asked.map(({ topic, partition, replicas }) => {
          const known = broker.engine.hasTopic(topic) && partition >= 0 && partition < broker.engine.partitionCount(topic);
          let error: SluiceError | null = null;
          if (!known) error = new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`);
          else if (replicas === null) error = new SluiceError('NO_REASSIGNMENT_IN_PROGRESS', 'No partition reassignment is in progress for this partition.');
          else if (replicas.length !== 1 || replicas[0] !== nodeId) {
            error = new SluiceError('INVALID_REPLICA_ASSIGNMENT', `Replica list [${replicas.join(',')}] names brokers that are not alive: this broker (${nodeId}) is the only one.`);
          }
          return { topic, partition, error };
        }),
      );
    }
    const controller = cluster.activeController;
    if (controller === undefined) return alterAnswer(KafkaErrorCode.NOT_CONTROLLER, 'This broker is not the controller.', []);
    try {
      return alterAnswer(NONE, null, await controller.alterPartitionReassignments(asked));
    } catch (error) {
      return alterAnswer(errorCodeOf(error), errorMessageOf(error), []);
    }
  },
});

export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(context, request) {
    const { broker } = context;
    const answer = (errorCode: number, errorMessage: string | null, ongoing: ReadonlyArray<{ topic: string; partition: number; replicas: number[]; adding: number[]; removing: number[] }>) => {
      const byTopic = new Map<string, Array<{ partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }>>();
      for (const { topic, partition, replicas, adding, removing } of ongoing) {
        const list = byTopic.get(topic) ?? [];
        list.push({ partitionIndex: partition, replicas, addingReplicas: adding, removingReplicas: removing });
        byTopic.set(topic, list);
      }
      return { throttleTimeMs: 0, errorCode, errorMessage, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
    };
    if (!allowedOnCluster(context, AclOperation.DESCRIBE)) {
      const { errorCode, errorMessage } = deniedAnswer(ResourceType.CLUSTER);
      return answer(errorCode, errorMessage, []);
    }
    const cluster = broker.cluster();
    if (cluster === null) return answer(NONE, null, []);
    const controller = cluster.activeController;
    if (controller === undefined) return answer(KafkaErrorCode.NOT_CONTROLLER, 'This broker is not the controller.', []);
    const asked = request.topics?.flatMap(({ name, partitionIndexes }) => partitionIndexes.map((partition) => ({ topic: name, partition }))) ?? null;
    try {
      return answer(NONE, null, controller.listPartitionReassignments(asked));
    } catch (error) {
      return answer(errorCodeOf(error), errorMessageOf(error), []);
    }
  },
});
