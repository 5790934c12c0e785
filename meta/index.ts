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

// biome-ignore-all assist/source/organizeImports: one export per statement, so that each export carries its own TSDoc

/** Open the daemon's metadata store: external etcd, a managed child etcd, or in-process. */
export { openMetadata } from './open-metadata.js';
/** Options of {@link openMetadata}; `etcd` endpoints select external mode. */
export type { OpenMetadataOptions } from './open-metadata.js';
/** What {@link openMetadata} returns: the store, the mode chosen, the etcd endpoints, the managed etcd. */
export type { OpenedMetadata } from './open-metadata.js';
/** The modes of {@link openMetadata}, as a closed set. */
export { METADATA_MODES } from './open-metadata.js';
/** One of {@link METADATA_MODES}. */
export type { MetadataMode } from './open-metadata.js';

/** The metadata operations: cluster record, registration, publish, schema, pruning, reads. */
export type { MetadataStore } from './metadata-store.js';
/** Options common to both store backends: prefix, lease TTL, logger, publish listener. */
export type { MetadataStoreOptions } from './metadata-store.js';
/** Options of the etcd store: endpoints, auth, TLS, call timeout. */
export type { EtcdMetadataStoreOptions } from './metadata-store.js';
/** The partition count and epoch interval `ensureCluster` checks. */
export type { ClusterSpec } from './metadata-store.js';
/** Publisher and registration counters, for metrics. */
export type { MetadataStats } from './metadata-store.js';
/** A store over etcd at the given endpoints. */
export { createEtcdMetadataStore } from './metadata-store.js';
/** A store in this process's memory, with etcd's semantics; etcdctl cannot see it. */
export { createInProcessMetadataStore } from './metadata-store.js';
/** How long `close()` waits for pending writes unless told otherwise. */
export { DEFAULT_CLOSE_FLUSH_TIMEOUT_MS } from './metadata-store.js';
/** Where a store keeps the metadata: `etcd` or `in-process`. */
export type { BackendKind } from './kv-backend.js';

/** One seal of a machine: the state `publish()` takes. */
export type { PublishState } from './publish-state.js';
/** One partition's sealed epoch within a {@link PublishState}. */
export type { PartitionEpoch } from './publish-state.js';
/** Listener called after each successful publish, with the lag. */
export type { PublishedListener } from './epoch-publisher.js';

/** What `register()` announces on the machine's lease. */
export type { MachineRegistration } from './machine-registration.js';
/** The default lease TTL in seconds (10). */
export { DEFAULT_LEASE_TTL_SEC } from './machine-registration.js';

/** `{prefix}cluster` as stored. */
export type { ClusterRecord } from './records.js';
/** `{prefix}machines/m{m}` as stored. */
export type { MachineRecord } from './records.js';
/** `{prefix}gart_blob_m{m}_p{p}_e{e}` as stored, in GART's field names. */
export type { BlobRecord } from './records.js';

/** Build the key names of a prefix. */
export { metaKeys } from './keys.js';
/** The key names of one prefix, with a blob key parser. */
export type { MetaKeys } from './keys.js';
/** Machine, partition and epoch of a blob key. */
export type { BlobKeyParts } from './keys.js';
/** GART's default key prefix, `gart_meta_`. */
export { DEFAULT_META_PREFIX } from './keys.js';
/** The value of `writer_{p}_is_up`: `True`. */
export { WRITER_UP_VALUE } from './keys.js';

/** The store's logger interface. */
export type { MetaLogger } from './logger.js';
/** A logger writing one line per message to stderr (the default). */
export { stderrLogger } from './logger.js';
/** A logger that drops everything. */
export { silentLogger } from './logger.js';

/** etcd password authentication. */
export type { EtcdAuth } from './etcd-kv.js';
/** etcd TLS files for the client (CA, and optionally a client certificate and key). */
export type { EtcdTls } from './etcd-kv.js';

/** Start a single-member etcd child process on loopback and wait until it is healthy. */
export { launchEtcd } from './etcd-launcher.js';
/** Options of {@link launchEtcd}. */
export type { EtcdLaunchOptions } from './etcd-launcher.js';
/** A launched etcd that can be stopped and started again on the same ports and data dir. */
export type { EtcdServer } from './etcd-launcher.js';
/** TLS of a launched etcd's client port (for tests of the store's TLS options). */
export type { EtcdServerTls } from './etcd-launcher.js';
/** Path of an executable (default `etcd`) on a PATH string, or null. */
export { findEtcdBinary } from './etcd-launcher.js';
/** A loopback TCP port that was free a moment ago. */
export { findFreePort } from './free-port.js';
