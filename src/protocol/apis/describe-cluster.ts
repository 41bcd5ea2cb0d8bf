// DescribeCluster (key 60), versions 0-1, flexible from 0: Kafka's DescribeClusterRequest/
// Response.json (KIP-700). v1 endpointType (1 brokers, 2 controllers, KIP-919). Kafka 4.0's v2
// (includeFencedBrokers) is not included.
import { defineMessage, type Decoded } from '../schema.js';

export const DescribeClusterRequest = defineMessage({
  name: 'DescribeClusterRequest',
  apiKey: 60,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '0+' },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
  ],
});

export const DescribeClusterResponse = defineMessage({
  name: 'DescribeClusterResponse',
  apiKey: 60,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
    { name: 'clusterId', type: 'string', versions: '0+' },
    { name: 'controllerId', type: 'int32', versions: '0+', default: -1 },
    {
      name: 'brokers',
      type: '[]DescribeClusterBroker',
      versions: '0+',
      fields: [
        { name: 'brokerId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
  ],
});

export type DescribeClusterRequestBody = Decoded<typeof DescribeClusterRequest>;
export type DescribeClusterResponseBody = Decoded<typeof DescribeClusterResponse>;
