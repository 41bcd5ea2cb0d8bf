// 20,000 random and mutated frames through readRequestHeader + decodeRequest: every failure is a
// ProtocolError (never a RangeError, TypeError or a hang), whatever the bytes.
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, ProtocolError, readRequestHeader, registry } from '../../src/protocol/index.js';
import { sampleMessage, versionsOf } from './samples.js';
import { prng } from '../fixtures/random.js';


describe('robustness', () => {
  it('20,000 random/mutated frames only ever throw ProtocolError', () => {
    const random = prng(0x5eed);
    const int = (n: number): number => Math.floor(random() * n);

    // Valid frames of every API at every version, to mutate.
    const valid: Buffer[] = [];
    for (const definition of registry.values()) {
      for (const version of versionsOf(definition.request)) {
        const header = { apiKey: definition.apiKey, apiVersion: version, correlationId: 1, clientId: 'fuzz' };
        valid.push(encodeRequest(header, sampleMessage(definition.request, version)).subarray(4));
      }
    }

    const mutate = (source: Buffer): Buffer => {
      const bytes = Buffer.from(source);
      switch (int(6)) {
        case 0: // flip a few bytes
          for (let i = 0, n = 1 + int(4); i < n; i++) bytes[int(bytes.length)] = int(256);
          return bytes;
        case 1: // truncate
          return bytes.subarray(0, int(bytes.length));
        case 2: // a length-ish field set to a huge or negative value
          if (bytes.length >= 4) bytes.writeInt32BE(int(2) === 0 ? 0x7fffffff : -2 - int(100), int(bytes.length - 3));
          return bytes;
        case 3: // random garbage behind a valid-looking header
          return Buffer.concat([bytes.subarray(0, 10), Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
        case 4: // all 0xff (varints that never end, -1 lengths everywhere)
          return Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(int(40), 0xff)]);
        default: // pure noise
          return Buffer.from(Array.from({ length: int(48) }, () => int(256)));
      }
    };

    const outcomes = { decoded: 0, protocolErrors: 0 };
    for (let i = 0; i < 20_000; i++) {
      const frame = mutate(valid[int(valid.length)]!);
      try {
        const { header, bodyOffset } = readRequestHeader(frame);
        decodeRequest(header, frame, bodyOffset);
        outcomes.decoded++;
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          throw new Error(`frame ${i} (${frame.toString('hex')}) threw a non-ProtocolError: ${String(error)}`, { cause: error });
        }
        expect(['MALFORMED_FRAME', 'UNKNOWN_API_KEY', 'UNSUPPORTED_VERSION']).toContain(error.code);
        outcomes.protocolErrors++;
      }
    }
    expect(outcomes.decoded + outcomes.protocolErrors).toBe(20_000);
    // Both paths were exercised.
    expect(outcomes.decoded).toBeGreaterThan(100);
    expect(outcomes.protocolErrors).toBeGreaterThan(100);
  });
});
