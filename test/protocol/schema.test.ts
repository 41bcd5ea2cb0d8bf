// The schema layer's own rules: what defineMessage refuses, and that Decoded/Input (the types every
// handler is written against) say exactly what readMessage returns and what writeMessage takes, at
// every version: tagged fields, versions a field is absent from, nullable versions, records,
// arrays of structs. The type assertions (expectTypeOf, @ts-expect-error) are checked by
// `npm run typecheck`; the runtime ones by vitest.
import { describe, expect, expectTypeOf, it } from 'vitest';

import type { FileRegion } from '../../src/native/binding.js';
import {
  decodeMessage,
  defineMessage,
  encodeMessage,
  type Decoded,
  type ExcessFields,
  type Input,
  type RecordsInput,
} from '../../src/protocol/index.js';

/** One field of each kind the types distinguish, with versions that come and go. */
const Sample = defineMessage({
  name: 'SampleRequest',
  apiKey: 1000,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    { name: 'count', type: 'int32', versions: '0+' },
    { name: 'offset', type: 'int64', versions: '1+', default: -1 },
    { name: 'label', type: 'string', versions: '1+', nullableVersions: '1+', default: null },
    { name: 'note', type: 'string', versions: '0+', nullableVersions: '3+' },
    { name: 'hint', type: 'string', versions: '0+', nullableVersions: 'none' },
    { name: 'payload', type: 'bytes', versions: '0+' },
    // Never nullable and absent from v0: an empty record set there, never null.
    { name: 'records', type: 'records', versions: '1+' },
    { name: 'maybeRecords', type: 'records', versions: '0+', nullableVersions: '0+' },
    { name: 'ids', type: '[]int32', versions: '0+', nullableVersions: '1+' },
    { name: 'tagged', type: 'string', versions: '2+', taggedVersions: '2+', tag: 0, default: 'none' },
    {
      name: 'leader',
      type: 'Leader',
      versions: '2+',
      taggedVersions: '2+',
      tag: 1,
      fields: [
        { name: 'leaderId', type: 'int32', versions: '2+', default: -1 },
        { name: 'leaderEpoch', type: 'int32', versions: '2+', default: -1 },
      ],
    },
    {
      name: 'topics',
      type: '[]Topic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ],
    },
    { name: 'uuid', type: 'uuid', versions: '3+' },
  ],
});

type SampleBody = Decoded<typeof Sample>;
type SampleInput = Input<typeof Sample>;

describe('Decoded', () => {
  it('types every field of every version, null only where a version allows it', () => {
    expectTypeOf<SampleBody>().toEqualTypeOf<{
      count: number;
      offset: number;
      label: string | null;
      note: string | null;
      hint: string;
      payload: Buffer;
      records: Buffer;
      maybeRecords: Buffer | null;
      ids: number[] | null;
      tagged: string;
      leader: { leaderId: number; leaderEpoch: number };
      topics: Array<{ name: string; partitions: number[] }>;
      uuid: string;
    }>();
    expectTypeOf<SampleBody['count']>().not.toBeAny();
    // @ts-expect-error no such field: a misspelled request field fails the typecheck
    expectTypeOf<SampleBody['cuont']>().toBeNever();
  });

  it('holds at every version: absent fields are their defaults, of their type', () => {
    const v0: SampleBody = decodeMessage(Sample, 0, encodeMessage(Sample, 0, { count: 1, note: 'n', hint: 'h', topics: [{ name: 't', partitions: [0] }] }));
    expect(v0).toEqual({
      count: 1,
      offset: -1,
      label: null,
      note: 'n',
      hint: 'h',
      payload: Buffer.alloc(0),
      records: Buffer.alloc(0),
      maybeRecords: null,
      ids: [],
      tagged: 'none',
      leader: { leaderId: -1, leaderEpoch: -1 },
      topics: [{ name: 't', partitions: [0] }],
      uuid: '00000000-0000-0000-0000-000000000000',
    });
    // A never-nullable records field left out is encoded as an empty record set, not refused.
    const v3 = decodeMessage(Sample, 3, encodeMessage(Sample, 3, { label: 'l', leader: { leaderId: 4 } }));
    expect(v3.records).toEqual(Buffer.alloc(0));
    expect(v3.leader).toEqual({ leaderId: 4, leaderEpoch: -1 });
    expect(v3.label).toBe('l');
  });
});

describe('Input', () => {
  it('leaves every field optional and accepts what the encoder takes', () => {
    expectTypeOf<SampleInput>().toEqualTypeOf<{
      count?: number;
      offset?: number | bigint;
      label?: string | null;
      note?: string | null;
      hint?: string;
      payload?: Uint8Array;
      records?: RecordsInput;
      maybeRecords?: RecordsInput;
      ids?: ReadonlyArray<number> | null;
      tagged?: string;
      leader?: { leaderId?: number; leaderEpoch?: number };
      topics?: ReadonlyArray<{ name?: string; partitions?: ReadonlyArray<number> }>;
      uuid?: string;
    }>();
    const region: FileRegion = { fd: 3, position: 0, count: 10 };
    expectTypeOf({ records: [Buffer.alloc(1), region] }).toExtend<SampleInput>();
    // @ts-expect-error a string is not records
    expectTypeOf({ records: 'x' }).toExtend<SampleInput>();
  });
});

describe('ExcessFields', () => {
  it('names fields the schema has no room for, at any depth, through arrays and nullable fields', () => {
    expectTypeOf<ExcessFields<{ count: number; topics: Array<{ name: string }> }, SampleInput>>().toBeNever();
    expectTypeOf<ExcessFields<{ count: number; cuont: number }, SampleInput>>().toEqualTypeOf<'.cuont'>();
    expectTypeOf<ExcessFields<{ topics: Array<{ name: string; nmae: string }> }, SampleInput>>().toEqualTypeOf<'.topics[].nmae'>();
    expectTypeOf<ExcessFields<{ leader: { leaderId: number; epoch: number } }, SampleInput>>().toEqualTypeOf<'.leader.epoch'>();
    expectTypeOf<ExcessFields<{ ids: number[] | null }, SampleInput>>().toBeNever();
    // Records may be Buffers, FileRegions or arrays of them: their own fields are not schema fields.
    expectTypeOf<ExcessFields<{ records: Array<Buffer | FileRegion> }, SampleInput>>().toBeNever();
    // A union of shapes (two return statements) is checked member by member.
    expectTypeOf<ExcessFields<{ count: number } | { label: null; extra: boolean }, SampleInput>>().toEqualTypeOf<'.extra'>();
  });

  it('reports any where it leaks in', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expectTypeOf<ExcessFields<{ topics: Array<{ name: any }> }, SampleInput>>().toEqualTypeOf<'.topics[].name: any'>();
  });
});

describe('defineMessage', () => {
  const message = (fields: object[]) => () =>
    defineMessage({ name: 'BadRequest', apiKey: 1000, type: 'request', validVersions: [0, 3], flexibleVersions: 'none', fields: fields as never });

  it('refuses a null default on a field not nullable in all its versions (as Kafka generator does)', () => {
    expect(message([{ name: 'label', type: 'string', versions: '0+', default: null }])).toThrow(/null cannot be the default/);
    expect(message([{ name: 'label', type: 'string', versions: '0+', nullableVersions: '2+', default: null }])).toThrow(/null cannot be the default/);
    expect(message([{ name: 'ids', type: '[]int32', versions: '1+', default: null }])).toThrow(/null cannot be the default/);
    expect(message([{ name: 'label', type: 'string', versions: '1+', nullableVersions: '0+', default: null }])).not.toThrow();
  });

  it("encodes a nullable struct field with Kafka's int8 marker: -1 for null, 1 for a struct", () => {
    const leader = { name: 'leader', type: 'Leader', versions: '0+', fields: [{ name: 'leaderId', type: 'int32', versions: '0+' }] };
    const Nullable = defineMessage({ name: 'NullableStruct', apiKey: 1000, type: 'response', validVersions: [0, 0], flexibleVersions: '0+', fields: [{ ...leader, nullableVersions: '0+', default: null }] });
    // null: the marker alone, then the message's empty tagged fields.
    expect([...encodeMessage(Nullable, 0, { leader: null })]).toEqual([0xff, 0]);
    expect(encodeMessage(Nullable, 0, {})).toEqual(encodeMessage(Nullable, 0, { leader: null }));
    const present = encodeMessage(Nullable, 0, { leader: { leaderId: 7 } });
    expect([...present]).toEqual([1, 0, 0, 0, 7, 0, 0]);
    expect(decodeMessage(Nullable, 0, present)).toEqual({ leader: { leaderId: 7 } });
    expect(decodeMessage(Nullable, 0, Buffer.from([0xff, 0]))).toEqual({ leader: null });
    expect(message([leader])).not.toThrow();
    expect(message([{ ...leader, type: '[]Leader', nullableVersions: '0+' }])).not.toThrow();
  });
});
