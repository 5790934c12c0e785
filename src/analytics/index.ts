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
 *
 * Over the store: {@link AnalyticsService} runs an algorithm by name at a retained epoch in a
 * piscina pool whose workers read the partitions' shared memory directly. A run projects all
 * partitions onto one dense numbering ({@link project}); directed PageRank then pulls over the
 * store's own blocks ({@link storePagerank}), the other algorithms (and undirected PageRank)
 * over a CSR copy built from the projection in the worker ({@link projectCsr}).
 *
 * ```ts
 * const service = new AnalyticsService({ descriptors: machine.descriptors() });
 * const { ids, values } = await service.run('pagerank', { iterations: 20, top: 10 }, epoch);
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

/** Runs algorithms by name at any retained epoch in a worker pool; timeouts, cancellation, a bounded queue, metrics. */
export { AnalyticsService } from './service.js';
/** Options of {@link AnalyticsService}. */
export type { AnalyticsServiceOptions } from './service.js';
/** Options of one {@link AnalyticsService} run: an AbortSignal and a timeout. */
export type { RunOptions } from './service.js';
/** A pinned epoch, as returned by the service's `pinEpoch` hook. */
export type { EpochPin } from './service.js';
/** A result as plain arrays (null for unreachable), for JSON. */
export type { AlgorithmResult } from './service.js';
/** One value of an {@link AlgorithmResult}. */
export type { AlgorithmValue } from './service.js';
/** The service's counters and state. */
export type { AnalyticsStats } from './run-metrics.js';
/** The counters of one algorithm in {@link AnalyticsStats}. */
export type { AlgorithmStats } from './run-metrics.js';
/** The plain-array form of a typed result (NaN becomes null). */
export { toPlainResult } from './service.js';
/** The default run timeout of the service (60 s). */
export { DEFAULT_ANALYTICS_TIMEOUT_MS } from './service.js';

/** The piscina pool behind the service (one task = one run in one worker). */
export { AnalyticsPool } from './pool.js';
/** Options of {@link AnalyticsPool}. */
export type { AnalyticsPoolOptions } from './pool.js';
/** Where the compiled pool worker script lives. */
export { poolWorkerUrl } from './pool.js';
/** A task for the pool: an algorithm call at an epoch. */
export type { AnalyticsTask } from './pool-protocol.js';
/** Check a set of partition descriptors (one per partition 0..P-1); returns them in order. */
export { checkDescriptorSet } from './pool-protocol.js';

/** The algorithm names, as a closed set. */
export { ALGORITHMS } from './algorithm-params.js';
/** One of {@link ALGORITHMS}. */
export type { AlgorithmName } from './algorithm-params.js';
/** The zod schema of each algorithm's parameters. */
export { PARAM_SCHEMAS } from './algorithm-params.js';
/** Parsed parameters of an algorithm, defaults filled in. */
export type { AlgorithmParams } from './algorithm-params.js';
/** An algorithm name with its parsed parameters. */
export type { AlgorithmCall } from './algorithm-params.js';
/** Parse a name and raw parameters (NOT_FOUND / INVALID_REQUEST with zod issues). */
export { parseAlgorithmCall } from './algorithm-params.js';
/** Whether a string names an algorithm. */
export { isAlgorithmName } from './algorithm-params.js';
/** What `top` keeps for each algorithm: largest or smallest values. */
export { TOP_ORDER } from './algorithm-params.js';
/** The default SSSP weight property (`weight`). */
export { DEFAULT_WEIGHT_PROPERTY } from './algorithm-params.js';

/** Run one algorithm at an epoch in the calling thread (what a pool worker does). */
export { runAlgorithm } from './run-algorithm.js';
/** A result as typed columns (ids Float64Array when integers; NaN = null), with timings. */
export type { TypedAlgorithmResult } from './run-algorithm.js';
/** Where a run's time went. */
export type { RunTimings } from './run-algorithm.js';
/** Projections of recent epochs, reused by runs at the same epoch (one per pool worker). */
export { ProjectionCache } from './run-algorithm.js';
/** The k best vertices of a result, ties by external id. */
export { selectTop } from './run-algorithm.js';

/** Number all vertices of all partitions at an epoch densely; resolve ghosts once. */
export { project } from './projection.js';
/** The projection's adjacency as a CSR graph (optionally with an edge property as weights). */
export { projectCsr } from './projection.js';
/** The global index of an external id in a projection, or -1. */
export { vertexIndex } from './projection.js';
/** A dense numbering of every vertex at one epoch. */
export type { Projection } from './projection.js';
/** One partition's part of a {@link Projection}. */
export type { PartitionProjection } from './projection.js';
/** Options of {@link projectCsr}. */
export type { ProjectCsrOptions } from './projection.js';
/** PageRank pulled over the store's blocks in shared memory, no CSR copy. */
export { storePagerank } from './store-pagerank.js';
/** Store PageRank with its per-snapshot setup apart from the iterations (benchmarks, reuse). */
export { StorePagerank } from './store-pagerank.js';
