/**
 * Edge-property columns: one value per adjacency entry, in buffers parallel to the arena
 * chunks (entry address a -> column chunk a >>> chunkBits, index a & chunkMask). Only entries
 * of the column's label are ever written, so untouched pages of the buffer cost no memory.
 *
 * Encodings: float64 columns hold the value (NaN = absent; non-finite numbers are rejected at
 * validation). u32 columns hold bool as 1/2 (0 = absent) or a blob reference (0 = absent).
 * Entries are immutable once their epoch is sealed: replacing an edge's properties appends a
 * new entry, so old epochs keep their values without copies.
 */
import { EpochgraphError } from '../errors.js';
import { CTL_ECOL_DIR, ECOL_CHUNKS_MAX } from './layout.js';
import { type ArenaViews, ColumnChunkViews, growSlot, type StoreDescriptor } from './shared-pool.js';

const COLUMN_GROW_STEP = 32 << 20;
export const EDGE_COLUMN_KINDS = ['f64', 'u32'] as const;
export type EdgeColumnKind = (typeof EDGE_COLUMN_KINDS)[number];

/** Assigns free pool slots to column chunks (writer only). */
export interface SlotSource {
  takeSlot(): number;
}

export class EdgeColumn {
  readonly views: ColumnChunkViews;
  private readonly bytesPerEntry: number;

  constructor(
    readonly ecol: number,
    readonly kind: EdgeColumnKind,
    private readonly desc: StoreDescriptor,
    private readonly ctl: Uint32Array,
    private readonly arena: ArenaViews,
    private readonly slots: SlotSource,
  ) {
    this.views = new ColumnChunkViews(desc, ctl, ecol);
    this.bytesPerEntry = kind === 'f64' ? 8 : 4;
  }

  /** Make the column cover entry address `addr` (assign and grow its chunk). */
  ensure(addr: number): void {
    const k = addr >>> this.arena.chunkBits;
    const off = addr & this.arena.chunkMask;
    const have = this.kind === 'f64' ? this.views.f64[k].length : this.views.u32[k].length;
    if (off < have) return;
    const dirIdx = CTL_ECOL_DIR + this.ecol * ECOL_CHUNKS_MAX + k;
    let entry = Atomics.load(this.ctl, dirIdx);
    if (entry === 0) {
      const slot = this.slots.takeSlot();
      entry = slot + 1;
      // Release: readers that load this entry after PUBLISHED can use the slot at once.
      Atomics.store(this.ctl, dirIdx, entry);
    }
    const sab = this.desc.slots[entry - 1];
    const need = (off + 1) * this.bytesPerEntry;
    if (need > sab.maxByteLength)
      throw new EpochgraphError('CAPACITY_EXCEEDED', 'edge property column is full');
    growSlot(sab, need, COLUMN_GROW_STEP);
    this.views.refresh();
  }

  setF64(addr: number, x: number): void {
    const a = this.views.f64[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    if (off >= a.length) {
      this.ensure(addr);
      this.views.f64[addr >>> this.arena.chunkBits][off] = x;
    } else a[off] = x;
  }

  setU32(addr: number, x: number): void {
    const a = this.views.u32[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    if (off >= a.length) {
      this.ensure(addr);
      this.views.u32[addr >>> this.arena.chunkBits][off] = x;
    } else a[off] = x;
  }

  /** Read as the writer (or a reader with refreshed views); absent when not covered. */
  getF64(addr: number): number {
    const a = this.views.f64[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    return off < a.length ? a[off] : Number.NaN;
  }

  getU32(addr: number): number {
    const a = this.views.u32[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    return off < a.length ? a[off] : 0;
  }

  /** Copy n values from entries [from, from+n) to [to, to+n) (relocation, compaction). */
  copy(from: number, to: number, n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.kind === 'f64') this.setF64(to + i, this.getF64(from + i));
      else this.setU32(to + i, this.getU32(from + i));
    }
  }

  /** Write "absent" at an entry. */
  clear(addr: number): void {
    if (this.kind === 'f64') this.setF64(addr, Number.NaN);
    else this.setU32(addr, 0);
  }
}
