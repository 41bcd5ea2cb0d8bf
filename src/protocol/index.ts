// The Kafka wire protocol codec: framing, headers, primitives, and a schema per API from which
// both directions (broker: decode requests/encode responses; client: the reverse) are derived.
// It knows nothing of storage or sockets: bytes in, values out, and FileRegions passed through
// for sendfile.
export { ApiKey, apiKeyName, type ApiKeyName, type ApiKeyNumber } from './api-keys.js';
export {
  decodeRequest,
  decodeResponse,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeResponse,
  type ResponseParts,
} from './codec.js';
export { isProtocolError, ProtocolError, type ProtocolErrorCode } from './errors.js';
export { FrameDecoder } from './frame-decoder.js';
export {
  readRequestHeader,
  readResponseHeader,
  REQUEST_SIZE_PREFIX_BYTES,
  requestHeaderVersion,
  responseHeaderVersion,
  type RequestHeader,
} from './headers.js';
export type { FileRegion } from '../native/binding.js';
export { isFileRegion, Reader, Writer, ZERO_UUID } from './primitives.js';
export {
  apiDefinition,
  isFlexible,
  isSupported,
  registry,
  schemas,
  supportedApiVersions,
  type ApiDefinition,
  type ApiVersion,
  type ApiVersionRange,
  type RequestBodies,
  type RequestInputs,
  type ResponseBodies,
  type ResponseInputs,
  type SupportedApiKey,
} from './registry.js';
export {
  decodeMessage,
  defineMessage,
  encodeMessage,
  measureMessage,
  readMessage,
  writeMessage,
  type Decoded,
  type ExcessFields,
  type FieldSpec,
  type Input,
  type MessageSchema,
  type RecordsInput,
} from './schema.js';

export * from './apis/add-offsets-to-txn.js';
export * from './apis/add-partitions-to-txn.js';
export * from './apis/alter-configs.js';
export * from './apis/alter-user-scram-credentials.js';
export * from './apis/api-versions.js';
export * from './apis/consumer-group-describe.js';
export * from './apis/consumer-group-heartbeat.js';
export * from './apis/create-partitions.js';
export * from './apis/create-topics.js';
export * from './apis/delegation-tokens.js';
export * from './apis/delete-groups.js';
export * from './apis/delete-records.js';
export * from './apis/delete-topics.js';
export * from './apis/describe-cluster.js';
export * from './apis/describe-configs.js';
export * from './apis/describe-groups.js';
export * from './apis/describe-producers.js';
export * from './apis/describe-topic-partitions.js';
export * from './apis/describe-transactions.js';
export * from './apis/describe-user-scram-credentials.js';
export * from './apis/elect-leaders.js';
export * from './apis/end-txn.js';
export * from './apis/fetch.js';
export * from './apis/find-coordinator.js';
export * from './apis/heartbeat.js';
export * from './apis/incremental-alter-configs.js';
export * from './apis/init-producer-id.js';
export * from './apis/join-group.js';
export * from './apis/leave-group.js';
export * from './apis/list-groups.js';
export * from './apis/list-offsets.js';
export * from './apis/list-transactions.js';
export * from './apis/metadata.js';
export * from './apis/offset-commit.js';
export * from './apis/offset-delete.js';
export * from './apis/offset-fetch.js';
export * from './apis/offset-for-leader-epoch.js';
export * from './apis/produce.js';
export * from './apis/sasl-authenticate.js';
export * from './apis/sasl-handshake.js';
export * from './apis/sync-group.js';
export * from './apis/txn-offset-commit.js';
export * from './apis/update-features.js';
export * from './apis/write-txn-markers.js';
