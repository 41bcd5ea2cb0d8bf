// The server-side assignors of the consumer group protocol (KIP-848): the coordinator, not a
// member, computes the target assignment, by Kafka's names 'uniform' (the default) and 'range'.
//
// uniform: every partition of every subscribed topic goes to one member subscribed to its topic,
// each member's count within one of every other member's that could take the same partitions,
// and a partition stays where it was when that keeps the balance (Kafka's UniformAssignor gives
// the same guarantees; this is a simpler greedy of our own: keep, fill the least loaded, then
// move from the most loaded while that narrows the gap). range: per topic, the partitions in
// contiguous ranges over the subscribed members sorted by id, the first ones taking one more
// (Kafka's RangeAssignor, which ignores the previous assignment).
import type { Assignment } from './consumer-group.js';

export const UNIFORM_ASSIGNOR = 'uniform';
export const RANGE_ASSIGNOR = 'range';
/** group.consumer.assignors' default, in Kafka's order: the first is used when a member names none. */
export const SERVER_ASSIGNORS: readonly string[] = [UNIFORM_ASSIGNOR, RANGE_ASSIGNOR];

export interface AssignmentSpec {
  /** Each member's subscribed topic ids (resolved from names and regex) and its current target. */
  members: ReadonlyMap<string, { topics: ReadonlySet<string>; target: Assignment | undefined }>;
  /** Partition count of every subscribed topic, by topic id. */
  partitionCounts: ReadonlyMap<string, number>;
}

/** The new target assignment of every member (an empty one for a member with nothing to take). */
export function assign(assignor: string, spec: AssignmentSpec): Map<string, Assignment> {
  return assignor === RANGE_ASSIGNOR ? rangeAssign(spec) : uniformAssign(spec);
}

function rangeAssign(spec: AssignmentSpec): Map<string, Assignment> {
  const result = new Map<string, Assignment>([...spec.members.keys()].map((id) => [id, new Map()]));
  for (const [topicId, count] of spec.partitionCounts) {
    const members = [...spec.members].filter(([, m]) => m.topics.has(topicId)).map(([id]) => id).sort();
    if (members.length === 0) continue;
    const per = Math.floor(count / members.length);
    const extra = count % members.length;
    let next = 0;
    members.forEach((id, i) => {
      const take = per + (i < extra ? 1 : 0);
      if (take === 0) return;
      const partitions = new Set<number>();
      for (let p = next; p < next + take; p++) partitions.add(p);
      result.get(id)!.set(topicId, partitions);
      next += take;
    });
  }
  return result;
}

function uniformAssign(spec: AssignmentSpec): Map<string, Assignment> {
  const ids = [...spec.members.keys()].sort();
  const owned = new Map<string, string[]>(ids.map((id) => [id, []])); // member -> "topicId:p"
  const ownerOf = new Map<string, string>();
  const eligible = (memberId: string, topicId: string) => spec.members.get(memberId)!.topics.has(topicId);
  const give = (memberId: string, key: string) => {
    owned.get(memberId)!.push(key);
    ownerOf.set(key, memberId);
  };

  // Keep what each member had, while it is still subscribed and the partition still exists.
  for (const id of ids) {
    for (const [topicId, partitions] of spec.members.get(id)!.target ?? []) {
      const count = spec.partitionCounts.get(topicId);
      if (count === undefined || !eligible(id, topicId)) continue;
      for (const p of partitions) {
        const key = `${topicId}:${p}`;
        if (p < count && !ownerOf.has(key)) give(id, key);
      }
    }
  }
  // Every unowned partition to the least loaded member that may take it (ties: the smaller id).
  const topics = [...spec.partitionCounts.keys()].sort();
  for (const topicId of topics) {
    const candidates = ids.filter((id) => eligible(id, topicId));
    if (candidates.length === 0) continue;
    for (let p = 0; p < spec.partitionCounts.get(topicId)!; p++) {
      const key = `${topicId}:${p}`;
      if (ownerOf.has(key)) continue;
      let best = candidates[0]!;
      for (const id of candidates) if (owned.get(id)!.length < owned.get(best)!.length) best = id;
      give(best, key);
    }
  }
  // Move partitions from a member to one that may take them and has at least two fewer, until
  // none can move: each move narrows a gap, so this ends. A bound on passes guards the loop.
  for (let pass = 0, moved = true; moved && pass < 10_000; pass++) {
    moved = false;
    const byLoad = [...ids].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1));
    for (const from of byLoad) {
      const keys = owned.get(from)!;
      for (let i = keys.length - 1; i >= 0 && !moved; i--) {
        const key = keys[i]!;
        const topicId = key.slice(0, key.lastIndexOf(':'));
        const to = byLoad.findLast((id) => id !== from && eligible(id, topicId) && owned.get(id)!.length + 1 < keys.length);
        if (to === undefined) continue;
        keys.splice(i, 1);
        give(to, key);
        moved = true;
      }
      if (moved) break;
    }
  }

  const result = new Map<string, Assignment>();
  for (const id of ids) {
    const assignment: Assignment = new Map();
    for (const key of owned.get(id)!) {
      const colon = key.lastIndexOf(':');
      const topicId = key.slice(0, colon);
      let partitions = assignment.get(topicId);
      if (!partitions) assignment.set(topicId, (partitions = new Set()));
      partitions.add(Number(key.slice(colon + 1)));
    }
    result.set(id, assignment);
  }
  return result;
}
