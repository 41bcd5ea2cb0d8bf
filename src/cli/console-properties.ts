// kafka-console-producer's and kafka-console-consumer's `--property KEY=VALUE`: the settings of
// their line reader and record formatter, so that commands copied from Kafka's documentation work:
//   sluice produce --topic t --property parse.key=true --property key.separator=:
//   sluice consume --topic t --property print.key=true --property print.timestamp=true
// Only the names below are taken; any other is a usage error, never ignored. The consumer's lines
// are Kafka's DefaultMessageFormatter's, field by field:
//   CreateTime:1700000000000<sep>Partition:0<sep>Offset:42<sep>h1:v1,h2:v2<sep>key<sep>value
// One difference: Kafka's formatter writes line.separator only after a value, so with
// print.value=false its records run together on one line; here every record ends its line.
import type { FetchedRecord } from '../client/fetcher.js';
import { parseBoolean, type FlagSpec, type ParsedArgs } from './args.js';
import { DESERIALIZER_CLASSES, deserializerOf, type Deserializer } from './deserializers.js';
import { oneOfFlags, readConfigFile } from './client-configs.js';

export const PROPERTY_FLAG: FlagSpec = {
  name: 'property',
  type: 'list',
  valueName: 'KEY=VALUE',
  description: "A setting of Kafka's console tool, e.g. print.key=true (repeatable; see the notes).",
};

/** Kafka 4.2's (KIP-1147) names for --property: the consumer's formatter, the producer's reader. */
export const FORMATTER_PROPERTY_FLAG: FlagSpec = { ...PROPERTY_FLAG, name: 'formatter-property', description: "Kafka 4.2's name for --property." };
export const READER_PROPERTY_FLAG: FlagSpec = { ...PROPERTY_FLAG, name: 'reader-property', description: "Kafka 4.2's name for --property." };

/** The formatter's settings (kafka-console-consumer's DefaultMessageFormatter), with Kafka's defaults. */
export const FORMATTER_DEFAULTS = {
  'print.timestamp': 'false',
  'print.partition': 'false',
  'print.offset': 'false',
  'print.headers': 'false',
  'print.key': 'false',
  'print.value': 'true',
  'key.separator': '\t',
  'line.separator': '\n',
  'headers.separator': ',',
  'headers.key.separator': ':',
  'null.literal': 'null',
  // Kafka deserializer class names (deserializers.ts); none: the bytes as UTF-8 text.
  'key.deserializer': '',
  'value.deserializer': '',
  'headers.deserializer': '',
} as const;

/** The consumer's and the producer's properties files for them (Kafka's --formatter-config, --reader-config). */
export const FORMATTER_CONFIG_FLAG: FlagSpec = { name: 'formatter-config', type: 'string', valueName: 'FILE', description: 'A properties file of --property settings (those win).' };
export const READER_CONFIG_FLAG: FlagSpec = { ...FORMATTER_CONFIG_FLAG, name: 'reader-config' };

/**
 * `defaults`, then the settings of the `file` flag's properties file, then `given` (a flag's
 * shorthand), then each --property (or its Kafka 4.2 name, `renamed`: --formatter-property,
 * --reader-property) in order: later wins.
 */
export function readProperties<T extends Record<string, string>>(
  args: ParsedArgs,
  renamed: FlagSpec,
  file: FlagSpec,
  defaults: T,
  given: Partial<Record<keyof T, string>> = {},
): Record<keyof T, string> {
  const properties: Record<string, string> = { ...defaults };
  const set = (source: string, name: string, value: string) => {
    if (!(name in defaults)) throw args.usageError(`${source} ${name} is not supported; supported: ${Object.keys(defaults).join(', ')}`);
    if (defaults[name] === 'true' || defaults[name] === 'false') {
      properties[name] = String(parseBoolean(value, `${source} ${name}`, args.command));
    } else {
      if (value === '' && /(separator|delimiter)$/.test(name)) throw args.usageError(`${source} ${name} must not be empty`);
      properties[name] = value;
    }
  };
  const path = args.string(file.name);
  if (path !== undefined) for (const [name, value] of Object.entries(readConfigFile(path))) set(`--${file.name} ${path}:`, name, value);
  for (const [name, value] of Object.entries(given)) if (value !== undefined) properties[name] = value;
  const flag = oneOfFlags(args, PROPERTY_FLAG.name, renamed.name);
  for (const [name, value] of args.keyValues(flag)) set(`--${flag}`, name, value);
  return properties as Record<keyof T, string>;
}

export type FormatterSettings = Record<keyof typeof FORMATTER_DEFAULTS, string>;

/** A formatter setting sluice cannot act on (a deserializer class it does not have). */
export class FormatterError extends Error {}

/** The deserializer a formatter setting names; '' is none (the bytes as UTF-8 text). */
function deserializerSetting(settings: FormatterSettings, name: 'key.deserializer' | 'value.deserializer' | 'headers.deserializer'): Deserializer {
  const className = settings[name];
  if (className === '') return (bytes) => bytes.toString('utf8');
  const deserializer = deserializerOf(className);
  if (deserializer === undefined) throw new FormatterError(`${name} ${className} is not a deserializer sluice has; it has ${DESERIALIZER_CLASSES.join(', ')}`);
  return deserializer;
}

/** Checks the settings once (FormatterError), and gives the function that prints a record. */
export function recordFormatter(settings: FormatterSettings): (record: FetchedRecord) => string {
  const key = deserializerSetting(settings, 'key.deserializer');
  const value = deserializerSetting(settings, 'value.deserializer');
  const header = deserializerSetting(settings, 'headers.deserializer');
  return (record) => formatRecord(record, settings, key, value, header);
}

/**
 * One record as kafka-console-consumer prints it, line separator included. A null prints as
 * null.literal, as Kafka's formatter writes it; the deserializers see only bytes that are there.
 */
export function formatRecord(record: FetchedRecord, settings: FormatterSettings, key: Deserializer = utf8, value: Deserializer = utf8, header: Deserializer = utf8): string {
  const text = (bytes: Buffer | null, deserialize: Deserializer) => (bytes === null ? settings['null.literal'] : deserialize(bytes));
  const fields: string[] = [];
  if (settings['print.timestamp'] === 'true') fields.push(`${record.timestampType === 'logAppend' ? 'LogAppendTime' : 'CreateTime'}:${record.timestamp}`);
  if (settings['print.partition'] === 'true') fields.push(`Partition:${record.partition}`);
  if (settings['print.offset'] === 'true') fields.push(`Offset:${record.offset}`);
  if (settings['print.headers'] === 'true') {
    fields.push(record.headers.length === 0 ? 'NO_HEADERS' : record.headers.map((h) => `${h.key}${settings['headers.key.separator']}${text(h.value, header)}`).join(settings['headers.separator']));
  }
  if (settings['print.key'] === 'true') fields.push(text(record.key, key));
  if (settings['print.value'] === 'true') fields.push(text(record.value, value));
  return fields.join(settings['key.separator']) + settings['line.separator'];
}

const utf8: Deserializer = (bytes) => bytes.toString('utf8');
