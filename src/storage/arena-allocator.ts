/**
 * Writer-side memory management of the word arena. Only the partition's writer thread uses
 * this; readers only follow addresses the writer published.
 *
 * - Extents: variable-sized regions carved from the arena frontier, never crossing a chunk,
 *   returned to a coalescing free list.
 * - Block pools: power-of-two size classes bump-allocated from a pool's own extents, with
 *   intrusive free lists (a free block's first word links to the next). Adjacency uses one
 *   pool per (store, vertex range), so blocks of nearby vertices sit near each other.
 * - A node pool (node-pool.ts): fixed 5-word version nodes.
 * - Retirement: memory that readers may still reach goes to a retire queue
 *   (retire-queue.ts) and is freed only when (a) the oldest retained epoch has passed the
 *   epoch at which it was superseded, and (b) every reader that was active when it was
 *   unlinked has finished (grace).
 */
import { EpochgraphError } from '../errors.js';
import * as layout from './layout.js';
import { NodePool } from './node-pool.js';
import { RETIRE_BLOCK, RETIRE_EXTENT, RetireQueue } from './retire-queue.js';
import { type ArenaViews, growSlot } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CTL_CHUNKS_USED } = layout;

/** Words reserved at the start of chunk 0, so that address 0 can mean null. */
const ARENA_RESERVED = 16;
/** Grow chunk buffers in steps of at least this many bytes. */
const GROW_STEP_BYTES = 32 << 20;
const MAX_CLASS = 28;
/**
 * The size class of a block of `words`: the class's size is 1 << cls, a shift (a block fits in
 * a chunk, so cls ≤ 30). `2 ** cls` compiled to a call of the C library's pow(): 2.8% of the
 * CPU of a durable ingest (perf).
 */
export function sizeClass(words: number): number {
  return words <= 1 ? 0 : 32 - Math.clz32(words - 1);
}
/** The largest class whose blocks fit in `words` (for exact-size blocks being freed). */
export function floorClass(words: number): number {
  return 31 - Math.clz32(words);
}

export class Arena {
  readonly pools: BlockPool[] = [];
  readonly nodes: NodePool;
  private frontierChunk = 0;
  private frontier = ARENA_RESERVED;
  /** Free extents, sorted by address: parallel arrays. */
  private freeAddr: number[] = [];
  private freeWords: number[] = [];
  private readonly chunkWords: number;
  /** Memory readers at old epochs may reach: freed by retention and grace. */
  readonly retired = new RetireQueue();
  /** Memory only in-flight readers may hold (unlinked pointers): freed by grace alone. */
  readonly retiredGrace = new RetireQueue();
  /** Words handed out as extents and not returned. */
  extentWordsInUse = 0;

  constructor(
    readonly views: ArenaViews,
    private readonly ctl: Uint32Array,
    private readonly maxChunks: number,
  ) {
    this.chunkWords = 1 << views.chunkBits;
    growSlot(views.chunkSab(0), ARENA_RESERVED * 4, GROW_STEP_BYTES);
    views.refresh();
    Atomics.store(ctl, CTL_CHUNKS_USED, 1);
    this.nodes = new NodePool(this);
  }

  /** The arena's address space, in words (every chunk it may grow to). */
  get maxWords(): number {
    return this.maxChunks * this.chunkWords;
  }

  /** The largest extent allocExtent can give (extents never cross a chunk). */
  get maxExtentWords(): number {
    return (this.chunkWords - ARENA_RESERVED) & ~1;
  }

  /** Allocate an extent of exactly `words` words within one chunk. */
  allocExtent(words: number): number {
    // Even sizes keep every extent 8-byte aligned (float64 pages live in the arena).
    words += words & 1;
    if (words > this.maxExtentWords) {
      throw new EpochgraphError('CAPACITY_EXCEEDED', `allocation of ${words} words exceeds an arena chunk`);
    }
    this.extentWordsInUse += words;
    // Best fit among free extents.
    let best = -1;
    for (let i = 0; i < this.freeWords.length; i++) {
      const w = this.freeWords[i];
      if (w >= words && (best < 0 || w < this.freeWords[best])) {
        best = i;
        if (w === words) break;
      }
    }
    if (best >= 0) {
      const addr = this.freeAddr[best];
      const rest = this.freeWords[best] - words;
      if (rest === 0) {
        this.freeAddr.splice(best, 1);
        this.freeWords.splice(best, 1);
      } else {
        this.freeAddr[best] = addr + words;
        this.freeWords[best] = rest;
      }
      // A free extent may be the never-grown tail of an earlier chunk: cover it.
      this.cover(addr, words);
      return addr;
    }
    if (this.frontier + words > this.chunkWords) {
      const rest = this.chunkWords - this.frontier;
      const chunkStart = this.frontierChunk * this.chunkWords;
      if (rest > 0) this.insertFree(chunkStart + this.frontier, rest);
      this.frontierChunk++;
      if (this.frontierChunk >= this.maxChunks) {
        throw new EpochgraphError('CAPACITY_EXCEEDED', 'the partition arena is full (all chunks used)');
      }
      this.frontier = 0;
      Atomics.store(this.ctl, CTL_CHUNKS_USED, this.frontierChunk + 1);
    }
    const addr = this.frontierChunk * this.chunkWords + this.frontier;
    this.frontier += words;
    this.cover(addr, words);
    return addr;
  }

  /** Grow the chunk buffer holding [addr, addr + words) so that it covers the range. */
  private cover(addr: number, words: number): void {
    const k = Math.floor(addr / this.chunkWords);
    const end = (addr - k * this.chunkWords + words) * 4;
    const sab = this.views.chunkSab(k);
    if (sab.byteLength < end) {
      growSlot(sab, end, GROW_STEP_BYTES);
      this.views.refresh();
    }
  }

  freeExtent(addr: number, words: number): void {
    words += words & 1;
    this.extentWordsInUse -= words;
    this.insertFree(addr, words);
  }

  private insertFree(addr: number, words: number): void {
    // Binary search for the insertion point, then coalesce with neighbours in the same chunk.
    let lo = 0;
    let hi = this.freeAddr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.freeAddr[mid] < addr) lo = mid + 1;
      else hi = mid;
    }
    const chunk = Math.floor(addr / this.chunkWords);
    const sameChunk = (a: number) => Math.floor(a / this.chunkWords) === chunk;
    if (
      lo > 0 &&
      this.freeAddr[lo - 1] + this.freeWords[lo - 1] === addr &&
      sameChunk(this.freeAddr[lo - 1])
    ) {
      this.freeWords[lo - 1] += words;
      if (lo < this.freeAddr.length && addr + words === this.freeAddr[lo] && sameChunk(this.freeAddr[lo])) {
        this.freeWords[lo - 1] += this.freeWords[lo];
        this.freeAddr.splice(lo, 1);
        this.freeWords.splice(lo, 1);
      }
      return;
    }
    if (lo < this.freeAddr.length && addr + words === this.freeAddr[lo] && sameChunk(this.freeAddr[lo])) {
      this.freeAddr[lo] = addr;
      this.freeWords[lo] += words;
      return;
    }
    this.freeAddr.splice(lo, 0, addr);
    this.freeWords.splice(lo, 0, words);
  }

  newPool(firstExtentWords: number, maxExtentWords: number): BlockPool {
    // Pool extents stay well inside one chunk, whatever the configured chunk size.
    const cap = Math.max(1024, this.chunkWords >>> 3);
    const pool = new BlockPool(
      this,
      this.pools.length,
      Math.min(firstExtentWords, cap),
      Math.min(maxExtentWords, cap),
    );
    this.pools.push(pool);
    return pool;
  }

  /** Words the arena has grown to (high-water mark across chunks). */
  grownWords(): number {
    return this.frontierChunk * this.chunkWords + this.frontier;
  }

  freeExtentWords(): number {
    let n = 0;
    for (const w of this.freeWords) n += w;
    return n;
  }

  /**
   * Free retired memory that no reader can reach any more.
   * @param oldest every reader's snapshot epoch is ≥ this (retention floor and registry)
   * @param minStart every active reader began after this published epoch (grace)
   */
  reclaim(oldest: number, minStart: number): number {
    return this.retired.drain(oldest, minStart, this) + this.retiredGrace.drain(oldest, minStart, this);
  }

  /** Retire memory that readers at epochs < epoch may reach; pub = the published epoch now. */
  retire(kind: number, owner: number, addr: number, size: number, epoch: number, pub: number): void {
    const gen = kind === RETIRE_BLOCK ? this.pools[owner].generation : 0;
    if (epoch === 0) this.retiredGrace.push(kind, owner, addr, size, 0, pub, gen);
    else this.retired.push(kind, owner, addr, size, epoch, pub, gen);
  }

  /** Free a retired item now (called by the retire queue). */
  release(kind: number, owner: number, addr: number, size: number, gen: number): void {
    if (kind === RETIRE_BLOCK) {
      // A pool whose extents were replaced (compaction) retired those extents whole; blocks
      // retired before that lie inside them and must not re-enter the new free lists.
      const pool = this.pools[owner];
      if (pool.generation === gen) pool.free(addr, size);
    } else if (kind === RETIRE_EXTENT) this.freeExtent(addr, size);
    else this.nodes.free(addr);
  }
}

/**
 * Power-of-two blocks from a pool's own extents. A block of class c holds 2^c words; blocks
 * of exact (non power-of-two) size, written by compaction, are freed into floorClass(size).
 */
export class BlockPool {
  private readonly heads = new Uint32Array(MAX_CLASS + 1);
  private bump = 0;
  private end = 0;
  private nextExtentWords: number;
  /** Extents owned by the pool: [addr, words] pairs. */
  extents: number[] = [];
  /** Words in blocks currently handed out (for memory accounting). */
  liveWords = 0;
  /** Bumped when the extents are replaced; stale retired blocks are then ignored. */
  generation = 0;

  constructor(
    private readonly arena: Arena,
    readonly id: number,
    firstExtentWords: number,
    private readonly maxExtentWords: number,
  ) {
    this.nextExtentWords = firstExtentWords;
  }

  alloc(cls: number): number {
    const size = 1 << cls;
    this.liveWords += size;
    const head = this.heads[cls];
    if (head !== 0) {
      this.heads[cls] = this.arena.views.word(head);
      return head;
    }
    if (this.bump + size > this.end) this.newExtent(size);
    const addr = this.bump;
    this.bump += size;
    return addr;
  }

  /** Free a block of `words` words (a power of two, or an exact compacted size). */
  free(addr: number, words: number): void {
    this.liveWords -= words;
    let cls = floorClass(words);
    let rest = words - (1 << cls);
    this.push(addr, cls);
    // The remainder of an exact-size block goes into smaller classes.
    let at = addr + (1 << cls);
    while (rest > 0) {
      cls = floorClass(rest);
      this.push(at, cls);
      at += 1 << cls;
      rest -= 1 << cls;
    }
  }

  private push(addr: number, cls: number): void {
    this.arena.views.setWord(addr, this.heads[cls]);
    this.heads[cls] = addr;
  }

  private newExtent(minWords: number): void {
    // The unused tail of the current extent goes to the free lists.
    let rest = this.end - this.bump;
    let at = this.bump;
    while (rest > 0) {
      const cls = floorClass(rest);
      this.push(at, cls);
      at += 1 << cls;
      rest -= 1 << cls;
    }
    const words = Math.max(minWords, this.nextExtentWords);
    this.nextExtentWords = Math.min(this.maxExtentWords, this.nextExtentWords * 2);
    const addr = this.arena.allocExtent(words);
    this.extents.push(addr, words);
    this.bump = addr;
    this.end = addr + words;
  }

  /**
   * Adopt an exactly-sized extent (written by compaction) as the pool's only extent, and
   * hand back the previous extents for retirement. Free lists are reset: they pointed into
   * the old extents.
   */
  replaceExtents(addr: number, words: number, liveWords: number): number[] {
    const old = this.extents;
    this.extents = words > 0 ? [addr, words] : [];
    this.heads.fill(0);
    this.bump = 0;
    this.end = 0;
    this.liveWords = liveWords;
    this.generation++;
    this.nextExtentWords = Math.max(
      1024,
      Math.min(this.maxExtentWords, 1 << sizeClass(Math.max(1, words >>> 3))),
    );
    return old;
  }

  /** Take an extent written elsewhere (a bulk load) into the pool, with its live words. */
  adoptExtent(addr: number, words: number, liveWords: number): void {
    this.extents.push(addr, words);
    this.liveWords += liveWords;
  }

  extentWords(): number {
    let n = 0;
    for (let i = 1; i < this.extents.length; i += 2) n += this.extents[i];
    return n;
  }

  /** Words of the pool's extents in no block: freed holes (the unbumped tail not counted). */
  holeWords(): number {
    return this.extentWords() - this.liveWords - (this.end - this.bump);
  }
}
