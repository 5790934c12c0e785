/**
 * pullSum: the pull step of PageRank over one partition's adjacency at a snapshot's epoch,
 * out[v] (+)= Σ x[u] over v's list. The range walk and record resolution are those of the
 * other scan kernels (kernels.ts, whose header says why each kernel repeats them); this one
 * has its own loops for fresh ranges, each in a small function, because it bounds the
 * PageRank ratios.
 */

import { rangeEnd } from './kernels.js';
import * as layout from './layout.js';
import * as recordRead from './record-read.js';
import { newVersionOut, tableDir, walkHistory } from './record-read.js';
import type { ArenaViews } from './shared-pool.js';
import type { Snapshot } from './snapshot.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  COUNT_MASK,
  DIR_CAPACITY,
  DIR_HEADER,
  NODE_DEL,
  NODE_EPOCH,
  RB_HEADER,
  RB_MAX_EPOCH,
  RB_SEQ,
  REC_STAMPED,
  REC_STRIDE,
  RECORD_BITS,
  RECORD_BLOCK_WORDS,
  RECORDS_PER_BLOCK,
  SINK_MASK,
} = layout;
const { V_COUNT, V_DEL, V_HEAD } = recordRead;

/** Values of a range's rows before it was summed, put back if a seal overlapped it. */
const scratch = new Float64Array(RECORDS_PER_BLOCK);
/** The rows of a fresh range whose records have stamps (summed by stampedSum). */
const slowRows = new Int32Array(RECORDS_PER_BLOCK);
const version = newVersionOut();
/** Records laidOut compares (with their next) to tell compacted lists from lists that grew. */
const RUN_PROBE = 16;
/** Vertices whose lists the pull touches before summing them, where lists are not laid out. */
const TOUCH_GROUP = 32;
/** Where the touch loads end up (never read). */
let touched = 0;

/**
 * Σ x[A[o]] for o in [o, end), summed in order (so bit for bit the plain loop's sum), with the
 * loads unrolled by 4: V8 (Node 20) checks a typed-array argument's map and reloads its data
 * pointer at every access in a loop, and unrolled those checks are paid once per 4 entries
 * (`npm run bench -- v8-loops`). The row sum of every PageRank pull: this store's, and the
 * CSR one the analytics pool runs (algorithms/pagerank.ts).
 */
export function listSum(x: Float64Array, A: Uint32Array, o: number, end: number): number {
  let sum = 0;
  for (; o + 4 <= end; o += 4) {
    const a0 = A[o];
    const a1 = A[o + 1];
    const a2 = A[o + 2];
    const a3 = A[o + 3];
    sum += x[a0];
    sum += x[a1];
    sum += x[a2];
    sum += x[a3];
  }
  for (; o < end; o++) sum += x[A[o]];
  return sum;
}

/**
 * Σ x[u] over the entries alive at epoch e of a record with deletion stamps (u32 view `u`,
 * record at `ro`), in a range no seal changed after e: pullSum's fresh loop leaves these out.
 */
function stampedSum(a: ArenaViews, u: Uint32Array, ro: number, e: number, x: Float64Array): number {
  const h = u[ro];
  const c = u[ro + 1] & COUNT_MASK;
  const xn = u[ro + 2];
  const del = xn === 0 ? 0 : a.word(xn + NODE_DEL);
  if (c === 0) return 0;
  // A list never crosses an arena chunk: a view that covers its last entry covers it all.
  const A = a.chunk(h + c - 1);
  let sum = 0;
  for (let j = 0, o = h & a.chunkMask; j < c; j++, o++) {
    const s = del === 0 ? 0 : a.word(del + j);
    if (s === 0 || s > e) sum += x[A[o]];
  }
  return sum;
}

/**
 * out[v] += Σ x[u] over u in v's `dir` list (label -1 = all labels), at the snapshot's epoch,
 * for every row v; with `assign`, out[v] = Σ instead (no fill of out first, no read of it).
 * With dir = 'in' this is the pull step of PageRank.
 *
 * The loop that bounds the PageRank ratios, so it is shaped for speed:
 *  - In a range no seal changed after the epoch, a record without stamps is its own version
 *    at the epoch, and the main loop reads nothing else. A record with stamps is only noted,
 *    and summed after the loop by stampedSum (a call inside the loop cost ~7%). A range
 *    changed after the epoch takes the general loop, with each record's history.
 *  - Sums go into out in place, the values before kept in scratch to put back if a seal
 *    overlapped the range, instead of a second pass over the range's rows.
 *  - When assigning, a fresh range is summed by a loop with nothing else in it (no value kept
 *    for a retry to put back); a range whose rows are all its local ids (P = 1) by one
 *    without the row list.
 *  - Lists not laid out end to end (not compacted since they grew) are summed in groups of
 *    TOUCH_GROUP whose first entries are loaded first, so the groups' misses overlap: the
 *    fresh PageRank ratio of a freshly loaded 1M-vertex / 10M-edge store went from 2.8-3.3
 *    to 2.3-2.8, compacted unchanged (scratch/prfresh.mjs, alternated builds). A compacted
 *    range keeps the plain loop (the touch cost it 15-30%), and the touched sums have loops
 *    of their own (*Touched): sharing one loop cost the analytics bench's compacted runs
 *    10-25%.
 *  - Each range is summed by a small function of its own (sumRange*), called once per
 *    range. With the loops inlined here, TurboFan compiled the inner loop worse: moving them
 *    out made the pull 9-14% faster, fresh and compacted, at P = 1 and with half the rows
 *    (same-process A/B, scratch/pull-ab2.mjs, against 241f666).
 */
export function pullSum(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  x: Float64Array,
  out: Float64Array,
  assign = false,
): void {
  const a = snap.reader.arena;
  const e = snap.epoch;
  const cmask = a.chunkMask;
  // The sums of this table replace out's values: the first table walked, when assigning.
  let set = assign;
  for (const table of snap.adjacencyTables(dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let k0 = 0, k1 = 0; k0 < rows.length; k0 = k1) {
      k1 = rangeEnd(rows, k0, rows.length);
      const r = rows[k0] >>> RECORD_BITS;
      if (r >= ranges) {
        if (set) zeroRows(rows, k0, rows.length, out);
        break;
      }
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) {
        if (set) zeroRows(rows, k0, k1, out);
        continue;
      }
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & cmask;
      const first = r << RECORD_BITS;
      const v0 = rows[k0];
      const contiguous = rows[k1 - 1] - v0 === k1 - 1 - k0;
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        if (u[base + RB_MAX_EPOCH] > e) sumRangeAtEpoch(a, u, base, first, rows, k0, k1, e, set, x, out);
        else if (set) {
          // Compacted lists lie end to end, and the hardware prefetcher follows them; lists
          // spread over extents as they grew are touched a group at a time first (laidOut).
          const ro = base + RB_HEADER + (v0 - first) * REC_STRIDE;
          const touch = !laidOut(u, ro, k1 - k0);
          const noted = contiguous
            ? touch
              ? sumRangeTightTouched(a, u, ro, v0, v0 + (k1 - k0), x, out)
              : sumRangeTight(a, u, ro, v0, v0 + (k1 - k0), x, out)
            : touch
              ? sumRangeAssignTouched(a, u, base, first, rows, k0, k1, x, out)
              : sumRangeAssign(a, u, base, first, rows, k0, k1, x, out);
          for (let i = 0; i < noted; i++) {
            const v = slowRows[i];
            out[v] = stampedSum(a, u, base + RB_HEADER + (v - first) * REC_STRIDE, e, x);
          }
        } else {
          const noted = sumRangeFresh(a, u, base, first, rows, k0, k1, x, out);
          for (let i = 0; i < noted; i++) {
            const k = slowRows[i];
            const ro = base + RB_HEADER + (rows[k] - first) * REC_STRIDE;
            out[rows[k]] = scratch[k - k0] + stampedSum(a, u, ro, e, x);
          }
        }
        // Keep the range only if no seal overlapped it; otherwise put out back (when adding;
        // assigned sums are simply overwritten) and redo it.
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
        if (!set) for (let k = k0; k < k1; k++) out[rows[k]] = scratch[k - k0];
      }
    }
    set = false;
  }
  // No table to walk: every sum is 0.
  if (set) zeroRows(rows, 0, rows.length, out);
}

/**
 * Whether the lists of a range lie end to end in vertex order, as compaction writes them: the
 * first RUN_PROBE records from `ro` (n in the range) each end where the next one begins.
 * Lists that grew in place since, spread over extents in the order they grew, almost never do.
 */
function laidOut(u: Uint32Array, ro: number, n: number): boolean {
  const m = Math.min(n - 1, RUN_PROBE);
  let ends = 0;
  for (let i = 0; i < m; i++, ro += REC_STRIDE) {
    if (u[ro] + (u[ro + 1] & COUNT_MASK) === u[ro + REC_STRIDE]) ends++;
  }
  return ends * 4 >= m * 3;
}

/**
 * Load the first entry of the lists of the `n` records from `ro` on, so that their cache and
 * TLB misses overlap before the sums take the lists one by one (a list's address comes from
 * its record, so the CPU cannot run ahead to the next lists by itself). The loads land in
 * `touched`. Touching each list's last entry too measured no better.
 */
function touchLists(a: ArenaViews, u: Uint32Array, ro: number, n: number): void {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  const chunks = a.u32;
  let t = touched;
  for (let i = 0; i < n; i++, ro += REC_STRIDE) {
    const h = u[ro];
    t = (t + chunks[h >>> bits][h & cmask]) & SINK_MASK;
  }
  touched = t;
}

/** touchLists for rows[k0 .. k1), the record of v at ro0 + v * REC_STRIDE. */
function touchRows(
  a: ArenaViews,
  u: Uint32Array,
  ro0: number,
  rows: Uint32Array,
  k0: number,
  k1: number,
): void {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  const chunks = a.u32;
  let t = touched;
  for (let k = k0; k < k1; k++) {
    const h = u[ro0 + rows[k] * REC_STRIDE];
    t = (t + chunks[h >>> bits][h & cmask]) & SINK_MASK;
  }
  touched = t;
}

/**
 * sumRangeAssign for rows that are all of a range's local ids v0 .. vEnd (PageRank at P = 1),
 * records from `ro` on: the same loop without the row list, on purpose (reading rows[k] cost
 * 4-15% here; duplicates reports the pair). Stamped rows go to slowRows as local ids.
 */
function sumRangeTight(
  a: ArenaViews,
  u: Uint32Array,
  ro: number,
  v0: number,
  vEnd: number,
  x: Float64Array,
  out: Float64Array,
): number {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  let noted = 0;
  for (let v = v0; v < vEnd; v++, ro += REC_STRIDE) {
    const h = u[ro];
    const cw = u[ro + 1];
    if ((cw & REC_STAMPED) !== 0) {
      slowRows[noted++] = v;
      continue;
    }
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    const o = h & cmask;
    out[v] = listSum(x, A, o, o + (cw & COUNT_MASK));
  }
  return noted;
}

/**
 * A fresh range, assigning: out[v] = Σ x over v's list for rows[k0 .. k1). No value is kept
 * for a retry (a retry redoes the sums). Rows whose records have stamps go to slowRows (as
 * local ids, as in sumRangeTight); returns how many. The loop of sumRangeFresh without its
 * bookkeeping, on purpose (duplicates reports the pair): PageRank's pull, at any P.
 */
function sumRangeAssign(
  a: ArenaViews,
  u: Uint32Array,
  base: number,
  first: number,
  rows: Uint32Array,
  k0: number,
  k1: number,
  x: Float64Array,
  out: Float64Array,
): number {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  let noted = 0;
  const ro0 = base + RB_HEADER - first * REC_STRIDE;
  for (let k = k0; k < k1; k++) {
    const v = rows[k];
    const ro = ro0 + v * REC_STRIDE;
    const h = u[ro];
    const cw = u[ro + 1];
    if ((cw & REC_STAMPED) !== 0) {
      slowRows[noted++] = v;
      continue;
    }
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    const o = h & cmask;
    out[v] = listSum(x, A, o, o + (cw & COUNT_MASK));
  }
  return noted;
}

/**
 * sumRangeTight for lists not laid out end to end: groups of TOUCH_GROUP vertices, each
 * group's lists touched first. Its own copy of the loop, on purpose: with one loop shared by
 * both, the compacted PageRank of the analytics bench ran 10-25% slower.
 */
function sumRangeTightTouched(
  a: ArenaViews,
  u: Uint32Array,
  ro: number,
  v0: number,
  vEnd: number,
  x: Float64Array,
  out: Float64Array,
): number {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  let noted = 0;
  let groupEnd = v0;
  for (let v = v0; v < vEnd; v++, ro += REC_STRIDE) {
    if (v === groupEnd) {
      groupEnd = Math.min(vEnd, v + TOUCH_GROUP);
      touchLists(a, u, ro, groupEnd - v);
    }
    const h = u[ro];
    const cw = u[ro + 1];
    if ((cw & REC_STAMPED) !== 0) {
      slowRows[noted++] = v;
      continue;
    }
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    const o = h & cmask;
    out[v] = listSum(x, A, o, o + (cw & COUNT_MASK));
  }
  return noted;
}

/** sumRangeAssign for lists not laid out end to end (see sumRangeTightTouched). */
function sumRangeAssignTouched(
  a: ArenaViews,
  u: Uint32Array,
  base: number,
  first: number,
  rows: Uint32Array,
  k0: number,
  k1: number,
  x: Float64Array,
  out: Float64Array,
): number {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  let noted = 0;
  const ro0 = base + RB_HEADER - first * REC_STRIDE;
  let groupEnd = k0;
  for (let k = k0; k < k1; k++) {
    if (k === groupEnd) {
      groupEnd = Math.min(k1, k + TOUCH_GROUP);
      touchRows(a, u, ro0, rows, k, groupEnd);
    }
    const v = rows[k];
    const ro = ro0 + v * REC_STRIDE;
    const h = u[ro];
    const cw = u[ro + 1];
    if ((cw & REC_STAMPED) !== 0) {
      slowRows[noted++] = v;
      continue;
    }
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    const o = h & cmask;
    out[v] = listSum(x, A, o, o + (cw & COUNT_MASK));
  }
  return noted;
}

/**
 * A fresh range (no record changed after the epoch, so a record without stamps is its own
 * version), adding: out[v] += Σ x over v's list for rows[k0 .. k1), the values before kept in
 * scratch. Rows whose records have stamps go to slowRows (as row positions); returns how many.
 */
function sumRangeFresh(
  a: ArenaViews,
  u: Uint32Array,
  base: number,
  first: number,
  rows: Uint32Array,
  k0: number,
  k1: number,
  x: Float64Array,
  out: Float64Array,
): number {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  let noted = 0;
  for (let k = k0; k < k1; k++) {
    const v = rows[k];
    const ro = base + RB_HEADER + (v - first) * REC_STRIDE;
    const h = u[ro];
    const cw = u[ro + 1];
    const before = out[v];
    scratch[k - k0] = before;
    if ((cw & REC_STAMPED) !== 0) {
      slowRows[noted++] = k;
      continue;
    }
    // The chunk's view, looked up again only when the chunk changes (a generic-array load
    // and a map check per vertex cost ~10% of the scan). Views only grow; any view taken in
    // this call covers every block reachable at the snapshot's epoch.
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    const o = h & cmask;
    out[v] = before + listSum(x, A, o, o + (cw & COUNT_MASK));
  }
  return noted;
}

/** A range changed after epoch e: out[v] (+)= Σ over each row's version at e (its history). */
function sumRangeAtEpoch(
  a: ArenaViews,
  u: Uint32Array,
  base: number,
  first: number,
  rows: Uint32Array,
  k0: number,
  k1: number,
  e: number,
  set: boolean,
  x: Float64Array,
  out: Float64Array,
): void {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  for (let k = k0; k < k1; k++) {
    const v = rows[k];
    const ro = base + RB_HEADER + (v - first) * REC_STRIDE;
    let h = u[ro];
    let c = u[ro + 1] & COUNT_MASK;
    const xn = u[ro + 2];
    let del = 0;
    if (xn !== 0) {
      if (a.word(xn + NODE_EPOCH) > e) {
        // History: the version at e is older than the current one.
        if (walkHistory(a, xn, e, version)) {
          h = version[V_HEAD];
          c = version[V_COUNT];
          del = version[V_DEL];
        } else c = 0;
      } else del = a.word(xn + NODE_DEL);
    }
    const before = set ? 0 : out[v];
    scratch[k - k0] = before;
    if (c === 0) {
      out[v] = before;
      continue;
    }
    if (h >>> bits !== chunkNo) {
      chunkNo = h >>> bits;
      A = a.u32[chunkNo];
    }
    let o = h & cmask;
    const end = o + c;
    let sum = 0;
    if (del === 0) sum = listSum(x, A, o, end);
    else {
      for (let j = 0; o < end; o++, j++) {
        const s = a.word(del + j);
        if (s === 0 || s > e) sum += x[A[o]];
      }
    }
    out[v] = before + sum;
  }
}

function zeroRows(rows: Uint32Array, from: number, to: number, out: Float64Array): void {
  for (let k = from; k < to; k++) out[rows[k]] = 0;
}
