// A broker whose consumer's Fetch meets a page of a mapped segment that cannot be read (SIGBUS,
// native/mapping_faults.h) stays up: the segment file is cut from outside after kcat read it once,
// as an unreadable sector would take it away, and kcat fetches past the cut. The broker answers the
// fetch KAFKA_STORAGE_ERROR rather than zeros, takes the directory offline (KIP-112: DescribeLogDirs
// says so), and kcat goes on producing to and consuming from the other directory's partitions.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir, waitUntil } from '../helpers.js';

const TOPIC = 'mapped';
const PARTITIONS = 4;
const RECORDS = 2000;
const BROKER_ID = 1;

describe('a broker whose mapped segment cannot be read', () => {
  let broker: Broker | undefined;
  let client: KafkaClient | undefined;

  afterEach(async () => {
    await client?.close();
    await broker?.stop().catch(() => undefined);
    [client, broker] = [undefined, undefined];
  });

  it('answers the fetch with an error, takes the directory offline and serves the other one', async () => {
    const root = tempDir();
    const [first, second] = [path.join(root, 'a'), path.join(root, 'b')];
    broker = await startBroker({ port: 0, config: { 'log.dirs': `${first},${second}` } });
    const address = `127.0.0.1:${broker.port}`;
    client = await KafkaClient.connect({ brokers: [address] });
    await client.createTopics([{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 1 }]);
    const onSecond = [...Array(PARTITIONS).keys()].filter((p) => broker!.engine.logDirOf(TOPIC, p) === second);
    const onFirst = [...Array(PARTITIONS).keys()].filter((p) => !onSecond.includes(p));
    expect(onSecond.length).toBeGreaterThan(0);
    const lines = Array.from({ length: RECORDS }, (_, i) => `record ${i}`.padEnd(100, '.'));
    for (let p = 0; p < PARTITIONS; p++) {
      const produced = await kcat(['-P', '-b', address, '-t', TOPIC, '-p', String(p), '-X', 'acks=all'], `${lines.join('\n')}\n`, 60_000);
      expect(produced.code, produced.stderr).toBe(0);
    }
    const victim = onSecond[0]!;
    const read = await kcat(['-C', '-b', address, '-t', TOPIC, '-p', String(victim), '-o', 'beginning', '-e', '-q'], '', 60_000);
    expect(read.stdout.split('\n').filter((line) => line !== '')).toHaveLength(RECORDS);

    fs.truncateSync(path.join(second, `${TOPIC}-${victim}`, '00000000000000000000.log'), 0);
    // kcat fetches past the cut; librdkafka retries a storage error until its timeout here.
    await kcat(['-C', '-b', address, '-t', TOPIC, '-p', String(victim), '-o', String(RECORDS / 2), '-e', '-q'], '', 3_000);
    await waitUntil(() => broker!.engine.offlineLogDirs().length > 0, 'the directory to go offline');
    expect(broker.engine.offlineLogDirs()).toMatchObject([{ dir: second, code: 'EIO', message: expect.stringMatching(/SIGBUS/) }]);
    const dirs = await client.logDirs(BROKER_ID, null);
    expect(dirs.find((dir) => dir.logDir === second)?.error?.code).toBe('KAFKA_STORAGE_ERROR');

    for (const p of onFirst) {
      const produced = await kcat(['-P', '-b', address, '-t', TOPIC, '-p', String(p), '-X', 'acks=all'], 'after\n', 60_000);
      expect(produced.code, produced.stderr).toBe(0);
      const tail = await kcat(['-C', '-b', address, '-t', TOPIC, '-p', String(p), '-o', String(RECORDS - 1), '-e', '-q'], '', 60_000);
      expect(tail.stdout.split('\n').filter((line) => line !== '')).toEqual([lines[RECORDS - 1], 'after']);
    }
  });
});
