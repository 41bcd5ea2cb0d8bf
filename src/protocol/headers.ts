// Request and response headers.
//
//   Request header v1:  apiKey int16, apiVersion int16, correlationId int32, clientId nullable string
//   Request header v2:  v1 + tagged fields (clientId KEEPS its int16 length, not compact)
//   Response header v0: correlationId int32
//   Response header v1: v0 + tagged fields
//
// A flexible version of an API uses request header v2 and response header v1; other versions v1
// and v0. ApiVersions responses always use header v0, whatever the version, because a client
// reads the response before it knows which versions the broker speaks. (Request header v0, with
// no clientId, exists only for ControlledShutdown v0, which no client we serve sends.)
import { ApiKey } from './api-keys.js';
import { ProtocolError } from './errors.js';
import { Reader, sizeOfUnsignedVarint, type Writer } from './primitives.js';
import { isFlexible } from './registry.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Every request and response is preceded by its size as an int32. */
export const REQUEST_SIZE_PREFIX_BYTES = 4;

export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}

/**
 * Parses the request header of a frame (the bytes after the 4-byte size prefix). For an API or a
 * version the codec does not implement, the header is still read (the broker must answer with the
 * correlation id), as v2 when the API's flexible range covers the version, else v1.
 */
export function readRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number } {
  const reader = new Reader(frame);
  try {
    const apiKey = reader.readInt16();
    const apiVersion = reader.readInt16();
    const correlationId = reader.readInt32();
    const clientId = reader.readNullableString();
    if (requestHeaderVersion(apiKey, apiVersion) === 2) reader.readTaggedFields();
    return { header: { apiKey, apiVersion, correlationId, clientId }, bodyOffset: reader.offset };
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new ProtocolError(error.code, `request header: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

export function sizeOfRequestHeader(header: RequestHeader): number {
  const clientIdBytes = header.clientId === null ? 0 : Buffer.byteLength(header.clientId, 'utf8');
  return 10 + clientIdBytes + (requestHeaderVersion(header.apiKey, header.apiVersion) === 2 ? 1 : 0);
}

export function writeRequestHeader(writer: Writer, header: RequestHeader): void {
  writer.writeInt16(header.apiKey);
  writer.writeInt16(header.apiVersion);
  writer.writeInt32(header.correlationId);
  writer.writeNullableString(header.clientId);
  if (requestHeaderVersion(header.apiKey, header.apiVersion) === 2) writer.writeEmptyTaggedFields();
}

export function sizeOfResponseHeader(version: 0 | 1): number {
  return version === 1 ? 4 + sizeOfUnsignedVarint(0) : 4;
}

export function writeResponseHeader(writer: Writer, correlationId: number, version: 0 | 1): void {
  writer.writeInt32(correlationId);
  if (version === 1) writer.writeEmptyTaggedFields();
}

/** Reads a response header; returns the correlation id. */
export function readResponseHeader(reader: Reader, version: 0 | 1): number {
  const correlationId = reader.readInt32();
  if (version === 1) reader.readTaggedFields();
  return correlationId;
}
