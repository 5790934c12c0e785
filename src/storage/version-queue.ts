/**
 * The versions pending reclamation, oldest first, across every record table of a partition.
 * The seal pushes an entry per published version (record-table.ts); retention drains the
 * entries whose epoch the oldest retained epoch has reached, handing each run of one table to
 * RecordTable.reclaimRun.
 */
import type { RecordTable } from './record-table.js';

/** Entries per queue segment (of 2 words each). */
const SEG_BITS = 16;
const SEG = 1 << SEG_BITS;
/** Drained segments kept for reuse. */
const SPARE_MAX = 8;
/**
 * First word of a run header: the flag and the table (the second word is the epoch). A
 * version entry's first word is an item, which never has this bit (items are below 2^31).
 */
const RUN = 0x80000000;

/**
 * The versions pending reclamation: at each seal, every item that changed gets an entry
 * (item, node) in a run headed by (table, epoch), one run per table a seal publishes. Once
 * the oldest retained epoch reaches that epoch, the version before it is unreachable and is
 * freed, and the node itself is dropped if it is no longer needed (no stamps and still
 * current). Entries are 8 bytes: the table and epoch are a run's, not repeated per entry
 * (a bulk load queues one entry per changed list, and each byte of it is a fresh page
 * faulted in until retention frees them).
 */
export class VersionQueue {
  // A chain of fixed-size segments: pushing never copies (a bulk load can queue millions of
  // versions while they are all still retained). Drained segments are kept for reuse (up to
  // SPARE_MAX): a new one is fresh pages, and faulting them in (2-10 us a page on this VM)
  // slowed the seal that crossed into it, one in seven at 5K updates per epoch. Reuse made
  // seals at 1M/10M about 5-8% faster at p50 and 8-10% at p99 (scratch/seal-ab.mjs: two
  // stores in one process, in both orders, since the second store runs ~5% faster).
  private segs: Uint32Array[] = [];
  private spare: Uint32Array[] = [];
  /** Entries (run headers included) consumed, and written, counted from segs[0]. */
  private head = 0;
  private tail = 0;
  /** Version entries pending (run headers not counted). */
  private pending = 0;
  /** The run the head is in: its table and epoch (meaningful once a header was consumed). */
  private headTable = -1;
  private headEpoch = 0;

  /** Version entries pending. */
  get length(): number {
    return this.pending;
  }

  /** Open a run: the versions pushed next are table's, published at epoch. */
  begin(epoch: number, table: number): void {
    // A run that got no entries (every item it published was new), its header the last entry
    // and not yet consumed, is reused, not left behind.
    if (this.tail > this.head && this.isHeader(this.tail - 1)) this.tail--;
    this.put(RUN | table, epoch);
  }

  /** A version of `item` whose node is `node`, in the open run. */
  push(item: number, node: number): void {
    this.put(item, node);
    this.pending++;
  }

  /** Whether entry k is a run header. */
  private isHeader(k: number): boolean {
    return (this.segs[k >>> SEG_BITS][(k & (SEG - 1)) * 2] & RUN) !== 0;
  }

  private put(a: number, b: number): void {
    const k = this.tail >>> SEG_BITS;
    if (k >= this.segs.length) this.segs.push(this.spare.pop() ?? new Uint32Array(SEG * 2));
    const o = (this.tail & (SEG - 1)) * 2;
    const seg = this.segs[k];
    seg[o] = a;
    seg[o + 1] = b;
    this.tail++;
  }

  /** The epoch of the oldest pending entry (Infinity when none). */
  oldestEpoch(): number {
    if (this.head === this.tail) return Number.POSITIVE_INFINITY;
    const seg = this.segs[this.head >>> SEG_BITS];
    const o = (this.head & (SEG - 1)) * 2;
    return (seg[o] & RUN) !== 0 ? seg[o + 1] : this.headEpoch;
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
      const seg = this.segs[this.head >>> SEG_BITS];
      const o = (this.head & (SEG - 1)) * 2;
      if ((seg[o] & RUN) !== 0) {
        if (seg[o + 1] > oldest) break;
        this.headTable = seg[o] & ~RUN;
        this.headEpoch = seg[o + 1];
        this.head++;
        continue;
      }
      if (this.headEpoch > oldest) break;
      // Collect entries of this run (at most one segment's worth, and the budget).
      const most = Math.min(items.length, budget - drained);
      const n = this.collect(items, nodes, most);
      tables[this.headTable]?.reclaimRun(items, nodes, 0, n, pub);
      drained += n;
      this.pending -= n;
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

  /** Copy up to `most` version entries of the head's run into items/nodes, consuming them. */
  private collect(items: Uint32Array, nodes: Uint32Array, most: number): number {
    let n = 0;
    while (this.head < this.tail && n < most) {
      const seg = this.segs[this.head >>> SEG_BITS];
      const o = (this.head & (SEG - 1)) * 2;
      if ((seg[o] & RUN) !== 0) break;
      items[n] = seg[o];
      nodes[n] = seg[o + 1];
      n++;
      this.head++;
    }
    return n;
  }

  /** Keep drained segments for reuse, up to SPARE_MAX. */
  private keepSpare(drained: Uint32Array[]): void {
    for (const seg of drained) if (this.spare.length < SPARE_MAX) this.spare.push(seg);
  }

  private readonly runItems = new Uint32Array(SEG);
  private readonly runNodes = new Uint32Array(SEG);
}
