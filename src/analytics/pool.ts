/**
 * The analytics worker pool (piscina). Its size is configurable and defaults to the number
 * of cores. Workers receive the partitions' descriptors once, as `workerData`: the shared
 * buffers themselves, never copies of the graph. Each task opens snapshots of every partition
 * at its epoch in the worker, keeps them open (registered in each partition's reader registry,
 * which pins the epoch's memory) for the whole run, and closes them.
 *
 * Cancellation is by termination: aborting a task's signal makes piscina drop it from the
 * queue, or terminate the worker running it (and start a fresh one). A terminated worker
 * never closes its snapshots, so the pool releases every registry slot the dead thread owned
 * when its `exit` event fires, after the thread has stopped for good (thread ids are never
 * reused, so the release cannot touch another reader's slot).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { EpochgraphError } from '../errors.js';
import type { NeighborRows, StoreDescriptor } from '../storage/index.js';
import { releaseOwner } from '../storage/reader-registry.js';
import {
  type AnalyticsTask,
  checkDescriptorSet,
  parsePackedReply,
  parseReply,
  parseRowsReply,
  type RowsTask,
  type WorkerInit,
} from './pool-protocol.js';
import type { TypedAlgorithmResult } from './run-algorithm.js';

/**
 * Where the worker script lives. Workers run compiled JavaScript: from dist/ it sits next to
 * this file; from TypeScript sources (tests run after `npm run build`) the compiled copy
 * under dist/ is used.
 */
export function poolWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../dist/src/analytics/pool-worker-entry.cjs', here);
  return new URL('./pool-worker-entry.cjs', here);
}

/** Options of {@link AnalyticsPool}. */
export interface AnalyticsPoolOptions {
  /** The descriptors of every partition (from the machine; they never change). */
  descriptors: readonly StoreDescriptor[];
  /** Worker threads; default the number of cores. */
  size?: number;
}

/** Longest wait in close() for threads that are still loading their modules. */
const CLOSE_LOAD_WAIT_MS = 15_000;

/** A piscina pool of analytics workers over one set of partitions. */

export class AnalyticsPool {
  readonly size: number;
  readonly partitions: number;
  private readonly piscina: Piscina;
  private readonly ctls: Uint32Array[];
  private released = 0;

  constructor(options: AnalyticsPoolOptions) {
    const descriptors = checkDescriptorSet(options.descriptors);
    const size = options.size ?? availableParallelism();
    if (!Number.isSafeInteger(size) || size < 1 || size > 1024) {
      throw new RangeError(`pool size must be an integer in [1, 1024], got ${size}`);
    }
    this.size = size;
    this.partitions = descriptors.length;
    this.ctls = descriptors.map((d) => new Uint32Array(d.ctl));
    const workerData: WorkerInit = { descriptors };
    this.piscina = new Piscina({
      filename: fileURLToPath(poolWorkerUrl()),
      minThreads: size,
      maxThreads: size,
      // Workers stay: a fresh one costs a module load (and after a cancellation piscina
      // replaces the terminated one anyway).
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
    this.piscina.on('workerCreate', (w: { id: number }) => this.watch(w.id));
    this.piscina.on('message', (m: { epochgraphLoaded?: unknown }) => {
      if (typeof m?.epochgraphLoaded === 'number') this.loaded.add(m.epochgraphLoaded);
    });
    this.piscina.on('workerDestroy', (w: { id: number }) => this.loaded.delete(w.id));
  }

  /**
   * Threads whose modules are evaluated, by their own word (pool-worker-entry.cts). Piscina's
   * workerCreate does not say it: the first threads of a pool are marked ready at once.
   */
  private readonly loaded = new Set<number>();

  /** Release the registry slots of a worker thread once it has exited. */
  private watch(threadId: number): void {
    const thread = this.piscina.threads.find((t: Worker) => t.threadId === threadId);
    if (thread === undefined) return;
    thread.once('exit', () => {
      for (const ctl of this.ctls) this.released += releaseOwner(ctl, threadId);
    });
  }

  /** Run a task in a worker. Rejects with the worker's typed error, or piscina's AbortError. */
  async run(task: AnalyticsTask, signal?: AbortSignal): Promise<TypedAlgorithmResult> {
    const reply: unknown = await this.piscina.run(task, signal === undefined ? {} : { signal });
    return parseReply(reply);
  }

  /**
   * Run a batch-neighbour read in a worker. Rejects with the worker's typed error, or with
   * NOT_READY (503, retry) when the pool itself failed it (a worker died, the pool closed).
   */
  async rows(task: RowsTask): Promise<NeighborRows> {
    return parseRowsReply(await this.runRead(task));
  }

  /**
   * The same read answered in msgpack, packed by the worker into `task.answer`: the answer's
   * bytes (a view of that buffer, or bytes of their own when it could not hold them).
   */
  async packedRows(task: RowsTask & { answer: SharedArrayBuffer }): Promise<Uint8Array> {
    return parsePackedReply(await this.runRead(task), task.answer);
  }

  private async runRead(task: RowsTask): Promise<unknown> {
    try {
      return await this.piscina.run(task);
    } catch (err) {
      throw new EpochgraphError(
        'NOT_READY',
        `the read pool could not run the read: ${(err as Error).message}`,
      );
    }
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.piscina.queueSize;
  }

  /** Live worker threads. */
  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Registry slots released on behalf of terminated workers (for tests and metrics). */
  get releasedSlots(): number {
    return this.released;
  }

  /**
   * Stop every worker; queued and running tasks are rejected. Threads still loading their ES
   * modules are waited for first (bounded): terminating a worker during module evaluation
   * aborts the whole process on Node 20 ("v8::Module::IsGraphAsync must be used on an
   * instantiated module"), which a pool closed right after it started, or right after a
   * cancelled run made piscina start a replacement, would otherwise hit.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + CLOSE_LOAD_WAIT_MS;
    while (Date.now() < deadline && this.piscina.threads.some((t: Worker) => !this.loaded.has(t.threadId))) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.piscina.destroy();
  }
}
