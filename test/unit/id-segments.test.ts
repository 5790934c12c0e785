/**
 * Local-id segments (id-index.ts): a partition numbers the vertices it owns and its ghosts in
 * separate 4096-id segments, so its own vertices fill whole record ranges. At P = 1 the
 * numbering stays dense. Seals must still tell ids created in the open epoch from older ones
 * (LidMark), and a checkpoint must bring the open segments back so that a restored partition
 * numbers new ids exactly as the original would.
 */
import { describe, expect, it } from 'vitest';
import { type ExternalId, partitionOf } from '../../src/model/ids.js';
import { decodeBatch } from '../../src/model/ops.js';
import { encodeCheckpoint } from '../../src/storage/checkpoint-codec.js';
import { restoreCheckpoint } from '../../src/storage/checkpoint-restore.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';
import { LidMark } from '../../src/storage/lid-mark.js';
import { rng } from '../helpers/rng.js';

const LIMITS = {
  chunkWords: 1 << 16,
  maxChunks: 64,
  indexSegments: 4,
  poolSlots: 140,
  slotMaxBytes: 1 << 22,
};
const SEGMENT = 4096;

/** Edges among ids 0 .. n-1 that touch partition `p` of 2 (what the router would send it). */
function edgesFor(p: number, n: number, count: number, r: (k: number) => number) {
  const src: number[] = [];
  const dst: number[] = [];
  while (src.length < count) {
    const a = r(n);
    const b = r(n);
    if (a === b || (partitionOf(a, 2) !== p && partitionOf(b, 2) !== p)) continue;
    src.push(a);
    dst.push(b);
  }
  return decodeBatch({ edges: { src, dst } });
}

/** Every vertex's out and in neighbours (external ids, sorted), with its local id. */
function dump(snap: Snapshot): unknown[] {
  const out: unknown[] = [];
  snap.forEachVertex((lid) => {
    const lists: ExternalId[][] = [[], []];
    snap.forEachNeighbor(lid, 'out', -1, (nbr) => lists[0].push(snap.externalId(nbr)));
    snap.forEachNeighbor(lid, 'in', -1, (nbr) => lists[1].push(snap.externalId(nbr)));
    out.push([lid, snap.externalId(lid), ...lists.map((l) => [...l].sort())]);
  });
  return out;
}

describe('local-id segments', () => {
  it('numbers ids densely, in order of first appearance, at P = 1', () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const ids = Array.from({ length: 10_000 }, (_, i) => i * 7 + 3);
    s.apply(decodeBatch({ edges: { src: ids.slice(0, -1), dst: ids.slice(1) } }));
    s.seal();
    new PartitionReader(s.descriptor).read(undefined, (snap) => {
      expect(snap.localIdBound()).toBe(ids.length);
      for (let i = 0; i < ids.length; i++) expect(snap.lookup(ids[i])).toBe(i);
    });
  });

  it('keeps owned ids and ghosts in separate segments at P = 2, and every epoch reads as sealed', () => {
    const s = PartitionStore.create({ limits: LIMITS, partitions: 2, partition: 0 });
    const reader = new PartitionReader(s.descriptor);
    const r = rng(7);
    const seen: { epoch: number; lists: unknown[] }[] = [];
    for (let k = 0; k < 6; k++) {
      // Each epoch adds edges among 30K ids: new owned ids and ghosts, and lists of old ones.
      s.apply(edgesFor(0, 30_000, 4_000, r));
      const { epoch } = s.seal();
      seen.push({ epoch, lists: reader.read(epoch, dump) });
    }
    // Every retained epoch still reads exactly as it did when sealed.
    for (const { epoch, lists } of seen) expect(reader.read(epoch, dump)).toEqual(lists);
    reader.read(undefined, (snap) => {
      const bound = snap.localIdBound();
      const keys = snap.idKeys(bound);
      let holes = 0;
      let owned = 0;
      for (let start = 0; start < bound; start += SEGMENT) {
        const kinds = new Set<number>();
        for (let lid = start; lid < Math.min(bound, start + SEGMENT); lid++) {
          if (Number.isNaN(keys[lid])) {
            holes++;
            continue;
          }
          const id = snap.externalId(lid);
          expect(snap.reader.ids.lookup(id)).toBe(lid);
          kinds.add(partitionOf(id, 2));
        }
        expect(kinds.size, `segment at ${start}`).toBe(1);
        if (kinds.has(0)) owned++;
      }
      expect(owned).toBeGreaterThan(1);
      expect(holes).toBeGreaterThan(0);
      // Holes only in the two open segments.
      expect(holes).toBeLessThan(2 * SEGMENT);
      // Own vertices are exactly the owned ids.
      snap.forEachVertex((lid) => expect(partitionOf(snap.externalId(lid), 2)).toBe(0));
    });
  });

  it('says which local ids are new since a seal', () => {
    // Own segment [0, 4096) open at 100, ghost segment [4096, 8192) open at 5000, 8192 segments
    // handed out.
    const m = new LidMark(8192, 100, 4096, 5000, 8192);
    for (const lid of [0, 99, 4096, 4999]) expect(m.isNew(lid), String(lid)).toBe(false);
    for (const lid of [100, 4095, 5000, 8191, 8192, 20_000]) expect(m.isNew(lid), String(lid)).toBe(true);
  });

  it('restores the open segments from a checkpoint: new ids get the same local ids as in the original', async () => {
    const original = PartitionStore.create({ limits: LIMITS, partitions: 2, partition: 1 });
    const r = rng(11);
    for (let k = 0; k < 3; k++) {
      original.apply(edgesFor(1, 20_000, 5_000, r));
      original.seal();
    }
    const reader = new PartitionReader(original.descriptor);
    const meta = original.epochs[original.epochs.length - 1];
    const records = reader.read(undefined, (snap) => [...encodeCheckpoint(snap, meta)]);
    const restored = await restoreCheckpoint(records, { limits: LIMITS });
    const again = new PartitionReader(restored.descriptor);
    expect(again.read(undefined, dump)).toEqual(reader.read(undefined, dump));
    // The same writes after the checkpoint, to both: the same local ids and lists.
    const more = edgesFor(1, 60_000, 5_000, rng(12));
    for (const s of [original, restored]) {
      s.apply(more);
      s.seal();
    }
    expect(again.read(undefined, dump)).toEqual(reader.read(undefined, dump));
  });

  it('restores a version 1 checkpoint (dense local ids, owned ids and ghosts interleaved)', async () => {
    const s = PartitionStore.create({ limits: LIMITS, partitions: 2, partition: 0 });
    s.apply(edgesFor(0, 20_000, 6_000, rng(3)));
    s.seal();
    const reader = new PartitionReader(s.descriptor);
    const meta = s.epochs[s.epochs.length - 1];
    const records = reader.read(undefined, (snap) => [...encodeCheckpoint(snap, meta)]) as Record<
      string,
      unknown
    >[];
    // Renumber to what version 1 wrote: ids in the same order, no holes.
    const keys = records.filter((x) => x.t === 'keys');
    const nums: number[] = [];
    for (const k of keys) nums.push(...(k.nums as Float64Array));
    const dense = new Uint32Array(nums.length);
    let n = 0;
    for (let lid = 0; lid < nums.length; lid++) if (!Number.isNaN(nums[lid])) dense[lid] = n++;
    const remap = (a: Uint32Array) => a.map((lid) => dense[lid]);
    const v1 = records
      .filter((x) => x.t !== 'keys')
      .flatMap((x) => {
        switch (x.t) {
          case 'header':
            return [
              { ...x, version: 1, lids: n },
              { t: 'keys', from: 0, nums: Float64Array.from(nums.filter((k) => !Number.isNaN(k))), strs: [] },
            ];
          case 'vertices':
          case 'vprops':
            return [{ ...x, lids: remap(x.lids as Uint32Array) }];
          case 'adj':
            return [{ ...x, rows: remap(x.rows as Uint32Array), nbrs: remap(x.nbrs as Uint32Array) }];
          case 'end':
            return [{ ...x, records: records.length - keys.length + 1 }];
          default:
            return [x];
        }
      });
    const restored = await restoreCheckpoint(v1, { limits: LIMITS });
    const byId = (rows: unknown[]) => rows.map((row) => (row as unknown[]).slice(1)).sort();
    const again = new PartitionReader(restored.descriptor);
    expect(byId(again.read(undefined, dump))).toEqual(byId(reader.read(undefined, dump)));
    // It keeps working: new ids go to fresh segments above the dense ones.
    const more = edgesFor(0, 40_000, 3_000, rng(4));
    for (const x of [s, restored]) {
      x.apply(more);
      x.seal();
    }
    expect(byId(again.read(undefined, dump))).toEqual(byId(reader.read(undefined, dump)));
    // Version 1 has no holes: a NaN key is corrupt.
    const withHole = v1.map((x) =>
      x.t === 'keys'
        ? { ...x, nums: Float64Array.from(x.nums as Float64Array, (k, i) => (i === 5 ? Number.NaN : k)) }
        : x,
    );
    await expect(restoreCheckpoint(withHole, { limits: LIMITS })).rejects.toThrow(
      /keys: NaN at 5 is not an id/,
    );
    // A header whose local-id count disagrees with the keys is corrupt.
    const wrongBound = records.map((x) => (x.t === 'header' ? { ...x, lids: (x.lids as number) + 1 } : x));
    await expect(restoreCheckpoint(wrongBound, { limits: LIMITS })).rejects.toThrow(
      /local ids, the keys end at/,
    );
  });
});
