// replica.socket.receive.buffer.bytes: the SO_RCVBUF of a follower's fetch connection to its
// leader, read back from outside with ss(8) (Linux doubles a value set). Each broker of the cluster
// connects from its own loopback address, which tells the follower's connection apart.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { reportBrokerConfig } from '../../src/broker/config.js';
import { KafkaClient } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { brokerHost, startInProcessCluster, type InProcessCluster } from '../fixtures/cluster-in-process.js';
import { waitUntil } from './helpers.js';

const RECEIVE_BUFFER_BYTES = 70_000;

let cluster: InProcessCluster;

beforeAll(async () => {
  cluster = await startInProcessCluster({ brokers: 2, config: { 'replica.socket.receive.buffer.bytes': RECEIVE_BUFFER_BYTES } });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** The receive buffer bytes of each connection from `fromHost` to `port`. */
async function receiveBuffers(fromHost: string, port: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ss', ['-tmnH', 'state', 'established', `( src ${fromHost} and dport = :${port} )`]);
  return [...stdout.matchAll(/skmem:\(r\d+,rb(\d+),/g)].map((match) => Number(match[1]));
}

describe('replica.socket.receive.buffer.bytes', () => {
  it("sets the follower's fetch connection's SO_RCVBUF", async () => {
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers });
    try {
      const connection = await client.anyConnection();
      const response = await connection.request(ApiKey.CreateTopics, {
        topics: [{ name: 'replicated', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      expect(response.topics[0].errorCode).toBe(0);
    } finally {
      client.close();
    }
    const leaderPort = cluster.brokers.get(1)!.port;
    let buffers: number[] = [];
    await waitUntil(async () => (buffers = await receiveBuffers(brokerHost(2), leaderPort)).includes(2 * RECEIVE_BUFFER_BYTES), 'the follower fetching with its buffer set').catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(buffers)}`);
    });
  });

  it('is reported as taking effect', () => {
    expect(reportBrokerConfig({ 'replica.socket.receive.buffer.bytes': '65536', 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' }).unsupported).toEqual([]);
  });
});
