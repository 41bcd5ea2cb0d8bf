// A 3-broker cluster whose one listener is SASL_PLAINTEXT: the brokers log in to each other with
// sasl.mechanism.inter.broker.protocol=PLAIN and the JAAS line's username and password, so
// followers replicate (the ISR fills) and acks=all writes are acknowledged; kafkajs, kcat and the
// sluice CLI (--command-config with security.protocol, sasl.mechanism and sasl.jaas.config) log
// in as a client user. A delegation token made through one broker logs in (SCRAM, tokenauth=true)
// on every broker, and once expired through another, on none.
import fs from 'node:fs';
import path from 'node:path';

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import type { SaslCredentials } from '../../src/client/sasl.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { kcat } from '../fixtures/kcat.js';
import { createReplicatedTopic, produceAllAndReadBack } from '../fixtures/kafkajs.js';
import { tempDir, waitUntil } from '../helpers.js';
import { runCli } from '../cli/run-cli.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";';

let cluster: LocalCluster;
let kafka: Kafka;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: {
      // startCluster names each broker's listener PLAINTEXT; the map makes it a SASL_PLAINTEXT one.
      'listener.security.protocol.map': 'PLAINTEXT:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.plaintext.plain.sasl.jaas.config': JAAS,
      'min.insync.replicas': 2,
      'group.initial.rebalance.delay.ms': 0,
      'delegation.token.secret.key': 'cluster-token-key',
    },
  });
  kafka = new Kafka({ clientId: 'sasl-cluster', brokers: cluster.bootstrapServers.split(','), sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' }, logLevel: logLevel.NOTHING });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a cluster on a SASL_PLAINTEXT listener', () => {
  it('replicates between brokers that log in to each other, and serves clients that log in', async () => {
    await createReplicatedTopic(kafka, 'sasl-replicated', 2, 3);

    const { sent, read } = await produceAllAndReadBack(kafka, 'sasl-replicated', 50, 'sasl-cluster-group');
    expect(read.sort()).toEqual([...sent].sort());
  });

  it('kcat logs in and sees the three brokers', async () => {
    const listed = await kcat(['-b', cluster.bootstrapServers, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret', '-L']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/3 brokers:/);
  });

  it('the sluice CLI logs in with --command-config, and refuses a wrong password with one line', async () => {
    const dir = tempDir();
    const config = (password: string) => {
      const file = path.join(dir, `${password}.properties`);
      fs.writeFileSync(file, [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${password}";`,
      ].join('\n'));
      return file;
    };
    const described = await runCli(['topics', '--bootstrap-server', cluster.bootstrapServers, '--describe', '--topic', 'sasl-replicated', '--command-config', config('alice-secret')]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Partition: 0\tLeader: \d\tReplicas: [123],[123],[123]\tIsr: [123],[123],[123]/);
    const refused = await runCli(['topics', '--bootstrap-server', cluster.bootstrapServers, '--list', '--command-config', config('wrong')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: Cannot log in to the broker at .*Invalid username or password.*\n$/);
    // Without a login, the CLI's first request closes the connection: a clear failure, not a hang.
    const anonymous = await runCli(['topics', '--bootstrap-server', cluster.bootstrapServers, '--list']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/ILLEGAL_SASL_STATE: its listener asks for a SASL login first/);
  });

  it('a delegation token made through one broker logs in on every broker, until it is expired through another', async () => {
    const [first, second] = cluster.brokers;
    const alice: SaslCredentials = { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' };
    const through = async <T>(broker: { host: string; port: number }, run: (client: KafkaClient) => Promise<T>): Promise<T> => {
      const client = await KafkaClient.connect({ brokers: [`${broker.host}:${broker.port}`], sasl: alice });
      try {
        return await run(client);
      } finally {
        client.close();
      }
    };
    const token = await through(first!, (client) => client.createDelegationToken());
    expect(token.owner).toBe('User:alice');
    const login: SaslCredentials = { mechanism: 'SCRAM-SHA-256', username: token.tokenId, password: token.hmac.toString('base64'), tokenAuth: true };
    const logsIn = async ({ host, port }: { host: string; port: number }) => {
      try {
        (await BrokerConnection.connect({ host, port, sasl: login })).close();
        return true;
      } catch {
        return false;
      }
    };
    // Each broker has it once its watch of etcd has delivered it.
    for (const broker of cluster.brokers) await waitUntil(() => logsIn(broker), `the token logs in on broker ${broker.id}`);
    expect((await through(second!, (client) => client.describeDelegationTokens())).map(({ tokenId }) => tokenId)).toContain(token.tokenId);
    await through(second!, (client) => client.expireDelegationToken(token.hmac));
    for (const broker of cluster.brokers) await waitUntil(async () => !(await logsIn(broker)), `the expired token refused on broker ${broker.id}`);
  });
});
