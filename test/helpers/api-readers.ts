/**
 * How many readers are registered in a machine's partitions right now (from the reader
 * registry in shared memory). The API must close every snapshot it opens, including on
 * errors and aborted streams; a leaked reader would pin its epoch's memory forever.
 */
import type { Machine } from '../../partitions/machine.js';
import { PartitionReader } from '../../src/storage/partition-reader.js';
import { scanReaders } from '../../src/storage/reader-registry.js';

export function activeReaders(machine: Machine): number {
  let n = 0;
  for (const d of machine.descriptors()) n += scanReaders(new PartitionReader(d).ctl).active;
  return n;
}

/** Wait until no reader is registered, up to a deadline; returns the last count. */
export async function settleReaders(machine: Machine, deadlineMs = 3000): Promise<number> {
  const end = Date.now() + deadlineMs;
  let n = activeReaders(machine);
  while (n > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    n = activeReaders(machine);
  }
  return n;
}
