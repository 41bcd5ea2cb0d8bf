// `sluice delete-records`: kafka-delete-records. Reads Kafka's offset file
//   {"partitions": [{"topic": "t", "partition": 0, "offset": 120}], "version": 1}
// (offset -1: the high watermark), deletes each partition's records before its offset (DeleteRecords
// to each leader), and prints Kafka's lines:
//   Executing records delete operation
//   Records delete operation completed:
//   partition: t-0	low_watermark: 120
//   partition: t-1	error: OFFSET_OUT_OF_RANGE: ...
// Kafka's tool exits 0 whatever a partition's outcome; this one exits 1 when a partition failed
// ("N partition(s) could not be deleted"), so that a script can tell.
import type { DeleteRecordsResult } from '../client/client.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, errorText, OutputBuffer, partitionEntries, readJsonObject, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const spec: CommandSpec = {
  name: 'delete-records',
  summary: "Delete a partition's records before an offset, as kafka-delete-records does.",
  usage: '--offset-json-file F [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    {
      name: 'offset-json-file',
      type: 'string',
      valueName: 'F',
      description: 'The partitions and offsets: {"partitions": [{"topic": "t", "partition": 0, "offset": 120}], "version": 1}; offset -1 is the high watermark.',
      required: true,
    },
  ],
};

export const deleteRecordsCommand: Command = {
  spec,
  async run(args) {
    const partitions = readOffsetFile(args.string('offset-json-file')!);
    const client = await connectClient(args, adminSettings(args));
    try {
      const out = new OutputBuffer();
      await out.line('Executing records delete operation');
      const results = await client.deleteRecords(partitions);
      await out.line('Records delete operation completed:');
      const sorted = [...results].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      for (const result of sorted) await out.line(resultLine(result));
      await out.flush();
      const failed = results.filter((result) => result.error !== null).length;
      if (failed > 0) throw new CliError(`${failed} partition(s) could not be deleted`);
      return 0;
    } finally {
      client.close();
    }
  },
};

function resultLine({ topic, partition, lowWatermark, error }: DeleteRecordsResult): string {
  if (error === null) return `partition: ${topic}-${partition}\tlow_watermark: ${lowWatermark}`;
  return `partition: ${topic}-${partition}\terror: ${errorText(error)}`;
}

/** Kafka's offset file, version 1 (the only one): each partition once, an offset >= -1. */
function readOffsetFile(file: string): Array<{ topic: string; partition: number; offset: number }> {
  const json = readJsonObject(file, 'offset file');
  const version = json['version'] ?? 1;
  if (version !== 1) throw new CliError(`${file}: version ${JSON.stringify(version)} is not supported (only 1)`);
  return partitionEntries(json, file).map(({ topic, partition, entry, where }) => {
    const offset = entry['offset'];
    if (!Number.isSafeInteger(offset) || (offset as number) < -1) throw new CliError(`${where}: "offset" must be an offset, or -1 for the high watermark`);
    return { topic, partition, offset: offset as number };
  });
}
