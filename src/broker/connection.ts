// One client connection, in Kafka's model: a connection has at most one request in flight. The
// next request is not taken until that request's response has been handed to the kernel;
// responses can therefore never be reordered, and a client that sends without reading makes us
// hold one response, not a queue of them (what it sends meanwhile is read ahead into the
// connection's 128 KiB read buffer at most; the rest stays in the sockets' buffers). One exception,
// a burst: when the client pipelined its requests and the next one is already read, a small
// response (at most 16 KiB) is left in the corked socket while the next request is handled (all
// but the burst's first, which goes out at once), and the burst's responses go to the kernel in
// one write when it ends (no whole frame left, 16 responses, a response that is not small, a wait
// for a budget, or the end of the event loop's turn, so a long poll never holds earlier answers
// back). We then hold at most 16 small responses to requests the client had already sent. One more exception: a request whose handler is done
// with its bytes and only waits (acks=all for the ISR) detaches, and the next request is taken
// meanwhile; every answer still waits for those of the requests before it, and at most 16 such
// requests wait per connection. Two broker-wide budgets sit in front of every request:
//   - queued.max.request.bytes: a frame's bytes are taken from the request memory pool as soon as
//     its size prefix is read, before its body is buffered, and given back when it is handled;
//   - queued.max.requests: a request takes a slot while it is being handled (a long poll gives
//     its slot back while it waits, as Kafka's purgatory does).
// A connection that cannot take what it needs stops reading and waits in line.
//
// Nothing that goes wrong on one connection's path leaves it: a malformed or oversized frame, a
// handler that throws, a response that cannot be encoded, a transfer that cannot start (EMFILE)
// all close this connection only, are counted in the broker's metrics and logged (rate-limited).
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';

import {
  FrameDecoder,
  ProtocolError,
  REQUEST_SIZE_PREFIX_BYTES,
  apiKeyName,
  encodeApiVersionsFallback,
  encodeResponse,
  isSupported,
  readRequestHeader,
  type RequestHeader,
  type ResponseParts,
} from '../protocol/index.js';
import { ApiKey } from '../protocol/api-keys.js';
import { KafkaErrorCode } from '../errors.js';
import type { NativeError } from '../native/binding.js';
import type { Budget } from './budget.js';
import type { AnyApiHandler, BrokerContext, PendingRequest, RequestContext } from './handler.js';
import { ANONYMOUS_USER, REQUEST_PERCENTAGE, type QuotaClient } from './client-quotas.js';
import { countCause } from './metrics.js';
import { SaslSession } from './sasl/sasl-session.js';
import { ResponseWriter } from './response-writer.js';
import { ReadArena } from './read-arena.js';
import { readIntoChosenBuffers } from './socket-reads.js';
import { normalizeAddress } from './connection-quotas.js';
import type { TlsAcceptor } from './tls-listener.js';

/** api_key i16, api_version i16, correlation_id i32: the part every request header version shares. */
const FIXED_HEADER_BYTES = 8;

/**
 * Requests of one connection waiting detached (acks=all for the ISR, RequestContext.detach) at
 * most: past this the connection takes no new request until the oldest is answered. A producer
 * has max.in.flight (5) at most; this bounds what a client that pipelines more makes us hold.
 */
const DETACHED_REQUESTS_MAX = 16;

/** Responses left corked in one burst at most (a producer's max.in.flight is 5 by default). */
const RESPONSE_BURST_MAX = 16;
/** A response above this size is never left corked (fetch responses of records): it goes out at once. */
const BURST_RESPONSE_BYTES_MAX = 16 * 1024;

/** Transfer errors that only mean the client went away. */
const CLIENT_GONE = new Set(['EPIPE', 'ECONNRESET', 'ECANCELED', 'ENOTCONN']);

/** The broker-wide state a connection takes part in. */
export interface ConnectionBudgets {
  /** queued.max.requests, in requests. */
  requestSlots: Budget;
  /** queued.max.request.bytes, in bytes. */
  requestMemory: Budget;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly writer: ResponseWriter;
  private readonly abort = new AbortController();
  /** Memory taken for the frame at the head of the decoder (its size prefix has been read). */
  private headFrameBytes = 0;
  /** Memory of a whole frame waiting for a request slot. */
  private waitingFrameBytes = 0;
  /** A request is taken from the decoder and its response not yet written. */
  private inFlight = false;
  /**
   * Requests whose handlers detached (RequestContext.detach): they wait, no longer as the request in
   * flight, and are answered in order with the ones after them.
   */
  private detachedRequests = 0;
  /** Settles once the response of the last request that detached is queued: every later response waits for it. */
  private responseTurn: Promise<void> | null = null;
  /** Responses queued and not yet in the kernel's hands (more than one only within a burst). */
  private writingResponses = 0;
  /** The socket is corked: a burst's responses go out together when it ends (see runRequest). */
  private corked = false;
  /** Responses of the current burst, left corked without waiting for their write. */
  private burstResponses = 0;
  /** Cancels our place in a budget's line while we wait for memory or a slot. */
  private cancelWait: (() => void) | null = null;
  /**
   * Where the socket reads, when it could be read into buffers we choose (socket-reads.ts). Frames
   * of handlers that let go of them (ApiHandler.releasesFrame: Produce) are handled as views of it;
   * every other request's frame is copied out first (see startRequest).
   */
  private readonly arena: ReadArena;
  private readonly socket: net.Socket;
  /** No more requests are read (closing, or closed). */
  private closing = false;
  private closed = false;
  /** No new request is taken before this time: the client went over its quota (RequestContext.throttle). */
  private mutedUntilMs = 0;
  private muteTimer: NodeJS.Timeout | undefined;
  /** Last time bytes arrived or a response was finished (connections.max.idle.ms). */
  lastActivityMs = Date.now();
  readonly clientHost: string;
  /** Authentication on a SASL_PLAINTEXT or SASL_SSL listener (sasl/sasl-session.ts); null on others. */
  readonly sasl: SaslSession | null;
  /** On an SSL listener, the principal's name the client's certificate gives (tls-listener.ts); null without one. */
  certificatePrincipal: string | null = null;

  /** `accepted` comes from a server made with pauseOnConnect: it has not been read yet. */
  constructor(
    accepted: net.Socket,
    readonly broker: BrokerContext,
    private readonly handlers: ReadonlyMap<number, AnyApiHandler>,
    private readonly budgets: ConnectionBudgets,
    private readonly onClose: (connection: Connection) => void,
    tls: TlsAcceptor | null = null,
  ) {
    // As Java's InetAddress gives it: an IPv4 client of the dual-stack listener is a.b.c.d, not
    // ::ffff:a.b.c.d, in group descriptions (kafka-consumer-groups' HOST), ACL hosts and logs.
    this.clientHost = normalizeAddress(accepted.remoteAddress ?? 'unknown');
    this.sasl = broker.listener.sasl === null ? null : new SaslSession(
      broker.listener.sasl,
      (user, mechanism) => broker.scramCredentials.lookup(user, mechanism),
      broker.delegationTokens.enabled ? (tokenId, mechanism) => broker.delegationTokens.scramLogin(tokenId, mechanism) : null,
    );
    this.decoder = new FrameDecoder(broker.settings.socketRequestMaxBytes);
    this.arena = new ReadArena(this.decoder);
    // TLS decrypts into buffers of its own: an encrypted connection is read through 'data' events.
    const secure = tls === null ? null : tls.accept(accepted);
    const socket = secure !== null ? null : readIntoChosenBuffers(accepted, {
      buffer: () => this.readTarget(),
      callback: (bytes, target) => this.onRead(bytes, target),
    });
    this.socket = secure ?? socket ?? accepted;
    this.writer = new ResponseWriter(this.socket, broker.metrics, (error) => this.onTransferFailure(error));
    this.socket.setNoDelay(true);
    // Over TLS, requests are read only once the client's certificate (if any) has been checked.
    if (secure !== null) secure.once('secure', () => this.onHandshake(tls!, secure));
    else if (socket === null) {
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.resume();
    }
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => this.close());
  }

  /** A TLS connection's handshake is done: its certificate, if any, names the principal. */
  private onHandshake(tls: TlsAcceptor, socket: TLSSocket): void {
    try {
      this.certificatePrincipal = tls.principal(socket);
    } catch (error) {
      this.broker.log.log('info', 'ssl:failed', { client: this.clientHost, error: (error as Error).message }, 'TLS client authentication failed; closing the connection');
      this.close();
      return;
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** The buffer the socket's next read fills (ReadArena.target). */
  private readTarget(): Buffer {
    // Asked once while the socket is being made (this.socket not yet set), with nothing in flight.
    return this.arena.target(this.inFlight, this.inFlight && this.socket.isPaused());
  }

  /** `bytes` bytes were read into `target`, a buffer readTarget() returned. */
  private onRead(bytes: number, target: Buffer): void {
    this.onData(this.arena.filled(target, bytes, this.inFlight));
  }

  /** True while a request is being handled or its response written. */
  get busy(): boolean {
    return this.inFlight || this.detachedRequests > 0;
  }

  /** True while a response is being written: waiting on the client, not on us. */
  get writing(): boolean {
    return this.writingResponses > 0;
  }

  private onData(chunk: Buffer): void {
    this.lastActivityMs = Date.now();
    this.broker.metrics.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk);
    } catch (error) {
      // An oversized or negative size prefix is refused before its body is buffered; the stream
      // cannot be resynchronised after it.
      this.reject(error);
      return;
    }
    this.pump();
  }

  /**
   * Moves the connection on as far as the budgets allow: takes memory for the frame being
   * received, starts the next whole request when none is in flight, and reads the socket only
   * while it may take more bytes.
   */
  private pump(): void {
    if (this.closing || this.inFlight || this.cancelWait !== null || this.detachedRequests >= DETACHED_REQUESTS_MAX) {
      this.pauseReading();
      return;
    }
    if (this.mutedUntilMs > Date.now()) {
      // Throttled: the answers so far go out, and the next request waits for the quota's delay.
      this.flushResponses();
      this.pauseReading();
      this.muteTimer ??= setTimeout(() => {
        this.muteTimer = undefined;
        this.pump();
      }, this.mutedUntilMs - Date.now());
      return;
    }
    let frame: Buffer | null;
    try {
      const frameBytes = this.decoder.headFrameBytes();
      if (frameBytes >= 0 && this.headFrameBytes === 0 && !this.takeFrameMemory(frameBytes + REQUEST_SIZE_PREFIX_BYTES)) return;
      frame = this.decoder.next();
    } catch (error) {
      this.reject(error);
      return;
    }
    if (frame === null) {
      this.flushResponses();
      if (this.socket.isPaused()) this.socket.resume();
      return;
    }
    const memoryBytes = this.headFrameBytes;
    this.headFrameBytes = 0;
    this.inFlight = true;
    this.pauseReading();
    if (!this.corked && this.wholeFrameBuffered()) {
      this.socket.cork();
      this.corked = true;
      // A burst ends in runRequest; this is the net under it: a handler that waits (a long poll, an
      // acks=all append) must not hold the earlier responses past this turn of the event loop.
      setImmediate(() => this.flushResponses());
    }
    if (this.budgets.requestSlots.tryTake(1)) {
      this.startRequest(frame, memoryBytes);
      return;
    }
    this.flushResponses();
    this.broker.metrics.requestSlotWaits++;
    this.waitingFrameBytes = memoryBytes;
    this.cancelWait = this.budgets.requestSlots.waitToTake(1, () => {
      this.cancelWait = null;
      this.waitingFrameBytes = 0;
      this.startRequest(frame, memoryBytes);
    });
  }

  /** Takes memory for the head frame, or waits in line for it (false: not yet). */
  private takeFrameMemory(bytes: number): boolean {
    if (this.budgets.requestMemory.tryTake(bytes)) {
      this.headFrameBytes = bytes;
      return true;
    }
    this.broker.metrics.requestMemoryWaits++;
    this.flushResponses();
    this.pauseReading();
    this.cancelWait = this.budgets.requestMemory.waitToTake(bytes, () => {
      this.cancelWait = null;
      this.headFrameBytes = bytes;
      this.pump();
    });
    return false;
  }

  /**
   * Whether the decoder holds another whole frame (a client that pipelines its requests). Not any
   * byte of one: a burst that went on across a partly read request made the ingest bench's replay
   * cheaper, but `sluice perf produce` 20% slower (0.7-0.85M records/s against 0.8-1.15M), its
   * answers held while the rest of a request it was still writing came in.
   */
  private wholeFrameBuffered(): boolean {
    let bodyBytes: number;
    try {
      bodyBytes = this.decoder.headFrameBytes();
    } catch {
      return false; // pump refuses it in its turn
    }
    return bodyBytes >= 0 && this.decoder.bufferedBytes >= REQUEST_SIZE_PREFIX_BYTES + bodyBytes;
  }

  /** Ends a burst: its corked responses go to the kernel in one write. */
  private flushResponses(): void {
    if (!this.corked) return;
    this.corked = false;
    this.burstResponses = 0;
    this.socket.uncork();
  }

  /**
   * Stops reading the socket. Reading into the arena stops only once it has no room left for a
   * read: until then a request in flight does not stop it, so a client that closes its connection
   * during a long poll is seen at once (as when Node's stream buffered up to its high-water mark
   * behind a paused socket), and no readStop/readStart pair is paid per request.
   */
  private pauseReading(): void {
    if (this.arena.hasRoomForRead && !this.closing) return;
    if (!this.socket.isPaused()) this.socket.pause();
  }

  private startRequest(frame: Buffer, memoryBytes: number): void {
    // A frame that is a view of the read arena is copied unless its handler lets go of it when it
    // returns (Produce); the arena's bytes are read over after that.
    if (this.arena.holds(frame) && !(frame.length >= 2 && this.handlers.get(frame.readInt16BE(0))?.releasesFrame === true)) frame = Buffer.from(frame);
    void this.runRequest(frame, new InFlightRequest(this, this.budgets, this.clientHost, this.abort.signal, memoryBytes, this.responseTurn));
  }

  /**
   * The request in flight detached (RequestContext.detach): it no longer holds its frame, so the
   * next request may start; later responses wait for its own to be queued.
   */
  requestDetached(request: InFlightRequest): void {
    let endTurn!: () => void;
    const turn = new Promise<void>((resolve) => (endTurn = resolve));
    request.endTurn = () => {
      if (this.responseTurn === turn) this.responseTurn = null;
      endTurn();
    };
    this.responseTurn = turn;
    this.detachedRequests++;
    this.inFlight = false;
    // Not from inside the handler's call: the next request starts once it has returned to its wait.
    queueMicrotask(() => this.pump());
  }

  /** One request from its frame to its response written (or dropped), then the next one. */
  private async runRequest(frame: Buffer, request: InFlightRequest): Promise<void> {
    let outcome: RequestOutcome | null;
    try {
      outcome = await this.handleFrame(frame, request);
    } catch (error) {
      // handleFrame catches what it expects; anything else is our bug, and still this connection's alone.
      this.broker.log.log('error', 'connection:unexpected', { client: this.clientHost, error: describe(error) }, 'unexpected error handling a request; closing the connection');
      this.close();
      outcome = null;
    }
    request.handled();
    if (request.throttleMs > 0) this.mutedUntilMs = Math.max(this.mutedUntilMs, Date.now() + request.throttleMs);
    if (request.endTurn !== null) {
      // Detached: its response (if any) is queued behind the earlier ones; the request in flight,
      // if any, is another one now. Written in order, so the next responses need not wait for the write.
      if (outcome !== null) this.logIfSlow(outcome.header, Date.now() - request.startedMs - request.parkedMs);
      request.endTurn();
      this.detachedRequests--;
      this.pump();
      return;
    }
    if (outcome !== null) {
      this.logIfSlow(outcome.header, Date.now() - request.startedMs - request.parkedMs);
      if (outcome.written !== null) {
        // A burst: the client pipelined its requests and the next one is already here. A small
        // response is left in the corked socket and the next request handled at once; the burst's
        // responses then go out in one write, and the client is woken once, not once a request
        // (Produce of 16 KiB batches, 5 in flight: a response write is ~20 us of a ~120 us request,
        // bench/ingest.bench.ts). The burst's first response goes out at once all the same: a
        // producer waits for its oldest answer to send its next request, and so sends it while we
        // handle the rest (sluice perf produce, defaults: 3.30 against 3.12M records/s, medians of
        // 10 paired runs; the ingest bench's replay, which does no work of its own, unchanged at
        // 0.47-0.56 of Engine.appendBatches). What a client that does not read makes us hold stays
        // bounded: the small responses to the requests it sent before, up to RESPONSE_BURST_MAX.
        if (this.corked && outcome.small && this.burstResponses < RESPONSE_BURST_MAX && this.wholeFrameBuffered()) {
          if (this.burstResponses === 0) {
            this.socket.uncork();
            this.socket.cork();
          }
          this.burstResponses++;
        } else {
          this.flushResponses();
          await outcome.written;
        }
      }
    }
    this.inFlight = false;
    this.lastActivityMs = Date.now();
    this.pump();
  }

  /**
   * Handles one request frame: resolves once its response is queued, with the request's header
   * and a promise of the response being written (null when there is no response), or with null
   * when the frame was refused. `request.handled()` runs as soon as the handler is done with the frame.
   */
  private async handleFrame(frame: Buffer, request: InFlightRequest): Promise<RequestOutcome | null> {
    const joining = this.broker.joining();
    if (joining !== null) {
      await joining;
      if (this.closing) return null; // the join failed: the broker is not starting
    }
    const sasl = this.sasl;
    // After a SaslHandshake v0 the next frame is the bare token, with no request header.
    if (sasl !== null && sasl.state === 'token') return this.bareToken(sasl, frame);
    // Every request header starts with api key, api version and correlation id (8 bytes); whether
    // the rest is a v1 or a v2 header depends on the version, so an unknown version is answered
    // from these bytes alone.
    if (frame.length < FIXED_HEADER_BYTES) {
      this.reject(new ProtocolError('MALFORMED_FRAME', `a ${frame.length}-byte frame holds no request header`));
      return null;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const access = sasl === null || apiKey === ApiKey.ApiVersions || apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate ? 'served' : sasl.access(Date.now());
    if (access === 'unauthenticated') {
      this.broker.log.log('info', `sasl:unauthenticated:${apiKey}`, { client: this.clientHost, apiKey, state: sasl!.state },
        `${apiKeyName(apiKey) ?? `API key ${apiKey}`} before SASL authentication; closing the connection`);
      // Kafka closes at once ("Unexpected Kafka request ... during SASL handshake"); the error code first says why.
      this.sendErrorAndClose(correlationId, KafkaErrorCode.ILLEGAL_SASL_STATE);
      return null;
    }
    if (access === 'expired') {
      // KIP-368: the client did not log in again within connections.max.reauth.ms. Kafka's broker
      // closes without an answer; the client reconnects and logs in anew.
      this.broker.log.log('info', 'sasl:expired', { client: this.clientHost, user: sasl!.user, apiKey },
        'SASL session expired without re-authentication (connections.max.reauth.ms); closing the connection');
      this.close();
      return null;
    }
    const metrics = this.broker.metrics;
    metrics.requests.set(apiKey, (metrics.requests.get(apiKey) ?? 0) + 1);
    const handler = this.handlers.get(apiKey);
    const served = handler !== undefined && apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion;
    if (!served || !isSupported(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer an ApiVersions of any version with our list, so the client can retry.
        const header: RequestHeader = { apiKey, apiVersion, correlationId, clientId: null };
        return { header, written: this.respond(encodeApiVersionsFallback(correlationId, this.advertisedVersions())), small: false };
      }
      this.broker.log.log('info', `protocol:unsupported:${apiKey}:${apiVersion}`, { client: this.clientHost, apiKey, apiVersion },
        handler ? `unsupported version ${apiVersion} of ${apiKeyName(apiKey) ?? apiKey}; closing the connection` : `unknown API key ${apiKey}; closing the connection`);
      // Kafka closes the connection on an unknown API key or version; we first send the error, so
      // the client can tell why: the correlation id and the error code.
      this.sendErrorAndClose(correlationId, handler ? KafkaErrorCode.UNSUPPORTED_VERSION : KafkaErrorCode.INVALID_REQUEST);
      return null;
    }
    let header: RequestHeader;
    let pending: PendingRequest;
    try {
      let bodyOffset: number;
      ({ header, bodyOffset } = readRequestHeader(frame));
      pending = handler!.decode(header, frame, bodyOffset);
    } catch (error) {
      this.reject(error, apiKey, apiVersion);
      return null;
    }
    request.header = header;
    const releases = request.releases;
    // request_percentage (client-quotas.ts): timed only while some client has one.
    const timedFromMs = this.broker.quotas.limitsRequests ? performance.now() : -1;
    let response: object | null;
    try {
      response = await pending(request);
    } catch (error) {
      for (const release of releases) release();
      this.broker.log.log('error', `handler:${apiKey}`, { client: this.clientHost, api: apiKeyName(apiKey), apiVersion, error: describe(error) },
        'request handler failed; closing the connection');
      this.close();
      return null;
    } finally {
      request.handled();
    }
    if (timedFromMs >= 0 && response !== null && !request.exemptFromRequestQuota) this.recordRequestTime(response, request, performance.now() - timedFromMs);
    // After every earlier request's response: a request that detached may still be waiting.
    if (request.responseBefore !== null) await request.responseBefore;
    if (response === null || this.closing) {
      for (const release of releases) release();
      return { header, written: null, small: false };
    }
    let parts: ResponseParts;
    try {
      parts = encodeResponse(header, response);
    } catch (error) {
      for (const release of releases) release();
      this.broker.log.log('error', `encode:${apiKey}`, { client: this.clientHost, api: apiKeyName(apiKey), apiVersion, error: describe(error) },
        'cannot encode the response; closing the connection');
      this.close();
      return null;
    }
    const small = parts.length === 1 && Buffer.isBuffer(parts[0]) && parts[0].length <= BURST_RESPONSE_BYTES_MAX;
    const written = this.respond(parts, releases);
    if (sasl?.state === 'failed') this.closeAfterFailedAuthentication(sasl, written);
    return { header, written, small };
  }

  /** A SASL token sent bare after a SaslHandshake v0: answered with a bare token (empty for PLAIN). */
  private bareToken(sasl: SaslSession, token: Buffer): RequestOutcome | null {
    const header: RequestHeader = { apiKey: ApiKey.SaslAuthenticate, apiVersion: 0, correlationId: 0, clientId: null };
    const outcome = sasl.authenticate(token);
    if (outcome.errorCode !== KafkaErrorCode.NONE) {
      // No error can be sent in this framing: the client sees the connection close, as from Kafka.
      this.closeAfterFailedAuthentication(sasl, Promise.resolve(false));
      return null;
    }
    const sizePrefix = Buffer.alloc(REQUEST_SIZE_PREFIX_BYTES);
    sizePrefix.writeInt32BE(outcome.reply.length);
    return { header, written: this.respond([Buffer.concat([sizePrefix, outcome.reply])]), small: false };
  }

  /**
   * A failed authentication: nothing more is read, and the connection closes once its answer is
   * written and connection.failed.authentication.delay.ms has passed, as Kafka delays it so that a
   * client guessing passwords cannot retry at once.
   */
  private closeAfterFailedAuthentication(sasl: SaslSession, written: Promise<boolean>): void {
    this.broker.log.log('info', 'sasl:failed', { client: this.clientHost, mechanism: sasl.mechanismName }, 'SASL authentication failed; closing the connection');
    this.closing = true;
    this.flushResponses();
    void written.then(() => {
      const timer = setTimeout(() => this.close(), sasl.settings.failedAuthenticationDelayMs);
      timer.unref();
    });
  }

  /**
   * Counts a request's time against its client's request_percentage (percent-seconds: ms / 10),
   * less its time parked; over the quota the response says how long to wait, and the connection waits it.
   */
  private recordRequestTime(response: object, request: InFlightRequest, elapsedMs: number): void {
    const handlingMs = Math.max(elapsedMs - request.parkedMs, 0);
    const throttleMs = this.broker.quotas.record(REQUEST_PERCENTAGE, request.quotaClient, handlingMs / 10);
    if (throttleMs <= 0) return;
    request.throttle(throttleMs);
    const answer = response as { throttleTimeMs?: number };
    if ('throttleTimeMs' in answer) answer.throttleTimeMs = Math.max(answer.throttleTimeMs ?? 0, throttleMs);
  }

  /** Queues a response; resolves once it is written (true) or dropped (false). */
  private respond(parts: ResponseParts, releases: ReadonlyArray<() => void> = []): Promise<boolean> {
    this.writingResponses++;
    return new Promise((resolve) =>
      this.writer.send(parts, releases, (written) => {
        this.writingResponses--;
        resolve(written);
      }),
    );
  }

  private logIfSlow(header: RequestHeader, handlingMs: number): void {
    const thresholdMs = this.broker.settings.requestLogThresholdMs;
    if (thresholdMs <= 0 || handlingMs < thresholdMs) return;
    this.broker.metrics.slowRequests++;
    this.broker.log.log('warn', `slow:${header.apiKey}`, {
      client: this.clientHost,
      clientId: header.clientId,
      api: apiKeyName(header.apiKey),
      apiVersion: header.apiVersion,
      ms: handlingMs,
    }, `slow request: ${handlingMs} ms (sluice.request.log.threshold.ms is ${thresholdMs})`);
  }

  advertisedVersions(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.handlers.values()].map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
  }

  private sendErrorAndClose(correlationId: number, errorCode: number): void {
    const body = Buffer.alloc(10);
    body.writeInt32BE(6, 0);
    body.writeInt32BE(correlationId, 4);
    body.writeInt16BE(errorCode, 8);
    this.closing = true;
    this.abort.abort();
    // Closed once the answer is in the kernel's hands. Not by end(): a socket we no longer read
    // would never see the client's FIN, and would stay open, and counted, for good.
    this.writer.send([body], [], () => this.close());
    this.flushResponses();
  }

  /** A frame we cannot read: close this connection only. */
  private reject(error: unknown, apiKey?: number, apiVersion?: number): void {
    this.broker.metrics.connectionsRejected++;
    const code = error instanceof ProtocolError ? error.code : 'UNEXPECTED';
    this.broker.log.log(error instanceof ProtocolError ? 'info' : 'error', `protocol:${code}`, {
      client: this.clientHost,
      apiKey,
      apiVersion,
      error: describe(error),
    }, 'cannot read a request; closing the connection');
    this.close();
  }

  private onTransferFailure(error: NativeError): void {
    const code = error.code ?? 'UNKNOWN';
    if (!CLIENT_GONE.has(code)) {
      countCause(this.broker.metrics.transferFailures, code);
      this.broker.logOnce.log('error', `transfer:${code}`, { client: this.clientHost, code, syscall: error.syscall, error: error.message },
        'cannot send a response; closing the connection');
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.abort.abort();
    clearTimeout(this.muteTimer);
    if (this.cancelWait !== null) {
      this.cancelWait();
      this.cancelWait = null;
    }
    // Memory held for a frame not yet handed to a handler goes back; a handler in progress gives
    // back its own when it ends.
    const heldBytes = this.headFrameBytes + this.waitingFrameBytes;
    this.headFrameBytes = 0;
    this.waitingFrameBytes = 0;
    if (heldBytes > 0) this.budgets.requestMemory.give(heldBytes);
    // Responses of a burst go to the kernel before the socket closes, as they would have one by one.
    this.flushResponses();
    this.writer.close();
    this.socket.destroy();
    this.onClose(this);
  }
}

/**
 * One request between its frame and its response: the RequestContext its handler sees, and the
 * budgets it holds. A class rather than closures made per request: under tsx (the benchmarks and
 * tests) every named closure costs an Object.defineProperty of its name, ~7% of the broker's CPU
 * time per Produce request of 16 KiB (bench/ingest.bench.ts).
 */
class InFlightRequest implements RequestContext {
  /** Set once the request header is read. */
  header!: RequestHeader;
  readonly startedMs = Date.now();
  /** Time spent parked (a long poll's wait), not counted as handling time. */
  parkedMs = 0;
  readonly releases: Array<() => void> = [];
  private slotHeld = true;
  private memoryHeld = true;

  /** Set once the handler detaches: ends its place in the order of responses. */
  endTurn: (() => void) | null = null;
  /** How long the connection waits, once this request is answered, before it takes the next one. */
  throttleMs = 0;
  /** A follower's fetch: not counted against request_percentage. */
  exemptFromRequestQuota = false;
  readonly broker: BrokerContext;

  constructor(
    private readonly connection: Connection,
    private readonly budgets: ConnectionBudgets,
    readonly clientHost: string,
    readonly signal: AbortSignal,
    private readonly memoryBytes: number,
    /** Settles once the responses before this one are queued (null: nothing before it waits). */
    readonly responseBefore: Promise<void> | null,
  ) {
    this.broker = connection.broker;
  }

  get sasl(): SaslSession | null {
    return this.connection.sasl;
  }

  /**
   * How the request's principal was established: a SASL login (by a delegation token or not), a
   * client certificate, or none (User:ANONYMOUS).
   */
  get authentication(): 'sasl' | 'delegation-token' | 'certificate' | 'none' {
    const sasl = this.connection.sasl;
    if (sasl !== null) return sasl.tokenAuthenticated ? 'delegation-token' : 'sasl';
    return this.connection.certificatePrincipal !== null ? 'certificate' : 'none';
  }

  private quotaClientMade: QuotaClient | undefined;

  /** Made once a request, when a handler asks (a Fetch asks up to three times). */
  get quotaClient(): QuotaClient {
    return (this.quotaClientMade ??= { user: this.connection.sasl?.user ?? this.connection.certificatePrincipal ?? ANONYMOUS_USER, clientId: this.header.clientId ?? '' });
  }

  throttle(throttleMs: number): void {
    this.throttleMs = Math.max(this.throttleMs, throttleMs);
  }

  exemptFromQuotas(): void {
    this.exemptFromRequestQuota = true;
  }

  onResponseSent(callback: () => void): void {
    this.releases.push(callback);
  }

  detach<T>(event: Promise<T>): Promise<T> {
    if (this.endTurn === null) {
      // The frame's bytes and memory go back now: the handler said it is done with them.
      this.handled();
      this.connection.requestDetached(this);
    }
    return this.park(event);
  }

  async park<T>(event: Promise<T>): Promise<T> {
    this.giveSlot();
    const parkedAtMs = Date.now();
    try {
      return await event;
    } finally {
      this.parkedMs += Date.now() - parkedAtMs;
    }
  }

  /**
   * The handler is done with the frame: its bytes and its slot go back before the response is
   * written, so a client that does not read holds neither.
   */
  handled(): void {
    this.giveSlot();
    if (!this.memoryHeld) return;
    this.memoryHeld = false;
    this.budgets.requestMemory.give(this.memoryBytes);
  }

  private giveSlot(): void {
    if (!this.slotHeld) return;
    this.slotHeld = false;
    this.budgets.requestSlots.give(1);
  }
}

interface RequestOutcome {
  header: RequestHeader;
  /** Settles once the response is written or dropped; null when there is no response (acks=0). */
  written: Promise<boolean> | null;
  /** One Buffer of at most BURST_RESPONSE_BYTES_MAX: may be left corked within a burst. */
  small: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
