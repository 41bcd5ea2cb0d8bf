// DescribeLogDirs (key 35), versions 0-4, flexible from 2: Kafka's DescribeLogDirsRequest/Response.json
// (KIP-113; v3 adds the top-level error code, v4 each directory's total and usable bytes, KIP-827). Topics null = every partition the broker holds.
//
// Ours: tagged fields on each partition (v2+), the log cleaner's figures for a compacted log,
// which Kafka's protocol has no field for (kafka-topics cannot show them; Kafka exposes them only
// as broker-wide JMX gauges). They are sent only to a request that asks with its own tagged field
// (includeCleanerFigures): the flexible format says a client skips unknown tags, but
// @platformatic/kafka 1.35's reader takes a tag section for a length-prefixed blob and misreads
// the next partition, so a Kafka client must never receive one. Tags 0x5100 and up stay clear of
// the low numbers Kafka's own tagged fields take.
import { defineMessage, type Decoded } from '../schema.js';

/** Absent (the tag's default): the log is not compacted. */
export const NO_DIRTY_RATIO = -1;
/** Absent: the log has not been cleaned since the broker started. */
export const NEVER_CLEANED = -1;

export const DescribeLogDirsRequest = defineMessage({
  name: 'DescribeLogDirsRequest',
  apiKey: 35,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '2+',
  fields: [
    {
      name: 'topics',
      type: '[]DescribableLogDirTopic',
      versions: '0+',
      nullableVersions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ],
    },
    { name: 'includeCleanerFigures', type: 'bool', versions: '2+', taggedVersions: '2+', tag: 0x5100, default: false },
  ],
});

export const DescribeLogDirsResponse = defineMessage({
  name: 'DescribeLogDirsResponse',
  apiKey: 35,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '3+' },
    {
      name: 'results',
      type: '[]DescribeLogDirsResult',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'logDir', type: 'string', versions: '0+' },
        {
          name: 'topics',
          type: '[]DescribeLogDirsTopic',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            {
              name: 'partitions',
              type: '[]DescribeLogDirsPartition',
              versions: '0+',
              fields: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'partitionSize', type: 'int64', versions: '0+' },
                { name: 'offsetLag', type: 'int64', versions: '0+' },
                { name: 'isFutureKey', type: 'bool', versions: '0+' },
                { name: 'dirtyRatio', type: 'float64', versions: '2+', taggedVersions: '2+', tag: 0x5100, default: NO_DIRTY_RATIO },
                { name: 'lastCleanedMs', type: 'int64', versions: '2+', taggedVersions: '2+', tag: 0x5101, default: NEVER_CLEANED },
                { name: 'uncleanable', type: 'bool', versions: '2+', taggedVersions: '2+', tag: 0x5102, default: false },
              ],
            },
          ],
        },
        { name: 'totalBytes', type: 'int64', versions: '4+', default: -1 },
        { name: 'usableBytes', type: 'int64', versions: '4+', default: -1 },
      ],
    },
  ],
});

export type DescribeLogDirsRequestBody = Decoded<typeof DescribeLogDirsRequest>;
export type DescribeLogDirsResponseBody = Decoded<typeof DescribeLogDirsResponse>;
