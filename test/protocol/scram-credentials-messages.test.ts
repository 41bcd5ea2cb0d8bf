// The SCRAM credential APIs (KIP-554): DescribeUserScramCredentials (50) and
// AlterUserScramCredentials (51), version 0 only, flexible from 0. A request and response of each
// through whole frames (encodeRequest/decodeRequest, encodeResponse/decodeResponse) and as bare
// bodies (encodeMessage/decodeMessage, re-encoding to the same bytes), with the nullable cases: a
// null Users list (describe every user) and null error messages. Then the bodies against bytes
// built by hand from Kafka's JSON schemas (compact strings/arrays/bytes are uvarint(length + 1),
// null is 0, every struct ends with an empty tagged-field section).
import { describe, expect, it } from 'vitest';
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  ApiKey,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  encodeMessage,
  encodeRequest,
  encodeResponse,
  isFlexible,
  isSupported,
  readRequestHeader,
  registry,
  requestHeaderVersion,
  responseHeaderVersion,
  type AlterUserScramCredentialsRequestBody,
  type AlterUserScramCredentialsResponseBody,
  type DescribeUserScramCredentialsRequestBody,
  type DescribeUserScramCredentialsResponseBody,
  type Input,
  type MessageSchema,
  type RequestHeader,
} from '../../src/protocol/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const SHA_256 = 1;
const SHA_512 = 2;

function header(apiKey: number, apiVersion: number): RequestHeader {
  return { apiKey, apiVersion, correlationId: 0x5c7a, clientId: 'scram-test' };
}

/** The body as bare bytes, decoded, and re-encoded to the same bytes. */
function bodyRoundTrip(schema: MessageSchema, body: object): any {
  const bytes = encodeMessage(schema, 0, body as Input<MessageSchema>);
  const decoded = decodeMessage(schema, 0, bytes);
  expect(encodeMessage(schema, 0, decoded as Input<MessageSchema>)).toEqual(bytes);
  return decoded;
}

/** A request through a whole frame (header included), as a broker reads it; also as a bare body. */
function requestRoundTrip(apiKey: number, body: object): any {
  const frame = encodeRequest(header(apiKey, 0), body);
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const parsed = readRequestHeader(frame.subarray(4));
  expect(parsed.header).toEqual(header(apiKey, 0));
  const decoded = decodeRequest(parsed.header, frame.subarray(4), parsed.bodyOffset) as any;
  expect(bodyRoundTrip(registry.get(apiKey)!.request, body)).toEqual(decoded);
  return decoded;
}

/** A response through a whole frame, as a client reads it; also as a bare body. */
function responseRoundTrip(apiKey: number, body: object): any {
  const parts = encodeResponse(header(apiKey, 0), body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Buffer;
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const decoded = decodeResponse(header(apiKey, 0), frame.subarray(4));
  expect(decoded.correlationId).toBe(0x5c7a);
  expect(bodyRoundTrip(registry.get(apiKey)!.response, body)).toEqual(decoded.body);
  return decoded.body;
}

/** A byte builder independent of src/protocol's Writer, for the flexible encoding. */
class Bytes {
  private readonly out: number[] = [];
  i8(v: number): this {
    this.out.push(v & 0xff);
    return this;
  }
  i16(v: number): this {
    return this.i8(v >> 8).i8(v);
  }
  i32(v: number): this {
    return this.i16(v >> 16).i16(v & 0xffff);
  }
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.i8((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    return this.i8(v);
  }
  raw(bytes: Uint8Array): this {
    this.out.push(...bytes);
    return this;
  }
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const b = Buffer.from(s, 'utf8');
    return this.uvarint(b.length + 1).raw(b);
  }
  compactBytes(b: Buffer): this {
    return this.uvarint(b.length + 1).raw(b);
  }
  compactArray(count: number | null): this {
    return this.uvarint(count === null ? 0 : count + 1);
  }
  noTags(): this {
    return this.uvarint(0);
  }
  build(): Buffer {
    return Buffer.from(this.out);
  }
}

describe('the registry', () => {
  it('holds both APIs at version 0 only, flexible from 0, with the schemas of their modules', () => {
    const pairs: Array<[number, MessageSchema, MessageSchema, string]> = [
      [ApiKey.DescribeUserScramCredentials, DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse, 'DescribeUserScramCredentials'],
      [ApiKey.AlterUserScramCredentials, AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, 'AlterUserScramCredentials'],
    ];
    for (const [apiKey, request, response, name] of pairs) {
      const definition = registry.get(apiKey)!;
      expect(definition.request).toBe(request);
      expect(definition.response).toBe(response);
      expect(definition.name).toBe(name);
      expect(definition.validVersions).toEqual([0, 0]);
      expect(definition.firstFlexibleVersion).toBe(0);
      expect(isSupported(apiKey, 0)).toBe(true);
      expect(isSupported(apiKey, 1)).toBe(false);
      expect(isFlexible(apiKey, 0)).toBe(true);
      expect(requestHeaderVersion(apiKey, 0)).toBe(2);
      expect(responseHeaderVersion(apiKey, 0)).toBe(1);
    }
    expect(ApiKey.DescribeUserScramCredentials).toBe(50);
    expect(ApiKey.AlterUserScramCredentials).toBe(51);
  });
});

describe('DescribeUserScramCredentials (50)', () => {
  it('v0: a request naming users, and one with a null Users list (describe all)', () => {
    const named: DescribeUserScramCredentialsRequestBody = requestRoundTrip(ApiKey.DescribeUserScramCredentials, {
      users: [{ name: 'alice' }, { name: 'bob-é' }],
    });
    expect(named).toEqual({ users: [{ name: 'alice' }, { name: 'bob-é' }] });

    const all: DescribeUserScramCredentialsRequestBody = requestRoundTrip(ApiKey.DescribeUserScramCredentials, { users: null });
    expect(all).toEqual({ users: null });

    const empty: DescribeUserScramCredentialsRequestBody = requestRoundTrip(ApiKey.DescribeUserScramCredentials, { users: [] });
    expect(empty).toEqual({ users: [] });
  });

  it('v0: a response with per-user results, null and non-null error messages', () => {
    const body = {
      throttleTimeMs: 25,
      errorCode: 0,
      errorMessage: null,
      results: [
        {
          user: 'alice',
          errorCode: 0,
          errorMessage: null,
          credentialInfos: [
            { mechanism: SHA_256, iterations: 4096 },
            { mechanism: SHA_512, iterations: 8192 },
          ],
        },
        { user: 'mallory', errorCode: 91, errorMessage: 'Attempt to describe a user credential that does not exist', credentialInfos: [] },
      ],
    };
    const response: DescribeUserScramCredentialsResponseBody = responseRoundTrip(ApiKey.DescribeUserScramCredentials, body);
    expect(response).toEqual(body);
  });

  it('v0: a response with a message-level error and no results', () => {
    const body = { throttleTimeMs: 0, errorCode: 31, errorMessage: 'Cluster authorization failed.', results: [] };
    expect(responseRoundTrip(ApiKey.DescribeUserScramCredentials, body)).toEqual(body);
  });

  it('v0: the bytes Kafka\'s schema defines', () => {
    expect(encodeMessage(DescribeUserScramCredentialsRequest, 0, { users: null })).toEqual(new Bytes().compactArray(null).noTags().build());
    expect(encodeMessage(DescribeUserScramCredentialsRequest, 0, { users: [{ name: 'alice' }] })).toEqual(
      new Bytes().compactArray(1).compactString('alice').noTags().noTags().build(),
    );
    const response = new Bytes()
      .i32(25)
      .i16(0)
      .compactString(null)
      .compactArray(1)
      .compactString('alice')
      .i16(0)
      .compactString(null)
      .compactArray(1)
      .i8(SHA_512)
      .i32(8192)
      .noTags() // CredentialInfo
      .noTags() // DescribeUserScramCredentialsResult
      .noTags() // the body
      .build();
    const decoded = decodeMessage(DescribeUserScramCredentialsResponse, 0, response);
    expect(decoded).toEqual({
      throttleTimeMs: 25,
      errorCode: 0,
      errorMessage: null,
      results: [{ user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA_512, iterations: 8192 }] }],
    });
    expect(encodeMessage(DescribeUserScramCredentialsResponse, 0, decoded)).toEqual(response);
  });
});

describe('AlterUserScramCredentials (51)', () => {
  const salt = Buffer.from('6d1f0f4b2c3a9e88', 'hex');
  const saltedPassword = Buffer.alloc(32, 0xab);

  it('v0: a request with deletions and upsertions', () => {
    const request: AlterUserScramCredentialsRequestBody = requestRoundTrip(ApiKey.AlterUserScramCredentials, {
      deletions: [{ name: 'bob', mechanism: SHA_512 }],
      upsertions: [
        { name: 'alice', mechanism: SHA_256, iterations: 4096, salt, saltedPassword },
        { name: 'carol', mechanism: SHA_512, iterations: 10000, salt: Buffer.alloc(0), saltedPassword: Buffer.alloc(64, 1) },
      ],
    });
    expect(request.deletions).toEqual([{ name: 'bob', mechanism: SHA_512 }]);
    expect(request.upsertions).toHaveLength(2);
    expect(request.upsertions[0]).toMatchObject({ name: 'alice', mechanism: SHA_256, iterations: 4096 });
    expect(Buffer.from(request.upsertions[0]!.salt)).toEqual(salt);
    expect(Buffer.from(request.upsertions[0]!.saltedPassword)).toEqual(saltedPassword);
    expect(request.upsertions[1]!.salt).toHaveLength(0);
    expect(Buffer.from(request.upsertions[1]!.saltedPassword)).toEqual(Buffer.alloc(64, 1));

    const empty = requestRoundTrip(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [] });
    expect(empty).toEqual({ deletions: [], upsertions: [] });
  });

  it('v0: a response, one result per user, null and non-null error messages', () => {
    const body = {
      throttleTimeMs: 3,
      results: [
        { user: 'alice', errorCode: 0, errorMessage: null },
        { user: 'bob', errorCode: 91, errorMessage: 'Attempt to delete a user credential that does not exist' },
      ],
    };
    const response: AlterUserScramCredentialsResponseBody = responseRoundTrip(ApiKey.AlterUserScramCredentials, body);
    expect(response).toEqual(body);
  });

  it('v0: the bytes Kafka\'s schema defines', () => {
    const request = new Bytes()
      .compactArray(1)
      .compactString('bob')
      .i8(SHA_512)
      .noTags() // ScramCredentialDeletion
      .compactArray(1)
      .compactString('alice')
      .i8(SHA_256)
      .i32(4096)
      .compactBytes(salt)
      .compactBytes(saltedPassword)
      .noTags() // ScramCredentialUpsertion
      .noTags() // the body
      .build();
    expect(
      encodeMessage(AlterUserScramCredentialsRequest, 0, {
        deletions: [{ name: 'bob', mechanism: SHA_512 }],
        upsertions: [{ name: 'alice', mechanism: SHA_256, iterations: 4096, salt, saltedPassword }],
      }),
    ).toEqual(request);

    const response = new Bytes().i32(3).compactArray(1).compactString('alice').i16(0).compactString(null).noTags().noTags().build();
    expect(decodeMessage(AlterUserScramCredentialsResponse, 0, response)).toEqual({
      throttleTimeMs: 3,
      results: [{ user: 'alice', errorCode: 0, errorMessage: null }],
    });
  });
});
