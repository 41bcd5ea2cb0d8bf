import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../src/errors.js';
import { murmur2, toPositive } from '../../src/engine/murmur2.js';
import { DefaultPartitioner, partitionForKey, RoundRobinPartitioner } from '../../src/engine/partitioner.js';
import { prng } from '../fixtures/random.js';

const require = createRequire(import.meta.url);
const { Partitioners } = require('kafkajs');

// Kafka's UtilsTest.testMurmur2 (checked against the test in a fork of apache/kafka,
// clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
const KAFKA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

// (hash & 0x7fffffff) % n for n = 3, 6, 12, computed from the Kafka hashes above, not from our code.
const PARTITION_VECTORS: [string, number, number, number][] = [
  ['21', 0, 0, 0],
  ['foobar', 0, 0, 6],
  ['a-little-bit-long-string', 2, 2, 8],
  ['a-little-bit-longer-string', 2, 5, 11],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 2, 5, 5],
  ['abc', 0, 3, 3],
];


describe('murmur2', () => {
  it("matches Kafka's UtilsTest vectors", () => {
    for (const [input, expected] of KAFKA_VECTORS) {
      expect(murmur2(input), input).toBe(expected);
      expect(murmur2(Buffer.from(input)), input).toBe(expected);
    }
  });

  it('matches vectors generated with the JVM client (sarama, kafkautil): empty and raw bytes', () => {
    expect(murmur2('')).toBe(275646681);
    expect(murmur2(new Uint8Array([12, 42, 56, 24, 109, 111]))).toBe(274204207);
  });

  it('hashes strings as UTF-8 and returns a signed int32', () => {
    expect(murmur2('ключ')).toBe(murmur2(Buffer.from('ключ', 'utf8')));
    const random = prng(5);
    for (let i = 0; i < 200; i++) {
      const h = murmur2(String(random()));
      expect(h).toBe(h | 0);
    }
  });

  it('hashes an ASCII string from its char codes as it hashes its bytes, for every tail length', () => {
    // ASCII strings skip the UTF-8 copy; a string with one non-ASCII char anywhere takes it.
    for (let length = 0; length <= 13; length++) {
      const ascii = Array.from({ length }, (_, i) => String.fromCharCode(0x20 + ((i * 37) % 0x60))).join('');
      expect(murmur2(ascii), JSON.stringify(ascii)).toBe(murmur2(Buffer.from(ascii, 'utf8')));
      for (let at = 0; at < length; at++) {
        const mixed = ascii.slice(0, at) + (at % 2 ? '\u00e9' : '\u20ac') + ascii.slice(at + 1);
        expect(murmur2(mixed), JSON.stringify(mixed)).toBe(murmur2(Buffer.from(mixed, 'utf8')));
      }
    }
    expect(murmur2('\x7f')).toBe(murmur2(Buffer.from([0x7f])));
    expect(murmur2('\x80')).toBe(murmur2(Buffer.from([0xc2, 0x80])));
  });

  it('toPositive masks the sign bit', () => {
    expect(toPositive(-973932308)).toBe(1173551340);
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(-1)).toBe(2 ** 31 - 1);
    expect(toPositive(5)).toBe(5);
  });
});

describe('key → partition', () => {
  it('follows toPositive(murmur2(key)) % n for 3, 6 and 12 partitions', () => {
    for (const [key, p3, p6, p12] of PARTITION_VECTORS) {
      expect([partitionForKey(key, 3), partitionForKey(key, 6), partitionForKey(key, 12)], key).toEqual([p3, p6, p12]);
      const partitioner = new DefaultPartitioner();
      expect(partitioner.partition({ key }, 12)).toBe(p12);
    }
  });

  it("agrees with kafkajs's DefaultPartitioner (Java-compatible) on 1000 random keys", () => {
    const random = prng(7);
    const kafkajs = Partitioners.DefaultPartitioner();
    const ours = new DefaultPartitioner();
    for (let i = 0; i < 1000; i++) {
      const length = Math.floor(random() * 40);
      const key =
        i % 2 === 0
          ? Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)))
          : Array.from({ length }, () => String.fromCharCode(32 + Math.floor(random() * 0x500))).join('');
      for (const count of [1, 3, 6, 7, 12, 100]) {
        const partitionMetadata = Array.from({ length: count }, (_, p) => ({ partitionId: p, leader: 0 }));
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key } });
        expect(ours.partition({ key }, count, 't'), `key ${JSON.stringify(key)} over ${count}`).toBe(expected);
      }
    }
  });
});

describe('DefaultPartitioner', () => {
  it('an explicit partition wins over the key, and must exist', () => {
    const partitioner = new DefaultPartitioner();
    expect(partitioner.partition({ key: 'foobar', partition: 2 }, 12)).toBe(2);
    for (const bad of [12, -1, 1.5]) {
      let thrown: unknown;
      try {
        partitioner.partition({ partition: bad }, 12);
      } catch (error) {
        thrown = error;
      }
      expect(isSluiceError(thrown, 'UNKNOWN_TOPIC_OR_PARTITION'), String(bad)).toBe(true);
    }
    expect(() => partitioner.partition({ key: 'a' }, 0)).toThrow(expect.objectContaining({ code: 'INVALID_PARTITIONS' }));
  });

  it('keyless records of one call share one partition; the next call moves on', () => {
    const random = prng(9);
    const partitioner = new DefaultPartitioner({ random });
    const records = [{ value: 1 }, { key: 'foobar' }, { value: 2 }, { key: null }, { partition: 4 }, {}];
    let previous = -1;
    const seen = new Set<number>();
    for (let call = 0; call < 50; call++) {
      const partitions = partitioner.partitionAll(records, 12, 'topic');
      const sticky = partitions[0]!;
      expect(partitions).toEqual([sticky, 6, sticky, sticky, 4, sticky]);
      expect(sticky).not.toBe(previous);
      expect(sticky).toBeGreaterThanOrEqual(0);
      expect(sticky).toBeLessThan(12);
      previous = sticky;
      seen.add(sticky);
    }
    expect(seen.size).toBeGreaterThan(6);
    // One partition: always 0.
    expect(partitioner.partitionAll([{}, {}], 1, 'single')).toEqual([0, 0]);
  });

  it('keeps one sticky partition per topic between batch boundaries', () => {
    const partitioner = new DefaultPartitioner({ random: prng(3) });
    const a = partitioner.partition({}, 6, 'a');
    expect(partitioner.partition({}, 6, 'a')).toBe(a);
    const next = partitioner.newBatch('a', 6);
    expect(next).not.toBe(a);
    expect(partitioner.partition({}, 6, 'a')).toBe(next);
    // A shrunk partition count never yields an out-of-range sticky partition.
    for (let i = 0; i < 20; i++) {
      partitioner.newBatch('b', 100);
      expect(partitioner.partition({}, 2, 'b')).toBeLessThan(2);
    }
  });
});

describe("the producer's other partitioners", () => {
  it('partitioner.ignore.keys: keyed records go where keyless ones do; an explicit partition still wins', () => {
    const partitioner = new DefaultPartitioner({ random: prng(5), ignoreKeys: true });
    const partitions = partitioner.partitionAll([{ key: 'foobar' }, { key: 'abc' }, {}, { key: 'x', partition: 7 }], 12, 't');
    expect(partitions).toEqual([partitions[0], partitions[0], partitions[0], 7]);
    expect(partitioner.partition({ key: 'foobar' }, 12, 't')).toBe(partitions[0]); // sticky, not the key's 6
  });

  it("RoundRobinPartitioner: each record to the topic's next partition in turn, keys ignored, across calls", () => {
    const partitioner = new RoundRobinPartitioner();
    expect(partitioner.partitionAll([{ key: 'a' }, { key: 'a' }, {}, { partition: 0 }, {}], 3, 't')).toEqual([0, 1, 2, 0, 0]);
    expect(partitioner.partitionAll([{}, {}], 3, 't')).toEqual([1, 2]);
    expect(partitioner.partitionAll([{}], 3, 'other')).toEqual([0]);
    expect(() => partitioner.partitionAll([{ partition: 3 }], 3, 't')).toThrow(/Invalid partition given with record: 3/);
  });
});
