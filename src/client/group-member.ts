// A member of a classic consumer group (protocol type "consumer"), as Kafka's consumer coordinator
// runs it: FindCoordinator, JoinGroup (MEMBER_ID_REQUIRED answered by rejoining with the id given),
// the leader's client-side assignment in SyncGroup, heartbeats, rejoin when the coordinator asks,
// OffsetCommit/OffsetFetch under the current generation, LeaveGroup on stop.
//
//   const member = new GroupMember(client, { groupId: 'billing', topics: ['events'], onAssigned, onRevoking });
//   await member.start();          // resolves once the first assignment is in
//   await member.commitOffsets([{ topic: 'events', partition: 0, offset: 42 }]);
//   await member.stop();           // revokes (onRevoking 'stop'), leaves the group
//
// The cluster's metadata is looked at every metadataMaxAgeMs (Kafka's metadata.max.age.ms, 5 min),
// as Kafka's consumer does: the leader rejoins when a subscribed topic's partition count is not the
// one its last assignment used (CreatePartitions, or a topic created after the member subscribed),
// so new partitions get a reader; a member subscribed to a topicPattern follows the topics that
// match, rejoining with the new list when it changes.
//
// Rebalance protocol (KIP-429): eager unless every assignor offered supports cooperative, as in
// Kafka. Eager: before each rejoin onRevoking gets everything held. Cooperative: the member keeps
// its partitions while it rejoins, then revokes only those the new assignment lacks and rejoins
// once more so that the next generation can hand them over.
//
// The member talks to the coordinator over a connection of its own: a JoinGroup waits at the
// coordinator for up to the rebalance timeout, and a broker serves a connection's requests one
// at a time, so sharing it with fetches would stall both.
//
// groupProtocol 'consumer' (Kafka 4's group.protocol=consumer, KIP-848) replaces JoinGroup and
// SyncGroup with ConsumerGroupHeartbeat: the member sends its subscription and what it owns, the
// broker assigns (serverAssignor), and the member gives up what it is asked to before another
// member is handed it (onRevoking 'rebalance', then a heartbeat at once to say so). Commits carry
// the member epoch. Fenced (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID), it loses its partitions and
// joins again at epoch 0 under the same id, as Kafka's consumer does.
import { randomUUID } from 'node:crypto';

import { SluiceError, kafkaErrorName, type SluiceErrorName } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  partitionKey,
  resolveAssignor,
  sortPartitions,
  type Assignor,
  type AssignorName,
  type MemberSubscription,
  type TopicPartition,
} from './assignors.js';
import { METADATA_MAX_AGE_MS_DEFAULT, type KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';

export type { TopicPartition } from './assignors.js';

/** Why partitions are taken away: a rebalance, a lost membership (do not commit), or stop(). */
export type RevokeReason = 'rebalance' | 'lost' | 'stop';

export interface GroupMemberOptions {
  groupId: string;
  /** The topics subscribed to; may be empty with a topicPattern. */
  topics: string[];
  /**
   * Subscribe to every topic whose whole name this matches, internal ones excluded, as Kafka's
   * subscribe(Pattern): looked up before the first join and then every metadataMaxAgeMs.
   */
  topicPattern?: RegExp;
  /** metadata.max.age.ms (default 300000): how often the member looks for new topics and partitions. */
  metadataMaxAgeMs?: number;
  /** session.timeout.ms (default 45000, Kafka 3's): the coordinator drops a member silent this long. */
  sessionTimeoutMs?: number;
  /**
   * How long the coordinator waits for members to rejoin (Kafka's consumers send max.poll.interval.ms,
   * 300000). Default 60000, as kafkajs: a member rejoins once onRevoking has drained its in-flight
   * batches, which takes seconds; a longer timeout only lets one stuck member stall the group longer.
   */
  rebalanceTimeoutMs?: number;
  /** heartbeat.interval.ms (default 3000); also how soon a member notices a rebalance. */
  heartbeatIntervalMs?: number;
  /** group.instance.id: static membership (KIP-345). Static members do not leave on stop. */
  groupInstanceId?: string | null;
  /** Protocols in order of preference (default ['cooperative-sticky']). */
  assignors?: ReadonlyArray<AssignorName | Assignor>;
  /** Partitions newly assigned (eager: the whole assignment). Awaited before the member goes on. */
  onAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Partitions about to be given up; awaited BEFORE the member rejoins (or leaves). */
  onRevoking?: (partitions: TopicPartition[], reason: RevokeReason) => void | Promise<void>;
  /** A fatal error after start() resolved (FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, ...). */
  onError?: (error: Error) => void;
  /** Pause after a retriable failure (default 100 ms, Kafka's retry.backoff.ms). */
  retryBackoffMs?: number;
  /** group.protocol: 'classic' (JoinGroup and SyncGroup, the default) or 'consumer' (KIP-848, the broker assigns). */
  groupProtocol?: 'classic' | 'consumer';
  /** group.remote.assignor: the broker-side assignor a 'consumer' member asks for ('uniform', 'range'); null for the broker's default. */
  serverAssignor?: string | null;
}

export interface CommitOffset {
  topic: string;
  partition: number;
  /** The next offset to read (last processed + 1), as Kafka commits. */
  offset: number;
  metadata?: string | null;
}

/** Errors after which the coordinator is looked up again. */
const COORDINATOR_ERRORS = new Set<string>(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT', 'ENGINE_CLOSED']);
/** Errors after which the member starts over without its id (Kafka resets the generation and member id). */
const RESET_ERRORS = new Set<string>(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION']);
/** The consumer protocol's: the member joins again at epoch 0, its partitions lost. */
const FENCED_ERRORS = new Set<string>(['FENCED_MEMBER_EPOCH', 'UNKNOWN_MEMBER_ID']);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Extra time for a JoinGroup response beyond the rebalance timeout (Kafka's clients add 5 s). */
const JOIN_RESPONSE_GRACE_MS = 5000;
const PROTOCOL_TYPE = 'consumer';

interface JoinResponse {
  errorCode: number;
  generationId: number;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export class GroupMember {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly groupInstanceId: string | null;
  readonly assignors: readonly Assignor[];
  /** 'cooperative' when every assignor supports it. */
  readonly rebalanceProtocol: 'eager' | 'cooperative';

  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  leaderId = '';
  /** Rebalances completed (a generation received), for tests and metrics. */
  rebalances = 0;

  private subscribed: string[];
  /** The partition counts the leader's last assignment used: the metadata check compares with it. */
  private assignedCounts: Map<string, number> | undefined;
  private metadataTimer: NodeJS.Timeout | undefined;
  private readonly metadataMaxAgeMs: number;
  private assigned: TopicPartition[] = [];
  /** What was held in the last generation (eager members send it as a stickiness hint). */
  private previous: { partitions: TopicPartition[]; generationId: number } = { partitions: [], generationId: -1 };
  private lost = false;
  private coordinator: BrokerConnection | undefined;
  private connecting: Promise<BrokerConnection> | undefined;
  private rejoinNeeded = true;
  private stopping = false;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private wake: () => void = () => {};
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatEpoch = 0;
  /** Set while JoinGroup/SyncGroup are outstanding: commits wait for the new generation. */
  private joining: Promise<void> | undefined;
  private firstJoin!: { resolve: () => void; reject: (error: Error) => void; settled: boolean };
  private readonly retryBackoffMs: number;
  /** Topic names by id, for the consumer protocol's assignments (refreshed on an unknown id). */
  private topicNames = new Map<string, string>();
  /** The consumer protocol: the next heartbeat goes at once (after a revoke, a subscription change). */
  private heartbeatNow = false;

  constructor(
    private readonly client: KafkaClient,
    private readonly options: GroupMemberOptions,
  ) {
    if (typeof options.groupId !== 'string' || options.groupId === '') throw new SluiceError('INVALID_GROUP_ID', 'groupId must be a non-empty string');
    if (!Array.isArray(options.topics) || (options.topics.length === 0 && options.topicPattern === undefined)) {
      throw new SluiceError('INVALID_CONFIG', 'topics must name at least one topic, or topicPattern be given');
    }
    this.groupId = options.groupId;
    this.subscribed = [...options.topics];
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? METADATA_MAX_AGE_MS_DEFAULT;
    if (!Number.isSafeInteger(this.metadataMaxAgeMs) || this.metadataMaxAgeMs <= 0) {
      throw new SluiceError('INVALID_CONFIG', `metadataMaxAgeMs must be a positive integer, got ${options.metadataMaxAgeMs}`);
    }
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 60_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.groupInstanceId = options.groupInstanceId ?? null;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.assignors = (options.assignors ?? ['cooperative-sticky']).map(resolveAssignor);
    if (this.assignors.length === 0) throw new SluiceError('INVALID_CONFIG', 'assignors must name at least one assignor');
    this.rebalanceProtocol = this.assignors.every((a) => a.rebalanceProtocols.includes('cooperative')) ? 'cooperative' : 'eager';
    if (this.heartbeatIntervalMs >= this.sessionTimeoutMs) {
      throw new SluiceError('INVALID_CONFIG', `heartbeatIntervalMs (${this.heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${this.sessionTimeoutMs})`);
    }
  }

  /** The topics subscribed to now (with a topicPattern, those that matched at the last look). */
  get topics(): readonly string[] {
    return this.subscribed;
  }

  /** The partitions held now. */
  get assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  get isLeader(): boolean {
    return this.memberId !== '' && this.memberId === this.leaderId;
  }

  /** Joins; resolves once the first assignment is in, rejects on a fatal error (e.g. INCONSISTENT_GROUP_PROTOCOL). */
  start(): Promise<void> {
    if (this.running) throw new Error('GroupMember.start() was called twice');
    const first = new Promise<void>((resolve, reject) => (this.firstJoin = { resolve, reject, settled: false }));
    this.running = this.run();
    this.scheduleMetadataCheck();
    return first;
  }

  /** Revokes what is held (onRevoking 'stop'), leaves the group (dynamic members), closes the connection. */
  stop(): Promise<void> {
    this.stopped ??= this.leave();
    return this.stopped;
  }

  private async leave(): Promise<void> {
    this.stopping = true;
    this.stopHeartbeat();
    clearTimeout(this.metadataTimer);
    // A JoinGroup parked at the coordinator cannot be called back: drop the connection under it.
    if (this.joining) this.dropCoordinator();
    this.wake();
    await this.running;
    if (this.assigned.length > 0) {
      const partitions = this.takeAssignment();
      await this.options.onRevoking?.(partitions, this.lost ? 'lost' : 'stop');
    }
    if (this.options.groupProtocol === 'consumer') {
      if (this.memberId !== '' && this.generationId > 0) {
        // -1 leaves; a static member's -2 keeps its partitions for its return within the session.
        await this.consumerGroupHeartbeat(this.groupInstanceId === null ? -1 : -2).catch(() => {});
      }
    } else if (this.memberId !== '' && this.groupInstanceId === null) {
      // Static members stay until their session ends, so a restart keeps the assignment (KIP-345).
      try {
        const connection = await this.coordinatorConnection();
        await connection.request(ApiKey.LeaveGroup, {
          groupId: this.groupId,
          memberId: this.memberId,
          members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is stopping' }],
        });
      } catch {
        // The coordinator forgets us after the session timeout anyway.
      }
    }
    this.memberId = '';
    this.generationId = -1;
    this.dropCoordinator();
  }

  /** Asks for a rebalance at the next turn of the loop (e.g. after a subscription change); the consumer protocol heartbeats at once. */
  requestRejoin(): void {
    this.rejoinNeeded = true;
    this.heartbeatNow = true;
    this.wake();
  }

  // ---- the consumer protocol (KIP-848) ------------------------------------------------------

  private async runConsumerProtocol(): Promise<void> {
    let intervalMs = this.heartbeatIntervalMs;
    while (!this.stopping) {
      try {
        if (this.lost && this.assigned.length > 0) await this.options.onRevoking?.(this.takeAssignment(), 'lost');
        this.lost = false;
        if (this.memberId === '') this.memberId = randomUUID();
        if (this.options.topicPattern !== undefined && this.generationId < 0) this.subscribed = await this.topicsMatching();
        this.heartbeatNow = false;
        const response = await this.consumerGroupHeartbeat(Math.max(this.generationId, 0));
        throwOn(response.errorCode, `ConsumerGroupHeartbeat of group ${this.groupId}`, response.errorMessage);
        this.generationId = response.memberEpoch;
        if (response.heartbeatIntervalMs > 0) intervalMs = response.heartbeatIntervalMs;
        if (response.assignment !== null) await this.reconcileAssignment(response.assignment.topicPartitions);
        this.settleFirstJoin(null);
      } catch (error) {
        if (this.stopping) break;
        const code = (error as SluiceError).code as string | undefined;
        if (code !== undefined && FENCED_ERRORS.has(code)) {
          // Kafka's consumer: the partitions are lost, the member joins again at epoch 0 under its id.
          this.generationId = -1;
          if (this.assigned.length > 0) this.lost = true;
          this.heartbeatNow = true;
        } else if (code === undefined || COORDINATOR_ERRORS.has(code)) {
          this.dropCoordinator();
          await sleep(this.retryBackoffMs);
          this.heartbeatNow = true;
        } else {
          this.fail(error as Error);
          return;
        }
      }
      if (this.heartbeatNow || this.stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.settleFirstJoin(new Error(`The member of group ${this.groupId} was stopped before it joined`));
  }

  /** One ConsumerGroupHeartbeat with every field set (what Kafka's consumer sends after an error; always valid). */
  private async consumerGroupHeartbeat(memberEpoch: number): Promise<{
    errorCode: number;
    errorMessage: string | null;
    memberEpoch: number;
    heartbeatIntervalMs: number;
    assignment: { topicPartitions: Array<{ topicId: string; partitions: number[] }> } | null;
  }> {
    const connection = await this.coordinatorConnection();
    const owned = new Map<string, number[]>();
    for (const { topic, partition } of this.assigned) {
      const id = await this.topicIdOf(topic);
      if (id !== undefined) owned.set(id, [...(owned.get(id) ?? []), partition]);
    }
    return connection.request(ApiKey.ConsumerGroupHeartbeat, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch,
      instanceId: this.groupInstanceId,
      rackId: null,
      rebalanceTimeoutMs: this.rebalanceTimeoutMs,
      subscribedTopicNames: memberEpoch < 0 ? [] : [...this.subscribed],
      subscribedTopicRegex: null,
      serverAssignor: this.options.serverAssignor ?? null,
      topicPartitions: memberEpoch === 0 ? [] : [...owned].map(([topicId, partitions]) => ({ topicId, partitions })),
    });
  }

  /** Gives up what the assignment lacks (then heartbeats at once to say so), and takes what it adds. */
  private async reconcileAssignment(topicPartitions: ReadonlyArray<{ topicId: string; partitions: readonly number[] }>): Promise<void> {
    const next: TopicPartition[] = [];
    for (const { topicId, partitions } of topicPartitions) {
      const topic = await this.topicNameOf(topicId);
      if (topic !== undefined) for (const partition of partitions) next.push({ topic, partition });
    }
    const nextKeys = new Set(next.map(partitionKey));
    const heldKeys = new Set(this.assigned.map(partitionKey));
    const revoked = this.assigned.filter((tp) => !nextKeys.has(partitionKey(tp)));
    const added = sortPartitions(next.filter((tp) => !heldKeys.has(partitionKey(tp))));
    if (revoked.length > 0) {
      this.assigned = this.assigned.filter((tp) => nextKeys.has(partitionKey(tp)));
      await this.options.onRevoking?.(revoked, 'rebalance');
      this.heartbeatNow = true;
    }
    if (added.length > 0) {
      this.assigned = sortPartitions([...this.assigned, ...added]);
      await this.options.onAssigned?.(added);
    }
    if (revoked.length > 0 || added.length > 0) this.rebalances++;
  }

  private async topicNameOf(topicId: string): Promise<string | undefined> {
    if (!this.topicNames.has(topicId)) await this.refreshTopicNames();
    return this.topicNames.get(topicId);
  }

  private async topicIdOf(topic: string): Promise<string | undefined> {
    for (const [id, name] of this.topicNames) if (name === topic) return id;
    await this.refreshTopicNames();
    for (const [id, name] of this.topicNames) if (name === topic) return id;
    return undefined;
  }

  private async refreshTopicNames(): Promise<void> {
    const metadata = await this.client.metadata(this.subscribed.length > 0 ? [...this.subscribed] : undefined).catch(() => this.client.metadata());
    for (const topic of metadata.topics) if (topic.topicId !== ZERO_UUID) this.topicNames.set(topic.topicId, topic.name);
  }

  // ---- the loop -----------------------------------------------------------------------------

  private async run(): Promise<void> {
    if (this.options.groupProtocol === 'consumer') return this.runConsumerProtocol();
    while (!this.stopping) {
      if (!this.rejoinNeeded) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        await this.rebalance();
        this.settleFirstJoin(null);
      } catch (error) {
        if (this.stopping) break;
        const code = (error as SluiceError).code as string | undefined;
        if (code !== undefined && RESET_ERRORS.has(code)) {
          this.resetGeneration();
        } else if (code === 'REBALANCE_IN_PROGRESS') {
          // The group moved on while we synced: join again at once.
        } else if (code === undefined || COORDINATOR_ERRORS.has(code)) {
          this.dropCoordinator();
          await sleep(this.retryBackoffMs);
        } else {
          this.fail(error as Error);
          return;
        }
        this.rejoinNeeded = true;
      }
    }
    this.settleFirstJoin(new Error(`The member of group ${this.groupId} was stopped before it joined`));
  }

  /** Resolves start() (error null) or rejects it, once; returns false when it was settled already. */
  private settleFirstJoin(error: Error | null): boolean {
    if (this.firstJoin.settled) return false;
    this.firstJoin.settled = true;
    if (error === null) this.firstJoin.resolve();
    else this.firstJoin.reject(error);
    return true;
  }

  private fail(error: Error): void {
    this.stopping = true;
    this.stopHeartbeat();
    clearTimeout(this.metadataTimer);
    this.wake();
    if (!this.settleFirstJoin(error)) this.options.onError?.(error);
  }

  private async rebalance(): Promise<void> {
    // Give up what must go before joining: everything (eager), or everything after a lost membership.
    if (this.lost && this.assigned.length > 0) {
      await this.options.onRevoking?.(this.takeAssignment(), 'lost');
    } else if (this.rebalanceProtocol === 'eager' && this.assigned.length > 0) {
      await this.options.onRevoking?.(this.takeAssignment(), 'rebalance');
    }
    this.lost = false;
    if (this.stopping) return;
    if (this.options.topicPattern !== undefined && this.generationId < 0) this.subscribed = await this.topicsMatching();
    const connection = await this.coordinatorConnection();
    this.rejoinNeeded = false;
    this.stopHeartbeat();
    let done!: () => void;
    this.joining = new Promise<void>((resolve) => (done = resolve));
    let assignment: TopicPartition[];
    try {
      const joined = await this.joinGroup(connection);
      const assignments = joined.leader === joined.memberId && !joined.skipAssignment ? await this.assign(joined) : [];
      const synced = await connection.request(ApiKey.SyncGroup, {
        groupId: this.groupId,
        generationId: joined.generationId,
        memberId: this.memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: PROTOCOL_TYPE,
        protocolName: joined.protocolName,
        assignments,
      });
      throwOn(synced.errorCode, `SyncGroup of group ${this.groupId}`);
      assignment = sortPartitions(decodeAssignment(synced.assignment).partitions);
      this.generationId = joined.generationId;
      this.protocolName = joined.protocolName;
      this.leaderId = joined.leader;
      this.rebalances++;
    } finally {
      this.joining = undefined;
      done();
    }
    this.startHeartbeat();
    if (this.rebalanceProtocol === 'cooperative') {
      const next = new Set(assignment.map(partitionKey));
      const held = new Set(this.assigned.map(partitionKey));
      const revoked = this.assigned.filter((tp) => !next.has(partitionKey(tp)));
      const added = assignment.filter((tp) => !held.has(partitionKey(tp)));
      if (revoked.length > 0) {
        this.assigned = this.assigned.filter((tp) => next.has(partitionKey(tp)));
        await this.options.onRevoking?.(revoked, 'rebalance');
        // The partitions are free now: rejoin so that the next generation hands them over.
        this.rejoinNeeded = true;
      }
      this.assigned = assignment;
      this.previous = { partitions: [...assignment], generationId: this.generationId };
      if (added.length > 0) await this.options.onAssigned?.(added);
    } else {
      this.assigned = assignment;
      this.previous = { partitions: [...assignment], generationId: this.generationId };
      await this.options.onAssigned?.([...assignment]);
    }
  }

  private async joinGroup(connection: BrokerConnection): Promise<JoinResponse> {
    for (;;) {
      const response: JoinResponse = await connection.request(ApiKey.JoinGroup, {
        groupId: this.groupId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: PROTOCOL_TYPE,
        protocols: this.assignors.map((assignor) => ({ name: assignor.name, metadata: this.subscriptionFor(assignor) })),
        reason: null,
      });
      const error = kafkaErrorName(response.errorCode);
      if (error === 'MEMBER_ID_REQUIRED') {
        // KIP-394: the coordinator hands out the id first; joining with it completes the join.
        this.memberId = response.memberId;
        continue;
      }
      throwOn(response.errorCode, `JoinGroup of group ${this.groupId}`);
      this.memberId = response.memberId;
      return response;
    }
  }

  private subscriptionFor(assignor: Assignor): Buffer {
    const cooperative = this.rebalanceProtocol === 'cooperative';
    return encodeSubscription(
      {
        topics: [...this.subscribed],
        userData: cooperative ? null : (assignor.userData?.(this.previous) ?? null),
        // An eager member holds nothing while it joins.
        ownedPartitions: cooperative ? this.assigned : [],
        generationId: cooperative && this.assigned.length > 0 ? this.generationId : -1,
      },
      assignor.subscriptionVersion,
    );
  }

  /** The leader's part: every member's subscription, the partition counts, the chosen assignor. */
  private async assign(joined: JoinResponse): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const assignor = this.assignors.find((a) => a.name === joined.protocolName);
    if (!assignor) throw new SluiceError('INCONSISTENT_GROUP_PROTOCOL', `The coordinator chose protocol ${joined.protocolName}, which this member does not offer`);
    const members: MemberSubscription[] = joined.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      subscription: decodeSubscription(m.metadata),
    }));
    const topics = [...new Set(members.flatMap((m) => m.subscription.topics))];
    const partitionsPerTopic = await this.partitionCounts(topics);
    // A topic not there yet counts 0 partitions: its creation is a change the leader acts on.
    this.assignedCounts = new Map(topics.map((topic) => [topic, partitionsPerTopic.get(topic) ?? 0]));
    const result = assignor.assign(members, partitionsPerTopic);
    return members.map(({ memberId }) => ({ memberId, assignment: encodeAssignment(result.get(memberId) ?? []) }));
  }

  /** Partition counts of the topics that exist (a subscription to a missing topic assigns nothing). */
  private async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    try {
      const metadata = await this.client.metadata(topics);
      for (const topic of metadata.topics) counts.set(topic.name, topic.partitions.length);
    } catch (error) {
      if ((error as SluiceError).code !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      for (const topic of topics) {
        try {
          counts.set(topic, (await this.client.metadata([topic])).topics[0]?.partitions.length ?? 0);
        } catch {
          // not there (yet)
        }
      }
    }
    return counts;
  }

  // ---- metadata ----------------------------------------------------------------------------

  private scheduleMetadataCheck(): void {
    this.metadataTimer = setTimeout(() => {
      void this.checkMetadata()
        .catch(() => {}) // a failed look is taken again at the next one, as a metadata refresh is
        .finally(() => {
          if (!this.stopping) this.scheduleMetadataCheck();
        });
    }, this.metadataMaxAgeMs);
    this.metadataTimer.unref();
  }

  /** Rejoins when the topics a pattern matches, or (as leader) a subscribed topic's partition count, changed. */
  private async checkMetadata(): Promise<void> {
    if (this.stopping || this.memberId === '') return;
    if (this.options.topicPattern !== undefined) {
      const matching = await this.topicsMatching();
      if (matching.join('\0') !== this.subscribed.join('\0')) {
        this.subscribed = matching;
        this.requestRejoin();
        return;
      }
    }
    const used = this.assignedCounts;
    if (!this.isLeader || used === undefined) return;
    const now = await this.partitionCounts([...used.keys()]);
    for (const [topic, count] of used) {
      if ((now.get(topic) ?? 0) !== count) {
        this.requestRejoin();
        return;
      }
    }
  }

  /** The topics topicPattern matches now, internal ones excluded. */
  private async topicsMatching(): Promise<string[]> {
    return (await this.client.topicsMatching(this.options.topicPattern!, true)).map((t) => t.name);
  }

  // ---- heartbeats -----------------------------------------------------------------------------

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const epoch = this.heartbeatEpoch;
    const generationId = this.generationId;
    const beat = async () => {
      if (epoch !== this.heartbeatEpoch || this.stopping) return;
      let error: string;
      try {
        const connection = await this.coordinatorConnection();
        const response = await connection.request(ApiKey.Heartbeat, {
          groupId: this.groupId,
          generationId,
          memberId: this.memberId,
          groupInstanceId: this.groupInstanceId,
        });
        error = kafkaErrorName(response.errorCode);
      } catch (caught) {
        error = (caught as SluiceError).code ?? 'NETWORK_EXCEPTION';
      }
      if (epoch !== this.heartbeatEpoch || this.stopping) return;
      if (error === 'REBALANCE_IN_PROGRESS') {
        this.requestRejoin();
      } else if (RESET_ERRORS.has(error)) {
        // Kafka ignores these for a generation that has already changed.
        if (generationId === this.generationId) {
          this.resetGeneration();
          this.requestRejoin();
        }
      } else if (error === 'FENCED_INSTANCE_ID') {
        this.fail(new SluiceError('FENCED_INSTANCE_ID', `Group ${this.groupId}: another member took group.instance.id ${this.groupInstanceId}`));
        return;
      } else if (COORDINATOR_ERRORS.has(error)) {
        this.dropCoordinator();
      } else if (error !== 'NONE') {
        this.requestRejoin();
      }
      // Heartbeats go on through a revoke, until the JoinGroup is sent, to keep the session alive.
      this.heartbeatTimer = setTimeout(beat, this.heartbeatIntervalMs);
      this.heartbeatTimer.unref();
    };
    this.heartbeatTimer = setTimeout(beat, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    this.heartbeatEpoch++;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Kafka's reset after UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION: no id, no generation, partitions lost. */
  private resetGeneration(): void {
    this.memberId = '';
    this.generationId = -1;
    if (this.assigned.length > 0) this.lost = true;
  }

  private takeAssignment(): TopicPartition[] {
    const partitions = this.assigned;
    this.assigned = [];
    return partitions;
  }

  // ---- offsets ------------------------------------------------------------------------------

  /**
   * Commits under the current generation. Throws the first partition error (a SluiceError named
   * after it); ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID also reset the member (Kafka's
   * CommitFailedException) and REBALANCE_IN_PROGRESS asks for a rejoin.
   */
  async commitOffsets(offsets: readonly CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    if (this.joining) await this.joining;
    if (this.memberId === '' || this.generationId < 0) throw new SluiceError('UNKNOWN_MEMBER_ID', `Group ${this.groupId}: not a member, cannot commit`);
    const generationId = this.generationId;
    const byTopic = new Map<string, CommitOffset[]>();
    for (const offset of offsets) {
      const list = byTopic.get(offset.topic);
      if (list) list.push(offset);
      else byTopic.set(offset.topic, [offset]);
    }
    const connection = await this.coordinatorConnection();
    const response = await connection.request(ApiKey.OffsetCommit, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: generationId,
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: o.metadata ?? '' })),
      })),
    });
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode === 0) continue;
        const error = kafkaErrorName(partition.errorCode);
        if (RESET_ERRORS.has(error) && generationId === this.generationId) {
          this.resetGeneration();
          this.requestRejoin();
        } else if (error === 'REBALANCE_IN_PROGRESS' || error === 'STALE_MEMBER_EPOCH') {
          this.requestRejoin();
        } else if (COORDINATOR_ERRORS.has(error)) {
          this.dropCoordinator();
        }
        throw new SluiceError(error, `OffsetCommit of ${topic.name}-${partition.partitionIndex} in group ${this.groupId}: ${error}`);
      }
    }
  }

  /** Committed offsets by partitionKey; -1 where nothing is committed. */
  async fetchCommittedOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const list = byTopic.get(topic);
      if (list) list.push(partition);
      else byTopic.set(topic, [partition]);
    }
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    for (let attempt = 0; ; attempt++) {
      const connection = await this.coordinatorConnection();
      const response = await connection.request(ApiKey.OffsetFetch, {
        groupId: this.groupId,
        topics,
        groups: [{ groupId: this.groupId, memberId: null, memberEpoch: -1, topics }],
        requireStable: false,
      });
      const group = response.groups?.[0];
      const errorCode: number = group ? group.errorCode : (response.errorCode ?? 0);
      const answers: Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: number; errorCode: number }> }> = group ? group.topics : response.topics;
      const firstError = errorCode || answers.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0)?.errorCode || 0;
      const error = kafkaErrorName(firstError);
      if (firstError !== 0 && (COORDINATOR_ERRORS.has(error) || error === 'UNSTABLE_OFFSET_COMMIT') && attempt < 20) {
        if (COORDINATOR_ERRORS.has(error)) this.dropCoordinator();
        await sleep(this.retryBackoffMs);
        continue;
      }
      throwOn(firstError, `OffsetFetch of group ${this.groupId}`);
      const result = new Map<string, number>();
      for (const topic of answers) for (const p of topic.partitions) result.set(partitionKey({ topic: topic.name, partition: p.partitionIndex }), Number(p.committedOffset));
      return result;
    }
  }

  // ---- the coordinator ------------------------------------------------------------------------

  private coordinatorConnection(): Promise<BrokerConnection> {
    if (this.coordinator && !this.coordinator.isClosed) return Promise.resolve(this.coordinator);
    this.connecting ??= this.findCoordinator().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async findCoordinator(): Promise<BrokerConnection> {
    const any = await this.client.anyConnection();
    const response = await any.request(ApiKey.FindCoordinator, { key: this.groupId, keyType: 0, coordinatorKeys: [this.groupId] });
    const answer = response.coordinators?.[0] ?? response;
    throwOn(answer.errorCode, `FindCoordinator for group ${this.groupId}`, answer.errorMessage);
    const connection = await this.client.openConnection(answer.host, answer.port, { clientId: any.clientId, requestTimeoutMs: this.rebalanceTimeoutMs + JOIN_RESPONSE_GRACE_MS });
    this.coordinator = connection;
    return connection;
  }

  private dropCoordinator(): void {
    this.coordinator?.close();
    this.coordinator = undefined;
  }
}

function throwOn(errorCode: number, context: string, message?: string | null): void {
  if (errorCode === 0) return;
  const name: SluiceErrorName = kafkaErrorName(errorCode);
  throw new SluiceError(name, `${context}: ${name}${message ? ` (${message})` : ''}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
