// The producer settings `produce` and `perf produce` share, with Kafka's names and values.
import type { ProducerOptions } from '../client/producer.js';
import { COMPRESSION_NAMES, type CompressionName } from '../record/batch-format.js';
import { parseBoolean, parseInteger, type FlagSpec, type ParsedArgs } from './args.js';
import type { ClientSocketOptions } from '../client/client.js';
import { configEntries, configFileFlag, SECURITY_CONFIG_NAMES, SecurityConfigs, SOCKET_CONFIG_NAMES, takeSocketConfig, type ClientSecurity } from './client-configs.js';

export const ACKS_FLAG: FlagSpec = {
  name: 'acks',
  type: 'string',
  valueName: '0|1|all',
  description: 'acks: 0 no response, 1 the leader appended, all (or -1) every in-sync replica has it.',
};

export const COMPRESSION_FLAG: FlagSpec = {
  name: 'compression',
  type: 'string',
  valueName: COMPRESSION_NAMES.join('|'),
  description: 'compression.type of the batches (default none).',
};

function acksOf(raw: string, invalid: () => Error): 0 | 1 | -1 {
  if (raw === '0') return 0;
  if (raw === '1') return 1;
  if (raw === 'all' || raw === '-1') return -1;
  throw invalid();
}

function compressionOf(raw: string, invalid: () => Error): CompressionName {
  if (!(COMPRESSION_NAMES as readonly string[]).includes(raw)) throw invalid();
  return raw as CompressionName;
}

export function parseAcks(args: ParsedArgs, fallback: 0 | 1 | -1 = -1): 0 | 1 | -1 {
  const raw = args.string('acks');
  if (raw === undefined) return fallback;
  return acksOf(raw, () => args.usageError(`--acks expects 0, 1 or all, got '${raw}'`));
}

export function parseCompression(args: ParsedArgs): CompressionName {
  const raw = args.string('compression', 'none');
  return compressionOf(raw, () => args.usageError(`--compression expects one of ${COMPRESSION_NAMES.join(', ')}, got '${raw}'`));
}

/** kafka-console-producer's --producer-property KEY=VALUE (repeatable). */
export const PRODUCER_PROPERTY_FLAG: FlagSpec = {
  name: 'producer-property',
  type: 'list',
  valueName: 'KEY=VALUE',
  description: 'A producer config by its Kafka name (repeatable; see the notes). A flag for the same setting wins.',
};

/** kafka-producer-perf-test's --producer-props KEY=VALUE [KEY=VALUE ...]. */
export const PRODUCER_PROPS_FLAG: FlagSpec = {
  name: 'producer-props',
  type: 'list',
  greedy: true,
  valueName: 'KEY=VALUE ...',
  description: 'Producer configs by their Kafka names, as many as follow (see the notes). A flag for the same setting wins.',
};

/** The producer configs taken by name, each acted on (readProducerSettings). */
const PRODUCER_CONFIGS = [
  'bootstrap.servers', 'acks', 'batch.size', 'linger.ms', 'compression.type', 'enable.idempotence',
  'max.in.flight.requests.per.connection', 'retries', 'delivery.timeout.ms', 'retry.backoff.ms', 'retry.backoff.max.ms', 'metadata.max.age.ms',
  'max.block.ms', 'request.timeout.ms', 'max.request.size', 'buffer.memory', 'partitioner.class', 'partitioner.ignore.keys',
  'compression.gzip.level', 'compression.zstd.level', 'client.id',
] as const;

/**
 * partitioner.class values sluice's producer acts on: Kafka's own partitioners. The two deprecated
 * ones are what Kafka 3.3+ does without a class (DefaultPartitioner) and with
 * partitioner.ignore.keys=true (UniformStickyPartitioner).
 */
const PARTITIONER_CLASSES: Record<string, Pick<ProducerOptions, 'partitioner' | 'partitionerIgnoreKeys'>> = {
  'org.apache.kafka.clients.producer.RoundRobinPartitioner': { partitioner: 'round-robin' },
  'org.apache.kafka.clients.producer.internals.DefaultPartitioner': { partitioner: 'default' },
  'org.apache.kafka.clients.producer.UniformStickyPartitioner': { partitioner: 'default', partitionerIgnoreKeys: true },
};

/** kafka-console-producer's and kafka-producer-perf-test's --producer.config FILE. */
export const PRODUCER_CONFIG_FLAG: FlagSpec = configFileFlag('producer.config', 'producer');

/**
 * Kafka producer configs that commands copied from Kafka's documentation give (its quickstart's
 * perf test sets acks and buffer.memory, both acted on) and sluice's producer does not act on:
 * taken, with a warning on stderr, never silently.
 */
const NOT_ACTED_ON = new Set([
  'key.serializer', 'value.serializer',
  // lz4-napi (over lz4_flex) compresses at one level.
  'compression.lz4.level',
]);

export const PRODUCER_CONFIG_NOTE =
  `Producer configs taken by name: ${[...PRODUCER_CONFIGS, ...SOCKET_CONFIG_NAMES, ...SECURITY_CONFIG_NAMES].join(', ')}. ` +
  `Taken with a warning that they have no effect: ${[...NOT_ACTED_ON].join(', ')}. Any other is a usage error.`;

export interface ProducerSettings {
  /** bootstrap.servers, when given as a config. */
  bootstrapServers?: string;
  /** metadata.max.age.ms, the client's (KafkaClient's metadataMaxAgeMs). */
  metadataMaxAgeMs?: number;
  /** client.id: what the broker's client quotas and logs know the client by. */
  clientId?: string;
  /** TLS and the SASL login, as security.protocol, ssl.* and sasl.* say (none for PLAINTEXT). */
  security: ClientSecurity;
  /** socket.connection.setup.timeout.* and the socket buffers (SOCKET_CONFIG_NAMES). */
  sockets: ClientSocketOptions;
  options: ProducerOptions;
}

/**
 * The producer's options from the --producer.config file, then `flag`'s KEY=VALUE configs, then
 * the command's own flags (--acks, --compression, --batch-size, --linger-ms), which win, as
 * Kafka's tools merge them.
 */
export function readProducerSettings(args: ParsedArgs, flag: FlagSpec, defaultAcks: 0 | 1 | -1): ProducerSettings {
  const settings: ProducerSettings = { options: { acks: defaultAcks }, security: {}, sockets: {} };
  const options = settings.options;
  const security = new SecurityConfigs();
  for (const entry of configEntries(args, PRODUCER_CONFIG_FLAG.name, flag.name)) {
    const { name, value } = entry;
    if (security.take(entry) || takeSocketConfig(args, entry, settings.sockets)) continue;
    if (NOT_ACTED_ON.has(name)) {
      process.stderr.write(`WARNING: ${entry.source} ${name} is accepted but not supported: sluice's producer does not act on it\n`);
      continue;
    }
    if (!(PRODUCER_CONFIGS as readonly string[]).includes(name)) throw args.usageError(`${entry.source} ${name} is not supported; supported: ${PRODUCER_CONFIGS.join(', ')}`);
    const what = `${entry.source} ${name}`;
    const integer = (min: number) => parseInteger(value, what, args.command, min, 0x7fffffff);
    const boolean = () => parseBoolean(value, what, args.command);
    switch (name as (typeof PRODUCER_CONFIGS)[number]) {
      case 'bootstrap.servers': settings.bootstrapServers = value; break;
      case 'acks': options.acks = acksOf(value, () => args.usageError(`${what} expects 0, 1 or all, got '${value}'`)); break;
      case 'batch.size': options.batchBytes = integer(1); break;
      case 'linger.ms': options.lingerMs = integer(0); break;
      case 'compression.type': options.compression = compressionOf(value, () => args.usageError(`${what} expects one of ${COMPRESSION_NAMES.join(', ')}, got '${value}'`)); break;
      case 'enable.idempotence': options.idempotent = boolean(); break;
      case 'max.in.flight.requests.per.connection': options.maxInFlight = integer(1); break;
      case 'retries': options.retries = integer(0); break;
      case 'delivery.timeout.ms': options.deliveryTimeoutMs = integer(1); break;
      case 'retry.backoff.ms': options.retryBackoffMs = integer(0); break;
      case 'retry.backoff.max.ms': options.retryBackoffMaxMs = integer(0); break;
      case 'metadata.max.age.ms': settings.metadataMaxAgeMs = integer(1); break;
      case 'max.block.ms': options.maxBlockMs = integer(0); break;
      case 'request.timeout.ms': options.requestTimeoutMs = integer(1); break;
      case 'max.request.size': options.maxRequestBytes = integer(1); break;
      case 'buffer.memory': options.bufferMemoryBytes = integer(1); break;
      case 'partitioner.class': {
        const partitioner = PARTITIONER_CLASSES[value];
        if (partitioner === undefined) throw args.usageError(`${what} ${value} is not supported: sluice's producer has Kafka's own partitioners, ${Object.keys(PARTITIONER_CLASSES).join(', ')}`);
        Object.assign(options, partitioner);
        break;
      }
      case 'partitioner.ignore.keys': options.partitionerIgnoreKeys = boolean(); break;
      case 'compression.gzip.level':
        options.compressionGzipLevel = parseInteger(value, what, args.command, -1, 9);
        if (options.compressionGzipLevel === 0) throw args.usageError(`${what} expects -1 or 1 to 9, got 0`);
        break;
      case 'compression.zstd.level': options.compressionZstdLevel = parseInteger(value, what, args.command, -131072, 22); break;
      case 'client.id': settings.clientId = value; break;
    }
  }
  settings.security = security.login(args);
  if (args.has('acks')) options.acks = parseAcks(args);
  if (args.has('compression')) options.compression = parseCompression(args);
  if (args.has('batch-size')) options.batchBytes = args.integer('batch-size', { min: 1 });
  if (args.has('linger-ms')) options.lingerMs = args.integer('linger-ms', { min: 0 });
  return settings;
}

/** kafka-console-producer's own names for producer settings, so that its commands run as written. */
export const CONSOLE_PRODUCER_FLAGS: FlagSpec[] = [
  { name: 'request-required-acks', type: 'string', valueName: '0|1|all|-1', description: "kafka-console-producer's name for --acks." },
  { name: 'compression-codec', type: 'string', valueName: COMPRESSION_NAMES.join('|'), description: "kafka-console-producer's name for --compression." },
  { name: 'timeout', type: 'integer', valueName: 'MS', description: "kafka-console-producer's name for --linger-ms." },
  { name: 'message-send-max-retries', type: 'integer', valueName: 'N', description: 'retries (default 2147483647: delivery.timeout.ms, 120 s, bounds them).' },
  { name: 'retry-backoff-ms', type: 'integer', valueName: 'MS', description: 'retry.backoff.ms (default 100).' },
  { name: 'sync', type: 'boolean', description: 'Send each record once the one before is acknowledged (linger.ms 0, one request in flight).' },
];

/** CONSOLE_PRODUCER_FLAGS onto `options` (after readProducerSettings); one beside its sluice name is a usage error. */
export function applyConsoleProducerFlags(args: ParsedArgs, options: ProducerOptions): void {
  for (const [kafkaName, ours] of [['request-required-acks', 'acks'], ['compression-codec', 'compression'], ['timeout', 'linger-ms']] as const) {
    if (args.has(kafkaName) && args.has(ours)) throw args.usageError(`--${kafkaName} and --${ours} name the same setting: give one`);
  }
  const acks = args.string('request-required-acks');
  if (acks !== undefined) options.acks = acksOf(acks, () => args.usageError(`--request-required-acks expects 0, 1, all or -1, got '${acks}'`));
  const codec = args.string('compression-codec');
  if (codec !== undefined) options.compression = compressionOf(codec, () => args.usageError(`--compression-codec expects one of ${COMPRESSION_NAMES.join(', ')}, got '${codec}'`));
  if (args.has('timeout')) options.lingerMs = args.integer('timeout', { min: 0 });
  if (args.has('message-send-max-retries')) options.retries = args.integer('message-send-max-retries', { min: 0 });
  if (args.has('retry-backoff-ms')) options.retryBackoffMs = args.integer('retry-backoff-ms', { min: 0 });
  if (args.boolean('sync')) {
    options.lingerMs = 0;
    options.maxInFlight = 1;
  }
}

/** The settings read, checked together: as Kafka 3+, idempotence asked for with acks other than all is refused. */
export function checkProducerOptions(args: ParsedArgs, options: ProducerOptions): ProducerOptions {
  if (options.idempotent === true && options.acks !== -1) throw args.usageError('enable.idempotence=true needs acks=all');
  return options;
}
