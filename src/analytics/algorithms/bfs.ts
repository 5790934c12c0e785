/**
 * Breadth-first search: hop counts from one source (Graphalytics BFS).
 *
 * Single-direction searches (and any search over a symmetric graph) are direction-optimizing
 * (Beamer et al., SC'12): while the frontier is small it pushes along the search direction;
 * once the frontier's edges outnumber a fraction of the edges still unexplored, it switches to
 * pulling, where each unvisited vertex scans its predecessors and stops at the first one on
 * the frontier. On power-law graphs the middle levels touch most edges, and pulling skips most
 * of them. A `both` search over a directed graph only pushes, along both lists.
 */
import { invalid } from '../../errors.js';
import { type CsrGraph, checkVertex, isSymmetric } from '../csr-graph.js';

/** The directions a search can follow, as a closed set. */
export const BFS_DIRECTIONS = ['out', 'in', 'both'] as const;
/** One of {@link BFS_DIRECTIONS}. */
export type BfsDirection = (typeof BFS_DIRECTIONS)[number];

/** Switch to pulling when frontier edges exceed unexplored edges / ALPHA (Beamer's α). */
const ALPHA = 14;
/** Switch back to pushing when the frontier shrinks below n / BETA (Beamer's β). */
const BETA = 24;

/**
 * Hop counts from `source` following `direction`; unreachable vertices are Infinity.
 * Throws INVALID_REQUEST for a bad source or direction.
 */
export function bfs(g: CsrGraph, source: number, direction: BfsDirection = 'out'): Float64Array {
  checkVertex(g, source, 'source');
  if (!BFS_DIRECTIONS.includes(direction)) {
    throw invalid(`direction must be one of ${BFS_DIRECTIONS.join(', ')}, got ${String(direction)}`);
  }
  const dist = new Float64Array(g.n).fill(Number.POSITIVE_INFINITY);
  if (direction === 'both' && !isSymmetric(g)) {
    bothPush(g, source, dist);
  } else if (direction === 'in') {
    hybrid(g.inOffsets, g.inTargets, g.outOffsets, g.outTargets, source, dist);
  } else {
    hybrid(g.outOffsets, g.outTargets, g.inOffsets, g.inTargets, source, dist);
  }
  return dist;
}

/**
 * Direction-optimizing search along (fOff, fTgt) with (bOff, bTgt) its transpose. The
 * frontier always exists as a list of vertices; pulling also recognises frontier vertices by
 * `dist === level`, so no bitmap is needed.
 */
function hybrid(
  fOff: Float64Array,
  fTgt: Uint32Array,
  bOff: Float64Array,
  bTgt: Uint32Array,
  source: number,
  dist: Float64Array,
): void {
  const n = dist.length;
  let frontier = new Uint32Array(n);
  let next = new Uint32Array(n);
  let nf = 1;
  frontier[0] = source;
  dist[source] = 0;
  // Edges out of still-unvisited vertices, and out of the frontier: Beamer's m_u and m_f.
  let unexplored = fTgt.length - (fOff[source + 1] - fOff[source]);
  let frontierEdges = fOff[source + 1] - fOff[source];
  let level = 0;
  let pulling = false;

  while (nf > 0) {
    if (!pulling && frontierEdges > unexplored / ALPHA) pulling = true;
    else if (pulling && nf < n / BETA) pulling = false;
    const nextLevel = level + 1;
    let nn = 0;
    let nextEdges = 0;
    if (pulling) {
      for (let v = 0; v < n; v++) {
        if (dist[v] !== Number.POSITIVE_INFINITY) continue;
        const end = bOff[v + 1];
        for (let i = bOff[v]; i < end; i++) {
          if (dist[bTgt[i]] === level) {
            dist[v] = nextLevel;
            next[nn++] = v;
            nextEdges += fOff[v + 1] - fOff[v];
            break;
          }
        }
      }
    } else {
      for (let k = 0; k < nf; k++) {
        const u = frontier[k];
        const end = fOff[u + 1];
        for (let i = fOff[u]; i < end; i++) {
          const v = fTgt[i];
          if (dist[v] === Number.POSITIVE_INFINITY) {
            dist[v] = nextLevel;
            next[nn++] = v;
            nextEdges += fOff[v + 1] - fOff[v];
          }
        }
      }
    }
    unexplored -= nextEdges;
    frontierEdges = nextEdges;
    const t = frontier;
    frontier = next;
    next = t;
    nf = nn;
    level = nextLevel;
  }
}

/** Top-down search along out- and in-lists together (a `both` search of a directed graph). */
function bothPush(g: CsrGraph, source: number, dist: Float64Array): void {
  const { outOffsets, outTargets, inOffsets, inTargets } = g;
  const queue = new Uint32Array(g.n);
  let head = 0;
  let tail = 0;
  queue[tail++] = source;
  dist[source] = 0;
  while (head < tail) {
    const u = queue[head++];
    const du = dist[u] + 1;
    let end = outOffsets[u + 1];
    for (let i = outOffsets[u]; i < end; i++) {
      const v = outTargets[i];
      if (dist[v] === Number.POSITIVE_INFINITY) {
        dist[v] = du;
        queue[tail++] = v;
      }
    }
    end = inOffsets[u + 1];
    for (let i = inOffsets[u]; i < end; i++) {
      const v = inTargets[i];
      if (dist[v] === Number.POSITIVE_INFINITY) {
        dist[v] = du;
        queue[tail++] = v;
      }
    }
  }
}
