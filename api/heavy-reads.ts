/**
 * Reads whose cost grows with the answer: batch neighbours and k-hop subgraphs. They read the
 * shared buffers directly through an open GraphSnapshot (no copy, no lock), write ids into
 * growable Float64Arrays while every id is an integer (the msgpack wire form), and yield to
 * the event loop after about `yieldEveryEntries` neighbour visits, so one big request does not
 * stall every other client. The snapshot stays open (registered as a reader) across the
 * yields, so the epoch it reads cannot be reclaimed underneath.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EpochgraphError } from '../src/errors.js';
import { type ExternalId, partitionOf } from '../src/model/ids.js';
import type { GraphSnapshot, NeighborDirection } from '../src/storage/graph-snapshot.js';
import { type KeyColumn, neighborTables, resolveMany, type Snapshot } from '../src/storage/index.js';

/**
 * An append-only column of ids: a Float64Array while every id is an integer, a plain array
 * once a string id arrives.
 */
export class IdColumnBuilder {
  private nums: Float64Array;
  private mixed: ExternalId[] | null = null;
  length = 0;

  constructor(capacity = 1024) {
    this.nums = new Float64Array(Math.max(16, capacity));
  }

  push(x: ExternalId): void {
    if (this.mixed === null) {
      if (typeof x === 'number') {
        if (this.length === this.nums.length) this.grow();
        this.nums[this.length++] = x;
        return;
      }
      this.mixed = Array.from(this.nums.subarray(0, this.length));
    }
    this.mixed.push(x);
    this.length++;
  }

  private grow(): void {
    const next = new Float64Array(this.nums.length * 2);
    next.set(this.nums);
    this.nums = next;
  }

  /** The column: a Float64Array (trimmed view) when all ids are integers, else an array. */
  done(): Float64Array | ExternalId[] {
    return this.mixed ?? this.nums.subarray(0, this.length);
  }
}

export interface NeighborRows {
  /** offsets[i]..offsets[i+1] delimit row i's neighbours. */
  offsets: Float64Array;
  neighbors: Float64Array | ExternalId[];
  /** Indices into the request of ids that are not vertices at this epoch. */
  missing: Float64Array;
}

export interface HeavyReadLimits {
  maxBatchNeighbors: number;
  maxSubgraphEdges: number;
  yieldEveryEntries: number;
}

function dirsOf(direction: NeighborDirection): ('out' | 'in')[] {
  return direction === 'both' ? ['out', 'in'] : [direction];
}

function tooManyNeighbors(limit: number): EpochgraphError {
  return new EpochgraphError(
    'TOO_LARGE',
    `the answer would hold more than ${limit} neighbour ids; ask for fewer ids per request`,
    { maxBatchNeighbors: limit },
  );
}

/** Request positions per group of batchNeighborRows: ids resolved together (batch-lookup.ts). */
const RESOLVE_GROUP = 256;

/**
 * Neighbour ids of many vertices as CSR rows in request order (DESIGN §7, batch reads). The
 * ids are resolved a group at a time, per owner partition, with the memory their lists need
 * brought in on the way (storage resolveMany: ~1.5x faster than one id at a time). Each list
 * is then copied as id keys straight from the arena (Snapshot.appendNeighborKeys: no call per
 * entry); keys that stand for string ids are resolved at the end, only if there are any.
 */
export async function batchNeighborRows(
  snap: GraphSnapshot,
  ids: ArrayLike<ExternalId>,
  direction: NeighborDirection,
  label: string | undefined,
  limits: HeavyReadLimits,
): Promise<NeighborRows> {
  const parts: Snapshot[] = [];
  for (let p = 0; p < snap.partitions; p++) parts.push(snap.partition(p));
  const labelIdx = parts.map((s) => (label === undefined ? -1 : s.edgeLabelIndex(label)));
  const keys = parts.map((s) => s.idKeys());
  const dirs = dirsOf(direction);
  const tables = parts.map((s, p) =>
    label !== undefined && labelIdx[p] < 0 ? [] : neighborTables(s, dirs, labelIdx[p]),
  );
  const col: KeyColumn = { buf: new Float64Array(Math.min(ids.length * 8, 1 << 20) + 16), length: 0 };
  const offsets = new Float64Array(ids.length + 1);
  const missing: number[] = [];
  const P = parts.length;
  const owner = new Uint8Array(RESOLVE_GROUP);
  const lid = new Int32Array(RESOLVE_GROUP);
  const sel = new Int32Array(RESOLVE_GROUP);
  const found = new Int32Array(RESOLVE_GROUP);
  let sinceYield = 0;
  for (let g = 0; g < ids.length; g += RESOLVE_GROUP) {
    const end = Math.min(ids.length, g + RESOLVE_GROUP);
    for (let i = g; i < end; i++) owner[i - g] = partitionOf(ids[i], P);
    for (let p = 0; p < P; p++) {
      let n = 0;
      for (let i = g; i < end; i++) if (owner[i - g] === p) sel[n++] = i;
      if (n === 0) continue;
      resolveMany(parts[p], ids, sel, n, found, tables[p]);
      for (let k = 0; k < n; k++) lid[sel[k] - g] = found[k];
    }
    for (let i = g; i < end; i++) {
      const p = owner[i - g];
      const v = lid[i - g];
      if (v < 0) missing.push(i);
      else if (label === undefined || labelIdx[p] >= 0) {
        const before = col.length;
        for (const d of dirs) parts[p].appendNeighborKeys(v, d, labelIdx[p], keys[p], col);
        sinceYield += col.length - before;
        if (col.length > limits.maxBatchNeighbors) throw tooManyNeighbors(limits.maxBatchNeighbors);
      }
      offsets[i + 1] = col.length;
      sinceYield++;
    }
    if (sinceYield >= limits.yieldEveryEntries) {
      sinceYield = 0;
      await nextTurn();
    }
  }
  const nums = col.buf.subarray(0, col.length);
  return {
    offsets,
    neighbors: withStringIds(nums, ids, offsets, parts),
    missing: Float64Array.from(missing),
  };
}

/**
 * The answer column: the keys themselves when every one is an integer id; otherwise an array
 * with each negative key resolved by the partition of the row it belongs to.
 */
function withStringIds(
  nums: Float64Array,
  ids: ArrayLike<ExternalId>,
  offsets: Float64Array,
  parts: readonly Snapshot[],
): Float64Array | ExternalId[] {
  let first = -1;
  for (let k = 0; k < nums.length; k++) {
    if (nums[k] < 0) {
      first = k;
      break;
    }
  }
  if (first < 0) return nums;
  const out: ExternalId[] = Array.from(nums);
  for (let i = 0; i < ids.length; i++) {
    if (offsets[i + 1] <= first) continue;
    const s = parts[partitionOf(ids[i], parts.length)];
    for (let k = offsets[i]; k < offsets[i + 1]; k++) if (nums[k] < 0) out[k] = s.externalIdOfKey(nums[k]);
  }
  return out;
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
