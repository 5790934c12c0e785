/**
 * The reader side of the versioned record tables (record-table.ts has the layout, the
 * writer and the memory-ordering contract): find an item's record block, and resolve the
 * version of an item visible at an epoch, lock-free, from any thread.
 */
import { EpochgraphError } from '../errors.js';
import * as layout from './layout.js';
import type { ArenaViews } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  COUNT_MASK,
  CTL_TABLE_DIR,
  DIR_CAPACITY,
  DIR_HEADER,
  NODE_DEL,
  NODE_EPOCH,
  NODE_PCOUNT,
  NODE_PHEAD,
  NODE_PREV,
  RB_HEADER,
  RB_MAX_EPOCH,
  RB_SEQ,
  REC_COUNT,
  REC_HEAD,
  REC_STAMPED,
  REC_STRIDE,
  REC_X,
  RECORD_BITS,
  RECORD_MASK,
} = layout;

const SPIN_LIMIT = 50_000_000;

/** Reader scratch for one resolved version: [head, count, del, settled]. */
export type VersionOut = Uint32Array;
export const V_HEAD = 0;
export const V_COUNT = 1;
export const V_DEL = 2;
/**
 * 1 when no item of the record's block changed after the epoch read (RB_MAX_EPOCH ≤ epoch):
 * the version found began at or before that epoch for certain. 0 says nothing either way. An
 * item first written after the epoch gets no version node (record-table.ts `born`), so its
 * record reads the same at every earlier epoch; only a settled read rules that out.
 */
export const V_SETTLED = 3;
export function newVersionOut(): VersionOut {
  return new Uint32Array(4);
}

/** Directory address of a table, as the writer last published it (acquire). */
export function tableDir(ctl: Uint32Array, table: number): number {
  return Atomics.load(ctl, CTL_TABLE_DIR + table);
}

/** Address of the record block holding `item`, or 0 when the table never had that range. */
export function recordBlock(v: ArenaViews, dir: number, item: number): number {
  if (dir === 0) return 0;
  const r = item >>> RECORD_BITS;
  if (r >= v.word(dir + DIR_CAPACITY)) return 0;
  return v.word(dir + DIR_HEADER + r);
}

/**
 * Resolve the version of `item` visible at `epoch` into out. Returns false when the item has
 * no version at that epoch (an empty adjacency list, or a page that did not exist).
 */
export function readRecord(v: ArenaViews, rb: number, item: number, epoch: number, out: VersionOut): boolean {
  if (rb === 0) return false;
  const base = rb & v.chunkMask;
  const ro = base + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
  // The record block may be newer than this reader's views (a range first written later).
  const u = v.chunk(rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_X);
  for (let spins = 0; ; spins++) {
    const s1 = Atomics.load(u, base + RB_SEQ);
    if ((s1 & 1) !== 0) {
      // A seal is changing this block; it takes microseconds. A writer that died mid-seal
      // would leave it odd forever, so give up eventually instead of hanging the reader.
      if (spins > SPIN_LIMIT)
        throw new EpochgraphError('NOT_READY', 'partition writer stalled during a seal');
      continue;
    }
    const head = u[ro + REC_HEAD];
    const cw = u[ro + REC_COUNT];
    const count = cw & COUNT_MASK;
    const x = u[ro + REC_X];
    const maxEpoch = u[base + RB_MAX_EPOCH];
    out[V_SETTLED] = maxEpoch <= epoch ? 1 : 0;
    let found = true;
    // No history node, or a block none of whose records changed after `epoch` (the current
    // version is the one visible) without deletion stamps: the record alone is the version,
    // with no read of its history node (a cache miss after every compaction).
    if (x === 0 || (maxEpoch <= epoch && (cw & REC_STAMPED) === 0)) {
      out[V_HEAD] = head;
      out[V_COUNT] = count;
      out[V_DEL] = 0;
    } else if (v.safeWord(x + NODE_EPOCH) <= epoch) {
      out[V_HEAD] = head;
      out[V_COUNT] = count;
      out[V_DEL] = v.safeWord(x + NODE_DEL);
    } else {
      found = walkHistory(v, x, epoch, out);
    }
    if (Atomics.load(u, base + RB_SEQ) === s1) return found && (out[V_HEAD] !== 0 || out[V_COUNT] !== 0);
  }
}

/**
 * From node n (whose version began after epoch), walk back to the version visible at epoch.
 * The version before node n is (n.prevHead, n.prevCount), began at n.prev's epoch (or before
 * every retained epoch when n.prev is 0) and has n.prev's stamps.
 */
export function walkHistory(v: ArenaViews, n: number, epoch: number, out: VersionOut): boolean {
  // Bounded: a torn read under a concurrent seal may follow a stale link; the seqlock check
  // after the walk discards the result, and the bound keeps the walk finite.
  for (let guard = 0; n !== 0 && guard < 1 << 24; guard++) {
    const p = v.safeWord(n + NODE_PREV);
    if (p === 0 || v.safeWord(p + NODE_EPOCH) <= epoch) {
      out[V_HEAD] = v.safeWord(n + NODE_PHEAD);
      out[V_COUNT] = v.safeWord(n + NODE_PCOUNT) & COUNT_MASK;
      out[V_DEL] = p === 0 ? 0 : v.safeWord(p + NODE_DEL);
      return true;
    }
    n = p;
  }
  return false;
}
