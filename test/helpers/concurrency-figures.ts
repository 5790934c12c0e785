/** Shared per-epoch figures for the concurrency test: recorded by the writer before a seal. */
export const FIG_STRIDE = 4;
export const FIG_EDGES = 0;
export const FIG_CHECKSUM = 1;
export const FIG_VERTICES = 2;
export const FIG_PROPSUM = 3;
/** Control words (Int32): [done, readersRunning]. */
export const CTL_DONE = 0;

/** Order-independent hash of one edge, summed mod 2^32. */
export function edgeHash(src: number, dst: number): number {
  let h = Math.imul(src, 0x9e3779b1) ^ Math.imul(dst + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
