import { describe, expect, it } from 'vitest';

import { compactedLogGauges } from '../../src/broker/metrics.js';
import { Engine } from '../../src/index.js';
import { tempDir } from '../helpers.js';

describe('compacted log gauges', () => {
  it('report each compacted partition: dirty ratio, last cleaning, bytes cleaned', async () => {
    const engine = await Engine.open({ dataDir: tempDir(), config: { 'log.cleaner.enable': false } });
    await engine.createTopic('plain', { partitions: 1 });
    await engine.createTopic('table', { partitions: 2, config: { 'cleanup.policy': 'compact' } });
    for (let i = 0; i < 20; i++) await engine.produce('table', [{ key: `k${i % 2}`, value: `${i}` }], { partition: 0 });
    engine.partitionLog('table', 0).roll();
    expect(compactedLogGauges(engine)).toEqual([
      { topic: 'table', partition: 0, dirtyRatio: 1, lastCleanedMs: null, bytesCleaned: 0, bytesWritten: 0, passes: 0, uncleanable: false },
      { topic: 'table', partition: 1, dirtyRatio: 0, lastCleanedMs: null, bytesCleaned: 0, bytesWritten: 0, passes: 0, uncleanable: false },
    ]);
    await engine.compactNow('table');
    const [cleaned] = compactedLogGauges(engine);
    expect(cleaned).toMatchObject({ topic: 'table', partition: 0, dirtyRatio: 0, passes: 1, uncleanable: false });
    expect(cleaned!.lastCleanedMs).toBeGreaterThan(0);
    expect(cleaned!.bytesCleaned).toBeGreaterThan(cleaned!.bytesWritten);
    await engine.close();
  });
});
