/**
 * The metadata store: everything the daemon writes to etcd (DESIGN.md §6), behind one
 * interface with two backends, etcd and in-process. Both share this implementation over the
 * KvBackend interface, so CAS, pruning and registration behave the same in both.
 */
import { EpochgraphError, invalid } from '../src/errors.js';
import {
  EpochPublisher,
  type PublishedListener,
  type PublisherStats,
  type PublishState,
} from './epoch-publisher.js';
import { describeEtcdError, type EtcdErrorContext } from './etcd-errors.js';
import { type EtcdAuth, EtcdKv, type EtcdTls } from './etcd-kv.js';
import { type BlobKeyParts, DEFAULT_META_PREFIX, type MetaKeys, metaKeys, WRITER_UP_VALUE } from './keys.js';
import type { BackendKind, KvBackend } from './kv-backend.js';
import { type MetaLogger, stderrLogger } from './logger.js';
import {
  DEFAULT_LEASE_TTL_SEC,
  MachineRegistrar,
  type MachineRegistration,
  type RegistrationStats,
} from './machine-registration.js';
import { MemoryKv } from './memory-kv.js';
import {
  type BlobRecord,
  type ClusterRecord,
  decodeBlobRecord,
  decodeClusterRecord,
  decodeMachineRecord,
  type MachineRecord,
  parseEpochValue,
} from './records.js';

/** How long `close()` waits for pending writes by default. */
export const DEFAULT_CLOSE_FLUSH_TIMEOUT_MS = 2000;

/** What the cluster record must say; `ensureCluster` refuses a different partition count. */
export interface ClusterSpec {
  readonly partitions: number;
  readonly epochMs: number;
}

/** Counters of the publisher and the registration, for metrics. */
export interface MetadataStats extends PublisherStats, RegistrationStats {}

/** The metadata operations the daemon uses. */
export interface MetadataStore {
  readonly kind: BackendKind;
  readonly prefix: string;
  readonly keys: MetaKeys;
  /**
   * Create `{prefix}cluster` if absent (atomically), else check it. Throws INVALID_REQUEST
   * naming both counts when the cluster has a different partition count.
   */
  ensureCluster(spec: ClusterSpec): Promise<ClusterRecord>;
  /** Write `machines/m{m}` and `writer_{p}_is_up` on a kept-alive lease; see MachineRegistrar. */
  register(reg: MachineRegistration): Promise<void>;
  /** Queue a sealed state for writing; returns at once and never throws because of etcd. */
  publish(state: PublishState): void;
  /** Queue a partition's schema JSON for writing; coalesced like `publish`. */
  putSchema(partition: number, schemaJson: string): void;
  /** Delete this machine's blob keys with epoch < floor (queued like `publish`). */
  setRetainedFloor(epoch: number): void;
  /** Resolves when everything queued so far (or newer) is in the store. */
  flush(): Promise<void>;
  stats(): MetadataStats;
  getCluster(): Promise<ClusterRecord | null>;
  getLatestEpoch(partition: number): Promise<number | null>;
  getBlob(machine: number, partition: number, epoch: number): Promise<BlobRecord | null>;
  /** Blob keys of one machine, sorted by partition then epoch (numerically). */
  listBlobKeys(machine: number): Promise<BlobKeyParts[]>;
  getMachine(machine: number): Promise<MachineRecord | null>;
  isWriterUp(partition: number): Promise<boolean>;
  getSchema(partition: number): Promise<string | null>;
  /**
   * Flush (bounded by `flushTimeoutMs`), revoke the lease so `writer_*_is_up` vanish at
   * once, and release the connection. Idempotent.
   */
  close(opts?: { readonly flushTimeoutMs?: number }): Promise<void>;
}

/** Options common to both backends. */
export interface MetadataStoreOptions {
  /** Key prefix; default `gart_meta_`. */
  readonly prefix?: string;
  /** Lease TTL in whole seconds; default 10. */
  readonly leaseTtlSec?: number;
  readonly logger?: MetaLogger;
  /** Called after each successful publish transaction (for a lag histogram). */
  readonly onPublished?: PublishedListener;
}

/** Options of the etcd backend. */
export interface EtcdMetadataStoreOptions extends MetadataStoreOptions {
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
  readonly endpoints: readonly string[];
  readonly auth?: EtcdAuth;
  readonly tls?: EtcdTls;
  /** Deadline of one etcd call; default 3000 ms. */
  readonly callTimeoutMs?: number;
}

class KvMetadataStore implements MetadataStore {
  readonly kind: BackendKind;
  readonly prefix: string;
  readonly keys: MetaKeys;
  private readonly publisher: EpochPublisher;
  private readonly registrar: MachineRegistrar;
  private readonly logger: MetaLogger;
  private readonly errorContext: Omit<EtcdErrorContext, 'doing'>;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly kv: KvBackend,
    opts: MetadataStoreOptions,
    username: string | undefined,
  ) {
    this.kind = kv.kind;
    this.keys = metaKeys(opts.prefix ?? DEFAULT_META_PREFIX);
    this.prefix = this.keys.prefix;
    this.logger = opts.logger ?? stderrLogger;
    this.errorContext = {
      endpoints: kv.kind === 'etcd' ? kv.endpoints : ['(in-process)'],
      prefix: this.prefix,
      ...(username === undefined ? {} : { username }),
    };
    this.publisher = new EpochPublisher({
      kv,
      keys: this.keys,
      logger: this.logger,
      ...(opts.onPublished === undefined ? {} : { onPublished: opts.onPublished }),
    });
    this.registrar = new MachineRegistrar(
      kv,
      this.keys,
      opts.leaseTtlSec ?? DEFAULT_LEASE_TTL_SEC,
      this.logger,
      this.errorContext,
    );
  }

  async ensureCluster(spec: ClusterSpec): Promise<ClusterRecord> {
    if (!Number.isSafeInteger(spec.partitions) || spec.partitions < 1) {
      throw invalid(`the partition count must be a positive integer, got ${spec.partitions}`);
    }
    if (!Number.isFinite(spec.epochMs) || spec.epochMs <= 0) {
      throw invalid(`epochMs must be a positive number, got ${spec.epochMs}`);
    }
    const key = this.keys.cluster();
    const record: ClusterRecord = {
      partitions: spec.partitions,
      epochMs: spec.epochMs,
      createdAt: new Date().toISOString(),
    };
    const res = await this.call('creating the cluster record', () =>
      this.kv.txn({
        compares: [{ key, modRevision: 0 }],
        writes: [{ kind: 'put', key, value: JSON.stringify(record) }],
        readsOnFailure: [key],
      }),
    );
    if (res.succeeded) {
      this.logger.info('created the cluster record', { key, partitions: spec.partitions });
      return Object.freeze(record);
    }
    const stored = res.reads.find((r) => r.key === key);
    if (stored === undefined) {
      throw new EpochgraphError('INTERNAL', `${key} existed when compared but not when read`);
    }
    const existing = decodeClusterRecord(stored.value, key);
    if (existing.partitions !== spec.partitions) {
      throw invalid(
        `partition count mismatch: the cluster at ${key} was created with ${existing.partitions} partitions, ` +
          `but this daemon was started with ${spec.partitions}. The partition count is fixed when a cluster is ` +
          `created; start with --partitions ${existing.partitions}, or use another --meta-prefix for a new cluster.`,
        { key, clusterPartitions: existing.partitions, requestedPartitions: spec.partitions },
      );
    }
    if (existing.epochMs !== spec.epochMs) {
      this.logger.warn('this daemon seals at a different epoch interval than the cluster record says', {
        key,
        clusterEpochMs: existing.epochMs,
        epochMs: spec.epochMs,
      });
    }
    return existing;
  }

  async register(reg: MachineRegistration): Promise<void> {
    await this.registrar.register(reg);
    this.publisher.noteMachine(reg.machine);
  }

  publish(state: PublishState): void {
    this.publisher.publish(state);
  }

  putSchema(partition: number, schemaJson: string): void {
    try {
      JSON.parse(schemaJson);
    } catch (err) {
      throw invalid(`the schema of partition ${partition} is not JSON: ${(err as Error).message}`);
    }
    this.publisher.putSchema(partition, schemaJson);
  }

  setRetainedFloor(epoch: number): void {
    this.publisher.setRetainedFloor(epoch);
  }

  flush(): Promise<void> {
    return this.publisher.flush();
  }

  stats(): MetadataStats {
    return { ...this.publisher.stats(), ...this.registrar.stats() };
  }

  async getCluster(): Promise<ClusterRecord | null> {
    const key = this.keys.cluster();
    const kv = await this.call('reading the cluster record', () => this.kv.get(key));
    return kv === null ? null : decodeClusterRecord(kv.value, key);
  }

  async getLatestEpoch(partition: number): Promise<number | null> {
    const key = this.keys.latestEpoch(partition);
    const kv = await this.call('reading the latest epoch', () => this.kv.get(key));
    return kv === null ? null : parseEpochValue(kv.value);
  }

  async getBlob(machine: number, partition: number, epoch: number): Promise<BlobRecord | null> {
    const key = this.keys.blob(machine, partition, epoch);
    const kv = await this.call('reading a blob record', () => this.kv.get(key));
    return kv === null ? null : decodeBlobRecord(kv.value, key);
  }

  async listBlobKeys(machine: number): Promise<BlobKeyParts[]> {
    const prefix = this.keys.machineBlobPrefix(machine);
    const keys = await this.call('listing blob keys', () => this.kv.listKeys(prefix));
    const parts: BlobKeyParts[] = [];
    for (const key of keys) {
      const p = this.keys.parseBlob(key);
      if (p !== null && p.machine === machine) parts.push(p);
    }
    return parts.sort((a, b) => a.partition - b.partition || a.epoch - b.epoch);
  }

  async getMachine(machine: number): Promise<MachineRecord | null> {
    const key = this.keys.machine(machine);
    const kv = await this.call('reading a machine record', () => this.kv.get(key));
    return kv === null ? null : decodeMachineRecord(kv.value, key);
  }

  async isWriterUp(partition: number): Promise<boolean> {
    const key = this.keys.writerUp(partition);
    const kv = await this.call('reading a writer key', () => this.kv.get(key));
    return kv?.value === WRITER_UP_VALUE;
  }

  async getSchema(partition: number): Promise<string | null> {
    const key = this.keys.schema(partition);
    const kv = await this.call('reading a schema', () => this.kv.get(key));
    return kv?.value ?? null;
  }

  close(opts: { readonly flushTimeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(opts.flushTimeoutMs ?? DEFAULT_CLOSE_FLUSH_TIMEOUT_MS);
    return this.closing;
  }

  private async doClose(flushTimeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.publisher.flush().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), flushTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!flushed) {
      this.logger.warn('closing with metadata not yet written', {
        flushTimeoutMs,
        pendingPartitions: this.publisher.stats().pendingPartitions,
      });
    }
    this.publisher.stop();
    try {
      await this.registrar.close();
    } catch (err) {
      this.logger.warn('could not revoke the machine lease; its keys vanish after the TTL', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.kv.close();
  }

  private async call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw describeEtcdError(err, { ...this.errorContext, doing });
    }
  }
}

/** A metadata store over etcd. Connects lazily: the first call shows whether etcd is reachable. */
export function createEtcdMetadataStore(opts: EtcdMetadataStoreOptions): MetadataStore {
  if (opts.endpoints.length === 0) throw invalid('etcd: at least one endpoint is needed');
  const kv = new EtcdKv({
    endpoints: opts.endpoints,
    ...(opts.auth === undefined ? {} : { auth: opts.auth }),
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    ...(opts.callTimeoutMs === undefined ? {} : { callTimeoutMs: opts.callTimeoutMs }),
  });
  return new KvMetadataStore(kv, opts, opts.auth?.username);
}

/**
 * A metadata store over any backend. Internal (not exported from meta/index.ts): tests use it
 * to run two stores over one in-process map.
 */
export function createKvMetadataStore(kv: KvBackend, opts: MetadataStoreOptions = {}): MetadataStore {
  return new KvMetadataStore(kv, opts, undefined);
}

/** A metadata store in this process's memory, with etcd's semantics; `etcdctl` cannot see it. */
export function createInProcessMetadataStore(opts: MetadataStoreOptions = {}): MetadataStore {
  return new KvMetadataStore(new MemoryKv(), opts, undefined);
}
