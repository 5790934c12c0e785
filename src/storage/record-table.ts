/**
 * Versioned record tables: the MVCC core. This file is the writer (and the contract); the
 * reader side, which any thread runs, is record-read.ts.
 *
 * A table maps items (the vertices of an adjacency store, or the pages of a column) to a
 * record [head, count, x] that readers in any thread read without locks:
 *   - head, count: the item's block (an adjacency block or a column page) at the newest
 *     version;
 *   - x: 0 when that version is older than every retained epoch and has no deletion stamps;
 *     otherwise the address of its version node (layout.ts): when it began, its deletion
 *     stamps, and the version it replaced (block, count and node), so versions form a chain
 *     newest first.
 *
 * The writer keeps its own state (head, count, aux per item, in `w`) for the open epoch and
 * changes the records readers see only at a seal, for the items that changed (O(changes)).
 * Records are grouped in blocks of 4096 under a sequence lock, so a reader pays two atomic
 * loads per block, not per record, and redoes a block if a seal overlapped it.
 *
 * The items changed in the open epoch are the table's dirty log (dirty-log.ts), which a seal
 * reads grouped by record block and then empties.
 *
 * Memory ordering (JS has no standalone fences, so this relies on Atomics being full barriers
 * for the compiler, and on x86/ARM not reordering dependent or load-load accesses):
 *   writer: Atomics.add(seq) -> odd; plain writes of records; Atomics.add(seq) -> even;
 *           ... and, after all tables, Atomics.store(PUBLISHED, epoch).
 *   reader: s1 = Atomics.load(seq) (retry while odd); plain reads; s2 = Atomics.load(seq);
 *           use the reads only if s1 === s2.
 * Version nodes are written once, before the record that points at them, inside the same
 * locked section; no node is modified while readers can reach it (reclamation only clears
 * links that no retained epoch follows).
 */

import { EpochgraphError } from '../errors.js';
import type { Arena } from './arena-allocator.js';
import * as dirtyLog from './dirty-log.js';
import { DirtyLog } from './dirty-log.js';
import * as layout from './layout.js';
import type { LidMark } from './lid-mark.js';
import { RETIRE_EXTENT, RETIRE_NODE } from './retire-queue.js';
import { MAX_GROWABLE_BYTES, prefault } from './shared-pool.js';
import type { VersionQueue } from './version-queue.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  CTL_PUBLISHED,
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
  RECORD_BLOCK_WORDS,
  RECORD_MASK,
  SINK_MASK,
  TABLES_MAX,
} = layout;

/** How many times its current size a writer-state buffer reserves (ensureItems). */
const W_RESERVE_GROWTH = 16;

/** Items a seal (or a reclamation run) touches ahead of working on them. */
const TOUCH_WINDOW = 512;

// The writer-state layout is the dirty log's (it copies that state); re-exported for the
// stores that keep their writer state in a table.
export { AUX_CLASS, AUX_STAMPED, W_AUX, W_COUNT, W_HEAD, W_STRIDE } from './dirty-log.js';

const { AUX_STAMPED, L_AUX, L_COUNT, L_HEAD, L_ITEM, L_STRIDE, W_STRIDE } = dirtyLog;

/** Writer side of one record table. */
export class RecordTable {
  /** [head, count, aux, slot] per item: the writer's state for the open epoch. */
  w: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** Deletion stamps of the writer's current block, by item (rare, so a map). */
  readonly writerDel = new Map<number, number>();
  /** The items changed in the open epoch. */
  private readonly dirty = new DirtyLog();
  private dir = 0;
  private dirCapacity = 0;
  /** Record blocks allocated (for memory accounting). */
  blocks = 0;
  /** Sink for touch loads (keeps them observable to the compiler). */
  touched = 0;

  constructor(
    readonly id: number,
    private readonly arena: Arena,
    private readonly ctl: Uint32Array,
  ) {
    if (id >= TABLES_MAX)
      throw new EpochgraphError('CAPACITY_EXCEEDED', `more than ${TABLES_MAX} record tables`);
  }

  get capacity(): number {
    return this.w.length / W_STRIDE;
  }

  /**
   * Make room for items [0, n), doubling. The writer state lives in a growable buffer that
   * reserves W_RESERVE_GROWTH times what it holds, so most doublings grow it in place (a new
   * fixed-length view, as DESIGN §11.2 asks; nothing copied) and only every fourth copies.
   * A doubling copy touched the old size in fresh pages each time. Growing in place took the
   * partition workers' page faults under the HTTP ingest bench's load (~63K new vertices a
   * batch) from ~280K to ~228K, and that scratch run 1.01, 1.13 and 1.03x faster
   * (scratch/ingest-http3.mjs, alternating); `npm run ab -- insert` 1.000, seal p50 1.017.
   */
  ensureItems(n: number): void {
    if (n * W_STRIDE <= this.w.length) return;
    let cap = Math.max(1024, this.capacity);
    while (cap < n) cap *= 2;
    const bytes = cap * W_STRIDE * 4;
    // `w` is writer-private: its buffer is shared only so that it can grow in place.
    const held = this.w.buffer;
    let w: Uint32Array<ArrayBufferLike>;
    if (held instanceof SharedArrayBuffer && held.growable && bytes <= held.maxByteLength) {
      held.grow(bytes);
      w = new Uint32Array(held, 0, cap * W_STRIDE);
    } else {
      const reserve = Math.min(bytes * W_RESERVE_GROWTH, MAX_GROWABLE_BYTES);
      // Past what a growable buffer can reserve (268M items), a plain array, copied per doubling.
      w =
        reserve >= bytes
          ? new Uint32Array(new SharedArrayBuffer(bytes, { maxByteLength: reserve }), 0, cap * W_STRIDE)
          : new Uint32Array(cap * W_STRIDE);
      w.set(this.w);
    }
    // The items past the old size are fresh: commit their pages (see prefault).
    if (w.buffer instanceof SharedArrayBuffer) prefault(w.buffer, this.w.byteLength, bytes);
    this.w = w;
  }

  /**
   * Record that `item` changed in the open epoch (the seal will publish it). Call it after
   * every change of the item's writer state (DirtyLog.mark copies that state). `fresh` says
   * whether the writer's block is one written in this epoch (true after a move to a new
   * block, false after a move to none); left out, that stays as it was.
   */
  markDirty(item: number, fresh?: boolean): void {
    this.dirty.mark(this.w, item, fresh);
  }

  /** Whether `item` changed in the open epoch. */
  isDirty(item: number): boolean {
    return this.dirty.has(this.w, item);
  }

  /** Whether the writer's block of `item` was written in the open epoch (see markDirty). */
  isPrivate(item: number): boolean {
    return this.dirty.isPrivate(this.w, item);
  }

  get dirtyItems(): number {
    return this.dirty.count;
  }

  /** The record block of an item's range, created (zeroed) if absent. */
  blockFor(item: number): number {
    const r = item >>> RECORD_BITS;
    if (r >= this.dirCapacity) this.growDir(r + 1);
    const v = this.arena.views;
    let rb = v.word(this.dir + DIR_HEADER + r);
    if (rb === 0) {
      rb = this.arena.allocExtent(RECORD_BLOCK_WORDS);
      v.subarray(rb, RECORD_BLOCK_WORDS).fill(0);
      // The block is complete before the directory points at it; the directory entry is
      // read by readers only after they load PUBLISHED, which the writer stores later.
      v.setWord(this.dir + DIR_HEADER + r, rb);
      this.blocks++;
    }
    return rb;
  }

  /** The x word of an item's published record (0 when none). */
  recordX(item: number): number {
    const rb = this.existingBlock(item >>> RECORD_BITS);
    return rb === 0 ? 0 : this.arena.views.word(rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_X);
  }

  /** The newest sealed epoch in which an item of range r changed (0: none). */
  rangeChangedAt(r: number): number {
    const rb = this.existingBlock(r);
    return rb === 0 ? 0 : this.arena.views.word(rb + RB_MAX_EPOCH);
  }

  /** The record block of range r, or 0 when the range has none (unlike blockFor, no creation). */
  private existingBlock(r: number): number {
    return r < this.dirCapacity ? this.arena.views.word(this.dir + DIR_HEADER + r) : 0;
  }

  private growDir(minRanges: number): void {
    let cap = Math.max(16, this.dirCapacity);
    while (cap < minRanges) cap *= 2;
    const v = this.arena.views;
    const words = DIR_HEADER + cap;
    const dir = this.arena.allocExtent(words);
    v.subarray(dir, words).fill(0);
    v.setWord(dir + DIR_CAPACITY, cap);
    for (let r = 0; r < this.dirCapacity; r++)
      v.setWord(dir + DIR_HEADER + r, v.word(this.dir + DIR_HEADER + r));
    const old = this.dir;
    const oldWords = DIR_HEADER + this.dirCapacity;
    this.dir = dir;
    this.dirCapacity = cap;
    // Release: the new directory is complete before readers can load its address.
    Atomics.store(this.ctl, CTL_TABLE_DIR + this.id, dir);
    if (old !== 0)
      this.arena.retire(RETIRE_EXTENT, 0, old, oldWords, 0, Atomics.load(this.ctl, CTL_PUBLISHED));
  }

  /**
   * Publish the open epoch's changes of this table: each changed item's record points at the
   * writer's state and the version it replaces stays reachable for older epochs. Items that
   * `born` says are new and never had a version (vertices created in this epoch) need no
   * version node: no reader can ask for them at an earlier epoch. Cost: O(changed · log).
   */
  seal(epoch: number, versions: VersionQueue, born: LidMark | null = null): number {
    const n = this.dirty.count;
    if (n === 0) return 0;
    const log = this.dirty.grouped(this.capacity);
    versions.begin(epoch, this.id);
    const v = this.arena.views;
    const nodes = this.arena.nodes;
    let i = 0;
    let windowEnd = 0;
    while (i < n) {
      if (i === windowEnd) {
        // Touch the next window's records ahead of the work, across record blocks, so their
        // cache and TLB misses overlap (the work loop's body is too long for the CPU to run
        // ahead by itself, and each block's lock is a full barrier).
        windowEnd = Math.min(n, i + TOUCH_WINDOW);
        let tr = -1;
        let tu = v.u32[0];
        let tbase = 0;
        for (let k = i; k < windowEnd; k++) {
          const item = log[k * L_STRIDE + L_ITEM];
          if (item >>> RECORD_BITS !== tr) {
            tr = item >>> RECORD_BITS;
            const trb = this.blockFor(item);
            tu = v.u32[trb >>> v.chunkBits];
            tbase = trb & v.chunkMask;
          }
          this.touched =
            (this.touched + tu[tbase + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE]) & SINK_MASK;
        }
      }
      const r = log[i * L_STRIDE + L_ITEM] >>> RECORD_BITS;
      const rb = this.blockFor(log[i * L_STRIDE + L_ITEM]);
      const u = v.u32[rb >>> v.chunkBits];
      const base = rb & v.chunkMask;
      let runEnd = i;
      while (runEnd < windowEnd && log[runEnd * L_STRIDE + L_ITEM] >>> RECORD_BITS === r) runEnd++;
      // Odd: readers of this block retry until the matching even store below.
      Atomics.add(u, base + RB_SEQ, 1);
      for (; i < runEnd; i++) {
        const l = i * L_STRIDE;
        const item = log[l + L_ITEM];
        const ro = base + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
        const oldHead = u[ro + REC_HEAD];
        const oldCount = u[ro + REC_COUNT];
        const oldX = u[ro + REC_X];
        const del = (log[l + L_AUX] & AUX_STAMPED) !== 0 ? (this.writerDel.get(item) ?? 0) : 0;
        let x = 0;
        if (
          oldX !== 0 ||
          oldHead !== 0 ||
          oldCount !== 0 ||
          del !== 0 ||
          born === null ||
          !born.isNew(item)
        ) {
          x = nodes.alloc();
          const nu = v.u32[x >>> v.chunkBits];
          const no = x & v.chunkMask;
          nu[no + NODE_EPOCH] = epoch;
          nu[no + NODE_PHEAD] = oldHead;
          nu[no + NODE_PCOUNT] = oldCount;
          nu[no + NODE_DEL] = del;
          nu[no + NODE_PREV] = oldX;
          versions.push(item, x);
        }
        u[ro + REC_HEAD] = log[l + L_HEAD];
        u[ro + REC_COUNT] = log[l + L_COUNT] | (del !== 0 ? REC_STAMPED : 0);
        u[ro + REC_X] = x;
      }
      u[base + RB_MAX_EPOCH] = epoch;
      // Even again: the block's records are consistent.
      Atomics.add(u, base + RB_SEQ, 1);
    }
    this.dirty.clear();
    return n;
  }

  /**
   * The oldest retained epoch reached the epochs of nodes xs[from, to) (items of this table):
   * the versions before them are unreachable (every reader is at or after their epoch, so a
   * walk stops at them) and are freed; a node that is still current and has no stamps is
   * dropped after a grace period, because a reader may have loaded it just before we clear
   * the record. One sequence-lock section per record block.
   */
  reclaimRun(items: Uint32Array, xs: Uint32Array, from: number, to: number, pub: number): void {
    const v = this.arena.views;
    let i = from;
    let windowEnd = from;
    while (i < to) {
      if (i >= windowEnd) {
        // Touch the next window's nodes and records first: the work loop's stores and frees
        // keep the CPU from running ahead, so these misses would otherwise come one at a time.
        windowEnd = Math.min(to, i + TOUCH_WINDOW);
        this.touched = (this.touched + this.touchReclaim(items, xs, i, windowEnd)) & SINK_MASK;
      }
      const r = items[i] >>> RECORD_BITS;
      const rb = this.existingBlock(r);
      let locked = false;
      const u = rb === 0 ? null : v.u32[rb >>> v.chunkBits];
      const base = rb & v.chunkMask;
      for (; i < windowEnd && items[i] >>> RECORD_BITS === r; i++) {
        const x = xs[i];
        const nu = v.u32[x >>> v.chunkBits];
        const no = x & v.chunkMask;
        const prev = nu[no + NODE_PREV];
        if (prev !== 0) {
          nu[no + NODE_PREV] = 0;
          this.arena.nodes.free(prev);
        }
        if (u === null || nu[no + NODE_DEL] !== 0) continue;
        const ro = base + RB_HEADER + (items[i] & RECORD_MASK) * REC_STRIDE;
        if (u[ro + REC_X] !== x) continue;
        if (!locked) {
          Atomics.add(u, base + RB_SEQ, 1);
          locked = true;
        }
        u[ro + REC_X] = 0;
        this.arena.retire(RETIRE_NODE, 0, x, 0, 0, pub);
      }
      if (locked && u !== null) Atomics.add(u, base + RB_SEQ, 1);
    }
  }

  /** Load the NODE_PREV word of nodes xs[from, to) and the x word of their items' records. */
  private touchReclaim(items: Uint32Array, xs: Uint32Array, from: number, to: number): number {
    const v = this.arena.views;
    let acc = 0;
    let tr = -1;
    let tu: Uint32Array | null = null;
    let tbase = 0;
    for (let k = from; k < to; k++) {
      const x = xs[k];
      acc = (acc + v.u32[x >>> v.chunkBits][(x & v.chunkMask) + NODE_PREV]) | 0;
      const item = items[k];
      if (item >>> RECORD_BITS !== tr) {
        tr = item >>> RECORD_BITS;
        const rb = this.existingBlock(tr);
        tu = rb === 0 ? null : v.u32[rb >>> v.chunkBits];
        tbase = rb & v.chunkMask;
      }
      if (tu !== null) acc = (acc + tu[tbase + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_X]) | 0;
    }
    return acc & SINK_MASK;
  }

  /** Bytes of record blocks and writer state (memory accounting). */
  bytes(): number {
    return this.blocks * RECORD_BLOCK_WORDS * 4 + this.w.byteLength + this.dirCapacity * 4;
  }

  directory(): number {
    return this.dir;
  }
}

/** Creates record tables with dense ids and keeps them for reclamation. */
export class TableRegistry {
  readonly tables: RecordTable[] = [];
  constructor(
    private readonly arena: Arena,
    private readonly ctl: Uint32Array,
  ) {}
  create(): RecordTable {
    const t = new RecordTable(this.tables.length, this.arena, this.ctl);
    this.tables.push(t);
    return t;
  }
}
