// ElectLeaders (key 43), versions 0-2, flexible from 2: Kafka's ElectLeadersRequest/Response.json
// (KIP-183 preferred election, KIP-460 unclean election). An admin asks the controller to elect
// leaders now, for the listed partitions or (topicPartitions null) for every partition.
// v1 adds electionType to the request (0 preferred: the first assigned replica if alive and in the
// ISR; 1 unclean: any live replica when the ISR has none) and a top-level errorCode to the response;
// v2 flexible. A partition result with errorCode 0 and errorMessage null was elected; one whose
// leader already is the preferred replica answers ELECTION_NOT_NEEDED (84).
import { defineMessage, type Decoded } from '../schema.js';

export const ElectLeadersRequest = defineMessage({
  name: 'ElectLeadersRequest',
  apiKey: 43,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'electionType', type: 'int8', versions: '1+' },
    {
      name: 'topicPartitions',
      type: '[]TopicPartitions',
      versions: '0+',
      // null = every partition; no default in Kafka's JSON, so [] (none) when left out.
      nullableVersions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitionId', type: '[]int32', versions: '0+' },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
  ],
});

export const ElectLeadersResponse = defineMessage({
  name: 'ElectLeadersResponse',
  apiKey: 43,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '1+' },
    {
      name: 'replicaElectionResults',
      type: '[]ReplicaElectionResult',
      versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitionResult',
          type: '[]PartitionResult',
          versions: '0+',
          fields: [
            { name: 'partitionId', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            // No default in Kafka's JSON, so '' when left out: a success sets it to null explicitly.
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type ElectLeadersRequestBody = Decoded<typeof ElectLeadersRequest>;
export type ElectLeadersResponseBody = Decoded<typeof ElectLeadersResponse>;
