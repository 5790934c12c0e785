/**
 * Each thread's views of the id index, and the lock-free lookup through them (id-index.ts has
 * the layout, the writer and the order of its writes that this lookup relies on).
 *
 * Separate from the writer: a reader in any thread (PartitionReader) needs only the views, the
 * probe under a segment's sequence lock and the hash constants; the writer uses the same views
 * and constants to place ids where this probe looks for them.
 */
import { EpochgraphError } from '../errors.js';
import { type ExternalId, fmix32, highHalf, intIdHash, stringIdHash, utf8 } from '../model/ids.js';
import type { StoreLimits } from './layout.js';
import * as layout from './layout.js';
import type { StoreDescriptor } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CTL_DIRECT_BOUND, ID_EXACT, ID_LID_MASK, SEG_HEADER, SEG_SEQ, SEG_SIZE } = layout;

/** Mixed into an id's hash before the hash picks a segment and a slot (writer and readers alike). */
export const INDEX_MIX = 0x2545f491;
const SPIN_LIMIT = 50_000_000;
/** 2^-32: fastrange position = floor(x * size * 2^-32), a multiply instead of a division. */
export const INV_2_32 = 2.3283064365386963e-10;

/** The segment of hash word `h`: its top segBits bits (0 for a one-segment index). */
export function segmentOf(h: number, segBits: number): number {
  return segBits === 0 ? 0 : h >>> (32 - segBits);
}

/**
 * Where hash word `h` starts probing in a segment of `size` slots (fastrange over the hash bits
 * below the segment bits). `h` may be of either sign (ids.ts: hash words).
 */
export function firstProbe(h: number, segBits: number, size: number): number {
  return (((h << segBits) >>> 0) * size * INV_2_32) >>> 0;
}

/**
 * Shared views over the index; one per thread, refreshed when buffers grow. Segment words are
 * read as int32, the form hash words and key words take (ids.ts), so a slot's key compares
 * with a computed key32 without conversion.
 */
export class IdIndexViews {
  readonly segBits: number;
  segs: Int32Array[] = [];
  extKeys: Float64Array = new Float64Array(0);
  keyHeap: Uint8Array = new Uint8Array(0);
  /** The direct map: direct[n] = local id + 1 of integer id n < directBound (0: none). */
  direct: Uint32Array = new Uint32Array(0);
  /**
   * Integer ids below this are in the direct map only, as this thread last saw it (it only
   * grows; see CTL_DIRECT_BOUND). Never more than direct.length.
   */
  directBound = 0;
  private readonly segSabs: SharedArrayBuffer[];
  private readonly keySab: SharedArrayBuffer;
  private readonly heapSab: SharedArrayBuffer;
  private readonly directSab: SharedArrayBuffer;
  readonly ctlWords: Uint32Array;

  constructor(desc: StoreDescriptor) {
    const l: StoreLimits = desc.limits;
    this.segBits = Math.log2(l.indexSegments);
    this.segSabs = desc.slots.slice(0, l.indexSegments);
    this.keySab = desc.slots[l.indexSegments];
    this.heapSab = desc.slots[l.indexSegments + 1];
    this.directSab = desc.slots[l.indexSegments + 2];
    this.ctlWords = new Uint32Array(desc.ctl);
    for (let i = 0; i < this.segSabs.length; i++) this.segs.push(new Int32Array(0));
    this.refresh();
  }

  /**
   * Take the direct map's bound as the writer last published it (acquire), with a view that
   * covers it.
   */
  refreshDirect(): void {
    const b = Atomics.load(this.ctlWords, CTL_DIRECT_BOUND);
    if (b === this.directBound) return;
    if (this.direct.length < b)
      this.direct = new Uint32Array(this.directSab, 0, this.directSab.byteLength / 4);
    this.directBound = b;
  }

  get directBuffer(): SharedArrayBuffer {
    return this.directSab;
  }

  refresh(): void {
    this.refreshDirect();
    for (let i = 0; i < this.segSabs.length; i++) {
      const sab = this.segSabs[i];
      if (sab.byteLength !== this.segs[i].byteLength)
        this.segs[i] = new Int32Array(sab, 0, sab.byteLength >>> 2);
    }
    if (this.keySab.byteLength !== this.extKeys.byteLength) {
      this.extKeys = new Float64Array(this.keySab, 0, this.keySab.byteLength >>> 3);
    }
    if (this.heapSab.byteLength !== this.keyHeap.byteLength) {
      this.keyHeap = new Uint8Array(this.heapSab, 0, this.heapSab.byteLength);
    }
  }

  segSab(i: number): SharedArrayBuffer {
    return this.segSabs[i];
  }
  get keyBuffer(): SharedArrayBuffer {
    return this.keySab;
  }
  get heapBuffer(): SharedArrayBuffer {
    return this.heapSab;
  }

  /**
   * The id key column, covering at least local ids below `bound`: keys[lid] ≥ 0 is the
   * external id itself (an integer id); a negative key marks a string id (use externalId);
   * NaN marks a local id no id has (a hole, id-index.ts).
   */
  keyColumn(bound: number): Float64Array {
    if (this.extKeys.length < bound) this.refresh();
    return this.extKeys;
  }

  /** The external id of a local id. */
  externalId(lid: number): ExternalId {
    return this.idOfKey(this.extKeys[lid]);
  }

  /** The external id that an id key (see keyColumn) stands for. */
  idOfKey(k: number): ExternalId {
    if (k >= 0) return k;
    const off = -k - 1;
    const h = this.keyHeap;
    const len = h[off] | (h[off + 1] << 8);
    return decoder.decode(h.subarray(off + 2, off + 2 + len));
  }

  /**
   * Where the first probe slot of integer id n lies, written as (segment, word) at tseg[k]
   * and tslot[k]; false when its segment is not mapped yet. For touch loops: a hint for the
   * cache, read without the sequence lock.
   */
  firstSlot(n: number, k: number, tseg: Int32Array, tslot: Int32Array): boolean {
    // An id of the direct map is one load, with nothing to overlap it with.
    if (n < this.directBound) return false;
    const h = fmix32(intIdHash(n | 0, highHalf(n)) ^ INDEX_MIX);
    const segIdx = segmentOf(h, this.segBits);
    const seg = this.segs[segIdx];
    if (seg.length < SEG_HEADER) return false;
    const word = SEG_HEADER + 2 * firstProbe(h, this.segBits, seg[SEG_SIZE]) + 1;
    tseg[k] = segIdx;
    tslot[k] = word < seg.length ? word : SEG_HEADER;
    return true;
  }

  /**
   * Load the slots (tseg[k], tslot[k]), k < m, and return a value that depends on them: the
   * second pass of a touch. A loop that only loads keeps many cache misses in flight; one that
   * also hashed kept few (70-100 ns per id against ~37, scratch/touch-ab.mjs). The value is
   * never negative, so callers can sink it in a test that never passes.
   */
  loadSlots(m: number, tseg: Int32Array, tslot: Int32Array): number {
    const segs = this.segs;
    let acc = 0;
    for (let k = 0; k < m; k++) acc = (acc + segs[tseg[k]][tslot[k]]) | 0;
    return acc & 0x7fffffff;
  }

  /** Touch the first probe slot of each integer id ids[sel[k]], k < count (others skipped). */
  touchSlots(
    ids: ArrayLike<ExternalId>,
    sel: Int32Array,
    count: number,
    tseg: Int32Array,
    tslot: Int32Array,
  ): number {
    let m = 0;
    for (let k = 0; k < count; k++) {
      const n = ids[sel[k]];
      if (typeof n === 'number' && this.firstSlot(n, m, tseg, tslot)) m++;
    }
    return this.loadSlots(m, tseg, tslot);
  }

  /** Resolve an id to its local id, or -1. Lock-free; retries if a rehash overlapped. */
  lookup(id: ExternalId): number {
    if (typeof id === 'number') return this.lookupInt(id);
    return this.lookupString(utf8(id));
  }

  lookupInt(n: number): number {
    if (n < this.directBound) return this.direct[n] - 1;
    const lo = n | 0;
    const hi = highHalf(n);
    const ph = intIdHash(lo, hi);
    const found = this.probe(fmix32(ph ^ INDEX_MIX), hi === 0 ? lo : ph, hi === 0, lo, hi, null);
    if (found >= 0) return found;
    // Not in the hash: it may have gone to the direct map after the map grew past it. (The
    // bound may have been taken again during the probe, by a refresh: compare, do not ask
    // whether it changed.)
    this.refreshDirect();
    return n < this.directBound ? this.direct[n] - 1 : -1;
  }

  lookupString(bytes: Uint8Array): number {
    const fp = stringIdHash(bytes);
    return this.probe(fmix32(fp ^ INDEX_MIX), fp, false, 0, 0, bytes);
  }

  /**
   * The probe, for hash word h and key word key32; an integer id comes as its 32-bit halves
   * (lo, hi: int32 like every argument here, see ids.ts), a string id as its bytes.
   */
  private probe(
    h: number,
    key32: number,
    exact: boolean,
    lo: number,
    hi: number,
    bytes: Uint8Array | null,
  ): number {
    const segIdx = segmentOf(h, this.segBits);
    for (let spins = 0; ; spins++) {
      let seg = this.segs[segIdx];
      if (seg.length < SEG_HEADER) {
        this.refresh();
        seg = this.segs[segIdx];
        if (seg.length < SEG_HEADER) return -1;
      }
      // Acquire: a rehash in progress (odd) moves slots; wait for it to finish.
      const s1 = Atomics.load(seg, SEG_SEQ);
      if ((s1 & 1) !== 0) {
        if (spins > SPIN_LIMIT) throw new EpochgraphError('NOT_READY', 'id index rehash stalled');
        continue;
      }
      const size = seg[SEG_SIZE];
      if (seg.length < SEG_HEADER + size * 2) {
        this.refresh();
        continue;
      }
      let found = -1;
      if (size > 0) {
        let i = firstProbe(h, this.segBits, size);
        for (let n = 0; n < size; n++) {
          const idw = seg[SEG_HEADER + 2 * i + 1];
          if (idw === 0) break;
          if (seg[SEG_HEADER + 2 * i] === key32 && ((idw & ID_EXACT) !== 0) === exact) {
            const lid = (idw & ID_LID_MASK) - 1;
            if (exact || this.verify(lid, lo, hi, bytes)) {
              found = lid;
              break;
            }
          }
          if (++i === size) i = 0;
        }
      }
      // Use the result only if no rehash overlapped the probe.
      if (Atomics.load(seg, SEG_SEQ) === s1) return found;
    }
  }

  /**
   * Whether local id `lid` has the integer id with halves (lo, hi), or the string id `bytes`:
   * the check behind a slot that holds a hash, for the probe and the writer's insert alike.
   */
  verify(lid: number, lo: number, hi: number, bytes: Uint8Array | null): boolean {
    if (lid >= this.extKeys.length) this.refresh();
    const k = this.extKeys[lid];
    if (bytes === null) return k === joinHalves(lo, hi);
    if (!(k < 0)) return false;
    const off = -k - 1;
    const h = this.keyHeap;
    if (off + 2 > h.length) return false;
    const len = h[off] | (h[off + 1] << 8);
    if (len !== bytes.length) return false;
    for (let j = 0; j < len; j++) if (h[off + 2 + j] !== bytes[j]) return false;
    return true;
  }
}

const decoder = new TextDecoder();

/** The integer whose 32-bit halves are lo and hi (either sign). */
export function joinHalves(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}
