// Topic names given as regular expressions, as Kafka's tools take them (kafka-topics --topic
// beside --describe, --alter and --delete; kafka-console-consumer --include): the whole name must
// match, so 'logs\..*' names logs.app and not catalogs.x, and a plain name names itself (with '.'
// matching any character, as in Kafka).
import type { KafkaClient } from '../client/client.js';
import type { ParsedArgs } from './args.js';

export interface TopicPattern {
  /** As given. */
  text: string;
  regex: RegExp;
}

/** `text`, the value of --`flag`, compiled; one that does not compile is a usage error. */
export function topicPattern(args: ParsedArgs, flag: string, text: string): TopicPattern {
  try {
    return { text, regex: new RegExp(`^(?:${text})$`) };
  } catch (error) {
    throw args.usageError(`--${flag} '${text}' is not a regular expression: ${(error as Error).message}`);
  }
}

/** The topics whose whole name matches, sorted; internal ones (__consumer_offsets) too unless `excludeInternal`. */
export async function topicsMatching(client: KafkaClient, pattern: TopicPattern, excludeInternal = false): Promise<string[]> {
  return (await client.topicsMatching(pattern.regex, excludeInternal)).map((t) => t.name);
}
