/**
 * The storage engine: epoch-versioned adjacency and vertex columns in SharedArrayBuffers,
 * one writer per partition, lock-free readers in any thread.
 */

/** Many lookups in one partition, with the memory of their neighbour reads brought in on the way. */
export { neighborTables, resolveMany } from './batch-lookup.js';
export { type BatchNeighborLimits, batchNeighborRows, type NeighborRows } from './batch-neighbors.js';
export type {
  BatchNeighbors,
  CsrChunk,
  NeighborDirection,
  NeighborPage,
  Subgraph,
  VertexView,
} from './graph-snapshot.js';
/** A consistent read of all partitions at one epoch, keyed by external ids. */
export { GraphSnapshot, NEIGHBOR_DIRECTIONS } from './graph-snapshot.js';
export type { StoreLimits } from './layout.js';
export { DEFAULT_LIMITS } from './layout.js';
/** Readers: open snapshots at any retained epoch from a descriptor, in any thread. */
export { PartitionReader } from './partition-reader.js';
export type {
  ApplyResult,
  EpochMeta,
  LoadCompaction,
  PartitionStoreOptions,
  SealInfo,
  StoreStats,
} from './partition-store.js';
/** The single writer of one partition. */
export { PartitionStore } from './partition-store.js';
export type { PublishedSchema } from './published-schema.js';
export type { StoreDescriptor } from './shared-pool.js';
/** Validate a partition descriptor received from another thread. */
export { checkDescriptor } from './shared-pool.js';
export type { Direction, LocalCsr, PropOut, VertexRecord } from './snapshot.js';
/** One partition at one epoch (close it when done). */
export { DIRECTIONS, type LidColumn, Snapshot } from './snapshot.js';
