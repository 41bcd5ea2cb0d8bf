// The SCRAM credentials of a broker's users, as Kafka keeps them: per user and mechanism, a salt,
// the stored and server keys and the iteration count, never the password (Kafka's ZooKeeper text
// form, src/protocol/scram.ts). They are set and listed with AlterUserScramCredentials and
// DescribeUserScramCredentials (kafka-configs --entity-type users --add-config
// 'SCRAM-SHA-256=[password=...]'), kept where the broker keeps client quotas (a file of the data
// directory, or etcd in a cluster, config-entities.ts), and read by each SCRAM login.
import { SluiceError } from '../../errors.js';
import {
  credentialFromSaltedPassword,
  formatCredential,
  parseCredential,
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
  SCRAM_MECHANISM_TYPES,
  type ScramCredential,
  type ScramMechanism,
} from '../../protocol/scram.js';
import type { ConfigEntities, ConfigEntityStore } from '../config-entities.js';

/** The single broker's file of credentials, in its data directory. */
export const SCRAM_CREDENTIALS_FILE = 'scram-credentials.json';


export interface ScramUpsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export interface ScramDeletion {
  name: string;
  mechanism: number;
}

export class ScramCredentials {
  constructor(private readonly store: ConfigEntityStore) {}

  /** The credential `user` logs in with by `mechanism`, or undefined. */
  lookup(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    const text = this.store.entities.get(user)?.[mechanism];
    return text === undefined ? undefined : parseCredential(text);
  }

  /** Each user with credentials, and its mechanisms and iterations (Kafka's CredentialInfos). */
  describe(): Map<string, Array<{ mechanism: number; iterations: number }>> {
    return describeEntities(this.store.entities);
  }

  /**
   * One user's deletions and upsertions, as Kafka's AlterUserScramCredentials applies them: each is
   * checked first (UNSUPPORTED_SASL_MECHANISM, UNACCEPTABLE_CREDENTIAL, RESOURCE_NOT_FOUND), then
   * all are written at once.
   */
  async alter(user: string, deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): Promise<void> {
    if (user === '') throw new SluiceError('UNACCEPTABLE_CREDENTIAL', 'Username must not be empty');
    const made = new Map<ScramMechanism, string>();
    for (const upsertion of upsertions) {
      const mechanism = mechanismOf(upsertion.mechanism);
      if (upsertion.iterations < SCRAM_ITERATIONS_MIN) throw new SluiceError('UNACCEPTABLE_CREDENTIAL', `Too few iterations: ${upsertion.iterations} is below the minimum ${SCRAM_ITERATIONS_MIN}`);
      if (upsertion.iterations > SCRAM_ITERATIONS_MAX) throw new SluiceError('UNACCEPTABLE_CREDENTIAL', `Too many iterations: ${upsertion.iterations} is above the maximum ${SCRAM_ITERATIONS_MAX}`);
      if (upsertion.salt.length === 0 || upsertion.saltedPassword.length === 0) throw new SluiceError('UNACCEPTABLE_CREDENTIAL', 'Credential salt and salted password must not be empty');
      made.set(mechanism, formatCredential(credentialFromSaltedPassword(mechanism, upsertion.saltedPassword, upsertion.salt, upsertion.iterations)));
    }
    const deleted = deletions.map(({ mechanism }) => mechanismOf(mechanism));
    await this.store.update(
      user,
      (current) => {
        for (const mechanism of deleted) {
          if (current[mechanism] === undefined) throw new SluiceError('RESOURCE_NOT_FOUND', 'Attempt to delete a user credential that does not exist');
        }
        const next = { ...current };
        for (const mechanism of deleted) delete next[mechanism];
        for (const [mechanism, text] of made) next[mechanism] = text;
        return next;
      },
      () => {},
    );
  }
}

function mechanismOf(type: number): ScramMechanism {
  const mechanism = SCRAM_MECHANISM_TYPES.get(type);
  if (mechanism === undefined) throw new SluiceError('UNSUPPORTED_SASL_MECHANISM', 'Unknown SCRAM mechanism');
  return mechanism;
}

function describeEntities(entities: ConfigEntities): Map<string, Array<{ mechanism: number; iterations: number }>> {
  const users = new Map<string, Array<{ mechanism: number; iterations: number }>>();
  for (const [user, configs] of entities) {
    const infos: Array<{ mechanism: number; iterations: number }> = [];
    for (const [type, mechanism] of SCRAM_MECHANISM_TYPES) {
      const text = configs[mechanism];
      if (text !== undefined) infos.push({ mechanism: type, iterations: parseCredential(text).iterations });
    }
    if (infos.length > 0) users.set(user, infos);
  }
  return users;
}
