/**
 * The blob keys of this store's machines that are believed to exist, by machine and
 * partition, as ascending epoch lists.
 *
 * Pruning needs "every blob key below the floor", but etcd orders keys as bytes (e10 < e9),
 * so that is not a key range: the publisher deletes by name, from this inventory. It holds
 * what the publisher wrote plus what it listed once at start (left by an earlier run), and
 * shrinks as keys are pruned, so its size is bounded by the retention window.
 */
import type { BlobKeyParts } from './keys.js';

/** Insert into an ascending array, keeping it sorted and free of duplicates. */
function insertSorted(arr: number[], v: number): boolean {
  if (arr.length === 0 || arr[arr.length - 1] < v) {
    arr.push(v); // the common case: epochs are written in increasing order
    return true;
  }
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  if (arr[lo] === v) return false;
  arr.splice(lo, 0, v);
  return true;
}

export class BlobInventory {
  /** machine → partition → ascending epochs. */
  private readonly byMachine = new Map<number, Map<number, number[]>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Record a key; false if it was already known. */
  add(parts: BlobKeyParts): boolean {
    let byPartition = this.byMachine.get(parts.machine);
    if (byPartition === undefined) this.byMachine.set(parts.machine, (byPartition = new Map()));
    let epochs = byPartition.get(parts.partition);
    if (epochs === undefined) byPartition.set(parts.partition, (epochs = []));
    const added = insertSorted(epochs, parts.epoch);
    if (added) this.count++;
    return added;
  }

  remove(parts: BlobKeyParts): void {
    const epochs = this.byMachine.get(parts.machine)?.get(parts.partition);
    if (epochs === undefined) return;
    // Pruning removes the oldest first, so this is nearly always index 0.
    const i = epochs.indexOf(parts.epoch);
    if (i < 0) return;
    epochs.splice(i, 1);
    this.count--;
  }

  /** True when some key has an epoch below `floor`. */
  hasBelow(floor: number): boolean {
    for (const byPartition of this.byMachine.values()) {
      for (const epochs of byPartition.values()) if (epochs.length > 0 && epochs[0] < floor) return true;
    }
    return false;
  }

  /** Every key with an epoch below `floor`, oldest first within each partition. */
  below(floor: number): BlobKeyParts[] {
    const out: BlobKeyParts[] = [];
    for (const [machine, byPartition] of this.byMachine) {
      for (const [partition, epochs] of byPartition) {
        for (const epoch of epochs) {
          if (epoch >= floor) break;
          out.push({ machine, partition, epoch });
        }
      }
    }
    return out;
  }
}
