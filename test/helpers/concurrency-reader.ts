/**
 * Reader thread of the concurrency test: opens random retained epochs of a partition that a
 * writer in another thread keeps changing, recomputes the figures of each epoch from the
 * snapshot and compares them with the figures the writer recorded at seal time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PartitionReader } from '../../src/storage/index.js';
import { degrees, vertexRows } from '../../src/storage/kernels.js';
import { pullSum } from '../../src/storage/pull-kernel.js';
import {
  CTL_DONE,
  edgeHash,
  FIG_CHECKSUM,
  FIG_EDGES,
  FIG_PROPSUM,
  FIG_STRIDE,
  FIG_VERTICES,
} from './concurrency-figures.js';

interface Data {
  descriptor: unknown;
  figures: SharedArrayBuffer;
  control: SharedArrayBuffer;
  seed: number;
  latestBias: number;
}

const data = workerData as Data;
const reader = new PartitionReader(data.descriptor);
const figures = new Float64Array(data.figures);
const control = new Int32Array(data.control);
let seed = data.seed >>> 0;
const rand = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
};

let checks = 0;
let gone = 0;
let latestChecks = 0;
const violations: string[] = [];
while (Atomics.load(control, CTL_DONE) === 0) {
  const latest = reader.published;
  const oldest = reader.oldest;
  const e = rand() < data.latestBias ? latest : oldest + Math.floor(rand() * (latest - oldest + 1));
  let snap: ReturnType<PartitionReader['open']>;
  try {
    snap = reader.open(e);
  } catch (err) {
    if ((err as { code?: string }).code === 'EPOCH_GONE') {
      gone++;
      continue;
    }
    throw err;
  }
  const measure = () => {
    let edges = 0;
    let checksum = 0;
    let inEdges = 0;
    let vertices = 0;
    let propSum = 0;
    // A weight per local id, so the scan kernels' sums can be checked against per-vertex reads.
    const keys = snap.idKeys();
    const weight = (lid: number) => (keys[lid] % 1009) + 1;
    let weighted = 0;
    snap.forEachVertex((lid) => {
      vertices++;
      const src = snap.externalId(lid) as number;
      const x = snap.vertexProps(lid, snap.labelIndexOf(lid), ['x']).x;
      if (typeof x === 'number') propSum += x;
      snap.forEachNeighbor(lid, 'out', -1, (nbr) => {
        edges++;
        checksum = (checksum + edgeHash(src, snap.externalId(nbr) as number)) >>> 0;
        weighted += weight(nbr);
      });
      inEdges += snap.degree(lid, 'in');
    });
    // The scan kernels read ranges under the sequence lock (redone when a seal overlaps).
    const rows = vertexRows(snap);
    const x = new Float64Array(keys.length);
    for (let lid = 0; lid < keys.length; lid++) x[lid] = weight(lid);
    const sums = new Float64Array(keys.length);
    pullSum(snap, 'out', -1, rows, x, sums);
    // Assigning over stale values (its retries overwrite instead of putting values back).
    const assigned = new Float64Array(keys.length).fill(-1);
    pullSum(snap, 'out', -1, rows, x, assigned, true);
    const deg = new Float64Array(keys.length);
    degrees(snap, 'in', -1, rows, deg);
    let kernelWeighted = 0;
    let assignedWeighted = 0;
    let kernelInEdges = 0;
    for (const lid of rows) {
      kernelWeighted += sums[lid];
      assignedWeighted += assigned[lid];
      kernelInEdges += deg[lid];
    }
    const kernels = kernelWeighted === weighted && assignedWeighted === weighted && kernelInEdges === inEdges;
    return { edges, checksum, inEdges, vertices, propSum, kernels };
  };
  try {
    const { edges, checksum, inEdges, vertices, propSum, kernels } = measure();
    const f = e * FIG_STRIDE;
    const want = {
      edges: figures[f + FIG_EDGES],
      checksum: figures[f + FIG_CHECKSUM],
      vertices: figures[f + FIG_VERTICES],
      propSum: figures[f + FIG_PROPSUM],
    };
    const got = { edges, checksum, vertices, propSum };
    if (
      edges !== want.edges ||
      checksum !== want.checksum ||
      vertices !== want.vertices ||
      Math.abs(propSum - want.propSum) > 1e-6 * Math.max(1, Math.abs(want.propSum)) ||
      inEdges !== edges ||
      !kernels
    ) {
      const again = measure();
      if (violations.length < 10)
        violations.push(
          `epoch ${e} (latest ${latest}, now ${reader.published}, oldest ${reader.oldest}): got ${JSON.stringify({ ...got, inEdges, kernels })} want ${JSON.stringify(want)} reread ${JSON.stringify(again)}`,
        );
      else violations.push('');
    }
    checks++;
    if (e === latest) latestChecks++;
  } finally {
    snap.close();
  }
}
parentPort?.postMessage({
  checks,
  latestChecks,
  gone,
  violations: violations.length,
  examples: violations.slice(0, 10),
});
