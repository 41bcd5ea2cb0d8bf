// Whole requests and responses: header + body, for both sides.
//
//   broker: FrameDecoder -> readRequestHeader -> decodeRequest ... encodeResponse -> socket
//   client: encodeRequest -> socket ... FrameDecoder -> decodeResponse
//
// encodeResponse returns parts (Buffers and FileRegions, never two Buffers in a row) so that
// record bytes can go out with sendfile; its size prefix counts the region bytes. encodeRequest
// returns one Buffer (a request never carries FileRegions).
import type { FileRegion } from '../native/binding.js';
import { ApiKey } from './api-keys.js';
import { ProtocolError } from './errors.js';
import {
  readResponseHeader,
  REQUEST_SIZE_PREFIX_BYTES,
  responseHeaderVersion,
  sizeOfRequestHeader,
  sizeOfResponseHeader,
  writeRequestHeader,
  writeResponseHeader,
  type RequestHeader,
} from './headers.js';
import { Reader, Writer } from './primitives.js';
import {
  registry,
  type ApiDefinition,
  type RequestBodies,
  type RequestInputs,
  type ResponseBodies,
  type ResponseInputs,
  type SupportedApiKey,
} from './registry.js';
import { asEncodeError, messageCodec, readMessage } from './schema.js';

export type ResponseParts = Array<Buffer | FileRegion>;

/** Kafka's UNSUPPORTED_VERSION error code. */
const UNSUPPORTED_VERSION = 35;
/** A frame's size is an int32. */
const FRAME_BYTES_MAX = 0x7fffffff;

function definitionFor(header: RequestHeader): ApiDefinition {
  const definition = registry.get(header.apiKey);
  if (definition === undefined) {
    throw new ProtocolError('UNKNOWN_API_KEY', `unknown API key ${header.apiKey}`);
  }
  const [min, max] = definition.validVersions;
  if (!Number.isInteger(header.apiVersion) || header.apiVersion < min || header.apiVersion > max) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `${definition.name} v${header.apiVersion} is not supported (versions ${min}-${max})`,
    );
  }
  return definition;
}

/**
 * Decodes a request body at `bodyOffset` of the frame (after readRequestHeader). Throws
 * ProtocolError: UNKNOWN_API_KEY, UNSUPPORTED_VERSION, MALFORMED_FRAME. Bytes after the body are
 * ignored, as Kafka does. `records` fields are subarrays of `frame`.
 */
export function decodeRequest<K extends SupportedApiKey>(
  header: RequestHeader & { apiKey: K },
  frame: Buffer,
  bodyOffset: number,
): RequestBodies[K];
export function decodeRequest(header: RequestHeader, frame: Buffer, bodyOffset: number): unknown;
export function decodeRequest(header: RequestHeader, frame: Buffer, bodyOffset: number): unknown {
  const definition = definitionFor(header);
  return readMessage(definition.request, header.apiVersion, new Reader(frame, bodyOffset));
}

/**
 * Encodes a whole response, size prefix included (it counts FileRegion bytes). The response header
 * version follows from (apiKey, apiVersion): v1 for flexible versions, v0 otherwise and always for
 * ApiVersions.
 */
export function encodeResponse<K extends SupportedApiKey>(
  header: RequestHeader & { apiKey: K },
  body: ResponseInputs[K],
): ResponseParts;
export function encodeResponse(header: RequestHeader, body: object): ResponseParts;
export function encodeResponse(header: RequestHeader, body: object): ResponseParts {
  const definition = definitionFor(header);
  const codec = messageCodec(definition.response, header.apiVersion);
  const headerVersion = responseHeaderVersion(header.apiKey, header.apiVersion);
  try {
    const { byteLength, regionBytes } = codec.measure(body);
    const frameBytes = sizeOfResponseHeader(headerVersion) + byteLength;
    if (frameBytes > FRAME_BYTES_MAX) {
      throw new ProtocolError('ENCODE_ERROR', `${definition.name} response of ${frameBytes} bytes above the int32 limit`);
    }
    const writer = new Writer(REQUEST_SIZE_PREFIX_BYTES + frameBytes - regionBytes, { allowRegions: true });
    writer.writeInt32(frameBytes);
    writeResponseHeader(writer, header.correlationId, headerVersion);
    codec.write(writer, body);
    return writer.finish();
  } catch (error) {
    throw asEncodeError(error, `${definition.name} response v${header.apiVersion}`);
  }
}

/**
 * Client side: a whole request frame, size prefix included. `allocate` gives the frame's memory (a
 * buffer of exactly the bytes asked), for callers that reuse it once the frame is written.
 */
export function encodeRequest<K extends SupportedApiKey>(header: RequestHeader & { apiKey: K }, body: RequestInputs[K], allocate?: (sizeBytes: number) => Buffer): Buffer;
export function encodeRequest(header: RequestHeader, body: object, allocate?: (sizeBytes: number) => Buffer): Buffer;
export function encodeRequest(header: RequestHeader, body: object, allocate?: (sizeBytes: number) => Buffer): Buffer {
  const definition = definitionFor(header);
  const codec = messageCodec(definition.request, header.apiVersion);
  try {
    const { byteLength } = codec.measure(body);
    const frameBytes = sizeOfRequestHeader(header) + byteLength;
    if (frameBytes > FRAME_BYTES_MAX) {
      throw new ProtocolError('ENCODE_ERROR', `${definition.name} request of ${frameBytes} bytes above the int32 limit`);
    }
    const writer = new Writer(allocate === undefined ? REQUEST_SIZE_PREFIX_BYTES + frameBytes : allocate(REQUEST_SIZE_PREFIX_BYTES + frameBytes));
    writer.writeInt32(frameBytes);
    writeRequestHeader(writer, header);
    codec.write(writer, body);
    return writer.finish()[0] as Buffer;
  } catch (error) {
    throw asEncodeError(error, `${definition.name} request v${header.apiVersion}`);
  }
}

/**
 * Client side: decodes a response frame (without its size prefix) to the request `header`.
 * An ApiVersions response carrying UNSUPPORTED_VERSION is read as v0, whatever was asked: that is
 * how a broker answers a version it does not know (KIP-511).
 */
export function decodeResponse<K extends SupportedApiKey>(
  header: RequestHeader & { apiKey: K },
  frame: Buffer,
): { correlationId: number; body: ResponseBodies[K] };
export function decodeResponse(header: RequestHeader, frame: Buffer): { correlationId: number; body: any };
export function decodeResponse(header: RequestHeader, frame: Buffer): { correlationId: number; body: unknown } {
  const definition = definitionFor(header);
  const reader = new Reader(frame);
  let correlationId: number;
  try {
    correlationId = readResponseHeader(reader, responseHeaderVersion(header.apiKey, header.apiVersion));
  } catch (error) {
    if (error instanceof ProtocolError) throw new ProtocolError(error.code, `response header: ${error.message}`);
    throw error;
  }
  let version = header.apiVersion;
  if (
    header.apiKey === ApiKey.ApiVersions &&
    reader.remaining >= 2 &&
    frame.readInt16BE(reader.offset) === UNSUPPORTED_VERSION
  ) {
    version = 0;
  }
  return { correlationId, body: readMessage(definition.response, version, reader) };
}

/**
 * The answer to an ApiVersions request of a version the broker does not know: UNSUPPORTED_VERSION
 * (35) with the broker's key list, as a v0 body behind response header v0, so the client can pick
 * a version and retry.
 */
export function encodeApiVersionsFallback(
  correlationId: number,
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>,
): ResponseParts {
  return encodeResponse(
    { apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId, clientId: null },
    { errorCode: UNSUPPORTED_VERSION, apiKeys },
  );
}
