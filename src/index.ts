// sluice's public entry point.
export { Engine } from './engine/engine.js';
export type {
  ConsumedRecord,
  CreateTopicOptions,
  EngineOptions,
  FetchBatchesOptions,
  FetchBatchesResult,
  FetchOptions,
  FetchResult,
  IsolationLevel,
  OffsetAndTimestamp,
  PartitionDescription,
  ProduceAck,
  ProduceOptions,
  ProduceRecord,
  TopicDescription,
} from './engine/engine.js';
export type { ConfigWarning } from './engine/engine-config.js';
export { RecordCursor, readRecords, NO_HEADERS } from './record/record-cursor.js';
export type { ReadRecordsOptions } from './record/record-cursor.js';
export type { AbortedTransactionRef } from './record/aborted-transactions.js';
export { SluiceError, isSluiceError, KafkaErrorCode } from './errors.js';
export type { KafkaErrorName, SluiceErrorName } from './errors.js';
export { DEFAULT_LOG_CONFIG } from './storage/log-config.js';
export type { LogConfig } from './storage/log-config.js';
export type { CleaningPass, LogCleanerStats } from './storage/log-cleaner.js';
export type { LogDirMove, OfflineLogDir } from './storage/log-dirs.js';
export { partitionForKey, DefaultPartitioner } from './engine/partitioner.js';
export { murmur2 } from './engine/murmur2.js';
export { Broker, startBroker } from './broker/broker.js';
export type { StartBrokerOptions } from './broker/broker.js';
export { startCluster, LocalCluster } from './cluster/start-cluster.js';
export type { StartClusterOptions, ClusterBroker } from './cluster/start-cluster.js';
export type { BrokerMetrics } from './broker/metrics.js';
export { PoolConsumer, HandlerError, GroupMember, rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor, kafkajsRoundRobinAssignor } from './consumer/index.js';
export type {
  PoolConsumerOptions,
  PoolConsumerMetrics,
  PoolConsumerEvents,
  PoolBatch,
  PoolRecord,
  GroupMemberOptions,
  RevokeReason,
  CommitOffset,
  TopicPartition,
  Assignor,
  AssignorName,
} from './consumer/index.js';
export type { SaslCredentials, SaslMechanism } from './client/sasl.js';
export { oauthTokenSource } from './client/oauth-login.js';
export { tlsOptions } from './client/tls-config.js';
export type { TlsOptions } from './client/tls-config.js';
