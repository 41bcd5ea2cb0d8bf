// DescribeUserScramCredentials (50) and AlterUserScramCredentials (51): users' SCRAM credentials,
// as kafka-configs --entity-type users sets and lists them (sasl/scram-credentials.ts keeps them).
// Results are per user, as Kafka gives them: a user named twice in one request is
// DUPLICATE_RESOURCE, and a user's alterations are applied all or none.
import { ApiKey } from '../../protocol/api-keys.js';
import { KafkaErrorCode } from '../../errors.js';
import { defineHandler } from '../handler.js';
import { AclOperation, allowedOnCluster, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { errorCodeOf, errorMessageOf } from './errors.js';

export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle: (context, request) => {
    const { broker } = context;
    // DESCRIBE on the cluster, as Kafka's.
    if (!allowedOnCluster(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, ...deniedAnswer(ResourceType.CLUSTER), results: [] };
    const described = broker.scramCredentials.describe();
    const names = request.users?.map(({ name }) => name) ?? [];
    // None named: every user that has a credential.
    if (names.length === 0) {
      const results = [...described].map(([user, credentialInfos]) => ({ user, errorCode: KafkaErrorCode.NONE, errorMessage: null, credentialInfos }));
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, errorMessage: null, results };
    }
    const results = [...new Set(names)].map((user) => {
      if (names.indexOf(user) !== names.lastIndexOf(user)) {
        return { user, errorCode: KafkaErrorCode.DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request', credentialInfos: [] };
      }
      const credentialInfos = described.get(user);
      if (credentialInfos === undefined) {
        return { user, errorCode: KafkaErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist', credentialInfos: [] };
      }
      return { user, errorCode: KafkaErrorCode.NONE, errorMessage: null, credentialInfos };
    });
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, errorMessage: null, results };
  },
});

export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle: async (context, request) => {
    const { broker } = context;
    const users = [...new Set([...request.deletions, ...request.upsertions].map(({ name }) => name))];
    // ALTER on the cluster, as Kafka's: each user answers CLUSTER_AUTHORIZATION_FAILED otherwise.
    if (!allowedOnCluster(context, AclOperation.ALTER)) {
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, ...deniedAnswer(ResourceType.CLUSTER) })) };
    }
    const results = [];
    for (const user of users) {
      const deletions = request.deletions.filter(({ name }) => name === user);
      const upsertions = request.upsertions.filter(({ name }) => name === user);
      const mechanisms = [...deletions, ...upsertions].map(({ mechanism }) => mechanism);
      if (new Set(mechanisms).size !== mechanisms.length) {
        results.push({ user, errorCode: KafkaErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' });
        continue;
      }
      try {
        await broker.scramCredentials.alter(user, deletions, upsertions);
        results.push({ user, errorCode: KafkaErrorCode.NONE, errorMessage: null });
      } catch (error) {
        results.push({ user, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
