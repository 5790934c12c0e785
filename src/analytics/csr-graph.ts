/**
 * The input of every analytics kernel: a graph over dense vertex indices 0..n-1 in compressed
 * sparse row form, both directions.
 *
 * Multiplicity. The directed kernels read the CSR as it is: every entry is an edge, so a
 * parallel edge (the same pair under two edge labels, say) counts twice in PageRank and CDLP.
 * `csrFromEdges(..., { dedupe: true })` collapses parallel edges when a simple graph is wanted.
 *
 * Undirected graphs. `undirectedView(g)` gives each vertex one row holding the *set* of its
 * neighbours in either direction: a pair listed as u→v, as v→u, or both (as an undirected
 * Graphalytics graph lists every edge at both ends) becomes exactly one entry in u's row and
 * one in v's. The view's in-arrays are the very same objects as its out-arrays, which kernels
 * detect with {@link isSymmetric} to skip the redundant in-pass. Under this choice every kernel
 * gives the Graphalytics undirected results: PageRank's out-degree is the number of distinct
 * neighbours, CDLP counts each neighbour once, LCC's d is the number of distinct neighbours
 * and each neighbour pair that is joined counts as two directed edges, so LCC = 2T / d(d-1).
 */
import { invalid } from '../errors.js';

/** A graph over vertices 0..n-1 in CSR form, out- and in-adjacency. */
export interface CsrGraph {
  /** Number of vertices; vertices are dense indices 0..n-1. */
  n: number;
  /** Row starts of the out-adjacency, length n+1; Float64 so that m may exceed 2^32. */
  outOffsets: Float64Array;
  /** Out-neighbours, row v is outTargets[outOffsets[v] .. outOffsets[v+1]). */
  outTargets: Uint32Array;
  /** Row starts of the in-adjacency (for a directed graph the transpose), length n+1. */
  inOffsets: Float64Array;
  /** In-neighbours, row v is inTargets[inOffsets[v] .. inOffsets[v+1]). */
  inTargets: Uint32Array;
  /** Edge weights parallel to outTargets (for SSSP); NaN means the edge has no weight. */
  outWeights?: Float64Array;
  /** Edge weights parallel to inTargets. */
  inWeights?: Float64Array;
}

/** Options of {@link csrFromEdges}. */
export interface CsrBuildOptions {
  /**
   * Collapse parallel edges (the same src→dst more than once) into one, keeping the smallest
   * weight (a NaN weight counts as missing). Default false: every edge is kept.
   */
  dedupe?: boolean;
}

/**
 * True when the graph's in-adjacency is the same arrays as its out-adjacency, as in
 * {@link undirectedView}. Kernels use it only to skip work: a graph whose in-arrays are
 * equal copies gives the same results through the general directed path.
 */
export function isSymmetric(g: CsrGraph): boolean {
  return g.inTargets === g.outTargets && g.inOffsets === g.outOffsets;
}

/**
 * Build a CSR graph with both directions from an edge list, in O(n + m) time with counting
 * sorts. Rows come out sorted by neighbour index (a property kernels do not rely on, but that
 * makes scans cache-friendly and output deterministic). Throws INVALID_REQUEST when an endpoint
 * is out of range or the arrays differ in length.
 */
export function csrFromEdges(
  n: number,
  src: Uint32Array,
  dst: Uint32Array,
  weights?: Float64Array,
  options: CsrBuildOptions = {},
): CsrGraph {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
    throw invalid(`vertex count must be an integer in 0..2^32-1, got ${n}`);
  }
  const m = src.length;
  if (dst.length !== m) throw invalid(`src has ${m} entries but dst has ${dst.length}`);
  if (weights !== undefined && weights.length !== m) {
    throw invalid(`src has ${m} entries but weights has ${weights.length}`);
  }
  for (let e = 0; e < m; e++) {
    if (src[e] >= n || dst[e] >= n) {
      throw invalid(`edge ${e} (${src[e]} -> ${dst[e]}) has an endpoint outside 0..${n - 1}`, {
        edge: e,
        src: src[e],
        dst: dst[e],
      });
    }
  }
  const hasW = weights !== undefined;

  // Pass A: bucket the edges by destination (a stable counting sort). The result lands in the
  // in-arrays, which serve as scratch: their rows are in input order until pass C rewrites them.
  const inOffsets = degreeOffsets(n, dst);
  const inTargets = new Uint32Array(m);
  const inWeights = hasW ? new Float64Array(m) : undefined;
  const cursor = new Float64Array(n);
  for (let v = 0; v < n; v++) cursor[v] = inOffsets[v];
  for (let e = 0; e < m; e++) {
    const p = cursor[dst[e]]++;
    inTargets[p] = src[e];
    if (inWeights !== undefined) inWeights[p] = weights![e];
  }

  // Pass B: walk the destination buckets in ascending order and append each edge to its
  // source's row, so every out-row receives its targets in ascending order.
  let outOffsets: Float64Array = degreeOffsets(n, src);
  let outTargets: Uint32Array = new Uint32Array(m);
  let outWeights: Float64Array | undefined = hasW ? new Float64Array(m) : undefined;
  for (let v = 0; v < n; v++) cursor[v] = outOffsets[v];
  for (let d = 0; d < n; d++) {
    const end = inOffsets[d + 1];
    for (let i = inOffsets[d]; i < end; i++) {
      const p = cursor[inTargets[i]]++;
      outTargets[p] = d;
      if (outWeights !== undefined) outWeights[p] = inWeights![i];
    }
  }

  if (options.dedupe === true) {
    ({
      offsets: outOffsets,
      targets: outTargets,
      weights: outWeights,
    } = dedupeSortedRows(n, outOffsets, outTargets, outWeights));
  }

  // Pass C: the transpose of the (sorted, possibly deduplicated) out-rows, again in order, so
  // in-rows are sorted by source too.
  const mOut = outTargets.length;
  const inCounts = new Float64Array(n + 1);
  for (let i = 0; i < mOut; i++) inCounts[outTargets[i] + 1]++;
  for (let v = 0; v < n; v++) inCounts[v + 1] += inCounts[v];
  const inOff = inCounts;
  const inT = mOut === m ? inTargets : new Uint32Array(mOut);
  const inW = hasW ? (mOut === m ? inWeights : new Float64Array(mOut)) : undefined;
  for (let v = 0; v < n; v++) cursor[v] = inOff[v];
  for (let s = 0; s < n; s++) {
    const end = outOffsets[s + 1];
    for (let i = outOffsets[s]; i < end; i++) {
      const p = cursor[outTargets[i]]++;
      inT[p] = s;
      if (inW !== undefined) inW[p] = outWeights![i];
    }
  }

  const g: CsrGraph = { n, outOffsets, outTargets, inOffsets: inOff, inTargets: inT };
  if (hasW) {
    g.outWeights = outWeights;
    g.inWeights = inW;
  }
  return g;
}

/** Prefix sums of the occurrence counts of each vertex in `ends`: CSR row starts. */
function degreeOffsets(n: number, ends: Uint32Array): Float64Array {
  const offsets = new Float64Array(n + 1);
  for (let e = 0; e < ends.length; e++) offsets[ends[e] + 1]++;
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v];
  return offsets;
}

/** The smaller of two weights where NaN means missing (so a present weight wins). */
function minWeight(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return Math.min(a, b);
}

/** Drop adjacent repeats within each sorted row, keeping the smallest weight. */
function dedupeSortedRows(
  n: number,
  offsets: Float64Array,
  targets: Uint32Array,
  weights: Float64Array | undefined,
): { offsets: Float64Array; targets: Uint32Array; weights: Float64Array | undefined } {
  const newOffsets = new Float64Array(n + 1);
  let w = 0;
  for (let v = 0; v < n; v++) {
    const end = offsets[v + 1];
    const rowStart = w;
    for (let i = offsets[v]; i < end; i++) {
      const t = targets[i];
      if (w > rowStart && targets[w - 1] === t) {
        if (weights !== undefined) weights[w - 1] = minWeight(weights[w - 1], weights[i]);
        continue;
      }
      // Compaction in place is safe: the write cursor never passes the read cursor.
      targets[w] = t;
      if (weights !== undefined) weights[w] = weights[i];
      w++;
    }
    newOffsets[v + 1] = w;
  }
  if (w === targets.length) return { offsets, targets, weights };
  return {
    offsets: newOffsets,
    targets: targets.slice(0, w),
    weights: weights?.slice(0, w),
  };
}

/**
 * The undirected view of a graph: row v holds every vertex joined to v by an edge in either
 * direction, once (see the module comment for why once). The in-arrays are the out-arrays. A
 * self-loop stays, once. Weights, when present, are carried over; where a pair has several
 * edges the smallest weight is kept (a NaN weight counts as missing). O(n + m): two passes
 * over both directions with a stamp array, no sorting; rows list out-neighbours first, in
 * their order, then the in-only neighbours.
 *
 * Calling it on a graph that is already symmetric returns the graph itself.
 */
export function undirectedView(g: CsrGraph): CsrGraph {
  if (isSymmetric(g)) return g;
  const { n, outOffsets, outTargets, inOffsets, inTargets } = g;
  const hasW = g.outWeights !== undefined && g.inWeights !== undefined;
  const stamp = new Int32Array(n).fill(-1);

  const offsets = new Float64Array(n + 1);
  for (let v = 0; v < n; v++) {
    let d = 0;
    let end = outOffsets[v + 1];
    for (let i = outOffsets[v]; i < end; i++) {
      const u = outTargets[i];
      if (stamp[u] !== v) {
        stamp[u] = v;
        d++;
      }
    }
    end = inOffsets[v + 1];
    for (let i = inOffsets[v]; i < end; i++) {
      const u = inTargets[i];
      if (stamp[u] !== v) {
        stamp[u] = v;
        d++;
      }
    }
    offsets[v + 1] = offsets[v] + d;
  }

  const targets = new Uint32Array(offsets[n]);
  const weights = hasW ? new Float64Array(offsets[n]) : undefined;
  // Where u sits in the row being built, to fold a duplicate's weight into it.
  const slot = hasW ? new Float64Array(n) : undefined;
  stamp.fill(-1);
  const outW = g.outWeights;
  const inW = g.inWeights;
  for (let v = 0; v < n; v++) {
    let p = offsets[v];
    let end = outOffsets[v + 1];
    for (let i = outOffsets[v]; i < end; i++) {
      const u = outTargets[i];
      if (stamp[u] !== v) {
        stamp[u] = v;
        if (weights !== undefined) {
          slot![u] = p;
          weights[p] = outW![i];
        }
        targets[p++] = u;
      } else if (weights !== undefined) {
        weights[slot![u]] = minWeight(weights[slot![u]], outW![i]);
      }
    }
    end = inOffsets[v + 1];
    for (let i = inOffsets[v]; i < end; i++) {
      const u = inTargets[i];
      if (stamp[u] !== v) {
        stamp[u] = v;
        if (weights !== undefined) {
          slot![u] = p;
          weights[p] = inW![i];
        }
        targets[p++] = u;
      } else if (weights !== undefined) {
        weights[slot![u]] = minWeight(weights[slot![u]], inW![i]);
      }
    }
  }

  const view: CsrGraph = {
    n,
    outOffsets: offsets,
    outTargets: targets,
    inOffsets: offsets,
    inTargets: targets,
  };
  if (weights !== undefined) {
    view.outWeights = weights;
    view.inWeights = weights;
  }
  return view;
}

/** Throw INVALID_REQUEST unless `v` is a vertex index of `g`. */
export function checkVertex(g: CsrGraph, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= g.n) {
    throw invalid(`${what} must be a vertex index in 0..${g.n - 1}, got ${v}`, { [what]: v });
  }
}

/** Throw INVALID_REQUEST unless `keys` has one entry per vertex. */
export function checkKeys(g: CsrGraph, keys: Float64Array | undefined): void {
  if (keys !== undefined && keys.length !== g.n) {
    throw invalid(`keys has ${keys.length} entries but the graph has ${g.n} vertices`);
  }
}
