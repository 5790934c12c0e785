/**
 * The `gatherNeighbors` scan kernel (added to storage/kernels.ts for analytics) copies exactly
 * what per-vertex reads see, at every retained epoch: fresh ranges and ranges with history,
 * deletion stamps, vertices created after the epoch, compacted ranges, one label or all; and
 * each entry's address reads the same edge property as Snapshot.edgeProps.
 */
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/model/ops.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';
import {
  degrees,
  gatherNeighborKeys,
  gatherNeighbors,
  pullSum,
  vertexMask,
} from '../../src/storage/kernels.js';
import { rng } from '../helpers/rng.js';

const LIMITS = { chunkWords: 1 << 16, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };

/** Per vertex: neighbour lids and weights in forEachNeighbor order. */
function perVertex(snap: Snapshot, dir: 'out' | 'in', label: number, mask: Uint8Array) {
  const rows: { nbrs: number[]; weights: (number | undefined)[] }[] = [];
  for (let v = 0; v < mask.length; v++) {
    const row = { nbrs: [] as number[], weights: [] as (number | undefined)[] };
    if (mask[v] !== 0) {
      snap.forEachNeighbor(v, dir, label, (nbr, addr, l) => {
        row.nbrs.push(nbr);
        if (dir === 'out') row.weights.push(snap.edgeProps(l, addr, ['w']).w as number | undefined);
      });
    }
    rows.push(row);
  }
  return rows;
}

describe('gatherNeighbors', () => {
  it('matches forEachNeighbor and edgeProps at every epoch (and degrees, gatherNeighborKeys agree)', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const reader = new PartitionReader(s.descriptor);
    const rand = rng(5);
    const epochs: number[] = [];
    for (let k = 0; k < 24; k++) {
      const ops: Op[] = [];
      const span = 300 + k * 150;
      for (let i = 0; i < 300; i++) {
        const a = rand(span);
        const b = rand(span);
        const label = rand(3) === 0 ? 'other' : 'edge';
        if (rand(4) === 0) ops.push({ op: 'deleteEdge', src: a, dst: b, label });
        else ops.push({ op: 'upsertEdge', src: a, dst: b, label, props: { w: rand(100) } });
      }
      if (k % 6 === 4) ops.push({ op: 'deleteVertex', id: rand(span) });
      s.apply({ ops });
      if (k % 8 === 7) s.compactAll();
      epochs.push(s.seal().epoch);
    }
    let checked = 0;
    for (const e of epochs) {
      reader.read(e, (snap) => {
        const mask = vertexMask(snap);
        const n = mask.length;
        for (const dir of ['out', 'in'] as const) {
          for (const label of [-1, 0, 1]) {
            const want = perVertex(snap, dir, label, mask);
            const deg = new Float64Array(n);
            pullSum(snap, dir, label, mask, new Float64Array(n).fill(1), deg);
            const start = new Float64Array(n + 1);
            for (let v = 0; v < n; v++) start[v + 1] = start[v] + deg[v];
            const cursor = start.slice(0, n);
            const targets = new Uint32Array(start[n]);
            const addrs = new Uint32Array(start[n]);
            gatherNeighbors(snap, dir, label, mask, cursor, targets, addrs);
            const where = `epoch ${e} ${dir} label ${label}`;
            expect(Array.from(cursor), where).toEqual(Array.from(start.subarray(1)));
            expect(Array.from(targets), where).toEqual(want.flatMap((r) => r.nbrs));
            if (dir === 'out' && label >= 0) {
              const weights = Array.from(addrs, (a) => snap.edgeProps(label, a).w);
              expect(weights, where).toEqual(want.flatMap((r) => r.weights));
              checked += weights.length;
            }
            // Without addresses: the same targets.
            const again = new Uint32Array(start[n]);
            gatherNeighbors(snap, dir, label, mask, start.slice(0, n), again);
            expect(Array.from(again)).toEqual(Array.from(targets));
            // The degrees kernel counts what the gather copies, per label too.
            const counted = new Float64Array(n);
            degrees(snap, dir, label, mask, counted);
            expect(Array.from(counted), where).toEqual(Array.from(deg));
            // As id keys: the external ids of the same neighbours, in the same order.
            const keyed = new Float64Array(start[n]);
            const keyCursor = start.slice(0, n);
            gatherNeighborKeys(snap, dir, label, mask, keyCursor, snap.idKeys(), keyed);
            expect(Array.from(keyCursor), where).toEqual(Array.from(start.subarray(1)));
            expect(Array.from(keyed), where).toEqual(Array.from(targets, (t) => snap.externalId(t)));
          }
        }
      });
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
