// The cluster controller, as Kafka's in ZooKeeper mode: every broker runs one; the one elected
// through etcd (controller-election.ts) acts, the others wait their turn. Brokers write admin
// requests to the store without a fence (MetadataStore.proposeTopic, addPartitions,
// alterTopicConfigs, requestTopicDeletion, requestControlledShutdown); the controller acts on them,
// and on brokers joining and leaving, with writes fenced by its election (controller-reign.ts).
//
//   const controller = await Controller.start({ store, session, config: { ... }, logger });
//   controller.isActive / controller.epoch          // elected and acting; its controller epoch
//   await controller.electLeaders('PREFERRED', [{ topic, partition }])   // ElectLeaders (API 43)
//   await controller.alterPartitionReassignments([{ topic, partition, replicas: [2, 3] }])  // API 45
//   controller.listPartitionReassignments(null)     // ListPartitionReassignments (API 46)
//   await controller.stop()                         // resign; watches and timers gone
//
// One Controller belongs to one broker session, like its election: when the session is lost the
// election stops (deposing a reigning controller) and the broker starts a new Controller on its
// new session. A reign lasts from `elected` to `deposed`, or to a write refused with NOT_CONTROLLER
// (the key is gone or a successor exists; the election's watch then says so too and campaigns).
//
// Config (Kafka's names; the broker maps its config to these):
//   auto.leader.rebalance.enable             autoLeaderRebalanceEnable          true
//   leader.imbalance.check.interval.seconds  leaderImbalanceCheckIntervalMs     300000 (300 s)
//   leader.imbalance.per.broker.percentage   leaderImbalancePerBrokerPercentage 10
//   unclean.leader.election.enable           uncleanLeaderElectionEnable        false (a topic's own
//                                            config of that name overrides it)
//
// Controlled shutdown from the broker's side: requestControlledShutdown(session), then wait until
// leadershipsToMove(topics, brokerId, isAlive, shuttingDown) (partition-election.ts) is empty in its
// topics and brokers watches (with a deadline: the controller may be gone), then stop. What stays
// (partitions without another live ISR replica) it leads until it stops.
import { SluiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BrokerSession } from './broker-session.js';
import type { ControllerElection, ControllerFence } from './controller-election.js';
import {
  ControllerReign,
  type ElectionOutcome,
  type ElectionType,
  type OngoingReassignment,
  type ReassignmentOutcome,
  type ReassignmentRequest,
  type ReignConfig,
  type TopicPartitionRef,
} from './controller-reign.js';
import type { MetadataStore } from './metadata-store.js';

export type { ElectionOutcome, ElectionType, OngoingReassignment, ReassignmentOutcome, ReassignmentRequest, TopicPartitionRef } from './controller-reign.js';

export interface ControllerConfig {
  /** auto.leader.rebalance.enable. Default true. */
  autoLeaderRebalanceEnable?: boolean;
  /** leader.imbalance.check.interval.seconds x 1000. Default 300000. */
  leaderImbalanceCheckIntervalMs?: number;
  /** leader.imbalance.per.broker.percentage, 0..100. Default 10. */
  leaderImbalancePerBrokerPercentage?: number;
  /** unclean.leader.election.enable: the broker default that a topic's config overrides. Default false. */
  uncleanLeaderElectionEnable?: boolean;
}

export interface ControllerStartOptions {
  store: MetadataStore;
  session: BrokerSession;
  config?: ControllerConfig;
  logger: Logger;
}

export const CONTROLLER_DEFAULTS: ReignConfig = {
  autoLeaderRebalanceEnable: true,
  leaderImbalanceCheckIntervalMs: 300_000,
  leaderImbalancePerBrokerPercentage: 10,
  uncleanLeaderElectionEnable: false,
};

function resolveConfig(config: ControllerConfig): ReignConfig {
  const resolved = { ...CONTROLLER_DEFAULTS, ...Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) };
  if (!Number.isFinite(resolved.leaderImbalanceCheckIntervalMs) || resolved.leaderImbalanceCheckIntervalMs <= 0) {
    throw new SluiceError('INVALID_CONFIG', `leader.imbalance.check.interval.seconds must be positive, not ${resolved.leaderImbalanceCheckIntervalMs / 1000}`);
  }
  const percent = resolved.leaderImbalancePerBrokerPercentage;
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new SluiceError('INVALID_CONFIG', `leader.imbalance.per.broker.percentage must be in 0..100, not ${percent}`);
  }
  return resolved;
}

export class Controller {
  private election: ControllerElection | undefined;
  private reign: ControllerReign | undefined;
  private readonly ending = new Set<Promise<void>>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private unfollowLevel: () => void = () => {};

  private constructor(
    private readonly store: MetadataStore,
    private readonly session: BrokerSession,
    private readonly config: ReignConfig,
    private readonly logger: Logger,
  ) {}

  /** Starts campaigning for this session; the controller acts whenever it is elected. */
  static async start(options: ControllerStartOptions): Promise<Controller> {
    const config = resolveConfig(options.config ?? {});
    const logger = options.logger.child({ component: 'controller', brokerId: options.session.brokerId });
    const controller = new Controller(options.store, options.session, config, logger);
    // A pino child keeps the level it was made with: it follows the broker's (broker-loggers).
    // Children share their parent's listeners, so the child's own change comes here too: it is
    // left alone, or setting it would emit again without end.
    const follow = (level: string) => {
      if (logger.level !== level) logger.level = level;
    };
    options.logger.on('level-change', follow);
    controller.unfollowLevel = () => options.logger.off('level-change', follow);
    controller.election = await options.store.startElection(options.session, {
      elected: (fence) => controller.elected(fence),
      deposed: (fence) => controller.deposed(fence),
      error: (error) => logger.warn({ err: error }, 'controller campaign failed; retrying'),
    });
    return controller;
  }

  /** A new broker default of unclean.leader.election.enable (a dynamic broker config): the reign reconsiders every partition. */
  setUncleanLeaderElectionEnable(enable: boolean): void {
    this.config.uncleanLeaderElectionEnable = enable;
    this.reign?.reconsiderAll();
  }

  /** Elected, loaded and acting. */
  get isActive(): boolean {
    return this.reign?.isActive ?? false;
  }

  /** The controller epoch of the current reign (undefined when not controller). */
  get epoch(): number | undefined {
    return this.reign?.fence.epoch;
  }

  /** The current reign's fence (undefined when not controller). */
  get fence(): ControllerFence | undefined {
    return this.reign?.fence;
  }

  /**
   * ElectLeaders (API 43) for `partitions` (null: all partitions; then the answer leaves out those
   * that needed no election, as Kafka's does). Each outcome's error is null or one of
   * ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
   * UNKNOWN_TOPIC_OR_PARTITION. NOT_CONTROLLER (thrown) when this broker is not the active controller.
   */
  electLeaders(type: ElectionType, partitions: readonly TopicPartitionRef[] | null): Promise<ElectionOutcome[]> {
    const reign = this.activeReign();
    return reign instanceof SluiceError ? Promise.reject(reign) : reign.electLeaders(type, partitions);
  }

  /**
   * AlterPartitionReassignments (API 45): moves each partition to its target replicas, or cancels
   * its reassignment (replicas null). Each outcome's error is null or one of
   * INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION,
   * LEADER_NOT_AVAILABLE. NOT_CONTROLLER (thrown) when this broker is not the active controller.
   */
  alterPartitionReassignments(requests: readonly ReassignmentRequest[]): Promise<ReassignmentOutcome[]> {
    const reign = this.activeReign();
    return reign instanceof SluiceError ? Promise.reject(reign) : reign.alterPartitionReassignments(requests);
  }

  /** ListPartitionReassignments (API 46) among `partitions` (null: all). NOT_CONTROLLER (thrown). */
  listPartitionReassignments(partitions: readonly TopicPartitionRef[] | null): OngoingReassignment[] {
    const reign = this.activeReign();
    if (reign instanceof SluiceError) throw reign;
    return reign.listPartitionReassignments(partitions);
  }

  private activeReign(): ControllerReign | SluiceError {
    const reign = this.reign;
    if (reign !== undefined && reign.isActive) return reign;
    const controller = this.election?.controller;
    const now = controller === undefined ? 'no controller now' : `broker ${controller.brokerId} is controller`;
    return new SluiceError('NOT_CONTROLLER', `broker ${this.session.brokerId} is not the active controller (${now})`);
  }

  /** Resigns if controller and stops campaigning; resolves when no watch or timer of it is left. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.end();
    return this.stopping;
  }

  private async end(): Promise<void> {
    this.stopped = true;
    this.unfollowLevel();
    try {
      await this.election?.resign(); // deposes a reign (deposed below)
    } catch (error) {
      this.logger.warn({ err: error }, 'controller could not resign (its key goes with its session)');
      await this.election?.stop();
    }
    const reign = this.reign;
    this.reign = undefined;
    if (reign !== undefined) this.track(reign.stop());
    await Promise.all(this.ending);
  }

  private elected(fence: ControllerFence): void {
    if (this.stopped) return;
    this.logger.info({ epoch: fence.epoch }, 'elected controller');
    const reign = new ControllerReign(this.store, fence, this.config, this.logger, (ended) => {
      if (this.reign === ended) this.reign = undefined;
    });
    this.reign = reign;
    void reign.start();
  }

  private deposed(fence: ControllerFence): void {
    this.logger.info({ epoch: fence.epoch }, 'controller deposed');
    const reign = this.reign;
    if (reign === undefined || reign.fence.controllerCreateRevision !== fence.controllerCreateRevision) return;
    this.reign = undefined;
    this.track(reign.stop());
  }

  private track(ending: Promise<void>): void {
    this.ending.add(ending);
    void ending.finally(() => this.ending.delete(ending));
  }
}
