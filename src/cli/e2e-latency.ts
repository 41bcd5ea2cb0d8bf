// `sluice e2e-latency`: kafka-e2e-latency (EndToEndLatency), with Kafka 4.2's named arguments.
// One record at a time: send it (linger 0, --producer-acks 1 or all) and wait for the ack, then
// fetch its partition (max.wait.ms 0, so the broker holds nothing back) until it is read; the time
// from the send to the read is one latency. Each record read back is checked against the one sent
// (value, key, headers, and that it came alone). Prints Kafka's lines:
//   0	3.2143                  (every 1,000th record: its index and latency in ms)
//   Avg latency: 1.0234 ms
//   Percentiles: 50th = 1, 99th = 2, 99.9th = 5   (whole ms, truncated, as Kafka's tool)
// A missing topic is created with one partition and replication factor 1, as Kafka's tool does.
// One difference: --record-key-size 0 (the default) sends no key, where Kafka 4.2 sends an empty one.
import { Fetcher, type FetchedRecord } from '../client/fetcher.js';
import { Producer, type ProducerRecord } from '../client/producer.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, type Command } from './command.js';

/** Kafka's POLL_TIMEOUT_MS: how long one record may take to become readable. */
const READ_TIMEOUT_MS = 60_000;
const PROGRESS_EVERY_RECORDS = 1000;

const spec: CommandSpec = {
  name: 'e2e-latency',
  summary: 'Measure the time from producing a record to reading it back, as kafka-e2e-latency does.',
  usage: '--topic T --num-records N --producer-acks 1|all --record-size BYTES [options]',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'topic', type: 'string', valueName: 'T', description: 'Topic to write and read (created with 1 partition when missing).', required: true },
    { name: 'num-records', type: 'integer', valueName: 'N', description: 'Records to send, one at a time.', required: true },
    { name: 'producer-acks', type: 'string', valueName: '1|all', description: 'acks of each send: 1 or all (-1).', required: true },
    { name: 'record-size', type: 'integer', valueName: 'BYTES', description: 'Bytes of each value.', required: true },
    { name: 'record-key-size', type: 'integer', valueName: 'BYTES', description: 'Bytes of each key (default 0: no key).' },
    { name: 'num-headers', type: 'integer', valueName: 'N', description: 'Headers on each record (default 0).' },
    { name: 'record-header-key-size', type: 'integer', valueName: 'BYTES', description: 'Bytes of each header key (default 1).' },
    { name: 'record-header-size', type: 'integer', valueName: 'BYTES', description: 'Bytes of each header value; -1 for a null value (default 1).' },
  ],
};

interface Shape {
  valueBytes: number;
  keyBytes: number;
  headers: number;
  headerKeyBytes: number;
  /** -1: a null header value. */
  headerValueBytes: number;
}

export const e2eLatencyCommand: Command = {
  spec,
  async run(args) {
    const topic = args.string('topic')!;
    const records = args.integer('num-records', { min: 1 })!;
    const acks = parseLatencyAcks(args);
    const shape: Shape = {
      valueBytes: args.integer('record-size', { min: 0 })!,
      keyBytes: args.integer('record-key-size', { min: 0, fallback: 0 }),
      headers: args.integer('num-headers', { min: 0, fallback: 0 }),
      headerKeyBytes: args.integer('record-header-key-size', { min: 0, fallback: 1 }),
      headerValueBytes: args.integer('record-header-size', { min: -1, fallback: 1 }),
    };

    const client = await connectClient(args);
    try {
      let partitions = (await client.metadata()).topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (partitions === 0) {
        process.stdout.write(`Topic "${topic}" does not exist. Will create topic with 1 partition(s) and replication factor = 1\n`);
        await client.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
        partitions = 1;
      }
      // One Fetcher a partition, each at the partition's end: a record is read from the partition
      // its ack names, from that partition's leader.
      const fetchers: Fetcher[] = [];
      for (let partition = 0; partition < partitions; partition++) {
        const fetcher = new Fetcher(client, { maxWaitMs: 0 });
        await fetcher.assign(topic, partition, 'latest');
        fetchers.push(fetcher);
      }
      const producer = await Producer.create(client, { acks, lingerMs: 0 });
      const latenciesMs = new Float64Array(records);
      let totalMs = 0;
      for (let i = 0; i < records; i++) {
        const sent = recordOf(shape);
        const beganMs = performance.now();
        const [ack] = await producer.send(topic, [sent]);
        const read = await readNext(fetchers[ack!.partition]!);
        const elapsedMs = performance.now() - beganMs;
        check(sent, read);
        if (i % PROGRESS_EVERY_RECORDS === 0) process.stdout.write(`${i}\t${Math.round(elapsedMs * 1e6) / 1e6}\n`);
        totalMs += elapsedMs;
        latenciesMs[i] = elapsedMs;
      }
      await producer.close();
      process.stdout.write(`Avg latency: ${(totalMs / records).toFixed(4)} ms\n`);
      latenciesMs.sort();
      const at = (fraction: number) => Math.trunc(latenciesMs[Math.trunc(records * fraction)]!);
      process.stdout.write(`Percentiles: 50th = ${at(0.5)}, 99th = ${at(0.99)}, 99.9th = ${at(0.999)}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};

function parseLatencyAcks(args: ParsedArgs): 1 | -1 {
  const raw = args.string('producer-acks')!;
  if (raw === '1') return 1;
  if (raw === 'all' || raw === '-1') return -1;
  throw args.usageError(`Latency testing requires synchronous acknowledgement. Please use 1 or all, got '${raw}'`);
}

/** Fetches until the partition gives records, or READ_TIMEOUT_MS passes. */
async function readNext(fetcher: Fetcher): Promise<FetchedRecord[]> {
  const deadlineMs = performance.now() + READ_TIMEOUT_MS;
  do {
    const { records } = await fetcher.fetch();
    if (records.length > 0) return records;
  } while (performance.now() < deadlineMs);
  throw new CliError(`poll() timed out before finding a result (timeout:[${READ_TIMEOUT_MS}ms])`);
}

function check(sent: ProducerRecord, read: FetchedRecord[]): void {
  const record = read[0]!;
  const value = record.value?.toString() ?? null;
  if (value !== sent.value) throw new CliError(`The message value read [${value}] did not match the message value sent [${sent.value}]`);
  const key = record.key?.toString() ?? null;
  if (key !== (sent.key ?? null)) throw new CliError(`The message key read [${key}] did not match the message key sent [${sent.key ?? null}]`);
  const sentHeaders = (sent.headers ?? []) as Array<{ key: string; value: string | null }>;
  const readHeaders = record.headers.map((h) => ({ key: h.key, value: h.value?.toString() ?? null }));
  if (JSON.stringify(readHeaders) !== JSON.stringify(sentHeaders)) {
    throw new CliError(`The message headers read ${JSON.stringify(readHeaders)} did not match the message headers sent ${JSON.stringify(sentHeaders)}`);
  }
  if (read.length !== 1) throw new CliError(`Only one result was expected during this test. We found [${read.length}]`);
}

/** A record of the shape asked for; each field one random capital letter repeated, as Kafka's tool fills them. */
function recordOf(shape: Shape): ProducerRecord {
  const letters = (length: number) => String.fromCharCode(65 + Math.floor(Math.random() * 26)).repeat(length);
  const key = shape.keyBytes > 0 ? letters(shape.keyBytes) : undefined;
  const value = letters(shape.valueBytes);
  const headers = Array.from({ length: shape.headers }, () => ({
    key: letters(shape.headerKeyBytes),
    value: shape.headerValueBytes === -1 ? null : letters(shape.headerValueBytes),
  }));
  return { key, value, headers: headers.length > 0 ? headers : undefined };
}
