/**
 * PageRank over the store itself: the pull step reads every partition's in-adjacency blocks in
 * shared memory (kernels.ts `pullSum`, range by range under the sequence locks) instead of a
 * CSR copy. Same formula and same results as `pagerank` in algorithms/pagerank.ts (the
 * Graphalytics one, dangling rank spread evenly, fixed iterations).
 *
 * State lives in local-id space, one set of arrays per partition, so the pull writes straight
 * into the rank arrays with no translation per edge:
 *  - x_p[lid]: the contribution rank/outdeg of the vertex behind lid, for this partition's
 *    vertices and for its ghosts (remote vertices that appear in its in-lists);
 *  - acc_p[lid]: the pulled sums of this partition's vertices.
 * An iteration pulls on every partition, updates each partition's own vertices (rank, next
 * contribution, dangling sum) in one sweep over their local ids, then refreshes the ghosts'
 * contributions from their owners: one copy per ghost, precomputed as pairs of local ids
 * grouped by owner. Out-degrees are exact without exchange: a vertex's out-list lives in its
 * own partition.
 */
import { invalid } from '../errors.js';
import type { GraphSnapshot } from '../storage/graph-snapshot.js';
import { degrees, pullSum } from '../storage/kernels.js';
import { DEFAULT_PAGERANK_DAMPING, DEFAULT_PAGERANK_ITERATIONS } from './algorithms/pagerank.js';
import type { Projection } from './projection.js';

/** Ghost refresh of one partition from one owner: x_p[to[i]] = x_owner[from[i]]. */
interface GhostCopy {
  owner: number;
  to: Uint32Array;
  from: Uint32Array;
}

interface PartState {
  mask: Uint8Array;
  lids: Uint32Array;
  base: number;
  invOut: Float64Array;
  x: Float64Array;
  acc: Float64Array;
  ghosts: GhostCopy[];
}

/**
 * PageRank of every vertex of the projection (global order) after `iterations` iterations,
 * computed on the store's blocks. `between` runs after each iteration (a cancellation point).
 * Throws INVALID_REQUEST for bad parameters, like `pagerank`.
 */
export function storePagerank(
  proj: Projection,
  snap: GraphSnapshot,
  iterations = DEFAULT_PAGERANK_ITERATIONS,
  damping = DEFAULT_PAGERANK_DAMPING,
  between?: (iteration: number) => void,
): Float64Array {
  if (!Number.isSafeInteger(iterations) || iterations < 0) {
    throw invalid(`iterations must be a non-negative integer, got ${iterations}`);
  }
  if (!(damping >= 0 && damping <= 1)) throw invalid(`damping must be in [0, 1], got ${damping}`);
  const n = proj.n;
  const rank = new Float64Array(n);
  if (n === 0) return rank;
  const parts = setup(proj, snap);
  const P = parts.length;

  let dangling = 0;
  for (const s of parts) {
    const { lids, invOut, x } = s;
    for (let i = 0; i < lids.length; i++) {
      const lid = lids[i];
      x[lid] = invOut[lid] / n;
      if (invOut[lid] === 0) dangling += 1 / n;
    }
  }
  refreshGhosts(parts);
  if (iterations === 0) rank.fill(1 / n);
  const teleport = (1 - damping) / n;

  for (let it = 0; it < iterations; it++) {
    const base = teleport + (damping * dangling) / n;
    for (let p = 0; p < P; p++) {
      const s = parts[p];
      s.acc.fill(0);
      pullSum(snap.partition(p), 'in', -1, s.mask, s.x, s.acc);
    }
    const last = it === iterations - 1;
    let nextDangling = 0;
    for (let p = 0; p < P; p++) {
      const { lids, invOut, x, acc, base: g0 } = parts[p];
      for (let i = 0; i < lids.length; i++) {
        const lid = lids[i];
        const r = base + damping * acc[lid];
        const inv = invOut[lid];
        x[lid] = r * inv;
        if (inv === 0) nextDangling += r;
        if (last) rank[g0 + i] = r;
      }
    }
    dangling = nextDangling;
    if (!last) refreshGhosts(parts);
    between?.(it);
  }
  return rank;
}

function setup(proj: Projection, snap: GraphSnapshot): PartState[] {
  const P = proj.parts.length;
  // Owner partition of each global index: partitions hold consecutive ranges.
  const owner = new Uint16Array(proj.n);
  for (let p = 0; p < P; p++) {
    const { base, lids } = proj.parts[p];
    owner.fill(p, base, base + lids.length);
  }
  const states: PartState[] = [];
  for (let p = 0; p < P; p++) {
    const { mask, lids, base, global } = proj.parts[p];
    const bound = mask.length;
    const deg = new Float64Array(bound);
    degrees(snap.partition(p), 'out', -1, mask, deg);
    const invOut = new Float64Array(bound);
    for (let i = 0; i < lids.length; i++) {
      const lid = lids[i];
      if (deg[lid] > 0) invOut[lid] = 1 / deg[lid];
    }
    // Ghost pairs, grouped by owner; ascending `to` within a group.
    const counts = new Uint32Array(P);
    for (let lid = 0; lid < bound; lid++)
      if (mask[lid] === 0 && global[lid] >= 0) counts[owner[global[lid]]]++;
    const ghosts: GhostCopy[] = [];
    const byOwner: (GhostCopy | undefined)[] = [];
    for (let q = 0; q < P; q++) {
      if (counts[q] === 0) {
        byOwner.push(undefined);
        continue;
      }
      const c = { owner: q, to: new Uint32Array(counts[q]), from: new Uint32Array(counts[q]) };
      ghosts.push(c);
      byOwner.push(c);
    }
    const fill = new Uint32Array(P);
    for (let lid = 0; lid < bound; lid++) {
      const g = global[lid];
      if (mask[lid] !== 0 || g < 0) continue;
      const q = owner[g];
      const c = byOwner[q] as GhostCopy;
      const k = fill[q]++;
      c.to[k] = lid;
      c.from[k] = proj.parts[q].lids[g - proj.parts[q].base];
    }
    states.push({
      mask,
      lids,
      base,
      invOut,
      x: new Float64Array(bound),
      acc: new Float64Array(bound),
      ghosts,
    });
  }
  return states;
}

function refreshGhosts(parts: PartState[]): void {
  for (const s of parts) {
    const x = s.x;
    for (const c of s.ghosts) {
      const src = parts[c.owner].x;
      const { to, from } = c;
      for (let i = 0; i < to.length; i++) x[to[i]] = src[from[i]];
    }
  }
}
