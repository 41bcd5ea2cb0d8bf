// Typed errors for bad input and failed operations. `code` is Kafka's error name where Kafka has
// one (the wire protocol sends `errorCode`), so a user can match on the names Kafka documents.
// Operating-system failures keep Node's errno codes (ENOENT, ENOSPC, ...) as raised by the addon.

/** Kafka's error codes by name (org.apache.kafka.common.protocol.Errors), the subset we raise. */
export const KafkaErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  SASL_AUTHENTICATION_FAILED: 58,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INVALID_CONFIG: 40,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  // Incremental fetch sessions (KIP-227).
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  FETCH_SESSION_TOPIC_ID_ERROR: 106,
  INVALID_PRODUCER_EPOCH: 47,
  UNKNOWN_PRODUCER_ID: 59,
  PRODUCER_FENCED: 90,
  POLICY_VIOLATION: 44,
  INVALID_TXN_STATE: 48,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  // Transactions (KIP-98).
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  TRANSACTION_ABORTABLE: 120,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SECURITY_DISABLED: 54,
  // Delegation tokens (KIP-48).
  DELEGATION_TOKEN_AUTH_DISABLED: 61,
  DELEGATION_TOKEN_NOT_FOUND: 62,
  DELEGATION_TOKEN_OWNER_MISMATCH: 63,
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  DELEGATION_TOKEN_EXPIRED: 66,
  INVALID_PRINCIPAL_TYPE: 67,
  NOT_CONTROLLER: 41,
  UNKNOWN_MEMBER_ID: 25,
  ILLEGAL_GENERATION: 22,
  REBALANCE_IN_PROGRESS: 27,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  INVALID_SESSION_TIMEOUT: 26,
  GROUP_ID_NOT_FOUND: 69,
  NON_EMPTY_GROUP: 68,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  GROUP_MAX_SIZE_REACHED: 81,
  // The consumer group protocol (KIP-848).
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  INVALID_REGULAR_EXPRESSION: 128,
  OFFSET_METADATA_TOO_LARGE: 12,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  UNSTABLE_OFFSET_COMMIT: 88,
  // controller_mutation_rate (KIP-599): a topic creation, deletion or partition addition over the quota.
  THROTTLING_QUOTA_EXCEEDED: 89,
  UNKNOWN_TOPIC_ID: 100,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  TOPIC_DELETION_DISABLED: 73,
  // The cluster's controller and partition state (src/cluster).
  INVALID_REPLICA_ASSIGNMENT: 39,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  REASSIGNMENT_IN_PROGRESS: 60,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  INVALID_UPDATE_VERSION: 95,
  DUPLICATE_BROKER_REGISTRATION: 101,
  INELIGIBLE_REPLICA: 107,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
} as const;

export type KafkaErrorName = keyof typeof KafkaErrorCode;

/** Codes of our own, for conditions Kafka has no name for. */
export type SluiceErrorName =
  | KafkaErrorName
  | 'ENGINE_CLOSED' // a call on a closed Engine, Log or Segment
  | 'DATA_DIR_LOCKED' // another process (or Engine) holds the data directory
  | 'ETCD_NOT_INSTALLED' // no `etcd` binary on PATH where a cluster needs one
  | 'ETCD_START_FAILED' // an etcd member exited or did not answer while starting
  | 'ETCD_UNAVAILABLE' // etcd did not answer within the client's retry window
  | 'BROKER_START_FAILED' // a broker process of a local cluster exited or did not listen while starting
  | 'BROKER_STOP_FAILED' // a broker process of a local cluster did not exit 0 on SIGTERM in time
  | 'SSL_AUTHENTICATION_FAILED' // a TLS handshake or its certificate was refused (Kafka's SslAuthenticationException)
  | 'SESSION_EXPIRED'; // a broker's etcd lease is gone: its registration and anything bound to it

export class SluiceError extends Error {
  readonly code: SluiceErrorName;
  /** Kafka's numeric error code, or -1 (UNKNOWN_SERVER_ERROR) for codes of our own. */
  readonly errorCode: number;

  constructor(code: SluiceErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
    this.errorCode = code in KafkaErrorCode ? KafkaErrorCode[code as KafkaErrorName] : -1;
  }
}

/** One refused record of a batch: its index in the batch and why (ProduceResponse's record_errors). */
export interface RecordError {
  batchIndex: number;
  message: string;
}

/**
 * A batch refused because of some of its records (Kafka's RecordValidationException): the code
 * applies to the whole batch, and `recordErrors` names the records, as Produce v8+ reports them.
 */
export class RecordValidationError extends SluiceError {
  readonly recordErrors: readonly RecordError[];

  constructor(code: SluiceErrorName, message: string, recordErrors: readonly RecordError[]) {
    super(code, message);
    this.recordErrors = recordErrors;
  }
}

/** Kafka's name for a numeric error code (UNKNOWN_SERVER_ERROR for codes we do not list). */
export function kafkaErrorName(errorCode: number): KafkaErrorName {
  for (const [name, code] of Object.entries(KafkaErrorCode)) if (code === errorCode) return name as KafkaErrorName;
  return 'UNKNOWN_SERVER_ERROR';
}

/** Throws a SluiceError named after `errorCode` unless it is NONE (0). */
export function throwIfError(errorCode: number, context: string, message?: string | null): void {
  if (errorCode === 0) return;
  const name = kafkaErrorName(errorCode);
  throw new SluiceError(name, `${context}: ${name}${message ? ` (${message})` : ''}`);
}

/** True when `error` is a SluiceError with the given code. */
export function isSluiceError(error: unknown, code?: SluiceErrorName): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code);
}
