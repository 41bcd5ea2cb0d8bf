// Delegation tokens (KIP-48), as Kafka's broker issues and checks them. A user logged in by
// Kerberos, SCRAM, OAUTHBEARER or a certificate asks for a token (CreateDelegationToken); the
// token is an id and an HMAC-SHA512 of the id under delegation.token.secret.key, and a process
// the user hands it to logs in over SCRAM with the id as user name, the HMAC in base64 as password
// and the extension tokenauth=true, and acts as the token's owner. The owner and the renewers it
// names (and whoever asked for it on the owner's behalf) can renew the token, to at most its max
// lifetime, or expire it.
//
// What is kept of a token is what Kafka kept in ZooKeeper: owner, requester, renewers, the three
// timestamps and the SCRAM credentials of its HMAC (4096 iterations, Kafka's mechanism minimum),
// never the HMAC itself: any broker with the secret key recomputes it. Tokens live where SCRAM
// credentials live (config-entities.ts: a file of the single broker's data directory, or etcd in
// a cluster, where any broker can check a token another one issued). An expired token is refused
// at login and renewal at once, and removed every delegation.token.expiry.check.interval.ms.
import crypto from 'node:crypto';

import { SluiceError } from '../../errors.js';
import {
  formatCredential,
  parseCredential,
  SCRAM_ITERATIONS_MIN,
  SCRAM_MECHANISMS,
  scramCredential,
  type ScramCredential,
  type ScramMechanism,
} from '../../protocol/scram.js';
import type { DelegationTokenSettings } from '../config.js';
import type { ConfigEntityStore } from '../config-entities.js';

/** The single broker's file of tokens, in its data directory. */
export const DELEGATION_TOKENS_FILE = 'delegation-tokens.json';

/** A token as Kafka's TokenInformation describes it, principals as 'User:name'. */
export interface TokenInformation {
  tokenId: string;
  owner: string;
  /** Who asked for it: the owner, or a principal allowed CREATE_TOKENS on the owner (KIP-373). */
  requester: string;
  renewers: string[];
  issueTimestampMs: number;
  expiryTimestampMs: number;
  maxTimestampMs: number;
}

export interface DelegationToken extends TokenInformation {
  hmac: Buffer;
}

/** What a SCRAM login with tokenauth=true logs in as. */
export interface TokenLogin {
  credential: ScramCredential;
  /** The owner's name: the connection acts as User:<owner>. */
  user: string;
  expiresAtMs: number;
}

const USER_PREFIX = 'User:';
const SALT_BYTES = 32;

export class DelegationTokens {
  /** HMACs by token id: an HMAC is an HMAC-SHA512, worth keeping rather than recomputing per lookup. */
  private readonly hmacs = new Map<string, Buffer>();

  constructor(
    private readonly settings: DelegationTokenSettings,
    private readonly store: ConfigEntityStore,
  ) {}

  /** Tokens are served once delegation.token.secret.key is set, as in Kafka. */
  get enabled(): boolean {
    return this.settings.secretKey !== null;
  }

  /** Every token, expired or not, with its HMAC. */
  list(): DelegationToken[] {
    const tokens: DelegationToken[] = [];
    for (const [tokenId, record] of this.store.entities) tokens.push({ ...informationOf(tokenId, record), hmac: this.hmacOf(tokenId) });
    return tokens;
  }

  /**
   * A new token of `owner` (a User principal), renewable by `renewers`, living at most
   * `maxLifetimeMs` (<= 0: delegation.token.max.lifetime.ms; never longer than it).
   */
  async create(owner: string, requester: string, renewers: readonly string[], maxLifetimeMs: number, nowMs = Date.now()): Promise<DelegationToken> {
    for (const principal of [owner, ...renewers]) {
      if (!principal.startsWith(USER_PREFIX)) throw new SluiceError('INVALID_PRINCIPAL_TYPE', `Only User principals can own or renew delegation tokens, not ${principal}`);
    }
    this.requireEnabled();
    const lifetimeMs = maxLifetimeMs > 0 ? Math.min(maxLifetimeMs, this.settings.maxLifetimeMs) : this.settings.maxLifetimeMs;
    const maxTimestampMs = nowMs + lifetimeMs;
    const information: TokenInformation = {
      tokenId: crypto.randomBytes(16).toString('base64url'),
      owner,
      requester,
      renewers: [...new Set(renewers)],
      issueTimestampMs: nowMs,
      expiryTimestampMs: Math.min(maxTimestampMs, nowMs + this.settings.expiryTimeMs),
      maxTimestampMs,
    };
    const hmac = this.hmacOf(information.tokenId);
    // Kafka's DelegationTokenManager: SCRAM credentials of the HMAC's base64, at the minimum iterations.
    const credentials: Record<string, string> = {};
    for (const mechanism of SCRAM_MECHANISMS) {
      credentials[mechanism] = formatCredential(scramCredential(mechanism, hmac.toString('base64'), crypto.randomBytes(SALT_BYTES), SCRAM_ITERATIONS_MIN));
    }
    await this.store.update(information.tokenId, () => ({ ...recordOf(information), ...credentials }), () => {});
    return { ...information, hmac };
  }

  /**
   * Extends the token of `hmac` by `renewPeriodMs` from now (negative: delegation.token.expiry.time.ms),
   * never past its max timestamp; returns the new expiry. Only its owner, requester and renewers may.
   */
  async renew(hmac: Buffer, principal: string, renewPeriodMs: number, nowMs = Date.now()): Promise<number> {
    this.requireEnabled();
    const tokenId = this.tokenIdOf(hmac);
    let expiryMs = 0;
    await this.store.update(
      tokenId,
      (current) => {
        const information = this.existing(tokenId, current);
        requireOwnerOrRenewer(information, principal);
        if (isExpired(information, nowMs)) throw new SluiceError('DELEGATION_TOKEN_EXPIRED', 'Delegation Token is expired.');
        expiryMs = Math.min(information.maxTimestampMs, nowMs + (renewPeriodMs < 0 ? this.settings.expiryTimeMs : renewPeriodMs));
        return { ...current, expiry: String(expiryMs) };
      },
      () => {},
    );
    return expiryMs;
  }

  /**
   * Sets the token of `hmac` to expire `expiryPeriodMs` from now, or removes it now when that is
   * negative; returns its expiry. Only its owner, requester and renewers may.
   */
  async expire(hmac: Buffer, principal: string, expiryPeriodMs: number, nowMs = Date.now()): Promise<number> {
    this.requireEnabled();
    const tokenId = this.tokenIdOf(hmac);
    let expiryMs = nowMs;
    await this.store.update(
      tokenId,
      (current) => {
        const information = this.existing(tokenId, current);
        requireOwnerOrRenewer(information, principal);
        if (expiryPeriodMs < 0) return {};
        if (isExpired(information, nowMs)) throw new SluiceError('DELEGATION_TOKEN_EXPIRED', 'Delegation Token is expired.');
        expiryMs = Math.min(information.maxTimestampMs, nowMs + expiryPeriodMs);
        return { ...current, expiry: String(expiryMs) };
      },
      () => {},
    );
    return expiryMs;
  }

  /** The login of a SCRAM exchange with tokenauth=true whose user name is `tokenId`; undefined for an unknown or expired token. */
  scramLogin(tokenId: string, mechanism: ScramMechanism, nowMs = Date.now()): TokenLogin | undefined {
    if (!this.enabled) return undefined;
    const record = this.store.entities.get(tokenId);
    const text = record?.[mechanism];
    if (record === undefined || text === undefined) return undefined;
    const information = informationOf(tokenId, record);
    if (isExpired(information, nowMs)) return undefined;
    return { credential: parseCredential(text), user: information.owner.slice(USER_PREFIX.length), expiresAtMs: information.expiryTimestampMs };
  }

  /** Removes the tokens expired by `nowMs`; returns how many. In a cluster every broker sweeps: a removal is idempotent. */
  async removeExpired(nowMs = Date.now()): Promise<number> {
    // HMACs of tokens gone meanwhile (expired here, or removed through another broker).
    for (const tokenId of this.hmacs.keys()) if (!this.store.entities.has(tokenId)) this.hmacs.delete(tokenId);
    let removed = 0;
    for (const [tokenId, record] of this.store.entities) {
      if (!isExpired(informationOf(tokenId, record), nowMs)) continue;
      await this.store.update(tokenId, (current) => (Object.keys(current).length === 0 || isExpired(informationOf(tokenId, current), nowMs) ? {} : current), () => {});
      this.hmacs.delete(tokenId);
      removed++;
    }
    return removed;
  }

  private requireEnabled(): void {
    if (!this.enabled) throw new SluiceError('DELEGATION_TOKEN_AUTH_DISABLED', 'Delegation Token feature is not enabled.');
  }

  private hmacOf(tokenId: string): Buffer {
    let hmac = this.hmacs.get(tokenId);
    if (hmac === undefined) {
      hmac = crypto.createHmac('sha512', Buffer.from(this.settings.secretKey!, 'utf8')).update(tokenId, 'utf8').digest();
      this.hmacs.set(tokenId, hmac);
    }
    return hmac;
  }

  private tokenIdOf(hmac: Buffer): string {
    for (const tokenId of this.store.entities.keys()) {
      const own = this.hmacOf(tokenId);
      if (own.length === hmac.length && crypto.timingSafeEqual(own, hmac)) return tokenId;
    }
    throw notFound();
  }

  private existing(tokenId: string, record: Readonly<Record<string, string>>): TokenInformation {
    if (Object.keys(record).length === 0) throw notFound();
    return informationOf(tokenId, record);
  }
}

/** Whether `principal` owns the token, asked for it, or is one of its renewers (Kafka's ownerOrRenewer). */
export function ownerOrRenewer(token: TokenInformation, principal: string): boolean {
  return token.owner === principal || token.requester === principal || token.renewers.includes(principal);
}

function requireOwnerOrRenewer(token: TokenInformation, principal: string): void {
  if (!ownerOrRenewer(token, principal)) {
    throw new SluiceError('DELEGATION_TOKEN_OWNER_MISMATCH', 'Specified Principal is not valid Owner/Renewer.');
  }
}

function isExpired(token: TokenInformation, nowMs: number): boolean {
  return token.expiryTimestampMs < nowMs || token.maxTimestampMs < nowMs;
}

function notFound(): SluiceError {
  return new SluiceError('DELEGATION_TOKEN_NOT_FOUND', 'Delegation Token is not found on server.');
}

function recordOf(token: TokenInformation): Record<string, string> {
  return {
    owner: token.owner,
    requester: token.requester,
    renewers: JSON.stringify(token.renewers),
    issue: String(token.issueTimestampMs),
    expiry: String(token.expiryTimestampMs),
    max: String(token.maxTimestampMs),
  };
}

function informationOf(tokenId: string, record: Readonly<Record<string, string>>): TokenInformation {
  return {
    tokenId,
    owner: record.owner ?? '',
    requester: record.requester ?? record.owner ?? '',
    renewers: record.renewers === undefined ? [] : (JSON.parse(record.renewers) as string[]),
    issueTimestampMs: Number(record.issue),
    expiryTimestampMs: Number(record.expiry),
    maxTimestampMs: Number(record.max),
  };
}
