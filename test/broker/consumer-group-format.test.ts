// Kafka's consumer group records (KIP-848) in __consumer_offsets, byte for byte: a key is the record
// type and the group (and member) id as int16-prefixed strings; a value is version 0 and the
// value's fields in Kafka's flexible encoding.
import { describe, expect, it } from 'vitest';

import { consumerGroupRecordType, decodeConsumerGroupRecord, encodeConsumerGroupRecord, type ConsumerGroupRecord } from '../../src/broker/group/consumer-group-format.js';

const TOPIC_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

describe('consumer group records', () => {
  it('writes the group epoch as Kafka does', () => {
    const { key, value } = encodeConsumerGroupRecord({ type: 3, groupId: 'g', value: { epoch: 5 } });
    expect([...key]).toEqual([0, 3, 0, 1, 0x67]);
    // version 0, epoch, no tagged fields
    expect([...value!]).toEqual([0, 0, 0, 0, 0, 5, 0]);
  });

  it('keys member records by group and member id', () => {
    const { key } = encodeConsumerGroupRecord({ type: 8, groupId: 'g', memberId: 'm', value: null });
    expect([...key]).toEqual([0, 8, 0, 1, 0x67, 0, 1, 0x6d]);
    expect(consumerGroupRecordType(key)).toBe(8);
    expect(consumerGroupRecordType(Buffer.from([0, 2, 0, 1, 0x67]))).toBeNull(); // a classic group's metadata
  });

  it('decodes what it encodes, tombstones included', () => {
    const records: ConsumerGroupRecord[] = [
      { type: 3, groupId: 'g', value: { epoch: 7 } },
      {
        type: 5,
        groupId: 'g',
        memberId: 'm',
        value: { instanceId: null, rackId: 'r1', clientId: 'c', clientHost: '/10.0.0.1', subscribedTopicNames: ['a', 'b'], subscribedTopicRegex: null, rebalanceTimeoutMs: 30_000, serverAssignor: 'uniform', classicMemberMetadata: null },
      },
      {
        type: 5,
        groupId: 'g',
        memberId: 'k',
        value: {
          instanceId: 'i',
          rackId: null,
          clientId: 'kafkajs',
          clientHost: '/10.0.0.2',
          subscribedTopicNames: ['a'],
          subscribedTopicRegex: null,
          rebalanceTimeoutMs: 60_000,
          serverAssignor: null,
          classicMemberMetadata: { sessionTimeoutMs: 30_000, supportedProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }] },
        },
      },
      { type: 6, groupId: 'g', value: { assignmentEpoch: 7 } },
      { type: 7, groupId: 'g', memberId: 'm', value: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 2] }] } },
      {
        type: 8,
        groupId: 'g',
        memberId: 'm',
        value: { memberEpoch: 7, previousMemberEpoch: 6, state: 1, assignedPartitions: [{ topicId: TOPIC_ID, partitions: [0] }], partitionsPendingRevocation: [{ topicId: TOPIC_ID, partitions: [1] }] },
      },
      { type: 7, groupId: 'g', memberId: 'm', value: null },
    ];
    for (const record of records) {
      const { key, value } = encodeConsumerGroupRecord(record);
      expect(decodeConsumerGroupRecord(key, value)).toEqual(record);
    }
  });

  it('writes a classic member\'s metadata as tagged field 0, and nothing for a member of the consumer protocol', () => {
    const base = { instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: [], subscribedTopicRegex: null, rebalanceTimeoutMs: 1, serverAssignor: null };
    const consumer = encodeConsumerGroupRecord({ type: 5, groupId: 'g', memberId: 'm', value: { ...base, classicMemberMetadata: null } }).value!;
    expect(consumer[consumer.length - 1]).toBe(0); // no tagged fields
    const classic = encodeConsumerGroupRecord({
      type: 5,
      groupId: 'g',
      memberId: 'm',
      value: { ...base, classicMemberMetadata: { sessionTimeoutMs: 45_000, supportedProtocols: [{ name: 'range', metadata: Buffer.from([9]) }] } },
    }).value!;
    const tagged = classic.subarray(consumer.length - 1);
    // one tagged field, tag 0, its size, then the struct: a present marker, session timeout, one protocol, no tags of its own
    expect(tagged[0]).toBe(1);
    expect(tagged[1]).toBe(0);
    expect(tagged[2]).toBe(tagged.length - 3);
  });

  it('refuses a value of an unknown version as a corrupt record', () => {
    const { key } = encodeConsumerGroupRecord({ type: 3, groupId: 'g', value: null });
    expect(() => decodeConsumerGroupRecord(key, Buffer.from([0, 9, 0, 0, 0, 1, 0]))).toThrow(/version 9/);
  });
});
