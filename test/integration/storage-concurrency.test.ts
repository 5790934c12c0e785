/**
 * Real reader threads read random retained epochs while the writer applies over a million
 * updates with compaction and retention running; every epoch a reader opens must match the
 * figures the writer recorded when it sealed that epoch. Zero violations expected.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/model/ops.js';
import { PartitionStore } from '../../src/storage/index.js';
import {
  CTL_DONE,
  edgeHash,
  FIG_CHECKSUM,
  FIG_EDGES,
  FIG_PROPSUM,
  FIG_STRIDE,
  FIG_VERTICES,
} from '../helpers/concurrency-figures.js';
import { distPath } from '../helpers/worker-script.js';

const VERTICES = 20_000;
const UPDATES = 1_050_000;
const BATCH = 5_000;
const MAX_EPOCHS = 4096;

interface ReaderReport {
  checks: number;
  latestChecks: number;
  gone: number;
  violations: number;
  examples: string[];
}

describe('storage concurrency', () => {
  it('readers in worker threads see exactly the sealed figures while the writer runs', {
    timeout: 240_000,
  }, async () => {
    // Small chunks and few index segments: many chunk crossings and rehashes under load.
    const store = PartitionStore.create({
      limits: { chunkWords: 1 << 20, maxChunks: 64, indexSegments: 4, poolSlots: 128, slotMaxBytes: 1 << 26 },
    });
    const figures = new Float64Array(new SharedArrayBuffer(MAX_EPOCHS * FIG_STRIDE * 8));
    const control = new Int32Array(new SharedArrayBuffer(16));
    const script = distPath('test/helpers/concurrency-reader.ts');
    const readers = [0, 1, 2].map(
      (i) =>
        new Worker(script, {
          workerData: {
            descriptor: store.descriptor,
            figures: figures.buffer,
            control: control.buffer,
            seed: 1234 + i,
            latestBias: process.env.CC_LATEST ? 1 : i === 0 ? 0.8 : 0.3,
          },
        }),
    );
    const reports = readers.map(
      (w) =>
        new Promise<ReaderReport>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );

    // The writer's own truth: live edges and vertex props, maintained incrementally.
    const edges = new Set<number>();
    const xOf = new Float64Array(VERTICES).fill(Number.NaN);
    let checksum = 0;
    let propSum = 0;
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alive = new Uint8Array(VERTICES);
    let aliveCount = 0;
    const touch = (v: number) => {
      if (alive[v] === 0) {
        alive[v] = 1;
        aliveCount++;
      }
    };
    let applied = 0;
    let epochs = 0;
    let compacted = 0;
    while (applied < UPDATES) {
      const ops: Op[] = [];
      for (let i = 0; i < BATCH; i++) {
        const r = rand(100);
        // A skewed source distribution gives some long lists (relocations, Bloom filters).
        const s = rand(10) === 0 ? rand(50) : rand(VERTICES);
        const d = rand(VERTICES);
        const key = s * VERTICES + d;
        if (r < Number(process.env.CC_INSERT_PCT ?? 70)) {
          ops.push({ op: 'upsertEdge', src: s, dst: d });
          if (!edges.has(key)) {
            edges.add(key);
            checksum = (checksum + edgeHash(s, d)) >>> 0;
          }
          touch(s);
          touch(d);
        } else if (r < 95) {
          ops.push({ op: 'deleteEdge', src: s, dst: d });
          if (edges.delete(key)) checksum = (checksum - edgeHash(s, d)) >>> 0;
        } else {
          const x = rand(1000) / 10;
          ops.push({ op: 'upsertVertex', id: s, props: { x } });
          touch(s);
          if (!Number.isNaN(xOf[s])) propSum -= xOf[s];
          xOf[s] = x;
          propSum += x;
        }
      }
      store.apply({ ops });
      applied += ops.length;
      if (process.env.CC_NO_COMPACT === undefined && epochs % 3 === 0) compacted += store.compact(20_000);
      const e = store.openEpoch;
      expect(e).toBeLessThan(MAX_EPOCHS);
      // Figures first, then the seal publishes the epoch (readers load it after).
      const f = e * FIG_STRIDE;
      figures[f + FIG_EDGES] = edges.size;
      figures[f + FIG_CHECKSUM] = checksum;
      figures[f + FIG_VERTICES] = aliveCount;
      figures[f + FIG_PROPSUM] = propSum;
      const seal = store.seal();
      expect(seal.edges).toBe(edges.size);
      epochs++;
      // Keep ~25 epochs retained; reclaim the rest while readers are inside old epochs.
      store.retain(seal.epoch - 25);
      // Give readers a little time between seals (a 2-core machine).
      if (epochs % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    // Let readers do a few more checks against the final state, then stop them.
    await new Promise((r) => setTimeout(r, 300));
    Atomics.store(control, CTL_DONE, 1);
    const results = await Promise.all(reports);
    await Promise.all(readers.map((w) => w.terminate()));
    const total = results.reduce((a, r) => a + r.checks, 0);
    const violations = results.reduce((a, r) => a + r.violations, 0);
    console.log(
      `concurrency: ${applied} updates, ${epochs} epochs, ${compacted} entries compacted, ${total} epoch checks ` +
        `(${results.map((r) => `${r.checks}/${r.latestChecks} latest/${r.gone} gone`).join(', ')}), ${violations} violations`,
    );
    expect(results.flatMap((r) => r.examples)).toEqual([]);
    expect(violations).toBe(0);
    expect(applied).toBeGreaterThanOrEqual(1_000_000);
    expect(compacted).toBeGreaterThan(0);
    for (const r of results) expect(r.checks).toBeGreaterThan(5);
    // Memory was reclaimed while readers ran.
    expect(store.stats().versionsPending).toBeLessThan(40 * BATCH * 3);
  });
});
