/**
 * The writer-side Bloom filters of long adjacency lists (adjacency.ts): an existence check
 * (is target already in v's list?) scans the shorter of out(src) and in(dst), and when both are
 * long, a filter per list answers most "no" cases without a scan. Three bit positions per
 * entry from two multiplicative hashes (double hashing); the filter is a power-of-two number of
 * words, so positions are a mask, not a division. Filters live in the writer's heap, not in
 * shared memory: readers never use them.
 */
import { sizeClass } from './arena-allocator.js';

/** Lists at least this long get a filter. */
export const BLOOM_MIN = 128;
const BITS_PER_ENTRY = 16;

/** An empty filter sized for `capacity` entries (16 bits each, at least 8 words). */
export function newBloom(capacity: number): Uint32Array {
  return new Uint32Array(Math.max(8, 1 << sizeClass(Math.ceil((capacity * BITS_PER_ENTRY) / 32))));
}

export function bloomAdd(bloom: Uint32Array, x: number): void {
  probe(bloom, x, true);
}

/** False only when x was never added. */
export function bloomHas(bloom: Uint32Array, x: number): boolean {
  return probe(bloom, x, false);
}

/** Whether x's three bits were all set; with `add`, set them too. */
function probe(bloom: Uint32Array, x: number, add: boolean): boolean {
  const bits = bloom.length * 32 - 1;
  const h1 = Math.imul(x, 0x9e3779b1) >>> 0;
  const h2 = (Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0) | 1;
  let all = true;
  for (let k = 0; k < 3; k++) {
    const p = (h1 + k * h2) & bits;
    const bit = 1 << (p & 31);
    if ((bloom[p >>> 5] & bit) === 0) {
      all = false;
      if (!add) return false;
      bloom[p >>> 5] |= bit;
    }
  }
  return all;
}
