/**
 * The LDBC Graphalytics validation graphs through the real write path and the real pool:
 * every graph with an expected output is loaded into a Machine with two partition workers
 * (vertices as upsertVertex ops so isolated vertices exist, edges in the columnar bulk form
 * over two epochs, weights as the edge property `weight`), then each algorithm runs through
 * the AnalyticsService (piscina workers reading the partitions' shared memory) and is compared
 * by the benchmark's rules: exact for BFS and CDLP, same partition for WCC, relative 1e-4 for
 * PR, LCC and SSSP (unreachable = null).
 *
 * Both execution paths are covered: directed PageRank runs on the store's blocks (pr/dir,
 * example-directed, and pr/undir read as the directed graph its adjacency file lists), the
 * rest on a CSR built from the projection (undirected PageRank included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../partitions/machine.js';
import { type AlgorithmResult, AnalyticsService } from '../../src/analytics/index.js';
import {
  compareEquivalence,
  compareExact,
  compareRelative,
  fixture,
  type GraphFiles,
  loadGraph,
  openTestMachine,
  readAdjacencyFile,
  readExpected,
  readVertexEdgeFiles,
} from '../helpers/analytics-machine.js';

type Compare = (expected: Map<number, string>, r: AlgorithmResult) => string[];

interface Check {
  name: string;
  algorithm: string;
  params: Record<string, unknown>;
  expected: string;
  compare: Compare;
}

interface Case {
  graph: string;
  load: () => Promise<GraphFiles>;
  checks: Check[];
}

const adjacency = (path: string) => () => readAdjacencyFile(fixture(path));
const ve = (base: string) => () => readVertexEdgeFiles(fixture(`${base}.v`), fixture(`${base}.e`));

const CASES: Case[] = [
  {
    graph: 'bfs/dir',
    load: adjacency('bfs/dir-input'),
    checks: [
      {
        name: 'BFS',
        algorithm: 'bfs',
        params: { source: 1 },
        expected: 'bfs/dir-output',
        compare: compareExact,
      },
    ],
  },
  {
    graph: 'bfs/undir',
    load: adjacency('bfs/undir-input'),
    checks: [
      {
        name: 'BFS undirected',
        algorithm: 'bfs',
        params: { source: 1, undirected: true },
        expected: 'bfs/undir-output',
        compare: compareExact,
      },
    ],
  },
  {
    graph: 'cdlp/dir',
    load: adjacency('cdlp/dir-input'),
    checks: [
      {
        name: 'CDLP',
        algorithm: 'cdlp',
        params: { iterations: 5 },
        expected: 'cdlp/dir-output',
        compare: compareExact,
      },
    ],
  },
  {
    graph: 'cdlp/undir',
    load: adjacency('cdlp/undir-input'),
    checks: [
      {
        name: 'CDLP undirected',
        algorithm: 'cdlp',
        params: { iterations: 5, undirected: true },
        expected: 'cdlp/undir-output',
        compare: compareExact,
      },
    ],
  },
  {
    graph: 'lcc/dir',
    load: adjacency('lcc/dir-input'),
    checks: [
      { name: 'LCC', algorithm: 'lcc', params: {}, expected: 'lcc/dir-output', compare: compareRelative },
    ],
  },
  {
    graph: 'lcc/undir',
    load: adjacency('lcc/undir-input'),
    checks: [
      {
        name: 'LCC undirected',
        algorithm: 'lcc',
        params: { undirected: true },
        expected: 'lcc/undir-output',
        compare: compareRelative,
      },
    ],
  },
  {
    graph: 'pr/dir',
    load: adjacency('pr/dir-input'),
    checks: [
      {
        name: 'PR on the store',
        algorithm: 'pagerank',
        params: { iterations: 14, damping: 0.85 },
        expected: 'pr/dir-output',
        compare: compareRelative,
      },
    ],
  },
  {
    graph: 'pr/undir',
    load: adjacency('pr/undir-input'),
    checks: [
      {
        name: 'PR undirected (CSR path)',
        algorithm: 'pagerank',
        params: { iterations: 26, undirected: true },
        expected: 'pr/undir-output',
        compare: compareRelative,
      },
      {
        name: 'PR on the store, both directions stored',
        algorithm: 'pagerank',
        params: { iterations: 26 },
        expected: 'pr/undir-output',
        compare: compareRelative,
      },
    ],
  },
  {
    graph: 'sssp/dir',
    load: ve('sssp/dir-input'),
    checks: [
      {
        name: 'SSSP',
        algorithm: 'sssp',
        params: { source: 1 },
        expected: 'sssp/dir-output',
        compare: compareRelative,
      },
    ],
  },
  {
    graph: 'sssp/undir',
    load: ve('sssp/undir-input'),
    checks: [
      {
        name: 'SSSP undirected',
        algorithm: 'sssp',
        params: { source: 1, undirected: true, weight: 'weight' },
        expected: 'sssp/undir-output',
        compare: compareRelative,
      },
    ],
  },
  {
    graph: 'wcc/dir',
    load: adjacency('wcc/dir-input'),
    checks: [
      { name: 'WCC', algorithm: 'wcc', params: {}, expected: 'wcc/dir-output', compare: compareEquivalence },
    ],
  },
  {
    graph: 'wcc/undir',
    load: adjacency('wcc/undir-input'),
    checks: [
      {
        name: 'WCC undirected',
        algorithm: 'wcc',
        params: { undirected: true },
        expected: 'wcc/undir-output',
        compare: compareEquivalence,
      },
    ],
  },
  {
    graph: 'example-directed',
    load: ve('example/example-directed'),
    checks: exampleChecks('directed', 1, false),
  },
  {
    graph: 'example-undirected',
    load: ve('example/example-undirected'),
    checks: exampleChecks('undirected', 2, true),
  },
];

function exampleChecks(kind: string, source: number, undirected: boolean): Check[] {
  const out = (algo: string) => `example/example-${kind}-${algo}`;
  return [
    {
      name: 'BFS',
      algorithm: 'bfs',
      params: { source, undirected },
      expected: out('BFS'),
      compare: compareExact,
    },
    {
      name: 'CDLP',
      algorithm: 'cdlp',
      params: { iterations: 2, undirected },
      expected: out('CDLP'),
      compare: compareExact,
    },
    { name: 'LCC', algorithm: 'lcc', params: { undirected }, expected: out('LCC'), compare: compareRelative },
    {
      name: 'PR',
      algorithm: 'pagerank',
      params: { iterations: 2, damping: 0.85, undirected },
      expected: out('PR'),
      compare: compareRelative,
    },
    {
      name: 'SSSP',
      algorithm: 'sssp',
      params: { source, undirected },
      expected: out('SSSP'),
      compare: compareRelative,
    },
    {
      name: 'WCC',
      algorithm: 'wcc',
      params: { undirected },
      expected: out('WCC'),
      compare: compareEquivalence,
    },
  ];
}

describe.each(CASES)('Graphalytics $graph through a machine (P = 2) and the pool', ({ load, checks }) => {
  let close: () => Promise<void>;
  let machine: Machine;
  let service: AnalyticsService;
  let epoch: number;

  beforeAll(async () => {
    const opened = await openTestMachine(2);
    machine = opened.machine;
    close = opened.close;
    epoch = await loadGraph(machine, await load());
    service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await close?.();
  });

  it.each(checks)('$name', async ({ algorithm, params, expected, compare }) => {
    const want = await readExpected(fixture(expected));
    expect(want.size).toBeGreaterThan(0);
    const r = await service.run(algorithm, params, epoch);
    expect(r.epoch).toBe(epoch);
    expect(r.algorithm).toBe(algorithm);
    expect(compare(want, r)).toEqual([]);
  });
});

describe('the comparison through the service can fail', () => {
  let close: () => Promise<void>;
  let service: AnalyticsService;
  let epoch: number;

  beforeAll(async () => {
    const opened = await openTestMachine(2);
    close = opened.close;
    epoch = await loadGraph(opened.machine, await readAdjacencyFile(fixture('pr/dir-input')));
    service = new AnalyticsService({ descriptors: opened.machine.descriptors(), poolSize: 1 });
  });

  afterAll(async () => {
    await service?.close();
    await close?.();
  });

  it('rejects PageRank with too few iterations or another damping factor', async () => {
    const want = await readExpected(fixture('pr/dir-output'));
    const early = await service.run('pagerank', { iterations: 4 }, epoch);
    expect(compareRelative(want, early).length).toBeGreaterThan(0);
    const damped = await service.run('pagerank', { iterations: 14, damping: 0.8 }, epoch);
    expect(compareRelative(want, damped).length).toBeGreaterThan(0);
  });

  it('rejects a result with a vertex missing', async () => {
    const want = await readExpected(fixture('pr/dir-output'));
    const r = await service.run('pagerank', { iterations: 14 }, epoch);
    expect(compareRelative(want, r)).toEqual([]);
    const cut = { ...r, ids: r.ids.slice(1), values: r.values.slice(1) };
    expect(compareRelative(want, cut)).toEqual([`${String(r.ids[0])}: missing from the result`]);
  });
});
