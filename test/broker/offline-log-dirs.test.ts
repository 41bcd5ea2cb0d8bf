// A broker with a log directory on a disk that fails (KIP-112), from outside: a real ext4 shut down
// under the broker (test/fixtures/failing-disk.ts: every operation then returns EIO). The first
// Produce there gets KAFKA_STORAGE_ERROR and takes the directory offline (or the broker's own
// background work does): DescribeLogDirs answers
// it KAFKA_STORAGE_ERROR with no partitions (and `sluice log-dirs --describe` prints it), Metadata names its partitions leaderless with the
// broker as their offline replica, and kcat keeps producing to and consuming from the partitions
// of the healthy directory. A `sluice broker` whose only log directory fails stops and
// exits with 1, saying so, as Kafka's broker halts when all its log dirs have failed.
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { failingDiskRefused, mountFailingDisk, type FailingDisk } from '../fixtures/failing-disk.js';
import { runCli, spawnCli } from '../cli/run-cli.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const TOPIC = 'disks';
const PARTITIONS = 4;
const BROKER_ID = 1;

/** The error type kafkajs gets for one record produced to `partition` without retries, or 'none'. */
async function refusal(kafka: Kafka, partition: number): Promise<string> {
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'after', partition }] });
    return 'none';
  } catch (error) {
    return (error as { cause?: { type?: string } }).cause?.type ?? String(error);
  } finally {
    await producer.disconnect();
  }
}

describe.skipIf(failingDiskRefused !== undefined)('a broker whose log directory fails', () => {
  let disk: FailingDisk | undefined;
  let broker: Broker | undefined;
  let client: KafkaClient | undefined;

  afterEach(async () => {
    await client?.close();
    await broker?.stop().catch(() => undefined);
    disk?.unmount();
    [client, broker, disk] = [undefined, undefined, undefined];
  });

  it('answers KAFKA_STORAGE_ERROR for the failed directory and goes on serving the healthy one', async () => {
    disk = mountFailingDisk();
    const healthy = path.join(tempDir(), 'healthy');
    const failing = path.join(disk.dir, 'logs');
    broker = await startBroker({ port: 0, config: { 'log.dirs': `${healthy},${failing}`, 'group.initial.rebalance.delay.ms': 0 } });
    client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
    await client.createTopics([{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 1 }]);
    const onFailing = [...Array(PARTITIONS).keys()].filter((p) => broker!.engine.logDirOf(TOPIC, p) === failing);
    const onHealthy = [...Array(PARTITIONS).keys()].filter((p) => !onFailing.includes(p));
    expect(onFailing).toHaveLength(2);

    const kafka = new Kafka({ clientId: 'offline-dirs', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let p = 0; p < PARTITIONS; p++) await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: `before ${p}`, partition: p }] });
      disk.fail();

      // The first append there meets EIO (unless the broker's background flushes and checkpoints
      // met it first): KAFKA_STORAGE_ERROR, and the directory is offline from then on, for every
      // partition in it; fresh metadata then names no leader for them.
      for (const p of onFailing) expect(['KAFKA_STORAGE_ERROR', 'LEADER_NOT_AVAILABLE']).toContain(await refusal(kafka, p));
      expect(await refusal(kafka, onFailing[0]!)).toBe('LEADER_NOT_AVAILABLE');
      expect(broker.engine.offlineLogDirs().map(({ dir }) => dir)).toEqual([failing]);

      const dirs = await client!.logDirs(BROKER_ID, null);
      const failed = dirs.find((dir) => dir.logDir === failing)!;
      expect(failed.error?.code).toBe('KAFKA_STORAGE_ERROR');
      expect(failed.partitions).toEqual([]);
      const fine = dirs.find((dir) => dir.logDir === healthy)!;
      expect(fine.error).toBeNull();
      expect(fine.partitions.filter((p) => p.topic === TOPIC).map((p) => p.partition).sort()).toEqual(onHealthy);

      // `sluice log-dirs --describe` prints the directory's error, as kafka-log-dirs does.
      const described = await runCli(['log-dirs', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--describe', '--topic-list', TOPIC]);
      expect(described).toMatchObject({ code: 0, stderr: '' });
      const printed = JSON.parse(described.stdout.trimEnd().split('\n')[2]!).brokers[0].logDirs.map((dir: { logDir: string; error: string | null; partitions: unknown[] }) => [dir.logDir, dir.error, dir.partitions.length]);
      expect(printed).toEqual([
        [healthy, null, onHealthy.length],
        [failing, 'KAFKA_STORAGE_ERROR', 0],
      ]);

      const { topics } = await client!.metadata([TOPIC]);
      for (const partition of topics[0]!.partitions) {
        const offline = onFailing.includes(partition.partition);
        expect(partition.leader).toBe(offline ? -1 : BROKER_ID);
        expect(partition.offline).toEqual(offline ? [BROKER_ID] : []);
      }

      // The healthy directory's partitions go on. kcat (librdkafka) is the client here: kafkajs
      // refuses a whole topic's metadata while one partition has no leader (as it does with Kafka).
      const address = `127.0.0.1:${broker.port}`;
      for (const p of onHealthy) {
        const produced = await kcat(['-P', '-b', address, '-t', TOPIC, '-p', String(p), '-X', 'acks=all'], `after ${p}\n`, 60_000);
        expect(produced.code, produced.stderr).toBe(0);
        const read = await kcat(['-C', '-b', address, '-t', TOPIC, '-p', String(p), '-o', 'beginning', '-e', '-q'], '', 60_000);
        expect(read.stdout.split('\n').filter((entry) => entry !== '')).toEqual([`before ${p}`, `after ${p}`]);
      }
    } finally {
      await producer.disconnect();
    }
  });

  it('`sluice broker` stops and exits with 1 once its only log directory has failed', async () => {
    disk = mountFailingDisk();
    const logs = path.join(disk.dir, 'logs');
    const child = spawnCli(['broker', '--port', '0', '--data-dir', logs]);
    try {
      const line = await child.waitFor('sluice broker listening on ');
      const port = Number(/:(\d+), data dir/.exec(line)![1]);
      client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
      await client.createTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1 }]);
      disk.fail();
      // The broker's own background work (its flushes and checkpoints) may meet the failure first:
      // whether this Produce is refused with KAFKA_STORAGE_ERROR or finds the broker gone, it stops.
      const kafka = new Kafka({ clientId: 'offline-dirs', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      expect(await refusal(kafka, 0)).not.toBe('none');
      expect(await child.exited).toBe(1);
      expect(child.stderr).toContain(`Shutdown broker because all log dirs in ${logs} have failed`);
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
  });
});
