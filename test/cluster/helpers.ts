// Shared by the cluster tests: a real etcd per test file, clients closed at the end, waiting for
// conditions, and child broker members.
import { afterAll } from 'vitest';

import { EtcdClient, type EtcdClientOptions } from '../../src/cluster/etcd-client.js';
import { startEtcd, type EtcdCluster, type EtcdProcessOptions } from '../../src/cluster/etcd-process.js';
import { runFixture, type Child } from '../fixtures/child.js';

const clusters: EtcdCluster[] = [];
const clients: EtcdClient[] = [];
const children: Child[] = [];

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(clusters.map((cluster) => cluster.stop()));
});

/** A real etcd, stopped when the test file ends. */
export async function etcdForTests(options: EtcdProcessOptions = {}): Promise<EtcdCluster> {
  const cluster = await startEtcd(options);
  clusters.push(cluster);
  return cluster;
}

/** A client, closed when the test file ends (closing twice is harmless). */
export function clientFor(cluster: EtcdCluster, options: Partial<EtcdClientOptions> = {}): EtcdClient {
  const client = new EtcdClient({ endpoints: cluster.endpoints, ...options });
  clients.push(client);
  return client;
}

let rootCount = 0;
/** A fresh key root per test, so tests in a file share one etcd without seeing each other. */
export function freshRoot(): string {
  return `/test-${process.pid}-${++rootCount}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { waitUntil } from '../helpers.js';

/** A broker member in its own process (test/fixtures/cluster-member.ts), SIGKILLed at the end. */
export function startMember(cluster: EtcdCluster, root: string, brokerId: number, sessionTimeoutMs: number): Child {
  const child = runFixture('cluster-member.ts', [cluster.endpoints.join(','), root, String(brokerId), String(sessionTimeoutMs)], { stdin: true });
  children.push(child);
  return child;
}
