// InitProducerId (22): a producer id and epoch for an idempotent producer. A producer that passes
// its current id and epoch (v3+, KIP-360) gets the epoch bumped, which resets its sequences.
// Transactions are not supported: a transactional id is refused.
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler, type ApiHandler } from '../handler.js';
import type { ProducerIds } from '../producer-ids.js';
import { NONE } from './errors.js';

const EPOCH_MAX = 32767;

export function initProducerIdHandler(producerIds: ProducerIds): ApiHandler<typeof ApiKey.InitProducerId> {
  return defineHandler({
    apiKey: ApiKey.InitProducerId,
    minVersion: 0,
    maxVersion: 5,
    handle(_context, request) {
      if (request.transactionalId !== null) {
        return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
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
