/**
 * Splitting a batch across partitions. Each op goes to the partitions that store something of
 * it: vertex ops to the vertex's owner, edge ops to the owners of both endpoints (one message
 * when they coincide). A batch is cut into segments after each deleteVertex: deleting a vertex
 * returns edge deletions owed by other partitions (cascades), which must be applied before
 * any later op of the same batch. Bulk edges ride in the last segment, split per partition.
 */
import { hashMod, highHalf, intIdHash, partitionOf } from '../src/model/ids.js';
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

/**
 * Bulk edges per partition: each edge goes to the owners of its endpoints, in batch order.
 * Owners first (a numeric column hashes inline, with no per-id call through the generic
 * path), then exact-size typed index lists: no growing arrays on a 100K-edge batch.
 */
export function splitEdges(e: EdgeColumns, partitions: number): Map<number, EdgeColumns> {
  const n = e.src.length;
  const ownS = owners(e.src, partitions);
  const ownD = owners(e.dst, partitions);
  const counts = new Uint32Array(partitions);
  countRows(ownS, ownD, n, counts);
  const idx = Array.from(counts, (c) => new Uint32Array(c));
  fillRows(ownS, ownD, n, idx);
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

/*
 * splitEdges' two passes, each a function of its own: in one function, V8 optimized it on
 * stack (OSR) inside the first pass, and the code after the passes deoptimized at every
 * later call that entered that code (twice per request under the HTTP ingest load).
 */

/** counts[p] += the rows that go to partition p (a row goes to both owners when they differ). */
function countRows(ownS: Uint32Array, ownD: Uint32Array, n: number, counts: Uint32Array): void {
  for (let i = 0; i < n; i++) {
    counts[ownS[i]]++;
    if (ownD[i] !== ownS[i]) counts[ownD[i]]++;
  }
}

/** idx[p] = the rows that go to partition p, in batch order. */
function fillRows(ownS: Uint32Array, ownD: Uint32Array, n: number, idx: Uint32Array[]): void {
  const fill = new Uint32Array(idx.length);
  for (let i = 0; i < n; i++) {
    const ps = ownS[i];
    const pd = ownD[i];
    idx[ps][fill[ps]++] = i;
    if (pd !== ps) idx[pd][fill[pd]++] = i;
  }
}

/** The owner partition of every id of a column (same as partitionOf, element by element). */
function owners(col: EdgeColumns['src'], partitions: number): Uint32Array {
  const n = col.length;
  const out = new Uint32Array(n);
  if (col instanceof Float64Array || col instanceof Uint32Array) {
    // Validated ids: non-negative safe integers.
    for (let i = 0; i < n; i++) {
      const v = col[i];
      out[i] = hashMod(intIdHash(v >>> 0, v > 0xffffffff ? highHalf(v) : 0), partitions);
    }
  } else for (let i = 0; i < n; i++) out[i] = partitionOf(col[i], partitions);
  return out;
}

// Plain loops: a per-element callback (Float64Array.from(idx, fn)) costs several times more.
function pickF64(col: ArrayLike<number>, idx: Uint32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = col[idx[j]];
  return out;
}

function pick<T>(col: ArrayLike<T>, idx: Uint32Array): T[] {
  const out = new Array<T>(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = col[idx[j]];
  return out;
}

function pickIds(col: EdgeColumns['src'], idx: Uint32Array): EdgeColumns['src'] {
  if (col instanceof Float64Array || col instanceof Uint32Array) return pickF64(col, idx);
  return pick(col, idx);
}
