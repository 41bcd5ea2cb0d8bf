// Client configs by Kafka's names, from a properties file (kafka-console-consumer's
// --consumer.config, kafka-console-producer's --producer.config) and then from KEY=VALUE flags
// (--consumer-property, --producer-property, --producer-props), later entries winning, as Kafka's
// tools merge them. Kafka 4.2 (KIP-1147) gives these flags one name in every tool,
// --command-config and --command-property, and keeps the old ones as deprecated: sluice takes both,
// and, as Kafka, refuses an old name and its new one together. The consumer's and the producer's tables (consumer-properties.ts,
// producer-flags.ts) say what each name does.
import { readPropertiesFile } from '../broker/config.js';
import type { FlagSpec, ParsedArgs } from './args.js';
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
 * security.protocol: PLAINTEXT is what sluice's clients speak, so it is taken; any other is
 * refused, as sluice has no TLS or SASL.
 */
export function checkSecurityProtocol(args: ParsedArgs, entry: ConfigEntry): void {
  if (entry.value.toUpperCase() !== 'PLAINTEXT') {
    throw args.usageError(`${entry.source} security.protocol=${entry.value} is not supported: sluice's clients speak PLAINTEXT only (no TLS or SASL)`);
  }
}
