/**
 * One adjacency store: the out- or in-lists of one edge label, as append-only per-vertex
 * blocks of neighbour local ids in the word arena.
 *
 * - A vertex's visible list at epoch e is a prefix (the count of its version at e) minus the
 *   entries whose deletion stamp is ≤ e. Stamps live in a separate array per block, allocated
 *   on the first deletion, so blocks without deletions are scanned plainly.
 * - Blocks are power-of-two sized, allocated from a pool per vertex range (4096 vertices), so
 *   nearby vertices' blocks are near each other. A full block is relocated to twice its size;
 *   relocation drops deleted entries (they are invisible from the new version on).
 * - Compaction rewrites a vertex range into one exact extent in vertex order: exactly a CSR
 *   neighbour array for that range. The old blocks stay readable for older epochs and are
 *   freed once the oldest retained epoch passes the compaction epoch.
 * - Writer state (head, length, size class) is private to the writer and published per
 *   changed vertex at the seal by the record table.
 *
 * This file is the per-list path (append, find, delete, relocate). Whole-range work, compaction
 * and the bulk load of exact extents, is in adjacency-compaction.ts; the members it shares (the
 * arena and those marked "(adjacency-compaction.ts)") are for no other module.
 */
import * as compaction from './adjacency-compaction.js';
import { type Arena, type BlockPool, sizeClass } from './arena-allocator.js';
import { BLOOM_MIN, bloomAdd, bloomHas, newBloom } from './bloom.js';
import type { EdgeColumn } from './edge-columns.js';
import * as layout from './layout.js';
import type { LidMark } from './lid-mark.js';
import type { RecordTable } from './record-table.js';
import * as recordTable from './record-table.js';
import { RETIRE_BLOCK } from './retire-queue.js';
import type { VersionQueue } from './version-queue.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { NODE_DEL, RECORD_BITS, SINK_MASK } = layout;
const { AUX_CLASS, AUX_STAMPED, W_AUX, W_COUNT, W_HEAD, W_STRIDE } = recordTable;

/** Size class of an exactly-sized compacted block (its capacity is its count). */
export const EXACT_CLASS = 127;
/**
 * Smallest block: 16 entries while the store's slack (block capacity holding no entry) is under
 * 1/SLACK_SHARE of the arena's address space (2^27 words, 512 MiB, by default) and its bulk
 * loads reach vertices it already had (RECURRING_MIN), else 4.
 * A relocation (allocate, copy, release the old block, with cache misses on both) is the
 * dearest step of an append, and growing a list of typical length (10) from 4 entries took two
 * of them; a first block of 16 made the insert bench 8% faster at 10 M edges and 11–29% at
 * 50 M. The budget bounds what that costs a store of many short lists (a sparse graph) until
 * background compaction rewrites their ranges exactly.
 */
const ROOMY_CLASS = 4;
const MIN_CLASS = 2;
const SLACK_SHARE = 32;
/**
 * Below this share of recent bulk edges touching a vertex the store already had (see
 * AdjacencyStore.recurring), lists start at 4 entries whatever the slack budget: the stream
 * brings new vertices whose lists stay short (a first block of 16 held 1-2 entries).
 */
const RECURRING_MIN = 0.02;
/** Weight of one bulk batch in the recurring average, and the least sampled edges that count. */
const RECURRING_WEIGHT = 0.25;
const RECURRING_MIN_EDGES = 64;

export class AdjacencyStore {
  readonly table: RecordTable;
  /** Block pool per vertex range (adjacency-compaction.ts). */
  readonly pools: (BlockPool | undefined)[] = [];
  /** Filters of long lists (adjacency-compaction.ts). */
  readonly blooms = new Map<number, Uint32Array>();
  /** touchTails' addresses, reused. */
  private touchAt = new Uint32Array(0);
  /** Edge-property columns parallel to this store's entries (out stores only). */
  columns: EdgeColumn[] = [];
  /** Live entries (writer view) and stamped entries not yet dropped. */
  liveEntries = 0;
  stampedEntries = 0;
  /** Capacity of the writer's current blocks in entries, slack included (adjacency-compaction.ts). */
  capacityWords = 0;
  /** Slack (words) past which lists grow from 4-entry blocks. */
  private readonly slackBudget: number;
  /**
   * The share of recent bulk edges with an endpoint that existed before their batch, a moving
   * average over batches (noteBatch). 1 until bulk batches say otherwise.
   */
  recurring = 1;
  /**
   * Stamped entries per vertex range, to pick ranges worth compacting (adjacency-compaction.ts).
   * Kept dense (addStamped): a write far past the end turned the array into a dictionary, and
   * compactRange's store to it then deoptimized on every call (`wrong map`, 81 times in 8 s of
   * HTTP ingest).
   */
  readonly rangeStamped: number[] = [];

  constructor(
    table: RecordTable,
    readonly arena: Arena,
    private readonly stampPool: BlockPool,
    readonly labelId: number,
    readonly direction: 'out' | 'in',
  ) {
    this.table = table;
    this.slackBudget = arena.maxWords / SLACK_SHARE;
  }

  ensureVertices(n: number): void {
    this.table.ensureItems(n);
  }

  /** v's range's block pool, made on first use (adjacency-compaction.ts). */
  pool(v: number): BlockPool {
    const r = v >>> RECORD_BITS;
    let p = this.pools[r];
    if (p === undefined) {
      p = this.arena.newPool(1024, 1 << 18);
      this.pools[r] = p;
    }
    return p;
  }

  /** Writer's list length of v, including stamped entries. */
  length(v: number): number {
    return this.table.w[v * W_STRIDE + W_COUNT];
  }

  /** Address of v's live entry for `target`, or 0. */
  find(v: number, target: number): number {
    const t = this.table;
    const w = t.w;
    const wi = v * W_STRIDE;
    const len = w[wi + W_COUNT];
    if (len === 0) return 0;
    if (len >= BLOOM_MIN) {
      const bloom = this.blooms.get(v);
      if (bloom !== undefined && !bloomHas(bloom, target)) return 0;
    }
    const head = w[wi + W_HEAD];
    const views = this.arena.views;
    const u = views.u32[head >>> views.chunkBits];
    const off = head & views.chunkMask;
    const end = off + len;
    if ((w[wi + W_AUX] & AUX_STAMPED) === 0) {
      for (let i = off; i < end; i++) if (u[i] === target) return head + (i - off);
      return 0;
    }
    const s = t.writerDel.get(v) as number;
    const su = views.u32[s >>> views.chunkBits];
    const so = (s & views.chunkMask) - off;
    for (let i = off; i < end; i++) if (u[i] === target && su[so + i] === 0) return head + (i - off);
    return 0;
  }

  /** Append `target` to v's list in the open epoch; returns the entry's address. */
  append(v: number, target: number, epoch: number, pub: number): number {
    const t = this.table;
    let w = t.w;
    const wi = v * W_STRIDE;
    const len = w[wi + W_COUNT];
    const cls = w[wi + W_AUX] & AUX_CLASS;
    const cap = w[wi + W_HEAD] === 0 ? 0 : cls === EXACT_CLASS ? len : 1 << cls;
    if (len >= cap) {
      this.relocate(v, 1, epoch, pub);
      w = t.w;
    }
    const head = w[wi + W_HEAD];
    const n = w[wi + W_COUNT];
    const views = this.arena.views;
    views.u32[head >>> views.chunkBits][(head & views.chunkMask) + n] = target;
    w[wi + W_COUNT] = n + 1;
    t.markDirty(v);
    this.liveEntries++;
    if (n + 1 >= BLOOM_MIN) {
      const bloom = this.blooms.get(v);
      if (bloom !== undefined) bloomAdd(bloom, target);
    }
    return head + n;
  }

  /**
   * Read the word at each listed vertex's block tail (the next append position), so that the
   * cache misses of a group of appends overlap. Returns a value only to keep the loads live.
   * Two passes, the addresses and then a loop that only loads (see IdIndex.touchInts).
   */
  touchTails(vs: Uint32Array, from: number, to: number): number {
    const w = this.table.w;
    const views = this.arena.views;
    const bits = views.chunkBits;
    const mask = views.chunkMask;
    if (this.touchAt.length < to - from) this.touchAt = new Uint32Array(to - from);
    const at = this.touchAt;
    let k = 0;
    for (let i = from; i < to; i++) {
      const wi = vs[i] * W_STRIDE;
      const head = w[wi + W_HEAD];
      const count = w[wi + W_COUNT];
      // A full block's tail can be past its chunk's end (the append relocates it): touch the head.
      at[k] = (head & mask) + count <= mask ? head + count : head;
      k += head === 0 ? 0 : 1;
    }
    const u32 = views.u32;
    let acc = 0;
    for (let j = 0; j < k; j++) {
      const a = at[j];
      acc = (acc + u32[a >>> bits][a & mask]) | 0;
    }
    return acc & SINK_MASK;
  }

  /** Stamp the entry at `addr` (of v's current block) as deleted in the open epoch. */
  deleteEntry(v: number, addr: number, epoch: number): void {
    const t = this.table;
    const views = this.arena.views;
    let s: number;
    const wi = v * W_STRIDE;
    if ((t.w[wi + W_AUX] & AUX_STAMPED) === 0) {
      const cap = this.capacityOf(v);
      s = this.stampPool.alloc(sizeClass(cap));
      views.subarray(s, cap).fill(0);
      t.writerDel.set(v, s);
      t.w[wi + W_AUX] |= AUX_STAMPED;
    } else {
      s = t.writerDel.get(v) as number;
    }
    views.setWord(s + (addr - t.w[wi + W_HEAD]), epoch);
    t.markDirty(v);
    this.liveEntries--;
    this.stampedEntries++;
    this.addStamped(v >>> RECORD_BITS, 1);
  }

  /** Add `delta` to range r's stamped entries (never below 0), growing the array densely. */
  addStamped(r: number, delta: number): void {
    const a = this.rangeStamped;
    while (a.length <= r) a.push(0);
    a[r] = Math.max(0, a[r] + delta);
  }

  /**
   * A bulk batch's sample of `edges` edges, `recurring` of them with an endpoint the store
   * had before the batch. When a store's bulk loads keep bringing only new vertices (a share
   * under 2%), new lists start small. Under the HTTP ingest benchmark's load (~1.6 entries a
   * list), one store's arena went from 1263 to 614 MB and its page faults down 18%
   * (scratch/ingest-mem.mjs), and the benchmark's scratch run went 1.06-1.22x faster in five
   * alternating pairs (scratch/ingest-http3.mjs). A load that keeps adding to the lists it
   * made keeps its 16-entry first blocks: the insert benchmark's second batch has 5% of its
   * edges at an old vertex, and later ones most (`npm run ab -- insert`: 0.996 and 0.999 at
   * 1M vertices, 1.010 at 3M).
   */
  noteBatch(edges: number, recurring: number): void {
    if (edges < RECURRING_MIN_EDGES) return;
    this.recurring += RECURRING_WEIGHT * (recurring / edges - this.recurring);
  }

  /** Capacity of v's current block, 0 without one (adjacency-compaction.ts). */
  capacityOf(v: number): number {
    const w = this.table.w;
    const wi = v * W_STRIDE;
    const cls = w[wi + W_AUX] & AUX_CLASS;
    return w[wi + W_HEAD] === 0 ? 0 : cls === EXACT_CLASS ? w[wi + W_COUNT] : 1 << cls;
  }

  /** Address of v's deletion stamps, 0 without (adjacency-compaction.ts). */
  stampsOf(v: number): number {
    return (this.table.w[v * W_STRIDE + W_AUX] & AUX_STAMPED) !== 0
      ? (this.table.writerDel.get(v) as number)
      : 0;
  }

  /** Visit v's live entries (writer view): fn(target, address). */
  forEachLive(v: number, fn: (target: number, addr: number) => void): void {
    const w = this.table.w;
    const len = w[v * W_STRIDE + W_COUNT];
    if (len === 0) return;
    const head = w[v * W_STRIDE + W_HEAD];
    const views = this.arena.views;
    const stamps = this.stampsOf(v);
    for (let i = 0; i < len; i++) {
      if (stamps !== 0 && views.word(stamps + i) !== 0) continue;
      fn(views.word(head + i), head + i);
    }
  }

  liveCount(v: number): number {
    const len = this.table.w[v * W_STRIDE + W_COUNT];
    const s = this.stampsOf(v);
    if (s === 0) return len;
    const views = this.arena.views;
    let n = 0;
    for (let i = 0; i < len; i++) if (views.word(s + i) === 0) n++;
    return n;
  }

  /** Capacity of the writer's current blocks that holds no entry. */
  slackWords(): number {
    return this.capacityWords - this.liveEntries - this.stampedEntries;
  }

  /** Move v's live entries to a block with room for `extra` more; drop stamped entries. */
  private relocate(v: number, extra: number, epoch: number, pub: number): void {
    const t = this.table;
    const views = this.arena.views;
    const wi = v * W_STRIDE;
    const oldHead = t.w[wi + W_HEAD];
    const oldLen = t.w[wi + W_COUNT];
    const oldCap = this.capacityOf(v);
    const oldPrivate = t.isPrivate(v);
    const stamps = this.stampsOf(v);
    const live = stamps === 0 ? oldLen : this.liveCount(v);
    const roomy = this.recurring >= RECURRING_MIN && this.slackWords() < this.slackBudget;
    const cls = Math.max(roomy ? ROOMY_CLASS : MIN_CLASS, sizeClass(live + extra));
    this.capacityWords += (1 << cls) - oldCap;
    const pool = this.pool(v);
    const newHead = pool.alloc(cls);
    if (stamps === 0) {
      if (oldLen > 0) {
        const src = views.u32[oldHead >>> views.chunkBits];
        const so = oldHead & views.chunkMask;
        const dst = views.u32[newHead >>> views.chunkBits];
        const d0 = newHead & views.chunkMask;
        // Most moves are of small blocks: a plain loop beats allocating a subarray for set().
        if (oldLen <= 64) for (let i = 0; i < oldLen; i++) dst[d0 + i] = src[so + i];
        else dst.set(src.subarray(so, so + oldLen), d0);
        for (const c of this.columns) c.copy(oldHead, newHead, oldLen);
      }
    } else {
      let j = 0;
      for (let i = 0; i < oldLen; i++) {
        if (views.word(stamps + i) !== 0) continue;
        views.setWord(newHead + j, views.word(oldHead + i));
        for (const c of this.columns) c.copy(oldHead + i, newHead + j, 1);
        j++;
      }
      this.stampedEntries -= oldLen - live;
      this.addStamped(v >>> RECORD_BITS, live - oldLen);
    }
    this.releaseBlock(v, oldHead, oldCap, oldPrivate, stamps, epoch, pub);
    t.w[wi + W_HEAD] = newHead;
    t.w[wi + W_COUNT] = live;
    t.w[wi + W_AUX] = (t.w[wi + W_AUX] & ~(AUX_CLASS | AUX_STAMPED)) | cls;
    t.markDirty(v, true);
    if (live + extra >= BLOOM_MIN) this.rebuildBloom(v, 1 << cls);
    else this.blooms.delete(v);
  }

  /**
   * Free or retire v's old block and stamps. A block that readers may see (the published
   * head) is retired until the oldest retained epoch passes `epoch`; a block written only in
   * the open epoch is private and freed at once (adjacency-compaction.ts).
   */
  releaseBlock(
    v: number,
    head: number,
    cap: number,
    isPrivate: boolean,
    stamps: number,
    epoch: number,
    pub: number,
  ): void {
    const t = this.table;
    if (head !== 0) {
      const pool = this.pool(v);
      if (isPrivate) pool.free(head, cap);
      else this.arena.retire(RETIRE_BLOCK, pool.id, head, cap, epoch, pub);
    }
    if (stamps !== 0) {
      const x = t.recordX(v);
      const published = x !== 0 && this.arena.views.word(x + NODE_DEL) === stamps;
      const words = 1 << sizeClass(cap);
      if (published) this.arena.retire(RETIRE_BLOCK, this.stampPool.id, stamps, words, epoch, pub);
      else this.stampPool.free(stamps, words);
      t.writerDel.delete(v);
    }
  }

  /** Rebuild v's filter from its live entries (adjacency-compaction.ts). */
  rebuildBloom(v: number, cap: number): void {
    const bloom = newBloom(cap);
    this.forEachLive(v, (target) => bloomAdd(bloom, target));
    this.blooms.set(v, bloom);
  }

  /** Bulk-load rows into vertices without lists, as exact extents (adjacency-compaction.ts). */
  loadRows(rows: Uint32Array, counts: Uint32Array, nbrs: Uint32Array): Uint32Array {
    return compaction.loadRows(this, rows, counts, nbrs);
  }

  /** Number of vertex ranges (compaction works on one range at a time). */
  rangeCount(): number {
    return this.pools.length;
  }

  /** Live entries of range r when it is worth compacting, else 0 (adjacency-compaction.ts). */
  rangeUncompactedEntries(r: number): number {
    return compaction.rangeUncompactedEntries(this, r);
  }

  /** Whether range r is fragmented (adjacency-compaction.ts). */
  rangeNeedsCompaction(r: number): boolean {
    return compaction.rangeNeedsCompaction(this, r);
  }

  /** Whether range r is mostly garbage: deleted entries and freed holes (adjacency-compaction.ts). */
  rangeMostlyGarbage(r: number): boolean {
    return compaction.rangeMostlyGarbage(this, r);
  }

  /** The newest sealed epoch in which a list of range r changed (0: none). */
  rangeChangedAt(r: number): number {
    return this.table.rangeChangedAt(r);
  }

  /** Rewrite vertex range r into one exact extent (adjacency-compaction.ts). */
  compactRange(r: number, epoch: number, pub: number): number {
    return compaction.compactRange(this, r, epoch, pub);
  }

  /** Publish the open epoch; local ids new since `born` were created in it (no history needed). */
  seal(epoch: number, versions: VersionQueue, born: LidMark): number {
    return this.table.seal(epoch, versions, born);
  }

  /** Bytes of blocks, pools' extents and records (memory accounting). */
  bytes(): { blocks: number; extents: number; records: number; blooms: number } {
    let blocks = 0;
    let extents = 0;
    for (const p of this.pools) {
      if (p === undefined) continue;
      blocks += p.liveWords * 4;
      extents += p.extentWords() * 4;
    }
    let blooms = 0;
    for (const b of this.blooms.values()) blooms += b.byteLength;
    return { blocks, extents, records: this.table.bytes(), blooms };
  }
}
