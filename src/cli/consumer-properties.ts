// kafka-console-consumer's `--consumer-property KEY=VALUE`: consumer configs by Kafka's names, for
// `consume` and `perf consume`, e.g. reading from the replica in one's own rack (KIP-392):
//   sluice consume --topic t --consumer-property client.rack=us-east-1a
// Only the names the Fetcher acts on are taken; any other is a usage error, never ignored.
import type { FetcherOptions } from '../client/fetcher.js';
import { parseInteger, type FlagSpec, type ParsedArgs } from './args.js';

/** Each name taken, with the Fetcher option it sets. */
const NAMES = {
  'client.rack': 'clientRack',
  'fetch.max.wait.ms': 'maxWaitMs',
  'fetch.min.bytes': 'minBytes',
  'fetch.max.bytes': 'maxBytes',
  'max.partition.fetch.bytes': 'partitionMaxBytes',
} as const satisfies Record<string, keyof FetcherOptions>;

type ConsumerProperties = Pick<FetcherOptions, (typeof NAMES)[keyof typeof NAMES]>;

export const CONSUMER_PROPERTY_FLAG: FlagSpec = {
  name: 'consumer-property',
  type: 'list',
  valueName: 'KEY=VALUE',
  description: `A consumer config (repeatable): ${Object.keys(NAMES).join(', ')}.`,
};

/** The --consumer-property settings given, in order (later wins). */
export function readConsumerProperties(args: ParsedArgs): ConsumerProperties {
  const properties: ConsumerProperties = {};
  for (const entry of args.list('consumer-property')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw args.usageError(`--consumer-property expects KEY=VALUE, got '${entry}'`);
    const name = entry.slice(0, equals);
    const value = entry.slice(equals + 1);
    if (!(name in NAMES)) throw args.usageError(`--consumer-property ${name} is not supported; supported: ${Object.keys(NAMES).join(', ')}`);
    const option = NAMES[name as keyof typeof NAMES];
    if (option === 'clientRack') properties.clientRack = value;
    else properties[option] = parseInteger(value, `--consumer-property ${name}`, args.command, option === 'maxWaitMs' ? 0 : 1, 0x7fffffff);
  }
  return properties;
}
