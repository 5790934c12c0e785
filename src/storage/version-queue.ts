/**
 * The versions pending reclamation, oldest first, across every record table of a partition.
 * The seal pushes an entry per published version (record-table.ts); retention drains the
 * entries whose epoch the oldest retained epoch has reached, handing each run of one table to
 * RecordTable.reclaimRun.
 */
import type { RecordTable } from './record-table.js';

/**
 * The versions pending reclamation: at each seal, every item that changed gets an entry
 * (epoch, table, item, node). Once the oldest retained epoch reaches that epoch, the version
 * before it is unreachable and is freed, and the node itself is dropped if it is no longer
 * needed (no stamps and still current).
 */
export class VersionQueue {
  // A chain of fixed-size segments: pushing never copies (a bulk load can queue millions of
  // versions while they are all still retained).
  private static readonly SEG = 1 << 16;
  private segs: Uint32Array[] = [];
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(epoch: number, table: number, item: number, node: number): void {
    const k = Math.floor(this.tail / VersionQueue.SEG);
    if (k >= this.segs.length) this.segs.push(new Uint32Array(VersionQueue.SEG * 4));
    const o = (this.tail % VersionQueue.SEG) * 4;
    const seg = this.segs[k];
    seg[o] = epoch;
    seg[o + 1] = table;
    seg[o + 2] = item;
    seg[o + 3] = node;
    this.tail++;
  }

  /** Process every entry whose epoch ≤ oldest, in runs of one table. */
  drain(oldest: number, tables: readonly (RecordTable | undefined)[], pub: number): number {
    let drained = 0;
    const items = this.runItems;
    const nodes = this.runNodes;
    while (this.head < this.tail) {
      // Collect a run of entries of one table (at most one segment's worth).
      let n = 0;
      let t = -1;
      while (this.head < this.tail && n < items.length) {
        const seg = this.segs[Math.floor(this.head / VersionQueue.SEG)];
        const o = (this.head % VersionQueue.SEG) * 4;
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
    const done = Math.floor(this.head / VersionQueue.SEG);
    if (done > 0) {
      this.segs.splice(0, done);
      this.head -= done * VersionQueue.SEG;
      this.tail -= done * VersionQueue.SEG;
    }
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      this.segs.length = Math.min(this.segs.length, 1);
    }
    return drained;
  }

  private readonly runItems = new Uint32Array(VersionQueue.SEG);
  private readonly runNodes = new Uint32Array(VersionQueue.SEG);
}
