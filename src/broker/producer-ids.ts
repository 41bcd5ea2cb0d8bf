// Producer ids for InitProducerId, never handed out twice across restarts: ids are taken in
// blocks, and a block's end is written to `producer-id-block` before any id in it is used
// (Kafka's controller allocates blocks of 1000 the same way). In a cluster each broker draws from
// its own range, broker.id × 2^40 onwards (2^40 ids each, and ids stay below 2^53 for broker ids
// below 8192), so that two brokers never hand out one id: a producer's batches stay deduplicated
// when its partitions move to another leader.
import fs from 'node:fs';
import path from 'node:path';

import { writeFileAtomically } from '../storage/checkpoint-file.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
const BLOCK_SIZE = 1000;
/** Ids per broker in a cluster. */
export const PRODUCER_IDS_PER_BROKER = 2 ** 40;

export class ProducerIds {
  private next: number;
  private blockEnd: number;
  private readonly filePath: string;

  /** `firstId`: where this broker's ids begin (0 for a single broker). */
  constructor(dataDir: string, firstId = 0) {
    this.filePath = path.join(dataDir, PRODUCER_ID_BLOCK_FILE);
    let start = firstId;
    try {
      start = Number(fs.readFileSync(this.filePath, 'utf8').trim());
      if (!Number.isSafeInteger(start) || start < firstId) start = firstId;
    } catch {
      // First start: ids begin at firstId.
    }
    this.next = start;
    this.blockEnd = start;
  }

  allocate(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + BLOCK_SIZE;
      writeFileAtomically(this.filePath, `${this.blockEnd}\n`);
    }
    return this.next++;
  }
}
