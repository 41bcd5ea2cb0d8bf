import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../src/errors.js';
import {
  hasCollisionChars,
  invalidTopicReason,
  isInternalTopic,
  isValidTopicName,
  topicNamesCollide,
  unifyCollisionChars,
  validateTopicName,
} from '../../src/engine/topic-name.js';

function message(name: string): string {
  try {
    validateTopicName(name);
  } catch (error) {
    expect(isSluiceError(error, 'INVALID_TOPIC_EXCEPTION')).toBe(true);
    expect((error as { errorCode: number }).errorCode).toBe(17);
    return (error as Error).message;
  }
  return 'valid';
}

describe('topic names (Kafka Topic.validate)', () => {
  it('accepts legal names', () => {
    for (const name of ['a', 'orders', 'Orders.v2', 'my_topic-1', '__consumer_offsets', '...', '-', 'x'.repeat(249), '0123456789']) {
      expect(message(name), name).toBe('valid');
      expect(isValidTopicName(name)).toBe(true);
    }
  });

  it("refuses illegal names with Kafka's messages", () => {
    expect(message('')).toBe('Topic name is invalid: the empty string is not allowed');
    expect(message('.')).toBe("Topic name is invalid: '.' is not allowed");
    expect(message('..')).toBe("Topic name is invalid: '..' is not allowed");
    expect(message('x'.repeat(250))).toBe(`Topic name is invalid: the length of '${'x'.repeat(250)}' is longer than the max allowed length 249`);
    expect(message('a b')).toBe("Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'");
    for (const name of ['a/b', 'a:b', 'é', 'a\u0000', 'tab\t', 'a+b', 'ü'.repeat(3), 'topic!', '日本']) {
      expect(isValidTopicName(name), name).toBe(false);
      expect(invalidTopicReason(name)).toMatch(/characters other than/);
    }
  });

  it('finds collisions between . and _', () => {
    expect(topicNamesCollide('a.b', 'a_b')).toBe(true);
    expect(topicNamesCollide('a.b_c', 'a_b.c')).toBe(true);
    expect(topicNamesCollide('a.b', 'a.b')).toBe(true);
    expect(topicNamesCollide('a.b', 'a-b')).toBe(false);
    expect(topicNamesCollide('ab', 'a_b')).toBe(false);
    expect(unifyCollisionChars('a.b.c_d')).toBe('a_b_c_d');
    expect(hasCollisionChars('abc')).toBe(false);
    expect(hasCollisionChars('a.c')).toBe(true);
  });

  it('internal topics start with __', () => {
    expect(isInternalTopic('__consumer_offsets')).toBe(true);
    expect(isInternalTopic('__transaction_state')).toBe(true);
    expect(isInternalTopic('_single')).toBe(false);
    expect(isInternalTopic('orders')).toBe(false);
  });
});
