// SCRAM-SHA-256/512: the RFC 7677 exchange byte for byte through both sides, client against server
// for both hashes, and the ways an exchange must fail (wrong password, unknown user, tampered
// nonce or binding, messages out of order), plus Kafka's credential text form.
import crypto from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
  SCRAM_MECHANISMS,
  ScramClient,
  ScramServer,
  credentialFromSaltedPassword,
  formatCredential,
  parseCredential,
  saltedPassword,
  scramCredential,
  scramHash,
  type ScramCredential,
  type ScramMechanism,
} from '../../src/protocol/scram.js';

// RFC 7677 section 3.
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const failed = (mechanism: ScramMechanism) => `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;

function usersOf(mechanism: ScramMechanism, passwords: Record<string, string>, iterations = 4096): (user: string) => ScramCredential | undefined {
  const users = new Map(Object.entries(passwords).map(([user, password]) => [user, scramCredential(mechanism, password, crypto.randomBytes(16), iterations)]));
  return (user) => users.get(user);
}

/** Runs a whole exchange; returns the server's outcome of final(), or of first() if that failed. */
function exchange(client: ScramClient, server: ScramServer) {
  const first = server.first(client.first());
  if (!first.ok) return { stage: 'first' as const, outcome: first };
  const final = server.final(client.final(first.reply));
  if (final.ok) client.verify(final.reply);
  return { stage: 'final' as const, outcome: final };
}

describe('RFC 7677 test vector', () => {
  const credential = scramCredential('SCRAM-SHA-256', RFC.password, RFC.salt, 4096);

  it('the client sends the RFC messages and accepts the server signature', () => {
    const client = new ScramClient('SCRAM-SHA-256', RFC.user, RFC.password, () => RFC.clientNonce);
    expect(client.first().toString()).toBe(RFC.clientFirst);
    expect(client.final(Buffer.from(RFC.serverFirst)).toString()).toBe(RFC.clientFinal);
    expect(() => client.verify(Buffer.from(RFC.serverFinal))).not.toThrow();
  });

  it('the server sends the RFC messages and accepts the proof', () => {
    const server = new ScramServer('SCRAM-SHA-256', (user) => (user === RFC.user ? credential : undefined), () => RFC.serverNonce);
    const first = server.first(Buffer.from(RFC.clientFirst));
    expect(first).toEqual({ ok: true, reply: Buffer.from(RFC.serverFirst) });
    const final = server.final(Buffer.from(RFC.clientFinal));
    expect(final).toEqual({ ok: true, reply: Buffer.from(RFC.serverFinal), user: 'user', tokenAuthenticated: false, expiresAtMs: Infinity });
  });

  it('client and server together reproduce it', () => {
    const client = new ScramClient('SCRAM-SHA-256', RFC.user, RFC.password, () => RFC.clientNonce);
    const server = new ScramServer('SCRAM-SHA-256', () => credential, () => RFC.serverNonce);
    const first = server.first(client.first());
    expect(first.ok && first.reply.toString()).toBe(RFC.serverFirst);
    const final = server.final(client.final(first.ok ? first.reply : Buffer.alloc(0)));
    expect(final.ok && final.reply.toString()).toBe(RFC.serverFinal);
  });

  it('a credential made from the salted password is the same credential', () => {
    const salted = saltedPassword('SCRAM-SHA-256', RFC.password, RFC.salt, 4096);
    expect(credentialFromSaltedPassword('SCRAM-SHA-256', salted, RFC.salt, 4096)).toEqual(credential);
  });
});

describe.each(SCRAM_MECHANISMS)('%s', (mechanism) => {
  const lookup = usersOf(mechanism, { alice: 'alice-secret', 'a,b=c': 'escaped' });

  it('a client logs in to a server', () => {
    const { stage, outcome } = exchange(new ScramClient(mechanism, 'alice', 'alice-secret'), new ScramServer(mechanism, lookup));
    expect(stage).toBe('final');
    expect(outcome).toMatchObject({ ok: true, user: 'alice' });
  });

  it('a delegation token logs in with tokenauth=true as its owner, until its expiry; its id is not a user name', () => {
    const hmac = crypto.randomBytes(64).toString('base64');
    const token = { credential: scramCredential(mechanism, hmac, crypto.randomBytes(16), 4096), user: 'alice', expiresAtMs: 1_700_000_000_000 };
    const tokens = (tokenId: string) => (tokenId === 'tok1' ? token : undefined);
    const client = new ScramClient(mechanism, 'tok1', hmac, undefined, true);
    const { outcome } = exchange(client, new ScramServer(mechanism, lookup, undefined, tokens));
    expect(outcome).toMatchObject({ ok: true, user: 'alice', tokenAuthenticated: true, expiresAtMs: token.expiresAtMs });
    // Without tokenauth the id is looked up as a user; a user's login is not a token's.
    expect(exchange(new ScramClient(mechanism, 'tok1', hmac), new ScramServer(mechanism, lookup, undefined, tokens)).outcome).toMatchObject({ ok: false });
    expect(exchange(new ScramClient(mechanism, 'alice', 'alice-secret'), new ScramServer(mechanism, lookup, undefined, tokens)).outcome).toMatchObject({ ok: true, tokenAuthenticated: false, expiresAtMs: Infinity });
    expect(exchange(new ScramClient(mechanism, 'tok2', hmac, undefined, true), new ScramServer(mechanism, lookup, undefined, tokens)).outcome).toMatchObject({ ok: false, message: failed(mechanism) });
  });

  it('keys are the length of the hash', () => {
    const c = scramCredential(mechanism, 'x', Buffer.from('salt'), SCRAM_ITERATIONS_MIN);
    const size = scramHash(mechanism) === 'sha256' ? 32 : 64;
    expect([c.storedKey.length, c.serverKey.length]).toEqual([size, size]);
  });

  it('a wrong password fails at final with Kafka\'s message', () => {
    const client = new ScramClient(mechanism, 'alice', 'wrong');
    const { stage, outcome } = exchange(client, new ScramServer(mechanism, lookup));
    expect(stage).toBe('final');
    expect(outcome).toEqual({ ok: false, message: failed(mechanism) });
  });

  it('an unknown user gets a server-first-message like anyone, and fails at final', () => {
    const server = new ScramServer(mechanism, lookup);
    const first = server.first(new ScramClient(mechanism, 'mallory', 'x').first());
    expect(first.ok).toBe(true);
    const reply = first.ok ? first.reply.toString() : '';
    expect(reply).toMatch(/^r=[^,]+,s=[A-Za-z0-9+/]+=*,i=4096$/);

    const { stage, outcome } = exchange(new ScramClient(mechanism, 'mallory', 'x'), new ScramServer(mechanism, lookup));
    expect(stage).toBe('final');
    expect(outcome).toEqual({ ok: false, message: failed(mechanism) });
  });

  it('an unknown user\'s salt is the same on every try, as a real user\'s is', () => {
    const salt = () => {
      const first = new ScramServer(mechanism, lookup).first(Buffer.from('n,,n=mallory,r=abc'));
      return first.ok ? first.reply.toString().split(',')[1] : '';
    };
    expect(salt()).toBe(salt());
  });

  it('a user name with , and = is escaped and unescaped', () => {
    const client = new ScramClient(mechanism, 'a,b=c', 'escaped', () => 'nonce');
    expect(client.first().toString()).toBe('n,,n=a=2Cb=3Dc,r=nonce');
    const { outcome } = exchange(new ScramClient(mechanism, 'a,b=c', 'escaped'), new ScramServer(mechanism, lookup));
    expect(outcome).toMatchObject({ ok: true, user: 'a,b=c' });
  });

  it('a tampered nonce in the client-final-message fails', () => {
    const client = new ScramClient(mechanism, 'alice', 'alice-secret');
    const server = new ScramServer(mechanism, lookup);
    const first = server.first(client.first());
    const final = client.final(first.ok ? first.reply : Buffer.alloc(0)).toString();
    const tampered = final.replace(/,r=([^,]+)/, (_, nonce: string) => `,r=${nonce}x`);
    expect(server.final(Buffer.from(tampered))).toEqual({ ok: false, message: 'Invalid client nonce in the final client message.' });
  });

  it('a server nonce that does not extend the client\'s is refused by the client', () => {
    const client = new ScramClient(mechanism, 'alice', 'alice-secret', () => 'abc');
    client.first();
    expect(() => client.final(Buffer.from('r=xyzdef,s=c2FsdA==,i=4096'))).toThrow(/nonce/);
  });

  it('the client refuses fewer than 4096 iterations', () => {
    const client = new ScramClient(mechanism, 'alice', 'alice-secret', () => 'abc');
    client.first();
    expect(() => client.final(Buffer.from('r=abcdef,s=c2FsdA==,i=4095'))).toThrow(/minimum 4096/);
  });

  it('the client refuses a wrong server signature and a server error', () => {
    const run = (serverFinal: string) => {
      const client = new ScramClient(mechanism, 'alice', 'alice-secret', () => 'abc');
      client.first();
      client.final(Buffer.from('r=abcdef,s=c2FsdA==,i=4096'));
      return () => client.verify(Buffer.from(serverFinal));
    };
    expect(run(`v=${Buffer.alloc(scramHash(mechanism) === 'sha256' ? 32 : 64).toString('base64')}`)).toThrow(/signature/);
    expect(run('e=invalid-proof')).toThrow(/invalid-proof/);
  });
});

describe('ScramServer refuses', () => {
  const lookup = usersOf('SCRAM-SHA-256', { alice: 'alice-secret' });
  const first = (message: string) => new ScramServer('SCRAM-SHA-256', lookup).first(Buffer.from(message));

  it('channel binding, mandatory extensions, delegation tokens, and another authzid', () => {
    expect(first('p=tls-unique,,n=alice,r=abc')).toMatchObject({ ok: false, message: expect.stringMatching(/channel binding/) });
    expect(first('n,,m=ext,n=alice,r=abc')).toMatchObject({ ok: false, message: expect.stringMatching(/mandatory extensions/) });
    // A broker that issues no delegation tokens (no delegation.token.secret.key).
    expect(first('n,,n=alice,r=abc,tokenauth=true')).toMatchObject({ ok: false, message: expect.stringMatching(/delegation tokens are not enabled/) });
    expect(first('n,a=bob,n=alice,r=abc')).toEqual({
      ok: false,
      message: 'Authentication failed: Client requested an authorization id that is different from username',
    });
  });

  it('malformed client-first-messages', () => {
    const bad = ['', 'n,,', 'x,,n=alice,r=abc', 'n,b,n=alice,r=abc', 'n,,r=abc,n=alice', 'n,,n=,r=abc'];
    bad.push('n,,n=a=2Xb,r=abc', 'n,,n=alice,r=', 'n,,n=alice,r=a b');
    for (const message of bad) {
      expect(first(message), message).toMatchObject({ ok: false });
    }
  });

  it('accepts y,, and its own user as authzid, and ignores unknown extensions', () => {
    expect(first('y,,n=alice,r=abc').ok).toBe(true);
    expect(first('n,a=alice,n=alice,r=abc').ok).toBe(true);
    expect(first('n,,n=alice,r=abc,x=1').ok).toBe(true);
  });

  it('a channel binding that is not the gs2 header sent first', () => {
    const client = new ScramClient('SCRAM-SHA-256', 'alice', 'alice-secret');
    const server = new ScramServer('SCRAM-SHA-256', lookup);
    const reply = server.first(client.first());
    const final = client.final(reply.ok ? reply.reply : Buffer.alloc(0)).toString();
    expect(server.final(Buffer.from(final.replace('c=biws', 'c=eSws')))).toMatchObject({ ok: false, message: expect.stringMatching(/binding/) });
  });

  it('messages out of order, and anything after the exchange ends', () => {
    const server = new ScramServer('SCRAM-SHA-256', lookup);
    expect(server.final(Buffer.from('c=biws,r=abc,p=AAAA'))).toMatchObject({ ok: false, message: expect.stringMatching(/no client-first-message/) });
    expect(server.first(Buffer.from('n,,n=alice,r=abc'))).toMatchObject({ ok: false, message: expect.stringMatching(/ended/) });

    const twice = new ScramServer('SCRAM-SHA-256', lookup);
    expect(twice.first(Buffer.from('n,,n=alice,r=abc')).ok).toBe(true);
    expect(twice.first(Buffer.from('n,,n=alice,r=abc'))).toMatchObject({ ok: false, message: expect.stringMatching(/already received/) });
  });

  it('a stored credential with fewer than 4096 iterations', () => {
    const weak = scramCredential('SCRAM-SHA-256', 'x', Buffer.from('salt'), 1000);
    const server = new ScramServer('SCRAM-SHA-256', () => weak);
    expect(server.first(Buffer.from('n,,n=alice,r=abc'))).toMatchObject({ ok: false, message: expect.stringMatching(/minimum 4096/) });
  });

  it('a lookup that throws, without saying why', () => {
    const server = new ScramServer('SCRAM-SHA-256', () => {
      throw new Error('store offline');
    });
    expect(server.first(Buffer.from('n,,n=alice,r=abc'))).toEqual({ ok: false, message: 'Authentication failed: Credentials could not be obtained' });
  });
});

describe('ScramClient', () => {
  it('throws when called out of order', () => {
    const client = new ScramClient('SCRAM-SHA-512', 'alice', 'x');
    expect(() => client.final(Buffer.from('r=a,s=c2FsdA==,i=4096'))).toThrow(/out of order/);
    expect(() => client.verify(Buffer.from('v=AAAA'))).toThrow(/out of order/);
  });
});

describe('credential text form', () => {
  it('format and parse round-trip', () => {
    for (const mechanism of SCRAM_MECHANISMS) {
      const c = scramCredential(mechanism, 'secret', crypto.randomBytes(20), 8192);
      const text = formatCredential(c);
      expect(text).toMatch(/^salt=[A-Za-z0-9+/=]+,stored_key=[A-Za-z0-9+/=]+,server_key=[A-Za-z0-9+/=]+,iterations=8192$/);
      expect(parseCredential(text)).toEqual(c);
    }
  });

  it('parses the RFC 7677 credential written by hand', () => {
    const c = scramCredential('SCRAM-SHA-256', RFC.password, RFC.salt, 4096);
    const text = `salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=4096`;
    expect(parseCredential(text)).toEqual(c);
  });

  it('throws on malformed text', () => {
    const good = formatCredential(scramCredential('SCRAM-SHA-256', 'x', Buffer.from('salt'), 4096));
    for (const bad of [
      '',
      good.replace(/,iterations=4096$/, ''),
      `${good},extra=1`,
      good.replace('iterations=4096', 'iterations=many'),
      good.replace('iterations=4096', 'iterations=0'),
      good.replace(/^salt=[^,]+/, 'salt=not base64!'),
      good.replace(/^salt=[^,]+/, 'salt='),
      good.replace('stored_key=', 'stored_key'),
      `${good},salt=c2FsdA==`,
    ]) {
      expect(() => parseCredential(bad), bad).toThrow(Error);
    }
  });

  it('Kafka\'s iteration limits', () => {
    expect([SCRAM_ITERATIONS_MIN, SCRAM_ITERATIONS_MAX]).toEqual([4096, 16384]);
  });
});
