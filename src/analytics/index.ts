/**
 * analytics/: the six LDBC Graphalytics algorithms (BFS, PageRank, WCC, CDLP, LCC, SSSP) as
 * pure kernels over a CSR graph with dense vertex indices, plus top-k selection.
 *
 * The caller builds a {@link CsrGraph} (from a snapshot, or with {@link csrFromEdges}), maps
 * external ids to indices 0..n-1 and back, and for `undirected: true` passes
 * {@link undirectedView}(g). Kernels allocate their outputs and scratch, keep no state and
 * never throw anything but INVALID_REQUEST for bad parameters, so they can run in any worker.
 *
 * ```ts
 * const g = csrFromEdges(n, src, dst, weights);
 * const ranks = pagerank(g, 20, 0.85);
 * const labels = cdlp(undirectedView(g), 10, vertexKeys(ids).keys);
 * const best = topK(ranks, 10, 'desc');
 * ```
 */

// biome-ignore-all assist/source/organizeImports: one export per statement, so that each export carries its own TSDoc

/** A graph over vertices 0..n-1 in CSR form, out- and in-adjacency, optional weights. */
export type { CsrGraph } from './csr-graph.js';
/** Options of {@link csrFromEdges}: `dedupe` collapses parallel edges. */
export type { CsrBuildOptions } from './csr-graph.js';
/** Build a CSR graph (both directions, rows sorted) from edge arrays in O(n + m). */
export { csrFromEdges } from './csr-graph.js';
/** The undirected view: each row the set of neighbours in either direction; in = out. */
export { undirectedView } from './csr-graph.js';
/** Whether a graph's in-arrays are its out-arrays (an undirected view). */
export { isSymmetric } from './csr-graph.js';

/** Keys that order vertices by external id, for CDLP and WCC labels. */
export { vertexKeys } from './vertex-keys.js';
/** What {@link vertexKeys} returns: the keys and whether they are the ids themselves. */
export type { VertexKeys } from './vertex-keys.js';
/** The total order of external ids used by {@link vertexKeys}: integers, then strings. */
export { compareIds } from './vertex-keys.js';

/** Breadth-first search: hop counts from a source, Infinity where unreachable. */
export { bfs } from './algorithms/bfs.js';
/** The directions a BFS can follow: `out`, `in`, `both`. */
export { BFS_DIRECTIONS } from './algorithms/bfs.js';
/** One of {@link BFS_DIRECTIONS}. */
export type { BfsDirection } from './algorithms/bfs.js';

/** PageRank by the Graphalytics formula, fixed iterations, dangling rank redistributed. */
export { pagerank } from './algorithms/pagerank.js';
/** Default PageRank iterations (20). */
export { DEFAULT_PAGERANK_ITERATIONS } from './algorithms/pagerank.js';
/** Default PageRank damping factor (0.85). */
export { DEFAULT_PAGERANK_DAMPING } from './algorithms/pagerank.js';

/** Weakly connected components, labelled by the smallest key (default: index) in each. */
export { wcc } from './algorithms/wcc.js';
/** WCC as the index of each component's smallest-key member, for ids of any type. */
export { wccRepresentatives } from './algorithms/wcc.js';
/** WCC as the smallest vertex index of each component. */
export { wccRoots } from './algorithms/wcc.js';

/** Community detection by label propagation; labels are keys (default: indices). */
export { cdlp } from './algorithms/cdlp.js';
/** CDLP as the index of the vertex whose id is each label, for ids of any type. */
export { cdlpRepresentatives } from './algorithms/cdlp.js';
/** Default CDLP iterations (10). */
export { DEFAULT_CDLP_ITERATIONS } from './algorithms/cdlp.js';

/** Local clustering coefficient (directed: in ∪ out neighbours, edges / d(d-1)). */
export { lcc } from './algorithms/lcc.js';

/** Single-source shortest paths (Dijkstra), Infinity where unreachable. */
export { sssp } from './algorithms/sssp.js';
/** Options of {@link sssp}: the weight of edges without one. */
export type { SsspOptions } from './algorithms/sssp.js';

/** Indices of the k best values, best first, by partial selection. */
export { topK } from './algorithms/top-k.js';
/** The orders of {@link topK}: `desc`, `asc`. */
export { TOP_K_ORDERS } from './algorithms/top-k.js';
/** One of {@link TOP_K_ORDERS}. */
export type { TopKOrder } from './algorithms/top-k.js';
