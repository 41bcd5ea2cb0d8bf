// A broker with several log directories (log.dirs=a,b, Kafka's JBOD), from outside: kcat writes to
// and reads from partitions spread over both, @platformatic/kafka's Admin (DescribeLogDirs v4)
// and `sluice log-dirs` see each directory with its partitions and its file system's bytes, every
// record is there after a restart, and a directory of another cluster is refused.
import fs from 'node:fs';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';

const PARTITIONS = 4;
const RECORDS_PER_PARTITION = 25;

let root: string;
let dirs: string[];
let broker: Broker;

const config = () => ({ 'log.dirs': dirs.join(','), 'group.initial.rebalance.delay.ms': 0 });

/** Every value in partition `partition`, read by kcat from the start to the end. */
async function consume(partition: number): Promise<string[]> {
  const result = await kcat(['-C', '-b', `127.0.0.1:${broker.port}`, '-t', 'spread', '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
  expect(result.code).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

beforeAll(async () => {
  root = tempDir();
  dirs = [path.join(root, 'disk1'), path.join(root, 'disk2')];
  broker = await startBroker({ port: 0, config: config() });
  await broker.engine.createTopic('spread', { partitions: PARTITIONS });
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const input = Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => `p${partition}-${i}`).join('\n') + '\n';
    const produced = await kcat(['-P', '-b', `127.0.0.1:${broker.port}`, '-t', 'spread', '-p', String(partition), '-X', 'acks=all'], input);
    expect(produced).toMatchObject({ code: 0 });
  }
});

afterAll(async () => {
  await broker?.stop();
});

describe('a broker with log.dirs listing two directories', () => {
  it('spreads the partitions over both, and kcat reads back every record', async () => {
    expect(broker.engine.logDirs).toEqual(dirs);
    expect([0, 1, 2, 3].map((p) => broker.engine.logDirOf('spread', p))).toEqual([dirs[0], dirs[1], dirs[0], dirs[1]]);
    expect(fs.existsSync(path.join(dirs[0]!, 'spread-2', '00000000000000000000.log'))).toBe(true);
    expect(fs.existsSync(path.join(dirs[1]!, 'spread-3', '00000000000000000000.log'))).toBe(true);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      expect(await consume(partition)).toEqual(Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => `p${partition}-${i}`));
    }
    // Each directory carries the broker's meta.properties, with the same cluster id.
    const ids = dirs.map((dir) => fs.readFileSync(path.join(dir, 'meta.properties'), 'utf8').match(/^cluster\.id=(.+)$/m)?.[1]);
    expect(ids).toEqual([broker.clusterId, broker.clusterId]);
  });

  it('describes each directory to @platformatic/kafka (DescribeLogDirs v4), with its partitions and its file system bytes', async () => {
    const admin = new Admin({ clientId: 'log-dirs', bootstrapBrokers: [`127.0.0.1:${broker.port}`] });
    try {
      const [described] = await admin.describeLogDirs({ topics: [{ name: 'spread', partitions: [0, 1, 2, 3] }] });
      const results = described!.results.map((result) => ({
        logDir: result.logDir,
        partitions: result.topics.flatMap((topic) => topic.partitions.map((p) => `${topic.name}-${p.partitionIndex}`)).sort(),
        sizes: result.topics.flatMap((topic) => topic.partitions.map((p) => Number(p.partitionSize))),
        totalBytes: Number(result.totalBytes),
        usableBytes: Number(result.usableBytes),
      }));
      expect(results.map(({ logDir, partitions }) => ({ logDir, partitions }))).toEqual([
        { logDir: dirs[0], partitions: ['spread-0', 'spread-2'] },
        { logDir: dirs[1], partitions: ['spread-1', 'spread-3'] },
      ]);
      const stats = fs.statfsSync(root);
      for (const result of results) {
        expect(result.sizes.every((size) => size > RECORDS_PER_PARTITION * 5)).toBe(true);
        expect(result.totalBytes).toBe(stats.blocks * stats.bsize);
        expect(result.usableBytes).toBeGreaterThan(0);
        expect(result.usableBytes).toBeLessThanOrEqual(result.totalBytes);
      }
    } finally {
      await admin.close();
    }
  });

  it('`sluice log-dirs --describe` prints both directories', async () => {
    const result = await runCli(['log-dirs', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--describe', '--topic-list', 'spread']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const json = JSON.parse(result.stdout.trimEnd().split('\n')[2]!);
    const logDirs = json.brokers[0].logDirs.map((dir: { logDir: string; partitions: Array<{ partition: string }> }) => ({
      logDir: dir.logDir,
      partitions: dir.partitions.map((p) => p.partition).sort(),
    }));
    expect(logDirs).toEqual([
      { logDir: dirs[0], partitions: ['spread-0', 'spread-2'] },
      { logDir: dirs[1], partitions: ['spread-1', 'spread-3'] },
    ]);
  });

  it('keeps every record and every placement across a restart, and places a new partition in the emptier directory', async () => {
    await broker.stop();
    broker = await startBroker({ port: 0, config: config() });
    expect([0, 1, 2, 3].map((p) => broker.engine.logDirOf('spread', p))).toEqual([dirs[0], dirs[1], dirs[0], dirs[1]]);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      expect(await consume(partition)).toEqual(Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => `p${partition}-${i}`));
    }
    // __consumer_offsets, if the broker made it, counts too: place one more partition and check it went to the directory with fewer.
    const counts = dirs.map((dir) => fs.readdirSync(dir).filter((name) => /-\d+$/.test(name)).length);
    await broker.engine.createPartitions('spread', PARTITIONS + 1);
    expect(broker.engine.logDirOf('spread', PARTITIONS)).toBe(counts[1]! < counts[0]! ? dirs[1] : dirs[0]);
  });

  it('refuses to start when a directory belongs to another cluster, naming it', async () => {
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'meta.properties'), 'version=1\ncluster.id=AnotherClusterId00000A\nnode.id=1\n');
    const refused = await startBroker({ port: 0, config: { 'log.dirs': `${path.join(root, 'fresh')},${foreign}` } }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'INVALID_CONFIG' });
    expect((refused as Error).message).toContain(`${path.join(foreign, 'meta.properties')} belongs to cluster AnotherClusterId00000A`);
  });
});
