// InitProducerId (22): a producer id and epoch for an idempotent producer. A producer that passes
// its current id and epoch (v3+, KIP-360) gets the epoch bumped, which resets its sequences.
// With a transactional id the transaction coordinator answers: the id's producer, its epoch
// bumped to fence older instances (txn/transaction-coordinator.ts).
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler, type ApiHandler } from '../handler.js';
import type { ProducerIds } from '../producer-ids.js';
import type { TransactionCoordinator } from '../txn/transaction-coordinator.js';
import { NONE, errorCodeOf } from './errors.js';
import { AclOperation, allowed, allowedOnCluster, allowedOnSome, ResourceType } from '../authorizer/request-auth.js';

const EPOCH_MAX = 32767;

export function initProducerIdHandler(producerIds: ProducerIds, transactions: TransactionCoordinator): ApiHandler<typeof ApiKey.InitProducerId> {
  return defineHandler({
    apiKey: ApiKey.InitProducerId,
    minVersion: 0,
    maxVersion: 5,
    async handle(context, request) {
      const { header } = context;
      // A transactional producer needs WRITE on its id; an idempotent one IDEMPOTENT_WRITE on the
      // cluster or WRITE on some topic (KIP-679), as in Kafka.
      if (request.transactionalId !== null && !allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
      }
      if (request.transactionalId === null && !allowedOnSome(context, AclOperation.WRITE, ResourceType.TOPIC) && !allowedOnCluster(context, AclOperation.IDEMPOTENT_WRITE)) {
        return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
      }
      if (request.transactionalId !== null) {
        try {
          const current = header.apiVersion >= 3 ? { producerId: request.producerId, producerEpoch: request.producerEpoch } : null;
          const { producerId, producerEpoch } = await transactions.initProducerId(request.transactionalId, request.transactionTimeoutMs, current);
          return { throttleTimeMs: 0, errorCode: NONE, producerId, producerEpoch };
        } catch (error) {
          let errorCode = errorCodeOf(error);
          // PRODUCER_FENCED is v4+ (KIP-588); older producers know INVALID_PRODUCER_EPOCH.
          if (errorCode === KafkaErrorCode.PRODUCER_FENCED && header.apiVersion < 4) errorCode = KafkaErrorCode.INVALID_PRODUCER_EPOCH;
          return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
        }
      }
      // v0-2 carry no current producer: their producerId and producerEpoch decode as the schema's
      // default, -1, which is also what a v3+ producer sends when it has none (as in Kafka).
      if (request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < EPOCH_MAX) {
        return { throttleTimeMs: 0, errorCode: NONE, producerId: request.producerId, producerEpoch: request.producerEpoch + 1 };
      }
      return { throttleTimeMs: 0, errorCode: NONE, producerId: producerIds.allocate(), producerEpoch: 0 };
    },
  });
}
