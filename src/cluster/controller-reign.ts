// What the controller does while it is elected: one reign per controller epoch, from the election
// that started it to the deposition (or NOT_CONTROLLER from a write) that ends it. controller.ts
// starts and stops reigns; the decisions are partition-election.ts's pure functions; every write
// is fenced by this reign's ControllerFence and compare-and-set by partition epoch.
//
// Start: watch live brokers, topics with their partition states, and admin requests (each watch
// reads everything, then follows changes), then reconcile every partition:
//   - a partition without a state (a proposed topic, added partitions, a predecessor that died
//     mid-creation) gets initialPartitionState, once every replica registered in etcd shows in
//     the brokers watch (registeredButUnseen);
//   - every other gets partitionStateForCluster: dead leaders replaced, dead members out of the
//     ISR, leaderless partitions led once an eligible replica lives, and brokers that asked for
//     controlled shutdown out of leadership and ISRs where another ISR replica can take over. A
//     leader that registered again since its partition's state was written (a restart or a lost
//     session nobody saw as a leave) counts as dead for that partition (aliveForState), and so does
//     a broker whose replica of it is in a log directory it reported offline (a failed disk,
//     ClusterNow.forPartition): out of the ISR, never elected there.
// After that, each change marks work: a broker joining or leaving, a shutdown request and a report
// of offline replicas mark every partition (one pure pass over them all is cheap next to one etcd
// round trip); a topic record or partition state change marks its topic; a deletion request queues
// the deletion.
// One drain loop does the work, one step at a time, so bursts of events coalesce into one pass:
// deletions, then reconciliation (with the completion of partition reassignments whose target
// replicas have all joined the ISR), then queued ElectLeaders and AlterPartitionReassignments
// calls, then the rebalance check when its timer fired (auto.leader.rebalance.enable).
// Reassignments (partition-reassignment.ts) write a topic's record and changed states together,
// read fresh from etcd and compare-and-set (MetadataStore.reassignPartitions); the view keeps the
// record written aside until its watch shows it, so that no pass elects from stale replicas.
//
// Views (controller-view.ts): the reign's own writes are kept aside until the watches show them.
// A write refused with INVALID_UPDATE_VERSION (a leader's AlterPartition landed first) is
// recomputed from the current state etcd returned, up to WRITE_ATTEMPTS times; a partition still
// moving after that is marked again. States are only ever created for a topic the topics watch
// shows and this reign did not delete, so a deleted topic never gets orphan partition states.
//
// Errors: NOT_CONTROLLER from any write ends the reign (a successor exists or our key is gone), as
// does a closed etcd client; any other failure (etcd unreachable past the client's retry window) is logged and the whole
// pass is retried after RETRY_AFTER_ERROR_MS. Nothing is thrown out of a watch callback or timer.
import { SluiceError, isSluiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ControllerFence } from './controller-election.js';
import { ControllerView, partitionKey, type ClusterNow } from './controller-view.js';
import type { PartitionState } from './layout.js';
import type { MetadataStore, PartitionStateRecord, TopicView } from './metadata-store.js';
import {
  aliveForState,
  initialPartitionState,
  partitionStateForCluster,
  partitionsToRebalance,
  preferredLeaderElection,
  uncleanLeaderElection,
  type ElectionResult,
} from './partition-election.js';
import { completeReassignment, reassign, type ReassignmentStep } from './partition-reassignment.js';

/** The controller settings, resolved (controller.ts maps Kafka's names and defaults). */
export interface ReignConfig {
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalMs: number;
  leaderImbalancePerBrokerPercentage: number;
  uncleanLeaderElectionEnable: boolean;
}

export type ElectionType = 'PREFERRED' | 'UNCLEAN';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** One partition's answer to ElectLeaders (API 43): null when its leader was elected. */
export interface ElectionOutcome extends TopicPartitionRef {
  error: SluiceError | null;
}

/** One partition of AlterPartitionReassignments (API 45): its target replicas, or null to cancel. */
export interface ReassignmentRequest extends TopicPartitionRef {
  replicas: readonly number[] | null;
}

/** One partition's answer to AlterPartitionReassignments: null when started, completed or cancelled. */
export interface ReassignmentOutcome extends TopicPartitionRef {
  error: SluiceError | null;
}

/** A reassignment in flight, as ListPartitionReassignments (API 46) reports it. */
export interface OngoingReassignment extends TopicPartitionRef {
  replicas: number[];
  adding: number[];
  removing: number[];
}

interface PendingReassignment {
  requests: readonly ReassignmentRequest[];
  resolve(outcomes: ReassignmentOutcome[]): void;
  reject(error: unknown): void;
}

/** Writes of one pass whose partition epoch moved meanwhile are recomputed this often at most. */
const WRITE_ATTEMPTS = 5;
/** A pass that failed (etcd unreachable) is retried after this; the client already retried for its window. */
const RETRY_AFTER_ERROR_MS = 1000;

interface PlannedWrite {
  topic: string;
  topicId: string;
  partition: number;
  /** The epoch the state was computed from; 0 when the state does not exist yet. */
  partitionEpoch: number;
  state: PartitionState;
}

/** Recomputes a refused write from the current state: the next state, an error for the caller, or undefined (nothing to do now). */
type Recompute = (write: PlannedWrite, current: PartitionStateRecord) => PartitionState | SluiceError | undefined;

interface PendingElection {
  type: ElectionType;
  partitions: readonly TopicPartitionRef[] | null;
  resolve(outcomes: ElectionOutcome[]): void;
  reject(error: unknown): void;
}

/** Partitions named in one log line at most: a broker with thousands of partitions logs a count and a sample. */
const LOGGED_PARTITIONS_MAX = 20;

function logged(writes: readonly PlannedWrite[], describe: (write: PlannedWrite) => string = (w) => `${w.topic}-${w.partition}`) {
  return { count: writes.length, partitions: writes.slice(0, LOGGED_PARTITIONS_MAX).map(describe) };
}

function outcomeError(results: Map<string, SluiceError | null>, topic: string, partition: number): SluiceError | null {
  return results.get(partitionKey(topic, partition)) ?? null;
}

/** A topic's unclean.leader.election.enable, else the broker's default (Kafka parses booleans case-insensitively). */
export function uncleanLeaderElectionFor(configs: Record<string, string>, brokerDefault: boolean): boolean {
  const value = configs['unclean.leader.election.enable']?.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  return brokerDefault;
}

export class ControllerReign {
  private view: ControllerView | undefined;
  private loaded = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private wakeStart: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private drainImmediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private rebalanceTimer: NodeJS.Timeout | undefined;

  private allDirty = true;
  private readonly dirtyTopics = new Set<string>();
  private readonly pendingDeletions = new Set<string>();
  private readonly elections: PendingElection[] = [];
  private readonly reassignments: PendingReassignment[] = [];
  private rebalanceDue = false;

  constructor(
    private readonly store: MetadataStore,
    readonly fence: ControllerFence,
    private readonly config: ReignConfig,
    private readonly logger: Logger,
    private readonly onEnd: (reign: ControllerReign) => void,
  ) {}

  /** Loaded and not ended: the reign acts. */
  get isActive(): boolean {
    return this.loaded && !this.stopped;
  }

  /** Opens the watches (retrying while etcd is unreachable) and starts the first pass. */
  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<void> {
    const listener = {
      clusterChanged: () => {
        this.allDirty = true;
        this.schedule();
      },
      topicChanged: (topic: string) => {
        this.dirtyTopics.add(topic);
        this.schedule();
      },
      deletionRequested: (topic: string) => {
        this.pendingDeletions.add(topic);
        this.schedule();
      },
    };
    while (!this.stopped) {
      try {
        const view = await ControllerView.open(this.store, listener, this.logger);
        if (this.stopped) return void (await view.close());
        this.view = view;
        break;
      } catch (error) {
        if (this.stopped) return;
        this.logger.error({ err: error, epoch: this.fence.epoch }, 'controller could not load the cluster state; retrying');
        await new Promise<void>((resolve) => {
          this.wakeStart = resolve;
          this.retryTimer = setTimeout(resolve, RETRY_AFTER_ERROR_MS);
        });
        this.retryTimer = undefined;
      }
    }
    if (this.view === undefined) return;
    this.loaded = true;
    for (const topic of this.view.deletionRequests.keys()) this.pendingDeletions.add(topic);
    this.logger.info({ epoch: this.fence.epoch, brokers: this.view.liveBrokerIds, topics: this.view.topics(null).length }, 'controller active');
    this.armRebalance();
    this.schedule();
  }

  /** Brings every partition in line again, e.g. after a config the elections read has changed. */
  reconsiderAll(): void {
    this.allDirty = true;
    this.schedule();
  }

  /** ElectLeaders (API 43), run in turn with the reign's other work; null = every partition. */
  electLeaders(type: ElectionType, partitions: readonly TopicPartitionRef[] | null): Promise<ElectionOutcome[]> {
    if (this.stopped) return Promise.reject(this.notController());
    return new Promise((resolve, reject) => {
      this.elections.push({ type, partitions, resolve, reject });
      this.schedule();
    });
  }

  /** AlterPartitionReassignments (API 45), run in turn with the reign's other work. */
  alterPartitionReassignments(requests: readonly ReassignmentRequest[]): Promise<ReassignmentOutcome[]> {
    if (this.stopped) return Promise.reject(this.notController());
    return new Promise((resolve, reject) => {
      this.reassignments.push({ requests, resolve, reject });
      this.schedule();
    });
  }

  /** ListPartitionReassignments (API 46): the reassignments in flight among `partitions` (null: all), by topic and partition. */
  listPartitionReassignments(partitions: readonly TopicPartitionRef[] | null): OngoingReassignment[] {
    if (!this.isActive) throw this.notController();
    const wanted = partitions === null ? null : new Set(partitions.map(({ topic, partition }) => partitionKey(topic, partition)));
    const names = partitions === null ? null : [...new Set(partitions.map(({ topic }) => topic))];
    const ongoing: OngoingReassignment[] = [];
    for (const view of this.view!.topics(names)) {
      for (const [index, { adding, removing }] of Object.entries(view.reassignments ?? {})) {
        const partition = Number(index);
        if (wanted !== null && !wanted.has(partitionKey(view.name, partition))) continue;
        ongoing.push({ topic: view.name, partition, replicas: [...view.partitions[partition]!], adding: [...adding], removing: [...removing] });
      }
    }
    return ongoing.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** Ends the reign: no more writes, watches closed, no timer left. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.end();
    return this.stopping;
  }

  private async end(): Promise<void> {
    this.stopped = true;
    clearImmediate(this.drainImmediate);
    clearTimeout(this.retryTimer);
    clearTimeout(this.rebalanceTimer);
    this.wakeStart?.();
    for (const election of this.elections.splice(0)) election.reject(this.notController());
    for (const pending of this.reassignments.splice(0)) pending.reject(this.notController());
    await this.starting;
    await this.draining;
    const view = this.view;
    this.view = undefined;
    await view?.close();
    this.onEnd(this);
  }

  private notController(): SluiceError {
    return new SluiceError('NOT_CONTROLLER', `broker ${this.fence.brokerId} is no longer controller (its epoch was ${this.fence.epoch})`);
  }

  // ---- the work loop ---------------------------------------------------------------------------

  private schedule(): void {
    if (!this.loaded || this.stopped || this.drainImmediate !== undefined || this.draining !== undefined) return;
    // On the next turn, so that the events of one watch answer are one pass.
    this.drainImmediate = setImmediate(() => {
      this.drainImmediate = undefined;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        // Work queued after the loop's last look (a caller resuming before this callback, e.g. a
        // second ElectLeaders right after the first) starts now; a failed pass waits for its retry.
        if (this.retryTimer === undefined && this.hasWork()) this.schedule();
      });
    });
  }

  private hasWork(): boolean {
    return this.allDirty || this.dirtyTopics.size > 0 || this.pendingDeletions.size > 0 || this.elections.length > 0 || this.reassignments.length > 0 || this.rebalanceDue;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.hasWork()) {
        if (this.pendingDeletions.size > 0) {
          const topics = [...this.pendingDeletions];
          this.pendingDeletions.clear();
          await this.deleteTopics(topics);
        }
        if (this.stopped) return;
        if (this.allDirty || this.dirtyTopics.size > 0) {
          const names = this.allDirty ? null : [...this.dirtyTopics];
          this.allDirty = false;
          this.dirtyTopics.clear();
          await this.reconcile(names);
          await this.completeReassignments(names);
        }
        const election = this.elections.shift();
        if (election !== undefined && !this.stopped) {
          try {
            election.resolve(await this.elect(election.type, election.partitions));
          } catch (error) {
            election.reject(error);
            throw error;
          }
        }
        const reassignment = this.reassignments.shift();
        if (reassignment !== undefined && !this.stopped) {
          try {
            reassignment.resolve(await this.reassign(reassignment.requests));
          } catch (error) {
            reassignment.reject(error);
            throw error;
          }
        }
        if (this.rebalanceDue && !this.stopped) {
          this.rebalanceDue = false;
          await this.rebalance();
        }
      }
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    if (isSluiceError(error, 'NOT_CONTROLLER')) {
      this.logger.info({ epoch: this.fence.epoch, reason: error.message }, 'controller deposed: a write was refused');
      void this.stop();
      return;
    }
    if (isSluiceError(error, 'ENGINE_CLOSED')) {
      // The broker closed its etcd client without stopping the controller first: nothing more to do.
      this.logger.warn({ epoch: this.fence.epoch }, 'controller stopped: its etcd client is closed');
      void this.stop();
      return;
    }
    this.logger.error({ err: error, epoch: this.fence.epoch }, 'controller pass failed; retrying');
    // Start over: every partition, every pending deletion.
    this.allDirty = true;
    for (const topic of this.view?.deletionRequests.keys() ?? []) this.pendingDeletions.add(topic);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, RETRY_AFTER_ERROR_MS);
  }

  private armRebalance(): void {
    if (!this.config.autoLeaderRebalanceEnable || this.stopped) return;
    this.rebalanceTimer = setTimeout(() => {
      this.rebalanceDue = true;
      this.schedule();
      this.armRebalance();
    }, this.config.leaderImbalanceCheckIntervalMs);
    this.rebalanceTimer.unref();
  }

  // ---- steps -----------------------------------------------------------------------------------

  private async deleteTopics(topics: readonly string[]): Promise<void> {
    for (const topic of topics) {
      if (this.stopped) return;
      const request = this.view!.deletionRequests.get(topic);
      if (request === undefined) continue;
      try {
        await this.store.deleteTopic(this.fence, topic, request.topicId);
        this.view!.deleted(topic, request.topicId);
        this.logger.info({ topic, topicId: request.topicId }, 'controller deleted topic');
      } catch (error) {
        if (!isSluiceError(error, 'UNKNOWN_TOPIC_OR_PARTITION') && !isSluiceError(error, 'UNKNOWN_TOPIC_ID')) throw error;
        await this.store.removeTopicDeletionRequest(this.fence, topic, request.revision);
        this.logger.info({ topic, topicId: request.topicId }, 'controller dropped a deletion request: that topic is gone');
      }
    }
  }

  /**
   * The brokers a new partition of `names` names as replicas that are registered in etcd but not
   * yet in the brokers watch. Each broker follows etcd on its own watches, so the broker that took
   * a CreateTopics can have seen a broker join (and checked the assignment against it) before this
   * reign's brokers watch did; a first state written then would leave that replica out of the ISR
   * and, for a preferred replica, out of leadership for good (seen in CI right after a cluster
   * started). Such a partition waits for the join, whose event marks every partition again. One
   * etcd read, only when a new partition names a broker the view does not show.
   */
  private async registeredButUnseen(names: readonly string[] | null): Promise<Set<number>> {
    const view = this.view!;
    const isRegistered = view.now().isRegistered;
    const unseen = new Set<number>();
    for (const topic of view.topics(names)) {
      topic.partitions.forEach((replicas, partition) => {
        if (view.stateOf(topic, partition) === undefined) for (const id of replicas) if (!isRegistered(id)) unseen.add(id);
      });
    }
    const joining = await this.joining(unseen);
    if (joining.size > 0) this.logger.info({ brokers: [...joining] }, 'controller: new partitions wait for brokers registered in etcd but not yet in its view');
    return joining;
  }

  /**
   * Which of `unseen` (brokers the view does not show) are registered in etcd: brokers joining,
   * whose join the watch has yet to deliver. One etcd read, none when `unseen` is empty. A failed
   * read (etcd away, or a registration the watch could not decode either) leaves the view to
   * decide, as it would alone.
   */
  private async joining(unseen: ReadonlySet<number>): Promise<Set<number>> {
    if (unseen.size === 0) return new Set();
    let registered: Set<number>;
    try {
      registered = new Set((await this.store.liveBrokers()).map((broker) => broker.brokerId));
    } catch (error) {
      this.logger.warn({ err: error }, 'controller: could not read the registered brokers; its view of them decides');
      return new Set();
    }
    const seenNow = this.view!.now().isRegistered; // the watch may have caught up during the read
    return new Set([...unseen].filter((id) => registered.has(id) && !seenNow(id)));
  }

  /** Brings the partitions of `names` (null: all) in line with the brokers alive and shutting down. */
  private async reconcile(names: readonly string[] | null): Promise<void> {
    const joining = await this.registeredButUnseen(names);
    const now = this.view!.now();
    const epoch = this.fence.epoch;
    const planned: PlannedWrite[] = [];
    const unclean = new Map<string, boolean>();
    const next = (view: TopicView, partition: number, current: PartitionStateRecord) =>
      partitionStateForCluster(current, view.partitions[partition]!, aliveForState(current, now.forPartition(view.name, partition).isRegistered, now.brokerEpochOf), now.shuttingDown, unclean.get(view.name)!, epoch);
    const byName = new Map<string, TopicView>();
    for (const view of this.view!.topics(names)) {
      byName.set(view.name, view);
      unclean.set(view.name, uncleanLeaderElectionFor(view.configs, this.config.uncleanLeaderElectionEnable));
      view.partitions.forEach((replicas, partition) => {
        const current = this.view!.stateOf(view, partition);
        if (current === undefined && replicas.some((id) => joining.has(id))) return; // first state once the join shows
        const state = current === undefined ? initialPartitionState(replicas, now.forPartition(view.name, partition).isEligible, epoch) : next(view, partition, current);
        if (state !== undefined) planned.push({ topic: view.name, topicId: view.topicId, partition, partitionEpoch: current?.partitionEpoch ?? 0, state });
      });
    }
    if (planned.length === 0) return;
    const results = await this.write(planned, (write, current) => next(byName.get(write.topic)!, write.partition, current));
    const moved = planned.filter((write) => outcomeError(results, write.topic, write.partition) === null);
    if (moved.length > 0) {
      const describe = (w: PlannedWrite) => `${w.topic}-${w.partition}:${w.state.leader}@${w.state.leaderEpoch}[${w.state.isr.join(',')}]`;
      this.logger.info({ epoch, ...logged(moved, describe) }, 'controller wrote partition states');
    }
  }

  private decide(type: ElectionType, now: ClusterNow, topic: string, partition: number, state: PartitionState, replicas: readonly number[]): ElectionResult {
    const alive = now.forPartition(topic, partition);
    return type === 'PREFERRED'
      ? preferredLeaderElection(state, replicas, alive.isEligible, this.fence.epoch)
      : uncleanLeaderElection(state, replicas, alive.isRegistered, this.fence.epoch);
  }

  private async elect(type: ElectionType, requested: readonly TopicPartitionRef[] | null): Promise<ElectionOutcome[]> {
    const now = this.view!.now();
    const topics = new Map(this.view!.topics(null).map((view) => [view.name, view]));
    let refs: TopicPartitionRef[];
    if (requested === null) {
      refs = [...topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).flatMap((view) => view.partitions.map((_, partition) => ({ topic: view.name, partition })));
    } else {
      const seen = new Set<string>();
      refs = requested.filter((ref) => !seen.has(partitionKey(ref.topic, ref.partition)) && seen.add(partitionKey(ref.topic, ref.partition)) !== undefined);
    }
    const results = new Map<string, SluiceError | null>();
    const planned: PlannedWrite[] = [];
    for (const { topic, partition } of refs) {
      const view = topics.get(topic);
      const replicas = view?.partitions[partition];
      if (view === undefined || replicas === undefined) {
        results.set(partitionKey(topic, partition), new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`));
        continue;
      }
      const current = this.view!.stateOf(view, partition);
      if (current === undefined) {
        const code = type === 'PREFERRED' ? 'PREFERRED_LEADER_NOT_AVAILABLE' : 'ELIGIBLE_LEADERS_NOT_AVAILABLE';
        results.set(partitionKey(topic, partition), new SluiceError(code, `${topic}-${partition} has no state yet`));
        continue;
      }
      const decision = this.decide(type, now, topic, partition, current, replicas);
      if (decision.ok) planned.push({ topic, topicId: view.topicId, partition, partitionEpoch: current.partitionEpoch, state: decision.state });
      else results.set(partitionKey(topic, partition), decision.error);
    }
    const written = await this.write(planned, (write, current) => {
      const decision = this.decide(type, now, write.topic, write.partition, current, topics.get(write.topic)!.partitions[write.partition]!);
      return decision.ok ? decision.state : decision.error;
    });
    for (const [key, error] of written) results.set(key, error);
    if (planned.length > 0) this.logger.info({ type, ...logged(planned) }, 'controller ran leader elections');
    const outcomes = refs.map(({ topic, partition }) => ({ topic, partition, error: outcomeError(results, topic, partition) }));
    // Kafka's answer to an election over all partitions leaves out those that needed none.
    return requested === null ? outcomes.filter((outcome) => outcome.error?.code !== 'ELECTION_NOT_NEEDED') : outcomes;
  }

  /** AlterPartitionReassignments: each topic's partitions moved in one write (MetadataStore.reassignPartitions). */
  private async reassign(requests: readonly ReassignmentRequest[]): Promise<ReassignmentOutcome[]> {
    const results = new Map<string, SluiceError | null>();
    const byTopic = new Map<string, Map<number, ReassignmentRequest>>();
    for (const request of requests) {
      const partitions = byTopic.get(request.topic) ?? new Map<number, ReassignmentRequest>();
      partitions.set(request.partition, request); // a partition named twice takes its last target
      byTopic.set(request.topic, partitions);
    }
    const epoch = this.fence.epoch;
    // A target broker that registered a moment ago may not be in the view yet (the client saw it in
    // another broker's Metadata): one registered in etcd is alive to the checks below.
    const isRegistered = this.view!.now().isRegistered;
    const joining = await this.joining(new Set(requests.flatMap((request) => (request.replicas ?? []).filter((id) => !isRegistered(id)))));
    for (const [topic, asked] of byTopic) {
      if (this.stopped) throw this.notController();
      const setAll = (error: SluiceError | null) => {
        for (const partition of asked.keys()) results.set(partitionKey(topic, partition), error);
      };
      if (this.view!.topics([topic]).length === 0) {
        setAll(new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: topic '${topic}' does not exist`));
        continue;
      }
      const plan = (view: TopicView) => {
        const now = this.view!.now();
        const steps = new Map<number, ReassignmentStep>();
        for (const [partition, request] of asked) {
          const key = partitionKey(topic, partition);
          const replicas = view.partitions[partition];
          const state = view.states[partition];
          if (replicas === undefined) {
            results.set(key, new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`));
            continue;
          }
          if (state === undefined) {
            results.set(key, new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader yet`));
            continue;
          }
          const current = view.reassignments?.[String(partition)];
          const alive = now.forPartition(topic, partition).isRegistered;
          const decision = reassign(replicas, current, state, request.replicas, (id) => alive(id) || joining.has(id), epoch);
          if (!decision.ok) {
            results.set(key, decision.error);
            continue;
          }
          results.set(key, null);
          const { step } = decision;
          const same = step.state === undefined && step.reassignment === undefined && current === undefined && step.replicas.every((id, i) => replicas[i] === id) && step.replicas.length === replicas.length;
          if (!same) steps.set(partition, step);
        }
        return steps;
      };
      try {
        await this.writeReassignment(topic, plan, 'controller reassigned partitions');
      } catch (error) {
        if (isSluiceError(error, 'NOT_CONTROLLER') || isSluiceError(error, 'ENGINE_CLOSED') || !(error instanceof SluiceError)) throw error;
        setAll(error);
      }
    }
    return requests.map(({ topic, partition }) => ({ topic, partition, error: outcomeError(results, topic, partition) }));
  }

  /** Ends the reassignments of `names` (null: all) whose target replicas have all joined the ISR. */
  private async completeReassignments(names: readonly string[] | null): Promise<void> {
    const now = this.view!.now();
    const epoch = this.fence.epoch;
    const completions = (view: TopicView) => {
      const steps = new Map<number, ReassignmentStep>();
      for (const [index, reassignment] of Object.entries(view.reassignments ?? {})) {
        const partition = Number(index);
        const state = view.states[partition];
        const replicas = view.partitions[partition];
        if (state === undefined || replicas === undefined) continue;
        const step = completeReassignment({ replicas, reassignment }, state, now.forPartition(view.name, partition).isEligible, epoch);
        if (step !== undefined) steps.set(partition, step);
      }
      return steps;
    };
    for (const view of this.view!.topics(names)) {
      if (this.stopped) return;
      if (view.reassignments === undefined) continue;
      // From the view first: most passes (any ISR change) complete nothing and read nothing.
      const watched = { ...view, states: view.states.map((_, p) => this.view!.stateOf(view, p)) };
      if (completions(watched).size === 0) continue;
      try {
        await this.writeReassignment(view.name, (fresh) => completions(fresh), 'controller completed partition reassignments');
      } catch (error) {
        if (!isSluiceError(error, 'UNKNOWN_TOPIC_OR_PARTITION') && !isSluiceError(error, 'INVALID_UPDATE_VERSION')) throw error;
        this.dirtyTopics.add(view.name); // deleted meanwhile (the watch will say) or still moving: look again
      }
    }
  }

  private async writeReassignment(topic: string, plan: (view: TopicView) => ReadonlyMap<number, ReassignmentStep>, message: string): Promise<void> {
    let planned = new Map<number, ReassignmentStep>();
    const { view, written } = await this.store.reassignPartitions(this.fence, topic, (fresh) => (planned = new Map(plan(fresh))));
    if (planned.size === 0) return;
    this.view!.rememberTopic(view);
    for (const record of written) this.view!.remember(view.topicId, record);
    const describe = ([partition, step]: [number, ReassignmentStep]) =>
      `${topic}-${partition}:[${step.replicas.join(',')}]${step.reassignment ? `+[${step.reassignment.adding.join(',')}]-[${step.reassignment.removing.join(',')}]` : ''}${step.state ? `:${step.state.leader}@${step.state.leaderEpoch}[${step.state.isr.join(',')}]` : ''}`;
    const entries = [...planned];
    this.logger.info({ epoch: this.fence.epoch, count: entries.length, partitions: entries.slice(0, LOGGED_PARTITIONS_MAX).map(describe) }, message);
  }

  /** auto.leader.rebalance.enable: preferred elections where a broker's share of lost leaderships is above the threshold. */
  private async rebalance(): Promise<void> {
    const now = this.view!.now();
    const candidates = this.view!.topics(null).flatMap((view) =>
      view.partitions.flatMap((replicas, partition) => {
        const state = this.view!.stateOf(view, partition);
        return state === undefined ? [] : [{ view, partition, replicas, state }];
      }),
    );
    const planned: PlannedWrite[] = [];
    for (const { view, partition, replicas, state } of partitionsToRebalance(candidates, now.isEligible, this.config.leaderImbalancePerBrokerPercentage)) {
      const decision = this.decide('PREFERRED', now, view.name, partition, state, replicas);
      if (decision.ok) planned.push({ topic: view.name, topicId: view.topicId, partition, partitionEpoch: state.partitionEpoch, state: decision.state });
    }
    if (planned.length === 0) return;
    const replicasOf = new Map(candidates.map((c) => [partitionKey(c.view.name, c.partition), c.replicas]));
    await this.write(planned, (write, current) => {
      const decision = this.decide('PREFERRED', now, write.topic, write.partition, current, replicasOf.get(partitionKey(write.topic, write.partition))!);
      return decision.ok ? decision.state : undefined;
    });
    this.logger.info(logged(planned), 'controller rebalanced preferred leaders');
  }

  /**
   * Writes `planned` (fenced, compare-and-set), recomputing refused ones from the state etcd
   * returned. The result maps each partition to null (written, or nothing left to do) or the
   * error to report for it. NOT_CONTROLLER is thrown.
   */
  private async write(planned: readonly PlannedWrite[], recompute: Recompute): Promise<Map<string, SluiceError | null>> {
    const results = new Map<string, SluiceError | null>();
    let pending = [...planned];
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (this.stopped) throw this.notController();
      const answers = await this.store.updatePartitionStates(
        this.fence,
        pending.map(({ topic, partition, partitionEpoch, state }) => ({ topic, partition, partitionEpoch, state })),
      );
      const retry: PlannedWrite[] = [];
      pending.forEach((write, i) => {
        const answer = answers[i]!;
        const key = partitionKey(write.topic, write.partition);
        if (answer.ok) {
          this.view!.remember(write.topicId, answer.record);
          results.set(key, null);
          return;
        }
        const current = answer.current;
        if (current === undefined) {
          // Gone under us (its topic deleted): never re-create it; the topics watch will say.
          results.set(key, new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${write.topic}-${write.partition}`));
          this.dirtyTopics.add(write.topic);
          return;
        }
        this.view!.remember(write.topicId, current);
        const next = attempt < WRITE_ATTEMPTS ? recompute(write, current) : answer.error;
        if (next instanceof SluiceError) {
          results.set(key, next);
          if (next.code === 'INVALID_UPDATE_VERSION') this.dirtyTopics.add(write.topic);
        } else if (next === undefined) results.set(key, null);
        else retry.push({ ...write, partitionEpoch: current.partitionEpoch, state: next });
      });
      pending = retry;
    }
    return results;
  }
}
