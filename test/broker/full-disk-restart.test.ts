// A broker process killed with SIGKILL and started again on a nearly full disk (a small tmpfs of
// the test's own), as the outside check did: it comes back with every acknowledged record; on a
// full disk a produce fails with KAFKA_STORAGE_ERROR and works again once space is freed; and a
// restart that truly lacks the space recovery must write exits 1 with a message naming the
// partition and the bytes, never with a signal (it used to die with SIGBUS, printing nothing).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, STACK_LINE } from '../cli/run-cli.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kafka, Partitioners } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';

const TOPIC = 'crash';
const PARTITIONS = 2;
const KIB = 1024;

/** Values of one partition read with kcat, in offset order: "offset|value". */
async function readBack(broker: BrokerProcess, partition: number): Promise<string[]> {
  const result = await kcat(['-b', broker.address, '-C', '-t', TOPIC, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%o|%s\\n']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** `count` batches of ten ~500-byte records to each partition; returns what each partition holds after. */
async function produce(broker: BrokerProcess, count: number, first: number, expected: string[][]): Promise<void> {
  const producer = kafka([broker.address]).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let batch = first; batch < first + count; batch++) {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const values = Array.from({ length: 10 }, (_, i) => `${partition}-${batch}-${i}-${'v'.repeat(500)}`);
        await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value, partition })) });
        for (const value of values) expected[partition]!.push(`${expected[partition]!.length}|${value}`);
      }
    }
  } finally {
    await producer.disconnect();
  }
}

describe.skipIf(tmpfsRefused !== undefined)(`A broker restarted after SIGKILL on a nearly full disk${tmpfsRefused ? ` (skipped: ${tmpfsRefused})` : ''}`, () => {
  let tmpfs: Tmpfs;
  let broker: BrokerProcess | undefined;
  beforeAll(() => {
    tmpfs = mountTmpfs(64 * 1024 * KIB);
  });
  afterAll(async () => {
    await broker?.kill();
    tmpfs?.unmount();
  });

  it('comes back with every record, refuses produce on a full disk until space is freed, and fails a restart it has no space for with a clear error', async () => {
    const dataDir = path.join(tmpfs.dir, 'data');
    const expected: string[][] = [[], []];
    broker = await startBrokerProcess(dataDir);
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    await produce(broker, 15, 0, expected); // ~75 KiB a partition: a dozen index entries each
    await broker.kill();

    // Within 64 KiB of full: recovery frees the old index pages before it fills new ones.
    tmpfs.fill(64 * KIB);
    broker = await startBrokerProcess(dataDir);
    for (let partition = 0; partition < PARTITIONS; partition++) expect(await readBack(broker, partition)).toEqual(expected[partition]);

    // Full: a produce is refused whole, and accepted again once there is room.
    tmpfs.fill(0);
    const producer = kafka([broker.address]).producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
    await producer.connect();
    const refusal = await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'x'.repeat(64 * KIB), partition: 0 }] }).catch((error: any) => error);
    await producer.disconnect();
    expect(refusal?.cause, String(refusal)).toMatchObject({ name: 'KafkaJSProtocolError', type: 'KAFKA_STORAGE_ERROR' });
    tmpfs.unfill();
    await produce(broker, 1, 15, expected);
    for (let partition = 0; partition < PARTITIONS; partition++) expect(await readBack(broker, partition)).toEqual(expected[partition]);
    await broker.kill();

    // Lost indexes (Kafka rebuilds missing ones) on a full disk: the rebuild needs pages nothing frees.
    const partitionDir = path.join(dataDir, `${TOPIC}-0`);
    for (const name of fs.readdirSync(partitionDir)) if (name.endsWith('index')) fs.rmSync(path.join(partitionDir, name));
    tmpfs.fill(0);
    const failed = await runCli(['broker', '--port', '0', '--data-dir', dataDir]);
    tmpfs.unfill();
    expect(failed.signal).toBeNull();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      new RegExp(
        `^Error: Cannot start the broker: Out of disk space in partition directory ${partitionDir}: ` +
          'rebuilding the indexes of 0{20}\\.log needs up to \\d+ bytes, and 0 bytes are free \\(fallocate .*: No space left on device\\)\\n$',
      ),
    );
    expect(failed.stderr).not.toMatch(STACK_LINE);

    broker = await startBrokerProcess(dataDir);
    for (let partition = 0; partition < PARTITIONS; partition++) expect(await readBack(broker, partition)).toEqual(expected[partition]);
    await broker.stop();
    broker = undefined;
  });
});
