/**
 * Retention frees a partition's old versions in steps (a budget per step, the worker's
 * messages in between), and the steps go on by themselves until everything that left the
 * window is freed: not one step per retention pass (once a second), which would leave a
 * bulk load's versions pending for minutes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../../partitions/machine.js';
import { decodeBatch } from '../../src/model/ops.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 20, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pending(m: Machine): Promise<number> {
  const s = await m.stats();
  return s.partitions.reduce((sum, p) => sum + p.memory.versionsPending, 0);
}

describe('retention in steps', () => {
  it("frees a bulk load's versions soon after they leave the window", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await Machine.open({
      dataDir: dir.path,
      partitions: 2,
      epochMs: 10,
      retainMs: 2_500,
      idleCompactMin: 1 << 30,
      limits: LIMITS,
    });
    cleanups.push(() => m.close());
    let seed = 3;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const unique = new Set<number>();
    for (let b = 0; b < 12; b++) {
      const n = 100_000;
      const src = new Float64Array(n);
      const dst = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        src[i] = rand(60_000);
        dst[i] = rand(60_000);
        unique.add(src[i] * 60_000 + dst[i]);
      }
      await m.submit(decodeBatch({ edges: { src, dst } }));
    }
    const loaded = await pending(m);
    // Far more than a few steps' worth (a step frees 16384 versions per partition).
    expect(loaded).toBeGreaterThan(400_000);
    let left = loaded;
    const t0 = Date.now();
    while (Date.now() - t0 < 8_000 && left > 0) {
      await new Promise((r) => setTimeout(r, 100));
      left = await pending(m);
    }
    expect(left).toBe(0);
    // The graph is intact.
    expect(m.epochInfo(m.latestEpoch).edges).toBe(unique.size);
  });
});
