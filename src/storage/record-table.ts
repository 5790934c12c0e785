/**
 * Versioned record tables: the MVCC core.
 *
 * A table maps items (the vertices of an adjacency store, or the pages of a column) to a
 * record [head, count, x] that readers in any thread read without locks:
 *   - head, count: the item's block (an adjacency block or a column page) at the newest
 *     version;
 *   - x: 0 when that version is older than every retained epoch and has no deletion stamps;
 *     otherwise the address of a version node [epoch, head, count, del, prev] whose epoch says
 *     when the version began, del points at the block's deletion stamps, and prev links to the
 *     previous version (history nodes, newest first).
 *
 * The writer keeps its own state (writerHead/writerCount) for the open epoch and changes the
 * records readers see only at a seal, for the items that changed (O(changes)). Records are
 * grouped in blocks of 4096 under a sequence lock, so a reader pays two atomic loads per
 * block, not per record, and redoes a block if a seal overlapped it.
 *
 * Memory ordering (JS has no standalone fences, so this relies on Atomics being full barriers
 * for the compiler, and on x86/ARM not reordering dependent or load-load accesses):
 *   writer: Atomics.add(seq) -> odd; plain writes of records; Atomics.add(seq) -> even;
 *           ... and, after all tables, Atomics.store(PUBLISHED, epoch).
 *   reader: s1 = Atomics.load(seq) (retry while odd); plain reads; s2 = Atomics.load(seq);
 *           use the reads only if s1 === s2.
 * Version nodes are fully written before the record that points at them is written, inside
 * the same locked section; a node's head/count are filled in only when it becomes history,
 * also inside the section, and nothing reads them while the node is the current version.
 */

import { EpochgraphError } from '../errors.js';
import type { Arena } from './arena-allocator.js';
import { RETIRE_EXTENT, RETIRE_NODE } from './arena-allocator.js';
import {
  CTL_PUBLISHED,
  CTL_TABLE_DIR,
  DIR_CAPACITY,
  DIR_HEADER,
  NODE_COUNT,
  NODE_DEL,
  NODE_EPOCH,
  NODE_HEAD,
  NODE_PREV,
  RB_HEADER,
  RB_MAX_EPOCH,
  RB_SEQ,
  REC_COUNT,
  REC_HEAD,
  REC_STRIDE,
  REC_X,
  RECORD_BITS,
  RECORD_BLOCK_WORDS,
  RECORD_MASK,
  TABLES_MAX,
} from './layout.js';
import type { ArenaViews } from './shared-pool.js';

const SPIN_LIMIT = 50_000_000;

/** Reader scratch for one resolved version: [head, count, del]. */
export type VersionOut = Uint32Array;
export const V_HEAD = 0;
export const V_COUNT = 1;
export const V_DEL = 2;
export function newVersionOut(): VersionOut {
  return new Uint32Array(3);
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
    const count = u[ro + REC_COUNT];
    const x = u[ro + REC_X];
    let found = true;
    if (x === 0) {
      out[V_HEAD] = head;
      out[V_COUNT] = count;
      out[V_DEL] = 0;
    } else if (v.safeWord(x + NODE_EPOCH) <= epoch) {
      out[V_HEAD] = head;
      out[V_COUNT] = count;
      out[V_DEL] = v.safeWord(x + NODE_DEL);
    } else {
      found = walkHistory(v, v.safeWord(x + NODE_PREV), epoch, out);
    }
    if (Atomics.load(u, base + RB_SEQ) === s1) return found && (out[V_HEAD] !== 0 || out[V_COUNT] !== 0);
  }
}

/** Walk history nodes (newest first) to the first one at or before epoch. */
export function walkHistory(v: ArenaViews, n: number, epoch: number, out: VersionOut): boolean {
  // Bounded: a torn read under a concurrent seal may follow a stale link; the seqlock check
  // after the walk discards the result, and the bound keeps the walk finite.
  for (let guard = 0; n !== 0 && guard < 1 << 24; guard++) {
    if (v.safeWord(n + NODE_EPOCH) <= epoch) {
      out[V_HEAD] = v.safeWord(n + NODE_HEAD);
      out[V_COUNT] = v.safeWord(n + NODE_COUNT);
      out[V_DEL] = v.safeWord(n + NODE_DEL);
      return true;
    }
    n = v.safeWord(n + NODE_PREV);
  }
  return false;
}

/**
 * The versions pending reclamation: at each seal, every item that changed gets an entry
 * (epoch, table, item, node). Once the oldest retained epoch reaches that epoch, the version
 * before it is unreachable and is freed, and the node itself is dropped if it is no longer
 * needed (no stamps and still current).
 */
export class VersionQueue {
  private epoch = new Uint32Array(4096);
  private table = new Uint32Array(4096);
  private item = new Uint32Array(4096);
  private node = new Uint32Array(4096);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(epoch: number, table: number, item: number, node: number): void {
    if (this.tail === this.epoch.length) {
      const live = this.tail - this.head;
      const cap = live * 2 > this.epoch.length ? this.epoch.length * 2 : this.epoch.length;
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(cap);
        b.set(a.subarray(this.head, this.tail));
        return b;
      };
      this.epoch = grow(this.epoch);
      this.table = grow(this.table);
      this.item = grow(this.item);
      this.node = grow(this.node);
      this.head = 0;
      this.tail = live;
    }
    const i = this.tail++;
    this.epoch[i] = epoch;
    this.table[i] = table;
    this.item[i] = item;
    this.node[i] = node;
  }

  /** Process every entry whose epoch ≤ oldest. */
  drain(oldest: number, tables: readonly (RecordTable | undefined)[], pub: number): number {
    let n = 0;
    while (this.head < this.tail && this.epoch[this.head] <= oldest) {
      const i = this.head++;
      tables[this.table[i]]?.reclaimVersion(this.item[i], this.node[i], pub);
      n++;
    }
    if (this.head === this.tail) this.head = this.tail = 0;
    return n;
  }
}

/** Writer side of one record table. */
export class RecordTable {
  /** Writer state for the open epoch, by item. */
  writerHead = new Uint32Array(0);
  writerCount = new Uint32Array(0);
  /** Per-item byte for the owner (adjacency: block size class). */
  writerAux = new Uint8Array(0);
  /** Deletion stamps of the writer's current block, by item (rare, so a map). */
  readonly writerDel = new Map<number, number>();
  private dirtyBits = new Uint8Array(0);
  private dirtyList = new Uint32Array(1024);
  private dirtyCount = 0;
  private dir = 0;
  private dirCapacity = 0;
  /** Record blocks allocated (for memory accounting). */
  blocks = 0;

  constructor(
    readonly id: number,
    private readonly arena: Arena,
    private readonly ctl: Uint32Array,
  ) {
    if (id >= TABLES_MAX)
      throw new EpochgraphError('CAPACITY_EXCEEDED', `more than ${TABLES_MAX} record tables`);
  }

  get capacity(): number {
    return this.writerHead.length;
  }

  /** Make room for items [0, n). Doubling copy: O(1) amortized, rare. */
  ensureItems(n: number): void {
    if (n <= this.writerHead.length) return;
    let cap = Math.max(1024, this.writerHead.length);
    while (cap < n) cap *= 2;
    const h = new Uint32Array(cap);
    h.set(this.writerHead);
    this.writerHead = h;
    const c = new Uint32Array(cap);
    c.set(this.writerCount);
    this.writerCount = c;
    const a = new Uint8Array(cap);
    a.set(this.writerAux);
    this.writerAux = a;
    const d = new Uint8Array(cap);
    d.set(this.dirtyBits);
    this.dirtyBits = d;
  }

  /** Record that `item` changed in the open epoch (the seal will publish it). */
  markDirty(item: number): void {
    if (this.dirtyBits[item] !== 0) return;
    this.dirtyBits[item] = 1;
    if (this.dirtyCount === this.dirtyList.length) {
      const l = new Uint32Array(this.dirtyList.length * 2);
      l.set(this.dirtyList);
      this.dirtyList = l;
    }
    this.dirtyList[this.dirtyCount++] = item;
  }

  isDirty(item: number): boolean {
    return this.dirtyBits[item] !== 0;
  }

  get dirtyItems(): number {
    return this.dirtyCount;
  }

  /** Visit the items changed in the open epoch (unsorted). */
  forEachDirty(fn: (item: number) => void): void {
    for (let i = 0; i < this.dirtyCount; i++) fn(this.dirtyList[i]);
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

  /** Published record fields of an item (writer's own view of what readers see). */
  publishedHead(item: number): number {
    const rb = this.existingBlock(item);
    return rb === 0
      ? 0
      : this.arena.views.word(rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_HEAD);
  }

  publishedCount(item: number): number {
    const rb = this.existingBlock(item);
    return rb === 0
      ? 0
      : this.arena.views.word(rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_COUNT);
  }

  private existingBlock(item: number): number {
    const r = item >>> RECORD_BITS;
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
   * Publish the open epoch's changes of this table: push each changed item's old version to
   * history and point its record at the writer's state. Cost: O(changed items · log).
   */
  seal(epoch: number, versions: VersionQueue): number {
    const n = this.dirtyCount;
    if (n === 0) return 0;
    const items = this.dirtyList.subarray(0, n).sort();
    const v = this.arena.views;
    const nodes = this.arena.nodes;
    let i = 0;
    while (i < n) {
      const r = items[i] >>> RECORD_BITS;
      const rb = this.blockFor(items[i]);
      const u = v.u32[rb >>> v.chunkBits];
      const base = rb & v.chunkMask;
      // Odd: readers of this block retry until the matching even store below.
      Atomics.add(u, base + RB_SEQ, 1);
      for (; i < n && items[i] >>> RECORD_BITS === r; i++) {
        const item = items[i];
        const ro = base + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
        const oldHead = u[ro + REC_HEAD];
        const oldCount = u[ro + REC_COUNT];
        const oldX = u[ro + REC_X];
        let prev = 0;
        if (oldX !== 0) {
          v.setWord(oldX + NODE_HEAD, oldHead);
          v.setWord(oldX + NODE_COUNT, oldCount);
          prev = oldX;
        } else if (oldHead !== 0 || oldCount !== 0) {
          prev = nodes.alloc();
          v.setWord(prev + NODE_EPOCH, 0);
          v.setWord(prev + NODE_HEAD, oldHead);
          v.setWord(prev + NODE_COUNT, oldCount);
          v.setWord(prev + NODE_DEL, 0);
          v.setWord(prev + NODE_PREV, 0);
        }
        const x = nodes.alloc();
        v.setWord(x + NODE_EPOCH, epoch);
        v.setWord(x + NODE_HEAD, 0);
        v.setWord(x + NODE_COUNT, 0);
        v.setWord(x + NODE_DEL, this.writerDel.get(item) ?? 0);
        v.setWord(x + NODE_PREV, prev);
        u[ro + REC_HEAD] = this.writerHead[item];
        u[ro + REC_COUNT] = this.writerCount[item];
        u[ro + REC_X] = x;
        this.dirtyBits[item] = 0;
        versions.push(epoch, this.id, item, x);
      }
      u[base + RB_MAX_EPOCH] = epoch;
      // Even again: the block's records are consistent.
      Atomics.add(u, base + RB_SEQ, 1);
    }
    this.dirtyCount = 0;
    return n;
  }

  /**
   * The oldest retained epoch reached the epoch of node x: the version before it is
   * unreachable (every reader is at or after x's epoch, so its walk stops at x) and is freed;
   * x itself is dropped when it is still current and has no deletion stamps, after a grace
   * period, because a reader may have loaded the record's x just before we clear it.
   */
  reclaimVersion(item: number, x: number, pub: number): void {
    const v = this.arena.views;
    const prev = v.word(x + NODE_PREV);
    if (prev !== 0) {
      v.setWord(x + NODE_PREV, 0);
      this.arena.nodes.free(prev);
    }
    const rb = this.existingBlock(item);
    if (rb === 0) return;
    const ro = rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
    if (v.word(ro + REC_X) !== x || v.word(x + NODE_DEL) !== 0) return;
    const u = v.u32[rb >>> v.chunkBits];
    const base = rb & v.chunkMask;
    Atomics.add(u, base + RB_SEQ, 1);
    v.setWord(ro + REC_X, 0);
    Atomics.add(u, base + RB_SEQ, 1);
    this.arena.retire(RETIRE_NODE, 0, x, 0, 0, pub);
  }

  /** Replace the deletion-stamp pointer of the current, published version (compaction). */
  recordX(item: number): number {
    const rb = this.existingBlock(item);
    return rb === 0 ? 0 : this.arena.views.word(rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE + REC_X);
  }

  /** Bytes of record blocks and writer arrays (memory accounting). */
  bytes(): number {
    return this.blocks * RECORD_BLOCK_WORDS * 4 + this.writerHead.length * 9 + this.dirCapacity * 4;
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

export { RB_HEADER, RB_MAX_EPOCH, RB_SEQ, REC_COUNT, REC_HEAD, REC_STRIDE, REC_X, RECORD_BITS, RECORD_MASK };
