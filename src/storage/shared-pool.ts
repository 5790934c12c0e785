/**
 * The buffers of one partition and the typed-array views over them.
 *
 * Views are fixed-length (length-tracking views over growable buffers are 9x slower per
 * access on Node 20) and are recreated when their buffer has grown. The writer grows a buffer
 * before it writes into the new space and publishes the epoch after, so a reader that loaded
 * the published epoch and then refreshes its views sees every byte it may need.
 */
import { EpochgraphError, invalid } from '../errors.js';
import * as layout from './layout.js';
import { arenaBase, columnBase, type StoreLimits } from './layout.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  CTL_CHUNKS_USED,
  CTL_ECOL_DIR,
  CTL_END,
  CTL_MAGIC,
  CTL_PARTITION,
  CTL_PARTITIONS,
  CTL_VERSION,
  CTL_WORDS,
  DEFAULT_LIMITS,
  ECOL_CHUNKS_MAX,
  ECOL_MAX,
  STORE_MAGIC,
  STORE_VERSION,
} = layout;

/** Everything a thread needs to read a partition: post it once; it never changes. */
export interface StoreDescriptor {
  readonly kind: 'epochgraph-partition';
  readonly partition: number;
  readonly partitions: number;
  readonly limits: StoreLimits;
  readonly ctl: SharedArrayBuffer;
  readonly slots: readonly SharedArrayBuffer[];
}

/** The largest SharedArrayBuffer a growable one may reserve on Node 20 (4 GiB). */
export const MAX_GROWABLE_BYTES = 2 ** 32;

export function resolveLimits(partial: Partial<StoreLimits> = {}): StoreLimits {
  const l: StoreLimits = { ...DEFAULT_LIMITS, ...partial };
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(l.indexSegments) || l.indexSegments > 1024)
    throw invalid('indexSegments must be a power of two ≤ 1024');
  if (!pow2(l.chunkWords) || l.chunkWords < 1 << 12 || l.chunkWords > 1 << 28)
    throw invalid('chunkWords must be a power of two in [2^12, 2^28]');
  if (!Number.isInteger(l.maxChunks) || l.maxChunks < 1 || l.maxChunks > ECOL_CHUNKS_MAX)
    throw invalid(`maxChunks must be in [1, ${ECOL_CHUNKS_MAX}]`);
  if (l.maxChunks * l.chunkWords > 2 ** 32) throw invalid('maxChunks * chunkWords must be ≤ 2^32 words');
  if (l.slotMaxBytes < l.chunkWords * 8 || l.slotMaxBytes > MAX_GROWABLE_BYTES)
    throw invalid('slotMaxBytes must hold chunkWords * 8 bytes and be ≤ 4 GiB');
  if (!Number.isInteger(l.poolSlots) || l.poolSlots < columnBase(l))
    throw invalid(`poolSlots must be ≥ ${columnBase(l)}`);
  return Object.freeze(l);
}

/** Create the buffers of a new, empty partition. */
export function createDescriptor(
  partition: number,
  partitions: number,
  limits: StoreLimits,
): StoreDescriptor {
  if (CTL_END > CTL_WORDS) throw new Error('control block layout overflows CTL_WORDS');
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  const c = new Uint32Array(ctl);
  c[CTL_MAGIC] = STORE_MAGIC;
  c[CTL_VERSION] = STORE_VERSION;
  c[CTL_PARTITION] = partition;
  c[CTL_PARTITIONS] = partitions;
  const slots: SharedArrayBuffer[] = [];
  for (let i = 0; i < limits.poolSlots; i++) {
    slots.push(new SharedArrayBuffer(0, { maxByteLength: limits.slotMaxBytes }));
  }
  return Object.freeze({
    kind: 'epochgraph-partition',
    partition,
    partitions,
    limits,
    ctl,
    slots: Object.freeze(slots),
  });
}

/** Validate a descriptor that arrived from another thread. */
export function checkDescriptor(d: unknown): StoreDescriptor {
  const bad = (why: string) => new EpochgraphError('INTERNAL', `invalid partition descriptor: ${why}`);
  if (d === null || typeof d !== 'object') throw bad('not an object');
  const o = d as Partial<StoreDescriptor>;
  if (o.kind !== 'epochgraph-partition') throw bad('wrong kind');
  if (!(o.ctl instanceof SharedArrayBuffer) || o.ctl.byteLength !== CTL_WORDS * 4) throw bad('control block');
  if (!Array.isArray(o.slots) || !o.slots.every((s) => s instanceof SharedArrayBuffer)) throw bad('slots');
  const c = new Uint32Array(o.ctl);
  if (c[CTL_MAGIC] !== STORE_MAGIC || c[CTL_VERSION] !== STORE_VERSION) throw bad('magic/version');
  const limits = resolveLimits(o.limits ?? {});
  if (o.slots.length !== limits.poolSlots) throw bad('slot count');
  return {
    kind: 'epochgraph-partition',
    partition: c[CTL_PARTITION],
    partitions: c[CTL_PARTITIONS],
    limits,
    ctl: o.ctl,
    slots: o.slots,
  };
}

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_F32 = new Float32Array(0);
const EMPTY_U8 = new Uint8Array(0);

/**
 * Views over the word arena: chunk k is pool slot arenaBase + k. An arena address is a u32
 * word index: chunk = addr >>> chunkBits, offset = addr & chunkMask. Address 0 is null.
 */
export class ArenaViews {
  readonly chunkBits: number;
  readonly chunkMask: number;
  readonly u32: Uint32Array[] = [];
  readonly i32: Int32Array[] = [];
  readonly f64: Float64Array[] = [];
  readonly f32: Float32Array[] = [];
  readonly u8: Uint8Array[] = [];
  private readonly sabs: SharedArrayBuffer[];

  constructor(desc: StoreDescriptor) {
    this.chunkBits = Math.log2(desc.limits.chunkWords);
    this.chunkMask = desc.limits.chunkWords - 1;
    const base = arenaBase(desc.limits);
    this.sabs = desc.slots.slice(base, base + desc.limits.maxChunks);
    for (let k = 0; k < this.sabs.length; k++) {
      this.u32.push(EMPTY_U32);
      this.i32.push(new Int32Array(0));
      this.f64.push(EMPTY_F64);
      this.f32.push(EMPTY_F32);
      this.u8.push(EMPTY_U8);
    }
    this.refresh();
  }

  /** Recreate the views of chunks whose buffer grew. Cheap when nothing changed. */
  refresh(): void {
    for (let k = 0; k < this.sabs.length; k++) {
      const sab = this.sabs[k];
      const bytes = sab.byteLength;
      if (bytes !== this.u32[k].byteLength) this.rebuild(k, sab, bytes);
    }
  }

  private rebuild(k: number, sab: SharedArrayBuffer, bytes: number): void {
    this.u32[k] = new Uint32Array(sab, 0, bytes >>> 2);
    this.i32[k] = new Int32Array(sab, 0, bytes >>> 2);
    this.f64[k] = new Float64Array(sab, 0, bytes >>> 3);
    this.f32[k] = new Float32Array(sab, 0, bytes >>> 2);
    this.u8[k] = new Uint8Array(sab, 0, bytes);
  }

  chunkSab(k: number): SharedArrayBuffer {
    return this.sabs[k];
  }

  /**
   * The word at addr. A reader's views may predate memory the writer allocated later (a
   * snapshot at an old epoch still follows the current version node of a record to walk
   * back through history), so an address past the view refreshes the views first.
   */
  word(addr: number): number {
    const c = this.u32[addr >>> this.chunkBits];
    const off = addr & this.chunkMask;
    if (off < c.length) return c[off];
    this.refresh();
    return this.u32[addr >>> this.chunkBits][off] ?? 0;
  }

  /** The chunk view holding addr, refreshed if addr lies past it. */
  chunk(addr: number): Uint32Array {
    const k = addr >>> this.chunkBits;
    let c = this.u32[k];
    if ((addr & this.chunkMask) >= c.length) {
      this.refresh();
      c = this.u32[k];
    }
    return c;
  }

  /** Like word(), but 0 for an address outside the arena (for walks that may be torn). */
  safeWord(addr: number): number {
    const c = this.u32[addr >>> this.chunkBits];
    if (c === undefined) return 0;
    const off = addr & this.chunkMask;
    if (off < c.length) return c[off];
    this.refresh();
    return this.u32[addr >>> this.chunkBits]?.[off] ?? 0;
  }

  setWord(addr: number, v: number): void {
    this.u32[addr >>> this.chunkBits][addr & this.chunkMask] = v;
  }

  /** A u32 view over [addr, addr + words) without copying (the range is within one chunk). */
  subarray(addr: number, words: number): Uint32Array {
    const off = addr & this.chunkMask;
    return this.u32[addr >>> this.chunkBits].subarray(off, off + words);
  }

  /** Bytes of a blob stored at addr (first word: byte length). */
  bytes(addr: number): Uint8Array {
    const k = addr >>> this.chunkBits;
    const off = addr & this.chunkMask;
    const n = this.u32[k][off];
    const start = (off + 1) * 4;
    return this.u8[k].subarray(start, start + n);
  }
}

/** The column chunk views of one edge-property column (parallel to arena chunks). */
export class ColumnChunkViews {
  readonly f64: Float64Array[] = [];
  readonly u32: Uint32Array[] = [];
  private readonly slotOf: number[] = [];

  constructor(
    private readonly desc: StoreDescriptor,
    private readonly ctl: Uint32Array,
    readonly column: number,
  ) {
    for (let k = 0; k < desc.limits.maxChunks; k++) {
      this.f64.push(EMPTY_F64);
      this.u32.push(EMPTY_U32);
      this.slotOf.push(-1);
    }
    this.refresh();
  }

  refresh(): void {
    const { maxChunks } = this.desc.limits;
    for (let k = 0; k < maxChunks; k++) {
      const entry = Atomics.load(this.ctl, CTL_ECOL_DIR + this.column * ECOL_CHUNKS_MAX + k);
      if (entry === 0) continue;
      const slot = entry - 1;
      const sab = this.desc.slots[slot];
      if (this.slotOf[k] !== slot || sab.byteLength !== this.f64[k].byteLength) {
        this.slotOf[k] = slot;
        this.f64[k] = new Float64Array(sab, 0, sab.byteLength >>> 3);
        this.u32[k] = new Uint32Array(sab, 0, sab.byteLength >>> 2);
      }
    }
  }
}

/**
 * Writer-side: grow a slot buffer to at least `bytes`, at least `stepBytes` at a time. Growth
 * never copies (the address range was reserved up front), so steps only bound the number of
 * grow calls; pages are committed by the OS when first touched. (Committing a whole step at
 * once took an idle store from 0.7 to 42 MB of memory: prefault is for buffers that are
 * filled as they grow.)
 */
export function growSlot(sab: SharedArrayBuffer, bytes: number, stepBytes: number): void {
  if (sab.byteLength >= bytes) return;
  const max = sab.maxByteLength;
  if (bytes > max) {
    throw new EpochgraphError('CAPACITY_EXCEEDED', `partition buffer limit reached (${max} bytes per slot)`);
  }
  const target = Math.min(max, Math.ceil(Math.max(bytes, sab.byteLength + stepBytes) / 65536) * 65536);
  sab.grow(Math.max(target, bytes));
}

/** Bytes of a page of memory (the unit the OS commits on first touch). */
const PAGE_BYTES = 4096;

/**
 * Commit the pages of sab's fresh bytes [from, to) by writing one zero into each (they read
 * as zeros already, so nothing changes). A fresh page that is first read is mapped to the
 * shared zero page, and the write that follows faults again to copy it and flushes the TLB of
 * every core that runs one of the process's threads (an inter-processor interrupt, costly on
 * a VM). The writer's touch loops read the writer state of new vertices before writing it
 * (RecordTable.ensureItems commits it as it grows); without that, about one fault in six under
 * the HTTP ingest load was such a pair.
 */
export function prefault(sab: SharedArrayBuffer, from: number, to: number): void {
  if (to <= from) return;
  const bytes = new Uint8Array(sab, from, to - from);
  for (let i = 0; i < bytes.length; i += PAGE_BYTES) bytes[i] = 0;
}

export function chunksUsed(ctl: Uint32Array): number {
  return Atomics.load(ctl, CTL_CHUNKS_USED);
}

export { ECOL_MAX };
