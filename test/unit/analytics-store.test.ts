/**
 * Analytics over the store, in one thread, against a reference model: random batches (edge
 * upserts with weights under two labels, edge and vertex deletions, cross-partition cascades)
 * go into P = 1..3 PartitionStores through the machine's batch router, with compaction now and
 * then; then at every retained epoch every algorithm run by `runAlgorithm` (projection,
 * ghosts, store PageRank, CSR copy, weights read from edge columns) must equal the kernels
 * over a CSR built from the model of that epoch. This pins the global numbering, the ghost
 * translation across deletions and recreations, and multiplicity (an edge under two labels is
 * two edges, as in csr-graph.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeBatch } from '../../partitions/batch-router.js';
import {
  type AlgorithmCall,
  bfs,
  cdlp,
  csrFromEdges,
  lcc,
  ProjectionCache,
  pagerank,
  parseAlgorithmCall,
  runAlgorithm,
  sssp,
  type TypedAlgorithmResult,
  undirectedView,
  vertexKeys,
  wcc,
} from '../../src/analytics/index.js';
import { partitionOf } from '../../src/model/ids.js';
import type { DeleteEdgeOp, Op } from '../../src/model/ops.js';
import { PartitionReader, PartitionStore } from '../../src/storage/index.js';
import { scanReaders } from '../../src/storage/reader-registry.js';
import { rng } from '../helpers/rng.js';

const LIMITS = { chunkWords: 1 << 16, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };
const LABELS = ['edge', 'other'] as const;

/** The state at one epoch: vertices and edges keyed by `src|label|dst` with their weight. */
interface State {
  vertices: Set<number>;
  edges: Map<string, { src: number; dst: number; weight: number }>;
}

const copy = (s: State): State => ({ vertices: new Set(s.vertices), edges: new Map(s.edges) });

/** A cluster of P stores fed like the machine feeds its workers. */
class Cluster {
  readonly stores: PartitionStore[];
  readonly readers: PartitionReader[];
  constructor(readonly P: number) {
    this.stores = Array.from({ length: P }, (_, p) =>
      PartitionStore.create({ partition: p, partitions: P, limits: LIMITS }),
    );
    this.readers = this.stores.map((s) => new PartitionReader(s.descriptor));
  }

  apply(ops: Op[]): void {
    let cascades = new Map<number, DeleteEdgeOp[]>();
    const route = routeBatch({ ops }, this.P);
    for (let k = 0; k < route.length || cascades.size > 0; k++) {
      const seg = k < route.length ? route[k] : new Map();
      for (const [p, list] of cascades) {
        const part = seg.get(p);
        if (part === undefined) seg.set(p, { ops: list });
        else part.ops = [...list, ...part.ops];
      }
      cascades = new Map();
      for (const [p, sub] of seg) {
        for (const c of this.stores[p].apply(sub).cascades) {
          const ps = partitionOf(c.src, this.P);
          const target = ps === p ? partitionOf(c.dst, this.P) : ps;
          const list = cascades.get(target) ?? [];
          list.push(c);
          cascades.set(target, list);
        }
      }
    }
  }

  seal(compact: boolean): number {
    if (compact) for (const s of this.stores) s.compactAll();
    const epoch = this.stores[0].openEpoch;
    for (const s of this.stores) s.seal(Date.now(), epoch);
    return epoch;
  }
}

/** The kernels' answers on the model, keyed by id (NaN = unreachable). */
function reference(state: State, call: AlgorithmCall): Map<number, number> {
  const ids = [...state.vertices].sort((a, b) => b - a); // index order differs from id order
  const index = new Map(ids.map((id, i) => [id, i]));
  const es = [...state.edges.values()];
  const g0 = csrFromEdges(
    ids.length,
    Uint32Array.from(es, (e) => index.get(e.src) as number),
    Uint32Array.from(es, (e) => index.get(e.dst) as number),
    Float64Array.from(es, (e) => e.weight),
  );
  const p = call.params;
  const g = p.undirected ? undirectedView(g0) : g0;
  const keys = vertexKeys(ids).keys;
  let out: Float64Array;
  switch (call.algorithm) {
    case 'bfs':
      out = bfs(g, index.get(call.params.source as number) as number, call.params.direction);
      break;
    case 'sssp':
      out = sssp(g, index.get(call.params.source as number) as number);
      break;
    case 'pagerank':
      out = pagerank(g, call.params.iterations, call.params.damping);
      break;
    case 'wcc':
      out = wcc(g0, keys);
      break;
    case 'cdlp':
      out = cdlp(g, call.params.iterations, keys);
      break;
    case 'lcc':
      out = lcc(g);
      break;
  }
  return new Map(ids.map((id, i) => [id, out[i] === Number.POSITIVE_INFINITY ? Number.NaN : out[i]]));
}

function compare(r: TypedAlgorithmResult, want: Map<number, number>, tolerance: number): string[] {
  const problems: string[] = [];
  if (r.ids.length !== want.size) problems.push(`${r.ids.length} ids, expected ${want.size}`);
  for (let i = 0; i < r.ids.length; i++) {
    const id = r.ids[i] as number;
    const v = r.values[i] as number;
    const w = want.get(id);
    if (w === undefined) problems.push(`${id}: unexpected`);
    else if (Number.isNaN(w) ? !Number.isNaN(v) : !(Math.abs(v - w) <= tolerance * Math.abs(w))) {
      problems.push(`${r.algorithm} ${id}: got ${v}, expected ${w}`);
    }
  }
  return problems;
}

function scenario(P: number, seed: number, compactEvery: number): void {
  const rand = rng(seed);
  const cluster = new Cluster(P);
  let state: State = { vertices: new Set(), edges: new Map() };
  const epochs: { epoch: number; state: State }[] = [];
  for (let round = 0; round < 12; round++) {
    const ops: Op[] = [];
    const span = 40 + round * 8; // later rounds create new vertices
    for (let i = 0; i < 60; i++) {
      const a = rand(span);
      const b = rand(span);
      const label = LABELS[rand(4) === 0 ? 1 : 0];
      const key = `${a}|${label}|${b}`;
      if (rand(5) === 0) {
        ops.push({ op: 'deleteEdge', src: a, dst: b, label });
        state.edges.delete(key);
      } else {
        const weight = 1 + rand(9);
        ops.push({ op: 'upsertEdge', src: a, dst: b, label, props: { weight } });
        state.vertices.add(a);
        state.vertices.add(b);
        state.edges.set(key, { src: a, dst: b, weight });
      }
    }
    if (rand(3) === 0) {
      ops.push({ op: 'upsertVertex', id: 1000 + round }); // isolated
      state.vertices.add(1000 + round);
    }
    if (round % 3 === 1) {
      const v = rand(span);
      ops.push({ op: 'deleteVertex', id: v });
      state.vertices.delete(v);
      for (const [k, e] of state.edges) if (e.src === v || e.dst === v) state.edges.delete(k);
    }
    cluster.apply(ops);
    const epoch = cluster.seal(compactEvery > 0 && round % compactEvery === compactEvery - 1);
    epochs.push({ epoch, state });
    state = copy(state);
  }

  // Projections are cached across runs (two epochs): later calls at an epoch reuse its numbering.
  const cache = new ProjectionCache(2);
  for (const { epoch, state: s } of epochs) {
    const alive = [...s.vertices].sort((a, b) => a - b);
    const source = alive[rand(alive.length)];
    const calls = [
      parseAlgorithmCall('pagerank', { iterations: 7 }),
      parseAlgorithmCall('pagerank', { iterations: 7, undirected: true }),
      parseAlgorithmCall('bfs', { source, direction: (['out', 'in', 'both'] as const)[rand(3)] }),
      parseAlgorithmCall('bfs', { source, undirected: true }),
      parseAlgorithmCall('sssp', { source }),
      parseAlgorithmCall('sssp', { source, undirected: true }),
      parseAlgorithmCall('wcc', {}),
      parseAlgorithmCall('cdlp', { iterations: 4 }),
      parseAlgorithmCall('cdlp', { iterations: 4, undirected: true }),
      parseAlgorithmCall('lcc', {}),
      parseAlgorithmCall('lcc', { undirected: true }),
    ];
    for (const [k, call] of calls.entries()) {
      const r = runAlgorithm(cluster.readers, epoch, call, cache);
      expect(r.timings.projectionCached).toBe(k > 0);
      const exact = call.algorithm === 'bfs' || call.algorithm === 'wcc' || call.algorithm === 'cdlp';
      const problems = compare(r, reference(s, call), exact ? 0 : 1e-9);
      expect({ P, seed, epoch, call, problems }).toEqual({ P, seed, epoch, call, problems: [] });
    }
  }
  // Every snapshot the runs opened is closed again.
  for (const r of cluster.readers) expect(scanReaders(r.ctl).active).toBe(0);
}

describe('analytics over partition stores vs a reference model', () => {
  it('agrees at every epoch for P = 1, 2, 3, with deletions, cascades and compaction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 4 }),
        (P, seed, compactEvery) => scenario(P, seed, compactEvery),
      ),
      { numRuns: 12 },
    );
  });
});
