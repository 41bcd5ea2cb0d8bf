// kafka-console-consumer's DefaultMessageFormatter fields, as `sluice consume --property` prints them.
import { describe, expect, it } from 'vitest';

import type { FetchedRecord } from '../../src/client/fetcher.js';
import { FORMATTER_DEFAULTS, formatRecord } from '../../src/cli/console-properties.js';

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
