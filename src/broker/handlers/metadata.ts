// Metadata (3): the brokers, the controller, and each partition's leader, leader epoch (v7+),
// replicas, ISR and offline replicas (v5+) — from etcd in a cluster, this broker alone otherwise —
// and auto-creation of unknown topics when auto.create.topics.enable is set and the client allows
// it (v4+).
import { KafkaErrorCode, SluiceError } from '../../errors.js';
import { isInternalTopic, isValidTopicName } from '../../engine/topic-name.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { MetadataRequestBody } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster-node.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { NONE, errorCodeOf } from './errors.js';

/** Kafka's zero UUID: "no topic id". */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle({ broker, header }, request) {
    const { engine, settings } = broker;
    // v0 asks for every topic with an empty list; v1+ with a null one.
    const requested = request.topics === null || (header.apiVersion === 0 && request.topics.length === 0) ? null : request.topics;
    const allowAutoCreate = header.apiVersion < 4 || request.allowAutoTopicCreation;
    // A topic is named (always before v10) or, when its name is null (v10+), given by id.
    const cluster = broker.cluster();
    if (cluster !== null) return clusterMetadata(broker, cluster, requested, allowAutoCreate && settings.autoCreateTopics);
    const names = requested === null ? engine.listTopics() : requested.map((topic) => topic.name ?? engine.topicNameById(topic.topicId) ?? null);
    const topics = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === null || name === undefined) {
        topics.push(topicError(KafkaErrorCode.UNKNOWN_TOPIC_ID, null, requested?.[i]?.topicId ?? ZERO_UUID));
        continue;
      }
      topics.push(await describeTopic(broker, name, allowAutoCreate && settings.autoCreateTopics));
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: settings.nodeId, host: settings.advertisedHost, port: broker.advertisedPort(), rack: null }],
      clusterId: broker.clusterId,
      controllerId: settings.nodeId,
      topics,
      clusterAuthorizedOperations: -2147483648,
    };
  },
});

async function describeTopic(broker: BrokerContext, name: string, autoCreate: boolean) {
  const { engine, settings } = broker;
  if (!isValidTopicName(name)) return topicError(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, name, ZERO_UUID);
  if (!engine.hasTopic(name)) {
    if (!autoCreate) return topicError(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID);
    try {
      await engine.createTopic(name, { partitions: settings.numPartitions });
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) return topicError(errorCodeOf(error), name, ZERO_UUID);
    }
    // Kafka answers the creating request with LEADER_NOT_AVAILABLE; ours is ready at once.
  }
  const description = engine.describeTopic(name);
  return {
    errorCode: NONE,
    name,
    topicId: description.id,
    isInternal: isInternalTopic(name),
    partitions: description.partitions.map(({ partition }) => ({
      errorCode: NONE,
      partitionIndex: partition,
      leaderId: settings.nodeId,
      leaderEpoch: 0,
      replicaNodes: [settings.nodeId],
      isrNodes: [settings.nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: -2147483648,
  };
}

function topicError(errorCode: number, name: string | null, topicId: string) {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 };
}

/** How long a Metadata request that creates a topic waits for its leaders before answering LEADER_NOT_AVAILABLE. */
const AUTO_CREATE_WAIT_MS = 3000;

async function clusterMetadata(broker: BrokerContext, cluster: ClusterNode, requested: MetadataRequestBody['topics'] | null, autoCreate: boolean) {
  const names = requested === null ? cluster.topicNames() : requested.map((topic) => topic.name ?? cluster.topicNameById(topic.topicId) ?? null);
  const topics = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === null || name === undefined) {
      topics.push(topicError(KafkaErrorCode.UNKNOWN_TOPIC_ID, null, requested?.[i]?.topicId ?? ZERO_UUID));
      continue;
    }
    if (!isValidTopicName(name)) {
      topics.push(topicError(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, name, ZERO_UUID));
      continue;
    }
    if (cluster.topic(name) === undefined) {
      if (!autoCreate) {
        topics.push(topicError(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID));
        continue;
      }
      try {
        await cluster.createTopic(name, { timeoutMs: AUTO_CREATE_WAIT_MS });
      } catch (error) {
        // Kafka answers a request that created a topic with LEADER_NOT_AVAILABLE; clients retry.
        const code = error instanceof SluiceError && error.code !== 'TOPIC_ALREADY_EXISTS' && error.code !== 'REQUEST_TIMED_OUT' ? errorCodeOf(error) : KafkaErrorCode.LEADER_NOT_AVAILABLE;
        if (cluster.topic(name) === undefined || code !== KafkaErrorCode.LEADER_NOT_AVAILABLE) {
          topics.push(topicError(code, name, ZERO_UUID));
          continue;
        }
      }
    }
    const view = cluster.topic(name)!;
    topics.push({
      errorCode: NONE,
      name,
      topicId: view.topicId,
      isInternal: isInternalTopic(name),
      partitions: view.partitions.map((_, partition) => {
        const { leader, leaderEpoch, replicas, isr } = cluster.partition(name, partition)!;
        return {
          errorCode: leader === -1 ? KafkaErrorCode.LEADER_NOT_AVAILABLE : NONE,
          partitionIndex: partition,
          leaderId: leader,
          leaderEpoch,
          replicaNodes: replicas,
          isrNodes: isr,
          offlineReplicas: replicas.filter((id) => !cluster.isAlive(id)),
        };
      }),
      topicAuthorizedOperations: -2147483648,
    });
  }
  return {
    throttleTimeMs: 0,
    brokers: cluster.liveBrokers.map(({ brokerId, host, port }) => ({ nodeId: brokerId, host, port, rack: null })),
    clusterId: broker.clusterId,
    controllerId: cluster.controllerBrokerId,
    topics,
    clusterAuthorizedOperations: -2147483648,
  };
}
