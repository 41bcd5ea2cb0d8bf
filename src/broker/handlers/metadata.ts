// Metadata (3): the brokers, the controller, and each partition's leader, leader epoch (v7+),
// replicas, ISR and offline replicas (v5+) — from etcd in a cluster, this broker alone otherwise —
// and auto-creation of unknown topics when auto.create.topics.enable is set and the client allows
// it (v4+).
import { KafkaErrorCode, SluiceError } from '../../errors.js';
import { isInternalTopic, isValidTopicName } from '../../engine/topic-name.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { ClusterNode } from '../cluster-node.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { NONE, errorCodeOf } from './errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../protocol/acl-codes.js';
import { AclOperation, allowed, allowedOnCluster, authorizedOperations, ResourceType } from '../authorizer/request-auth.js';

/** Kafka's zero UUID: "no topic id". */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Kafka's "not requested" for a bitfield of authorized operations (INT32_MIN). */
export const AUTHORIZED_OPERATIONS_NOT_REQUESTED = -2147483648;

export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(context, request) {
    const { broker, header } = context;
    // v0 asks for every topic with an empty list; v1+ with a null one.
    const requested = request.topics === null || (header.apiVersion === 0 && request.topics.length === 0) ? null : request.topics;
    const autoCreate = (header.apiVersion < 4 || request.allowAutoTopicCreation) && broker.settings.autoCreateTopics;
    const view = metadataView(broker);
    // A topic is named (always before v10) or, when its name is null (v10+), given by id. Every
    // topic takes DESCRIBE: all topics lists those the principal may describe, a named one it may
    // not is TOPIC_AUTHORIZATION_FAILED whether it exists or not, as in Kafka.
    const mayDescribe = (name: string) => allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
    const names = requested === null ? view.topicNames().filter(mayDescribe) : requested.map((topic) => topic.name ?? view.topicNameById(topic.topicId) ?? null);
    const topics = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === null || name === undefined) topics.push(topicError(KafkaErrorCode.UNKNOWN_TOPIC_ID, null, requested?.[i]?.topicId ?? ZERO_UUID));
      else if (requested !== null && !mayDescribe(name)) topics.push(topicError(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, name, ZERO_UUID));
      else if (!isValidTopicName(name)) topics.push(topicError(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, name, ZERO_UUID));
      else {
        // Creating an unknown topic takes CREATE on the cluster or on the topic.
        const mayCreate = () => allowedOnCluster(context, AclOperation.CREATE) || allowed(context, AclOperation.CREATE, ResourceType.TOPIC, name);
        const topic = await view.describeTopic(name, autoCreate, mayCreate);
        if (header.apiVersion >= 8 && request.includeTopicAuthorizedOperations && topic.errorCode === NONE) {
          topic.topicAuthorizedOperations = authorizedOperations(context, ResourceType.TOPIC, name);
        }
        topics.push(topic);
      }
    }
    const clusterAuthorizedOperations =
      header.apiVersion >= 8 && header.apiVersion <= 10 && request.includeClusterAuthorizedOperations
        ? authorizedOperations(context, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
        : AUTHORIZED_OPERATIONS_NOT_REQUESTED;
    return { throttleTimeMs: 0, brokers: view.brokers(), clusterId: broker.clusterId, controllerId: view.controllerId(), topics, clusterAuthorizedOperations };
  },
});

/** Where Metadata's (and DescribeCluster's) answers come from: this broker alone, or the cluster's state in etcd. */
export function metadataView(broker: BrokerContext): MetadataView {
  const cluster = broker.cluster();
  return cluster === null ? singleBrokerView(broker) : clusterView(cluster, broker.listener.name);
}

export interface MetadataView {
  topicNames(): string[];
  topicNameById(topicId: string): string | undefined;
  brokers(): Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
  controllerId(): number;
  /** `mayCreate` is asked only when the topic is unknown and autoCreate is set: false answers TOPIC_AUTHORIZATION_FAILED. */
  describeTopic(name: string, autoCreate: boolean, mayCreate?: () => boolean): Promise<ReturnType<typeof topicError> | ReturnType<typeof topicAnswer>>;
}

function topicAnswer(name: string, topicId: string, partitions: PartitionAnswer[]) {
  return { errorCode: NONE as number, name, topicId, isInternal: isInternalTopic(name), partitions, topicAuthorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED as number };
}

interface PartitionAnswer {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

/** A single broker: every partition led by it, at epoch 0; topics auto-created at once. */
function singleBrokerView(broker: BrokerContext): MetadataView {
  const { engine, settings } = broker;
  return {
    topicNames: () => engine.listTopics(),
    topicNameById: (topicId) => engine.topicNameById(topicId),
    brokers: () => [{ nodeId: settings.nodeId, host: broker.listener.advertisedHost, port: broker.listener.advertisedPort(), rack: settings.rack }],
    controllerId: () => settings.nodeId,
    async describeTopic(name, autoCreate, mayCreate) {
      if (!engine.hasTopic(name)) {
        if (!autoCreate) return topicError(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID);
        if (mayCreate?.() === false) return topicError(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, name, ZERO_UUID);
        try {
          await engine.createTopic(name, { partitions: settings.numPartitions });
        } catch (error) {
          if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) return topicError(errorCodeOf(error), name, ZERO_UUID);
        }
        // Kafka answers the creating request with LEADER_NOT_AVAILABLE; ours is ready at once.
      }
      const description = engine.describeTopic(name);
      const me = [settings.nodeId];
      return topicAnswer(
        name,
        description.id,
        // A partition whose log directory went offline (a failed disk) has no leader, its one replica offline.
        description.partitions.map(({ partition, offlineLogDir }) =>
          offlineLogDir === undefined
            ? { errorCode: NONE, partitionIndex: partition, leaderId: settings.nodeId, leaderEpoch: 0, replicaNodes: me, isrNodes: me, offlineReplicas: [] }
            : { errorCode: KafkaErrorCode.LEADER_NOT_AVAILABLE, partitionIndex: partition, leaderId: -1, leaderEpoch: 0, replicaNodes: me, isrNodes: me, offlineReplicas: me },
        ),
      );
    },
  };
}

/** How long a Metadata request that creates a topic waits for its leaders before answering LEADER_NOT_AVAILABLE. */
const AUTO_CREATE_WAIT_MS = 3000;

/**
 * A cluster: the live brokers (their endpoints on the client's listener), the controller and each
 * partition's state, from etcd (cluster-node.ts).
 */
function clusterView(cluster: ClusterNode, listener: string): MetadataView {
  return {
    topicNames: () => cluster.topicNames(),
    topicNameById: (topicId) => cluster.topicNameById(topicId),
    brokers: () => cluster.liveEndpoints(listener).map(({ brokerId, host, port, rack }) => ({ nodeId: brokerId, host, port, rack })),
    controllerId: () => cluster.controllerBrokerId,
    async describeTopic(name, autoCreate, mayCreate) {
      if (cluster.topic(name) === undefined) {
        if (!autoCreate) return topicError(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID);
        if (mayCreate?.() === false) return topicError(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, name, ZERO_UUID);
        try {
          await cluster.createTopic(name, { timeoutMs: AUTO_CREATE_WAIT_MS });
        } catch (error) {
          // Kafka answers a request that created a topic with LEADER_NOT_AVAILABLE; clients retry.
          const raced = error instanceof SluiceError && (error.code === 'TOPIC_ALREADY_EXISTS' || error.code === 'REQUEST_TIMED_OUT');
          if (!raced || cluster.topic(name) === undefined) return topicError(raced ? KafkaErrorCode.LEADER_NOT_AVAILABLE : errorCodeOf(error), name, ZERO_UUID);
        }
      }
      const view = cluster.topic(name)!;
      const offline = cluster.offlineReplicas();
      return topicAnswer(
        name,
        view.topicId,
        view.partitions.map((_, partition) => {
          const { leader, leaderEpoch, replicas, isr } = cluster.partition(name, partition)!;
          // A leader that is not among the live brokers (killed, and not yet replaced by the
          // controller) is not named, as Kafka's MetadataCache does not: clients look the leader
          // up in this response's brokers (@platformatic/kafka threw a TypeError when it was absent).
          const liveLeader = leader !== -1 && cluster.isAlive(leader);
          return {
            errorCode: liveLeader ? NONE : KafkaErrorCode.LEADER_NOT_AVAILABLE,
            partitionIndex: partition,
            leaderId: liveLeader ? leader : -1,
            leaderEpoch,
            replicaNodes: replicas,
            isrNodes: isr,
            // Dead brokers' replicas, and those in a broker's offline log directory (a failed disk).
            offlineReplicas: replicas.filter((id) => !cluster.isAlive(id) || offline?.(id, name, partition) === true),
          };
        }),
      );
    },
  };
}

function topicError(errorCode: number, name: string | null, topicId: string) {
  return { errorCode, name, topicId, isInternal: false, partitions: [] as PartitionAnswer[], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED as number };
}
