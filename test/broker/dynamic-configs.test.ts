// Dynamic broker configs on a single broker (KIP-226, src/broker/dynamic-config.ts), through
// the wire, as kafka-configs --entity-type brokers sends them: broker 1's through @platformatic/kafka's
// admin (AlterConfigs, DescribeConfigs), the cluster-wide default entity (resource name '') through
// sluice's client (IncrementalAlterConfigs; kafkajs refuses an empty resource name and
// @platformatic/kafka 1.x sends it to broker Number('') = 0), with kafkajs producing: a cluster-wide default and a per-broker value take effect on
// the running broker's existing topics (message.max.bytes refuses a produce, log.retention.ms
// deletes old segments), a topic's own override still wins, names Kafka keeps read-only and bad
// values are refused with Kafka's error and change nothing, and the values survive a restart.
import fs from 'node:fs';
import path from 'node:path';

import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { DYNAMIC_CONFIG_FILE } from '../../src/broker/dynamic-config.js';
import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { kafka } from '../fixtures/kafkajs.js';
import { tempDir, waitUntil } from '../helpers.js';

/** kafkajs's ConfigResourceTypes. */
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;
/** Kafka's ConfigSource ids. */
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;

const dataDir = tempDir();
let broker: Broker;
let client: any;
let admin: any;
let configAdmin: Admin;
let ownClient: KafkaClient;
let producer: any;

async function start(): Promise<void> {
  // Retention checked every 100 ms, so a changed log.retention.ms shows within the test; the
  // cleaner's backoff is set apart from its default, to see a dynamic one replace it.
  broker = await startBroker({ port: 0, dataDir, config: { 'log.retention.check.interval.ms': 100, 'log.cleaner.backoff.ms': 3_600_000 } });
  client = kafka([`localhost:${broker.port}`]);
  admin = client.admin();
  await admin.connect();
  ownClient = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
  configAdmin = new Admin({ clientId: 'dynamic-configs', bootstrapBrokers: [`localhost:${broker.port}`], retries: 0 });
  producer = client.producer({ retry: { retries: 0 } });
  await producer.connect();
}

async function stop(): Promise<void> {
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await configAdmin?.close().catch(() => {});
  ownClient?.close();
  await broker?.stop();
}

beforeAll(async () => {
  await start();
  await admin.createTopics({
    topics: [
      { topic: 'plain', numPartitions: 1 },
      { topic: 'own', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '100000' }] },
      // Segments of ~1 KiB, so that retention has whole segments to delete.
      { topic: 'rolled', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1024' }] },
    ],
  });
});

afterAll(stop);

async function describeBroker(name: string): Promise<Map<string, { value: string | null | undefined; source: number; readOnly: boolean }>> {
  if (name === '') return new Map((await ownClient.describeConfigs(BROKER_RESOURCE, '')).map((e) => [e.name, { value: e.value, source: e.source, readOnly: e.readOnly }]));
  const [described] = await configAdmin.describeConfigs({ resources: [{ resourceType: BROKER_RESOURCE, resourceName: name, configurationKeys: [] }] });
  return new Map(described!.configs.map((e) => [e.name, { value: e.value, source: e.configSource, readOnly: e.readOnly }]));
}

/** IncrementalAlterConfigs of the cluster-wide default: each name set, or deleted (null). */
async function alterDefault(entries: Record<string, string | null>): Promise<void> {
  await ownClient.incrementalAlterConfigs(BROKER_RESOURCE, '', Object.entries(entries).map(([name, value]) => ({ name, value })));
}

async function topicConfig(topic: string, name: string): Promise<{ value: string | null | undefined; source: number }> {
  const [described] = await configAdmin.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: [name] }] });
  const entry = described!.configs[0]!;
  return { value: entry.value, source: entry.configSource };
}

/** AlterConfigs of one broker: the entity's whole set of dynamic configs. */
async function alterBroker(name: string, entries: Record<string, string>, validateOnly = false): Promise<void> {
  const configs = Object.entries(entries).map(([entry, value]) => ({ name: entry, value }));
  await configAdmin.alterConfigs({ validateOnly, resources: [{ resourceType: BROKER_RESOURCE, resourceName: name, configs }] });
}

/** The Kafka error name of a failed admin call (@platformatic/kafka nests the protocol error). */
function errorOf(error: any): { name: string; message: string } {
  const found = JSON.stringify(error, Object.getOwnPropertyNames(error));
  const names = ['INVALID_REQUEST', 'INVALID_CONFIG'].filter((n) => found.includes(n));
  return { name: names[0] ?? 'none', message: found };
}

const bigValue = 'x'.repeat(5000);

describe('dynamic broker configs (one broker)', () => {
  it('a cluster-wide default applies at once to existing topics without an override; a broker value overrides it; a topic override wins', async () => {
    await producer.send({ topic: 'plain', acks: 1, messages: [{ value: bigValue }] });

    await alterDefault({ 'message.max.bytes': '2000' });
    expect(await describeBroker('')).toEqual(new Map([['message.max.bytes', { value: '2000', source: DYNAMIC_DEFAULT_BROKER_CONFIG, readOnly: false }]]));
    expect(await topicConfig('plain', 'max.message.bytes')).toEqual({ value: '2000', source: DYNAMIC_DEFAULT_BROKER_CONFIG });
    const refused = await producer.send({ topic: 'plain', acks: 1, messages: [{ value: bigValue }] }).catch((e: any) => e);
    expect(refused.type).toBe('MESSAGE_TOO_LARGE');
    // The topic's own max.message.bytes is not the broker's to change.
    await producer.send({ topic: 'own', acks: 1, messages: [{ value: bigValue }] });

    await alterBroker('1', { 'message.max.bytes': '100000' });
    const own = (await describeBroker('1')).get('message.max.bytes');
    expect(own).toEqual({ value: '100000', source: DYNAMIC_BROKER_CONFIG, readOnly: false });
    expect(await topicConfig('plain', 'max.message.bytes')).toEqual({ value: '100000', source: DYNAMIC_BROKER_CONFIG });
    await producer.send({ topic: 'plain', acks: 1, messages: [{ value: bigValue }] });
    // Static settings stay read-only.
    expect((await describeBroker('1')).get('log.dirs')?.readOnly).toBe(true);
  });

  it('a dynamic log.retention.ms deletes the old segments of a running log', async () => {
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'rolled', acks: 1, messages: Array.from({ length: 5 }, () => ({ value: 'r'.repeat(100) })) });
    const before = await admin.fetchTopicOffsets('rolled');
    expect(before[0]).toMatchObject({ low: '0', high: '50' });
    await alterDefault({ 'log.retention.ms': '1' });
    await waitUntil(async () => Number((await admin.fetchTopicOffsets('rolled'))[0].low) > 0, 'the old segments of topic rolled to be deleted');
    expect((await admin.fetchTopicOffsets('rolled'))[0].high).toBe('50');
    // Back to the static retention for what follows.
    await alterDefault({ 'log.retention.ms': null });
    expect((await topicConfig('rolled', 'retention.ms')).value).toBe(String(7 * 24 * 3600 * 1000));
  });

  it("the log cleaner's and the connection limits' settings act on the running broker", async () => {
    // The running cleaner takes new settings, and compacts on threads made with them.
    await alterDefault({ 'log.cleaner.backoff.ms': '100', 'log.cleaner.threads': '2', 'log.cleaner.io.buffer.size': '262144' });
    expect(broker.engine.cleanerConfig).toMatchObject({ backoffMs: 100, threads: 2, ioBufferBytes: 262_144 });
    await admin.createTopics({ topics: [{ topic: 'keyed', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1024' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }] }] });
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'keyed', acks: 1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${j}`, value: `v${i}-${'x'.repeat(50)}` })) });
    const readAll = async () => {
      const records = [];
      for (let offset = 0; offset < 200; ) {
        const fetched = (await broker.engine.fetch('keyed', 0, { offset, maxBytes: 10 << 20 })).records;
        if (fetched.length === 0) break;
        records.push(...fetched);
        offset = fetched.at(-1)!.offset + 1;
      }
      return records;
    };
    await waitUntil(async () => (await readAll()).length <= 20, 'the cleaner to compact topic keyed');
    const latest = new Map((await readAll()).map((r) => [r.key!.toString(), r.value!.toString()]));
    expect(latest.size).toBe(10);
    expect([...latest.values()].every((value) => value.startsWith('v19-'))).toBe(true);
    await alterDefault({ 'log.cleaner.backoff.ms': null, 'log.cleaner.threads': null, 'log.cleaner.io.buffer.size': null });
    expect(broker.engine.cleanerConfig).toMatchObject({ backoffMs: 3_600_000, threads: 1 });

    // At most one connection from 127.0.0.2, then none of that limit again.
    const from2 = () => BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, localAddress: '127.0.0.2' });
    await alterDefault({ 'max.connections.per.ip.overrides': '127.0.0.2:1' });
    const first = await from2();
    try {
      const refusedBefore = broker.metrics.connectionsRefused;
      await from2().then((second) => second.request(ApiKey.ApiVersions, {}).finally(() => second.close())).catch(() => {});
      expect(broker.metrics.connectionsRefused).toBe(refusedBefore + 1);
      await alterDefault({ 'max.connections.per.ip.overrides': null });
      const second = await from2();
      await second.request(ApiKey.ApiVersions, {});
      second.close();
    } finally {
      first.close();
    }

    // max.connection.creation.rate (KIP-612): 1 a second over 10 s allows 10 at once; the next are held, then served.
    await alterDefault({ 'max.connection.creation.rate': '1' });
    const delayedBefore = broker.metrics.connectionsDelayed;
    const burst = await Promise.all(Array.from({ length: 12 }, () => from2()));
    expect(broker.metrics.connectionsDelayed).toBeGreaterThan(delayedBefore);
    for (const client of burst) client.close();
    await alterDefault({ 'max.connection.creation.rate': null });
  });

  it("a broker's log level changes while it runs (broker-loggers, KIP-412), with Kafka's errors", async () => {
    const BROKER_LOGGER = 8;
    const root = async () => (await configAdmin.describeConfigs({ resources: [{ resourceType: BROKER_LOGGER, resourceName: '1', configurationKeys: [] }] }))[0]!.configs.map((c) => [c.name, c.value]);
    expect(await root()).toEqual([['root', 'WARN']]);
    const set = (value: string, configOperation: 0 | 1 = 0) =>
      configAdmin.incrementalAlterConfigs({ resources: [{ resourceType: BROKER_LOGGER, resourceName: '1', configs: [{ name: 'root', configOperation, value }] }] });
    await set('debug');
    expect(await root()).toEqual([['root', 'DEBUG']]);
    expect(broker.logger.isLevelEnabled('debug')).toBe(true);
    await set('OFF');
    expect(broker.logger.isLevelEnabled('fatal')).toBe(false);
    await expect(set('LOUD')).rejects.toThrow();
    await expect(set('', 1)).rejects.toThrow();
    expect(await root()).toEqual([['root', 'OFF']]);
    await set('WARN');
  });

  it("refuses names Kafka keeps read-only, names sluice takes at start only and bad values, with Kafka's INVALID_REQUEST, changing nothing; validateOnly changes nothing", async () => {
    const before = await describeBroker('');
    for (const [entries, message] of [
      [{ 'log.retention.hours': '1' }, "Invalid config value for resource ConfigResource(type=BROKER, name=''): Cannot update these configs dynamically: Set(log.retention.hours)"],
      [{ 'broker.id': '7' }, 'Cannot update these configs dynamically: Set(broker.id)'],
      [{ 'num.io.threads': '4' }, 'sluice takes them at start only'],
      [{ 'log.cleaner.threads': '0' }, 'Invalid value 0 for configuration log.cleaner.threads'],
      [{ 'max.connections.per.ip.overrides': 'nohost' }, 'Invalid value nohost for configuration max.connections.per.ip.overrides'],
      [{ 'log.retention.ms': 'soon' }, 'Invalid value soon for configuration log.retention.ms'],
    ] as const) {
      const error = errorOf(await alterDefault(entries).catch((e: any) => e));
      expect(error.name).toBe('INVALID_REQUEST');
      expect(error.message).toContain(message);
    }
    const own = await describeBroker('1');
    await alterBroker('1', { 'message.max.bytes': '10' }, true);
    expect(await describeBroker('1')).toEqual(own);
    // The admin client sends broker 2's configs to broker 2, which a cluster of one does not have.
    await expect(alterBroker('2', { 'message.max.bytes': '10' })).rejects.toThrow();
    expect(await describeBroker('')).toEqual(before);
  });

  it('survive a restart (kept in the data directory)', async () => {
    await stop();
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, DYNAMIC_CONFIG_FILE), 'utf8'))).toEqual({
      version: 1,
      entities: { '': { 'message.max.bytes': '2000' }, '1': { 'message.max.bytes': '100000' } },
    });
    await start();
    expect((await describeBroker('1')).get('message.max.bytes')).toEqual({ value: '100000', source: DYNAMIC_BROKER_CONFIG, readOnly: false });
    expect(await topicConfig('plain', 'max.message.bytes')).toEqual({ value: '100000', source: DYNAMIC_BROKER_CONFIG });
    await alterBroker('1', {});
    const refused = await producer.send({ topic: 'plain', acks: 1, messages: [{ value: bigValue }] }).catch((e: any) => e);
    expect(refused.type).toBe('MESSAGE_TOO_LARGE');
  });

  it('a dynamic config file that is not whole JSON stops the start with an error naming it', async () => {
    await stop();
    const file = path.join(dataDir, DYNAMIC_CONFIG_FILE);
    const kept = fs.readFileSync(file);
    fs.writeFileSync(file, '{"version":1,"entit');
    try {
      await expect(startBroker({ port: 0, dataDir })).rejects.toThrow(`${file} is not JSON`);
    } finally {
      fs.writeFileSync(file, kept);
      await start();
    }
  });
});
