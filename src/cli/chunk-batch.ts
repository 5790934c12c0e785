/**
 * One parsed chunk of a graph file as one batch of the API: edges in the columnar bulk form
 * (typed arrays in msgpack), vertices declared by the file (`.v` lines, adjacency line heads)
 * as upsertVertex ops in the same batch, so the chunk is applied whole or not at all.
 *
 * A property column must hold a value for every edge (the server refuses NaN and null), so
 * edges that lack one (an edge-list line without a weight among lines with one, an empty CSV
 * field) travel as upsertEdge ops with the properties they have, in the same batch.
 * `undirected` adds the reverse of every edge but self-loops.
 */
import type { BatchInput } from '../client/index.js';
import type { GraphChunk, IdColumn } from '../formats/index.js';
import type { ExternalId } from '../model/ids.js';
import type { Op } from '../model/ops.js';
import type { Props, PropValue } from '../model/schema.js';

export interface ChunkBatchOptions {
  undirected: boolean;
  /** Edge label (server default `edge` when undefined). */
  label?: string;
  /** Label of declared vertices (server default `vertex` when undefined). */
  vertexLabel?: string;
}

/** The property name edge-list weights are stored under. */
export const WEIGHT_PROPERTY = 'weight';

type Column = Float64Array | (number | string | boolean | null)[];

/** Whether row i of a column has no value. */
function missing(col: Column, i: number): boolean {
  const v = col[i];
  return v === null || (typeof v === 'number' && Number.isNaN(v));
}

/** Numbers-only columns as Float64Array (msgpack sends them as one typed array). */
function compact(col: Column): Float64Array | (string | boolean | number)[] {
  if (col instanceof Float64Array) return col;
  if (col.every((v) => typeof v === 'number')) return Float64Array.from(col as number[]);
  return col as (string | boolean | number)[];
}

/** Rows `rows` of a column, in that order (all of it when null); a Float64Array stays one. */
function pick<T>(col: Float64Array | T[], rows: Uint32Array | null): Float64Array | T[] {
  if (rows === null) return col;
  if (col instanceof Float64Array) {
    const out = new Float64Array(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = col[rows[k]];
    return out;
  }
  return Array.from(rows, (r) => col[r]);
}

/** src then dst (the reverse edges appended, self-loops skipped) and the matching row order. */
function bothWays(src: IdColumn, dst: IdColumn): { src: IdColumn; dst: IdColumn; rows: Uint32Array } {
  const n = src.length;
  const reverse: number[] = [];
  for (let i = 0; i < n; i++) if (src[i] !== dst[i]) reverse.push(i);
  const rows = new Uint32Array(n + reverse.length);
  for (let i = 0; i < n; i++) rows[i] = i;
  rows.set(reverse, n);
  const m = rows.length;
  if (src instanceof Float64Array && dst instanceof Float64Array) {
    const s = new Float64Array(m);
    const d = new Float64Array(m);
    s.set(src);
    d.set(dst);
    for (let k = n; k < m; k++) {
      s[k] = dst[rows[k]];
      d[k] = src[rows[k]];
    }
    return { src: s, dst: d, rows };
  }
  const s: ExternalId[] = Array.from(src);
  const d: ExternalId[] = Array.from(dst);
  for (let k = n; k < m; k++) {
    s.push(dst[rows[k]]);
    d.push(src[rows[k]]);
  }
  return { src: s, dst: d, rows };
}

/** The batch of one chunk, and how many input edges and vertices it carries. */
export function chunkToBatch(
  chunk: GraphChunk,
  opts: ChunkBatchOptions,
): { batch: BatchInput; edges: number; vertices: number } {
  const ops: Op[] = [];
  const vertices = chunk.vertices?.length ?? 0;
  if (chunk.vertices !== undefined) {
    for (let i = 0; i < chunk.vertices.length; i++) {
      const op: Op = { op: 'upsertVertex', id: chunk.vertices[i] };
      if (opts.vertexLabel !== undefined) op.label = opts.vertexLabel;
      ops.push(op);
    }
  }
  const inputEdges = chunk.src.length;
  let src = chunk.src;
  let dst = chunk.dst;
  const columns: Record<string, Column> = {};
  if (chunk.weights !== undefined) columns[WEIGHT_PROPERTY] = chunk.weights;
  for (const [name, col] of Object.entries(chunk.props ?? {})) columns[name] = col;
  let rowsOfColumns: Uint32Array | null = null;
  if (opts.undirected && inputEdges > 0) {
    const both = bothWays(src, dst);
    src = both.src;
    dst = both.dst;
    rowsOfColumns = both.rows;
  }
  const names = Object.keys(columns);
  const n = src.length;
  // Rows (of the possibly doubled edge list) with a missing property value.
  const partial: number[] = [];
  if (names.length > 0) {
    for (let k = 0; k < n; k++) {
      const row = rowsOfColumns === null ? k : rowsOfColumns[k];
      if (names.some((name) => missing(columns[name], row))) partial.push(k);
    }
  }
  const batch: BatchInput = {};
  if (n > 0) {
    let full: Uint32Array | null = null;
    if (partial.length > 0) {
      full = new Uint32Array(n - partial.length);
      let j = 0;
      let p = 0;
      for (let k = 0; k < n; k++) {
        if (p < partial.length && partial[p] === k) p++;
        else full[j++] = k;
      }
      for (const k of partial) {
        const row = rowsOfColumns === null ? k : rowsOfColumns[k];
        const op: Op = { op: 'upsertEdge', src: src[k], dst: dst[k] };
        if (opts.label !== undefined) op.label = opts.label;
        const props: Props = {};
        for (const name of names)
          if (!missing(columns[name], row)) props[name] = columns[name][row] as PropValue;
        if (Object.keys(props).length > 0) op.props = props;
        ops.push(op);
      }
    }
    if (full === null || full.length > 0) {
      const edges: NonNullable<BatchInput['edges']> = { src: pick(src, full), dst: pick(dst, full) };
      if (opts.label !== undefined) edges.label = opts.label;
      if (names.length > 0) {
        // Column rows follow the (doubled, then filtered) edge rows.
        let rows: Uint32Array | null = rowsOfColumns;
        if (full !== null) {
          const base = rowsOfColumns;
          rows = base === null ? full : Uint32Array.from(full, (k) => base[k]);
        }
        const props: Record<string, Float64Array | (string | boolean | number)[]> = {};
        for (const name of names) props[name] = compact(pick(columns[name], rows));
        edges.props = props;
      }
      batch.edges = edges;
    }
  }
  if (ops.length > 0) batch.ops = ops;
  return { batch, edges: inputEdges, vertices };
}
