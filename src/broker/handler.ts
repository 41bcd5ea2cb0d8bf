// What a request handler sees, and the shape every per-API handler module exports: handlers typed by
// their API's schemas (request in, response out), and the one place where a request decoded from a
// frame meets its handler's types (ApiHandler.decode).
import type { Engine } from '../engine/engine.js';
import {
  decodeRequest,
  type ApiVersion,
  type ExcessFields,
  type RequestBodies,
  type RequestHeader,
  type ResponseInputs,
  type SupportedApiKey,
} from '../protocol/index.js';
import type { BrokerSettings } from './config.js';
import type { AppendWaiters } from './append-waiters.js';
import type { BrokerMetrics } from './metrics.js';
import type { GroupCoordinator } from './group/coordinator.js';
import type { Budget } from './budget.js';
import type { LogLimiter } from '../logger.js';
import type { ClusterNode } from './cluster-node.js';
import type { DynamicConfigUpdates } from './dynamic-config-updates.js';
import type { TransactionVerifier } from './txn/produce-verification.js';
import type { ClientQuotas } from './client-quotas.js';
import type { FetchSessionCache } from './fetch-sessions.js';
import type { ConfigEntityStore } from './config-entities.js';
import type { SaslSession, SaslSettings } from './sasl/sasl-session.js';
import type { DelegationTokens } from './sasl/delegation-tokens.js';
import type { BrokerFeatures } from './features.js';
import type { ScramCredentials } from './sasl/scram-credentials.js';
import type { QuotaClient } from './client-quotas.js';
import type { Authorizer } from './authorizer/authorizer.js';

/** The listener a connection came in on (listeners.ts): the broker's own, or another served beside it. */
export interface ListenerContext {
  /** Its name in `listeners`: Metadata and FindCoordinator answer with each broker's endpoint of that name. */
  name: string;
  /** Where clients reach this broker on it, as advertised in Metadata. */
  advertisedHost: string;
  advertisedPort(): number;
  /** Authentication on it: its SASL settings on a SASL_PLAINTEXT or SASL_SSL listener, null on the others. */
  sasl: SaslSettings | null;
}

/** The broker state handlers work with, as seen from one listener's connections. */
export interface BrokerContext {
  engine: Engine;
  settings: BrokerSettings;
  clusterId: string;
  listener: ListenerContext;
  appendWaiters: AppendWaiters;
  groups: GroupCoordinator;
  metrics: BrokerMetrics;
  /** Record bytes of fetch responses go out by sendfile (plaintext); false copies them through JS. */
  zeroCopyFetch: boolean;
  /** Bytes of fetched records copied into JS and not yet written, broker-wide (zero copy off). */
  fetchCopyMemory: Budget;
  /** Incremental fetch sessions (KIP-227). */
  fetchSessions: FetchSessionCache;
  /** Rate-limited logging of what clients and disks do to the broker. */
  log: LogLimiter;
  /** For failures of the broker's own resources (descriptors): one line per cause per minute. */
  logOnce: LogLimiter;
  /** The replicated cluster this broker belongs to (sluice.etcd.endpoints), or null: a cluster of one. */
  cluster(): ClusterNode | null;
  /**
   * While a cluster member is joining its cluster: settles once it has joined (or failed to).
   * Requests wait for it; null once joined, and always for a cluster of one.
   */
  joining(): Promise<void> | null;
  /** The broker's dynamic configs: their layers, and alters of them. */
  dynamicConfig: DynamicConfigUpdates;
  /** Client quotas: the limits and the clients' rates, and where they are kept. */
  quotas: ClientQuotas;
  quotaStore: ConfigEntityStore;
  /** Users' SCRAM credentials: set by AlterUserScramCredentials, read by SCRAM logins. */
  scramCredentials: ScramCredentials;
  /** Delegation tokens (KIP-48): issued by the token APIs, checked at SCRAM logins with tokenauth. */
  delegationTokens: DelegationTokens;
  /** Finalized feature levels (KIP-584): reported by ApiVersions, changed by UpdateFeatures. */
  features: BrokerFeatures;
  /** Kafka's ACL authorizer (authorizer.class.name); when off, it allows everything. */
  authorizer: Authorizer;
  /** Checks a transaction's first write to a partition with its coordinator (KIP-890, produce-verification.ts). */
  transactionVerifier: TransactionVerifier;
}

export interface RequestContext {
  broker: BrokerContext;
  header: RequestHeader;
  /** The client's address, for group membership and logs. */
  clientHost: string;
  /** The connection's SASL authentication on a SASL_PLAINTEXT listener; null on a PLAINTEXT one. */
  sasl: SaslSession | null;
  /** How the principal was established (the delegation token APIs serve only 'sasl' and 'certificate'). */
  readonly authentication: 'sasl' | 'delegation-token' | 'certificate' | 'none';
  /** Whose use the client quotas count: the user the connection logged in as (else ANONYMOUS) and the client.id. */
  quotaClient: QuotaClient;
  /** Called once the response's file regions are in the transfer thread's hands (or dropped). */
  onResponseSent(callback: () => void): void;
  /** Aborted when the connection closes (or the broker stops): long polls end early. */
  signal: AbortSignal;
  /**
   * Waits for `event` outside the request queue: a long poll does not hold one of the
   * queued.max.requests slots while it waits (Kafka's purgatory), and its wait does not count as
   * handling time in the slow-request log.
   */
  park<T>(event: Promise<T>): Promise<T>;
  /**
   * As park, for a handler that is done with its request's bytes and only waits (acks=all for the
   * ISR): the connection goes on with the requests behind this one meanwhile, and still answers
   * every request in the order it came.
   */
  detach<T>(event: Promise<T>): Promise<T>;
  /**
   * The client went over its quota (client-quotas.ts): once this request is answered, its
   * connection takes no new request for `throttleMs`, as Kafka mutes a throttled channel (KIP-219).
   */
  throttle(throttleMs: number): void;
  /** A broker's own request (a follower's fetch): no client quota counts it, as in Kafka. */
  exemptFromQuotas?(): void;
}

/** A response body of API K (fields left out are encoded as their defaults), or null for none. */
export type HandlerResult<K extends SupportedApiKey> = ResponseInputs[K] | null;

/**
 * A handler answers one API. It returns the response body, or null for no response at all
 * (Produce with acks=0). Errors it throws become UNKNOWN_SERVER_ERROR responses only where the
 * API has a top-level error code; otherwise the connection is closed, as Kafka does.
 *
 * The request is decoded by K's schema, so every field of every version is there: one absent from
 * the client's version holds its schema default (see src/protocol/schema.ts). Made by
 * defineHandler, which checks the response against K's schema.
 */
export interface ApiHandler<K extends SupportedApiKey> {
  readonly apiKey: K;
  /** Versions this broker serves (advertised in ApiVersions), within those the codec implements. */
  readonly minVersion: ApiVersion<K>;
  readonly maxVersion: ApiVersion<K>;
  /**
   * The handler is done with its request's bytes once it returns or detaches, so it may be given a
   * view of the connection's read buffer rather than a copy (Produce: its records are in the log
   * by then). False for the others: fields decoded as bytes (a group member's metadata) may be kept.
   */
  readonly releasesFrame: boolean;
  /** A property, not a method: its request parameter is then checked contravariantly. */
  readonly handle: (context: RequestContext, request: RequestBodies[K]) => Promise<HandlerResult<K>> | HandlerResult<K>;
  /**
   * Decodes the body of a request of this API (throws ProtocolError, as decodeRequest) into the
   * call that answers it. The connection goes through here, so that the API key it read from a
   * frame and the handler it found by that key meet in one place, typed by the handler's K.
   */
  readonly decode: (header: RequestHeader, frame: Buffer, bodyOffset: number) => PendingRequest;
}

/** A decoded request bound to its handler: answering it gives the response body, or null for none. */
export type PendingRequest = (context: RequestContext) => Promise<object | null> | object | null;

/** Any one of the handlers: a union, so each keeps its own request and response types. */
export type AnyApiHandler = { [K in SupportedApiKey]: ApiHandler<K> }[SupportedApiKey];

/** What a handler module writes; defineHandler adds decode. */
export interface HandlerSpec<K extends SupportedApiKey, Response extends HandlerResult<K>> {
  readonly apiKey: K;
  readonly minVersion: ApiVersion<K>;
  readonly maxVersion: ApiVersion<K>;
  /** See ApiHandler.releasesFrame (default false). */
  readonly releasesFrame?: boolean;
  handle(context: RequestContext, request: RequestBodies[K]): Promise<Response> | Response;
}

/**
 * Fails the typecheck, naming the fields, when the response a handler returns has fields that K's
 * response schema does not (or `any` in it). Input types leave every field optional, so without
 * this a misspelled field beside correct ones would typecheck and be dropped on the wire.
 */
type ExactResponse<K extends SupportedApiKey, Response> = [ExcessFields<Response, ResponseInputs[K]>] extends [never]
  ? unknown
  : { responseFieldsNotInSchema: ExcessFields<Response, ResponseInputs[K]> };

/**
 * A handler for API K: its request is K's decoded request body, its response must fit K's response
 * schema exactly (type and field names, at every depth).
 *
 *   export const heartbeatHandler = defineHandler({ apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4, handle(context, request) { ... } });
 */
export function defineHandler<K extends SupportedApiKey, Response extends HandlerResult<K>>(
  spec: HandlerSpec<K, Response> & ExactResponse<K, Response>,
): ApiHandler<K> {
  const { apiKey, minVersion, maxVersion } = spec;
  return {
    apiKey,
    minVersion,
    maxVersion,
    releasesFrame: spec.releasesFrame ?? false,
    handle: (context, request) => spec.handle(context, request),
    decode(header, frame, bodyOffset) {
      if (!isRequestOf(header, apiKey)) throw new Error(`sluice bug: a request of API ${header.apiKey} given to the handler of API ${apiKey}`);
      const request = decodeRequest(header, frame, bodyOffset);
      return (context) => spec.handle(context, request);
    },
  };
}

function isRequestOf<K extends SupportedApiKey>(header: RequestHeader, apiKey: K): header is RequestHeader & { apiKey: K } {
  return header.apiKey === apiKey;
}
