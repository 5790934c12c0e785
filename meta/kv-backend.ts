/**
 * The small slice of etcd's KV and lease API that the metadata store needs. Two backends
 * implement it: etcd itself (etcd-kv.ts) and an in-process map with etcd's revision
 * semantics (memory-kv.ts). Everything above this interface (CAS of the latest epoch,
 * pruning, registration) is shared, so the in-process fallback behaves like etcd by
 * construction rather than by a second implementation of the same rules.
 */

/** Where a backend keeps the metadata. */
export const BACKEND_KINDS = ['etcd', 'in-process'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/**
 * etcd's default `--max-txn-ops`: a transaction may hold at most this many compares, and at
 * most this many operations in each branch. The in-process backend enforces it too, so a
 * transaction that would fail on a default etcd fails in unit tests as well.
 */
export const MAX_TXN_OPS = 128;

/** One stored key. Revisions are etcd's: a cluster-wide counter bumped by each write txn. */
export interface KvEntry {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
}

/** `mod_revision(key) == modRevision`; 0 means "the key does not exist", as in etcd. */
export interface KvCompare {
  readonly key: string;
  readonly modRevision: number;
}

export type KvWrite =
  | { readonly kind: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly kind: 'delete'; readonly key: string };

export interface KvTxn {
  readonly compares: readonly KvCompare[];
  /** Applied atomically when every compare holds. */
  readonly writes: readonly KvWrite[];
  /** Read when a compare fails, in the same round trip, so a CAS retry needs no extra get. */
  readonly readsOnFailure: readonly string[];
}

export interface KvTxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the txn; on success, the mod revision of every key written. */
  readonly revision: number;
  /** The entries of `readsOnFailure` that exist (only when the txn failed). */
  readonly reads: readonly KvEntry[];
}

/** A granted lease, kept alive by the backend until it is revoked or lost. */
export interface KvLease {
  /** The lease id as etcd prints it in decimal (`etcdctl get -w json` shows it so). */
  readonly id: string;
  /**
   * Called once if the lease dies behind our back: revoked by someone else, or expired
   * while the store could not reach etcd. Keys attached to it are gone by then.
   */
  onLost(callback: (err: Error) => void): void;
  /** Revoke the lease, deleting its keys at once. */
  revoke(timeoutMs: number): Promise<void>;
}

export interface KvBackend {
  readonly kind: BackendKind;
  /** Client URLs of the etcd cluster; empty for the in-process backend. */
  readonly endpoints: readonly string[];
  get(key: string): Promise<KvEntry | null>;
  /** Keys (only) under a prefix, in etcd's byte order. */
  listKeys(prefix: string): Promise<string[]>;
  txn(txn: KvTxn): Promise<KvTxnResult>;
  grantLease(ttlSec: number): Promise<KvLease>;
  /** Release connections. Outstanding calls may fail afterwards. */
  close(): void;
}
