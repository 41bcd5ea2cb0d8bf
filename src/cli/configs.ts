// `sluice configs`: kafka-configs for topics and brokers, with its flags and output.
//   --describe prints, as Kafka's ConfigCommand does (entries by name, synonyms most specific first):
//     Dynamic configs for topic t are:
//       retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000, DEFAULT_CONFIG:log.retention.hours=168}
//   "Dynamic" lists the values set on the entity itself; with --all, every value ("All configs").
//   --alter --add-config 'k1=v1,k2=[a,b]' --delete-config k3 sends one IncrementalAlterConfigs
//   (SET and DELETE operations) and prints "Completed updating config for topic t.".
// Client quotas (src/broker/client-quotas.ts): --entity-type clients|users|ips (or --client C,
// --user U, --client-defaults, --user-defaults; a user and a client together name one entity)
// --alter --add-config producer_byte_rate=1048576 (connection_creation_rate=N for ips) sends AlterClientQuotas, and --describe prints
//   Quota configs for client-id 'app' are producer_byte_rate=1048576.0
// as kafka-configs does (values as Java doubles).
// SCRAM credentials of users (KIP-554): with --entity-type users --entity-name U (or --user U),
// --add-config 'SCRAM-SHA-256=[iterations=8192,password=P],SCRAM-SHA-512=[password=P]' sends
// AlterUserScramCredentials, the password salted and hashed here (iterations default 4096, fewer
// refused here as Kafka's tool refuses them); --delete-config SCRAM-SHA-512 deletes one. As in
// Kafka, one --alter changes quotas or credentials, not both, and never of a default or a client.
// --describe of users prints, after the quota lines, each user's
//   SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192
// (a named user without a credential gets Kafka's "Error retrieving SCRAM credential configs" line).
// --entity-type broker-loggers --entity-name N: broker N's log level (its root logger, KIP-412).
// --topic T and --broker N stand for --entity-type topics|brokers --entity-name N, as in Kafka 2.8+.
// Without a name, --describe covers every topic, or every live broker. --entity-default (brokers)
// names the cluster-wide default broker entity (resource name ''), whose dynamic configs are those
// set for every broker (src/broker/dynamic-config.ts).
import type { ConfigEntry, KafkaClient } from '../client/client.js';
import { kafkaErrorName, KafkaErrorCode, throwIfError } from '../errors.js';
import { CONFIG_RESOURCE_TYPE, CONFIG_SOURCE } from '../protocol/apis/describe-configs.js';
import { isScramMechanism, SCRAM_ITERATIONS_MIN, type ScramMechanism } from '../protocol/scram.js';
import { javaFloat } from './deserializers.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

/** ConfigSource names by id, as kafka-configs prints them. */
const SOURCE_NAMES = new Map(Object.entries(CONFIG_SOURCE).map(([name, id]) => [id as number, name]));

const ENTITY_TYPES = {
  topics: { resourceType: CONFIG_RESOURCE_TYPE.TOPIC, singular: 'topic', dynamicSource: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG },
  brokers: { resourceType: CONFIG_RESOURCE_TYPE.BROKER, singular: 'broker', dynamicSource: CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG },
  'broker-loggers': { resourceType: CONFIG_RESOURCE_TYPE.BROKER_LOGGER, singular: 'broker-logger', dynamicSource: CONFIG_SOURCE.DYNAMIC_BROKER_LOGGER_CONFIG },
} as const;
type EntityType = keyof typeof ENTITY_TYPES;

const spec: CommandSpec = {
  name: 'configs',
  summary: "Describe and alter topic and broker configs, client quotas and users' SCRAM credentials, as kafka-configs does.",
  usage: '--describe|--alter (--topic T | --broker N | --client C | --user U | --entity-type topics|brokers|broker-loggers|clients|users|ips [--entity-name N]) [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'describe', type: 'boolean', description: 'Print the configs of the entity, or of every one of its type.' },
    { name: 'alter', type: 'boolean', description: 'Change the configs of the entity: --add-config, --delete-config.' },
    { name: 'entity-type', type: 'string', valueName: 'TYPE', description: 'topics, brokers, broker-loggers (a broker\'s log level: root=DEBUG), clients (client quotas), users (user quotas and SCRAM credentials) or ips (connection_creation_rate of an address).' },
    { name: 'entity-name', type: 'string', valueName: 'NAME', description: 'The topic name, broker id, client id or user.' },
    { name: 'entity-default', type: 'boolean', description: "With --entity-type brokers, clients, users or ips: the default entity (for brokers the cluster-wide one) instead of a named one (kafka-configs')." },
    { name: 'client', type: 'string', valueName: 'C', description: 'The quotas of client id C (with --user: of that user and client).' },
    { name: 'user', type: 'string', valueName: 'U', description: 'The quotas and SCRAM credentials of user U (a client that does not log in is user ANONYMOUS).' },
    { name: 'client-defaults', type: 'boolean', description: 'The default client-id entity of quotas.' },
    { name: 'user-defaults', type: 'boolean', description: 'The default user entity of quotas.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'The same as --entity-type topics --entity-name T.' },
    { name: 'broker', type: 'string', valueName: 'N', description: 'The same as --entity-type brokers --entity-name N.' },
    { name: 'all', type: 'boolean', description: 'With --describe: every config, not only those set on the entity.' },
    { name: 'add-config', type: 'list', valueName: 'K=V,...', description: "With --alter: configs to set, e.g. 'retention.ms=60000,cleanup.policy=[compact,delete]', or a user's 'SCRAM-SHA-256=[iterations=8192,password=P]' (repeatable)." },
    { name: 'delete-config', type: 'list', valueName: 'K,...', description: "With --alter: configs to remove, back to their default, or a user's SCRAM-SHA-256 / SCRAM-SHA-512 credential (repeatable)." },
  ],
};

export const configsCommand: Command = {
  spec,
  async run(args) {
    if (args.boolean('describe') === args.boolean('alter')) throw args.usageError(args.boolean('describe') ? 'Give only one of --describe, --alter' : 'Give one of --describe or --alter');
    const quotaEntity = quotaEntityOf(args);
    if (quotaEntity !== undefined) return runQuotas(args, quotaEntity);
    const { type, name } = entityOf(args);
    if (args.boolean('describe')) {
      for (const flag of ['add-config', 'delete-config'] as const) if (args.has(flag)) throw args.usageError(`--${flag} goes with --alter only`);
    } else {
      if (args.boolean('all')) throw args.usageError('--all goes with --describe only');
      if (name === undefined) throw args.usageError('--alter needs --entity-name (or --topic, --broker, --entity-default)');
    }
    const changes = args.boolean('alter') ? parseChanges(args) : [];
    const client = await connectClient(args, adminSettings(args));
    try {
      if (args.boolean('alter')) {
        await client.incrementalAlterConfigs(ENTITY_TYPES[type].resourceType, name!, changes);
        process.stdout.write(name === DEFAULT_ENTITY ? 'Completed updating default config for brokers in the cluster.\n' : `Completed updating config for ${ENTITY_TYPES[type].singular} ${name}.\n`);
        return 0;
      }
      const names = name !== undefined ? [name] : await entityNames(client, type);
      const out = new OutputBuffer();
      for (const entity of names) await describe(client, out, type, entity, args.boolean('all'));
      await out.flush();
      return 0;
    } finally {
      client.close();
    }
  },
};

// ---- client quotas ------------------------------------------------------------------------------

const QUOTA_TYPES = { clients: 'client-id', users: 'user', ips: 'ip' } as const;
type QuotaPair = { entityType: string; entityName: string | null };
/** A quota entity to alter or describe, or (describe only) every entity of one type. */
type QuotaEntitySpec = { pairs: QuotaPair[] } | { everyOf: string };

/** The quota entity the flags name, or undefined when they name a topic or broker. */
function quotaEntityOf(args: ParsedArgs): QuotaEntitySpec | undefined {
  const entityType = args.string('entity-type');
  const shorthand = args.has('client') || args.has('user') || args.boolean('client-defaults') || args.boolean('user-defaults');
  if (!shorthand && !(entityType !== undefined && entityType in QUOTA_TYPES)) return undefined;
  if (args.has('topic') || args.has('broker') || (shorthand && entityType !== undefined)) {
    throw args.usageError('Give a quota entity by --entity-type clients|users|ips or by --client/--user, not with another entity');
  }
  if (!shorthand) {
    const type = QUOTA_TYPES[entityType as keyof typeof QUOTA_TYPES];
    const name = args.string('entity-name');
    if (args.boolean('entity-default')) {
      if (name !== undefined) throw args.usageError('Give --entity-name or --entity-default, not both');
      return { pairs: [{ entityType: type, entityName: null }] };
    }
    return name === undefined ? { everyOf: type } : { pairs: [{ entityType: type, entityName: quotaName(args, name) }] };
  }
  const pairs: QuotaPair[] = [];
  for (const [flag, defaults, type] of [['user', 'user-defaults', 'user'], ['client', 'client-defaults', 'client-id']] as const) {
    const name = args.string(flag);
    if (name !== undefined && args.boolean(defaults)) throw args.usageError(`Give --${flag} or --${defaults}, not both`);
    if (name !== undefined) pairs.push({ entityType: type, entityName: quotaName(args, name) });
    else if (args.boolean(defaults)) pairs.push({ entityType: type, entityName: null });
  }
  return { pairs };
}

function quotaName(args: ParsedArgs, name: string): string {
  if (name === '') throw args.usageError('A quota entity needs a name (or --entity-default)');
  return name;
}

/** How kafka-configs names an entity: "user-principal 'u', client-id 'c'", "the default client-id". */
function quotaEntityText(pairs: readonly QuotaPair[]): string {
  const typeName = (type: string) => (type === 'user' ? 'user-principal' : type);
  return pairs.map(({ entityType, entityName }) => (entityName === null ? `the default ${typeName(entityType)}` : `${typeName(entityType)} '${entityName}'`)).join(', ');
}

async function runQuotas(args: ParsedArgs, spec: QuotaEntitySpec): Promise<number> {
  const alter = args.boolean('alter');
  if (alter && !('pairs' in spec)) throw args.usageError('--alter needs --entity-name (or --entity-default)');
  if (args.boolean('all')) throw args.usageError('--all goes with topics and brokers only');
  if (!alter) for (const flag of ['add-config', 'delete-config'] as const) if (args.has(flag)) throw args.usageError(`--${flag} goes with --alter only`);
  const parsed = alter ? parseChanges(args) : [];
  const scram = alter ? scramChangesOf(args, spec as { pairs: QuotaPair[] }, parsed) : undefined;
  const changes = scram !== undefined
    ? []
    : parsed.map(({ name, value }) => {
        const number = value === null ? null : Number(value);
        if (number !== null && (value!.trim() === '' || !Number.isFinite(number))) throw args.usageError(`Invalid value for ${name}: '${value}' is not a number`);
        return { key: name, value: number };
      });
  const client = await connectClient(args, adminSettings(args));
  try {
    if (alter) {
      const { pairs } = spec as { pairs: QuotaPair[] };
      if (scram !== undefined) {
        // One user, so one result: its error fails the command, as Kafka's tool fails on it.
        for (const result of await client.alterUserScramCredentials(scram)) {
          throwIfError(result.errorCode, `Alter SCRAM credentials of user ${result.user}`, result.errorMessage);
        }
      } else {
        await client.alterClientQuotas(pairs, changes);
      }
      const first = pairs[0]!;
      const noun = first.entityType === 'client-id' ? 'client' : first.entityType;
      process.stdout.write(first.entityName === null ? `Completed updating default config for ${noun}s in the cluster.
` : `Completed updating config for ${noun} ${first.entityName}.
`);
      return 0;
    }
    const components =
      'pairs' in spec
        ? spec.pairs.map(({ entityType, entityName }) => ({ entityType, matchType: entityName === null ? 1 : 0, match: entityName }))
        : [{ entityType: spec.everyOf, matchType: 2, match: null }];
    const entries = await client.describeClientQuotas(components, true);
    const lines = entries.map(({ entity, values }) => {
      const text = values.map(({ key, value }) => `${key}=${javaFloat(value)}`).sort().join(', ');
      return `Quota configs for ${quotaEntityText(entity)} are ${text}`.trimEnd();
    });
    const out = new OutputBuffer();
    for (const line of lines.sort()) await out.line(line);
    const scramUsers = scramUsersOf(spec);
    if (scramUsers !== undefined) for (const line of await scramLines(client, scramUsers)) await out.line(line);
    await out.flush();
    return 0;
  } finally {
    client.close();
  }
}

// ---- users' SCRAM credentials ---------------------------------------------------------------------

/** Kafka's ConfigCommand DefaultScramIterations (and its ScramMechanism minimum, SCRAM_ITERATIONS_MIN). */
const DEFAULT_SCRAM_ITERATIONS = 4096;

type ScramChanges = Parameters<KafkaClient['alterUserScramCredentials']>[0];

/**
 * The SCRAM credentials an --alter sets and deletes, or undefined when it names none (quotas
 * only). Kafka's rules: only a named user has credentials (not a default, not a client or an ip),
 * and one --alter changes quotas or credentials, not both.
 */
function scramChangesOf(args: ParsedArgs, spec: { pairs: QuotaPair[] }, changes: ReadonlyArray<{ name: string; value: string | null }>): ScramChanges | undefined {
  const scram = changes.filter(({ name }) => isScramMechanism(name));
  if (scram.length === 0) return undefined;
  const names = [...new Set(scram.map(({ name }) => name))].join(',');
  const [first] = spec.pairs;
  if (spec.pairs.length !== 1 || first!.entityType !== 'user') {
    const type = spec.pairs.some(({ entityType }) => entityType === 'ip') ? 'ips' : 'clients';
    const added = scram.some(({ value }) => value !== null);
    throw args.usageError(`Only ${type === 'ips' ? 'connection ' : ''}quota configs can be ${added ? 'added' : 'deleted'} for '${type}' using --bootstrap-server. Unexpected config names: ${names}`);
  }
  if (first!.entityName === null) throw args.usageError('The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server.');
  if (scram.length !== changes.length) throw args.usageError("Cannot alter both quota and SCRAM credential configs simultaneously for 'users' using --bootstrap-server.");
  const user = first!.entityName;
  // A mechanism given twice: the last wins, as in the Properties Kafka's tool reads --add-config into.
  const upserted = new Map<ScramMechanism, { iterations: number; password: string }>();
  const deletions: ScramChanges['deletions'][number][] = [];
  for (const { name, value } of scram) {
    const mechanism = name as ScramMechanism;
    if (value === null) deletions.push({ user, mechanism });
    else upserted.set(mechanism, scramCredentialOf(args, mechanism, value));
  }
  return { deletions, upsertions: [...upserted].map(([mechanism, credential]) => ({ user, mechanism, ...credential })) };
}

/** A credential value as Kafka's tool reads it: [iterations=N,]password=P (iterations -1 or absent: 4096). */
function scramCredentialOf(args: ParsedArgs, mechanism: ScramMechanism, value: string): { iterations: number; password: string } {
  const match = /^(?:iterations=(-?[0-9]*),)?password=(.*)$/.exec(value);
  const iterationsText = match?.[1];
  const iterations = iterationsText === undefined || iterationsText === '-1' ? DEFAULT_SCRAM_ITERATIONS : Number(iterationsText);
  // Kafka reads the count as a Java int: an empty one, or one beyond an int, does not parse.
  const isInt = iterationsText === undefined || (/^-?[0-9]+$/.test(iterationsText) && iterations >= -(2 ** 31) && iterations < 2 ** 31);
  if (match === null || !isInt) throw args.usageError(`Invalid credential property ${mechanism}=${value}`);
  // Kafka's tool refuses too few iterations itself (the broker also refuses more than 16384, UNACCEPTABLE_CREDENTIAL).
  if (iterations < SCRAM_ITERATIONS_MIN) throw new CliError(`Iterations ${iterations} is less than the minimum ${SCRAM_ITERATIONS_MIN} required for ${mechanism}`);
  return { iterations, password: match[2]! };
}

/**
 * The users whose SCRAM credentials a --describe of quota entities prints, as Kafka's tool picks
 * them: [] (every user with a credential) for --entity-type users, the user of --user U or
 * --entity-type users --entity-name U; undefined with a client, an ip or a default.
 */
function scramUsersOf(spec: QuotaEntitySpec): string[] | undefined {
  if ('everyOf' in spec) return spec.everyOf === 'user' ? [] : undefined;
  if (spec.pairs.length !== 1) return undefined;
  const [{ entityType, entityName }] = spec.pairs as [QuotaPair];
  return entityType === 'user' && entityName !== null ? [entityName] : undefined;
}

/**
 * kafka-configs' SCRAM lines: "SCRAM credential configs for user-principal 'u' are
 * SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096", by user; a user's error (a named
 * user without a credential: RESOURCE_NOT_FOUND) is Kafka's "Error retrieving ..." line, which fails nothing.
 */
async function scramLines(client: KafkaClient, users: string[]): Promise<string[]> {
  const described = await client.describeUserScramCredentials(users);
  return described
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
    .map(({ user, errorCode, errorMessage, credentials }) => {
      if (errorCode !== KafkaErrorCode.NONE) {
        const name = kafkaErrorName(errorCode);
        return `Error retrieving SCRAM credential configs for user-principal '${user}': ${name}: ${errorMessage ?? name}`;
      }
      return `SCRAM credential configs for user-principal '${user}' are ${credentials.map(({ mechanism, iterations }) => `${mechanism}=iterations=${iterations}`).join(', ')}`;
    });
}

function entityOf(args: ParsedArgs): { type: EntityType; name: string | undefined } {
  const topic = args.string('topic');
  const broker = args.string('broker');
  const entityType = args.string('entity-type');
  const given = [topic !== undefined && '--topic', broker !== undefined && '--broker', entityType !== undefined && '--entity-type'].filter((flag) => flag !== false);
  if (given.length === 0) throw args.usageError('Give --topic, --broker or --entity-type');
  if (given.length > 1) throw args.usageError(`Give only one of ${given.join(', ')}`);
  if (args.boolean('entity-default') && entityType === undefined) throw args.usageError('--entity-default goes with --entity-type brokers');
  if (topic !== undefined) return { type: 'topics', name: topic };
  if (broker !== undefined) return { type: 'brokers', name: brokerId(args, broker) };
  if (entityType !== 'topics' && entityType !== 'brokers' && entityType !== 'broker-loggers') {
    throw args.usageError(`--entity-type must be topics, brokers, broker-loggers, clients or users, got '${entityType}'`);
  }
  const name = args.string('entity-name');
  if (args.boolean('entity-default')) {
    if (entityType !== 'brokers') throw args.usageError('--entity-default goes with --entity-type brokers');
    if (name !== undefined) throw args.usageError('Give --entity-name or --entity-default, not both');
    return { type: entityType, name: DEFAULT_ENTITY };
  }
  return { type: entityType, name: entityType !== 'topics' && name !== undefined ? brokerId(args, name) : name };
}

/** The resource name of the cluster-wide default broker entity, as Kafka's admin client sends it. */
const DEFAULT_ENTITY = '';

function brokerId(args: ParsedArgs, raw: string): string {
  if (!/^\d+$/.test(raw)) throw args.usageError(`A broker is named by its id, got '${raw}'`);
  return raw;
}

/** --add-config (SET) and --delete-config (DELETE), in Kafka's syntax: commas outside [brackets] separate entries. */
export function parseChanges(args: ParsedArgs): Array<{ name: string; value: string | null }> {
  const changes: Array<{ name: string; value: string | null }> = [];
  for (const text of args.list('add-config')) {
    for (const entry of splitOutsideBrackets(text)) {
      const equals = entry.indexOf('=');
      if (equals <= 0) throw args.usageError(`--add-config expects KEY=VALUE entries, got '${entry}'`);
      const value = entry.slice(equals + 1).trim();
      changes.push({ name: entry.slice(0, equals).trim(), value: value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value });
    }
  }
  const added = new Set(changes.map((change) => change.name));
  for (const text of args.list('delete-config')) {
    for (const name of text.split(',').map((n) => n.trim()).filter((n) => n !== '')) {
      if (added.has(name)) throw args.usageError(`${name} is in both --add-config and --delete-config`);
      changes.push({ name, value: null });
    }
  }
  if (changes.length === 0) throw args.usageError('--alter needs --add-config or --delete-config');
  return changes;
}

function splitOutsideBrackets(text: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']') depth = Math.max(0, depth - 1);
    else if (text[i] === ',' && depth === 0) {
      entries.push(text.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(text.slice(start));
  return entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
}

async function entityNames(client: KafkaClient, type: EntityType): Promise<string[]> {
  const metadata = await client.metadata(type === 'topics' ? undefined : []);
  if (type === 'topics') return metadata.topics.map((t) => t.name).sort();
  // Brokers and their loggers: every live broker.
  return metadata.brokers.map((b) => b.nodeId).sort((a, b) => a - b).map(String);
}

async function describe(client: KafkaClient, out: OutputBuffer, type: EntityType, name: string, all: boolean): Promise<void> {
  const { resourceType, singular, dynamicSource } = ENTITY_TYPES[type];
  const entries = await client.describeConfigs(resourceType, name, { synonyms: true });
  const isDefault = type === 'brokers' && name === DEFAULT_ENTITY;
  await out.line(isDefault ? `Default configs for brokers in the cluster are:` : `${all ? 'All' : 'Dynamic'} configs for ${singular} ${name} are:`);
  // The default entity's own values are the cluster-wide dynamic defaults (Kafka's DYNAMIC_DEFAULT_BROKER_CONFIG).
  const own = isDefault ? CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG : dynamicSource;
  const shown = entries.filter((entry) => (all && !isDefault) || entry.source === own).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of shown) await out.line(configLine(entry));
}

/** One entry as kafka-configs prints it; a sensitive value is never shown. */
export function configLine(entry: ConfigEntry): string {
  const synonyms = entry.synonyms.map((s) => `${SOURCE_NAMES.get(s.source) ?? 'UNKNOWN'}:${s.name}=${entry.isSensitive ? 'null' : s.value}`).join(', ');
  return `  ${entry.name}=${entry.isSensitive ? 'null' : entry.value} sensitive=${entry.isSensitive} synonyms={${synonyms}}`;
}
