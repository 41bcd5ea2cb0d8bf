// `sluice produce` and `sluice consume` against a broker in this process.
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { iterateBatches } from '../../src/record/batch.js';
import { zstdCompress, zstdDecompress } from '../../src/record/codecs/zstd.js';
import { tempDir } from '../helpers.js';
import { runCli, STACK_LINE } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice produce | sluice consume', () => {
  it('sends keyed lines and reads them back from the beginning', async () => {
    await broker.engine.createTopic('lines', { partitions: 3 });
    const input = Array.from({ length: 20 }, (_, i) => `user-${i % 4}:event ${i}: with a colon`).join('\n') + '\n';
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'lines', '--key-separator', ':'], { input });
    expect(produced).toMatchObject({ code: 0, stdout: '', stderr: '' });

    const consumed = await runCli(['consume', ...bootstrap, '--topic', 'lines', '--from-beginning', '--max-messages', '20', '--print-key', '--key-separator', '=']);
    expect(consumed.code).toBe(0);
    expect(consumed.stderr).toBe('Processed a total of 20 messages\n');
    const lines = consumed.stdout.trimEnd().split('\n');
    // Partitions interleave; within one key (one partition) the order is the produced order.
    expect([...lines].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `user-${i % 4}=event ${i}: with a colon`).sort());
    for (let key = 0; key < 4; key++) {
      const ofKey = lines.filter((line) => line.startsWith(`user-${key}=`)).map((line) => Number(/event (\d+)/.exec(line)![1]));
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
  });

  it("takes Kafka's console --property settings: parse.key and key.separator, print.timestamp/partition/offset/headers/key", async () => {
    await broker.engine.createTopic('props', { partitions: 1 });
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'props', '--property', 'parse.key=true', '--property', 'key.separator=|'], { input: 'k1|v1\nk2|v|2\n' });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    const log = broker.engine.partitionLog('props', 0);
    const consumed = await runCli([
      'consume', ...bootstrap, '--topic', 'props', '--from-beginning', '--max-messages', '2',
      ...['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((name) => ['--property', `${name}=true`]),
      '--property', 'key.separator=;',
    ]);
    expect(consumed.code).toBe(0);
    const lines = consumed.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^CreateTime:\d{13};Partition:0;Offset:0;NO_HEADERS;k1;v1$/);
    expect(lines[1]).toMatch(/^CreateTime:\d{13};Partition:0;Offset:1;NO_HEADERS;k2;v\|2$/);
    expect(log.logEndOffset).toBe(2);
  });

  it('refuses a --property it does not act on, and a boolean that is not one', async () => {
    let result = await runCli(['consume', ...bootstrap, '--topic', 'props', '--property', 'print.foo=true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Error: --property print\.foo is not supported; supported: print\.timestamp, /);
    result = await runCli(['consume', ...bootstrap, '--topic', 'props', '--property', 'print.key=yes']);
    expect(result).toMatchObject({ code: 2, stderr: "Error: --property print.key expects true or false, got 'yes'\nSee 'sluice consume --help'\n" });
    result = await runCli(['produce', ...bootstrap, '--topic', 'props', '--property', 'parse.value=true'], { input: 'x\n' });
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/^Error: --property parse\.value is not supported; supported: parse\.key, key\.separator, parse\.headers, /) });
  });

  it("takes kafka-console-producer's --producer-property configs; refuses one it does not know", async () => {
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'configured', '--producer-property', 'compression.type=lz4', '--producer-property', 'acks=1'], { input: 'a\nb\n' });
    expect(produced.code).toBe(0);
    const { batches } = await broker.engine.fetchBatches('configured', 0, { offset: 0 });
    const headers = [...iterateBatches(batches)].map((b) => b.header);
    expect(headers.length).toBeGreaterThan(0);
    expect(headers.every((h) => h.compressionName === 'lz4')).toBe(true);
    const refused = await runCli(['produce', ...bootstrap, '--topic', 'configured', '--producer-property', 'batch.size=big'], { input: 'x\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^Error: --producer-property batch\.size expects an integer, got 'big'/);
  });

  it('check.crcs: a batch whose bytes changed on disk is CORRUPT_MESSAGE, for consume and perf consume; false reads it as it is', async () => {
    const dataDir = tempDir();
    const damaged = await startBroker({ port: 0, dataDir });
    try {
      const at = ['--bootstrap-server', `localhost:${damaged.port}`];
      await damaged.engine.createTopic('damaged', { partitions: 1 });
      await damaged.engine.produce('damaged', [{ value: 'intact' }], { partition: 0 });
      await damaged.engine.produce('damaged', [{ value: 'changed' }], { partition: 0 });
      // The last byte of the log is the second record's header count; before it, its value.
      const log = path.join(dataDir, 'damaged-0', '00000000000000000000.log');
      const fd = fs.openSync(log, 'r+');
      const end = fs.fstatSync(fd).size;
      fs.writeSync(fd, Buffer.from('C'), 0, 1, end - 1 - 'changed'.length);
      fs.closeSync(fd);

      const read = (...extra: string[]) => runCli(['consume', ...at, '--topic', 'damaged', '--from-beginning', '--max-messages', '2', '--timeout-ms', '5000', ...extra]);
      const checked = await read();
      expect(checked.code).toBe(1);
      expect(checked.stderr).toMatch(/Record batch for partition damaged-0 at offset 1 is invalid, cause: .*crc/i);
      const unchecked = await read('--consumer-property', 'check.crcs=false');
      expect(unchecked).toMatchObject({ code: 0, stdout: 'intact\nChanged\n' });

      const counted = await runCli(['perf', 'consume', ...at, '--topic', 'damaged', '--messages', '2', '--timeout-ms', '5000']);
      expect(counted.code).toBe(1);
      expect(counted.stderr).toContain('Record batch for partition damaged-0 at offset 1 is invalid');
    } finally {
      await damaged.stop();
    }
  });

  it('acts on compression.gzip.level and compression.zstd.level: each batch is compressed at the level given', async () => {
    const input = Array.from({ length: 200 }, (_, i) => `line ${i % 7} of a rather repetitive text, line ${i % 7} again`).join('\n') + '\n';
    const compressedAt = async (codec: 'gzip' | 'zstd', level: number) => {
      const topic = `level-${codec}-${level}`.replace('-', '_');
      const produced = await runCli(['produce', ...bootstrap, '--topic', topic, '--compression', codec, '--producer-property', `compression.${codec}.level=${level}`], { input });
      expect(produced).toMatchObject({ code: 0, stderr: '' });
      const { batches } = await broker.engine.fetchBatches(topic, 0, { offset: 0 });
      return [...iterateBatches(batches)].map(({ at, header }) => Buffer.from(batches.subarray(at + 61, at + 12 + header.batchLength)));
    };
    for (const [codec, levels] of [['gzip', [1, 9]], ['zstd', [-5, 19]]] as const) {
      const [fast, small] = [await compressedAt(codec, levels[0]), await compressedAt(codec, levels[1])];
      const inflate = codec === 'gzip' ? gunzipSync : zstdDecompress;
      const deflate = (data: Buffer, level: number) => (codec === 'gzip' ? gzipSync(data, { level }) : zstdCompress(data, level));
      for (const [sections, level] of [[fast, levels[0]], [small, levels[1]]] as const) {
        for (const section of sections) expect(section.equals(deflate(inflate(section), level)), `${codec} level ${level}`).toBe(true);
      }
      expect(fast.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(small.reduce((n, b) => n + b.length, 0));
    }
    const refused = await runCli(['produce', ...bootstrap, '--topic', 'level_x', '--compression', 'gzip', '--producer-property', 'compression.gzip.level=0'], { input: 'x\n' });
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('compression.gzip.level expects -1 or 1 to 9, got 0') });
  });

  it("acts on partitioner.class (Kafka's RoundRobinPartitioner) and partitioner.ignore.keys; refuses a class it does not have", async () => {
    await broker.engine.createTopic('spread', { partitions: 3 });
    const input = Array.from({ length: 6 }, (_, i) => `same-key:v${i}`).join('\n') + '\n';
    const roundRobin = ['--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner'];
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'spread', '--key-separator', ':', ...roundRobin], { input });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    const valuesOf = async (topic: string, p: number) => (await broker.engine.fetch(topic, p, { offset: 0 })).records.map((r) => r.value!.toString());
    expect(await Promise.all([0, 1, 2].map((p) => valuesOf('spread', p)))).toEqual([['v0', 'v3'], ['v1', 'v4'], ['v2', 'v5']]);

    // One key, ignored: its records are placed as keyless ones (sticky), not all on the key's partition.
    await broker.engine.createTopic('unkeyed', { partitions: 12 });
    const lines = Array.from({ length: 40 }, (_, i) => `same-key:v${i}`);
    for (const line of lines) {
      const sent = await runCli(['produce', ...bootstrap, '--topic', 'unkeyed', '--key-separator', ':', '--producer-property', 'partitioner.ignore.keys=true'], { input: `${line}\n` });
      expect(sent.code).toBe(0);
      const used = (await Promise.all(Array.from({ length: 12 }, (_, p) => valuesOf('unkeyed', p)))).filter((values) => values.length > 0);
      if (used.length > 1) break; // a second partition: the key did not decide
    }
    expect((await Promise.all(Array.from({ length: 12 }, (_, p) => valuesOf('unkeyed', p)))).filter((values) => values.length > 0).length).toBeGreaterThan(1);

    const refused = await runCli(['produce', ...bootstrap, '--topic', 'spread', '--producer-property', 'partitioner.class=com.example.Custom'], { input: 'x\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--producer-property partitioner.class com.example.Custom is not supported: sluice's producer has Kafka's own partitioners, org.apache.kafka.clients.producer.RoundRobinPartitioner");
  });

  it("takes kafka-console-producer's own flag names: --request-required-acks, --compression-codec, --timeout, --sync", async () => {
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'console-named', '--request-required-acks', '1', '--compression-codec', 'snappy', '--timeout', '0', '--sync',
      '--message-send-max-retries', '3', '--retry-backoff-ms', '50'], { input: 'x\ny\n' });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    const { batches } = await broker.engine.fetchBatches('console-named', 0, { offset: 0 });
    const headers = [...iterateBatches(batches)].map((b) => b.header);
    expect(headers.reduce((n, h) => n + h.lastOffset + 1 - h.baseOffset, 0)).toBe(2);
    expect(headers.every((h) => h.compressionName === 'snappy' && h.producerId === -1)).toBe(true); // acks=1: not idempotent
    const twice = await runCli(['produce', ...bootstrap, '--topic', 'console-named', '--request-required-acks', '1', '--acks', 'all'], { input: 'z\n' });
    expect(twice).toMatchObject({ code: 2, stderr: expect.stringContaining('--request-required-acks and --acks name the same setting') });
  });

  it('takes --producer.config and --consumer.config files, bootstrap.servers included; warns of configs it does not act on', async () => {
    const dir = tempDir();
    const producerFile = path.join(dir, 'producer.properties');
    fs.writeFileSync(producerFile, [
      `bootstrap.servers=localhost:${broker.port}`, 'acks=1', 'compression.type=zstd', 'security.protocol=PLAINTEXT',
      'key.serializer=org.apache.kafka.common.serialization.StringSerializer', '',
    ].join('\n'));
    const produced = await runCli(['produce', '--topic', 'from-files', '--producer.config', producerFile], { input: 'f1\nf2\n' });
    expect(produced.code).toBe(0);
    expect(produced.stderr).toBe(`WARNING: --producer.config ${producerFile}: key.serializer is accepted but not supported: sluice's producer does not act on it\n`);
    const { batches } = await broker.engine.fetchBatches('from-files', 0, { offset: 0 });
    expect([...iterateBatches(batches)].every((b) => b.header.compressionName === 'zstd')).toBe(true);

    const consumerFile = path.join(dir, 'consumer.properties');
    fs.writeFileSync(consumerFile, `bootstrap.servers=localhost:${broker.port}\nauto.offset.reset=earliest\nvalue.deserializer=org.apache.kafka.common.serialization.StringDeserializer\n`);
    const consumed = await runCli(['consume', '--topic', 'from-files', '--consumer.config', consumerFile, '--timeout-ms', '1000']);
    expect(consumed).toMatchObject({ code: 0, stdout: 'f1\nf2\n' });

    fs.writeFileSync(producerFile, `bootstrap.servers=localhost:${broker.port}\nsecurity.protocol=SASL_SSL\n`);
    const refused = await runCli(['produce', '--topic', 'from-files', '--producer.config', producerFile], { input: 'x\n' });
    // SASL_SSL logs in with Kafka's default mechanism, GSSAPI, unless sasl.mechanism says otherwise.
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('sasl.mechanism GSSAPI is not supported') });
    fs.writeFileSync(producerFile, `bootstrap.servers=localhost:${broker.port}\nsecurity.protocol=TLS\n`);
    const unknown = await runCli(['produce', '--topic', 'from-files', '--producer.config', producerFile], { input: 'x\n' });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('security.protocol=TLS is not a security protocol: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL') });
    const missing = await runCli(['consume', ...bootstrap, '--topic', 'from-files', '--consumer.config', path.join(dir, 'none.properties')]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('Cannot read the config file') });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("takes Kafka 4.2's names: --command-config, --command-property, --reader-property, --formatter-property", async () => {
    const dir = tempDir();
    const configFile = path.join(dir, 'client.properties');
    fs.writeFileSync(configFile, `bootstrap.servers=localhost:${broker.port}\n`);
    const produced = await runCli(['produce', '--topic', 'renamed', '--command-config', configFile, '--command-property', 'compression.type=lz4',
      '--reader-property', 'parse.key=true', '--reader-property', 'key.separator=:'], { input: 'k1:v1\n' });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    const { batches } = await broker.engine.fetchBatches('renamed', 0, { offset: 0 });
    expect([...iterateBatches(batches)].map((b) => b.header.compressionName)).toEqual(['lz4']);
    const consumed = await runCli(['consume', '--topic', 'renamed', '--command-config', configFile, '--command-property', 'auto.offset.reset=earliest',
      '--formatter-property', 'print.key=true', '--timeout-ms', '1000']);
    expect(consumed).toMatchObject({ code: 0, stdout: 'k1\tv1\n' });
    // The reader's and the formatter's settings from properties files (--reader-config, --formatter-config).
    const readerFile = path.join(dir, 'reader.properties');
    fs.writeFileSync(readerFile, 'parse.key=true\nkey.separator=|\n');
    expect(await runCli(['produce', ...bootstrap, '--topic', 'renamed', '--reader-config', readerFile], { input: 'k2|v2\n' })).toMatchObject({ code: 0, stderr: '' });
    const formatterFile = path.join(dir, 'formatter.properties');
    fs.writeFileSync(formatterFile, 'print.key=true\nkey.separator=;\nprint.offset=true\n');
    const formatted = await runCli(['consume', ...bootstrap, '--topic', 'renamed', '--from-beginning', '--formatter-config', formatterFile,
      '--formatter-property', 'print.offset=false', '--timeout-ms', '1000']);
    expect(formatted).toMatchObject({ code: 0, stdout: 'k1;v1\nk2;v2\n' }); // a --formatter-property wins over the file
    fs.writeFileSync(formatterFile, 'print.colour=true\n');
    const unknown = await runCli(['consume', ...bootstrap, '--topic', 'renamed', '--formatter-config', formatterFile]);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining(`--formatter-config ${formatterFile}: print.colour is not supported`) });
    // kafka-producer-perf-test's --command-property takes as many values as follow, as --producer-props did.
    const perf = await runCli(['perf', 'produce', '--topic', 'renamed', '--num-records', '5', '--record-size', '10', '--command-config', configFile,
      '--command-property', 'acks=1', 'compression.type=gzip']);
    expect(perf.code).toBe(0);
    const counted = await runCli(['perf', 'consume', '--topic', 'renamed', '--messages', '6', '--command-config', configFile, '--command-property', 'fetch.max.wait.ms=100']);
    expect(counted.code).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a position the log does not have goes where auto.offset.reset says: the end by default, or the log start', async () => {
    await broker.engine.createTopic('trimmed', { partitions: 1 });
    await broker.engine.produce('trimmed', Array.from({ length: 10 }, (_, i) => ({ value: `t${i}` })), { partition: 0 });
    await broker.engine.deleteRecords('trimmed', 0, 5);
    const consume = (...extra: string[]) => runCli(['consume', ...bootstrap, '--topic', 'trimmed', '--partition', '0', '--timeout-ms', '1000', ...extra]);
    // Offset 2 was deleted: Kafka's console consumer resets to the end (auto.offset.reset=latest).
    let result = await consume('--offset', '2');
    expect(result).toMatchObject({ code: 0, stdout: '' });
    result = await consume('--offset', '2', '--consumer-property', 'auto.offset.reset=earliest');
    expect(result).toMatchObject({ code: 0, stdout: 't5\nt6\nt7\nt8\nt9\n' });
    // Past the end is out of range too.
    result = await consume('--offset', '50', '--consumer-property', 'auto.offset.reset=earliest');
    expect(result).toMatchObject({ code: 0, stdout: 't5\nt6\nt7\nt8\nt9\n' });
  });

  it('--include reads every topic whose whole name matches, alone or in a group', async () => {
    for (const [name, values] of [['inc.a', ['a1', 'a2']], ['inc.b', ['b1']], ['incXc', ['c1']]] as const) {
      await broker.engine.createTopic(name, { partitions: 2 });
      await broker.engine.produce(name, values.map((value) => ({ value })));
    }
    const alone = await runCli(['consume', ...bootstrap, '--include', 'inc\\..*', '--from-beginning', '--max-messages', '3', '--timeout-ms', '5000']);
    expect(alone.code).toBe(0);
    expect(alone.stdout.trimEnd().split('\n').sort()).toEqual(['a1', 'a2', 'b1']);
    const grouped = await runCli(['consume', ...bootstrap, '--include', 'inc.*', '--group', 'includer', '--from-beginning', '--max-messages', '4', '--timeout-ms', '10000']);
    expect(grouped.code).toBe(0);
    expect(grouped.stdout.trimEnd().split('\n').sort()).toEqual(['a1', 'a2', 'b1', 'c1']);
    // As Kafka's console consumer, it waits for a topic to match.
    expect(await runCli(['consume', ...bootstrap, '--include', 'nothing-.*', '--timeout-ms', '100'])).toMatchObject({ code: 0, stderr: 'Processed a total of 0 messages\n' });
    expect(await runCli(['consume', ...bootstrap, '--include', 'inc.*', '--topic', 'inc.a'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Give one of --topic or --include') });
  });

  it('reads topics created later that --include matches, and partitions added, alone or in a group', async () => {
    // metadata.max.age.ms (5 min by default) set short: how often new topics and partitions are looked for.
    const consume = (...extra: string[]) => runCli(['consume', ...bootstrap, '--include', 'later\\..*', '--from-beginning', '--max-messages', '3', '--timeout-ms', '30000',
      '--consumer-property', 'metadata.max.age.ms=200', ...extra], { timeoutMs: 60_000 });
    const alone = consume();
    const grouped = consume('--group', 'later-readers');
    // Both wait for a match (no topic matches yet), then read each topic and partition as it appears.
    await broker.engine.createTopic('later.a', { partitions: 1 });
    await broker.engine.produce('later.a', [{ value: 'a0' }], { partition: 0 });
    await broker.engine.createPartitions('later.a', 2);
    await broker.engine.produce('later.a', [{ value: 'a1' }], { partition: 1 });
    await broker.engine.createTopic('laterXb', { partitions: 1 }); // does not match
    await broker.engine.produce('laterXb', [{ value: 'x' }]);
    await broker.engine.createTopic('later.b', { partitions: 1 });
    await broker.engine.produce('later.b', [{ value: 'b0' }]);
    for (const result of await Promise.all([alone, grouped])) {
      expect(result).toMatchObject({ code: 0, stderr: 'Processed a total of 3 messages\n' });
      expect(result.stdout.trimEnd().split('\n').sort()).toEqual(['a0', 'a1', 'b0']);
    }
  }, 90_000);

  it('--isolation-level read_committed skips aborted transactions and stops before open ones', async () => {
    await broker.engine.createTopic('isolated', { partitions: 1 });
    await broker.engine.produce('isolated', [{ value: 'i1' }, { value: 'i2' }]);
    const kafka = new Kafka({ clientId: 'txn', brokers: [`localhost:${broker.port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'cli-isolation', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const write = async (value: string, end: 'commit' | 'abort' | 'open') => {
      const transaction = await producer.transaction();
      await transaction.send({ topic: 'isolated', messages: [{ value }] });
      if (end !== 'open') await transaction[end]();
    };
    await write('aborted', 'abort');
    await write('committed', 'commit');
    await write('open', 'open');
    for (const extra of [['--isolation-level', 'read_committed'], ['--consumer-property', 'isolation.level=read_committed']]) {
      const result = await runCli(['consume', ...bootstrap, '--topic', 'isolated', '--from-beginning', '--timeout-ms', '1000', ...extra]);
      expect(result).toMatchObject({ code: 0, stdout: 'i1\ni2\ncommitted\n' });
    }
    const uncommitted = await runCli(['consume', ...bootstrap, '--topic', 'isolated', '--from-beginning', '--timeout-ms', '1000']);
    expect(uncommitted).toMatchObject({ code: 0, stdout: 'i1\ni2\naborted\ncommitted\nopen\n' });
    await producer.disconnect();
    const refused = await runCli(['consume', ...bootstrap, '--topic', 'isolated', '--isolation-level', 'serializable']);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining("--isolation-level expects read_committed or read_uncommitted, got 'serializable'") });
  });

  it('reads one partition from an offset, values only, and stops after --timeout-ms idle', async () => {
    await broker.engine.createTopic('numbers', { partitions: 2 });
    const input = Array.from({ length: 10 }, (_, i) => `${i}`).join('\n') + '\n';
    expect((await runCli(['produce', ...bootstrap, '--topic', 'numbers', '--partition', '1', '--acks', '1', '--compression', 'gzip'], { input })).code).toBe(0);

    let consumed = await runCli(['consume', ...bootstrap, '--topic', 'numbers', '--partition', '1', '--offset', '7', '--timeout-ms', '500']);
    expect(consumed).toMatchObject({ code: 0, stdout: '7\n8\n9\n', stderr: 'Processed a total of 3 messages\n' });
    consumed = await runCli(['consume', ...bootstrap, '--topic', 'numbers', '--partition', '0', '--from-beginning', '--timeout-ms', '300']);
    expect(consumed).toMatchObject({ code: 0, stdout: '', stderr: 'Processed a total of 0 messages\n' });
  });

  it('auto-creates the topic it produces to, as a Kafka producer does', async () => {
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'created-by-produce'], { input: 'hello\nworld\n' });
    expect(produced.code).toBe(0);
    expect(broker.engine.hasTopic('created-by-produce')).toBe(true);
    const consumed = await runCli(['consume', ...bootstrap, '--topic', 'created-by-produce', '--from-beginning', '--max-messages', '2']);
    expect(consumed.stdout).toBe('hello\nworld\n');
  });

  it('names the line without a key separator, after sending the lines before it', async () => {
    await broker.engine.createTopic('keyed', { partitions: 1 });
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'keyed', '--key-separator', '\t'], { input: 'k1\tv1\nno separator here\nk3\tv3\n' });
    expect(produced.code).toBe(1);
    expect(produced.stderr).toBe("Error: No key separator found on line number 2: 'no separator here'\n"); // Kafka's LineMessageReader's words
    const consumed = await runCli(['consume', ...bootstrap, '--topic', 'keyed', '--from-beginning', '--timeout-ms', '500', '--print-key']);
    expect(consumed.stdout).toBe('k1\tv1\n');
  });

  it("reads headers, keys and null markers as Kafka's line reader does (--property parse.headers=true ...)", async () => {
    await broker.engine.createTopic('headed', { partitions: 1 });
    const input = 'source:web,trace:t1\tuser-1\tclicked\nsource:NULL\tNULL\tNULL\n';
    const produced = await runCli(['produce', ...bootstrap, '--topic', 'headed', '--property', 'parse.headers=true', '--property', 'parse.key=true',
      '--property', 'null.marker=NULL'], { input });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    const { records } = await broker.engine.fetch('headed', 0, { offset: 0 });
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null, r.headers.map((h) => [h.key, h.value?.toString() ?? null])])).toEqual([
      ['user-1', 'clicked', [['source', 'web'], ['trace', 't1']]],
      [null, null, [['source', null]]],
    ]);
    const refused = await runCli(['produce', ...bootstrap, '--topic', 'headed', '--property', 'headers.delimiter=,'], { input: 'x\n' });
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('headers.delimiter and headers.separator may not be equal') });
  });

  it("prints with Kafka's deserializers, as Kafka Streams' quickstart reads its word counts", async () => {
    await broker.engine.createTopic('counts', { partitions: 1 });
    const count = (n: bigint) => {
      const bytes = Buffer.alloc(8);
      bytes.writeBigInt64BE(n);
      return bytes;
    };
    await broker.engine.produce('counts', [{ key: 'all', value: count(1n) }, { key: 'streams', value: count(2n) }]);
    const serde = 'org.apache.kafka.common.serialization.';
    const consumed = await runCli(['consume', ...bootstrap, '--topic', 'counts', '--from-beginning', '--max-messages', '2',
      '--property', 'print.key=true', '--property', 'print.value=true',
      '--property', `key.deserializer=${serde}StringDeserializer`, '--property', `value.deserializer=${serde}LongDeserializer`]);
    expect(consumed).toMatchObject({ code: 0, stdout: 'all\t1\nstreams\t2\n' });
    // kafka-console-consumer's own flag for it, and the error for bytes of the wrong size.
    const wrong = await runCli(['consume', ...bootstrap, '--topic', 'counts', '--from-beginning', '--max-messages', '1', '--key-deserializer', `${serde}LongDeserializer`, '--print-key']);
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining('Size of data received by LongDeserializer is not 8') });
    expect(wrong.stderr).not.toMatch(STACK_LINE);
    const skipped = await runCli(['consume', ...bootstrap, '--topic', 'counts', '--from-beginning', '--timeout-ms', '500', '--key-deserializer', `${serde}LongDeserializer`,
      '--print-key', '--skip-message-on-error']);
    expect(skipped).toMatchObject({ code: 0, stdout: '' });
    expect(skipped.stderr).toContain('ERROR: skipping counts-0 offset 1: Size of data received by LongDeserializer is not 8');
    const unknown = await runCli(['consume', ...bootstrap, '--topic', 'counts', '--value-deserializer', 'io.confluent.kafka.serializers.KafkaAvroDeserializer']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('value.deserializer io.confluent.kafka.serializers.KafkaAvroDeserializer is not a deserializer sluice has') });
  });

  it('reports an unknown topic or partition with its Kafka error name, exit 1', async () => {
    let consumed = await runCli(['consume', ...bootstrap, '--topic', 'no-such-topic', '--timeout-ms', '100']);
    expect(consumed.code).toBe(1);
    expect(consumed.stderr).toMatch(/^Error: .*UNKNOWN_TOPIC_OR_PARTITION/m);
    expect(consumed.stderr).not.toMatch(STACK_LINE);
    await broker.engine.createTopic('one-partition', { partitions: 1 });
    consumed = await runCli(['consume', ...bootstrap, '--topic', 'one-partition', '--partition', '5', '--timeout-ms', '100']);
    expect(consumed.code).toBe(1);
    expect(consumed.stderr).toMatch(/^Error: .*UNKNOWN_TOPIC_OR_PARTITION/m);
  });
});
