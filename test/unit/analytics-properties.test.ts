/**
 * Property tests: every kernel against a naive reference (analytics-reference.ts) on random
 * small graphs, directed and through undirectedView. The graphs include parallel edges and
 * self-loops, so the multiplicity rules are exercised, and random distinct keys, so tie-breaks
 * by id are too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bfs,
  type CsrGraph,
  cdlp,
  cdlpRepresentatives,
  csrFromEdges,
  isSymmetric,
  lcc,
  pagerank,
  sssp,
  topK,
  undirectedView,
  wcc,
  wccRepresentatives,
} from '../../src/analytics/index.js';
import {
  type EdgeListGraph,
  refBfs,
  refCdlp,
  refLcc,
  refPagerank,
  refSssp,
  refWcc,
  symmetrize,
} from './analytics-reference.js';

interface Case {
  graph: EdgeListGraph;
  /** Distinct keys, a random permutation of 0..n-1 scaled, so key order ≠ index order. */
  keys: number[];
  source: number;
}

const caseArb = (maxN: number, maxM: number): fc.Arbitrary<Case> =>
  fc.integer({ min: 1, max: maxN }).chain((n) =>
    fc.record({
      graph: fc
        .array(
          fc.tuple(
            fc.integer({ min: 0, max: n - 1 }),
            fc.integer({ min: 0, max: n - 1 }),
            fc.integer({ min: 0, max: 20 }),
          ),
          { maxLength: maxM },
        )
        .map((edges) => ({
          n,
          src: edges.map((e) => e[0]),
          dst: edges.map((e) => e[1]),
          // Quarter units keep sums exact, so Dijkstra and Bellman-Ford agree to the bit.
          weights: edges.map((e) => e[2] / 4),
        })),
      keys: fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i * 7 + 3),
        { minLength: n, maxLength: n },
      ),
      source: fc.integer({ min: 0, max: n - 1 }),
    }),
  );

const toCsr = (g: EdgeListGraph): CsrGraph =>
  csrFromEdges(g.n, Uint32Array.from(g.src), Uint32Array.from(g.dst), Float64Array.from(g.weights));

const close = (actual: Float64Array, expected: number[], tol = 1e-9) => {
  expect(actual.length).toBe(expected.length);
  for (let v = 0; v < expected.length; v++) {
    const e = expected[v];
    const ok = e === actual[v] || Math.abs(e - actual[v]) <= tol * Math.max(1, Math.abs(e));
    if (!ok) expect({ v, actual: actual[v] }).toEqual({ v, actual: e });
  }
};

const RUNS = { numRuns: 300 };
const SMALL = caseArb(12, 40);
const DENSE = caseArb(30, 200);

describe('CSR construction', () => {
  it('out-rows are sorted, in-arrays are the transpose, weights travel with their edges', () => {
    fc.assert(
      fc.property(DENSE, ({ graph }) => {
        const g = toCsr(graph);
        const out: string[] = [];
        const inn: string[] = [];
        for (let v = 0; v < g.n; v++) {
          for (let i = g.outOffsets[v]; i < g.outOffsets[v + 1]; i++) {
            if (i > g.outOffsets[v]) expect(g.outTargets[i - 1]).toBeLessThanOrEqual(g.outTargets[i]);
            out.push(`${v}>${g.outTargets[i]}:${g.outWeights![i]}`);
          }
          for (let i = g.inOffsets[v]; i < g.inOffsets[v + 1]; i++) {
            inn.push(`${g.inTargets[i]}>${v}:${g.inWeights![i]}`);
          }
        }
        const listed = graph.src.map((s, i) => `${s}>${graph.dst[i]}:${graph.weights[i]}`);
        expect(out.sort()).toEqual([...listed].sort());
        expect(inn.sort()).toEqual([...listed].sort());
      }),
      RUNS,
    );
  });

  it('dedupe keeps one edge per pair with the smallest weight', () => {
    fc.assert(
      fc.property(DENSE, ({ graph }) => {
        const g = csrFromEdges(
          graph.n,
          Uint32Array.from(graph.src),
          Uint32Array.from(graph.dst),
          Float64Array.from(graph.weights),
          { dedupe: true },
        );
        const best = new Map<string, number>();
        graph.src.forEach((s, i) => {
          const k = `${s}>${graph.dst[i]}`;
          best.set(k, Math.min(best.get(k) ?? Number.POSITIVE_INFINITY, graph.weights[i]));
        });
        const got = new Map<string, number>();
        for (let v = 0; v < g.n; v++) {
          for (let i = g.outOffsets[v]; i < g.outOffsets[v + 1]; i++) {
            const k = `${v}>${g.outTargets[i]}`;
            expect(got.has(k)).toBe(false);
            got.set(k, g.outWeights![i]);
          }
        }
        expect(got).toEqual(best);
        expect(g.inTargets.length).toBe(g.outTargets.length);
      }),
      RUNS,
    );
  });

  it('undirectedView holds each joined pair once per end, with the smallest weight', () => {
    fc.assert(
      fc.property(DENSE, ({ graph }) => {
        const u = undirectedView(toCsr(graph));
        expect(isSymmetric(u)).toBe(true);
        expect(undirectedView(u)).toBe(u);
        const sym = symmetrize(graph);
        const want = new Map(sym.src.map((s, i) => [`${s}-${sym.dst[i]}`, sym.weights[i]]));
        const got = new Map<string, number>();
        for (let v = 0; v < u.n; v++) {
          for (let i = u.outOffsets[v]; i < u.outOffsets[v + 1]; i++) {
            const k = `${v}-${u.outTargets[i]}`;
            expect(got.has(k)).toBe(false);
            got.set(k, u.outWeights![i]);
          }
        }
        expect(got).toEqual(want);
      }),
      RUNS,
    );
  });

  it('rejects endpoints out of range and mismatched lengths', () => {
    expect(() => csrFromEdges(2, Uint32Array.of(0), Uint32Array.of(2))).toThrow(/outside 0..1/);
    expect(() => csrFromEdges(2, Uint32Array.of(0), Uint32Array.of())).toThrow(/dst has 0/);
  });
});

describe('kernels agree with the naive references', () => {
  for (const direction of ['out', 'in', 'both'] as const) {
    it(`BFS ${direction}`, () => {
      fc.assert(
        fc.property(DENSE, ({ graph, source }) => {
          close(bfs(toCsr(graph), source, direction), refBfs(graph, source, direction), 0);
        }),
        RUNS,
      );
    });
  }

  it('BFS on the undirected view = BFS both ways', () => {
    fc.assert(
      fc.property(DENSE, ({ graph, source }) => {
        close(bfs(undirectedView(toCsr(graph)), source, 'out'), refBfs(graph, source, 'both'), 0);
      }),
      RUNS,
    );
  });

  it('PageRank, directed and undirected', () => {
    fc.assert(
      fc.property(DENSE, fc.integer({ min: 0, max: 30 }), ({ graph }, iterations) => {
        const g = toCsr(graph);
        close(pagerank(g, iterations, 0.85), refPagerank(graph, iterations, 0.85));
        close(
          pagerank(undirectedView(g), iterations, 0.85),
          refPagerank(symmetrize(graph), iterations, 0.85),
        );
      }),
      RUNS,
    );
  });

  it('PageRank ranks sum to 1', () => {
    fc.assert(
      fc.property(DENSE, ({ graph }) => {
        const sum = pagerank(toCsr(graph), 20).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1)).toBeLessThan(1e-9);
      }),
      RUNS,
    );
  });

  it('WCC labels are the smallest key, directed and undirected', () => {
    fc.assert(
      fc.property(DENSE, ({ graph, keys }) => {
        const g = toCsr(graph);
        const k = Float64Array.from(keys);
        const want = refWcc(graph, keys);
        close(wcc(g, k), want, 0);
        close(wcc(undirectedView(g), k), want, 0);
        close(
          wcc(g),
          refWcc(
            graph,
            keys.map((_, v) => v),
          ),
          0,
        );
        const reps = wccRepresentatives(g, k);
        for (let v = 0; v < g.n; v++) expect(keys[reps[v]]).toBe(want[v]);
      }),
      RUNS,
    );
  });

  it('CDLP, directed (with multiplicity) and undirected (each neighbour once)', () => {
    fc.assert(
      fc.property(SMALL, fc.integer({ min: 0, max: 12 }), ({ graph, keys }, iterations) => {
        const g = toCsr(graph);
        const k = Float64Array.from(keys);
        close(cdlp(g, iterations, k), refCdlp(graph, iterations, keys, false), 0);
        close(cdlp(undirectedView(g), iterations, k), refCdlp(symmetrize(graph), iterations, keys, true), 0);
        const reps = cdlpRepresentatives(g, iterations, k);
        const labels = cdlp(g, iterations, k);
        for (let v = 0; v < g.n; v++) expect(keys[reps[v]]).toBe(labels[v]);
      }),
      RUNS,
    );
  });

  it('CDLP on dense graphs', () => {
    fc.assert(
      fc.property(DENSE, ({ graph, keys }) => {
        const g = toCsr(graph);
        close(cdlp(g, 10, Float64Array.from(keys)), refCdlp(graph, 10, keys, false), 0);
      }),
      RUNS,
    );
  });

  it('LCC, directed and undirected', () => {
    fc.assert(
      fc.property(DENSE, ({ graph }) => {
        const g = toCsr(graph);
        close(lcc(g), refLcc(graph));
        close(lcc(undirectedView(g)), refLcc(symmetrize(graph)));
      }),
      RUNS,
    );
  });

  it('SSSP, directed and undirected', () => {
    fc.assert(
      fc.property(DENSE, ({ graph, source }) => {
        const g = toCsr(graph);
        close(sssp(g, source), refSssp(graph, source), 0);
        close(sssp(undirectedView(g), source), refSssp(symmetrize(graph), source), 0);
      }),
      RUNS,
    );
  });

  it('top-k equals the head of a full sort (ties by index, NaN and excluded values left out)', () => {
    const values = fc.array(
      fc.oneof(
        fc.integer({ min: -5, max: 5 }),
        fc.constant(Number.NaN),
        fc.constant(Number.POSITIVE_INFINITY),
      ),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 70 }), fc.boolean(), (xs, k, desc) => {
        const order = desc ? 'desc' : 'asc';
        const exclude = (x: number) => x === Number.POSITIVE_INFINITY;
        const want = xs
          .map((x, i) => ({ x, i }))
          .filter(({ x }) => !Number.isNaN(x) && !exclude(x))
          .sort((a, b) => (desc ? b.x - a.x : a.x - b.x) || a.i - b.i)
          .slice(0, k)
          .map(({ i }) => i);
        expect([...topK(Float64Array.from(xs), k, order, exclude)]).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('larger random graphs (both BFS modes, LCC orientation with hubs)', () => {
  /** A skewed random graph: endpoints drawn with a power bias towards low indices. */
  function skewed(n: number, m: number, seed: number): EdgeListGraph {
    let s = seed >>> 0;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const g: EdgeListGraph = { n, src: [], dst: [], weights: [] };
    for (let i = 0; i < m; i++) {
      g.src.push(Math.floor(n * rand() ** 3));
      g.dst.push(Math.floor(n * rand() ** 2));
      g.weights.push(Math.floor(rand() * 100) / 4);
    }
    return g;
  }

  it('agrees with the references', () => {
    for (const seed of [1, 2, 3]) {
      const graph = skewed(800, 6000, seed);
      const g = toCsr(graph);
      const u = undirectedView(g);
      const sym = symmetrize(graph);
      for (const direction of ['out', 'in', 'both'] as const) {
        close(bfs(g, 0, direction), refBfs(graph, 0, direction), 0);
        close(bfs(g, 799, direction), refBfs(graph, 799, direction), 0);
      }
      close(lcc(g), refLcc(graph));
      close(lcc(u), refLcc(sym));
      close(pagerank(g, 20), refPagerank(graph, 20, 0.85));
      close(sssp(g, 0), refSssp(graph, 0), 0);
      const keys = Array.from({ length: graph.n }, (_, v) => (v * 7919) % 800);
      close(cdlp(g, 10, Float64Array.from(keys)), refCdlp(graph, 10, keys, false), 0);
      close(cdlp(u, 10, Float64Array.from(keys)), refCdlp(sym, 10, keys, true), 0);
    }
  });
});

describe('parameter errors', () => {
  const g = csrFromEdges(3, Uint32Array.of(0, 1), Uint32Array.of(1, 2), Float64Array.of(1, -2));
  it('SSSP rejects negative and missing weights, naming the edge', () => {
    expect(() => sssp(g, 0)).toThrow('sssp needs non-negative weights; edge 1 -> 2 has weight -2');
    const missing = csrFromEdges(
      3,
      Uint32Array.of(0, 1),
      Uint32Array.of(1, 2),
      Float64Array.of(1, Number.NaN),
    );
    expect(() => sssp(missing, 0)).toThrow('sssp: edge 1 -> 2 has no weight');
    expect([...sssp(missing, 0, undefined, { missingWeight: 5 })]).toEqual([0, 1, 6]);
    const unweighted = csrFromEdges(3, Uint32Array.of(0), Uint32Array.of(1));
    expect(() => sssp(unweighted, 0)).toThrow(/no weights|has none/);
  });
  it('rejects bad sources, iterations, damping, directions, k and keys', () => {
    expect(() => bfs(g, 3)).toThrow(/source must be a vertex index in 0..2, got 3/);
    expect(() => bfs(g, 0, 'sideways' as 'out')).toThrow(/direction must be one of out, in, both/);
    expect(() => pagerank(g, -1)).toThrow(/iterations/);
    expect(() => pagerank(g, 2, 1.5)).toThrow(/damping/);
    expect(() => cdlp(g, 1.5)).toThrow(/iterations/);
    expect(() => cdlp(g, 1, new Float64Array(2))).toThrow(/keys has 2 entries/);
    expect(() => topK([1, 2], -1)).toThrow(/k must be/);
  });
});
