// Every API the codec implements: apiKey -> request and response schemas, and the version range
// we serve. Ranges cover kafkajs 2.2.4 (old, never flexible), @platformatic/kafka 1.x/2.x (newest)
// and librdkafka 2.0.2 (negotiates), see KAFKA-FACTS.md. Request and response of one API share
// validVersions and flexibleVersions (checked at load).
import { ApiKey } from './api-keys.js';
import { CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest, DescribeAclsResponse } from './apis/acls.js';
import { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from './apis/add-offsets-to-txn.js';
import { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from './apis/add-partitions-to-txn.js';
import { AlterConfigsRequest, AlterConfigsResponse } from './apis/alter-configs.js';
import { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse } from './apis/alter-user-scram-credentials.js';
import { ApiVersionsRequest, ApiVersionsResponse } from './apis/api-versions.js';
import { AlterClientQuotasRequest, AlterClientQuotasResponse, DescribeClientQuotasRequest, DescribeClientQuotasResponse } from './apis/client-quotas.js';
import { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from './apis/consumer-group-describe.js';
import { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from './apis/consumer-group-heartbeat.js';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './apis/create-partitions.js';
import { CreateTopicsRequest, CreateTopicsResponse } from './apis/create-topics.js';
import { DeleteGroupsRequest, DeleteGroupsResponse } from './apis/delete-groups.js';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './apis/delete-records.js';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './apis/delete-topics.js';
import { DescribeClusterRequest, DescribeClusterResponse } from './apis/describe-cluster.js';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './apis/describe-configs.js';
import { DescribeGroupsRequest, DescribeGroupsResponse } from './apis/describe-groups.js';
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from './apis/describe-log-dirs.js';
import { AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse } from './apis/alter-replica-log-dirs.js';
import { DescribeProducersRequest, DescribeProducersResponse } from './apis/describe-producers.js';
import { DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse } from './apis/describe-topic-partitions.js';
import { DescribeTransactionsRequest, DescribeTransactionsResponse } from './apis/describe-transactions.js';
import { DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse } from './apis/describe-user-scram-credentials.js';
import { ElectLeadersRequest, ElectLeadersResponse } from './apis/elect-leaders.js';
import { EndTxnRequest, EndTxnResponse } from './apis/end-txn.js';
import { FetchRequest, FetchResponse } from './apis/fetch.js';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './apis/find-coordinator.js';
import { HeartbeatRequest, HeartbeatResponse } from './apis/heartbeat.js';
import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from './apis/incremental-alter-configs.js';
import { InitProducerIdRequest, InitProducerIdResponse } from './apis/init-producer-id.js';
import { JoinGroupRequest, JoinGroupResponse } from './apis/join-group.js';
import { LeaveGroupRequest, LeaveGroupResponse } from './apis/leave-group.js';
import { ListGroupsRequest, ListGroupsResponse } from './apis/list-groups.js';
import { ListOffsetsRequest, ListOffsetsResponse } from './apis/list-offsets.js';
import { ListTransactionsRequest, ListTransactionsResponse } from './apis/list-transactions.js';
import { MetadataRequest, MetadataResponse } from './apis/metadata.js';
import { OffsetCommitRequest, OffsetCommitResponse } from './apis/offset-commit.js';
import { OffsetDeleteRequest, OffsetDeleteResponse } from './apis/offset-delete.js';
import { OffsetFetchRequest, OffsetFetchResponse } from './apis/offset-fetch.js';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './apis/offset-for-leader-epoch.js';
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from './apis/partition-reassignments.js';
import { ProduceRequest, ProduceResponse } from './apis/produce.js';
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from './apis/sasl-authenticate.js';
import { SaslHandshakeRequest, SaslHandshakeResponse } from './apis/sasl-handshake.js';
import { SyncGroupRequest, SyncGroupResponse } from './apis/sync-group.js';
import { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from './apis/txn-offset-commit.js';
import { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from './apis/write-txn-markers.js';
import {
  CreateDelegationTokenRequest,
  CreateDelegationTokenResponse,
  DescribeDelegationTokenRequest,
  DescribeDelegationTokenResponse,
  ExpireDelegationTokenRequest,
  ExpireDelegationTokenResponse,
  RenewDelegationTokenRequest,
  RenewDelegationTokenResponse,
} from './apis/delegation-tokens.js';
import { UpdateFeaturesRequest, UpdateFeaturesResponse } from './apis/update-features.js';
import { firstFlexibleVersion, type Decoded, type Input, type MessageSchema } from './schema.js';

/** The request/response schema pair of each implemented API, by key. */
export const schemas = {
  [ApiKey.Produce]: { request: ProduceRequest, response: ProduceResponse },
  [ApiKey.Fetch]: { request: FetchRequest, response: FetchResponse },
  [ApiKey.ListOffsets]: { request: ListOffsetsRequest, response: ListOffsetsResponse },
  [ApiKey.Metadata]: { request: MetadataRequest, response: MetadataResponse },
  [ApiKey.OffsetCommit]: { request: OffsetCommitRequest, response: OffsetCommitResponse },
  [ApiKey.OffsetFetch]: { request: OffsetFetchRequest, response: OffsetFetchResponse },
  [ApiKey.FindCoordinator]: { request: FindCoordinatorRequest, response: FindCoordinatorResponse },
  [ApiKey.JoinGroup]: { request: JoinGroupRequest, response: JoinGroupResponse },
  [ApiKey.Heartbeat]: { request: HeartbeatRequest, response: HeartbeatResponse },
  [ApiKey.LeaveGroup]: { request: LeaveGroupRequest, response: LeaveGroupResponse },
  [ApiKey.SyncGroup]: { request: SyncGroupRequest, response: SyncGroupResponse },
  [ApiKey.DescribeGroups]: { request: DescribeGroupsRequest, response: DescribeGroupsResponse },
  [ApiKey.ListGroups]: { request: ListGroupsRequest, response: ListGroupsResponse },
  [ApiKey.SaslHandshake]: { request: SaslHandshakeRequest, response: SaslHandshakeResponse },
  [ApiKey.ApiVersions]: { request: ApiVersionsRequest, response: ApiVersionsResponse },
  [ApiKey.CreateTopics]: { request: CreateTopicsRequest, response: CreateTopicsResponse },
  [ApiKey.DeleteTopics]: { request: DeleteTopicsRequest, response: DeleteTopicsResponse },
  [ApiKey.DeleteRecords]: { request: DeleteRecordsRequest, response: DeleteRecordsResponse },
  [ApiKey.InitProducerId]: { request: InitProducerIdRequest, response: InitProducerIdResponse },
  [ApiKey.OffsetForLeaderEpoch]: { request: OffsetForLeaderEpochRequest, response: OffsetForLeaderEpochResponse },
  [ApiKey.AddPartitionsToTxn]: { request: AddPartitionsToTxnRequest, response: AddPartitionsToTxnResponse },
  [ApiKey.AddOffsetsToTxn]: { request: AddOffsetsToTxnRequest, response: AddOffsetsToTxnResponse },
  [ApiKey.EndTxn]: { request: EndTxnRequest, response: EndTxnResponse },
  [ApiKey.WriteTxnMarkers]: { request: WriteTxnMarkersRequest, response: WriteTxnMarkersResponse },
  [ApiKey.TxnOffsetCommit]: { request: TxnOffsetCommitRequest, response: TxnOffsetCommitResponse },
  [ApiKey.DescribeAcls]: { request: DescribeAclsRequest, response: DescribeAclsResponse },
  [ApiKey.DescribeClientQuotas]: { request: DescribeClientQuotasRequest, response: DescribeClientQuotasResponse },
  [ApiKey.AlterClientQuotas]: { request: AlterClientQuotasRequest, response: AlterClientQuotasResponse },
  [ApiKey.DescribeUserScramCredentials]: { request: DescribeUserScramCredentialsRequest, response: DescribeUserScramCredentialsResponse },
  [ApiKey.AlterUserScramCredentials]: { request: AlterUserScramCredentialsRequest, response: AlterUserScramCredentialsResponse },
  [ApiKey.CreateAcls]: { request: CreateAclsRequest, response: CreateAclsResponse },
  [ApiKey.DeleteAcls]: { request: DeleteAclsRequest, response: DeleteAclsResponse },
  [ApiKey.DescribeConfigs]: { request: DescribeConfigsRequest, response: DescribeConfigsResponse },
  [ApiKey.AlterConfigs]: { request: AlterConfigsRequest, response: AlterConfigsResponse },
  [ApiKey.AlterReplicaLogDirs]: { request: AlterReplicaLogDirsRequest, response: AlterReplicaLogDirsResponse },
  [ApiKey.DescribeLogDirs]: { request: DescribeLogDirsRequest, response: DescribeLogDirsResponse },
  [ApiKey.SaslAuthenticate]: { request: SaslAuthenticateRequest, response: SaslAuthenticateResponse },
  [ApiKey.CreatePartitions]: { request: CreatePartitionsRequest, response: CreatePartitionsResponse },
  [ApiKey.DeleteGroups]: { request: DeleteGroupsRequest, response: DeleteGroupsResponse },
  [ApiKey.ElectLeaders]: { request: ElectLeadersRequest, response: ElectLeadersResponse },
  [ApiKey.IncrementalAlterConfigs]: { request: IncrementalAlterConfigsRequest, response: IncrementalAlterConfigsResponse },
  [ApiKey.AlterPartitionReassignments]: { request: AlterPartitionReassignmentsRequest, response: AlterPartitionReassignmentsResponse },
  [ApiKey.ListPartitionReassignments]: { request: ListPartitionReassignmentsRequest, response: ListPartitionReassignmentsResponse },
  [ApiKey.OffsetDelete]: { request: OffsetDeleteRequest, response: OffsetDeleteResponse },
  [ApiKey.DescribeCluster]: { request: DescribeClusterRequest, response: DescribeClusterResponse },
  [ApiKey.DescribeProducers]: { request: DescribeProducersRequest, response: DescribeProducersResponse },
  [ApiKey.DescribeTransactions]: { request: DescribeTransactionsRequest, response: DescribeTransactionsResponse },
  [ApiKey.ListTransactions]: { request: ListTransactionsRequest, response: ListTransactionsResponse },
  [ApiKey.ConsumerGroupHeartbeat]: { request: ConsumerGroupHeartbeatRequest, response: ConsumerGroupHeartbeatResponse },
  [ApiKey.ConsumerGroupDescribe]: { request: ConsumerGroupDescribeRequest, response: ConsumerGroupDescribeResponse },
  [ApiKey.DescribeTopicPartitions]: { request: DescribeTopicPartitionsRequest, response: DescribeTopicPartitionsResponse },
  [ApiKey.UpdateFeatures]: { request: UpdateFeaturesRequest, response: UpdateFeaturesResponse },
  [ApiKey.CreateDelegationToken]: { request: CreateDelegationTokenRequest, response: CreateDelegationTokenResponse },
  [ApiKey.RenewDelegationToken]: { request: RenewDelegationTokenRequest, response: RenewDelegationTokenResponse },
  [ApiKey.ExpireDelegationToken]: { request: ExpireDelegationTokenRequest, response: ExpireDelegationTokenResponse },
  [ApiKey.DescribeDelegationToken]: { request: DescribeDelegationTokenRequest, response: DescribeDelegationTokenResponse },
} as const;

type Schemas = typeof schemas;
export type SupportedApiKey = keyof Schemas;

/** Decoded request bodies by API key. */
export type RequestBodies = { [K in SupportedApiKey]: Decoded<Schemas[K]['request']> };
/** Decoded response bodies by API key. */
export type ResponseBodies = { [K in SupportedApiKey]: Decoded<Schemas[K]['response']> };
/** Encodable request bodies by API key. */
export type RequestInputs = { [K in SupportedApiKey]: Input<Schemas[K]['request']> };
/** Encodable response bodies by API key. */
export type ResponseInputs = { [K in SupportedApiKey]: Input<Schemas[K]['response']> };

/** The versions of API K the codec implements, as numbers: ApiVersion<1> is 0 | 1 | ... | 17. */
export type ApiVersion<K extends SupportedApiKey> = VersionsBetween<
  Schemas[K]['request']['validVersions'][0],
  Schemas[K]['request']['validVersions'][1]
>;
/** 0 | 1 | ... | N, counted with a tuple (N is at most a few dozen). */
type UpTo<N extends number, Counted extends number[] = []> = Counted['length'] extends N
  ? Counted[number] | N
  : UpTo<N, [...Counted, Counted['length']]>;
type VersionsBetween<Min extends number, Max extends number> = Exclude<UpTo<Max>, Exclude<UpTo<Min>, Min>>;

export interface ApiDefinition {
  readonly apiKey: number;
  /** Kafka's API name without the Request/Response suffix: 'Produce'. */
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
  /** [min, max] inclusive. */
  readonly validVersions: readonly [number, number];
  /** Kafka's form, 'N+' or 'none'. */
  readonly flexibleVersions: string;
  /** The first flexible version, Infinity when none. */
  readonly firstFlexibleVersion: number;
}

function define(apiKey: number, pair: { request: MessageSchema; response: MessageSchema }): ApiDefinition {
  const { request, response } = pair;
  if (
    request.apiKey !== apiKey ||
    response.apiKey !== apiKey ||
    request.type !== 'request' ||
    response.type !== 'response' ||
    request.validVersions[0] !== response.validVersions[0] ||
    request.validVersions[1] !== response.validVersions[1] ||
    request.flexibleVersions !== response.flexibleVersions
  ) {
    throw new Error(`protocol registry: request and response schemas of API ${apiKey} disagree`);
  }
  return {
    apiKey,
    name: request.name.replace(/Request$/, ''),
    request,
    response,
    validVersions: request.validVersions,
    flexibleVersions: request.flexibleVersions,
    firstFlexibleVersion: firstFlexibleVersion(request),
  };
}

/** apiKey -> definition, in key order. */
export const registry: ReadonlyMap<number, ApiDefinition> = new Map(
  Object.entries(schemas)
    .map(([key, pair]) => define(Number(key), pair))
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((definition) => [definition.apiKey, definition]),
);

export function apiDefinition(apiKey: number): ApiDefinition | undefined {
  return registry.get(apiKey);
}

/** Whether the codec knows this API at this version. */
export function isSupported(apiKey: number, apiVersion: number): boolean {
  const definition = registry.get(apiKey);
  return (
    definition !== undefined &&
    Number.isInteger(apiVersion) &&
    apiVersion >= definition.validVersions[0] &&
    apiVersion <= definition.validVersions[1]
  );
}

/**
 * Whether (apiKey, apiVersion) uses the flexible encoding and hence request header v2. For a
 * version above our range the API's flexible range still decides ("N+" is open-ended), so the
 * header of a too-new request is still parsed right. Unknown APIs: not flexible.
 */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const definition = registry.get(apiKey);
  return definition !== undefined && apiVersion >= definition.firstFlexibleVersion;
}

/** One entry of an ApiVersions response: an API and the versions a broker serves. */
export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The ApiKeys list of an ApiVersions response: every implemented API and its version range. */
export function supportedApiVersions(): ApiVersionRange[] {
  return [...registry.values()].map((definition) => ({
    apiKey: definition.apiKey,
    minVersion: definition.validVersions[0],
    maxVersion: definition.validVersions[1],
  }));
}
