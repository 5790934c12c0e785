/**
 * meta/: everything etcd. GART's key names, the coalescing epoch publisher with
 * compare-and-swap of the latest epoch, the machine registry on a lease, pruning of blob
 * keys, the managed local etcd and the in-process fallback (DESIGN.md §6).
 *
 * The daemon's use of it, in order:
 * ```ts
 * const { store, mode } = await openMetadata({ etcd, dataDir, prefix, logger });
 * await store.ensureCluster({ partitions, epochMs });   // refuses a different P
 * await store.register({ machine, endpoint, partitions, pid: process.pid, startedAt });
 * // at every seal (never blocks, never throws because of etcd):
 * store.publish({ machine, fnum: partitions, endpoint, partitions: sealed });
 * store.setRetainedFloor(oldestRetainedEpoch);
 * // at shutdown, after the last seal:
 * await store.close();  // flushes (bounded), revokes the lease, stops a managed etcd
 * ```
 */

/** One seal of a machine: the state `publish()` takes. */
/** One partition's sealed epoch within a {@link PublishState}. */
/** Listener called after each successful publish, with the lag. */
export type { PartitionEpoch, PublishedListener, PublishState } from './epoch-publisher.js';
/** etcd password authentication. */
/** etcd TLS files. */
export type { EtcdAuth, EtcdTls } from './etcd-kv.js';
/** Options of {@link launchEtcd}. */
/** A launched etcd that can be stopped and started again on the same ports and data dir. */
/** Start a single-member etcd child process on loopback and wait until it is healthy. */
/** TLS of a launched etcd's client port (for tests of the store's TLS options). */
export type { EtcdLaunchOptions, EtcdServer, EtcdServerTls } from './etcd-launcher.js';
/** Path of an executable (default `etcd`) on a PATH string, or null. */
/** A loopback TCP port that was free a moment ago. */
export { findEtcdBinary, findFreePort, launchEtcd } from './etcd-launcher.js';
/** The key names of one prefix, with a blob key parser. */
/** Machine, partition and epoch of a blob key. */
export type { BlobKeyParts, MetaKeys } from './keys.js';
/** Build the key names of a prefix. */
/** GART's default key prefix, `gart_meta_`. */
/** The value of `writer_{p}_is_up`: `True`. */
export { DEFAULT_META_PREFIX, metaKeys, WRITER_UP_VALUE } from './keys.js';
/** Where a store keeps the metadata: `etcd` or `in-process`. */
export type { BackendKind } from './kv-backend.js';
/** The store's logger interface. */
export type { MetaLogger } from './logger.js';
/** A logger writing one line per message to stderr (the default). */
/** A logger that drops everything. */
export { silentLogger, stderrLogger } from './logger.js';
/** What `register()` announces on the machine's lease. */
export type { MachineRegistration } from './machine-registration.js';
/** The default lease TTL in seconds (10). */
export { DEFAULT_LEASE_TTL_SEC } from './machine-registration.js';
/** The metadata operations: cluster record, registration, publish, schema, pruning, reads. */
/** Options common to both store backends: prefix, lease TTL, logger, publish listener. */
/** Options of the etcd store: endpoints, auth, TLS, call timeout. */
/** The partition count and epoch interval `ensureCluster` checks. */
/** Publisher and registration counters, for metrics. */
export type {
  ClusterSpec,
  EtcdMetadataStoreOptions,
  MetadataStats,
  MetadataStore,
  MetadataStoreOptions,
} from './metadata-store.js';
/** A store over etcd at the given endpoints. */
/** A store in this process's memory, with etcd's semantics; etcdctl cannot see it. */
/** How long `close()` waits for pending writes unless told otherwise. */
export {
  createEtcdMetadataStore,
  createInProcessMetadataStore,
  DEFAULT_CLOSE_FLUSH_TIMEOUT_MS,
} from './metadata-store.js';
/** Options of {@link openMetadata}; `etcd` endpoints select external mode. */
/** What {@link openMetadata} returns: the store, the mode chosen and the etcd endpoints. */
/** One of {@link METADATA_MODES}. */
export type { MetadataMode, OpenedMetadata, OpenMetadataOptions } from './open-metadata.js';
/** Open the daemon's metadata store: external etcd, a managed child etcd, or in-process. */
/** The modes of {@link openMetadata}, as a closed set. */
export { METADATA_MODES, openMetadata } from './open-metadata.js';
/** `{prefix}cluster` as stored. */
/** `{prefix}machines/m{m}` as stored. */
/** `{prefix}gart_blob_m{m}_p{p}_e{e}` as stored, in GART's field names. */
export type { BlobRecord, ClusterRecord, MachineRecord } from './records.js';
