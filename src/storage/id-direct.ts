/**
 * How the id index's direct map grows (id-index.ts has the map's role and its lookups): only
 * while the ids it would cover are dense enough that a slot per id value costs at most
 * DIRECT_BYTES_PER_ID per id there, beyond a free DIRECT_SPARE_BYTES. Ids spread thin (hashed
 * or random 32-bit ids) then stay in the hash, where they cost ~11 bytes each; ids numbered
 * from 0 go to the map, at 4 bytes per id value.
 *
 * The ids a new bound would cover are those of the map plus those of the hash in between. The
 * hash's integer ids are counted by range of 2^16 ids in a Fenwick tree, so the question costs
 * a few dozen additions, however many ids the hash holds (an insert of an id the map does not
 * cover asks it every time).
 *
 * growDirect then copies the hash's ids below the new bound into the map and publishes the
 * bound (id-index.ts says why readers need that order).
 */
import type { IdIndexViews } from './id-index-views.js';
import * as layout from './layout.js';
import { growSlot, prefault } from './shared-pool.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CTL_DIRECT_BOUND, ID_EXACT, ID_LID_MASK, SEG_HEADER } = layout;

/** The direct map may always cover this much (256K ids), however few ids it holds. */
export const DIRECT_SPARE_BYTES = 1 << 20;
/** Beyond that, at most this much per id it covers (the map at least a third full). */
export const DIRECT_BYTES_PER_ID = 12;
/**
 * The same as ids: an id n can be covered only while n < DIRECT_IDS_PER_ID * count +
 * DIRECT_FREE_IDS (count: ids in the index). nextBound's first test, which intId makes inline.
 */
export const DIRECT_IDS_PER_ID = DIRECT_BYTES_PER_ID / 4;
export const DIRECT_FREE_IDS = (DIRECT_SPARE_BYTES + DIRECT_BYTES_PER_ID) / 4;
/** The map grows to a multiple of this many ids (a page of u32s)... */
const DIRECT_STEP = 1024;
/** ... by one of these factors of its bound (the first that is dense enough), or to just past n. */
const DIRECT_GROWTH = [2, 1.25];
const BUCKET_BITS = 16;

export class DirectMapPolicy {
  /** Ids in the map (inserted there, or copied in from the hash). */
  directCount = 0;
  /** Fenwick tree of the hash's integer ids below maxIds, by bucket of 2^16 ids (1-based). */
  private readonly tree: Float64Array;

  /** The most id values the map can ever cover: its buffer's limit. */
  readonly maxIds: number;

  constructor(map: SharedArrayBuffer) {
    // Divided, not shifted: a 4 GiB buffer's 2^32 bytes >>> 2 wrap to 0 (no map at all).
    this.maxIds = Math.floor(map.maxByteLength / 4);
    this.tree = new Float64Array(Math.ceil(this.maxIds / 2 ** BUCKET_BITS) + 1);
  }

  /** An integer id went to the hash. */
  hashed(id: number): void {
    if (!(id < this.maxIds)) return;
    const t = this.tree;
    for (let i = Math.floor(id / 2 ** BUCKET_BITS) + 1; i < t.length; i += i & -i) t[i]++;
  }

  /** Hash ids in the buckets that start below x (whole buckets: a policy's estimate). */
  private hashedBelow(x: number): number {
    const t = this.tree;
    let s = 0;
    for (let i = Math.min(t.length - 1, Math.ceil(x / 2 ** BUCKET_BITS)); i > 0; i -= i & -i) s += t[i];
    return s;
  }

  /**
   * The bound the map may grow to from `bound` so that it covers id n, or 0 when it may not.
   * `count`: ids in the whole index (no more than that can lie below any bound).
   */
  nextBound(bound: number, n: number, count: number): number {
    if (!(n < this.maxIds)) return 0;
    for (const factor of DIRECT_GROWTH) {
      const b = Math.min(this.maxIds, Math.ceil(Math.max(factor * bound, n + 1) / DIRECT_STEP) * DIRECT_STEP);
      const bytes = b * 4 - DIRECT_SPARE_BYTES;
      if (bytes > DIRECT_BYTES_PER_ID * (count + 1)) continue;
      const covered = this.directCount + this.hashedBelow(b) - this.hashedBelow(bound) + 1;
      if (bytes <= DIRECT_BYTES_PER_ID * covered) return b;
    }
    return 0;
  }
}

/**
 * Grow the direct map to cover integer id n, if the policy lets it: true when it now does.
 * Copies the hash's ids below the new bound into the map first (segSizes: the writer's segment
 * sizes), then publishes the bound (release).
 */
export function growDirect(
  v: IdIndexViews,
  segSizes: Uint32Array,
  policy: DirectMapPolicy,
  n: number,
  count: number,
): boolean {
  const bound = policy.nextBound(v.directBound, n, count);
  if (bound === 0) return false;
  const sab = v.directBuffer;
  const from = v.directBound;
  growSlot(sab, bound * 4, 0);
  // Commit the new pages now: a first read of a fresh page (the lookup before an insert) and
  // the write after it would fault twice (shared-pool.ts prefault).
  prefault(sab, from * 4, bound * 4);
  // The writer's own view, before the bound is published: readers still stop below `from`.
  v.direct = new Uint32Array(sab, 0, sab.byteLength / 4);
  const direct = v.direct;
  // The hash's ids in [from, bound): exact slots hold integer ids below 2^32 as their key.
  let copied = 0;
  for (let s = 0; s < v.segs.length; s++) {
    const seg = v.segs[s];
    const size = segSizes[s];
    for (let i = 0; i < size; i++) {
      const idw = seg[SEG_HEADER + 2 * i + 1];
      if (idw === 0 || (idw & ID_EXACT) === 0) continue;
      const key = seg[SEG_HEADER + 2 * i] >>> 0;
      if (key >= from && key < bound) {
        direct[key] = idw & ID_LID_MASK;
        copied++;
      }
    }
  }
  policy.directCount += copied;
  // Release: a reader that loads the new bound sees every entry below it.
  Atomics.store(v.ctlWords, CTL_DIRECT_BOUND, bound);
  v.refreshDirect();
  return true;
}
