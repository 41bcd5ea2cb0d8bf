// Client quotas (Kafka's ClientQuotaManager; KIP-13, KIP-55, KIP-219): byte-rate limits per client,
// set by AlterClientQuotas as
//   kafka-configs --bootstrap-server B --alter --entity-type clients --entity-name app --add-config producer_byte_rate=1048576
// and enforced by each broker on what it receives (producer_byte_rate: Produce request bytes) and
// sends (consumer_byte_rate: Fetch response bytes) for the clients over the limit. Followers'
// fetches are never throttled.
//
// Entities are Kafka's: a client-id, a user, or a user and client-id, each name possibly the
// default (<default>, a null name on the wire). A connection's user is the name it logged in with
// on a SASL_PLAINTEXT listener, and otherwise Kafka's unauthenticated principal, ANONYMOUS (every
// connection of a PLAINTEXT listener): a quota of user ANONYMOUS applies to those. The quota of a client is
// the first entity in Kafka's order that sets the key:
//   user+client-id, user+<default client-id>, user, <default user>+client-id,
//   <default user>+<default client-id>, <default user>, client-id, <default client-id>
// and clients share a rate where Kafka's do: all of a user quota's clients one, each client-id its
// own under a client-id quota (a default entity counts each client-id apart).
//
// The rate is Kafka's: bytes over quota.window.num windows of quota.window.size.seconds (11 of 1 s),
// the elapsed time taken as at least the windows but one (so a client starts with a burst of ten
// windows' worth). Over the limit, the request is answered at once with throttle_time_ms =
// (rate - limit) / limit x elapsed, capped at the whole window, and the connection reads no new
// request for that long (KIP-219: the client also waits, as kafkajs and librdkafka do). A Fetch
// that would go over is answered without records (the bytes are not counted), as Kafka does, and
// a Fetch is capped at what the quota allows in the windows but one: without that cap, a consumer
// whose fetches were larger than its whole allowance (kafkajs asks for 10 MB) was refused every
// time and read nothing (found with kafkajs at 20 KB/s: 0 of 3,000 records in 60 s; then 15.8 s).
//
// controller_mutation_rate (KIP-599) limits the partitions a client creates or deletes a second
// (CreateTopics, CreatePartitions, DeleteTopics), over a token bucket of
// controller.quota.window.num windows of controller.quota.window.size.seconds (11 of 1 s): the
// burst is that many seconds' worth. A strict request (CreateTopics v6+, CreatePartitions v3+,
// DeleteTopics v5+) has a topic refused with THROTTLING_QUOTA_EXCEEDED while the bucket is below
// zero, and a topic it takes may leave it below zero; an older request is always taken, and
// throttled while the bucket is below zero. Each broker keeps its own buckets (Kafka's controller
// keeps the cluster's): a client spreading its requests over brokers gets each one's rate.
//
// connection_creation_rate (KIP-612) is an ip entity's quota, a specific address's or the default
// one's: new connections a second from an address, enforced at accept (connection-quotas.ts).
//
// request_percentage (KIP-124) limits the share of the broker's time a client's requests take, in
// percent of one thread (Kafka's request handler threads; here the one event loop): each request
// is measured from its frame to its answer, less the time it waited parked (a long poll, acks=all),
// which counts the time other clients' work interleaved with its awaits too, so it errs towards
// throttling. Over the quota a response carries throttle_time_ms and its connection waits that
// long, as with the byte rates. A follower's fetch is exempt, as in Kafka.
import net from 'node:net';

import { SluiceError } from '../errors.js';
import { RateSensor, TokenBucket, type QuotaWindow, type TokenBucketState } from './rate-sensor.js';

export type { QuotaWindow };

/** The file of a single broker's client quotas, in its data directory (config-entities.ts). */
export const CLIENT_QUOTAS_FILE = 'client-quotas.json';

export const QUOTA_ENTITY_USER = 'user';
export const QUOTA_ENTITY_CLIENT_ID = 'client-id';
export const QUOTA_ENTITY_IP = 'ip';

/** The user of every connection (sluice authenticates no one), as Kafka names an unauthenticated one. */
export const ANONYMOUS_USER = 'ANONYMOUS';

/** Whose use a quota counts: the connection's user (QuotaClient.user) and the request's client.id. */
export interface QuotaClient {
  user: string;
  clientId: string;
}

/** A client that has not logged in: Kafka's unauthenticated principal. */
export function anonymousClient(clientId: string): QuotaClient {
  return { user: ANONYMOUS_USER, clientId };
}

export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';
/** The keys of user and client-id entities; an ip entity takes connection_creation_rate only. */
const CLIENT_KEYS: ReadonlySet<string> = new Set([PRODUCER_BYTE_RATE, CONSUMER_BYTE_RATE, REQUEST_PERCENTAGE, CONTROLLER_MUTATION_RATE]);

/** A quota entity: each type present maps to a name, or null for the type's default entity. */
export type QuotaEntity = ReadonlyMap<string, string | null>;

/** Each entity's quotas by key, as decimal text: the form the stores keep (dynamic-config.ts). */
export type QuotaEntities = ReadonlyMap<string, Readonly<Record<string, string>>>;

const DEFAULT_NAME = '<default>';
const TYPE_ORDER = [QUOTA_ENTITY_USER, QUOTA_ENTITY_CLIENT_ID, QUOTA_ENTITY_IP];

/**
 * The stores' key of an entity: `user=<name>,client-id=<name>` in that order, names percent-encoded
 * and the default entity `<default>` (which no encoded name can be). Safe as one etcd key segment.
 */
export function entityKey(entity: QuotaEntity): string {
  return TYPE_ORDER.filter((type) => entity.has(type))
    .map((type) => `${type}=${entity.get(type) === null ? DEFAULT_NAME : encodeURIComponent(entity.get(type)!)}`)
    .join(',');
}

export function parseEntityKey(key: string): QuotaEntity {
  const entity = new Map<string, string | null>();
  for (const part of key.split(',')) {
    const equals = part.indexOf('=');
    const type = part.slice(0, equals);
    const name = part.slice(equals + 1);
    if (equals <= 0 || !TYPE_ORDER.includes(type) || entity.has(type)) throw new SluiceError('KAFKA_STORAGE_ERROR', `'${key}' is not a client quota entity`);
    entity.set(type, name === DEFAULT_NAME ? null : decodeURIComponent(name));
  }
  return entity;
}

/** An entity as AlterClientQuotas names it, checked as Kafka checks it (INVALID_REQUEST). */
export function entityFromRequest(pairs: ReadonlyArray<{ entityType: string; entityName: string | null }>): QuotaEntity {
  const entity = new Map<string, string | null>();
  for (const { entityType, entityName } of pairs) {
    if (!TYPE_ORDER.includes(entityType)) throw new SluiceError('INVALID_REQUEST', `Unhandled client quota entity type: ${entityType}`);
    if (entity.has(entityType)) throw new SluiceError('INVALID_REQUEST', `Duplicate ${entityType} in the quota entity`);
    if (entityName === '') throw new SluiceError('INVALID_REQUEST', `An empty ${entityType} name is not an entity (null names the default)`);
    if (entityType === QUOTA_ENTITY_IP && entityName !== null && net.isIP(entityName) === 0) throw new SluiceError('INVALID_REQUEST', `${entityName} is not a valid IP address`);
    entity.set(entityType, entityName);
  }
  if (entity.size === 0) throw new SluiceError('INVALID_REQUEST', 'Invalid empty client quota entity');
  if (entity.has(QUOTA_ENTITY_IP) && entity.size > 1) throw new SluiceError('INVALID_REQUEST', 'Invalid quota entity combination: an ip entity stands alone');
  return entity;
}

/** The entity as the wire lists it: (type, name) pairs, user first. */
export function entityToResponse(entity: QuotaEntity): Array<{ entityType: string; entityName: string | null }> {
  return TYPE_ORDER.filter((type) => entity.has(type)).map((type) => ({ entityType: type, entityName: entity.get(type)! }));
}

/**
 * A quota value as Kafka takes it: producer_byte_rate and consumer_byte_rate are whole bytes a
 * second, above 0; controller_mutation_rate is partitions a second (a double), above 0;
 * request_percentage a percentage of one thread (a double, above 100 for more than one); an ip
 * entity's connection_creation_rate is whole connections a second, 0 or more.
 */
export function checkQuotaValue(entity: QuotaEntity, key: string, value: number): void {
  if (entity.has(QUOTA_ENTITY_IP)) {
    if (key !== CONNECTION_CREATION_RATE) throw new SluiceError('INVALID_REQUEST', `Invalid configuration key ${key} for an ip entity: only ${CONNECTION_CREATION_RATE}`);
    if (!Number.isInteger(value) || value < 0 || value > 2_147_483_647) throw new SluiceError('INVALID_REQUEST', `Invalid value ${value} for configuration ${key}: must be a whole number of connections a second, 0 or more`);
    return;
  }
  if (!CLIENT_KEYS.has(key)) throw new SluiceError('INVALID_REQUEST', `Invalid configuration key ${key}`);
  if (key === CONTROLLER_MUTATION_RATE) {
    if (!Number.isFinite(value) || value <= 0) throw new SluiceError('INVALID_REQUEST', `Invalid value ${value} for configuration ${key}: must be a number of partition mutations a second above 0`);
    return;
  }
  if (key === REQUEST_PERCENTAGE) {
    if (!Number.isFinite(value) || value <= 0) throw new SluiceError('INVALID_REQUEST', `Invalid value ${value} for configuration ${key}: must be a percentage of a thread's time above 0`);
    return;
  }
  if (!Number.isInteger(value) || value <= 0) throw new SluiceError('INVALID_REQUEST', `Invalid value ${value} for configuration ${key}: must be a whole number of bytes a second above 0`);
}

/** A describe filter's component (DescribeClientQuotas). */
export interface QuotaFilterComponent {
  entityType: string;
  /** 0: the name `match`; 1: the default entity; 2: any name. */
  matchType: number;
  match: string | null;
}

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;

/** Whether an entity passes a describe filter: every component matches; strict, and it has no other type. */
export function entityMatches(entity: QuotaEntity, components: readonly QuotaFilterComponent[], strict: boolean): boolean {
  for (const { entityType, matchType, match } of components) {
    if (!entity.has(entityType)) return false;
    const name = entity.get(entityType);
    if (matchType === MATCH_EXACT && name !== match) return false;
    if (matchType === MATCH_DEFAULT && name !== null) return false;
  }
  return !strict || entity.size === components.length;
}

/** A describe filter as Kafka checks it (INVALID_REQUEST). */
export function checkFilter(components: readonly QuotaFilterComponent[]): void {
  const types = new Set<string>();
  for (const { entityType, matchType, match } of components) {
    if (types.has(entityType)) throw new SluiceError('INVALID_REQUEST', `Duplicate ${entityType} filter component`);
    types.add(entityType);
    if (matchType === MATCH_EXACT && match === null) throw new SluiceError('INVALID_REQUEST', 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
    if (matchType === MATCH_DEFAULT && match !== null) throw new SluiceError('INVALID_REQUEST', 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
    if (matchType === MATCH_SPECIFIED && match !== null) throw new SluiceError('INVALID_REQUEST', 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
    if (matchType < MATCH_EXACT || matchType > MATCH_SPECIFIED) throw new SluiceError('INVALID_REQUEST', `Unknown match type ${matchType}`);
  }
}

/** How often sensors left idle past the whole window are dropped (their rate is 0 again anyway). */
const SENSOR_SWEEP_INTERVAL_MS = 60_000;

export type QuotaKind = typeof PRODUCER_BYTE_RATE | typeof CONSUMER_BYTE_RATE | typeof REQUEST_PERCENTAGE | typeof CONTROLLER_MUTATION_RATE;

/**
 * Kafka's Strict- and PermissiveControllerMutationQuota on one bucket. Strict: refused while the
 * bucket is below zero, with the time until it is back at zero; taken otherwise, unthrottled,
 * even if it leaves the bucket below zero. Permissive: always taken, throttled while below zero.
 */
function takeMutations(bucket: TokenBucket, rate: number, partitions: number, strict: boolean, nowMs: number): MutationAnswer {
  const untilZeroMs = (credits: number) => (credits < 0 ? Math.ceil((-credits / rate) * 1000) : 0);
  if (strict) {
    const credits = bucket.credits(rate, nowMs);
    if (credits < 0) return { accepted: false, throttleMs: untilZeroMs(credits) };
    bucket.take(partitions, rate, nowMs);
    return { accepted: true, throttleMs: 0 };
  }
  return { accepted: true, throttleMs: untilZeroMs(bucket.take(partitions, rate, nowMs)) };
}

/** Where a cluster keeps the controller_mutation_rate buckets every broker counts against (MetadataStore.updateQuotaBucket). */
export interface SharedQuotaBuckets {
  update<R>(quotaKey: string, change: (state: TokenBucketState | undefined) => { next: TokenBucketState; result: R }): Promise<R>;
}

/** What controller_mutation_rate makes of a mutation: taken or refused, and the throttle to answer with. */
export interface MutationAnswer {
  accepted: boolean;
  throttleMs: number;
}

/** One broker's quotas and the rates of the clients they apply to. */
export class ClientQuotas {
  private entities = new Map<string, { entity: QuotaEntity; values: Record<string, number> }>();
  private readonly sensors = new Map<string, RateSensor>();
  private lastSweepMs = 0;
  /** Requests answered with a throttle, and the milliseconds asked, by quota (broker metrics). */
  readonly throttled = { requests: 0, timeMs: 0 };

  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly window: QuotaWindow,
    /** controller.quota.window.num and .size.seconds: controller_mutation_rate's burst. */
    private readonly controllerWindow: QuotaWindow = window,
  ) {}

  /** Whether any entity has a request_percentage: requests are timed only then. */
  limitsRequests = false;

  /** Takes every entity's quotas (loaded, written, or delivered by the cluster's watch). */
  replace(entities: QuotaEntities): void {
    const next = new Map<string, { entity: QuotaEntity; values: Record<string, number> }>();
    for (const [key, values] of entities) next.set(key, { entity: parseEntityKey(key), values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) });
    this.entities = next;
    this.limitsRequests = [...next.values()].some(({ values }) => values[REQUEST_PERCENTAGE] !== undefined);
  }

  /** The entities passing a describe filter, with their values. */
  describe(components: readonly QuotaFilterComponent[], strict: boolean): Array<{ entity: QuotaEntity; values: Record<string, number> }> {
    checkFilter(components);
    return [...this.entities.values()].filter(({ entity }) => entityMatches(entity, components, strict));
  }

  /** The quota on `kind` of client `clientId`, and the key its rate is kept under; undefined when none applies. */
  quotaOf(kind: QuotaKind, { user, clientId }: QuotaClient): { limitPerSecond: number; sensorKey: string } | undefined {
    if (this.entities.size === 0) return undefined;
    const candidates: Array<[user: string | null | undefined, client: string | null | undefined]> = [
      [user, clientId], [user, null], [user, undefined],
      [null, clientId], [null, null], [null, undefined],
      [undefined, clientId], [undefined, null],
    ];
    for (const [u, c] of candidates) {
      const entity = new Map<string, string | null>();
      if (u !== undefined) entity.set(QUOTA_ENTITY_USER, u);
      if (c !== undefined) entity.set(QUOTA_ENTITY_CLIENT_ID, c);
      const value = this.entities.get(entityKey(entity))?.values[kind];
      if (value === undefined) continue;
      // The rate is shared by the clients the entity names: a default counts each name apart.
      const sensorEntity = new Map<string, string | null>();
      if (u !== undefined) sensorEntity.set(QUOTA_ENTITY_USER, user);
      if (c !== undefined) sensorEntity.set(QUOTA_ENTITY_CLIENT_ID, clientId);
      return { limitPerSecond: value, sensorKey: `${kind}:${entityKey(sensorEntity)}` };
    }
    return undefined;
  }

  /**
   * The most a client may take in one response within its quota: the limit over the windows but
   * one (Kafka's getMaxValueInQuotaWindow). A Fetch is capped at this, or a response larger than
   * the whole allowance would be refused every time and the consumer would never read on.
   */
  maxBytesInWindow(kind: QuotaKind, client: QuotaClient): number {
    const quota = this.quotaOf(kind, client);
    // With one window (quota.window.num=1), one window's worth: a cap of 0 would starve the consumer.
    return quota === undefined ? Infinity : quota.limitPerSecond * Math.max(this.window.windowCount - 1, 1) * (this.window.windowMs / 1000);
  }

  /**
   * Records `amount` of a client's use (bytes of its produce requests or fetch responses; for
   * request_percentage, percent-seconds of request time) and returns how long it is to be
   * throttled: 0 within its quota, or without one.
   */
  record(kind: QuotaKind, client: QuotaClient, amount: number, nowMs = Date.now()): number {
    const quota = this.quotaOf(kind, client);
    if (quota === undefined) return 0;
    this.sweep(nowMs);
    let sensor = this.sensors.get(quota.sensorKey);
    if (sensor === undefined) this.sensors.set(quota.sensorKey, (sensor = new RateSensor(this.window)));
    sensor.record(amount, nowMs);
    const { bytesPerSecond, elapsedMs } = sensor.rate(nowMs);
    if (bytesPerSecond <= quota.limitPerSecond) return 0;
    const throttleMs = Math.min(Math.round(((bytesPerSecond - quota.limitPerSecond) / quota.limitPerSecond) * elapsedMs), this.window.windowCount * this.window.windowMs);
    if (throttleMs > 0) {
      this.throttled.requests++;
      this.throttled.timeMs += throttleMs;
    }
    return throttleMs;
  }

  /** Takes back bytes recorded for a response that was not sent (a throttled Fetch goes out empty). */
  unrecord(kind: QuotaKind, client: QuotaClient, bytes: number, nowMs = Date.now()): void {
    const quota = this.quotaOf(kind, client);
    if (quota !== undefined) this.sensors.get(quota.sensorKey)?.record(-bytes, nowMs);
  }

  /**
   * Counts `partitions` created or deleted by a client against its controller_mutation_rate
   * (Kafka's Strict- and PermissiveControllerMutationQuota: takeMutations below), on this
   * broker's own bucket: a single broker's.
   */
  recordMutations(client: QuotaClient, partitions: number, strict: boolean, nowMs = Date.now()): MutationAnswer {
    const quota = this.quotaOf(CONTROLLER_MUTATION_RATE, client);
    if (quota === undefined) return { accepted: true, throttleMs: 0 };
    this.sweep(nowMs);
    let bucket = this.buckets.get(quota.sensorKey);
    if (bucket === undefined) this.buckets.set(quota.sensorKey, (bucket = new TokenBucket(this.controllerWindow)));
    return this.counted(takeMutations(bucket, quota.limitPerSecond, partitions, strict, nowMs));
  }

  /**
   * recordMutations against one bucket shared by every broker of a cluster, as Kafka's controller
   * counts the whole cluster's mutations: `shared` reads and writes the bucket's state (etcd,
   * compare-and-set), so a client gets its rate once, not once per broker it asks.
   */
  async recordMutationsShared(client: QuotaClient, partitions: number, strict: boolean, shared: SharedQuotaBuckets, nowMs = Date.now()): Promise<MutationAnswer> {
    const quota = this.quotaOf(CONTROLLER_MUTATION_RATE, client);
    if (quota === undefined) return { accepted: true, throttleMs: 0 };
    const answer = await shared.update(quota.sensorKey, (state) => {
      const bucket = new TokenBucket(this.controllerWindow, state);
      const result = takeMutations(bucket, quota.limitPerSecond, partitions, strict, nowMs);
      return { next: bucket.state, result };
    });
    return this.counted(answer);
  }

  private counted(answer: MutationAnswer): MutationAnswer {
    if (answer.throttleMs > 0) {
      this.throttled.requests++;
      this.throttled.timeMs += answer.throttleMs;
    }
    return answer;
  }


  /** The connection_creation_rate of an address: its own ip entity's, else the default ip entity's. */
  connectionRateOf(ip: string): number | undefined {
    if (this.entities.size === 0) return undefined;
    const quota = (name: string | null) => this.entities.get(entityKey(new Map([[QUOTA_ENTITY_IP, name]])))?.values[CONNECTION_CREATION_RATE];
    return quota(ip) ?? quota(null);
  }

  /** Whether a controller_mutation_rate applies to the client (its mutations are then counted). */
  limitsMutations(client: QuotaClient): boolean {
    return this.quotaOf(CONTROLLER_MUTATION_RATE, client) !== undefined;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SENSOR_SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    const idleMs = this.window.windowCount * this.window.windowMs;
    for (const [key, sensor] of this.sensors) if (nowMs - sensor.lastRecordMs > idleMs) this.sensors.delete(key);
    // A bucket refilled to its burst is what a new one would be.
    for (const [key, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(key);
  }
}
