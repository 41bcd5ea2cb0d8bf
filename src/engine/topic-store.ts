// The engine's topic metadata: name, id, partition count and config overrides of every topic,
// kept in `<dataDir>/topics.json` (rewritten whole and atomically on each change; a data directory
// holds thousands of topics at most, so a rewrite is a few hundred KB at worst).
//
//   { "version": 1, "topics": { "events": { "id": "<uuid>", "partitions": 3,
//                                           "replicationFactor": 1, "config": { "retention.ms": "86400000" } } } }
//
// A broker of a cluster adds "hosted": [0, 2] to a topic of which it holds some partitions only.
import fs from 'node:fs';
import path from 'node:path';

import { writeFileAtomically } from '../storage/checkpoint-file.js';

export const TOPICS_FILE = 'topics.json';
const VERSION = 1;

export interface TopicMetadata {
  /** Kafka's topic id: a UUID, fixed for the life of the topic. */
  id: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level overrides only; defaults come from the engine's config. */
  config: Record<string, string>;
  /**
   * The partitions whose logs this data directory holds, ascending, when not all of them: a
   * broker of a cluster holds the partitions it is a replica of, as Kafka's brokers do.
   */
  hosted?: number[];
}

/** The partitions of the topic whose logs are here, ascending. */
export function hostedPartitions(metadata: TopicMetadata): readonly number[] {
  return metadata.hosted ?? Array.from({ length: metadata.partitions }, (_, partition) => partition);
}

/** Whether the partition's log is here. */
export function hosts(metadata: TopicMetadata, partition: number): boolean {
  if (!Number.isInteger(partition) || partition < 0 || partition >= metadata.partitions) return false;
  const hosted = metadata.hosted;
  if (hosted === undefined) return true;
  // Ascending: a binary search, as a data directory's open asks once per partition directory.
  let low = 0;
  let high = hosted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (hosted[middle] === partition) return true;
    if (hosted[middle]! < partition) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

export class TopicStore {
  private readonly filePath: string;
  private readonly topics: Map<string, TopicMetadata>;

  constructor(dataDir: string) {
    this.filePath = path.join(dataDir, TOPICS_FILE);
    this.topics = new Map(Object.entries(readTopics(this.filePath)));
  }

  get(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  names(): string[] {
    return [...this.topics.keys()].sort();
  }

  entries(): IterableIterator<[string, TopicMetadata]> {
    return this.topics.entries();
  }

  /**
   * Sets (or replaces) a topic. The file is written (atomically, by rename) before the change is
   * made in memory: if the write fails (ENOSPC, EMFILE), nothing changed, here or on disk.
   */
  put(name: string, metadata: TopicMetadata): void {
    const next = new Map(this.topics);
    next.set(name, metadata);
    this.persist(next);
    this.topics.set(name, metadata);
  }

  delete(name: string): void {
    if (!this.topics.has(name)) return;
    const next = new Map(this.topics);
    next.delete(name);
    this.persist(next);
    this.topics.delete(name);
  }

  private persist(topicsByName: ReadonlyMap<string, TopicMetadata>): void {
    const topics = Object.fromEntries([...topicsByName.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    writeFileAtomically(this.filePath, JSON.stringify({ version: VERSION, topics }, null, 2) + '\n');
  }
}

function readTopics(filePath: string): Record<string, TopicMetadata> {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = JSON.parse(text) as { version?: number; topics?: Record<string, TopicMetadata> };
  if (parsed.version !== VERSION || typeof parsed.topics !== 'object' || parsed.topics === null) {
    throw new Error(`${filePath}: unsupported topic metadata (version ${String(parsed.version)})`);
  }
  return parsed.topics;
}
