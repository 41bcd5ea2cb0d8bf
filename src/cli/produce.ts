// `sluice produce`: each line of stdin becomes a record, as kafka-console-producer. Its line
// reader's settings (line-reader.ts: parse.key, key.separator, parse.headers, null.marker, ...)
// come from --property; --key-separator S is parse.key=true with key.separator=S. A line the
// reader cannot read is an error naming its line number. End of input (or Ctrl-C) flushes
// everything and exits 0; a failed send stops reading, reports Kafka's error and exits 1.
import readline from 'node:readline';

import '../record/codecs/index.js';
import { Producer, type ProducerRecord } from '../client/producer.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, checkTopic, CliError, connectClient, type Command } from './command.js';
import { COMMAND_CONFIG_FLAG, commandPropertyFlag } from './client-configs.js';
import { PROPERTY_FLAG, READER_CONFIG_FLAG, READER_PROPERTY_FLAG, readProperties } from './console-properties.js';
import { LINE_READER_DEFAULTS, LineReader, LineReaderError } from './line-reader.js';
import { ACKS_FLAG, applyConsoleProducerFlags, checkProducerOptions, COMPRESSION_FLAG, CONSOLE_PRODUCER_FLAGS, PRODUCER_CONFIG_FLAG, PRODUCER_CONFIG_NOTE, PRODUCER_PROPERTY_FLAG, readProducerSettings } from './producer-flags.js';

/** Records per producer.send call: enough to amortize the call, small enough to stream. */
const CHUNK_RECORDS = 500;
/** Sends awaiting their acknowledgement before reading more (50k lines): bounds memory. */
const CHUNKS_IN_FLIGHT_MAX = 100;

const spec: CommandSpec = {
  name: 'produce',
  summary: 'Send each line of stdin as a record, as kafka-console-producer does.',
  usage: '--topic T [--key-separator S] [--partition N] [--acks 0|1|all] [--compression CODEC] [options] < lines',
  flags: [
    { name: 'topic', type: 'string', valueName: 'T', description: "Topic to write to (created if missing and the broker's auto.create.topics.enable allows).", required: true },
    BOOTSTRAP_FLAG,
    { name: 'key-separator', type: 'string', valueName: 'S', description: 'Read each line as KEY S VALUE, split at the first S.' },
    { name: 'partition', type: 'integer', valueName: 'N', description: 'Write every record to this partition (default: by key, or spread when keyless).' },
    ACKS_FLAG,
    COMPRESSION_FLAG,
    { name: 'linger-ms', type: 'integer', valueName: 'MS', description: 'linger.ms: how long a batch waits for more records (default 5).' },
    { name: 'batch-size', type: 'integer', valueName: 'BYTES', description: 'batch.size: bytes gathered per partition before sending (default 16384).' },
    PROPERTY_FLAG,
    READER_PROPERTY_FLAG,
    READER_CONFIG_FLAG,
    PRODUCER_PROPERTY_FLAG,
    PRODUCER_CONFIG_FLAG,
    commandPropertyFlag(),
    COMMAND_CONFIG_FLAG,
    ...CONSOLE_PRODUCER_FLAGS,
  ],
  notes: [
    `--property takes kafka-console-producer's reader settings: ${Object.entries(LINE_READER_DEFAULTS)
      .map(([name, value]) => `${name} (default ${value === '' ? 'none' : JSON.stringify(value)})`)
      .join(', ')}; --key-separator S is parse.key=true with key.separator=S.`,
    `--producer-property: ${PRODUCER_CONFIG_NOTE}`,
  ],
};

export const produceCommand: Command = {
  spec,
  async run(args) {
    const topic = args.string('topic')!;
    const given = args.string('key-separator');
    if (given === '') throw args.usageError('--key-separator must not be empty');
    const settings = readProperties(args, READER_PROPERTY_FLAG, READER_CONFIG_FLAG, LINE_READER_DEFAULTS, given === undefined ? {} : { 'parse.key': 'true', 'key.separator': given });
    let reader: LineReader;
    try {
      reader = new LineReader(settings);
    } catch (error) {
      if (error instanceof LineReaderError) throw args.usageError(error.message);
      throw error;
    }
    const partition = args.integer('partition', { min: 0 });
    const producerSettings = readProducerSettings(args, PRODUCER_PROPERTY_FLAG, -1);
    applyConsoleProducerFlags(args, producerSettings.options);
    checkProducerOptions(args, producerSettings.options);

    const client = await connectClient(args, { ...producerSettings, requestTimeoutMs: producerSettings.options.requestTimeoutMs });
    try {
      await checkTopic(client, topic, partition, true);
      const producer = await Producer.create(client, producerSettings.options);
      let failure: unknown;
      const inFlight = new Set<Promise<unknown>>();
      let chunk: ProducerRecord[] = [];
      const send = async () => {
        if (chunk.length === 0) return;
        const sending = producer.send(topic, chunk).catch((error) => {
          failure ??= error;
        });
        chunk = [];
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
        if (inFlight.size >= CHUNKS_IN_FLIGHT_MAX) await Promise.race(inFlight);
      };
      // A partial chunk goes out once the lines at hand are read: a line typed at a terminal is
      // sent at once, while piped input still travels in chunks.
      let sendScheduled = false;
      const scheduleSend = () => {
        if (sendScheduled) return;
        sendScheduled = true;
        setImmediate(() => {
          sendScheduled = false;
          void send();
        });
      };

      const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
      // Ctrl-C ends the input like Ctrl-D: what was typed is still sent (Kafka closes its producer on exit too).
      const endInput = () => lines.close();
      process.once('SIGINT', endInput);
      process.once('SIGTERM', endInput);
      try {
        for await (const line of lines) {
          let record: ProducerRecord;
          try {
            record = reader.read(line);
          } catch (error) {
            if (!(error instanceof LineReaderError)) throw error;
            failure ??= new CliError(error.message);
            break;
          }
          if (partition !== undefined) record.partition = partition;
          chunk.push(record);
          if (chunk.length >= CHUNK_RECORDS) await send();
          else scheduleSend();
          if (failure) break;
        }
      } finally {
        process.off('SIGINT', endInput);
        process.off('SIGTERM', endInput);
        lines.close();
      }
      // What was read before a failure is still sent, as Kafka's console producer does.
      await send();
      await Promise.all(inFlight);
      await producer.flush();
      if (failure) throw failure;
      return 0;
    } finally {
      client.close();
    }
  },
};
