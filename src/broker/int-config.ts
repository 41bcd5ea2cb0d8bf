// Reading a coordinator's integer settings (group/config.ts, txn/config.ts) from broker config
// values by Kafka's names: an absent name takes its default, a given one must be an int32 at or
// above its minimum (INVALID_CONFIG otherwise, worded as Kafka words it).
import { SluiceError } from '../errors.js';

const INT32_MAX = 2_147_483_647;

export type ConfigValuesInput = Readonly<Record<string, string | number | boolean | undefined>>;

/** A reader of `values` over `defaults`: read(name, min) is the setting, checked. */
export function intConfigReader(values: ConfigValuesInput, defaults: Readonly<Record<string, number>>): (name: string, min: number) => number {
  return (name, min) => {
    const raw = values[name];
    if (raw === undefined) return defaults[name]!;
    const text = String(raw);
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || value < min || value > INT32_MAX) {
      throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be an integer >= ${min}`);
    }
    return value;
  };
}
