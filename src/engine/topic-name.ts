// Kafka's topic-name rules (org.apache.kafka.common.internals.Topic), with its messages, and the
// bound on a topic's partition count that every path creating partitions checks first.
import { SluiceError } from '../errors.js';
import { PARTITIONS_PER_TOPIC_MAX, TOPIC_NAME_LENGTH_MAX } from '../limits.js';

/** Kafka's group-offsets topic. */
export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
/** Kafka's transaction-state topic. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Why `name` is not a legal topic name (Kafka's wording), or null when it is. */
export function invalidTopicReason(name: string): string | null {
  if (typeof name !== 'string') return 'a topic name must be a string';
  if (name.length === 0) return 'the empty string is not allowed';
  if (name === '.') return "'.' is not allowed";
  if (name === '..') return "'..' is not allowed";
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    return `the length of '${name}' is longer than the max allowed length ${TOPIC_NAME_LENGTH_MAX}`;
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const legal =
      (c >= 0x61 && c <= 0x7a) || // a-z
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= 0x30 && c <= 0x39) || // 0-9
      c === 0x2e || // .
      c === 0x5f || // _
      c === 0x2d; // -
    if (!legal) return `'${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

export function isValidTopicName(name: string): boolean {
  return invalidTopicReason(name) === null;
}

/**
 * Throws SluiceError('INVALID_TOPIC_EXCEPTION', 'Topic name is invalid: ...') unless `name` is
 * non-empty, not '.' or '..', at most 249 characters, and only [a-zA-Z0-9._-].
 */
export function validateTopicName(name: string): void {
  const reason = invalidTopicReason(name);
  if (reason !== null) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `Topic name is invalid: ${reason}`);
}

/** Kafka's Topic.hasCollisionChars: '.' and '_' map to the same metric name. */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** Kafka's Topic.unifyCollisionChars: the form two colliding names share. */
export function unifyCollisionChars(name: string): string {
  return name.replaceAll('.', '_');
}

/**
 * True when `a` and `b` differ only by '.' vs '_' in the same places (Kafka's Topic.hasCollision);
 * Kafka refuses to create a topic colliding with an existing one, since their metric names clash.
 * Identical names also "collide".
 */
export function topicNamesCollide(a: string, b: string): boolean {
  return a.length === b.length && unifyCollisionChars(a) === unifyCollisionChars(b);
}

/**
 * True for names starting with "__", the prefix Kafka reserves for its own topics
 * (__consumer_offsets, __transaction_state, __cluster_metadata). Kafka's Topic.isInternal checks
 * the exact set; the prefix rule is ours, and covers those.
 */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

/** INVALID_PARTITIONS unless 1 <= partitions <= PARTITIONS_PER_TOPIC_MAX. */
export function checkPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > PARTITIONS_PER_TOPIC_MAX) {
    throw new SluiceError('INVALID_PARTITIONS', `Number of partitions must be an integer in [1, ${PARTITIONS_PER_TOPIC_MAX}], got ${partitions}.`);
  }
}
