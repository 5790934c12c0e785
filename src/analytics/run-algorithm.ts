/**
 * One algorithm run over every partition at one epoch, in the calling thread: open a snapshot
 * of each partition (which pins the epoch against reclamation until they close), project them
 * onto one numbering, run the kernel with Graphalytics semantics, select the `top` k, close.
 * The pool worker calls this; so can tests and benchmarks.
 *
 * Paths. Directed PageRank runs on the store's blocks (store-pagerank.ts); every other
 * algorithm, and PageRank with `undirected: true`, runs on a CSR copy built from the
 * projection in this thread (projection.ts), because those kernels need random access to both
 * directions or a deduplicated undirected view.
 *
 * Results are typed columns: ids as a Float64Array when every id is an integer (else an array
 * of ids), values as a Float64Array with NaN for "no value" (unreachable in BFS/SSSP), except
 * WCC and CDLP labels over string ids, which are ids and come as an array.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import { GraphSnapshot } from '../storage/graph-snapshot.js';
import type { PartitionReader } from '../storage/index.js';
import type { AlgorithmCall, AlgorithmName } from './algorithm-params.js';
import { TOP_ORDER } from './algorithm-params.js';
import { bfs } from './algorithms/bfs.js';
import { cdlpRepresentatives } from './algorithms/cdlp.js';
import { lcc } from './algorithms/lcc.js';
import { pagerank } from './algorithms/pagerank.js';
import { sssp } from './algorithms/sssp.js';
import { type TopKOrder, topK } from './algorithms/top-k.js';
import { wccRepresentatives } from './algorithms/wcc.js';
import { type CsrGraph, undirectedView } from './csr-graph.js';
import { type Projection, project, projectCsr, vertexIndex } from './projection.js';
import { StorePagerank } from './store-pagerank.js';
import { compareIds, vertexKeys } from './vertex-keys.js';

/** Where the time of a run went, in milliseconds. */
export interface RunTimings {
  /** Opening the partitions' snapshots. */
  openMs: number;
  /** Numbering the vertices and resolving ghosts (about 0 when the projection was cached). */
  projectMs: number;
  /** Whether the projection came from the worker's cache (same epoch as an earlier run). */
  projectionCached: boolean;
  /** Copying the adjacency into a CSR (0 on the store path). */
  csrMs: number;
  /** The kernel and the top-k selection. */
  computeMs: number;
}

/** The result of a run as typed columns (see the module comment). */
export interface TypedAlgorithmResult {
  /** The epoch the run read. */
  epoch: number;
  algorithm: AlgorithmName;
  /** External ids, parallel to values: a Float64Array when every id is an integer. */
  ids: Float64Array | ExternalId[];
  /** One value per id; NaN stands for null. Labels over string ids are ids (an array). */
  values: Float64Array | ExternalId[];
  /** Vertices at the epoch (ids.length unless `top` cut the answer). */
  vertices: number;
  /** Edges the kernel saw (after the undirected view, when asked for). */
  edges: number;
  timings: RunTimings;
}

/**
 * The projection of the most recent epoch(s) a worker ran at. An epoch's state never changes,
 * so a projection stays valid for as long as its epoch can be opened (the run still opens and
 * pins the snapshots; only the numbering is reused). Repeated runs at one epoch (the latest,
 * typically, or `top` variants) skip the numbering and the ghost lookups. Bounded by entries:
 * a projection costs about 30 bytes per vertex.
 */
export class ProjectionCache {
  private readonly entries = new Map<number, Projection>();

  constructor(readonly capacity = 1) {}

  get(epoch: number): Projection | undefined {
    const p = this.entries.get(epoch);
    if (p !== undefined) {
      // Most recently used last.
      this.entries.delete(epoch);
      this.entries.set(epoch, p);
    }
    return p;
  }

  set(p: Projection): void {
    if (this.capacity <= 0) return;
    this.entries.delete(p.epoch);
    this.entries.set(p.epoch, p);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }
}

/**
 * Run one algorithm at `epoch` over the partitions behind `readers` (in partition order),
 * reusing a cached projection of that epoch when `cache` has one.
 */
export function runAlgorithm(
  readers: readonly PartitionReader[],
  epoch: number,
  call: AlgorithmCall,
  cache?: ProjectionCache,
): TypedAlgorithmResult {
  const t0 = performance.now();
  const snap = new GraphSnapshot(readers, epoch);
  try {
    const t1 = performance.now();
    let proj = cache?.get(epoch);
    const cached = proj !== undefined;
    if (proj === undefined) {
      proj = project(snap);
      cache?.set(proj);
    }
    const t2 = performance.now();
    const timings: RunTimings = {
      openMs: t1 - t0,
      projectMs: t2 - t1,
      projectionCached: cached,
      csrMs: 0,
      computeMs: 0,
    };
    return compute(proj, snap, call, timings);
  } finally {
    snap.close();
  }
}

/** The graph the CSR kernels need, timed. */
function csrOf(
  proj: Projection,
  snap: GraphSnapshot,
  undirected: boolean,
  timings: RunTimings,
  weight?: string,
): CsrGraph {
  const t = performance.now();
  const g = projectCsr(proj, snap, weight === undefined ? {} : { weight });
  const out = undirected ? undirectedView(g) : g;
  timings.csrMs = performance.now() - t;
  return out;
}

function sourceIndex(proj: Projection, snap: GraphSnapshot, source: ExternalId): number {
  const v = vertexIndex(proj, snap, source);
  if (v < 0) {
    throw new EpochgraphError(
      'VERTEX_NOT_FOUND',
      `source vertex ${JSON.stringify(source)} does not exist at epoch ${proj.epoch}`,
      { id: source, epoch: proj.epoch },
    );
  }
  return v;
}

/** Infinity (unreachable) becomes NaN, the typed form of null. */
function unreachableToNaN(values: Float64Array): Float64Array {
  for (let v = 0; v < values.length; v++) if (values[v] === Number.POSITIVE_INFINITY) values[v] = Number.NaN;
  return values;
}

function compute(
  proj: Projection,
  snap: GraphSnapshot,
  call: AlgorithmCall,
  timings: RunTimings,
): TypedAlgorithmResult {
  const { algorithm, params } = call;
  let ranking: Float64Array;
  // Label algorithms: the representative vertex of each label (the label is its id).
  let reps: Uint32Array | null = null;
  let keysAreIds = true;
  let edges = 0;
  let tc = 0;
  switch (call.algorithm) {
    case 'bfs': {
      const p = call.params;
      const s = sourceIndex(proj, snap, p.source);
      const g = csrOf(proj, snap, p.undirected, timings);
      edges = g.outTargets.length;
      tc = performance.now();
      ranking = unreachableToNaN(bfs(g, s, p.direction));
      break;
    }
    case 'sssp': {
      const p = call.params;
      const s = sourceIndex(proj, snap, p.source);
      const g = csrOf(proj, snap, p.undirected, timings, p.weight);
      edges = g.outTargets.length;
      tc = performance.now();
      ranking = unreachableToNaN(sssp(g, s));
      break;
    }
    case 'pagerank': {
      const p = call.params;
      if (p.undirected) {
        const g = csrOf(proj, snap, true, timings);
        edges = g.outTargets.length;
        tc = performance.now();
        ranking = pagerank(g, p.iterations, p.damping);
      } else {
        tc = performance.now();
        const pr = new StorePagerank(proj, snap);
        edges = pr.edges;
        ranking = pr.run(p.iterations, p.damping);
      }
      break;
    }
    case 'lcc': {
      const g = csrOf(proj, snap, call.params.undirected, timings);
      edges = g.outTargets.length;
      tc = performance.now();
      ranking = lcc(g);
      break;
    }
    case 'wcc':
    case 'cdlp': {
      // WCC ignores direction by definition, so `undirected` changes nothing there.
      const undirected = call.algorithm === 'cdlp' && call.params.undirected;
      const g = csrOf(proj, snap, undirected, timings);
      edges = g.outTargets.length;
      tc = performance.now();
      const keys = vertexKeys(proj.ids);
      keysAreIds = keys.idsAreKeys;
      reps =
        call.algorithm === 'wcc'
          ? wccRepresentatives(g, keys.keys)
          : cdlpRepresentatives(g, call.params.iterations, keys.keys);
      // Rank label algorithms by their labels' keys (their ids' order).
      ranking = new Float64Array(proj.n);
      for (let v = 0; v < proj.n; v++) ranking[v] = keys.keys[reps[v]];
      break;
    }
  }

  const chosen = params.top === undefined ? null : selectTop(ranking, params.top, TOP_ORDER[algorithm], proj);
  const result = columns(proj, ranking, reps, keysAreIds, chosen);
  timings.computeMs = performance.now() - tc;
  return {
    epoch: proj.epoch,
    algorithm,
    ids: result.ids,
    values: result.values,
    vertices: proj.n,
    edges,
    timings,
  };
}

/** The output columns, whole or restricted to `chosen` (in its order). */
function columns(
  proj: Projection,
  ranking: Float64Array,
  reps: Uint32Array | null,
  keysAreIds: boolean,
  chosen: Uint32Array | null,
): { ids: Float64Array | ExternalId[]; values: Float64Array | ExternalId[] } {
  const k = chosen === null ? proj.n : chosen.length;
  const at = (i: number) => (chosen === null ? i : chosen[i]);
  let ids: Float64Array | ExternalId[];
  if (proj.numericIds !== null) {
    // A copy even when whole: the result may be transferred, and the projection may be cached.
    if (chosen === null) ids = proj.numericIds.slice();
    else {
      const a = new Float64Array(k);
      for (let i = 0; i < k; i++) a[i] = proj.numericIds[chosen[i]];
      ids = a;
    }
  } else {
    const a: ExternalId[] = new Array(k);
    for (let i = 0; i < k; i++) a[i] = proj.ids[at(i)];
    ids = a;
  }
  let values: Float64Array | ExternalId[];
  if (reps !== null && !keysAreIds) {
    // Labels are ids, and some ids are strings: give the ids themselves.
    const a: ExternalId[] = new Array(k);
    for (let i = 0; i < k; i++) a[i] = proj.ids[reps[at(i)]];
    values = a;
  } else if (chosen === null) {
    values = ranking; // for label algorithms over integer ids the keys are the ids
  } else {
    const a = new Float64Array(k);
    for (let i = 0; i < k; i++) a[i] = ranking[chosen[i]];
    values = a;
  }
  return { ids, values };
}

/**
 * The indices of the k best values by `order`, best first, NaN never chosen; equal values in
 * ascending external-id order, also across the cut at k (so the answer does not depend on the
 * partition count or the insertion order).
 */
export function selectTop(values: Float64Array, k: number, order: TopKOrder, proj: Projection): Uint32Array {
  const chosen = topK(values, k, order);
  if (chosen.length === 0) return chosen;
  const edge = values[chosen[chosen.length - 1]];
  const sure: number[] = [];
  for (let i = 0; i < chosen.length; i++) if (values[chosen[i]] !== edge) sure.push(chosen[i]);
  const need = chosen.length - sure.length;
  let tied: number[] = [];
  for (let v = 0; v < values.length; v++) if (values[v] === edge) tied.push(v);
  if (tied.length > need) tied = smallestIds(tied, need, proj);
  const out = sure.concat(tied);
  const sign = order === 'desc' ? -1 : 1;
  out.sort((a, b) => {
    const d = sign * (values[a] - values[b]);
    return d !== 0 ? d : compareIds(proj.ids[a], proj.ids[b]);
  });
  return Uint32Array.from(out);
}

/** The `need` members of `set` with the smallest ids (ids are distinct). */
function smallestIds(set: number[], need: number, proj: Projection): number[] {
  const numeric = proj.numericIds;
  if (numeric !== null) {
    // A native numeric sort of the ids, then a threshold: no comparator calls.
    const ids = new Float64Array(set.length);
    for (let i = 0; i < set.length; i++) ids[i] = numeric[set[i]];
    ids.sort();
    const cut = ids[need - 1];
    return set.filter((v) => numeric[v] <= cut);
  }
  return [...set].sort((a, b) => compareIds(proj.ids[a], proj.ids[b])).slice(0, need);
}
