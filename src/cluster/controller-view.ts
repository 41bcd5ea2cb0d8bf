// What a reigning controller knows (controller-reign.ts decides and writes from it): live
// brokers, topics with their partition states, and pending admin requests, each from a watch that
// read everything at the start of the reign and follows every change after.
//
// The watches lag the reign's own writes by a round trip, so the states the reign wrote (or that
// etcd returned when a compare-and-set was refused) are kept aside until the topics watch shows
// them or something newer: stateOf answers the newest state known, by partition epoch, and
// topics() the newest topic record (a reassignment's), by revision. The topics
// a reign deleted are hidden until the watch drops them, so that no state is ever created for a
// deleted topic; a topic re-created under the same name has a new topic id and shows at once.
import type { Logger } from '../logger.js';
import type { AdminRequestsWatch, TopicDeletionRequestRecord } from './admin-requests.js';
import type { BrokersWatch, MetadataStore, PartitionStateRecord, TopicsWatch, TopicView } from './metadata-store.js';
import type { IsAlive } from './partition-election.js';

/** Who may do what, at one moment. */
export interface ClusterNow {
  isRegistered: IsAlive;
  /** Registered brokers that asked for controlled shutdown. */
  shuttingDown: ReadonlySet<number>;
  /** Registered and not shutting down: may become leader by election or rebalance. */
  isEligible: IsAlive;
  /** The broker epoch (create revision of its registration) of a registered broker. */
  brokerEpochOf(brokerId: number): number | undefined;
  /**
   * isRegistered and isEligible for one partition: a broker whose replica of it is in an offline
   * log directory (a failed disk, reported by the broker) counts as dead there.
   */
  forPartition(topic: string, partition: number): { isRegistered: IsAlive; isEligible: IsAlive };
}

/** What the view tells its reign. */
export interface ControllerViewListener {
  /** A broker joined or left, a shutdown request came or went, or a broker's offline replicas changed: every partition may be affected. */
  clusterChanged(): void;
  /** A topic record or one of its partition states changed. */
  topicChanged(topic: string): void;
  deletionRequested(topic: string): void;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ControllerView {
  private readonly aside = new Map<string, { topicId: string; record: PartitionStateRecord }>();
  private readonly deletedTopicIds = new Set<string>();
  private readonly topicsAside = new Map<string, TopicView>();

  private constructor(
    private readonly brokers: BrokersWatch,
    private readonly topicsWatch: TopicsWatch,
    private readonly admin: AdminRequestsWatch,
  ) {}

  /** Opens the three watches (closing those opened if one fails). */
  static async open(store: MetadataStore, listener: ControllerViewListener, logger: Logger): Promise<ControllerView> {
    const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, `controller: ${what} watch error`);
    const opened: { close(): Promise<void> }[] = [];
    try {
      const changed = () => listener.clusterChanged();
      const brokers = await store.watchBrokers({ join: changed, leave: changed, error: warn('brokers') });
      opened.push(brokers);
      const topic = (name: string) => listener.topicChanged(name);
      const topics = await store.watchTopics({ topic, partition: topic, error: warn('topics') });
      opened.push(topics);
      const admin = await store.watchAdminRequests({
        deletion: (name, request) => request !== undefined && listener.deletionRequested(name),
        shutdown: changed,
        offlineReplicas: changed,
        error: warn('admin requests'),
      });
      return new ControllerView(brokers, topics, admin);
    } catch (error) {
      await Promise.all(opened.map((watch) => watch.close().catch(() => undefined)));
      throw error;
    }
  }

  close(): Promise<void> {
    return Promise.all([this.brokers, this.topicsWatch, this.admin].map((watch) => watch.close().catch(() => undefined))).then(() => undefined);
  }

  get liveBrokerIds(): number[] {
    return [...this.brokers.live.keys()];
  }

  get deletionRequests(): ReadonlyMap<string, TopicDeletionRequestRecord> {
    return this.admin.deletions;
  }

  now(): ClusterNow {
    const live = this.brokers.live;
    const shuttingDown = this.admin.shuttingDown(live);
    const isRegistered = (id: number) => live.has(id);
    const isEligible = (id: number) => isRegistered(id) && !shuttingDown.has(id);
    const offline = this.admin.offlineReplicas(live);
    const whole = { isRegistered, isEligible };
    return {
      isRegistered,
      shuttingDown,
      isEligible,
      brokerEpochOf: (id) => live.get(id)?.brokerEpoch,
      forPartition: (topic, partition) =>
        offline === null
          ? whole
          : { isRegistered: (id) => isRegistered(id) && !offline(id, topic, partition), isEligible: (id) => isEligible(id) && !offline(id, topic, partition) },
    };
  }

  /** The topics named (null: all) that exist and were not deleted by this reign. */
  topics(names: readonly string[] | null): TopicView[] {
    const all = this.topicsWatch.topics;
    const views = names === null ? [...all.values()] : names.map((name) => all.get(name)).filter((view): view is TopicView => view !== undefined);
    return views.filter((view) => !this.deletedTopicIds.has(view.topicId)).map((view) => this.newerRecord(view));
  }

  /**
   * A topic record the reign wrote (a reassignment), newer than the watch may show: the topics
   * view answers it, with each partition's newest state, until the watch catches up.
   */
  rememberTopic(view: TopicView): void {
    const aside = this.topicsAside.get(view.name);
    if (aside === undefined || aside.topicId !== view.topicId || aside.revision < view.revision) this.topicsAside.set(view.name, view);
  }

  private newerRecord(watched: TopicView): TopicView {
    const aside = this.topicsAside.get(watched.name);
    if (aside === undefined) return watched;
    if (aside.topicId !== watched.topicId || aside.revision <= watched.revision) {
      this.topicsAside.delete(watched.name); // the watch caught up, or another incarnation
      return watched;
    }
    const states = aside.states.map((state, p) => {
      const seen = watched.states[p];
      return seen !== undefined && (state === undefined || seen.partitionEpoch > state.partitionEpoch) ? seen : state;
    });
    return { ...aside, states };
  }

  /** The newest state known of a partition: the watch's, or one kept aside that the watch does not show yet. */
  stateOf(view: TopicView, partition: number): PartitionStateRecord | undefined {
    const key = partitionKey(view.name, partition);
    const watched = view.states[partition];
    const aside = this.aside.get(key);
    if (aside !== undefined && aside.topicId === view.topicId && (watched === undefined || aside.record.partitionEpoch > watched.partitionEpoch)) return aside.record;
    if (aside !== undefined) this.aside.delete(key); // the watch caught up, or another incarnation
    return watched;
  }

  /** A state written by the reign, or read from etcd, newer than the watch may show. */
  remember(topicId: string, record: PartitionStateRecord): void {
    const key = partitionKey(record.topic, record.partition);
    const aside = this.aside.get(key);
    if (aside === undefined || aside.topicId !== topicId || aside.record.partitionEpoch < record.partitionEpoch) this.aside.set(key, { topicId, record });
  }

  /** The reign deleted this incarnation of the topic. */
  deleted(topic: string, topicId: string): void {
    this.deletedTopicIds.add(topicId);
    this.topicsAside.delete(topic);
    for (const key of [...this.aside.keys()]) if (key.startsWith(`${topic}\u0000`)) this.aside.delete(key);
  }
}
