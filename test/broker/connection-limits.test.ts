// connections.max.idle.ms, max.connections (also a listener's own), max.connections.per.ip and its
// overrides take effect as in Kafka (issue 7, item 6), and every config name the broker is given
// either takes effect or is reported at startup: accepted-but-not-supported with its reason, or not
// a known config.
import net from 'node:net';
import { Admin } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { reportBrokerConfig } from '../../src/broker/config.js';
import { ConnectionQuotas } from '../../src/broker/connection-quotas.js';
import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { CONFIG_RESOURCE_TYPE } from '../../src/protocol/apis/describe-configs.js';
import { ApiKey } from '../../src/protocol/index.js';
import { startEtcd } from '../../src/cluster/etcd-process.js';
import { capturingLogger, fetchBody } from '../fixtures/probes.js';
import { tempDir, waitUntil } from '../helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** Connects from `localAddress` and resolves once the broker closed the connection, or with false after `waitMs`. */
function closedByBroker(port: number, localAddress = '127.0.0.1', waitMs = 5000): Promise<{ socket: net.Socket; closed: Promise<boolean> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.on('error', () => {});
    const closed = new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), waitMs);
      socket.on('close', () => {
        clearTimeout(timer);
        done(true);
      });
    });
    socket.on('connect', () => resolve({ socket, closed }));
  });
}

let broker: Broker | undefined;

afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

describe('connections.max.idle.ms', () => {
  it('closes a connection that sends nothing for that long, and keeps one waiting in a long poll', async () => {
    broker = await startBroker({ port: 0, config: { 'connections.max.idle.ms': 300 } });
    await broker.engine.createTopic('quiet', { partitions: 1 });
    const idle = await closedByBroker(broker.port);
    const polling = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    const poll = polling.request(ApiKey.Fetch, fetchBody('quiet', { maxWaitMs: 1500 }), 11);
    expect(await idle.closed).toBe(true);
    expect(broker.metrics.connectionsClosedIdle).toBeGreaterThanOrEqual(1);
    // The poll outlived the idle limit five times over and is answered (empty, after its wait).
    const answer = await poll;
    expect(answer.responses[0].partitions[0].errorCode).toBe(0);
    polling.close();
  });
});

describe('max.connections and max.connections.per.ip', () => {
  it('closes connections past max.connections at once, and takes new ones when others leave', async () => {
    broker = await startBroker({ port: 0, config: { 'max.connections': 3 } });
    const held = await Promise.all([1, 2, 3].map(() => closedByBroker(broker!.port, '127.0.0.1', 1000)));
    const extra = await closedByBroker(broker.port);
    expect(await extra.closed).toBe(true);
    expect(broker.metrics.connectionsRefused).toBe(1);
    held[0]!.socket.destroy();
    while (broker.connectionCount > 2) await sleep(10);
    const next = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    next.close();
    for (const { socket, closed } of held.slice(1)) {
      expect(await closed).toBe(false); // the ones it took were never closed by the broker
      socket.destroy();
    }
  });

  it('limits a listener by its own listener.name.NAME.max.connections (KIP-402), changed on a running broker, and leaves the others', async () => {
    const config = { listeners: 'INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT', 'listener.name.external.max.connections': '2' };
    expect(reportBrokerConfig(config).unsupported).toEqual([]);
    expect(reportBrokerConfig({ ...config, 'listener.name.external.max.connection.creation.rate': '5' }).unsupported).toEqual([]);
    expect(reportBrokerConfig({ ...config, 'listener.name.public.max.connections': '2', 'listener.name.external.num.network.threads': '5' }).unsupported).toEqual([
      { name: 'listener.name.public.max.connections', reason: expect.stringMatching(/names no listener sluice serves \(INTERNAL, EXTERNAL\)/) },
      { name: 'listener.name.external.num.network.threads', reason: expect.stringMatching(/num.network.threads applies broker-wide only/) },
    ]);
    broker = await startBroker({ config });
    const { INTERNAL: internal, EXTERNAL: external } = broker.listenerPorts as { INTERNAL: number; EXTERNAL: number };
    const outside = await Promise.all([1, 2].map(() => closedByBroker(external, '127.0.0.1', 1000)));
    const third = await closedByBroker(external);
    expect(await third.closed).toBe(true);
    expect(broker.metrics.connectionsRefused).toBe(1);
    // INTERNAL has no limit of its own.
    const inside = await Promise.all([1, 2, 3].map(() => closedByBroker(internal, '127.0.0.1', 1000)));
    for (const { closed } of [...outside, ...inside]) expect(await closed).toBe(false);

    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${internal}`] });
    try {
      const nodeId = String(broker.settings.nodeId);
      await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.public.max.connections', value: '5' }])).rejects.toThrow(/names no listener this broker serves/);
      await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.external.max.connections', value: '3' }]);
      const fourth = await closedByBroker(external, '127.0.0.1', 1000);
      expect(await fourth.closed).toBe(false);
      const fifth = await closedByBroker(external);
      expect(await fifth.closed).toBe(true);
      for (const { socket } of [...outside, ...inside, fourth]) socket.destroy();
    } finally {
      admin.close();
    }
  });

  it("in a cluster, takes a connection on the inter-broker listener past max.connections by closing another listener's oldest (KIP-402)", async () => {
    const etcd = await startEtcd();
    try {
      broker = await startBroker({
        dataDir: tempDir(),
        config: {
          'sluice.etcd.endpoints': etcd.endpoints.join(','),
          listeners: 'EXTERNAL://127.0.0.1:0,INTERNAL://127.0.0.1:0',
          'listener.security.protocol.map': 'EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT',
          'inter.broker.listener.name': 'INTERNAL',
          'max.connections': 2,
        },
      });
      const { INTERNAL: internal, EXTERNAL: external } = broker.listenerPorts as { INTERNAL: number; EXTERNAL: number };
      const first = await closedByBroker(external);
      await waitUntil(() => broker!.connectionCount === 1, 'the broker took the first client');
      const second = await closedByBroker(external);
      await waitUntil(() => broker!.connectionCount === 2, 'the broker took the second client');
      // Clients hold every slot: another client is refused, a peer on INTERNAL is not.
      const third = await closedByBroker(external);
      expect(await third.closed).toBe(true);
      const peer = await closedByBroker(internal, '127.0.0.1', 1000);
      expect(await first.closed).toBe(true); // the least recently active client made room
      expect(await peer.closed).toBe(false);
      expect(await second.closed).toBe(false);
      for (const { socket } of [second, peer]) socket.destroy();
    } finally {
      await broker?.stop();
      broker = undefined;
      await etcd.stop();
    }
  });

  it('limits each address, with overrides by address', async () => {
    broker = await startBroker({
      port: 0,
      host: '127.0.0.1',
      config: { 'max.connections.per.ip': 2, 'max.connections.per.ip.overrides': '127.0.0.3:4' },
    });
    // 127.0.0.2 and 127.0.0.3 are loopback addresses of this host, so a client can come from each.
    const fromTwo = await Promise.all([1, 2, 3].map(() => closedByBroker(broker!.port, '127.0.0.2', 1000)));
    const fromThree = await Promise.all([1, 2, 3, 4, 5].map(() => closedByBroker(broker!.port, '127.0.0.3', 1000)));
    const closedTwo = await Promise.all(fromTwo.map(({ closed }) => closed));
    const closedThree = await Promise.all(fromThree.map(({ closed }) => closed));
    expect(closedTwo.filter(Boolean)).toHaveLength(1);
    expect(closedThree.filter(Boolean)).toHaveLength(1);
    expect(broker.metrics.connectionsRefused).toBe(2);
    for (const { socket } of [...fromTwo, ...fromThree]) socket.destroy();
  });
});

describe('connection creation rates (KIP-612)', () => {
  const limits = {
    maxConnections: Infinity,
    listenerMaxConnections: new Map<string, number>(),
    maxConnectionsPerIp: Infinity,
    maxConnectionsPerIpOverrides: new Map<string, number>(),
    listenerMaxConnectionCreationRate: new Map<string, number>(),
  };
  const window = { windowCount: 11, windowMs: 1000 };

  it('holds connections past max.connection.creation.rate, and closes those past their address\'s quota without counting them', () => {
    const quotas = new ConnectionQuotas({ ...limits, maxConnectionCreationRate: 2 }, window, (ip) => (ip === '10.0.0.9' ? 1 : undefined));
    const t0 = 1_000_000;
    // A rate is taken over at least 10 windows: 20 connections pass at 2 a second, the 21st waits.
    for (let i = 0; i < 20; i++) expect(quotas.throttle('10.0.0.1', 'PLAINTEXT', t0)).toBeNull();
    const held = quotas.throttle('10.0.0.1', 'PLAINTEXT', t0);
    expect(held?.holdMs).toBeGreaterThan(0);
    expect(held!.holdMs).toBeLessThanOrEqual(1000); // at most one window, as Kafka bounds it
    const perAddress = new ConnectionQuotas({ ...limits, maxConnectionCreationRate: Infinity }, window, (ip) => (ip === '10.0.0.9' ? 1 : undefined));
    for (let i = 0; i < 10; i++) {
      expect(perAddress.admit('::ffff:10.0.0.9', 'PLAINTEXT')).toBeNull();
      expect(perAddress.throttle('::ffff:10.0.0.9', 'PLAINTEXT', t0)).toBeNull();
    }
    expect(perAddress.admit('10.0.0.9', 'PLAINTEXT')).toBeNull();
    expect(perAddress.throttle('10.0.0.9', 'PLAINTEXT', t0)?.closeAfterMs).toBeGreaterThan(0);
    expect(perAddress.connectionCount).toBe(10); // the throttled one is not counted
    expect(perAddress.throttle('10.0.0.2', 'PLAINTEXT', t0)).toBeNull(); // another address has no quota
    // Throttled attempts do not count against the rate: once the windows move on, it connects again.
    expect(perAddress.throttle('10.0.0.9', 'PLAINTEXT', t0 + 11_000)).toBeNull();
    // A listener's own rate holds that listener's connections alone.
    const perListener = new ConnectionQuotas({ ...limits, maxConnectionCreationRate: Infinity, listenerMaxConnectionCreationRate: new Map([['EXTERNAL', 1]]) }, window);
    for (let i = 0; i < 10; i++) expect(perListener.throttle('10.0.0.1', 'EXTERNAL', t0)).toBeNull();
    expect(perListener.throttle('10.0.0.1', 'EXTERNAL', t0)?.holdMs).toBeGreaterThan(0);
    expect(perListener.throttle('10.0.0.1', 'INTERNAL', t0)).toBeNull();
    const none = new ConnectionQuotas({ ...limits, maxConnectionCreationRate: Infinity }, window, () => 0);
    expect(none.throttle('10.0.0.3', 'PLAINTEXT', t0)).toEqual({ closeAfterMs: 1000 });
  });

  it('an ip quota set through AlterClientQuotas closes the connections an address opens past it; max.connection.creation.rate holds them, then serves them', async () => {
    broker = await startBroker({ port: 0, host: '127.0.0.1' });
    const admin = new Admin({ clientId: 'ip-quotas', bootstrapBrokers: [`127.0.0.1:${broker.port}`], retries: 0 });
    try {
      await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'ip', entityName: '127.0.0.4' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] }] } as never);
      const described = await admin.describeClientQuotas({ components: [{ entityType: 'ip', matchType: 2 }], strict: true } as never);
      expect(described).toEqual([{ entity: [{ entityType: 'ip', entityName: '127.0.0.4' }], values: [{ key: 'connection_creation_rate', value: 1 }] }]);
      // Refused as Kafka refuses them: not an address, another key for an ip, an ip beside a client id.
      for (const entry of [
        { entities: [{ entityType: 'ip', entityName: 'not-an-ip' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] },
        { entities: [{ entityType: 'ip', entityName: '127.0.0.5' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] },
        { entities: [{ entityType: 'ip', entityName: '127.0.0.5' }, { entityType: 'client-id', entityName: 'c' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] },
      ]) {
        await expect(admin.alterClientQuotas({ entries: [entry] } as never)).rejects.toThrow('Altering client quotas failed');
      }
    } finally {
      await admin.close();
    }
    // 1 a second over 11 windows of 1 s: 10 connections from 127.0.0.4 are served, the rest closed.
    const attempts = await Promise.all(Array.from({ length: 14 }, () => closedByBroker(broker!.port, '127.0.0.4', 3000)));
    const closed = await Promise.all(attempts.map(({ closed }) => closed));
    expect(closed.filter(Boolean)).toHaveLength(4);
    expect(broker.metrics.connectionsThrottled).toBe(4);
    // Another address has no quota.
    const other = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, localAddress: '127.0.0.6' });
    other.close();
    for (const { socket } of attempts) socket.destroy();
    await broker.stop();

    broker = await startBroker({ port: 0, config: { 'max.connection.creation.rate': 1 } });
    const clients = await Promise.all(Array.from({ length: 12 }, () => BrokerConnection.connect({ host: '127.0.0.1', port: broker!.port })));
    // Every one is served (ApiVersions answered), the two past the burst after they were held.
    expect(broker.metrics.connectionsDelayed).toBe(2);
    expect(broker.metrics.connectionsOpened).toBe(12);
    for (const client of clients) client.close();
  });
});

describe('config names', () => {
  it('reports at startup each one given that does not take effect, and why; says nothing of those that do', async () => {
    const { logger, lines } = capturingLogger('warn');
    broker = await startBroker({
      port: 0,
      logger,
      config: {
        'num.network.threads': 8, // accepted, not supported
        'ssl.keystore.location': '/etc/keystore', // accepted, not supported
        'offsets.topic.compression.codec': 1, // accepted, not supported
        'offsets.topic.segment.bytes': 1 << 20, // takes effect
        'log.message.format.version': '2.8', // a log default whose value is not supported
        'connections.max.idle.ms': 60000, // takes effect
        'log.segment.bytes': 1 << 20, // takes effect
        'log.cleaner.threads': 2, // takes effect
        'log.cleanup.policy': 'compact', // takes effect
        'made.up.setting': 'x', // not a Kafka config
      },
    });
    const reported = new Map(lines.filter((line) => line.config !== undefined).map((line) => [line.config, line]));
    for (const name of ['num.network.threads', 'ssl.keystore.location', 'offsets.topic.compression.codec', 'log.message.format.version']) {
      expect(reported.get(name)?.msg).toMatch(/accepted but not supported: .+/);
    }
    expect(reported.get('made.up.setting')?.msg).toMatch(/isn't a known config/);
    for (const name of ['connections.max.idle.ms', 'log.segment.bytes', 'log.cleaner.threads', 'log.cleanup.policy', 'offsets.topic.segment.bytes']) expect(reported.has(name)).toBe(false);
  });

  it('refuses a value Kafka would refuse', async () => {
    await expect(startBroker({ port: 0, config: { 'max.connections.per.ip': 0 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(startBroker({ port: 0, config: { 'queued.max.requests': 0 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(startBroker({ port: 0, config: { 'log.level': 'loud' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
