/**
 * The etcd backend, over the `etcd3` client's raw KV and lease RPCs.
 *
 * The client's default fault handling is replaced on purpose. By default each host sits
 * behind a circuit breaker that stays open for 5 s after three failures, and the global
 * policy retries three times. After an etcd outage that breaker would hold the publisher
 * back for 5 s after etcd returns, and DESIGN.md §6 wants a catch-up within about a second.
 * The publisher has its own retry loop with a short backoff, so here every call goes straight
 * through, with a deadline, and gRPC is told to reconnect quickly.
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions, type IRequestOp, type Lease } from 'etcd3';
import { invalid } from '../src/errors.js';
import type { KvBackend, KvEntry, KvLease, KvTxn, KvTxnResult } from './kv-backend.js';

/** Deadline of one unary call; a call to a hung (not refused) etcd fails after this. */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Keys fetched per page when listing, so a prefix with millions of GART keys stays cheap. */
const LIST_PAGE_SIZE = 1000;
/** gRPC's reconnect backoff starts at 1 s and grows to 120 s; we want to see etcd return fast. */
const GRPC_RECONNECT_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
} as const;

/** Password authentication, as etcd's `user add`. */
export interface EtcdAuth {
  readonly username: string;
  readonly password: string;
}

/** TLS files (PEM). A client certificate needs the CA that signed the server's certificate. */
export interface EtcdTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface EtcdKvOptions {
  readonly endpoints: readonly string[];
  readonly auth?: EtcdAuth;
  readonly tls?: EtcdTls;
  readonly callTimeoutMs?: number;
}

type Policy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

const NEVER_ABORTED = new AbortController().signal;
const NO_LISTENERS = { dispose: () => undefined };

/** A cockatiel-compatible policy that runs the call once: no retry, no circuit breaker. */
const passThrough: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => NO_LISTENERS,
  onFailure: () => NO_LISTENERS,
  execute: async (fn, signal) => fn({ signal: signal ?? NEVER_ABORTED }),
};

function credentialsOf(tls: EtcdTls | undefined): IOptions['credentials'] {
  if (tls === undefined || (tls.caFile ?? tls.certFile ?? tls.keyFile) === undefined) return undefined;
  if (tls.caFile === undefined) {
    throw invalid('etcd TLS: a client certificate or key needs tls.caFile (the CA of the etcd server)');
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw invalid('etcd TLS: tls.certFile and tls.keyFile must be given together');
  }
  return {
    rootCertificate: readFileSync(tls.caFile),
    privateKey: tls.keyFile === undefined ? undefined : readFileSync(tls.keyFile),
    certChain: tls.certFile === undefined ? undefined : readFileSync(tls.certFile),
  };
}

/** The end of etcd's range for a prefix: the prefix with its last byte incremented. */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every byte was 0xff: etcd reads "\0" as "to the end of the keyspace"
}

function revisionOf(s: string): number {
  const n = Number(s);
  // etcd revisions are int64; 2^53 writes would take 285 years at a million writes a second.
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`etcd returned a malformed revision ${s}`);
  return n;
}

export class EtcdKv implements KvBackend {
  readonly kind = 'etcd' as const;
  readonly endpoints: readonly string[];
  readonly client: Etcd3;

  constructor(opts: EtcdKvOptions) {
    if (opts.endpoints.length === 0) throw invalid('etcd: at least one endpoint is needed');
    this.endpoints = Object.freeze([...opts.endpoints]);
    const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.client = new Etcd3({
      hosts: [...opts.endpoints],
      auth:
        opts.auth === undefined
          ? undefined
          : {
              username: opts.auth.username,
              password: opts.auth.password,
              callOptions: () => ({ deadline: Date.now() + callTimeoutMs }),
            },
      credentials: credentialsOf(opts.tls),
      grpcOptions: GRPC_RECONNECT_OPTIONS,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      faultHandling: { host: () => passThrough, global: passThrough },
    });
  }

  async get(key: string): Promise<KvEntry | null> {
    const res = await this.client.kv.range({ key: Buffer.from(key) });
    const kv = res.kvs[0];
    return kv === undefined
      ? null
      : { key, value: kv.value.toString('utf8'), modRevision: revisionOf(kv.mod_revision) };
  }

  async listKeys(prefix: string): Promise<string[]> {
    const end = prefixEnd(Buffer.from(prefix));
    const out: string[] = [];
    let from = Buffer.from(prefix);
    for (;;) {
      const res = await this.client.kv.range({
        key: from,
        range_end: end,
        keys_only: true,
        limit: LIST_PAGE_SIZE,
      });
      for (const kv of res.kvs) out.push(kv.key.toString('utf8'));
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) return out;
      from = Buffer.concat([last.key, Buffer.from([0])]); // the smallest key after `last`
    }
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    const success: IRequestOp[] = txn.writes.map((w) =>
      w.kind === 'put'
        ? {
            request_put: {
              key: Buffer.from(w.key),
              value: Buffer.from(w.value),
              ...(w.lease === undefined ? {} : { lease: w.lease }),
            },
          }
        : { request_delete_range: { key: Buffer.from(w.key) } },
    );
    const res = await this.client.kv.txn({
      compare: txn.compares.map((c) => ({
        key: Buffer.from(c.key),
        target: 'Mod',
        result: 'Equal',
        mod_revision: c.modRevision,
      })),
      success,
      failure: txn.readsOnFailure.map((key) => ({ request_range: { key: Buffer.from(key) } })),
    });
    const revision = revisionOf(res.header.revision);
    if (res.succeeded) return { succeeded: true, revision, reads: [] };
    const reads: KvEntry[] = [];
    for (const r of res.responses) {
      for (const kv of r.response_range?.kvs ?? []) {
        reads.push({
          key: kv.key.toString('utf8'),
          value: kv.value.toString('utf8'),
          modRevision: revisionOf(kv.mod_revision),
        });
      }
    }
    return { succeeded: false, revision, reads };
  }

  async grantLease(ttlSec: number): Promise<KvLease> {
    const lease: Lease = this.client.lease(ttlSec, { autoKeepAlive: true });
    let lostWith: Error | null = null;
    const callbacks: ((err: Error) => void)[] = [];
    lease.on('lost', (err) => {
      if (lostWith !== null) return;
      lostWith = err;
      for (const cb of callbacks) cb(err);
    });
    const id = await lease.grant();
    return {
      id,
      onLost(cb) {
        if (lostWith === null) callbacks.push(cb);
        else queueMicrotask(() => cb(lostWith as Error));
      },
      revoke: (timeoutMs) => lease.revoke({ deadline: Date.now() + timeoutMs }),
    };
  }

  close(): void {
    this.client.close();
  }
}
