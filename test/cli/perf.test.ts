// `sluice perf produce` and `sluice perf consume` on small counts: the output shapes of Kafka's
// perf tools (no timing assertions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { iterateBatches } from '../../src/record/batch.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

const NUMBER = '\\d+(\\.\\d+)?';

describe('sluice perf', () => {
  it("produce prints kafka-producer-perf-test's total line; consume reads the records back", async () => {
    await broker.engine.createTopic('perf', { partitions: 2 });
    const produced = await runCli(['perf', 'produce', ...bootstrap, '--topic', 'perf', '--num-records', '5000', '--record-size', '100', '--batch-size', '4096']);
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);
    const lines = produced.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^5000 records sent, ${NUMBER} records/sec \\(${NUMBER} MB/sec\\), ${NUMBER} ms avg latency, ${NUMBER} ms max latency, ` +
          `\\d+ ms 50th, \\d+ ms 95th, \\d+ ms 99th, \\d+ ms 99.9th\\.$`,
      ),
    );
    // Any window lines (every 5 s) have Kafka's shorter shape.
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(new RegExp(`^\\d+ records sent, ${NUMBER} records/sec \\(${NUMBER} MB/sec\\), ${NUMBER} ms avg latency, ${NUMBER} ms max latency\\.$`));
    }
    const p0 = broker.engine.latestOffset('perf', 0);
    const p1 = broker.engine.latestOffset('perf', 1);
    expect(p0 + p1).toBe(5000);

    const consumed = await runCli(['perf', 'consume', ...bootstrap, '--topic', 'perf', '--messages', '5000']);
    expect(consumed.code).toBe(0);
    const [header, values, ...rest] = consumed.stdout.trimEnd().split('\n');
    expect(rest).toEqual([]);
    expect(header).toBe('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    const DATE = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}:\\d{3}';
    expect(values).toMatch(new RegExp(`^${DATE}, ${DATE}, ${NUMBER}, ${NUMBER}, 5000, ${NUMBER}, 0, \\d+, ${NUMBER}, ${NUMBER}$`));
  });

  it('perf produce honours --throughput and --acks all with compression', async () => {
    const produced = await runCli(['perf', 'produce', ...bootstrap, '--topic', 'perf-throttled', '--num-records', '300', '--record-size', '10', '--throughput', '1000', '--acks', 'all', '--compression', 'lz4']);
    expect(produced.code).toBe(0);
    expect(produced.stdout).toMatch(/^300 records sent, /m);
    expect(broker.engine.latestOffset('perf-throttled', 0)).toBe(300);
  });

  it("perf produce takes Kafka's --producer-props, bootstrap.servers included; a flag wins over a prop", async () => {
    const produced = await runCli(['perf', 'produce', '--topic', 'perf-props', '--num-records', '2000', '--record-size', '100', '--throughput', '-1',
      '--producer-props', `bootstrap.servers=localhost:${broker.port}`, 'acks=1', 'batch.size=2048', 'compression.type=gzip', 'buffer.memory=67108864', 'send.buffer.bytes=131072', 'key.serializer=org.apache.kafka.common.serialization.ByteArraySerializer', '--linger-ms', '0']);
    expect(produced.code).toBe(0);
    expect(produced.stderr).toBe("WARNING: --producer-props key.serializer is accepted but not supported: sluice's producer does not act on it\n");
    expect(produced.stdout).toMatch(/^2000 records sent, /m);
    const { batches } = await broker.engine.fetchBatches('perf-props', 0, { offset: 0, maxBytes: 16 * 1024 * 1024 });
    const headers = [...iterateBatches(batches)].map((b) => b.header);
    expect(headers.reduce((n, h) => n + h.lastOffset + 1 - h.baseOffset, 0)).toBe(2000);
    // batch.size 2048: ~18 records of 100 B a batch, not the ~150 of the default 16384.
    expect(headers.length).toBeGreaterThanOrEqual(2000 / 20);
    expect(headers.every((h) => h.compressionName === 'gzip')).toBe(true);

    const refused = await runCli(['perf', 'produce', ...bootstrap, '--topic', 'perf-props', '--num-records', '1', '--record-size', '1', '--producer-props', 'acks=1', 'transactional.id=t']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^Error: --producer-props transactional\.id is not supported; supported: bootstrap\.servers, acks, /);
  });

  it('perf produce --warmup-records ends with the statistics of the records after the warm-up', async () => {
    const produced = await runCli(['perf', 'produce', ...bootstrap, '--topic', 'perf-warm', '--num-records', '5000', '--record-size', '10', '--warmup-records', '2000']);
    expect(produced.code).toBe(0);
    const lines = produced.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/^5000 records sent, .* ms 99\.9th\.$/);
    expect(lines.at(-1)).toMatch(new RegExp(`^3000 records sent, ${NUMBER} records/sec .* \\d+ ms 99th, \\d+ ms 99\\.9th \\(steady state, after 2000 warm-up records\\)\\.$`));
    expect(broker.engine.latestOffset('perf-warm', 0)).toBe(5000);

    const refused = await runCli(['perf', 'produce', ...bootstrap, '--topic', 'perf-warm', '--num-records', '10', '--record-size', '10', '--warmup-records', '10']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--warmup-records must be fewer than --num-records');
  });

  it("perf consume takes kafka-consumer-perf-test's --from-latest, --timeout and --hide-header", async () => {
    await broker.engine.createTopic('perf-latest', { partitions: 2 });
    await broker.engine.produce('perf-latest', Array.from({ length: 20 }, (_, i) => ({ value: `old-${i}` })));
    const consumed = await runCli(['perf', 'consume', ...bootstrap, '--topic', 'perf-latest', '--messages', '5', '--from-latest', '--timeout', '1000', '--hide-header']);
    expect(consumed.code).toBe(0);
    expect(consumed.stderr).toContain('timeout (1000 ms) exceeded');
    // No header; the values line counts none of the 20 records that were there before it started.
    const lines = consumed.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split(', ')[4]).toBe('0');
  });

  it('perf consume gives up after --timeout-ms on a short topic, with a warning', async () => {
    await broker.engine.createTopic('perf-short', { partitions: 1 });
    await broker.engine.produce('perf-short', [{ value: 'a' }, { value: 'b' }]);
    const consumed = await runCli(['perf', 'consume', ...bootstrap, '--topic', 'perf-short', '--messages', '10', '--timeout-ms', '300']);
    expect(consumed.code).toBe(0);
    expect(consumed.stderr).toContain('WARNING: Exiting before consuming the expected number of messages: timeout (300 ms) exceeded.');
    expect(consumed.stdout.split('\n')[1]).toMatch(/, 2, /);
  });
});
