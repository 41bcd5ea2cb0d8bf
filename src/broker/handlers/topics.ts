// CreateTopics (19), DeleteTopics (20), CreatePartitions (37): topic administration through the
// engine (one broker) or the cluster's metadata in etcd (cluster-node.ts), with Kafka's error
// codes per topic.
import { SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { isInternalTopic } from '../../engine/topic-name.js';
import type { CreateTopicsRequestBody } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster-node.js';
import { defineHandler, type BrokerContext } from '../handler.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';
import { ZERO_UUID } from './metadata.js';
import { reportUnsupportedTopicConfigs, topicConfigSource } from './configs.js';

export const createTopicsHandler = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle({ broker }, request) {
    const topics = [];
    for (const topic of request.topics) {
      const cluster = broker.cluster();
      if (cluster !== null) {
        topics.push(await createClusterTopic(broker, cluster, topic, request.validateOnly, request.timeoutMs));
        continue;
      }
      try {
        const partitions = partitionCount(broker, topic.numPartitions, topic.assignments);
        const replicationFactor = topic.replicationFactor === -1 ? broker.settings.defaultReplicationFactor : topic.replicationFactor;
        const config: Record<string, string> = {};
        for (const { name, value } of topic.configs) if (value !== null) config[name] = value;
        const created = await broker.engine.createTopic(topic.name, { partitions, replicationFactor, config, validateOnly: request.validateOnly });
        if (!request.validateOnly) reportUnsupportedTopicConfigs(broker, topic.name, config);
        topics.push({
          name: topic.name,
          topicId: request.validateOnly ? ZERO_UUID : created.id,
          errorCode: NONE,
          errorMessage: null,
          numPartitions: partitions,
          replicationFactor,
          configs: Object.entries(created.config).map(([name, value]) => ({
            name,
            value,
            readOnly: false,
            configSource: topicConfigSource(name, created.overrides, broker.dynamicConfig.layers),
            isSensitive: false,
          })),
        });
      } catch (error) {
        topics.push({ name: topic.name, topicId: ZERO_UUID, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), numPartitions: -1, replicationFactor: -1, configs: null });
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});

/** CreateTopics in a cluster: proposed to etcd from this broker, answered once every partition has a leader. */
async function createClusterTopic(broker: BrokerContext, cluster: ClusterNode, topic: CreateTopicsRequestBody['topics'][number], validateOnly: boolean, timeoutMs: number) {
  try {
    const configs: Record<string, string> = {};
    for (const { name, value } of topic.configs) if (value !== null) configs[name] = value;
    if (topic.assignments.length > 0 && topic.numPartitions !== -1) throw new SluiceError('INVALID_REQUEST', 'Both numPartitions and a replica assignment were given.');
    const view = await cluster.createTopic(topic.name, {
      partitions: topic.numPartitions === -1 ? undefined : topic.numPartitions,
      replicationFactor: topic.replicationFactor === -1 ? undefined : topic.replicationFactor,
      assignments: topic.assignments.map(({ partitionIndex, brokerIds }) => ({ partitionIndex, brokerIds })),
      configs,
      validateOnly,
      timeoutMs: Math.max(timeoutMs, 1),
    });
    if (!validateOnly) reportUnsupportedTopicConfigs(broker, topic.name, configs);
    return {
      name: topic.name,
      topicId: validateOnly ? ZERO_UUID : view.topicId,
      errorCode: NONE,
      errorMessage: null,
      numPartitions: view.partitions.length,
      replicationFactor: view.partitions[0]?.length ?? -1,
      configs: null,
    };
  } catch (error) {
    return { name: topic.name, topicId: ZERO_UUID, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), numPartitions: -1, replicationFactor: -1, configs: null };
  }
}

function partitionCount(broker: BrokerContext, numPartitions: number, assignments: CreateTopicsRequestBody['topics'][number]['assignments']): number {
  if (assignments.length === 0) return numPartitions === -1 ? broker.settings.numPartitions : numPartitions;
  if (numPartitions !== -1) throw new SluiceError('INVALID_REQUEST', 'Both numPartitions and a replica assignment were given.');
  for (const { brokerIds } of assignments) {
    if (brokerIds.length !== 1 || brokerIds[0] !== broker.settings.nodeId) {
      throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replica assignment [${brokerIds.join(',')}] names brokers other than ${broker.settings.nodeId}.`);
    }
  }
  return assignments.length;
}

export const deleteTopicsHandler = defineHandler({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle({ broker, header }, request) {
    const targets = header.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses = [];
    const cluster = broker.cluster();
    for (const target of targets) {
      const name = target.name ?? (cluster === null ? broker.engine.topicNameById(target.topicId) : cluster.topicNameById(target.topicId));
      try {
        if (cluster !== null) {
          if (name === undefined) throw new SluiceError('UNKNOWN_TOPIC_ID', `Unknown topic id ${target.topicId}`);
          if (isInternalTopic(name)) throw new SluiceError('INVALID_REQUEST', `Topic ${name} is internal and cannot be deleted`);
          if (!broker.settings.deleteTopicEnable) throw new SluiceError('TOPIC_DELETION_DISABLED', 'Topic deletion is disabled (delete.topic.enable=false).');
          const topicId = cluster.topic(name)?.topicId ?? ZERO_UUID;
          await cluster.deleteTopic(name, Math.max(request.timeoutMs, 1));
          await broker.groups.removeTopicOffsets(name).catch((error: unknown) => process.emitWarning(`sluice: offsets of ${name} not removed: ${String(error)}`));
          responses.push({ name, topicId, errorCode: NONE, errorMessage: null });
          continue;
        }
        if (name === undefined) throw new SluiceError('UNKNOWN_TOPIC_ID', `Unknown topic id ${target.topicId}`);
        const topicId = broker.engine.topicId(name) ?? ZERO_UUID;
        if (isInternalTopic(name)) throw new SluiceError('INVALID_REQUEST', `Topic ${name} is internal and cannot be deleted`);
        if (!broker.settings.deleteTopicEnable) throw new SluiceError('TOPIC_DELETION_DISABLED', 'Topic deletion is disabled (delete.topic.enable=false).');
        const partitionCount = broker.engine.hasTopic(name) ? broker.engine.partitionCount(name) : 0;
        await broker.engine.deleteTopic(name);
        // Long polls on the topic answer now, with UNKNOWN_TOPIC_OR_PARTITION, as Kafka completes a
        // DelayedFetch whose partition is gone, instead of after their max_wait_ms.
        for (let partition = 0; partition < partitionCount; partition++) broker.appendWaiters.notify(name, partition);
        // The topic is gone either way: a failure to drop its committed offsets must not fail the delete.
        await broker.groups.removeTopicOffsets(name).catch((error: unknown) => process.emitWarning(`sluice: offsets of ${name} not removed: ${String(error)}`));
        responses.push({ name, topicId, errorCode: NONE, errorMessage: null });
      } catch (error) {
        responses.push({ name: name ?? null, topicId: target.topicId, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

export const createPartitionsHandler = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle({ broker }, request) {
    const results = [];
    const cluster = broker.cluster();
    for (const { name, count } of request.topics) {
      try {
        if (cluster !== null) {
          await cluster.createPartitions(name, count, request.validateOnly, Math.max(request.timeoutMs, 1));
          results.push({ name, errorCode: NONE, errorMessage: null });
          continue;
        }
        const current = broker.engine.partitionCount(name);
        if (count <= current) {
          throw new SluiceError('INVALID_PARTITIONS', `Topic currently has ${current} partitions, which is higher than the requested ${count}.`);
        }
        if (!request.validateOnly) await broker.engine.createPartitions(name, count);
        results.push({ name, errorCode: NONE, errorMessage: null });
      } catch (error) {
        results.push({ name, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});

/**
 * DeleteRecords (21): offset -1 means the high watermark, as in Kafka. In a cluster only the
 * leader deletes (NOT_LEADER_OR_FOLLOWER elsewhere); followers move their log start to the
 * leader's from its fetch responses.
 */
export const deleteRecordsHandler = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle({ broker }, request) {
    const topics = [];
    for (const topic of request.topics) {
      const partitions = [];
      for (const { partitionIndex, offset } of topic.partitions) {
        try {
          broker.cluster()?.replicas.leaderLog(topic.name, partitionIndex);
          const target = offset === -1 ? broker.engine.partitionLog(topic.name, partitionIndex).highWatermark : offset;
          const lowWatermark = await broker.engine.deleteRecords(topic.name, partitionIndex, target);
          partitions.push({ partitionIndex, lowWatermark, errorCode: NONE });
        } catch (error) {
          partitions.push({ partitionIndex, lowWatermark: -1, errorCode: errorCodeOf(error) });
        }
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
});

