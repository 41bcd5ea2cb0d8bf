// The records sluice's own Fetcher hands back (sluice consume, the group consumers): every field
// of what was produced, from a position inside a batch, through plain and compressed batches, with
// each batch's timestamp type; check.crcs over a control batch the records skip (the CRC of
// record batches is tested with the consume command).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Fetcher, type FetchedRecord, type FetcherOptions } from '../../src/client/fetcher.js';
import { CRC_OFFSET } from '../../src/record/batch-format.js';
import { iterateBatches } from '../../src/record/batch.js';
import { encodeMarkerBatch } from '../../src/record/control-record.js';

let broker: Broker;
let client: KafkaClient;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
});

/** Fetches until `count` records came back (a fetch may stop at a batch boundary). */
async function fetchRecords(topic: string, from: number, count: number, options: FetcherOptions = {}): Promise<FetchedRecord[]> {
  const fetcher = new Fetcher(client, { maxWaitMs: 100, ...options });
  await fetcher.assign(topic, 0, from);
  const records: FetchedRecord[] = [];
  while (records.length < count) records.push(...(await fetcher.fetch()).records);
  return records;
}

const summary = (r: FetchedRecord) => ({
  offset: r.offset,
  timestampType: r.timestampType,
  key: r.key?.toString() ?? null,
  value: r.value?.toString() ?? null,
  headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]),
});

describe('Fetcher records', () => {
  it('reads every field back from inside a batch, through plain and compressed batches', async () => {
    await broker.engine.createTopic('shapes', { partitions: 1 });
    await broker.engine.produce(
      'shapes',
      [
        { key: 'a', value: 'one', timestamp: 1_000 },
        { key: null, value: null, timestamp: 2_000 },
        { key: 'c', value: 'three', headers: { trace: 'x', empty: '' }, timestamp: 3_000 },
      ],
      { partition: 0 },
    );
    await broker.engine.produce(
      'shapes',
      Array.from({ length: 5 }, (_, i) => ({ key: `user-${i}`, value: `v${i}`, headers: { source: 'bench' }, timestamp: 4_000 + i })),
      { partition: 0, compression: 'gzip' },
    );
    const records = await fetchRecords('shapes', 1, 7);
    expect(records.map((r) => [r.topic, r.partition, r.timestamp])).toEqual([1, 2, 3, 4, 5, 6, 7].map((offset) => ['shapes', 0, offset < 3 ? offset * 1_000 + 1_000 : 4_000 + offset - 3]));
    expect(records.map(summary)).toEqual([
      { offset: 1, timestampType: 'create', key: null, value: null, headers: [] },
      { offset: 2, timestampType: 'create', key: 'c', value: 'three', headers: [['trace', 'x'], ['empty', '']] },
      ...Array.from({ length: 5 }, (_, i) => ({ offset: 3 + i, timestampType: 'create', key: `user-${i}`, value: `v${i}`, headers: [['source', 'bench']] })),
    ]);
  });

  it("gives a LogAppendTime topic's records the broker's time and that type", async () => {
    await broker.engine.createTopic('append-time', { partitions: 1, config: { 'message.timestamp.type': 'LogAppendTime' } });
    const before = Date.now();
    await broker.engine.produce('append-time', [{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: 6 }], { partition: 0 });
    const records = await fetchRecords('append-time', 0, 2);
    expect(records.map((r) => r.timestampType)).toEqual(['logAppend', 'logAppend']);
    expect(records[0]!.timestamp).toBeGreaterThanOrEqual(before);
    expect(records[1]!.timestamp).toBe(records[0]!.timestamp);
  });

  it('check.crcs covers the control batches it skips, as Kafka\'s consumer does; false reads past them', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-fetcher-crc-'));
    const damaged = await startBroker({ port: 0, dataDir });
    const damagedClient = await KafkaClient.connect({ brokers: [`localhost:${damaged.port}`] });
    try {
      await damaged.engine.createTopic('marked', { partitions: 1 });
      await damaged.engine.produce('marked', [{ value: 'before' }], { partition: 0 });
      const marker = encodeMarkerBatch({ producerId: 7, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: Date.now() });
      await damaged.engine.appendBatches('marked', 0, marker, { origin: 'coordinator' });
      await damaged.engine.produce('marked', [{ value: 'after' }], { partition: 0 });
      // The marker is the second batch of the segment: a bit of its stored CRC flips on disk.
      const log = path.join(dataDir, 'marked-0', '00000000000000000000.log');
      const bytes = fs.readFileSync(log);
      const [, control] = [...iterateBatches(bytes)];
      expect(control!.header.isControl).toBe(true);
      const fd = fs.openSync(log, 'r+');
      fs.writeSync(fd, Buffer.of(bytes[control!.at + CRC_OFFSET]! ^ 1), 0, 1, control!.at + CRC_OFFSET);
      fs.closeSync(fd);

      const read = async (checkCrcs: boolean) => {
        const fetcher = new Fetcher(damagedClient, { maxWaitMs: 100, checkCrcs });
        await fetcher.assign('marked', 0, 0);
        const values: string[] = [];
        while (values.length < 2) values.push(...(await fetcher.fetch()).records.map((r) => r.value!.toString()));
        return values;
      };
      await expect(read(true)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE', message: expect.stringMatching(/partition marked-0 at offset 1 is invalid, cause: .*crc/i) });
      expect(await read(false)).toEqual(['before', 'after']);
    } finally {
      damagedClient.close();
      await damaged.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
