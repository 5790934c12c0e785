/**
 * The floor under the batch-neighbour figure: one request's ids answered in this process, with
 * no HTTP, by the store (batchNeighborRows over the snapshot, as the route does) and by a
 * plain static CSR copy of the same snapshot with an open-addressing id table (what a store
 * with no versions, no partitions and no shared memory would do), in alternating rounds.
 *
 * It says how much of the HTTP figure the store's own reads cost, and what a plain layout
 * reaches in JavaScript on this machine (a reference, not a proven bound).
 */
import { project, projectCsr } from '../src/analytics/projection.js';
import { type BatchNeighborLimits, batchNeighborRows, type GraphSnapshot } from '../src/storage/index.js';
import { percentile } from './report.js';

export interface BatchFloor {
  /** Neighbour ids per second of batchNeighborRows, in process (median round). */
  storeIdsPerSec: number;
  /** Neighbour ids per second of the plain CSR copy, in process (median round). */
  floorIdsPerSec: number;
  /** Store time over plain-copy time, the median of the rounds' ratios. */
  storeVsFloor: number;
}

/** A static CSR of out-lists with an id table: the plain baseline. */
export class PlainCsr {
  private readonly slotKey: Float64Array;
  private readonly slotRow: Int32Array;
  private readonly mask: number;
  private out = new Float64Array(1 << 16);
  readonly offsets: Float64Array;

  constructor(
    private readonly keys: Float64Array,
    private readonly rowStart: Float64Array,
    private readonly targets: Uint32Array,
    maxIds: number,
  ) {
    let cap = 16;
    while (cap < keys.length * 2) cap *= 2;
    this.mask = cap - 1;
    this.slotKey = new Float64Array(cap).fill(-1);
    this.slotRow = new Int32Array(cap);
    for (let v = 0; v < keys.length; v++) {
      let i = PlainCsr.hash(keys[v]) & this.mask;
      while (this.slotKey[i] !== -1) i = (i + 1) & this.mask;
      this.slotKey[i] = keys[v];
      this.slotRow[i] = v;
    }
    this.offsets = new Float64Array(maxIds + 1);
  }

  private static hash(k: number): number {
    return Math.imul((k >>> 0) ^ Math.floor(k / 4294967296), 0x9e3779b1) >>> 7;
  }

  /** The answer's neighbour column (a view of a reused buffer): what rows(ids) wrote. */
  neighbors(count: number): Float64Array {
    return this.out.subarray(0, count);
  }

  /** The answer's neighbour count; offsets and the neighbour column filled as the route's. */
  rows(ids: Float64Array): number {
    const { slotKey, slotRow, mask, rowStart, targets, keys, offsets } = this;
    let out = this.out;
    let pos = 0;
    for (let i = 0; i < ids.length; i++) {
      const k = ids[i];
      let j = PlainCsr.hash(k) & mask;
      while (slotKey[j] !== k && slotKey[j] !== -1) j = (j + 1) & mask;
      if (slotKey[j] === k) {
        const v = slotRow[j];
        const a = rowStart[v];
        const b = rowStart[v + 1];
        if (pos + (b - a) > out.length) {
          const grown = new Float64Array(Math.max(out.length * 2, pos + (b - a)));
          grown.set(out.subarray(0, pos));
          out = grown;
          this.out = grown;
        }
        for (let x = a; x < b; x++) out[pos++] = keys[targets[x]];
      }
      offsets[i + 1] = pos;
    }
    return pos;
  }
}

/** A plain CSR copy of a snapshot's out-lists (integer ids only), answering up to maxIds ids. */
export function plainCsrOf(snap: GraphSnapshot, maxIds: number): PlainCsr {
  const proj = project(snap);
  if (proj.numericIds === null) throw new Error('batch floor: the bench graph has integer ids only');
  const g = projectCsr(proj, snap);
  return new PlainCsr(proj.numericIds, g.outOffsets, g.outTargets, maxIds);
}

/**
 * Store vs plain CSR (plainCsrOf of the same snapshot, for at least ids.length ids) on one
 * request's ids (integer ids), `rounds` alternating rounds of `ms`.
 */
export async function batchFloor(
  snap: GraphSnapshot,
  plain: PlainCsr,
  ids: Float64Array,
  limits: BatchNeighborLimits,
  rounds: number,
  ms: number,
): Promise<BatchFloor> {
  const expected = (await batchNeighborRows(snap, ids, 'out', undefined, limits)).neighbors.length;
  if (plain.rows(ids) !== expected) throw new Error('batch floor: the plain copy answers differently');
  /** Neighbour ids per second of `answer` repeated for `ms`. */
  const rate = async (answer: () => unknown): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < ms) {
      await answer();
      n++;
    }
    return (n * expected) / ((performance.now() - t0) / 1000);
  };
  const storeArm = () => rate(() => batchNeighborRows(snap, ids, 'out', undefined, limits));
  const floorArm = () => rate(() => plain.rows(ids));
  const store: number[] = [];
  const floor: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // The store first in even rounds, second in odd ones.
    let s: number;
    let f: number;
    if (r % 2 === 0) {
      s = await storeArm();
      f = await floorArm();
    } else {
      f = await floorArm();
      s = await storeArm();
    }
    store.push(s);
    floor.push(f);
    ratios.push(f / s);
  }
  return {
    storeIdsPerSec: percentile(store, 50),
    floorIdsPerSec: percentile(floor, 50),
    storeVsFloor: percentile(ratios, 50),
  };
}
