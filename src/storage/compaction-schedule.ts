/**
 * Which vertex ranges a partition compacts, and when: the schedule over the adjacency stores
 * of a StoreCore (adjacency-compaction.ts rewrites one range). PartitionStore runs it; the
 * partition worker decides how often (every seal under a write load, then idle epochs).
 */
import type { AdjacencyStore } from './adjacency.js';
import type { StoreCore } from './store-core.js';

/** CompactionSchedule.step's policy while writes flow (partition workers). */
export interface LoadCompaction {
  /** Epochs a range's lists must go unchanged before it is compacted. */
  coldEpochs: number;
  /** Lists an epoch must change for the policy to apply (smaller epochs compact as they go). */
  minLists: number;
}

/** Every adjacency store of the core: out and in of each edge label. */
function storesOf(core: StoreCore): AdjacencyStore[] {
  const stores: AdjacencyStore[] = [];
  for (const L of core.edgeLabels) stores.push(L.out, L.in);
  return stores;
}

/** The compaction of one partition's adjacency stores, range by range. */
export class CompactionSchedule {
  /** The (store, range) slot the next step starts at. */
  private cursor = 0;

  constructor(private readonly core: StoreCore) {}

  /**
   * Compact fragmented vertex ranges in the open epoch, up to about `budget` entries, going
   * round the (store, range) slots from where the last step stopped. Returns the entries
   * rewritten. The result becomes visible at the next seal.
   *
   * With `underLoad`, an epoch that changed at least `minLists` lists leaves alone the ranges
   * whose lists changed in the last `coldEpochs` epochs, unless they are mostly garbage
   * (rangeMostlyGarbage). Under a write load that keeps reaching a range, compacting it is
   * undone by the next appends: each one then relocates an exact-size list, and the seal
   * versions every record of the range again. Compacting every fragmented range at every
   * seal cost a 5M-edge durable load at P = 2 a quarter of its CPU (scratch/durable-cpu.mjs:
   * 1.30-1.61M edges/s without it, against 0.96-1.17M). Those ranges are compacted once writes
   * leave them, or by idle compaction. A smaller epoch compacts what it finds fragmented, the
   * range it wrote included, so a small write leaves nothing for idle compaction to do.
   */
  step(budget: number, underLoad: LoadCompaction | null): number {
    const core = this.core;
    const stores = storesOf(core);
    let total = 0;
    let ranges = 0;
    for (const s of stores) ranges = Math.max(ranges, s.rangeCount());
    const slots = ranges * stores.length;
    // While writes flow, the range of the open segment of owned ids takes new vertices' lists
    // at every epoch: compacting it would rewrite it, and version every record in it, at
    // every seal (a trickle of new vertices then filled a small arena with version nodes). It
    // waits for its segment to fill or for a seal without writes (idle compaction).
    const hot = core.changed ? core.ids.openOwnRange() : -1;
    let changedLists = 0;
    for (const s of stores) changedLists += s.table.dirtyItems;
    const cold = underLoad !== null && changedLists >= underLoad.minLists ? underLoad.coldEpochs : 0;
    for (let step = 0; step < slots && total < budget; step++) {
      const k = this.cursor++ % Math.max(1, slots);
      const s = stores[k % stores.length];
      const r = Math.floor(k / stores.length);
      if (
        r !== hot &&
        r < s.rangeCount() &&
        s.rangeNeedsCompaction(r) &&
        (cold === 0 || core.open - s.rangeChangedAt(r) > cold || s.rangeMostlyGarbage(r))
      ) {
        total += s.compactRange(r, core.open, core.pub) + 1;
        core.changed = true;
      }
    }
    return total;
  }

  /** Compact every vertex range of every store (benchmarks, checkpoints). */
  all(): number {
    const core = this.core;
    let total = 0;
    for (const s of storesOf(core)) {
      for (let r = 0; r < s.rangeCount(); r++) total += s.compactRange(r, core.open, core.pub);
    }
    if (total > 0) core.changed = true;
    return total;
  }

  /**
   * Live adjacency entries (both directions) in vertex ranges that would benefit from
   * compaction: how much of the store reads at "fresh" rather than compacted speed.
   */
  uncompactedEntries(): number {
    let n = 0;
    for (const s of storesOf(this.core))
      for (let r = 0; r < s.rangeCount(); r++) n += s.rangeUncompactedEntries(r);
    return n;
  }

  /** Whether some vertex range would benefit from compaction. */
  needed(): boolean {
    for (const s of storesOf(this.core))
      for (let r = 0; r < s.rangeCount(); r++) if (s.rangeNeedsCompaction(r)) return true;
    return false;
  }
}
