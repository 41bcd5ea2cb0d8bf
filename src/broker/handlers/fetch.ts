// Fetch (1): whole batches from each partition, as file regions that the connection sends with
// sendfile (zero copy), or as copied bytes when zero copy is off. Long poll: when fewer than
// min_bytes are ready, the request waits up to max_wait_ms for an append to one of its partitions.
// Incremental fetch sessions (KIP-227, fetch-sessions.ts): a full fetch at epoch 0 opens one; an
// incremental fetch reads every partition of its session and answers those with news.
// A follower's fetch (replica id >= 0) reads up to the log end and may be answered DivergingEpoch
// (replica-read.ts); in a cluster it also tells the leader the follower's LEO (replica-manager.ts),
// and leader.replication.throttled.rate may leave a throttled partition out (replication-quotas.ts).
// Follower fetching (KIP-392), with replica.selector.class set to Kafka's RackAwareReplicaSelector:
// the leader answers a consumer that names its rack (client.rack, Fetch v11+) with the id of an
// in-sync replica in that rack (preferredReadReplica) and no records; the client fetches from
// there, and the follower serves it to its own high watermark (ReplicaManager.readableLog).
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { LogRead } from '../../storage/log.js';
import type { FileRegion } from '../../native/binding.js';
import type { FetchRequestBody } from '../../protocol/index.js';
import { CONSUMER_BYTE_RATE } from '../client-quotas.js';
import { defineHandler, type RequestContext } from '../handler.js';
import type { EpochEndOffset } from '../replica-divergence.js';
import type { FetchTopics } from '../fetch-sessions.js';
import { fetchReplicaId, planPartitionRead } from '../replica-read.js';
import { NONE, storageErrorCodeOf } from './errors.js';
import { ZERO_UUID } from './metadata.js';
import { AclOperation, allowed, allowedClusterAction, ResourceType } from '../authorizer/request-auth.js';

const READ_COMMITTED = 1;
const EMPTY_RECORDS = Buffer.alloc(0);

export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  // v0-v3 return the pre-0.11 message format, which would mean converting every batch.
  minVersion: 4,
  maxVersion: 17,
  async handle(context, request) {
    const apiVersion = context.header.apiVersion;
    const sessions = context.broker.fetchSessions;
    const fetchContext = sessions.contextOf(request, apiVersion);
    if (fetchContext.kind === 'error') return { throttleTimeMs: 0, errorCode: fetchContext.errorCode, sessionId: 0, responses: [] };
    const session = fetchContext.kind === 'incremental' ? fetchContext.session : null;
    const topics = session !== null ? session.topics() : request.topics;
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    // Followers that serve consumers (replica.selector.class) must learn a new high watermark as
    // it moves, not when their parked fetch times out (replica.fetch.wait.max.ms, 500 ms): a
    // consumer reading a follower got each record ~530 ms after its ack. So a follower's fetch
    // parked here is answered once the high watermark of one of its partitions moves.
    const propagateHighWatermark = fetchReplicaId(request, context.header.apiVersion) >= 0 && context.broker.cluster()?.replicas.followersServeConsumers === true;
    let firstHighWatermarks: number | undefined;
    for (;;) {
      const { response, bytes, capped, partitions, failed, highWatermarkSum, highWatermarkSumBefore, leaderThrottledBytes } = readPartitions(context, request, topics);
      const remainingMs = deadline - Date.now();
      // Before this fetch moved them: its own fetch offset can complete the ISR's and so move the HW.
      firstHighWatermarks ??= highWatermarkSumBefore;
      const highWatermarkMoved = propagateHighWatermark && highWatermarkSum !== firstHighWatermarks;
      // As Kafka: a min_bytes above what the response may carry waits for no more than that.
      if (bytes >= request.minBytes || capped || failed || highWatermarkMoved || remainingMs <= 0 || partitions.length === 0) {
        const throttleTimeMs = consumerQuotaThrottleMs(context, request, bytes);
        if (throttleTimeMs > 0) {
          // Over consumer_byte_rate: answered without records (Kafka's throttled response), and
          // the bytes are not counted, since they are not sent.
          for (const release of response.releases) release();
          context.throttle(throttleTimeMs);
          return { throttleTimeMs, errorCode: NONE, sessionId: session?.id ?? 0, responses: [] };
        }
        for (const release of response.releases) context.onResponseSent(release);
        // A follower's bytes of throttled partitions count against leader.replication.throttled.rate.
        if (leaderThrottledBytes > 0) context.broker.cluster()?.replicas.countLeaderThrottled(leaderThrottledBytes);
        const body = response.body;
        if (session !== null) {
          body.sessionId = session.id;
          body.responses = session.answer(topics, body.responses);
        } else if (fetchContext.kind === 'full' && fetchContext.create) {
          body.sessionId = sessions.create(fetchReplicaId(request, apiVersion) >= 0, apiVersion >= 13, topics, body.responses);
        }
        return body;
      }
      for (const release of response.releases) release();
      await context.park(context.broker.appendWaiters.waitForAppend(partitions, remainingMs, context.signal));
      // Woken by the connection closing (or the broker stopping): nothing is sent.
      if (context.signal.aborted || context.broker.engine.isClosed) return null;
    }
  },
});

/**
 * consumer_byte_rate (client-quotas.ts): the response's bytes count against a consumer's quota; a
 * follower's fetch is never throttled. Over it: the throttle time, with the bytes taken back.
 */
function consumerQuotaThrottleMs(context: RequestContext, request: FetchRequestBody, bytes: number): number {
  if (fetchReplicaId(request, context.header.apiVersion) >= 0) return 0;
  const quotas = context.broker.quotas;
  const throttleMs = quotas.record(CONSUMER_BYTE_RATE, context.quotaClient, bytes);
  if (throttleMs > 0) quotas.unrecord(CONSUMER_BYTE_RATE, context.quotaClient, bytes);
  return throttleMs;
}

/**
 * The response's bytes at most, as Kafka's: the request's max_bytes (v3+; no limit before it)
 * capped by the broker's fetch.max.bytes.
 */
function fetchMaxBytes(context: RequestContext, request: FetchRequestBody): number {
  const requested = context.header.apiVersion >= 3 ? request.maxBytes : Infinity;
  // A consumer under consumer_byte_rate gets no more than its quota allows in one window.
  const quotaBytes = fetchReplicaId(request, context.header.apiVersion) >= 0 ? Infinity : context.broker.quotas.maxBytesInWindow(CONSUMER_BYTE_RATE, context.quotaClient);
  return Math.min(requested, context.broker.settings.fetchMaxBytes, Math.floor(quotaBytes));
}

/** Reads `topics`: the request's, or its session's partitions (an incremental fetch names only what changed). */
function readPartitions(context: RequestContext, request: FetchRequestBody, topics: FetchTopics) {
  const { engine, zeroCopyFetch } = context.broker;
  const byId = context.header.apiVersion >= 13;
  const capBytes = fetchMaxBytes(context, request);
  let remainingBytes = capBytes;
  // Copied records are held in JS until written: a fetch copies no more than the broker-wide
  // allowance has left, so clients that do not read cannot pin memory without bound.
  const copyMemory = zeroCopyFetch ? null : context.broker.fetchCopyMemory;
  if (copyMemory !== null) remainingBytes = Math.min(remainingBytes, copyMemory.availableUnits);
  let bytes = 0;
  /** Of `bytes`, those of partitions under the leader's replication quota (replication-quotas.ts). */
  let leaderThrottledBytes = 0;
  /** The partitions' high watermarks added up: it moves when one of them does (they never go back on a leader). */
  let highWatermarkSum = 0;
  /** The same before a follower's fetch offsets were taken into account (which may move them). */
  let highWatermarkSumBefore = 0;
  let failed = false;
  /** Records were left unread for want of room in the response (see below). */
  let capped = false;
  let minOneBatch = remainingBytes > 0;
  const releases: Array<() => void> = [];
  const partitions: Array<{ topic: string; partition: number }> = [];
  const replicaId = fetchReplicaId(request, context.header.apiVersion);
  if (replicaId >= 0) context.exemptFromQuotas?.();
  const readCommitted = request.isolationLevel === READ_COMMITTED;
  /** A consumer's rack (client.rack, Fetch v11+); null for none, a follower, or an older Fetch. */
  const clientRack = replicaId < 0 && context.header.apiVersion >= 11 && request.rackId !== '' ? request.rackId : null;
  // A follower needs CLUSTER_ACTION on the cluster, a consumer READ on each topic; else the
  // partitions answer TOPIC_AUTHORIZATION_FAILED, as Kafka's do.
  const replicaDenied = replicaId >= 0 && !allowedClusterAction(context);
  const responses = topics.map((topicRequest) => {
    const name = byId ? engine.topicNameById(topicRequest.topicId) : topicRequest.topic;
    const denied = name !== undefined && (replicaId >= 0 ? replicaDenied : !allowed(context, AclOperation.READ, ResourceType.TOPIC, name));
    return {
      topic: name ?? '',
      topicId: byId ? topicRequest.topicId : ((name && engine.topicId(name)) ?? ZERO_UUID),
      partitions: topicRequest.partitions.map(({ partition, fetchOffset, partitionMaxBytes, lastFetchedEpoch, currentLeaderEpoch }) => {
        const answer = {
          partitionIndex: partition,
          errorCode: NONE as number,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          abortedTransactions: readCommitted ? ([] as Array<{ producerId: number; firstOffset: number }>) : null,
          preferredReadReplica: -1,
          divergingEpoch: undefined as EpochEndOffset | undefined,
          // Kafka sends an empty record set, not a null one, when there is nothing to return;
          // librdkafka reads a null (-1) size as a protocol error.
          records: EMPTY_RECORDS as Buffer | FileRegion,
        };
        if (name === undefined || denied) {
          answer.errorCode = denied ? KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED : KafkaErrorCode.UNKNOWN_TOPIC_ID;
          failed = true;
          return answer;
        }
        try {
          // In a cluster the leader serves fetches, at the request's leader epoch when it names one
          // (KIP-320: FENCED_ / UNKNOWN_LEADER_EPOCH); with replica.selector.class, a consumer
          // that names its rack may also read a follower, to its high watermark (KIP-392).
          const cluster = context.broker.cluster();
          const log =
            cluster === null
              ? engine.partitionLog(name, partition)
              : clientRack !== null
                ? cluster.replicas.readableLog(name, partition, currentLeaderEpoch, fetchOffset)
                : cluster.replicas.leaderLog(name, partition, currentLeaderEpoch);
          if (cluster !== null && replicaId >= 0) cluster.replicas.checkFollower(name, partition, replicaId);
          highWatermarkSumBefore += log.highWatermark;
          const plan = planPartitionRead(log, replicaId, name, partition, fetchOffset, lastFetchedEpoch);
          // read_committed stops at the last stable offset: no record of a transaction still open.
          const lastStableOffset = log.lastStableOffset;
          if (readCommitted && replicaId < 0) plan.maxOffset = Math.min(plan.maxOffset, lastStableOffset);
          // A follower's fetch offset is its LEO (when its log agrees with ours): the leader's view
          // of it, and so the HW, move before the answer is made.
          if (cluster !== null && plan.follower !== null) cluster.replicas.recordFollowerFetch(name, partition, replicaId, fetchOffset);
          answer.highWatermark = log.highWatermark;
          highWatermarkSum += log.highWatermark;
          answer.lastStableOffset = lastStableOffset;
          answer.logStartOffset = log.logStartOffset;
          partitions.push({ topic: name, partition });
          // replica.selector.class chose a replica in the consumer's rack: no records, the
          // replica's id, answered at once, as Kafka's leader does.
          const preferred = cluster === null || clientRack === null ? -1 : cluster.replicas.preferredReadReplica(name, partition, fetchOffset, clientRack);
          if (preferred >= 0) {
            answer.preferredReadReplica = preferred;
            failed = true;
            return answer;
          }
          if (plan.divergingEpoch) {
            answer.divergingEpoch = plan.divergingEpoch;
            failed = true; // answered at once, as an error is
            return answer;
          }
          // leader.replication.throttled.rate: an out-of-sync follower over it gets no records of a
          // throttled partition this time (Kafka's shouldLeaderThrottle); it fetches again.
          const throttle = cluster !== null && plan.follower !== null ? cluster.replicas.leaderThrottle(name, partition, replicaId, log) : 'none';
          if (throttle === 'hold') return answer;
          const roomBytes = Math.max(remainingBytes, 0);
          const capRoomBytes = Math.max(capBytes - bytes, 0);
          const read = remainingBytes > 0 || minOneBatch
            ? log.read(fetchOffset, Math.min(partitionMaxBytes, roomBytes), { maxOffset: plan.maxOffset, minOneBatch })
            : null;
          if (read) {
            answer.records = zeroCopyFetch ? regionOf(read, releases) : log.readBytes(read);
            bytes += read.region.sizeBytes;
            if (throttle === 'count') leaderThrottledBytes += read.region.sizeBytes;
            remainingBytes -= read.region.sizeBytes;
            minOneBatch = false;
            // The consumer drops the records of these (KIP-98): their ABORT markers may lie past
            // what it reads now, so it learns them with the records (by first offset, see Log).
            if (readCommitted) {
              answer.abortedTransactions = log.abortedTransactions(fetchOffset, read.region.lastOffset + 1).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
            }
          }
          // The response's cap (max_bytes, fetch.max.bytes), not the partition's max nor the copy
          // allowance, left records of it unread: the response is as full as it may be. Kafka
          // counts the bytes available (up to each partition's max) against min_bytes, so such a
          // fetch is answered, not parked.
          const readEnd = read ? read.region.lastOffset + 1 : fetchOffset;
          if (capRoomBytes <= roomBytes && capRoomBytes < partitionMaxBytes && readEnd < Math.min(plan.maxOffset, log.logEndOffset)) capped = true;
        } catch (error) {
          answer.errorCode = storageErrorCodeOf(context.broker, error, name, partition);
          failed = true;
        }
        return answer;
      }),
    };
  });
  if (copyMemory !== null && bytes > 0 && copyMemory.tryTake(bytes)) releases.push(() => copyMemory.give(bytes));
  return {
    response: { body: { throttleTimeMs: 0, errorCode: NONE, sessionId: 0, responses, nodeEndpoints: [] }, releases },
    bytes,
    capped,
    partitions,
    failed,
    highWatermarkSum,
    highWatermarkSumBefore,
    leaderThrottledBytes,
  };
}

/** The batches as a file region, with the segment pinned open until the transfer has its own fd. */
function regionOf(read: LogRead, releases: Array<() => void>): FileRegion {
  releases.push(read.segment.pin());
  return { fd: read.segment.fd, position: read.region.position, count: read.region.sizeBytes };
}
