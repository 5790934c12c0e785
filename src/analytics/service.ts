/**
 * The analytics service: what the HTTP route `POST /v1/snapshots/:epoch/algorithms/:name` and
 * the CLI's `epochgraph run ALGO` call. It validates a request, admits it into a bounded set
 * of concurrent runs, pins its epoch, runs it in the worker pool with a timeout and an
 * optional AbortSignal, and keeps metrics.
 *
 * Admission. At most `poolSize` runs execute at once and at most `maxQueued` more wait; a run
 * beyond that fails at once with NOT_READY and `details.retryAfterSec` (the integrator turns it
 * into 503 with `Retry-After`), an estimate from recent run times.
 *
 * Epochs. The caller passes an epoch number (resolve `latest` and `asOf` first). With a
 * `pinEpoch` hook (the integrator wires the machine's pins) the epoch is checked and pinned
 * from admission until the run settles, so a run waiting in the queue cannot see its epoch
 * leave retention; the worker's open snapshots hold its memory while it runs. Without the
 * hook, an epoch the partitions no longer keep fails with EPOCH_GONE when the run starts.
 *
 * Ending early. A timeout (per service, overridable per run) and the caller's AbortSignal
 * both abort the run: a queued run is dropped, a running one's worker is terminated and
 * replaced (pool.ts releases its snapshots). The run rejects with NOT_READY and
 * `details.reason` `timeout` or `cancelled`: the error codes of errors.ts have no 504 or
 * "client closed" code, and both conditions are transient from the server's side.
 *
 * Reads. With `readWorkers` > 0 the service also keeps a second pool of that many threads for
 * heavy snapshot reads (batch neighbours, `neighborRows`), apart from the algorithm runs so a
 * long run never queues a read. The caller keeps the read's epoch open until it settles.
 *
 * Metrics. The service counts admissions, refusals and outcomes; the shapes of its `stats()`
 * and its Prometheus metrics are in run-metrics.ts.
 *
 * This module is main-thread only and imports nothing from partitions/ or api/.
 */
import { availableParallelism } from 'node:os';
import type { Registry } from 'prom-client';
import { AnswerSlots, type PackedAnswer } from '../codec/answer-slots.js';
import { EpochgraphError, invalid } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import type { NeighborDirection } from '../storage/graph-snapshot.js';
import type { BatchNeighborLimits, NeighborRows, StoreDescriptor } from '../storage/index.js';
import {
  ALGORITHMS,
  type AlgorithmCall,
  type AlgorithmName,
  parseAlgorithmCall,
} from './algorithm-params.js';
import { AnalyticsPool } from './pool.js';
import type { RowsTask } from './pool-protocol.js';
import type { TypedAlgorithmResult } from './run-algorithm.js';
import {
  type AlgorithmStats,
  type AnalyticsStats,
  emptyStats,
  type Outcome,
  type PromMetrics,
  registerRunMetrics,
} from './run-metrics.js';

/** The default run timeout. */
export const DEFAULT_ANALYTICS_TIMEOUT_MS = 60_000;

/** An epoch held against retention for the duration of a run (see `pinEpoch`). */
export interface EpochPin {
  /** The epoch the pin resolved to: the newest sealed epoch ≤ the one asked for. */
  epoch: number;
  /** Drop the pin. Called exactly once. */
  release(): void;
}

/** Options of {@link AnalyticsService}. */
export interface AnalyticsServiceOptions {
  /** The descriptors of every partition, in any order (from `machine.descriptors()`). */
  descriptors: readonly StoreDescriptor[];
  /** Worker threads; default the number of cores. */
  poolSize?: number;
  /** Runs that may wait for a worker beyond the running ones; default 4 × poolSize. */
  maxQueued?: number;
  /** Default timeout of a run, queueing included; default 60 s. */
  timeoutMs?: number;
  /** Threads of the read pool (batch-neighbour reads); default 0: none, reads stay with the caller. */
  readWorkers?: number;
  /** Register Prometheus metrics here (see {@link AnalyticsService} for their names). */
  registry?: Registry;
  /**
   * Check and pin an epoch for `ttlMs` (throwing EPOCH_GONE / EPOCH_NOT_FOUND as the
   * machine does). The integrator passes
   * `(e, ttl) => { const p = machine.pin(e, ttl); return { epoch: p.epoch, release: () => machine.unpin(p.id) }; }`.
   */
  pinEpoch?: (epoch: number, ttlMs: number) => EpochPin;
}

/** Options of one run. */
export interface RunOptions {
  /** Abort the run (the HTTP layer aborts when the client disconnects). */
  signal?: AbortSignal;
  /** This run's timeout, instead of the service's. */
  timeoutMs?: number;
}

/** A value of a result: a number, null (unreachable; no value), or an id (labels over string ids). */
export type AlgorithmValue = number | string | null;

/** A result as plain arrays, for JSON. */
export interface AlgorithmResult {
  epoch: number;
  algorithm: AlgorithmName;
  ids: ExternalId[];
  values: AlgorithmValue[];
}

const RECENT_RUNS = 32;

/** Answer slots kept for reuse per read-pool thread (answers being sent hold theirs). */
const ANSWER_SLOTS_PER_READ_WORKER = 4;

/**
 * Runs the Graphalytics algorithms over retained epochs in a worker pool.
 *
 * Prometheus metrics (with a `registry`): `epochgraph_analytics_runs_started_total{algorithm}`,
 * `epochgraph_analytics_runs_finished_total{algorithm,outcome}` (outcome: ok, failed, timeout,
 * cancelled), `epochgraph_analytics_runs_refused_total{algorithm,reason}` (queue_full,
 * invalid), `epochgraph_analytics_run_duration_seconds{algorithm,outcome}`, and the gauges
 * `epochgraph_analytics_runs_active` and `epochgraph_analytics_runs_queued`.
 */
export class AnalyticsService {
  readonly poolSize: number;
  readonly maxQueued: number;
  readonly timeoutMs: number;
  private readonly pool: AnalyticsPool;
  private readonly readPool: AnalyticsPool | null;
  /** Buffers the read pool packs msgpack answers into (packedNeighborRows). */
  private readonly answerSlots: AnswerSlots;
  private readonly pinEpoch: AnalyticsServiceOptions['pinEpoch'];
  private readonly counters = new Map<AlgorithmName, AlgorithmStats>();
  private readonly recent: number[] = [];
  private readonly running = new Set<AbortController>();
  private readonly prom: PromMetrics | null;
  private active = 0;
  private closed = false;

  constructor(options: AnalyticsServiceOptions) {
    this.poolSize = options.poolSize ?? availableParallelism();
    this.maxQueued = options.maxQueued ?? 4 * this.poolSize;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ANALYTICS_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.maxQueued) || this.maxQueued < 0) {
      throw new RangeError(`maxQueued must be a non-negative integer, got ${this.maxQueued}`);
    }
    checkTimeout(this.timeoutMs);
    this.pool = new AnalyticsPool({ descriptors: options.descriptors, size: this.poolSize });
    const readWorkers = options.readWorkers ?? 0;
    this.readPool =
      readWorkers === 0 ? null : new AnalyticsPool({ descriptors: options.descriptors, size: readWorkers });
    this.answerSlots = new AnswerSlots(ANSWER_SLOTS_PER_READ_WORKER * readWorkers);
    this.pinEpoch = options.pinEpoch;
    for (const a of ALGORITHMS) this.counters.set(a, emptyStats());
    this.prom =
      options.registry === undefined
        ? null
        : registerRunMetrics(options.registry, {
            active: () => this.active,
            queued: () => (this.closed ? 0 : this.pool.queued),
          });
  }

  /**
   * Run `name` with raw (unvalidated) parameters at `epoch`; the plain-array result for JSON.
   * Unreachable BFS/SSSP vertices have the value null. Throws (rejects with) EpochgraphError:
   * NOT_FOUND (unknown algorithm), INVALID_REQUEST (parameters, epoch, missing weights),
   * VERTEX_NOT_FOUND (source), EPOCH_GONE / EPOCH_NOT_FOUND, NOT_READY (queue full, with
   * `details.retryAfterSec`; timeout; cancelled; closed).
   */
  async run(
    name: string,
    rawParams: unknown,
    epoch: number,
    options: RunOptions = {},
  ): Promise<AlgorithmResult> {
    return toPlainResult(await this.runTyped(name, rawParams, epoch, options));
  }

  /**
   * Like {@link run}, with typed columns for msgpack: ids as a Float64Array when every id is
   * an integer, values as a Float64Array with NaN for null (labels over string ids: an array
   * of ids). Also reports vertex and edge counts and where the time went.
   */
  async runTyped(
    name: string,
    rawParams: unknown,
    epoch: number,
    options: RunOptions = {},
  ): Promise<TypedAlgorithmResult> {
    if (this.closed) throw new EpochgraphError('NOT_READY', 'the analytics service is shut down');
    const algorithm = ALGORITHMS.find((a) => a === name);
    let call: AlgorithmCall;
    let timeoutMs: number;
    try {
      call = parseAlgorithmCall(name, rawParams);
      if (!Number.isSafeInteger(epoch) || epoch < 0) {
        throw invalid(`epoch must be a non-negative integer, got ${String(epoch)}`, { epoch });
      }
      timeoutMs = options.timeoutMs ?? this.timeoutMs;
      checkTimeout(timeoutMs);
    } catch (err) {
      if (algorithm !== undefined) this.refuse(algorithm, 'invalid');
      throw err;
    }
    if (options.signal?.aborted === true) throw cancelled(call.algorithm);
    if (this.active >= this.poolSize + this.maxQueued) {
      this.refuse(call.algorithm, 'queue_full');
      const retryAfterSec = this.retryAfterSec();
      throw new EpochgraphError(
        'NOT_READY',
        `too many analytics runs (${this.active} running or queued); retry in ${retryAfterSec} s`,
        { retryAfterSec, active: this.active, limit: this.poolSize + this.maxQueued },
      );
    }

    const counters = this.stat(call.algorithm);
    const started = performance.now();
    this.active++;
    counters.started++;
    this.prom?.started.inc({ algorithm: call.algorithm });
    const controller = new AbortController();
    this.running.add(controller);
    const onAbort = () => controller.abort(cancelled(call.algorithm));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(timedOut(call.algorithm, timeoutMs)), timeoutMs);
    let pin: EpochPin | null = null;
    let outcome: Outcome = 'failed';
    try {
      // The pin outlives the timeout a little, so it never lapses under a live run.
      pin = this.pinEpoch?.(epoch, timeoutMs + 10_000) ?? null;
      const task = { epoch: pin?.epoch ?? epoch, partitions: this.pool.partitions, call };
      const result = await this.pool.run(task, controller.signal);
      outcome = 'ok';
      return result;
    } catch (err) {
      // An aborted run rejects with piscina's AbortError; the reason says why.
      if (controller.signal.aborted && controller.signal.reason instanceof EpochgraphError) {
        const reason = controller.signal.reason;
        outcome = (reason.details as { reason?: string }).reason === 'timeout' ? 'timeout' : 'cancelled';
        throw reason;
      }
      if (err instanceof EpochgraphError) throw err;
      // A worker that died (out of memory, say) rejects with a plain Error.
      throw new EpochgraphError(
        'INTERNAL',
        `analytics worker failed: ${(err as Error)?.message ?? String(err)}`,
      );
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(controller);
      pin?.release();
      this.active--;
      this.settle(call.algorithm, outcome, performance.now() - started);
    }
  }

  /** The service's counters and state (for logs, tests and a metrics endpoint). */
  stats(): AnalyticsStats {
    const byAlgorithm = {} as Record<AlgorithmName, AlgorithmStats>;
    for (const a of ALGORITHMS) byAlgorithm[a] = { ...this.stat(a) };
    return {
      poolSize: this.poolSize,
      maxQueued: this.maxQueued,
      active: this.active,
      queued: this.pool.queued,
      releasedReaderSlots: this.pool.releasedSlots,
      answerSlotsKept: this.answerSlots.kept,
      byAlgorithm,
    };
  }

  /** Threads of the read pool (0: neighborRows is not offered). */
  get readWorkers(): number {
    return this.readPool?.size ?? 0;
  }

  /**
   * The batch-neighbour rows of `ids` at `epoch` (storage batchNeighborRows), read in the read
   * pool. The caller keeps the epoch open (a snapshot) until this settles. Rejects with the
   * read's typed error (TOO_LARGE, EPOCH_GONE) or NOT_READY when there is no read pool or the
   * service is closed.
   */
  async neighborRows(
    epoch: number,
    ids: Float64Array | ExternalId[],
    direction: NeighborDirection,
    label: string | undefined,
    limits: BatchNeighborLimits,
  ): Promise<NeighborRows> {
    const { pool, task } = this.rowsTask(epoch, ids, direction, label, limits);
    return pool.rows(task);
  }

  /**
   * The same read answered in msgpack (`{ epoch, offsets, neighbors, missing }`, as the route
   * would encode it), packed by the worker into an answer slot (answer-slots.ts): send
   * `bytes`, then call `release` once they are written out (the slot is reused after).
   */
  async packedNeighborRows(
    epoch: number,
    ids: Float64Array | ExternalId[],
    direction: NeighborDirection,
    label: string | undefined,
    limits: BatchNeighborLimits,
  ): Promise<PackedAnswer> {
    const { pool, task } = this.rowsTask(epoch, ids, direction, label, limits);
    const slot = this.answerSlots.take();
    try {
      const bytes = await pool.packedRows({ ...task, answer: slot.buffer });
      return { bytes, release: slot.release };
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  /** The read pool and a rows task for it; NOT_READY when there is no pool or it is closed. */
  private rowsTask(
    epoch: number,
    ids: Float64Array | ExternalId[],
    direction: NeighborDirection,
    label: string | undefined,
    limits: BatchNeighborLimits,
  ): { pool: AnalyticsPool; task: RowsTask } {
    if (this.readPool === null || this.closed) {
      throw new EpochgraphError('NOT_READY', 'the read pool is not running');
    }
    const pool = this.readPool;
    const { maxBatchNeighbors, yieldEveryEntries } = limits;
    const task: RowsTask = {
      kind: 'rows',
      epoch,
      partitions: pool.partitions,
      ids,
      direction,
      label,
      limits: { maxBatchNeighbors, yieldEveryEntries },
    };
    return { pool, task };
  }

  /** Abort every run (they reject with NOT_READY) and stop the workers of both pools. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.running) {
      c.abort(
        new EpochgraphError('NOT_READY', 'the analytics service is shutting down', { reason: 'cancelled' }),
      );
    }
    await Promise.all([this.pool.close(), this.readPool?.close()]);
  }

  private stat(a: AlgorithmName): AlgorithmStats {
    return this.counters.get(a) as AlgorithmStats;
  }

  private refuse(a: AlgorithmName, reason: 'invalid' | 'queue_full'): void {
    const s = this.stat(a);
    if (reason === 'invalid') s.invalid++;
    else s.rejected++;
    this.prom?.refused.inc({ algorithm: a, reason });
  }

  private settle(a: AlgorithmName, outcome: Outcome, ms: number): void {
    const s = this.stat(a);
    if (outcome === 'ok') s.finished++;
    else if (outcome === 'failed') s.failed++;
    else if (outcome === 'timeout') s.timedOut++;
    else s.cancelled++;
    s.durationMsTotal += ms;
    s.durationMsMax = Math.max(s.durationMsMax, ms);
    if (outcome === 'ok') {
      this.recent.push(ms);
      if (this.recent.length > RECENT_RUNS) this.recent.shift();
    }
    if (this.prom !== null) {
      this.prom.finished.inc({ algorithm: a, outcome });
      this.prom.duration.observe({ algorithm: a, outcome }, ms / 1000);
    }
  }

  /** When a slot is likely free: queue depth × recent mean run time / workers, in [1, 300] s. */
  private retryAfterSec(): number {
    if (this.recent.length === 0) return 1;
    const mean = this.recent.reduce((x, y) => x + y, 0) / this.recent.length;
    const waitMs = ((this.active - this.poolSize + 1) * mean) / this.poolSize;
    return Math.min(300, Math.max(1, Math.ceil(waitMs / 1000)));
  }
}

/** The plain-array form of a typed result (NaN becomes null). */
export function toPlainResult(r: TypedAlgorithmResult): AlgorithmResult {
  const ids: ExternalId[] = Array.isArray(r.ids) ? r.ids : Array.from(r.ids);
  let values: AlgorithmValue[];
  if (Array.isArray(r.values)) values = r.values;
  else {
    const v = r.values;
    values = new Array(v.length);
    for (let i = 0; i < v.length; i++) values[i] = Number.isNaN(v[i]) ? null : v[i];
  }
  return { epoch: r.epoch, algorithm: r.algorithm, ids, values };
}

function checkTimeout(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 2 ** 31 - 1) {
    throw invalid(`timeoutMs must be an integer in [1, 2^31-1], got ${ms}`);
  }
}

function timedOut(algorithm: AlgorithmName, timeoutMs: number): EpochgraphError {
  return new EpochgraphError('NOT_READY', `${algorithm} did not finish within ${timeoutMs} ms`, {
    reason: 'timeout',
    timeoutMs,
  });
}

function cancelled(algorithm: AlgorithmName): EpochgraphError {
  return new EpochgraphError('NOT_READY', `${algorithm} was cancelled`, { reason: 'cancelled' });
}
