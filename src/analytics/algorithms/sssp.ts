/**
 * Single-source shortest paths by Dijkstra's algorithm (Graphalytics SSSP), over out-edges
 * with non-negative weights.
 *
 * The priority queue is an indexed binary min-heap in typed arrays: `heap` holds vertices and
 * `key` their distances, `pos[v]` is v's slot (or NOT_QUEUED / SETTLED), and a relaxation that
 * improves a queued vertex sifts it up in place (decrease-key), so the heap never holds more
 * than n entries.
 */
import { invalid } from '../../errors.js';
import { type CsrGraph, checkVertex } from '../csr-graph.js';

const NOT_QUEUED = -1;
const SETTLED = -2;

/** Options of {@link sssp}. */
export interface SsspOptions {
  /**
   * The weight used for an edge whose weight is NaN (missing). Default: a missing weight is
   * an error.
   */
  missingWeight?: number;
}

/**
 * Distances from `source` along out-edges, Infinity where unreachable. `weights` is parallel
 * to g.outTargets (default g.outWeights). Throws INVALID_REQUEST when there are no weights, a
 * weight is negative, or a weight is missing and no `missingWeight` is given; the error's
 * details name the edge by its source and target indices.
 */
export function sssp(
  g: CsrGraph,
  source: number,
  weights: Float64Array | undefined = g.outWeights,
  options: SsspOptions = {},
): Float64Array {
  checkVertex(g, source, 'source');
  const { n, outOffsets, outTargets } = g;
  if (weights === undefined) throw invalid('sssp needs edge weights, and the graph has none');
  if (weights.length !== outTargets.length) {
    throw invalid(`weights has ${weights.length} entries but the graph has ${outTargets.length} edges`);
  }
  const missing = options.missingWeight;
  if (missing !== undefined && !(missing >= 0)) {
    throw invalid(`missingWeight must be a non-negative number, got ${missing}`);
  }
  checkWeights(outOffsets, outTargets, weights, missing);

  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const pos = new Int32Array(n).fill(NOT_QUEUED);
  // The heap: vertices, and next to each its key (= dist), so that sifting compares keys in
  // the heap array itself instead of chasing dist[heap[i]] through memory.
  const heap = new Uint32Array(n);
  const key = new Float64Array(n);
  let size = 1;
  dist[source] = 0;
  heap[0] = source;
  key[0] = 0;
  pos[source] = 0;

  while (size > 0) {
    const u = heap[0];
    const du = key[0];
    pos[u] = SETTLED;
    size--;
    if (size > 0) {
      // Move the last entry to the root and sift it down.
      const x = heap[size];
      const kx = key[size];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && key[c + 1] < key[c]) c++;
        const kc = key[c];
        if (kc >= kx) break;
        const hc = heap[c];
        heap[i] = hc;
        key[i] = kc;
        pos[hc] = i;
        i = c;
      }
      heap[i] = x;
      key[i] = kx;
      pos[x] = i;
    }

    const end = outOffsets[u + 1];
    for (let e = outOffsets[u]; e < end; e++) {
      const v = outTargets[e];
      const pv = pos[v];
      if (pv === SETTLED) continue;
      let w = weights[e];
      if (Number.isNaN(w)) w = missing!;
      const nd = du + w;
      if (nd >= dist[v]) continue;
      dist[v] = nd;
      // Sift v up from its slot (decrease-key), or from a new slot at the end.
      let i = pv === NOT_QUEUED ? size++ : pv;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const kp = key[parent];
        if (kp <= nd) break;
        const hp = heap[parent];
        heap[i] = hp;
        key[i] = kp;
        pos[hp] = i;
        i = parent;
      }
      heap[i] = v;
      key[i] = nd;
      pos[v] = i;
    }
  }
  return dist;
}

/** Reject negative weights, and missing ones unless a default is given, naming the edge. */
function checkWeights(
  offsets: Float64Array,
  targets: Uint32Array,
  weights: Float64Array,
  missing: number | undefined,
): void {
  for (let e = 0; e < weights.length; e++) {
    const w = weights[e];
    if (w >= 0 || (Number.isNaN(w) && missing !== undefined)) continue;
    const src = rowOf(offsets, e);
    const dst = targets[e];
    if (Number.isNaN(w)) {
      throw invalid(`sssp: edge ${src} -> ${dst} has no weight`, { src, dst });
    }
    throw invalid(`sssp needs non-negative weights; edge ${src} -> ${dst} has weight ${w}`, {
      src,
      dst,
      weight: w,
    });
  }
}

/** The row of CSR entry e: the last v with offsets[v] <= e (binary search; error path only). */
function rowOf(offsets: Float64Array, e: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (offsets[mid] <= e) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
