// WriteTxnMarkers (key 27), versions 0-1, flexible from 1: Kafka's WriteTxnMarkersRequest/
// Response.json as of Kafka 3.x, what a transaction coordinator sends each partition leader to
// write the COMMIT/ABORT control records. v1 flexible, no field changes. Kafka 4.0 dropped v0
// (v1 is its baseline) and a later release adds v2 with a per-marker TransactionVersion
// (KIP-1228); neither change is included.
import { defineMessage, type Decoded } from '../schema.js';

export const WriteTxnMarkersRequest = defineMessage({
  name: 'WriteTxnMarkersRequest',
  apiKey: 27,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: '1+',
  fields: [
    {
      name: 'markers',
      type: '[]WritableTxnMarker',
      versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        { name: 'transactionResult', type: 'bool', versions: '0+' },
        {
          name: 'topics',
          type: '[]WritableTxnMarkerTopic',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
          ],
        },
        { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
      ],
    },
  ],
});

export const WriteTxnMarkersResponse = defineMessage({
  name: 'WriteTxnMarkersResponse',
  apiKey: 27,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: '1+',
  fields: [
    {
      name: 'markers',
      type: '[]WritableTxnMarkerResult',
      versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        {
          name: 'topics',
          type: '[]WritableTxnMarkerTopicResult',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            {
              name: 'partitions',
              type: '[]WritableTxnMarkerPartitionResult',
              versions: '0+',
              fields: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          ],
        },
      ],
    },
  ],
});

export type WriteTxnMarkersRequestBody = Decoded<typeof WriteTxnMarkersRequest>;
export type WriteTxnMarkersResponseBody = Decoded<typeof WriteTxnMarkersResponse>;
