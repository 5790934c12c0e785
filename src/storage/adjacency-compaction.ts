/**
 * Exact extents of an adjacency store (adjacency.ts): compaction rewrites a vertex range's
 * lists into one extent of exactly their live entries, in vertex order (a CSR neighbour array
 * for that range), and a bulk load from a checkpoint writes each range in that layout at once.
 *
 * Separate from adjacency.ts because it works a whole range at a time and is cold (background
 * compaction, restore), while adjacency.ts is the per-edge path: append, find, delete and
 * relocate one list. These functions take the store and keep its accounting (capacityWords,
 * stampedEntries, rangeStamped, Bloom filters) as the per-list code does; AdjacencyStore's
 * methods of the same names call them.
 */
import { EpochgraphError } from '../errors.js';
import { type AdjacencyStore, EXACT_CLASS } from './adjacency.js';
import { BLOOM_MIN } from './bloom.js';
import * as layout from './layout.js';
import * as recordTable from './record-table.js';
import { RETIRE_EXTENT } from './retire-queue.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { RECORD_BITS, RECORDS_PER_BLOCK } = layout;
const { AUX_CLASS, AUX_STAMPED, W_AUX, W_COUNT, W_HEAD, W_STRIDE } = recordTable;

/**
 * Bulk-load rows (increasing vertex order) into vertices that have no list yet, one exact
 * extent per vertex range, as compaction would lay them out. Returns each entry's address.
 */
export function loadRows(
  adj: AdjacencyStore,
  rows: Uint32Array,
  counts: Uint32Array,
  nbrs: Uint32Array,
): Uint32Array {
  const t = adj.table;
  const w = t.w;
  const views = adj.arena.views;
  const addrs = new Uint32Array(nbrs.length);
  const max = adj.arena.maxExtentWords;
  let i = 0;
  let pos = 0;
  while (i < rows.length) {
    const r = rows[i] >>> RECORD_BITS;
    // The range's rows [i, j): one extent, or several when they do not fit one arena chunk
    // (each list does: lists never cross chunks).
    let j = i;
    let total = 0;
    while (j < rows.length && rows[j] >>> RECORD_BITS === r && (j === i || total + counts[j] <= max))
      total += counts[j++];
    const ext = total > 0 ? adj.arena.allocExtent(total) : 0;
    if (total > 0) adj.pool(rows[i]).adoptExtent(ext, total + (total & 1), total);
    let at = ext;
    for (; i < j; i++) {
      const v = rows[i];
      const c = counts[i];
      const wi = v * W_STRIDE;
      if (w[wi + W_HEAD] !== 0 || w[wi + W_COUNT] !== 0) {
        throw new EpochgraphError('INTERNAL', `corrupt checkpoint: vertex ${v} has two lists`, {
          reason: 'DATA_CORRUPT',
        });
      }
      if (c === 0) continue;
      views.u32[at >>> views.chunkBits].set(nbrs.subarray(pos, pos + c), at & views.chunkMask);
      for (let k = 0; k < c; k++) addrs[pos + k] = at + k;
      w[wi + W_HEAD] = at;
      w[wi + W_COUNT] = c;
      w[wi + W_AUX] = (w[wi + W_AUX] & ~(AUX_CLASS | AUX_STAMPED)) | EXACT_CLASS;
      t.markDirty(v, true);
      adj.liveEntries += c;
      adj.capacityWords += c;
      if (c >= BLOOM_MIN) adj.rebuildBloom(v, c);
      at += c;
      pos += c;
    }
  }
  return addrs;
}

/** Live entries of range r when it is worth compacting (see rangeNeedsCompaction), else 0. */
export function rangeUncompactedEntries(adj: AdjacencyStore, r: number): number {
  return rangeNeedsCompaction(adj, r) ? (adj.pools[r]?.liveWords ?? 0) : 0;
}

/** Whether range r is fragmented: more than two extents, slack, or stamped (deleted) entries. */
export function rangeNeedsCompaction(adj: AdjacencyStore, r: number): boolean {
  const pool = adj.pools[r];
  if (pool === undefined) return false;
  // A range whose blocks hold more than an arena chunk may not fit one extent: left as it is.
  if (pool.liveWords > adj.arena.maxExtentWords) return false;
  if ((adj.rangeStamped[r] ?? 0) > 0) return true;
  // A compacted range is one extent of exactly its live words, rounded up to even (so one
  // word of slack is not fragmentation: counting it re-compacted odd ranges forever).
  return pool.extents.length > 2 || pool.extentWords() > pool.liveWords + 1;
}

/**
 * Whether range r is mostly garbage: deleted entries fill over half the words of its blocks,
 * or freed holes in its extents outweigh those blocks. A range still being written is
 * compacted only then (compaction-schedule.ts), which bounds its memory under deletes and
 * relocations.
 */
export function rangeMostlyGarbage(adj: AdjacencyStore, r: number): boolean {
  const pool = adj.pools[r];
  if (pool === undefined) return false;
  return 2 * (adj.rangeStamped[r] ?? 0) > pool.liveWords || pool.holeWords() > pool.liveWords;
}

/**
 * Rewrite vertex range r into one exact extent, in vertex order, without deleted entries.
 * Returns the number of entries written.
 *
 * Its two loops are functions of their own (liveInRange, rewriteRange). With them inline,
 * V8 optimized this function on stack (OSR) inside a loop, before the code after it had run,
 * and that code deoptimized at the same place at every later call it entered (10 times per
 * partition worker in a 5M-edge durable load, `--trace-deopt`).
 */
export function compactRange(adj: AdjacencyStore, r: number, epoch: number, pub: number): number {
  const pool = adj.pools[r];
  if (pool === undefined) return 0;
  const first = r << RECORD_BITS;
  const last = Math.min(first + RECORDS_PER_BLOCK, adj.table.capacity);
  const total = liveInRange(adj, first, last);
  const words = total + (total & 1);
  // Too big for one extent (see rangeNeedsCompaction): the range keeps its blocks.
  if (words > adj.arena.maxExtentWords) return 0;
  const ext = total > 0 ? adj.arena.allocExtent(words) : 0;
  rewriteRange(adj, first, last, ext, epoch, pub);
  if (r < adj.rangeStamped.length) adj.rangeStamped[r] = 0;
  // Every block of the range was rewritten, so the old extents hold only blocks that older
  // epochs may read: retire them whole.
  const old = pool.replaceExtents(ext, words, total);
  for (let i = 0; i < old.length; i += 2) adj.arena.retire(RETIRE_EXTENT, 0, old[i], old[i + 1], epoch, pub);
  return total;
}

/** The live entries of vertices [first, last). */
function liveInRange(adj: AdjacencyStore, first: number, last: number): number {
  const w = adj.table.w;
  let total = 0;
  for (let v = first; v < last; v++) if (w[v * W_STRIDE + W_HEAD] !== 0) total += adj.liveCount(v);
  return total;
}

/** Move the live entries of vertices [first, last) to the extent at `ext`, in vertex order. */
function rewriteRange(
  adj: AdjacencyStore,
  first: number,
  last: number,
  ext: number,
  epoch: number,
  pub: number,
) {
  const t = adj.table;
  const views = adj.arena.views;
  const w = t.w;
  let pos = ext;
  for (let v = first; v < last; v++) {
    const wi = v * W_STRIDE;
    const head = w[wi + W_HEAD];
    if (head === 0) continue;
    const len = w[wi + W_COUNT];
    const cap = adj.capacityOf(v);
    const stamps = adj.stampsOf(v);
    const start = pos;
    for (let i = 0; i < len; i++) {
      if (stamps !== 0 && views.word(stamps + i) !== 0) continue;
      views.setWord(pos, views.word(head + i));
      for (const c of adj.columns) c.copy(head + i, pos, 1);
      pos++;
    }
    const live = pos - start;
    if (stamps !== 0) {
      adj.stampedEntries -= len - live;
      adj.releaseBlock(v, 0, cap, false, stamps, epoch, pub);
    }
    adj.capacityWords += live - cap;
    w[wi + W_HEAD] = live > 0 ? start : 0;
    w[wi + W_COUNT] = live;
    w[wi + W_AUX] = (w[wi + W_AUX] & ~(AUX_CLASS | AUX_STAMPED)) | (live > 0 ? EXACT_CLASS : 0);
    t.markDirty(v, live > 0);
    if (live >= BLOOM_MIN) adj.rebuildBloom(v, live);
    else adj.blooms.delete(v);
  }
}
