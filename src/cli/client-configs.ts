// Client configs by Kafka's names, from a properties file (kafka-console-consumer's
// --consumer.config, kafka-console-producer's --producer.config) and then from KEY=VALUE flags
// (--consumer-property, --producer-property, --producer-props), later entries winning, as Kafka's
// tools merge them. Kafka 4.2 (KIP-1147) gives these flags one name in every tool,
// --command-config and --command-property, and keeps the old ones as deprecated: sluice takes both,
// and, as Kafka, refuses an old name and its new one together. The consumer's and the producer's tables (consumer-properties.ts,
// producer-flags.ts) say what each name does.
import { readPropertiesFile } from '../broker/config.js';
import { jaasLogin, LOGIN_MODULES } from '../broker/sasl/jaas.js';
import type { ClientSocketOptions } from '../client/client.js';
import { OAUTHBEARER_LOGIN_CONFIG_NAMES, unusedLoginConfigs } from '../client/oauth-login.js';
import { SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from '../client/sasl.js';
import { SSL_JAVA_ONLY_CONFIG_NAMES, SSL_STORE_CONFIG_NAMES, tlsOptions, type TlsOptions } from '../client/tls-config.js';
import { parseInteger, type FlagSpec, type ParsedArgs } from './args.js';
import { CliError } from './command.js';

export interface ConfigEntry {
  /** Where it came from, for messages: '--consumer-property' or '--consumer.config client.properties'. */
  source: string;
  name: string;
  value: string;
}

export function configFileFlag(name: string, of: string): FlagSpec {
  return { name, type: 'string', valueName: 'FILE', description: `A properties file of ${of} configs, taken as the KEY=VALUE flags are (those win).` };
}

/** Kafka 4.2's name for --consumer.config and --producer.config. */
export const COMMAND_CONFIG_FLAG: FlagSpec = configFileFlag('command-config', 'client');

/** Kafka 4.2's name for --consumer-property, --producer-property and (greedy) --producer-props. */
export function commandPropertyFlag(greedy = false): FlagSpec {
  return {
    name: 'command-property',
    type: 'list',
    greedy,
    valueName: greedy ? 'KEY=VALUE ...' : 'KEY=VALUE',
    description: `A client config by its Kafka name${greedy ? ', as many as follow' : ' (repeatable)'}: Kafka 4.2's name for the flag beside it.`,
  };
}

/** Which of a flag and its Kafka 4.2 name was given (the old one when neither); both is a usage error, as in Kafka. */
export function oneOfFlags(args: ParsedArgs, old: string, renamed: string): string {
  if (!args.has(renamed)) return old;
  if (args.has(old)) throw args.usageError(`--${old} and --${renamed} cannot be given together`);
  return renamed;
}

/** The entries of the --`fileFlag` file, then those of the --`listFlag` flags (or of their --command-* names). */
export function configEntries(args: ParsedArgs, fileFlag: string, listFlag: string): ConfigEntry[] {
  fileFlag = oneOfFlags(args, fileFlag, COMMAND_CONFIG_FLAG.name);
  listFlag = oneOfFlags(args, listFlag, 'command-property');
  const entries: ConfigEntry[] = [];
  const file = args.string(fileFlag);
  if (file !== undefined) for (const [name, value] of Object.entries(readConfigFile(file))) entries.push({ source: `--${fileFlag} ${file}:`, name, value });
  for (const [name, value] of args.keyValues(listFlag)) entries.push({ source: `--${listFlag}`, name, value });
  return entries;
}

/** A Java properties file's settings; one that cannot be read is a CliError naming it. */
export function readConfigFile(file: string): Record<string, string> {
  try {
    return readPropertiesFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`Cannot read the config file ${file}: ${reason}`);
  }
}

/**
 * The client configs of a connection's security: security.protocol, SASL's (an identity
 * provider's OAUTHBEARER login among them) and TLS's, by Kafka's names.
 */
export const SECURITY_CONFIG_NAMES: readonly string[] = ['security.protocol', 'sasl.mechanism', 'sasl.jaas.config', ...OAUTHBEARER_LOGIN_CONFIG_NAMES, ...SSL_STORE_CONFIG_NAMES];

/** How a command's connections are secured: TLS (SSL, SASL_SSL) and a SASL login (SASL_*); neither for PLAINTEXT. */
export interface ClientSecurity {
  sasl?: SaslCredentials;
  tls?: TlsOptions;
}

const SECURITY_PROTOCOLS: readonly string[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/**
 * security.protocol, sasl.* and ssl.* among a command's client configs, read as Kafka's clients
 * read them: PLAINTEXT (the default), SSL, SASL_PLAINTEXT or SASL_SSL; SASL with PLAIN,
 * SCRAM-SHA-256 or SCRAM-SHA-512 and the username and password of the JAAS line, or OAUTHBEARER
 * (unsecured tokens, or an identity provider's: client/oauth-login.ts); TLS with the trust and key
 * stores of client/tls-config.ts. Java's JSSE settings are warned about.
 */
export class SecurityConfigs {
  private readonly given = new Map<string, ConfigEntry>();
  /** A config's name for messages, with where it was given. */
  private readonly where = (name: string): string => (this.given.has(name) ? `${this.given.get(name)!.source} ${name}` : name);

  /** Takes `entry` when it is one of SECURITY_CONFIG_NAMES or a JSSE one (later entries win). */
  take(entry: ConfigEntry): boolean {
    if (SSL_JAVA_ONLY_CONFIG_NAMES.includes(entry.name)) {
      process.stderr.write(`WARNING: ${entry.source} ${entry.name} is accepted but not supported: it configures Java's JSSE, and sluice's TLS is Node's (OpenSSL)\n`);
      return true;
    }
    if (!SECURITY_CONFIG_NAMES.includes(entry.name)) return false;
    this.given.set(entry.name, entry);
    return true;
  }

  /** The TLS and the SASL login the configs ask for. */
  login(args: ParsedArgs): ClientSecurity {
    const protocolEntry = this.given.get('security.protocol');
    const protocol = (protocolEntry?.value ?? 'PLAINTEXT').trim().toUpperCase();
    const where = (entry: ConfigEntry) => `${entry.source} ${entry.name}=${entry.value}`;
    if (!SECURITY_PROTOCOLS.includes(protocol)) {
      throw args.usageError(`${where(protocolEntry!)} is not a security protocol: ${SECURITY_PROTOCOLS.join(', ')}`);
    }
    const tlsEntries = [...this.given.values()].filter(({ name }) => name.startsWith('ssl.'));
    const oauthEntries = OAUTHBEARER_LOGIN_CONFIG_NAMES.map((name) => this.given.get(name)).filter((entry) => entry !== undefined);
    const saslEntries = [this.given.get('sasl.mechanism'), this.given.get('sasl.jaas.config'), ...oauthEntries].filter((entry) => entry !== undefined);
    const tls = protocol.endsWith('SSL');
    const sasl = protocol.startsWith('SASL_');
    for (const entry of [...(tls ? [] : tlsEntries), ...(sasl ? [] : saslEntries)]) {
      process.stderr.write(`WARNING: ${entry.source} ${entry.name} has no effect: security.protocol is ${protocol}\n`);
    }
    if (sasl) this.warnUnusedOAuthLogin(oauthEntries);
    return { tls: tls ? this.tlsOptions(args) : undefined, sasl: sasl ? this.saslLogin(args, protocol) : undefined };
  }

  /** The identity provider's login configs act only on an OAUTHBEARER login through Kafka's login handler. */
  private warnUnusedOAuthLogin(entries: readonly ConfigEntry[]): void {
    const mechanism = (this.given.get('sasl.mechanism')?.value ?? 'GSSAPI').trim().toUpperCase();
    const handler = this.given.get('sasl.login.callback.handler.class')?.value.trim();
    const reason = mechanism !== 'OAUTHBEARER' ? `sasl.mechanism is ${mechanism}` : handler ? null : 'sasl.login.callback.handler.class is not set, so OAUTHBEARER logs in with unsecured tokens';
    if (reason !== null) {
      for (const entry of entries) process.stderr.write(`WARNING: ${entry.source} ${entry.name} has no effect: ${reason}\n`);
      return;
    }
    for (const unused of unusedLoginConfigs((name) => this.given.get(name)?.value)) {
      process.stderr.write(`WARNING: ${this.where(unused.name)} has no effect: ${unused.reason}\n`);
    }
  }

  private tlsOptions(args: ParsedArgs): TlsOptions {
    const given: Record<string, string> = {};
    for (const [name, entry] of this.given) if (name.startsWith('ssl.')) given[name] = entry.value;
    try {
      return tlsOptions(given, this.where);
    } catch (error) {
      throw args.usageError((error as Error).message);
    }
  }

  private saslLogin(args: ParsedArgs, protocol: string): SaslCredentials {
    const mechanismEntry = this.given.get('sasl.mechanism');
    const jaasEntry = this.given.get('sasl.jaas.config');
    // Kafka's default mechanism is GSSAPI (Kerberos), which sluice's clients do not speak.
    const mechanism = (mechanismEntry?.value ?? 'GSSAPI').toUpperCase();
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw args.usageError(`sasl.mechanism ${mechanism} is not supported: sluice's clients log in with ${SASL_MECHANISMS.join(', ')}`);
    }
    if (jaasEntry === undefined) throw args.usageError(`security.protocol=${protocol} needs sasl.jaas.config, e.g. ${LOGIN_MODULES[mechanism as SaslMechanism]} required username="alice" password="alice-secret";`);
    try {
      return jaasLogin(jaasEntry.value, `${jaasEntry.source} sasl.jaas.config`, mechanism as SaslMechanism, (name) => this.given.get(name)?.value, this.where);
    } catch (error) {
      throw args.usageError((error as Error).message);
    }
  }
}

/** The client configs of a connection's socket: how long it may take to set up, its buffers, how long it may idle. */
export const SOCKET_CONFIG_NAMES: readonly string[] = ['socket.connection.setup.timeout.ms', 'socket.connection.setup.timeout.max.ms', 'send.buffer.bytes', 'receive.buffer.bytes', 'connections.max.idle.ms'];

/**
 * Takes `entry` into `sockets` when it is one of SOCKET_CONFIG_NAMES. Kafka's defaults for the
 * buffers are 131072 to send and 65536 (consumer) or 32768 (producer) to receive; sluice's are -1,
 * the OS's autotuned buffers, which loopback and fast links fill better. A value given takes.
 */
export function takeSocketConfig(args: ParsedArgs, entry: ConfigEntry, sockets: ClientSocketOptions): boolean {
  const what = `${entry.source} ${entry.name}`;
  switch (entry.name) {
    case 'socket.connection.setup.timeout.ms': sockets.connectTimeoutMs = parseInteger(entry.value, what, args.command, 1, 0x7fffffff); return true;
    case 'socket.connection.setup.timeout.max.ms': sockets.connectTimeoutMaxMs = parseInteger(entry.value, what, args.command, 1, 0x7fffffff); return true;
    case 'send.buffer.bytes': sockets.sendBufferBytes = parseInteger(entry.value, what, args.command, -1, 0x7fffffff); return true;
    case 'receive.buffer.bytes': sockets.receiveBufferBytes = parseInteger(entry.value, what, args.command, -1, 0x7fffffff); return true;
    case 'connections.max.idle.ms': sockets.idleTimeoutMs = parseInteger(entry.value, what, args.command, -1, 0x7fffffff); return true;
    default: return false;
  }
}

/**
 * An admin command's --command-config FILE (kafka-topics' and the other admin tools'): its login
 * (SecurityConfigs) and its sockets (SOCKET_CONFIG_NAMES) are acted on, and the rest, the admin
 * client's tuning, is warned about, never dropped silently.
 */
export function adminSettings(args: ParsedArgs): { security: ClientSecurity; sockets: ClientSocketOptions } {
  const file = args.string(COMMAND_CONFIG_FLAG.name);
  const sockets: ClientSocketOptions = {};
  if (file === undefined) return { security: {}, sockets };
  const security = new SecurityConfigs();
  for (const [name, value] of Object.entries(readConfigFile(file))) {
    const entry = { source: `--${COMMAND_CONFIG_FLAG.name} ${file}:`, name, value };
    if (!security.take(entry) && !takeSocketConfig(args, entry, sockets)) {
      process.stderr.write(`WARNING: ${entry.source} ${name} is accepted but not supported: of client configs, this command acts on ${[...SOCKET_CONFIG_NAMES, ...SECURITY_CONFIG_NAMES].join(', ')}\n`);
    }
  }
  return { security: security.login(args), sockets };
}
