// The embedded engine never drops a config name without a word: at open, a name it does not read
// or a value sluice accepts without acting on it is reported; so is such a topic config at
// createTopic and alterTopicConfig. By default each is a process warning.
import { describe, expect, it } from 'vitest';

import { Engine, type ConfigWarning } from '../../src/index.js';
import { tempDir } from '../helpers.js';

describe('Engine config names', () => {
  it('reports, at open, each name that takes no effect and why, and nothing of those that do', async () => {
    const warnings: ConfigWarning[] = [];
    const engine = await Engine.open({
      dataDir: tempDir(),
      onConfigWarning: (warning) => warnings.push(warning),
      config: {
        'log.retention.hours': 1, // takes effect
        'num.partitions': 2, // takes effect
        'log.cleaner.threads': 1, // takes effect
        'retention.ms': 1000, // a topic name as a default: takes effect
        'log.retention.hour': 1, // a typo
        'num.network.threads': 3, // a broker setting
        'compression.lz4.level': 5, // accepted, not acted on
      },
    });
    try {
      expect(warnings.map(({ name }) => name).sort()).toEqual(['compression.lz4.level', 'log.retention.hour', 'num.network.threads']);
      expect(warnings.find(({ name }) => name === 'log.retention.hour')?.reason).toMatch(/does not act on it/);
      expect(warnings.find(({ name }) => name === 'compression.lz4.level')?.reason).toMatch(/lz4 codec/);
      expect(engine.describeTopic((await engine.createTopic('t')).name).partitionCount).toBe(2);
    } finally {
      await engine.close();
    }
  });

  it('takes producer.id.expiration.ms and its check interval, and refuses an expiration below 1 ms (Kafka\'s minimum)', async () => {
    const warnings: ConfigWarning[] = [];
    const config = { 'producer.id.expiration.ms': 1000, 'producer.id.expiration.check.interval.ms': 100 };
    const engine = await Engine.open({ dataDir: tempDir(), onConfigWarning: (warning) => warnings.push(warning), config });
    await engine.close();
    expect(warnings).toEqual([]);
    await expect(Engine.open({ dataDir: tempDir(), config: { 'producer.id.expiration.ms': 0 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('reports a topic config accepted without effect when a topic is created or altered with it', async () => {
    const warnings: ConfigWarning[] = [];
    const engine = await Engine.open({ dataDir: tempDir(), onConfigWarning: (warning) => warnings.push(warning) });
    try {
      await engine.createTopic('a', { config: { 'compression.lz4.level': '5', 'retention.ms': '1000' } });
      expect(warnings).toEqual([{ name: 'compression.lz4.level', reason: expect.any(String), topic: 'a' }]);
      await engine.alterTopicConfig('a', { 'message.downconversion.enable': 'true', 'compression.lz4.level': null });
      expect(warnings.slice(1)).toEqual([{ name: 'message.downconversion.enable', reason: expect.any(String), topic: 'a' }]);
      // An unknown topic config is refused, as Kafka refuses it: INVALID_CONFIG, nothing created.
      await expect(engine.createTopic('b', { config: { 'retention.msx': '1' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    } finally {
      await engine.close();
    }
  });

  it('by default, emits a process warning (code SLUICE_CONFIG) for each', async () => {
    const seen: Array<{ message: string; code?: string }> = [];
    const listener = (warning: Error & { code?: string }) => seen.push({ message: warning.message, code: warning.code });
    process.on('warning', listener);
    try {
      const engine = await Engine.open({ dataDir: tempDir(), config: { 'made.up.setting': 'x' } });
      await engine.close();
      await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
      expect(seen).toContainEqual({ message: expect.stringMatching(/^sluice: config made\.up\.setting takes no effect: /), code: 'SLUICE_CONFIG' });
    } finally {
      process.off('warning', listener);
    }
  });
});
