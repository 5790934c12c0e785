/**
 * The k best entries of a result vector, without sorting all of it.
 *
 * A bounded heap of k indices whose root is the worst entry kept: each of the n values is
 * compared with the root and replaces it only when better, so the cost is O(n log k) and, for
 * the usual k much smaller than n, close to one pass. Ties go to the smaller index, so the
 * answer is deterministic.
 */
import { invalid } from '../../errors.js';

/** The orders of {@link topK}, as a closed set. */
export const TOP_K_ORDERS = ['desc', 'asc'] as const;
/** One of {@link TOP_K_ORDERS}: `desc` keeps the largest values, `asc` the smallest. */
export type TopKOrder = (typeof TOP_K_ORDERS)[number];

/**
 * Indices of the k best values, best first: largest first for `desc`, smallest first for
 * `asc`, equal values by ascending index. NaN values are never selected, nor values for which
 * `exclude` returns true (for example `(x) => x === Infinity` to leave out unreachable
 * vertices of an `asc` BFS ranking). Returns fewer than k indices when fewer values qualify.
 */
export function topK(
  values: Float64Array | ArrayLike<number>,
  k: number,
  order: TopKOrder = 'desc',
  exclude?: (x: number) => boolean,
): Uint32Array {
  if (!Number.isSafeInteger(k) || k < 0) throw invalid(`k must be a non-negative integer, got ${k}`);
  if (!TOP_K_ORDERS.includes(order)) {
    throw invalid(`order must be one of ${TOP_K_ORDERS.join(', ')}, got ${String(order)}`);
  }
  const n = values.length;
  const cap = Math.min(k, n);
  if (cap === 0) return new Uint32Array(0);
  // Comparing negated values turns `asc` into `desc`, so there is one code path.
  const sign = order === 'desc' ? 1 : -1;
  const heap = new Uint32Array(cap);
  const hv = new Float64Array(cap); // heap[i]'s signed value, to keep the comparisons local
  let size = 0;

  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    if (exclude?.(x)) continue;
    const s = sign * x;
    if (size < cap) {
      // Sift up: the root must be the worst, i.e. smallest s, then largest index.
      let j = size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (hv[p] < s || (hv[p] === s && heap[p] > i)) break;
        heap[j] = heap[p];
        hv[j] = hv[p];
        j = p;
      }
      heap[j] = i;
      hv[j] = s;
      continue;
    }
    // Better than the worst kept? Larger s, or equal s and a smaller index (never, since i
    // grows; equal values keep the earlier index).
    if (!(s > hv[0])) continue;
    let j = 0;
    for (;;) {
      let c = 2 * j + 1;
      if (c >= size) break;
      if (c + 1 < size && worse(hv[c + 1], heap[c + 1], hv[c], heap[c])) c++;
      if (!worse(hv[c], heap[c], s, i)) break;
      heap[j] = heap[c];
      hv[j] = hv[c];
      j = c;
    }
    heap[j] = i;
    hv[j] = s;
  }

  // Pop the worst repeatedly into the tail of the answer.
  const out = new Uint32Array(size);
  for (let end = size - 1; end >= 0; end--) {
    out[end] = heap[0];
    const lastI = heap[end];
    const lastS = hv[end];
    let j = 0;
    for (;;) {
      let c = 2 * j + 1;
      if (c >= end) break;
      if (c + 1 < end && worse(hv[c + 1], heap[c + 1], hv[c], heap[c])) c++;
      if (!worse(hv[c], heap[c], lastS, lastI)) break;
      heap[j] = heap[c];
      hv[j] = hv[c];
      j = c;
    }
    heap[j] = lastI;
    hv[j] = lastS;
  }
  return out;
}

/** Whether entry (sa, ia) ranks below (sb, ib): a smaller signed value, or a tie and a larger index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}
