// Produce (0): producer-encoded batches are appended as they arrive (validated per batch, offsets
// stamped in place), so the bytes in the request frame are the bytes written to the .log.
// acks=0 gets no response; acks=1 is answered once the leader has appended; acks=-1 once the
// high watermark covers the batch (a single broker is the whole ISR: at once).
import { KafkaErrorCode, RecordValidationError, SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { NONE, errorMessageOf, storageErrorCodeOf } from './errors.js';

/** Produce v0-v2 carry the pre-0.11 message format, which sluice does not store (Kafka 4 neither). */
const FIRST_RECORD_BATCH_VERSION = 3;

export const produceHandler = defineHandler({
  apiKey: ApiKey.Produce,
  // v0-v2 are advertised, as Kafka 4.0 does, because librdkafka expects them; they are refused per partition.
  minVersion: 0,
  maxVersion: 11,
  async handle({ broker, header }, request) {
    const { acks } = request;
    const responses = [];
    for (const topic of request.topicData) {
      const partitionResponses = [];
      for (const { index, records } of topic.partitionData) {
        let errorCode: number = NONE;
        let errorMessage: string | null = null;
        let recordErrors: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }> = [];
        let result = { baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        if (header.apiVersion < FIRST_RECORD_BATCH_VERSION) errorCode = KafkaErrorCode.UNSUPPORTED_VERSION;
        else if (acks !== 0 && acks !== 1 && acks !== -1) errorCode = KafkaErrorCode.INVALID_REQUIRED_ACKS;
        else {
          try {
            result = await append(broker, topic.name, index, records, acks, request.timeoutMs);
          } catch (error) {
            errorCode = storageErrorCodeOf(broker, error, topic.name, index);
            errorMessage = errorMessageOf(error);
            // Produce v8+ names the refused records of a batch (KIP-467), e.g. timestamps out of bounds.
            if (error instanceof RecordValidationError) {
              recordErrors = error.recordErrors.map(({ batchIndex, message }) => ({ batchIndex, batchIndexErrorMessage: message }));
            }
          }
        }
        partitionResponses.push({ index, errorCode, ...result, recordErrors, errorMessage });
      }
      responses.push({ name: topic.name, partitionResponses });
    }
    return acks === 0 ? null : { responses, throttleTimeMs: 0 };
  },
});

async function append(broker: BrokerContext, topic: string, partition: number, records: Buffer | null, acks: number, timeoutMs: number) {
  const { engine, metrics } = broker;
  if (records === null || records.length === 0) throw new SluiceError('CORRUPT_MESSAGE', 'Produce request without records');
  const cluster = broker.cluster();
  if (cluster !== null) {
    // The leader appends with its epoch; acks=all waits for the ISR (replica-manager.ts).
    const appended = await cluster.replicas.appendAsLeader(topic, partition, records, acks, timeoutMs);
    metrics.messagesIn += appended.recordCount;
    return { baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime, logStartOffset: engine.partitionLog(topic, partition).logStartOffset };
  }
  const log = engine.partitionLog(topic, partition);
  if (acks === -1 && log.currentConfig.minInsyncReplicas > 1) {
    // One broker is the whole ISR: a topic that asks for more in-sync replicas cannot be written.
    throw new SluiceError('NOT_ENOUGH_REPLICAS', `min.insync.replicas is ${log.currentConfig.minInsyncReplicas} but the ISR has 1 member`);
  }
  const appended = await engine.appendBatches(topic, partition, records);
  metrics.messagesIn += appended.recordCount;
  return { baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime, logStartOffset: log.logStartOffset };
}
