// What every command shares: its shape, the errors it may end with and how each is reported,
// the connection to the broker, and stdout written with backpressure.
//
// Exit codes: 0 done; 1 the operation failed (broker unreachable, Kafka error, bad file);
// 2 bad usage. An expected failure prints one `Error: ...` line; only a bug prints a stack.
import fs from 'node:fs';

import { KafkaClient } from '../client/client.js';
import { isSaslError } from '../client/sasl.js';
import type { ClientSecurity } from './client-configs.js';
import type { ClientSocketOptions } from '../client/client.js';
import { SluiceError } from '../errors.js';
import { UsageError, type CommandSpec, type ParsedArgs } from './args.js';

export interface Command {
  spec: CommandSpec;
  /** Resolves with the exit code (default 0). */
  run(args: ParsedArgs): Promise<number | void>;
}

/** An expected failure with a message for the user (exit 1 unless told otherwise). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_BOOTSTRAP = 'localhost:9092';

export const BOOTSTRAP_FLAG = {
  name: 'bootstrap-server',
  type: 'string',
  valueName: 'HOST:PORT',
  description: `Broker to connect to; several separated by commas (default ${DEFAULT_BOOTSTRAP}).`,
} as const;

/** What a command's client connects with, from its configs (each optional). */
export interface ClientSettings {
  /** bootstrap.servers given as a config: used when --bootstrap-server is not. */
  bootstrapServers?: string;
  metadataMaxAgeMs?: number;
  /** client.id (default sluice-cli). */
  clientId?: string;
  requestTimeoutMs?: number;
  /** TLS and the SASL login (none for PLAINTEXT). */
  security?: ClientSecurity;
  /** socket.connection.setup.timeout.* and the socket buffers. */
  sockets?: ClientSocketOptions;
}

/**
 * Connects to the --bootstrap-server brokers (else a bootstrap.servers config, else the default),
 * over TLS and logging in with SASL as the settings say; an unreachable broker, a refused
 * certificate or a refused login is a CliError.
 */
export async function connectClient(args: ParsedArgs, settings: ClientSettings = {}): Promise<KafkaClient> {
  const bootstrap = args.string('bootstrap-server') ?? settings.bootstrapServers ?? DEFAULT_BOOTSTRAP;
  const brokers = bootstrap.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0) throw args.usageError('--bootstrap-server is empty');
  const { metadataMaxAgeMs, clientId = 'sluice-cli', requestTimeoutMs, security = {}, sockets = {} } = settings;
  try {
    return await KafkaClient.connect({ brokers, clientId, metadataMaxAgeMs, requestTimeoutMs, sasl: security.sasl, tls: security.tls, ...sockets });
  } catch (error) {
    if (isSaslError(error)) throw new CliError(`Cannot log in to the broker at ${bootstrap}: ${error.message}`);
    // The client joins each broker's reason as "No broker reachable: Cannot connect to h:p: <why>".
    const reason = (error as Error).message.replace(/^No broker reachable: /, '').replace(/Cannot connect to [^ ]+: /g, '');
    throw new CliError(`Cannot connect to the broker at ${bootstrap} (${reason})`);
  }
}

/**
 * The partition count of `topic`, after auto-creating it when `autoCreate` and the broker allow
 * (Kafka's producers ask for that; its consumers and tools do not). A missing topic, or a
 * `partition` beyond the count, is UNKNOWN_TOPIC_OR_PARTITION.
 */
export async function checkTopic(client: KafkaClient, topic: string, partition: number | undefined, autoCreate: boolean): Promise<number> {
  const metadata = await client.metadata([topic], autoCreate);
  const partitions = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  if (partitions === 0) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `UNKNOWN_TOPIC_OR_PARTITION: topic '${topic}' does not exist`);
  if (partition !== undefined && partition >= partitions) {
    throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `UNKNOWN_TOPIC_OR_PARTITION: topic '${topic}' has no partition ${partition} (it has ${partitions})`);
  }
  return partitions;
}

/**
 * --broker-list: broker ids separated by commas ('1,2,3'), each once; [] when the flag is not given.
 * A given list that is empty or holds anything but ids is a usage error.
 */
export function parseBrokerList(args: ParsedArgs): number[] {
  const text = args.string('broker-list');
  if (text === undefined) return [];
  const ids = text.split(',').map((id) => id.trim());
  if (!ids.every((id) => /^(0|[1-9][0-9]*)$/.test(id))) throw args.usageError(`--broker-list expects broker ids separated by commas, got '${text}'`);
  return [...new Set(ids.map(Number))];
}

/** A JSON object from `file` (a reassignment file, an election file, ...); anything else is a CliError naming the file. */
export function readJsonObject(file: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`${file}: the ${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** One entry of a Kafka tool file's "partitions" list, checked; `entry` holds its other fields. */
export interface PartitionEntry {
  topic: string;
  partition: number;
  entry: Record<string, unknown>;
  /** Where it stands, for errors: "F: partitions[2]". */
  where: string;
}

/**
 * The "partitions" list of a Kafka tool's JSON file (a reassignment, an election, offsets to
 * delete): a non-empty list of {"topic": name, "partition": index, ...}, no partition twice.
 */
export function partitionEntries(json: Record<string, unknown>, file: string): PartitionEntry[] {
  const partitions = json['partitions'];
  if (!Array.isArray(partitions) || partitions.length === 0) throw new CliError(`${file}: "partitions" must be a non-empty list`);
  const seen = new Set<string>();
  return partitions.map((entry: any, i: number) => {
    const where = `${file}: partitions[${i}]`;
    if (typeof entry?.topic !== 'string' || entry.topic === '') throw new CliError(`${where}: "topic" must be a topic name`);
    if (!Number.isInteger(entry.partition) || entry.partition < 0) throw new CliError(`${where}: "partition" must be a partition index`);
    const key = `${entry.topic}-${entry.partition}`;
    if (seen.has(key)) throw new CliError(`${file}: partition ${key} is listed twice`);
    seen.add(key);
    return { topic: entry.topic as string, partition: entry.partition as number, entry, where };
  });
}

/** A SluiceError as one line with Kafka's error name in it, so that scripts and users can match on it. */
export function errorText(error: SluiceError): string {
  return error.message.includes(error.code) ? error.message : `${error.code}: ${error.message}`;
}

/** Prints how a command ended and gives its exit code. */
export function reportError(error: unknown, command: string | undefined): number {
  if (error instanceof UsageError) {
    process.stderr.write(`Error: ${error.message}\nSee 'sluice ${error.command} --help'\n`);
    return 2;
  }
  if (error instanceof CliError) {
    process.stderr.write(`Error: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof SluiceError) {
    process.stderr.write(`Error: ${errorText(error)}\n`);
    return 1;
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    return 1;
  }
  // Not an expected failure: a bug, reported with its stack.
  process.stderr.write(`sluice${command ? ` ${command}` : ''}: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

/**
 * stdout with backpressure: lines are gathered into one string and written when it grows past
 * 64 KiB or on flush(), so printing a million records is a few hundred writes, not a million.
 */
export class OutputBuffer {
  private pending = '';
  private static readonly FLUSH_CHARS = 64 * 1024;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  /** Appends a line; resolves at once unless the stream asked us to wait. */
  line(text: string): Promise<void> | undefined {
    return this.write(text + '\n');
  }

  /** Appends text as it is (its own line separator, if any). */
  write(text: string): Promise<void> | undefined {
    this.pending += text;
    return this.pending.length >= OutputBuffer.FLUSH_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
}

/** Resolves once everything written to stdout and stderr has been handed to the OS. */
export function drainStdio(): Promise<void> {
  const drain = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
