/**
 * The `gatherNeighbors` scan kernel (storage/gather-kernels.ts, added for analytics) copies exactly
 * what per-vertex reads see, at every retained epoch: fresh ranges and ranges with history,
 * deletion stamps, vertices created after the epoch, compacted ranges, one label or all; and
 * each entry's address reads the same edge property as Snapshot.edgeProps. So does
 * `appendLists` (storage/append-lists.ts, for checkpoints), in chunks of whole lists, also
 * while the writer applies, seals and compacts between its calls.
 */
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/model/ops.js';
import { appendLists, listColumns } from '../../src/storage/append-lists.js';
import { gatherNeighborKeys, gatherNeighbors } from '../../src/storage/gather-kernels.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';
import { degrees, vertexMask, vertexRows } from '../../src/storage/kernels.js';
import { pullSum } from '../../src/storage/pull-kernel.js';
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
        const rows = vertexRows(snap, mask);
        expect(Array.from(rows)).toEqual(Array.from(mask.keys()).filter((lid) => mask[lid] === 1));
        const n = mask.length;
        for (const dir of ['out', 'in'] as const) {
          for (const label of [-1, 0, 1]) {
            const want = perVertex(snap, dir, label, mask);
            const deg = new Float64Array(n);
            pullSum(snap, dir, label, rows, new Float64Array(n).fill(1), deg);
            const start = new Float64Array(n + 1);
            for (let v = 0; v < n; v++) start[v + 1] = start[v] + deg[v];
            const cursor = start.slice(0, n);
            const targets = new Uint32Array(start[n]);
            const addrs = new Uint32Array(start[n]);
            gatherNeighbors(snap, dir, label, rows, cursor, targets, addrs);
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
            gatherNeighbors(snap, dir, label, rows, start.slice(0, n), again);
            expect(Array.from(again)).toEqual(Array.from(targets));
            // The degrees kernel counts what the gather copies, per label too.
            const counted = new Float64Array(n);
            degrees(snap, dir, label, rows, counted);
            expect(Array.from(counted), where).toEqual(Array.from(deg));
            // As id keys: the external ids of the same neighbours, in the same order.
            const keyed = new Float64Array(start[n]);
            const keyCursor = start.slice(0, n);
            gatherNeighborKeys(snap, dir, label, rows, keyCursor, snap.idKeys(), keyed);
            expect(Array.from(keyCursor), where).toEqual(Array.from(start.subarray(1)));
            expect(Array.from(keyed), where).toEqual(Array.from(targets, (t) => snap.externalId(t)));
          }
        }
      });
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe('kernels over a window of rows', () => {
  it('vertexMask is what forEachVertex visits; windows [from, to) of rows in degrees and the gathers add up to the whole', () => {
    // Ids over three record ranges (4096 local ids each), with deletions and a history.
    const s = PartitionStore.create({ limits: LIMITS });
    const reader = new PartitionReader(s.descriptor);
    const rand = rng(11);
    const span = 10_000;
    const epochs: number[] = [];
    for (let k = 0; k < 6; k++) {
      const ops: Op[] = [];
      for (let i = 0; i < 8000; i++) {
        const a = rand(span);
        const b = rand(span);
        if (k > 0 && rand(5) === 0) ops.push({ op: 'deleteEdge', src: a, dst: b });
        else ops.push({ op: 'upsertEdge', src: a, dst: b, label: rand(3) === 0 ? 'other' : 'edge' });
      }
      if (k >= 2) for (let i = 0; i < 50; i++) ops.push({ op: 'deleteVertex', id: rand(span) });
      s.apply({ ops });
      epochs.push(s.seal().epoch);
    }
    for (const e of [epochs[1], epochs[3], epochs[5]]) {
      reader.read(e, (snap) => {
        const mask = vertexMask(snap);
        const n = mask.length;
        const visited = new Uint8Array(n);
        snap.forEachVertex((lid) => {
          visited[lid] = 1;
        });
        expect(Array.from(mask), `epoch ${e}`).toEqual(Array.from(visited));
        const rows = vertexRows(snap, mask);
        expect(rows[rows.length - 1]).toBeGreaterThan(2 * 4096);
        // Cuts inside ranges, on a range's first row, and empty windows.
        const firstOf = (lid: number) => rows.findIndex((v) => v >= lid);
        const cuts = [
          0,
          0,
          1,
          firstOf(4095),
          firstOf(4096),
          firstOf(5000),
          firstOf(8192),
          firstOf(9001),
          rows.length,
        ];
        for (const dir of ['out', 'in'] as const) {
          for (const label of [-1, 1]) {
            const where = `epoch ${e} ${dir} label ${label}`;
            const deg = new Float64Array(n);
            degrees(snap, dir, label, rows, deg);
            const windowed = new Float64Array(n);
            for (let c = 0; c + 1 < cuts.length; c++)
              degrees(snap, dir, label, rows, windowed, cuts[c], cuts[c + 1]);
            expect(Array.from(windowed), where).toEqual(Array.from(deg));
            const start = new Float64Array(n + 1);
            for (let v = 0; v < n; v++) start[v + 1] = start[v] + deg[v];
            const whole = new Uint32Array(start[n]);
            gatherNeighbors(snap, dir, label, rows, start.slice(0, n), whole);
            const keys = snap.idKeys();
            const pieces = new Uint32Array(start[n]);
            const keyed = new Float64Array(start[n]);
            const cursor = start.slice(0, n);
            const keyCursor = start.slice(0, n);
            for (let c = 0; c + 1 < cuts.length; c++) {
              gatherNeighbors(snap, dir, label, rows, cursor, pieces, undefined, cuts[c], cuts[c + 1]);
              gatherNeighborKeys(snap, dir, label, rows, keyCursor, keys, keyed, cuts[c], cuts[c + 1]);
              // Rows past the window are untouched: their cursors have not moved.
              const next = cuts[c + 1] < rows.length ? rows[cuts[c + 1]] : n;
              expect(Array.from(cursor.subarray(next)), where).toEqual(Array.from(start.subarray(next, n)));
            }
            expect(Array.from(cursor), where).toEqual(Array.from(start.subarray(1)));
            expect(Array.from(pieces), where).toEqual(Array.from(whole));
            expect(Array.from(keyed), where).toEqual(Array.from(whole, (t) => snap.externalId(t)));
          }
        }
      });
    }
  });
});

describe('appendLists (checkpoints)', () => {
  it('copies what per-vertex reads see, in row order with each list counted, at every epoch and any buffer size', () => {
    // Ids over three record ranges (4096 local ids each): deletions, a history, compactions,
    // vertex deletions, and an edge property to reach through the addresses.
    const s = PartitionStore.create({ limits: { ...LIMITS, poolSlots: 1024 } });
    const reader = new PartitionReader(s.descriptor);
    const rand = rng(17);
    const span = 10_000;
    const epochs: number[] = [];
    for (let k = 0; k < 8; k++) {
      const ops: Op[] = [];
      for (let i = 0; i < 6000; i++) {
        const a = rand(span);
        const b = rand(k < 4 ? span : 300);
        const label = rand(3) === 0 ? 'other' : 'edge';
        if (k > 0 && rand(5) === 0) ops.push({ op: 'deleteEdge', src: a, dst: b, label });
        else ops.push({ op: 'upsertEdge', src: a, dst: b, label, props: { w: rand(100) } });
      }
      if (k >= 2) for (let i = 0; i < 40; i++) ops.push({ op: 'deleteVertex', id: rand(span) });
      s.apply({ ops });
      if (k === 3 || k === 6) s.compactAll();
      epochs.push(s.seal().epoch);
    }
    let lists = 0;
    for (const e of [epochs[1], epochs[4], epochs[5], epochs[7]]) {
      reader.read(e, (snap) => {
        const mask = vertexMask(snap);
        const rows = vertexRows(snap, mask);
        for (const dir of ['out', 'in'] as const) {
          for (const label of [0, 1]) {
            const want = perVertex(snap, dir, label, mask);
            const withAddrs = dir === 'out';
            // Each non-empty list as [row, length, ...neighbours], rows ascending.
            const wantFlat: number[] = [];
            const wantWeights: (number | undefined)[] = [];
            let longest = 0;
            for (const v of rows) {
              if (want[v].nbrs.length === 0) continue;
              lists++;
              longest = Math.max(longest, want[v].nbrs.length);
              wantFlat.push(v, want[v].nbrs.length, ...want[v].nbrs);
              wantWeights.push(...want[v].weights);
            }
            // [initial capacity, fill]: growing from 1 entry, small chunks, one chunk.
            for (const [start, fill] of [
              [1, 8],
              [64, 16],
              [1 << 20, 1 << 20],
            ]) {
              const where = `epoch ${e} ${dir} label ${label} capacity ${start} fill ${fill}`;
              const flat: number[] = [];
              const addrs: number[] = [];
              let capacity = start;
              for (let k = 0; k < rows.length; ) {
                const out = listColumns(capacity, withAddrs);
                const next = appendLists(snap, dir, label, rows, k, rows.length, fill, out, withAddrs);
                if (next === k) {
                  capacity *= 2;
                  continue;
                }
                expect(next, where).toBeGreaterThan(k);
                // Whole lists, up to fill - 1 entries and one more list: never a range's worth.
                expect(out.entries, where).toBeLessThanOrEqual(fill - 1 + longest);
                k = next;
                let at = 0;
                for (let i = 0; i < out.lists; i++) {
                  flat.push(out.rows[i], out.counts[i]);
                  for (let j = 0; j < out.counts[i]; j++, at++) {
                    flat.push(out.nbrs[at]);
                    if (withAddrs) addrs.push(out.addrs[at]);
                  }
                }
                expect(at, where).toBe(out.entries);
              }
              expect(flat, where).toEqual(wantFlat);
              if (withAddrs)
                expect(
                  addrs.map((x) => snap.edgeProps(label, x).w),
                  where,
                ).toEqual(wantWeights);
            }
          }
        }
      });
    }
    expect(lists).toBeGreaterThan(50_000);
  });

  it('copies the epoch it was opened at while the writer applies, seals and compacts between calls', () => {
    // A checkpoint is encoded in slices: the partition's writer runs between two calls.
    const s = PartitionStore.create({ limits: { ...LIMITS, poolSlots: 1024 } });
    const reader = new PartitionReader(s.descriptor);
    const rand = rng(23);
    const span = 9000;
    const write = (n: number) => {
      const ops: Op[] = [];
      for (let i = 0; i < n; i++) {
        const a = rand(span);
        const b = rand(span);
        if (rand(4) === 0) ops.push({ op: 'deleteEdge', src: a, dst: b });
        else ops.push({ op: 'upsertEdge', src: a, dst: b });
      }
      if (rand(2) === 0) ops.push({ op: 'deleteVertex', id: rand(span) });
      s.apply({ ops });
    };
    for (let k = 0; k < 4; k++) {
      write(5000);
      s.seal();
    }
    const snap = reader.open(s.seal().epoch);
    try {
      const mask = vertexMask(snap);
      const rows = vertexRows(snap, mask);
      for (const dir of ['out', 'in'] as const) {
        const want = perVertex(snap, dir, 0, mask);
        const wantFlat: number[] = [];
        for (const v of rows)
          if (want[v].nbrs.length > 0) wantFlat.push(v, want[v].nbrs.length, ...want[v].nbrs);
        const flat: number[] = [];
        let calls = 0;
        for (let k = 0; k < rows.length; ) {
          const out = listColumns(1 << 16, false);
          k = appendLists(snap, dir, 0, rows, k, rows.length, 1500, out, false);
          let at = 0;
          for (let i = 0; i < out.lists; i++) {
            flat.push(out.rows[i], out.counts[i]);
            for (let j = 0; j < out.counts[i]; j++) flat.push(out.nbrs[at++]);
          }
          // The writer's turn: new versions of the same lists, moved lists, freed blocks.
          write(300);
          if (calls++ % 2 === 1) s.compactAll();
          s.seal();
        }
        expect(calls).toBeGreaterThan(2);
        expect(flat, dir).toEqual(wantFlat);
      }
    } finally {
      snap.close();
    }
  });

  it('copies one label at a time', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    s.apply({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] });
    const reader = new PartitionReader(s.descriptor);
    reader.read(s.seal().epoch, (snap) => {
      const rows = vertexRows(snap);
      expect(() =>
        appendLists(snap, 'out', -1, rows, 0, rows.length, 1, listColumns(4, false), false),
      ).toThrow(/one edge label/);
    });
  });
});
