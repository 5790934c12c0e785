/**
 * Atomicity across partitions, checked by real reader threads while a real machine writes:
 * every batch adds or removes an edge pair whose halves live on different partitions (and
 * some delete a vertex, whose edges go by cascades); readers must never see half a batch.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../../partitions/machine.js';
import { partitionOf } from '../../src/model/ids.js';
import type { Op } from '../../src/model/ops.js';
import { tempDir } from '../helpers/temp-dir.js';
import { distPath } from '../helpers/worker-script.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function pairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  let x = 1;
  for (let k = 0; k < n; k++) {
    while (partitionOf(x, 2) !== 0) x++;
    let y = x + 1;
    while (partitionOf(y, 2) !== 1) y++;
    out.push([x, y]);
    x = y + 1;
  }
  return out;
}

describe('machine atomicity', () => {
  it('reader threads never see half a batch spanning partitions', { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await Machine.open({
      dataDir: dir.path,
      partitions: 2,
      epochMs: 2,
      limits: LIMITS,
      retainMs: 200,
    });
    cleanups.push(() => m.close());
    const P = pairs(60);
    const control = new Int32Array(new SharedArrayBuffer(8));
    const script = distPath('test/helpers/atomicity-reader.ts');
    const workers = [0, 1].map(
      () =>
        new Worker(script, {
          workerData: { descriptors: m.descriptors(), pairs: P, control: control.buffer },
        }),
    );
    const reports = workers.map(
      (w) =>
        new Promise<{ checks: number; violations: number; examples: string[] }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < 1500; i++) {
      const [a, b] = P[rand(P.length)];
      let ops: Op[];
      const r = rand(10);
      if (r < 6)
        ops = [
          { op: 'upsertEdge', src: a, dst: b },
          { op: 'upsertEdge', src: b, dst: a },
        ];
      else if (r < 9)
        ops = [
          { op: 'deleteEdge', src: a, dst: b },
          { op: 'deleteEdge', src: b, dst: a },
        ];
      else ops = [{ op: 'deleteVertex', id: rand(2) === 0 ? a : b }];
      inflight.push(m.submit({ ops }));
      if (inflight.length >= 8) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
    Atomics.store(control, 0, 1);
    const results = await Promise.all(reports);
    await Promise.all(workers.map((w) => w.terminate()));
    for (const r of results) {
      expect(r.examples).toEqual([]);
      expect(r.violations).toBe(0);
      expect(r.checks).toBeGreaterThan(20);
    }
  });
});
