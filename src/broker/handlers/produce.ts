// Produce (0): producer-encoded batches are appended as they arrive (validated per batch, offsets
// stamped in place), so the bytes in the request frame are the bytes written to the .log.
// acks=0 gets no response; acks=1 is answered once the leader has appended; acks=-1 once the
// high watermark covers the batch (a single broker is the whole ISR: at once). While a request waits
// for the ISR, its connection goes on with the next one (RequestContext.detach). A transaction's
// first batch on a partition is checked with its coordinator first (KIP-890).
import { KafkaErrorCode, RecordValidationError, SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { ATTRIBUTES_OFFSET, PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, RECORDS_OFFSET, TRANSACTIONAL_MASK } from '../../record/batch-format.js';
import { PRODUCER_BYTE_RATE } from '../client-quotas.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { throwIfNotReplicated } from '../replica-manager.js';
import { AclOperation, allowed, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorMessageOf, storageErrorCodeOf } from './errors.js';

/** Produce v0-v2 carry the pre-0.11 message format, which sluice does not store (Kafka 4 neither). */
const FIRST_RECORD_BATCH_VERSION = 3;

export const produceHandler = defineHandler({
  apiKey: ApiKey.Produce,
  // v0-v2 are advertised, as Kafka 4.0 does, because librdkafka expects them; they are refused per partition.
  minVersion: 0,
  maxVersion: 11,
  // Every partition is appended before the handler returns or detaches: its frame may be a view.
  releasesFrame: true,
  async handle(context, request) {
    const { broker, header } = context;
    const { acks } = request;
    const responses = [];
    // acks=all in a cluster: every partition is appended first, then the request waits for them all
    // (Kafka's DelayedProduce), not one partition's ISR after another.
    const waits: Array<{ response: PartitionResponse; topic: string; replicated: Promise<number> }> = [];
    // WRITE on the transactional id and on each topic (TRANSACTIONAL_ID_ / TOPIC_AUTHORIZATION_FAILED).
    const transactionDenied = request.transactionalId !== null && !allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId);
    for (const topic of request.topicData) {
      const partitionResponses: PartitionResponse[] = [];
      const topicDenied = !allowed(context, AclOperation.WRITE, ResourceType.TOPIC, topic.name);
      for (const { index, records } of topic.partitionData) {
        const response: PartitionResponse = { index, errorCode: NONE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: null };
        if (transactionDenied) response.errorCode = KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        else if (topicDenied) response.errorCode = KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (header.apiVersion < FIRST_RECORD_BATCH_VERSION) response.errorCode = KafkaErrorCode.UNSUPPORTED_VERSION;
        else if (acks !== 0 && acks !== 1 && acks !== -1) response.errorCode = KafkaErrorCode.INVALID_REQUIRED_ACKS;
        else {
          try {
            await verifyTransactionalWrite(broker, request.transactionalId, topic.name, index, records);
            const { result, replicated } = await append(broker, topic.name, index, records, acks, request.timeoutMs);
            Object.assign(response, result);
            if (replicated !== null) waits.push({ response, topic: topic.name, replicated });
          } catch (error) {
            fail(broker, response, topic.name, error);
          }
        }
        partitionResponses.push(response);
      }
      responses.push({ name: topic.name, partitionResponses });
    }
    if (waits.length > 0) {
      // The frame's records are in the log: the connection may take its next request while this one
      // waits for the followers, and answers them in order (Connection.detach).
      const codes = await context.detach(Promise.all(waits.map((wait) => wait.replicated)));
      waits.forEach(({ response, topic }, i) => {
        try {
          throwIfNotReplicated(codes[i]!, topic, response.index, request.timeoutMs);
        } catch (error) {
          fail(broker, response, topic, error);
        }
      });
    }
    // producer_byte_rate (client-quotas.ts): the records' bytes count against the client's quota.
    const throttleTimeMs = broker.quotas.record(PRODUCER_BYTE_RATE, context.quotaClient, requestRecordBytes(request));
    if (throttleTimeMs > 0) context.throttle(throttleTimeMs);
    return acks === 0 ? null : { responses, throttleTimeMs };
  },
});

/** The record bytes a Produce request carries: what a producer quota counts (Kafka counts the whole request). */
function requestRecordBytes(request: { topicData: ReadonlyArray<{ partitionData: ReadonlyArray<{ records: Buffer | null }> }> }): number {
  let bytes = 0;
  for (const topic of request.topicData) for (const { records } of topic.partitionData) bytes += records?.length ?? 0;
  return bytes;
}

interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>;
  errorMessage: string | null;
}

/** A partition's failed append or wait: its error, and no offsets. */
function fail(broker: BrokerContext, response: PartitionResponse, topic: string, error: unknown): void {
  response.errorCode = storageErrorCodeOf(broker, error, topic, response.index);
  response.errorMessage = errorMessageOf(error);
  response.baseOffset = response.logAppendTimeMs = response.logStartOffset = -1;
  // Produce v8+ names the refused records of a batch (KIP-467), e.g. timestamps out of bounds.
  if (error instanceof RecordValidationError) {
    response.recordErrors = error.recordErrors.map(({ batchIndex, message }) => ({ batchIndex, batchIndexErrorMessage: message }));
  }
}

/**
 * KIP-890: a transactional batch that would open its producer's transaction on this partition is
 * taken only if the coordinator has the partition in that transaction (produce-verification.ts).
 * The first batch speaks for the request's batches, as in Kafka. In a cluster only the leader
 * asks: a follower's answer is NOT_LEADER_OR_FOLLOWER, from the append.
 */
async function verifyTransactionalWrite(broker: BrokerContext, transactionalId: string | null, topic: string, partition: number, records: Buffer | null): Promise<void> {
  const verifier = broker.transactionVerifier;
  if (!verifier.enabled || records === null || records.length < RECORDS_OFFSET) return;
  if ((records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_MASK) === 0) return;
  const cluster = broker.cluster();
  if (cluster !== null && !cluster.replicas.isLeader(topic, partition)) return;
  const producerId = Number(records.readBigInt64BE(PRODUCER_ID_OFFSET));
  if (broker.engine.partitionLog(topic, partition).producers.openTransactionStart(producerId) >= 0) return;
  await verifier.verify({ transactionalId, topic, partition, producerId, producerEpoch: records.readInt16BE(PRODUCER_EPOCH_OFFSET) });
}

/** Appends one partition's records; in a cluster with acks=all, also the wait for the ISR (else null). */
async function append(broker: BrokerContext, topic: string, partition: number, records: Buffer | null, acks: number, timeoutMs: number) {
  const { engine, metrics } = broker;
  if (records === null || records.length === 0) throw new SluiceError('CORRUPT_MESSAGE', 'Produce request without records');
  const cluster = broker.cluster();
  if (cluster !== null) {
    // The leader appends with its epoch; acks=all then waits for the ISR (replica-manager.ts).
    const { result, replicated } = await cluster.replicas.appendAsLeaderThenReplicate(topic, partition, records, acks, timeoutMs);
    metrics.messagesIn += result.recordCount;
    return { result: { baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTime, logStartOffset: engine.partitionLog(topic, partition).logStartOffset }, replicated };
  }
  const log = engine.partitionLog(topic, partition);
  if (acks === -1 && log.currentConfig.minInsyncReplicas > 1) {
    // One broker is the whole ISR: a topic that asks for more in-sync replicas cannot be written.
    throw new SluiceError('NOT_ENOUGH_REPLICAS', `min.insync.replicas is ${log.currentConfig.minInsyncReplicas} but the ISR has 1 member`);
  }
  const appended = await engine.appendBatches(topic, partition, records);
  metrics.messagesIn += appended.recordCount;
  return { result: { baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime, logStartOffset: log.logStartOffset }, replicated: null };
}
