/**
 * The in-process backend: a Map with etcd's revision semantics (one global revision bumped
 * per write transaction, mod revision per key, 0 for an absent key) and leases whose keys
 * vanish when the lease is revoked. It is used when no etcd binary exists; `etcdctl` cannot
 * see it, which the caller says at start.
 */
import { EpochgraphError } from '../src/errors.js';
import {
  type KvBackend,
  type KvEntry,
  type KvLease,
  type KvTxn,
  type KvTxnResult,
  MAX_TXN_OPS,
} from './kv-backend.js';

interface StoredValue {
  value: string;
  modRevision: number;
  lease: string | null;
}

export class MemoryKv implements KvBackend {
  readonly kind = 'in-process' as const;
  readonly endpoints: readonly string[] = Object.freeze([]);
  private readonly data = new Map<string, StoredValue>();
  /** Lease id → keys attached to it. */
  private readonly leases = new Map<string, Set<string>>();
  /** etcd starts its revision counter at 1 for an empty store. */
  private revision = 1;
  private nextLeaseId = 1;
  private closed = false;

  async get(key: string): Promise<KvEntry | null> {
    this.checkOpen();
    const v = this.data.get(key);
    return v === undefined ? null : { key, value: v.value, modRevision: v.modRevision };
  }

  async listKeys(prefix: string): Promise<string[]> {
    this.checkOpen();
    const out: string[] = [];
    for (const key of this.data.keys()) if (key.startsWith(prefix)) out.push(key);
    // etcd returns keys in byte order; UTF-16 order equals it for the ASCII keys we write.
    return out.sort();
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    this.checkOpen();
    if (
      txn.compares.length > MAX_TXN_OPS ||
      txn.writes.length > MAX_TXN_OPS ||
      txn.readsOnFailure.length > MAX_TXN_OPS
    ) {
      throw new EpochgraphError('INTERNAL', `too many operations in one transaction (max ${MAX_TXN_OPS})`);
    }
    for (const w of txn.writes) {
      if (w.kind === 'put' && w.lease !== undefined && !this.leases.has(w.lease)) {
        throw new EpochgraphError('INTERNAL', `lease ${w.lease} not found`);
      }
    }
    const holds = txn.compares.every((c) => (this.data.get(c.key)?.modRevision ?? 0) === c.modRevision);
    if (!holds) {
      const reads: KvEntry[] = [];
      for (const key of txn.readsOnFailure) {
        const v = this.data.get(key);
        if (v !== undefined) reads.push({ key, value: v.value, modRevision: v.modRevision });
      }
      return { succeeded: false, revision: this.revision, reads };
    }
    if (txn.writes.length === 0) return { succeeded: true, revision: this.revision, reads: [] };
    // Like etcd, a transaction that writes bumps the revision once, whatever its size.
    const rev = ++this.revision;
    for (const w of txn.writes) {
      this.detach(w.key);
      if (w.kind === 'delete') {
        this.data.delete(w.key);
        continue;
      }
      const lease = w.lease ?? null;
      this.data.set(w.key, { value: w.value, modRevision: rev, lease });
      if (lease !== null) this.leases.get(lease)?.add(w.key);
    }
    return { succeeded: true, revision: rev, reads: [] };
  }

  async grantLease(_ttlSec: number): Promise<KvLease> {
    this.checkOpen();
    // The TTL has no meaning here: the keys live in this process, so they die with it.
    const id = String(this.nextLeaseId++);
    this.leases.set(id, new Set());
    return {
      id,
      onLost: () => {
        // An in-process lease is never revoked behind the owner's back.
      },
      revoke: async () => this.revokeLease(id),
    };
  }

  close(): void {
    this.closed = true;
  }

  private revokeLease(id: string): void {
    const keys = this.leases.get(id);
    if (keys === undefined) return;
    this.leases.delete(id);
    if (keys.size === 0) return;
    this.revision++;
    for (const key of keys) this.data.delete(key);
  }

  private detach(key: string): void {
    const lease = this.data.get(key)?.lease;
    if (lease != null) this.leases.get(lease)?.delete(key);
  }

  private checkOpen(): void {
    if (this.closed) throw new EpochgraphError('INTERNAL', 'the in-process metadata store is closed');
  }
}
