// engine.fetch and engine.fetchBatches with Kafka's isolation levels over a partition holding
// transactions (batches as a transactional producer writes them, markers as the coordinator does):
// read_committed stops at the last stable offset and leaves aborted transactions' records out,
// through fetch's objects and through fetchBatches + readRecords; read_uncommitted reads them all.
import { describe, expect, it } from 'vitest';

import { Engine, isSluiceError, readRecords } from '../../src/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { encodeMarkerBatch } from '../../src/record/control-record.js';
import { tempDir } from '../helpers.js';

function transactional(producerId: number, baseSequence: number, values: string[]): Buffer {
  return encodeBatch(values.map((value) => ({ value })), { producerId, producerEpoch: 0, baseSequence, transactional: true });
}

function marker(producerId: number, commit: boolean): Buffer {
  return encodeMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestamp: Date.now() });
}

async function values(engine: Engine, isolationLevel?: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ; ) {
    const { records, nextOffset } = await engine.fetch('t', 0, { offset, maxBytes: 64, isolationLevel });
    out.push(...records.map((record) => record.value!.toString()));
    if (nextOffset === offset) return out;
    offset = nextOffset;
  }
}

async function valuesViaBatches(engine: Engine, isolationLevel: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ; ) {
    const { batches, nextOffset, abortedTransactions } = await engine.fetchBatches('t', 0, { offset, maxBytes: 64, isolationLevel });
    const cursor = readRecords(batches, { fromOffset: offset, abortedTransactions });
    while (cursor.next()) out.push(cursor.value()!.toString());
    if (nextOffset === offset) return out;
    offset = nextOffset;
  }
}

describe('engine isolation levels', () => {
  it('read_committed reads committed records below the last stable offset; read_uncommitted reads all', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('t', { partitions: 1 });
    await engine.produce('t', [{ value: 'plain-1' }], { partition: 0 });
    await engine.appendBatches('t', 0, transactional(7, 0, ['committed-1', 'committed-2'])); // 1-2
    await engine.appendBatches('t', 0, transactional(8, 0, ['aborted-1'])); // 3
    await engine.appendBatches('t', 0, transactional(7, 2, ['committed-3'])); // 4
    await engine.appendBatches('t', 0, marker(7, true), { origin: 'coordinator' }); // 5
    await engine.appendBatches('t', 0, transactional(8, 1, ['aborted-2'])); // 6
    await engine.appendBatches('t', 0, marker(8, false), { origin: 'coordinator' }); // 7
    await engine.produce('t', [{ value: 'plain-2' }], { partition: 0 }); // 8
    await engine.appendBatches('t', 0, transactional(9, 0, ['open-1'])); // 9: still open
    await engine.produce('t', [{ value: 'plain-3' }], { partition: 0 }); // 10

    const all = ['plain-1', 'committed-1', 'committed-2', 'aborted-1', 'committed-3', 'aborted-2', 'plain-2', 'open-1', 'plain-3'];
    expect(await values(engine)).toEqual(all);
    expect(await values(engine, 'read_uncommitted')).toEqual(all);
    // Producer 9's open transaction holds read_committed at offset 9, plain-3 included.
    const committed = ['plain-1', 'committed-1', 'committed-2', 'committed-3', 'plain-2'];
    expect(await values(engine, 'read_committed')).toEqual(committed);
    expect(await valuesViaBatches(engine, 'read_committed')).toEqual(committed);
    expect(await valuesViaBatches(engine, 'read_uncommitted')).toEqual(all);
    const head = await engine.fetch('t', 0, { offset: 0, isolationLevel: 'read_committed' });
    expect([head.lastStableOffset, head.highWatermark, head.nextOffset]).toEqual([9, 11, 9]);
    expect((await engine.fetchBatches('t', 0, { offset: 0, isolationLevel: 'read_committed' })).abortedTransactions).toEqual([{ producerId: 8, firstOffset: 3 }]);
    expect((await engine.fetchBatches('t', 0, { offset: 0 })).abortedTransactions).toEqual([]);

    // Its COMMIT releases the rest.
    await engine.appendBatches('t', 0, marker(9, true), { origin: 'coordinator' });
    expect(await values(engine, 'read_committed')).toEqual([...committed, 'open-1', 'plain-3']);
    await engine.close();
  });

  it('refuses an isolation level Kafka does not have', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('t', { partitions: 1 });
    const error = await engine.fetch('t', 0, { offset: 0, isolationLevel: 'committed' as never }).catch((e: unknown) => e);
    expect(isSluiceError(error) && error.code).toBe('INVALID_REQUEST');
    await engine.close();
  });
});
