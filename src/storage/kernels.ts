/**
 * Scan kernels over a snapshot's adjacency, for analytics: they walk record blocks range by
 * range (4096 vertices), check each range's sequence lock once (two atomic loads per range,
 * none per vertex), and take a plain prefix scan when no record in the range changed after
 * the snapshot's epoch (the common case when reading the latest epoch).
 *
 * Local ids index the value arrays directly, so these kernels serve one partition. `mask`
 * (from vertexMask) marks the local ids that are vertices of this partition at the snapshot's
 * epoch: records of other ids (vertices created later, remote "ghost" ids) are skipped; a
 * vertex created after the epoch has a record without history, so the mask is required.
 */
import {
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
} from './layout.js';
import { newVersionOut, tableDir, V_COUNT, V_DEL, V_HEAD, walkHistory } from './record-table.js';
import type { Snapshot } from './snapshot.js';

const scratch = new Float64Array(RECORDS_PER_BLOCK);
const version = newVersionOut();

function tablesOf(snap: Snapshot, dir: 'out' | 'in', labelIdx: number): number[] {
  const labels = snap.schema.edgeLabels;
  const out: number[] = [];
  for (let l = 0; l < labels.length; l++) {
    if (labelIdx >= 0 && l !== labelIdx) continue;
    out.push(dir === 'out' ? labels[l].out : labels[l].in);
  }
  return out;
}

/**
 * out[v] += Σ x[u] over u in v's `dir` list (label -1 = all labels), at the snapshot's epoch.
 * With dir = 'in' this is the pull step of PageRank.
 */
export function pullSum(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  mask: Uint8Array,
  x: Float64Array,
  out: Float64Array,
): void {
  const a = snap.reader.arena;
  const e = snap.epoch;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  for (const table of tablesOf(snap, dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let r = 0; r < ranges; r++) {
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) continue;
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & cmask;
      const first = r << RECORD_BITS;
      const n = Math.min(RECORDS_PER_BLOCK, out.length - first, mask.length - first);
      if (n <= 0) continue;
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let i = 0; i < n; i++) {
          if (mask[first + i] === 0) {
            scratch[i] = 0;
            continue;
          }
          const ro = base + RB_HEADER + i * REC_STRIDE;
          let h = u[ro];
          const cw = u[ro + 1];
          let c = cw & COUNT_MASK;
          const xn = u[ro + 2];
          let del = 0;
          // Fresh range and no stamps: the record alone describes the version (no node read).
          if (xn !== 0 && (!fresh || (cw & REC_STAMPED) !== 0)) {
            if (!fresh && a.word(xn + NODE_EPOCH) > e) {
              // History: the version at e is older than the current one.
              if (walkHistory(a, xn, e, version)) {
                h = version[V_HEAD];
                c = version[V_COUNT];
                del = version[V_DEL];
              } else c = 0;
            } else del = a.word(xn + NODE_DEL);
          }
          if (c === 0) {
            scratch[i] = 0;
            continue;
          }
          // The chunk's view, looked up again only when the chunk changes (a generic-array load
          // and a map check per vertex cost ~10% of the scan). Views only grow; any view taken
          // in this call covers every block reachable at the snapshot's epoch.
          if (h >>> bits !== chunkNo) {
            chunkNo = h >>> bits;
            A = a.u32[chunkNo];
          }
          let o = h & cmask;
          const end = o + c;
          let sum = 0;
          if (del === 0) {
            for (; o < end; o++) sum += x[A[o]];
          } else {
            for (let j = 0; o < end; o++, j++) {
              const s = a.word(del + j);
              if (s === 0 || s > e) sum += x[A[o]];
            }
          }
          scratch[i] = sum;
        }
        // Use the range only if no seal overlapped it; otherwise redo it.
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
      }
      for (let i = 0; i < n; i++) out[first + i] += scratch[i];
    }
  }
}

const cursorSave = new Float64Array(RECORDS_PER_BLOCK);

/**
 * Copy every masked vertex's `dir` list (label -1 = all labels, in label order) at the
 * snapshot's epoch into `targets` (neighbour local ids), starting at cursor[v] and advancing
 * cursor[v] past what was written; with `addrs`, each entry's arena address too (for edge
 * properties, as Snapshot.edgeProps reads them). The caller sizes rows beforehand (for
 * example with pullSum over ones). Same range scan and sequence-lock check as pullSum: a range
 * that a seal overlapped is copied again from the same cursors (the list at the epoch is the
 * same wherever its blocks are), so the output is exactly what forEachNeighbor visits.
 * (Added for analytics: building a CSR copy through per-vertex reads was ~10× slower.)
 */
export function gatherNeighbors(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  mask: Uint8Array,
  cursor: Float64Array,
  targets: Uint32Array,
  addrs?: Uint32Array,
): void {
  const a = snap.reader.arena;
  const e = snap.epoch;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  for (const table of tablesOf(snap, dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let r = 0; r < ranges; r++) {
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) continue;
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & cmask;
      const first = r << RECORD_BITS;
      const n = Math.min(RECORDS_PER_BLOCK, cursor.length - first, mask.length - first);
      if (n <= 0) continue;
      for (let i = 0; i < n; i++) cursorSave[i] = cursor[first + i];
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let i = 0; i < n; i++) {
          if (mask[first + i] === 0) continue;
          const ro = base + RB_HEADER + i * REC_STRIDE;
          let h = u[ro];
          const cw = u[ro + 1];
          let c = cw & COUNT_MASK;
          const xn = u[ro + 2];
          let del = 0;
          if (xn !== 0 && (!fresh || (cw & REC_STAMPED) !== 0)) {
            if (!fresh && a.word(xn + NODE_EPOCH) > e) {
              if (walkHistory(a, xn, e, version)) {
                h = version[V_HEAD];
                c = version[V_COUNT];
                del = version[V_DEL];
              } else c = 0;
            } else del = a.word(xn + NODE_DEL);
          }
          if (c === 0) continue;
          // The chunk's view, looked up again only when the chunk changes (as in pullSum).
          if (h >>> bits !== chunkNo) {
            chunkNo = h >>> bits;
            A = a.u32[chunkNo];
          }
          const o0 = h & cmask;
          let w = cursor[first + i];
          if (del === 0 && addrs === undefined) {
            for (let j = 0; j < c; j++) targets[w++] = A[o0 + j];
          } else {
            for (let j = 0; j < c; j++) {
              if (del !== 0) {
                const s = a.word(del + j);
                if (s !== 0 && s <= e) continue;
              }
              targets[w] = A[o0 + j];
              if (addrs !== undefined) addrs[w] = h + j;
              w++;
            }
          }
          cursor[first + i] = w;
        }
        // Keep the range only if no seal overlapped it; otherwise copy it again.
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
        for (let i = 0; i < n; i++) cursor[first + i] = cursorSave[i];
      }
    }
  }
}

/** The local ids that are vertices of this partition at the snapshot's epoch. */
export function vertexMask(snap: Snapshot): Uint8Array {
  const mask = new Uint8Array(snap.localIdBound());
  snap.forEachVertex((lid) => {
    mask[lid] = 1;
  });
  return mask;
}

/**
 * deg[v] = number of v's `dir` neighbours (label -1 = all) at the snapshot's epoch, for every
 * masked v (0 elsewhere). The same range scan as pullSum: a list without deletions counts in
 * O(1) from its record; a list with deletions counts the entries alive at the epoch. With
 * `from`, only local ids from there on are counted and written (a window: mask ends it).
 */
export function degrees(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  mask: Uint8Array,
  deg: Float64Array,
  from = 0,
): void {
  deg.fill(0, from, Math.min(deg.length, mask.length));
  const a = snap.reader.arena;
  const e = snap.epoch;
  for (const table of tablesOf(snap, dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let r = from >>> RECORD_BITS; r < ranges; r++) {
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) continue;
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & a.chunkMask;
      const first = r << RECORD_BITS;
      const n = Math.min(RECORDS_PER_BLOCK, deg.length - first, mask.length - first);
      if (n <= 0) continue;
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let i = 0; i < n; i++) {
          scratch[i] = 0;
          if (mask[first + i] === 0) continue;
          const ro = base + RB_HEADER + i * REC_STRIDE;
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
          scratch[i] = c;
        }
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
      }
      for (let i = 0; i < n; i++) deg[first + i] += scratch[i];
    }
  }
}

/**
 * gatherNeighbors, writing each neighbour's id key (`keys[local id]`, see Snapshot.idKeys)
 * instead of its local id: the neighbour column of a CSR export in one pass. Same scan, same
 * sequence-lock retry, same cursor contract. With `from`, the scan starts at the record range
 * of that local id (for a window of rows: the mask must be zero below it).
 */
export function gatherNeighborKeys(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  mask: Uint8Array,
  cursor: Float64Array,
  keys: Float64Array,
  out: Float64Array,
  from = 0,
): void {
  const a = snap.reader.arena;
  const e = snap.epoch;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
  for (const table of tablesOf(snap, dir, labelIdx)) {
    const d = tableDir(snap.reader.ctl, table);
    if (d === 0) continue;
    const ranges = a.word(d + DIR_CAPACITY);
    for (let r = from >>> RECORD_BITS; r < ranges; r++) {
      const rb = a.word(d + DIR_HEADER + r);
      if (rb === 0) continue;
      const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
      const base = rb & cmask;
      const first = r << RECORD_BITS;
      const n = Math.min(RECORDS_PER_BLOCK, cursor.length - first, mask.length - first);
      if (n <= 0) continue;
      for (let i = 0; i < n; i++) cursorSave[i] = cursor[first + i];
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let i = 0; i < n; i++) {
          if (mask[first + i] === 0) continue;
          const ro = base + RB_HEADER + i * REC_STRIDE;
          let h = u[ro];
          const cw = u[ro + 1];
          let c = cw & COUNT_MASK;
          const xn = u[ro + 2];
          let del = 0;
          if (xn !== 0 && (!fresh || (cw & REC_STAMPED) !== 0)) {
            if (!fresh && a.word(xn + NODE_EPOCH) > e) {
              if (walkHistory(a, xn, e, version)) {
                h = version[V_HEAD];
                c = version[V_COUNT];
                del = version[V_DEL];
              } else c = 0;
            } else del = a.word(xn + NODE_DEL);
          }
          if (c === 0) continue;
          // The chunk's view, looked up again only when the chunk changes (as in pullSum).
          if (h >>> bits !== chunkNo) {
            chunkNo = h >>> bits;
            A = a.u32[chunkNo];
          }
          const o0 = h & cmask;
          let w = cursor[first + i];
          if (del === 0) {
            for (let j = 0; j < c; j++) out[w++] = keys[A[o0 + j]];
          } else {
            for (let j = 0; j < c; j++) {
              const s = a.word(del + j);
              if (s !== 0 && s <= e) continue;
              out[w++] = keys[A[o0 + j]];
            }
          }
          cursor[first + i] = w;
        }
        if (Atomics.load(u, base + RB_SEQ) === s1) break;
        for (let i = 0; i < n; i++) cursor[first + i] = cursorSave[i];
      }
    }
  }
}
