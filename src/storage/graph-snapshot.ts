/**
 * A consistent read of all local partitions at one epoch, keyed by external ids: what the HTTP
 * API serves. Each partition is opened at the same epoch (all partitions of a machine seal the
 * same epoch numbers, and the machine only hands out epochs every partition has made
 * durable), so a batch is either entirely visible or not at all.
 */
import { EpochgraphError, invalid } from '../errors.js';
import { type ExternalId, partitionOf } from '../model/ids.js';
import type { PartitionReader } from './partition-reader.js';
import type { PropOut, Snapshot, VertexRecord } from './snapshot.js';

export const NEIGHBOR_DIRECTIONS = ['out', 'in', 'both'] as const;
export type NeighborDirection = (typeof NEIGHBOR_DIRECTIONS)[number];

export interface VertexView extends VertexRecord {
  outDegree: number;
  inDegree: number;
}

export interface NeighborPage {
  neighbors: ExternalId[];
  /** Edge labels, parallel to neighbors. */
  labels: string[];
  /** Direction of each neighbour ('out' or 'in'), parallel to neighbors. */
  directions: ('out' | 'in')[];
  /** Requested edge properties, parallel to neighbors (out-edges carry their own; in-edges are read at the source). */
  props?: Record<string, PropOut>[];
  nextCursor?: string;
}

export interface BatchNeighbors {
  /** offsets[i]..offsets[i+1] are row i's neighbours (rows in request order). */
  offsets: Float64Array;
  neighbors: ExternalId[];
  /** Indices (into the request) of ids that are not vertices at this epoch. */
  missing: number[];
}

export interface Subgraph {
  vertices: ExternalId[];
  edges: { src: ExternalId[]; dst: ExternalId[] };
  truncated: boolean;
}

/** One chunk of a partition's CSR, in external ids. */
export interface CsrChunk {
  ids: ExternalId[];
  /** Row lengths of this chunk (offsets are cumulative across chunks). */
  counts: Uint32Array;
  neighbors: ExternalId[];
}

/** Cursor: base64url of JSON [direction index, label index, position]. */
function encodeCursor(phase: number, label: number, pos: number): string {
  return Buffer.from(JSON.stringify([phase, label, pos])).toString('base64url');
}

function decodeCursor(c: string): [number, number, number] {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && v.every((x) => Number.isSafeInteger(x) && x >= 0))
      return v as [number, number, number];
  } catch {
    // fall through
  }
  throw invalid(`cursor "${c}" is not a cursor this server issued`);
}

export class GraphSnapshot {
  private readonly parts: Snapshot[];
  private closed = false;

  /** Open every partition at `epoch` (registering a reader in each). */
  constructor(
    readers: readonly PartitionReader[],
    readonly epoch: number,
  ) {
    const opened: Snapshot[] = [];
    try {
      for (const r of readers) opened.push(r.open(epoch));
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    this.parts = opened;
  }

  get partitions(): number {
    return this.parts.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.parts) s.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The partition snapshot that owns an id. */
  owner(id: ExternalId): Snapshot {
    return this.parts[partitionOf(id, this.parts.length)];
  }

  partition(p: number): Snapshot {
    const s = this.parts[p];
    if (s === undefined)
      throw new EpochgraphError(
        'NOT_FOUND',
        `partition ${p} does not exist (there are ${this.parts.length})`,
      );
    return s;
  }

  vertex(id: ExternalId): VertexView | null {
    const s = this.owner(id);
    const lid = s.lookup(id);
    if (lid < 0) return null;
    const v = s.vertex(id) as VertexRecord;
    return { ...v, outDegree: s.degree(lid, 'out'), inDegree: s.degree(lid, 'in') };
  }

  /**
   * A page of a vertex's neighbours (null when the vertex does not exist at this epoch).
   * Order: out-neighbours then in-neighbours, each by label, in insertion order.
   */
  neighbors(
    id: ExternalId,
    opts: {
      direction?: NeighborDirection;
      label?: string;
      limit?: number;
      cursor?: string;
      props?: readonly string[];
    } = {},
  ): NeighborPage | null {
    const s = this.owner(id);
    const lid = s.lookup(id);
    if (lid < 0) return null;
    const direction = opts.direction ?? 'out';
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const dirs: ('out' | 'in')[] = direction === 'both' ? ['out', 'in'] : [direction];
    const labelIdx = opts.label === undefined ? -1 : s.edgeLabelIndex(opts.label);
    const page: NeighborPage = { neighbors: [], labels: [], directions: [] };
    if (opts.props !== undefined) page.props = [];
    if (opts.label !== undefined && labelIdx < 0) return page;
    const names = s.edgeLabelNames();
    let [phase, startLabel, startPos] = opts.cursor === undefined ? [0, 0, 0] : decodeCursor(opts.cursor);
    for (; phase < dirs.length; phase++, startLabel = 0, startPos = 0) {
      const dir = dirs[phase];
      const labels = labelIdx >= 0 ? [labelIdx] : names.map((_n, i) => i);
      for (let li = 0; li < labels.length; li++) {
        const l = labels[li];
        if (l < startLabel) continue;
        let pos = 0;
        let stopAt: string | undefined;
        s.forEachNeighbor(lid, dir, l, (nbr, addr) => {
          const k = pos++;
          if (l === startLabel && k < startPos) return true;
          if (page.neighbors.length >= limit) {
            stopAt = encodeCursor(phase, l, k);
            return false;
          }
          const nid = s.externalId(nbr);
          page.neighbors.push(nid);
          page.labels.push(names[l]);
          page.directions.push(dir);
          if (page.props !== undefined) {
            page.props.push(
              dir === 'out'
                ? s.edgeProps(l, addr, opts.props)
                : this.inEdgeProps(nid, id, names[l], opts.props ?? []),
            );
          }
          return true;
        });
        if (stopAt !== undefined) {
          page.nextCursor = stopAt;
          return page;
        }
      }
    }
    return page;
  }

  /** Properties of edge src -> dst (label), read where the edge's out-entry lives. */
  private inEdgeProps(
    src: ExternalId,
    dst: ExternalId,
    label: string,
    only: readonly string[],
  ): Record<string, PropOut> {
    const s = this.owner(src);
    const sl = s.lookup(src);
    const l = s.edgeLabelIndex(label);
    if (sl < 0 || l < 0) return {};
    let found: Record<string, PropOut> = {};
    s.forEachNeighbor(sl, 'out', l, (nbr, addr) => {
      if (s.externalId(nbr) === dst) {
        found = s.edgeProps(l, addr, only);
        return false;
      }
      return true;
    });
    return found;
  }

  /** Neighbour ids of many vertices, as CSR rows in request order. */
  batchNeighbors(
    ids: readonly ExternalId[],
    direction: NeighborDirection = 'out',
    label?: string,
  ): BatchNeighbors {
    const offsets = new Float64Array(ids.length + 1);
    const neighbors: ExternalId[] = [];
    const missing: number[] = [];
    const dirs: ('out' | 'in')[] = direction === 'both' ? ['out', 'in'] : [direction];
    for (let i = 0; i < ids.length; i++) {
      const s = this.owner(ids[i]);
      const lid = s.lookup(ids[i]);
      if (lid < 0) missing.push(i);
      else {
        const l = label === undefined ? -1 : s.edgeLabelIndex(label);
        if (label === undefined || l >= 0) {
          for (const d of dirs) {
            s.forEachNeighbor(lid, d, l, (nbr) => {
              neighbors.push(s.externalId(nbr));
            });
          }
        }
      }
      offsets[i + 1] = neighbors.length;
    }
    return { offsets, neighbors, missing };
  }

  /** The k-hop neighbourhood of seeds (breadth-first), at most maxVertices vertices. */
  subgraph(
    seeds: readonly ExternalId[],
    hops: number,
    direction: NeighborDirection,
    maxVertices: number,
  ): Subgraph {
    const seen = new Map<string, ExternalId>();
    const key = (id: ExternalId) => (typeof id === 'number' ? `n${id}` : `s${id}`);
    let frontier: ExternalId[] = [];
    let truncated = false;
    for (const id of seeds) {
      if (seen.size >= maxVertices) {
        truncated = true;
        break;
      }
      if (!seen.has(key(id)) && this.owner(id).lookup(id) >= 0) {
        seen.set(key(id), id);
        frontier.push(id);
      }
    }
    const src: ExternalId[] = [];
    const dst: ExternalId[] = [];
    const dirs: ('out' | 'in')[] = direction === 'both' ? ['out', 'in'] : [direction];
    for (let h = 0; h < hops && frontier.length > 0 && !truncated; h++) {
      const next: ExternalId[] = [];
      for (const id of frontier) {
        const s = this.owner(id);
        const lid = s.lookup(id);
        for (const d of dirs) {
          s.forEachNeighbor(lid, d, -1, (nbr) => {
            const nid = s.externalId(nbr);
            const k = key(nid);
            if (!seen.has(k)) {
              if (seen.size >= maxVertices) {
                truncated = true;
                return false;
              }
              seen.set(k, nid);
              next.push(nid);
            }
            return true;
          });
          if (truncated) break;
        }
        if (truncated) break;
      }
      frontier = next;
    }
    // Edges among the collected vertices (each once, in its out direction).
    for (const id of seen.values()) {
      const s = this.owner(id);
      const lid = s.lookup(id);
      s.forEachNeighbor(lid, 'out', -1, (nbr) => {
        const nid = s.externalId(nbr);
        if (seen.has(key(nid))) {
          src.push(id);
          dst.push(nid);
        }
      });
    }
    return { vertices: [...seen.values()], edges: { src, dst }, truncated };
  }

  /**
   * A partition's CSR in external ids, as chunks of about `chunkEntries` neighbours, so a
   * large partition is streamed instead of materialized twice.
   */
  *partitionCsr(
    p: number,
    direction: 'out' | 'in',
    label?: string,
    chunkEntries = 1 << 16,
  ): Generator<CsrChunk> {
    const s = this.partition(p);
    const l = label === undefined ? -1 : s.edgeLabelIndex(label);
    const lids: number[] = [];
    s.forEachVertex((lid) => lids.push(lid));
    let ids: ExternalId[] = [];
    let counts: number[] = [];
    let neighbors: ExternalId[] = [];
    for (const lid of lids) {
      ids.push(s.externalId(lid));
      let c = 0;
      if (label === undefined || l >= 0) {
        s.forEachNeighbor(lid, direction, l, (nbr) => {
          neighbors.push(s.externalId(nbr));
          c++;
        });
      }
      counts.push(c);
      if (neighbors.length >= chunkEntries || ids.length >= chunkEntries) {
        yield { ids, counts: Uint32Array.from(counts), neighbors };
        ids = [];
        counts = [];
        neighbors = [];
      }
    }
    if (ids.length > 0 || lids.length === 0) yield { ids, counts: Uint32Array.from(counts), neighbors };
  }
}
