// `sluice features <command>`: kafka-features, over ApiVersions (what a broker supports and the
// levels finalized for the cluster) and UpdateFeatures (broker/features.ts):
//   describe                         Feature: group.version<TAB>SupportedMinVersion: 0<TAB>
//                                    SupportedMaxVersion: 1<TAB>FinalizedVersionLevel: 1<TAB>Epoch: 2
//   upgrade --feature F=L ...        "F was upgraded to L."
//   downgrade --feature F=L ... [--unsafe]
//                                    "F was downgraded to L."
//   disable --feature F ... [--unsafe]
//                                    "F was disabled." (level 0)
// With --dry-run the broker only checks ("F can be upgraded to L."). A refused feature prints
// "Could not upgrade F to L. <why>", and the command exits 1 with "N out of M operation(s) failed.",
// as Kafka's tool does.
import { KafkaErrorCode, kafkaErrorName } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { ApiVersionsResponseBody, UpdateFeaturesResponseBody } from '../protocol/index.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const COMMANDS = ['describe', 'upgrade', 'downgrade', 'disable'] as const;
type FeaturesCommand = (typeof COMMANDS)[number];

/** Kafka's UpgradeType. */
const UPGRADE = 1;
const SAFE_DOWNGRADE = 2;
const UNSAFE_DOWNGRADE = 3;

const spec: CommandSpec = {
  name: 'features',
  summary: 'Describe the cluster\'s feature levels and upgrade, downgrade or disable them, as kafka-features does.',
  usage: `${COMMANDS.join('|')} [--feature NAME[=LEVEL] ...] [--dry-run] [--unsafe]`,
  positionals: ['command'],
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'feature', type: 'list', valueName: 'NAME=LEVEL', description: 'upgrade, downgrade: a feature and its new level, e.g. group.version=1; disable: a feature name (repeatable).' },
    { name: 'dry-run', type: 'boolean', description: 'upgrade, downgrade, disable: only check the change.' },
    { name: 'unsafe', type: 'boolean', description: 'downgrade, disable: allow a downgrade that may lose metadata.' },
  ],
  notes: ['Changing a level takes ALTER on the cluster (or a super user); log in with --command-config.'],
};

export const featuresCommand: Command = {
  spec,
  async run(args) {
    const command = args.positionals[0] as FeaturesCommand;
    if (!COMMANDS.includes(command)) throw args.usageError(`Unknown features command '${args.positionals[0] ?? ''}': expected one of ${COMMANDS.join(', ')}`);
    const updates = command === 'describe' ? [] : featureUpdates(args, command);
    if (command === 'describe' && (args.has('feature') || args.boolean('dry-run') || args.boolean('unsafe'))) throw args.usageError('describe takes no --feature, --dry-run or --unsafe');
    if (command === 'upgrade' && args.boolean('unsafe')) throw args.usageError('--unsafe goes with downgrade and disable');
    const client = await connectClient(args, adminSettings(args));
    const out = new OutputBuffer();
    try {
      const connection = await client.anyConnection();
      if (command === 'describe') {
        const versions = await connection.request<ApiVersionsResponseBody>(ApiKey.ApiVersions, { clientSoftwareName: 'sluice', clientSoftwareVersion: '1' }, 3);
        const finalized = new Map(versions.finalizedFeatures.map(({ name, maxVersionLevel }) => [name, maxVersionLevel]));
        const epoch = versions.finalizedFeaturesEpoch < 0 ? '-' : String(versions.finalizedFeaturesEpoch);
        for (const { name, minVersion, maxVersion } of [...versions.supportedFeatures].sort((a, b) => (a.name < b.name ? -1 : 1))) {
          await out.line(`Feature: ${name}\tSupportedMinVersion: ${minVersion}\tSupportedMaxVersion: ${maxVersion}\tFinalizedVersionLevel: ${finalized.get(name) ?? 0}\tEpoch: ${epoch}`);
        }
        await out.flush();
        return 0;
      }
      const upgradeType = command === 'upgrade' ? UPGRADE : args.boolean('unsafe') ? UNSAFE_DOWNGRADE : SAFE_DOWNGRADE;
      const response = await connection.request<UpdateFeaturesResponseBody>(
        ApiKey.UpdateFeatures,
        { timeoutMs: 60_000, featureUpdates: updates.map(({ feature, level }) => ({ feature, maxVersionLevel: level, upgradeType })), validateOnly: args.boolean('dry-run') },
        1,
      );
      const results = new Map(response.results.map((result) => [result.feature, result]));
      let failed = 0;
      for (const { feature, level } of updates) {
        const result = results.get(feature);
        const errorCode = result?.errorCode ?? response.errorCode;
        const done = command === 'disable' ? 'disabled' : `${command}d to ${level}`;
        if (errorCode === KafkaErrorCode.NONE) {
          await out.line(args.boolean('dry-run') ? `${feature} can be ${done}.` : `${feature} was ${done}.`);
          continue;
        }
        failed++;
        const why = result?.errorMessage ?? response.errorMessage ?? kafkaErrorName(errorCode);
        await out.line(command === 'disable' ? `Could not disable ${feature}. ${why}` : `Could not ${command} ${feature} to ${level}. ${why}`);
      }
      await out.flush();
      if (failed > 0) throw new CliError(`${failed} out of ${updates.length} operation(s) failed.`);
      return 0;
    } finally {
      client.close();
    }
  },
};

/** The --feature values: NAME=LEVEL for upgrade and downgrade, NAME for disable (level 0). */
function featureUpdates(args: ParsedArgs, command: Exclude<FeaturesCommand, 'describe'>): Array<{ feature: string; level: number }> {
  const given = args.list('feature');
  if (given.length === 0) throw args.usageError(`${command} needs at least one --feature`);
  return given.map((value) => {
    if (command === 'disable') {
      if (value.includes('=')) throw args.usageError(`disable takes a feature name, not '${value}'`);
      return { feature: value, level: 0 };
    }
    const match = /^([^=\s]+)=(\d+)$/.exec(value);
    if (match === null) throw args.usageError(`--feature expects NAME=LEVEL (a whole number), e.g. group.version=1, got '${value}'`);
    return { feature: match[1]!, level: Number(match[2]) };
  });
}
