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
 * An iteration pulls on every partition, then updates each partition's own vertices (rank,
 * next contribution, dangling sum) in one sweep over their local ids. The same sweep refreshes
 * the ghosts: each vertex has, per other partition, the local id it has there as a ghost (or
 * -1), so its new contribution is written straight into that partition's x as well; a write
 * per ghost, no separate pass. Every pull of an iteration finishes before any update, so no
 * partition reads a contribution of the next iteration. Out-degrees are exact without
 * exchange: a vertex's out-list lives in its own partition.
 */
import { invalid } from '../errors.js';
import type { GraphSnapshot } from '../storage/graph-snapshot.js';
import { degrees } from '../storage/kernels.js';
import { pullSum } from '../storage/pull-kernel.js';
import { DEFAULT_PAGERANK_DAMPING, DEFAULT_PAGERANK_ITERATIONS } from './algorithms/pagerank.js';
import type { Projection } from './projection.js';

/** Where an owner's vertices are ghosts in another partition: x[at[i]] mirrors vertex lids[i]. */
interface Mirror {
  x: Float64Array;
  /** By the owner's vertex position i: the ghost's local id there, or -1. */
  at: Int32Array;
}

interface PartState {
  /** The partition's vertices (local ids, ascending): the rows of the pull. */
  lids: Uint32Array;
  base: number;
  invOut: Float64Array;
  x: Float64Array;
  acc: Float64Array;
  mirrors: Mirror[];
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
  return new StorePagerank(proj, snap).run(iterations, damping, between);
}

/**
 * PageRank on the store, with its per-snapshot setup (out-degrees, ghost tables) apart from
 * the iterations, so that a benchmark can time the iterations alone and a caller can run
 * several parameter sets over one setup.
 */
export class StorePagerank {
  private readonly parts: PartState[];
  /** Edges pulled per iteration (the sum of out-degrees). */
  readonly edges: number;

  constructor(
    private readonly proj: Projection,
    private readonly snap: GraphSnapshot,
  ) {
    const { parts, edges } = setup(proj, snap);
    this.parts = parts;
    this.edges = edges;
  }

  /** Ranks in global order after `iterations` iterations (see {@link storePagerank}). */
  run(
    iterations = DEFAULT_PAGERANK_ITERATIONS,
    damping = DEFAULT_PAGERANK_DAMPING,
    between?: (iteration: number) => void,
  ): Float64Array {
    if (!Number.isSafeInteger(iterations) || iterations < 0) {
      throw invalid(`iterations must be a non-negative integer, got ${iterations}`);
    }
    if (!(damping >= 0 && damping <= 1)) throw invalid(`damping must be in [0, 1], got ${damping}`);
    const n = this.proj.n;
    const rank = new Float64Array(n);
    if (n === 0) return rank;
    const parts = this.parts;
    const snap = this.snap;
    const P = parts.length;

    let dangling = 0;
    for (const s of parts) {
      const { lids, invOut } = s;
      for (let i = 0; i < lids.length; i++) {
        const inv = invOut[lids[i]];
        publish(s, i, inv / n);
        if (inv === 0) dangling += 1 / n;
      }
    }
    if (iterations === 0) rank.fill(1 / n);
    const teleport = (1 - damping) / n;

    for (let it = 0; it < iterations; it++) {
      const base = teleport + (damping * dangling) / n;
      for (let p = 0; p < P; p++) {
        const s = parts[p];
        pullSum(snap.partition(p), 'in', -1, s.lids, s.x, s.acc, true);
      }
      const out = it === iterations - 1 ? rank : null;
      let nextDangling = 0;
      for (let p = 0; p < P; p++) nextDangling += update(parts[p], base, damping, out);
      dangling = nextDangling;
      between?.(it);
    }
    return rank;
  }
}

/** x of vertex i of s (and its ghosts elsewhere) = value. */
function publish(s: PartState, i: number, value: number): void {
  s.x[s.lids[i]] = value;
  for (const m of s.mirrors) {
    const t = m.at[i];
    if (t >= 0) m.x[t] = value;
  }
}

/**
 * One partition's update sweep: rank = base + d * pulled sum, next contribution rank/outdeg
 * into x and the mirrors, ranks into `out` (global order) on the last iteration. Returns the
 * partition's dangling rank. The one-mirror case (P = 2) has its own loop.
 */
function update(s: PartState, base: number, damping: number, out: Float64Array | null): number {
  const { lids, invOut, x, acc, mirrors } = s;
  const g0 = s.base;
  let dangling = 0;
  if (mirrors.length === 1) {
    const mx = mirrors[0].x;
    const at = mirrors[0].at;
    for (let i = 0; i < lids.length; i++) {
      const lid = lids[i];
      const r = base + damping * acc[lid];
      const inv = invOut[lid];
      const c = r * inv;
      x[lid] = c;
      const t = at[i];
      if (t >= 0) mx[t] = c;
      if (inv === 0) dangling += r;
      if (out !== null) out[g0 + i] = r;
    }
    return dangling;
  }
  for (let i = 0; i < lids.length; i++) {
    const lid = lids[i];
    const r = base + damping * acc[lid];
    const inv = invOut[lid];
    const c = r * inv;
    x[lid] = c;
    for (let k = 0; k < mirrors.length; k++) {
      const t = mirrors[k].at[i];
      if (t >= 0) mirrors[k].x[t] = c;
    }
    if (inv === 0) dangling += r;
    if (out !== null) out[g0 + i] = r;
  }
  return dangling;
}

function setup(proj: Projection, snap: GraphSnapshot): { parts: PartState[]; edges: number } {
  const P = proj.parts.length;
  // Owner partition of each global index: partitions hold consecutive ranges.
  const owner = new Uint16Array(proj.n);
  for (let p = 0; p < P; p++) {
    const { base, lids } = proj.parts[p];
    owner.fill(p, base, base + lids.length);
  }
  const states: PartState[] = [];
  let edges = 0;
  for (let p = 0; p < P; p++) {
    const { mask, lids, base } = proj.parts[p];
    const bound = mask.length;
    // Out-degrees by the degree kernel (a vertex's out-list lives in its own partition, so
    // these are complete).
    const deg = new Float64Array(bound);
    degrees(snap.partition(p), 'out', -1, lids, deg);
    const invOut = new Float64Array(bound);
    for (let i = 0; i < lids.length; i++) {
      const lid = lids[i];
      edges += deg[lid];
      if (deg[lid] > 0) invOut[lid] = 1 / deg[lid];
    }
    states.push({
      lids,
      base,
      invOut,
      x: new Float64Array(bound),
      acc: new Float64Array(bound),
      mirrors: [],
    });
  }
  // Mirrors: every ghost lid of partition p points back at its owner's vertex position.
  const mirrorOf: (Mirror | undefined)[][] = Array.from({ length: P }, () => new Array(P));
  for (let p = 0; p < P; p++) {
    const { mask, global } = proj.parts[p];
    for (let lid = 0; lid < mask.length; lid++) {
      const g = global[lid];
      if (mask[lid] !== 0 || g < 0) continue;
      const q = owner[g];
      let m = mirrorOf[q][p];
      if (m === undefined) {
        m = { x: states[p].x, at: new Int32Array(proj.parts[q].lids.length).fill(-1) };
        mirrorOf[q][p] = m;
        states[q].mirrors.push(m);
      }
      m.at[g - proj.parts[q].base] = lid;
    }
  }
  return { parts: states, edges };
}
