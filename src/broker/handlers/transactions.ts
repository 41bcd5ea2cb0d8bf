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
import { NONE, errorCodeOf } from './errors.js';

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

/** One transaction of AddPartitionsToTxn: its partitions added, or checked (verifyOnly), with a code per partition. */
async function addOrVerify(transactions: TransactionCoordinator, exists: (topic: string, partition: number) => boolean, request: TransactionPartitions) {
  const { topics } = request;
  const answer = (code: (topic: string, partition: number) => number) =>
    topics.map(({ name, partitions }) => ({
      name,
      resultsByPartition: partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(name, partitionIndex) })),
    }));
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
      async handle({ broker, header }, request) {
        const exists = (topic: string, partition: number) => partitionExists(broker.cluster(), broker.engine, topic, partition);
        if (header.apiVersion < 4) {
          const resultsByTopicV3AndBelow = await addOrVerify(transactions, exists, {
            transactionalId: request.v3AndBelowTransactionalId,
            producerId: request.v3AndBelowProducerId,
            producerEpoch: request.v3AndBelowProducerEpoch,
            verifyOnly: false,
            topics: request.v3AndBelowTopics,
            fenced: fencedError(header.apiVersion, 2),
          });
          return { throttleTimeMs: 0, resultsByTopicV3AndBelow };
        }
        // v4: several transactions, each added or, with VerifyOnly, checked (a partition leader's question).
        const resultsByTransaction = [];
        for (const transaction of request.transactions) {
          const topicResults = await addOrVerify(transactions, exists, { ...transaction, fenced: 'PRODUCER_FENCED' });
          resultsByTransaction.push({ transactionalId: transaction.transactionalId, topicResults });
        }
        return { throttleTimeMs: 0, errorCode: NONE, resultsByTransaction };
      },
    }),
    defineHandler({
      apiKey: ApiKey.AddOffsetsToTxn,
      minVersion: 0,
      maxVersion: 3,
      handle({ header }, request) {
        return errorCodeAnswer(async () => {
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
      handle({ header }, request) {
        return errorCodeAnswer(() =>
          transactions.endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed, fencedError(header.apiVersion, 2)),
        );
      },
    }),
    defineHandler({
      apiKey: ApiKey.TxnOffsetCommit,
      minVersion: 0,
      maxVersion: 3,
      async handle({ header }, request) {
        const v3 = header.apiVersion >= 3;
        const results = await groups.commitOffsets({
          groupId: request.groupId,
          generationId: v3 ? request.generationId : -1,
          memberId: v3 ? request.memberId : '',
          groupInstanceId: v3 ? request.groupInstanceId : null,
          topics: request.topics.map(({ name, partitions }) => ({
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
        return { throttleTimeMs: 0, topics: results };
      },
    }),
    defineHandler({
      apiKey: ApiKey.WriteTxnMarkers,
      minVersion: 0,
      maxVersion: 1,
      async handle(_context, request) {
        const markersOut = await Promise.all(
          request.markers.map(async (marker) => ({
            producerId: marker.producerId,
            topics: await Promise.all(
              marker.topics.map(async ({ name, partitionIndexes }) => ({
                name,
                partitions: await Promise.all(
                  partitionIndexes.map(async (partitionIndex) => {
                    try {
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
      handle(_context, request) {
        const transactionStates = request.transactionalIds.map((transactionalId) => {
          try {
            const described = transactions.describe(transactionalId);
            return {
              errorCode: NONE,
              transactionalId,
              transactionState: described.state,
              transactionTimeoutMs: described.timeoutMs,
              transactionStartTimeMs: described.startTimeMs,
              producerId: described.producerId,
              producerEpoch: described.producerEpoch,
              topics: described.topics,
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
      handle({ header }, request) {
        const known = new Set<string>(Object.keys(TRANSACTION_STATUS));
        const unknownStateFilters = request.stateFilters.filter((state) => !known.has(state));
        const states = new Set(request.stateFilters.filter((state) => known.has(state)));
        // Only unknown states asked for: nothing can match (Kafka's answer too).
        if (request.stateFilters.length > 0 && states.size === 0) return { throttleTimeMs: 0, errorCode: NONE, unknownStateFilters, transactionStates: [] };
        const durationMs = header.apiVersion >= 1 ? request.durationFilter : -1;
        const transactionStates = transactions
          .list(states, new Set(request.producerIdFilters), durationMs)
          .map(({ transactionalId, producerId, state }) => ({ transactionalId, producerId, transactionState: state }));
        return { throttleTimeMs: 0, errorCode: NONE, unknownStateFilters, transactionStates };
      },
    }),
  ];
}

/** Whether the partition exists: in the cluster's metadata, or a single broker's engine. */
export function partitionExists(cluster: ClusterNode | null, engine: Engine, topic: string, partition: number): boolean {
  if (cluster !== null) return cluster.partition(topic, partition) !== undefined;
  return engine.hasTopic(topic) && partition >= 0 && partition < engine.partitionCount(topic);
}
