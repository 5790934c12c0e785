/**
 * Weakly connected components (direction ignored).
 *
 * Union-find over the out-edges only: for a directed graph the in-lists are their transpose
 * and add nothing, for a symmetric graph each edge appears twice and the second visit is a
 * cheap no-op. Roots are always the smaller index (link the larger root under the smaller),
 * so parent[v] <= v holds throughout; path halving keeps it, and one ascending pass then
 * resolves every vertex to the smallest index of its component.
 *
 * Labels: `wcc(g)` labels a component by its smallest vertex index; `wcc(g, keys)` by its
 * smallest key, where keys[v] is v's external id when ids are integers, or v's rank in any
 * total order of the ids otherwise. `wccRepresentatives(g, keys)` returns, per vertex, the
 * index of the member with the smallest key, which maps back to an external id of any type.
 */
import { type CsrGraph, checkKeys } from '../csr-graph.js';

/** Per vertex, the smallest vertex index of its weakly connected component. */
export function wccRoots(g: CsrGraph): Uint32Array {
  const { n, outOffsets, outTargets } = g;
  const parent = new Uint32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  for (let u = 0; u < n; u++) {
    const end = outOffsets[u + 1];
    for (let i = outOffsets[u]; i < end; i++) {
      let a = u;
      let b = outTargets[i];
      // Find both roots with path halving.
      while (parent[a] !== a) {
        const p = parent[parent[a]];
        parent[a] = p;
        a = p;
      }
      while (parent[b] !== b) {
        const p = parent[parent[b]];
        parent[b] = p;
        b = p;
      }
      if (a < b) parent[b] = a;
      else if (b < a) parent[a] = b;
    }
  }
  // Ascending order sees parent[v] (< v) already resolved to its root.
  for (let v = 0; v < n; v++) parent[v] = parent[parent[v]];
  return parent;
}

/**
 * Per vertex, the index of the member of its component with the smallest key (the smallest
 * index when `keys` is omitted or keys tie).
 */
export function wccRepresentatives(g: CsrGraph, keys?: Float64Array): Uint32Array {
  checkKeys(g, keys);
  const roots = wccRoots(g);
  if (keys === undefined) return roots;
  const n = g.n;
  const best = new Uint32Array(n);
  // Roots precede their members, so a root initialises its entry before any member reads it.
  for (let v = 0; v < n; v++) {
    const r = roots[v];
    if (r === v) best[r] = v;
    else if (keys[v] < keys[best[r]]) best[r] = v;
  }
  const out = new Uint32Array(n);
  for (let v = 0; v < n; v++) out[v] = best[roots[v]];
  return out;
}

/**
 * Component label of every vertex: the smallest key in its component, where the key of v is
 * keys[v] (default: v itself).
 */
export function wcc(g: CsrGraph, keys?: Float64Array): Float64Array {
  const reps = wccRepresentatives(g, keys);
  const out = new Float64Array(g.n);
  if (keys === undefined) for (let v = 0; v < g.n; v++) out[v] = reps[v];
  else for (let v = 0; v < g.n; v++) out[v] = keys[reps[v]];
  return out;
}
