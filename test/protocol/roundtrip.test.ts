// Every API at every version, both directions: a value with every field set encodes and decodes
// back to itself (fields outside the version come back as their defaults), re-encodes to the same
// bytes, and goes through whole frames (headers included) on both the broker and client paths.
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  readRequestHeader,
  registry,
  type RequestHeader,
} from '../../src/protocol/index.js';
import { decodeMessage, encodeMessage, type Input, type MessageSchema } from '../../src/protocol/schema.js';
import { expectedMessage, sampleMessage, structDefaults, versionsOf } from './samples.js';

function roundTrip(schema: MessageSchema, version: number, seed: number): void {
  const value = sampleMessage(schema, version, seed);
  const bytes = encodeMessage(schema, version, value as Input<MessageSchema>);
  const decoded = decodeMessage(schema, version, bytes);
  expect(decoded).toEqual(expectedMessage(schema, version, value));
  expect(encodeMessage(schema, version, decoded as Input<MessageSchema>)).toEqual(bytes);
}

describe('every API at every version', () => {
  for (const definition of registry.values()) {
    describe(`${definition.name} (key ${definition.apiKey})`, () => {
      for (const version of versionsOf(definition.request)) {
        it(`v${version}: request and response round-trip, bodies and whole frames`, () => {
          for (const seed of [0, 1, 2]) {
            roundTrip(definition.request, version, seed);
            roundTrip(definition.response, version, seed);
          }

          const header: RequestHeader = { apiKey: definition.apiKey, apiVersion: version, correlationId: 0x1234 + version, clientId: 'cli-é' };
          const request = sampleMessage(definition.request, version);
          const frame = encodeRequest(header, request);
          expect(frame.readInt32BE(0)).toBe(frame.length - 4);
          const parsed = readRequestHeader(frame.subarray(4));
          expect(parsed.header).toEqual(header);
          expect(decodeRequest(parsed.header, frame.subarray(4), parsed.bodyOffset)).toEqual(
            expectedMessage(definition.request, version, request),
          );

          const response = sampleMessage(definition.response, version);
          const parts = encodeResponse(header, response);
          expect(parts).toHaveLength(1);
          const responseFrame = parts[0] as Buffer;
          expect(responseFrame.readInt32BE(0)).toBe(responseFrame.length - 4);
          const decoded = decodeResponse(header, responseFrame.subarray(4));
          expect(decoded.correlationId).toBe(header.correlationId);
          expect(decoded.body).toEqual(expectedMessage(definition.response, version, response));
        });

        it(`v${version}: an empty body encodes every field as its default`, () => {
          for (const schema of [definition.request, definition.response]) {
            const empty = encodeMessage(schema, version, {} as Input<MessageSchema>);
            expect(decodeMessage(schema, version, empty)).toEqual(structDefaults(schema.fields, version));
          }
        });
      }
    });
  }
});
