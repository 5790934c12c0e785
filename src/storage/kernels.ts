/**
 * Scan kernels over a snapshot's adjacency, for analytics: they walk record blocks range by
 * range (4096 vertices), check each range's sequence lock once (two atomic loads per range,
 * none per vertex), and take a plain prefix scan when no record in the range changed after
 * the snapshot's epoch (the common case when reading the latest epoch).
 *
 * Local ids index the value arrays directly, so these kernels serve one partition. `rows`
 * (from vertexRows) lists, ascending, the local ids that are vertices of this partition at
 * the snapshot's epoch; records of other ids (vertices created later, remote "ghost" ids) are
 * never read. A vertex created after the epoch has a record without history, so the list is
 * required. (The kernels took a 0/1 mask over every local id before; with P > 1 vertices and
 * ghost ids alternate at random, and the branch on the mask mispredicted about half the time:
 * the row list made the P = 2 PageRank pull ~20% faster, scratch/pull-rows.mjs.)
 *
 * The five kernels (degrees here, pullSum in pull-kernel.ts, gatherNeighbors and
 * gatherNeighborKeys in gather-kernels.ts, appendLists in append-lists.ts for checkpoints)
 * repeat the range walk and the record resolution on purpose. A shared resolve() helper
 * (returning the count, leaving head and stamps in a scratch array) cost pullSum 3.5-4% in
 * same-process A/Bs in both orders
 * (scratch/pull-ab.mjs), on the loop that bounds the PageRank ratios; pullSum also has its
 * own loop for fresh ranges. Change one kernel's resolution, change all five; the tests in
 * analytics-gather and storage-kernels compare each of them with per-vertex reads, and the
 * concurrency test checks pullSum and degrees against them while a writer seals.
 */
import * as layout from './layout.js';
import * as recordRead from './record-read.js';
import { newVersionOut, readRecord, tableDir, walkHistory } from './record-read.js';
import type { Snapshot } from './snapshot.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  CORE_CREATED,
  CORE_LABEL,
  CORE_WIDTH,
  COUNT_MASK,
  DIR_CAPACITY,
  DIR_HEADER,
  NODE_DEL,
  NODE_EPOCH,
  PAGE_BITS,
  PAGE_ITEMS,
  RB_HEADER,
  RB_MAX_EPOCH,
  RB_SEQ,
  REC_STAMPED,
  REC_STRIDE,
  RECORD_BITS,
  RECORD_BLOCK_WORDS,
  RECORDS_PER_BLOCK,
} = layout;
const { V_COUNT, V_DEL, V_HEAD } = recordRead;

/** degrees: a range's counts, kept until the range's sequence lock confirms them. */
const scratch = new Float64Array(RECORDS_PER_BLOCK);
const version = newVersionOut();

/**
 * The end of the run of rows from rows[k0] on that share its record range (4096 local ids),
 * at most `to`: rows[k0 .. end) are one range's rows.
 */
export function rangeEnd(rows: Uint32Array, k0: number, to: number): number {
  const limit = ((rows[k0] >>> RECORD_BITS) + 1) << RECORD_BITS;
  // Rows are distinct and ascending, so the range holds at most limit - rows[k0] of them:
  // a binary search over that window (a linear scan read every row once more per kernel).
  let lo = k0 + 1;
  let hi = Math.min(to, k0 + (limit - rows[k0]));
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid] < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An empty array standing for "not asked for" (keeps each parameter one array type). */
const NO_U32 = new Uint32Array(0);

/**
 * The local ids that are vertices of this partition at the snapshot's epoch: mask[lid] = 1
 * (from walkVertices).
 */
export function vertexMask(snap: Snapshot): Uint8Array {
  const rows = vertexRows(snap);
  const mask = new Uint8Array(snap.localIdBound());
  for (let k = 0; k < rows.length; k++) mask[rows[k]] = 1;
  return mask;
}

/**
 * The local ids that are vertices of this partition at the snapshot's epoch, ascending: the
 * `rows` of the other kernels. Without a mask, one walk over the vertex pages (walkVertices,
 * lids only); with one, from the mask, branch-free as walkVertices writes.
 */
export function vertexRows(snap: Snapshot, mask?: Uint8Array): Uint32Array {
  if (mask === undefined) {
    const bound = snap.localIdBound();
    const lids = new Uint32Array(bound);
    const n = walkVertices(snap, bound, lids, NO_U32, NO_U32, false);
    // Exactly sized: callers keep rows (CSR export plans), and with P > 1 about half of the
    // local ids are other partitions' vertices.
    return n === bound ? lids : lids.slice(0, n);
  }
  let n = 0;
  for (let lid = 0; lid < mask.length; lid++) n += mask[lid];
  const rows = new Uint32Array(n + 1);
  let k = 0;
  for (let lid = 0; lid < mask.length; lid++) {
    rows[k] = lid;
    k += mask[lid];
  }
  return rows.subarray(0, n);
}

/** The vertices of a partition at an epoch, with what a checkpoint records of each. */
export interface VertexColumns {
  /** Local ids, ascending (the `rows` of the other kernels). */
  readonly lids: Uint32Array;
  /** Label index of each. */
  readonly labels: Uint32Array;
  /** Epoch each was (last) created at. */
  readonly created: Uint32Array;
}

/**
 * The vertices of this partition at the snapshot's epoch with their labels and created
 * epochs. For checkpoints: a callback per vertex pushing into arrays (forEachVertex) was ~45%
 * of encoding a checkpoint of a partition under HTTP ingest.
 */
export function vertexColumns(snap: Snapshot): VertexColumns {
  const bound = snap.localIdBound();
  const lids = new Uint32Array(bound);
  const labels = new Uint32Array(bound);
  const created = new Uint32Array(bound);
  const n = walkVertices(snap, bound, lids, labels, created, true);
  return { lids: lids.subarray(0, n), labels: labels.subarray(0, n), created: created.subarray(0, n) };
}

/**
 * Write the vertices below `bound` at the snapshot's epoch, ascending, to lids (and, with
 * `withLabels`, their label indexes and created epochs). Returns how many. Each array holds
 * `bound` entries. One record read per page of 64 vertices, then the page's label words
 * straight from its chunk's view (a callback and an address lookup per vertex, as
 * forEachVertex does, cost ~4×). Written branch-free: each local id is written at the next
 * row's slot, which only a vertex keeps, because vertices and ghost ids alternate at random
 * and a branch would mispredict about half the time.
 */
function walkVertices(
  snap: Snapshot,
  bound: number,
  lids: Uint32Array,
  labels: Uint32Array,
  created: Uint32Array,
  withLabels: boolean,
): number {
  let n = 0;
  const a = snap.reader.arena;
  const d = tableDir(snap.reader.ctl, snap.schema.core);
  const ranges = d === 0 ? 0 : a.word(d + DIR_CAPACITY);
  const cmask = a.chunkMask;
  for (let r = 0; r < ranges; r++) {
    const rb = a.word(d + DIR_HEADER + r);
    if (rb === 0) continue;
    for (let i = 0; i < RECORDS_PER_BLOCK; i++) {
      const page = (r << RECORD_BITS) + i;
      const first = page << PAGE_BITS;
      if (first >= bound) return n;
      if (!readRecord(a, rb, page, snap.epoch, version)) continue;
      const head = version[V_HEAD];
      // A page never crosses an arena chunk: a view that covers its last word covers it all.
      const C = a.chunk(head + PAGE_ITEMS * CORE_WIDTH - 1);
      const o = head & cmask;
      const m = Math.min(PAGE_ITEMS, bound - first);
      for (let j = 0; j < m; j++) {
        // Label words are label index + 1, 0 for no vertex: the slot is kept only for a vertex
        // (n < bound always: n counts the vertices below this local id).
        const label = C[o + j * CORE_WIDTH + CORE_LABEL];
        lids[n] = first + j;
        if (withLabels) {
          labels[n] = label - 1;
          created[n] = C[o + j * CORE_WIDTH + CORE_CREATED];
        }
        n += -label >>> 31;
      }
    }
  }
  return n;
}

/**
 * deg[v] = number of v's `dir` neighbours (label -1 = all) at the snapshot's epoch, for every
 * row v in rows[from .. to) (by local id; other entries are left alone). The same range scan
 * as pullSum: a list without deletions counts in O(1) from its record; a list with deletions
 * counts the entries alive at the epoch.
 */
export function degrees(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  deg: Float64Array,
  from = 0,
  to = rows.length,
): void {
  for (let k = from; k < to; k++) deg[rows[k]] = 0;
  const a = snap.reader.arena;
  const e = snap.epoch;
  for (const table of snap.adjacencyTables(dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let k0 = from, k1 = from; k0 < to; k0 = k1) {
      k1 = rangeEnd(rows, k0, to);
      const r = rows[k0] >>> RECORD_BITS;
      if (r >= ranges) break;
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) continue;
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & a.chunkMask;
      const first = r << RECORD_BITS;
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let k = k0; k < k1; k++) {
          const ro = base + RB_HEADER + (rows[k] - first) * REC_STRIDE;
          const cw = u[ro + 1];
          let c = cw & COUNT_MASK;
          const xn = u[ro + 2];
          let del = 0;
          if (xn !== 0 && (!fresh || (cw & REC_STAMPED) !== 0)) {
            if (!fresh && a.word(xn + NODE_EPOCH) > e) {
              if (walkHistory(a, xn, e, version)) {
                c = version[V_COUNT];
                del = version[V_DEL];
              } else c = 0;
            } else del = a.word(xn + NODE_DEL);
          }
          if (del !== 0) {
            let alive = 0;
            for (let j = 0; j < c; j++) {
              const s = a.word(del + j);
              if (s === 0 || s > e) alive++;
            }
            c = alive;
          }
          scratch[k - k0] = c;
        }
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
      }
      for (let k = k0; k < k1; k++) deg[rows[k]] += scratch[k - k0];
    }
  }
}
