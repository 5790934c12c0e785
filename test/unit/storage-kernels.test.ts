/**
 * The scan kernels agree with per-vertex reads at every retained epoch: fresh and history
 * versions, deletion stamps, vertices created after the epoch, and compacted ranges.
 */
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/model/ops.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';
import { degrees, vertexMask, vertexRows } from '../../src/storage/kernels.js';
import { pullSum } from '../../src/storage/pull-kernel.js';

const LIMITS = { chunkWords: 1 << 16, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };

function expected(snap: Snapshot, dir: 'in' | 'out', x: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  snap.forEachVertex((lid) => {
    snap.forEachNeighbor(lid, dir, -1, (nbr) => {
      out[lid] += x[nbr];
    });
  });
  return out;
}

/**
 * pullSum, adding into zeros and assigning over stale values (-7; rows with no list get 0),
 * equals the per-vertex reads on `rows` and leaves every other entry alone.
 */
function expectPullSums(
  snap: Snapshot,
  dir: 'in' | 'out',
  rows: Uint32Array,
  x: Float64Array,
  n: number,
  e: number,
): void {
  const want = expected(snap, dir, x, n);
  const wantAdded = new Float64Array(n);
  const wantAssigned = new Float64Array(n).fill(-7);
  for (const v of rows) {
    wantAdded[v] = want[v];
    wantAssigned[v] = want[v];
  }
  const got = new Float64Array(n);
  pullSum(snap, dir, -1, rows, x, got);
  expect(Array.from(got), `${dir} at epoch ${e}`).toEqual(Array.from(wantAdded));
  const assigned = new Float64Array(n).fill(-7);
  pullSum(snap, dir, -1, rows, x, assigned, true);
  expect(Array.from(assigned), `assigned ${dir} at epoch ${e}`).toEqual(Array.from(wantAssigned));
}

describe('scan kernels', () => {
  it('pullSum and degrees match per-vertex reads at every epoch', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const r = new PartitionReader(s.descriptor);
    let seed = 3;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const epochs: number[] = [];
    for (let k = 0; k < 30; k++) {
      const ops: Op[] = [];
      const span = 500 + k * 200; // later epochs create new vertices
      for (let i = 0; i < 400; i++) {
        const a = rand(span);
        const b = rand(span);
        if (rand(4) === 0) ops.push({ op: 'deleteEdge', src: a, dst: b });
        else ops.push({ op: 'upsertEdge', src: a, dst: b, label: rand(3) === 0 ? 'other' : 'edge' });
      }
      if (k % 7 === 3) ops.push({ op: 'deleteVertex', id: rand(span) });
      s.apply({ ops });
      if (k % 10 === 9) s.compactAll();
      epochs.push(s.seal().epoch);
    }
    for (const e of epochs) {
      r.read(e, (snap) => {
        const mask = vertexMask(snap);
        const rows = vertexRows(snap, mask);
        // The page walk (no mask) gives the same rows, in an array of exactly their size.
        const walked = vertexRows(snap);
        expect(Array.from(walked)).toEqual(Array.from(rows));
        expect(walked.buffer.byteLength).toBe(walked.byteLength);
        const n = mask.length;
        const x = new Float64Array(n);
        for (let i = 0; i < n; i++) x[i] = (i % 17) + 0.5;
        for (const dir of ['in', 'out'] as const) {
          expectPullSums(snap, dir, rows, x, n, e);
          const deg = new Float64Array(n);
          degrees(snap, dir, -1, rows, deg);
          const ones = new Float64Array(n).fill(1);
          expect(Array.from(deg)).toEqual(Array.from(expected(snap, dir, ones, n)));
        }
      });
    }
  });

  it('pullSum with assign writes 0 to every row when there are no edges to walk', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const r = new PartitionReader(s.descriptor);
    s.apply({ ops: [1, 2, 5000].map((id) => ({ op: 'upsertVertex' as const, id })) });
    r.read(s.seal().epoch, (snap) => {
      const rows = vertexRows(snap);
      expect(rows.length).toBe(3);
      const out = new Float64Array(snap.localIdBound()).fill(9);
      pullSum(snap, 'in', -1, rows, new Float64Array(out.length).fill(1), out, true);
      for (const v of rows) expect(out[v]).toBe(0);
    });
  });

  it('pullSum skips entries deleted before the epoch in a range no later seal changed', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const r = new PartitionReader(s.descriptor);
    // Two record ranges (4096 ids each): ids 0..99 in the first, 5000..5099 in the second.
    const ops: Op[] = [];
    for (let i = 0; i < 100; i++) {
      for (let j = 1; j <= 5; j++) ops.push({ op: 'upsertEdge', src: i, dst: (i + j) % 100 });
      ops.push({ op: 'upsertEdge', src: 5000 + i, dst: 5000 + ((i + 1) % 100) });
    }
    s.apply({ ops });
    s.seal();
    // Delete some edges of the first range; then change only the second range.
    s.apply({ ops: [0, 7, 42, 99].map((i) => ({ op: 'deleteEdge' as const, src: i, dst: (i + 2) % 100 })) });
    const deletedAt = s.seal().epoch;
    s.apply({ ops: [{ op: 'upsertEdge', src: 5000, dst: 5050 }] });
    const latest = s.seal().epoch;
    for (const e of [deletedAt, latest]) {
      r.read(e, (snap) => {
        const rows = vertexRows(snap);
        const n = snap.localIdBound();
        const x = new Float64Array(n);
        for (let i = 0; i < n; i++) x[i] = (i % 13) + 0.25;
        // Every other row too: rows that skip ids of a range take the row-list loops.
        const someRows = rows.filter((_, i) => i % 2 === 0);
        for (const dir of ['in', 'out'] as const) {
          expectPullSums(snap, dir, rows, x, n, e);
          expectPullSums(snap, dir, someRows, x, n, e);
        }
      });
    }
  });
});
