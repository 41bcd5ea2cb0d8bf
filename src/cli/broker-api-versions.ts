// `sluice broker-api-versions`: kafka-broker-api-versions. Asks every broker in the cluster's
// metadata for its ApiVersions and prints them as Kafka's tool does (NodeApiVersions.toString):
//   localhost:9092 (id: 1 rack: null) -> (
//   	Produce(0): 0 to 11 [usable: 11],
//   	...
//   	AddOffsetsToTxn(25): UNSUPPORTED,
//   	...
//   )
// "usable" is the highest version both the broker and this client (sluice's protocol codec) speak;
// "[unusable: node too old]" or "[unusable: node too new]" when their ranges do not meet. An API
// the client implements that the broker does not advertise is UNSUPPORTED; one the broker
// advertises that the client does not implement is listed without a usable version. A broker that
// does not answer gets `-> ERROR: <reason>` and the command exits 1.
import { apiKeyName, registry, type ApiVersionRange } from '../protocol/index.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, connectClient, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const spec: CommandSpec = {
  name: 'broker-api-versions',
  summary: 'Print the API versions each broker serves, as kafka-broker-api-versions does.',
  usage: '[--bootstrap-server HOST:PORT]',
  flags: [BOOTSTRAP_FLAG, COMMAND_CONFIG_FLAG],
};

export const brokerApiVersionsCommand: Command = {
  spec,
  async run(args) {
    const client = await connectClient(args, adminSettings(args));
    try {
      const { brokers } = await client.metadata([]);
      let failed = false;
      for (const broker of [...brokers].sort((a, b) => a.nodeId - b.nodeId)) {
        const node = `${broker.host}:${broker.port} (id: ${broker.nodeId} rack: ${broker.rack})`;
        try {
          const versions = (await client.connectionTo(broker.nodeId)).brokerApiVersions();
          process.stdout.write(`${node} -> ${formatNodeApiVersions(versions)}\n`);
        } catch (error) {
          failed = true;
          process.stdout.write(`${node} -> ERROR: ${(error as Error).message}\n`);
        }
      }
      return failed ? 1 : 0;
    } finally {
      client.close();
    }
  },
};

/** A broker's ApiVersions in NodeApiVersions.toString(true)'s form, by API key. */
export function formatNodeApiVersions(advertised: ReadonlyArray<ApiVersionRange>): string {
  const lines = new Map<number, string>();
  for (const range of advertised) lines.set(range.apiKey, describeRange(range));
  for (const apiKey of registry.keys()) if (!lines.has(apiKey)) lines.set(apiKey, `${apiKeyName(apiKey)}(${apiKey}): UNSUPPORTED`);
  const ordered = [...lines.entries()].sort(([a], [b]) => a - b).map(([, line]) => line);
  return `(\n\t${ordered.join(',\n\t')}\n)`;
}

function describeRange({ apiKey, minVersion, maxVersion }: ApiVersionRange): string {
  const versions = minVersion === maxVersion ? `${minVersion}` : `${minVersion} to ${maxVersion}`;
  const ours = registry.get(apiKey)?.validVersions;
  let usable = '';
  if (ours !== undefined) {
    if (ours[1] < minVersion) usable = ' [unusable: node too new]';
    else if (maxVersion < ours[0]) usable = ' [unusable: node too old]';
    else usable = ` [usable: ${Math.min(ours[1], maxVersion)}]`;
  }
  return `${apiKeyName(apiKey)}(${apiKey}): ${versions}${usable}`;
}
