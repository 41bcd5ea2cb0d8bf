// The BROKER_LOGGER config resource (type 8) of DescribeConfigs and IncrementalAlterConfigs: a
// broker's log level, read and changed while it runs, as
//   kafka-configs --bootstrap-server B --entity-type broker-loggers --entity-name 1 --alter --add-config root=DEBUG
// does on Kafka (KIP-412). sluice logs through one logger, Kafka's "root" (its controller's log
// follows it); levels are Kafka's log4j names, mapped onto pino's (ALL and TRACE are trace, OFF is
// silent). As in Kafka, a change is not kept across a restart, where log.level applies again.
import { SluiceError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { CONFIG_SOURCE } from '../../protocol/apis/describe-configs.js';
import type { BrokerContext } from '../handler.js';

const ROOT_LOGGER = 'root';

/** Kafka's log4j levels, and pino's level for each. */
const LEVELS: Readonly<Record<string, string>> = { ALL: 'trace', TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'fatal', OFF: 'silent' };

/** Kafka's AlterConfigOp.OpType. */
const SET = 0;
const DELETE = 1;

function checkBroker(broker: BrokerContext, resourceName: string): void {
  if (resourceName !== String(broker.settings.nodeId)) {
    throw new SluiceError('INVALID_REQUEST', `Broker ${resourceName} is not this broker (${broker.settings.nodeId}): a broker's loggers are asked of that broker`);
  }
}

function levelName(logger: Logger): string {
  return logger.level === 'silent' ? 'OFF' : logger.level.toUpperCase();
}

/** The broker's loggers and their levels, as DescribeConfigs entries' name, value and source. */
export function describeBrokerLoggers(broker: BrokerContext, resourceName: string): Array<{ name: string; value: string; source: number }> {
  checkBroker(broker, resourceName);
  return [{ name: ROOT_LOGGER, value: levelName(broker.log.logger), source: CONFIG_SOURCE.DYNAMIC_BROKER_LOGGER_CONFIG }];
}

/** Sets the levels an IncrementalAlterConfigs of a BROKER_LOGGER resource asks for, or checks them only. */
export function alterBrokerLoggers(
  broker: BrokerContext,
  resourceName: string,
  configs: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
  validateOnly: boolean,
): void {
  checkBroker(broker, resourceName);
  let level: string | undefined;
  for (const { name, configOperation, value } of configs) {
    if (name !== ROOT_LOGGER) throw new SluiceError('INVALID_CONFIG', `Logger ${name} does not exist!`);
    if (configOperation === DELETE) throw new SluiceError('INVALID_REQUEST', 'Removing the log level of the root logger is not allowed');
    if (configOperation !== SET) throw new SluiceError('INVALID_REQUEST', `Operation ${configOperation} is not allowed for the BROKER_LOGGER resource`);
    level = LEVELS[(value ?? '').toUpperCase()];
    if (level === undefined) {
      throw new SluiceError('INVALID_CONFIG', `Cannot set the log level of ${name} to ${value} as it is not a supported log level. Valid log4j levels are ${Object.keys(LEVELS).join(', ')}`);
    }
  }
  if (level === undefined || validateOnly) return;
  const logger = broker.log.logger;
  logger.info({ newLevel: level }, 'log level changed (broker-loggers)');
  logger.level = level;
}
