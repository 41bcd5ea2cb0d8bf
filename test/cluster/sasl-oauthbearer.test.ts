// A 2-broker cluster whose listener checks OAUTHBEARER tokens with Kafka's secured validator (a
// JWKS over HTTP), so unsecured tokens are refused: the brokers log in to each other with tokens
// their login handler (Kafka's OAuthBearerLoginCallbackHandler) gets from the identity provider's
// token endpoint with the client credentials of their JAAS line (KIP-768). Followers replicate
// (the ISR fills) and acks=all writes of a kafkajs client are acknowledged and read back. This
// process serves the JWKS and the token endpoint.
import crypto from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { produceAllAndReadBack } from '../fixtures/kafkajs.js';
import { waitUntil } from '../helpers.js';

const LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';
const VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
const LOGIN_HANDLER = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';
const BROKER_CREDENTIALS = `Basic ${Buffer.from('broker:broker-secret').toString('base64')}`;

const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
function signed(sub: string): string {
  const input = `${base64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${base64url({ sub, aud: 'kafka', iat: nowSeconds(), exp: nowSeconds() + 600 })}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

let provider: http.Server;
/** How many tokens the endpoint gave the brokers' client. */
let brokerTokens = 0;
let cluster: LocalCluster;
let kafka: Kafka;

beforeAll(async () => {
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };
  provider = http.createServer((request, response) => {
    if (request.url !== '/token') return response.end(JSON.stringify({ keys: [jwk] }));
    request.resume().on('end', () => {
      if (request.headers.authorization !== BROKER_CREDENTIALS) return response.writeHead(401).end('{"error":"invalid_client"}');
      brokerTokens++;
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: signed('broker'), token_type: 'Bearer' }));
    });
  });
  provider.listen(0, '127.0.0.1');
  await once(provider, 'listening');
  const base = `http://127.0.0.1:${(provider.address() as { port: number }).port}`;
  cluster = await startCluster({
    brokers: 2,
    config: {
      // startCluster names each broker's listener PLAINTEXT; the map makes it a SASL_PLAINTEXT one.
      'listener.security.protocol.map': 'PLAINTEXT:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'sasl.mechanism.inter.broker.protocol': 'OAUTHBEARER',
      'listener.name.plaintext.oauthbearer.sasl.server.callback.handler.class': VALIDATOR,
      'listener.name.plaintext.oauthbearer.sasl.login.callback.handler.class': LOGIN_HANDLER,
      'listener.name.plaintext.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required clientId="broker" clientSecret="broker-secret";`,
      'sasl.oauthbearer.jwks.endpoint.url': `${base}/jwks`,
      'sasl.oauthbearer.token.endpoint.url': `${base}/token`,
      'sasl.oauthbearer.expected.audience': 'kafka',
      'min.insync.replicas': 2,
      'offsets.topic.replication.factor': 2,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  kafka = new Kafka({
    clientId: 'oauth-cluster',
    brokers: cluster.bootstrapServers.split(','),
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: signed('alice') }) },
    logLevel: logLevel.NOTHING,
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  provider?.close();
});

describe('a cluster whose brokers log in to each other with tokens from an identity provider', () => {
  it('replicates (the ISR fills) and acknowledges acks=all writes', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'oauth-replicated', numPartitions: 2, replicationFactor: 2 }], waitForLeaders: true });
    // The followers fetch only once logged in to the leaders: a full ISR says they do.
    await waitUntil(async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: ['oauth-replicated'] });
      return topics[0]!.partitions.every((partition) => partition.isr.length === 2);
    }, 'every ISR to hold 2 replicas', 60_000);
    await admin.disconnect();
    expect(brokerTokens).toBeGreaterThan(0);

    const { sent, read } = await produceAllAndReadBack(kafka, 'oauth-replicated', 20, 'oauth-cluster-group');
    expect(read.sort()).toEqual([...sent].sort());
  });
});
