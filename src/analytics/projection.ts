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
import { gatherNeighbors } from '../storage/gather-kernels.js';
import type { GraphSnapshot } from '../storage/graph-snapshot.js';
import type { Snapshot } from '../storage/index.js';
import { degrees, vertexMask } from '../storage/kernels.js';
import type { CsrGraph } from './csr-graph.js';

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
      const keys = s.idKeys(mask.length);
      for (let lid = 0; lid < mask.length; lid++) {
        // Not a ghost: a vertex of this partition, or a hole (NaN key, id-index.ts).
        if (mask[lid] !== 0 || Number.isNaN(keys[lid])) continue;
        const id = s.externalIdOfKey(keys[lid]);
        const q = partitionOf(id, P);
        if (q === p) continue; // one of ours, deleted before the epoch or created after it
        // The owner's raw id index: whether the id is a vertex *at this epoch* is what the
        // owner's table says (-1 for a deleted vertex or one created later), so the
        // snapshot's existence check would only repeat it.
        const lq = snap.partition(q).reader.ids.lookup(id);
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
   * Copy this edge property as the weights (SSSP). Every edge must have it as a
   * non-negative number: otherwise INVALID_REQUEST naming the edge by its external ids.
   */
  weight?: string;
}

/**
 * The adjacency of the projection as a CSR graph (both directions, global numbering). Each
 * edge is read once, from its source's out-list, by the range-scan kernel `gatherNeighbors`
 * (no per-edge callback); parallel edges under different labels stay parallel (see
 * csr-graph.ts on multiplicity). Out-rows list a vertex's edges label by label in insertion
 * order (kernels do not rely on row order); in-rows are sorted by source.
 */
export function projectCsr(proj: Projection, snap: GraphSnapshot, options: ProjectCsrOptions = {}): CsrGraph {
  const { n, parts } = proj;
  const P = parts.length;
  // Row sizes: the out-degree of every vertex, by the degree kernel.
  const outOffsets = new Float64Array(n + 1);
  const cursors: Float64Array[] = [];
  for (let p = 0; p < P; p++) {
    const { mask, lids, base } = parts[p];
    const deg = new Float64Array(mask.length);
    degrees(snap.partition(p), 'out', -1, lids, deg);
    for (let i = 0; i < lids.length; i++) outOffsets[base + i + 1] = deg[lids[i]];
    cursors.push(deg);
  }
  for (let v = 0; v < n; v++) outOffsets[v + 1] += outOffsets[v];
  const m = outOffsets[n];
  const outTargets = new Uint32Array(m);
  const weights = options.weight === undefined ? undefined : new Float64Array(m);
  const addrs = weights === undefined ? undefined : new Uint32Array(m);

  for (let p = 0; p < P; p++) {
    const s = snap.partition(p);
    const { lids, base, global } = parts[p];
    const cursor = cursors[p];
    for (let i = 0; i < lids.length; i++) cursor[lids[i]] = outOffsets[base + i];
    if (weights === undefined || addrs === undefined) {
      gatherNeighbors(s, 'out', -1, lids, cursor, outTargets);
    } else {
      // Label by label, so each entry's weight is read from its own label's column.
      const labels = s.schema.edgeLabels;
      const before = new Float64Array(cursor.length);
      for (let l = 0; l < labels.length; l++) {
        before.set(cursor);
        gatherNeighbors(s, 'out', l, lids, cursor, outTargets, addrs);
        readWeights(s, l, options.weight as string, lids, before, cursor, addrs, weights);
      }
    }
    // Every row must be exactly as long as counted, then local ids become global indices.
    for (let i = 0; i < lids.length; i++) {
      if (cursor[lids[i]] !== outOffsets[base + i + 1]) {
        throw new EpochgraphError('INTERNAL', `partition ${p}: a row changed length while it was copied`);
      }
    }
    const end = outOffsets[base + lids.length];
    for (let e = outOffsets[base]; e < end; e++) {
      const t = global[outTargets[e]];
      // An edge live at the epoch has both endpoints live at the epoch (deleting a vertex
      // deletes its edges in the same epoch), so this is a storage bug, not a user error.
      if (!(t >= 0)) throw new EpochgraphError('INTERNAL', `edge to local id ${outTargets[e]}, no vertex`);
      outTargets[e] = t;
    }
  }
  if (weights !== undefined) checkWeights(proj, outOffsets, outTargets, weights, options.weight as string);

  const t = transpose(n, outOffsets, outTargets, weights);
  const g: CsrGraph = { n, outOffsets, outTargets, inOffsets: t.offsets, inTargets: t.targets };
  if (weights !== undefined) {
    g.outWeights = weights;
    g.inWeights = t.weights;
  }
  return g;
}

/**
 * weights[pos] = the f64 property `name` of label l at addrs[pos], for the entries each
 * vertex received in [before[lid], cursor[lid]); NaN where the entry has none. The same read
 * as Snapshot.edgeProps, without a props object per edge.
 */
function readWeights(
  s: Snapshot,
  l: number,
  name: string,
  lids: Uint32Array,
  before: Float64Array,
  cursor: Float64Array,
  addrs: Uint32Array,
  weights: Float64Array,
): void {
  const label = s.schema.edgeLabels[l];
  const prop = label.props.find((x) => x.name === name);
  if (prop !== undefined && prop.kind !== 'f64') {
    throw invalid(`edge property "${name}" of label "${label.name}" is ${prop.type}, not a number`, {
      weight: name,
      label: label.name,
      type: prop.type,
    });
  }
  const col = prop === undefined ? null : s.reader.edgeColumn(prop.ecol);
  const bits = s.reader.arena.chunkBits;
  const cmask = s.reader.arena.chunkMask;
  for (let i = 0; i < lids.length; i++) {
    const lid = lids[i];
    const end = cursor[lid];
    for (let pos = before[lid]; pos < end; pos++) {
      let x = Number.NaN;
      if (col !== null) {
        const addr = addrs[pos];
        const arr = col.f64[addr >>> bits];
        const off = addr & cmask;
        if (off < arr.length) x = decodeF64(arr[off]);
      }
      weights[pos] = x;
    }
  }
}

/** The in-adjacency of an out-CSR (rows sorted by source), weights carried along. */
function transpose(
  n: number,
  offsets: Float64Array,
  targets: Uint32Array,
  weights: Float64Array | undefined,
): { offsets: Float64Array; targets: Uint32Array; weights: Float64Array | undefined } {
  const m = targets.length;
  const inOffsets = new Float64Array(n + 1);
  for (let e = 0; e < m; e++) inOffsets[targets[e] + 1]++;
  for (let v = 0; v < n; v++) inOffsets[v + 1] += inOffsets[v];
  const cursor = inOffsets.slice(0, n);
  const inTargets = new Uint32Array(m);
  const inWeights = weights === undefined ? undefined : new Float64Array(m);
  for (let v = 0; v < n; v++) {
    const end = offsets[v + 1];
    for (let e = offsets[v]; e < end; e++) {
      const p = cursor[targets[e]]++;
      inTargets[p] = v;
      if (inWeights !== undefined) inWeights[p] = (weights as Float64Array)[e];
    }
  }
  return { offsets: inOffsets, targets: inTargets, weights: inWeights };
}

/** Every edge needs a non-negative weight; name the first that has none by its ids. */
function checkWeights(
  proj: Projection,
  offsets: Float64Array,
  targets: Uint32Array,
  weights: Float64Array,
  name: string,
): void {
  for (let v = 0; v < proj.n; v++) {
    const end = offsets[v + 1];
    for (let e = offsets[v]; e < end; e++) {
      const w = weights[e];
      if (w >= 0) continue;
      const edge = { src: proj.ids[v], dst: proj.ids[targets[e]] };
      const what = `edge ${JSON.stringify(edge.src)} -> ${JSON.stringify(edge.dst)}`;
      if (Number.isNaN(w)) {
        throw invalid(`${what} has no number property "${name}"`, { weight: name, edge });
      }
      throw invalid(`${what} has a negative weight ${w}`, { weight: name, edge, value: w });
    }
  }
}
