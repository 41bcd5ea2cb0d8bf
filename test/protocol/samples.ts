// Test oracle for the schema codec: builds a value with a non-default value in every field of a
// schema (at a version), and computes what decoding must return — written independently of
// src/protocol/schema.ts from Kafka's rules: fields outside the version decode to their default.
import type { FieldSpec, MessageSchema } from '../../src/protocol/schema.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);

function inRange(spec: string | undefined, version: number): boolean {
  if (spec === undefined || spec === 'none') return false;
  if (spec.endsWith('+')) return version >= Number(spec.slice(0, -1));
  const [min, max] = spec.includes('-') ? spec.split('-').map(Number) : [Number(spec), Number(spec)];
  return version >= min! && version <= max!;
}

/** A deterministic source of distinct values. */
export class Counter {
  private n = 0;
  next(): number {
    this.n += 1;
    return this.n;
  }
}

function primitiveSample(type: string, counter: Counter): unknown {
  const n = counter.next();
  switch (type) {
    case 'bool':
      return true;
    case 'int8':
      return (n % 100) + 1;
    case 'int16':
      return n % 2 === 0 ? 1000 + n : -1000 - n;
    case 'uint16':
      return 60000 + n;
    case 'int32':
      return n % 2 === 0 ? 100000 + n : -(2 ** 31) + n;
    case 'uint32':
      return 2 ** 32 - n;
    case 'int64':
      return n % 2 === 0 ? 2 ** 40 + n : -(2 ** 45) - n;
    case 'float64':
      return n + 0.25;
    case 'string':
      return `s${n}-é✓`;
    case 'bytes':
      return Buffer.from([n & 0xff, 1, 2, 3]);
    case 'records':
      return Buffer.from(`records-${n}`);
    case 'uuid':
      return `${n.toString(16).padStart(8, '0')}-0000-4000-8000-${(n * 7919).toString(16).padStart(12, '0')}`;
    default:
      throw new Error(`unknown primitive ${type}`);
  }
}

function typeZero(type: string): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function elementType(field: FieldSpec): { isArray: boolean; element: string; isStruct: boolean } {
  const isArray = field.type.startsWith('[]');
  const element = isArray ? field.type.slice(2) : field.type;
  return { isArray, element, isStruct: !PRIMITIVES.has(element) };
}

/** The decoded default of a field (as for a field absent from the version). */
export function fieldDefault(field: FieldSpec, version: number): unknown {
  const { isArray, element, isStruct } = elementType(field);
  if (isArray) return field.default === null ? null : [];
  if (isStruct) return field.default === null ? null : structDefaults(field.fields!, version);
  return field.default !== undefined ? field.default : typeZero(element);
}

export function structDefaults(fields: readonly FieldSpec[], version: number): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field.name, fieldDefault(field, version)]));
}

/**
 * A value for every field of every version. Nullable fields are null every third time they come
 * up (when nullable at this version), so both paths are exercised across the suite.
 */
export function sampleStruct(fields: readonly FieldSpec[], version: number, counter: Counter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const { isArray, element, isStruct } = elementType(field);
    if (inRange(field.nullableVersions, version) && counter.next() % 3 === 0) {
      out[field.name] = null;
    } else if (isArray) {
      out[field.name] = [0, 1].map(() => (isStruct ? sampleStruct(field.fields!, version, counter) : primitiveSample(element, counter)));
    } else if (isStruct) {
      out[field.name] = sampleStruct(field.fields!, version, counter);
    } else {
      out[field.name] = primitiveSample(element, counter);
    }
  }
  return out;
}

/** What decoding the encoding of `value` at `version` must give. */
export function expectedStruct(fields: readonly FieldSpec[], version: number, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (!inRange(field.versions, version)) {
      out[field.name] = fieldDefault(field, version);
      continue;
    }
    const fieldValue = value[field.name];
    const { isArray, isStruct } = elementType(field);
    if (fieldValue === null || !isStruct) out[field.name] = fieldValue;
    else if (isArray) out[field.name] = (fieldValue as Array<Record<string, unknown>>).map((e) => expectedStruct(field.fields!, version, e));
    else out[field.name] = expectedStruct(field.fields!, version, fieldValue as Record<string, unknown>);
  }
  return out;
}

export function sampleMessage(schema: MessageSchema, version: number, seed = 0): Record<string, unknown> {
  const counter = new Counter();
  for (let i = 0; i < seed; i++) counter.next();
  return sampleStruct(schema.fields, version, counter);
}

export function expectedMessage(schema: MessageSchema, version: number, value: Record<string, unknown>): Record<string, unknown> {
  return expectedStruct(schema.fields, version, value);
}

export function versionsOf(schema: MessageSchema): number[] {
  const out: number[] = [];
  for (let v = schema.validVersions[0]; v <= schema.validVersions[1]; v++) out.push(v);
  return out;
}
