// The cluster id and node id a data directory belongs to, kept in `meta.properties` as Kafka keeps
// them, so a restarted broker reports the same cluster id and refuses another node's directory.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import { SluiceError } from '../errors.js';
import { writeFileAtomically } from '../storage/checkpoint-file.js';
import { readPropertiesFile } from './config.js';

export const META_PROPERTIES_FILE = 'meta.properties';

/** Kafka's cluster ids: a random UUID in URL-safe base64 without padding (22 characters). */
function newClusterId(): string {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}

/** A new cluster id, for the first broker of a cluster to propose. */
export { newClusterId };

/**
 * The data directory's cluster id, created when missing. `expected` (a replicated cluster's id,
 * from etcd, or the first log dir's, from `expectedFrom`) must match a directory that has one: a
 * directory of another cluster is refused (Kafka's InconsistentClusterIdException), a new one takes it.
 */
export function loadOrCreateClusterId(dataDir: string, nodeId: number, expected?: string, expectedFrom = 'etcd'): string {
  const filePath = path.join(dataDir, META_PROPERTIES_FILE);
  if (fs.existsSync(filePath)) {
    const meta = readPropertiesFile(filePath);
    if (meta['node.id'] !== undefined && Number(meta['node.id']) !== nodeId) {
      throw new SluiceError('INVALID_CONFIG', `${filePath} belongs to node ${meta['node.id']}, but this broker is node.id=${nodeId}`);
    }
    if (meta['cluster.id'] && expected !== undefined && meta['cluster.id'] !== expected) {
      throw new SluiceError('INVALID_CONFIG', `${filePath} belongs to cluster ${meta['cluster.id']}, but this broker joins cluster ${expected} (from ${expectedFrom})`);
    }
    if (meta['cluster.id']) return meta['cluster.id'];
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const clusterId = expected ?? newClusterId();
  writeFileAtomically(filePath, `# sluice broker metadata\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`);
  return clusterId;
}
