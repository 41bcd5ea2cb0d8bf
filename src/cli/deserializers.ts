// The deserializers kafka-console-consumer's formatter takes by class name (--property
// key.deserializer=..., value.deserializer, headers.deserializer, or --key-deserializer and
// --value-deserializer): Kafka's built-in ones, each turning bytes into the text Kafka's formatter
// prints (toString() of what the Java deserializer returns). Kafka's Streams quickstart reads its
// word counts with LongDeserializer, for instance. A class sluice does not have is a usage error;
// bytes of the wrong size are an error naming the deserializer, as Kafka's SerializationException.
import { CliError } from './command.js';

const PACKAGE = 'org.apache.kafka.common.serialization.';

/**
 * Java's Double.toString (and Float.toString, given the float's shortest digits): the shortest
 * digits that read back as the value, in decimal for 1e-3 <= |x| < 1e7 ("1.0", "0.25") and in
 * Java's scientific notation outside it ("1.0E7", "1.5E-4").
 */
export function javaFloat(value: number, shortest: (value: number) => string = String): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  const digits = shortest(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const decimal = Number(digits).toString(); // JS writes this range without an exponent too
    return decimal.includes('.') ? decimal : decimal + '.0';
  }
  const [mantissa, exponent] = Number(digits).toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : mantissa + '.0'}E${exponent.replace('+', '')}`;
}

/** A float's shortest decimal digits that read back as the same float (Java's Float.toString digits). */
function shortestFloat(value: number): string {
  for (let precision = 1; precision < 9; precision++) {
    const digits = value.toPrecision(precision);
    if (Math.fround(Number(digits)) === value) return digits;
  }
  return value.toPrecision(9);
}

function sized(name: string, size: number, read: (bytes: Buffer) => string): (bytes: Buffer) => string {
  return (bytes) => {
    if (bytes.length !== size) throw new CliError(`Size of data received by ${name} is not ${size}`);
    return read(bytes);
  };
}

export type Deserializer = (bytes: Buffer) => string;

const DESERIALIZERS: Record<string, Deserializer> = {
  StringDeserializer: (bytes) => bytes.toString('utf8'),
  ByteArrayDeserializer: (bytes) => bytes.toString('utf8'), // the formatter writes the bytes as they are
  BytesDeserializer: (bytes) => bytes.toString('utf8'),
  ByteBufferDeserializer: (bytes) => bytes.toString('utf8'),
  LongDeserializer: sized('LongDeserializer', 8, (bytes) => bytes.readBigInt64BE().toString()),
  IntegerDeserializer: sized('IntegerDeserializer', 4, (bytes) => String(bytes.readInt32BE())),
  ShortDeserializer: sized('ShortDeserializer', 2, (bytes) => String(bytes.readInt16BE())),
  DoubleDeserializer: sized('DoubleDeserializer', 8, (bytes) => javaFloat(bytes.readDoubleBE())),
  FloatDeserializer: sized('FloatDeserializer', 4, (bytes) => javaFloat(bytes.readFloatBE(), shortestFloat)),
  BooleanDeserializer: sized('BooleanDeserializer', 1, (bytes) => {
    if (bytes[0]! > 1) throw new CliError(`Unexpected byte received by BooleanDeserializer: ${bytes[0]}`);
    return bytes[0] === 1 ? 'true' : 'false';
  }),
  UUIDDeserializer: (bytes) => bytes.toString('utf8'),
  VoidDeserializer: (bytes) => {
    if (bytes.length !== 0) throw new CliError('Data should be null for a VoidDeserializer.');
    return 'null';
  },
};

/** Kafka's class names of the deserializers sluice has. */
export const DESERIALIZER_CLASSES = Object.keys(DESERIALIZERS).map((name) => PACKAGE + name);

/** The deserializer of a Kafka class name, or undefined when sluice has none by that name. */
export function deserializerOf(className: string): Deserializer | undefined {
  return className.startsWith(PACKAGE) ? DESERIALIZERS[className.slice(PACKAGE.length)] : undefined;
}
