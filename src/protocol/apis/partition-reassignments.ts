// AlterPartitionReassignments (key 45) and ListPartitionReassignments (key 46), version 0,
// flexible from 0: Kafka's {Alter,List}PartitionReassignments{Request,Response}.json (KIP-455).
// An admin asks the controller to move partitions to target replicas (replicas null cancels the
// reassignment in flight), and to list the reassignments in flight with the replicas being added
// and removed. Kafka 4.0's v1 of AlterPartitionReassignments (allowReplicationFactorChange,
// KIP-860) is not included.
import { defineMessage, type Decoded } from '../schema.js';

export const AlterPartitionReassignmentsRequest = defineMessage({
  name: 'AlterPartitionReassignmentsRequest',
  apiKey: 45,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    {
      name: 'topics',
      type: '[]ReassignableTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]ReassignablePartition',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            // null cancels the partition's reassignment in flight.
            { name: 'replicas', type: '[]int32', versions: '0+', nullableVersions: '0+', default: null },
          ],
        },
      ],
    },
  ],
});

export const AlterPartitionReassignmentsResponse = defineMessage({
  name: 'AlterPartitionReassignmentsResponse',
  apiKey: 45,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'responses',
      type: '[]ReassignableTopicResponse',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]ReassignablePartitionResponse',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          ],
        },
      ],
    },
  ],
});

export const ListPartitionReassignmentsRequest = defineMessage({
  name: 'ListPartitionReassignmentsRequest',
  apiKey: 46,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    {
      name: 'topics',
      type: '[]ListPartitionReassignmentsTopics',
      versions: '0+',
      // null lists every reassignment in flight.
      nullableVersions: '0+',
      default: null,
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
      ],
    },
  ],
});

export const ListPartitionReassignmentsResponse = defineMessage({
  name: 'ListPartitionReassignmentsResponse',
  apiKey: 46,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'topics',
      type: '[]OngoingTopicReassignment',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]OngoingPartitionReassignment',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'replicas', type: '[]int32', versions: '0+' },
            { name: 'addingReplicas', type: '[]int32', versions: '0+' },
            { name: 'removingReplicas', type: '[]int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type AlterPartitionReassignmentsRequestBody = Decoded<typeof AlterPartitionReassignmentsRequest>;
export type AlterPartitionReassignmentsResponseBody = Decoded<typeof AlterPartitionReassignmentsResponse>;
export type ListPartitionReassignmentsRequestBody = Decoded<typeof ListPartitionReassignmentsRequest>;
export type ListPartitionReassignmentsResponseBody = Decoded<typeof ListPartitionReassignmentsResponse>;
