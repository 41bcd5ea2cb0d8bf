// ElectLeaders (43): preferred (0) or unclean (1) leader election on request, answered by the
// active controller (Kafka's admin client sends it there; any other broker says NOT_CONTROLLER).
// A single broker leads everything already: every partition named gets ELECTION_NOT_NEEDED.
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';
import { AclOperation, allowedOnCluster, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';

const ELECTION_TYPES = ['PREFERRED', 'UNCLEAN'] as const;

export const electLeadersHandler = defineHandler({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(context, request) {
    const { broker, header } = context;
    // v0 has no election type: preferred.
    const type = ELECTION_TYPES[header.apiVersion === 0 ? 0 : request.electionType];
    const cluster = broker.cluster();
    const asked = request.topicPartitions?.flatMap(({ topic, partitionId }) => partitionId.map((partition) => ({ topic, partition }))) ?? null;
    const answer = (errorCode: number, results: Array<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }>) => {
      const byTopic = new Map<string, Array<{ partitionId: number; errorCode: number; errorMessage: string | null }>>();
      for (const { topic, partition, errorCode: code, errorMessage } of results) {
        const list = byTopic.get(topic) ?? [];
        list.push({ partitionId: partition, errorCode: code, errorMessage });
        byTopic.set(topic, list);
      }
      return { throttleTimeMs: 0, errorCode, replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })) };
    };
    // ALTER on the cluster, as Kafka's: every partition asked for answers CLUSTER_AUTHORIZATION_FAILED otherwise.
    if (!allowedOnCluster(context, AclOperation.ALTER)) {
      const { errorCode, errorMessage } = deniedAnswer(ResourceType.CLUSTER);
      return answer(errorCode, (asked ?? []).map(({ topic, partition }) => ({ topic, partition, errorCode, errorMessage })));
    }
    if (type === undefined) return answer(KafkaErrorCode.INVALID_REQUEST, []);
    if (cluster === null) {
      // Asked for every partition (null), Kafka's controller leaves out those that need no
      // election, and here none does.
      return answer(
        NONE,
        (asked ?? []).map(({ topic, partition }) => {
          const known = broker.engine.hasTopic(topic) && partition < broker.engine.partitionCount(topic);
          return known
            ? { topic, partition, errorCode: KafkaErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' }
            : { topic, partition, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
        }),
      );
    }
    const controller = cluster.activeController;
    if (controller === undefined) {
      // v0 has no top-level error code: each partition says it.
      const code = KafkaErrorCode.NOT_CONTROLLER;
      return answer(code, (asked ?? []).map(({ topic, partition }) => ({ topic, partition, errorCode: code, errorMessage: 'This broker is not the controller.' })));
    }
    try {
      const results = await controller.electLeaders(type, asked);
      return answer(
        NONE,
        results.map(({ topic, partition, error }) => ({ topic, partition, errorCode: error === null ? NONE : errorCodeOf(error), errorMessage: error === null ? null : errorMessageOf(error) })),
      );
    } catch (error) {
      return answer(errorCodeOf(error), (asked ?? []).map(({ topic, partition }) => ({ topic, partition, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) })));
    }
  },
});
