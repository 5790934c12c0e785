/**
 * Keys: the numbers by which CDLP and WCC order vertices, so that "the smallest id" means the
 * smallest external id rather than the smallest dense index.
 *
 * When every external id is an integer, the keys are the ids themselves, and `cdlp` / `wcc`
 * return ids directly. When some ids are strings, a key is the vertex's rank in the order
 * "integers ascending, then strings in code-unit order"; `cdlp` / `wcc` then return ranks,
 * which mean nothing outside the run, so use `cdlpRepresentatives` / `wccRepresentatives`
 * (the index of the vertex whose id is the label) and map that index to its id.
 */
import type { ExternalId } from '../model/ids.js';

/** What {@link vertexKeys} returns. */
export interface VertexKeys {
  /** keys[v] orders vertex v; distinct when the ids are. */
  keys: Float64Array;
  /** True when keys[v] is v's id itself (every id is an integer). */
  idsAreKeys: boolean;
}

/** Keys for vertices 0..n-1 whose external ids are `ids[v]` (see the module comment). */
export function vertexKeys(ids: ArrayLike<ExternalId>): VertexKeys {
  const n = ids.length;
  const keys = new Float64Array(n);
  let allInts = true;
  for (let v = 0; v < n; v++) {
    const id = ids[v];
    if (typeof id === 'number') keys[v] = id;
    else {
      allInts = false;
      break;
    }
  }
  if (allInts) return { keys, idsAreKeys: true };
  const order = Array.from({ length: n }, (_, v) => v);
  order.sort((a, b) => compareIds(ids[a], ids[b]));
  for (let r = 0; r < n; r++) keys[order[r]] = r;
  return { keys, idsAreKeys: false };
}

/** Integers before strings; integers numerically, strings by UTF-16 code units. */
export function compareIds(a: ExternalId, b: ExternalId): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
