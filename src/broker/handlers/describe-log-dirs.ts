// DescribeLogDirs (35): each of this broker's log directories (log.dirs) with the partitions it
// holds, their size and LEO - HW lag, and (v4) the file system's total and usable bytes, as
// kafka-log-dirs reports them. A replica being moved to another directory (AlterReplicaLogDirs)
// is also listed there as a future replica (isFutureKey), its lag how far its copy is behind. Every directory is listed, also one holding none of the partitions
// asked for. A directory offline (its disk failed, KIP-112) is answered KAFKA_STORAGE_ERROR with
// no partitions and no sizes, as Kafka's. In a cluster only the partitions this broker is a replica of: every broker keeps a log
// for every partition, but the others are empty placeholders, not replicas.
//
// Asked for (sluice's own request tag), each compacted log also carries the cleaner's figures
// (dirty ratio, last cleaning, uncleanable) in sluice's tagged fields
// (protocol/apis/describe-log-dirs.ts), which `sluice topics --describe` prints.
import fs from 'node:fs';

import { ApiKey } from '../../protocol/api-keys.js';
import { NEVER_CLEANED, NO_DIRTY_RATIO, type DescribeLogDirsResponseBody } from '../../protocol/apis/describe-log-dirs.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { AclOperation, allowedOnCluster } from '../authorizer/request-auth.js';
import { KafkaErrorCode } from '../../errors.js';
import { NONE } from './errors.js';

export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 4,
  async handle(context, request) {
    const { broker } = context;
    const { engine } = broker;
    // DESCRIBE on the cluster, as Kafka's (v3+ carries the error; older versions get no log dirs).
    if (!allowedOnCluster(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const wanted: Array<{ topic: string; partitions: readonly number[] }> =
      request.topics === null
        ? engine.listTopics().map((topic) => ({ topic, partitions: engine.describeTopic(topic).partitions.map(({ partition }) => partition) }))
        : request.topics;
    const topicsByDir = new Map<string, Topic[]>(engine.logDirs.map((dir) => [dir, []]));
    const moves = new Map(engine.logDirMoves().map((move) => [`${move.topic}\u0000${move.partition}`, move]));
    const offline = engine.offlineLogDirs();
    const offlineDirs = new Set(offline.map(({ dir }) => dir));
    const offlinePartitions = new Set(offline.flatMap(({ partitions }) => partitions.map(({ topic, partition }) => `${topic}\u0000${partition}`)));
    for (const { topic, partitions: asked } of wanted) {
      // Kafka leaves out what it does not host rather than answering an error for it.
      if (!engine.hasTopic(topic)) continue;
      const count = engine.partitionCount(topic);
      const byDir = new Map<string, Topic>();
      const entryIn = (dir: string): Topic => {
        let entry = byDir.get(dir);
        if (entry === undefined) {
          entry = { name: topic, partitions: [] };
          byDir.set(dir, entry);
          topicsByDir.get(dir)!.push(entry);
        }
        return entry;
      };
      for (const partition of asked) {
        if (partition < 0 || partition >= count || !holds(broker, topic, partition) || offlinePartitions.has(`${topic}\u0000${partition}`)) continue;
        const log = engine.partitionLog(topic, partition);
        const cleaner = request.includeCleanerFigures ? engine.cleanerStats(topic, partition) : undefined;
        const move = moves.get(`${topic}\u0000${partition}`);
        if (move !== undefined) {
          entryIn(move.to).partitions.push({
            partitionIndex: partition,
            partitionSize: move.sizeBytes,
            offsetLag: move.lag,
            isFutureKey: true,
            dirtyRatio: NO_DIRTY_RATIO,
            lastCleanedMs: NEVER_CLEANED,
            uncleanable: false,
          });
        }
        entryIn(engine.logDirOf(topic, partition)).partitions.push({
          partitionIndex: partition,
          partitionSize: log.sizeBytes(),
          offsetLag: Math.max(0, log.logEndOffset - log.highWatermark),
          isFutureKey: false,
          dirtyRatio: cleaner?.dirtyRatio ?? NO_DIRTY_RATIO,
          lastCleanedMs: cleaner?.lastCleanedMs ?? NEVER_CLEANED,
          uncleanable: cleaner !== undefined && cleaner.uncleanable !== null,
        });
      }
    }
    const results = [...topicsByDir].map(([logDir, topics]) =>
      offlineDirs.has(logDir)
        ? { errorCode: KafkaErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1, usableBytes: -1 }
        : { errorCode: NONE, logDir, topics, ...fileSystemBytes(logDir) },
    );
    return { throttleTimeMs: 0, errorCode: NONE, results };
  },
});

/** The file system's size and what an unprivileged writer may still use (statfs); -1 when unknown, as Kafka's default. */
function fileSystemBytes(dir: string): { totalBytes: number; usableBytes: number } {
  try {
    const stats = fs.statfsSync(dir);
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}

type Topic = DescribeLogDirsResponseBody['results'][number]['topics'][number];

function holds(broker: BrokerContext, topic: string, partition: number): boolean {
  const cluster = broker.cluster();
  return cluster === null || cluster.replicas.holdsReplica(topic, partition);
}
