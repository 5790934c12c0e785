/**
 * Child process of the crash-safety test: opens a machine on a data dir and writes batches
 * forever, printing one JSON line per acknowledged batch ({ b, epoch }). The parent kills it
 * with SIGKILL at a random moment. Each batch b writes BATCH_EDGES edges between vertices
 * owned by different partitions, all tagged with b, so a partial batch is detectable.
 */
import { Machine } from '../../partitions/machine.js';
import type { Op } from '../../src/model/ops.js';

export const BATCH_EDGES = 8;
export const LIMITS = {
  chunkWords: 1 << 18,
  maxChunks: 32,
  indexSegments: 4,
  poolSlots: 64,
  slotMaxBytes: 1 << 24,
};

export function batchOps(b: number): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < BATCH_EDGES; i++) {
    const src = b * 100 + i;
    const dst = `v${(b * 7919 + i * 104729) % 5000}`;
    ops.push({ op: 'upsertEdge', src, dst, label: 'tagged', props: { b } });
  }
  // A vertex update and, every 5th batch, a vertex deletion (cross-partition cascades).
  ops.push({ op: 'upsertVertex', id: `b${b}`, props: { b } });
  if (b % 5 === 4) ops.push({ op: 'deleteVertex', id: (b - 3) * 100 });
  return ops;
}

async function main(): Promise<void> {
  const [dataDir, firstArg, checkpointArg] = process.argv.slice(2);
  const first = Number(firstArg);
  const m = await Machine.open({
    dataDir,
    partitions: 2,
    epochMs: 5,
    limits: LIMITS,
    // Frequent checkpoints so that kills also land during checkpoint writes.
    checkpointWalBytes: Number(checkpointArg ?? 64 << 10),
    checkpointIntervalMs: 200,
  });
  process.stdout.write(`${JSON.stringify({ ready: m.latestEpoch })}\n`);
  let b = first;
  // A few batches in flight at once, so kills cut groups of several batches.
  const inflight = new Set<Promise<void>>();
  for (;;) {
    const id = b++;
    const p = m.submit({ ops: batchOps(id) }).then((r) => {
      process.stdout.write(`${JSON.stringify({ b: id, epoch: r.epoch })}\n`);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 4) await Promise.race(inflight);
  }
}

if (process.argv[1]?.endsWith('crash-writer.js')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
