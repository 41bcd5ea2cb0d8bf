// The CLI's consumers as members of a consumer group (`consume --group`, `perf consume --group`):
// a Fetcher reads what the group assigns, from the committed offsets (else from `start`), and
// what the command has handled is committed every auto.commit.interval.ms, on revoke and on stop,
// as Kafka's consumer with enable.auto.commit does. Eager assignors revoke everything before a
// rebalance and then assign everything again; cooperative ones (CooperativeStickyAssignor) revoke
// and assign only what moves, so the callbacks change the fetcher's partitions rather than
// replace them. A failed commit (the topic deleted, the coordinator moving) is a warning, as
// Kafka's consumer logs a failed auto-commit: it never stops a rebalance or the exit.
import { partitionKey } from '../client/assignors.js';
import { METADATA_MAX_AGE_MS_DEFAULT, type KafkaClient } from '../client/client.js';
import type { Fetcher, StartOffset } from '../client/fetcher.js';
import { GroupMember, type TopicPartition } from '../client/group-member.js';
import type { ConsumerProperties } from './consumer-properties.js';

/** How often what was handled is committed (Kafka's auto.commit.interval.ms, 5 s). */
const AUTO_COMMIT_INTERVAL_MS = 5000;

export interface GroupReading {
  client: KafkaClient;
  fetcher: Fetcher;
  group: string;
  topics: string[];
  /** --include's pattern: the group member follows the topics it matches. */
  pattern?: RegExp;
  start: StartOffset;
  properties: ConsumerProperties;
  /** The offset to commit for a partition: the next after what the command has handled, if any. */
  committable: (tp: TopicPartition) => number | undefined;
  /** A partition given up, after its last commit. */
  revoked?: (tp: TopicPartition) => void;
  /** A fatal error of the membership (FENCED_INSTANCE_ID, ...). */
  onFatal: (error: Error) => void;
}

/** Joins the group and starts reading what it assigns; returns the stop (last commit, leave). */
export async function joinGroup({ client, fetcher, group, topics, pattern, start, properties, committable, revoked, onFatal }: GroupReading): Promise<() => Promise<void>> {
  const owned = new Map<string, TopicPartition>();
  // With enable.auto.commit=false, never.
  const commit = async (which: Iterable<TopicPartition>) => {
    if (!properties.autoCommit) return;
    const offsets = [...which].flatMap((tp) => {
      const offset = committable(tp);
      return offset === undefined ? [] : [{ topic: tp.topic, partition: tp.partition, offset }];
    });
    await member.commitOffsets(offsets).catch((error: Error) => process.stderr.write(`WARNING: offset commit of group ${group} failed: ${error.message}\n`));
  };
  const member: GroupMember = new GroupMember(client, {
    assignors: ['range', 'cooperative-sticky'],
    ...properties.group,
    groupId: group,
    topics,
    topicPattern: pattern,
    metadataMaxAgeMs: properties.metadataMaxAgeMs ?? METADATA_MAX_AGE_MS_DEFAULT,
    onAssigned: async (assigned) => {
      const committed = await member.fetchCommittedOffsets(assigned);
      for (const tp of assigned) {
        const offset = committed.get(partitionKey(tp)) ?? -1;
        await fetcher.assign(tp.topic, tp.partition, offset >= 0 ? offset : start);
        owned.set(partitionKey(tp), tp);
      }
    },
    onError: onFatal,
    onRevoking: async (partitions, reason) => {
      if (reason !== 'lost') await commit(partitions);
      for (const tp of partitions) {
        fetcher.unassign(tp.topic, tp.partition);
        owned.delete(partitionKey(tp));
        revoked?.(tp);
      }
    },
  });
  await member.start();
  const commitTimer = setInterval(() => void commit(owned.values()), properties.autoCommitIntervalMs ?? AUTO_COMMIT_INTERVAL_MS);
  return async () => {
    clearInterval(commitTimer);
    await commit(owned.values());
    await member.stop();
  };
}
