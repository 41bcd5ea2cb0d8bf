// Consume throughput through the broker: our Fetcher (Kafka's consumer defaults: 1 MiB per
// partition, 50 MiB per fetch) reading a 4-partition topic of 100-byte records from a broker
// process, with fetched records sent by sendfile (zero copy) and, side by side in the same run,
// copied through JS by a broker started with sluice.fetch.zero.copy=false, and from an SSL listener
// (copied and encrypted, as Kafka's over SSL). The ceiling is a plain sendfile of the same segment
// files to a loopback reader in another process.
//
// Expected on the 2-core reference machine: >= 2M records/s; zero copy >= 1.3x the copying path;
// the target for the sendfile fetch is >= 0.8 of the ceiling (see _comment_fetch in gates.json).
//
// The ceiling is like for like with a counting consumer: its reader is a Node socket reading into
// one reused buffer (net's onread), which is how the Fetcher's countOnly mode reads too, and a
// ceiling round ends when the reader has every byte (it answers with one byte per round), not when
// the last sendfile returns (that left up to a socket buffer of bytes unread). Each round measures
// the sendfile fetch and the copying fetch (their order alternating), then the ceiling, and the ratios are medians of
// those paired rounds: the ceiling alone, measured after the other rounds, swung with the load of
// the shared machine (930 MB/s in one run, 621 in the next). A broker's first fetches run the
// handler, codec and batch scan before the JIT has compiled them (a fresh broker's first pass over
// the topic took 1.5-2x as long as its next ones), so each path has one broker process for the
// whole run, warmed by 2M records consumed untimed, as the ceiling's first round is untimed. Until
// 2026-12 each round started its own broker and warmed it with 1M records only (28 fetches): in a
// scratch run of 2M-record passes a fresh broker's first pass took 4.8 ms a fetch, its next ones
// 2.4-3.1; quick runs after the change measured 0.45-0.54 (before: 0.45, 0.53 the same day).
//
// Over TLS (2026-12-06, a quick run): 514 MB/s against the sendfile fetch's 1933 and the plaintext
// copying fetch's 634 in the same rounds; fetch_tls_vs_sendfile_fetch 0.28, reported, not gated.
//
// Where the rest goes (one fetch = 4 partitions x 9 whole batches of 110 KB = 3.9 MB; 112 fetches
// per 4M records). Before the client changes of this issue the client copied each 1 MiB read into
// a freshly allocated 4 MB frame: 1.6 ms per fetch, 1.4 of it first-touch page faults, the largest
// item of the client's --cpu-prof (_copyActual, 1.46 s of 3.8 s busy); it now reads straight into
// the frame, a reused one when counting. Measured per fetch after that (scratch instrumentation, load 11-13 on 2 cores, best
// and worst of 4 runs): request written -> first response byte 2.4-5.3 ms, of which the broker
// spends 0.6-1.1 ms from the request frame to its transmit (decoding, 4 log reads whose batch scan
// costs one pread per 110 KB batch, encoding) and 0.8-3.2 ms inside transmit()'s wake of the
// transfer thread, which on 2 busy cores takes the broker's CPU while it sends; first -> last byte
// 1.5-2.2 ms; the client's decode and count 0.1-0.3 ms (walking the 9 batch headers of a
// partition costs 24 us; a walk reading 5 of their 15 fields saved 40% of that, too little to keep)
// and its next request 0.02-0.1 ms later. The broker's --cpu-prof per fetch: fetch handler 0.50 ms
// (0.36 of it the log reads), response encoding 0.20, request decoding 0.09. The bytes
// themselves move at the ceiling's rate; the rest is the round trip per 3.9 MB, which Kafka's
// model (one fetch in flight per connection, served one request at a time) puts between fetches.
// Since then the batch scan reads headers from the segment's mapping, not by pread: a 1 MiB log
// read of nine 110 KB batches takes ~13 us once compiled (scratch measurement), so the four log
// reads of a fetch are ~0.05 ms of the turnaround. A quick run at load ~1 measured 0.65 (fetch
// 1256 MB/s, ceiling 1992 MB/s): 3.1 ms a fetch against 2.0 ms for the ceiling's same bytes.
// Request size, measured (2026-12-05, four runs of the suite alone, `npm run bench -- fetch`):
// the same broker and bytes fetched with max.partition.fetch.bytes 8 MiB (14 fetches of 31 MB instead of 112 of
// 3.9 MB) reach 0.69-0.82 of the ceiling where the defaults reach 0.59-0.63. So the turnaround
// between fetches (Kafka's one fetch in flight) costs 10-20 points at the consumer defaults; the other
// 20-30% is in moving the bytes themselves (11-16 ms for a 31 MB fetch where the ceiling's one long
// sendfile per file to a bare reader moves them in ~8): the broker's sendfile per partition region
// on its transfer thread, and the Fetcher reading each response into its frame and walking it.
// Neither side's JavaScript is what is left: CPU profiles of one whole run (2026-12-05, ~1,950
// fetches) found the zero-copy broker's main thread idle 92% of its 28 s (startTransmit 0.18 s,
// the batch scan's header reads 0.19 s) and the bench process's 84% idle, its busy part mostly the
// untimed setup (Buffer.from of the fixture, 0.78 s) with the Fetcher's own work under 0.3 s. The
// time is in the kernel's two copies of every byte (page cache to socket, socket to the reader) and
// the wake-ups between the broker's main thread, its transfer thread and the reader on 2 cores.
//
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';

import { Engine } from '../src/engine/engine.js';
import { KafkaClient } from '../src/client/client.js';
import { Fetcher } from '../src/client/fetcher.js';
import { tlsOptions, type TlsOptions } from '../src/client/tls-config.js';
import { binding } from '../src/native/binding.js';
import { encodeBatch } from '../src/record/batch.js';
import { startBrokerProcess, type BrokerProcess } from './broker-harness.js';
import { benchDir, fill, inRoundOrder, median, timed, type RunOptions, type SuiteResult } from './harness.js';

const PARTITIONS = 4;
const RECORD_BYTES = 100;
const BATCH_RECORDS = 1000;
/** The larger fetches' max.partition.fetch.bytes (Kafka's consumer default is 1 MiB). */
const LARGE_PARTITION_MAX_BYTES = 8 * 1024 * 1024;
/**
 * An SSL listener's settings and its client's: a self-signed certificate for localhost (openssl,
 * which .ci/run installs), kept as a PEM key store the broker serves and the client trusts.
 */
function tlsListener(dir: string): { broker: Record<string, string>; client: TlsOptions } {
  const key = path.join(dir, 'bench.key');
  const cert = path.join(dir, 'bench.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const store = path.join(dir, 'bench-store.pem');
  fs.writeFileSync(store, fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
  return {
    broker: { listeners: 'SSL://:0', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': store },
    client: tlsOptions({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': cert }),
  };
}

/** Consumed untimed from each broker before the rounds: 56 fetches, the quick run's topic twice. */
const WARM_UP_RECORDS = 2_000_000;

export async function run(options: RunOptions): Promise<SuiteResult> {
  // A quick run's rounds were 1M records (~40 ms a path) and five of them, always zero copy
  // first: single rounds of zero copy vs copying spanned 0.78-2.45 and the median fell to 1.03
  // and 1.06 in two of six runs (1.23-1.75 otherwise); with 2M records and nine rounds, 1.14-1.54
  // in three. Now 2M records, fifteen rounds (~0.4 s each), the two fetch paths' order alternating.
  const totalRecords = options.quick ? 2_000_000 : 4_000_000;
  const rounds = 15;
  const dataDir = benchDir('fetch');
  const engine = await Engine.open({ dataDir });
  await engine.createTopic('consume', { partitions: PARTITIONS });
  const batch = encodeBatch(Array.from({ length: BATCH_RECORDS }, (_, i) => ({ value: fill(RECORD_BYTES, i) })));
  for (let written = 0; written < totalRecords; written += BATCH_RECORDS) {
    await engine.appendBatches('consume', (written / BATCH_RECORDS) % PARTITIONS, Buffer.from(batch));
  }
  await engine.close();
  const logBytes = PARTITIONS * fs.statSync(path.join(dataDir, 'consume-0', '00000000000000000000.log')).size;

  // A Fetcher at offset 0 of every partition (its metadata requests are made here, untimed).
  // check.crcs off: the ceiling's reader checks nothing either, and this compares the broker's
  // transfer; the CRC pass a consumer makes by default (Kafka's check.crcs) is the client's own work.
  const fetcherFrom0 = async (client: KafkaClient, partitionMaxBytes?: number) => {
    const fetcher = new Fetcher(client, { countOnly: true, checkCrcs: false, maxWaitMs: 100, partitionMaxBytes, maxBytes: partitionMaxBytes === undefined ? undefined : PARTITIONS * partitionMaxBytes });
    for (let partition = 0; partition < PARTITIONS; partition++) await fetcher.assign('consume', partition, 0);
    return fetcher;
  };
  /** Fetches until `records` records are counted; returns the fetches it took. */
  const consume = async (fetcher: Fetcher, records: number) => {
    let counted = 0;
    let fetches = 0;
    for (; counted < records; fetches++) counted += (await fetcher.fetch()).recordCount;
    return fetches;
  };
  // One warm broker process per fetch path for the whole run (see the opening comment). The copying
  // broker reads a copy of the data directory: a data directory has one owner.
  const copyDir = benchDir('fetch-copying');
  fs.cpSync(dataDir, copyDir, { recursive: true });
  const brokers: BrokerProcess[] = [];
  const clients: KafkaClient[] = [];
  /** Starts a broker and a client of it (both stopped at the end) and consumes WARM_UP_RECORDS. */
  const startWarm = async (dir: string, zeroCopy: boolean, tls?: { broker: Record<string, string>; client: TlsOptions }): Promise<KafkaClient> => {
    const broker = await startBrokerProcess(dir, { 'sluice.fetch.zero.copy': String(zeroCopy), ...tls?.broker });
    brokers.push(broker);
    const client = await KafkaClient.connect({ brokers: [broker.address], tls: tls?.client });
    clients.push(client);
    for (let warmed = 0; warmed < WARM_UP_RECORDS; warmed += totalRecords) await consume(await fetcherFrom0(client), totalRecords);
    return client;
  };
  const consumeAll = async (client: KafkaClient, partitionMaxBytes?: number) => {
    const fetcher = await fetcherFrom0(client, partitionMaxBytes);
    let fetches = 0;
    const ms = await timed(async () => {
      fetches = await consume(fetcher, totalRecords);
    });
    return { ms, fetches };
  };

  const zeroCopyMs: number[] = [];
  const copyingMs: number[] = [];
  const tlsMs: number[] = [];
  const pairedTlsRatios: number[] = [];
  const ceilingMs: number[] = [];
  const largeMs: number[] = [];
  const pairedRatios: number[] = [];
  const pairedCeilingRatios: number[] = [];
  const pairedLargeCeilingRatios: number[] = [];
  let fetches = 0;
  let largeFetches = 0;
  let ceiling: PlainSendfile | null = null;
  try {
    const zeroCopyClient = await startWarm(dataDir, true);
    const copyingClient = await startWarm(copyDir, false);
    // A TLS listener (what a user of security.protocol=SSL gets): records are copied to be encrypted.
    const tlsDir = benchDir('fetch-tls');
    fs.cpSync(dataDir, tlsDir, { recursive: true });
    const tlsClient = await startWarm(tlsDir, false, tlsListener(tlsDir));
    ceiling = await PlainSendfile.start(dataDir, logBytes);
    await ceiling.send(); // warms the page cache and the reader
    for (let round = 0; round < rounds; round++) {
      const consumed = new Map<KafkaClient, Awaited<ReturnType<typeof consumeAll>>>();
      for (const client of inRoundOrder([zeroCopyClient, copyingClient], round)) consumed.set(client, await consumeAll(client));
      const z = consumed.get(zeroCopyClient)!;
      const c = consumed.get(copyingClient)!;
      // Measured after the pair, whose alternation the gated ratios keep.
      const t = await consumeAll(tlsClient);
      tlsMs.push(t.ms);
      pairedTlsRatios.push(z.ms / t.ms);
      // The same zero-copy broker and bytes with 8 MiB a partition a fetch: where the turnaround between fetches goes.
      const large = await consumeAll(zeroCopyClient, LARGE_PARTITION_MAX_BYTES);
      const ceil = await ceiling.send();
      fetches = z.fetches;
      largeFetches = large.fetches;
      largeMs.push(large.ms);
      pairedLargeCeilingRatios.push(ceil / large.ms);
      zeroCopyMs.push(z.ms);
      copyingMs.push(c.ms);
      ceilingMs.push(ceil);
      pairedRatios.push(c.ms / z.ms);
      pairedCeilingRatios.push(ceil / z.ms);
    }
  } finally {
    ceiling?.stop();
    for (const client of clients) client.close();
    for (const broker of brokers) await broker.stop();
  }

  const recordsPerSec = (ms: number[]) => (totalRecords * 1000) / median(ms);
  const bytesPerSec = (ms: number[]) => (logBytes * 1000) / median(ms);
  const perFetchMs = median(zeroCopyMs) / fetches;
  const ceilingPerFetchMs = median(ceilingMs) / fetches;
  const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;
  return {
    rows: [
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'sluice sendfile fetch', recordsPerSec: recordsPerSec(zeroCopyMs), bytesPerSec: bytesPerSec(zeroCopyMs), medianNs: median(zeroCopyMs) * 1e6 },
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'sluice copying fetch', recordsPerSec: recordsPerSec(copyingMs), bytesPerSec: bytesPerSec(copyingMs), medianNs: median(copyingMs) * 1e6 },
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'sluice fetch over TLS', recordsPerSec: recordsPerSec(tlsMs), bytesPerSec: bytesPerSec(tlsMs), medianNs: median(tlsMs) * 1e6 },
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'plain sendfile ceiling', bytesPerSec: bytesPerSec(ceilingMs), medianNs: median(ceilingMs) * 1e6 },
    ],
    ratios: [
      { name: 'fetch_zero_copy_vs_copying', value: median(pairedRatios), target: 1.3, description: 'consume through sendfile fetch / through a broker copying records in JS (median of paired rounds)' },
      { name: 'fetch_vs_sendfile_ceiling', value: median(pairedCeilingRatios), target: 0.8, description: 'sendfile fetch MB/s / plain sendfile of the same files to a loopback Node reader (median of paired rounds)' },
      { name: 'fetch_tls_vs_sendfile_fetch', value: median(pairedTlsRatios), description: 'consume from an SSL listener (records copied and encrypted) / through sendfile fetch on a PLAINTEXT one (median of paired rounds)' },
      {
        name: 'fetch_8mib_partition_vs_sendfile_ceiling',
        value: median(pairedLargeCeilingRatios),
        description: 'the same with max.partition.fetch.bytes 8 MiB (fetch.max.bytes 32 MiB): fewer, larger fetches (median of paired rounds)',
      },
    ],
    notes: [
      `consume via sendfile fetch: ${(recordsPerSec(zeroCopyMs) / 1e6).toFixed(2)}M records/s (target >= 2M)`,
      `fetch_vs_sendfile_ceiling per round: ${spread(pairedCeilingRatios)}; zero copy vs copying per round: ${spread(pairedRatios)}`,
      `${fetches} fetches of ${(logBytes / fetches / 1e6).toFixed(2)} MB: ${perFetchMs.toFixed(2)} ms each (medians), the ceiling moves the same bytes in ${ceilingPerFetchMs.toFixed(2)} ms`,
      `with max.partition.fetch.bytes 8 MiB: ${largeFetches} fetches of ${(logBytes / largeFetches / 1e6).toFixed(2)} MB, ${(median(largeMs) / largeFetches).toFixed(2)} ms each, ${(bytesPerSec(largeMs) / 1e6).toFixed(0)} MB/s; ratio to the ceiling per round ${spread(pairedLargeCeilingRatios)}`,
    ],
  };
}

// The reader: one reused 4 MiB buffer (net's onread), and one byte back per `roundBytes` received.
const SINK = `
const net = require('node:net');
const roundBytes = Number(process.argv[2]);
let received = 0;
const socket = net.connect({ port: Number(process.argv[1]), host: '127.0.0.1',
  onread: { buffer: Buffer.allocUnsafe(4 * 1024 * 1024), callback: (bytes) => {
    received += bytes;
    for (; received >= roundBytes; received -= roundBytes) socket.write('.');
    return true;
  } } });
socket.on('error', () => {});
`;

/** Sends every segment file of the topic to a loopback reader with sendfile, a round at a time. */
class PlainSendfile {
  private readonly acks: Array<() => void> = [];

  private constructor(
    private readonly server: net.Server,
    private readonly sink: ReturnType<typeof spawn>,
    private readonly socket: net.Socket,
    private readonly fds: number[],
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) this.acks.shift()?.();
    });
  }

  static async start(dataDir: string, roundBytes: number): Promise<PlainSendfile> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sink = spawn(process.execPath, ['-e', SINK, String((server.address() as net.AddressInfo).port), String(roundBytes)], { stdio: 'ignore' });
    const [socket] = (await once(server, 'connection')) as [net.Socket];
    const files = Array.from({ length: PARTITIONS }, (_, p) => path.join(dataDir, `consume-${p}`, '00000000000000000000.log'));
    return new PlainSendfile(server, sink, socket, files.map((file) => fs.openSync(file, 'r')));
  }

  /** Milliseconds from the first sendfile until the reader has every byte. */
  send(): Promise<number> {
    const socketFd = (this.socket as unknown as { _handle: { fd: number } })._handle.fd;
    return timed(async () => {
      const received = new Promise<void>((resolve) => this.acks.push(resolve));
      for (const fd of this.fds) await binding.sendfile(socketFd, fd, 0, fs.fstatSync(fd).size);
      await received;
    });
  }

  stop(): void {
    for (const fd of this.fds) fs.closeSync(fd);
    this.socket.destroy();
    this.server.close();
    this.sink.kill();
  }
}
