// Sending a file to a loopback socket: the addon's sendfile (zero-copy, on its transfer thread)
// against two copying paths: Node's usual fs stream piped into the socket, and a tuned loop of
// 1 MiB preads and socket.writes. The reader is a separate process that discards what it gets, the same for both. Each
// round sends the whole file once by each path; tinybench's back-to-back runs drifted too much here.
//
// Expected on the 2-core reference machine: sendfile ~2.2-2.8 GB/s; >= 1.2x Node's stream pipe.
// Against a tuned 1 MiB pread+write loop, loopback TCP (whose receive side also runs on the
// sending CPU) bounds both paths, and the two come out close; what sendfile saves there is the
// event loop, which sits idle while the transfer thread sends, so this suite reports that too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';

import { binding } from '../src/native/binding.js';
import { benchDir, fill, median, timed, type RunOptions, type SuiteResult } from './harness.js';

const CHUNK_BYTES = 1024 * 1024;

/** Wall time of one call, and the share of it the event loop spent busy (not waiting in epoll). */
async function timedWithLoop(fn: () => Promise<unknown>): Promise<{ ms: number; loopBusy: number }> {
  const before = performance.eventLoopUtilization();
  const ms = await timed(fn);
  return { ms, loopBusy: performance.eventLoopUtilization(before).utilization };
}

// The reader reads into one reused 4 MiB buffer (net's onread), so that it keeps up with either
// path and the comparison measures the sender, not the allocation of 64 KiB read buffers.
const SINK = `
const net = require('node:net');
const socket = net.connect({ port: Number(process.argv[1]), host: '127.0.0.1',
  onread: { buffer: Buffer.allocUnsafe(4 * 1024 * 1024), callback: () => true } });
socket.on('error', () => {});
socket.on('end', () => process.exit(0));
`;

export async function run(options: RunOptions): Promise<SuiteResult> {
  const fileBytes = (options.quick ? 128 : 256) * 1024 * 1024;
  const dir = benchDir('sendfile');
  const filePath = path.join(dir, 'payload.bin');
  const chunk = fill(CHUNK_BYTES, 7);
  const out = fs.openSync(filePath, 'w');
  for (let written = 0; written < fileBytes; written += CHUNK_BYTES) fs.writeSync(out, chunk);
  fs.fsyncSync(out); // no writeback of the fresh file competes with the rounds
  fs.closeSync(out);
  const fileFd = fs.openSync(filePath, 'r');

  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const sink = spawn(process.execPath, ['-e', SINK, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  const socketFd = (socket as unknown as { _handle: { fd: number } })._handle.fd;

  const sendZeroCopy = () => binding.sendfile(socketFd, fileFd, 0, fileBytes);
  const sendCopying = async () => {
    for (let position = 0; position < fileBytes; position += CHUNK_BYTES) {
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      const n = fs.readSync(fileFd, buffer, 0, CHUNK_BYTES, position);
      if (!socket.write(n === CHUNK_BYTES ? buffer : buffer.subarray(0, n))) await once(socket, 'drain');
    }
    // Done when the last write has left for the kernel, as a sendfile is done when its last byte has.
    await new Promise<void>((resolve) => socket.write('', () => resolve()));
  };
  // What most Node servers do: a file stream (64 KiB reads) piped into the socket.
  const sendStreamed = async () => {
    const stream = fs.createReadStream(filePath, { highWaterMark: 64 * 1024 });
    stream.pipe(socket, { end: false });
    await once(stream, 'end');
    await new Promise<void>((resolve) => socket.write('', () => resolve()));
  };
  // The two paths alternate, round after round, and each reports its median: drift on a shared
  // machine (page-cache writeback, a neighbour's load) then hits both alike. The first rounds warm
  // up the reader's receive-buffer autotuning and the transfer thread and are not counted.
  const rounds = options.quick ? 15 : 21;
  const zeroCopyMs: number[] = [];
  const copyingMs: number[] = [];
  const streamedMs: number[] = [];
  const copyingRatios: number[] = [];
  const streamedRatios: number[] = [];
  const busy = { zeroCopy: [] as number[], copying: [] as number[], streamed: [] as number[] };
  for (let round = -2; round < rounds; round++) {
    const zeroCopyRound = await timedWithLoop(sendZeroCopy);
    const copyingRound = await timedWithLoop(sendCopying);
    const streamedRound = await timedWithLoop(sendStreamed);
    if (round < 0) continue;
    zeroCopyMs.push(zeroCopyRound.ms);
    copyingMs.push(copyingRound.ms);
    streamedMs.push(streamedRound.ms);
    busy.zeroCopy.push(zeroCopyRound.loopBusy);
    busy.copying.push(copyingRound.loopBusy);
    busy.streamed.push(streamedRound.loopBusy);
    copyingRatios.push(copyingRound.ms / zeroCopyRound.ms);
    streamedRatios.push(streamedRound.ms / zeroCopyRound.ms);
  }
  const bytesPerSec = (ms: number[]) => (fileBytes * 1000) / median(ms);
  const percent = (values: number[]) => `${(median(values) * 100).toFixed(0)}%`;

  socket.destroy();
  server.close();
  sink.kill();
  fs.closeSync(fileFd);
  fs.rmSync(dir, { recursive: true, force: true });

  return {
    rows: [
      { suite: 'sendfile', workload: 'file to loopback socket', subject: 'sluice sendfile', bytesPerSec: bytesPerSec(zeroCopyMs), medianNs: median(zeroCopyMs) * 1e6 },
      { suite: 'sendfile', workload: 'file to loopback socket', subject: 'read+write 1 MiB (copying)', bytesPerSec: bytesPerSec(copyingMs), medianNs: median(copyingMs) * 1e6 },
      { suite: 'sendfile', workload: 'file to loopback socket', subject: 'fs stream pipe 64 KiB (copying)', bytesPerSec: bytesPerSec(streamedMs), medianNs: median(streamedMs) * 1e6 },
    ],
    ratios: [
      // Medians of per-round ratios: each trio ran back to back, so a slow spell hits all alike.
      {
        name: 'sendfile_vs_stream_pipe',
        value: median(streamedRatios),
        target: 1.2,
        description: 'sendfile / fs.createReadStream().pipe(socket) to the same reader (median of paired rounds)',
      },
      {
        name: 'sendfile_vs_pread_write_1mib',
        value: median(copyingRatios),
        target: 1.2,
        description: 'sendfile / a tuned loop of 1 MiB pread + socket.write (median of paired rounds)',
      },
    ],
    notes: [
      `event loop busy while sending: sendfile ${percent(busy.zeroCopy)}, 1 MiB pread+write ${percent(busy.copying)}, stream pipe ${percent(busy.streamed)}`,
    ],
  };
}
