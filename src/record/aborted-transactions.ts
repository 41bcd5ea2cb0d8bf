// What a read_committed reader drops (KIP-98, as Kafka's consumer does it): a fetch lists the
// aborted transactions its records reach into ({producerId, firstOffset}); walking the batches in
// offset order, a producer's transaction counts as aborted from its first offset, its transactional
// batches are dropped until its ABORT marker, and the marker ends it. Shared by the Fetcher (our
// CLI's consumer), the pool consumer's broker source, and RecordCursor (engine.fetch's
// read_committed).
import type { BatchHeader } from './batch.js';

export interface AbortedTransactionRef {
  producerId: number;
  firstOffset: number;
}

/** Walks one read's batches in offset order and says which to keep. */
export class AbortedTransactionFilter {
  private readonly pending: AbortedTransactionRef[];
  private next = 0;
  private readonly aborted = new Set<number>();

  constructor(abortedTransactions: readonly AbortedTransactionRef[]) {
    this.pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** False for a batch of an aborted transaction. Control batches are kept (readers skip them, and they move positions). */
  keep(lastOffset: number, isControl: boolean, isTransactional: boolean, producerId: number): boolean {
    const pending = this.pending;
    while (this.next < pending.length && pending[this.next]!.firstOffset <= lastOffset) this.aborted.add(pending[this.next++]!.producerId);
    if (isControl) {
      // The marker ends the producer's transaction: its later batches belong to the next one.
      if (isTransactional) this.aborted.delete(producerId);
      return true;
    }
    return !(isTransactional && this.aborted.has(producerId));
  }
}

/** The filter as a predicate over batch headers, called in offset order. */
export function abortedBatchFilter(abortedTransactions: readonly AbortedTransactionRef[]): (header: BatchHeader) => boolean {
  if (abortedTransactions.length === 0) return () => true;
  const filter = new AbortedTransactionFilter(abortedTransactions);
  return (header) => filter.keep(header.lastOffset, header.isControl, header.isTransactional, header.producerId);
}
