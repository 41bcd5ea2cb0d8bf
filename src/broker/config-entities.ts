// Configs set while brokers run, by entity: dynamic broker configs (kind 'brokers', entities '' and
// broker ids; dynamic-config.ts) and client quotas (kind 'quotas'; client-quotas.ts). Where they
// live, and how a change reaches the broker:
//   - a single broker keeps each kind in a file of its data directory, {"version":1,"entities":{...}},
//     written whole by an atomic rename (a crash leaves the old file or the new one), and applies
//     a change once it is written;
//   - a cluster keeps them in etcd (<root>/configs/<kind>/<entity>, src/cluster/layout.ts), written
//     by compare-and-set from any broker; every broker's watch delivers each change, and the
//     writer answers once its own watch has.
// Both are read before the broker's logs open.
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import type { ConfigEntityKind } from '../cluster/layout.js';
import { writeFileAtomically } from '../storage/checkpoint-file.js';
import type { ClusterNode } from './cluster-node.js';

/** Each entity's configs by name, values as text. */
export type ConfigEntities = ReadonlyMap<string, Readonly<Record<string, string>>>;

const FILE_VERSION = 1;
/** How long a write in a cluster waits for this broker's watch to deliver it. */
const CLUSTER_APPLY_WAIT_MS = 5_000;
const CLUSTER_APPLY_POLL_MS = 10;

/** One kind's entities from a single broker's data directory (none when the file is absent). */
export function readEntitiesFile(dataDir: string, fileName: string): ConfigEntities {
  const filePath = path.join(dataDir, fileName);
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SluiceError('KAFKA_STORAGE_ERROR', `${filePath} is not JSON`);
  }
  const entities = (parsed as { entities?: unknown } | null)?.entities;
  if ((parsed as { version?: unknown } | null)?.version !== FILE_VERSION || typeof entities !== 'object' || entities === null) {
    throw new SluiceError('KAFKA_STORAGE_ERROR', `${filePath} is not a version ${FILE_VERSION} config file`);
  }
  const result = new Map<string, Record<string, string>>();
  for (const [entity, configs] of Object.entries(entities)) {
    if (typeof configs !== 'object' || configs === null || Object.values(configs).some((value) => typeof value !== 'string')) {
      throw new SluiceError('KAFKA_STORAGE_ERROR', `${filePath}: the configs of entity '${entity}' are not names and text values`);
    }
    result.set(entity, { ...(configs as Record<string, string>) });
  }
  return result;
}

function writeEntitiesFile(dataDir: string, fileName: string, entities: ConfigEntities): void {
  const kept = Object.fromEntries([...entities].filter(([, configs]) => Object.keys(configs).length > 0));
  writeFileAtomically(path.join(dataDir, fileName), JSON.stringify({ version: FILE_VERSION, entities: kept }, null, 2) + '\n');
}

export interface ConfigEntityStoreOptions {
  kind: ConfigEntityKind;
  /** The single broker's file, in its data directory. */
  fileName: string;
  dataDir: string;
  cluster(): ClusterNode | null;
  /** The entities read at start (readEntitiesFile, or etcd), already applied. */
  initial: ConfigEntities;
  /** Takes the entities as they now are (loaded, written, or delivered by the cluster's watch). */
  apply(entities: ConfigEntities): void;
}

export class ConfigEntityStore {
  private current: ConfigEntities;

  constructor(private readonly options: ConfigEntityStoreOptions) {
    this.current = options.initial;
  }

  get entities(): ConfigEntities {
    return this.current;
  }

  /** The entities as they now are: written here, or delivered by the cluster's watch (at the join too, unchanged). */
  deliver(entities: ConfigEntities): void {
    const unchanged = JSON.stringify([...entities]) === JSON.stringify([...this.current]);
    this.current = entities;
    if (!unchanged) this.options.apply(entities);
  }

  /**
   * Replaces one entity's configs with what `change` makes of the current ones (empty: none),
   * after `check` has passed the whole set as it would be (it throws to refuse); with
   * `validateOnly`, only checks.
   */
  async update(
    entity: string,
    change: (current: Readonly<Record<string, string>>) => Record<string, string>,
    check: (next: ConfigEntities) => void,
    validateOnly = false,
  ): Promise<void> {
    const nextOf = (configs: Record<string, string>): ConfigEntities => {
      const next = new Map(this.current);
      if (Object.keys(configs).length === 0) next.delete(entity);
      else next.set(entity, configs);
      return next;
    };
    const cluster = this.options.cluster();
    if (cluster === null || validateOnly) {
      const next = nextOf(change(this.current.get(entity) ?? {}));
      check(next);
      if (validateOnly) return;
      writeEntitiesFile(this.options.dataDir, this.options.fileName, next);
      this.deliver(next);
      return;
    }
    const written = await cluster.store.updateConfigEntity(this.options.kind, entity, (current) => {
      const configs = change(current);
      check(nextOf(configs));
      return configs;
    });
    // Answered once this broker runs with it, so a describe right after shows it.
    const deadlineMs = Date.now() + CLUSTER_APPLY_WAIT_MS;
    while (JSON.stringify(this.current.get(entity) ?? {}) !== JSON.stringify(written) && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, CLUSTER_APPLY_POLL_MS));
    }
  }
}
