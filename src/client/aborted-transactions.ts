// What a read_committed consumer drops (KIP-98, as Kafka's consumer does it): a fetch lists the
// aborted transactions its records reach into ({producerId, firstOffset}); walking the batches in
// offset order, a producer's transaction counts as aborted from its first offset, its transactional
// batches are dropped until its ABORT marker, and the marker ends it. Shared by the Fetcher (our
// CLI's consumer) and the pool consumer's broker source.
import type { BatchHeader } from '../record/batch.js';

export interface AbortedTransactionRef {
  producerId: number;
  firstOffset: number;
}

/**
 * A predicate over one read's batch headers, called in offset order: false for a batch of an
 * aborted transaction. Control batches are kept (consumers skip them, and they move positions).
 */
export function abortedBatchFilter(abortedTransactions: readonly AbortedTransactionRef[]): (header: BatchHeader) => boolean {
  if (abortedTransactions.length === 0) return () => true;
  const pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  const aborted = new Set<number>();
  return (header) => {
    while (pending.length > 0 && pending[0]!.firstOffset <= header.lastOffset) aborted.add(pending.shift()!.producerId);
    if (header.isControl) {
      // The marker ends the producer's transaction: its later batches belong to the next one.
      if (header.isTransactional) aborted.delete(header.producerId);
      return true;
    }
    return !(header.isTransactional && aborted.has(header.producerId));
  };
}
