// Kafka's sasl.jaas.config lines, read as Kafka's JaasConfig reads them: one login module, its
// control flag and its key="value" options. The broker takes PLAIN's users and its own login to
// the other brokers from them; sluice's commands take a client's login. No library parses a JAAS
// line in a few lines we could not write plainer, so it is here.
import type { SaslCredentials, SaslMechanism } from '../../client/sasl.js';
import { SluiceError } from '../../errors.js';
import { unsecuredJwt } from '../../protocol/oauthbearer.js';
import { tokenEndpointLogin, tokenEndpointSettings } from '../../client/oauth-login.js';

/** Kafka's login module for PLAIN: the JAAS line must name it. */
export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
/** Kafka's login module for SCRAM-SHA-256 and SCRAM-SHA-512 (a client's, or a broker's own login to the others). */
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';
/** Kafka's login module for OAUTHBEARER: a broker's validator options, or a client's unsecured login. */
export const OAUTHBEARER_LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';

export interface JaasConfig {
  loginModule: string;
  /** required, requisite, sufficient or optional. */
  flag: string;
  options: Map<string, string>;
}

/**
 * One JAAS login module entry, `Module flag key="value" ... ;`, as Kafka's JaasConfig reads a
 * sasl.jaas.config value: values may be quoted (with `\"` inside) or bare words.
 */
export function parseJaasConfig(text: string, configName: string): JaasConfig {
  const invalid = (why: string) => new SluiceError('INVALID_CONFIG', `Invalid ${configName}: ${why} (expected: LoginModule required key="value" ...;)`);
  const tokens = /\s*(?:([A-Za-z_$][\w.$-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)|([A-Za-z_$][\w.$-]*)|(;))/gy;
  const words: string[] = [];
  const options = new Map<string, string>();
  let ended = false;
  let match: RegExpExecArray | null;
  while (!ended && (match = tokens.exec(text)) !== null) {
    if (match[4] !== undefined) ended = true;
    else if (match[1] !== undefined) {
      const raw = match[2]!;
      options.set(match[1], raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
    } else if (options.size > 0) throw invalid(`'${match[3]}' is not a key="value" option`);
    else words.push(match[3]!);
  }
  if (!ended) throw invalid('it does not end with ;');
  if (text.slice(tokens.lastIndex).trim() !== '') throw invalid('it has more than one login module');
  if (words.length !== 2) throw invalid('it must name one login module and its flag');
  const [loginModule, flag] = words as [string, string];
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag.toLowerCase())) throw invalid(`'${flag}' is not a JAAS control flag`);
  return { loginModule, flag: flag.toLowerCase(), options };
}

/** Kafka's login module of each mechanism sluice logs in with. */
export const LOGIN_MODULES: Readonly<Record<SaslMechanism, string>> = {
  PLAIN: PLAIN_LOGIN_MODULE,
  'SCRAM-SHA-256': SCRAM_LOGIN_MODULE,
  'SCRAM-SHA-512': SCRAM_LOGIN_MODULE,
  OAUTHBEARER: OAUTHBEARER_LOGIN_MODULE,
};

/**
 * The login a JAAS line gives for `mechanism`: its login module must be the mechanism's, and it
 * must have username and password options (a client's, or a broker's own to the others). An
 * OAUTHBEARER login takes its tokens from an identity provider when `configs` name Kafka's
 * OAuthBearerLoginCallbackHandler (client/oauth-login.ts), else makes unsecured ones.
 */
export function jaasLogin(
  text: string,
  configName: string,
  mechanism: SaslMechanism,
  configs: (name: string) => string | undefined = () => undefined,
  where: (name: string) => string = (name) => name,
): SaslCredentials {
  const { loginModule, options } = parseJaasConfig(text, configName);
  const expected = LOGIN_MODULES[mechanism];
  if (loginModule !== expected) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: ${mechanism} takes ${expected}, not ${loginModule}`);
  if (mechanism === 'OAUTHBEARER') {
    const endpoint = tokenEndpointSettings(configs, options, where);
    return endpoint === null ? unsecuredLogin(options, configName) : { mechanism, token: tokenEndpointLogin(endpoint) };
  }
  const username = options.get('username');
  const password = options.get('password');
  if (username === undefined || password === undefined) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: it needs username="..." and password="..." to log in with`);
  // ScramLoginModule's tokenauth="true": username and password are a delegation token's id and HMAC.
  if (mechanism !== 'PLAIN' && options.get('tokenauth')?.toLowerCase() === 'true') return { mechanism, username, password, tokenAuth: true };
  return { mechanism, username, password };
}

/**
 * Kafka's unsecured OAUTHBEARER login (OAuthBearerUnsecuredLoginCallbackHandler): a fresh unsigned
 * token at each login, from the JAAS options unsecuredLoginStringClaim_sub="alice" (required),
 * unsecuredLoginLifetimeSeconds (3600), and further unsecuredLoginStringClaim_NAME,
 * unsecuredLoginNumberClaim_NAME and unsecuredLoginListClaim_NAME (",a,b": the first character
 * separates the items) claims. For development: brokers that check signatures refuse such tokens.
 */
function unsecuredLogin(options: ReadonlyMap<string, string>, configName: string): SaslCredentials {
  if (!options.get('unsecuredLoginStringClaim_sub')) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: an unsecured OAUTHBEARER login needs unsecuredLoginStringClaim_sub="<principal>"`);
  const lifetime = Number(options.get('unsecuredLoginLifetimeSeconds') ?? '3600');
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: unsecuredLoginLifetimeSeconds must be a positive integer`);
  const claims: Record<string, unknown> = {};
  for (const [key, value] of options) {
    const claim = /^unsecuredLogin(String|Number|List)Claim_(.+)$/.exec(key);
    if (claim === null) continue;
    claims[claim[2]!] = claim[1] === 'String' ? value : claim[1] === 'Number' ? Number(value) : value.slice(1).split(value[0] ?? ',').filter((item) => item !== '');
  }
  return {
    mechanism: 'OAUTHBEARER',
    token: () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      return unsecuredJwt({ iat: nowSeconds, exp: nowSeconds + lifetime, ...claims });
    },
  };
}
