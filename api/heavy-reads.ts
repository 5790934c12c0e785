/**
 * The k-hop subgraph read: it reads the shared buffers directly through an open GraphSnapshot
 * (no copy, no lock) and yields to the event loop after about `yieldEveryEntries` neighbour
 * visits, so one big request does not stall every other client. The snapshot stays open
 * (registered as a reader) across the yields, so the epoch it reads cannot be reclaimed
 * underneath. (Batch neighbours live in src/storage/batch-neighbors.ts: read workers run them too.)
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EpochgraphError } from '../src/errors.js';
import { IdColumnBuilder } from '../src/model/id-column.js';
import type { ExternalId } from '../src/model/ids.js';
import { type BatchNeighborLimits, dirsOf } from '../src/storage/batch-neighbors.js';
import type { GraphSnapshot, NeighborDirection } from '../src/storage/graph-snapshot.js';

export interface HeavyReadLimits extends BatchNeighborLimits {
  maxSubgraphEdges: number;
}

export interface SubgraphResult {
  vertices: Float64Array | ExternalId[];
  src: Float64Array | ExternalId[];
  dst: Float64Array | ExternalId[];
  /** True when maxVertices stopped the expansion. */
  truncated: boolean;
}

/** Membership of ids, without building a string key per integer id. */
class IdSet {
  private readonly nums = new Set<number>();
  private readonly strs = new Set<string>();
  size = 0;
  has(id: ExternalId): boolean {
    return typeof id === 'number' ? this.nums.has(id) : this.strs.has(id);
  }
  add(id: ExternalId): void {
    const before = this.nums.size + this.strs.size;
    if (typeof id === 'number') this.nums.add(id);
    else this.strs.add(id);
    this.size += this.nums.size + this.strs.size - before;
  }
}

/**
 * The k-hop neighbourhood of seeds, breadth-first, with at most maxVertices vertices, and the
 * edges among them (each once, in its out direction). Seeds that are not vertices are skipped.
 */
export async function subgraphOf(
  snap: GraphSnapshot,
  seeds: ArrayLike<ExternalId>,
  hops: number,
  direction: NeighborDirection,
  maxVertices: number,
  limits: HeavyReadLimits,
): Promise<SubgraphResult> {
  const seen = new IdSet();
  const order: ExternalId[] = [];
  let frontier: ExternalId[] = [];
  let truncated = false;
  let work = 0;
  const pause = async () => {
    if (work >= limits.yieldEveryEntries) {
      work = 0;
      await nextTurn();
    }
  };
  for (let i = 0; i < seeds.length; i++) {
    const id = seeds[i];
    if (seen.has(id) || snap.owner(id).lookup(id) < 0) continue;
    if (seen.size >= maxVertices) {
      truncated = true;
      break;
    }
    seen.add(id);
    order.push(id);
    frontier.push(id);
  }
  const dirs = dirsOf(direction);
  for (let h = 0; h < hops && frontier.length > 0 && !truncated; h++) {
    const next: ExternalId[] = [];
    for (const id of frontier) {
      const s = snap.owner(id);
      const lid = s.lookup(id);
      for (const d of dirs) {
        s.forEachNeighbor(lid, d, -1, (nbr) => {
          work++;
          const nid = s.externalId(nbr);
          if (seen.has(nid)) return true;
          if (seen.size >= maxVertices) {
            truncated = true;
            return false;
          }
          seen.add(nid);
          order.push(nid);
          next.push(nid);
          return true;
        });
        if (truncated) break;
      }
      if (truncated) break;
      await pause();
    }
    frontier = next;
  }
  const src = new IdColumnBuilder();
  const dst = new IdColumnBuilder();
  for (const id of order) {
    const s = snap.owner(id);
    const lid = s.lookup(id);
    s.forEachNeighbor(lid, 'out', -1, (nbr) => {
      work++;
      const nid = s.externalId(nbr);
      if (seen.has(nid)) {
        src.push(id);
        dst.push(nid);
      }
    });
    if (src.length > limits.maxSubgraphEdges) {
      throw new EpochgraphError(
        'TOO_LARGE',
        `the subgraph has more than ${limits.maxSubgraphEdges} edges; lower maxVertices or hops`,
        { maxSubgraphEdges: limits.maxSubgraphEdges },
      );
    }
    await pause();
  }
  const vertices = new IdColumnBuilder(order.length);
  for (const id of order) vertices.push(id);
  return { vertices: vertices.done(), src: src.done(), dst: dst.done(), truncated };
}
