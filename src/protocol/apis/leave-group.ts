// LeaveGroup (key 13), versions 0-5, flexible from 4: Kafka's LeaveGroupRequest/Response.json.
// v1 throttle time; v3 batch leave by member and instance id (KIP-345: `members` replaces
// memberId); v4 flexible; v5 reason (KIP-800).
import { defineMessage, type Decoded } from '../schema.js';

export const LeaveGroupRequest = defineMessage({
  name: 'LeaveGroupRequest',
  apiKey: 13,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0-2' },
    {
      name: 'members',
      type: '[]MemberIdentity',
      versions: '3+',
      fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
        { name: 'reason', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
      ],
    },
  ],
});

export const LeaveGroupResponse = defineMessage({
  name: 'LeaveGroupResponse',
  apiKey: 13,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'members',
      type: '[]MemberResponse',
      versions: '3+',
      fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
        { name: 'errorCode', type: 'int16', versions: '3+' },
      ],
    },
  ],
});

export type LeaveGroupRequestBody = Decoded<typeof LeaveGroupRequest>;
export type LeaveGroupResponseBody = Decoded<typeof LeaveGroupResponse>;
