/**
 * Fixed-size version nodes (layout.ts NODE_*), carved from extents of 8192 nodes.
 *
 * Free nodes are bits in a bitmap (one word per 32 nodes of an extent), and a node is taken
 * next-fit: the lowest free node at or after a cursor that only moves forward, wrapping at
 * the end. So a seal writes its nodes in address order, mostly into neighbouring cache
 * lines, instead of wherever a free list happens to point (a stack of freed addresses made
 * every node a seal wrote a random miss; this pool made the steady-state seal 17-21% faster
 * at p50 in scratch/seal-ab.mjs). A second bitmap marks the words that have a free bit, so
 * the cursor skips 1024 taken nodes per word it reads.
 *
 * Freeing finds the node's extent in a table by 32 KiB granule of the arena: at most one
 * node extent starts inside a granule (extents are larger), so a granule names the extent
 * that covers its first word and the one that starts inside it. (A binary search over the
 * extents' addresses made a free 230 ns, this table 126-132 ns, a stack's push 59-66 ns, in
 * scratch/free-micro.mjs.)
 */
import type { Arena } from './arena-allocator.js';
import * as layout from './layout.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { NODE_WORDS } = layout;

/** Nodes per extent; a multiple of 32 × 32, so extents own whole summary words. */
const PER_EXTENT = 8192;
const WORDS_PER_EXTENT = PER_EXTENT >>> 5;
const EXTENT_WORDS = NODE_WORDS * PER_EXTENT;
/** Arena words per granule of the extent table, log2. */
const GRANULE_BITS = 13;

export class NodePool {
  /** Extent addresses by extent number (creation order). */
  private base = new Uint32Array(16);
  /** By granule: 1 + the extent that covers the granule's first word (0: none). */
  private covers = new Int32Array(64);
  /** By granule: 1 + the extent that starts inside the granule, after its first word. */
  private starts = new Int32Array(64);
  private extents = 0;
  /** Bit i of word w: node ((w mod 256) * 32 + i) of extent (w / 256) is free. */
  private bits = new Int32Array(16 * WORDS_PER_EXTENT);
  /** Bit j of summary word s: bits word (s * 32 + j) is not 0. */
  private summary = new Int32Array((16 * WORDS_PER_EXTENT) >>> 5);
  /** The summary word next-fit resumes from. */
  private cursor = 0;
  private freeCount = 0;
  private bump = 0;
  private end = 0;
  live = 0;

  constructor(private readonly arena: Arena) {}

  alloc(): number {
    this.live++;
    if (this.freeCount > 0) return this.takeFree();
    if (this.bump === this.end) this.newExtent();
    const a = this.bump;
    this.bump += NODE_WORDS;
    return a;
  }

  free(addr: number): void {
    this.live--;
    this.freeCount++;
    const e = this.extentOf(addr);
    const i = (addr - this.base[e]) / NODE_WORDS;
    const w = e * WORDS_PER_EXTENT + (i >>> 5);
    this.bits[w] |= 1 << (i & 31);
    this.summary[w >>> 5] |= 1 << (w & 31);
  }

  private takeFree(): number {
    const summary = this.summary;
    const limit = this.extents * (WORDS_PER_EXTENT >>> 5);
    let s = this.cursor;
    while (summary[s] === 0) {
      s++;
      if (s === limit) s = 0;
    }
    this.cursor = s;
    const sw = summary[s];
    const w = (s << 5) | (31 - Math.clz32(sw & -sw));
    const word = this.bits[w];
    const i = 31 - Math.clz32(word & -word);
    const rest = word & (word - 1);
    this.bits[w] = rest;
    if (rest === 0) summary[s] = sw & (sw - 1);
    this.freeCount--;
    const e = (w / WORDS_PER_EXTENT) | 0;
    return this.base[e] + ((w - e * WORDS_PER_EXTENT) * 32 + i) * NODE_WORDS;
  }

  private extentOf(addr: number): number {
    const g = addr >>> GRANULE_BITS;
    const s = this.starts[g] - 1;
    return s >= 0 && addr >= this.base[s] ? s : this.covers[g] - 1;
  }

  private newExtent(): void {
    const addr = this.arena.allocExtent(EXTENT_WORDS);
    const e = this.extents;
    if (e === this.base.length) this.grow(e * 2);
    this.base[e] = addr;
    const g0 = addr >>> GRANULE_BITS;
    const g1 = (addr + EXTENT_WORDS - 1) >>> GRANULE_BITS;
    if (g1 >= this.covers.length) {
      let n = this.covers.length;
      while (n <= g1) n *= 2;
      this.covers = widen(this.covers, n);
      this.starts = widen(this.starts, n);
    }
    if ((addr & ((1 << GRANULE_BITS) - 1)) === 0) this.covers[g0] = e + 1;
    else this.starts[g0] = e + 1;
    for (let g = g0 + 1; g <= g1; g++) this.covers[g] = e + 1;
    this.extents = e + 1;
    this.bump = addr;
    this.end = addr + EXTENT_WORDS;
  }

  private grow(extents: number): void {
    this.base = widen(this.base, extents);
    this.bits = widen(this.bits, extents * WORDS_PER_EXTENT);
    this.summary = widen(this.summary, (extents * WORDS_PER_EXTENT) >>> 5);
  }
}

/** A copy of `a`, `n` elements long. */
function widen<T extends Uint32Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
