// Every API the broker serves, one handler each.
import type { AnyApiHandler } from '../handler.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from './client-quotas.js';
import { apiVersionsHandler } from './api-versions.js';
import { alterConfigsHandler, describeConfigsHandler, incrementalAlterConfigsHandler } from './configs.js';
import { describeClusterHandler } from './describe-cluster.js';
import { updateFeaturesHandler } from './update-features.js';
import { createDelegationTokenHandler, describeDelegationTokenHandler, expireDelegationTokenHandler, renewDelegationTokenHandler } from './delegation-tokens.js';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { alterReplicaLogDirsHandler } from './alter-replica-log-dirs.js';
import { describeProducersHandler } from './describe-producers.js';
import { electLeadersHandler } from './elect-leaders.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import type { ProducerIds } from '../producer-ids.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import { groupHandlers } from './groups.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { alterPartitionReassignmentsHandler, listPartitionReassignmentsHandler } from './partition-reassignments.js';
import { produceHandler } from './produce.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './scram-credentials.js';
import { createPartitionsHandler, createTopicsHandler, deleteRecordsHandler, deleteTopicsHandler } from './topics.js';
import { transactionHandlers } from './transactions.js';
import type { TransactionCoordinator } from '../txn/transaction-coordinator.js';
import type { MarkerWriterDeps } from '../txn/marker-writer.js';
import { TRANSACTION_STATE_TOPIC } from '../../engine/topic-name.js';

export function createHandlers(producerIds: ProducerIds, groups: GroupCoordinator, transactions: TransactionCoordinator, markers: MarkerWriterDeps): Map<number, AnyApiHandler> {
  const handlers = new Map<number, AnyApiHandler>();
  const add = (handler: AnyApiHandler) => handlers.set(handler.apiKey, handler);
  for (const handler of [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    describeClusterHandler,
    describeTopicPartitionsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    deleteRecordsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    createPartitionsHandler,
    incrementalAlterConfigsHandler,
    offsetForLeaderEpochHandler,
    describeLogDirsHandler,
    alterReplicaLogDirsHandler,
    electLeadersHandler,
    alterPartitionReassignmentsHandler,
    listPartitionReassignmentsHandler,
    initProducerIdHandler(producerIds, transactions),
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    describeClientQuotasHandler,
    alterClientQuotasHandler,
    describeProducersHandler,
    saslHandshakeHandler,
    saslAuthenticateHandler,
    updateFeaturesHandler,
    createDelegationTokenHandler,
    renewDelegationTokenHandler,
    expireDelegationTokenHandler,
    describeDelegationTokenHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
  ]) {
    add(handler);
  }
  const transactionLocator = { topic: TRANSACTION_STATE_TOPIC, ensureTopic: () => transactions.ensureTopic(), partitionFor: (id: string) => transactions.partitionFor(id) };
  for (const handler of groupHandlers(groups, transactionLocator)) add(handler);
  for (const handler of transactionHandlers(transactions, groups, markers)) add(handler);
  add(apiVersionsHandler(() => [...handlers.values()].map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }))));
  return handlers;
}
