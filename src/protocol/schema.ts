// A declarative message schema, mirroring Kafka's JSON message definitions
// (apache/kafka clients/src/main/resources/common/message/*.json), and the codec derived from it.
//
// One schema gives both directions: readMessage (broker: requests; client: responses) and
// measure/writeMessage (broker: responses; client: requests). Each (schema, version) is compiled
// once into generated functions and cached, so the per-message cost is the walk over the value,
// not the interpretation of the schema.
//
// The rules, as Kafka's generator applies them:
// - Field names are the camelCase of Kafka's (TopicData -> topicData).
// - `versions`, `nullableVersions`, `taggedVersions` are Kafka's ranges: "3+", "0-4", "5", "none".
// - A field outside its versions is not on the wire: decoding fills it with its default, encoding
//   ignores it. A field the caller leaves undefined is encoded as its default.
// - Defaults: the schema's `default` (Kafka's JSON defaults, e.g. -1), else the zero of the type:
//   0, false, '', empty bytes, the zero uuid, [] for arrays, null for records (an empty record set
//   where the field is never nullable), and for a struct an object of its fields' defaults. A
//   nullable field is null by default only where the schema says `default: null`, as in Kafka
//   (Metadata's nullable topic list defaults to [], not null = "all"); and, as Kafka's generator
//   requires, `default: null` only on a field nullable in all its versions. So the decoded type
//   (Decoded) holds at every version: a field absent from a version still has a value of its type.
// - A nullable struct field (not an array of structs; Kafka allows it since 3.x for a few newer
//   APIs, such as ConsumerGroupHeartbeat's Assignment) is preceded on the wire by an int8: -1 for
//   null, 1 for a struct, as Kafka's generator writes it.
// - null given for a field that is not nullable in the version being encoded throws
//   ProtocolError('ENCODE_ERROR'); so do values of the wrong type and out-of-range integers.
// - Flexible versions (KIP-482): strings, bytes, arrays and records use compact (uvarint length + 1)
//   prefixes, and every struct ends with a tagged-field section. Tagged fields are written only
//   when different from their default, in tag order; unknown tags are skipped on decode.
// - `records` fields decode to a subarray of the frame (no copy) or null, and encode from
//   `Uint8Array | FileRegion | Array<Uint8Array | FileRegion> | null`: the length prefix counts the
//   regions and the regions pass through the Writer untouched (sendfile). `bytes` fields decode to
//   a copy, since the broker keeps some of them (group metadata) long after the frame is gone.
//
// Encoding measures first, then writes into one allocation of exactly that size. Measured here
// (tsx, 2-core box, /tmp bench, not kept): Fetch v11 response, 8 partitions of FileRegions: size
// pass ~0.2 us, write ~1.2 us (a third of which is cutting Buffers around the regions); Metadata
// v9, 10 topics x 8 partitions: size ~5 us, write ~6 us. A growable buffer would save the size
// pass (~20% on Fetch) but flexible versions need sizes before values anyway (compact string
// lengths, tagged-field sizes, the frame's size prefix counting region bytes), so it would have to
// shift bytes or back-patch varints; the exact-size pass is simpler and never over-allocates.
// Each (schema, version) is compiled into generated functions (see compileStruct).
import type { FileRegion } from '../native/binding.js';
import { ProtocolError } from './errors.js';
import { isFileRegion, Reader, sizeOfUnsignedVarint, Writer, ZERO_UUID } from './primitives.js';

// ---- the schema DSL -------------------------------------------------------------------------

export type PrimitiveTypeName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

const PRIMITIVE_TYPES: ReadonlySet<string> = new Set<PrimitiveTypeName>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);

export interface FieldSpec {
  /** camelCase of Kafka's field name. */
  readonly name: string;
  /** A primitive, `[]<primitive>`, `[]<StructName>` (with `fields`), or `<StructName>` (with `fields`). */
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Kafka's JSON default, as a JS value (-1, 0x7fffffff, true, '', null). */
  readonly default?: number | string | boolean | null;
  readonly fields?: readonly FieldSpec[];
  readonly about?: string;
}

export interface MessageSchema {
  /** Kafka's message name, e.g. 'ProduceRequest'. */
  readonly name: string;
  readonly apiKey: number;
  readonly type: 'request' | 'response';
  /** [min, max] inclusive. */
  readonly validVersions: readonly [number, number];
  /** 'N+' or 'none'. */
  readonly flexibleVersions: string;
  readonly fields: readonly FieldSpec[];
}

/** Kafka's version range: "3+", "0-4", "5", "none". An empty range has min > max. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const EMPTY_RANGE: VersionRange = { min: 1, max: 0 };

export function parseVersionRange(spec: string): VersionRange {
  if (spec === 'none') return EMPTY_RANGE;
  let match = /^(\d+)\+$/.exec(spec);
  if (match !== null) return { min: Number(match[1]), max: Infinity };
  match = /^(\d+)-(\d+)$/.exec(spec);
  if (match !== null) return { min: Number(match[1]), max: Number(match[2]) };
  match = /^(\d+)$/.exec(spec);
  if (match !== null) return { min: Number(match[1]), max: Number(match[1]) };
  throw new Error(`protocol schema: bad version range '${spec}'`);
}

export function inVersionRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

/** The first flexible version of a schema, or Infinity when it has none. */
export function firstFlexibleVersion(schema: Pick<MessageSchema, 'flexibleVersions'>): number {
  const range = parseVersionRange(schema.flexibleVersions);
  return range.min > range.max ? Infinity : range.min;
}

// ---- value types derived from a schema ------------------------------------------------------

/** What a `records` field accepts on encode. */
export type RecordsInput = Uint8Array | FileRegion | ReadonlyArray<Uint8Array | FileRegion> | null;

interface DecodedPrimitives {
  bool: boolean;
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: number;
  float64: number;
  string: string;
  bytes: Buffer;
  records: Buffer;
  uuid: string;
}

interface InputPrimitives {
  bool: boolean;
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: number | bigint;
  float64: number;
  string: string;
  bytes: Uint8Array;
  records: RecordsInput;
  uuid: string;
}

type NullIfNullable<F> = F extends { readonly nullableVersions: infer V } ? (V extends 'none' ? never : null) : never;
type SubFields<F> = F extends { readonly fields: infer Fs extends readonly FieldSpec[] } ? Fs : readonly [];

type DecodedValue<F extends FieldSpec> = F['type'] extends `[]${infer E}`
  ? (E extends keyof DecodedPrimitives ? DecodedPrimitives[E][] : DecodedStruct<SubFields<F>>[]) | NullIfNullable<F>
  : F['type'] extends keyof DecodedPrimitives
    ? DecodedPrimitives[F['type']] | NullIfNullable<F>
    : DecodedStruct<SubFields<F>> | NullIfNullable<F>;

type InputValue<F extends FieldSpec> = F['type'] extends `[]${infer E}`
  ? (E extends keyof InputPrimitives ? ReadonlyArray<InputPrimitives[E]> : ReadonlyArray<InputStruct<SubFields<F>>>) | NullIfNullable<F>
  : F['type'] extends keyof InputPrimitives
    ? InputPrimitives[F['type']] | NullIfNullable<F>
    : InputStruct<SubFields<F>> | NullIfNullable<F>;

/** A decoded struct: every field of every version is present (absent ones hold their default). */
export type DecodedStruct<Fs extends readonly FieldSpec[]> = { [F in Fs[number] as F['name']]: DecodedValue<F> };
/** An encodable struct: every field optional (missing ones are encoded as their default). */
export type InputStruct<Fs extends readonly FieldSpec[]> = { [F in Fs[number] as F['name']]?: InputValue<F> };

/** The decoded body of a message schema. */
export type Decoded<S extends MessageSchema> = DecodedStruct<S['fields']>;
/** The encodable body of a message schema. */
export type Input<S extends MessageSchema> = InputStruct<S['fields']>;

/**
 * The fields of a value type T, at any depth, that the encodable type S has no room for, as paths
 * ('.responses[].partitions[].errorCod'), and '<path>: any' where `any` leaks in; never when T
 * fits. Input leaves every field optional (missing ones are encoded as defaults), so TypeScript
 * alone accepts a misspelled field beside correct ones, unless an object literal is checked
 * directly against it, which a handler's return value or a `.map` callback's result is not: the
 * extra field would be silently dropped on the wire. Checking the inferred type with this closes
 * that hole (see defineHandler in src/broker/handler.ts).
 */
export type ExcessFields<T, S, Path extends string = ''> = 0 extends 1 & T
  ? `${Path}: any`
  : T extends null | undefined | boolean | number | bigint | string | Uint8Array | FileRegion
    ? never
    : T extends ReadonlyArray<infer E>
      ? ExcessFields<E, ElementOf<S>, `${Path}[]`>
      : { [P in keyof T & string]-?: P extends FieldNameOf<S> ? ExcessFields<T[P], FieldOf<S, P>, `${Path}.${P}`> : `${Path}.${P}` }[keyof T & string];

type ElementOf<S> = S extends ReadonlyArray<infer E> ? E : never;
/** The field names of the struct members of S (S may be a union with null, arrays, records inputs). */
type FieldNameOf<S> = S extends ReadonlyArray<unknown> | Uint8Array ? never : S extends object ? keyof S : never;
type FieldOf<S, P> = S extends ReadonlyArray<unknown> | Uint8Array ? never : S extends object ? (P extends keyof S ? Exclude<S[P], undefined> : never) : never;

/**
 * Declares a message schema, checking its structure (our bug if it throws, at module load).
 * The `const` type parameter keeps the literal types that Decoded/Input are derived from.
 */
export function defineMessage<const S extends MessageSchema>(schema: S): S {
  const [min, max] = schema.validVersions;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && min <= max)) {
    throw new Error(`protocol schema ${schema.name}: bad validVersions [${min}, ${max}]`);
  }
  parseVersionRange(schema.flexibleVersions);
  checkFields(schema.name, schema.fields);
  return schema;
}

function checkFields(path: string, fields: readonly FieldSpec[]): void {
  const names = new Set<string>();
  const tags = new Set<number>();
  for (const field of fields) {
    const where = `${path}.${field.name}`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(field.name)) throw new Error(`protocol schema ${where}: name must be camelCase`);
    if (names.has(field.name)) throw new Error(`protocol schema ${where}: duplicate field`);
    names.add(field.name);
    const versions = parseVersionRange(field.versions);
    if (field.nullableVersions !== undefined) parseVersionRange(field.nullableVersions);
    if (field.default === null && !isNullableIn(field, versions)) {
      // Decoded types a field absent from a version by its default: null there must be allowed.
      throw new Error(`protocol schema ${where}: null cannot be the default, not all versions ${field.versions} are nullable`);
    }
    if ((field.taggedVersions === undefined) !== (field.tag === undefined)) {
      throw new Error(`protocol schema ${where}: taggedVersions and tag go together`);
    }
    if (field.tag !== undefined) {
      parseVersionRange(field.taggedVersions!);
      if (tags.has(field.tag)) throw new Error(`protocol schema ${where}: duplicate tag ${field.tag}`);
      tags.add(field.tag);
    }
    const element = field.type.startsWith('[]') ? field.type.slice(2) : field.type;
    if (PRIMITIVE_TYPES.has(element)) {
      if (field.fields !== undefined) throw new Error(`protocol schema ${where}: a ${field.type} has no fields`);
    } else {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(element)) throw new Error(`protocol schema ${where}: unknown type ${field.type}`);
      if (field.fields === undefined) throw new Error(`protocol schema ${where}: struct ${element} needs fields`);
      checkFields(where, field.fields);
    }
  }
}

/** Whether `field` is nullable in every version of `versions` (an empty range: trivially). */
function isNullableIn(field: FieldSpec, versions: VersionRange): boolean {
  if (versions.min > versions.max) return true;
  if (field.nullableVersions === undefined) return false;
  const nullable = parseVersionRange(field.nullableVersions);
  return nullable.min <= versions.min && nullable.max >= versions.max;
}

// ---- compiled codecs ------------------------------------------------------------------------

interface SizeContext {
  /** Bytes of FileRegions seen so far: counted in sizes, not allocated. */
  regionBytes: number;
}

interface Codec {
  read(reader: Reader): unknown;
  size(value: any, context: SizeContext): number;
  write(writer: Writer, value: any): void;
  /** Whether an (already resolved) value equals the default, for tagged fields. */
  isDefault(value: any): boolean;
}

interface CompiledField {
  readonly name: string;
  readonly path: string;
  readonly nullable: boolean;
  readonly tag: number;
  readonly codec: Codec;
  /** A fresh default for a decoded message (arrays and structs must not be shared). */
  readonly decodeDefault: () => unknown;
  /** The default used on encode (never mutated, so shared). */
  readonly encodeDefault: unknown;
}

function encodeError(message: string): ProtocolError {
  return new ProtocolError('ENCODE_ERROR', message);
}

const EMPTY_BUFFER = Buffer.alloc(0);
const FROZEN_EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);
const FROZEN_EMPTY_OBJECT: object = Object.freeze({});

/** The zero of a primitive type. `nullable`: whether the field is nullable in some version. */
function typeZero(type: string, nullable: boolean): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY_BUFFER;
    case 'records':
      // Never-nullable records are typed Buffer (Decoded): their zero is an empty record set.
      return nullable ? null : EMPTY_BUFFER;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function fixedCodec(
  size: number,
  read: (r: Reader) => unknown,
  write: (w: Writer, v: any) => void,
  check: (v: any) => boolean,
  path: string,
  defaultValue: unknown,
): Codec {
  return {
    read,
    size(value) {
      if (!check(value)) throw encodeError(`${path}: ${typeof value} ${String(value)} is not a valid value`);
      return size;
    },
    write,
    isDefault: (value) => value === defaultValue,
  };
}

const isNumber = (v: unknown): boolean => typeof v === 'number';
const intIn =
  (min: number, max: number) =>
  (v: unknown): boolean =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isInt64 = (v: unknown): boolean =>
  typeof v === 'bigint' ? BigInt.asIntN(64, v) === v : Number.isInteger(v) && (v as number) >= -(2 ** 63) && (v as number) < 2 ** 63;

function primitiveCodec(type: string, nullable: boolean, flexible: boolean, path: string, defaultValue: unknown): Codec {
  switch (type) {
    case 'bool':
      return fixedCodec(
        1,
        (r) => r.readBoolean(),
        (w, v) => w.writeBoolean(v),
        (v) => typeof v === 'boolean',
        path,
        defaultValue,
      );
    case 'int8':
      return fixedCodec(1, (r) => r.readInt8(), (w, v) => w.writeInt8(v), intIn(-0x80, 0x7f), path, defaultValue);
    case 'int16':
      return fixedCodec(2, (r) => r.readInt16(), (w, v) => w.writeInt16(v), intIn(-0x8000, 0x7fff), path, defaultValue);
    case 'uint16':
      return fixedCodec(2, (r) => r.readUInt16(), (w, v) => w.writeUInt16(v), intIn(0, 0xffff), path, defaultValue);
    case 'int32':
      return fixedCodec(4, (r) => r.readInt32(), (w, v) => w.writeInt32(v), intIn(-0x80000000, 0x7fffffff), path, defaultValue);
    case 'uint32':
      return fixedCodec(4, (r) => r.readUInt32(), (w, v) => w.writeUInt32(v), intIn(0, 0xffffffff), path, defaultValue);
    case 'float64':
      return fixedCodec(8, (r) => r.readFloat64(), (w, v) => w.writeFloat64(v), isNumber, path, defaultValue);
    case 'int64': {
      const codec = fixedCodec(8, (r) => r.readInt64(), (w, v) => w.writeInt64(v), isInt64, path, defaultValue);
      return { ...codec, isDefault: (v) => Number(v) === defaultValue };
    }
    case 'uuid': {
      const codec = fixedCodec(16, (r) => r.readUuid(), (w, v) => w.writeUuid(v), (v) => typeof v === 'string', path, defaultValue);
      return { ...codec, isDefault: (v) => typeof v === 'string' && v.toLowerCase() === defaultValue };
    }
    case 'string':
      return stringCodec(nullable, flexible, path, defaultValue);
    case 'bytes':
      return bytesCodec(nullable, flexible, path);
    case 'records':
      return recordsCodec(nullable, flexible, path);
    default:
      throw new Error(`protocol schema ${path}: unknown primitive ${type}`);
  }
}

function stringCodec(nullable: boolean, flexible: boolean, path: string, defaultValue: unknown): Codec {
  const read = flexible
    ? nullable
      ? (r: Reader) => r.readCompactNullableString()
      : (r: Reader) => r.readCompactString()
    : nullable
      ? (r: Reader) => r.readNullableString()
      : (r: Reader) => r.readString();
  return {
    read,
    size(value) {
      if (value === null) {
        if (!nullable) throw encodeError(`${path}: null in a non-nullable string`);
        return flexible ? 1 : 2;
      }
      if (typeof value !== 'string') throw encodeError(`${path}: ${typeof value} is not a string`);
      const length = Buffer.byteLength(value, 'utf8');
      if (length > 0x7fff) throw encodeError(`${path}: string of ${length} bytes above the 32767-byte limit`);
      return (flexible ? sizeOfUnsignedVarint(length + 1) : 2) + length;
    },
    write: flexible ? (w, v) => w.writeCompactNullableString(v) : (w, v) => w.writeNullableString(v),
    isDefault: (value) => value === defaultValue,
  };
}

function bytesCodec(nullable: boolean, flexible: boolean, path: string): Codec {
  const readRaw = flexible ? (r: Reader) => r.readCompactNullableBytes() : (r: Reader) => r.readNullableBytes();
  return {
    read(reader) {
      const value = readRaw(reader);
      if (value === null) {
        if (!nullable) throw new ProtocolError('MALFORMED_FRAME', `${path}: null in non-nullable bytes`);
        return null;
      }
      return Buffer.from(value);
    },
    size(value) {
      if (value === null) {
        if (!nullable) throw encodeError(`${path}: null in non-nullable bytes`);
        return flexible ? 1 : 4;
      }
      if (!(value instanceof Uint8Array)) throw encodeError(`${path}: ${typeof value} is not bytes`);
      return (flexible ? sizeOfUnsignedVarint(value.length + 1) : 4) + value.length;
    },
    write: flexible ? (w, v) => w.writeCompactNullableBytes(v) : (w, v) => w.writeNullableBytes(v),
    isDefault: (value) => value === null || (value instanceof Uint8Array && value.length === 0),
  };
}

function recordsPieceBytes(piece: unknown, path: string, context: SizeContext | null): number {
  if (piece instanceof Uint8Array) return piece.length;
  if (isFileRegion(piece)) {
    if (!Number.isInteger(piece.count) || piece.count < 0) throw encodeError(`${path}: FileRegion count ${piece.count}`);
    if (context !== null) context.regionBytes += piece.count;
    return piece.count;
  }
  throw encodeError(`${path}: records must be a Buffer, a FileRegion, an array of them, or null`);
}

function recordsBytes(value: unknown, path: string, context: SizeContext | null): number {
  if (Array.isArray(value)) {
    let total = 0;
    for (const piece of value) total += recordsPieceBytes(piece, path, context);
    return total;
  }
  return recordsPieceBytes(value, path, context);
}

function recordsCodec(nullable: boolean, flexible: boolean, path: string): Codec {
  const readRaw = flexible ? (r: Reader) => r.readCompactNullableBytes() : (r: Reader) => r.readNullableBytes();
  const writePiece = (w: Writer, piece: Uint8Array | FileRegion): void => {
    if (piece instanceof Uint8Array) w.writeRaw(piece);
    else w.writeRegion(piece);
  };
  return {
    read(reader) {
      const value = readRaw(reader);
      if (value === null && !nullable) throw new ProtocolError('MALFORMED_FRAME', `${path}: null in non-nullable records`);
      return value;
    },
    size(value, context) {
      if (value === null) {
        if (!nullable) throw encodeError(`${path}: null in non-nullable records`);
        return flexible ? 1 : 4;
      }
      const total = recordsBytes(value, path, context);
      if (total > 0x7fffffff) throw encodeError(`${path}: ${total} bytes of records above the int32 limit`);
      return (flexible ? sizeOfUnsignedVarint(total + 1) : 4) + total;
    },
    write(writer, value) {
      if (value === null) {
        if (flexible) writer.writeCompactArrayLength(null);
        else writer.writeInt32(-1);
        return;
      }
      const total = recordsBytes(value, path, null);
      if (flexible) writer.writeUnsignedVarint(total + 1);
      else writer.writeInt32(total);
      if (Array.isArray(value)) for (const piece of value) writePiece(writer, piece);
      else writePiece(writer, value);
    },
    isDefault: (value) => value === null,
  };
}

function arrayCodec(element: Codec, nullable: boolean, flexible: boolean, path: string, defaultIsNull: boolean): Codec {
  const readElement = element.read;
  const read = flexible
    ? nullable
      ? (r: Reader) => r.readCompactNullableArray(readElement)
      : (r: Reader) => r.readCompactArray(readElement)
    : nullable
      ? (r: Reader) => r.readNullableArray(readElement)
      : (r: Reader) => r.readArray(readElement);
  return {
    read,
    size(value, context) {
      if (value === null) {
        if (!nullable) throw encodeError(`${path}: null in a non-nullable array`);
        return flexible ? 1 : 4;
      }
      if (!Array.isArray(value)) throw encodeError(`${path}: ${typeof value} is not an array`);
      let size = flexible ? sizeOfUnsignedVarint(value.length + 1) : 4;
      for (let i = 0; i < value.length; i++) size += element.size(value[i], context);
      return size;
    },
    write(writer, value) {
      if (value === null) {
        if (flexible) writer.writeCompactArrayLength(null);
        else writer.writeArrayLength(null);
        return;
      }
      if (flexible) writer.writeCompactArrayLength(value.length);
      else writer.writeArrayLength(value.length);
      for (let i = 0; i < value.length; i++) element.write(writer, value[i]);
    },
    isDefault: (value) => (defaultIsNull ? value === null : value !== null && value.length === 0),
  };
}

interface StructCodec extends Codec {
  makeDefault(): Record<string, unknown>;
}

/** Fixed-width primitives: inlined by the generated struct code. */
interface FixedType {
  readonly size: number;
  readonly read: string;
  readonly write: string;
  readonly check: (value: unknown) => boolean;
}

const FIXED_TYPES: Readonly<Record<string, FixedType>> = {
  bool: { size: 1, read: 'readBoolean', write: 'writeBoolean', check: (v) => typeof v === 'boolean' },
  int8: { size: 1, read: 'readInt8', write: 'writeInt8', check: intIn(-0x80, 0x7f) },
  int16: { size: 2, read: 'readInt16', write: 'writeInt16', check: intIn(-0x8000, 0x7fff) },
  uint16: { size: 2, read: 'readUInt16', write: 'writeUInt16', check: intIn(0, 0xffff) },
  int32: { size: 4, read: 'readInt32', write: 'writeInt32', check: intIn(-0x80000000, 0x7fffffff) },
  uint32: { size: 4, read: 'readUInt32', write: 'writeUInt32', check: intIn(0, 0xffffffff) },
  int64: { size: 8, read: 'readInt64', write: 'writeInt64', check: isInt64 },
  float64: { size: 8, read: 'readFloat64', write: 'writeFloat64', check: isNumber },
  uuid: { size: 16, read: 'readUuid', write: 'writeUuid', check: (v) => typeof v === 'string' },
};

interface FieldPlan extends CompiledField {
  readonly present: boolean;
  readonly tagged: boolean;
  /** Set for fixed-width primitives on the wire as regular fields (inlined). */
  readonly fixed: FixedType | undefined;
}

function compileField(spec: FieldSpec, version: number, flexible: boolean, parentPath: string): FieldPlan {
  const path = `${parentPath}.${spec.name}`;
  const present = inVersionRange(parseVersionRange(spec.versions), version);
  const tagged =
    present && flexible && spec.taggedVersions !== undefined && inVersionRange(parseVersionRange(spec.taggedVersions), version);
  const nullable = spec.nullableVersions !== undefined && inVersionRange(parseVersionRange(spec.nullableVersions), version);
  const isArray = spec.type.startsWith('[]');
  const elementType = isArray ? spec.type.slice(2) : spec.type;
  const elementIsStruct = !PRIMITIVE_TYPES.has(elementType);

  let codec: Codec;
  let decodeDefault: () => unknown;
  let encodeDefault: unknown;
  if (isArray) {
    const element = elementIsStruct
      ? compileStruct(spec.fields!, version, flexible, `${path}[]`)
      : primitiveCodec(elementType, false, flexible, `${path}[]`, typeZero(elementType, false));
    const defaultIsNull = spec.default === null;
    codec = arrayCodec(element, nullable, flexible, path, defaultIsNull);
    decodeDefault = defaultIsNull ? () => null : () => [];
    encodeDefault = defaultIsNull && nullable ? null : FROZEN_EMPTY_ARRAY;
  } else if (elementIsStruct) {
    const struct = compileStruct(spec.fields!, version, flexible, path);
    const defaultIsNull = spec.default === null;
    codec = nullable ? nullableStructCodec(struct, defaultIsNull) : struct;
    decodeDefault = defaultIsNull ? () => null : () => struct.makeDefault();
    encodeDefault = defaultIsNull && nullable ? null : FROZEN_EMPTY_OBJECT;
  } else {
    const decodeValue: unknown = spec.default !== undefined ? spec.default : typeZero(elementType, spec.nullableVersions !== undefined);
    decodeDefault = () => decodeValue;
    // A null default where this version cannot carry null falls back to the type's zero.
    const encodeValue = decodeValue === null && !nullable ? typeZero(elementType, false) : decodeValue;
    encodeDefault = encodeValue;
    codec = primitiveCodec(elementType, nullable, flexible, path, encodeValue);
  }
  const fixed = !isArray && !tagged ? FIXED_TYPES[elementType] : undefined;
  return { name: spec.name, path, nullable, tag: spec.tag ?? -1, codec, decodeDefault, encodeDefault, present, tagged, fixed };
}

/** A struct that may be null: an int8 marker first, -1 for null and 1 for a struct (Kafka's generator). */
function nullableStructCodec(struct: StructCodec, defaultIsNull: boolean): Codec {
  return {
    read: (reader) => (reader.readInt8() < 0 ? null : struct.read(reader)),
    size: (value, context) => (value === null ? 1 : 1 + struct.size(value, context)),
    write: (writer, value) => {
      if (value === null) {
        writer.writeInt8(-1);
      } else {
        writer.writeInt8(1);
        struct.write(writer, value);
      }
    },
    isDefault: (value) => (value === null ? defaultIsNull : !defaultIsNull && struct.isDefault(value)),
  };
}

/**
 * Compiles a struct at one version into generated functions (read, size, write, isDefault): the
 * property accesses are then literal (`v.partitionIndex`), which V8 keeps monomorphic, instead of
 * `v[name]` lookups through a field table. Only names checked by defineMessage (camelCase
 * identifiers) and numbers go into the source; everything else is passed in as constants.
 * Measured on the 8-partition Fetch v11 response: encode 4.9 -> 3.4 us, its size pass 1.5 -> 0.2 us,
 * against the table-driven closures this replaced (byte-wise integer writes then took it to ~1.6).
 */
function compileStruct(fields: readonly FieldSpec[], version: number, flexible: boolean, path: string): StructCodec {
  const plans = fields.map((spec) => compileField(spec, version, flexible, path));
  const regular = plans.filter((field) => field.present && !field.tagged);
  const tagged = plans.filter((field) => field.tagged).sort((a, b) => a.tag - b.tag);

  const constants: unknown[] = [];
  const constant = (value: unknown): string => {
    constants.push(value);
    return `k${constants.length - 1}`;
  };
  const notStruct = constant((value: unknown) =>
    encodeError(`${path}: ${value === null ? 'null' : typeof value} is not a struct`),
  );
  const malformedTagCount = constant(
    (count: number) => new ProtocolError('MALFORMED_FRAME', `${path}: tagged field count ${count} larger than the bytes left`),
  );
  const emptyObject = constant(FROZEN_EMPTY_OBJECT);
  const uvarintSize = constant(sizeOfUnsignedVarint);

  // read: one object literal (a stable shape), tagged fields patched in afterwards.
  const readProps = plans.map((field) => {
    if (field.present && !field.tagged) {
      return `${field.name}: ${field.fixed !== undefined ? `r.${field.fixed.read}()` : `${constant(field.codec)}.read(r)`}`;
    }
    return `${field.name}: ${constant(field.decodeDefault)}()`;
  });
  let read = `const o = { ${readProps.join(', ')} };\n`;
  if (flexible) {
    if (tagged.length === 0) {
      read += 'r.readTaggedFields();\n';
    } else {
      read += `let c = r.readUnsignedVarint();
if (c > r.remaining) throw ${malformedTagCount}(c);
while (c-- > 0) {
  const tag = r.readUnsignedVarint();
  const s = r.subReader(r.readUnsignedVarint());
  switch (tag) {
${tagged.map((field) => `    case ${field.tag}: o.${field.name} = ${constant(field.codec)}.read(s); break;`).join('\n')}
  }
}
`;
    }
  }
  read += 'return o;';

  // size: validates everything (write trusts it), sums fixed widths once.
  let fixedBytes = 0;
  let size = `if (v === undefined) v = ${emptyObject}; else if (v === null || typeof v !== 'object') throw ${notStruct}(v);\nlet x;\n`;
  for (const field of regular) {
    const bad = constant((value: unknown) =>
      value === null
        ? encodeError(`${field.path}: null in a non-nullable field`)
        : encodeError(`${field.path}: ${typeof value} ${String(value)} is not a valid value`),
    );
    if (field.fixed !== undefined) {
      fixedBytes += field.fixed.size;
      size += `x = v.${field.name}; if (x !== undefined && !${constant(field.fixed.check)}(x)) throw ${bad}(x);\n`;
    } else {
      const nullCheck = field.nullable ? '' : ` else if (x === null) throw ${bad}(x);`;
      size += `x = v.${field.name}; if (x === undefined) x = ${constant(field.encodeDefault)};${nullCheck}\nn += ${constant(field.codec)}.size(x, ctx);\n`;
    }
  }
  if (flexible) {
    size += 'let t = 0, s = 0;\n';
    for (const field of tagged) {
      const codec = constant(field.codec);
      const bad = constant(() => encodeError(`${field.path}: null in a non-nullable field`));
      const nullCheck = field.nullable ? '' : ` else if (x === null) throw ${bad}();`;
      size += `x = v.${field.name}; if (x === undefined) x = ${constant(field.encodeDefault)};${nullCheck}
if (!${codec}.isDefault(x)) { t++; s = ${codec}.size(x, ctx); n += ${sizeOfUnsignedVarint(field.tag)} + ${uvarintSize}(s) + s; }
`;
    }
    size += `n += ${uvarintSize}(t);\n`;
  }
  size = `let n = ${fixedBytes};\n${size}return n;`;

  // write: trusts the value measured by size().
  let write = `if (v === undefined) v = ${emptyObject};\nlet x;\n`;
  for (const field of regular) {
    const fallback = constant(field.encodeDefault);
    write += `x = v.${field.name}; if (x === undefined) x = ${fallback}; `;
    write += field.fixed !== undefined ? `w.${field.fixed.write}(x);\n` : `${constant(field.codec)}.write(w, x);\n`;
  }
  if (flexible) {
    if (tagged.length === 0) {
      write += 'w.writeEmptyTaggedFields();\n';
    } else {
      const values = tagged.map((field) => ({ field, codec: constant(field.codec), fallback: constant(field.encodeDefault) }));
      write += 'let t = 0;\n';
      values.forEach(({ field, fallback }, i) => {
        write += `let x${i} = v.${field.name}; if (x${i} === undefined) x${i} = ${fallback};\n`;
      });
      values.forEach(({ codec }, i) => {
        write += `const d${i} = ${codec}.isDefault(x${i}); if (!d${i}) t++;\n`;
      });
      write += 'w.writeUnsignedVarint(t);\n';
      values.forEach(({ field, codec }, i) => {
        write += `if (!d${i}) { w.writeUnsignedVarint(${field.tag}); w.writeUnsignedVarint(${codec}.size(x${i}, { regionBytes: 0 })); ${codec}.write(w, x${i}); }\n`;
      });
    }
  }

  // isDefault: every field on the wire at this version holds its default.
  let isDefault = `if (v === undefined) return true; if (v === null || typeof v !== 'object') return false;\nlet x;\n`;
  for (const field of plans.filter((plan) => plan.present)) {
    isDefault += `x = v.${field.name}; if (x !== undefined && !${constant(field.codec)}.isDefault(x)) return false;\n`;
  }
  isDefault += 'return true;';

  const makeDefaultSource = `return { ${plans.map((field) => `${field.name}: ${constant(field.decodeDefault)}()`).join(', ')} };`;

  const source = `"use strict";
const { ${constants.map((_, i) => `k${i}`).join(', ')} } = K;
return {
  read(r) {\n${read}\n},
  size(v, ctx) {\n${size}\n},
  write(w, v) {\n${write}\n},
  isDefault(v) {\n${isDefault}\n},
  makeDefault() {\n${makeDefaultSource}\n},
};`;
  const constantsObject = Object.fromEntries(constants.map((value, i) => [`k${i}`, value]));
  return new Function('K', source)(constantsObject) as StructCodec;
}

// ---- per (schema, version) ------------------------------------------------------------------

/** The codec of one message at one version. */
export interface MessageCodec {
  readonly schema: MessageSchema;
  readonly version: number;
  readonly flexible: boolean;
  read(reader: Reader): Record<string, unknown>;
  /** Total bytes on the wire (region bytes included) and how many of them are FileRegions. */
  measure(value: object): { byteLength: number; regionBytes: number };
  /** Writes a value measured with measure() (the writer must have room for it). */
  write(writer: Writer, value: object): void;
}

const compiled = new WeakMap<MessageSchema, Array<MessageCodec | undefined>>();

export function isVersionSupported(schema: MessageSchema, version: number): boolean {
  return Number.isInteger(version) && version >= schema.validVersions[0] && version <= schema.validVersions[1];
}

export function isFlexibleVersion(schema: MessageSchema, version: number): boolean {
  return version >= firstFlexibleVersion(schema);
}

/** The compiled codec of `schema` at `version` (compiled on first use, then cached). */
export function messageCodec(schema: MessageSchema, version: number): MessageCodec {
  if (!isVersionSupported(schema, version)) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `${schema.name} v${version} is not supported (versions ${schema.validVersions[0]}-${schema.validVersions[1]})`,
    );
  }
  let byVersion = compiled.get(schema);
  if (byVersion === undefined) {
    byVersion = [];
    compiled.set(schema, byVersion);
  }
  let codec = byVersion[version];
  if (codec === undefined) {
    const flexible = isFlexibleVersion(schema, version);
    const struct = compileStruct(schema.fields, version, flexible, `${schema.name}v${version}`);
    codec = {
      schema,
      version,
      flexible,
      read: (reader) => struct.read(reader) as Record<string, unknown>,
      measure(value) {
        const context: SizeContext = { regionBytes: 0 };
        const byteLength = struct.size(value, context);
        return { byteLength, regionBytes: context.regionBytes };
      },
      write: (writer, value) => struct.write(writer, value),
    };
    byVersion[version] = codec;
  }
  return codec;
}

/** Turns a Buffer RangeError/TypeError raised while encoding into ENCODE_ERROR. */
export function asEncodeError(error: unknown, what: string): unknown {
  if (error instanceof ProtocolError) return error;
  if (error instanceof RangeError || error instanceof TypeError) {
    return new ProtocolError('ENCODE_ERROR', `${what}: ${error.message}`, { cause: error });
  }
  return error;
}

/** Decodes a message body from the reader's position. Throws ProtocolError. */
export function readMessage<S extends MessageSchema>(schema: S, version: number, reader: Reader): Decoded<S> {
  const codec = messageCodec(schema, version);
  try {
    return codec.read(reader) as Decoded<S>;
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'MALFORMED_FRAME') {
      throw new ProtocolError('MALFORMED_FRAME', `${schema.name} v${version}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** Bytes `value` takes on the wire at `version` (FileRegion bytes included, and also reported apart). */
export function measureMessage<S extends MessageSchema>(
  schema: S,
  version: number,
  value: Input<S>,
): { byteLength: number; regionBytes: number } {
  try {
    return messageCodec(schema, version).measure(value);
  } catch (error) {
    throw asEncodeError(error, `${schema.name} v${version}`);
  }
}

/** Writes a message body; the writer must have room (see measureMessage). */
export function writeMessage<S extends MessageSchema>(schema: S, version: number, value: Input<S>, writer: Writer): void {
  try {
    messageCodec(schema, version).write(writer, value);
  } catch (error) {
    throw asEncodeError(error, `${schema.name} v${version}`);
  }
}

/** A message body as one Buffer (no FileRegions allowed). */
export function encodeMessage<S extends MessageSchema>(schema: S, version: number, value: Input<S>): Buffer {
  const { byteLength } = measureMessage(schema, version, value);
  const writer = new Writer(byteLength);
  writeMessage(schema, version, value, writer);
  return writer.finish()[0] as Buffer;
}

/** A message body decoded from a whole Buffer. */
export function decodeMessage<S extends MessageSchema>(schema: S, version: number, bytes: Buffer): Decoded<S> {
  return readMessage(schema, version, new Reader(bytes));
}
