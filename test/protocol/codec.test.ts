// Whole-message behaviour: header versions, the ApiVersions rules, errors with their codes,
// the advertised version table, encode-side validation, unknown tagged fields, typed bodies.
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  apiKeyName,
  decodeRequest,
  decodeResponse,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeResponse,
  isSupported,
  ProtocolError,
  readRequestHeader,
  registry,
  requestHeaderVersion,
  responseHeaderVersion,
  supportedApiVersions,
  type FetchResponseInput,
  type ProduceRequestBody,
  type RequestHeader,
} from '../../src/protocol/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).code;
  }
  throw new Error('expected a ProtocolError');
}

function headerBytes(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null): Buffer {
  const id = clientId === null ? null : Buffer.from(clientId);
  const out = Buffer.alloc(10 + (id?.length ?? 0));
  out.writeInt16BE(apiKey, 0);
  out.writeInt16BE(apiVersion, 2);
  out.writeInt32BE(correlationId, 4);
  out.writeInt16BE(id === null ? -1 : id.length, 8);
  id?.copy(out, 10);
  return out;
}

describe('the advertised versions', () => {
  it('cover the ranges the brief asks for, with Kafka flexible versions', () => {
    const expected: Record<number, [number, number, number | null]> = {
      0: [0, 11, 9],
      1: [0, 17, 12],
      2: [0, 9, 6],
      3: [0, 12, 9],
      8: [0, 9, 8],
      9: [0, 9, 6],
      10: [0, 6, 3],
      11: [0, 9, 6],
      12: [0, 4, 4],
      13: [0, 5, 4],
      14: [0, 5, 4],
      15: [0, 5, 5],
      16: [0, 5, 3],
      17: [0, 1, null],
      18: [0, 4, 3],
      19: [0, 7, 5],
      20: [0, 6, 4],
      21: [0, 2, 2],
      22: [0, 5, 2],
      23: [0, 4, 4],
      24: [0, 4, 3],
      25: [0, 4, 3],
      26: [0, 5, 3],
      27: [0, 1, 1],
      28: [0, 5, 3],
      29: [0, 3, 2],
      30: [0, 3, 2],
      31: [0, 3, 2],
      32: [0, 4, 4],
      33: [0, 2, 2],
      34: [0, 2, 2],
      35: [0, 4, 2],
      36: [0, 2, 2],
      37: [0, 3, 2],
      // Delegation tokens (KIP-48, KIP-373).
      38: [0, 3, 2],
      39: [0, 2, 2],
      40: [0, 2, 2],
      41: [0, 3, 2],
      42: [0, 2, 2],
      43: [0, 2, 2],
      44: [0, 1, 1],
      45: [0, 0, 0],
      46: [0, 0, 0],
      47: [0, 0, null],
      48: [0, 1, 1],
      49: [0, 1, 1],
      50: [0, 0, 0],
      51: [0, 0, 0],
      // UpdateFeatures (KIP-584): v1 upgrade types, v2 no per-feature results.
      57: [0, 2, 0],
      60: [0, 1, 0],
      61: [0, 0, 0],
      65: [0, 0, 0],
      66: [0, 1, 0],
      68: [0, 1, 0],
      69: [0, 1, 0],
      75: [0, 0, 0],
    };
    const actual = Object.fromEntries(
      [...registry.values()].map((d) => [d.apiKey, [d.validVersions[0], d.validVersions[1], Number.isFinite(d.firstFlexibleVersion) ? d.firstFlexibleVersion : null]]),
    );
    expect(actual).toEqual(expected);
    expect(supportedApiVersions()).toHaveLength(56);
    expect(supportedApiVersions()[0]).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 11 });
    expect(apiKeyName(ApiKey.OffsetForLeaderEpoch)).toBe('OffsetForLeaderEpoch');
    expect(apiKeyName(999)).toBe('ApiKey(999)');
  });

  it('isSupported: known key within its range only', () => {
    expect(isSupported(0, 0)).toBe(true);
    expect(isSupported(0, 11)).toBe(true);
    expect(isSupported(0, 12)).toBe(false);
    expect(isSupported(1, 17)).toBe(true);
    expect(isSupported(1, -1)).toBe(false);
    expect(isSupported(7, 0)).toBe(false); // ControlledShutdown: not implemented
    expect(isSupported(1000, 0)).toBe(false);
  });
});

describe('headers', () => {
  it('request header v2 and response header v1 for flexible versions; ApiVersions responses always v0', () => {
    expect(requestHeaderVersion(ApiKey.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Produce, 9)).toBe(2);
    expect(responseHeaderVersion(ApiKey.Produce, 8)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Produce, 9)).toBe(1);
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 4)).toBe(0);
    expect(requestHeaderVersion(ApiKey.SaslHandshake, 1)).toBe(1);
    expect(requestHeaderVersion(ApiKey.DescribeCluster, 0)).toBe(2);
  });

  it('reads a header of an unknown API as v1 and a too-new ApiVersions as v2, so the broker can answer', () => {
    const unknown = Buffer.concat([headerBytes(999, 0, 5, 'x'), Buffer.from([1, 2, 3])]);
    expect(readRequestHeader(unknown)).toEqual({ header: { apiKey: 999, apiVersion: 0, correlationId: 5, clientId: 'x' }, bodyOffset: 11 });
    // ApiVersions v9: header v2 with one unknown tagged field (tag 3, 2 bytes), then a body we cannot read.
    const tooNew = Buffer.concat([headerBytes(18, 9, 6, null), Buffer.from([1, 3, 2, 0xaa, 0xbb, 0x42])]);
    expect(readRequestHeader(tooNew)).toEqual({ header: { apiKey: 18, apiVersion: 9, correlationId: 6, clientId: null }, bodyOffset: 15 });
    expect(codeOf(() => decodeRequest({ apiKey: 18, apiVersion: 9, correlationId: 6, clientId: null }, tooNew, 15))).toBe('UNSUPPORTED_VERSION');
  });

  it('a truncated header is MALFORMED_FRAME', () => {
    const full = headerBytes(3, 9, 1, 'client');
    for (let length = 0; length < full.length + 1; length++) {
      expect(codeOf(() => readRequestHeader(full.subarray(0, length)))).toBe('MALFORMED_FRAME');
    }
  });

  it('unknown tagged fields in a flexible header and body are skipped', () => {
    // Heartbeat v4: header v2 with tag 7 = 3 bytes; body with tag 9 = 1 byte.
    const body = Buffer.from([
      ...[2, 0x67], // groupId 'g' (compact)
      ...[0, 0, 0, 3], // generationId
      ...[2, 0x6d], // memberId 'm'
      0, // groupInstanceId null
      ...[1, 9, 1, 0xff], // tagged fields: tag 9, size 1
    ]);
    const frame = Buffer.concat([headerBytes(12, 4, 8, 'c'), Buffer.from([1, 7, 3, 1, 2, 3]), body]);
    const { header, bodyOffset } = readRequestHeader(frame);
    expect(decodeRequest(header, frame, bodyOffset)).toEqual({ groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null });
  });
});

describe('errors', () => {
  const frame = encodeRequest({ apiKey: 12, apiVersion: 0, correlationId: 1, clientId: null }, { groupId: 'g', memberId: 'm' }).subarray(4);

  it('UNKNOWN_API_KEY and UNSUPPORTED_VERSION on decode and encode', () => {
    expect(codeOf(() => decodeRequest({ apiKey: 4, apiVersion: 0, correlationId: 1, clientId: null }, frame, 10))).toBe('UNKNOWN_API_KEY');
    expect(codeOf(() => decodeRequest({ apiKey: 12, apiVersion: 5, correlationId: 1, clientId: null }, frame, 10))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => encodeResponse({ apiKey: 4, apiVersion: 0, correlationId: 1, clientId: null }, {}))).toBe('UNKNOWN_API_KEY');
    expect(codeOf(() => encodeRequest({ apiKey: 0, apiVersion: 12, correlationId: 1, clientId: null }, {}))).toBe('UNSUPPORTED_VERSION');
  });

  it('a body offset outside the frame, or a truncated body, is MALFORMED_FRAME', () => {
    const header = { apiKey: 12, apiVersion: 0, correlationId: 1, clientId: null };
    expect(codeOf(() => decodeRequest(header, frame, frame.length + 1))).toBe('MALFORMED_FRAME');
    expect(codeOf(() => decodeRequest(header, frame.subarray(0, frame.length - 1), 10))).toBe('MALFORMED_FRAME');
  });

  it('null in a non-nullable field, a wrong type, or an out-of-range integer is ENCODE_ERROR', () => {
    const header: RequestHeader = { apiKey: ApiKey.Metadata, apiVersion: 9, correlationId: 1, clientId: null };
    // Topic names are nullable only from v10.
    expect(codeOf(() => encodeRequest(header, { topics: [{ name: null }] }))).toBe('ENCODE_ERROR');
    expect(() => encodeRequest({ ...header, apiVersion: 10 }, { topics: [{ name: null }] })).not.toThrow();
    // The topic list itself is nullable from v1 (null = all topics), not in v0.
    expect(codeOf(() => encodeRequest({ ...header, apiVersion: 0 }, { topics: null }))).toBe('ENCODE_ERROR');
    expect(codeOf(() => encodeRequest(header, { topics: 'orders' } as object))).toBe('ENCODE_ERROR');
    expect(codeOf(() => encodeRequest(header, { topics: [{ name: 42 }] } as object))).toBe('ENCODE_ERROR');
    expect(codeOf(() => encodeResponse(header, { throttleTimeMs: 2 ** 40 }))).toBe('ENCODE_ERROR');
    expect(codeOf(() => encodeResponse(header, { brokers: [{ nodeId: 1, host: 'h', port: 70000.5 }] }))).toBe('ENCODE_ERROR');
    // Fields outside the version are ignored, whatever they hold.
    expect(() => encodeRequest({ ...header, apiVersion: 3 }, { allowAutoTopicCreation: 'yes' } as object)).not.toThrow();
  });
});

describe('ApiVersions', () => {
  it('the fallback answer is UNSUPPORTED_VERSION with the key list, a v0 body behind header v0', () => {
    const keys = [
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ];
    const parts = encodeApiVersionsFallback(77, keys);
    expect(parts).toHaveLength(1);
    const frame = parts[0] as Buffer;
    // size, correlationId, errorCode 35, int32 count 2, then 3 int16 per key: no throttle, no tags.
    const expected = Buffer.alloc(4 + 4 + 2 + 4 + 12);
    expected.writeInt32BE(expected.length - 4, 0);
    expected.writeInt32BE(77, 4);
    expected.writeInt16BE(35, 8);
    expected.writeInt32BE(2, 10);
    [0, 0, 11, 18, 0, 4].forEach((v, i) => expected.writeInt16BE(v, 14 + 2 * i));
    expect(frame).toEqual(expected);
    // A client that asked v3 reads it as v0 because of the error code.
    const decoded = decodeResponse({ apiKey: 18, apiVersion: 3, correlationId: 77, clientId: null }, frame.subarray(4));
    expect(decoded).toEqual({ correlationId: 77, body: expect.objectContaining({ errorCode: 35, apiKeys: keys }) });
  });

  it('a v3 response is flexible in its body but keeps response header v0', () => {
    const header = { apiKey: 18, apiVersion: 3, correlationId: 5, clientId: 'c' };
    const frame = encodeResponse(header, { errorCode: 0, apiKeys: supportedApiVersions() })[0] as Buffer;
    expect(frame.readInt32BE(4)).toBe(5);
    expect(frame.readInt16BE(8)).toBe(0); // errorCode right after the correlation id: no header tags
    expect(frame[10]).toBe(supportedApiVersions().length + 1); // compact array of every key
    expect(decodeResponse(header, frame.subarray(4)).body.apiKeys).toEqual(supportedApiVersions());
  });
});

describe('typed bodies', () => {
  it('decodeRequest is typed per API when the key is a literal', () => {
    const header = { apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 1, clientId: null };
    const frame = encodeRequest(header, { acks: 1, timeoutMs: 10, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.from('x') }] }] });
    const parsed = readRequestHeader(frame.subarray(4));
    const body: ProduceRequestBody = decodeRequest({ ...parsed.header, apiKey: ApiKey.Produce }, frame.subarray(4), parsed.bodyOffset);
    const records: Buffer | null = body.topicData[0]!.partitionData[0]!.records;
    expect(records).toEqual(Buffer.from('x'));
    // @ts-expect-error records are Buffer | null, not a number (the body type is not `any`)
    const wrong: number = body.topicData[0]!.partitionData[0]!.records;
    expect(wrong).toBeDefined();
    // @ts-expect-error acks is a number
    const acks: string = body.acks;
    expect(acks).toBe(1);
    const response: FetchResponseInput = { responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: { fd: 1, position: 0, count: 0 } }] }] };
    expect(response.responses).toHaveLength(1);
  });
});
