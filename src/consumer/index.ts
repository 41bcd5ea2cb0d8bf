// The pool consumer: handlers on a piscina worker pool, fed by a consumer group or an embedded engine.
export { PoolConsumer, HandlerError } from './pool-consumer.js';
export type { PoolConsumerOptions, PoolConsumerMetrics, PoolConsumerEvents } from './pool-consumer.js';
export type { PoolBatch, PoolRecord } from './batch.js';
export { GroupMember } from '../client/group-member.js';
export type { GroupMemberOptions, RevokeReason, CommitOffset, TopicPartition } from '../client/group-member.js';
export { rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor, kafkajsRoundRobinAssignor } from '../client/assignors.js';
export type { Assignor, AssignorName, MemberSubscription, Subscription } from '../client/assignors.js';
