// kafka-console-producer's line reader (Kafka's LineMessageReader): one line of input as one
// record, with its headers and key when the reader's settings (--property, --reader-property,
// --reader-config) say so:
//   [headers <headers.delimiter>] [key <key.separator>] value
//   headers: key<headers.key.separator>value, joined by headers.separator (a regular expression,
//   as Kafka compiles it; default ',')
// A key, value or header value equal to null.marker is null. A line without a separator it needs
// is an error naming its line number, unless ignore.error=true, where Kafka's best effort is kept:
// the missing part is absent (the whole line is the value) and a header without its key
// separator has a null value. The same messages as Kafka's, and the same settings refused
// together (headers.delimiter equal to headers.separator, ...).
import type { ProducerRecord } from '../client/producer.js';

/** The reader's settings, with Kafka's defaults; null.marker '' means none. */
export const LINE_READER_DEFAULTS = {
  'parse.key': 'false',
  'key.separator': '\t',
  'parse.headers': 'false',
  'headers.delimiter': '\t',
  'headers.separator': ',',
  'headers.key.separator': ':',
  'ignore.error': 'false',
  'null.marker': '',
} as const;

export type LineReaderSettings = Record<keyof typeof LINE_READER_DEFAULTS, string>;

/** A setting the reader cannot work with, or a line it cannot read: Kafka's KafkaException. */
export class LineReaderError extends Error {}

export class LineReader {
  private readonly parseKey: boolean;
  private readonly parseHeaders: boolean;
  private readonly ignoreError: boolean;
  private readonly keySeparator: string;
  private readonly headersDelimiter: string;
  private readonly headersSeparator: RegExp;
  private readonly headersKeySeparator: string;
  private readonly nullMarker: string | undefined;
  private lineNumber = 0;

  constructor(settings: LineReaderSettings) {
    this.parseKey = settings['parse.key'] === 'true';
    this.parseHeaders = settings['parse.headers'] === 'true';
    this.ignoreError = settings['ignore.error'] === 'true';
    this.keySeparator = settings['key.separator'];
    this.headersDelimiter = settings['headers.delimiter'];
    this.headersKeySeparator = settings['headers.key.separator'];
    this.nullMarker = settings['null.marker'] === '' ? undefined : settings['null.marker'];
    const separator = settings['headers.separator'];
    const pairs: Array<[string, string, boolean]> = [
      ['headers.delimiter', 'headers.separator', this.headersDelimiter === separator],
      ['headers.delimiter', 'headers.key.separator', this.headersDelimiter === this.headersKeySeparator],
      ['headers.separator', 'headers.key.separator', separator === this.headersKeySeparator],
    ];
    for (const [a, b, equal] of pairs) if (equal) throw new LineReaderError(`${a} and ${b} may not be equal`);
    for (const name of ['key.separator', 'headers.separator', 'headers.delimiter', 'headers.key.separator'] as const) {
      if (settings[name] === this.nullMarker) throw new LineReaderError(`null.marker and ${name} may not be equal`);
    }
    try {
      this.headersSeparator = new RegExp(separator);
    } catch (error) {
      throw new LineReaderError(`headers.separator '${separator}' is not a regular expression: ${(error as Error).message}`);
    }
  }

  /** The record of the next line of input (line numbers count from 1). */
  read(line: string): ProducerRecord {
    this.lineNumber++;
    const headers = this.part(this.parseHeaders, line, 0, this.headersDelimiter, 'headers delimiter');
    const headerEnd = headers === undefined ? 0 : headers.length + this.headersDelimiter.length;
    const key = this.part(this.parseKey, line, headerEnd, this.keySeparator, 'key separator');
    const keyEnd = key === undefined ? 0 : key.length + this.keySeparator.length;
    const value = line.slice(headerEnd + keyEnd);
    const record: ProducerRecord = { key: key === undefined ? null : this.orNull(key), value: this.orNull(value) };
    if (headers !== undefined && headers !== this.nullMarker) record.headers = this.splitHeaders(headers);
    return record;
  }

  private part(enabled: boolean, line: string, from: number, separator: string, what: string): string | undefined {
    if (!enabled) return undefined;
    const at = line.indexOf(separator, from);
    if (at < 0) {
      if (this.ignoreError) return undefined;
      throw new LineReaderError(`No ${what} found on line number ${this.lineNumber}: '${line}'`);
    }
    return line.slice(from, at);
  }

  private splitHeaders(headers: string): Array<{ key: string; value: string | null }> {
    // Java's String.split drops trailing empty strings; so does this, to split as Kafka does.
    const pairs = headers.split(this.headersSeparator);
    while (pairs.length > 1 && pairs[pairs.length - 1] === '') pairs.pop();
    return pairs.map((pair) => {
      const at = pair.indexOf(this.headersKeySeparator);
      if (at < 0) {
        if (this.ignoreError) return { key: pair, value: null };
        throw new LineReaderError(`No header key separator found in pair '${pair}' on line number ${this.lineNumber}`);
      }
      const key = pair.slice(0, at);
      if (key === this.nullMarker) throw new LineReaderError(`Header keys should not be equal to the null marker '${this.nullMarker}' as they can't be null`);
      return { key, value: this.orNull(pair.slice(at + this.headersKeySeparator.length)) };
    });
  }

  private orNull(text: string): string | null {
    return text === this.nullMarker ? null : text;
  }
}
