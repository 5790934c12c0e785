/**
 * The projection of a multi-partition snapshot onto one dense vertex numbering, which is what
 * the analytics kernels need.
 *
 * Numbering. The vertices existing at the epoch, over all partitions, get global indices
 * 0..n-1: partition 0's vertices first, in local-id order, then partition 1's, and so on.
 * Each partition keeps a table `global` over *all* its local ids: its own vertices map to
 * their index, and so do its ghosts (local ids of vertices another partition owns, which
 * appear in this partition's adjacency as the far end of cross-partition edges). A ghost is
 * resolved once per projection, by its external id, through the owner's id index. Local ids
 * that are neither (vertices deleted before the epoch or created after it) map to -1.
 *
 * Everything is read in place from the partitions' shared memory through open snapshots;
 * nothing is copied between threads. The projection itself is plain data that depends only on
 * the epoch (an epoch's state never changes), so it stays valid after the snapshots close.
 *
 * `projectCsr` then copies the adjacency into a {@link CsrGraph} in the global numbering for
 * the kernels that need random access in both directions (BFS, WCC, CDLP, LCC, SSSP, and
 * undirected PageRank). Directed PageRank does not: it pulls over the store's own blocks
 * (store-pagerank.ts).
 */
import { EpochgraphError, invalid } from '../errors.js';
import { type ExternalId, partitionOf } from '../model/ids.js';
import { decodeF64 } from '../storage/edge-columns.js';
import type { GraphSnapshot } from '../storage/graph-snapshot.js';
import type { Snapshot } from '../storage/index.js';
import { vertexMask } from '../storage/kernels.js';
import type { ColumnChunkViews } from '../storage/shared-pool.js';
import { type CsrGraph, csrFromEdges } from './csr-graph.js';

/** One partition's part of a {@link Projection}. */
export interface PartitionProjection {
  /** The partition number. */
  readonly partition: number;
  /** By local id: 1 where the local id is a vertex of this partition at the epoch. */
  readonly mask: Uint8Array;
  /** This partition's vertices in ascending local-id order; lids[i] has global index base + i. */
  readonly lids: Uint32Array;
  /** The global index of this partition's first vertex. */
  readonly base: number;
  /** By local id (vertices and ghosts): the global index, or -1 when none exists at the epoch. */
  readonly global: Int32Array;
}

/** A dense numbering of every vertex of every partition at one epoch. */
export interface Projection {
  /** The epoch projected. */
  readonly epoch: number;
  /** The number of vertices. */
  readonly n: number;
  /** ids[v]: the external id of global index v. */
  readonly ids: ExternalId[];
  /** The ids as numbers when every id is an integer, else null. */
  readonly numericIds: Float64Array | null;
  /** One entry per partition, in partition order. */
  readonly parts: PartitionProjection[];
}

/** Per-phase costs, for metrics and benchmarks. */
export interface ProjectionTimings {
  verticesMs: number;
  ghostsMs: number;
}

/** Build the projection of a multi-partition snapshot (optionally timing its phases). */
export function project(snap: GraphSnapshot, timings?: ProjectionTimings): Projection {
  const P = snap.partitions;
  const t0 = performance.now();
  const parts: PartitionProjection[] = [];
  const ids: ExternalId[] = [];
  let numeric = true;
  // Pass 1: every partition's own vertices.
  for (let p = 0; p < P; p++) {
    const s = snap.partition(p);
    const mask = vertexMask(s);
    let count = 0;
    for (let lid = 0; lid < mask.length; lid++) count += mask[lid];
    const lids = new Uint32Array(count);
    const global = new Int32Array(mask.length).fill(-1);
    const base = ids.length;
    let i = 0;
    for (let lid = 0; lid < mask.length; lid++) {
      if (mask[lid] === 0) continue;
      lids[i] = lid;
      global[lid] = base + i;
      const id = s.externalId(lid);
      if (typeof id !== 'number') numeric = false;
      ids.push(id);
      i++;
    }
    parts.push({ partition: p, mask, lids, base, global });
  }
  const t1 = performance.now();
  // Pass 2: ghosts, through the owner's id index.
  if (P > 1) {
    for (let p = 0; p < P; p++) {
      const s = snap.partition(p);
      const { mask, global } = parts[p];
      for (let lid = 0; lid < mask.length; lid++) {
        if (mask[lid] !== 0) continue;
        const id = s.externalId(lid);
        const q = partitionOf(id, P);
        if (q === p) continue; // one of ours, deleted before the epoch or created after it
        const lq = snap.partition(q).lookup(id);
        const gq = parts[q].global;
        if (lq >= 0 && lq < gq.length) global[lid] = gq[lq];
      }
    }
  }
  const t2 = performance.now();
  if (timings !== undefined) {
    timings.verticesMs = t1 - t0;
    timings.ghostsMs = t2 - t1;
  }
  return {
    epoch: snap.epoch,
    n: ids.length,
    ids,
    numericIds: numeric ? Float64Array.from(ids as number[]) : null,
    parts,
  };
}

/** The global index of an external id, or -1 when it is not a vertex at the epoch. */
export function vertexIndex(proj: Projection, snap: GraphSnapshot, id: ExternalId): number {
  const p = partitionOf(id, snap.partitions);
  const lid = snap.partition(p).lookup(id);
  if (lid < 0) return -1;
  const g = proj.parts[p].global;
  return lid < g.length ? g[lid] : -1;
}

/** Options of {@link projectCsr}. */
export interface ProjectCsrOptions {
  /**
   * Copy this edge property as the weights (SSSP). Every edge must have it as a number:
   * otherwise INVALID_REQUEST naming the edge by its external ids.
   */
  weight?: string;
}

/**
 * The adjacency of the projection as a CSR graph (both directions, global numbering). Each
 * edge is read once, from its source's out-list; parallel edges under different labels stay
 * parallel (see csr-graph.ts on multiplicity).
 */
export function projectCsr(proj: Projection, snap: GraphSnapshot, options: ProjectCsrOptions = {}): CsrGraph {
  const P = proj.parts.length;
  // Edge count first, so the edge arrays are allocated once.
  let m = 0;
  for (let p = 0; p < P; p++) {
    const s = snap.partition(p);
    const lids = proj.parts[p].lids;
    for (let i = 0; i < lids.length; i++) m += s.degree(lids[i], 'out', -1);
  }
  const src = new Uint32Array(m);
  const dst = new Uint32Array(m);
  const weights = options.weight === undefined ? undefined : new Float64Array(m);
  const collector = new EdgeCollector(src, dst, weights);
  for (let p = 0; p < P; p++) {
    const s = snap.partition(p);
    const { lids, base, global } = proj.parts[p];
    collector.begin(s, global, options.weight);
    for (let i = 0; i < lids.length; i++) {
      collector.source = base + i;
      s.forEachNeighbor(lids[i], 'out', -1, collector.visit);
    }
  }
  if (collector.count !== m) {
    throw new EpochgraphError('INTERNAL', `projection read ${collector.count} edges, expected ${m}`);
  }
  if (weights !== undefined) checkWeights(proj, src, dst, weights, options.weight as string);
  return csrFromEdges(proj.n, src, dst, weights);
}

/**
 * Appends the out-edges of one vertex after another into the edge arrays. One instance and
 * one bound `visit` per projection: forEachNeighbor calls it per edge, so nothing is allocated
 * per edge or per vertex.
 */
class EdgeCollector {
  count = 0;
  source = 0;
  private global: Int32Array = new Int32Array(0);
  private columns: (ColumnChunkViews | null)[] = [];
  private chunkBits = 0;
  private chunkMask = 0;

  constructor(
    private readonly src: Uint32Array,
    private readonly dst: Uint32Array,
    private readonly weights: Float64Array | undefined,
  ) {}

  /** Switch to a partition: its translation table and, for weights, its f64 columns by label. */
  begin(s: Snapshot, global: Int32Array, weight: string | undefined): void {
    this.global = global;
    this.columns = [];
    if (weight === undefined) return;
    const arena = s.reader.arena;
    this.chunkBits = arena.chunkBits;
    this.chunkMask = arena.chunkMask;
    for (const label of s.schema.edgeLabels) {
      const prop = label.props.find((x) => x.name === weight);
      if (prop !== undefined && prop.kind !== 'f64') {
        throw invalid(`edge property "${weight}" of label "${label.name}" is ${prop.type}, not a number`, {
          weight,
          label: label.name,
          type: prop.type,
        });
      }
      this.columns.push(prop === undefined ? null : s.reader.edgeColumn(prop.ecol));
    }
  }

  readonly visit = (nbr: number, addr: number, labelIdx: number): void => {
    const k = this.count;
    const t = nbr < this.global.length ? this.global[nbr] : -1;
    if (t < 0) {
      // An edge live at the epoch has both endpoints live at the epoch (deleting a vertex
      // deletes its edges in the same epoch), so this is a storage bug, not a user error.
      throw new EpochgraphError('INTERNAL', `edge to local id ${nbr}, which is no vertex at this epoch`);
    }
    this.src[k] = this.source;
    this.dst[k] = t;
    const w = this.weights;
    if (w !== undefined) {
      // The same read as Snapshot.edgeProps, without building a props object per edge.
      const col = this.columns[labelIdx];
      let x = Number.NaN;
      if (col !== null && col !== undefined) {
        const arr = col.f64[addr >>> this.chunkBits];
        const off = addr & this.chunkMask;
        if (off < arr.length) x = decodeF64(arr[off]);
      }
      w[k] = x;
    }
    this.count = k + 1;
  };
}

/** Every edge needs a non-negative weight; name the first that has none by its ids. */
function checkWeights(
  proj: Projection,
  src: Uint32Array,
  dst: Uint32Array,
  weights: Float64Array,
  name: string,
): void {
  for (let e = 0; e < weights.length; e++) {
    const w = weights[e];
    if (w >= 0) continue;
    const edge = { src: proj.ids[src[e]], dst: proj.ids[dst[e]] };
    if (Number.isNaN(w)) {
      throw invalid(
        `edge ${JSON.stringify(edge.src)} -> ${JSON.stringify(edge.dst)} has no number property "${name}"`,
        { weight: name, edge },
      );
    }
    throw invalid(
      `edge ${JSON.stringify(edge.src)} -> ${JSON.stringify(edge.dst)} has a negative weight ${w}`,
      { weight: name, edge, value: w },
    );
  }
}
