// DescribeCluster (API 60), asked by @platformatic/kafka's own request code: the cluster id, the
// controller and the brokers, as Metadata gives them; a request for controller endpoints is
// MISMATCHED_ENDPOINT_TYPE, as a Kafka broker answers it.
import { Connection, describeClusterV0, describeClusterV1 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';

let broker: Broker;
let connection: Connection;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  connection = new Connection('describe-cluster-test');
  await connection.connect('localhost', broker.port);
});

afterAll(async () => {
  await connection?.close();
  await broker?.stop();
});

describe('DescribeCluster', () => {
  it('gives the cluster id, the controller and the brokers Metadata lists (v0 and v1)', async () => {
    const client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
    const metadata = await client.metadata([]).finally(() => client.close());
    const expected = {
      errorCode: 0,
      errorMessage: null,
      clusterId: metadata.clusterId,
      controllerId: metadata.controllerId,
      brokers: metadata.brokers.map(({ nodeId, host, port }) => ({ brokerId: nodeId, host, port, rack: null })),
    };
    expect(await describeClusterV0.api.async(connection, false, 1)).toMatchObject(expected);
    expect(await describeClusterV1.api.async(connection, true, 1)).toMatchObject({ ...expected, endpointType: 1 });
  });

  it('asked for controller endpoints: MISMATCHED_ENDPOINT_TYPE (114)', async () => {
    const error = await describeClusterV1.api.async(connection, false, 2).then(
      () => undefined,
      (thrown: any) => thrown,
    );
    expect(error?.response).toMatchObject({ errorCode: 114, endpointType: 2, brokers: [] });
    expect(error.errors.map((e: any) => e.apiCode)).toEqual([114]);
  });
});
