// OffsetForLeaderEpoch (23): where a leader epoch ends in the leader's log (KIP-101, KIP-279,
// KIP-320): the largest epoch <= the requested one, and the start offset of the epoch after it
// (or the log end offset when it is the latest). Clients (librdkafka 2.1+) validate their position
// with it after a leader change; a stale or future CurrentLeaderEpoch gets FENCED_LEADER_EPOCH /
// UNKNOWN_LEADER_EPOCH, a non-leader NOT_LEADER_OR_FOLLOWER.
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';
import { AclOperation, allowed, allowedClusterAction, deniedError, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf } from './errors.js';

/** A single broker stamps no epochs: its one epoch, 0, covers the whole log. */
const SINGLE_BROKER_EPOCH = 0;

export const offsetForLeaderEpochHandler = defineHandler({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(context, request) {
    const { broker } = context;
    const cluster = broker.cluster();
    // A follower (replica id >= 0, v3+) needs CLUSTER_ACTION; a client DESCRIBE on each topic.
    const follower = context.header.apiVersion >= 3 && request.replicaId >= 0;
    const replicaDenied = follower && !allowedClusterAction(context);
    const topics = request.topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, currentLeaderEpoch, leaderEpoch }) => {
        try {
          if (follower ? replicaDenied : !allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic)) throw deniedError(ResourceType.TOPIC);
          if (cluster === null) {
            const log = broker.engine.partitionLog(topic, partition);
            if (leaderEpoch < SINGLE_BROKER_EPOCH) return { errorCode: NONE, partition, leaderEpoch: -1, endOffset: -1 };
            return { errorCode: NONE, partition, leaderEpoch: SINGLE_BROKER_EPOCH, endOffset: log.logEndOffset };
          }
          const log = cluster.replicas.leaderLog(topic, partition, currentLeaderEpoch);
          const { epoch, endOffset } = log.endOffsetForEpoch(leaderEpoch);
          return { errorCode: NONE, partition, leaderEpoch: epoch, endOffset };
        } catch (error) {
          return { errorCode: errorCodeOf(error), partition, leaderEpoch: -1, endOffset: -1 };
        }
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
