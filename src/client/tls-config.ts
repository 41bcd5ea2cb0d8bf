// Kafka's ssl.* configs, read into the options of Node's TLS (OpenSSL), for both ends: a broker's
// SSL and SASL_SSL listener (broker/tls-listener.ts) and a client's security.protocol=SSL
// (cli/client-configs.ts). The names and defaults are Kafka's (SslConfigs): key and trust stores
// as files (ssl.keystore.location, ssl.truststore.location) or as PEM text (ssl.keystore.key,
// ssl.keystore.certificate.chain, ssl.truststore.certificates).
//
// Store types: PEM and PKCS12. Node's TLS reads a PKCS12 key store (`pfx`), but not a PKCS12
// store of certificates alone, which is what a Kafka truststore is: that one is read with
// node-forge (a well-kept PKCS#12 reader, used here once at startup, never on a connection's path).
// JKS, Java's own format and Kafka's default type, cannot be read by OpenSSL: a JKS file is
// refused with the keytool command that converts it. A PKCS12 file given under the default type
// JKS is read as PKCS12, as Java's keystore.type.compat does.
import fs from 'node:fs';
import tls from 'node:tls';

import forge from 'node-forge';

import { SluiceError } from '../errors.js';
import { opensslCipherList } from './cipher-suites.js';

/** The TLS options of one end, ready for tls.connect or tls.createSecureContext. */
export interface TlsOptions {
  /** Keys, certificates, trusted authorities and protocol versions. */
  context: tls.SecureContextOptions;
  /** ssl.endpoint.identification.algorithm=https (the default): the server's certificate must name the host dialled. */
  verifyHostname: boolean;
}

/**
 * The key and trust stores' names. A broker also takes them as dynamic configs, to renew a
 * certificate without a restart (Kafka's SslConfigs.RECONFIGURABLE_CONFIGS, KIP-226).
 */
export const SSL_STORE_NAMES: readonly string[] = [
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
];

/**
 * The ssl.* names this module acts on, on either end: the stores, the TLS versions, the cipher
 * suites and the host check.
 */
export const SSL_STORE_CONFIG_NAMES: readonly string[] = [...SSL_STORE_NAMES, 'ssl.enabled.protocols', 'ssl.protocol', 'ssl.cipher.suites', 'ssl.endpoint.identification.algorithm'];

/**
 * ssl.* names that configure Java's JSSE, which Node's TLS has no counterpart for: accepted and
 * reported, never acted on.
 */
export const SSL_JAVA_ONLY_CONFIG_NAMES: readonly string[] = [
  'ssl.keymanager.algorithm',
  'ssl.trustmanager.algorithm',
  'ssl.secure.random.implementation',
  'ssl.provider',
  'ssl.engine.factory.class',
];

/** TLS versions by Kafka's (Java's) names. */
const TLS_VERSIONS: ReadonlyMap<string, tls.SecureVersion> = new Map([
  ['TLSV1', 'TLSv1'],
  ['TLSV1.1', 'TLSv1.1'],
  ['TLSV1.2', 'TLSv1.2'],
  ['TLSV1.3', 'TLSv1.3'],
]);
const VERSION_ORDER: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Kafka's defaults (SslConfigs, Kafka 3.x and 4.x). */
const DEFAULTS: Readonly<Record<string, string>> = {
  'ssl.keystore.type': 'JKS',
  'ssl.truststore.type': 'JKS',
  'ssl.enabled.protocols': 'TLSv1.2,TLSv1.3',
  'ssl.protocol': 'TLSv1.3',
};

/** A JKS file begins with 0xFEEDFEED (a JCEKS one with 0xCECECECE). */
const JKS_MAGICS: readonly number[] = [0xfeedfeed, 0xcececece];

/**
 * The TLS options Kafka's ssl.* configs give. `given` holds the configs by their plain names (a
 * listener's own listener.name.NAME.ssl.* already resolved); `nameOf` says where a name came from,
 * for errors. A bad value, an unreadable store or a wrong password is INVALID_CONFIG naming it.
 */
export function tlsOptions(given: Readonly<Record<string, string | undefined>>, nameOf: (name: string) => string = (name) => name): TlsOptions {
  const value = (name: string): string | undefined => {
    const text = given[name]?.trim();
    return text === undefined || text === '' ? DEFAULTS[name] : text;
  };
  const invalid = (name: string, why: string) => new SluiceError('INVALID_CONFIG', `Invalid ${nameOf(name)}: ${why}`);
  const context: tls.SecureContextOptions = { ...protocolVersions(value('ssl.enabled.protocols')!, value('ssl.protocol')!, invalid) };
  const ciphers = opensslCipherList(value('ssl.cipher.suites') ?? '', (why) => invalid('ssl.cipher.suites', why));
  if (ciphers !== undefined) context.ciphers = ciphers;
  Object.assign(context, keyStore(value, invalid));
  const ca = trustStore(value, invalid);
  if (ca !== undefined) context.ca = ca;
  // Unset, Kafka verifies (https); set empty, it does not.
  const algorithm = given['ssl.endpoint.identification.algorithm']?.trim() ?? 'https';
  if (algorithm !== '' && algorithm.toLowerCase() !== 'https') throw invalid('ssl.endpoint.identification.algorithm', `'${algorithm}' is not an algorithm: https, or empty to turn hostname verification off`);
  return { context, verifyHostname: algorithm !== '' };
}

/**
 * ssl.enabled.protocols as a range of versions (OpenSSL takes a lowest and a highest), capped by
 * ssl.protocol: a TLSv1.2 context, in Java, cannot speak TLS 1.3.
 */
function protocolVersions(enabled: string, protocol: string, invalid: (name: string, why: string) => SluiceError): Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion'> {
  const versions = enabled.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    const version = TLS_VERSIONS.get(item.toUpperCase());
    if (version === undefined) throw invalid('ssl.enabled.protocols', `'${item}' is not a TLS version (TLSv1.2, TLSv1.3)`);
    return VERSION_ORDER.indexOf(version);
  });
  if (versions.length === 0) throw invalid('ssl.enabled.protocols', 'no TLS version is enabled');
  let highest = Math.max(...versions);
  const cap = TLS_VERSIONS.get(protocol.toUpperCase()) ?? (protocol.toUpperCase() === 'TLS' ? 'TLSv1.3' : undefined);
  if (cap === undefined) throw invalid('ssl.protocol', `'${protocol}' is not a TLS protocol (TLSv1.2, TLSv1.3, TLS)`);
  highest = Math.min(highest, VERSION_ORDER.indexOf(cap));
  const lowest = Math.min(...versions);
  if (lowest > highest) throw invalid('ssl.protocol', `${protocol} allows none of ssl.enabled.protocols ${enabled}`);
  return { minVersion: VERSION_ORDER[lowest], maxVersion: VERSION_ORDER[highest] };
}

type Lookup = (name: string) => string | undefined;
type Invalid = (name: string, why: string) => SluiceError;

/** The key and certificate chain this end presents: PKCS12 as Node's pfx, PEM as key and cert. */
function keyStore(value: Lookup, invalid: Invalid): tls.SecureContextOptions {
  const type = value('ssl.keystore.type')!.toUpperCase();
  const location = value('ssl.keystore.location');
  const keyText = value('ssl.keystore.key');
  const chainText = value('ssl.keystore.certificate.chain');
  const keyPassword = value('ssl.key.password');
  if (keyText !== undefined || chainText !== undefined) {
    if (type !== 'PEM') throw invalid('ssl.keystore.key', 'a key given as text needs ssl.keystore.type=PEM');
    if (location !== undefined) throw invalid('ssl.keystore.location', 'give the key store as a file or as ssl.keystore.key and ssl.keystore.certificate.chain, not both');
    if (keyText === undefined || chainText === undefined) throw invalid(keyText === undefined ? 'ssl.keystore.key' : 'ssl.keystore.certificate.chain', 'ssl.keystore.key and ssl.keystore.certificate.chain go together');
    return checked({ key: keyText, cert: chainText, passphrase: keyPassword }, 'ssl.keystore.key', invalid);
  }
  if (location === undefined) return {};
  const bytes = readStore(location, 'ssl.keystore.location', invalid);
  if (type === 'PEM') {
    const text = bytes.toString('utf8');
    return checked({ key: text, cert: text, passphrase: keyPassword }, 'ssl.keystore.location', invalid);
  }
  refuseJks(bytes, location, 'ssl.keystore.location', type, invalid);
  // A PKCS12 store's key is sealed with the store's password (ssl.key.password, where Java tools
  // let it differ, is tried when the store's is not given).
  return checked({ pfx: bytes, passphrase: value('ssl.keystore.password') ?? keyPassword }, 'ssl.keystore.location', invalid);
}

/** The authorities this end trusts; undefined keeps Node's own roots (as Java keeps its cacerts). */
function trustStore(value: Lookup, invalid: Invalid): string[] | undefined {
  const type = value('ssl.truststore.type')!.toUpperCase();
  const location = value('ssl.truststore.location');
  const certificates = value('ssl.truststore.certificates');
  if (certificates !== undefined) {
    if (type !== 'PEM') throw invalid('ssl.truststore.certificates', 'certificates given as text need ssl.truststore.type=PEM');
    if (location !== undefined) throw invalid('ssl.truststore.location', 'give the trust store as a file or as ssl.truststore.certificates, not both');
    return pemCertificates(certificates, 'ssl.truststore.certificates', invalid);
  }
  if (location === undefined) return undefined;
  const bytes = readStore(location, 'ssl.truststore.location', invalid);
  if (type === 'PEM') return pemCertificates(bytes.toString('utf8'), 'ssl.truststore.location', invalid);
  refuseJks(bytes, location, 'ssl.truststore.location', type, invalid);
  return pkcs12Certificates(bytes, value('ssl.truststore.password') ?? '', invalid);
}

function readStore(location: string, name: string, invalid: Invalid): Buffer {
  try {
    return fs.readFileSync(location);
  } catch (error) {
    throw invalid(name, `cannot read ${location}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

function refuseJks(bytes: Buffer, location: string, name: string, type: string, invalid: Invalid): void {
  if (type !== 'JKS' && type !== 'PKCS12') throw invalid(name.replace('location', 'type'), `'${type}' is not a store type sluice reads (PKCS12, PEM)`);
  if (bytes.length >= 4 && JKS_MAGICS.includes(bytes.readUInt32BE(0))) {
    throw invalid(name, `${location} is a JKS store, which Node's TLS cannot read: convert it with keytool -importkeystore -srckeystore ${location} -destkeystore ${location}.p12 -deststoretype PKCS12, and name that file with type PKCS12`);
  }
}

/** The options, once OpenSSL has taken them: a wrong password or a key that is not the certificate's fails here, at startup. */
function checked(options: tls.SecureContextOptions, name: string, invalid: Invalid): tls.SecureContextOptions {
  try {
    tls.createSecureContext(options);
  } catch (error) {
    throw invalid(name, `${(error as Error).message} (a wrong password, or a key that does not match its certificate?)`);
  }
  return Object.fromEntries(Object.entries(options).filter(([, entry]) => entry !== undefined));
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pemCertificates(text: string, name: string, invalid: Invalid): string[] {
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw invalid(name, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return certificates;
}

/** The certificates of a PKCS12 trust store, as PEM. */
function pkcs12Certificates(bytes: Buffer, password: string, invalid: Invalid): string[] {
  let store: forge.pkcs12.Pkcs12Pfx;
  try {
    store = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(bytes.toString('binary')), password);
  } catch (error) {
    throw invalid('ssl.truststore.location', `cannot open the PKCS12 store: ${(error as Error).message}`);
  }
  const bags = store.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  // forge decodes RSA certificates only; any other (EC, Ed25519) is kept as its ASN.1, which is all we need.
  const certificates = bags.flatMap((bag) => {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as { asn1?: forge.asn1.Asn1 }).asn1;
    return asn1 === undefined ? [] : [derToPem(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'))];
  });
  if (certificates.length === 0) throw invalid('ssl.truststore.location', 'the PKCS12 store holds no certificate');
  return certificates;
}

function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
