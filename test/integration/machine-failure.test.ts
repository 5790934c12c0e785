/**
 * A partition worker that dies stops writes on the machine. A batch that was applied and was
 * waiting for its epoch gets NOT_READY with `mayHaveBeenApplied: true` (so no client resends
 * it blindly); later batches are refused before anything is applied; the machine still
 * closes, and a reopened machine serves again.
 */
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../../partitions/machine.js';
import { EpochgraphError } from '../../src/errors.js';
import { decodeBatch } from '../../src/model/ops.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The worker thread of partition p: the failure is a real thread exit, as after an abort. */
function workerOf(m: Machine, p: number): Worker {
  return (m as unknown as { handles: { worker: Worker }[] }).handles[p].worker;
}

describe('machine after a worker dies', () => {
  it('answers a waiting batch with mayHaveBeenApplied and refuses new ones', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    // A long epoch: the batch is applied and then waits for the seal that never comes.
    const m = await Machine.open({ dataDir: dir.path, partitions: 2, epochMs: 60_000, limits: LIMITS });
    const waiting = m
      .submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] }))
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    await workerOf(m, 1).terminate();

    const err = await waiting;
    expect(err).toBeInstanceOf(EpochgraphError);
    expect(err).toMatchObject({
      code: 'NOT_READY',
      details: { reason: 'WRITES_STOPPED', mayHaveBeenApplied: true },
    });
    expect((err as Error).message).toMatch(/may have been applied/);

    const later = await m
      .submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 3, dst: 4 }] }))
      .catch((e: unknown) => e);
    expect(later).toMatchObject({ code: 'NOT_READY' });
    expect((later as Error).message).toMatch(/writes are stopped/);
    expect((later as EpochgraphError).details).toBeUndefined();
    await m.close();

    const again = await Machine.open({ dataDir: dir.path, partitions: 2, epochMs: 10, limits: LIMITS });
    cleanups.push(() => again.close());
    const ack = await again.submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 5, dst: 6 }] }));
    const s = again.snapshot(ack.epoch);
    expect(s.neighbors(5)?.neighbors).toEqual([6]);
    s.close();
  });
});
