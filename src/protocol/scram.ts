// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them: both sides of
// the exchange, and credentials in the text form Kafka keeps them in.
//
//   client: n,,n=alice,r=<cnonce>                         server: r=<cnonce><snonce>,s=<salt>,i=4096
//   client: c=biws,r=<cnonce><snonce>,p=<ClientProof>      server: v=<ServerSignature>
//
// Why here and not a package: no well-kept npm library does the server's side of SCRAM (the npm
// packages are clients for Postgres, MongoDB or Kafka, or are unmaintained), and the RFC is a few
// HMACs over node:crypto: some 270 lines of code below, most of them parsing the messages.
// Kafka's own quirks are kept where a Kafka client could tell: passwords are their UTF-8 bytes
// with no SASLprep (Kafka's ScramFormatter and kafkajs do the same, so a non-ASCII password hashes
// alike on both sides), iterations are 4096 to 16384, and a failed proof gets Kafka's message.
import crypto from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = Object.freeze(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const);

/** Kafka's ScramMechanism limits for both hashes: AlterUserScramCredentials refuses others. */
export const SCRAM_ITERATIONS_MIN = 4096;
export const SCRAM_ITERATIONS_MAX = 16384;

export type ScramHash = 'sha256' | 'sha512';

/** Kafka's ScramMechanism bytes, as the SCRAM credential APIs carry them (0 is UNKNOWN). */
export const SCRAM_MECHANISM_TYPES: ReadonlyMap<number, ScramMechanism> = new Map([[1, 'SCRAM-SHA-256'], [2, 'SCRAM-SHA-512']]);

const TYPE_OF_MECHANISM: ReadonlyMap<ScramMechanism, number> = new Map([...SCRAM_MECHANISM_TYPES].map(([type, mechanism]) => [mechanism, type]));

export function scramMechanismType(mechanism: ScramMechanism): number {
  return TYPE_OF_MECHANISM.get(mechanism)!;
}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

export function scramHash(mechanism: ScramMechanism): ScramHash {
  if (mechanism === 'SCRAM-SHA-256') return 'sha256';
  if (mechanism === 'SCRAM-SHA-512') return 'sha512';
  throw new Error(`Not a SCRAM mechanism: ${String(mechanism)}`);
}

/** What the server keeps of a password: enough to check a proof, not enough to make one. */
export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

const hashBytes = (hash: ScramHash) => (hash === 'sha256' ? 32 : 64);
const hmac = (hash: ScramHash, key: Buffer, data: string) => crypto.createHmac(hash, key).update(data, 'utf8').digest();
const digest = (hash: ScramHash, data: Buffer) => crypto.createHash(hash).update(data).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ b[i]!));

function checkIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error(`SCRAM iterations must be a positive integer, not ${iterations}`);
}

/** SaltedPassword = Hi(password, salt, i), which is PBKDF2 with the mechanism's HMAC. */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  checkIterations(iterations);
  const hash = scramHash(mechanism);
  return crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, hashBytes(hash), hash);
}

/** The credential of a salted password: AlterUserScramCredentials sends salt and salted password, never the password. */
export function credentialFromSaltedPassword(mechanism: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  checkIterations(iterations);
  const hash = scramHash(mechanism);
  const clientKey = hmac(hash, salted, 'Client Key');
  return { salt: Buffer.from(salt), storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key'), iterations };
}

export function scramCredential(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): ScramCredential {
  return credentialFromSaltedPassword(mechanism, saltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

/** Kafka's text form of a credential (ScramCredentialUtils), as ZooKeeper held it. */
export function formatCredential(c: ScramCredential): string {
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  return `salt=${b64(c.salt)},stored_key=${b64(c.storedKey)},server_key=${b64(c.serverKey)},iterations=${c.iterations}`;
}

export function parseCredential(text: string): ScramCredential {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    // Split at the first '=': base64 padding puts more of them in the value.
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || fields.has(key)) throw new Error(`Invalid SCRAM credential: '${key}' is ${eq < 0 ? 'not key=value' : 'given twice'}`);
    fields.set(key, part.slice(eq + 1));
  }
  const keys = ['salt', 'stored_key', 'server_key', 'iterations'];
  if (fields.size !== keys.length || !keys.every((key) => fields.has(key))) {
    throw new Error(`Invalid SCRAM credential: expected ${keys.map((key) => `${key}=...`).join(',')}`);
  }
  const bytes = (key: string) => {
    const value = base64(fields.get(key)!);
    if (value === undefined || value.length === 0) throw new Error(`Invalid SCRAM credential: ${key} is not base64`);
    return value;
  };
  const iterations = fields.get('iterations')!;
  if (!/^[1-9][0-9]{0,8}$/.test(iterations)) throw new Error(`Invalid SCRAM credential: iterations '${iterations}' is not a positive integer`);
  return { salt: bytes('salt'), storedKey: bytes('stored_key'), serverKey: bytes('server_key'), iterations: Number(iterations) };
}

/** Strict base64 (RFC 5802's base64 rule): Buffer.from would skip bad characters instead. */
function base64(text: string): Buffer | undefined {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) ? Buffer.from(text, 'base64') : undefined;
}

// A saslname writes ',' as =2C and '=' as =3D; any other '=' is malformed (RFC 5802 section 5.1).
const escapeName = (name: string) => name.replace(/=/g, '=3D').replace(/,/g, '=2C');
function unescapeName(saslname: string): string | undefined {
  if (/=(?!2C|3D)/.test(saslname)) return undefined;
  return saslname.replace(/=2C|=3D/g, (code) => (code === '=2C' ? ',' : '='));
}

/** A nonce is printable ASCII but ',' (0x21-0x7E less 0x2C). */
const isNonce = (text: string) => /^[\x21-\x2B\x2D-\x7E]+$/.test(text);
/** 24 random bytes are 192 bits, as base64 32 characters with no padding and no ','. */
// 160 random bits as letters and digits, as Kafka's nonces are (a base-36 number of 130 bits).
const randomNonce = () => crypto.randomBytes(20).toString('hex');
const utf8 = new TextDecoder('utf-8', { fatal: true });
function decode(message: Buffer): string | undefined {
  try {
    return utf8.decode(message);
  } catch {
    return undefined;
  }
}

/** Splits `k=v,k=v` attributes; undefined if one does not start with letters and '='. */
function attributes(text: string): { key: string; value: string }[] | undefined {
  const out: { key: string; value: string }[] = [];
  for (const part of text.split(',')) {
    if (!/^[A-Za-z]+=/.test(part)) return undefined;
    const eq = part.indexOf('=');
    out.push({ key: part.slice(0, eq), value: part.slice(eq + 1) });
  }
  return out;
}

// A process-wide key for unknown users' salts: the same unknown name gets the same salt on every
// try, as a real user does, so asking twice does not tell the two apart.
const fakeSaltKey = crypto.randomBytes(32);

export type ScramFirstOutcome = { ok: true; reply: Buffer } | { ok: false; message: string };
/**
 * A login with a delegation token (the client-first-message's extension tokenauth=true, user name
 * the token's id): the token's credential, and who the connection acts as, until when.
 */
export interface ScramTokenLogin {
  credential: ScramCredential;
  /** The token owner's name. */
  user: string;
  expiresAtMs: number;
}

/** `tokenAuthenticated`: the login was a delegation token's, `expiresAtMs` when that token expires (Infinity otherwise). */
export type ScramFinalOutcome = { ok: true; reply: Buffer; user: string; tokenAuthenticated: boolean; expiresAtMs: number } | { ok: false; message: string };

/**
 * The broker's side of one SCRAM exchange: first() takes the client-first-message, final() the
 * client-final-message. Any failure ends the exchange; a new one needs a new ScramServer.
 */
export class ScramServer {
  private step: 'first' | 'final' | 'done' = 'first';
  private readonly hash: ScramHash;
  private user = '';
  private credential: ScramCredential | undefined;
  /** Set when the client logs in with a delegation token. */
  private token: ScramTokenLogin | undefined;
  /** True when the user is unknown: the exchange runs on with a made-up credential and fails at final(). */
  private unknown = false;
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly makeNonce: () => string = randomNonce,
    /** Delegation tokens by id; absent when the broker issues none. */
    private readonly tokenLookup?: (tokenId: string) => ScramTokenLogin | undefined,
  ) {
    this.hash = scramHash(mechanism);
  }

  /** No client-first-message taken yet: the next one is first()'s. */
  get awaitingFirst(): boolean {
    return this.step === 'first';
  }

  first(message: Buffer): ScramFirstOutcome {
    if (this.step !== 'first') {
      return this.fail(`Unexpected SCRAM client-first-message: ${this.step === 'final' ? 'one was already received' : 'the exchange has ended'}`);
    }
    this.step = 'done';
    const text = decode(message);
    const invalid = (why: string) => this.fail(`Invalid SCRAM client first message: ${why}`);
    if (text === undefined) return invalid('not UTF-8');
    // gs2-header: cbind-flag "," [a=authzid] ","; 'y' is a client that could bind but thinks we cannot.
    const flagEnd = text.indexOf(',');
    const authzEnd = flagEnd < 0 ? -1 : text.indexOf(',', flagEnd + 1);
    if (authzEnd < 0) return invalid('expected n,,n=user,r=nonce');
    const flag = text.slice(0, flagEnd);
    const authz = text.slice(flagEnd + 1, authzEnd);
    if (flag.startsWith('p=')) return this.fail('SCRAM channel binding (p=) is not supported');
    if (flag !== 'n' && flag !== 'y') return invalid(`'${flag}' is not a gs2 channel binding flag`);
    if (authz !== '' && !authz.startsWith('a=')) return invalid('the gs2 header must be n,, or n,a=authzid,');
    this.gs2Header = text.slice(0, authzEnd + 1);
    this.clientFirstBare = text.slice(authzEnd + 1);

    const attrs = attributes(this.clientFirstBare);
    if (attrs === undefined) return invalid('expected n=user,r=nonce');
    if (attrs[0]?.key === 'm') return this.fail('SCRAM mandatory extensions (m=) are not supported');
    const [name, nonce, ...extensions] = attrs;
    if (name?.key !== 'n' || nonce?.key !== 'r') return invalid('expected n=user,r=nonce');
    const user = unescapeName(name.value);
    if (user === undefined || user === '') return invalid('the user name is empty or badly escaped');
    if (!isNonce(nonce.value)) return invalid('the nonce must be printable ASCII without commas');
    // Kafka's only extension: tokenauth=true logs in with a delegation token, whose id is the user name.
    const tokenAuth = extensions.some((e) => e.key === 'tokenauth' && e.value.toLowerCase() === 'true');
    if (tokenAuth && this.tokenLookup === undefined) return this.fail('Authentication failed: delegation tokens are not enabled (delegation.token.secret.key)');
    if (authz !== '') {
      const authzid = unescapeName(authz.slice(2));
      if (authzid === undefined) return invalid('the authorization id is badly escaped');
      if (authzid !== user) return this.fail('Authentication failed: Client requested an authorization id that is different from username');
    }

    let credential: ScramCredential | undefined;
    try {
      if (tokenAuth) {
        this.token = this.tokenLookup!(user);
        credential = this.token?.credential;
      } else {
        credential = this.lookup(user);
      }
    } catch {
      return this.fail('Authentication failed: Credentials could not be obtained');
    }
    if (credential === undefined) {
      // RFC 5802 section 5.1: an unknown user gets a salt and iterations like any user's, and
      // fails only at the proof, so the first reply does not tell who exists. (Kafka's broker
      // fails at once; its client sees the same generic message either way.)
      this.unknown = true;
      const size = hashBytes(this.hash);
      const salt = crypto.createHmac('sha256', fakeSaltKey).update(`${this.mechanism}\0${user}`, 'utf8').digest();
      credential = { salt, storedKey: crypto.randomBytes(size), serverKey: crypto.randomBytes(size), iterations: SCRAM_ITERATIONS_MIN };
    } else if (credential.iterations < SCRAM_ITERATIONS_MIN) {
      return this.fail(`Iterations ${credential.iterations} is less than the minimum ${SCRAM_ITERATIONS_MIN} for ${this.mechanism}`);
    }
    const serverNonce = this.makeNonce();
    if (!isNonce(serverNonce)) throw new Error('The SCRAM server nonce must be printable ASCII without commas');

    this.user = user;
    this.credential = credential;
    this.nonce = nonce.value + serverNonce;
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.step = 'final';
    return { ok: true, reply: Buffer.from(this.serverFirst, 'utf8') };
  }

  final(message: Buffer): ScramFinalOutcome {
    if (this.step !== 'final') {
      return this.fail(`Unexpected SCRAM client-final-message: ${this.step === 'first' ? 'no client-first-message yet' : 'the exchange has ended'}`);
    }
    this.step = 'done';
    const credential = this.credential!;
    this.credential = undefined;
    const text = decode(message);
    const invalid = (why: string) => this.fail(`Invalid SCRAM client final message: ${why}`);
    if (text === undefined) return invalid('not UTF-8');
    // c=channel-binding,r=nonce[,extensions],p=proof: the proof is last, and not part of AuthMessage.
    const proofAt = text.lastIndexOf(',p=');
    const attrs = proofAt < 0 ? undefined : attributes(text.slice(0, proofAt));
    if (attrs === undefined || attrs[0]?.key !== 'c' || attrs[1]?.key !== 'r') return invalid('expected c=binding,r=nonce,p=proof');
    if (attrs[0].value !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) {
      return this.fail('SCRAM channel binding c= does not match the gs2 header sent first');
    }
    // Kafka's ScramSaslServer checks that the nonce ends with the server-first-message's, not that
    // it equals it: librdkafka 2.0 sends its own nonce twice before the server's (r=<c><c><s>).
    if (!attrs[1].value.endsWith(this.nonce)) return this.fail('Invalid client nonce in the final client message.');
    const withoutProof = text.slice(0, proofAt);
    const proof = base64(text.slice(proofAt + 3));

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const size = hashBytes(this.hash);
    let valid = false;
    if (proof !== undefined && proof.length === size && credential.storedKey.length === size) {
      const clientKey = xor(proof, hmac(this.hash, credential.storedKey, authMessage));
      valid = crypto.timingSafeEqual(digest(this.hash, clientKey), credential.storedKey) && !this.unknown;
    }
    if (!valid) return this.fail(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`);
    const signature = hmac(this.hash, credential.serverKey, authMessage);
    const reply = Buffer.from(`v=${signature.toString('base64')}`, 'utf8');
    const token = this.token;
    return token === undefined
      ? { ok: true, reply, user: this.user, tokenAuthenticated: false, expiresAtMs: Infinity }
      : { ok: true, reply, user: token.user, tokenAuthenticated: true, expiresAtMs: token.expiresAtMs };
  }

  private fail(message: string): { ok: false; message: string } {
    this.step = 'done';
    this.credential = undefined;
    return { ok: false, message };
  }
}

/**
 * The client's side of one SCRAM exchange: first() makes the client-first-message, final() answers
 * the server-first-message, verify() checks the server-final-message. Each throws on a bad input.
 */
export class ScramClient {
  private readonly hash: ScramHash;
  private step: 'first' | 'final' | 'verify' | 'done' = 'first';
  private clientNonce = '';
  private clientFirstBare = '';
  private serverSignature: Buffer | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    private readonly makeNonce: () => string = randomNonce,
    /** Log in with a delegation token: the extension tokenauth=true, `user` the token's id. */
    private readonly tokenAuth = false,
  ) {
    this.hash = scramHash(mechanism);
    if (user === '') throw new Error('SCRAM needs a user name');
  }

  first(): Buffer {
    this.expect('first');
    this.clientNonce = this.makeNonce();
    if (!isNonce(this.clientNonce)) throw new Error('The SCRAM client nonce must be printable ASCII without commas');
    this.clientFirstBare = `n=${escapeName(this.user)},r=${this.clientNonce}${this.tokenAuth ? ',tokenauth=true' : ''}`;
    this.step = 'final';
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  final(serverFirst: Buffer): Buffer {
    this.expect('final');
    this.step = 'done';
    const text = decode(serverFirst);
    const attrs = text === undefined ? undefined : attributes(text);
    if (attrs?.[0]?.key === 'm') throw new Error('The SCRAM server asked for a mandatory extension (m=), which is not supported');
    const [nonce, salt, iterations] = attrs ?? [];
    if (nonce?.key !== 'r' || salt?.key !== 's' || iterations?.key !== 'i') {
      throw new Error('Invalid SCRAM server first message: expected r=nonce,s=salt,i=iterations');
    }
    // The server's nonce must extend ours: else this reply belongs to another exchange.
    if (!nonce.value.startsWith(this.clientNonce) || nonce.value.length === this.clientNonce.length || !isNonce(nonce.value)) {
      throw new Error('Invalid SCRAM server first message: the nonce does not extend the client nonce');
    }
    const saltBytes = base64(salt.value);
    if (saltBytes === undefined || saltBytes.length === 0) throw new Error('Invalid SCRAM server first message: the salt is not base64');
    if (!/^[1-9][0-9]{0,8}$/.test(iterations.value)) throw new Error('Invalid SCRAM server first message: iterations is not a positive integer');
    const count = Number(iterations.value);
    // Fewer iterations would make a captured exchange cheaper to brute-force (Kafka's client refuses them too).
    if (count < SCRAM_ITERATIONS_MIN) throw new Error(`Requested iterations ${count} is less than the minimum ${SCRAM_ITERATIONS_MIN} for ${this.mechanism}`);

    const salted = saltedPassword(this.mechanism, this.password, saltBytes, count);
    const clientKey = hmac(this.hash, salted, 'Client Key');
    const withoutProof = `c=${Buffer.from('n,,', 'utf8').toString('base64')},r=${nonce.value}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const proof = xor(clientKey, hmac(this.hash, digest(this.hash, clientKey), authMessage));
    this.serverSignature = hmac(this.hash, hmac(this.hash, salted, 'Server Key'), authMessage);
    this.step = 'verify';
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  verify(serverFinal: Buffer): void {
    this.expect('verify');
    this.step = 'done';
    const text = decode(serverFinal) ?? '';
    if (text.startsWith('e=')) throw new Error(`SCRAM authentication failed: ${text.slice(2).split(',')[0]}`);
    const signature = text.startsWith('v=') ? base64(text.slice(2).split(',')[0]!) : undefined;
    const expected = this.serverSignature!;
    this.serverSignature = undefined;
    // A wrong signature means the server does not know the password: it is not the server we meant.
    if (signature === undefined || signature.length !== expected.length || !crypto.timingSafeEqual(signature, expected)) {
      throw new Error('Invalid SCRAM server final message: the server signature does not match');
    }
  }

  private expect(step: 'first' | 'final' | 'verify'): void {
    if (this.step === step) return;
    const next = this.step === 'done' ? 'nothing, the exchange has ended' : `${this.step}()`;
    throw new Error(`SCRAM client: ${step}() called out of order (expected ${next})`);
  }
}
