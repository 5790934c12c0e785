/**
 * What the HTTP API needs from the rest of the daemon, as types: the machine's read and write
 * surface (structurally satisfied by partitions/machine.ts's Machine), the limits, and the
 * daemon's readiness and health hooks. The daemon builds these once and hands them to
 * buildApp; the app never closes the machine (its owner does).
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { EpochInfo, Pin } from '../partitions/epoch-ledger.js';
import type { CheckpointReport, SealEvent, SubmitResult } from '../partitions/machine.js';
import type { PackedAnswer } from '../src/codec/answer-slots.js';
import type { EpochgraphError } from '../src/errors.js';
import type { ExternalId } from '../src/model/ids.js';
import type { Batch } from '../src/model/ops.js';
import type { SchemaView } from '../src/model/schema.js';
import type { GraphSnapshot, NeighborDirection } from '../src/storage/graph-snapshot.js';
import type { BatchNeighborLimits, NeighborRows, StoreDescriptor } from '../src/storage/index.js';

/** The part of a Machine the API uses. A Machine is one; so is any test double of it. */
export interface ApiMachine {
  readonly partitions: number;
  readonly epochMs: number;
  readonly retainMs: number;
  /** The newest visible epoch. */
  readonly latestEpoch: number;
  /** The oldest readable epoch. */
  readonly oldestEpoch: number;
  /** Set once writes have stopped for good (a worker failed); reads go on. */
  readonly failed: EpochgraphError | null;
  /** Apply a decoded batch; resolves once it is durable and visible, with its epoch. */
  submit(batch: Batch): Promise<SubmitResult>;
  /** Metadata of the retained epochs, oldest first. */
  epochs(): readonly EpochInfo[];
  /** Metadata of the state at epoch e (the newest sealed epoch ≤ e); throws EPOCH_GONE / EPOCH_NOT_FOUND. */
  epochInfo(e: number): EpochInfo;
  /** The newest epoch sealed at or before a time; throws EPOCH_GONE. */
  epochAsOf(timeMs: number): EpochInfo;
  /** A consistent read of all partitions at an epoch; the caller closes it. */
  snapshot(epoch?: number): GraphSnapshot;
  /** The partitions' shared-memory descriptors (single-vertex reads open only the owner). */
  descriptors(): readonly StoreDescriptor[];
  pin(epoch: number | undefined, ttlMs: number): Pin;
  unpin(id: string): boolean;
  schemaView(): SchemaView;
  /** Subscribe to visible seals; returns the unsubscribe function. */
  onSeal(listener: (e: SealEvent) => void): () => unknown;
  /** Subscribe to the partitions' checkpoints as they end (for metrics). */
  onCheckpoint(listener: (partition: number, report: CheckpointReport) => void): () => unknown;
}

/** The analytics service as the algorithms route uses it (src/analytics AnalyticsService). */
export interface ApiAnalytics {
  run(
    name: string,
    params: unknown,
    epoch: number,
    opts: { signal?: AbortSignal },
  ): Promise<{ epoch: number; algorithm: string; ids: readonly unknown[]; values: readonly unknown[] }>;
  runTyped(
    name: string,
    params: unknown,
    epoch: number,
    opts: { signal?: AbortSignal },
  ): Promise<{ epoch: number; algorithm: string; ids: ArrayLike<unknown>; values: ArrayLike<unknown> }>;
  /** Threads of the read pool behind neighborRows (0: batch reads stay on the main thread). */
  readonly readWorkers: number;
  /** A batch-neighbour read in the read pool, at an epoch the caller keeps open. */
  neighborRows(
    epoch: number,
    ids: Float64Array | ExternalId[],
    direction: NeighborDirection,
    label: string | undefined,
    limits: BatchNeighborLimits,
  ): Promise<NeighborRows>;
  /**
   * The same read answered in msgpack, packed in the read pool into a buffer that is reused
   * once `release` is called (after the answer is written out). Optional: without it,
   * msgpack answers are encoded from neighborRows' columns on the main thread.
   */
  packedNeighborRows?(
    epoch: number,
    ids: Float64Array | ExternalId[],
    direction: NeighborDirection,
    label: string | undefined,
    limits: BatchNeighborLimits,
  ): Promise<PackedAnswer>;
}

/** Request limits. Every one is configurable; see DEFAULT_API_LIMITS for the defaults. */
export interface ApiLimits {
  /** Largest request body, in bytes (JSON or msgpack); larger bodies answer 413 TOO_LARGE. */
  readonly bodyLimitBytes: number;
  /** Most ids in one batch-neighbour read (`POST .../neighbors`); more answer 413. */
  readonly maxBatchIds: number;
  /** Most neighbour ids one batch-neighbour answer may hold; more answer 413. */
  readonly maxBatchNeighbors: number;
  /** Page size of `GET .../neighbors` when `limit` is not given. */
  readonly defaultNeighborsPerPage: number;
  /** Largest `limit` of `GET .../neighbors`; larger answer 400. */
  readonly maxNeighborsPerPage: number;
  /** Largest (and default) `maxVertices` of a subgraph. */
  readonly maxSubgraphVertices: number;
  /** Most edges a subgraph answer may hold; more answer 413. */
  readonly maxSubgraphEdges: number;
  /** Largest `hops` of a subgraph. */
  readonly maxSubgraphHops: number;
  /** Batch-neighbour reads of at least this many ids go to the read pool, when there is one. */
  readonly readPoolMinIds: number;
  /** Heavy reads (batch neighbours, subgraph, CSR export) yield to the event loop after about this many neighbour visits. */
  readonly yieldEveryEntries: number;
  /** Size of one streamed CSR export chunk, in bytes. */
  readonly csrChunkBytes: number;
  /**
   * Bytes of counted rows (12 per row) kept for repeated CSR exports of the same snapshot
   * (csr-plan.ts). A partition with more rows is counted at every export.
   */
  readonly csrPlanCacheBytes: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = Object.freeze({
  bodyLimitBytes: 128 * 1024 * 1024,
  maxBatchIds: 1_000_000,
  maxBatchNeighbors: 32 * 1024 * 1024,
  defaultNeighborsPerPage: 1000,
  maxNeighborsPerPage: 100_000,
  maxSubgraphVertices: 100_000,
  maxSubgraphEdges: 10_000_000,
  maxSubgraphHops: 16,
  readPoolMinIds: 256,
  yieldEveryEntries: 1 << 18,
  csrChunkBytes: 1 << 20,
  csrPlanCacheBytes: 64 * 1024 * 1024,
});

/** What buildApp needs. */
export interface ApiDeps {
  machine: ApiMachine;
  /** The analytics pool behind `POST /v1/snapshots/:epoch/algorithms/:name`. */
  analytics?: ApiAnalytics;
  /** fastify's logger option: false (default) or true or pino options. Ignored when loggerInstance is given. */
  logger?: FastifyServerOptions['logger'];
  /** A pino logger the daemon already has (request logs become its children). */
  loggerInstance?: FastifyBaseLogger;
  /** Overrides of DEFAULT_API_LIMITS. */
  limits?: Partial<ApiLimits>;
  /**
   * Whether the daemon serves data routes yet (for example false before recovery finished or
   * while shutting down). Until it returns true, `GET /v1/ready` and every data route answer
   * 503 NOT_READY with Retry-After. Default: always ready.
   */
  ready?: () => boolean;
  /** Extra fields for `GET /v1/health` (for example the etcd publisher's state). */
  extraHealth?: () => Record<string, unknown>;
}

/** Merge and check limits (positive integers), frozen. */
export function resolveLimits(overrides: Partial<ApiLimits> = {}): ApiLimits {
  const merged: ApiLimits = { ...DEFAULT_API_LIMITS, ...overrides };
  for (const [k, v] of Object.entries(merged)) {
    if (!Number.isSafeInteger(v) || (v as number) < 1)
      throw new TypeError(`api limit ${k} must be a positive integer, got ${String(v)}`);
  }
  if (merged.defaultNeighborsPerPage > merged.maxNeighborsPerPage)
    throw new TypeError('api limit defaultNeighborsPerPage must not exceed maxNeighborsPerPage');
  return Object.freeze(merged);
}
