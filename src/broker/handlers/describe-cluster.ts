// DescribeCluster (60, KIP-700): the cluster id, the controller and the live brokers, as Metadata
// gives them, without topics. Kafka's admin client (describeCluster, kafka-cluster cluster-id)
// asks this instead of Metadata when the broker serves it. A broker answers only for brokers
// (endpointType 1); asked for controllers (2, KIP-919) it says MISMATCHED_ENDPOINT_TYPE, as
// Kafka's brokers do.
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';
import { NONE } from './errors.js';
import { AUTHORIZED_OPERATIONS_NOT_REQUESTED, metadataView } from './metadata.js';
import { CLUSTER_RESOURCE_NAME } from '../../protocol/acl-codes.js';
import { authorizedOperations, ResourceType } from '../authorizer/request-auth.js';

const ENDPOINT_TYPE_BROKER = 1;
const ENDPOINT_TYPE_CONTROLLER = 2;

export const describeClusterHandler = defineHandler({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(context, request) {
    const { broker } = context;
    const clusterAuthorizedOperations = request.includeClusterAuthorizedOperations ? authorizedOperations(context, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) : AUTHORIZED_OPERATIONS_NOT_REQUESTED;
    const answer = { throttleTimeMs: 0, endpointType: request.endpointType, clusterAuthorizedOperations };
    if (request.endpointType !== ENDPOINT_TYPE_BROKER) {
      const mismatched = request.endpointType === ENDPOINT_TYPE_CONTROLLER;
      return {
        ...answer,
        errorCode: mismatched ? KafkaErrorCode.MISMATCHED_ENDPOINT_TYPE : KafkaErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: mismatched ? 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER' : `Unsupported endpoint type ${request.endpointType}`,
        clusterId: broker.clusterId,
        controllerId: -1,
        brokers: [],
      };
    }
    const view = metadataView(broker);
    return {
      ...answer,
      errorCode: NONE,
      errorMessage: null,
      clusterId: broker.clusterId,
      controllerId: view.controllerId(),
      brokers: view.brokers().map(({ nodeId, host, port, rack }) => ({ brokerId: nodeId, host, port, rack })),
    };
  },
});
