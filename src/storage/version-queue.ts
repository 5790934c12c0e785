/**
 * The versions pending reclamation, oldest first, across every record table of a partition.
 * The seal pushes an entry per published version (record-table.ts); retention drains the
 * entries whose epoch the oldest retained epoch has reached, handing each run of one table to
 * RecordTable.reclaimRun.
 */
import type { RecordTable } from './record-table.js';

/** Entries per queue segment (of 4 words each). */
const SEG_BITS = 16;
const SEG = 1 << SEG_BITS;
/** Drained segments kept for reuse. */
const SPARE_MAX = 8;

/**
 * The versions pending reclamation: at each seal, every item that changed gets an entry
 * (epoch, table, item, node). Once the oldest retained epoch reaches that epoch, the version
 * before it is unreachable and is freed, and the node itself is dropped if it is no longer
 * needed (no stamps and still current).
 */
export class VersionQueue {
  // A chain of fixed-size segments: pushing never copies (a bulk load can queue millions of
  // versions while they are all still retained). Drained segments are kept for reuse (up to
  // SPARE_MAX): a new one is 1 MiB of fresh pages, and faulting them in (2-10 us a page on
  // this VM) slowed the seal that crossed into it, one in seven at 5K updates per epoch.
  // Reuse made seals at 1M/10M about 5-8% faster at p50 and 8-10% at p99 (scratch/seal-ab.mjs:
  // two stores in one process, in both orders, since the second store runs ~5% faster).
  private segs: Uint32Array[] = [];
  private spare: Uint32Array[] = [];
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(epoch: number, table: number, item: number, node: number): void {
    const k = this.tail >>> SEG_BITS;
    if (k >= this.segs.length) this.segs.push(this.spare.pop() ?? new Uint32Array(SEG * 4));
    const o = (this.tail & (SEG - 1)) * 4;
    const seg = this.segs[k];
    seg[o] = epoch;
    seg[o + 1] = table;
    seg[o + 2] = item;
    seg[o + 3] = node;
    this.tail++;
  }

  /** The epoch of the oldest pending entry (Infinity when none). */
  oldestEpoch(): number {
    if (this.head === this.tail) return Number.POSITIVE_INFINITY;
    return this.segs[this.head >>> SEG_BITS][(this.head & (SEG - 1)) * 4];
  }

  /**
   * Process the entries whose epoch ≤ oldest, oldest first, in runs of one table: all of them,
   * or about `budget` (whole runs of at most `budget` entries) when given. Returns how many.
   */
  drain(
    oldest: number,
    tables: readonly (RecordTable | undefined)[],
    pub: number,
    budget = Number.POSITIVE_INFINITY,
  ): number {
    let drained = 0;
    const items = this.runItems;
    const nodes = this.runNodes;
    while (this.head < this.tail && drained < budget) {
      // Collect a run of entries of one table (at most one segment's worth, and the budget).
      const most = Math.min(items.length, budget - drained);
      let n = 0;
      let t = -1;
      while (this.head < this.tail && n < most) {
        const seg = this.segs[this.head >>> SEG_BITS];
        const o = (this.head & (SEG - 1)) * 4;
        if (seg[o] > oldest) break;
        if (t === -1) t = seg[o + 1];
        else if (seg[o + 1] !== t) break;
        items[n] = seg[o + 2];
        nodes[n] = seg[o + 3];
        n++;
        this.head++;
      }
      if (n === 0) break;
      tables[t]?.reclaimRun(items, nodes, 0, n, pub);
      drained += n;
    }
    // Drop fully consumed segments.
    const done = this.head >>> SEG_BITS;
    if (done > 0) {
      this.keepSpare(this.segs.splice(0, done));
      this.head -= done * SEG;
      this.tail -= done * SEG;
    }
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      this.keepSpare(this.segs.splice(1));
    }
    return drained;
  }

  /** Keep drained segments for reuse, up to SPARE_MAX. */
  private keepSpare(drained: Uint32Array[]): void {
    for (const seg of drained) if (this.spare.length < SPARE_MAX) this.spare.push(seg);
  }

  private readonly runItems = new Uint32Array(SEG);
  private readonly runNodes = new Uint32Array(SEG);
}
