// A fourth client with its own protocol code: kafka-python (Debian's python3-kafka 2.0.2, pure
// Python; `.ci/run` installs it), against a broker process. It creates a topic, produces keyed
// records with headers uncompressed and gzip-compressed with acks=all, consumes them in a group and
// commits, reads committed and end offsets and offsets by time, describes configs and deletes the
// topic (test/fixtures/kafka-python-client.py).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { tempDir } from '../helpers.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kafka-python-client.py');
/** Debian's interpreter, where python3-kafka is installed (a python3 earlier on PATH may not have it). */
const PYTHON = '/usr/bin/python3';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0 });
});

afterAll(async () => {
  await broker?.stop();
});

function runClient(topic: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, broker.address, topic], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('kafka-python', () => {
  it('produces (plain and gzip, acks=all), consumes in a group, commits, lists offsets, describes configs and deletes a topic', async () => {
    const { code, stdout, stderr } = await runClient('kafka-python');
    expect(stderr).not.toMatch(/Traceback/);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.create_errors).toEqual([0]);
    expect(out.sent).toHaveLength(1000);
    // Every acknowledged record read back once, at the offset it was acknowledged with.
    const key = ([partition, offset, value]: [number, number, string]) => `${partition}/${offset}/${value}`;
    expect(out.received.map(key).sort()).toEqual(out.sent.map(key).sort());
    expect(out.headers_ok).toBe(true);
    const ends = [0, 1, 2].map((p) => out.sent.filter(([partition]: [number]) => partition === p).length);
    expect(out.end_offsets).toEqual(ends);
    expect(out.committed).toEqual(ends);
    expect(out.offsets_for_time_zero).toEqual(ends.map((end) => (end > 0 ? 0 : null)));
    expect(out.retention_ms).toEqual(['3600000']);
    expect(out.groups).toContain('kafka-python-group');
    // The member's host as Kafka gives it (InetAddress): an IPv4 client is /127.0.0.1, never /::ffff:127.0.0.1.
    expect(out.member_hosts).toHaveLength(1);
    expect(out.member_hosts[0]).toMatch(/^\/(127\.0\.0\.1|::1)$/);
    expect(out.delete_errors).toEqual([0]);
  }, 180_000);
});
