// kafka-console-producer's line reader (Kafka's LineMessageReader): headers, key and value from one
// line, null markers, ignore.error, and the settings Kafka refuses together.
import { describe, expect, it } from 'vitest';

import { LINE_READER_DEFAULTS, LineReader, type LineReaderSettings } from '../../src/cli/line-reader.js';

const reader = (settings: Partial<LineReaderSettings> = {}) => new LineReader({ ...LINE_READER_DEFAULTS, ...settings });

describe('LineReader', () => {
  it('reads a line as the value by default, with no key or headers', () => {
    expect(reader().read('a\tb:c')).toEqual({ key: null, value: 'a\tb:c' });
  });

  it('splits the key at the first key.separator, and headers before the headers.delimiter', () => {
    expect(reader({ 'parse.key': 'true' }).read('k\tv\tw')).toEqual({ key: 'k', value: 'v\tw' });
    const both = reader({ 'parse.key': 'true', 'parse.headers': 'true', 'key.separator': '|', 'headers.delimiter': '#' });
    expect(both.read('h1:v1,h2:v:2#key|value')).toEqual({ key: 'key', value: 'value', headers: [{ key: 'h1', value: 'v1' }, { key: 'h2', value: 'v:2' }] });
    // headers.separator is a regular expression, as Kafka compiles it.
    expect(reader({ 'parse.headers': 'true', 'headers.separator': '[,;]' }).read('a:1;b:2\tv').headers).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
  });

  it('makes a key, value or header value equal to null.marker null; a header key may not be', () => {
    const marked = reader({ 'parse.key': 'true', 'parse.headers': 'true', 'null.marker': '<null>' });
    expect(marked.read('h:<null>\t<null>\t<null>')).toEqual({ key: null, value: null, headers: [{ key: 'h', value: null }] });
    expect(marked.read('<null>\tk\tv')).toEqual({ key: 'k', value: 'v' }); // all the headers null: none
    expect(() => marked.read('<null>:x\tk\tv')).toThrow("Header keys should not be equal to the null marker '<null>' as they can't be null");
  });

  it('names the line that lacks a separator, or with ignore.error=true takes what it can', () => {
    const strict = reader({ 'parse.key': 'true', 'parse.headers': 'true' });
    expect(strict.read('h:1\tk\tv')).toMatchObject({ key: 'k' });
    expect(() => strict.read('h:1')).toThrow("No headers delimiter found on line number 2: 'h:1'");
    expect(() => strict.read('h:1\tv')).toThrow("No key separator found on line number 3: 'h:1\tv'");
    expect(() => strict.read('nokey\tk\tv')).toThrow("No header key separator found in pair 'nokey' on line number 4");
    const lenient = reader({ 'parse.key': 'true', 'parse.headers': 'true', 'ignore.error': 'true' });
    expect(lenient.read('just a value')).toEqual({ key: null, value: 'just a value' });
    expect(lenient.read('flag\tk\tv')).toEqual({ key: 'k', value: 'v', headers: [{ key: 'flag', value: null }] });
  });

  it('refuses the settings Kafka refuses together', () => {
    expect(() => reader({ 'headers.delimiter': ',' })).toThrow('headers.delimiter and headers.separator may not be equal');
    expect(() => reader({ 'headers.key.separator': '\t' })).toThrow('headers.delimiter and headers.key.separator may not be equal');
    expect(() => reader({ 'headers.separator': ':' })).toThrow('headers.separator and headers.key.separator may not be equal');
    expect(() => reader({ 'null.marker': '\t' })).toThrow('null.marker and key.separator may not be equal');
    expect(() => reader({ 'headers.separator': '(' })).toThrow("headers.separator '(' is not a regular expression");
  });
});
