// The transaction APIs (KIP-98), answered by the transaction coordinator (txn/transaction-
// coordinator.ts) and, for offsets, the group coordinator: AddPartitionsToTxn (24),
// AddOffsetsToTxn (25), EndTxn (26), TxnOffsetCommit (28), DescribeTransactions (65) and
// ListTransactions (66); and WriteTxnMarkers (27), which a coordinator on another broker sends to
// the leader of a partition its transaction wrote to.
// AddPartitionsToTxn v4 (KIP-890 part 1) batches transactions and lets a partition leader verify
// that a transactional write belongs to an ongoing transaction (produce-verification.ts). Versions
// stop where transaction version 2 begins (AddPartitionsToTxn v5, EndTxn v5, TxnOffsetCommit v5's
// implicit partitions): sluice finalizes no transaction.version feature, so clients stay on the
// version 1 protocol.
// Authorization, as Kafka's: WRITE on the transactional id to add to or end a transaction (and WRITE
// on each topic added, READ on the group whose offsets join it), READ on the group and its topics to
// commit offsets in it, DESCRIBE on the id to describe or list it, and CLUSTER_ACTION for what only
// brokers send (WriteTxnMarkers, AddPartitionsToTxn v4).
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { Engine } from '../../engine/engine.js';
import type { ClusterNode } from '../cluster-node.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import { defineHandler, type AnyApiHandler } from '../handler.js';
import { appendMarker, type MarkerWriterDeps } from '../txn/marker-writer.js';
import type { FencedErrorName, TransactionCoordinator } from '../txn/transaction-coordinator.js';
import { TRANSACTION_STATUS } from '../txn/transaction-log-format.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../engine/topic-name.js';
import { NONE, errorCodeOf, partitionsFailed } from './errors.js';
import { AclOperation, allowed, allowedClusterAction, deniedError, ResourceType } from '../authorizer/request-auth.js';
import type { RequestContext } from '../handler.js';

/** From these versions a fenced producer is PRODUCER_FENCED, before INVALID_PRODUCER_EPOCH (KIP-588). */
function fencedError(version: number, fromVersion: number): FencedErrorName {
  return version >= fromVersion ? 'PRODUCER_FENCED' : 'INVALID_PRODUCER_EPOCH';
}

/** Kafka's error for the partitions not tried because another of the request's failed. */
const OPERATION_NOT_ATTEMPTED = 55;

/** The answer of an API whose response is one error code: NONE once `task` resolves, its error otherwise. */
async function errorCodeAnswer(task: () => Promise<unknown>): Promise<{ throttleTimeMs: number; errorCode: number }> {
  try {
    await task();
    return { throttleTimeMs: 0, errorCode: NONE };
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeOf(error) };
  }
}

interface TransactionPartitions {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  verifyOnly: boolean;
  topics: ReadonlyArray<{ name: string; partitions: readonly number[] }>;
  fenced: FencedErrorName;
}

/** Whether the request may write to the transaction, and to each topic (AddPartitionsToTxn). */
interface TransactionAccess {
  transaction: boolean;
  topic(name: string): boolean;
}

/** One transaction of AddPartitionsToTxn: its partitions added, or checked (verifyOnly), with a code per partition. */
async function addOrVerify(transactions: TransactionCoordinator, exists: (topic: string, partition: number) => boolean, request: TransactionPartitions, access: TransactionAccess) {
  const { topics } = request;
  const answer = (code: (topic: string, partition: number) => number) =>
    topics.map(({ name, partitions }) => ({
      name,
      resultsByPartition: partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(name, partitionIndex) })),
    }));
  if (!access.transaction) return answer(() => KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  // A topic not allowed fails alone; the others are not attempted (Kafka's answer).
  const deniedTopics = new Set(topics.filter(({ name }) => !access.topic(name)).map(({ name }) => name));
  if (deniedTopics.size > 0) return answer((topic) => (deniedTopics.has(topic) ? KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED : OPERATION_NOT_ATTEMPTED));
  // A partition that does not exist fails alone; the others are not attempted (Kafka's answer).
  if (topics.some(({ name, partitions }) => partitions.some((p) => !exists(name, p)))) {
    return answer((topic, partition) => (exists(topic, partition) ? OPERATION_NOT_ATTEMPTED : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  }
  try {
    const byTopic = new Map(topics.map(({ name, partitions }) => [name, [...partitions]]));
    if (request.verifyOnly) {
      const verified = transactions.verifyPartitions(request.transactionalId, request.producerId, request.producerEpoch, byTopic);
      return answer((topic, partition) => verified.get(topic)?.get(partition) ?? KafkaErrorCode.INVALID_TXN_STATE);
    }
    await transactions.addPartitions(request.transactionalId, request.producerId, request.producerEpoch, byTopic, request.fenced);
    return answer(() => NONE);
  } catch (error) {
    const code = errorCodeOf(error);
    return answer(() => code);
  }
}

export function transactionHandlers(transactions: TransactionCoordinator, groups: GroupCoordinator, markers: MarkerWriterDeps): AnyApiHandler[] {
  return [
    defineHandler({
      apiKey: ApiKey.AddPartitionsToTxn,
      minVersion: 0,
      maxVersion: 4,
      async handle(context, request) {
        const { broker, header } = context;
        const exists = (topic: string, partition: number) => partitionExists(broker.cluster(), broker.engine, topic, partition);
        const accessOf = (transactionalId: string, verifyOnly: boolean): TransactionAccess =>
          verifyOnly
            ? { transaction: true, topic: () => true }
            : { transaction: mayWriteTransaction(context, transactionalId), topic: (name) => allowed(context, AclOperation.WRITE, ResourceType.TOPIC, name) };
        if (header.apiVersion < 4) {
          const transaction = {
            transactionalId: request.v3AndBelowTransactionalId,
            producerId: request.v3AndBelowProducerId,
            producerEpoch: request.v3AndBelowProducerEpoch,
            verifyOnly: false,
            topics: request.v3AndBelowTopics,
            fenced: fencedError(header.apiVersion, 2),
          };
          const resultsByTopicV3AndBelow = await addOrVerify(transactions, exists, transaction, accessOf(transaction.transactionalId, false));
          return { throttleTimeMs: 0, resultsByTopicV3AndBelow };
        }
        // v4: several transactions, each added or, with VerifyOnly, checked (a partition leader's question).
        // Only brokers send v4 (Kafka's clients stop at v3): it takes CLUSTER_ACTION.
        if (!allowedClusterAction(context)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
        const resultsByTransaction = [];
        for (const transaction of request.transactions) {
          const topicResults = await addOrVerify(transactions, exists, { ...transaction, fenced: 'PRODUCER_FENCED' }, accessOf(transaction.transactionalId, transaction.verifyOnly));
          resultsByTransaction.push({ transactionalId: transaction.transactionalId, topicResults });
        }
        return { throttleTimeMs: 0, errorCode: NONE, resultsByTransaction };
      },
    }),
    defineHandler({
      apiKey: ApiKey.AddOffsetsToTxn,
      minVersion: 0,
      maxVersion: 3,
      handle(context, request) {
        const { header } = context;
        return errorCodeAnswer(async () => {
          if (!mayWriteTransaction(context, request.transactionalId)) throw deniedError(ResourceType.TRANSACTIONAL_ID);
          if (!allowed(context, AclOperation.READ, ResourceType.GROUP, request.groupId)) throw deniedError(ResourceType.GROUP);
          // The group's offsets go to its __consumer_offsets partition: that partition joins the transaction.
          await groups.ensureOffsetsTopic();
          const partition = groups.partitionFor(request.groupId);
          await transactions.addPartitions(
            request.transactionalId,
            request.producerId,
            request.producerEpoch,
            new Map([[CONSUMER_OFFSETS_TOPIC, [partition]]]),
            fencedError(header.apiVersion, 2),
          );
        });
      },
    }),
    defineHandler({
      apiKey: ApiKey.EndTxn,
      minVersion: 0,
      maxVersion: 4,
      handle(context, request) {
        const { header } = context;
        if (!mayWriteTransaction(context, request.transactionalId)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
        return errorCodeAnswer(() =>
          transactions.endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed, fencedError(header.apiVersion, 2)),
        );
      },
    }),
    defineHandler({
      apiKey: ApiKey.TxnOffsetCommit,
      minVersion: 0,
      maxVersion: 3,
      async handle(context, request) {
        const v3 = context.header.apiVersion >= 3;
        if (!allowed(context, AclOperation.READ, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, topics: partitionsFailed(request.topics, KafkaErrorCode.GROUP_AUTHORIZATION_FAILED) };
        const permitted = request.topics.filter(({ name }) => allowed(context, AclOperation.READ, ResourceType.TOPIC, name));
        const denied = partitionsFailed(request.topics.filter((topic) => !permitted.includes(topic)), KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const results = await groups.commitOffsets({
          groupId: request.groupId,
          generationId: v3 ? request.generationId : -1,
          memberId: v3 ? request.memberId : '',
          groupInstanceId: v3 ? request.groupInstanceId : null,
          topics: permitted.map(({ name, partitions }) => ({
            name,
            partitions: partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              committedOffset: p.committedOffset,
              committedLeaderEpoch: p.committedLeaderEpoch ?? -1,
              committedMetadata: p.committedMetadata,
            })),
          })),
          transaction: { producerId: request.producerId, producerEpoch: request.producerEpoch },
        });
        return { throttleTimeMs: 0, topics: [...results, ...denied] };
      },
    }),
    defineHandler({
      apiKey: ApiKey.WriteTxnMarkers,
      minVersion: 0,
      maxVersion: 1,
      async handle(context, request) {
        const clusterAction = allowedClusterAction(context);
        const markersOut = await Promise.all(
          request.markers.map(async (marker) => ({
            producerId: marker.producerId,
            topics: await Promise.all(
              marker.topics.map(async ({ name, partitionIndexes }) => ({
                name,
                partitions: await Promise.all(
                  partitionIndexes.map(async (partitionIndex) => {
                    try {
                      if (!clusterAction) throw deniedError(ResourceType.CLUSTER);
                      await appendMarker(markers, name, partitionIndex, {
                        producerId: marker.producerId,
                        producerEpoch: marker.producerEpoch,
                        commit: marker.transactionResult,
                        coordinatorEpoch: marker.coordinatorEpoch,
                        timestamp: Date.now(),
                      });
                      return { partitionIndex, errorCode: NONE };
                    } catch (error) {
                      return { partitionIndex, errorCode: errorCodeOf(error) };
                    }
                  }),
                ),
              })),
            ),
          })),
        );
        return { markers: markersOut };
      },
    }),
    defineHandler({
      apiKey: ApiKey.DescribeTransactions,
      minVersion: 0,
      maxVersion: 0,
      handle(context, request) {
        const transactionStates = request.transactionalIds.map((transactionalId) => {
          try {
            if (!allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) throw deniedError(ResourceType.TRANSACTIONAL_ID);
            const described = transactions.describe(transactionalId);
            return {
              errorCode: NONE,
              transactionalId,
              transactionState: described.state,
              transactionTimeoutMs: described.timeoutMs,
              transactionStartTimeMs: described.startTimeMs,
              producerId: described.producerId,
              producerEpoch: described.producerEpoch,
              topics: described.topics.filter(({ topic }) => allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic)),
            };
          } catch (error) {
            return { errorCode: errorCodeOf(error), transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] };
          }
        });
        return { throttleTimeMs: 0, transactionStates };
      },
    }),
    defineHandler({
      apiKey: ApiKey.ListTransactions,
      minVersion: 0,
      maxVersion: 1,
      handle(context, request) {
        const { header } = context;
        const known = new Set<string>(Object.keys(TRANSACTION_STATUS));
        const unknownStateFilters = request.stateFilters.filter((state) => !known.has(state));
        const states = new Set(request.stateFilters.filter((state) => known.has(state)));
        // Only unknown states asked for: nothing can match (Kafka's answer too).
        if (request.stateFilters.length > 0 && states.size === 0) return { throttleTimeMs: 0, errorCode: NONE, unknownStateFilters, transactionStates: [] };
        const durationMs = header.apiVersion >= 1 ? request.durationFilter : -1;
        const transactionStates = transactions
          .list(states, new Set(request.producerIdFilters), durationMs)
          .filter(({ transactionalId }) => allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId))
          .map(({ transactionalId, producerId, state }) => ({ transactionalId, producerId, transactionState: state }));
        return { throttleTimeMs: 0, errorCode: NONE, unknownStateFilters, transactionStates };
      },
    }),
  ];
}

function mayWriteTransaction(context: RequestContext, transactionalId: string): boolean {
  return allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId);
}

/** Whether the partition exists: in the cluster's metadata, or a single broker's engine. */
export function partitionExists(cluster: ClusterNode | null, engine: Engine, topic: string, partition: number): boolean {
  if (cluster !== null) return cluster.partition(topic, partition) !== undefined;
  return engine.hasTopic(topic) && partition >= 0 && partition < engine.partitionCount(topic);
}
