// request.timeout.ms, given to sluice produce and sluice consume as Kafka's client configs, is how
// long their client waits for any response: with the broker holding every request unread
// (test/fixtures/request-memory.ts), each command fails once that much has passed, naming it,
// instead of waiting the default 30 s.
import { afterAll, beforeAll, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { holdRequestMemory } from '../fixtures/request-memory.js';
import { runCli, STACK_LINE } from './run-cli.js';

const POOL_BYTES = 64 * 1024;
let broker: Broker;
let release: () => void;

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'queued.max.request.bytes': POOL_BYTES } });
  await broker.engine.createTopic('held', { partitions: 1 });
  release = await holdRequestMemory(broker.port, POOL_BYTES, () => broker.metrics.requestMemoryWaits);
});

afterAll(async () => {
  release();
  await broker.stop();
});

it.each([
  ['produce', '--producer-property'],
  ['consume', '--consumer-property'],
])('sluice %s gives up after request.timeout.ms (%s)', async (command, flag) => {
  const result = await runCli([command, '--bootstrap-server', `127.0.0.1:${broker.port}`, '--topic', 'held', flag, 'request.timeout.ms=300'], { input: 'never sent\n' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/within 300 ms/);
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stderr).not.toMatch(/accepted but not supported/);
});
