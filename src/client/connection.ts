// One TCP connection to a broker: requests go out framed by the protocol codec, responses are
// matched to them by correlation id. On connect it asks ApiVersions and from then on speaks, per
// API, the highest version both sides know (Kafka's client rule).
import net from 'node:net';
import tls from 'node:tls';

import { KafkaErrorCode, SluiceError, kafkaErrorName } from '../errors.js';
import { decodeResponse, encodeRequest, isSupported, type ApiVersionRange, type RequestHeader } from '../protocol/index.js';
import { FrameReader } from './frame-reader.js';
import { WriteBuffers } from './write-buffers.js';
import { ApiKey } from '../protocol/api-keys.js';
import { binding } from '../native/binding.js';
import { descriptorOf } from '../native/descriptor.js';
import { authenticate, type SaslCredentials } from './sasl.js';
import type { TlsOptions } from './tls-config.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  /**
   * Fail the connect (TCP, then TLS's handshake) after this long: socket.connection.setup.timeout.ms,
   * default 10 s. KafkaClient lengthens it after each failure to the same broker (backoff.ts).
   */
  connectTimeoutMs?: number;
  /** send.buffer.bytes: the socket's SO_SNDBUF; -1 or none keeps the OS's autotuned buffer. */
  sendBufferBytes?: number;
  /** receive.buffer.bytes: the socket's SO_RCVBUF; -1 or none keeps the OS's autotuned buffer. */
  receiveBufferBytes?: number;
  /**
   * connections.max.idle.ms (default 540000, Kafka's clients'): the connection closes once nothing
   * was sent or received for this long and no request awaits its answer; a negative value keeps it
   * open. Nine minutes is one below the broker's own idle close (600000), so the client, which
   * knows whether it still waits for something, closes first.
   */
  idleTimeoutMs?: number;
  /** Fail a request that has no response after this long (default 30 s, Kafka's request.timeout.ms). */
  requestTimeoutMs?: number;
  /**
   * The local address to connect from. A broker of a cluster binds its own (127.0.0.2, ...) so that
   * its traffic to each peer can be told apart and cut (nft); on loopback the default is 127.0.0.1.
   */
  localAddress?: string;
  /** Log in with SASL after ApiVersions (a SASL_PLAINTEXT or SASL_SSL listener); none for PLAINTEXT. */
  sasl?: SaslCredentials;
  /** Speak TLS (an SSL or SASL_SSL listener): what to trust and present (tls-config.ts); none for plaintext. */
  tls?: TlsOptions;
}

export interface RequestOptions {
  /**
   * Lends the buffer the response frame is read into (at least `sizeBytes`; a shorter one is not
   * used). The decoded response's byte fields (records) are views of it: the caller lends it again
   * only once it no longer needs them. A consumer that counts records reuses one buffer this way,
   * and skips the first touch of a fresh 4 MB frame per fetch (1.4 ms, see FrameReader).
   */
  frameBuffer?: (sizeBytes: number) => Buffer;
  /** Fail this request when it has no response after this long (default: the connection's requestTimeoutMs). */
  timeoutMs?: number;
}

interface Pending {
  header: RequestHeader;
  frameBuffer: ((sizeBytes: number) => Buffer) | undefined;
  resolve: (body: any) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Responses larger than this are refused (Kafka's clients accept up to 100 MB as well). */
const RESPONSE_BYTES_MAX = 100 * 1024 * 1024;
/**
 * Bytes read from the socket per read while no large frame is open (reads into an open frame
 * fill its tail directly, see FrameReader): small responses and the heads of large ones.
 */
const READ_BUFFER_BYTES = 256 * 1024;
/**
 * A login that lasts (KIP-368) is renewed after this share of its lifetime, a random point in
 * [0.85, 0.95) as Kafka's clients pick it, so that the connections of many clients do not all log
 * in again at once, and with a margin for the exchange before the broker's deadline.
 */
const REAUTH_AFTER_SHARE_MIN = 0.85;
const REAUTH_AFTER_SHARE_SPREAD = 0.1;
/** connections.max.idle.ms's default, as Kafka's clients have it. */
export const IDLE_TIMEOUT_MS_DEFAULT = 540_000;
/** The idle check runs this many times an idle timeout, so a connection closes within 1.25 of it. */
const IDLE_CHECKS_PER_TIMEOUT = 4;
/** socket.connection.setup.timeout.ms's default, as Kafka's clients have it. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;
/** The ApiVersions version every broker since Kafka 2.4 answers; older ones fall back to v0. */
const API_VERSIONS_VERSION = 3;

export class BrokerConnection {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  /** The next login (KIP-368), when the broker's logins last a while. */
  private reauthTimer: NodeJS.Timeout | undefined;
  /** Checks for idleness (connections.max.idle.ms), when it closes idle connections. */
  private idleTimer: NodeJS.Timeout | undefined;
  /** Frames written and read: the idle check sees traffic as a change of this count, not a clock read a frame. */
  private traffic = 0;
  private nextCorrelationId = 1;
  private versions = new Map<number, number>();
  private advertised: ReadonlyArray<ApiVersionRange> = [];
  private closedError: Error | undefined;
  /** The socket is corked until the end of this tick (see write()). */
  private corked = false;
  /** Request frames' memory, reused once written. */
  private readonly writeBuffers = new WriteBuffers();
  private readonly takeWriteBuffer = (sizeBytes: number): Buffer => this.writeBuffers.take(sizeBytes);
  readonly clientId: string;

  private constructor(socket: net.Socket, private readonly frames: FrameReader, private readonly options: ConnectionOptions) {
    this.socket = socket;
    this.clientId = options.clientId ?? 'sluice';
    socket.setNoDelay(true);
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new SluiceError('NETWORK_EXCEPTION', `Connection to ${options.host}:${options.port} closed`)));
    const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS_DEFAULT;
    if (idleTimeoutMs >= 0) this.closeWhenIdle(idleTimeoutMs);
  }

  /** Closes the connection once no frame moved for `idleTimeoutMs` while no request was pending. */
  private closeWhenIdle(idleTimeoutMs: number): void {
    let seen = this.traffic;
    let quietSinceMs = Date.now();
    this.idleTimer = setInterval(() => {
      const nowMs = Date.now();
      if (this.traffic !== seen || this.pending.size > 0) {
        seen = this.traffic;
        quietSinceMs = nowMs;
      } else if (nowMs - quietSinceMs >= idleTimeoutMs) {
        this.fail(new SluiceError('NETWORK_EXCEPTION', `Connection to ${this.options.host}:${this.options.port} closed after ${idleTimeoutMs} ms idle (connections.max.idle.ms)`));
        this.socket.destroy();
      }
    }, Math.max(1, Math.floor(idleTimeoutMs / IDLE_CHECKS_PER_TIMEOUT)));
    // An idle connection does not keep the process alive.
    this.idleTimer.unref();
  }

  static async connect(options: ConnectionOptions): Promise<BrokerConnection> {
    // Reads land where the frame reader says (a frame's tail, or a shared buffer); the connection
    // object that consumes its frames exists only once the socket is connected.
    const reads: { consumer?: BrokerConnection } = {};
    const frames = new FrameReader(
      RESPONSE_BYTES_MAX,
      Buffer.allocUnsafe(READ_BUFFER_BYTES),
      (frame) => reads.consumer?.onFrame(frame),
      (sizeBytes, correlationId) => reads.consumer?.pending.get(correlationId)?.frameBuffer?.(sizeBytes) ?? Buffer.allocUnsafe(sizeBytes),
    );
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const common = {
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
        onread: {
          buffer: () => frames.readTarget(),
          callback: (bytes: number, target: Uint8Array) => {
            reads.consumer?.onRead(target as Buffer, bytes);
            return true;
          },
        },
      };
      const secure = options.tls;
      // Over TLS the connection is usable once the handshake has checked the broker's certificate.
      const socket = secure === undefined ? net.connect(common) : tls.connect({
        ...common,
        ...secure.context,
        // SNI takes a host name, never an address; the certificate is checked against either.
        servername: net.isIP(options.host) === 0 ? options.host : undefined,
        checkServerIdentity: secure.verifyHostname ? tls.checkServerIdentity : () => undefined,
      });
      const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SluiceError('NETWORK_EXCEPTION', `Connection to ${options.host}:${options.port} timed out after ${timeoutMs} ms (socket.connection.setup.timeout.ms)`));
      }, timeoutMs);
      // Over TLS, an error once TCP is connected is the handshake's (a certificate refused, no common version).
      let handshake = false;
      let failed = false;
      socket.once('connect', () => {
        try {
          setBuffers(socket, options.sendBufferBytes ?? -1, options.receiveBufferBytes ?? -1);
        } catch (error) {
          failed = true;
          clearTimeout(timer);
          socket.destroy();
          reject(error);
        }
        handshake = secure !== undefined;
      });
      socket.once(secure === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        if (!failed) resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new SluiceError(handshake ? 'SSL_AUTHENTICATION_FAILED' : 'NETWORK_EXCEPTION', `Cannot connect to ${options.host}:${options.port}${handshake ? ' over TLS' : ''}: ${error.message}`, { cause: error }));
      });
    });
    const connection = new BrokerConnection(socket, frames, options);
    reads.consumer = connection;
    try {
      await connection.negotiateVersions();
      if (options.sasl !== undefined) connection.renewLogin(options.sasl, await authenticate(connection, options.sasl, `${options.host}:${options.port}`));
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  /**
   * Logs in again before a login of `lifetimeMs` ends (0: it does not), beside the requests in
   * flight (the broker serves them under the running login meanwhile); a refused login closes the
   * connection, failing its requests with the broker's error.
   */
  private renewLogin(credentials: SaslCredentials, lifetimeMs: number): void {
    if (lifetimeMs <= 0 || this.isClosed) return;
    const afterMs = lifetimeMs * (REAUTH_AFTER_SHARE_MIN + Math.random() * REAUTH_AFTER_SHARE_SPREAD);
    this.reauthTimer = setTimeout(() => {
      authenticate(this, credentials, `${this.options.host}:${this.options.port}`).then(
        (nextLifetimeMs) => this.renewLogin(credentials, nextLifetimeMs),
        (error: Error) => {
          this.fail(error);
          this.socket.destroy();
        },
      );
    }, afterMs);
    // A connection with nothing else to do does not keep the process alive for its next login.
    this.reauthTimer.unref();
  }

  private async negotiateVersions(): Promise<void> {
    const response = await this.send(ApiKey.ApiVersions, API_VERSIONS_VERSION, { clientSoftwareName: 'sluice', clientSoftwareVersion: '0.1.0' });
    this.advertised = (response.apiKeys as ApiVersionRange[]).map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
    for (const { apiKey, minVersion, maxVersion } of this.advertised) {
      for (let version = maxVersion; version >= minVersion; version--) {
        if (isSupported(apiKey, version)) {
          this.versions.set(apiKey, version);
          break;
        }
      }
    }
  }

  /** The APIs and version ranges the broker advertised in its ApiVersions response. */
  brokerApiVersions(): ReadonlyArray<ApiVersionRange> {
    return this.advertised;
  }

  /** The version this connection speaks for `apiKey`, or undefined when the broker lacks it. */
  versionOf(apiKey: number): number | undefined {
    return this.versions.get(apiKey);
  }

  /** Sends a request at the negotiated version (or `version`) and resolves with the response body. */
  request<T = any>(apiKey: number, body: object, version?: number, options?: RequestOptions): Promise<T> {
    const chosen = version ?? this.versions.get(apiKey);
    if (chosen === undefined) return Promise.reject(new SluiceError('UNSUPPORTED_VERSION', `The broker does not support API ${apiKey}`));
    return this.send(apiKey, chosen, body, options?.frameBuffer, options?.timeoutMs);
  }

  /** Sends a request that gets no response (Produce with acks=0); resolves once it is written. */
  sendOnly(apiKey: number, body: object): Promise<void> {
    const version = this.versions.get(apiKey)!;
    const header = { apiKey, apiVersion: version, correlationId: this.nextCorrelationId++, clientId: this.clientId };
    const frame = encodeRequest(header, body, this.takeWriteBuffer);
    return new Promise((resolve, reject) =>
      this.write(frame, (error) => {
        this.writeBuffers.release(frame);
        if (error) reject(error);
        else resolve();
      }),
    );
  }

  /**
   * Writes a frame; the frames written in one tick go out in one writev. A producer starts its
   * max.in.flight (5) requests in one tick: 5 write syscalls cost ~13% of `sluice perf produce`'s
   * CPU time (100 B records, batch.size 16 KiB), and the broker read them one by one.
   */
  private write(frame: Buffer, callback?: (error?: Error | null) => void): void {
    this.traffic++;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame, callback);
  }

  private send(apiKey: number, apiVersion: number, body: object, frameBuffer?: (sizeBytes: number) => Buffer, timeoutMs = this.options.requestTimeoutMs ?? 30_000): Promise<any> {
    if (this.closedError) return Promise.reject(this.closedError);
    const header: RequestHeader = { apiKey, apiVersion, correlationId: this.nextCorrelationId++, clientId: this.clientId };
    if (this.nextCorrelationId > 0x7fffffff) this.nextCorrelationId = 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(header.correlationId);
        reject(new SluiceError('REQUEST_TIMED_OUT', `No response to API ${apiKey} v${apiVersion} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(header.correlationId, { header, frameBuffer, resolve, reject, timer });
      const frame = encodeRequest(header, body, this.takeWriteBuffer);
      this.write(frame, () => this.writeBuffers.release(frame));
    });
  }

  private onRead(target: Buffer, bytes: number): void {
    try {
      this.frames.onRead(target, bytes);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
    }
  }

  private onFrame(frame: Buffer): void {
    this.traffic++;
    const correlationId = frame.readInt32BE(0);
    const pending = this.pending.get(correlationId);
    if (!pending) return; // a response to a request that timed out
    this.pending.delete(correlationId);
    clearTimeout(pending.timer);
    try {
      pending.resolve(decodeResponse(pending.header, frame).body);
    } catch (error) {
      pending.reject(refusal(pending.header, frame) ?? (error as Error));
    }
  }

  private fail(error: Error): void {
    clearInterval(this.idleTimer);
    if (!this.closedError) this.closedError = error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  close(): void {
    clearTimeout(this.reauthTimer);
    this.fail(new SluiceError('ENGINE_CLOSED', 'Connection closed'));
    this.socket.destroy();
  }
}

/**
 * send.buffer.bytes and receive.buffer.bytes on a connected socket (a TLS socket's descriptor is
 * its TCP connection's). Set once TCP is up, as Node opens the descriptor in connect(): the window
 * scale of the handshake already allows the OS's largest buffer, so a value set now still takes.
 */
function setBuffers(socket: net.Socket, sendBytes: number, receiveBytes: number): void {
  if (sendBytes < 0 && receiveBytes < 0) return;
  const fd = descriptorOf(socket);
  if (fd < 0) throw new SluiceError('NETWORK_EXCEPTION', 'The connection has no descriptor to set send.buffer.bytes and receive.buffer.bytes on');
  binding.setSocketBuffers(fd, sendBytes, receiveBytes);
}

/** Bytes of a refusal: the correlation id and an error code alone. */
const REFUSAL_BYTES = 6;

/**
 * A broker that will not answer a request (an unknown API version; anything but the SASL requests
 * before a SASL login) sends the correlation id and an error code alone, then closes the
 * connection: that error, named, rather than the decode failure of a response it is not.
 */
function refusal(header: RequestHeader, frame: Buffer): SluiceError | undefined {
  if (frame.length !== REFUSAL_BYTES) return undefined;
  const errorCode = frame.readInt16BE(4);
  if (errorCode === KafkaErrorCode.NONE) return undefined;
  const name = kafkaErrorName(errorCode);
  const why = errorCode === KafkaErrorCode.ILLEGAL_SASL_STATE ? ': its listener asks for a SASL login first (security.protocol=SASL_PLAINTEXT)' : '';
  return new SluiceError(name, `The broker refused API ${header.apiKey} v${header.apiVersion} with ${name}${why}`);
}
