/**
 * The analytics pool's worker (a piscina task module). It receives the partitions'
 * descriptors once, in `workerData` (their SharedArrayBuffers are shared, not copied), builds
 * a PartitionReader per partition, and runs each task in this thread over shared memory.
 *
 * Everything that crosses the thread boundary is checked: the descriptors by checkDescriptor,
 * a task by parseTask (the algorithm's zod schema again). Errors go back as data
 * ({ ok: false, error: { code, message, details } }) and the pool rebuilds them as typed
 * errors. Result columns are transferred, not copied.
 */
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { invalid, toErrorData } from '../errors.js';
import { PartitionReader } from '../storage/index.js';
import { type AnalyticsTask, parseTask, parseWorkerInit, type WorkerReply } from './pool-protocol.js';
import { ProjectionCache, runAlgorithm } from './run-algorithm.js';

const init = parseWorkerInit(workerData);
const readers = init.descriptors.map((d) => new PartitionReader(d));
/** The last epoch's projection: repeated runs at one epoch skip the numbering. */
const projections = new ProjectionCache(1);

/** Run one task; never throws (errors are data in the reply). */
export default function runTask(raw: unknown): unknown {
  let task: AnalyticsTask;
  try {
    task = parseTask(raw);
    if (task.partitions !== readers.length) {
      throw invalid(`task is for ${task.partitions} partitions; this pool serves ${readers.length}`);
    }
  } catch (err) {
    return { ok: false, error: toErrorData(err) } satisfies WorkerReply;
  }
  try {
    const r = runAlgorithm(readers, task.epoch, task.call, projections);
    const reply: WorkerReply = { ok: true, result: r };
    const transfer: ArrayBuffer[] = [];
    for (const col of [r.ids, r.values]) {
      if (!(col instanceof Float64Array)) continue;
      const buf = col.buffer as ArrayBuffer;
      if (!transfer.includes(buf)) transfer.push(buf);
    }
    // move() marks the reply so piscina posts it with `transfer` as the transfer list.
    return move({ [transferableSymbol]: transfer, [valueSymbol]: reply });
  } catch (err) {
    return { ok: false, error: toErrorData(err) } satisfies WorkerReply;
  }
}
