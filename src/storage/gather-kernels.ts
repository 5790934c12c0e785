/**
 * The gather kernels: copy the lists of a window of rows, at a snapshot's epoch, into flat
 * arrays (neighbour local ids, entry addresses, or id keys), for analytics' CSR projection
 * and the HTTP CSR export. They walk record blocks range by range like the kernels in
 * kernels.ts (its header says why the record resolution is repeated in each), and a range
 * that a seal overlapped is copied again from the same cursors.
 */

import { rangeEnd } from './kernels.js';
import * as layout from './layout.js';
import * as recordRead from './record-read.js';
import { newVersionOut, tableDir, walkHistory } from './record-read.js';
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
} = layout;
const { V_COUNT, V_DEL, V_HEAD } = recordRead;

const version = newVersionOut();
const cursorSave = new Float64Array(RECORDS_PER_BLOCK);
/**
 * Runs of whole lists that lie back to back in the arena and in the output (arena address,
 * output position, entries), at most one per row of a range: copied with one loop (or one
 * memcpy) each after the range's records are validated. A copy loop per list ran ~3x slower
 * than one flat loop over the same entries (lists of ~10 entries), and a compacted range is
 * usually one run: copying 1M neighbour ids took 2.0 ms, against 4.2 ms list by list.
 */
const runsH = new Float64Array(RECORDS_PER_BLOCK);
const runsW = new Float64Array(RECORDS_PER_BLOCK);
const runsN = new Float64Array(RECORDS_PER_BLOCK);

/**
 * Runs shorter than this are copied with a loop: a subarray view and `set` per run cost more
 * than the copy itself for the few entries of a fresh list. The checkpoint of a fresh
 * 1.9M-vertex partition (the HTTP ingest's load, lists of 1-2 entries) encoded in 221-287
 * instead of 353-431 ms (scratch/ckpt-pipe.mjs, alternating builds); 16 and 256 did the same.
 */
const SHORT_RUN = 64;

/** out[w ..] = A[o .. o + n): a loop for a short run, else one memcpy (also append-lists.ts). */
export function copyRun(A: Uint32Array, o: number, n: number, out: Uint32Array, w: number): void {
  if (n < SHORT_RUN) for (let j = 0; j < n; j++) out[w + j] = A[o + j];
  else out.set(A.subarray(o, o + n), w);
}

/** An empty array standing for "not asked for" (keeps each parameter one array type). */
const NONE_U32 = new Uint32Array(0);
const NONE_F64 = new Float64Array(0);

/**
 * out[w ..] = keys of the n local ids at A[o ..] (keys from Snapshot.idKeys): one loop unrolled
 * by 8. V8 (Node 20) checks each typed-array argument's map and reloads its data pointer at
 * every access in a loop; unrolled, the checks are paid once per 8 entries. A random key
 * gather over 1M entries took 1.6 ms unrolled, 3.9 ms rolled, and 1.2 ms over module-level
 * const arrays, whose checks fold away (`npm run bench -- v8-loops`).
 */
export function keysOfLids(
  A: Uint32Array,
  o: number,
  n: number,
  keys: Float64Array,
  out: Float64Array,
  w: number,
): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const i = o + j;
    const a0 = A[i];
    const a1 = A[i + 1];
    const a2 = A[i + 2];
    const a3 = A[i + 3];
    const a4 = A[i + 4];
    const a5 = A[i + 5];
    const a6 = A[i + 6];
    const a7 = A[i + 7];
    const x = w + j;
    out[x] = keys[a0];
    out[x + 1] = keys[a1];
    out[x + 2] = keys[a2];
    out[x + 3] = keys[a3];
    out[x + 4] = keys[a4];
    out[x + 5] = keys[a5];
    out[x + 6] = keys[a6];
    out[x + 7] = keys[a7];
  }
  for (; j < n; j++) out[w + j] = keys[A[o + j]];
}

/**
 * Copy the `dir` list (label -1 = all labels, in label order) at the snapshot's epoch of every
 * row rows[from .. to) into `targets` (neighbour local ids), starting at cursor[v] and
 * advancing cursor[v] past what was written (cursors by local id); with `addrs`, each entry's
 * arena address too (for edge properties, as Snapshot.edgeProps reads them). The caller sizes
 * rows beforehand (with degrees). Same range scan and sequence-lock check as pullSum: a range
 * that a seal overlapped is copied again from the same cursors (the list at the epoch is the
 * same wherever its blocks are), so the output is exactly what forEachNeighbor visits.
 * (Added for analytics: building a CSR copy through per-vertex reads was ~10× slower.)
 */
export function gatherNeighbors(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  cursor: Float64Array,
  targets: Uint32Array,
  addrs?: Uint32Array,
  from = 0,
  to = rows.length,
): void {
  gather(
    snap,
    dir,
    labelIdx,
    rows,
    cursor,
    from,
    to,
    targets,
    addrs ?? NONE_U32,
    addrs !== undefined,
    NONE_F64,
    NONE_F64,
    false,
  );
}

/**
 * gatherNeighbors, writing each neighbour's id key (`keys[local id]`, see Snapshot.idKeys)
 * instead of its local id: the neighbour column of a CSR export in one pass. Same scan, same
 * sequence-lock retry, same cursor contract, same window of rows [from, to).
 */
export function gatherNeighborKeys(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  cursor: Float64Array,
  keys: Float64Array,
  out: Float64Array,
  from = 0,
  to = rows.length,
): void {
  gather(snap, dir, labelIdx, rows, cursor, from, to, NONE_U32, NONE_U32, false, keys, out, true);
}

/**
 * The scan behind both: per entry alive at the epoch, either its local id into `targets` (and
 * its address into `addrs` when `withAddrs`), or, when `toKeys`, keys[local id] into `keyOut`.
 * Lists with no deleted entries (and no addresses asked for) join runs, copied once the range
 * validates; the others are copied entry by entry as they are met.
 */
function gather(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  cursor: Float64Array,
  from: number,
  to: number,
  targets: Uint32Array,
  addrs: Uint32Array,
  withAddrs: boolean,
  keys: Float64Array,
  keyOut: Float64Array,
  toKeys: boolean,
): void {
  const a = snap.reader.arena;
  const e = snap.epoch;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let chunkNo = 0;
  let A = a.u32[0];
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
      const base = rb & cmask;
      const first = r << RECORD_BITS;
      for (let k = k0; k < k1; k++) cursorSave[k - k0] = cursor[rows[k]];
      for (;;) {
        const s1 = Atomics.load(u, base + RB_SEQ);
        if ((s1 & 1) !== 0) continue;
        let runs = 0;
        // The run being extended, kept in locals (arrays cost a load and a store per list):
        // rn = 0 while there is none. It joins runsH/W/N when a list cannot extend it.
        let rh = 0;
        let rw = 0;
        let rn = 0;
        const fresh = u[base + RB_MAX_EPOCH] <= e;
        for (let k = k0; k < k1; k++) {
          const v = rows[k];
          const ro = base + RB_HEADER + (v - first) * REC_STRIDE;
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
          let w = cursor[v];
          if (del === 0 && !withAddrs) {
            // A whole list: join the run when it follows the run's last list in the arena (same
            // chunk) and in the output, else start a run. Compacted lists lie in row order, so
            // a range is usually one run.
            if (rn > 0 && h === rh + rn && w === rw + rn && h >>> bits === rh >>> bits) rn += c;
            else {
              if (rn > 0) {
                runsH[runs] = rh;
                runsW[runs] = rw;
                runsN[runs] = rn;
                runs++;
              }
              rh = h;
              rw = w;
              rn = c;
            }
            cursor[v] = w + c;
            continue;
          }
          // The chunk's view, fetched again only when the chunk changes (see pullSum, pull-kernel.ts).
          if (h >>> bits !== chunkNo) {
            chunkNo = h >>> bits;
            A = a.u32[chunkNo];
          }
          const o0 = h & cmask;
          for (let j = 0; j < c; j++) {
            if (del !== 0) {
              const s = a.word(del + j);
              if (s !== 0 && s <= e) continue;
            }
            if (toKeys) keyOut[w] = keys[A[o0 + j]];
            else targets[w] = A[o0 + j];
            if (withAddrs) addrs[w] = h + j;
            w++;
          }
          cursor[v] = w;
        }
        // Keep the range only if no seal overlapped it; otherwise copy it again. The runs are
        // copied only once their records are known to be whole: a list's entries do not
        // change while this reader is registered, but a torn record could name any address.
        if (rn > 0) {
          runsH[runs] = rh;
          runsW[runs] = rw;
          runsN[runs] = rn;
          runs++;
        }
        if (Atomics.load(u, base + RB_SEQ) === s1) {
          for (let i = 0; i < runs; i++) {
            const h = runsH[i];
            const n = runsN[i];
            const Ar = a.chunk(h + n - 1);
            const o0 = h & cmask;
            if (toKeys) keysOfLids(Ar, o0, n, keys, keyOut, runsW[i]);
            else copyRun(Ar, o0, n, targets, runsW[i]);
          }
          break;
        }
        for (let k = k0; k < k1; k++) cursor[rows[k]] = cursorSave[k - k0];
      }
    }
  }
}
