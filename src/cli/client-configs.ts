// Client configs by Kafka's names, from a properties file (kafka-console-consumer's
// --consumer.config, kafka-console-producer's --producer.config) and then from KEY=VALUE flags
// (--consumer-property, --producer-property, --producer-props), later entries winning, as Kafka's
// tools merge them. The consumer's and the producer's tables (consumer-properties.ts,
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

/** The entries of the --`fileFlag` file, then those of the --`listFlag` flags. */
export function configEntries(args: ParsedArgs, fileFlag: string, listFlag: string): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  const file = args.string(fileFlag);
  if (file !== undefined) {
    let values: Record<string, string>;
    try {
      values = readPropertiesFile(file);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new CliError(`Cannot read the config file ${file}: ${reason}`);
    }
    for (const [name, value] of Object.entries(values)) entries.push({ source: `--${fileFlag} ${file}:`, name, value });
  }
  for (const [name, value] of args.keyValues(listFlag)) entries.push({ source: `--${listFlag}`, name, value });
  return entries;
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
