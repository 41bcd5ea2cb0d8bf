// The one error type of the wire codec. Every failure to parse or build a Kafka frame is a
// ProtocolError with a stable `code`, so that the broker can tell a client's bad bytes (close the
// connection, or answer with an error code) from its own bugs (any other exception). A Node
// RangeError from a Buffer read never escapes: every read is bounds-checked first.

export type ProtocolErrorCode =
  /** Truncated input, a negative or oversized length, an over-long varint, a bad boolean/uuid... */
  | 'MALFORMED_FRAME'
  /** A frame's size prefix is above the configured maximum (checked before the body is allocated). */
  | 'FRAME_TOO_LARGE'
  /** The API is known, but not at this version. */
  | 'UNSUPPORTED_VERSION'
  /** The API key is not one the codec knows. */
  | 'UNKNOWN_API_KEY'
  /** A value cannot be encoded: null for a non-nullable field, a string too long, a bad uuid, ... */
  | 'ENCODE_ERROR';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** True when `error` is a ProtocolError (with the given code, if one is given). */
export function isProtocolError(error: unknown, code?: ProtocolErrorCode): error is ProtocolError {
  return error instanceof ProtocolError && (code === undefined || error.code === code);
}
