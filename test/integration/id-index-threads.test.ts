/**
 * The id index under real reader threads while the writer inserts: ids go to the hash while
 * they lie far above what the direct map may cover, then the map grows past them (they are
 * copied) and past ids that follow in order, with hash segments rehashing on the way. Every
 * id published to the readers must be found, with its own local id, by every reader, whatever
 * bound of the map the reader last saw.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/storage/id-index.js';
import { createDescriptor, resolveLimits } from '../../src/storage/shared-pool.js';
import { rng } from '../helpers/rng.js';
import { distPath } from '../helpers/worker-script.js';

const LIMITS = resolveLimits({
  indexSegments: 4,
  chunkWords: 1 << 16,
  maxChunks: 4,
  poolSlots: 16,
  slotMaxBytes: 1 << 26,
});
const TOTAL = 3_000_000;

interface Report {
  checks: number;
  violations: string[];
  directBound: number;
}

describe('id index across threads', () => {
  it('readers find every published id while the direct map grows and copies ids from the hash', {
    timeout: 120_000,
  }, async () => {
    const desc = createDescriptor(0, 1, LIMITS);
    const index = new IdIndex(desc);
    // The ids in insertion order: runs of ids in order (the direct map's case) with ids far
    // above them mixed in (the hash's, until the map grows past them).
    const ids = new Float64Array(new SharedArrayBuffer(TOTAL * 8));
    const r = rng(11);
    const seen = new Set<number>();
    let next = 0;
    for (let k = 0; k < TOTAL; ) {
      const id = k % 8 === 7 ? r(LIMITS.slotMaxBytes / 4) : next++;
      if (seen.has(id)) continue;
      seen.add(id);
      ids[k++] = id;
    }
    const control = new Int32Array(new SharedArrayBuffer(8));
    const script = distPath('test/helpers/id-index-reader.ts');
    const readers = [1, 2].map(
      (seed) =>
        new Worker(script, {
          workerData: { descriptor: desc, ids: ids.buffer, control: control.buffer, seed },
        }),
    );
    const reports = readers.map(
      (w) =>
        new Promise<Report>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    let grew = 0;
    let notCreated = 0;
    let bound = index.views.directBound;
    for (let k = 0; k < TOTAL; k += 1000) {
      const end = Math.min(TOTAL, k + 1000);
      for (let i = k; i < end; i++) {
        index.intId(ids[i]);
        if (!index.created) notCreated++;
      }
      if (index.views.directBound !== bound) {
        grew++;
        bound = index.views.directBound;
      }
      // Release: every id below the count is in the index.
      Atomics.store(control, 0, end);
      // Give the readers a moment now and then, so they race with every kind of step.
      if (k % 50_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    Atomics.store(control, 1, 1);
    const results = await Promise.all(reports);
    await Promise.all(readers.map((w) => w.terminate()));
    expect(notCreated).toBe(0);
    expect(index.count).toBe(TOTAL);
    expect(grew).toBeGreaterThan(5);
    for (const rep of results) {
      expect(rep.violations).toEqual([]);
      expect(rep.checks).toBeGreaterThan(10_000);
      expect(rep.directBound).toBeLessThanOrEqual(index.views.directBound);
    }
    // Some far ids stayed in the hash (the map never covered them) and some were copied.
    expect(index.views.directBound).toBeLessThan(LIMITS.slotMaxBytes / 4);
  });
});
