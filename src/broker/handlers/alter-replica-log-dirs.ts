// AlterReplicaLogDirs (34): moves this broker's replicas between its log directories (log.dirs),
// as kafka-reassign-partitions does with a reassignment's "log_dirs" (KIP-113). Each partition's
// answer comes at once; the move itself runs in the background (Engine.alterLogDir:
// storage/log-mover.ts), and DescribeLogDirs shows its future replica until it is done.
//
// Errors as Kafka's: CLUSTER_AUTHORIZATION_FAILED without ALTER on the cluster, LOG_DIR_NOT_FOUND
// for a path that is not one of log.dirs, UNKNOWN_TOPIC_OR_PARTITION for a partition the broker
// does not know. A replica the broker does not hold yet (a reassignment is adding it) is answered
// NOT_LEADER_OR_FOLLOWER, and its directory is remembered: the replica is created there when it
// comes (Kafka's preferred log dir), and kafka-reassign-partitions' retry then finds it in place.
import { ApiKey } from '../../protocol/api-keys.js';
import { KafkaErrorCode } from '../../errors.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { AclOperation, allowedOnCluster } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';

export const alterReplicaLogDirsHandler = defineHandler({
  apiKey: ApiKey.AlterReplicaLogDirs,
  // Kafka 4.0 removed v0.
  minVersion: 1,
  maxVersion: 2,
  async handle(context, request) {
    const { broker } = context;
    const authorized = allowedOnCluster(context, AclOperation.ALTER);
    const byTopic = new Map<string, Array<{ partitionIndex: number; errorCode: number }>>();
    for (const { path: dir, topics } of request.dirs) {
      for (const { name, partitions } of topics) {
        let results = byTopic.get(name);
        if (results === undefined) byTopic.set(name, (results = []));
        for (const partition of partitions) {
          const errorCode = authorized ? startMove(broker, name, partition, dir) : KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED;
          results.push({ partitionIndex: partition, errorCode });
        }
      }
    }
    return { throttleTimeMs: 0, results: [...byTopic].map(([topicName, partitions]) => ({ topicName, partitions })) };
  },
});

function startMove(broker: BrokerContext, topic: string, partition: number, dir: string): number {
  const { engine } = broker;
  if (!engine.logDirs.includes(dir)) return KafkaErrorCode.LOG_DIR_NOT_FOUND;
  if (!engine.hasTopic(topic) || !Number.isInteger(partition) || partition < 0 || partition >= engine.partitionCount(topic)) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (!engine.hostsPartition(topic, partition)) {
    // A replica a reassignment is about to add: created in `dir` when it comes, as Kafka does.
    engine.preferLogDir(topic, partition, dir);
    return KafkaErrorCode.NOT_LEADER_OR_FOLLOWER;
  }
  const from = engine.logDirOf(topic, partition);
  if (from !== dir) broker.log.logger.info({ topic, partition, from, to: dir }, 'moving replica to another log dir');
  engine.alterLogDir(topic, partition, dir).then(
    () => {
      if (from !== dir) broker.log.logger.info({ topic, partition, dir }, 'replica moved to another log dir');
    },
    (error: unknown) => broker.log.logger.warn({ topic, partition, to: dir, code: errorCodeOf(error), error: errorMessageOf(error) ?? String(error) }, 'replica log dir move did not complete'),
  );
  return NONE;
}
