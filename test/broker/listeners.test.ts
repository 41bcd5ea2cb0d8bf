// Kafka's `listeners` as sluice reads them: every listener but a KRaft controller's is served, each
// secured one with its own settings, each client answered with the endpoints of the listener it
// came in on; the ones it does not serve are reported at startup, and a TLS or SASL listener is
// served with its protocol, never in plaintext.
import { afterEach, describe, expect, it } from 'vitest';

import { interBrokerListener, reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { advertisedListener, parseListeners, servedListener } from '../../src/broker/listeners.js';
import { startBroker, type Broker } from '../../src/index.js';
import { capturingLogger } from '../fixtures/probes.js';

/** The lines of Kafka 4's config/server.properties (KRaft, combined mode) that name listeners. */
const KRAFT_DEFAULTS = {
  'process.roles': 'broker,controller',
  listeners: 'PLAINTEXT://:0,CONTROLLER://:9093',
  'advertised.listeners': 'PLAINTEXT://localhost:0,CONTROLLER://localhost:9093',
  'controller.listener.names': 'CONTROLLER',
  'inter.broker.listener.name': 'PLAINTEXT',
  'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
};

let broker: Broker | undefined;
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

describe('listeners', () => {
  it('parses NAME://host:port lists, IPv6 in brackets, a wildcard host as every interface', () => {
    expect(parseListeners('PLAINTEXT://:9092, internal://10.0.0.1:9094,EXTERNAL://[::1]:9095,X://0.0.0.0:1')).toEqual([
      { name: 'PLAINTEXT', host: '', port: 9092 },
      { name: 'INTERNAL', host: '10.0.0.1', port: 9094 },
      { name: 'EXTERNAL', host: '::1', port: 9095 },
      { name: 'X', host: '', port: 1 },
    ]);
    for (const bad of ['', 'localhost:9092', 'PLAINTEXT://:port', 'PLAINTEXT://:70000', 'PLAINTEXT://:1,PLAINTEXT://:2']) {
      expect(() => parseListeners(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
  });

  it('serves the first PLAINTEXT listener, skipping a KRaft controller listener whatever the order', () => {
    const { served, notServed } = servedListener({ ...KRAFT_DEFAULTS, listeners: 'CONTROLLER://:9093,PLAINTEXT://:9092' });
    expect(served).toEqual({ name: 'PLAINTEXT', host: '', port: 9092 });
    expect(notServed).toEqual([{ listener: 'CONTROLLER://:9093', reason: expect.stringMatching(/KRaft controller listener/) }]);
  });

  it('serves a TLS or SASL listener with its own protocol, never in plaintext', () => {
    expect(servedListener({ listeners: 'SSL://:9093' })).toMatchObject({ served: { name: 'SSL', port: 9093 }, protocol: 'SSL' });
    expect(servedListener({ listeners: 'EXTERNAL://:9093', 'listener.security.protocol.map': 'EXTERNAL:SASL_SSL' })).toMatchObject({ served: { name: 'EXTERNAL' }, protocol: 'SASL_SSL' });
    // The first secured listener is the broker's own wherever it stands; the others are served beside it.
    const { served, protocol, extra, notServed } = servedListener({ listeners: 'PLAINTEXT://:9092,SASL_SSL://:9094,SSL://:9093' });
    expect({ port: served.port, protocol }).toEqual({ port: 9094, protocol: 'SASL_SSL' });
    expect(extra).toEqual([
      { name: 'PLAINTEXT', host: '', port: 9092, protocol: 'PLAINTEXT' },
      { name: 'SSL', host: '', port: 9093, protocol: 'SSL' },
    ]);
    expect(notServed).toEqual([]);
  });

  it('takes a custom name through listener.security.protocol.map, and refuses one without a protocol, as Kafka does', () => {
    const { served, extra, notServed } = servedListener({ listeners: 'INTERNAL://127.0.0.1:9094,EXTERNAL://:9092', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT' });
    expect(served).toEqual({ name: 'INTERNAL', host: '127.0.0.1', port: 9094 });
    expect(extra).toEqual([{ name: 'EXTERNAL', host: '', port: 9092, protocol: 'PLAINTEXT' }]);
    expect(notServed).toEqual([]);
    expect(() => servedListener({ listeners: 'INTERNAL://:9094' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/INTERNAL:PLAINTEXT/) }));
  });

  it('takes the brokers own listener from inter.broker.listener.name or security.inter.broker.protocol, one of those served', () => {
    const listeners = 'EXTERNAL://:9093,INTERNAL://:9092';
    const map = 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT';
    expect(servedListener({ listeners, 'listener.security.protocol.map': map }).interBroker.name).toBe('EXTERNAL');
    expect(servedListener({ listeners, 'listener.security.protocol.map': map, 'inter.broker.listener.name': 'internal' }).interBroker.name).toBe('INTERNAL');
    expect(servedListener({ listeners: 'SSL://:9093,PLAINTEXT://:9092', 'security.inter.broker.protocol': 'PLAINTEXT' }).interBroker.name).toBe('PLAINTEXT');
    expect(() => servedListener({ listeners, 'listener.security.protocol.map': map, 'inter.broker.listener.name': 'REPLICATION' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/inter.broker.listener.name REPLICATION must be a listener sluice serves/) }),
    );
    expect(() => servedListener({ listeners, 'listener.security.protocol.map': map, 'inter.broker.listener.name': 'INTERNAL', 'security.inter.broker.protocol': 'PLAINTEXT' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    // Without etcd there are no other brokers to reach: reported as acting only in a cluster.
    expect(reportBrokerConfig({ listeners, 'listener.security.protocol.map': map, 'inter.broker.listener.name': 'INTERNAL' }).unsupported).toContainEqual({
      name: 'inter.broker.listener.name',
      reason: expect.stringMatching(/only in a cluster/),
    });
  });

  it("gives each SASL listener its own users, and the brokers the inter-broker listener's login", () => {
    const jaas = (options: string) => `org.apache.kafka.common.security.plain.PlainLoginModule required ${options};`;
    const settings = resolveBrokerSettings({
      listeners: 'EXTERNAL://:9093,INTERNAL://:9092',
      'listener.security.protocol.map': 'EXTERNAL:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'sluice.etcd.endpoints': 'http://127.0.0.1:2379',
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.external.plain.sasl.jaas.config': jaas('user_alice="alice-secret"'),
      'listener.name.internal.plain.sasl.jaas.config': jaas('username="broker" password="broker-secret" user_broker="broker-secret"'),
    });
    expect(settings.listenerName).toBe('EXTERNAL');
    expect([...settings.sasl!.plainUsers.keys()]).toEqual(['alice']);
    expect(settings.sasl!.interBroker).toBeUndefined();
    const internal = interBrokerListener(settings);
    expect(internal).toMatchObject({ name: 'INTERNAL', protocol: 'SASL_PLAINTEXT', tls: null });
    expect([...internal.sasl!.plainUsers.keys()]).toEqual(['broker']);
    expect(internal.sasl!.interBroker).toEqual({ mechanism: 'PLAIN', username: 'broker', password: 'broker-secret' });
  });

  it("reports the broker's ssl.client.auth as not applying only where no SSL listener reads it (SASL_SSL takes its own alone)", () => {
    const reported = (config: Record<string, string>) => reportBrokerConfig({ 'ssl.client.auth': 'required', 'sasl.enabled.mechanisms': 'PLAIN', ...config }).unsupported.filter(({ name }) => name === 'ssl.client.auth');
    expect(reported({ listeners: 'SASL_SSL://:9094' })).toEqual([{ name: 'ssl.client.auth', reason: expect.stringMatching(/only listener\.name\.sasl_ssl\.ssl\.client\.auth applies/) }]);
    expect(reported({ listeners: 'SASL_SSL://:9094,SSL://:9093' })).toEqual([]);
    expect(reported({ listeners: 'SASL_SSL://:9094,SSL://:9093', 'listener.name.ssl.ssl.client.auth': 'none' })).toHaveLength(1);
  });

  it('advertises the advertised.listeners entry of the served listener, by name', () => {
    const served = { name: 'PLAINTEXT', host: '', port: 9092 };
    expect(advertisedListener('CONTROLLER://ctl:9093,PLAINTEXT://broker-1:19092', served)).toEqual({ name: 'PLAINTEXT', host: 'broker-1', port: 19092 });
    expect(() => advertisedListener('SSL://broker-1:9093', served)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const settings = resolveBrokerSettings({ ...KRAFT_DEFAULTS, listeners: 'CONTROLLER://:9093,PLAINTEXT://:9092', 'advertised.listeners': 'CONTROLLER://ctl:9093,PLAINTEXT://broker-1:19092' });
    expect(settings).toMatchObject({ port: 9092, advertisedHost: 'broker-1', advertisedPort: 19092 });
    // Kafka's rule: every advertised name is one of listeners'.
    expect(() => resolveBrokerSettings({ listeners: 'PLAINTEXT://:9092', 'advertised.listeners': 'PLAINTEXT://broker-1:9092,EXTERNAL://localhost:29092' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/EXTERNAL is not in/) }),
    );
  });

  it("Kafka's KRaft server.properties starts a broker on its PLAINTEXT port, and the controller listener is reported as not served", async () => {
    expect(reportBrokerConfig(KRAFT_DEFAULTS).listenersNotServed).toEqual([{ listener: 'CONTROLLER://:9093', reason: expect.any(String) }]);
    expect(reportBrokerConfig({}).listenersNotServed).toEqual([]);
    // __transaction_state's replication settings act in a cluster only; the coordinator's others always.
    expect(reportBrokerConfig({ 'transaction.state.log.min.isr': 1, 'transaction.max.timeout.ms': 60_000 }).unsupported).toEqual([
      { name: 'transaction.state.log.min.isr', reason: 'replication settings act only in a cluster, and no sluice.etcd.endpoints was given' },
    ]);
    expect(reportBrokerConfig({ 'transaction.state.log.min.isr': 1, 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' }).unsupported).toEqual([]);

    const { logger, lines } = capturingLogger('warn');
    broker = await startBroker({ logger, config: KRAFT_DEFAULTS });
    expect(broker.port).toBeGreaterThan(0);
    const line = lines.find((entry) => entry.listener !== undefined);
    expect(line?.msg).toMatch(/^listener CONTROLLER:\/\/:9093 is not served: a KRaft controller listener/);
    expect(lines.some((entry) => entry.config === 'listener.security.protocol.map')).toBe(false);
  });
});
