// etcd's key-value vocabulary as the cluster layer uses it: records with revisions as numbers,
// and the compare / request ops of a transaction (etcd's Txn: if every compare holds, run
// `success`, else `failure`, atomically at one revision).
//
// Revisions are int64 in etcd and decimal strings in etcd3's answers; they are numbers here.
// etcd counts one revision per write transaction, so 2^53 lasts 285 years at a million writes a
// second: exact as a JS number.
import { ClientClosedError, CompareResult, CompareTarget, EtcdLeaseInvalidError, Range, type ICompare, type IKeyValue, type IRequestOp, type IResponseOp, type ITxnResponse } from 'etcd3';

import { SluiceError } from '../errors.js';
import type { EtcdClient } from './etcd-client.js';

export interface KvRecord {
  key: string;
  value: Buffer;
  /** Revision of the transaction that created the key (0 = absent). */
  createRevision: number;
  /** Revision of the last transaction that wrote the key. */
  modRevision: number;
  /** Lease id the key is bound to ('0' = none). */
  lease: string;
}

export function toRecord(kv: IKeyValue): KvRecord {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: String(kv.lease),
  };
}

const key = (k: string) => Buffer.from(k, 'utf8');

export const compare = {
  /** The key was last written at `revision` (0: the key is absent). */
  modRevision: (k: string, revision: number): ICompare => ({ key: key(k), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: revision }),
  /** The key was created at `revision` (0: the key is absent). */
  createRevision: (k: string, revision: number): ICompare => ({ key: key(k), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: revision }),
  absent: (k: string): ICompare => compare.createRevision(k, 0),
};

export const op = {
  put: (k: string, value: string, lease?: string): IRequestOp => ({ request_put: { key: key(k), value: Buffer.from(value, 'utf8'), ...(lease === undefined ? {} : { lease }) } }),
  get: (k: string): IRequestOp => ({ request_range: { key: key(k) } }),
  getPrefix: (prefix: string): IRequestOp => {
    const range = Range.prefix(prefix);
    return { request_range: { key: range.start, range_end: range.end } };
  },
  delete: (k: string): IRequestOp => ({ request_delete_range: { key: key(k) } }),
  deletePrefix: (prefix: string): IRequestOp => {
    const range = Range.prefix(prefix);
    return { request_delete_range: { key: range.start, range_end: range.end } };
  },
};

/** Runs one transaction. */
export async function txn(client: EtcdClient, compares: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
  return etcdCall(() => client.etcd.kv.txn({ compare: compares, success, failure }));
}

/** The records a range op of a transaction answered, in key order. */
export function rangeRecords(response: IResponseOp | undefined): KvRecord[] {
  return (response?.response_range?.kvs ?? []).map(toRecord);
}

/** Every key under `prefix`, and the revision the read saw. */
export async function readPrefix(client: EtcdClient, prefix: string): Promise<{ records: KvRecord[]; revision: number }> {
  const range = Range.prefix(prefix);
  const response = await etcdCall(() => client.etcd.kv.range({ key: range.start, range_end: range.end }));
  return { records: response.kvs.map(toRecord), revision: Number(response.header.revision) };
}

/** One key (undefined when absent), and the revision the read saw. */
export async function readKey(client: EtcdClient, k: string): Promise<{ record: KvRecord | undefined; revision: number }> {
  const response = await etcdCall(() => client.etcd.kv.range({ key: key(k) }));
  const kv = response.kvs[0];
  return { record: kv === undefined ? undefined : toRecord(kv), revision: Number(response.header.revision) };
}

/**
 * Runs an etcd call and turns its failure into a SluiceError with etcd's error as the cause:
 * a lease etcd no longer knows is SESSION_EXPIRED; a closed client is ENGINE_CLOSED; anything
 * else is ETCD_UNAVAILABLE, since the client has already retried for its retry window (the
 * cluster was unreachable or without a leader for longer than that). SluiceErrors pass through.
 */
export async function etcdCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof EtcdLeaseInvalidError) throw new SluiceError('SESSION_EXPIRED', `etcd lease expired or revoked: ${message}`, { cause: error });
    if (error instanceof ClientClosedError) throw new SluiceError('ENGINE_CLOSED', 'etcd client is closed', { cause: error });
    throw new SluiceError('ETCD_UNAVAILABLE', `etcd call failed: ${message}`, { cause: error });
  }
}
