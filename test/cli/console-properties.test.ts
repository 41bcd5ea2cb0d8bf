// kafka-console-consumer's DefaultMessageFormatter fields, as `sluice consume --property` prints them.
import { describe, expect, it } from 'vitest';

import type { FetchedRecord } from '../../src/client/fetcher.js';
import { FORMATTER_DEFAULTS, FormatterError, formatRecord, recordFormatter } from '../../src/cli/console-properties.js';
import { deserializerOf } from '../../src/cli/deserializers.js';

const record: FetchedRecord = {
  topic: 't',
  partition: 2,
  offset: 41,
  timestamp: 1_700_000_000_000,
  timestampType: 'logAppend',
  key: null,
  value: Buffer.from('hello'),
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
  ],
};

describe('formatRecord', () => {
  it('prints the value alone by default', () => {
    expect(formatRecord(record, { ...FORMATTER_DEFAULTS })).toBe('hello\n');
  });

  it("prints every field in Kafka's order, with its separators and null literal", () => {
    const all = { ...FORMATTER_DEFAULTS, 'print.timestamp': 'true', 'print.partition': 'true', 'print.offset': 'true', 'print.headers': 'true', 'print.key': 'true' };
    expect(formatRecord(record, all)).toBe('LogAppendTime:1700000000000\tPartition:2\tOffset:41\ta:1,b:null\tnull\thello\n');
    expect(formatRecord(record, { ...all, 'key.separator': ' | ', 'headers.separator': ';', 'headers.key.separator': '=', 'null.literal': '-', 'line.separator': '\r\n' })).toBe(
      'LogAppendTime:1700000000000 | Partition:2 | Offset:41 | a=1;b=- | - | hello\r\n',
    );
    expect(formatRecord({ ...record, timestampType: 'create', headers: [] }, { ...all, 'print.value': 'false' })).toBe('CreateTime:1700000000000\tPartition:2\tOffset:41\tNO_HEADERS\tnull\n');
  });
});

describe('deserializers (key.deserializer, value.deserializer, headers.deserializer)', () => {
  const of = (name: string) => deserializerOf(`org.apache.kafka.common.serialization.${name}`)!;
  const bytes = (size: number, write: (buffer: Buffer) => void) => {
    const buffer = Buffer.alloc(size);
    write(buffer);
    return buffer;
  };

  it("prints numbers as Kafka's deserializers and Java's toString do", () => {
    expect(of('LongDeserializer')(bytes(8, (b) => b.writeBigInt64BE(-42n)))).toBe('-42');
    expect(of('IntegerDeserializer')(bytes(4, (b) => b.writeInt32BE(2_000_000_000)))).toBe('2000000000');
    expect(of('ShortDeserializer')(bytes(2, (b) => b.writeInt16BE(-7)))).toBe('-7');
    expect(of('DoubleDeserializer')(bytes(8, (b) => b.writeDoubleBE(1)))).toBe('1.0');
    expect(of('DoubleDeserializer')(bytes(8, (b) => b.writeDoubleBE(1.5e-4)))).toBe('1.5E-4');
    expect(of('DoubleDeserializer')(bytes(8, (b) => b.writeDoubleBE(123456789)))).toBe('1.23456789E8');
    expect(of('FloatDeserializer')(bytes(4, (b) => b.writeFloatBE(0.1)))).toBe('0.1');
    expect(of('BooleanDeserializer')(Buffer.from([1]))).toBe('true');
    expect(of('StringDeserializer')(Buffer.from('héllo'))).toBe('héllo');
    expect(() => of('LongDeserializer')(Buffer.from('null'))).toThrow('Size of data received by LongDeserializer is not 8');
  });

  it('formats with them, a null still as null.literal; a class sluice lacks is refused up front', () => {
    const counted = { ...record, key: Buffer.from('word'), value: bytes(8, (b) => b.writeBigInt64BE(3n)) };
    const format = recordFormatter({ ...FORMATTER_DEFAULTS, 'print.key': 'true', 'value.deserializer': 'org.apache.kafka.common.serialization.LongDeserializer' });
    expect(format(counted)).toBe('word\t3\n');
    expect(format({ ...counted, value: null })).toBe('word\tnull\n');
    expect(() => recordFormatter({ ...FORMATTER_DEFAULTS, 'key.deserializer': 'com.example.AvroDeserializer' })).toThrow(FormatterError);
    expect(deserializerOf('LongDeserializer')).toBeUndefined(); // Kafka's full class names only
  });
});
