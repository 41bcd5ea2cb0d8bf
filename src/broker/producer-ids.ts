// Producer ids for InitProducerId, never handed out twice across restarts: ids are taken in
// blocks, and a block's end is written to `producer-id-block` before any id in it is used
// (Kafka's controller allocates blocks of 1000 the same way).
import fs from 'node:fs';
import path from 'node:path';

import { writeFileAtomically } from '../storage/checkpoint-file.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
const BLOCK_SIZE = 1000;

export class ProducerIds {
  private next: number;
  private blockEnd: number;
  private readonly filePath: string;

  constructor(dataDir: string) {
    this.filePath = path.join(dataDir, PRODUCER_ID_BLOCK_FILE);
    let start = 0;
    try {
      start = Number(fs.readFileSync(this.filePath, 'utf8').trim());
      if (!Number.isSafeInteger(start) || start < 0) start = 0;
    } catch {
      // First start: ids begin at 0.
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
