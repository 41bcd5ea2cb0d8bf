// Kafka's SslEngineValidator for the listener brokers use with each other (tls-listener.ts): an
// in-memory handshake between a server and a client built from a listener's stores. At a cluster
// broker's start (a real etcd) its stores must handshake with themselves; a renewal's new stores
// must handshake with the current ones both ways, so that moving a cluster to another authority
// goes through trusting both first. Certificates from test/fixtures/tls-certs.ts (openssl).
import { beforeAll, describe, expect, it } from 'vitest';

import { startBroker } from '../../src/broker/broker.js';
import { parsePrincipalRules } from '../../src/broker/ssl-principal.js';
import { checkHandshake, checkRenewalHandshakes, type ClientAuth, type TlsListenerSettings } from '../../src/broker/tls-listener.js';
import { tlsOptions } from '../../src/client/tls-config.js';
import { etcdForTests, freshRoot } from '../cluster/helpers.js';
import { makeTlsFiles, STORE_PASSWORD, type TlsFiles } from '../fixtures/tls-certs.js';
import { tempDir } from '../helpers.js';

let files: TlsFiles;

beforeAll(() => {
  files = makeTlsFiles();
});

/** A listener presenting `keyStore` (PKCS12) and trusting the authorities in `trusted` (PEM). */
function listener(keyStore: string, trusted: string, clientAuth: ClientAuth = 'required'): TlsListenerSettings {
  return {
    options: tlsOptions({
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': keyStore,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': trusted,
    }),
    clientAuth,
    principalRules: parsePrincipalRules('DEFAULT', 'ssl.principal.mapping.rules'),
    allowDnChanges: false,
    allowSanChanges: false,
  };
}

describe('the handshake of a listener with itself (a cluster broker\'s start)', () => {
  it('passes when the trust store verifies the key store\'s certificate', async () => {
    await checkHandshake(listener(files.clusterP12, files.caPem), listener(files.clusterP12, files.caPem));
  });

  it('fails when it does not: the client refuses the server\'s certificate', async () => {
    const mismatched = listener(files.clusterP12, files.ca2Pem);
    await expect(checkHandshake(mismatched, mismatched)).rejects.toThrow(/the client failed: .*(certificate|self.signed|issuer)/i);
  });

  it('a cluster broker whose trust store does not verify its own certificate does not start, and says why', async () => {
    const etcd = await etcdForTests();
    const start = startBroker({
      port: 0,
      host: '127.0.0.1',
      dataDir: tempDir(),
      config: {
        'node.id': 1,
        'sluice.etcd.endpoints': etcd.endpoints.join(','),
        'sluice.etcd.root': freshRoot(),
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': files.clusterP12,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': files.ca2Pem,
      },
    });
    await expect(start).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/^A client SSLEngine created with the provided settings can't connect to a server SSLEngine created with those settings: the client failed: /),
    });
  }, 60_000);

  it('with ssl.client.auth=required, fails when the server does not trust the client\'s certificate', async () => {
    // The client trusts the server's authority; the server trusts only the second, not the client's.
    await expect(checkHandshake(listener(files.clusterP12, files.ca2Pem), listener(files.clusterP12, files.caPem))).rejects.toThrow(/failed|refused/);
    // Without client auth the client's certificate is not asked for.
    await checkHandshake(listener(files.clusterP12, files.ca2Pem, 'none'), listener(files.clusterP12, files.caPem, 'none'));
  });
});

describe('a renewal\'s handshakes with the current stores, both ways', () => {
  it('takes the steps of a move to another authority: trust both, then the new key store, then trust the new one alone', async () => {
    const start = listener(files.clusterP12, files.caPem);
    const trustBoth = listener(files.clusterP12, files.caBothPem);
    const newKey = listener(files.clusterCa2P12, files.caBothPem);
    const newTrust = listener(files.clusterCa2P12, files.ca2Pem);
    await checkRenewalHandshakes(start, trustBoth);
    await checkRenewalHandshakes(trustBoth, newKey);
    await checkRenewalHandshakes(newKey, newTrust);
  });

  it('refuses a leap that would cut a renewed broker off from the others', async () => {
    // A new key store from an authority the current stores do not trust.
    await expect(checkRenewalHandshakes(listener(files.clusterP12, files.caPem), listener(files.clusterCa2P12, files.caBothPem))).rejects.toThrow(
      /^Validation of dynamic config update of SSLFactory failed: a broker with the new stores and one with the current ones cannot connect \(the current stores serving, the new ones connecting\): the server refused the client.s certificate/,
    );
    // The key store and the trust store moved at once.
    await expect(checkRenewalHandshakes(listener(files.clusterP12, files.caBothPem), listener(files.clusterCa2P12, files.ca2Pem))).rejects.toThrow(/cannot connect/);
  });
});
