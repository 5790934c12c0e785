/**
 * Edge-property columns: one value per adjacency entry, in buffers parallel to the arena
 * chunks (entry address a -> column chunk a >>> chunkBits, index a & chunkMask). Only entries
 * of the column's label are ever written, so untouched pages of the buffer cost no memory.
 *
 * Encodings: all-zero bits mean "absent" in every column, because a column created after
 * some entries were written (or grown) reads zero-filled memory for them. float64 columns
 * store a real 0 as -0.0 (so it reads back as 0; the sign of a zero is not kept). u32 columns
 * hold bool as 1/2 or a blob reference.
 * Entries are immutable once their epoch is sealed: replacing an edge's properties appends a
 * new entry, so old epochs keep their values without copies.
 */
import { EpochgraphError } from '../errors.js';
import * as layout from './layout.js';
import { type ArenaViews, ColumnChunkViews, growSlot, type StoreDescriptor } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CTL_ECOL_DIR, ECOL_CHUNKS_MAX } = layout;

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

  setF64(addr: number, value: number): void {
    // +0.0 (all-zero bits) means absent; a real zero is stored as -0.0.
    const x = value === 0 ? -0 : value;
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
    return off < a.length ? decodeF64(a[off]) : Number.NaN;
  }

  getU32(addr: number): number {
    const a = this.views.u32[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    return off < a.length ? a[off] : 0;
  }

  /** Copy n values from entries [from, from+n) to [to, to+n) (relocation, compaction). */
  copy(from: number, to: number, n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.kind === 'f64') this.setRawF64(to + i, this.rawF64(from + i));
      else this.setU32(to + i, this.getU32(from + i));
    }
  }

  private rawF64(addr: number): number {
    const a = this.views.f64[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    return off < a.length ? a[off] : 0;
  }

  private setRawF64(addr: number, raw: number): void {
    const a = this.views.f64[addr >>> this.arena.chunkBits];
    const off = addr & this.arena.chunkMask;
    if (off >= a.length) {
      if (raw === 0 && 1 / raw > 0) return; // absent, and uncovered memory reads absent
      this.ensure(addr);
      this.views.f64[addr >>> this.arena.chunkBits][off] = raw;
    } else a[off] = raw;
  }

  /** Write "absent" at an entry. */
  clear(addr: number): void {
    if (this.kind === 'f64') this.setRawF64(addr, 0);
    else this.setU32(addr, 0);
  }
}

/** Decode a stored float64 edge value: NaN when absent (+0.0 bits), else the value. */
export function decodeF64(raw: number): number {
  if (raw === 0) return 1 / raw > 0 ? Number.NaN : 0;
  return raw;
}
