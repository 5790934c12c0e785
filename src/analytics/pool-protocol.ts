/**
 * The messages between the analytics service and its pool workers, and their checked
 * decoders: the worker's init data (descriptors, once), a task (an algorithm run, or a
 * batch-neighbour read for the read pool), and a reply. Both ends parse what they receive,
 * since it crosses a thread boundary.
 */
import { EpochgraphError, type ErrorData, errorFromData, invalid } from '../errors.js';
import { checkIdColumn, type ExternalId } from '../model/ids.js';
import { NEIGHBOR_DIRECTIONS, type NeighborDirection } from '../storage/graph-snapshot.js';
import {
  type BatchNeighborLimits,
  checkDescriptor,
  type NeighborRows,
  type StoreDescriptor,
} from '../storage/index.js';
import { type AlgorithmCall, parseAlgorithmCall } from './algorithm-params.js';
import type { TypedAlgorithmResult } from './run-algorithm.js';

/** What every worker receives once, as piscina's `workerData`. */
export interface WorkerInit {
  descriptors: StoreDescriptor[];
}

/** One run: an algorithm with parsed parameters, at one epoch. */
export interface AnalyticsTask {
  epoch: number;
  /** The partition count the caller expects (a cheap guard against a mismatched pool). */
  partitions: number;
  call: AlgorithmCall;
}

/** A batch-neighbour read (storage batchNeighborRows) at one epoch, for the read pool. */
export interface RowsTask {
  kind: 'rows';
  epoch: number;
  partitions: number;
  ids: Float64Array | ExternalId[];
  direction: NeighborDirection;
  label?: string;
  limits: BatchNeighborLimits;
  /**
   * When set, the worker answers in msgpack (`{ epoch, offsets, neighbors, missing }`, as the
   * route would encode it), packed into this buffer from its start (grown when it must be),
   * and replies with the byte count; only an answer past its maximum size comes back as
   * bytes of its own. Unset, the rows come back as columns.
   */
  answer?: SharedArrayBuffer;
}

/** What a worker runs. */
export type PoolTask = AnalyticsTask | RowsTask;

/** A worker's answer: the result, or an error as data. */
export type WorkerReply =
  | { ok: true; result: TypedAlgorithmResult }
  | { ok: true; rows: NeighborRows }
  | { ok: true; packed: number }
  | { ok: true; packedBytes: Uint8Array }
  | { ok: false; error: ErrorData };

/**
 * Check a set of descriptors: one per partition 0..P-1 of the same P. Returns them in
 * partition order.
 */
export function checkDescriptorSet(raw: unknown): StoreDescriptor[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw invalid('analytics needs the descriptors of every partition (a non-empty array)');
  }
  const ds = raw.map((d) => checkDescriptor(d));
  const P = ds.length;
  const out: StoreDescriptor[] = new Array(P);
  for (const d of ds) {
    if (d.partitions !== P) {
      throw invalid(`descriptor of partition ${d.partition} is for ${d.partitions} partitions, not ${P}`);
    }
    if (d.partition >= P || out[d.partition] !== undefined) {
      throw invalid(`descriptors must cover partitions 0..${P - 1} once each`);
    }
    out[d.partition] = d;
  }
  return out;
}

/** Parse the worker's init data. */
export function parseWorkerInit(raw: unknown): WorkerInit {
  if (raw === null || typeof raw !== 'object') throw invalid('analytics worker: missing workerData');
  return { descriptors: checkDescriptorSet((raw as { descriptors?: unknown }).descriptors) };
}

/** Check a task's epoch and partition count (every kind has them). */
function checkEpochAndPartitions(t: { epoch?: unknown; partitions?: unknown }): void {
  if (!Number.isSafeInteger(t.epoch) || (t.epoch as number) < 0) {
    throw invalid(`analytics task: epoch must be a non-negative integer, got ${String(t.epoch)}`);
  }
  if (!Number.isSafeInteger(t.partitions) || (t.partitions as number) < 1) {
    throw invalid(`analytics task: bad partition count ${String(t.partitions)}`);
  }
}

/** Parse a task received from another thread (an algorithm's parameters through their zod schema). */
export function parseTask(raw: unknown): PoolTask {
  if (raw === null || typeof raw !== 'object') throw invalid('analytics task: not an object');
  if ((raw as { kind?: unknown }).kind === 'rows') return parseRowsTask(raw as Record<string, unknown>);
  const t = raw as { epoch?: unknown; partitions?: unknown; call?: unknown };
  checkEpochAndPartitions(t);
  const c = t.call as { algorithm?: unknown; params?: unknown } | null | undefined;
  if (c === null || typeof c !== 'object' || typeof c.algorithm !== 'string') {
    throw invalid('analytics task: missing algorithm');
  }
  return {
    epoch: t.epoch as number,
    partitions: t.partitions as number,
    call: parseAlgorithmCall(c.algorithm, c.params),
  };
}

const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

function parseRowsTask(t: Record<string, unknown>): RowsTask {
  checkEpochAndPartitions(t);
  const ids = t.ids;
  if (!(ids instanceof Float64Array) && !Array.isArray(ids))
    throw invalid('rows task: ids must be an id column');
  checkIdColumn(ids, 'rows task: ids');
  if (!(NEIGHBOR_DIRECTIONS as readonly unknown[]).includes(t.direction)) {
    throw invalid(`rows task: bad direction ${String(t.direction)}`);
  }
  if (t.label !== undefined && typeof t.label !== 'string')
    throw invalid('rows task: label must be a string');
  if (t.answer !== undefined && !(t.answer instanceof SharedArrayBuffer && t.answer.growable))
    throw invalid('rows task: answer must be a growable SharedArrayBuffer');
  const l = t.limits as Partial<BatchNeighborLimits> | null | undefined;
  if (
    l === null ||
    typeof l !== 'object' ||
    !isPositiveInt(l.maxBatchNeighbors) ||
    !isPositiveInt(l.yieldEveryEntries)
  ) {
    throw invalid('rows task: limits must be positive integers');
  }
  return {
    kind: 'rows',
    epoch: t.epoch as number,
    partitions: t.partitions as number,
    ids,
    direction: t.direction as NeighborDirection,
    label: t.label,
    limits: { maxBatchNeighbors: l.maxBatchNeighbors, yieldEveryEntries: l.yieldEveryEntries },
    ...(t.answer === undefined ? {} : { answer: t.answer }),
  };
}

const isColumn = (v: unknown): v is Float64Array | (number | string)[] =>
  v instanceof Float64Array ||
  (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string'));

/**
 * The payload under `field` of a worker's ok reply; throws the typed error a failed reply
 * carries; undefined for any other shape.
 */
function okPayload(raw: unknown, field: 'result' | 'rows' | 'packed' | 'packedBytes'): unknown {
  const r = raw as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object') return undefined;
  if (r.ok === false) throw errorFromData(r.error);
  return r.ok === true ? r[field] : undefined;
}

/**
 * Parse a worker's reply: the result, or throw the typed error it carries. A reply of any
 * other shape is an INTERNAL error.
 */
export function parseReply(raw: unknown): TypedAlgorithmResult {
  const x = okPayload(raw, 'result') as Partial<TypedAlgorithmResult> | undefined;
  if (
    x !== undefined &&
    typeof x.epoch === 'number' &&
    typeof x.algorithm === 'string' &&
    isColumn(x.ids) &&
    isColumn(x.values) &&
    x.ids.length === x.values.length
  ) {
    return x as TypedAlgorithmResult;
  }
  throw new EpochgraphError('INTERNAL', 'analytics worker sent a malformed reply');
}

/**
 * Parse a read worker's reply to a rows task: the rows, or throw the typed error it carries
 * (TOO_LARGE, EPOCH_GONE, ...). A reply of any other shape is an INTERNAL error.
 */
export function parseRowsReply(raw: unknown): NeighborRows {
  const x = okPayload(raw, 'rows') as Partial<NeighborRows> | undefined;
  if (
    x !== undefined &&
    x.offsets instanceof Float64Array &&
    x.missing instanceof Float64Array &&
    isColumn(x.neighbors) &&
    x.offsets[x.offsets.length - 1] === x.neighbors.length
  ) {
    return x as NeighborRows;
  }
  throw new EpochgraphError('INTERNAL', 'read worker sent a malformed reply');
}

/**
 * Parse a read worker's reply to a rows task with an answer buffer: the msgpack answer (a
 * view of `answer`, or bytes of its own), or throw the typed error it carries. A reply of any
 * other shape is an INTERNAL error.
 */
export function parsePackedReply(raw: unknown, answer: SharedArrayBuffer): Uint8Array {
  const n = okPayload(raw, 'packed');
  if (Number.isSafeInteger(n) && (n as number) > 0 && (n as number) <= answer.byteLength)
    return new Uint8Array(answer, 0, n as number);
  const own = okPayload(raw, 'packedBytes');
  if (own instanceof Uint8Array && own.length > 0) return own;
  throw new EpochgraphError('INTERNAL', 'read worker sent a malformed reply');
}
