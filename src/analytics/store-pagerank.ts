/**
 * PageRank over the store itself: the pull step reads every partition's in-adjacency blocks in
 * shared memory (pull-kernel.ts `pullSum`, range by range under the sequence locks) instead of a
 * CSR copy. Same formula and same results as `pagerank` in algorithms/pagerank.ts (the
 * Graphalytics one, dangling rank spread evenly, fixed iterations).
 *
 * State lives in local-id space, one set of arrays per partition, so the pull writes straight
 * into the rank arrays with no translation per edge:
 *  - x_p[lid]: the contribution rank/outdeg of the vertex behind lid, for this partition's
 *    vertices and for its ghosts (remote vertices that appear in its in-lists);
 *  - acc_p[lid]: the pulled sums of this partition's vertices.
 * An iteration pulls on every partition, then updates each partition's own vertices (rank,
 * next contribution, dangling sum) in one sweep over their local ids, which also keeps the
 * contributions densely by vertex position (c_p). Then the ghosts are refreshed: per pair of
 * partitions, a list of ghost local ids (ascending) and the owner's vertex positions, so the
 * refresh writes x in address order and reads c_p, which is half the size. (Writing each
 * ghost from the owner's sweep, at random addresses in the other partition's x, made P = 2
 * PageRank on 1M/10M 1.31-1.36x a plain CSR, against 1.23-1.26x this way, in one process:
 * scratch/pr-p2-split.mjs.) Every pull of an iteration finishes before any update, so no
 * partition reads a contribution of the next iteration. Out-degrees are exact without
 * exchange: a vertex's out-list lives in its own partition.
 */
import { invalid } from '../errors.js';
import type { GraphSnapshot } from '../storage/graph-snapshot.js';
import { degrees } from '../storage/kernels.js';
import { pullSum } from '../storage/pull-kernel.js';
import { DEFAULT_PAGERANK_DAMPING, DEFAULT_PAGERANK_ITERATIONS } from './algorithms/pagerank.js';
import type { Projection } from './projection.js';

/**
 * Where an owner's vertices are ghosts in another partition: x[ghosts[j]] mirrors the owner's
 * vertex at position rows[j] (ghosts ascending).
 */
interface Mirror {
  x: Float64Array;
  ghosts: Uint32Array;
  rows: Uint32Array;
}

interface PartState {
  /** The partition's vertices (local ids, ascending): the rows of the pull. */
  lids: Uint32Array;
  base: number;
  invOut: Float64Array;
  x: Float64Array;
  acc: Float64Array;
  /** The contributions of the partition's vertices, by position (what the mirrors copy). */
  c: Float64Array;
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
      const { lids, invOut, x, c } = s;
      for (let i = 0; i < lids.length; i++) {
        const inv = invOut[lids[i]];
        x[lids[i]] = inv / n;
        c[i] = inv / n;
        if (inv === 0) dangling += 1 / n;
      }
      refreshMirrors(s);
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

/**
 * One partition's update sweep: rank = base + d * pulled sum, next contribution rank/outdeg
 * into x and c, ranks into `out` (global order) on the last iteration; then its ghosts in the
 * other partitions. Returns the partition's dangling rank.
 */
function update(s: PartState, base: number, damping: number, out: Float64Array | null): number {
  const { lids, invOut, x, acc, c } = s;
  const g0 = s.base;
  let dangling = 0;
  for (let i = 0; i < lids.length; i++) {
    const lid = lids[i];
    const r = base + damping * acc[lid];
    const inv = invOut[lid];
    const ci = r * inv;
    x[lid] = ci;
    c[i] = ci;
    if (inv === 0) dangling += r;
    if (out !== null) out[g0 + i] = r;
  }
  refreshMirrors(s);
  return dangling;
}

/** The ghosts of s's vertices in the other partitions take their new contributions. */
function refreshMirrors(s: PartState): void {
  const c = s.c;
  for (const m of s.mirrors) {
    const { x, ghosts, rows } = m;
    for (let j = 0; j < ghosts.length; j++) x[ghosts[j]] = c[rows[j]];
  }
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
      c: new Float64Array(lids.length),
      mirrors: [],
    });
  }
  // Mirrors: every ghost lid of partition p points back at its owner's vertex position. Two
  // passes over p's local ids (ascending): count per owner, then fill.
  for (let p = 0; p < P; p++) {
    const { mask, global } = proj.parts[p];
    const counts = new Uint32Array(P);
    for (let lid = 0; lid < mask.length; lid++) {
      const g = global[lid];
      if (mask[lid] === 0 && g >= 0) counts[owner[g]]++;
    }
    const byOwner: (Mirror | undefined)[] = new Array(P);
    for (let q = 0; q < P; q++) {
      if (counts[q] === 0) continue;
      const m = { x: states[p].x, ghosts: new Uint32Array(counts[q]), rows: new Uint32Array(counts[q]) };
      byOwner[q] = m;
      states[q].mirrors.push(m);
    }
    const fill = new Uint32Array(P);
    for (let lid = 0; lid < mask.length; lid++) {
      const g = global[lid];
      if (mask[lid] !== 0 || g < 0) continue;
      const q = owner[g];
      const m = byOwner[q] as Mirror;
      const k = fill[q]++;
      m.ghosts[k] = lid;
      m.rows[k] = g - proj.parts[q].base;
    }
  }
  return { parts: states, edges };
}
