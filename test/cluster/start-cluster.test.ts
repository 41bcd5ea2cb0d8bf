// startCluster: a real etcd and real `sluice broker` processes, each on its own loopback address
// and port; kill, restart and stop them; leave no process and no temp dir behind.
//
// Until brokers join clusters (sluice.etcd.endpoints, issue 8's broker side), each broker runs as a
// cluster of one: these tests check the launcher. The cluster-wide test below runs once the broker
// knows sluice.etcd.endpoints.
import fs from 'node:fs';
import path from 'node:path';
import { Connection, describeClusterV1 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient, type BrokerNode } from '../../src/client/client.js';
import { startCluster, type LocalCluster, type StartClusterOptions } from '../../src/cluster/start-cluster.js';
import { isSluiceError } from '../../src/errors.js';
import { connectResult, processAlive } from '../fixtures/probes.js';
import { tempDir } from '../helpers.js';
import { runCli } from '../cli/run-cli.js';
import { waitUntil } from './helpers.js';


const clusters: LocalCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((cluster) => cluster.stop()));
});

async function started(options: StartClusterOptions): Promise<LocalCluster> {
  const cluster = await startCluster(options);
  clusters.push(cluster);
  return cluster;
}

/** The brokers a broker's Metadata response lists, asked of that broker alone. */
async function brokersSeenBy(address: string): Promise<BrokerNode[]> {
  const client = await KafkaClient.connect({ brokers: [address] });
  try {
    return (await client.metadata([])).brokers;
  } finally {
    client.close();
  }
}

describe('startCluster', () => {
  it('fails with ETCD_NOT_INSTALLED, saying how to install etcd, when etcd is not on PATH', async () => {
    const savedPath = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const error = await startCluster({ brokers: 1 }).catch((e: unknown) => e);
      expect(isSluiceError(error, 'ETCD_NOT_INSTALLED')).toBe(true);
      expect((error as Error).message).toContain('apt-get install etcd-server');
    } finally {
      process.env['PATH'] = savedPath;
    }
  });

  it('refuses configs it sets itself and broker counts without a loopback address', async () => {
    const refused: StartClusterOptions[] = [{ brokers: 1, config: { 'broker.id': 5 } }, { brokers: 1, config: { listeners: 'PLAINTEXT://:9092' } }, { brokers: 0 }, { brokers: 255 }];
    for (const options of refused) {
      const error = await startCluster(options).catch((e: unknown) => e);
      expect(isSluiceError(error, 'INVALID_CONFIG'), JSON.stringify(options)).toBe(true);
    }
  });

  it('fails with BROKER_START_FAILED carrying the end of its stderr when a broker exits while starting', async () => {
    const dataDir = tempDir();
    const error = await startCluster({ brokers: 2, dataDir, config: { 'num.partitions': 'lots' } }).catch((e: unknown) => e);
    expect(isSluiceError(error, 'BROKER_START_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/broker \d \(127\.0\.0\.\d:\d+, .*\) exited while starting \(code 1/);
    expect((error as Error).message).toContain('Invalid value lots for configuration num.partitions');
  });

  it('keeps a given data dir: each broker-i/ with its data and broker-i.log', async () => {
    const dataDir = path.join(tempDir(), 'cluster');
    const cluster = await started({ brokers: 1, dataDir });
    expect(cluster.dataDir).toBe(dataDir);
    await cluster.stop();
    expect(fs.existsSync(path.join(dataDir, 'broker-1', 'meta.properties'))).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, 'broker-1.log'), 'utf8')).toContain('Broker stopped');
  });
});

describe('startCluster({ brokers: 3 })', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await started({ brokers: 3 });
  });

  it('starts three broker processes, broker i on 127.0.0.(i+1) with a port of its own, listed in bootstrapServers', async () => {
    expect(cluster.brokers.map((b) => [b.id, b.host])).toEqual([
      [1, '127.0.0.2'],
      [2, '127.0.0.3'],
      [3, '127.0.0.4'],
    ]);
    expect(cluster.bootstrapServers).toBe(cluster.brokers.map((b) => `${b.host}:${b.port}`).join(','));
    const pids = cluster.brokers.map((b) => b.pid!);
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(processAlive(pid)).toBe(true);
    expect(cluster.etcd.endpoints).toHaveLength(1);
    for (const broker of cluster.brokers) {
      // Each answers as broker.id i at its own address, which is the only one it binds.
      expect(await brokersSeenBy(`${broker.host}:${broker.port}`)).toContainEqual({ nodeId: broker.id, host: broker.host, port: broker.port, rack: null });
      expect(await connectResult('127.0.0.1', broker.port)).toBe('ECONNREFUSED');
    }
  });

  it('forms one cluster: every broker lists all three, and a topic of replication factor 3 gets an ISR of 3', async () => {
    const expected = cluster.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: null }));
    for (const broker of cluster.brokers) {
      await waitUntil(async () => (await brokersSeenBy(`${broker.host}:${broker.port}`)).length === 3, `broker ${broker.id} to list 3 brokers`);
      expect((await brokersSeenBy(`${broker.host}:${broker.port}`)).sort((a, b) => a.nodeId - b.nodeId)).toEqual(expected);
    }
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    try {
      await client.createTopics([{ name: 'replicated', partitions: 3, replicationFactor: 3 }]);
      await waitUntil(async () => {
        const topic = (await client.metadata(['replicated'])).topics[0];
        return topic !== undefined && topic.partitions.every((p) => p.leader > 0 && p.replicas.length === 3 && p.isr.length === 3);
      }, 'every partition of replicated to have a leader and an ISR of 3');
    } finally {
      client.close();
    }
  });

  it('DescribeCluster (@platformatic/kafka) and sluice broker-api-versions see all three brokers and the controller', async () => {
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    const metadata = await client.metadata([]).finally(() => client.close());
    const brokers = cluster.brokers.map((b) => ({ brokerId: b.id, host: b.host, port: b.port, rack: null }));
    for (const broker of cluster.brokers) {
      const connection = new Connection('start-cluster-test');
      try {
        await connection.connect(broker.host, broker.port);
        const described = await describeClusterV1.api.async(connection, false, 1);
        expect(described).toMatchObject({ errorCode: 0, clusterId: metadata.clusterId, controllerId: metadata.controllerId });
        expect(described.brokers.sort((a, b) => a.brokerId - b.brokerId)).toEqual(brokers);
      } finally {
        await connection.close();
      }
    }
    const result = await runCli(['broker-api-versions', '--bootstrap-server', cluster.bootstrapServers]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const nodeLines = result.stdout.split('\n').filter((line) => line.endsWith(' -> ('));
    expect(nodeLines).toEqual(cluster.brokers.map((b) => `${b.host}:${b.port} (id: ${b.id} rack: null) -> (`));
  });

  it('killBroker ends the process; restartBroker brings it back with the same id, address and port', async () => {
    const broker = cluster.broker(2);
    const { host, port } = broker;
    const oldPid = broker.pid!;
    await cluster.killBroker(2);
    expect(processAlive(oldPid)).toBe(false);
    expect(broker.pid).toBeUndefined();
    expect(broker.running).toBe(false);
    expect(await connectResult(host, port)).toBe('ECONNREFUSED');

    await cluster.restartBroker(2);
    expect(broker.pid).toBeDefined();
    expect(broker.pid).not.toBe(oldPid);
    expect([broker.host, broker.port]).toEqual([host, port]);
    expect(cluster.bootstrapServers.split(',')[1]).toBe(`${host}:${port}`);
    expect(await brokersSeenBy(`${host}:${port}`)).toContainEqual({ nodeId: 2, host, port, rack: null });
    await expect(cluster.restartBroker(2)).rejects.toThrow('broker 2 is running');
  });

  it('stopBroker stops a broker cleanly (exit 0 on SIGTERM); it restarts on its port too', async () => {
    const broker = cluster.broker(3);
    const oldPid = broker.pid!;
    await cluster.stopBroker(3);
    expect(processAlive(oldPid)).toBe(false);
    expect(fs.readFileSync(broker.logFile, 'utf8')).toContain('Broker stopped');
    await cluster.restartBroker(3);
    expect(await brokersSeenBy(`${broker.host}:${broker.port}`)).toContainEqual({ nodeId: 3, host: broker.host, port: broker.port, rack: null });
  });

  it('stop() leaves no broker or etcd process and removes the temp dir', async () => {
    const pids = cluster.brokers.map((b) => b.pid!);
    const etcdUrl = new URL(cluster.etcd.endpoints[0]!);
    const dataDir = cluster.dataDir;
    expect(fs.existsSync(path.join(dataDir, 'etcd'))).toBe(true);
    await cluster.stop();
    for (const pid of pids) expect(processAlive(pid), `broker pid ${pid}`).toBe(false);
    expect(cluster.brokers.every((b) => b.pid === undefined)).toBe(true);
    expect(await connectResult(etcdUrl.hostname, Number(etcdUrl.port))).toBe('ECONNREFUSED');
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('two brokers stopped together', () => {
  it('both stop cleanly when each leads partitions only the other could take over', async () => {
    // The controller is killed first, so that no controller acts on either shutdown request before
    // both are in: then neither broker's leaderships can move (the only other in-sync replica is
    // stopping too), and each must stop leading them rather than wait for the other. Before that
    // rule, each waited out controlled.shutdown.timeout.ms (30 s) and was SIGKILLed after
    // startCluster's 15 s, which stopBroker reports as BROKER_STOP_FAILED.
    const cluster = await started({ brokers: 3, config: { 'broker.session.timeout.ms': 3000, 'auto.leader.rebalance.enable': 'false' } });
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    let controllerId: number;
    try {
      await client.createTopics([{ name: 'pair', partitions: 3, replicationFactor: 3 }]);
      await waitUntil(async () => {
        const topic = (await client.metadata(['pair'])).topics[0];
        return topic !== undefined && topic.partitions.every((p) => p.leader > 0 && p.isr.length === 3);
      }, 'every partition of pair to have a leader and an ISR of 3');
      controllerId = (await client.metadata([])).controllerId;
    } finally {
      client.close();
    }
    await cluster.killBroker(controllerId);
    const others = cluster.brokers.map((b) => b.id).filter((id) => id !== controllerId);
    await Promise.all(others.map((id) => cluster.stopBroker(id)));
    for (const id of others) {
      const log = fs.readFileSync(cluster.broker(id).logFile, 'utf8');
      expect(log).toContain('Broker stopped');
      expect(log).not.toContain('controlled shutdown timed out');
    }
  });
});
