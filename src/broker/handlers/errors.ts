// Turning what went wrong into Kafka's numeric error codes for a response.
import { KafkaErrorCode, SluiceError } from '../../errors.js';

/** A SluiceError's Kafka code; an I/O failure from the addon is KAFKA_STORAGE_ERROR; else UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(error: unknown): number {
  if (error instanceof SluiceError) return error.errorCode;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return KafkaErrorCode.KAFKA_STORAGE_ERROR;
  return KafkaErrorCode.UNKNOWN_SERVER_ERROR;
}

export function errorMessageOf(error: unknown): string | null {
  return error instanceof Error ? error.message : null;
}

export const NONE = KafkaErrorCode.NONE;
