// CreateTopics (19), DeleteTopics (20), CreatePartitions (37): topic administration through the
// engine (one broker) or the cluster's metadata in etcd (cluster-node.ts), with Kafka's error
// codes per topic. A client under controller_mutation_rate (client-quotas.ts) has each topic's
// partitions counted once the topic has passed its checks (a dry run first), as Kafka's
// controller counts them: THROTTLING_QUOTA_EXCEEDED for a topic a strict request (CreateTopics
// v6+, DeleteTopics v5+, CreatePartitions v3+) brings while the quota is exhausted.
// Authorization, as Kafka's: creating takes CREATE on the cluster or the topic, deleting DELETE on
// the topic (its records too), adding partitions ALTER; TOPIC_AUTHORIZATION_FAILED otherwise.
import { SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { isInternalTopic } from '../../engine/topic-name.js';
import type { CreateTopicsRequestBody } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster-node.js';
import { defineHandler, type BrokerContext, type RequestContext } from '../handler.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';
import { ZERO_UUID } from './metadata.js';
import { reportUnsupportedTopicConfigs, topicConfigSource } from './configs.js';
import { AclOperation, allowed, allowedOnCluster, requireAllowed, ResourceType, deniedError } from '../authorizer/request-auth.js';

/** Strict controller_mutation_rate from these versions on (Kafka's), permissive below. */
const STRICT_MUTATION_QUOTA_SINCE = { [ApiKey.CreateTopics]: 6, [ApiKey.DeleteTopics]: 5, [ApiKey.CreatePartitions]: 3 } as const;

/**
 * One request's controller_mutation_rate: the partitions it creates or deletes, topic by topic,
 * and the throttle it is answered with (the longest any topic brought; the connection is muted
 * for it, as for the other client quotas).
 */
class MutationQuota {
  private throttleMs = 0;
  /** A quota applies to the client: its topics are dry-run, then counted, then applied. */
  readonly applies: boolean;
  private readonly strict: boolean;

  constructor(private readonly context: RequestContext, validateOnly: boolean) {
    const { broker, header } = context;
    this.applies = !validateOnly && broker.quotas.limitsMutations(context.quotaClient);
    this.strict = header.apiVersion >= STRICT_MUTATION_QUOTA_SINCE[header.apiKey as keyof typeof STRICT_MUTATION_QUOTA_SINCE];
  }

  /**
   * Counts a topic's `partitions`; THROTTLING_QUOTA_EXCEEDED when a strict request finds the quota
   * exhausted. In a cluster against the one bucket in etcd every broker counts against, as Kafka's
   * controller counts the cluster's mutations.
   */
  async take(partitions: number): Promise<void> {
    if (!this.applies || partitions <= 0) return;
    const { quotas } = this.context.broker;
    const cluster = this.context.broker.cluster();
    const answer =
      cluster === null
        ? quotas.recordMutations(this.context.quotaClient, partitions, this.strict)
        : await quotas.recordMutationsShared(this.context.quotaClient, partitions, this.strict, { update: (key, change) => cluster.store.updateQuotaBucket(key, change) });
    this.throttleMs = Math.max(this.throttleMs, answer.throttleMs);
    if (!answer.accepted) throw new SluiceError('THROTTLING_QUOTA_EXCEEDED', 'The throttling quota has been exceeded.');
  }

  /** The response's throttle_time_ms; the connection takes no new request for that long. */
  finish(): number {
    if (this.throttleMs > 0) this.context.throttle(this.throttleMs);
    return this.throttleMs;
  }
}

export const createTopicsHandler = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(context, request) {
    const { broker } = context;
    const quota = new MutationQuota(context, request.validateOnly);
    const topics = [];
    const createsAny = allowedOnCluster(context, AclOperation.CREATE);
    for (const topic of request.topics) {
      if (!createsAny && !allowed(context, AclOperation.CREATE, ResourceType.TOPIC, topic.name)) {
        const error = deniedError(ResourceType.TOPIC);
        topics.push({ name: topic.name, topicId: ZERO_UUID, errorCode: error.errorCode, errorMessage: error.message, numPartitions: -1, replicationFactor: -1, configs: null });
        continue;
      }
      const cluster = broker.cluster();
      if (cluster !== null) {
        topics.push(await createClusterTopic(broker, cluster, topic, request.validateOnly, request.timeoutMs, quota));
        continue;
      }
      try {
        const partitions = partitionCount(broker, topic.numPartitions, topic.assignments);
        const replicationFactor = topic.replicationFactor === -1 ? broker.settings.defaultReplicationFactor : topic.replicationFactor;
        const config: Record<string, string> = {};
        for (const { name, value } of topic.configs) if (value !== null) config[name] = value;
        if (quota.applies) {
          await broker.engine.createTopic(topic.name, { partitions, replicationFactor, config, validateOnly: true });
          await quota.take(partitions);
        }
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
    return { throttleTimeMs: quota.finish(), topics };
  },
});

/** CreateTopics in a cluster: proposed to etcd from this broker, answered once every partition has a leader. */
async function createClusterTopic(
  broker: BrokerContext,
  cluster: ClusterNode,
  topic: CreateTopicsRequestBody['topics'][number],
  validateOnly: boolean,
  timeoutMs: number,
  quota: MutationQuota,
) {
  try {
    const configs: Record<string, string> = {};
    for (const { name, value } of topic.configs) if (value !== null) configs[name] = value;
    if (topic.assignments.length > 0 && topic.numPartitions !== -1) throw new SluiceError('INVALID_REQUEST', 'Both numPartitions and a replica assignment were given.');
    const spec = {
      partitions: topic.numPartitions === -1 ? undefined : topic.numPartitions,
      replicationFactor: topic.replicationFactor === -1 ? undefined : topic.replicationFactor,
      assignments: topic.assignments.map(({ partitionIndex, brokerIds }) => ({ partitionIndex, brokerIds })),
      configs,
      timeoutMs: Math.max(timeoutMs, 1),
    };
    if (quota.applies) await quota.take((await cluster.createTopic(topic.name, { ...spec, validateOnly: true })).partitions.length);
    const view = await cluster.createTopic(topic.name, { ...spec, validateOnly });
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
  async handle(context, request) {
    const { broker, header } = context;
    const targets = header.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const quota = new MutationQuota(context, false);
    const responses = [];
    const cluster = broker.cluster();
    for (const target of targets) {
      const name = target.name ?? (cluster === null ? broker.engine.topicNameById(target.topicId) : cluster.topicNameById(target.topicId));
      try {
        if (name !== undefined) requireAllowed(context, AclOperation.DELETE, ResourceType.TOPIC, name);
        if (cluster !== null) {
          if (name === undefined) throw new SluiceError('UNKNOWN_TOPIC_ID', `Unknown topic id ${target.topicId}`);
          if (isInternalTopic(name)) throw new SluiceError('INVALID_REQUEST', `Topic ${name} is internal and cannot be deleted`);
          if (!broker.settings.deleteTopicEnable) throw new SluiceError('TOPIC_DELETION_DISABLED', 'Topic deletion is disabled (delete.topic.enable=false).');
          const view = cluster.topic(name);
          if (view === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic: ${name}`);
          await quota.take(view.partitions.length);
          const topicId = view.topicId;
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
        await quota.take(partitionCount);
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
    return { throttleTimeMs: quota.finish(), responses };
  },
});

export const createPartitionsHandler = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(context, request) {
    const { broker } = context;
    const quota = new MutationQuota(context, request.validateOnly);
    const results = [];
    const cluster = broker.cluster();
    for (const { name, count } of request.topics) {
      try {
        requireAllowed(context, AclOperation.ALTER, ResourceType.TOPIC, name);
        if (cluster !== null) {
          if (quota.applies) {
            await cluster.createPartitions(name, count, true, Math.max(request.timeoutMs, 1));
            await quota.take(count - cluster.topic(name)!.partitions.length);
          }
          await cluster.createPartitions(name, count, request.validateOnly, Math.max(request.timeoutMs, 1));
          results.push({ name, errorCode: NONE, errorMessage: null });
          continue;
        }
        const current = broker.engine.partitionCount(name);
        if (count <= current) {
          throw new SluiceError('INVALID_PARTITIONS', `Topic currently has ${current} partitions, which is higher than the requested ${count}.`);
        }
        if (quota.applies) {
          await broker.engine.createPartitions(name, count, { validateOnly: true });
          await quota.take(count - current);
        }
        if (!request.validateOnly) await broker.engine.createPartitions(name, count);
        results.push({ name, errorCode: NONE, errorMessage: null });
      } catch (error) {
        results.push({ name, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) });
      }
    }
    return { throttleTimeMs: quota.finish(), results };
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
  async handle(context, request) {
    const { broker } = context;
    const topics = [];
    for (const topic of request.topics) {
      const partitions = [];
      const denied = !allowed(context, AclOperation.DELETE, ResourceType.TOPIC, topic.name);
      for (const { partitionIndex, offset } of topic.partitions) {
        try {
          if (denied) throw deniedError(ResourceType.TOPIC);
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

