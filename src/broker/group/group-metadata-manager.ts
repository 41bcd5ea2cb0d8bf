// Kafka's GroupMetadataManager: owns the coordinator's state as records in __consumer_offsets —
// the groups and their committed offsets in memory, the records that persist them (offset commits,
// group metadata, tombstones), loading them back when this broker starts or comes to lead a
// partition of the topic, and expiring the offsets of groups nobody consumes with any more
// (offsets.retention.minutes). The membership state machine that drives the groups is the
// coordinator's (coordinator.ts); it asks this manager to store a group when a generation is
// complete, as Kafka does, so that a restarted or new coordinator knows the group, its generation
// and its members, and a member that moves with it keeps its generation.
//
// Writes run one at a time in call order, each updating the caches after its append, so the
// in-memory state follows the log's order.
import type { Engine } from '../../engine/engine.js';
import { Group } from './group.js';
import { decodeGroupMetadataKey, decodeGroupMetadataValue, encodeGroupMetadataKey, encodeGroupMetadataValue, isGroupMetadataKey, type GroupMetadataValue } from './group-metadata-format.js';
import { decodeOffsetCommitKey, decodeOffsetCommitValue, encodeOffsetCommitKey, encodeOffsetCommitValue, isOffsetCommitKey, type OffsetCommitValue } from './offset-format.js';
import { OffsetStore, type CoordinatorRecord, type OffsetsTopicHost, type OffsetStoreOptions } from './offset-store.js';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.js';
import { consumerGroupRecordType, decodeConsumerGroupRecord, encodeConsumerGroupRecord, type ConsumerGroupRecord } from './consumer-group-format.js';

/** One committed offset, as the manager keeps it in memory. */
export type CommittedOffset = OffsetCommitValue;

/** group → topic → partition → offset */
export type OffsetCache = Map<string, Map<string, Map<number, CommittedOffset>>>;

/** An offset to write: a commit, or a tombstone when `value` is null. */
export interface OffsetRecord {
  group: string;
  topic: string;
  partition: number;
  value: CommittedOffset | null;
}

/**
 * An offset committed in a transaction still open. `superseded`: a plain commit of the same
 * partition was appended after it, so the transaction's COMMIT leaves that one in place (Kafka
 * keeps whichever commit comes later in the log: CommitRecordMetadataAndOffset.olderThan).
 */
interface PendingOffset extends OffsetRecord {
  superseded: boolean;
}

/** Transactional offsets waiting for their marker, by producer id, in log order. */
type PendingOffsets = Map<number, PendingOffset[]>;

export interface GroupMetadataManagerOptions extends OffsetStoreOptions {
  /** offsets.retention.minutes, in ms: how long an Empty group's offsets outlive it. */
  offsetsRetentionMs: number;
  nowMs: () => number;
  /** In a cluster: the partitions this broker leads, and appends through them. */
  host: OffsetsTopicHost | null;
}

/** The consumer groups (KIP-848) the coordinator keeps itself, as the manager needs to see them. */
export interface ConsumerGroupsView {
  has(groupId: string): boolean;
  /** From when an offset of the group counts towards offsets.retention.minutes, or null while it does not expire. */
  offsetExpiryBaseMs(groupId: string, topic: string, offset: CommittedOffset): number | null;
  /** Forgets the Empty groups `gone` accepts (no offsets left, led here); returns their tombstones. */
  forgetEmpty(gone: (groupId: string) => boolean): ConsumerGroupRecord[];
}

/** What one __consumer_offsets partition's records say of its consumer groups, in log order. */
export type LoadedConsumerGroups = Map<string, ConsumerGroupRecord[]>;

export class GroupMetadataManager {
  private readonly groups = new Map<string, Group>();
  /** Set by the coordinator: offsets of these groups make no classic group. */
  consumerGroups: ConsumerGroupsView = { has: () => false, offsetExpiryBaseMs: () => null, forgetEmpty: () => [] };
  private readonly offsets: OffsetCache = new Map();
  /**
   * Offsets committed in transactions still open (TxnOffsetCommit), by producer id, in commit
   * order: they take effect when the transaction's COMMIT marker is written to their partition,
   * and are dropped on ABORT (Kafka's pendingTransactionalOffsetCommits).
   */
  private readonly pendingTransactionalOffsets: PendingOffsets = new Map();
  private readonly store: OffsetStore;
  private writes: Promise<unknown> = Promise.resolve();
  /**
   * __consumer_offsets partitions being loaded after this broker came to lead them, each with a
   * token of that leadership: a load finishing after the partition moved away (and maybe back)
   * must not take over what it read.
   */
  private readonly loading = new Map<number, object>();

  constructor(
    engine: Engine,
    private readonly options: GroupMetadataManagerOptions,
  ) {
    this.store = new OffsetStore(engine, options, options.host);
  }

  get host(): OffsetsTopicHost | null {
    return this.options.host;
  }

  /** The __consumer_offsets partition of a group (Kafka's partitionFor). */
  partitionFor(groupId: string): number {
    return this.store.partitionFor(groupId);
  }

  ensureTopic(): Promise<void> {
    return this.store.ensureTopic();
  }

  isLoading(partition: number): boolean {
    return this.loading.has(partition);
  }

  // ---- groups --------------------------------------------------------------------------------

  getGroup(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /** The group, created Empty when it does not exist. */
  getOrCreateGroup(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = new Group(groupId, this.options.nowMs)));
    return group;
  }

  allGroups(): Iterable<Group> {
    return this.groups.values();
  }

  /** Forgets the group in memory (it is Dead); its records are the caller's to tombstone. */
  removeGroup(group: Group): void {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /** Writes the group's metadata as it is now: a completed generation, or Empty. */
  storeGroup(group: Group, record: GroupMetadataValue = group.toRecord()): Promise<void> {
    return this.serialized(() => this.store.append([{ group: group.groupId, key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(record) }]));
  }

  /** Appends consumer group records (KIP-848) in order with every other write. */
  storeConsumerGroupRecords(records: readonly ConsumerGroupRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.serialized(() => this.store.append(records.map((record) => ({ group: record.groupId, ...encodeConsumerGroupRecord(record) }))));
  }

  // ---- offsets -------------------------------------------------------------------------------

  offsetsOf(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> | undefined {
    return this.offsets.get(groupId);
  }

  hasOffsets(groupId: string): boolean {
    return this.offsets.has(groupId);
  }

  /** Appends commits and tombstones, then applies them; a group with offsets exists afterwards. */
  storeOffsets(records: readonly OffsetRecord[]): Promise<void> {
    return this.serialized(() => this.writeOffsets(records));
  }

  /** Appends offsets committed in a producer's transaction; they count once it commits (completeTransaction). */
  storeTransactionalOffsets(producerId: number, producerEpoch: number, records: readonly OffsetRecord[]): Promise<void> {
    return this.serialized(async () => {
      await this.store.append(
        records.map(({ group, topic, partition, value }) => ({ group, key: encodeOffsetCommitKey({ group, topic, partition }), value: value === null ? null : encodeOffsetCommitValue(value) })),
        { producerId, producerEpoch },
      );
      let pending = this.pendingTransactionalOffsets.get(producerId);
      if (!pending) this.pendingTransactionalOffsets.set(producerId, (pending = []));
      for (const record of records) pending.push({ ...record, superseded: false });
    });
  }

  /**
   * A transaction marker was written to __consumer_offsets-`partition`: the producer's offsets
   * there take effect (COMMIT) or are dropped (ABORT).
   */
  completeTransaction(partition: number, producerId: number, commit: boolean): void {
    const pending = this.pendingTransactionalOffsets.get(producerId);
    if (!pending) return;
    const here = pending.filter(({ group }) => this.partitionFor(group) === partition);
    const rest = pending.filter(({ group }) => this.partitionFor(group) !== partition);
    if (rest.length > 0) this.pendingTransactionalOffsets.set(producerId, rest);
    else this.pendingTransactionalOffsets.delete(producerId);
    if (!commit) return;
    for (const { group, topic, partition: p, value, superseded } of here) if (value !== null && !superseded) setOffset(this.offsets, group, topic, p, value);
    for (const { group } of here) if (!this.consumerGroups.has(group)) this.getOrCreateGroup(group);
  }

  /** Whether an open transaction has committed an offset of the group's partition (OffsetFetch's require_stable). */
  hasPendingTransactionalOffset(groupId: string, topic: string, partition: number): boolean {
    for (const pending of this.pendingTransactionalOffsets.values()) {
      if (pending.some((record) => record.group === groupId && record.topic === topic && record.partition === partition)) return true;
    }
    return false;
  }

  /** Tombstones for the group's offsets of these partitions that exist once earlier writes have landed. */
  deleteOffsets(groupId: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    return this.serialized(() => {
      const committed = this.offsets.get(groupId);
      const records = partitions
        .filter(({ topic, partition }) => committed?.get(topic)?.has(partition) === true)
        .map(({ topic, partition }): OffsetRecord => ({ group: groupId, topic, partition, value: null }));
      return this.writeOffsets(records);
    });
  }

  /** Tombstones for every group's offsets of a deleted topic; resolves with how many were removed. */
  removeTopicOffsets(topic: string): Promise<number> {
    return this.serialized(async () => {
      const records: OffsetRecord[] = [];
      for (const [group, topics] of this.offsets) {
        for (const partition of topics.get(topic)?.keys() ?? []) records.push({ group, topic, partition, value: null });
      }
      await this.writeOffsets(records);
      return records.length;
    });
  }

  /** A tombstone for a classic group's metadata record (the group became a consumer group); its offsets stay. */
  deleteGroupMetadata(groupId: string): Promise<void> {
    return this.serialized(() => this.store.append([{ group: groupId, key: encodeGroupMetadataKey(groupId), value: null }]));
  }

  /** Tombstones for the groups and all their offsets (DeleteGroups, expiry); the groups must be gone from memory. */
  deleteGroupRecords(groupIds: readonly string[]): Promise<void> {
    return this.serialized(async () => {
      const records: CoordinatorRecord[] = [];
      for (const groupId of groupIds) {
        for (const [topic, partitions] of this.offsets.get(groupId) ?? []) {
          for (const partition of partitions.keys()) records.push({ group: groupId, key: encodeOffsetCommitKey({ group: groupId, topic, partition }), value: null });
        }
        records.push({ group: groupId, key: encodeGroupMetadataKey(groupId), value: null });
      }
      await this.store.append(records);
      for (const groupId of groupIds) this.offsets.delete(groupId);
    });
  }

  private async writeOffsets(records: readonly OffsetRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.store.append(
      records.map(({ group, topic, partition, value }) => ({
        group,
        key: encodeOffsetCommitKey({ group, topic, partition }),
        value: value === null ? null : encodeOffsetCommitValue(value),
      })),
    );
    for (const { group, topic, partition, value } of records) {
      if (value === null) deleteOffset(this.offsets, group, topic, partition);
      else {
        setOffset(this.offsets, group, topic, partition, value);
        supersedePending(this.pendingTransactionalOffsets, group, topic, partition);
      }
    }
    for (const { group } of records) if (this.offsets.has(group) && !this.consumerGroups.has(group)) this.getOrCreateGroup(group);
  }

  // ---- offset expiry (offsets.retention.minutes) ---------------------------------------------

  /**
   * Kafka's cleanupGroupMetadata: expires the offsets nobody will read again and forgets Empty
   * groups left without offsets, writing their tombstones.
   *   - an Empty group's offsets expire offsets.retention.minutes after it became Empty;
   *   - a Stable consumer group's, for topics none of its members subscribes to, that long after their commit;
   *   - a group without a protocol (commits from outside group management), that long after their commit.
   * Returns how many offsets and groups were removed.
   */
  expireOffsets(): Promise<{ offsets: number; groups: number }> {
    return this.serialized(async () => {
      const nowMs = this.options.nowMs();
      const expired: OffsetRecord[] = [];
      for (const [groupId, topics] of this.offsets) {
        const group = this.groups.get(groupId);
        const consumerGroup = this.consumerGroups.has(groupId);
        if (group === undefined && !consumerGroup) continue;
        if (this.host !== null && !this.host.leads(this.partitionFor(groupId))) continue;
        for (const [topic, partitions] of topics) {
          for (const [partition, offset] of partitions) {
            const base = consumerGroup ? this.consumerGroups.offsetExpiryBaseMs(groupId, topic, offset) : this.expiryBaseMs(group!, topic, offset);
            if (base !== null && nowMs - base >= this.options.offsetsRetentionMs) expired.push({ group: groupId, topic, partition, value: null });
          }
        }
      }
      await this.writeOffsets(expired);
      const dead: Group[] = [];
      for (const group of [...this.groups.values()]) {
        if (group.is('Empty') && group.size === 0 && group.pendingMembers.size === 0 && !this.offsets.has(group.groupId)) {
          if (this.host !== null && !this.host.leads(this.partitionFor(group.groupId))) continue;
          group.transitionTo('Dead');
          this.removeGroup(group);
          dead.push(group);
        }
      }
      // A group that only stored offsets (generation 0) has no metadata record to tombstone.
      const withMetadata = dead.filter((group) => group.generationId > 0);
      await this.store.append(withMetadata.map((group) => ({ group: group.groupId, key: encodeGroupMetadataKey(group.groupId), value: null })));
      // Consumer groups (KIP-848) the same way: Empty and without offsets, they are gone.
      const leads = (groupId: string) => this.host === null || this.host.leads(this.partitionFor(groupId));
      const tombstones = this.consumerGroups.forgetEmpty((groupId) => !this.offsets.has(groupId) && leads(groupId));
      await this.store.append(tombstones.map((record) => ({ group: record.groupId, ...encodeConsumerGroupRecord(record) })));
      return { offsets: expired.length, groups: dead.length + new Set(tombstones.map((record) => record.groupId)).size };
    });
  }

  /** From when an offset's retention counts, or null when it does not expire in the group's state. */
  private expiryBaseMs(group: Group, topic: string, offset: CommittedOffset): number | null {
    if (group.protocolType !== null && group.protocolType !== '' && group.is('Empty')) return group.currentStateTimestampMs ?? offset.commitTimestamp;
    if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is('Stable')) return group.isSubscribedToTopic(topic) ? null : offset.commitTimestamp;
    if (group.protocolType === null || group.protocolType === '') return offset.commitTimestamp;
    return null;
  }

  // ---- loading -------------------------------------------------------------------------------

  /** Loads every partition (a single broker, at start); returns the classic groups restored with members, and the consumer groups' records. */
  async loadAll(): Promise<{ groups: Group[]; consumerGroups: LoadedConsumerGroups }> {
    const restored: Group[] = [];
    const consumerGroups: LoadedConsumerGroups = new Map();
    for (const partition of this.store.existingPartitions()) {
      const loaded = await this.readPartition(partition);
      restored.push(...loaded.groups);
      for (const [groupId, records] of loaded.consumerGroups) consumerGroups.set(groupId, records);
    }
    return { groups: restored, consumerGroups };
  }

  /**
   * This broker came to lead `partition`: reads its records and, if it still leads it when done,
   * takes its groups over. `onLoaded` gets the restored groups that have members (their sessions
   * start now). Requests for the partition's groups get COORDINATOR_LOAD_IN_PROGRESS meanwhile.
   *
   * "Still leads" is the leadership token alone (unloadPartition drops it when leadership goes),
   * not host.leads(): a broker that restarts while etcd still names it leader comes to lead during
   * its cluster join, before host.leads() can answer true; asking it here skipped the takeover, and
   * once joined the broker answered OffsetFetch from an empty cache (no committed offset), so a
   * consumer started its partitions over (a CI run redelivered 51 of 102 records).
   */
  loadPartition(partition: number, onLoaded: (groups: Group[], consumerGroups: LoadedConsumerGroups) => void): Promise<void> {
    const leadership = {};
    this.loading.set(partition, leadership);
    return this.serialized(async () => {
      const loaded = new GroupMetadataManager.Loaded();
      await this.store.readPartition(partition, (key, value, producerId) => loaded.apply(key, value, producerId), (producerId, commit) => loaded.marker(producerId, commit));
      if (this.loading.get(partition) !== leadership) return;
      const { groups, consumerGroups } = this.takeOver(loaded);
      onLoaded(groups, consumerGroups);
    }).finally(() => {
      if (this.loading.get(partition) === leadership) this.loading.delete(partition);
    });
  }

  /** This broker no longer leads `partition`: its groups and offsets are forgotten; returns the groups. */
  unloadPartition(partition: number): Group[] {
    this.loading.delete(partition);
    for (const [producerId, pending] of this.pendingTransactionalOffsets) {
      const rest = pending.filter(({ group }) => this.partitionFor(group) !== partition);
      if (rest.length > 0) this.pendingTransactionalOffsets.set(producerId, rest);
      else this.pendingTransactionalOffsets.delete(producerId);
    }
    const unloaded = [...this.groups.values()].filter((group) => this.partitionFor(group.groupId) === partition);
    for (const group of unloaded) this.groups.delete(group.groupId);
    for (const groupId of [...this.offsets.keys()]) if (this.partitionFor(groupId) === partition) this.offsets.delete(groupId);
    return unloaded;
  }

  private async readPartition(partition: number): Promise<{ groups: Group[]; consumerGroups: LoadedConsumerGroups }> {
    const loaded = new GroupMetadataManager.Loaded();
    await this.store.readPartition(partition, (key, value, producerId) => loaded.apply(key, value, producerId), (producerId, commit) => loaded.marker(producerId, commit));
    return this.takeOver(loaded);
  }

  private takeOver(loaded: InstanceType<typeof GroupMetadataManager.Loaded>): { groups: Group[]; consumerGroups: LoadedConsumerGroups } {
    const restored: Group[] = [];
    for (const [groupId, topics] of loaded.offsets) this.offsets.set(groupId, topics);
    // Transactions still open in the log: their offsets wait for the marker here too.
    for (const [producerId, records] of loaded.pendingTransactionalOffsets) {
      this.pendingTransactionalOffsets.set(producerId, [...(this.pendingTransactionalOffsets.get(producerId) ?? []), ...records]);
    }
    for (const [groupId, record] of loaded.groups) {
      if (loaded.consumerGroups.has(groupId)) continue; // converted to a consumer group since
      const group = Group.restore(groupId, record, this.options.nowMs);
      this.groups.set(groupId, group);
      if (group.size > 0) restored.push(group);
    }
    // Kafka keeps groups that have committed offsets as Empty groups.
    for (const groupId of loaded.offsets.keys()) if (!loaded.consumerGroups.has(groupId)) this.getOrCreateGroup(groupId);
    return { groups: restored, consumerGroups: loaded.consumerGroups };
  }

  /** What one partition's records say, the last record per key winning and tombstones erasing. */
  private static Loaded = class {
    readonly offsets: OffsetCache = new Map();
    readonly groups = new Map<string, GroupMetadataValue>();
    readonly consumerGroups: LoadedConsumerGroups = new Map();
    readonly pendingTransactionalOffsets: PendingOffsets = new Map();

    /** A marker: the producer's transactional offsets before it take effect (COMMIT) or go (ABORT). */
    marker(producerId: number, commit: boolean): void {
      const pending = this.pendingTransactionalOffsets.get(producerId);
      this.pendingTransactionalOffsets.delete(producerId);
      if (!commit || !pending) return;
      for (const { group, topic, partition, value, superseded } of pending) if (value !== null && !superseded) setOffset(this.offsets, group, topic, partition, value);
    }

    /** A record; `transactionalProducerId` >= 0: written in that producer's transaction, pending its marker. */
    apply(key: Buffer, value: Buffer | null, transactionalProducerId = -1): void {
      if (transactionalProducerId >= 0) {
        if (isOffsetCommitKey(key) && value !== null) {
          const { group, topic, partition } = decodeOffsetCommitKey(key);
          let pending = this.pendingTransactionalOffsets.get(transactionalProducerId);
          if (!pending) this.pendingTransactionalOffsets.set(transactionalProducerId, (pending = []));
          pending.push({ group, topic, partition, value: decodeOffsetCommitValue(value), superseded: false });
        }
        return;
      }
      if (consumerGroupRecordType(key) !== null) {
        const record = decodeConsumerGroupRecord(key, value);
        if (record === null) return;
        // The group's metadata tombstone ends it: records before it are of a group deleted since.
        if (record.type === 3 && record.value === null) this.consumerGroups.delete(record.groupId);
        else {
          let records = this.consumerGroups.get(record.groupId);
          if (!records) this.consumerGroups.set(record.groupId, (records = []));
          records.push(record);
        }
        return;
      }
      if (isOffsetCommitKey(key)) {
        const { group, topic, partition } = decodeOffsetCommitKey(key);
        if (value === null) deleteOffset(this.offsets, group, topic, partition);
        else {
          setOffset(this.offsets, group, topic, partition, decodeOffsetCommitValue(value));
          supersedePending(this.pendingTransactionalOffsets, group, topic, partition);
        }
      } else if (isGroupMetadataKey(key)) {
        const groupId = decodeGroupMetadataKey(key);
        if (value === null) this.groups.delete(groupId);
        else this.groups.set(groupId, decodeGroupMetadataValue(value));
      }
      // Other key versions (transaction markers of other coordinators) are not ours.
    }
  };

  /** Resolves when the writes queued so far have landed (close). */
  drain(): Promise<void> {
    return this.writes.then(() => undefined);
  }

  /** Runs writes one at a time, in call order, so the in-memory state follows the log's order. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writes.then(task, task);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/**
 * A plain commit of the partition was appended: transactional offsets of it appended earlier lose
 * to it when their transaction commits. (A tombstone does not supersede them: Kafka puts a
 * committed transaction's offset wherever the partition has none.)
 */
function supersedePending(pending: PendingOffsets, group: string, topic: string, partition: number): void {
  if (pending.size === 0) return;
  for (const records of pending.values()) {
    for (const record of records) if (record.partition === partition && record.group === group && record.topic === topic) record.superseded = true;
  }
}

function setOffset(cache: OffsetCache, group: string, topic: string, partition: number, value: CommittedOffset): void {
  let topics = cache.get(group);
  if (!topics) cache.set(group, (topics = new Map()));
  let partitions = topics.get(topic);
  if (!partitions) topics.set(topic, (partitions = new Map()));
  partitions.set(partition, value);
}

function deleteOffset(cache: OffsetCache, group: string, topic: string, partition: number): void {
  const topics = cache.get(group);
  const partitions = topics?.get(topic);
  if (!topics || !partitions) return;
  partitions.delete(partition);
  if (partitions.size === 0) topics.delete(topic);
  if (topics.size === 0) cache.delete(group);
}
