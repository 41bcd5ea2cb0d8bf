// DescribeAcls (29), CreateAcls (30) and DeleteAcls (31) as a Kafka broker answers them without an
// authorizer (authorizer.class.name unset, Kafka's default): SECURITY_DISABLED, "No Authorizer is
// configured", for the request (DescribeAcls) or for each creation and filter. sluice has no
// authentication or authorization (it listens in PLAINTEXT; authorizer.class.name is reported at
// startup as accepted but not supported), so that is the true answer, and admin clients get
// Kafka's own error (kafkajs: "Security features are disabled") rather than UNSUPPORTED_VERSION.
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler } from '../handler.js';

const SECURITY_DISABLED = KafkaErrorCode.SECURITY_DISABLED;

export const describeAclsHandler = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  handle() {
    return { throttleTimeMs: 0, errorCode: SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] };
  },
});

export const createAclsHandler = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(_context, request) {
    return {
      throttleTimeMs: 0,
      results: request.creations.map(() => ({ errorCode: SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' })),
    };
  },
});

export const deleteAclsHandler = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(_context, request) {
    return {
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({ errorCode: SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', matchingAcls: [] })),
    };
  },
});
