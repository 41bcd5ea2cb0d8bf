// `sluice cluster` as a process: it prints the bootstrap servers and each broker, serves a real
// client (kafkajs), and on SIGTERM stops every broker and etcd, removes its temp dir and exits 0.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import type { Child } from '../fixtures/child.js';
import { kafka } from '../fixtures/kafkajs.js';
import { connectResult, processAlive } from '../fixtures/probes.js';
import { runCli, spawnCli } from './run-cli.js';

const running: Child[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
    await child.exited;
  }
});

const BROKER_LINE = /^broker (\d+): (127\.0\.0\.\d+):(\d+) rack (\S+) pid (\d+) data dir (\S+)(?: \(log dirs (\S+)\))? log (\S+)$/;

describe('sluice cluster', () => {
  it('prints the bootstrap servers and brokers, serves kafkajs, and stops everything on SIGTERM with exit 0', async () => {
    const child = spawnCli(['cluster', '--brokers', '2', '--racks', 'east,west', '--log-dirs', '2', '--num.partitions=2']);
    running.push(child);
    const bootstrapLine = await child.waitFor('bootstrap servers: ');
    const etcdLine = await child.waitFor('etcd: ');
    const brokers = child.lines.filter((line) => line.startsWith('broker ')).map((line) => {
      const match = BROKER_LINE.exec(line);
      expect(match, line).not.toBeNull();
      return { id: Number(match![1]), host: match![2]!, port: Number(match![3]), rack: match![4]!, pid: Number(match![5]), dataDir: match![6]!, logDirs: match![7] };
    });
    // --log-dirs 2: each broker's log.dirs is its data dir and one beside it, each with the broker's meta.properties.
    for (const broker of brokers) {
      expect(broker.logDirs).toBe(`${broker.dataDir},${broker.dataDir}-dir-2`);
      for (const dir of broker.logDirs!.split(',')) expect(fs.existsSync(path.join(dir, 'meta.properties')), dir).toBe(true);
    }
    expect(brokers.map((b) => [b.id, b.host, b.rack])).toEqual([
      [1, '127.0.0.2', 'east'],
      [2, '127.0.0.3', 'west'],
    ]);
    expect(bootstrapLine).toBe(`bootstrap servers: ${brokers.map((b) => `${b.host}:${b.port}`).join(',')}`);
    for (const broker of brokers) expect(processAlive(broker.pid)).toBe(true);
    const etcdUrl = new URL(etcdLine.slice('etcd: '.length).split(',')[0]!);
    const clusterDir = path.dirname(brokers[0]!.dataDir);

    // A real client on one broker; the --KEY=VALUE config reached it (2 partitions when auto-created).
    const client = kafka([`${brokers[0]!.host}:${brokers[0]!.port}`]);
    const producer = client.producer();
    const admin = client.admin();
    try {
      await producer.connect();
      await producer.send({ topic: 'via-cluster', messages: [{ value: 'hello' }] });
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: ['via-cluster'] });
      expect(topics[0].partitions).toHaveLength(2);
      // --racks reached each broker as broker.rack.
      const described = await KafkaClient.connect({ brokers: [`${brokers[0]!.host}:${brokers[0]!.port}`] });
      try {
        expect((await described.metadata([])).brokers.map((b) => [b.nodeId, b.rack]).sort()).toEqual([[1, 'east'], [2, 'west']]);
      } finally {
        described.close();
      }
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }

    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stderr).toContain('Cluster stopped');
    for (const broker of brokers) expect(processAlive(broker.pid), `broker ${broker.id} pid ${broker.pid}`).toBe(false);
    expect(await connectResult(etcdUrl.hostname, Number(etcdUrl.port))).toBe('ECONNREFUSED');
    expect(fs.existsSync(clusterDir)).toBe(false);
  });

  it('--racks must name one rack a broker (exit 2)', async () => {
    const result = await runCli(['cluster', '--brokers', '3', '--racks', 'a,b']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--racks names 2 racks for 3 brokers: give one rack a broker, e.g. --racks a,a,b');
  });

  it('fails with exit 1 and says how to install etcd when it is not on PATH', async () => {
    const result = await runCli(['cluster', '--brokers', '1'], { env: { ...process.env, PATH: '/nonexistent' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: ETCD_NOT_INSTALLED: .*apt-get install etcd-server/);
  });
});
