// Broker configuration with Kafka's names (server.properties and --KEY=VALUE flags) and
// KAFKA-FACTS.md's defaults. Log settings (log.segment.bytes, log.retention.hours, ...) pass
// through to the engine unchanged; this module reads the ones the broker itself acts on.
import fs from 'node:fs';

import { SluiceError } from '../errors.js';

export type BrokerConfigValues = Record<string, string | number | boolean>;

export interface BrokerSettings {
  nodeId: number;
  /** Address to bind; '' binds every interface (IPv6 and IPv4 where the system allows). */
  host: string;
  port: number;
  /** Host and port written into Metadata responses; default: the bound port and advertisedHost. */
  advertisedHost: string;
  advertisedPort: number | undefined;
  dataDir: string;
  autoCreateTopics: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  minInsyncReplicas: number;
  socketRequestMaxBytes: number;
  messageMaxBytes: number;
  /** Everything, for the engine (log.*) and for DescribeConfigs on the broker resource. */
  all: Record<string, string>;
}

export const BROKER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  'node.id': '1',
  listeners: 'PLAINTEXT://:9092',
  'log.dirs': './data',
  'auto.create.topics.enable': 'true',
  'num.partitions': '1',
  'default.replication.factor': '1',
  'min.insync.replicas': '1',
  'socket.request.max.bytes': '104857600',
  'message.max.bytes': '1048588',
  'log.segment.bytes': '1073741824',
  'log.retention.hours': '168',
  'log.retention.bytes': '-1',
  'log.index.interval.bytes': '4096',
  'log.index.size.max.bytes': '10485760',
});

/** Reads a Java-style properties file: `key=value` or `key: value`, `#` and `!` comments. */
export function readPropertiesFile(filePath: string): Record<string, string> {
  const text = fs.readFileSync(filePath, 'utf8');
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const separator = line.search(/[=:]/);
    if (separator <= 0) throw new SluiceError('INVALID_CONFIG', `${filePath}: cannot read line '${rawLine}' (expected key=value)`);
    values[line.slice(0, separator).trim()] = line.slice(separator + 1).trim();
  }
  return values;
}

function integer(values: Record<string, string>, name: string, min: number): number {
  const text = values[name]!;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be an integer >= ${min}`);
  }
  return value;
}

function boolean(values: Record<string, string>, name: string): boolean {
  const text = values[name]!;
  if (text !== 'true' && text !== 'false') throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be true or false`);
  return text === 'true';
}

/** `PLAINTEXT://host:port` (the first listener); an empty host binds every interface. */
export function parseListener(listener: string): { host: string; port: number } {
  const first = listener.split(',')[0]!.trim();
  const match = /^[A-Za-z_]+:\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(first);
  if (!match) throw new SluiceError('INVALID_CONFIG', `Invalid listener '${listener}': expected PLAINTEXT://host:port`);
  const host = match[1]!.replace(/^\[|\]$/g, '');
  return { host: host === '0.0.0.0' || host === '::' ? '' : host, port: Number(match[2]) };
}

/** Defaults, then the given values (later sources win). */
export function resolveBrokerSettings(...sources: BrokerConfigValues[]): BrokerSettings {
  const all: Record<string, string> = { ...BROKER_DEFAULTS };
  for (const source of sources) for (const [key, value] of Object.entries(source)) all[key] = String(value);
  if (all['broker.id'] !== undefined && sources.some((s) => 'broker.id' in s && !('node.id' in s))) all['node.id'] = all['broker.id']!;
  if (all['log.dir'] !== undefined && !sources.some((s) => 'log.dirs' in s)) all['log.dirs'] = all['log.dir']!;
  const listener = parseListener(all['listeners']!);
  const advertised = all['advertised.listeners'] ? parseListener(all['advertised.listeners']) : undefined;
  const dataDirs = all['log.dirs']!.split(',').map((dir) => dir.trim());
  if (dataDirs.length !== 1) throw new SluiceError('INVALID_CONFIG', `log.dirs lists ${dataDirs.length} directories; sluice uses one data directory`);
  return {
    nodeId: integer(all, 'node.id', 0),
    host: listener.host,
    port: listener.port,
    advertisedHost: advertised?.host || listener.host || 'localhost',
    advertisedPort: advertised?.port,
    dataDir: dataDirs[0]!,
    autoCreateTopics: boolean(all, 'auto.create.topics.enable'),
    numPartitions: integer(all, 'num.partitions', 1),
    defaultReplicationFactor: integer(all, 'default.replication.factor', 1),
    minInsyncReplicas: integer(all, 'min.insync.replicas', 1),
    socketRequestMaxBytes: integer(all, 'socket.request.max.bytes', 1),
    messageMaxBytes: integer(all, 'message.max.bytes', 0),
    all,
  };
}
