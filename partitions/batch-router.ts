/**
 * Splitting a batch across partitions. Each op goes to the partitions that store something of
 * it: vertex ops to the vertex's owner, edge ops to the owners of both endpoints (one message
 * when they coincide). A batch is cut into segments after each deleteVertex: deleting a vertex
 * returns edge deletions owed by other partitions (cascades), which must be applied before
 * any later op of the same batch. Bulk edges ride in the last segment, split per partition.
 */
import { partitionOf } from '../src/model/ids.js';
import type { Batch, EdgeColumns, Op, PropColumn } from '../src/model/ops.js';

export interface SubBatch {
  ops: Op[];
  edges?: EdgeColumns;
}

/** segments[k] maps partition -> its part of segment k. */
export type Route = Map<number, SubBatch>[];

function part(seg: Map<number, SubBatch>, p: number): SubBatch {
  let s = seg.get(p);
  if (s === undefined) seg.set(p, (s = { ops: [] }));
  return s;
}

export function routeBatch(batch: Batch, partitions: number): Route {
  if (partitions === 1) {
    const whole: SubBatch =
      batch.edges === undefined ? { ops: batch.ops } : { ops: batch.ops, edges: batch.edges };
    return [new Map([[0, whole]])];
  }
  const segments: Route = [new Map()];
  let seg = segments[0];
  for (const op of batch.ops) {
    if (op.op === 'upsertVertex' || op.op === 'deleteVertex') {
      part(seg, partitionOf(op.id, partitions)).ops.push(op);
      if (op.op === 'deleteVertex') {
        seg = new Map();
        segments.push(seg);
      }
    } else {
      const ps = partitionOf(op.src, partitions);
      const pd = partitionOf(op.dst, partitions);
      part(seg, ps).ops.push(op);
      if (pd !== ps) part(seg, pd).ops.push(op);
    }
  }
  if (batch.edges !== undefined) {
    for (const [p, cols] of splitEdges(batch.edges, partitions)) part(seg, p).edges = cols;
  }
  while (segments.length > 1 && segments[segments.length - 1].size === 0) segments.pop();
  return segments;
}

/** Bulk edges per partition: each edge goes to the owners of its endpoints. */
export function splitEdges(e: EdgeColumns, partitions: number): Map<number, EdgeColumns> {
  const idx: number[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < e.src.length; i++) {
    const ps = partitionOf(e.src[i], partitions);
    const pd = partitionOf(e.dst[i], partitions);
    idx[ps].push(i);
    if (pd !== ps) idx[pd].push(i);
  }
  const out = new Map<number, EdgeColumns>();
  for (let p = 0; p < partitions; p++) {
    if (idx[p].length === 0) continue;
    const cols: EdgeColumns = { src: pickIds(e.src, idx[p]), dst: pickIds(e.dst, idx[p]) };
    if (e.label !== undefined) cols.label = e.label;
    if (e.props !== undefined) {
      const props: Record<string, PropColumn> = {};
      for (const [k, col] of Object.entries(e.props)) {
        props[k] = col instanceof Float64Array ? pickF64(col, idx[p]) : pick(col, idx[p]);
      }
      cols.props = props;
    }
    out.set(p, cols);
  }
  return out;
}

// Plain loops: a per-element callback (Float64Array.from(idx, fn)) costs several times more.
function pickF64(col: ArrayLike<number>, idx: number[]): Float64Array {
  const out = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = col[idx[j]];
  return out;
}

function pick<T>(col: ArrayLike<T>, idx: number[]): T[] {
  const out = new Array<T>(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = col[idx[j]];
  return out;
}

function pickIds(col: EdgeColumns['src'], idx: number[]): EdgeColumns['src'] {
  if (col instanceof Float64Array || col instanceof Uint32Array) return pickF64(col, idx);
  return pick(col, idx);
}
