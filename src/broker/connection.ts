// One client connection: splits the byte stream into frames, answers requests one at a time in
// arrival order (as Kafka does: a connection's next request waits for the current one, so
// responses can never be reordered), and closes the connection on a malformed or oversized frame
// without touching any other connection.
import type net from 'node:net';

import {
  FrameDecoder,
  ProtocolError,
  encodeApiVersionsFallback,
  encodeResponse,
  isSupported,
  readRequestHeader,
  type RequestHeader,
  type ResponseParts,
} from '../protocol/index.js';
import { ApiKey } from '../protocol/api-keys.js';
import { KafkaErrorCode } from '../errors.js';
import type { AnyApiHandler, BrokerContext, PendingRequest, RequestContext } from './handler.js';
import { ResponseWriter } from './response-writer.js';

/** Pause reading while this many responses wait to be written: a client that sends but does not
 *  read would otherwise grow our memory without bound. 64 covers kafkajs's default of 5 in flight. */
const QUEUED_FRAMES_MAX = 64;
/** api_key i16, api_version i16, correlation_id i32: the part every request header version shares. */
const FIXED_HEADER_BYTES = 8;

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly writer: ResponseWriter;
  private readonly frames: Buffer[] = [];
  private processing = false;
  private closed = false;
  private finished = false;
  readonly clientHost: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly broker: BrokerContext,
    private readonly handlers: ReadonlyMap<number, AnyApiHandler>,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.clientHost = socket.remoteAddress ?? 'unknown';
    this.decoder = new FrameDecoder(broker.settings.socketRequestMaxBytes);
    this.writer = new ResponseWriter(socket, broker.metrics, () => this.close());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private onData(chunk: Buffer): void {
    this.broker.metrics.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== null; frame = this.decoder.next()) this.frames.push(frame);
    } catch (error) {
      // An oversized size prefix is refused before its body is buffered; a bad one cannot be skipped.
      this.reject(error);
      return;
    }
    if (this.frames.length >= QUEUED_FRAMES_MAX) this.socket.pause();
    void this.processFrames();
  }

  private async processFrames(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && this.frames.length > 0) {
        await this.handleFrame(this.frames.shift()!);
        if (this.frames.length < QUEUED_FRAMES_MAX / 2 && this.socket.isPaused()) this.socket.resume();
      }
    } finally {
      this.processing = false;
    }
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    // Every request header starts with api key, api version and correlation id (8 bytes); whether
    // the rest is a v1 or a v2 header depends on the version, so an unknown version is answered
    // from these bytes alone.
    if (frame.length < FIXED_HEADER_BYTES) {
      this.reject(new ProtocolError('MALFORMED_FRAME', `a ${frame.length}-byte frame holds no request header`));
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const metrics = this.broker.metrics;
    metrics.requests.set(apiKey, (metrics.requests.get(apiKey) ?? 0) + 1);
    const handler = this.handlers.get(apiKey);
    const served = handler !== undefined && apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion;
    if (!served || !isSupported(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer an ApiVersions of any version with our list, so the client can retry.
        this.writer.send(encodeApiVersionsFallback(correlationId, this.advertisedVersions()));
        return;
      }
      // Kafka closes the connection on an unknown API key or version; we first send the error, so
      // the client can tell why: the correlation id and the error code.
      this.sendErrorAndClose(correlationId, handler ? KafkaErrorCode.UNSUPPORTED_VERSION : KafkaErrorCode.INVALID_REQUEST);
      return;
    }
    let header: RequestHeader;
    let bodyOffset: number;
    try {
      ({ header, bodyOffset } = readRequestHeader(frame));
    } catch (error) {
      this.reject(error);
      return;
    }
    let request: PendingRequest;
    try {
      request = handler!.decode(header, frame, bodyOffset);
    } catch (error) {
      this.reject(error);
      return;
    }
    const releases: Array<() => void> = [];
    const context: RequestContext = {
      broker: this.broker,
      header,
      clientHost: this.clientHost,
      onResponseSent: (callback) => releases.push(callback),
    };
    let response: object | null;
    try {
      response = await request(context);
    } catch (error) {
      for (const release of releases) release();
      process.emitWarning(`sluice: ${handler!.constructor.name} failed on API ${header.apiKey} v${header.apiVersion}: ${(error as Error).stack ?? error}`);
      this.close();
      return;
    }
    if (response === null || this.closed) {
      for (const release of releases) release();
      return;
    }
    let parts: ResponseParts;
    try {
      parts = encodeResponse(header, response);
    } catch (error) {
      for (const release of releases) release();
      process.emitWarning(`sluice: cannot encode the response to API ${header.apiKey} v${header.apiVersion}: ${(error as Error).message}`);
      this.close();
      return;
    }
    this.writer.send(parts, releases);
  }

  advertisedVersions(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.handlers.values()].map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
  }

  private sendErrorAndClose(correlationId: number, errorCode: number): void {
    const body = Buffer.alloc(10);
    body.writeInt32BE(6, 0);
    body.writeInt32BE(correlationId, 4);
    body.writeInt16BE(errorCode, 8);
    this.writer.send([body]);
    this.socket.end();
    this.closed = true;
  }

  /** A frame we cannot read: close this connection only. */
  private reject(error: unknown): void {
    if (!(error instanceof ProtocolError)) process.emitWarning(`sluice: unexpected error reading a frame: ${(error as Error).stack ?? error}`);
    this.broker.metrics.connectionsRejected++;
    this.close();
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    this.frames.length = 0;
    this.writer.close();
    this.socket.destroy();
    this.onClose(this);
  }
}
