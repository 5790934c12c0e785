/**
 * appendLists: copy the lists of one edge label and direction at a snapshot's epoch, row after
 * row, back to back into flat columns, counting them as it copies. For checkpoints
 * (checkpoint-codec.ts): gatherNeighbors writes each list where the caller placed it from
 * degrees, which takes a first pass over every record and two arrays indexed by local id; a
 * checkpoint only needs the lists in row order, so one pass does. The range walk, the record
 * resolution and the sequence-lock retry are those of the kernels in kernels.ts (its header
 * says why each kernel repeats them); analytics-gather.test.ts compares this one with
 * per-vertex reads.
 */

import { EpochgraphError } from '../errors.js';
import { copyRun } from './gather-kernels.js';
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

/** Runs of whole lists adjacent in the arena (address, output position, entries); see gather-kernels.ts. */
const runsH = new Float64Array(RECORDS_PER_BLOCK);
const runsW = new Float64Array(RECORDS_PER_BLOCK);
const runsN = new Float64Array(RECORDS_PER_BLOCK);

/** What appendLists copied: `lists` rows with a non-empty list, `entries` entries. */
export interface ListColumns {
  /** Neighbour local ids, the lists back to back. */
  readonly nbrs: Uint32Array;
  /** Each entry's arena address (as Snapshot.edgeProps reads it), when asked for. */
  readonly addrs: Uint32Array;
  /** The rows whose list is not empty, in row order, and their lengths. */
  readonly rows: Uint32Array;
  readonly counts: Uint32Array;
  entries: number;
  lists: number;
}

/** Empty columns that hold up to `capacity` entries (and so up to `capacity` lists). */
export function listColumns(capacity: number, withAddrs: boolean): ListColumns {
  return {
    nbrs: new Uint32Array(capacity),
    addrs: new Uint32Array(withAddrs ? capacity : 0),
    rows: new Uint32Array(capacity),
    counts: new Uint32Array(capacity),
    entries: 0,
    lists: 0,
  };
}

/**
 * Copy the `dir` lists of label `labelIdx` (one label) at the snapshot's epoch of the rows
 * rows[from .. to) (ascending local ids, as from vertexRows) into `out`, which starts empty, whole
 * lists only. It stops after the list that brings `out` to `fill` entries or more, or before a
 * list that does not fit in what `out` has left, so `out` holds at most fill - 1 entries plus
 * one list. Returns the index of the first row not copied: `to` when all were, `from` when the
 * first list did not fit (the caller grows `out` and calls again). With `withAddrs`, out.addrs
 * gets each entry's address.
 */
export function appendLists(
  snap: Snapshot,
  dir: 'out' | 'in',
  labelIdx: number,
  rows: Uint32Array,
  from: number,
  to: number,
  fill: number,
  out: ListColumns,
  withAddrs: boolean,
): number {
  const tables = snap.adjacencyTables(dir, labelIdx);
  if (labelIdx < 0 || tables.length !== 1)
    throw new EpochgraphError('INTERNAL', `appendLists copies one edge label's lists, not label ${labelIdx}`);
  out.entries = 0;
  out.lists = 0;
  const d = tableDir(snap.reader.ctl, tables[0]);
  if (d === 0) return to;
  const a = snap.reader.arena;
  const e = snap.epoch;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  const nbrs = out.nbrs;
  const addrs = out.addrs;
  const listRows = out.rows;
  const listCounts = out.counts;
  const cap = nbrs.length;
  const ranges = a.word(d + DIR_CAPACITY);
  let chunkNo = 0;
  let A = a.u32[0];
  let w = 0;
  let j = 0;
  let k0 = from;
  for (let k1 = from; k0 < to && w < fill; k0 = k1) {
    k1 = rangeEnd(rows, k0, to);
    const r = rows[k0] >>> RECORD_BITS;
    if (r >= ranges) {
      // No record block here or past here: every later row's list is empty.
      k0 = to;
      break;
    }
    const rb = a.word(d + DIR_HEADER + r);
    if (rb === 0) continue;
    const u = a.chunk(rb + RECORD_BLOCK_WORDS - 1);
    const base = rb & cmask;
    const first = r << RECORD_BITS;
    const w0 = w;
    const j0 = j;
    // The rows of this range copied: [k0, kEnd).
    let kEnd = k1;
    for (;;) {
      const s1 = Atomics.load(u, base + RB_SEQ);
      if ((s1 & 1) !== 0) continue;
      w = w0;
      j = j0;
      kEnd = k1;
      let runs = 0;
      // The run being extended, in locals (as in gather-kernels.ts): rn = 0 while there is none.
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
        if (w + c > cap) {
          kEnd = k;
          break;
        }
        if (del === 0 && !withAddrs) {
          // A whole list: join the run when it follows the run's last list in the arena (same
          // chunk) and in the output (a list copied entry by entry may lie between them).
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
          w += c;
          listRows[j] = v;
          listCounts[j++] = c;
        } else {
          // Entry by entry: deletion stamps to check, or addresses to write.
          if (h >>> bits !== chunkNo) {
            chunkNo = h >>> bits;
            A = a.u32[chunkNo];
          }
          const o0 = h & cmask;
          const start = w;
          for (let i = 0; i < c; i++) {
            if (del !== 0) {
              const s = a.word(del + i);
              if (s !== 0 && s <= e) continue;
            }
            nbrs[w] = A[o0 + i];
            if (withAddrs) addrs[w] = h + i;
            w++;
          }
          if (w > start) {
            listRows[j] = v;
            listCounts[j++] = w - start;
          }
        }
        if (w >= fill) {
          kEnd = k + 1;
          break;
        }
      }
      if (rn > 0) {
        runsH[runs] = rh;
        runsW[runs] = rw;
        runsN[runs] = rn;
        runs++;
      }
      // Keep the range only if no seal overlapped it; the runs are copied only once their
      // records are known to be whole (a torn record could name any address).
      if (Atomics.load(u, base + RB_SEQ) === s1) {
        for (let i = 0; i < runs; i++) {
          const h = runsH[i];
          const n = runsN[i];
          copyRun(a.chunk(h + n - 1), h & cmask, n, nbrs, runsW[i]);
        }
        break;
      }
    }
    if (kEnd < k1) {
      // Full, or the next list does not fit: the next call goes on from that row.
      k0 = kEnd;
      break;
    }
  }
  out.entries = w;
  out.lists = j;
  return k0;
}
