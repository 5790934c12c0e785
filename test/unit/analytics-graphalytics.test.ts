/**
 * The LDBC Graphalytics validation suite: every graph with an expected output, with the
 * parameters of the benchmark's own validation tests, compared by its rules (exact for BFS and
 * CDLP, same partition for WCC, relative 1e-4 for PR, LCC and SSSP).
 *
 * Undirected graphs are checked in every form a user can load them in: the adjacency file
 * lists each edge at both ends, the `.e` file once. Through `undirectedView` both must give
 * the Graphalytics results; so must the adjacency form read as a directed graph, since it
 * holds both directions of every edge (this pins the multiplicity rules: each neighbour once
 * in CDLP's undirected count, d = distinct neighbours in LCC and PR).
 */
import { describe, expect, it } from 'vitest';
import {
  bfs,
  type CsrGraph,
  cdlp,
  csrFromEdges,
  lcc,
  pagerank,
  sssp,
  undirectedView,
  wcc,
} from '../../src/analytics/index.js';
import {
  compareEquivalence,
  compareExact,
  compareRelative,
  fixture,
  type LoadedGraph,
  loadAdjacency,
  loadExpected,
  loadVE,
} from './analytics-fixtures.js';

type Form = { name: string; load: () => Promise<LoadedGraph>; view: (g: CsrGraph) => CsrGraph };

const asIs = (g: CsrGraph) => g;

/** The forms of a directed graph in the adjacency format. */
const directedAdjacency = (path: string): Form[] => [
  { name: 'adjacency', load: () => loadAdjacency(fixture(path)), view: asIs },
];

/** The forms of an undirected graph in the adjacency format (each edge at both ends). */
const undirectedAdjacency = (path: string): Form[] => [
  { name: 'adjacency, undirectedView', load: () => loadAdjacency(fixture(path)), view: undirectedView },
  { name: 'adjacency read as directed', load: () => loadAdjacency(fixture(path)), view: asIs },
];

const source = (graph: LoadedGraph, id: number) => {
  const v = graph.index.get(id);
  if (v === undefined) throw new Error(`source ${id} is not in the graph`);
  return v;
};

async function check(
  forms: Form[],
  expectedPath: string,
  run: (g: CsrGraph, graph: LoadedGraph) => Float64Array,
  compare: (expected: Map<number, string>, graph: LoadedGraph, actual: Float64Array) => string[],
): Promise<void> {
  const expected = await loadExpected(fixture(expectedPath));
  expect(expected.size).toBeGreaterThan(0);
  for (const form of forms) {
    const graph = await form.load();
    const problems = compare(expected, graph, run(form.view(graph.g), graph));
    expect({ form: form.name, problems }).toEqual({ form: form.name, problems: [] });
  }
}

describe('Graphalytics validation graphs', () => {
  it('BFS dir (source 1)', () =>
    check(
      directedAdjacency('bfs/dir-input'),
      'bfs/dir-output',
      (g, x) => bfs(g, source(x, 1)),
      compareExact,
    ));
  it('BFS undir (source 1)', () =>
    check(
      undirectedAdjacency('bfs/undir-input'),
      'bfs/undir-output',
      (g, x) => bfs(g, source(x, 1)),
      compareExact,
    ));

  it('CDLP dir (5 iterations)', () =>
    check(
      directedAdjacency('cdlp/dir-input'),
      'cdlp/dir-output',
      (g, x) => cdlp(g, 5, x.keys),
      compareExact,
    ));
  it('CDLP undir (5 iterations)', () =>
    check(
      undirectedAdjacency('cdlp/undir-input'),
      'cdlp/undir-output',
      (g, x) => cdlp(g, 5, x.keys),
      compareExact,
    ));

  it('LCC dir', () =>
    check(directedAdjacency('lcc/dir-input'), 'lcc/dir-output', (g) => lcc(g), compareRelative));
  it('LCC undir', () =>
    check(undirectedAdjacency('lcc/undir-input'), 'lcc/undir-output', (g) => lcc(g), compareRelative));

  it('PR dir (14 iterations)', () =>
    check(directedAdjacency('pr/dir-input'), 'pr/dir-output', (g) => pagerank(g, 14, 0.85), compareRelative));
  it('PR undir (26 iterations)', () =>
    check(
      undirectedAdjacency('pr/undir-input'),
      'pr/undir-output',
      (g) => pagerank(g, 26, 0.85),
      compareRelative,
    ));

  it('SSSP dir (source 1)', () =>
    check(
      [
        {
          name: '.v/.e',
          load: () => loadVE(fixture('sssp/dir-input.v'), fixture('sssp/dir-input.e')),
          view: asIs,
        },
      ],
      'sssp/dir-output',
      (g, x) => sssp(g, source(x, 1)),
      compareRelative,
    ));
  it('SSSP undir (source 1)', () =>
    check(
      [
        {
          name: '.v/.e, undirectedView',
          load: () => loadVE(fixture('sssp/undir-input.v'), fixture('sssp/undir-input.e')),
          view: undirectedView,
        },
      ],
      'sssp/undir-output',
      (g, x) => sssp(g, source(x, 1)),
      compareRelative,
    ));

  it('WCC dir', () =>
    check(
      directedAdjacency('wcc/dir-input'),
      'wcc/dir-output',
      (g, x) => wcc(g, x.keys),
      compareEquivalence,
    ));
  it('WCC undir', () =>
    check(
      undirectedAdjacency('wcc/undir-input'),
      'wcc/undir-output',
      (g, x) => wcc(g, x.keys),
      compareEquivalence,
    ));
});

describe('Graphalytics example graphs', () => {
  const directed: Form[] = [
    {
      name: '.v/.e',
      load: () => loadVE(fixture('example/example-directed.v'), fixture('example/example-directed.e')),
      view: asIs,
    },
    ...directedAdjacency('example/example-directed-input'),
  ];
  const undirected: Form[] = [
    {
      name: '.v/.e, undirectedView',
      load: () => loadVE(fixture('example/example-undirected.v'), fixture('example/example-undirected.e')),
      view: undirectedView,
    },
    ...undirectedAdjacency('example/example-undirected-input'),
  ];
  const weighted = (forms: Form[]) => forms.filter((f) => f.name.startsWith('.v/.e'));
  const ex = (kind: string, algo: string) => `example/example-${kind}-${algo}`;

  for (const [kind, forms, src] of [
    ['directed', directed, 1],
    ['undirected', undirected, 2],
  ] as const) {
    it(`${kind}: BFS (source ${src})`, () =>
      check(forms, ex(kind, 'BFS'), (g, x) => bfs(g, source(x, src)), compareExact));
    it(`${kind}: CDLP (2 iterations)`, () =>
      check(forms, ex(kind, 'CDLP'), (g, x) => cdlp(g, 2, x.keys), compareExact));
    it(`${kind}: LCC`, () => check(forms, ex(kind, 'LCC'), (g) => lcc(g), compareRelative));
    it(`${kind}: PR (2 iterations)`, () =>
      check(forms, ex(kind, 'PR'), (g) => pagerank(g, 2, 0.85), compareRelative));
    it(`${kind}: SSSP (source ${src})`, () =>
      check(weighted(forms), ex(kind, 'SSSP'), (g, x) => sssp(g, source(x, src)), compareRelative));
    it(`${kind}: WCC`, () => check(forms, ex(kind, 'WCC'), (g, x) => wcc(g, x.keys), compareEquivalence));
  }
});

describe('the comparison can fail', () => {
  it('rejects PageRank with a wrong damping factor', async () => {
    const graph = await loadAdjacency(fixture('pr/dir-input'));
    const expected = await loadExpected(fixture('pr/dir-output'));
    expect(compareRelative(expected, graph, pagerank(graph.g, 14, 0.85))).toEqual([]);
    expect(compareRelative(expected, graph, pagerank(graph.g, 14, 0.8)).length).toBeGreaterThan(0);
    // Stopping early is caught too (by 13 iterations the ranks have converged within 1e-4).
    expect(compareRelative(expected, graph, pagerank(graph.g, 4, 0.85)).length).toBeGreaterThan(0);
  });

  it('rejects CDLP ties broken by index instead of by id', async () => {
    const graph = await loadAdjacency(fixture('cdlp/dir-input'));
    const expected = await loadExpected(fixture('cdlp/dir-output'));
    // Without keys the labels are indices, which (descending ids) are not the ids.
    const byIndex = cdlp(graph.g, 5);
    const asIds = byIndex.map((v) => graph.ids[v]);
    expect(compareExact(expected, graph, asIds).length).toBeGreaterThan(0);
  });

  it('rejects LCC on an undirected .e graph read without undirectedView', async () => {
    const graph = await loadVE(
      fixture('example/example-undirected.v'),
      fixture('example/example-undirected.e'),
    );
    const expected = await loadExpected(fixture('example/example-undirected-LCC'));
    expect(compareRelative(expected, graph, lcc(graph.g)).length).toBeGreaterThan(0);
  });

  it('rejects a WCC answer that merges two components', async () => {
    const graph = await loadAdjacency(fixture('wcc/dir-input'));
    const expected = await loadExpected(fixture('wcc/dir-output'));
    const merged = new Float64Array(graph.g.n).fill(1);
    expect(compareEquivalence(expected, graph, merged).length).toBeGreaterThan(0);
  });

  it('rejects SSSP and BFS where an unreachable vertex gets a distance', async () => {
    const graph = await loadAdjacency(fixture('bfs/dir-input'));
    const expected = await loadExpected(fixture('bfs/dir-output'));
    const dist = bfs(graph.g, graph.index.get(1)!);
    dist[graph.index.get(9)!] = 4;
    expect(compareExact(expected, graph, dist)).toEqual(['9: expected 9223372036854775807, got 4']);
  });
});

describe('unit edge cases', () => {
  it('builds an empty graph and runs every kernel on it', () => {
    const g = csrFromEdges(0, new Uint32Array(0), new Uint32Array(0), new Float64Array(0));
    expect(pagerank(g).length).toBe(0);
    expect(wcc(g).length).toBe(0);
    expect(cdlp(g).length).toBe(0);
    expect(lcc(g).length).toBe(0);
    expect(() => bfs(g, 0)).toThrow(/source must be a vertex index/);
  });
});
