/**
 * PageRank by the Graphalytics formula, with a fixed number of iterations:
 *
 *   PR_0(v) = 1/|V|
 *   PR_i(v) = (1-d)/|V| + d * (Σ_{u→v} PR_{i-1}(u)/outdeg(u) + D_{i-1}/|V|)
 *
 * where D is the total rank of the vertices with no out-edges (their rank is spread evenly).
 * Pull-based: each vertex sums its in-neighbours' contributions rank/outdeg (kept as a
 * vector, computed with a precomputed reciprocal). The inner loop is one sequential read of
 * inTargets and one random read of contributions per edge, and the writes are sequential.
 */
import { invalid } from '../../errors.js';
import { listSum } from '../../storage/pull-kernel.js';
import type { CsrGraph } from '../csr-graph.js';

/** Graphalytics' default number of iterations, as in DESIGN.md §7. */
export const DEFAULT_PAGERANK_ITERATIONS = 20;
/** The damping factor d of the formula. */
export const DEFAULT_PAGERANK_DAMPING = 0.85;

/**
 * PageRank of every vertex after `iterations` synchronous iterations (0 iterations gives the
 * initial 1/|V|). Throws INVALID_REQUEST for a negative or fractional iteration count or a
 * damping factor outside [0, 1].
 */
export function pagerank(
  g: CsrGraph,
  iterations = DEFAULT_PAGERANK_ITERATIONS,
  damping = DEFAULT_PAGERANK_DAMPING,
): Float64Array {
  if (!Number.isSafeInteger(iterations) || iterations < 0) {
    throw invalid(`iterations must be a non-negative integer, got ${iterations}`);
  }
  if (!(damping >= 0 && damping <= 1)) throw invalid(`damping must be in [0, 1], got ${damping}`);
  const { n, outOffsets, inOffsets, inTargets } = g;
  // 1/outdeg, and 0 for dangling vertices so that they contribute nothing through edges.
  const invOut = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const d = outOffsets[v + 1] - outOffsets[v];
    if (d > 0) invOut[v] = 1 / d;
  }
  return pagerankSweeps(n, inOffsets, inTargets, invOut, iterations, damping);
}

/**
 * The iterations of {@link pagerank} over a pull CSR, given 1/outdeg of every vertex (0 for
 * one without out-edges): the whole algorithm once the graph is set up. The analytics
 * benchmark times this alone as its plain-CSR baseline (with u32 offsets).
 */
export function pagerankSweeps(
  n: number,
  inOffsets: ArrayLike<number>,
  inTargets: Uint32Array,
  invOut: Float64Array,
  iterations: number,
  damping: number,
): Float64Array {
  const rank = new Float64Array(n);
  if (n === 0) return rank;
  rank.fill(1 / n);
  // contrib[u] = rank(u)/outdeg(u) of the previous iteration. Each iteration writes the next
  // one's contributions and dangling sum in the same pass that computes the ranks, so an
  // iteration is one sweep over the vertices.
  let contrib = new Float64Array(n);
  let nextContrib = new Float64Array(n);
  let dangling = 0;
  for (let u = 0; u < n; u++) {
    contrib[u] = invOut[u] / n;
    if (invOut[u] === 0) dangling += 1 / n;
  }
  const teleport = (1 - damping) / n;

  for (let it = 0; it < iterations; it++) {
    const base = teleport + (damping * dangling) / n;
    let nextDangling = 0;
    for (let v = 0; v < n; v++) {
      const sum = listSum(contrib, inTargets, inOffsets[v], inOffsets[v + 1]);
      const r = base + damping * sum;
      rank[v] = r;
      const inv = invOut[v];
      nextContrib[v] = r * inv;
      if (inv === 0) nextDangling += r;
    }
    const t = contrib;
    contrib = nextContrib;
    nextContrib = t;
    dangling = nextDangling;
  }
  return rank;
}
