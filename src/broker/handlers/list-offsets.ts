// ListOffsets (2): earliest (-2), latest (-1), the record with the largest timestamp (-3,
// KIP-734), or the first record at or after a timestamp. v0 answers in its old shape, a list of offsets.
// "Latest" is the high watermark for a consumer (replica id -1) and the log end offset for anyone
// else, a follower (>= 0) or a debugging replica (-2), as in Kafka: a follower whose fetch offset is
// out of range asks the leader's log end to truncate to (replica-fetcher.ts).
import { ApiKey } from '../../protocol/api-keys.js';
import type { Log } from '../../storage/log.js';
import { defineHandler } from '../handler.js';
import { CONSUMER_REPLICA_ID } from '../replica-read.js';
import { NONE, errorCodeOf } from './errors.js';
import { AclOperation, allowed, deniedError, ResourceType } from '../authorizer/request-auth.js';

export const LATEST_TIMESTAMP = -1;
/** Kafka's ListOffsetsRequest.DEBUGGING_REPLICA_ID. */
const DEBUGGING_REPLICA_ID = -2;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
const READ_COMMITTED = 1;
/** Tiered storage's earliest-local (-4) and earliest-pending-upload (-5): all of our log is local. */
const EARLIEST_LOCAL_TIMESTAMP = -4;

export const listOffsetsHandler = defineHandler({
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 9,
  handle(context, request) {
    const { broker, header } = context;
    const topics = request.topics.map((topic) => {
      const denied = !allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name);
      return {
        name: topic.name,
        partitions: topic.partitions.map(({ partitionIndex, timestamp, currentLeaderEpoch }) => {
          try {
            if (denied) throw deniedError(ResourceType.TOPIC);
            // In a cluster only the leader answers, and a stale or future epoch is refused (KIP-320).
            const cluster = broker.cluster();
            // Kafka's debugging replica id (-2) may read a follower's log.
            const log =
              cluster === null
                ? broker.engine.partitionLog(topic.name, partitionIndex)
                : request.replicaId === DEBUGGING_REPLICA_ID
                  ? cluster.replicas.localLog(topic.name, partitionIndex)
                  : cluster.replicas.leaderLog(topic.name, partitionIndex, currentLeaderEpoch);
            const found = lookup(log, timestamp, request.replicaId, request.isolationLevel === READ_COMMITTED);
            return {
              partitionIndex,
              errorCode: NONE,
              oldStyleOffsets: header.apiVersion === 0 && found.offset >= 0 ? [found.offset] : [],
              timestamp: found.timestamp,
              offset: found.offset,
              leaderEpoch: found.offset >= 0 && cluster !== null ? log.epochForOffset(Math.max(found.offset - (timestamp === LATEST_TIMESTAMP ? 1 : 0), log.logStartOffset)) : -1,
            };
          } catch (error) {
            return { partitionIndex, errorCode: errorCodeOf(error), oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
          }
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
});

/**
 * read_committed (v2+) answers "latest" with the last stable offset, and a timestamp's offset only
 * below it, as Kafka does: a consumer is never sent to records it may not read yet.
 */
function lookup(log: Log, timestamp: number, replicaId: number, readCommitted: boolean): { offset: number; timestamp: number } {
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      if (replicaId !== CONSUMER_REPLICA_ID) return { offset: log.logEndOffset, timestamp: -1 };
      return { offset: readCommitted ? log.lastStableOffset : log.highWatermark, timestamp: -1 };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { offset: log.logStartOffset, timestamp: -1 };
    case MAX_TIMESTAMP:
      return log.maxTimestampAndOffset() ?? { offset: -1, timestamp: -1 };
    default: {
      const found = log.offsetForTimestamp(timestamp);
      if (found === null || (readCommitted && found.offset >= log.lastStableOffset)) return { offset: -1, timestamp: -1 };
      return found;
    }
  }
}
