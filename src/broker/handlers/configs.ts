// DescribeConfigs (32), AlterConfigs (33), IncrementalAlterConfigs (44): topic configs through
// the engine; broker configs through the broker's dynamic layers (dynamic-config.ts): the static
// ones are described read-only, the log defaults altered for one broker or the cluster; and the
// broker's log level (broker-loggers.ts).
import { SluiceError } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { CONFIG_RESOURCE_TYPE, CONFIG_SOURCE } from '../../protocol/apis/describe-configs.js';
import { brokerSynonymsOf, ConfigType, DYNAMIC_BROKER_LOG_CONFIG_NAMES, topicConfigDefault, topicConfigOfBrokerName, topicConfigType, unsupportedConfigs } from '../../storage/log-config.js';
import { BROKER_DEFAULTS, isSensitiveConfig } from '../config.js';
import { DEFAULT_ENTITY, type BrokerConfigLayers } from '../dynamic-config.js';
import { alterBrokerLoggers, describeBrokerLoggers } from './broker-loggers.js';
import { defineHandler, type BrokerContext, type RequestContext } from '../handler.js';
import { CLUSTER_RESOURCE_NAME } from '../../protocol/acl-codes.js';
import { AclOperation, requireAllowed, ResourceType } from '../authorizer/request-auth.js';
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';

/** Kafka's ConfigEntry.ConfigType: the topic configs' (and their broker-level names') from the catalog; others are STRING. */
function configType(name: string): number {
  const topicName = topicConfigOfBrokerName(name) ?? name;
  return topicConfigType(topicName) ?? ConfigType.STRING;
}

const DYNAMIC_NAMES: ReadonlySet<string> = new Set(DYNAMIC_BROKER_LOG_CONFIG_NAMES);

export interface ConfigSynonym {
  name: string;
  value: string;
  source: number;
}

/**
 * Where a topic's value comes from, most specific first, as Kafka's DescribeConfigs synonyms:
 * the topic's own override, then each broker-level synonym set for this broker (its dynamic
 * value, the cluster's dynamic default, server.properties), then the default: the broker-level
 * default where the broker has one (log.retention.hours=168), else Kafka's topic default under the
 * first broker-level name. Kafka lists retention.ms set on a topic as
 * {DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}.
 */
export function topicConfigSynonyms(name: string, overrides: Readonly<Record<string, string>>, brokerLayers: BrokerConfigLayers): ConfigSynonym[] {
  const synonyms: ConfigSynonym[] = [];
  if (name in overrides) synonyms.push({ name, value: overrides[name]!, source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG });
  const brokerNames = brokerSynonymsOf(name);
  synonyms.push(...brokerLayers.topicDefaultSynonyms(name));
  const brokerDefault = brokerNames.find((brokerName) => BROKER_DEFAULTS[brokerName] !== undefined);
  synonyms.push(
    brokerDefault !== undefined
      ? { name: brokerDefault, value: BROKER_DEFAULTS[brokerDefault]!, source: CONFIG_SOURCE.DEFAULT_CONFIG }
      : { name: brokerNames[0] ?? name, value: topicConfigDefault(name) ?? '', source: CONFIG_SOURCE.DEFAULT_CONFIG },
  );
  return synonyms;
}

/** Where a topic's effective value comes from: the first of its synonyms. */
export function topicConfigSource(name: string, overrides: Readonly<Record<string, string>>, brokerLayers: BrokerConfigLayers): number {
  return topicConfigSynonyms(name, overrides, brokerLayers)[0]!.source;
}

/** How long AlterConfigs in a cluster waits for its view of the topic to catch up after a concurrent write. */
const CLUSTER_CONFIG_WRITE_TIMEOUT_MS = 30_000;

/** Kafka's AlterConfigOp.OpType. */
const OPERATION = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export const describeConfigsHandler = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(context, request) {
    const { broker, header } = context;
    // Synonyms are sent only when asked for (v1+), as Kafka does.
    const withSynonyms = header.apiVersion >= 1 && request.includeSynonyms;
    const results = request.resources.map(({ resourceType, resourceName, configurationKeys }) => {
      try {
        requireConfigAccess(context, AclOperation.DESCRIBE_CONFIGS, resourceType, resourceName);
        // No keys, null or empty, asks for every config, as Kafka's ConfigHelper reads it
        // (@platformatic/kafka sends an empty list).
        const all = configurationKeys === null || configurationKeys.length === 0;
        const entries = describe(broker, resourceType, resourceName, withSynonyms).filter((entry) => all || configurationKeys.includes(entry.name));
        return { errorCode: NONE, errorMessage: null, resourceType, resourceName, configs: entries };
      } catch (error) {
        return { errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), resourceType, resourceName, configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
});

function describe(broker: BrokerContext, resourceType: number, resourceName: string, withSynonyms: boolean) {
  if (resourceType === CONFIG_RESOURCE_TYPE.TOPIC) {
    const topic = broker.engine.describeTopic(resourceName);
    return Object.entries(topic.config).map(([name, value]) => {
      const synonyms = topicConfigSynonyms(name, topic.overrides, broker.dynamicConfig.layers);
      return entry(name, value, false, synonyms[0]!.source, withSynonyms ? synonyms : []);
    });
  }
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
    const layers = broker.dynamicConfig.layers;
    if (resourceName === DEFAULT_ENTITY) {
      // The default entity holds only what was set on it, as Kafka describes it.
      return Object.entries(layers.dynamicOf(DEFAULT_ENTITY)).map(([name, value]) => {
        const source = CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG;
        return entry(name, value, false, source, withSynonyms ? [{ name, value, source }] : []);
      });
    }
    if (resourceName !== String(broker.settings.nodeId)) {
      throw new SluiceError('INVALID_REQUEST', `Broker ${resourceName} is not this broker (${broker.settings.nodeId})`);
    }
    return Object.entries(layers.effective()).map(([name, value]) => {
      const synonyms = layers.synonymsOf(name);
      return entry(name, value, !DYNAMIC_NAMES.has(name), synonyms[0]?.source ?? CONFIG_SOURCE.STATIC_BROKER_CONFIG, withSynonyms ? synonyms : []);
    });
  }
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER) {
    return describeBrokerLoggers(broker, resourceName).map(({ name, value, source }) => entry(name, value, false, source, withSynonyms ? [{ name, value, source }] : []));
  }
  throw new SluiceError('INVALID_REQUEST', `Unsupported resource type ${resourceType}`);
}

function entry(name: string, value: string, readOnly: boolean, configSource: number, synonyms: ConfigSynonym[]) {
  // A password, a private key or a JAAS line with users' passwords is never sent, as in Kafka.
  const sensitive = isSensitiveConfig(name);
  return {
    name,
    value: sensitive ? null : value,
    readOnly,
    isDefault: configSource === CONFIG_SOURCE.DEFAULT_CONFIG,
    configSource,
    isSensitive: sensitive,
    synonyms: sensitive ? synonyms.map((synonym) => ({ ...synonym, value: null })) : synonyms,
    configType: sensitive && !name.startsWith('listener.name.') ? ConfigType.PASSWORD : configType(name),
    documentation: null,
  };
}

export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(context, request) {
    const { broker } = context;
    const responses = [];
    for (const { resourceType, resourceName, configs } of request.resources) {
      try {
        requireConfigAccess(context, AclOperation.ALTER_CONFIGS, resourceType, resourceName);
        if (resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER) {
          alterBrokerLoggers(broker, resourceName, configs, request.validateOnly);
          responses.push({ errorCode: NONE, errorMessage: null, resourceType, resourceName });
          continue;
        }
        if (resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
          await broker.dynamicConfig.alter(
            resourceName,
            (current) => {
              const next: Record<string, string> = { ...current };
              for (const { name, configOperation, value } of configs) {
                const changed = applyOperation(configOperation, name, value, next[name]);
                if (changed === null) delete next[name];
                else next[name] = changed;
              }
              return next;
            },
            request.validateOnly,
          );
          responses.push({ errorCode: NONE, errorMessage: null, resourceType, resourceName });
          continue;
        }
        requireTopic(resourceType);
        const current = broker.engine.describeTopic(resourceName);
        const changes: Record<string, string | null> = {};
        for (const { name, configOperation, value } of configs) {
          changes[name] = applyOperation(configOperation, name, value, changes[name] ?? current.config[name]);
        }
        await alter(broker, resourceName, changes, request.validateOnly);
        responses.push({ errorCode: NONE, errorMessage: null, resourceType, resourceName });
      } catch (error) {
        responses.push({ errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), resourceType, resourceName });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

function applyOperation(operation: number, name: string, value: string | null, current: string | undefined): string | null {
  switch (operation) {
    case OPERATION.SET:
      return value;
    case OPERATION.DELETE:
      return null;
    case OPERATION.APPEND:
    case OPERATION.SUBTRACT: {
      // List-valued configs (cleanup.policy, *.replication.throttled.replicas) only.
      if (configType(name) !== ConfigType.LIST) throw new SluiceError('INVALID_CONFIG', `${name} is not a list; APPEND and SUBTRACT apply to lists only`);
      const items = new Set((current ?? '').split(',').filter((item) => item !== ''));
      for (const item of (value ?? '').split(',').filter((i) => i !== '')) {
        if (operation === OPERATION.APPEND) items.add(item);
        else items.delete(item);
      }
      return [...items].join(',');
    }
    default:
      throw new SluiceError('INVALID_REQUEST', `Unknown config operation ${operation}`);
  }
}

/** AlterConfigs replaces a topic's whole set of overrides, unlike the incremental API. */
export const alterConfigsHandler = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(context, request) {
    const { broker } = context;
    const responses = [];
    for (const { resourceType, resourceName, configs } of request.resources) {
      try {
        requireConfigAccess(context, AclOperation.ALTER_CONFIGS, resourceType, resourceName);
        if (resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
          // The entity's whole set, as for a topic.
          const set = Object.fromEntries(configs.filter((c): c is { name: string; value: string } => c.value !== null).map(({ name, value }) => [name, value]));
          await broker.dynamicConfig.alter(resourceName, () => set, request.validateOnly);
          responses.push({ errorCode: NONE, errorMessage: null, resourceType, resourceName });
          continue;
        }
        requireTopic(resourceType);
        const changes: Record<string, string | null> = {};
        for (const name of Object.keys(broker.engine.describeTopic(resourceName).overrides)) changes[name] = null;
        for (const { name, value } of configs) changes[name] = value;
        await alter(broker, resourceName, changes, request.validateOnly);
        responses.push({ errorCode: NONE, errorMessage: null, resourceType, resourceName });
      } catch (error) {
        responses.push({ errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), resourceType, resourceName });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

/**
 * DESCRIBE_CONFIGS or ALTER_CONFIGS, as Kafka checks them: on the topic for a topic's configs
 * (TOPIC_AUTHORIZATION_FAILED), on the cluster for a broker's or its loggers'
 * (CLUSTER_AUTHORIZATION_FAILED).
 */
function requireConfigAccess(context: RequestContext, operation: number, resourceType: number, resourceName: string): void {
  if (resourceType === CONFIG_RESOURCE_TYPE.TOPIC) requireAllowed(context, operation, ResourceType.TOPIC, resourceName);
  else if (resourceType === CONFIG_RESOURCE_TYPE.BROKER || resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER) requireAllowed(context, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

function requireTopic(resourceType: number): void {
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER) throw new SluiceError('INVALID_REQUEST', 'AlterConfigs does not support broker loggers: use IncrementalAlterConfigs');
  if (resourceType !== CONFIG_RESOURCE_TYPE.TOPIC) throw new SluiceError('INVALID_REQUEST', `Unsupported resource type ${resourceType}: topics, brokers and broker loggers have configs`);
}

/** In a cluster the change goes to the topic's record in etcd, for every replica (ClusterNode.alterTopicConfigs). */
async function alter(broker: BrokerContext, topic: string, changes: Record<string, string | null>, validateOnly: boolean): Promise<void> {
  broker.engine.validateTopicConfig(topic, changes);
  if (validateOnly) return;
  const cluster = broker.cluster();
  if (cluster !== null) await cluster.alterTopicConfigs(topic, changes, CLUSTER_CONFIG_WRITE_TIMEOUT_MS);
  else await broker.engine.alterTopicConfig(topic, changes);
  reportUnsupportedTopicConfigs(broker, topic, changes);
}

/** A topic config set that sluice accepts but does not act on is said so in the log, never ignored silently. */
export function reportUnsupportedTopicConfigs(broker: BrokerContext, topic: string, values: Record<string, string | null>): void {
  const set = Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== null));
  for (const { name, value, reason } of unsupportedConfigs(set)) {
    broker.log.log('warn', `topic-config:${name}`, { topic, config: name, value }, `topic ${topic}: config ${name}=${value} is accepted but not supported: ${reason}`);
  }
}
