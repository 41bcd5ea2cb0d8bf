// An SSL or SASL_SSL listener: the server's TLS settings (Kafka's ssl.* names, a listener's own
// listener.name.NAME.ssl.* first), the TLS session over each accepted connection, and the
// principal a client certificate stands for.
//
// Encrypted bytes cannot be sendfile()d: a TLS listener's fetches copy record bytes through JS
// (broker.ts turns zero copy off), as Kafka's do over SSL.
import crypto from 'node:crypto';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

import { SluiceError } from '../errors.js';
import { TLS_VALIDATION_HANDSHAKE_TIMEOUT_MS } from '../limits.js';
import { SSL_STORE_CONFIG_NAMES, SSL_STORE_NAMES, tlsOptions, type TlsOptions } from '../client/tls-config.js';
import { listenerSettingName, type Listener } from './listeners.js';
import { parsePrincipalRules, type PrincipalRule, principalFromDn } from './ssl-principal.js';

export type ClientAuth = 'none' | 'requested' | 'required';

export interface TlsListenerSettings {
  /**
   * The listener's key, certificate chain and trusted authorities; a cluster's brokers use the same
   * to connect to each other (its key as their client certificate).
   */
  options: TlsOptions;
  /** ssl.client.auth: whether a client presents a certificate, and must. */
  clientAuth: ClientAuth;
  /** ssl.principal.mapping.rules: a client certificate's distinguished name to a principal's name. */
  principalRules: PrincipalRule[];
  /** ssl.allow.dn.changes: a renewed key store's certificate may name another subject. */
  allowDnChanges: boolean;
  /** ssl.allow.san.changes: a renewed key store's certificate may drop alternative names. */
  allowSanChanges: boolean;
}

/** A setting as the listener reads it (listeners.ts): the name in effect, and its value. */
function listenerValue(all: Readonly<Record<string, string>>, listener: Listener, name: string): { name: string; value: string | undefined } {
  const effective = listenerSettingName(all, listener, name);
  return { name: effective, value: all[effective] };
}

/** The ssl.* names a TLS listener reads; each may also be given as listener.name.NAME.ssl.*. */
export const TLS_LISTENER_CONFIG_NAMES: readonly string[] = ['ssl.client.auth', 'ssl.principal.mapping.rules', 'ssl.allow.dn.changes', 'ssl.allow.san.changes'];

/**
 * A TLS listener's settings. It needs a key store (a listener without a certificate cannot
 * serve TLS, as in Kafka). On SASL_SSL the SASL login names the principal, and ssl.client.auth
 * applies only as the listener's own setting (listener.name.NAME.ssl.client.auth), as in Kafka.
 */
export function tlsListenerSettings(all: Readonly<Record<string, string>>, listener: Listener, protocol: 'SSL' | 'SASL_SSL'): TlsListenerSettings {
  const given: Record<string, string | undefined> = {};
  const names = new Map<string, string>();
  for (const name of SSL_STORE_CONFIG_NAMES) {
    const { name: source, value } = listenerValue(all, listener, name);
    given[name] = value;
    names.set(name, source);
  }
  const options = tlsOptions(given, (name) => names.get(name) ?? name);
  if (options.context.pfx === undefined && options.context.key === undefined) {
    throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} is ${protocol} and has no key store: set ssl.keystore.location (PKCS12 or PEM), or ssl.keystore.type=PEM with ssl.keystore.key and ssl.keystore.certificate.chain`);
  }
  const auth = protocol === 'SSL' ? listenerValue(all, listener, 'ssl.client.auth') : { name: `listener.name.${listener.name.toLowerCase()}.ssl.client.auth`, value: all[`listener.name.${listener.name.toLowerCase()}.ssl.client.auth`] };
  const clientAuth = (auth.value ?? 'none').trim().toLowerCase();
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required') {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${auth.value} for configuration ${auth.name}: must be required, requested or none`);
  }
  const rules = listenerValue(all, listener, 'ssl.principal.mapping.rules');
  const flag = (name: string): boolean => {
    const { name: source, value } = listenerValue(all, listener, name);
    const text = (value ?? 'false').trim().toLowerCase();
    if (text !== 'true' && text !== 'false') throw new SluiceError('INVALID_CONFIG', `Invalid value ${value} for configuration ${source}: Expected value to be either true or false`);
    return text === 'true';
  };
  return {
    options,
    clientAuth,
    principalRules: parsePrincipalRules(rules.value ?? 'DEFAULT', rules.name),
    allowDnChanges: flag('ssl.allow.dn.changes'),
    allowSanChanges: flag('ssl.allow.san.changes'),
  };
}

/**
 * Checks a renewed key or trust store against the one it replaces, as Kafka's SslFactory does
 * before it takes a dynamic store: a listener without a trust store cannot gain one, and the new
 * certificate must name the same subject (unless ssl.allow.dn.changes) and every alternative name
 * the old one did (unless ssl.allow.san.changes). A store swapped by mistake for another broker's
 * or another service's would otherwise go on serving, and clients checking the host name would
 * fail only on their next connection. Throws an Error with Kafka's message.
 */
export function checkStoreRenewal(current: TlsListenerSettings, next: TlsListenerSettings): void {
  if (current.options.context.ca === undefined && next.options.context.ca !== undefined) {
    throw new Error('Cannot add SSL truststore to an existing listener for which no truststore was configured.');
  }
  if (next.allowDnChanges && next.allowSanChanges) return;
  const before = presentedCertificate(current.options);
  const after = presentedCertificate(next.options);
  if (!next.allowDnChanges && distinguishedName(before).toLowerCase() !== distinguishedName(after).toLowerCase()) {
    throw new Error(`Keystore DistinguishedName does not match: existing={DN=${distinguishedName(before)}}, new={DN=${distinguishedName(after)}}`);
  }
  const beforeNames = alternativeNames(before);
  const afterNames = alternativeNames(after);
  if (!next.allowSanChanges && beforeNames.some((name) => !afterNames.includes(name))) {
    throw new Error(`Keystore SubjectAltNames do not match: existing={SAN=[${beforeNames.join(', ')}]}, new={SAN=[${afterNames.join(', ')}]}`);
  }
}

/**
 * Kafka's SslEngineValidator for a listener brokers use with each other: a TLS handshake in
 * memory between a server with `server`'s stores and client auth and a client with `client`'s
 * (its key store as its certificate, host names not checked, as Kafka's validator checks none).
 * Rejects with why the handshake failed: a broker whose own certificate its trust store does not
 * verify could not replicate from its peers, nor they from it.
 */
export async function checkHandshake(server: TlsListenerSettings, client: TlsListenerSettings): Promise<void> {
  const [serverSide, clientSide] = duplexPair();
  const acceptor = new TlsAcceptor(server);
  const serving = acceptor.accept(serverSide as unknown as net.Socket);
  const connecting = tls.connect({ socket: clientSide, ...client.options.context, checkServerIdentity: () => undefined });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no handshake within ${TLS_VALIDATION_HANDSHAKE_TIMEOUT_MS} ms`)), TLS_VALIDATION_HANDSHAKE_TIMEOUT_MS);
      const fail = (side: string) => (error: Error) => {
        clearTimeout(timer);
        reject(new Error(`the ${side} failed: ${error.message}`));
      };
      serving.on('error', fail('server'));
      connecting.on('error', fail('client'));
      let done = 0;
      const finished = () => {
        if (++done < 2) return;
        clearTimeout(timer);
        try {
          // The listener's own check of a client certificate (TLSSockets over accepted sockets leave it to JS).
          const principal = acceptor.principal(serving);
          if (principal === null && server.clientAuth === 'required') throw new Error('the client presented no certificate, and ssl.client.auth is required');
          resolve();
        } catch (error) {
          reject(new Error(`the server refused the client's certificate: ${(error as Error).message}`));
        }
      };
      serving.once('secure', finished);
      connecting.once('secureConnect', finished);
    });
  } finally {
    connecting.destroy();
    serving.destroy();
  }
}

/**
 * Kafka's checks of a renewal on a listener brokers use with each other (SslEngineValidator): the
 * new stores handshake with the old both ways, so that brokers still on the old stores and those
 * already on the new keep replicating during a rolling renewal (trust the new authority everywhere
 * before any broker presents a certificate it signed). Throws Kafka's message.
 */
export async function checkRenewalHandshakes(current: TlsListenerSettings, next: TlsListenerSettings): Promise<void> {
  const refused = (direction: string) => (error: Error) => {
    throw new Error(`Validation of dynamic config update of SSLFactory failed: a broker with the new stores and one with the current ones cannot connect (${direction}): ${error.message}`);
  };
  await checkHandshake(current, next).catch(refused('the current stores serving, the new ones connecting'));
  await checkHandshake(next, current).catch(refused('the new stores serving, the current ones connecting'));
}

/** Two connected in-memory streams: what one writes, the other reads (Node 20 has no stream.duplexPair). */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const side = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
    });
  sides.push(side(() => sides[1]!), side(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}

/**
 * The certificate a key store presents, as OpenSSL loaded it (a PKCS12 store's chain holds the
 * authorities too; the secure context knows which certificate goes with the key).
 */
function presentedCertificate(options: TlsOptions): crypto.X509Certificate {
  const context = tls.createSecureContext(options.context) as tls.SecureContext & { context?: { getCertificate?: () => Buffer | null } };
  const der = context.context?.getCertificate?.();
  if (der === null || der === undefined) throw new Error('the key store\'s certificate cannot be read to compare it with the one it replaces (set ssl.allow.dn.changes and ssl.allow.san.changes to true to skip the comparison)');
  return new crypto.X509Certificate(der);
}

/** A certificate's subject alternative names as OpenSSL writes them: `DNS:localhost`, `IP Address:127.0.0.1`. */
function alternativeNames(certificate: crypto.X509Certificate): string[] {
  return (certificate.subjectAltName ?? '').split(', ').filter((name) => name !== '');
}

/**
 * Whether `name` is a store's (SSL_STORE_NAMES), plain or with a listener's prefix: the ssl.*
 * configs that change on a running broker, per broker only (KIP-226), to renew a certificate.
 */
export function isTlsReconfigurable(name: string): boolean {
  return SSL_STORE_NAMES.includes(name.replace(/^listener\.name\.[^.]+\./, ''));
}

/** One secure context per listener, shared by its connections (OpenSSL's SSL_CTX). */
export class TlsAcceptor {
  private context: tls.SecureContext;

  constructor(public settings: TlsListenerSettings) {
    this.context = tls.createSecureContext(settings.options.context);
  }

  /**
   * New stores (a renewed certificate, KIP-226): connections accepted from now on are served with
   * them; those already open keep the session they have.
   */
  reconfigure(settings: TlsListenerSettings): void {
    this.context = tls.createSecureContext(settings.options.context);
    this.settings = settings;
  }

  /** A TLS session over an accepted TCP connection; its handshake runs as it is read. */
  accept(socket: net.Socket): tls.TLSSocket {
    const { clientAuth } = this.settings;
    return new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: this.context,
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'required',
    });
  }

  /**
   * The principal's name of a connection whose handshake is done: its client certificate's
   * distinguished name through ssl.principal.mapping.rules, or null without a certificate
   * (ANONYMOUS, as Kafka's). A presented certificate that does not verify is an error: with
   * ssl.client.auth=requested Kafka's handshake fails on it too, rather than serve it anonymously.
   */
  principal(socket: tls.TLSSocket): string | null {
    const certificate = socket.getPeerCertificate();
    if (certificate === null || certificate.raw === undefined) return null;
    const verifyError = chainError(socket);
    if (verifyError !== null) throw new SluiceError('SSL_AUTHENTICATION_FAILED', `The client's certificate was not accepted: ${verifyError}`);
    return principalFromDn(distinguishedName(new crypto.X509Certificate(certificate.raw)), this.settings.principalRules);
  }
}

/**
 * Why OpenSSL did not verify the peer's certificate chain against the trusted authorities, or null
 * when it did. Node's verify callback lets every chain through and leaves the verdict to JS: a
 * tls.Server reads it into `authorized`, a TLSSocket made over an accepted socket (as here, which
 * keeps the broker's own accept path) does not, so it is read as Node's tls.Server reads it
 * (TLSWrap's verifyError). Where that is missing, no certificate is taken: this fails closed.
 */
function chainError(socket: tls.TLSSocket): string | null {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } | null })._handle;
  if (typeof handle?.verifyError !== 'function') return 'this Node version does not say whether the chain verified';
  const error = handle.verifyError();
  return error === null || error === undefined ? null : `${error.code ?? ''} ${error.message}`.trim();
}

/**
 * A certificate subject as Java's X500Principal.getName() writes it (RFC 2253): the most specific
 * part first, `CN=alice,OU=eng,O=acme,C=US`. Node lists the parts one a line in the certificate's
 * order (least specific first), escaped as RFC 2253 asks.
 */
export function distinguishedName(certificate: crypto.X509Certificate): string {
  return certificate.subject.split('\n').filter((part) => part !== '').reverse().join(',');
}
