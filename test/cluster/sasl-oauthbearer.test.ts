// A 2-broker cluster whose listener checks OAUTHBEARER tokens with Kafka's secured validator (a
// JWKS over HTTP), so unsecured tokens are refused: the brokers log in to each other with tokens
// their login handler (Kafka's OAuthBearerLoginCallbackHandler) gets from the identity provider's
// token endpoint with the client credentials of their JAAS line (KIP-768). Followers replicate
// (the ISR fills) and acks=all writes of a kafkajs client are acknowledged and read back. This
// process serves the JWKS and the token endpoint.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { startIdentityProvider, type IdentityProvider } from '../fixtures/identity-provider.js';
import { createReplicatedTopic, produceAllAndReadBack } from '../fixtures/kafkajs.js';

const LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';
const VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
const LOGIN_HANDLER = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = (sub: string) => ({ sub, aud: 'kafka', iat: nowSeconds(), exp: nowSeconds() + 600 });

let provider: IdentityProvider;
let cluster: LocalCluster;
let kafka: Kafka;

beforeAll(async () => {
  provider = await startIdentityProvider({ clients: { broker: 'broker-secret' }, claims });
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
      'sasl.oauthbearer.jwks.endpoint.url': provider.jwksUrl,
      'sasl.oauthbearer.token.endpoint.url': provider.tokenUrl,
      'sasl.oauthbearer.expected.audience': 'kafka',
      'min.insync.replicas': 2,
      'offsets.topic.replication.factor': 2,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  kafka = new Kafka({
    clientId: 'oauth-cluster',
    brokers: cluster.bootstrapServers.split(','),
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: provider.sign(claims('alice')) }) },
    logLevel: logLevel.NOTHING,
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  provider?.close();
});

describe('a cluster whose brokers log in to each other with tokens from an identity provider', () => {
  it('replicates (the ISR fills) and acknowledges acks=all writes', async () => {
    await createReplicatedTopic(kafka, 'oauth-replicated', 2, 2);
    expect(provider.tokensGranted).toBeGreaterThan(0);

    const { sent, read } = await produceAllAndReadBack(kafka, 'oauth-replicated', 20, 'oauth-cluster-group');
    expect(read.sort()).toEqual([...sent].sort());
  });
});
