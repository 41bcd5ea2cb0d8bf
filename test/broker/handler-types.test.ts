// Handlers are typed by their API's schemas: the request a handler reads is the decoded request
// body of its API key, and the response it returns must fit that API's response schema exactly.
//
// The `@ts-expect-error` lines below are the proof that a mismatch fails `npm run typecheck`: if
// the mismatch on the next line stopped being an error, the directive would be unused, which is
// itself an error. Each directive quotes (in backticks) what the error must say; the last test
// compiles this file without the directives and checks that each of those lines fails for that
// reason, and that nothing else does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';

import { ClientQuotas, anonymousClient } from '../../src/broker/client-quotas.js';
import { defineHandler, type AnyApiHandler, type ApiHandler, type HandlerResult, type RequestContext } from '../../src/broker/handler.js';
import { fetchHandler } from '../../src/broker/handlers/fetch.js';
import { joinGroupHandler, offsetFetchHandler } from '../../src/broker/handlers/groups.js';
import { metadataHandler } from '../../src/broker/handlers/metadata.js';
import { produceHandler } from '../../src/broker/handlers/produce.js';
import { createTopicsHandler } from '../../src/broker/handlers/topics.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import {
  encodeRequest,
  readRequestHeader,
  type CreateTopicsRequestBody,
  type FetchRequestBody,
  type JoinGroupRequestBody,
  type MetadataRequestBody,
  type OffsetFetchRequestBody,
  type ProduceRequestBody,
  type ResponseInputs,
} from '../../src/protocol/index.js';

type RequestOf<H extends ApiHandler<never> | AnyApiHandler> = Parameters<H['handle']>[1];

describe('handler requests', () => {
  it('are the decoded request bodies of their API, not any', () => {
    expectTypeOf<RequestOf<typeof fetchHandler>>().toEqualTypeOf<FetchRequestBody>();
    expectTypeOf<RequestOf<typeof produceHandler>>().toEqualTypeOf<ProduceRequestBody>();
    expectTypeOf<RequestOf<typeof metadataHandler>>().toEqualTypeOf<MetadataRequestBody>();
    expectTypeOf<RequestOf<typeof createTopicsHandler>>().toEqualTypeOf<CreateTopicsRequestBody>();
    expectTypeOf<RequestOf<ReturnType<typeof joinGroupHandler>>>().toEqualTypeOf<JoinGroupRequestBody>();
    expectTypeOf<RequestOf<ReturnType<typeof offsetFetchHandler>>>().toEqualTypeOf<OffsetFetchRequestBody>();
    expectTypeOf<FetchRequestBody['topics'][number]['partitions'][number]['fetchOffset']>().toEqualTypeOf<number>();
    expectTypeOf<ProduceRequestBody['topicData'][number]['partitionData'][number]['records']>().toEqualTypeOf<Buffer | null>();
    // Nullable from v1 (null = every topic), its names nullable from v10 (topics given by id).
    expectTypeOf<MetadataRequestBody['topics']>().toEqualTypeOf<Array<{ topicId: string; name: string | null }> | null>();
    expectTypeOf(fetchHandler).toEqualTypeOf<ApiHandler<typeof ApiKey.Fetch>>();
    expectTypeOf(fetchHandler.handle).returns.toEqualTypeOf<Promise<HandlerResult<1>> | HandlerResult<1>>();
    expectTypeOf<HandlerResult<1>>().toEqualTypeOf<ResponseInputs[1] | null>();
  });

  it('may only read fields their schema has, with their types', () => {
    const handler = defineHandler({
      apiKey: ApiKey.Heartbeat,
      minVersion: 0,
      maxVersion: 4,
      handle(_context, request) {
        // @ts-expect-error `Property 'groupID' does not exist`
        const misspelled = request.groupID;
        // @ts-expect-error `Type 'string | null' is not assignable to type 'string'`
        const instance: string = request.groupInstanceId;
        const generation: number = request.generationId;
        return { errorCode: misspelled === instance ? generation : 0 };
      },
    });
    expect(handler.apiKey).toBe(ApiKey.Heartbeat);
  });
});

describe('handler responses', () => {
  // Each handler below is wrong in one way; none is ever called.
  const misspelled = () =>
    // @ts-expect-error `responseFieldsNotInSchema: ".errorCod"`
    defineHandler({ apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4, handle: () => ({ throttleTimeMs: 0, errorCod: 0 }) });

  const misspelledInMap = () =>
    // @ts-expect-error `".topics[].partitions[].lowWatermak"`
    defineHandler({
      apiKey: ApiKey.DeleteRecords,
      minVersion: 0,
      maxVersion: 2,
      handle: (_context, request) => ({
        throttleTimeMs: 0,
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map(({ partitionIndex }) => ({ partitionIndex, lowWatermak: 0, errorCode: 0 })),
        })),
      }),
    });

  const misspelledInHelper = () => {
    const answer = (name: string) => ({ name, errorCode: 0, errorMesage: null });
    // @ts-expect-error `".results[].errorMesage"`
    return defineHandler({ apiKey: ApiKey.CreatePartitions, minVersion: 0, maxVersion: 3, handle: (_context, request) => ({ results: request.topics.map(({ name }) => answer(name)) }) });
  };

  const misspelledWhenAsync = () =>
    // @ts-expect-error `".trottleTimeMs"`
    defineHandler({
      apiKey: ApiKey.Produce,
      minVersion: 0,
      maxVersion: 11,
      async handle(_context, request) {
        if (request.acks === 0) return null;
        return { responses: [], trottleTimeMs: 0 };
      },
    });

  const anotherApisResponse = () =>
    // @ts-expect-error `".brokers"`
    defineHandler({ apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4, handle: () => ({ brokers: [], errorCode: 0 }) });

  const anyLeaking = () =>
    // @ts-expect-error `".errorCode: any"`
    defineHandler({ apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4, handle: () => ({ errorCode: JSON.parse('0') }) });

  const wrongType = () =>
    defineHandler({
      apiKey: ApiKey.Heartbeat,
      minVersion: 0,
      maxVersion: 4,
      // @ts-expect-error `Type 'string' is not assignable to type 'number'`
      handle: () => ({ throttleTimeMs: 0, errorCode: 'NONE' }),
    });

  const wrongNestedType = () =>
    defineHandler({
      apiKey: ApiKey.Fetch,
      minVersion: 4,
      maxVersion: 17,
      // @ts-expect-error `Type 'number' is not assignable to type 'RecordsInput | undefined'`
      handle: () => ({ responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: 42 }] }] }),
    });

  const versionTooNew = () =>
    defineHandler({
      apiKey: ApiKey.Heartbeat,
      minVersion: 0,
      // @ts-expect-error `Type '5' is not assignable to type '0 | 1 | 2 | 3 | 4'`
      maxVersion: 5,
      handle: () => null,
    });

  const unknownApi = () =>
    // @ts-expect-error `Type '4' is not assignable to type '0 | 1 | 2 | 3 | 8`
    defineHandler({ apiKey: ApiKey.LeaderAndIsr, minVersion: 0, maxVersion: 0, handle: () => null });

  it('fail the typecheck when a field name or type is not the schema’s (see the directives above)', () => {
    for (const wrong of [misspelled, misspelledInMap, misspelledInHelper, misspelledWhenAsync, anotherApisResponse, anyLeaking, wrongType, wrongNestedType, versionTooNew, unknownApi]) {
      expect(wrong).toBeTypeOf('function');
    }
  });

  it('are answered through decode, where the frame’s API key meets the handler’s', async () => {
    const handlers: AnyApiHandler[] = [fetchHandler, produceHandler];
    const handler = handlers[1]!;
    // @ts-expect-error `Argument of type '{}' is not assignable to parameter of type`
    void (() => handler.handle({} as RequestContext, {}));
    const frame = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 3, correlationId: 1, clientId: null }, { acks: 0, topicData: [] }).subarray(4);
    const { header, bodyOffset } = readRequestHeader(frame);
    // What an empty acks=0 Produce reads of its context: the client quotas of its client.
    const context = { header, quotaClient: anonymousClient(''), broker: { quotas: new ClientQuotas({ windowCount: 11, windowMs: 1000 }) } } as unknown as RequestContext;
    expect(await handler.decode(header, frame, bodyOffset)(context)).toBeNull(); // acks=0: no response
    expect(() => fetchHandler.decode(header, frame, bodyOffset)).toThrow(/sluice bug: a request of API 0 given to the handler of API 1/);
  });
});

describe('the directives in this file', () => {
  it('each mark exactly one error, the one they quote, and nothing else fails', () => {
    const path = fileURLToPath(import.meta.url);
    const source = readFileSync(path, 'utf8');
    const lines = source.split('\n');
    const expected = new Map<number, string>();
    lines.forEach((line, index) => {
      const match = /^\s*\/\/ @ts-expect-error `(.+)`$/.exec(line);
      if (match) expected.set(index + 1, match[1]!);
    });
    expect(expected.size).toBeGreaterThanOrEqual(12);

    const stripped = source.replaceAll('// @ts-expect-error', '// expected error:');
    const config = ts.getParsedCommandLineOfConfigFile(fileURLToPath(new URL('../../tsconfig.json', import.meta.url)), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    })!;
    const host = ts.createCompilerHost(config.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      fileName === path ? ts.createSourceFile(fileName, stripped, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
    const program = ts.createProgram([path], config.options, host);
    const file = program.getSourceFile(path)!;

    const errors = new Map<number, string[]>();
    for (const diagnostic of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const line = file.getLineAndCharacterOfPosition(diagnostic.start!).line;
      errors.set(line, [...(errors.get(line) ?? []), ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')]);
    }
    for (const [line, messages] of errors) {
      expect(expected.has(line), `unexpected error on line ${line + 1}: ${messages.join('; ')}`).toBe(true);
    }
    for (const [line, fragment] of expected) {
      const messages = errors.get(line) ?? [];
      expect(messages.length, `no error on line ${line + 1}: ${lines[line]}`).toBeGreaterThan(0);
      expect(messages.join('\n'), `line ${line + 1}`).toContain(fragment);
    }
  }, 120_000);
});
