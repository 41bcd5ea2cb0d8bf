// Kafka's `listeners`, read as Kafka reads them, and those sluice serves. A Kafka
// server.properties names several: KRaft's default has `PLAINTEXT://:9092,CONTROLLER://:9093`,
// Docker images an internal and an external PLAINTEXT listener with different advertised hosts,
// others add SSL or SASL ones. sluice serves every listener of the four security protocols, each
// secured one with its own settings (listener.name.NAME.* over the broker's); its controller lives
// in etcd, so a KRaft controller listener is reported at startup as not served, never dropped
// without a word.
import { SluiceError } from '../errors.js';

export interface Listener {
  /** The listener's name: a security protocol (PLAINTEXT, SSL, ...) or one mapped to one. */
  name: string;
  /** Address to bind; '' binds every interface. */
  host: string;
  port: number;
}

/** Kafka's default listener.security.protocol.map: each protocol's name stands for itself. */
const SECURITY_PROTOCOLS: ReadonlySet<string> = new Set(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']);

/** The settings that decide which listener is served (Kafka's names). */
export interface ListenerConfig {
  listeners: string;
  'listener.security.protocol.map'?: string;
  'controller.listener.names'?: string;
  'inter.broker.listener.name'?: string;
  'security.inter.broker.protocol'?: string;
}

/**
 * The security protocols sluice serves: the SASL ones authenticate first (sasl/sasl-session.ts),
 * the SSL ones run over TLS (tls-listener.ts).
 */
export type ServedProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export function isTls(protocol: ServedProtocol): protocol is 'SSL' | 'SASL_SSL' {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export function isSasl(protocol: ServedProtocol): protocol is 'SASL_PLAINTEXT' | 'SASL_SSL' {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

/** A listener served, with its security protocol. */
export interface ProtocolListener extends Listener {
  protocol: ServedProtocol;
}

export interface ServedListener {
  /**
   * The broker's own listener: the first secured one if any, else the first. `--port` and `--host`
   * move it, and in a cluster the brokers reach each other on it unless inter.broker.listener.name
   * names another.
   */
  served: Listener;
  protocol: ServedProtocol;
  /** The other listeners served, in the order of `listeners`. */
  extra: ProtocolListener[];
  /**
   * The listener brokers reach each other on: inter.broker.listener.name's (or the one named as
   * security.inter.broker.protocol), when given; else the broker's own.
   */
  interBroker: Listener;
  /** Each listener named but not served, with why: reported at startup. */
  notServed: Array<{ listener: string; reason: string }>;
}

/** The listener's own setting (listener.name.NAME.SETTING, NAME lower-cased) over the broker's, as Kafka reads them: the name in effect. */
export function listenerSettingName(all: Readonly<Record<string, string>>, listener: Listener, name: string): string {
  const own = `listener.name.${listener.name.toLowerCase()}.${name}`;
  return all[own] !== undefined ? own : name;
}

/** `NAME://host:port[,NAME://host:port...]`, as Kafka's listeners and advertised.listeners. */
export function parseListeners(value: string, configName = 'listeners'): Listener[] {
  const listeners = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const match = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(item);
      if (!match || Number(match[3]) > 65535) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName} '${value}': expected NAME://host:port, e.g. PLAINTEXT://:9092`);
      const host = match[2]!.replace(/^\[|\]$/g, '');
      return { name: match[1]!.toUpperCase(), host: host === '0.0.0.0' || host === '::' ? '' : host, port: Number(match[3]) };
    });
  if (listeners.length === 0) throw new SluiceError('INVALID_CONFIG', `${configName} is empty: expected NAME://host:port, e.g. PLAINTEXT://:9092`);
  const names = listeners.map(({ name }) => name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName} '${value}': each listener must have a different name, and ${repeated} is given twice`);
  return listeners;
}

/** `NAME:PROTOCOL,...` (listener.security.protocol.map), names upper-cased as Kafka does. */
function parseProtocolMap(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [name, protocol, ...rest] = item.split(':').map((part) => part.trim().toUpperCase());
    if (!name || !protocol || rest.length > 0 || !SECURITY_PROTOCOLS.has(protocol)) {
      throw new SluiceError('INVALID_CONFIG', `Invalid listener.security.protocol.map '${value}': expected NAME:PROTOCOL pairs, PROTOCOL one of ${[...SECURITY_PROTOCOLS].join(', ')}`);
    }
    map.set(name, protocol);
  }
  return map;
}

/** NAME://host:port, an IPv6 address in brackets (given with or without them). */
export function listenerUrl({ name, host, port }: Listener): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return `${name}://${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

/**
 * The listeners sluice serves: every one that is not a KRaft controller's (controller.listener.names);
 * listener.security.protocol.map gives their protocols. The first secured listener, else the first,
 * is the broker's own (`served`). A listener whose name has no protocol is INVALID_CONFIG, as in
 * Kafka; so is a `listeners` with nothing sluice can serve.
 */
export function servedListener(config: ListenerConfig): ServedListener {
  const listeners = parseListeners(config.listeners);
  const explicitMap = config['listener.security.protocol.map'];
  const protocols = explicitMap ? parseProtocolMap(explicitMap) : new Map([...SECURITY_PROTOCOLS].map((protocol) => [protocol, protocol]));
  const controllerNames = new Set((config['controller.listener.names'] ?? '').split(',').map((name) => name.trim().toUpperCase()).filter((name) => name !== ''));
  const served: ProtocolListener[] = [];
  const notServed: ServedListener['notServed'] = [];
  for (const listener of listeners) {
    const protocol = protocols.get(listener.name);
    if (protocol === undefined) {
      throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} in listeners has no security protocol: name one in listener.security.protocol.map (e.g. ${listener.name}:PLAINTEXT)`);
    }
    if (controllerNames.has(listener.name)) notServed.push({ listener: listenerUrl(listener), reason: 'a KRaft controller listener (controller.listener.names): sluice keeps its controller in etcd' });
    else served.push({ ...listener, protocol: protocol as ServedProtocol });
  }
  if (served.length === 0) {
    throw new SluiceError('INVALID_CONFIG', `listeners '${config.listeners}' names no listener sluice can serve (${notServed.map(({ listener, reason }) => `${listener}: ${reason}`).join('; ')})`);
  }
  const own = served.find(({ protocol }) => protocol !== 'PLAINTEXT') ?? served[0]!;
  const extra = served.filter((listener) => listener !== own);
  const { protocol, ...ownListener } = own;
  return { served: ownListener, protocol, extra, notServed, interBroker: interBrokerListener(config, [ownListener, ...extra]) };
}

/** Every listener served, with its protocol: the broker's own first, then the others in the order of `listeners`. */
export function everyServed({ served, protocol, extra }: ServedListener): ProtocolListener[] {
  return [{ ...served, protocol }, ...extra];
}

/**
 * inter.broker.listener.name, or security.inter.broker.protocol standing for the listener of that
 * name (Kafka takes one or the other, never both): one of the served listeners, else INVALID_CONFIG
 * as in Kafka. Neither given: the broker's own listener (`served`).
 */
function interBrokerListener(config: ListenerConfig, served: Listener[]): Listener {
  const byName = config['inter.broker.listener.name']?.trim();
  const byProtocol = config['security.inter.broker.protocol']?.trim();
  if (byName && byProtocol) {
    throw new SluiceError('INVALID_CONFIG', 'Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.');
  }
  const name = (byName || byProtocol)?.toUpperCase();
  if (!name) return served[0]!;
  const listener = served.find((candidate) => candidate.name === name);
  if (listener === undefined) {
    const setting = byName ? 'inter.broker.listener.name' : 'security.inter.broker.protocol';
    throw new SluiceError('INVALID_CONFIG', `${setting} ${name} must be a listener sluice serves: ${served.map(({ name: own }) => own).join(', ')}`);
  }
  return listener;
}

/**
 * The advertised address of the served listener: the entry of advertised.listeners with its name,
 * as in Kafka. Other entries advertise listeners sluice does not serve.
 */
export function advertisedListener(advertisedListeners: string, served: Listener): Listener {
  const advertised = parseListeners(advertisedListeners, 'advertised.listeners').find(({ name }) => name === served.name);
  if (advertised === undefined) {
    throw new SluiceError('INVALID_CONFIG', `advertised.listeners '${advertisedListeners}' has no entry for the served listener ${served.name}: advertised listener names must be among those of listeners`);
  }
  return advertised;
}
