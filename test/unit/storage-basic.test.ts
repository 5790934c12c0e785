import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/model/ops.js';
import { PartitionReader, PartitionStore } from '../../src/storage/index.js';

const small = { chunkWords: 1 << 16, maxChunks: 8, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };

function store() {
  return PartitionStore.create({ limits: small });
}

describe('partition store basics', () => {
  it('applies a batch, seals, and reads it back at that epoch', () => {
    const s = store();
    const r = new PartitionReader(s.descriptor);
    const res = s.apply(
      decodeBatch({
        ops: [
          {
            op: 'upsertVertex',
            id: 1,
            label: 'person',
            props: { name: 'ann', age: 31, ok: true, emb: [1, 2, 3] },
          },
          { op: 'upsertEdge', src: 1, dst: 2, props: { weight: 0.5 } },
          { op: 'upsertEdge', src: 1, dst: 'x', label: 'likes' },
        ],
      }),
    );
    expect(res.applied.upsertedEdges).toBe(2);
    const seal = s.seal();
    expect(seal.epoch).toBe(1);
    expect(seal.vertices).toBe(3);
    expect(seal.edges).toBe(2);
    r.read(1, (snap) => {
      const v = snap.vertex(1);
      expect(v?.label).toBe('person');
      expect(v?.props.name).toBe('ann');
      expect(v?.props.age).toBe(31);
      expect(v?.props.ok).toBe(true);
      expect(Array.from(v?.props.emb as Float32Array)).toEqual([1, 2, 3]);
      const lid = snap.lookup(1);
      const nbrs: [string | number, number][] = [];
      snap.forEachNeighbor(lid, 'out', -1, (n, addr, l) => {
        nbrs.push([snap.externalId(n), l]);
        if (snap.edgeLabelNames()[l] === 'edge') expect(snap.edgeProps(l, addr).weight).toBe(0.5);
      });
      expect(nbrs).toEqual([
        [2, 0],
        ['x', 1],
      ]);
      expect(snap.degree(snap.lookup('x'), 'in')).toBe(1);
      expect(snap.vertex(2)?.label).toBe('vertex');
    });
    // Epoch 0 is the empty graph.
    r.read(0, (snap) => expect(snap.lookup(1)).toBe(-1));
  });

  it('reads vertices right at epochs read in turns through one reader (page versions remembered per epoch)', () => {
    const s = store();
    const r = new PartitionReader(s.descriptor);
    const N = 300; // ~5 pages of 64 vertices
    const ops = (f: (v: number) => Record<string, unknown> | null) =>
      decodeBatch({ ops: Array.from({ length: N }, (_, v) => f(v)).filter((o) => o !== null) });
    s.apply(ops((v) => ({ op: 'upsertVertex', id: v, label: 'a', props: { x: 1 } })));
    const e1 = s.seal().epoch;
    s.apply(
      ops((v) =>
        v < 100
          ? { op: 'upsertVertex', id: v, label: 'b', props: { x: 2 } }
          : v >= 200
            ? { op: 'deleteVertex', id: v }
            : null,
      ),
    );
    const e2 = s.seal().epoch;
    s.apply(
      ops((v) => (v >= 200 && v < 250 ? { op: 'upsertVertex', id: v, label: 'c', props: { x: 3 } } : null)),
    );
    const e3 = s.seal().epoch;
    const want = (v: number, e: number): [string, number] | null => {
      if (e === e1) return ['a', 1];
      if (v < 100) return ['b', 2];
      if (v < 200) return ['a', 1];
      if (e === e2 || v >= 250) return null;
      return ['c', 3];
    };
    const snaps = [r.open(e3), r.open(e1), r.open(e2)];
    try {
      for (let round = 0; round < 2; round++) {
        for (let v = 0; v < N; v++) {
          for (const snap of snaps) {
            const got = snap.vertex(v);
            expect(got === null ? null : [got.label, got.props.x]).toEqual(want(v, snap.epoch));
            expect(snap.lookup(v) >= 0).toBe(want(v, snap.epoch) !== null);
          }
        }
        // Later writes change the pages again; the open epochs read as they did.
        s.apply(ops((v) => ({ op: 'upsertVertex', id: v, label: 'd', props: { x: 9 } })));
        s.seal();
      }
    } finally {
      for (const snap of snaps) snap.close();
    }
    r.read(s.published, (snap) => expect(snap.vertex(7)?.label).toBe('d'));
  });

  it('keeps old epochs intact across updates and deletes', () => {
    const s = store();
    const r = new PartitionReader(s.descriptor);
    s.apply(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { w: 1 } }] }));
    const e1 = s.seal().epoch;
    s.apply(
      decodeBatch({
        ops: [
          { op: 'upsertEdge', src: 1, dst: 2, props: { w: 2 } },
          { op: 'upsertEdge', src: 1, dst: 3 },
        ],
      }),
    );
    const e2 = s.seal().epoch;
    s.apply(decodeBatch({ ops: [{ op: 'deleteVertex', id: 2 }] }));
    const e3 = s.seal().epoch;
    const view = (e: number) =>
      r.read(e, (snap) => {
        const out: [number | string, number | undefined][] = [];
        const lid = snap.lookup(1);
        snap.forEachNeighbor(lid, 'out', -1, (n, addr, l) => {
          out.push([snap.externalId(n), snap.edgeProps(l, addr).w as number | undefined]);
        });
        return { out, has2: snap.lookup(2) >= 0 };
      });
    expect(view(e1)).toEqual({ out: [[2, 1]], has2: true });
    // A replaced edge is appended anew (it moves to the end of the list).
    expect(view(e2)).toEqual({
      out: [
        [2, 2],
        [3, undefined],
      ],
      has2: true,
    });
    expect(view(e3)).toEqual({ out: [[3, undefined]], has2: false });
    s.retain(e3);
    expect(() => r.open(e2)).toThrow(/left retention/);
    expect(() => r.open(e3 + 1)).toThrow(/not been sealed/);
    s.compactAll();
    const e4 = s.seal().epoch;
    expect(view(e4)).toEqual({ out: [[3, undefined]], has2: false });
    expect(view(e3)).toEqual({ out: [[3, undefined]], has2: false });
  });
});

describe('existence checks between long lists', () => {
  it('upserting an edge between two vertices with long lists adds it once, then updates it', () => {
    // Both lists past BLOOM_MIN (128): the check consults the writer's Bloom filter.
    const s = store();
    const r = new PartitionReader(s.descriptor);
    const ops = [];
    for (let i = 0; i < 200; i++) {
      ops.push({ op: 'upsertEdge', src: 1, dst: 1000 + i, props: { weight: 0.1 } });
      ops.push({ op: 'upsertEdge', src: 3000 + i, dst: 2, props: { weight: 0.1 } });
    }
    s.apply(decodeBatch({ ops }));
    s.seal();
    s.apply(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { weight: 0.5 } }] }));
    const added = s.seal().epoch;
    s.apply(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { weight: 0.9 } }] }));
    const updated = s.seal().epoch;
    for (const [e, weight] of [
      [added, 0.5],
      [updated, 0.9],
    ]) {
      r.read(e, (snap) => {
        const a = snap.lookup(1);
        expect(snap.degree(a, 'out')).toBe(201);
        expect(snap.degree(snap.lookup(2), 'in')).toBe(201);
        const seen: number[] = [];
        snap.forEachNeighbor(a, 'out', -1, (n, addr, l) => {
          if (snap.externalId(n) === 2) seen.push(snap.edgeProps(l, addr).weight as number);
        });
        expect(seen, `epoch ${e}`).toEqual([weight]);
      });
    }
  });
});

describe('long-lived snapshots', () => {
  it('read an old epoch correctly after the writer has allocated far past the snapshot views', () => {
    const limits = { ...small, chunkWords: 1 << 18, maxChunks: 48 };
    const s = PartitionStore.create({ limits });
    const r = new PartitionReader(s.descriptor);
    const ops = [];
    for (let i = 0; i < 2000; i++) ops.push({ op: 'upsertEdge' as const, src: i % 300, dst: (i * 7) % 300 });
    s.apply({ ops });
    const e = s.seal().epoch;
    const snap = r.open(e);
    const degrees = () => {
      const d: number[] = [];
      snap.forEachVertex((lid) => d.push(snap.degree(lid, 'in'), snap.degree(lid, 'out')));
      return d;
    };
    const before = degrees();
    const chunkBytes = limits.chunkWords * 4;
    expect(s.stats().arenaGrownBytes).toBeLessThan(chunkBytes);
    // Many later epochs: new version nodes and blocks land in memory the snapshot's views
    // never covered; the old epoch must still resolve through them.
    for (let k = 0; k < 60; k++) {
      const more = [];
      // Touch the old vertices (new version nodes) and fill memory with fresh ones.
      for (let i = 0; i < 300; i++)
        more.push({ op: 'upsertEdge' as const, src: i, dst: (i * 31 + k * 7) % 300 });
      for (let i = 0; i < 1500; i++) {
        more.push({
          op: 'upsertEdge' as const,
          src: 1000 + k * 1500 + i,
          dst: 1000 + k * 1500 + ((i * 7) % 1500),
        });
      }
      s.apply({ ops: more });
      s.seal();
    }
    // The writer has moved on to later arena chunks, which the snapshot never mapped.
    expect(s.stats().arenaGrownBytes).toBeGreaterThan(2 * chunkBytes);
    expect(degrees()).toEqual(before);
    snap.close();
  });
});

describe('writer state growth', () => {
  it('keeps every list through in-place grows and a new reservation of the writer state', () => {
    // 70K sources: the writer state doubles from 1024 items, in place up to 16 times its first
    // size, then into a new, larger reservation (a copy), then in place again.
    const s = PartitionStore.create();
    const N = 70_000;
    for (let from = 0; from < N; from += 10_000) {
      const src = new Float64Array(10_000);
      const dst = new Float64Array(10_000);
      for (let i = 0; i < 10_000; i++) {
        src[i] = from + i;
        dst[i] = (from + i + 1) % N;
      }
      s.apply(decodeBatch({ edges: { src, dst } }));
      s.seal();
    }
    // Lists written before the growth take more entries after it.
    s.apply({ ops: [0, 1, 40_000, N - 1].map((v) => ({ op: 'upsertEdge' as const, src: v, dst: 5 })) });
    s.seal();
    const r = new PartitionReader(s.descriptor);
    r.read(undefined, (snap) => {
      const outIds = (v: number) => {
        const col = { buf: new Uint32Array(8), length: 0 };
        snap.appendNeighborLids(snap.lookup(v), 'out', -1, col);
        return [...col.buf.subarray(0, col.length)].map((lid) => snap.externalId(lid)).sort();
      };
      for (const v of [0, 1, 40_000, N - 1]) expect(outIds(v)).toEqual([(v + 1) % N, 5].sort());
      for (const v of [2, 1024, 16_383, 16_384, 32_768, 65_536]) {
        expect(outIds(v)).toEqual([v + 1]);
        expect(snap.degree(snap.lookup(v + 1), 'in')).toBe(1);
      }
    });
  });
});

describe('block slack', () => {
  // `small` arenas span 2^19 words, so a store's slack budget is 2^19 / 32 = 16384 words.
  const edges = (from: number, to: number) => {
    const src = new Float64Array(to - from);
    const dst = new Float64Array(to - from);
    for (let i = from; i < to; i++) {
      src[i - from] = i;
      dst[i - from] = 1_000_000 + i;
    }
    return decodeBatch({ edges: { src, dst } });
  };

  it('starts new lists at 4 entries while bulk batches bring only new vertices, at 16 once they reach old ones', () => {
    // A default store: its slack budget (512 MiB) is never the reason here.
    const s = PartitionStore.create();
    let next = 0;
    const slackAfter = (batch: ReturnType<typeof edges>) => {
      const before = s.stats().adjacency.slackBytes;
      s.apply(batch);
      s.seal();
      return s.stats().adjacency.slackBytes - before;
    };
    // Batch 1: 1024 new out-lists and 1024 new in-lists, of one entry in 16.
    expect(slackAfter(edges(next, (next += 1024)))).toBe(2 * 1024 * 15 * 4);
    // Each batch of only new vertices weighs the recurring share down by a quarter: from the
    // 14th batch on (0.75^14 < 2%) new lists start at 4 entries.
    for (let b = 2; b <= 13; b++) expect(slackAfter(edges(next, (next += 1024)))).toBe(2 * 1024 * 15 * 4);
    for (let b = 14; b <= 16; b++) expect(slackAfter(edges(next, (next += 1024)))).toBe(2 * 1024 * 3 * 4);
    // A batch from batch 1's sources to new targets: every edge reaches an old vertex, so the
    // share is back above 2% before its appends, and its new in-lists get 16 entries (each
    // old out-list takes one more entry of its slack).
    const src = new Float64Array(1024);
    const dst = new Float64Array(1024);
    for (let i = 0; i < 1024; i++) {
      src[i] = i;
      dst[i] = 5_000_000 + i;
    }
    expect(slackAfter(decodeBatch({ edges: { src, dst } }))).toBe(1024 * (15 - 1) * 4);
    const r = new PartitionReader(s.descriptor);
    r.read(undefined, (snap) => {
      expect(snap.degree(snap.lookup(0), 'out')).toBe(2);
      expect(snap.degree(snap.lookup(5_000_000), 'in')).toBe(1);
    });
  });

  it('gives new lists 16-entry blocks until the slack budget is spent, then 4-entry ones', () => {
    const s = store();
    // 1000 one-entry out-lists and 1000 one-entry in-lists: 15 words of slack each.
    s.apply(edges(0, 1000));
    s.seal();
    expect(s.stats().adjacency.slackBytes).toBe(2 * 1000 * 15 * 4);
    // Past 16384 words per store (the 1093rd list crosses it), lists start at 4 entries.
    s.apply(edges(1000, 3000));
    s.seal();
    expect(s.stats().adjacency.slackBytes).toBe(2 * (1093 * 15 + 1907 * 3) * 4);
    // Growing a list past its block: 17 entries move to a 32-entry block.
    const hub = [];
    for (let i = 0; i < 16; i++) hub.push({ op: 'upsertEdge' as const, src: 0, dst: 2_000_000 + i });
    s.apply({ ops: hub });
    s.seal();
    const r = new PartitionReader(s.descriptor);
    r.read(undefined, (snap) => expect(snap.degree(snap.lookup(0), 'out')).toBe(17));
    // Compaction rewrites every list exactly: no slack, and the budget is open again.
    s.compactAll();
    s.seal();
    expect(s.stats().adjacency.slackBytes).toBe(0);
    s.apply(edges(5000, 5001));
    s.seal();
    expect(s.stats().adjacency.slackBytes).toBe(2 * 15 * 4);
    r.read(undefined, (snap) => {
      expect(snap.degree(snap.lookup(0), 'out')).toBe(17);
      expect(snap.degree(snap.lookup(2999), 'out')).toBe(1);
      expect(snap.degree(snap.lookup(1_002_999), 'in')).toBe(1);
    });
  });
});

describe('columnar edges', () => {
  it("keep each repeated edge's last properties, in a batch the bulk path reorders", () => {
    const s = store();
    const n = 20_000;
    const src: number[] = [];
    const dst: number[] = [];
    const weight: number[] = [];
    const last = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      // Sources across three vertex ranges (of 4096), in no order; each pair comes 2-3 times.
      const a = (i * 7919) % 9000;
      const b = i % 40;
      src.push(a);
      dst.push(b + 100_000);
      weight.push(i);
      last.set(`${a}>${b + 100_000}`, i);
    }
    s.apply(decodeBatch({ edges: { src, dst, props: { weight } } }));
    s.seal();
    new PartitionReader(s.descriptor).read(undefined, (snap) => {
      const got = new Map<string, number>();
      let inEntries = 0;
      for (const a of new Set(src)) {
        snap.forEachNeighbor(snap.lookup(a), 'out', -1, (d, addr, l) => {
          got.set(`${a}>${snap.externalId(d)}`, snap.edgeProps(l, addr).weight as number);
        });
      }
      for (const b of new Set(dst)) inEntries += snap.degree(snap.lookup(b), 'in');
      expect(got).toEqual(last);
      expect(inEntries).toBe(last.size);
    });
  });
});
