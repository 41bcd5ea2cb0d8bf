// DescribeLogDirs (35): the partitions this broker holds in its one log directory (the engine's
// data dir), with their size and LEO - HW lag, as kafka-log-dirs reports them. In a cluster only
// the partitions this broker is a replica of: every broker keeps a log for every partition, but
// the others are empty placeholders, not replicas.
//
// Asked for (sluice's own request tag), each compacted log also carries the cleaner's figures
// (dirty ratio, last cleaning, uncleanable) in sluice's tagged fields
// (protocol/apis/describe-log-dirs.ts), which `sluice topics --describe` prints.
import { ApiKey } from '../../protocol/api-keys.js';
import { NEVER_CLEANED, NO_DIRTY_RATIO } from '../../protocol/apis/describe-log-dirs.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { AclOperation, allowedOnCluster } from '../authorizer/request-auth.js';
import { KafkaErrorCode } from '../../errors.js';
import { NONE } from './errors.js';

export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 3,
  async handle(context, request) {
    const { broker } = context;
    const { engine } = broker;
    // DESCRIBE on the cluster, as Kafka's (v3+ carries the error; older versions get no log dirs).
    if (!allowedOnCluster(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const wanted: Array<{ topic: string; partitions: readonly number[] }> =
      request.topics === null
        ? engine.listTopics().map((topic) => ({ topic, partitions: engine.describeTopic(topic).partitions.map(({ partition }) => partition) }))
        : request.topics;
    const topics = [];
    for (const { topic, partitions: asked } of wanted) {
      // Kafka leaves out what it does not host rather than answering an error for it.
      if (!engine.hasTopic(topic)) continue;
      const count = engine.partitionCount(topic);
      const partitions = [];
      for (const partition of asked) {
        if (partition < 0 || partition >= count || !holds(broker, topic, partition)) continue;
        const log = engine.partitionLog(topic, partition);
        const cleaner = request.includeCleanerFigures ? engine.cleanerStats(topic, partition) : undefined;
        partitions.push({
          partitionIndex: partition,
          partitionSize: log.sizeBytes(),
          offsetLag: Math.max(0, log.logEndOffset - log.highWatermark),
          isFutureKey: false,
          dirtyRatio: cleaner?.dirtyRatio ?? NO_DIRTY_RATIO,
          lastCleanedMs: cleaner?.lastCleanedMs ?? NEVER_CLEANED,
          uncleanable: cleaner !== undefined && cleaner.uncleanable !== null,
        });
      }
      if (partitions.length > 0) topics.push({ name: topic, partitions });
    }
    return { throttleTimeMs: 0, errorCode: NONE, results: [{ errorCode: NONE, logDir: engine.dataDir, topics }] };
  },
});

function holds(broker: BrokerContext, topic: string, partition: number): boolean {
  const cluster = broker.cluster();
  return cluster === null || cluster.replicas.holdsReplica(topic, partition);
}
