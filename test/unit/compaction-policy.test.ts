/**
 * The partition workers' compaction while writes flow (PartitionStore.compact under load):
 * in an epoch that changes at least minLists lists, a fragmented vertex range is compacted
 * once its lists have not changed for coldEpochs epochs, or earlier when it is mostly
 * garbage. A smaller epoch, and compaction with no policy (idle compaction, tests), compact
 * every fragmented range.
 */
import { describe, expect, it } from 'vitest';
import { type Batch, decodeBatch } from '../../src/model/ops.js';
import { PartitionReader, PartitionStore } from '../../src/storage/index.js';

const limits = { chunkWords: 1 << 18, maxChunks: 8, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
/** Vertices per range (RECORDS_PER_BLOCK). */
const R = 4096;
const LOAD = { coldEpochs: 3, minLists: 4096 };

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function edges(src: number[], dst: number[]): Batch {
  return decodeBatch({ edges: { src: Float64Array.from(src), dst: Float64Array.from(dst) } });
}

/**
 * A store whose local ids are the external ids (P = 1, created in order): ranges 0 and 1
 * full, range 2 holding the open segment. Every vertex has a self loop, every range compacted.
 */
function compactedStore(): PartitionStore {
  const s = PartitionStore.create({ limits });
  const all = ids(0, 2 * R + 10);
  s.apply(edges(all, all));
  s.seal();
  s.compactAll();
  s.seal();
  return s;
}

describe('compaction while writes flow', () => {
  it('leaves a range that writes keep reaching, and compacts one they left after coldEpochs', () => {
    const s = compactedStore();
    // Lists of ranges 0 and 1 grow over three epochs (4, 5, 6), out of their exact extents.
    for (let k = 1; k <= 3; k++) {
      const src = ids(0, 2 * R);
      s.apply(
        edges(
          src,
          src.map((v) => (v + 7 * k) % (2 * R)),
        ),
      );
      s.seal();
    }
    const fragmented = s.uncompactedEntries();
    expect(fragmented).toBeGreaterThan(0);
    // Now writes reach range 0 only. Range 1 last changed at epoch 6: it is cold once the open
    // epoch is past 6 + COLD, that is at epoch 10.
    const rewritten: number[] = [];
    const fragmentedAfter: number[] = [];
    for (let k = 0; k < 5; k++) {
      const src = ids(0, R);
      s.apply(
        edges(
          src,
          src.map((v) => (v + 100 + k) % R),
        ),
      );
      rewritten.push(s.compact(1 << 20, LOAD));
      s.seal();
      fragmentedAfter.push(s.uncompactedEntries());
    }
    // Epochs 7, 8, 9: nothing; 10: range 1, both directions; 11: nothing (range 0 is still hot).
    expect(rewritten.map((n) => n > 0)).toEqual([false, false, false, true, false]);
    // Range 1 left the fragmented share at epoch 10; range 0 stayed in it.
    expect(fragmentedAfter[3]).toBeLessThan(fragmentedAfter[2]);
    expect(fragmentedAfter[3]).toBeGreaterThan(0);
    expect(fragmentedAfter[4]).toBe(fragmentedAfter[3]);
    // A small epoch compacts what it finds fragmented, the range it writes included: nothing
    // is left for idle compaction epochs.
    s.apply(edges([1], [2]));
    expect(s.compact(1 << 20, LOAD)).toBeGreaterThan(0);
    s.seal();
    expect(s.uncompactedEntries()).toBe(0);
  });

  it('compacts a range that is still being written once most of it is deleted entries', () => {
    const s = compactedStore();
    const src = ids(0, R);
    // Two more entries per list in range 0, then compacted: three entries per exact list.
    s.apply(edges([...src, ...src], [...src.map((v) => (v + 1) % R), ...src.map((v) => (v + 2) % R)]));
    s.seal();
    s.compactAll();
    s.seal();
    // A load epoch (every list of range 1) that also writes to range 0: both are fragmented
    // and recently changed, so neither is compacted.
    const r1 = ids(R, 2 * R);
    s.apply(edges([0, ...r1], [5, ...r1.map((v) => R + ((v + 3) % R))]));
    expect(s.uncompactedEntries()).toBeGreaterThan(0);
    expect(s.compact(1 << 20, LOAD)).toBe(0);
    s.seal();
    // Another load epoch, deleting two of every three entries of range 0: mostly garbage, so
    // range 0 is compacted although it is being written; range 1 is not.
    const ops = src.flatMap((v) => [
      { op: 'deleteEdge' as const, src: v, dst: (v + 1) % R },
      { op: 'deleteEdge' as const, src: v, dst: (v + 2) % R },
    ]);
    s.apply(decodeBatch({ ops: [...ops, { op: 'upsertEdge', src: 1, dst: 9 }] }));
    const before = s.uncompactedEntries();
    expect(s.compact(1 << 20, LOAD)).toBeGreaterThan(0);
    expect(s.uncompactedEntries()).toBeGreaterThan(0);
    expect(s.uncompactedEntries()).toBeLessThan(before);
    const e = s.seal().epoch;
    // What compaction kept reads the same: each list is its self loop plus what was added.
    const r = new PartitionReader(s.descriptor);
    r.read(e, (snap) => {
      const out = (v: number) => {
        const got: number[] = [];
        snap.forEachNeighbor(snap.lookup(v), 'out', -1, (n) => got.push(snap.externalId(n) as number));
        return got.sort((a, b) => a - b);
      };
      expect(out(0)).toEqual([0, 5]);
      expect(out(1)).toEqual([1, 9]);
      expect(out(7)).toEqual([7]);
    });
  });
});
