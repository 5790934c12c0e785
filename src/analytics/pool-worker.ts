/**
 * The analytics pool's worker (a piscina task module). It receives the partitions'
 * descriptors once, in `workerData` (their SharedArrayBuffers are shared, not copied), builds
 * a PartitionReader per partition, and runs each task in this thread over shared memory.
 *
 * The same worker serves the read pool: a rows task is a batch-neighbour read
 * (storage batchNeighborRows) at an epoch the caller keeps open. With an answer buffer in the
 * task, the worker packs the msgpack answer into it (answer-slots.ts) instead of sending
 * columns back.
 *
 * Everything that crosses the thread boundary is checked: the descriptors by checkDescriptor,
 * a task by parseTask (the algorithm's zod schema again). Errors go back as data
 * ({ ok: false, error: { code, message, details } }) and the pool rebuilds them as typed
 * errors. Result columns are transferred, not copied.
 */
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { packIntoSlot } from '../codec/answer-slots.js';
import { invalid, toErrorData } from '../errors.js';
import { GraphSnapshot } from '../storage/graph-snapshot.js';
import { batchNeighborRows, PartitionReader } from '../storage/index.js';
import {
  type PoolTask,
  parseTask,
  parseWorkerInit,
  type RowsTask,
  type WorkerReply,
} from './pool-protocol.js';
import { ProjectionCache, runAlgorithm } from './run-algorithm.js';

const init = parseWorkerInit(workerData);
const readers = init.descriptors.map((d) => new PartitionReader(d));
/** The last epoch's projection: repeated runs at one epoch skip the numbering. */
const projections = new ProjectionCache(1);

/** The reply with its columns' buffers as piscina's transfer list (moved, not copied). */
function moved(reply: WorkerReply, cols: readonly unknown[]): unknown {
  const transfer: ArrayBuffer[] = [];
  for (const col of cols) {
    if (!(col instanceof Float64Array)) continue;
    const buf = col.buffer as ArrayBuffer;
    if (!transfer.includes(buf)) transfer.push(buf);
  }
  // move() marks the reply so piscina posts it with `transfer` as the transfer list.
  return move({ [transferableSymbol]: transfer, [valueSymbol]: reply });
}

/** A batch-neighbour read at the task's epoch (the caller holds that epoch open). */
async function runRows(task: RowsTask): Promise<unknown> {
  const snap = new GraphSnapshot(readers, task.epoch);
  try {
    const rows = await batchNeighborRows(snap, task.ids, task.direction, task.label, task.limits);
    if (task.answer !== undefined) return packAnswer(task.answer, { epoch: task.epoch, ...rows });
    return moved({ ok: true, rows }, [rows.offsets, rows.neighbors, rows.missing]);
  } finally {
    snap.close();
  }
}

/**
 * The answer packed in msgpack into `answer` (grown to fit, up to its maximum): the reply
 * carries the byte count. An answer past the maximum comes back as bytes of its own.
 */
function packAnswer(answer: SharedArrayBuffer, body: object): unknown {
  const bytes = packIntoSlot(answer, body);
  if (bytes.buffer === answer) return { ok: true, packed: bytes.length } satisfies WorkerReply;
  const own = bytes.slice();
  return move({ [transferableSymbol]: [own.buffer], [valueSymbol]: { ok: true, packedBytes: own } });
}

/** Run one task; never throws (errors are data in the reply). */
export default async function runTask(raw: unknown): Promise<unknown> {
  let task: PoolTask;
  try {
    task = parseTask(raw);
    if (task.partitions !== readers.length) {
      throw invalid(`task is for ${task.partitions} partitions; this pool serves ${readers.length}`);
    }
  } catch (err) {
    return { ok: false, error: toErrorData(err) } satisfies WorkerReply;
  }
  try {
    if ('kind' in task) return await runRows(task);
    const r = runAlgorithm(readers, task.epoch, task.call, projections);
    return moved({ ok: true, result: r }, [r.ids, r.values]);
  } catch (err) {
    return { ok: false, error: toErrorData(err) } satisfies WorkerReply;
  }
}
