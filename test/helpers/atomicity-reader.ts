/**
 * Reader thread of the atomicity test: repeatedly opens all partitions at the newest epoch
 * every partition has published and checks that each batch's cross-partition edge pair is
 * either entirely visible or entirely absent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GraphSnapshot } from '../../src/storage/graph-snapshot.js';
import { PartitionReader } from '../../src/storage/index.js';

interface Data {
  descriptors: unknown[];
  pairs: [number, number][];
  control: SharedArrayBuffer;
}
const data = workerData as Data;
const readers = data.descriptors.map((d) => new PartitionReader(d));
const control = new Int32Array(data.control);
let checks = 0;
let violations = 0;
const examples: string[] = [];
while (Atomics.load(control, 0) === 0) {
  const epoch = Math.min(...readers.map((r) => r.published));
  let snap: GraphSnapshot;
  try {
    snap = new GraphSnapshot(readers, epoch);
  } catch {
    continue; // left retention between the load and the open: take the next one
  }
  try {
    for (const [a, b] of data.pairs) {
      const ab = (snap.neighbors(a)?.neighbors ?? []).includes(b);
      const ba = (snap.neighbors(b)?.neighbors ?? []).includes(a);
      const inB = (snap.neighbors(b, { direction: 'in' })?.neighbors ?? []).includes(a);
      const inA = (snap.neighbors(a, { direction: 'in' })?.neighbors ?? []).includes(b);
      if (!(ab === ba && ba === inB && inB === inA)) {
        violations++;
        if (examples.length < 5) examples.push(`epoch ${epoch} pair ${a}-${b}: ${ab} ${ba} ${inB} ${inA}`);
      }
    }
    checks++;
  } finally {
    snap.close();
  }
}
parentPort?.postMessage({ checks, violations, examples });
