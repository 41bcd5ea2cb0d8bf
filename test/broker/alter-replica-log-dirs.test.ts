// AlterReplicaLogDirs (API 34) from outside: @platformatic/kafka's request moves a partition of a
// broker with two log directories while kcat writes to it; DescribeLogDirs shows the future
// replica while replica.alter.log.dirs.io.max.bytes.per.second (set and removed with
// IncrementalAlterConfigs) holds the copy back; afterwards kcat reads every record in order from
// the new directory, also after a restart. Bad paths and partitions get Kafka's error codes.
// `sluice reassign-partitions` moves it back with a reassignment file's log_dirs, as
// kafka-reassign-partitions does, throttled, and --verify follows the move to its end. A `sluice
// broker` process SIGKILLed mid-move resumes the move when it starts again.
import fs from 'node:fs';
import path from 'node:path';
import { Admin, Connection, alterReplicaLogDirsV2 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { responseOf } from '../fixtures/platformatic.js';
import { runCli } from '../cli/run-cli.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { tempDir, waitUntil } from '../helpers.js';

const TOPIC = 'moving';
const BROKER_RESOURCE = 4;
/** A single broker's node.id (Kafka's default for a combined node is 1). */
const BROKER_ID = '1';
const SET = 0;
const DELETE = 1;
const MOVE_RATE = 'replica.alter.log.dirs.io.max.bytes.per.second';
const LOG_DIR_NOT_FOUND = 57;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

let dirs: string[];
let broker: Broker;
let connection: Connection;
let admin: Admin;

const config = () => ({ 'log.dirs': dirs.join(','), 'group.initial.rebalance.delay.ms': 0 });
const line = (i: number) => `record ${i} `.padEnd(99, '.');
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i)).join('\n') + '\n';

async function produce(from: number, to: number) {
  return kcat(['-P', '-b', `127.0.0.1:${broker.port}`, '-t', TOPIC, '-p', '0', '-X', 'acks=all'], lines(from, to), 60_000);
}

async function consumeAll(): Promise<string[]> {
  const result = await kcat(['-C', '-b', `127.0.0.1:${broker.port}`, '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'], '', 60_000);
  expect(result.code).toBe(0);
  return result.stdout.split('\n').filter((entry) => entry !== '');
}

/** DescribeLogDirs of the topic: per directory, `partition:future` entries. */
async function placement(): Promise<Record<string, string[]>> {
  const [described] = await admin.describeLogDirs({ topics: [{ name: TOPIC, partitions: [0] }] });
  return Object.fromEntries(described!.results.map((result) => [result.logDir, result.topics.flatMap((topic) => topic.partitions.map((p) => `${p.partitionIndex}:${p.isFutureKey ? 'future' : 'live'}`))]));
}

async function setMoveRate(value: string | null): Promise<void> {
  await admin.incrementalAlterConfigs({ resources: [{ resourceType: BROKER_RESOURCE, resourceName: BROKER_ID, configs: [{ name: MOVE_RATE, configOperation: value === null ? DELETE : SET, value: value ?? '' }] }] });
}

async function connect(): Promise<void> {
  connection = new Connection('alter-log-dirs-test');
  await connection.connect('127.0.0.1', broker.port);
  admin = new Admin({ clientId: 'alter-log-dirs-test', bootstrapBrokers: [`127.0.0.1:${broker.port}`] });
}

beforeAll(async () => {
  const root = tempDir();
  dirs = [path.join(root, 'disk1'), path.join(root, 'disk2')];
  broker = await startBroker({ port: 0, config: config() });
  await broker.engine.createTopic(TOPIC, { partitions: 1, config: { 'segment.bytes': 1024 * 1024 } });
  expect(broker.engine.logDirOf(TOPIC, 0)).toBe(dirs[0]);
  expect(await produce(0, 40_000)).toMatchObject({ code: 0 });
  await connect();
});

afterAll(async () => {
  await admin?.close();
  await connection?.close();
  await broker?.stop();
});

describe('AlterReplicaLogDirs', () => {
  it('moves a replica while kcat writes to it; DescribeLogDirs shows the future replica until the copy is done; every record is read back', async () => {
    // 200 KB/s: the ~4.4 MB already there take ~20 s, so the move is under way while kcat writes.
    await setMoveRate('200000');
    const answer = await responseOf(alterReplicaLogDirsV2.api.async(connection, [{ path: dirs[1]!, topics: [{ name: TOPIC, partitions: [0] }] }]));
    expect(answer.results).toEqual([{ topicName: TOPIC, partitions: [{ partitionIndex: 0, errorCode: 0 }] }]);
    const writing = produce(40_000, 50_000);
    await waitUntil(async () => (await placement())[dirs[1]!]!.includes('0:future'), 'the future replica in disk2');
    expect(await placement()).toEqual({ [dirs[0]!]: ['0:live'], [dirs[1]!]: ['0:future'] });
    expect(await writing).toMatchObject({ code: 0 });
    expect(broker.engine.logDirMoves()).toEqual([expect.objectContaining({ topic: TOPIC, partition: 0, from: dirs[0], to: dirs[1] })]);

    // Lifting the limit lets the move under way finish.
    await setMoveRate(null);
    await waitUntil(() => broker.engine.logDirOf(TOPIC, 0) === dirs[1], 'the move to finish');
    expect(await placement()).toEqual({ [dirs[0]!]: [], [dirs[1]!]: ['0:live'] });
    expect(fs.existsSync(path.join(dirs[0]!, `${TOPIC}-0`))).toBe(false);
    expect(await produce(50_000, 50_100)).toMatchObject({ code: 0 });
    expect(await consumeAll()).toEqual(Array.from({ length: 50_100 }, (_, i) => `${i} ${line(i)}`));
  });

  it("answers LOG_DIR_NOT_FOUND for a path not in log.dirs and UNKNOWN_TOPIC_OR_PARTITION for a partition it does not know, per partition", async () => {
    const answer = await responseOf(
      alterReplicaLogDirsV2.api.async(connection, [
        { path: path.join(dirs[0]!, '..', 'disk3'), topics: [{ name: TOPIC, partitions: [0] }] },
        { path: dirs[0]!, topics: [{ name: 'no-such-topic', partitions: [0] }, { name: TOPIC, partitions: [7] }] },
      ]),
    );
    expect(answer.results).toEqual([
      { topicName: TOPIC, partitions: [{ partitionIndex: 0, errorCode: LOG_DIR_NOT_FOUND }, { partitionIndex: 7, errorCode: UNKNOWN_TOPIC_OR_PARTITION }] },
      { topicName: 'no-such-topic', partitions: [{ partitionIndex: 0, errorCode: UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    expect(broker.engine.logDirOf(TOPIC, 0)).toBe(dirs[1]);
  });

  it('keeps the moved replica in its new directory across a restart, with every record', async () => {
    await admin.close();
    await connection.close();
    await broker.stop();
    broker = await startBroker({ port: 0, config: config() });
    await connect();
    expect(broker.engine.logDirOf(TOPIC, 0)).toBe(dirs[1]);
    expect(await placement()).toEqual({ [dirs[0]!]: [], [dirs[1]!]: ['0:live'] });
    expect((await consumeAll()).length).toBe(50_100);
  });

  it('`sluice reassign-partitions` moves it back by its log_dirs, throttled; --verify says when it is done and clears the throttle', async () => {
    const file = path.join(dirs[0]!, '..', 'back.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic: TOPIC, partition: 0, replicas: [1], log_dirs: [dirs[0]] }] }));
    const cli = (...args: string[]) => runCli(['reassign-partitions', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--reassignment-json-file', file, ...args]);
    // 100 KB/s: the ~5.5 MB take nearly a minute, so --verify finds the move under way.
    const executed = await cli('--execute', '--replica-alter-log-dirs-throttle', '100000');
    expect(executed).toMatchObject({ code: 0, stderr: '' });
    expect(executed.stdout).toContain('The replica-alter-dir throttle limit was set to 100000 B/s\n');
    expect(executed.stdout).toContain(`Successfully started log directory move for: ${TOPIC}-0-1\n`);
    const during = await cli('--verify');
    expect(during).toMatchObject({ code: 0, stderr: '' });
    expect(during.stdout).toBe(`Status of partition reassignment:\nReassignment of partition ${TOPIC}-0 is completed.\nReassignment of replica ${TOPIC}-0-1 is still in progress.\n`);
    const described = await runCli(['log-dirs', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--describe', '--topic-list', TOPIC]);
    const logDirs = JSON.parse(described.stdout.trimEnd().split('\n')[2]!).brokers[0].logDirs;
    expect(logDirs.map((dir: { logDir: string; partitions: Array<{ partition: string; isFuture: boolean }> }) => [dir.logDir, dir.partitions.map((p) => `${p.partition}:${p.isFuture}`)])).toEqual([
      [dirs[0], [`${TOPIC}-0:true`]],
      [dirs[1], [`${TOPIC}-0:false`]],
    ]);

    // Resubmitted with a higher limit (--additional, as Kafka's tool changes a throttle), the move finishes.
    expect(await cli('--execute', '--additional', '--replica-alter-log-dirs-throttle', '1000000000')).toMatchObject({ code: 0 });
    await waitUntil(() => broker.engine.logDirOf(TOPIC, 0) === dirs[0], 'the move back to disk1');
    const done = await cli('--verify');
    expect(done.stdout).toBe(
      `Status of partition reassignment:\nReassignment of partition ${TOPIC}-0 is completed.\nReassignment of replica ${TOPIC}-0-1 completed successfully.\n` +
        `Clearing broker-level throttles on broker 1\nClearing topic-level throttles on topic ${TOPIC}\n`,
    );
    const [config] = await admin.describeConfigs({ resources: [{ resourceType: BROKER_RESOURCE, resourceName: BROKER_ID, configurationKeys: [MOVE_RATE] }] });
    expect(config!.configs.filter((entry) => entry.name === MOVE_RATE && entry.value !== null && entry.configSource !== 5)).toEqual([]);
    expect((await consumeAll()).length).toBe(50_100);
  });
});

describe('a broker process killed while it moves a replica', () => {
  let processBroker: BrokerProcess | undefined;

  afterAll(async () => {
    await processBroker?.stop();
  });

  it('resumes the move when it starts again, and every record is read back from the new directory', async () => {
    const root = tempDir();
    const disks = [path.join(root, 'disk1'), path.join(root, 'disk2')];
    const start = async () => (processBroker = await startBrokerProcess(disks.join(','), { 'num.partitions': 1 }));
    await start();
    const bootstrap = () => `127.0.0.1:${processBroker!.port}`;
    const input = Array.from({ length: 40_000 }, (_, i) => line(i)).join('\n') + '\n';
    expect(await kcat(['-P', '-b', bootstrap(), '-t', 'killed', '-p', '0', '-X', 'acks=all'], input, 60_000)).toMatchObject({ code: 0 });
    const clients = async () => {
      const raw = new Connection('alter-log-dirs-kill');
      await raw.connect('127.0.0.1', processBroker!.port);
      return { raw, admin: new Admin({ clientId: 'alter-log-dirs-kill', bootstrapBrokers: [bootstrap()] }) };
    };
    const futureOf = async (admin: Admin) => {
      const [described] = await admin.describeLogDirs({ topics: [{ name: 'killed', partitions: [0] }] });
      return Object.fromEntries(described!.results.map((r) => [r.logDir, r.topics.flatMap((t) => t.partitions.map((p) => (p.isFutureKey ? 'future' : 'live')))]));
    };
    let { raw, admin: killedAdmin } = await clients();
    // 100 KB/s (a dynamic config: it survives the restart), so the ~4.4 MB are far from copied when the kill comes.
    const rate = (value: string | null) =>
      killedAdmin.incrementalAlterConfigs({ resources: [{ resourceType: BROKER_RESOURCE, resourceName: BROKER_ID, configs: [{ name: MOVE_RATE, configOperation: value === null ? DELETE : SET, value: value ?? '' }] }] });
    await rate('100000');
    const answer = await responseOf(alterReplicaLogDirsV2.api.async(raw, [{ path: disks[1]!, topics: [{ name: 'killed', partitions: [0] }] }]));
    expect(answer.results[0]!.partitions[0]!.errorCode).toBe(0);
    await waitUntil(async () => (await futureOf(killedAdmin))[disks[1]!]!.includes('future'), 'the future replica');
    await raw.close();
    await killedAdmin.close();
    await processBroker!.kill();

    await start();
    ({ raw, admin: killedAdmin } = await clients());
    try {
      // Straight after the restart the move is under way again, the replica still live in disk1.
      expect(await futureOf(killedAdmin)).toEqual({ [disks[0]!]: ['live'], [disks[1]!]: ['future'] });
      await rate(null);
      await waitUntil(async () => JSON.stringify(await futureOf(killedAdmin)) === JSON.stringify({ [disks[0]!]: [], [disks[1]!]: ['live'] }), 'the resumed move to finish');
      const read = await kcat(['-C', '-b', bootstrap(), '-t', 'killed', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'], '', 60_000);
      expect(read.stdout.split('\n').filter((entry) => entry !== '')).toEqual(Array.from({ length: 40_000 }, (_, i) => `${i} ${line(i)}`));
      expect(fs.readdirSync(disks[0]!).filter((name) => name.startsWith('killed-'))).toEqual([]);
    } finally {
      await raw.close();
      await killedAdmin.close();
    }
  });
});
