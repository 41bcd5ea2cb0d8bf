// ssl.cipher.suites in Kafka's (Java's) spelling, read into OpenSSL's cipher list. Java names
// suites by their IANA names (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384); OpenSSL spells the TLS 1.2
// ones its own way (ECDHE-RSA-AES256-GCM-SHA384) and takes the TLS 1.3 ones by their IANA names.
// The spellings do not follow one rule (TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384 is
// ECDHE-ARIA256-GCM-SHA384), so the TLS 1.2 names are a table: the pairs of
// `openssl ciphers -stdname ALL` (OpenSSL 3.0) whose suite Node's TLS offers (tls.getCiphers()),
// certificate-authenticated ones only (no PSK, SRP or anonymous suites, which a Kafka listener
// with a key store never negotiates).
import tls from 'node:tls';

/** TLS 1.2 suites: IANA (Java) name to OpenSSL name. */
const TLS12_SUITES: ReadonlyMap<string, string> = new Map([
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384'],
  ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'DHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'DHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
]);

/**
 * Java's signalling suite (RFC 5746): listed by some Java configs, it names no cipher, and OpenSSL
 * always signals secure renegotiation itself.
 */
const SIGNALLING_SUITES: ReadonlySet<string> = new Set(['TLS_EMPTY_RENEGOTIATION_INFO_SCSV']);

/**
 * OpenSSL's cipher list (Node's `ciphers`) for a comma-separated ssl.cipher.suites, or undefined
 * when it names none (Kafka's default: the TLS library's own suites). OpenSSL's own spellings,
 * which librdkafka's ssl.cipher.suites takes, are accepted too. A name Node's OpenSSL does
 * not offer is an error, as an unsupported suite is in Java (IllegalArgumentException at startup):
 * OpenSSL would drop it silently and serve the rest. A list of TLS 1.2 suites alone keeps TLS 1.3
 * from being negotiated, and one of TLS 1.3 suites alone TLS 1.2, as in Java (Node does the same).
 */
export function opensslCipherList(suites: string, invalid: (why: string) => Error): string | undefined {
  const offered = new Set(tls.getCiphers());
  const names: string[] = [];
  for (const item of suites.split(',')) {
    const suite = item.trim();
    if (suite === '' || SIGNALLING_SUITES.has(suite)) continue;
    const name = TLS12_SUITES.get(suite.toUpperCase()) ?? suite;
    // TLS 1.3 suites keep their IANA names, which getCiphers() lists in lower case.
    if (!offered.has(name.toLowerCase())) {
      throw invalid(`'${suite}' is not a cipher suite that Node's TLS (OpenSSL) offers; give the IANA names Java uses, such as TLS_AES_256_GCM_SHA384 or TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`);
    }
    names.push(name.toUpperCase().startsWith('TLS_') ? name.toUpperCase() : name);
  }
  return names.length === 0 ? undefined : names.join(':');
}
