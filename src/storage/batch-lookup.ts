/**
 * Looking up many ids at once in one partition, for reads that then visit each vertex's
 * neighbour lists (batch neighbours). Each id's read is a chain of dependent cache misses:
 * its id-index slot, then its adjacency records, then the lists' first entries. One id at a
 * time, such a chain cost ~1 µs per id here.
 *
 * resolveMany walks the chain level by level for a group of ids instead, and at each level
 * first computes every address (arithmetic only), then runs a loop that only loads them. A
 * short load-only loop keeps many misses in flight; a loop that also hashed or followed
 * records kept only a few (measured: touching the index in one loop cost 70-100 ns per id,
 * in two passes ~37; scratch/touch-ab.mjs). The loads are hints: the real lookups and reads
 * still go through the index's lookup and the sequence locks, and their results decide; a
 * touch reads only addresses inside this reader's views.
 */
import type { ExternalId } from '../model/ids.js';
import * as layout from './layout.js';
import { recordBlock, tableDir } from './record-read.js';
import type { ArenaViews } from './shared-pool.js';
import type { Snapshot } from './snapshot.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { RB_HEADER, REC_STRIDE, RECORD_MASK, SINK_MASK } = layout;

let tseg = new Int32Array(0);
let tslot = new Int32Array(0);
let addr = new Float64Array(0);

function scratchFor(ids: number, perId: number): void {
  if (tseg.length < ids) {
    tseg = new Int32Array(ids);
    tslot = new Int32Array(ids);
  }
  if (addr.length < ids * perId) addr = new Float64Array(ids * perId);
}

/** The arena address of item's record (its head word) in a table directory, or 0. */
function recordAddress(a: ArenaViews, dir: number, item: number): number {
  const rb = recordBlock(a, dir, item);
  return rb === 0 ? 0 : rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
}

/** addr[0 .. m) kept when inside this reader's views, else 0 (a touch never throws). */
function clampToViews(a: ArenaViews, m: number): void {
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  for (let j = 0; j < m; j++) {
    const x = addr[j];
    const c = a.u32[x >>> bits];
    if (c === undefined || (x & cmask) >= c.length) addr[j] = 0;
  }
}

/** Load every address of addr[0 .. m): the load-only loop. */
function touchAll(a: ArenaViews, m: number): number {
  const u32 = a.u32;
  const bits = a.chunkBits;
  const cmask = a.chunkMask;
  let acc = 0;
  for (let j = 0; j < m; j++) {
    const x = addr[j];
    acc = (acc + u32[x >>> bits][x & cmask]) | 0;
  }
  return acc & SINK_MASK;
}

/**
 * lidsOut[k] = the local id of ids[sel[k]] in snap's id index (-1: none), for k < count, with
 * the memory that reading those vertices' neighbour lists will need (tables: the adjacency
 * table ids of the directions and labels to be read) brought into the cache on the way.
 *
 * The id index is not versioned: a local id says only that the id was written at some time.
 * Whether the vertex exists at the snapshot's epoch is the caller's to settle (batch
 * neighbours: Snapshot.appendNeighborLids's result, else Snapshot.exists).
 */
export function resolveMany(
  snap: Snapshot,
  ids: ArrayLike<ExternalId>,
  sel: Int32Array,
  count: number,
  lidsOut: Int32Array,
  tables: readonly number[],
): void {
  snap.check();
  const r = snap.reader;
  const a = r.arena;
  const T = tables.length;
  scratchFor(count, T);
  // Level 1: the id-index slots, then the index lookups (which find them cached).
  let acc = r.ids.touchSlots(ids, sel, count, tseg, tslot);
  for (let k = 0; k < count; k++) lidsOut[k] = r.ids.lookup(ids[sel[k]]);
  if (T > 0) {
    // Level 2: each id's adjacency records.
    const dirs = tables.map((t) => tableDir(r.ctl, t));
    let m = 0;
    for (let k = 0; k < count; k++) {
      const lid = lidsOut[k];
      if (lid < 0) continue;
      for (let t = 0; t < T; t++) addr[m++] = recordAddress(a, dirs[t], lid);
    }
    clampToViews(a, m);
    acc = (acc + touchAll(a, m)) & SINK_MASK;
    // Level 3: the lists' first entries (records now cached).
    for (let j = 0; j < m; j++) addr[j] = addr[j] === 0 ? 0 : a.word(addr[j]);
    clampToViews(a, m);
    acc = (acc + touchAll(a, m)) & SINK_MASK;
  }
  if (acc < 0) throw new Error('unreachable'); // keeps the touch loads observable (never negative)
}

/** The adjacency tables read for `dirs` and a label (-1 = every label) of a snapshot. */
export function neighborTables(snap: Snapshot, dirs: readonly ('out' | 'in')[], labelIdx: number): number[] {
  return dirs.flatMap((d) => snap.adjacencyTables(d, labelIdx));
}
