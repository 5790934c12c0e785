/**
 * The id index: external id -> dense local id, in shared memory, so a reader in any thread
 * resolves ids without asking the writer.
 *
 * - Segments: the table is split into `indexSegments` open-addressing segments, each in its
 *   own growable buffer, chosen by the top bits of the hash. A segment grows by 1.5x in place
 *   (grow the buffer, rehash under the segment's sequence lock), so a rehash pauses one
 *   segment for a fraction of a millisecond, never the whole index.
 * - Slots are 8 bytes [key32, idWord], key and id side by side. For integer ids below 2^32,
 *   key32 is the id itself (ID_EXACT set): no second memory access to verify. Other ids store
 *   a 32-bit fingerprint and are verified against the external-key table.
 * - Positions use fastrange (hash * size / 2^32), so sizes need not be powers of two and the
 *   load stays within [0.53, 0.8]: about 10-15 bytes per id, plus 8 for the key table.
 * - The external-key table maps local id -> id: a float64 (integers as themselves, strings as
 *   -(offset + 1) into the string-key heap, which stores [len u16][utf-8 bytes]).
 * - The direct map: integer ids below a bound (CTL_DIRECT_BOUND) are indexed by position,
 *   direct[id] = local id + 1, with no hash and no probe. Most graphs number their vertices
 *   with small integers; for them a lookup is one load, inserts of ids that come in runs touch
 *   memory in order, and nothing is ever rehashed (the buffer grows in place). The bound only
 *   grows, and only while the ids it covers are dense enough (id-direct.ts; ids spread thin
 *   stay in the hash). When it grows, the ids of the hash below the new bound
 *   are copied into the map before the new bound is published, so below the bound the map
 *   alone answers; those hash slots stay (never removed), so a reader that still has the old
 *   bound finds them in the hash, and one that misses there loads the bound again.
 *
 * - Local ids come in segments of RECORDS_PER_BLOCK (4096), each holding either vertices this
 *   partition owns or ghosts (vertices of other partitions that its lists name), like the
 *   inner and outer vertices of a GRAPE fragment. A partition's vertices then fill whole
 *   record ranges, so scans over them (PageRank's pull, the update sweep) run over contiguous
 *   records instead of every other one: P = 2 PageRank on 1M/10M took 0.77x the time with
 *   this numbering, against ids interleaved in order of first appearance
 *   (scratch/p2-vfirst.mjs). At P = 1 every id is owned and the numbering is dense. Only the
 *   two open segments (one of each kind) have unassigned ids ("holes"); their key is NaN.
 *
 * Readers treat idWord == 0 as an empty slot. The writer writes the key table, then key32,
 * then idWord, so a reader that sees an idWord sees a key it can verify; a reader never acts
 * on a local id it cannot also find in a published epoch (the caller checks existence).
 *
 * This file has the writer (IdIndex), which alone inserts and rehashes; each thread's views
 * and the lock-free lookup are in id-index-views.ts.
 */
import { EpochgraphError } from '../errors.js';
import {
  type ExternalId,
  fmix32,
  hashMod,
  highHalf,
  idHash,
  intIdHash,
  stringIdHash,
  utf8,
} from '../model/ids.js';
import * as idDirect from './id-direct.js';
import { DirectMapPolicy, growDirect } from './id-direct.js';
import * as idIndexViews from './id-index-views.js';
import { IdIndexViews } from './id-index-views.js';
import * as layout from './layout.js';
import * as lidMark from './lid-mark.js';
import { LidMark } from './lid-mark.js';
import { growSlot, type StoreDescriptor } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { INDEX_MIX, firstProbe, joinHalves, segmentOf } = idIndexViews;
const { inOpenTails } = lidMark;
const { DIRECT_FREE_IDS, DIRECT_IDS_PER_ID } = idDirect;
const { ID_EXACT, ID_LID_MASK, RECORD_BITS, RECORDS_PER_BLOCK, SEG_COUNT, SEG_HEADER, SEG_SEQ, SEG_SIZE } =
  layout;

const INITIAL_SEGMENT_SLOTS = 64;
const MAX_LOAD = 0.8;
const GROWTH = 1.5;
const KEY_GROW_STEP = 8 << 20;
/** Local ids per segment: one record range. */
const SEGMENT = RECORDS_PER_BLOCK;

/** Writer side of the id index. */
export class IdIndex {
  readonly views: IdIndexViews;
  /** Number of ids (local ids assigned). */
  count = 0;
  /** Local ids are below this: the highest one assigned + 1 (holes included). */
  bound = 0;
  /** The open segment of owned ids: next id, end; then the same for ghosts. */
  private ownNext = 0;
  private ownEnd = 0;
  private ghostNext = 0;
  private ghostEnd = 0;
  /** Segments handed out end here. */
  private top = 0;
  private readonly partition: number;
  private readonly partitions: number;
  private heapUsed = 0;
  /** True when the last lookupOrInsert created the id. */
  created = false;
  /** The partition hash of the last id looked up or inserted (idHash's bits, as an int32). */
  lastHash = 0;
  private readonly segCounts: Uint32Array;
  private readonly segSizes: Uint32Array;
  /** When the direct map may grow. */
  private readonly directPolicy: DirectMapPolicy;
  /** touchInts' slot positions (segment, word), reused. */
  private touchSeg = new Int32Array(0);
  private touchSlot = new Int32Array(0);

  constructor(desc: StoreDescriptor) {
    this.views = new IdIndexViews(desc);
    this.directPolicy = new DirectMapPolicy(this.views.directBuffer);
    this.partition = desc.partition;
    this.partitions = desc.partitions;
    const n = desc.limits.indexSegments;
    this.segCounts = new Uint32Array(n);
    this.segSizes = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      growSlot(this.views.segSab(i), (SEG_HEADER + INITIAL_SEGMENT_SLOTS * 2) * 4, 0);
      this.segSizes[i] = INITIAL_SEGMENT_SLOTS;
    }
    this.views.refresh();
    for (let i = 0; i < n; i++) this.views.segs[i][SEG_SIZE] = INITIAL_SEGMENT_SLOTS;
  }

  /**
   * Touch the first probe slot of each integer id in ids[from, to), so that a group's cache
   * misses overlap instead of being paid one by one: slot positions first, then a load-only
   * loop (IdIndexViews.firstSlot, loadSlots).
   */
  touchInts(ids: ArrayLike<number>, from: number, to: number): number {
    const v = this.views;
    if (this.touchSeg.length < to - from) {
      this.touchSeg = new Int32Array(to - from);
      this.touchSlot = new Int32Array(to - from);
    }
    let m = 0;
    for (let i = from; i < to; i++) if (v.firstSlot(ids[i], m, this.touchSeg, this.touchSlot)) m++;
    return v.loadSlots(m, this.touchSeg, this.touchSlot);
  }

  /** Local id of an id, creating it when absent (check `created`). */
  lookupOrInsert(id: ExternalId): number {
    if (typeof id === 'number') return this.intId(id);
    return this.stringId(utf8(id));
  }

  intId(n: number): number {
    const lo = n | 0;
    const hi = highHalf(n);
    const ph = intIdHash(lo, hi);
    this.lastHash = ph;
    const v = this.views;
    // Past what the map could cover at this count, ask no further (ids spread thin, the hash's
    // case, mostly are): growDirect's own first test, without the call.
    if (
      n < v.directBound ||
      (n < DIRECT_IDS_PER_ID * this.count + DIRECT_FREE_IDS &&
        growDirect(v, this.segSizes, this.directPolicy, n, this.count))
    ) {
      const e = v.direct[n];
      if (e !== 0) {
        this.created = false;
        return e - 1;
      }
      return this.addDirect(n, ph);
    }
    return this.findOrAdd(fmix32(ph ^ INDEX_MIX), hi === 0 ? lo : ph, hi === 0, lo, hi, null);
  }

  /** Insert integer id n (hash ph) below the direct map's bound; it is not there. */
  private addDirect(n: number, ph: number): number {
    const lid = this.nextLid(this.ownsHash(ph));
    // + 0: the id -0 (valid JSON) is the vertex 0, and its key is 0, as the hash's keys are.
    this.storeKey(lid, n + 0, null);
    this.count++;
    if (lid >= this.bound) this.bound = lid + 1;
    // The key before the map entry: a reader that sees the entry sees the key.
    this.views.direct[n] = lid + 1;
    this.directPolicy.directCount++;
    this.created = true;
    return lid;
  }

  stringId(bytes: Uint8Array): number {
    const fp = stringIdHash(bytes);
    this.lastHash = fp;
    return this.findOrAdd(fmix32(fp ^ INDEX_MIX), fp, false, 0, 0, bytes);
  }

  /**
   * Find or insert, for hash word h and key word key32; an integer id comes as its 32-bit
   * halves (lo, hi), a string id as its bytes. Every argument is an int32 (ids.ts: hash words).
   */
  private findOrAdd(
    h: number,
    key32: number,
    exact: boolean,
    lo: number,
    hi: number,
    bytes: Uint8Array | null,
  ): number {
    const v = this.views;
    const segIdx = segmentOf(h, v.segBits);
    let seg = v.segs[segIdx];
    let size = this.segSizes[segIdx];
    let i = firstProbe(h, v.segBits, size);
    for (;;) {
      const idw = seg[SEG_HEADER + 2 * i + 1];
      if (idw === 0) break;
      if (seg[SEG_HEADER + 2 * i] === key32 && ((idw & ID_EXACT) !== 0) === exact) {
        const lid = (idw & ID_LID_MASK) - 1;
        if (exact || v.verify(lid, lo, hi, bytes)) {
          this.created = false;
          return lid;
        }
      }
      if (++i === size) i = 0;
    }
    // Absent: insert. Grow first if the segment would pass the load limit.
    if (this.segCounts[segIdx] + 1 > size * MAX_LOAD) {
      this.rehash(segIdx, Math.ceil(size * GROWTH));
      seg = v.segs[segIdx];
      size = this.segSizes[segIdx];
      i = firstProbe(h, v.segBits, size);
      while (seg[SEG_HEADER + 2 * i + 1] !== 0) if (++i === size) i = 0;
    }
    const lid = this.nextLid(this.ownsHash(this.lastHash));
    this.storeKey(lid, bytes === null ? joinHalves(lo, hi) : -1, bytes);
    this.count++;
    if (lid >= this.bound) this.bound = lid + 1;
    // key32 before idWord: a reader that sees the idWord sees the key.
    seg[SEG_HEADER + 2 * i] = key32;
    seg[SEG_HEADER + 2 * i + 1] = (exact ? ID_EXACT : 0) | (lid + 1);
    if (exact) this.directPolicy.hashed(lo >>> 0);
    this.segCounts[segIdx]++;
    seg[SEG_COUNT] = this.segCounts[segIdx];
    this.created = true;
    return lid;
  }

  /** The next local id of an owned id or of a ghost, opening a segment when its kind's is full. */
  private nextLid(own: boolean): number {
    if (own ? this.ownNext === this.ownEnd : this.ghostNext === this.ghostEnd) {
      const start = this.top;
      if (start + SEGMENT > ID_LID_MASK - 1)
        throw new EpochgraphError('CAPACITY_EXCEEDED', 'too many vertices in one partition');
      this.top += SEGMENT;
      this.markHoles(start, start + SEGMENT);
      if (own) {
        this.ownNext = start;
        this.ownEnd = start + SEGMENT;
      } else {
        this.ghostNext = start;
        this.ghostEnd = start + SEGMENT;
      }
    }
    return own ? this.ownNext++ : this.ghostNext++;
  }

  /** Keys of unassigned local ids are NaN (holes: see the header). */
  private markHoles(from: number, to: number): void {
    const v = this.views;
    if (to * 8 > v.extKeys.byteLength) {
      growSlot(v.keyBuffer, to * 8, KEY_GROW_STEP);
      v.refresh();
    }
    v.extKeys.fill(Number.NaN, from, to);
  }

  /**
   * True when an id has local id `lid` (it is below the bound and not a hole). From the
   * cursors alone, with no key read: a restore checks every neighbour with it.
   */
  assigned(lid: number): boolean {
    return lid < this.bound && !inOpenTails(lid, this.ownNext, this.ownEnd, this.ghostNext, this.ghostEnd);
  }

  /** The record range of the open segment of owned ids, or -1 when it is full. */
  openOwnRange(): number {
    return this.ownNext < this.ownEnd ? (this.ownEnd - 1) >>> RECORD_BITS : -1;
  }

  /** Where allocation stands now (see LidMark). */
  mark(): LidMark {
    return new LidMark(this.top, this.ownNext, this.ownEnd, this.ghostNext, this.ghostEnd);
  }

  /**
   * Restore: put `id` at local id `lid`, above every id restored so far (a checkpoint lists
   * ids in local-id order; the ids between are holes). Returns false if the id is already
   * there or the order is broken. Call finishRestore after the last one.
   */
  restoreAt(id: ExternalId, lid: number): boolean {
    if (!Number.isSafeInteger(lid) || lid < this.bound || lid >= ID_LID_MASK - 1) return false;
    if (lid >= this.top) {
      const start = lid - (lid % SEGMENT);
      this.markHoles(this.top, start + SEGMENT);
      this.top = start + SEGMENT;
    }
    // Both kinds' cursors point at lid alone; the normal insert takes the one of the id's kind
    // (it hashes the id once; finishRestore sets the real cursors).
    this.ownNext = this.ghostNext = lid;
    this.ownEnd = this.ghostEnd = lid + 1;
    const got = this.lookupOrInsert(id);
    return got === lid && this.created;
  }

  /** True when this partition owns the ids of partition hash `h` (idHash, or lastHash). */
  ownsHash(h: number): boolean {
    return this.partitions === 1 || hashMod(h, this.partitions) === this.partition;
  }

  /**
   * After the last restoreAt: the open segments are the highest segment that starts with an
   * owned id and the highest that starts with a ghost (a segment's first id is assigned
   * first), each open from just after its last assigned id.
   */
  finishRestore(): void {
    this.ownNext = this.ownEnd = this.ghostNext = this.ghostEnd = 0;
    const keys = this.views.extKeys;
    let ownDone = false;
    let ghostDone = false;
    for (let start = this.top - SEGMENT; start >= 0 && !(ownDone && ghostDone); start -= SEGMENT) {
      const k = keys[start];
      if (Number.isNaN(k)) continue;
      const own = this.ownsHash(idHash(this.views.externalId(start)));
      if (own ? ownDone : ghostDone) continue;
      let next = start + SEGMENT;
      while (next > start && Number.isNaN(keys[next - 1])) next--;
      if (own) {
        this.ownNext = next;
        this.ownEnd = start + SEGMENT;
        ownDone = true;
      } else {
        this.ghostNext = next;
        this.ghostEnd = start + SEGMENT;
        ghostDone = true;
      }
    }
  }

  private storeKey(lid: number, num: number, bytes: Uint8Array | null): void {
    const v = this.views;
    if ((lid + 1) * 8 > v.extKeys.byteLength) {
      growSlot(v.keyBuffer, (lid + 1) * 8, KEY_GROW_STEP);
      v.refresh();
    }
    if (bytes === null) {
      v.extKeys[lid] = num;
      return;
    }
    const need = this.heapUsed + 2 + bytes.length;
    if (need > v.keyHeap.length) {
      growSlot(v.heapBuffer, need, KEY_GROW_STEP);
      v.refresh();
    }
    const heap = v.keyHeap;
    const off = this.heapUsed;
    heap[off] = bytes.length & 0xff;
    heap[off + 1] = bytes.length >>> 8;
    heap.set(bytes, off + 2);
    this.heapUsed = need;
    v.extKeys[lid] = -(off + 1);
  }

  /** Grow a segment in place and rehash it, under its sequence lock. */
  private rehash(segIdx: number, newSize: number): void {
    const v = this.views;
    const oldSize = this.segSizes[segIdx];
    const old = v.segs[segIdx].slice(SEG_HEADER, SEG_HEADER + oldSize * 2);
    // Odd: readers of this segment wait; slots are about to move.
    Atomics.add(v.segs[segIdx], SEG_SEQ, 1);
    growSlot(v.segSab(segIdx), (SEG_HEADER + newSize * 2) * 4, 0);
    v.refresh();
    const seg = v.segs[segIdx];
    seg.fill(0, SEG_HEADER, SEG_HEADER + newSize * 2);
    for (let j = 0; j < oldSize; j++) {
      const key32 = old[2 * j];
      const idw = old[2 * j + 1];
      if (idw === 0) continue;
      // The slot's hash comes from its own key word, with no read of the external key (a
      // cache miss per entry: it was most of a rehash, and rehashes most of a fresh load).
      const h = indexHashOfSlot(key32, (idw & ID_EXACT) !== 0);
      let i = firstProbe(h, v.segBits, newSize);
      while (seg[SEG_HEADER + 2 * i + 1] !== 0) if (++i === newSize) i = 0;
      seg[SEG_HEADER + 2 * i] = key32;
      seg[SEG_HEADER + 2 * i + 1] = idw;
    }
    seg[SEG_SIZE] = newSize;
    this.segSizes[segIdx] = newSize;
    // Even: the segment is consistent at its new size.
    Atomics.add(seg, SEG_SEQ, 1);
  }

  /** Bytes used by the index (segments) and the external-key table. */
  bytes(): { index: number; keys: number } {
    let slots = 0;
    for (let i = 0; i < this.segSizes.length; i++) slots += this.segSizes[i];
    return {
      index: slots * 8 + this.segSizes.length * SEG_HEADER * 4 + this.views.directBound * 4,
      keys: this.bound * 8 + this.heapUsed,
    };
  }
}

/**
 * The index hash of a slot from its key word, as intId/stringId computed it: an exact slot
 * holds an integer id below 2^32 (hash of (id, 0)); any other slot holds the id's 32-bit hash
 * (an integer's intIdHash, a string's stringIdHash), which the index hash mixes once more.
 */
function indexHashOfSlot(key32: number, exact: boolean): number {
  return fmix32((exact ? intIdHash(key32, 0) : key32) ^ INDEX_MIX);
}
